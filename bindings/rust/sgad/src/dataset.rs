// SPDX-License-Identifier: MIT
//! Training data: IDX, CIFAR-10 and PNG folders as float images in [0, 1].

use std::ffi::CString;
use std::path::Path;
use std::ptr::NonNull;

use sgad_sys as sys;

use crate::checkpoint::c_path;
use crate::context::Context;
use crate::error::{Error, Result, Status};
use crate::kinds::DataFormat;
use crate::tensor::Wrapped;

/// A dataset (`sgad_dataset`): images handed out as float `[B, C, H, W]`
/// in [0, 1], in shuffled batches whose order is a pure function of
/// (seed, epoch), so a resumed run sees the same batches.
///
/// Holds its [`Context`]; `Send` and not `Sync` (see [`Context`]).
///
/// ```compile_fail
/// fn share_between_threads<T: Sync>(_: &T) {}
/// let ctx = sgad::Context::new().unwrap();
/// let data = sgad::Dataset::open(&ctx, sgad::DataFormat::Idx, "images.idx", None).unwrap();
/// share_between_threads(&data);
/// ```
pub struct Dataset {
    raw: NonNull<sys::sgad_dataset>,
    ctx: Context,
}

// SAFETY: as for `Trainer`: every call on the dataset holds `ctx`'s lock.
// Not `Sync`.
unsafe impl Send for Dataset {}

impl Dataset {
    /// Opens a file (IDX, raw or gzip; a CIFAR-10 batch) or a directory
    /// (CIFAR-10 `data_batch_*.bin`, PNG images). `labels` is an IDX1
    /// label file for IDX images.
    pub fn open(ctx: &Context, format: DataFormat, path: impl AsRef<Path>,
                labels: Option<&Path>) -> Result<Dataset> {
        let path = c_path(path.as_ref(), "Dataset::open")?;
        let labels: Option<CString> =
            labels.map(|l| c_path(l, "Dataset::open")).transpose()?;
        let mut raw = std::ptr::null_mut();
        ctx.call(|| unsafe {
            sys::sgad_dataset_open(ctx.raw(), format.to_raw(), path.as_ptr(),
                                   labels.as_ref().map_or(std::ptr::null(), |l| l.as_ptr()),
                                   &mut raw)
        })?;
        Dataset::adopt(ctx, raw)
    }

    /// Opens one file's bytes (copied): IDX, CIFAR-10, or a single PNG.
    pub fn from_bytes(ctx: &Context, format: DataFormat, data: &[u8], labels: Option<&[u8]>)
                      -> Result<Dataset> {
        let (labels_ptr, labels_len) = labels.map_or((std::ptr::null(), 0), |l| (l.as_ptr(), l.len()));
        let mut raw = std::ptr::null_mut();
        ctx.call(|| unsafe {
            sys::sgad_dataset_open_memory(ctx.raw(), format.to_raw(), data.as_ptr().cast(),
                                          data.len(), labels_ptr.cast(), labels_len, &mut raw)
        })?;
        Dataset::adopt(ctx, raw)
    }

