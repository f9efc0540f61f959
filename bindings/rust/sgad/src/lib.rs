// SPDX-License-Identifier: MIT
//! Safe Rust bindings to libsgad: train the spiking GAN of "Spiking
//! Generative Adversarial Network with Attention Scoring Decoding" (SGAD)
//! and its relatives from Rust.
//!
//! Handles free themselves on drop; every fallible call returns
//! [`Result`], whose [`Error`] carries the library's status and the
//! message it wrote for a person; buffers are slices whose lengths are
//! checked against what the library expects before it is called.
//!
//! ```
//! use sgad::{Context, ImageShape, Model, Preset, Trainer};
//!
//! # fn main() -> sgad::Result<()> {
//! let ctx = Context::new()?;
//! ctx.set_seed(1)?;
//! let mut trainer = Trainer::new(&ctx, Preset::new(Model::Sgad, ImageShape::Gray28)
//!     .with_steps(2))?;
//! let real = vec![0.5f32; 4 * trainer.image_len()];   // 4 images [1, 28, 28] in [0, 1]
//! trainer.step(&real)?;
//! let stats = trainer.stats()?;
//! assert!(stats.wasserstein.is_finite() && stats.g_updated);
//! let images = trainer.sample(8, 42)?;                 // [8, 1, 28, 28]
//! assert_eq!(images.len(), 8 * 28 * 28);
//! assert!(images.iter().all(|&p| (0.0..=1.0).contains(&p)));
//!
//! let err = trainer.step(&real[..100]).unwrap_err(); // not a whole image
//! assert_eq!(err.status(), sgad::Status::Shape);
//! # Ok(())
//! # }
//! ```
//!
//! See docs/guide-rust.md in the libsgad tree for building, linking,
//! ownership, errors and threads.

mod checkpoint;
mod context;
mod dataset;
mod error;
mod kinds;
mod tensor;
mod trainer;

pub use checkpoint::{Checkpoint, TensorInfo};
pub use context::{version, Context, ContextLock};
pub use dataset::Dataset;
pub use error::{Error, Result, Status};
pub use kinds::{DataFormat, ImageShape, Loss, Model, OptimizerKind, OptimizerOption, Role,
                Schedule, TrainerOption};
pub use trainer::{Preset, SampleOptions, Samples, Stats, Trainer};

/// The raw FFI crate, for calls this crate does not wrap.
pub use sgad_sys as sys;
