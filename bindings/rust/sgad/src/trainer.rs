// SPDX-License-Identifier: MIT
//! Preset trainers: training steps, figures, settings and sampling.

use std::ptr::NonNull;

use sgad_sys as sys;

use crate::context::Context;
use crate::error::{Error, Result, Status};
use crate::kinds::{ImageShape, Loss, Model, OptimizerKind, OptimizerOption, Role, TrainerOption};
use crate::tensor::{checked_product, zeroed, Wrapped};

/// What a preset trainer is built from (`sgad_trainer_create_preset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// Which of the paper's models.
    pub model: Model,
    /// The images it makes and judges.
    pub shape: ImageShape,
    /// Time steps T, 1..=1024; 0 asks for the paper's 16.
    pub steps: u32,
    /// Latent size, 1..=4096; 0 asks for the paper's (15, 20 at 64x64,
    /// 100 for SGAN).
    pub latent: u32,
}

impl Preset {
    /// The model at the paper's T and latent size.
    pub fn new(model: Model, shape: ImageShape) -> Preset {
        Preset { model, shape, steps: 0, latent: 0 }
    }

    /// The same preset with T time steps.
    pub fn with_steps(self, steps: u32) -> Preset {
        Preset { steps, ..self }
    }

    /// The same preset with the given latent size.
    pub fn with_latent(self, latent: u32) -> Preset {
        Preset { latent, ..self }
    }
}

/// The figures of the last iteration (`sgad_trainer_stat`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Mean D(real).
    pub d_real: f64,
    /// Mean D(fake) in the D update.
    pub d_fake: f64,
    /// EM loss: mean D(fake) - mean D(real), the critic's estimate.
    pub wasserstein: f64,
    /// D's loss.
    pub loss_d: f64,
    /// G's loss, from the last G update.
    pub loss_g: f64,
    /// L2 norm of all D gradients before its step.
    pub grad_norm_d: f64,
    /// L2 norm of all G gradients before its step, from the last G update.
    pub grad_norm_g: f64,
    /// Whether G was updated in this iteration (see `TrainerOption::NCritic`).
    pub g_updated: bool,
    /// D's learning rate in this iteration, after the schedule.
    pub lr_d: f64,
    /// G's learning rate in this iteration, after the schedule.
    pub lr_g: f64,
}

/// How [`Trainer::sample_with`] samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SampleOptions {
    /// Seed of the latents ([`Context::draw_latents`]).
    pub seed: u64,
    /// Sample with G's moving average (needs `TrainerOption::EmaDecay`).
    pub ema: bool,
    /// Also return the decoder's per-step inputs and scores (SGAD only).
    pub with_steps: bool,
    /// Latents per generator pass (0: 64), so that memory beyond the
    /// results does not grow with the sample count.
    pub batch: usize,
    /// Normalise G's batch norms with each batch's statistics, as the SGAD
    /// authors' code samples (`SGAD_SAMPLE_BATCH_STATS`), instead of the
    /// running ones: images then depend on (seed, batch), and no batch may
    /// hold a single sample.
    pub batch_stats: bool,
}

/// Images from [`Trainer::sample_with`], as flat C-order buffers.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// The images, `dims` in C order.
    pub images: Vec<f32>,
    /// `[n, C, H, W]`; for SGAN, whose G outputs spikes, `[T, n, C, H, W]`.
    pub dims: Vec<usize>,
    /// The decoder's per-step inputs X_t, `[T, n, C, H, W]`.
    pub steps: Option<Vec<f32>>,
    /// Their attention scores s_x, `[T, n]`.
    pub scores: Option<Vec<f32>>,
}

/// A trainer over one of the paper's presets (`sgad_trainer`): one
/// iteration is a D update then a G update on the same latents.
///
/// Holds its [`Context`], so the context lives at least as long. Like the
/// context it is `Send` and not `Sync` (see [`Context`]): it can move to
/// another thread, and its calls take the context's lock.
///
/// ```compile_fail
/// fn share_between_threads<T: Sync>(_: &T) {}
/// let ctx = sgad::Context::new().unwrap();
/// let trainer = sgad::Trainer::new(&ctx, sgad::Preset::new(sgad::Model::Sgad,
///                                                          sgad::ImageShape::Gray28)).unwrap();
/// share_between_threads(&trainer);
/// ```
pub struct Trainer {
    raw: NonNull<sys::sgad_trainer>,
    preset: Preset,
    ctx: Context,
}

