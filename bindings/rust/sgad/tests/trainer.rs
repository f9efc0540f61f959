// SPDX-License-Identifier: MIT
//! The safe crate against the in-tree libsgad: real training steps,
//! sampling, checkpoints and errors, with the values checked.

use std::path::PathBuf;

use sgad::{Checkpoint, Context, DataFormat, Dataset, ImageShape, Model, OptimizerOption, Preset,
           Role, SampleOptions, Status, Trainer, TrainerOption};

/// A small SGAD (T = 2) on 28x28 gray images, seeded.
fn tiny_trainer() -> Trainer {
    seeded_trainer(2)
}

fn seeded_trainer(steps: u32) -> Trainer {
    let ctx = Context::new().unwrap();
    ctx.set_threads(1).unwrap();
    ctx.set_seed(3).unwrap();
    let mut t = Trainer::new(&ctx, Preset::new(Model::Sgad, ImageShape::Gray28).with_steps(steps))
        .unwrap();
    t.set_seed(5).unwrap();
    t
}

/// n images in [0, 1] that differ from pixel to pixel and batch to batch.
fn batch(n: usize, salt: u32) -> Vec<f32> {
    let mut state = 0x9e37_79b9u32 ^ salt.wrapping_mul(0x85eb_ca6b);
    (0..n * 28 * 28)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 8) as f32 / (1u32 << 24) as f32
        })
        .collect()
}

/// A fresh directory for one test under cargo's scratch space.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_step_gives_finite_figures_and_counts_the_iteration() {
    let mut t = tiny_trainer();
    assert_eq!(t.preset(), Preset { model: Model::Sgad, shape: ImageShape::Gray28, steps: 2,
                                    latent: 15 });
    assert_eq!(t.stats().unwrap_err().status(), Status::State);
    t.step(&batch(4, 0)).unwrap();
    t.step(&batch(4, 1)).unwrap();
    assert_eq!(t.iterations(), 2);
    let s = t.stats().unwrap();
    for v in [s.d_real, s.d_fake, s.wasserstein, s.loss_d, s.loss_g] {
        assert!(v.is_finite(), "{s:?}");
    }
    // EM loss: the critic's estimate is mean D(fake) - mean D(real).
    assert!((s.wasserstein - (s.d_fake - s.d_real)).abs() < 1e-6, "{s:?}");
    assert!(s.grad_norm_d > 0.0 && s.grad_norm_g > 0.0 && s.g_updated, "{s:?}");
    assert!((s.lr_g - 2e-4).abs() < 1e-12 && (s.lr_d - 2e-4).abs() < 1e-12);
}

#[test]
fn settings_reach_the_trainer_and_its_optimizers() {
    let mut t = tiny_trainer();
    t.set(TrainerOption::NCritic, 2.0).unwrap();
    assert_eq!(t.get(TrainerOption::NCritic).unwrap(), 2.0);
    t.set_optimizer(Role::Generator, OptimizerOption::LearningRate, 1e-3).unwrap();
    assert_eq!(t.optimizer_setting(Role::Generator, OptimizerOption::LearningRate).unwrap(), 1e-3);
    t.step(&batch(2, 0)).unwrap(); // iteration 1 of 2: D only
    let s = t.stats().unwrap();
    assert!(!s.g_updated && s.grad_norm_g == 0.0, "{s:?}");
    t.step(&batch(2, 1)).unwrap();
    let s = t.stats().unwrap();
    assert!(s.g_updated && s.grad_norm_g > 0.0, "{s:?}");
    assert!((s.lr_g - 1e-3).abs() < 1e-12 && (s.lr_d - 2e-4).abs() < 1e-12, "{s:?}");
    t.set_epoch(7).unwrap();
    assert_eq!(t.epoch(), 7);
    assert_eq!(t.seed(), 5);
}

