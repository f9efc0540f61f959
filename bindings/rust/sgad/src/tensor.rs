// SPDX-License-Identifier: MIT
//! Borrowed tensors: a caller's slice lent to the library for one call.

use std::marker::PhantomData;
use std::ptr::NonNull;

use sgad_sys as sys;

use crate::context::Context;
use crate::error::{Error, Result, Status};

/// An `sgad_tensor` over a slice (sgad_tensor_wrap), freed on drop. The
/// lifetime ties it to the slice, so the library never sees freed memory,
/// and to the context, whose lock it takes to free itself.
pub(crate) struct Wrapped<'a> {
    raw: NonNull<sys::sgad_tensor>,
    ctx: &'a Context,
    writable: bool,
    _data: PhantomData<&'a mut [f32]>,
}

impl<'a> Wrapped<'a> {
    /// A tensor the library only reads: passed to `const sgad_tensor *`
    /// parameters alone (as_ptr), so the cast from `&[f32]` is never written
    /// through.
    pub(crate) fn input(ctx: &'a Context, call: &str, dims: &[usize], data: &'a [f32])
                        -> Result<Wrapped<'a>> {
        Wrapped::wrap(ctx, call, dims, data.as_ptr() as *mut f32, data.len(), false)
    }

    /// A tensor the library writes into.
    pub(crate) fn output(ctx: &'a Context, call: &str, dims: &[usize], data: &'a mut [f32])
                         -> Result<Wrapped<'a>> {
        Wrapped::wrap(ctx, call, dims, data.as_mut_ptr(), data.len(), true)
    }

    fn wrap(ctx: &'a Context, call: &str, dims: &[usize], data: *mut f32, len: usize,
            writable: bool) -> Result<Wrapped<'a>> {
        let expected = checked_product(dims).ok_or_else(|| {
            Error::new(Status::InvalidArg, format!("{call}: dimensions {dims:?} overflow"))
        })?;
        if expected != len {
            return Err(Error::new(Status::Shape, format!(
                "{call}: the buffer holds {len} floats, {dims:?} needs {expected}")));
        }
        let dims: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
        let mut raw = std::ptr::null_mut();
        ctx.call(|| unsafe {
            sys::sgad_tensor_wrap(ctx.raw(), dims.len() as i32, dims.as_ptr(), data, &mut raw)
        })?;
        let raw = NonNull::new(raw)
            .ok_or_else(|| Error::new(Status::Internal, format!("{call}: no tensor made")))?;
        Ok(Wrapped { raw, ctx, writable, _data: PhantomData })
    }

    pub(crate) fn as_ptr(&self) -> *const sys::sgad_tensor {
        self.raw.as_ptr()
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut sys::sgad_tensor {
        debug_assert!(self.writable, "an input tensor passed where the library writes");
        self.raw.as_ptr()
    }
}

impl Drop for Wrapped<'_> {
    fn drop(&mut self) {
        self.ctx.locked(|| unsafe { sys::sgad_tensor_free(self.raw.as_ptr()) })
    }
}

/// The number of elements of `dims`, None on overflow.
pub(crate) fn checked_product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// A zeroed buffer of `len` floats, or an error instead of the abort an
/// impossible allocation would cause.
pub(crate) fn zeroed(call: &str, len: Option<usize>) -> Result<Vec<f32>> {
    let len = len.ok_or_else(|| {
        Error::new(Status::InvalidArg, format!("{call}: the buffer size overflows"))
    })?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::new(Status::NoMem, format!("{call}: cannot allocate {len} floats"))
    })?;
    v.resize(len, 0.0);
    Ok(v)
}