// SAFETY: the trainer belongs to `ctx`, and every call on it (freeing
// included) holds `ctx`'s lock, so it may run on any thread (see `Shared`
// in context.rs). Not `Sync`: `NonNull` and `Context` are not.
unsafe impl Send for Trainer {}

impl Trainer {
    /// A preset trainer with the model's loss (EM for SWGAN and SGAD,
    /// minimax for SGAN and the hybrid) and RMSprop at lr 2e-4, as the
    /// paper trains.
    pub fn new(ctx: &Context, preset: Preset) -> Result<Trainer> {
        Trainer::with_loss(ctx, preset, preset.model.default_loss(), OptimizerKind::RmsProp)
    }

    /// A preset trainer with the given loss and optimizers.
    pub fn with_loss(ctx: &Context, preset: Preset, loss: Loss, optimizer: OptimizerKind)
                     -> Result<Trainer> {
        let mut raw = std::ptr::null_mut();
        ctx.call(|| unsafe {
            sys::sgad_trainer_create_preset(ctx.raw(), preset.model.to_raw(),
                                            preset.shape.to_raw(), c_int(preset.steps),
                                            c_int(preset.latent), loss.to_raw(),
                                            optimizer.to_raw(), &mut raw)
        })?;
        Trainer::adopt(ctx, raw)
    }

    /// Takes ownership of a preset trainer made in `ctx`.
    pub(crate) fn adopt(ctx: &Context, raw: *mut sys::sgad_trainer) -> Result<Trainer> {
        let raw = NonNull::new(raw)
            .ok_or_else(|| Error::new(Status::Internal, "libsgad returned no trainer"))?;
        let mut trainer = Trainer {
            raw,
            preset: Preset::new(Model::Sgad, ImageShape::Gray28),
            ctx: ctx.clone(),
        };
        trainer.preset = trainer.read_preset()?;
        Ok(trainer)
    }

    fn read_preset(&self) -> Result<Preset> {
        let mut model = sys::sgad_model(0);
        let mut shape = sys::sgad_image_shape(0);
        let (mut steps, mut latent) = (0, 0);
        self.ctx.call(|| unsafe {
            sys::sgad_trainer_preset(self.raw(), &mut model, &mut shape, &mut steps, &mut latent)
        })?;
        Ok(Preset {
            model: Model::from_raw(model)?,
            shape: ImageShape::from_raw(shape)?,
            steps: steps as u32,
            latent: latent as u32,
        })
    }

    /// The context the trainer was made in.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The preset, with T and the latent size as the library chose them.
    pub fn preset(&self) -> Preset {
        self.preset
    }

    /// The raw handle, for calls through sgad-sys. It stays owned by this
    /// `Trainer`: do not free it. Make such calls while holding
    /// `self.context().lock()` (see [`Context::lock`]).
    pub fn raw(&self) -> *mut sys::sgad_trainer {
        self.raw.as_ptr()
    }

    /// Seeds the latents the training steps draw.
    pub fn set_seed(&mut self, seed: u64) -> Result<()> {
        self.ctx.call(|| unsafe { sys::sgad_trainer_set_seed(self.raw(), seed) })
    }

    /// The seed of the latents.
    pub fn seed(&self) -> u64 {
        self.ctx.locked(|| unsafe { sys::sgad_trainer_seed(self.raw()) })
    }

    /// Changes a setting; out-of-range values are an error naming the bounds.
    pub fn set(&mut self, option: TrainerOption, value: f64) -> Result<()> {
        self.ctx.call(|| unsafe { sys::sgad_trainer_set(self.raw(), option.to_raw(), value) })
    }

    /// Reads a setting.
    pub fn get(&self, option: TrainerOption) -> Result<f64> {
        let mut value = 0.0;
        self.ctx.call(|| unsafe { sys::sgad_trainer_get(self.raw(), option.to_raw(), &mut value) })?;
        Ok(value)
    }

    /// Changes a setting of G's or D's optimizer, e.g. its learning rate.
    pub fn set_optimizer(&mut self, role: Role, option: OptimizerOption, value: f64)
                         -> Result<()> {
        let opt = self.optimizer(role)?;
        self.ctx.call(|| unsafe { sys::sgad_optimizer_set(opt, option.to_raw(), value) })
    }