#[test]
fn samples_are_images_in_the_unit_range_and_follow_the_seed() {
    // At T = 16: with fewer steps an untrained G in evaluation mode barely
    // spikes, and every latent gives the same flat image.
    let mut t = seeded_trainer(16);
    t.step(&batch(2, 0)).unwrap();
    let a = t.sample(6, 9).unwrap();
    assert_eq!(a.len(), 6 * 28 * 28);
    assert!(a.iter().all(|&p| (0.0..=1.0).contains(&p)));
    assert!(a == t.sample(6, 9).unwrap()); // seeded latents, evaluation mode
    let b = t.sample(6, 10).unwrap();
    assert!(a.iter().zip(&b).filter(|(x, y)| x != y).count() > 100);
}

#[test]
fn samples_come_in_batches() {
    let mut t = seeded_trainer(16);
    t.step(&batch(2, 0)).unwrap();
    let with = |batch, batch_stats| SampleOptions { seed: 4, with_steps: true, batch, batch_stats,
                                                  ..SampleOptions::default() };
    // running statistics: the same images, steps and scores whatever the batch
    let whole = t.sample_with(7, &with(7, false)).unwrap();
    assert!(whole == t.sample_with(7, &with(3, false)).unwrap());
    assert!(whole == t.sample_with(7, &with(0, false)).unwrap());
    // batch statistics: reproducible for (seed, batch), and unlike the running mode's
    let b3 = t.sample_with(7, &with(3, true)).unwrap_err(); // 7 = 3 + 3 + 1
    assert_eq!(b3.status(), Status::InvalidArg);
    let b4 = t.sample_with(7, &with(4, true)).unwrap();
    assert!(b4 == t.sample_with(7, &with(4, true)).unwrap());
    assert!(b4.images != whole.images);
    assert!(whole == t.sample_with(7, &with(7, false)).unwrap()); // G unchanged
}

#[test]
fn per_step_scores_rebuild_the_image() {
    let mut t = tiny_trainer();
    let options = SampleOptions { seed: 7, with_steps: true, ..SampleOptions::default() };
    let s = t.sample_with(3, &options).unwrap();
    assert_eq!(s.dims, vec![3, 1, 28, 28]);
    let (steps, scores) = (s.steps.unwrap(), s.scores.unwrap());
    assert_eq!((steps.len(), scores.len()), (2 * 3 * 784, 2 * 3));
    assert_eq!(&scores[..3], &[1.0, 1.0, 1.0]); // the first step's score is 1
    // With T = 2 the decoder's output is (1 - s_1) X_0 + s_1 X_1.
    for n in 0..3 {
        let s1 = scores[3 + n];
        for p in 0..784 {
            let want = (1.0 - s1) * steps[n * 784 + p] + s1 * steps[(3 + n) * 784 + p];
            assert!((s.images[n * 784 + p] - want).abs() <= 1e-5 + 1e-5 * want.abs());
        }
    }
}

#[test]
fn sgan_samples_are_spikes_over_all_steps() {
    let ctx = Context::new().unwrap();
    let mut t = Trainer::new(&ctx, Preset::new(Model::Sgan, ImageShape::Gray28).with_steps(2))
        .unwrap();
    assert_eq!(t.preset().latent, 100);
    t.step(&batch(2, 0)).unwrap();
    assert!(t.stats().unwrap().loss_d > 0.0); // minimax: a cross-entropy
    let s = t.sample_with(3, &SampleOptions::default()).unwrap();
    assert_eq!(s.dims, vec![2, 3, 1, 28, 28]);
    assert_eq!(s.images.len(), 2 * 3 * 784);
    assert!(s.images.iter().all(|&p| p == 0.0 || p == 1.0));
    let steps = SampleOptions { with_steps: true, ..SampleOptions::default() };
    assert_eq!(t.sample_with(3, &steps).unwrap_err().status(), Status::State); // no decoder
}

