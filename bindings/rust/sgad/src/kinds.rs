// SPDX-License-Identifier: MIT
//! The library's enumerations as Rust enums, converted at the boundary.
//!
//! Values going into the library are always valid; values coming back
//! (a trainer's preset, read from a checkpoint a newer libsgad may have
//! written) are checked and an unknown one is an [`Error`].

use std::fmt;
use std::str::FromStr;

use sgad_sys as sys;

use crate::error::{Error, Result, Status};

/// The paper's four models (`sgad_model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// Spiking GAN: spiking G output, MLP discriminator, minimax loss.
    Sgan,
    /// Spiking Wasserstein GAN: membrane readout, EM loss.
    Swgan,
    /// SGAD: the attention-scored membrane decoder, EM loss.
    Sgad,
    /// Spiking G with a non-spiking LeakyReLU discriminator, minimax loss.
    Hybrid,
}

/// Image shapes the presets are built for (`sgad_image_shape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageShape {
    /// 28x28 gray: MNIST, Fashion-MNIST.
    Gray28,
    /// 32x32 RGB: CIFAR-10.
    Rgb32,
    /// 64x64 RGB: CelebA crops.
    Rgb64,
}

/// The GAN loss (`sgad_loss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Loss {
    /// Wasserstein critic (SWGAN, SGAD).
    Em,
    /// Binary cross-entropy on D's probability (SGAN, hybrid).
    Minimax,
}

/// Optimizer kinds (`sgad_optimizer_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptimizerKind {
    /// RMSprop, lr 2e-4, alpha 0.99, eps 1e-8 (SGAD's).
    RmsProp,
    /// Adam, lr 2e-4, betas 0.9 / 0.999, eps 1e-8.
    Adam,
}

/// One of the trainer's two nets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The generator G.
    Generator,
    /// The discriminator (critic) D.
    Discriminator,
}

/// Learning-rate schedules (`sgad_schedule`), see [`TrainerOption::Schedule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schedule {
    /// Factor 1 throughout.
    Constant,
    /// Cosine annealing to 0 over the schedule's length.
    Cosine,
    /// The paper's: constant for the first half, then cosine.
    Paper,
}

/// Trainer settings (`sgad_option` values of the trainer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrainerOption {
    /// D updates per G update, 1..=1000.
    NCritic,
    /// WGAN weight clipping of D to [-c, c]; 0 is off.
    Clip,
    /// Decay of G's moving average, [0, 1); 0 is off.
    EmaDecay,
    /// A [`Schedule`], given as [`Schedule::value`].
    Schedule,
    /// Iterations the schedule spans.
    ScheduleLength,
    /// Iterations between learning-rate changes.
    SchedulePeriod,
}

/// Optimizer settings (`sgad_option` values of the optimizers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptimizerOption {
    /// Learning rate, [0, 1e3]; default 2e-4.
    LearningRate,
    /// RMSprop smoothing, [0, 1); default 0.99.
    RmsPropAlpha,
    /// Epsilon, (0, 1]; default 1e-8.
    Eps,
    /// Adam beta1, [0, 1); default 0.9.
    AdamBeta1,
    /// Adam beta2, [0, 1); default 0.999.
    AdamBeta2,
    /// L2 penalty added to gradients, [0, 1e3]; default 0.
    WeightDecay,
}

/// Dataset formats (`sgad_data_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataFormat {
    /// An IDX image file (MNIST, Fashion-MNIST), raw or gzip.
    Idx,
    /// CIFAR-10 binary batches: a file or a directory of them.
    Cifar10,
    /// A directory of PNG images of one size, read as RGB.
    Png,
}

impl Model {
    /// All models, in the library's order.
    pub const ALL: [Model; 4] = [Model::Sgan, Model::Swgan, Model::Sgad, Model::Hybrid];

    pub(crate) fn to_raw(self) -> sys::sgad_model {
        match self {
            Model::Sgan => sys::sgad_model::SGAD_MODEL_SGAN,
            Model::Swgan => sys::sgad_model::SGAD_MODEL_SWGAN,
            Model::Sgad => sys::sgad_model::SGAD_MODEL_SGAD,
            Model::Hybrid => sys::sgad_model::SGAD_MODEL_HYBRID,
        }
    }

    pub(crate) fn from_raw(raw: sys::sgad_model) -> Result<Model> {
        Model::ALL.iter().copied().find(|m| m.to_raw() == raw).ok_or_else(|| {
            Error::new(Status::Unsupported, format!("model {} is unknown to this crate", raw.0))
        })
    }

    /// The loss the paper trains this model with.
    pub fn default_loss(self) -> Loss {
        match self {
            Model::Sgan | Model::Hybrid => Loss::Minimax,
            Model::Swgan | Model::Sgad => Loss::Em,
        }
    }

    /// The library's name: "sgan", "swgan", "sgad", "hybrid".
    pub fn name(self) -> &'static str {
        crate::error::static_text(unsafe { sys::sgad_model_name(self.to_raw()) })
    }
}

impl ImageShape {
    /// All shapes, in the library's order.
    pub const ALL: [ImageShape; 3] = [ImageShape::Gray28, ImageShape::Rgb32, ImageShape::Rgb64];