    /// Reads a setting of G's or D's optimizer.
    pub fn optimizer_setting(&self, role: Role, option: OptimizerOption) -> Result<f64> {
        let opt = self.optimizer(role)?;
        let mut value = 0.0;
        self.ctx.call(|| unsafe { sys::sgad_optimizer_get(opt, option.to_raw(), &mut value) })?;
        Ok(value)
    }

    fn optimizer(&self, role: Role) -> Result<*mut sys::sgad_optimizer> {
        let opt = self.ctx.locked(|| unsafe { sys::sgad_trainer_optimizer(self.raw(), role.which()) });
        if opt.is_null() {
            return Err(Error::new(Status::Internal, "the trainer has no optimizer"));
        }
        Ok(opt)
    }

    /// Completed iterations.
    pub fn iterations(&self) -> u64 {
        self.ctx.locked(|| unsafe { sys::sgad_trainer_iterations(self.raw()) as u64 })
    }

    /// The epoch counter the trainer keeps (and checkpoints save) for the caller.
    pub fn epoch(&self) -> u64 {
        self.ctx.locked(|| unsafe { sys::sgad_trainer_epoch(self.raw()) as u64 })
    }

    /// Sets the epoch counter.
    pub fn set_epoch(&mut self, epoch: u64) -> Result<()> {
        let epoch = i64::try_from(epoch).unwrap_or(-1);
        self.ctx.call(|| unsafe { sys::sgad_trainer_set_epoch(self.raw(), epoch) })
    }

    /// Floats in one image: C * H * W of the preset's shape.
    pub fn image_len(&self) -> usize {
        self.preset.shape.image_len()
    }

    /// One iteration on real images `[N, C, H, W]` in [0, 1], flattened in
    /// C order; N is `real.len() / image_len()`. The latents are drawn from
    /// the trainer's seed. All or nothing: on a non-finite gradient every
    /// weight is put back and the error is [`Status::Numeric`].
    pub fn step(&mut self, real: &[f32]) -> Result<()> {
        let n = self.batch_of(real, "Trainer::step")?;
        let [c, h, w] = self.preset.shape.dims();
        let real = Wrapped::input(&self.ctx, "Trainer::step", &[n, c, h, w], real)?;
        self.ctx.call(|| unsafe { sys::sgad_trainer_step(self.raw(), real.as_ptr(), std::ptr::null()) })
    }

    /// As [`step`](Trainer::step) with the caller's latents `z`, `[1, N, latent]`.
    pub fn step_with_latents(&mut self, real: &[f32], z: &[f32]) -> Result<()> {
        let call = "Trainer::step_with_latents";
        let n = self.batch_of(real, call)?;
        let [c, h, w] = self.preset.shape.dims();
        let real = Wrapped::input(&self.ctx, call, &[n, c, h, w], real)?;
        let z = Wrapped::input(&self.ctx, call, &[1, n, self.preset.latent as usize], z)?;
        self.ctx.call(|| unsafe { sys::sgad_trainer_step(self.raw(), real.as_ptr(), z.as_ptr()) })
    }

    /// The number of whole images in `real`, or an error saying why not.
    fn batch_of(&self, real: &[f32], call: &str) -> Result<usize> {
        let per_image = self.image_len();
        if real.is_empty() || real.len() % per_image != 0 {
            let [c, h, w] = self.preset.shape.dims();
            return Err(Error::new(Status::Shape, format!(
                "{call}: real holds {} floats, not a whole number of [{c}, {h}, {w}] images \
                 ({per_image} floats each)", real.len())));
        }
        Ok(real.len() / per_image)
    }

