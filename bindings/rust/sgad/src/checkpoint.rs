// SPDX-License-Identifier: MIT
//! Checkpoints: saving a trainer's whole state and reading it back.

use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

use sgad_sys as sys;

use crate::context::Context;
use crate::error::{Error, Result, Status};
use crate::tensor::{checked_product, zeroed, Wrapped};
use crate::trainer::Trainer;

/// Room for a path the library writes back (Linux's PATH_MAX).
const PATH_CAP: usize = 4096;

/// A checkpoint read into memory and checked (`sgad_checkpoint`).
///
/// Holds its [`Context`]; `Send` and not `Sync` (see [`Context`]).
///
/// ```compile_fail
/// fn share_between_threads<T: Sync>(_: &T) {}
/// let ctx = sgad::Context::new().unwrap();
/// let trainer = sgad::Trainer::new(&ctx, sgad::Preset::new(sgad::Model::Sgad,
///                                                          sgad::ImageShape::Gray28)).unwrap();
/// let checkpoint = sgad::Checkpoint::from_bytes(&ctx, &trainer.save_to_vec().unwrap()).unwrap();
/// share_between_threads(&checkpoint);
/// ```
pub struct Checkpoint {
    raw: NonNull<sys::sgad_checkpoint>,
    ctx: Context,
}

// SAFETY: as for `Trainer`: every call on the checkpoint holds `ctx`'s
// lock (`restore` holds both contexts' locks). Not `Sync`.
unsafe impl Send for Checkpoint {}

/// A tensor's name and dimensions inside a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// e.g. `"G.1.weight"` or `"opt.D.0.weight.square_avg"`.
    pub name: String,
    /// Its dimensions, C order.
    pub dims: Vec<usize>,
}

impl Checkpoint {
    /// Reads and checks a checkpoint file.
    pub fn read(ctx: &Context, path: impl AsRef<Path>) -> Result<Checkpoint> {
        let path = c_path(path.as_ref(), "Checkpoint::read")?;
        let mut raw = std::ptr::null_mut();
        ctx.call(|| unsafe { sys::sgad_checkpoint_read(ctx.raw(), path.as_ptr(), &mut raw) })?;
        Checkpoint::adopt(ctx, raw)
    }

    /// Reads and checks a checkpoint from bytes (copied).
    pub fn from_bytes(ctx: &Context, bytes: &[u8]) -> Result<Checkpoint> {
        let mut raw = std::ptr::null_mut();
        ctx.call(|| unsafe {
            sys::sgad_checkpoint_read_memory(ctx.raw(), bytes.as_ptr().cast(), bytes.len(), &mut raw)
        })?;
        Checkpoint::adopt(ctx, raw)
    }

    fn adopt(ctx: &Context, raw: *mut sys::sgad_checkpoint) -> Result<Checkpoint> {
        let raw = NonNull::new(raw)
            .ok_or_else(|| Error::new(Status::Internal, "libsgad returned no checkpoint"))?;
        Ok(Checkpoint { raw, ctx: ctx.clone() })
    }

    /// The newest checkpoint of `dir` that reads without error (damaged
    /// ones are skipped); [`Status::Io`] if there is none.
    pub fn find_latest(ctx: &Context, dir: impl AsRef<Path>) -> Result<PathBuf> {
        let dir = c_path(dir.as_ref(), "Checkpoint::find_latest")?;
        let mut out = vec![0 as c_char; PATH_CAP];
        ctx.call(|| unsafe {
            sys::sgad_checkpoint_find_latest(ctx.raw(), dir.as_ptr(), out.as_mut_ptr(), PATH_CAP)
        })?;
        Ok(path_from(&out))
    }

    /// The metadata entries (format, versions, preset, settings, counters).
    pub fn metadata(&self) -> Vec<(String, String)> {
        let _lock = self.ctx.lock();
        let count = unsafe { sys::sgad_checkpoint_meta_count(self.raw.as_ptr()) };
        (0..count)
            .filter_map(|i| {
                let (mut key, mut value) = (std::ptr::null(), std::ptr::null());
                let status = unsafe {
                    sys::sgad_checkpoint_meta_entry(self.raw.as_ptr(), i, &mut key, &mut value)
                };
                (status == sys::sgad_status::SGAD_OK).then(|| (owned(key), owned(value)))
            })
            .collect()
    }

    /// The value of a metadata key, e.g. `"iteration"`.
    pub fn meta(&self, key: &str) -> Option<String> {
        let key = CString::new(key).ok()?;
        let _lock = self.ctx.lock();
        let value = unsafe { sys::sgad_checkpoint_meta(self.raw.as_ptr(), key.as_ptr()) };
        (!value.is_null()).then(|| owned(value))
    }

    /// The tensors, in file order.
    pub fn tensors(&self) -> Result<Vec<TensorInfo>> {
        let count =
            self.ctx.locked(|| unsafe { sys::sgad_checkpoint_tensor_count(self.raw.as_ptr()) });
        (0..count).map(|i| self.tensor_info(i)).collect()
    }

    fn tensor_info(&self, i: i32) -> Result<TensorInfo> {
        let mut name = std::ptr::null();
        let mut ndim = 0;
        let mut dims = [0i64; sys::SGAD_MAX_DIMS as usize];
        self.ctx.call(|| unsafe {
            sys::sgad_checkpoint_tensor_info(self.raw.as_ptr(), i, &mut name, &mut ndim,
                                             dims.as_mut_ptr())
        })?;
        Ok(TensorInfo {
            name: owned(name),
            dims: dims[..ndim as usize].iter().map(|&d| d as usize).collect(),
        })
    }

