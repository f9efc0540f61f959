// SPDX-License-Identifier: MIT
//! Trains SGAD on an IDX image file (MNIST, Fashion-MNIST) and writes
//! checkpoints and a sample grid: the training loop of docs/guide-rust.md.
//!
//!     train <images.idx[.gz]> <iterations> <out-dir> [steps T] [batch]
//!
//! Resumes from the newest checkpoint in <out-dir>/checkpoints if there is one.

use std::path::Path;
use std::process::ExitCode;

use sgad::{Checkpoint, Context, DataFormat, Dataset, ImageShape, Model, Preset, Trainer};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: {} <images.idx[.gz]> <iterations> <out-dir> [steps T] [batch]",
                  args[0]);
        return ExitCode::from(2);
    }
    let number = |i: usize, default: u64| args.get(i).map_or(Ok(default), |s| s.parse::<u64>());
    let (iterations, steps, batch) = match (number(2, 0), number(4, 16), number(5, 64)) {
        (Ok(i), Ok(t), Ok(b)) => (i, t as u32, b as usize),
        _ => {
            eprintln!("iterations, steps and batch must be whole numbers");
            return ExitCode::from(2);
        }
    };
    match train(Path::new(&args[1]), iterations, Path::new(&args[3]), steps, batch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train: {e}"); // e.g. "SGAD_E_FORMAT: sgad_dataset_open: ..."
            ExitCode::FAILURE
        }
    }
}

fn train(images: &Path, iterations: u64, out: &Path, steps: u32, batch: usize)
         -> sgad::Result<()> {
    let ctx = Context::new()?;
    ctx.set_threads(2)?;
    let mut data = Dataset::open(&ctx, DataFormat::Idx, images, None)?;
    let checkpoints = out.join("checkpoints");
    std::fs::create_dir_all(&checkpoints).map_err(|e| {
        sgad::Error::new(sgad::Status::Io, format!("cannot create {}: {e}", checkpoints.display()))
    })?;
    let mut trainer = match Checkpoint::find_latest(&ctx, &checkpoints) {
        Ok(latest) => {
            println!("resuming from {}", latest.display());
            Trainer::load(&ctx, latest)?
        }
        Err(_) => {
            ctx.set_seed(1)?; // the initial weights
            let preset = Preset::new(Model::Sgad, ImageShape::Gray28).with_steps(steps);
            let mut t = Trainer::new(&ctx, preset)?;
            t.set_seed(1)?; // the latents of every step
            t
        }
    };
    let per_epoch = data.batches(batch) as u64;
    if per_epoch == 0 {
        return Err(sgad::Error::new(sgad::Status::InvalidArg,
                                    format!("{} holds fewer than {batch} images", images.display())));
    }
    let mut real = vec![0.0f32; batch * data.image_len()];
    while trainer.iterations() < iterations {
        // The batch order is a pure function of (seed, epoch): a resumed run
        // picks up exactly where the saved one stopped.
        let i = trainer.iterations();
        trainer.set_epoch(i / per_epoch)?;
        data.batch(7, i / per_epoch, (i % per_epoch) as usize, &mut real, None)?;
        trainer.step(&real)?;
        let it = trainer.iterations();
        if it % 10 == 0 || it == iterations {
            let s = trainer.stats()?;
            println!("iter {it:6}  D(real) {:+.4}  D(fake) {:+.4}  W {:+.4}  |gD| {:.3e}  |gG| {:.3e}",
                     s.d_real, s.d_fake, s.wasserstein, s.grad_norm_d, s.grad_norm_g);
        }
        if it % 100 == 0 || it == iterations {
            let path = trainer.save_rotating(&checkpoints, 3)?;
            println!("saved {}", path.display());
        }
    }
    let samples = trainer.sample(64, 0)?; // the same 64 latents every time
    let grid = out.join("samples.png");
    ctx.write_grid(&grid, &samples, [64, 1, 28, 28], 8, 8)?;
    println!("wrote {}", grid.display());
    Ok(())
}