#[test]
fn save_then_load_samples_bitwise_the_same_and_trains_on_alike() {
    let mut t = tiny_trainer();
    t.step(&batch(4, 0)).unwrap();
    let path = scratch("round_trip").join("c.safetensors");
    t.save(&path).unwrap();
    let mut u = Trainer::load(&Context::new().unwrap(), &path).unwrap();
    assert_eq!((u.iterations(), u.preset(), u.seed()), (1, t.preset(), 5));
    assert!(t.sample(4, 2).unwrap() == u.sample(4, 2).unwrap());
    t.step(&batch(4, 9)).unwrap();
    u.step(&batch(4, 9)).unwrap();
    assert!(t.sample(4, 2).unwrap() == u.sample(4, 2).unwrap());
    assert_eq!(t.stats().unwrap(), u.stats().unwrap());

    let bytes = t.save_to_vec().unwrap();
    t.save(&path).unwrap();
    assert!(bytes == std::fs::read(&path).unwrap());
    let mut v = Trainer::load_bytes(t.context(), &bytes).unwrap();
    assert!(t.sample(4, 2).unwrap() == v.sample(4, 2).unwrap());
}

#[test]
fn a_checkpoint_shows_its_metadata_and_tensors_and_restores() {
    let mut t = tiny_trainer();
    t.step(&batch(2, 0)).unwrap();
    let ctx = t.context().clone();
    let c = Checkpoint::from_bytes(&ctx, &t.save_to_vec().unwrap()).unwrap();
    assert_eq!(c.meta("iteration").as_deref(), Some("1"));
    assert_eq!(c.meta("model").as_deref(), Some("sgad"));
    assert!(c.metadata().iter().any(|(k, v)| k == "model" && v == "sgad"));
    let tensors = c.tensors().unwrap();
    let first = tensors.iter().find(|i| i.name.starts_with("G.")).unwrap();
    assert_eq!(c.tensor(&first.name).unwrap().len(), first.dims.iter().product::<usize>());
    assert_eq!(c.tensor("no.such").unwrap_err().status(), Status::InvalidArg);
    let mut wrong = vec![0.0; 3];
    let e = c.tensor_into(&first.name, &mut wrong).unwrap_err();
    assert_eq!(e.status(), Status::Shape);
    assert!(e.message().contains(&first.name), "{e}");

    let before = t.sample(2, 1).unwrap();
    t.step(&batch(2, 1)).unwrap();
    assert!(before != t.sample(2, 1).unwrap());
    t.restore(&c).unwrap();
    assert_eq!(t.iterations(), 1);
    assert!(before == t.sample(2, 1).unwrap());

    // A checkpoint of another model changes nothing and says why.
    let mut other = Trainer::new(&ctx, Preset::new(Model::Swgan, ImageShape::Gray28).with_steps(2))
        .unwrap();
    let e = other.restore(&c).unwrap_err();
    assert!(!e.message().is_empty(), "{e:?}");
    assert_eq!(other.iterations(), 0);
}