    pub(crate) fn to_raw(self) -> sys::sgad_image_shape {
        match self {
            ImageShape::Gray28 => sys::sgad_image_shape::SGAD_SHAPE_28X28X1,
            ImageShape::Rgb32 => sys::sgad_image_shape::SGAD_SHAPE_32X32X3,
            ImageShape::Rgb64 => sys::sgad_image_shape::SGAD_SHAPE_64X64X3,
        }
    }

    pub(crate) fn from_raw(raw: sys::sgad_image_shape) -> Result<ImageShape> {
        ImageShape::ALL.iter().copied().find(|s| s.to_raw() == raw).ok_or_else(|| {
            Error::new(Status::Unsupported, format!("image shape {} is unknown to this crate", raw.0))
        })
    }

    /// Channels, height and width of one image.
    pub fn dims(self) -> [usize; 3] {
        match self {
            ImageShape::Gray28 => [1, 28, 28],
            ImageShape::Rgb32 => [3, 32, 32],
            ImageShape::Rgb64 => [3, 64, 64],
        }
    }

    /// Floats in one image (C * H * W).
    pub fn image_len(self) -> usize {
        self.dims().iter().product()
    }

    /// The library's name: "28x28x1", "32x32x3", "64x64x3".
    pub fn name(self) -> &'static str {
        crate::error::static_text(unsafe { sys::sgad_image_shape_name(self.to_raw()) })
    }
}

/// Names as the library and the Python binding spell them, so settings
/// can come from the command line: `"sgad".parse::<Model>()`.
macro_rules! parse_by_name {
    ($ty:ident, $what:expr, $all:expr) => {
        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<$ty> {
                $all.iter().copied().find(|v| v.name() == s).ok_or_else(|| {
                    let names: Vec<&str> = $all.iter().map(|v| v.name()).collect();
                    Error::new(Status::InvalidArg,
                               format!("unknown {} {:?}: one of {}", $what, s, names.join(", ")))
                })
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

parse_by_name!(Model, "model", Model::ALL);
parse_by_name!(ImageShape, "image shape", ImageShape::ALL);

impl Loss {
    pub(crate) fn to_raw(self) -> sys::sgad_loss {
        match self {
            Loss::Em => sys::sgad_loss::SGAD_LOSS_EM,
            Loss::Minimax => sys::sgad_loss::SGAD_LOSS_MINIMAX,
        }
    }
}

impl OptimizerKind {
    pub(crate) fn to_raw(self) -> sys::sgad_optimizer_kind {
        match self {
            OptimizerKind::RmsProp => sys::sgad_optimizer_kind::SGAD_OPTIMIZER_RMSPROP,
            OptimizerKind::Adam => sys::sgad_optimizer_kind::SGAD_OPTIMIZER_ADAM,
        }
    }
}

impl Role {
    /// The library's `which`: 0 for G, 1 for D.
    pub(crate) fn which(self) -> i32 {
        match self {
            Role::Generator => 0,
            Role::Discriminator => 1,
        }
    }
}

impl Schedule {
    /// The number [`TrainerOption::Schedule`] takes.
    pub fn value(self) -> f64 {
        let raw = match self {
            Schedule::Constant => sys::sgad_schedule::SGAD_SCHEDULE_CONSTANT,
            Schedule::Cosine => sys::sgad_schedule::SGAD_SCHEDULE_COSINE,
            Schedule::Paper => sys::sgad_schedule::SGAD_SCHEDULE_PAPER,
        };
        raw.0 as f64
    }
}

impl TrainerOption {
    pub(crate) fn to_raw(self) -> sys::sgad_option {
        match self {
            TrainerOption::NCritic => sys::sgad_option::SGAD_OPT_N_CRITIC,
            TrainerOption::Clip => sys::sgad_option::SGAD_OPT_CLIP,
            TrainerOption::EmaDecay => sys::sgad_option::SGAD_OPT_EMA_DECAY,
            TrainerOption::Schedule => sys::sgad_option::SGAD_OPT_SCHEDULE,
            TrainerOption::ScheduleLength => sys::sgad_option::SGAD_OPT_SCHEDULE_LENGTH,
            TrainerOption::SchedulePeriod => sys::sgad_option::SGAD_OPT_SCHEDULE_PERIOD,
        }
    }
}

impl OptimizerOption {
    pub(crate) fn to_raw(self) -> sys::sgad_option {
        match self {
            OptimizerOption::LearningRate => sys::sgad_option::SGAD_OPT_LR,
            OptimizerOption::RmsPropAlpha => sys::sgad_option::SGAD_OPT_RMSPROP_ALPHA,
            OptimizerOption::Eps => sys::sgad_option::SGAD_OPT_EPS,
            OptimizerOption::AdamBeta1 => sys::sgad_option::SGAD_OPT_ADAM_BETA1,
            OptimizerOption::AdamBeta2 => sys::sgad_option::SGAD_OPT_ADAM_BETA2,
            OptimizerOption::WeightDecay => sys::sgad_option::SGAD_OPT_WEIGHT_DECAY,
        }
    }
}

impl DataFormat {
    pub(crate) fn to_raw(self) -> sys::sgad_data_format {
        match self {
            DataFormat::Idx => sys::sgad_data_format::SGAD_DATA_IDX,
            DataFormat::Cifar10 => sys::sgad_data_format::SGAD_DATA_CIFAR10,
            DataFormat::Png => sys::sgad_data_format::SGAD_DATA_PNG,
        }
    }
}