    /// A tensor's values, C order.
    pub fn tensor(&self, name: &str) -> Result<Vec<f32>> {
        let info = self.tensors()?.into_iter().find(|t| t.name == name).ok_or_else(|| {
            Error::new(Status::InvalidArg, format!("Checkpoint::tensor: no tensor {name}"))
        })?;
        let mut values = zeroed("Checkpoint::tensor", checked_product(&info.dims))?;
        self.tensor_into(name, &mut values)?;
        Ok(values)
    }

    /// Copies a tensor's values into `out`, which must hold exactly as many.
    pub fn tensor_into(&self, name: &str, out: &mut [f32]) -> Result<()> {
        let call = "Checkpoint::tensor_into";
        let name = CString::new(name)
            .map_err(|_| Error::new(Status::InvalidArg, format!("{call}: name holds a NUL byte")))?;
        let len = out.len();
        let mut dst = Wrapped::output(&self.ctx, call, &[len], out)?;
        self.ctx.call(|| unsafe {
            sys::sgad_checkpoint_tensor_read(self.raw.as_ptr(), name.as_ptr(), dst.as_mut_ptr())
        })
    }

    /// The preset trainer this checkpoint describes, with its whole state,
    /// in the checkpoint's context.
    pub fn create_trainer(&self) -> Result<Trainer> {
        let mut raw = std::ptr::null_mut();
        self.ctx.call(|| unsafe {
            sys::sgad_checkpoint_create_trainer(self.raw.as_ptr(), self.ctx.raw(), &mut raw)
        })?;
        Trainer::adopt(&self.ctx, raw)
    }
}

impl Drop for Checkpoint {
    fn drop(&mut self) {
        self.ctx.locked(|| unsafe { sys::sgad_checkpoint_free(self.raw.as_ptr()) })
    }
}

impl Trainer {
    /// Saves the whole training state to `path`, crash-safely.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = c_path(path.as_ref(), "Trainer::save")?;
        self.context().call(|| unsafe { sys::sgad_checkpoint_save(self.raw(), path.as_ptr()) })
    }

    /// The checkpoint's bytes, as [`save`](Trainer::save) would write them.
    pub fn save_to_vec(&self) -> Result<Vec<u8>> {
        let mut size = 0usize;
        {
            let lock = self.context().lock();
            let status = unsafe {
                sys::sgad_checkpoint_save_memory(self.raw(), std::ptr::null_mut(), 0, &mut size)
            };
            if status != sys::sgad_status::SGAD_E_SHAPE {
                lock.check(status)?; // anything but "too small" is a real failure
            }
        }
        let mut bytes = vec![0u8; size];
        self.context().call(|| unsafe {
            sys::sgad_checkpoint_save_memory(self.raw(), bytes.as_mut_ptr().cast(), size, &mut size)
        })?;
        bytes.truncate(size);
        Ok(bytes)
    }

    /// Saves to `dir/ckpt-<iteration>.safetensors`, keeps the newest
    /// `keep` (0: all), and returns the path written.
    pub fn save_rotating(&self, dir: impl AsRef<Path>, keep: u32) -> Result<PathBuf> {
        let dir = c_path(dir.as_ref(), "Trainer::save_rotating")?;
        let mut out = vec![0 as c_char; PATH_CAP];
        self.context().call(|| unsafe {
            sys::sgad_checkpoint_save_rotating(self.raw(), dir.as_ptr(),
                                               crate::trainer::c_int(keep), out.as_mut_ptr(),
                                               PATH_CAP)
        })?;
        Ok(path_from(&out))
    }

    /// The trainer a checkpoint file describes, with its whole state.
    pub fn load(ctx: &Context, path: impl AsRef<Path>) -> Result<Trainer> {
        Checkpoint::read(ctx, path)?.create_trainer()
    }

    /// The trainer a checkpoint in memory describes.
    pub fn load_bytes(ctx: &Context, bytes: &[u8]) -> Result<Trainer> {
        Checkpoint::from_bytes(ctx, bytes)?.create_trainer()
    }

    /// Puts a checkpoint's whole state into this trainer, which must be of
    /// the same preset. All or nothing.
    pub fn restore(&mut self, checkpoint: &Checkpoint) -> Result<()> {
        // The call uses both contexts (they may differ), so it holds both
        // locks. The library reports into the trainer's or the
        // checkpoint's context; clear both so the message found is this
        // call's.
        let (own, other) = self.context().lock_pair(&checkpoint.ctx);
        unsafe {
            sys::sgad_ctx_clear_error(own.raw());
            if let Some(other) = &other {
                sys::sgad_ctx_clear_error(other.raw());
            }
        }
        let status = unsafe { sys::sgad_checkpoint_restore(checkpoint.raw.as_ptr(), self.raw()) };
        match (own.check(status), &other) {
            (Err(e), Some(other)) if e.message().is_empty() => other.check(status),
            (result, _) => result,
        }
    }
}

/// A path as the library takes it; a NUL byte inside is an error.
pub(crate) fn c_path(path: &Path, call: &str) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::new(Status::InvalidArg, format!("{call}: the path {path:?} holds a NUL byte"))
    })
}

fn path_from(buf: &[c_char]) -> PathBuf {
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
    PathBuf::from(std::ffi::OsStr::from_bytes(text.to_bytes()))
}

fn owned(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("model", &self.meta("model"))
            .field("iteration", &self.meta("iteration"))
            .finish()
    }
}