#[test]
fn rotating_saves_keep_the_newest_and_find_latest_finds_it() {
    let mut t = tiny_trainer();
    let dir = scratch("rotating");
    for i in 0..3 {
        t.step(&batch(2, i)).unwrap();
        t.save_rotating(&dir, 2).unwrap();
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    let latest = Checkpoint::find_latest(t.context(), &dir).unwrap();
    assert!(latest.ends_with("ckpt-000000000003.safetensors"), "{latest:?}");
}

#[test]
fn wrong_buffer_lengths_are_errors_not_calls() {
    let mut t = tiny_trainer();
    let e = t.step(&batch(1, 0)[..100]).unwrap_err();
    assert_eq!(e.status(), Status::Shape);
    assert!(e.message().contains("100 floats") && e.message().contains("[1, 28, 28]"), "{e}");
    assert_eq!(t.step(&[]).unwrap_err().status(), Status::Shape);
    let e = t.step_with_latents(&batch(2, 0), &[0.0; 15]).unwrap_err(); // z for 1, not 2
    assert_eq!(e.status(), Status::Shape);

    let z = vec![0.0; 2 * 15];
    let mut images = vec![0.0; 2 * 784 - 1];
    let e = t.sample_into(&z, false, &mut images, None, None).unwrap_err();
    assert_eq!(e.status(), Status::Shape);
    assert!(e.message().contains("1567 floats"), "{e}");
    let mut images = vec![0.0; 2 * 784];
    let mut scores = vec![0.0; 3];
    let e = t.sample_into(&z, false, &mut images, None, Some(&mut scores)).unwrap_err();
    assert_eq!(e.status(), Status::Shape);
    assert_eq!(t.iterations(), 0);
    t.sample_into(&z, false, &mut images, None, None).unwrap();
    // Absurd counts are refused, not allocated (or aborted on).
    assert!(t.sample(usize::MAX, 1).is_err());
    assert!(t.sample(1 << 40, 1).is_err());
}

#[test]
fn library_errors_carry_the_library_message() {
    let mut t = tiny_trainer();
    let e = Trainer::load(&Context::new().unwrap(), "/nonexistent/ckpt.safetensors").unwrap_err();
    assert_eq!(e.status(), Status::Io);
    assert!(e.message().contains("cannot open") && e.message().contains("/nonexistent"), "{e}");
    assert!(e.to_string().starts_with("SGAD_E_IO: "), "{e}");

    let e = t.set(TrainerOption::NCritic, 0.0).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArg);
    assert!(!e.message().is_empty());
    let e = t.sample_with(2, &SampleOptions { ema: true, ..SampleOptions::default() })
        .unwrap_err();
    assert_eq!(e.status(), Status::State); // no moving average yet
    assert_eq!(t.context().set_threads(0).unwrap_err().status(), Status::InvalidArg);
    let e = Checkpoint::from_bytes(t.context(), b"not a checkpoint").unwrap_err();
    assert_eq!(e.status(), Status::Format);
}

#[test]
fn the_moving_average_samples_differently_once_training_moves() {
    let mut t = tiny_trainer();
    t.set(TrainerOption::EmaDecay, 0.5).unwrap();
    t.step(&batch(4, 0)).unwrap();
    let ema = SampleOptions { seed: 1, ema: true, ..SampleOptions::default() };
    let averaged = t.sample_with(2, &ema).unwrap().images;
    assert!(averaged.iter().all(|&p| (0.0..=1.0).contains(&p)));
    assert!(averaged != t.sample(2, 1).unwrap());
}

#[test]
fn a_trainer_keeps_its_context_alive() {
    let ctx = Context::new().unwrap();
    let mut t = Trainer::new(&ctx, Preset::new(Model::Swgan, ImageShape::Gray28).with_steps(2))
        .unwrap();
    drop(ctx);
    assert_eq!(t.sample(2, 1).unwrap().len(), 2 * 784);
    assert_eq!(t.context().threads(), 1);
}

/// An IDX file of n 28x28 images whose pixel i of image k is (k + i) % 256.
fn idx_bytes(n: u8) -> Vec<u8> {
    let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, n, 0, 0, 0, 28, 0, 0, 0, 28];
    for k in 0..n as usize {
        bytes.extend((0..784).map(|i| ((k + i) % 256) as u8));
    }
    bytes
}

#[test]
fn a_dataset_feeds_batches_to_the_trainer() {
    let mut t = tiny_trainer();
    let mut data = Dataset::from_bytes(t.context(), DataFormat::Idx, &idx_bytes(5), None).unwrap();
    assert_eq!((data.len(), data.image_dims(), data.batches(2)), (5, [1, 28, 28], 2));
    assert_eq!(data.label(0).unwrap(), None);
    let mut first = vec![0.0; 784];
    data.read(1, &mut first).unwrap();
    assert_eq!((first[0], first[1]), (1.0 / 255.0, 2.0 / 255.0));
    let mut images = vec![0.0; 2 * 784];
    let mut labels = vec![0; 2];
    data.batch(1, 0, 0, &mut images, Some(&mut labels)).unwrap();
    assert_eq!(labels, vec![-1, -1]);
    // Every image of the batch is one of the file's: its first pixel says which.
    assert!(images.chunks(784).all(|im| im[1] == (im[0] * 255.0 + 1.0) / 255.0));
    t.step(&images).unwrap();
    assert_eq!(data.batch(1, 0, 0, &mut images[..700], None).unwrap_err().status(), Status::Shape);
    assert_eq!(data.batch(1, 0, 0, &mut images, Some(&mut labels[..1])).unwrap_err().status(),
               Status::Shape);
    let e = Dataset::from_bytes(t.context(), DataFormat::Idx, &idx_bytes(5)[..900], None)
        .unwrap_err();
    assert_eq!(e.status(), Status::Format);
    assert!(!e.message().is_empty());
}