    fn adopt(ctx: &Context, raw: *mut sys::sgad_dataset) -> Result<Dataset> {
        let raw = NonNull::new(raw)
            .ok_or_else(|| Error::new(Status::Internal, "libsgad returned no dataset"))?;
        Ok(Dataset { raw, ctx: ctx.clone() })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.ctx.locked(|| unsafe { sys::sgad_dataset_count(self.raw.as_ptr()) as usize })
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Channels, height and width of every image.
    pub fn image_dims(&self) -> [usize; 3] {
        let (mut c, mut h, mut w) = (0i64, 0i64, 0i64);
        // Cannot fail on a live dataset: every output pointer is given.
        let _ = self.ctx.locked(|| unsafe {
            sys::sgad_dataset_image_dims(self.raw.as_ptr(), &mut c, &mut h, &mut w)
        });
        [c as usize, h as usize, w as usize]
    }

    /// Floats in one image (C * H * W).
    pub fn image_len(&self) -> usize {
        self.image_dims().iter().product()
    }

    /// Image i's label, `None` for a dataset without labels.
    pub fn label(&self, i: usize) -> Result<Option<u32>> {
        let mut label = -1;
        let i = i64::try_from(i).unwrap_or(i64::MAX);
        self.ctx.call(|| unsafe { sys::sgad_dataset_label(self.raw.as_ptr(), i, &mut label) })?;
        Ok(u32::try_from(label).ok())
    }

    /// Whole batches of size `batch` in an epoch (the rest is left out).
    pub fn batches(&self, batch: usize) -> usize {
        let batch = i64::try_from(batch).unwrap_or(i64::MAX);
        self.ctx.locked(|| unsafe { sys::sgad_dataset_batches(self.raw.as_ptr(), batch).max(0) as usize })
    }

    /// Fills `images` with batch `index` of `epoch` in the order of
    /// (seed, epoch); the batch size B is `images.len() / image_len()`.
    /// `labels`, if given, must hold B values (-1 without labels).
    pub fn batch(&mut self, seed: u64, epoch: u64, index: usize, images: &mut [f32],
                 labels: Option<&mut [i32]>) -> Result<()> {
        let call = "Dataset::batch";
        let dims = self.batch_dims(call, images.len())?;
        let labels_ptr = match labels {
            Some(l) if l.len() != dims[0] => {
                return Err(Error::new(Status::Shape, format!(
                    "{call}: labels holds {} values for a batch of {}", l.len(), dims[0])));
            }
            Some(l) => l.as_mut_ptr(),
            None => std::ptr::null_mut(),
        };
        let mut images = Wrapped::output(&self.ctx, call, &dims, images)?;
        let epoch = i64::try_from(epoch).unwrap_or(i64::MAX);
        let index = i64::try_from(index).unwrap_or(i64::MAX);
        self.ctx.call(|| unsafe {
            sys::sgad_dataset_batch(self.raw.as_ptr(), seed, epoch, index, images.as_mut_ptr(),
                                    labels_ptr)
        })
    }

    /// Copies images `first ..` in file order into `images` (a whole number
    /// of images).
    pub fn read(&mut self, first: usize, images: &mut [f32]) -> Result<()> {
        let dims = self.batch_dims("Dataset::read", images.len())?;
        let mut images = Wrapped::output(&self.ctx, "Dataset::read", &dims, images)?;
        let first = i64::try_from(first).unwrap_or(i64::MAX);
        self.ctx.call(|| unsafe {
            sys::sgad_dataset_read(self.raw.as_ptr(), first, images.as_mut_ptr())
        })
    }

    /// `[B, C, H, W]` for a buffer of `len` floats, or why it is no batch.
    fn batch_dims(&self, call: &str, len: usize) -> Result<[usize; 4]> {
        let [c, h, w] = self.image_dims();
        let per_image = c * h * w;
        if len == 0 || per_image == 0 || len % per_image != 0 {
            return Err(Error::new(Status::Shape, format!(
                "{call}: the buffer holds {len} floats, not a whole number of [{c}, {h}, {w}] \
                 images ({per_image} floats each)")));
        }
        Ok([len / per_image, c, h, w])
    }
}

impl Drop for Dataset {
    fn drop(&mut self) {
        self.ctx.locked(|| unsafe { sys::sgad_dataset_free(self.raw.as_ptr()) })
    }
}

impl Context {
    /// Writes images `[n, C, H, W]` (given as `dims`, C = 1 or 3, values
    /// clamped to [0, 1]) as a `rows` x `cols` grid PNG, crash-safely.
    pub fn write_grid(&self, path: impl AsRef<Path>, images: &[f32], dims: [usize; 4],
                      rows: u32, cols: u32) -> Result<()> {
        let call = "Context::write_grid";
        let path = c_path(path.as_ref(), call)?;
        let images = Wrapped::input(self, call, &dims, images)?;
        self.call(|| unsafe {
            sys::sgad_image_write_grid(self.raw(), path.as_ptr(), images.as_ptr(),
                                       crate::trainer::c_int(rows), crate::trainer::c_int(cols))
        })
    }

    /// Writes images `[n, C, H, W]` (clamped to [0, 1]) as an IDX file of
    /// bytes, crash-safely: `[n, H, W]` for C = 1 (MNIST's format).
    pub fn write_idx(&self, path: impl AsRef<Path>, images: &[f32], dims: [usize; 4])
                     -> Result<()> {
        let call = "Context::write_idx";
        let path = c_path(path.as_ref(), call)?;
        let images = Wrapped::input(self, call, &dims, images)?;
        self.call(|| unsafe { sys::sgad_image_write_idx(self.raw(), path.as_ptr(), images.as_ptr()) })
    }

    /// Writes sample `sample`'s per-step decoder inputs as a strip PNG (the
    /// paper's Fig. 5): `steps` is `[T, n, C, H, W]` (given as `dims`),
    /// `scores` `[T, n]` or `None`; each frame gets a bar as long as its score.
    pub fn write_strip(&self, path: impl AsRef<Path>, steps: &[f32], dims: [usize; 5],
                       scores: Option<&[f32]>, sample: usize) -> Result<()> {
        let call = "Context::write_strip";
        let path = c_path(path.as_ref(), call)?;
        let steps = Wrapped::input(self, call, &dims, steps)?;
        let scores = scores.map(|s| Wrapped::input(self, call, &dims[..2], s)).transpose()?;
        let sample = i64::try_from(sample).unwrap_or(i64::MAX);
        self.call(|| unsafe {
            sys::sgad_image_write_strip(self.raw(), path.as_ptr(), steps.as_ptr(),
                                        scores.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                                        sample)
        })
    }
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("len", &self.len())
            .field("image_dims", &self.image_dims())
            .finish()
    }
}
