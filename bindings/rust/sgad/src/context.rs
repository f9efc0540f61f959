// SPDX-License-Identifier: MIT
//! The context: threads, seed, and where the library's messages are kept.

use std::cell::Cell;
use std::ffi::CStr;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sgad_sys as sys;

use crate::error::{Error, Result, Status};
use crate::tensor::Wrapped;

/// The `sgad_ctx` and the lock every call on it or its objects holds.
/// Freed with the last [`Context`] clone, and every object holds one.
struct Shared {
    raw: NonNull<sys::sgad_ctx>,
    lock: Mutex<()>,
}

// SAFETY: libsgad's rule (context.h) is that one thread at a time uses a
// context and all its objects; it has no global or thread-local state,
// and its OpenMP and BLIS threads live inside one call. Which thread
// makes a call does not matter, only that two calls never overlap. Every
// call this crate makes on the context or on an object made in it holds
// `lock` (through `Context::lock`), and the pointer is read-only
// otherwise, so `Shared` may be sent and shared. The last owner frees the
// context alone, after every object (each holds an `Arc<Shared>`).
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Drop for Shared {
    fn drop(&mut self) {
        unsafe { sys::sgad_ctx_free(self.raw.as_ptr()) }
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
/// objects, while different contexts share nothing. This crate keeps the
/// rule with a lock per context: every call on the context or on an object
/// made in it holds the lock. `Context` and every object made from it are
/// therefore `Send`: a trainer can move to a worker thread, and objects of
/// one context can even live on different threads (their calls take turns).
///
/// They are not `Sync`: one object is not used from two threads at once.
/// The lock makes each call whole, not a sequence of calls, and what an
/// object does depends on its sequence (settings, then steps; a failed call,
/// then its message). Owned by one thread at a time, an object's calls keep
/// that thread's order. Sharing one object by reference would gain nothing,
/// as its calls would take turns anyway, and would hand its raw handle to
/// several threads at once.
///
/// Weights are drawn from the context's seed in creation order: for
/// reproducible weights, make a context's objects on one thread, then move
/// them.
///
/// ```
/// # fn main() -> sgad::Result<()> {
/// let ctx = sgad::Context::new()?;
/// let mut trainer = sgad::Trainer::new(&ctx, sgad::Preset::new(sgad::Model::Sgad,
///                                                              sgad::ImageShape::Gray28)
///                                                 .with_steps(2))?;
/// let real = vec![0.5f32; 2 * trainer.image_len()];
/// let trainer = std::thread::spawn(move || trainer.step(&real).map(|()| trainer))
///     .join().unwrap()?;
/// assert_eq!(trainer.iterations(), 1);
/// # Ok(())
/// # }
/// ```
///
/// The compiler refuses to share one between threads:
///
/// ```compile_fail
/// fn share_between_threads<T: Sync>(_: &T) {}
/// share_between_threads(&sgad::Context::new().unwrap());
/// ```
#[derive(Clone)]
pub struct Context {
    shared: Arc<Shared>,
    /// `Cell<()>` is `Send` and not `Sync`, and so is `Context`.
    _not_sync: PhantomData<Cell<()>>,
}

/// The context's lock, held: while it lives no other thread calls into the
/// context or its objects. From [`Context::lock`], for calls through
/// [`sgad::sys`](crate::sys) on raw handles.
///
/// Do not call methods of this crate on the same context while holding it:
/// they take the lock themselves, and the thread would wait for itself.
/// It cannot leave its thread:
///
/// ```compile_fail
/// fn send_to_another_thread<T: Send>(_: T) {}
/// let ctx = sgad::Context::new().unwrap();
/// send_to_another_thread(ctx.lock());
/// ```
pub struct ContextLock<'a> {
    raw: NonNull<sys::sgad_ctx>,
    _guard: MutexGuard<'a, ()>,
}

impl ContextLock<'_> {
    /// The raw context.
    pub fn raw(&self) -> *mut sys::sgad_ctx {
        self.raw.as_ptr()
    }

    /// `Ok` for `SGAD_OK`, otherwise an [`Error`] with the context's message,
    /// read under the lock so it is the message of this thread's last call.
    pub fn check(&self, status: sys::sgad_status) -> Result<()> {
        match Status::from_raw(status) {
            None => Ok(()),
            Some(failed) => Err(Error::new(failed, self.last_error())),
        }
    }

    /// The text of `sgad_ctx_last_error`.
    pub fn last_error(&self) -> String {
        let text = unsafe { CStr::from_ptr(sys::sgad_ctx_last_error(self.raw())) };
        text.to_string_lossy().into_owned()
    }
}

