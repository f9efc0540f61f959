//! The context: threads, seed, and where the library's messages are kept.

use std::ffi::CStr;
use std::ptr::NonNull;
use std::rc::Rc;

use sgad_sys as sys;

use crate::error::{Error, Result, Status};
use crate::tensor::Wrapped;

/// Owns the `sgad_ctx` and frees it when the last holder goes.
struct Handle(NonNull<sys::sgad_ctx>);

impl Drop for Handle {
    fn drop(&mut self) {
        unsafe { sys::sgad_ctx_free(self.0.as_ptr()) }
    }
}

/// A libsgad context (`sgad_ctx`): the thread count, the seed of weight
/// initialisation, and the last error message of every object made in it.
///
/// Cloning is cheap and shares the same context. Trainers, checkpoints and
/// datasets hold a clone, so the context lives as long as any of them.
///
/// # Threads
///
/// libsgad's rule is that one thread at a time uses a context and all its
/// objects, while different contexts share nothing. `Context` and every
/// object made from it are therefore neither `Send` nor `Sync`: they stay
/// on the thread that made them. To train in parallel, make one `Context`
/// per thread; `set_threads` lets one context's kernels use several cores.
/// The compiler holds anyone to this:
///
/// ```compile_fail
/// fn send_to_another_thread<T: Send>(_: T) {}
/// send_to_another_thread(sgad::Context::new().unwrap());
/// ```
///
/// ```compile_fail
/// fn share_between_threads<T: Sync>(_: &T) {}
/// let ctx = sgad::Context::new().unwrap();
/// let trainer = sgad::Trainer::new(&ctx, sgad::Preset::new(sgad::Model::Sgad,
///                                                          sgad::ImageShape::Gray28)).unwrap();
/// share_between_threads(&trainer);
/// ```
#[derive(Clone)]
pub struct Context {
    handle: Rc<Handle>,
}

impl Context {
    /// A context with one thread and seed 0.
    pub fn new() -> Result<Context> {
        let mut raw = std::ptr::null_mut();
        let status = unsafe { sys::sgad_ctx_create(&mut raw) };
        match (Status::from_raw(status), NonNull::new(raw)) {
            (None, Some(raw)) => Ok(Context { handle: Rc::new(Handle(raw)) }),
            (failed, _) => Err(Error::new(failed.unwrap_or(Status::NoMem),
                                          "sgad_ctx_create: cannot make a context")),
        }
    }

    /// Sets how many threads the kernels use, 1..=256.
    pub fn set_threads(&self, threads: usize) -> Result<()> {
        let threads = i32::try_from(threads).unwrap_or(i32::MAX);
        self.check(unsafe { sys::sgad_ctx_set_threads(self.raw(), threads) })
    }

    /// The thread count.
    pub fn threads(&self) -> usize {
        unsafe { sys::sgad_ctx_threads(self.raw()) as usize }
    }

    /// Seeds weight initialisation: objects made afterwards draw their
    /// weights in creation order, so the same seed and the same calls give
    /// bitwise the same weights.
    pub fn set_seed(&self, seed: u64) -> Result<()> {
        self.check(unsafe { sys::sgad_ctx_set_seed(self.raw(), seed) })
    }

    /// Fills `out` with standard normal values that depend only on `seed`
    /// and the index: latents for sampling, the same on every machine.
    pub fn draw_latents(&self, seed: u64, out: &mut [f32]) -> Result<()> {
        let len = out.len();
        let mut z = Wrapped::output(self, "Context::draw_latents", &[len], out)?;
        self.check(unsafe { sys::sgad_draw_latents(self.raw(), seed, z.as_mut_ptr()) })
    }

    /// The raw handle, for calls of this crate and of sgad-sys.
    pub fn raw(&self) -> *mut sys::sgad_ctx {
        self.handle.0.as_ptr()
    }

    /// `Ok` for `SGAD_OK`, otherwise an [`Error`] with the context's message.
    pub(crate) fn check(&self, status: sys::sgad_status) -> Result<()> {
        match Status::from_raw(status) {
            None => Ok(()),
            Some(failed) => {
                let text = unsafe { CStr::from_ptr(sys::sgad_ctx_last_error(self.raw())) };
                Err(Error::new(failed, text.to_string_lossy().into_owned()))
            }
        }
    }
}

/// The version of the libsgad actually loaded, e.g. `"1.0.0"`.
pub fn version() -> &'static str {
    crate::error::static_text(unsafe { sys::sgad_version_string() })
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("threads", &self.threads()).finish()
    }
}