    /// The figures of the last iteration; an error before the first.
    pub fn stats(&self) -> Result<Stats> {
        let stat = |which: sys::sgad_stat| -> Result<f64> {
            let mut value = 0.0;
            self.ctx.call(|| unsafe { sys::sgad_trainer_stat(self.raw(), which, &mut value) })?;
            Ok(value)
        };
        Ok(Stats {
            d_real: stat(sys::sgad_stat::SGAD_STAT_D_REAL)?,
            d_fake: stat(sys::sgad_stat::SGAD_STAT_D_FAKE)?,
            wasserstein: stat(sys::sgad_stat::SGAD_STAT_WASSERSTEIN)?,
            loss_d: stat(sys::sgad_stat::SGAD_STAT_LOSS_D)?,
            loss_g: stat(sys::sgad_stat::SGAD_STAT_LOSS_G)?,
            grad_norm_d: stat(sys::sgad_stat::SGAD_STAT_GRAD_NORM_D)?,
            grad_norm_g: stat(sys::sgad_stat::SGAD_STAT_GRAD_NORM_G)?,
            g_updated: stat(sys::sgad_stat::SGAD_STAT_G_UPDATED)? != 0.0,
            lr_d: stat(sys::sgad_stat::SGAD_STAT_LR_D)?,
            lr_g: stat(sys::sgad_stat::SGAD_STAT_LR_G)?,
        })
    }

    /// Firing rate of layer `layer` of G or D in the last iteration.
    pub fn firing_rate(&self, role: Role, layer: usize) -> Result<f64> {
        let mut rate = 0.0;
        self.ctx.call(|| unsafe {
            sys::sgad_trainer_firing_rate(self.raw(), role.which(), c_int(layer as u32), &mut rate)
        })?;
        Ok(rate)
    }

    /// G's output dimensions for n latents: `[1, n, C, H, W]`, or
    /// `[T, n, C, H, W]` for SGAN.
    pub fn output_dims(&self, n: usize) -> Result<Vec<usize>> {
        let input = [1, i64::try_from(n).unwrap_or(i64::MAX), self.preset.latent as i64];
        let mut ndim = 0;
        let mut dims = [0i64; sys::SGAD_MAX_DIMS as usize];
        self.ctx.call(|| unsafe {
            let g = sys::sgad_trainer_net(self.raw(), 0);
            sys::sgad_net_output_dims(g, 3, input.as_ptr(), &mut ndim, dims.as_mut_ptr())
        })?;
        if !(3..=dims.len() as i32).contains(&ndim) {
            return Err(Error::new(Status::Internal, format!(
                "Trainer::output_dims: the generator makes {ndim} dimensions, not an image batch")));
        }
        Ok(dims[..ndim as usize].iter().map(|&d| d as usize).collect())
    }

    /// n images from latents drawn with `seed`, in evaluation mode, as
    /// `[n, C, H, W]` (SGAN: `[T, n, C, H, W]` spikes) in C order.
    pub fn sample(&mut self, n: usize, seed: u64) -> Result<Vec<f32>> {
        Ok(self.sample_with(n, &SampleOptions { seed, ..SampleOptions::default() })?.images)
    }

    /// n images with the options' seed, moving average, per-step scores,
    /// batch and batch-norm statistics: G runs on `options.batch` latents
    /// at a time, through buffers of one batch, into the results.
    pub fn sample_with(&mut self, n: usize, options: &SampleOptions) -> Result<Samples> {
        let call = "Trainer::sample_with";
        let batch = if options.batch == 0 { 64 } else { options.batch };
        if options.batch_stats && (batch == 1 || n % batch == 1) {
            return Err(Error::new(Status::InvalidArg, format!(
                "{call}: batches of {batch} leave one of 1 sample of {n}, which has no batch \
                 statistics")));
        }
        let mut dims = self.output_dims(n)?; // the library refuses impossible n here
        let latent = self.preset.latent as usize;
        let mut z = zeroed(call, n.checked_mul(latent))?;
        self.ctx.draw_latents(options.seed, &mut z)?;
        let mut images = zeroed(call, checked_product(&dims))?;
        let t = self.preset.steps as usize;
        let per = images.len() / dims[0] / n.max(1); // floats per image
        let (mut steps, mut scores) = (None, None);
        if options.with_steps {
            steps = Some(zeroed(call, t.checked_mul(per * n))?);
            scores = Some(zeroed(call, t.checked_mul(n))?);
        }
        let flags = flags_of(options.ema, options.batch_stats);
        let lead = dims[0]; // 1, or T for SGAN's spike trains
        let mut first = 0;
        while first < n {
            let b = batch.min(n - first);
            let mut out = zeroed(call, Some(lead * b * per))?;
            let mut st = if options.with_steps { Some(zeroed(call, Some(t * b * per))?) } else { None };
            let mut sc = if options.with_steps { Some(zeroed(call, Some(t * b))?) } else { None };
            self.sample_flags(call, &z[first * latent..(first + b) * latent], flags, &mut out,
                              st.as_deref_mut(), sc.as_deref_mut())?;
            // [lead, b, ...] into columns first..first+b of [lead, n, ...]
            scatter(&out, &mut images, lead, b, n, first, per);
            if let (Some(dst), Some(src)) = (steps.as_deref_mut(), st.as_deref()) {
                scatter(src, dst, t, b, n, first, per);
            }
            if let (Some(dst), Some(src)) = (scores.as_deref_mut(), sc.as_deref()) {
                scatter(src, dst, t, b, n, first, 1);
            }
            first += b;
        }
        if dims[0] == 1 {
            dims.remove(0);
        }
        Ok(Samples { images, dims, steps, scores })
    }