impl Context {
    /// A context with one thread and seed 0.
    pub fn new() -> Result<Context> {
        let mut raw = std::ptr::null_mut();
        let status = unsafe { sys::sgad_ctx_create(&mut raw) };
        match (Status::from_raw(status), NonNull::new(raw)) {
            (None, Some(raw)) => Ok(Context {
                shared: Arc::new(Shared { raw, lock: Mutex::new(()) }),
                _not_sync: PhantomData,
            }),
            (failed, _) => Err(Error::new(failed.unwrap_or(Status::NoMem),
                                          "sgad_ctx_create: cannot make a context")),
        }
    }

    /// Sets how many threads the kernels use, 1..=256.
    pub fn set_threads(&self, threads: usize) -> Result<()> {
        let threads = i32::try_from(threads).unwrap_or(i32::MAX);
        self.call(|| unsafe { sys::sgad_ctx_set_threads(self.raw(), threads) })
    }

    /// The thread count.
    pub fn threads(&self) -> usize {
        self.locked(|| unsafe { sys::sgad_ctx_threads(self.raw()) as usize })
    }

    /// Seeds weight initialisation: objects made afterwards draw their
    /// weights in creation order, so the same seed and the same calls give
    /// bitwise the same weights.
    pub fn set_seed(&self, seed: u64) -> Result<()> {
        self.call(|| unsafe { sys::sgad_ctx_set_seed(self.raw(), seed) })
    }

    /// Fills `out` with standard normal values that depend only on `seed`
    /// and the index: latents for sampling, the same on every machine.
    pub fn draw_latents(&self, seed: u64, out: &mut [f32]) -> Result<()> {
        let len = out.len();
        let mut z = Wrapped::output(self, "Context::draw_latents", &[len], out)?;
        self.call(|| unsafe { sys::sgad_draw_latents(self.raw(), seed, z.as_mut_ptr()) })
    }

    /// The raw handle, for calls of sgad-sys. It stays owned by the
    /// `Context`. Make such calls, on the context or on any raw handle of
    /// its objects, while holding [`lock`](Context::lock): objects of this
    /// context may be in use on other threads.
    pub fn raw(&self) -> *mut sys::sgad_ctx {
        self.shared.raw.as_ptr()
    }

    /// Takes the context's lock (waiting while another thread is in a call
    /// on this context or its objects), for calls through sgad-sys.
    ///
    /// ```
    /// # fn main() -> sgad::Result<()> {
    /// # let ctx = sgad::Context::new()?;
    /// # let trainer = sgad::Trainer::new(&ctx, sgad::Preset::new(sgad::Model::Sgad,
    /// #                                                          sgad::ImageShape::Gray28))?;
    /// let lock = trainer.context().lock();
    /// let g = unsafe { sgad::sys::sgad_trainer_net(trainer.raw(), 0) };   // 0: G, 1: D
    /// let layers = unsafe { sgad::sys::sgad_net_layer_count(g) };
    /// let mut tau = 0.0;
    /// let status = unsafe {
    ///     sgad::sys::sgad_layer_get(sgad::sys::sgad_net_layer(g, layers - 1),
    ///                               sgad::sys::sgad_option::SGAD_OPT_NEURON_TAU, &mut tau)
    /// };
    /// let tau = lock.check(status).map(|()| tau);   // an Err carries the library's message
    /// // G's last layer is SGAD's attention decoder, which has no tau:
    /// let err = tau.unwrap_err();
    /// assert_eq!(err.status(), sgad::Status::Unsupported);
    /// assert_eq!(err.message(), "sgad_layer_get: a attention layer has no option 100");
    /// drop(lock); // before calling the safe API on this context again
    /// assert_eq!(trainer.iterations(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn lock(&self) -> ContextLock<'_> {
        // A panic while the lock was held cannot have left libsgad's state
        // half-changed (its calls never unwind), so poisoning means nothing.
        let guard = self.shared.lock.lock().unwrap_or_else(PoisonError::into_inner);
        ContextLock { raw: self.shared.raw, _guard: guard }
    }

    /// Runs `f` under the lock: for calls that return no status.
    pub(crate) fn locked<R>(&self, f: impl FnOnce() -> R) -> R {
        let _lock = self.lock();
        f()
    }

    /// Runs the library call `f` under the lock and turns its status into
    /// a `Result`, with the message the call left.
    pub(crate) fn call(&self, f: impl FnOnce() -> sys::sgad_status) -> Result<()> {
        let lock = self.lock();
        lock.check(f())
    }

    /// Whether both are the same context.
    pub(crate) fn same(&self, other: &Context) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Takes the locks of two contexts, always in the same (address) order,
    /// so two threads locking the same pair cannot wait for each other.
    /// One lock if they are the same context.
    pub(crate) fn lock_pair<'a>(&'a self, other: &'a Context)
                                -> (ContextLock<'a>, Option<ContextLock<'a>>) {
        if self.same(other) {
            return (self.lock(), None);
        }
        if Arc::as_ptr(&self.shared) < Arc::as_ptr(&other.shared) {
            let first = self.lock();
            (first, Some(other.lock()))
        } else {
            let second = other.lock();
            (self.lock(), Some(second))
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