#[test]
fn a_grid_png_is_written() {
    let mut t = tiny_trainer();
    let images = t.sample(4, 1).unwrap();
    let path = scratch("grid").join("grid.png");
    t.context().write_grid(&path, &images, [4, 1, 28, 28], 2, 2).unwrap();
    assert_eq!(&std::fs::read(&path).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    let e = t.context().write_grid(&path, &images, [5, 1, 28, 28], 2, 2).unwrap_err();
    assert_eq!(e.status(), Status::Shape);

    let idx = path.with_file_name("samples.idx");
    t.context().write_idx(&idx, &images, [4, 1, 28, 28]).unwrap();
    let bytes = std::fs::read(&idx).unwrap();
    assert_eq!(&bytes[..16], &[0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 28, 0, 0, 0, 28]);
    assert_eq!(bytes.len(), 16 + 4 * 784);

    let s = t.sample_with(2, &SampleOptions { with_steps: true, ..SampleOptions::default() })
        .unwrap();
    let strip = path.with_file_name("strip.png");
    let (steps, scores) = (s.steps.unwrap(), s.scores.unwrap());
    t.context().write_strip(&strip, &steps, [2, 2, 1, 28, 28], Some(&scores), 1).unwrap();
    let png = std::fs::read(&strip).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.windows(6).any(|w| w == b"scores")); // the tEXt chunk
    let e = t.context().write_strip(&strip, &steps, [2, 2, 1, 28, 28], Some(&scores[..3]), 1)
        .unwrap_err();
    assert_eq!(e.status(), Status::Shape);
}

#[test]
fn firing_rates_are_rates_of_spiking_layers_only() {
    let mut t = tiny_trainer();
    assert_eq!(t.firing_rate(Role::Generator, 0).unwrap_err().status(), Status::State);
    t.step(&batch(4, 0)).unwrap();
    let rates: Vec<(usize, f64)> = (0..12)
        .filter_map(|layer| t.firing_rate(Role::Discriminator, layer).ok().map(|r| (layer, r)))
        .collect();
    assert!(!rates.is_empty());
    assert!(rates.iter().all(|&(_, r)| (0.0..=1.0).contains(&r)), "{rates:?}");
    let silent = (0..12).find(|l| rates.iter().all(|&(s, _)| s != *l)).unwrap();
    let e = t.firing_rate(Role::Discriminator, silent).unwrap_err();
    assert!(matches!(e.status(), Status::Unsupported | Status::InvalidArg), "{e}");
}

#[test]
fn statuses_round_trip_and_unknown_codes_are_kept() {
    assert_eq!(Status::Shape.name(), "SGAD_E_SHAPE");
    assert!(!Status::Shape.description().is_empty());
    let unknown = Status::from_raw(sgad::sys::sgad_status(42)).unwrap();
    assert_eq!(unknown, Status::Unknown(42));
    assert_eq!(unknown.name(), "SGAD_E_UNKNOWN");
    assert_eq!(Status::from_raw(sgad::sys::sgad_status::SGAD_OK), None);
    assert_eq!(sgad::version(), "1.0.0");
    assert_eq!("swgan".parse::<Model>().unwrap(), Model::Swgan);
    assert_eq!("32x32x3".parse::<ImageShape>().unwrap(), ImageShape::Rgb32);
    assert_eq!("gan".parse::<Model>().unwrap_err().status(), Status::InvalidArg);
}