    /// Runs G in evaluation mode on the caller's latents `z` (`[1, n,
    /// latent]`) into `images` (`output_dims(n)` floats) and, for an SGAD
    /// generator, the decoder's per-step inputs into `steps` (`[T, n, C,
    /// H, W]`) and their scores into `scores` (`[T, n]`). With `ema`, G's
    /// moving average samples. Every length is checked before the call.
    pub fn sample_into(&mut self, z: &[f32], ema: bool, images: &mut [f32],
                       steps: Option<&mut [f32]>, scores: Option<&mut [f32]>) -> Result<()> {
        self.sample_flags("Trainer::sample_into", z, flags_of(ema, false), images, steps, scores)
    }

    /// sample_into with the library's sample flags.
    fn sample_flags(&mut self, call: &str, z: &[f32], flags: u32, images: &mut [f32],
                    steps: Option<&mut [f32]>, scores: Option<&mut [f32]>) -> Result<()> {
        let latent = self.preset.latent as usize;
        if z.is_empty() || z.len() % latent != 0 {
            return Err(Error::new(Status::Shape, format!(
                "{call}: z holds {} floats, not a whole number of latents of {latent}", z.len())));
        }
        let n = z.len() / latent;
        let dims = self.output_dims(n)?;
        let t = self.preset.steps as usize;
        let image_dims = &dims[dims.len() - 3..];
        let step_dims = [t, n, image_dims[0], image_dims[1], image_dims[2]];
        let z = Wrapped::input(&self.ctx, call, &[1, n, latent], z)?;
        let mut images = Wrapped::output(&self.ctx, call, &dims, images)?;
        let mut steps = steps.map(|s| Wrapped::output(&self.ctx, call, &step_dims, s)).transpose()?;
        let mut scores = scores.map(|s| Wrapped::output(&self.ctx, call, &[t, n], s)).transpose()?;
        self.ctx.call(|| unsafe {
            sys::sgad_trainer_sample_ex(self.raw(), z.as_ptr(), images.as_mut_ptr(), flags,
                                        steps.as_mut().map_or(std::ptr::null_mut(), |s| s.as_mut_ptr()),
                                        scores.as_mut().map_or(std::ptr::null_mut(), |s| s.as_mut_ptr()))
        })
    }
}

/// The library's sample flags for these options.
fn flags_of(ema: bool, batch_stats: bool) -> u32 {
    let mut flags = 0;
    if ema {
        flags |= sys::sgad_sample_flag::SGAD_SAMPLE_EMA.0;
    }
    if batch_stats {
        flags |= sys::sgad_sample_flag::SGAD_SAMPLE_BATCH_STATS.0;
    }
    flags
}

/// Copies src `[lead, b, per]` into columns `first..first + b` of dst
/// `[lead, n, per]`.
fn scatter(src: &[f32], dst: &mut [f32], lead: usize, b: usize, n: usize, first: usize,
           per: usize) {
    for l in 0..lead {
        dst[(l * n + first) * per..(l * n + first + b) * per]
            .copy_from_slice(&src[l * b * per..(l + 1) * b * per]);
    }
}

impl Drop for Trainer {
    fn drop(&mut self) {
        // Fields drop after this, so the context outlives the trainer.
        self.ctx.locked(|| unsafe { sys::sgad_trainer_free(self.raw.as_ptr()) })
    }
}

/// A count as the library's int: values too large become i32::MAX, which
/// the library then refuses with a message naming its bounds.
pub(crate) fn c_int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("preset", &self.preset)
            .field("iterations", &self.iterations())
            .finish()
    }
}
