// SPDX-License-Identifier: MIT
//! Errors: the library's status and the message its context kept.

use std::ffi::CStr;
use std::fmt;

use sgad_sys as sys;

/// What kind of failure a call met: libsgad's `sgad_status` codes.
///
/// The library only ever appends codes, so a newer libsgad may return one
/// this crate does not name; it arrives as [`Status::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// A value out of its range (`SGAD_E_INVALID_ARG`).
    InvalidArg,
    /// A buffer or tensor shape does not fit the call (`SGAD_E_SHAPE`).
    Shape,
    /// An allocation failed; nothing was changed (`SGAD_E_NOMEM`).
    NoMem,
    /// A call out of order (`SGAD_E_STATE`).
    State,
    /// A NaN or infinity where a finite value is needed (`SGAD_E_NUMERIC`).
    Numeric,
    /// Reading or writing a file failed (`SGAD_E_IO`).
    Io,
    /// A file or buffer is malformed (`SGAD_E_FORMAT`).
    Format,
    /// A valid request this build or object cannot do (`SGAD_E_UNSUPPORTED`).
    Unsupported,
    /// A bug in libsgad (`SGAD_E_INTERNAL`).
    Internal,
    /// A code this version of the crate does not know.
    Unknown(u32),
}

impl Status {
    /// The status of a raw code, or `None` for `SGAD_OK`.
    pub fn from_raw(raw: sys::sgad_status) -> Option<Status> {
        Some(match raw {
            sys::sgad_status::SGAD_OK => return None,
            sys::sgad_status::SGAD_E_INVALID_ARG => Status::InvalidArg,
            sys::sgad_status::SGAD_E_SHAPE => Status::Shape,
            sys::sgad_status::SGAD_E_NOMEM => Status::NoMem,
            sys::sgad_status::SGAD_E_STATE => Status::State,
            sys::sgad_status::SGAD_E_NUMERIC => Status::Numeric,
            sys::sgad_status::SGAD_E_IO => Status::Io,
            sys::sgad_status::SGAD_E_FORMAT => Status::Format,
            sys::sgad_status::SGAD_E_UNSUPPORTED => Status::Unsupported,
            sys::sgad_status::SGAD_E_INTERNAL => Status::Internal,
            other => Status::Unknown(other.0),
        })
    }

    /// The raw code.
    pub fn to_raw(self) -> sys::sgad_status {
        match self {
            Status::InvalidArg => sys::sgad_status::SGAD_E_INVALID_ARG,
            Status::Shape => sys::sgad_status::SGAD_E_SHAPE,
            Status::NoMem => sys::sgad_status::SGAD_E_NOMEM,
            Status::State => sys::sgad_status::SGAD_E_STATE,
            Status::Numeric => sys::sgad_status::SGAD_E_NUMERIC,
            Status::Io => sys::sgad_status::SGAD_E_IO,
            Status::Format => sys::sgad_status::SGAD_E_FORMAT,
            Status::Unsupported => sys::sgad_status::SGAD_E_UNSUPPORTED,
            Status::Internal => sys::sgad_status::SGAD_E_INTERNAL,
            Status::Unknown(code) => sys::sgad_status(code),
        }
    }

    /// The enumerator's name as the library spells it, e.g. `"SGAD_E_SHAPE"`.
    pub fn name(self) -> &'static str {
        static_text(unsafe { sys::sgad_status_name(self.to_raw()) })
    }

    /// The library's one-line description, e.g. `"tensor shape mismatch"`.
    pub fn description(self) -> &'static str {
        static_text(unsafe { sys::sgad_status_string(self.to_raw()) })
    }
}

/// Text the library documents as static and never NULL.
pub(crate) fn static_text(p: *const std::os::raw::c_char) -> &'static str {
    if p.is_null() {
        return "";
    }
    unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("(not UTF-8)")
}

/// A failed call: the status and the message libsgad wrote for a person
/// (`sgad_ctx_last_error`), or this crate's own message when it refused a
/// call before reaching the library (e.g. a buffer of the wrong length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
}

impl Error {
    /// An error with the given status and message.
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error { status, message: message.into() }
    }

    /// What kind of failure it was.
    pub fn status(&self) -> Status {
        self.status
    }

    /// What was wrong and with which values, e.g. "sgad_trainer_step: real
    /// images are [1, 32, 32], the generator makes [1, 28, 28]".
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}: {}", self.status.name(), self.status.description())
        } else {
            write!(f, "{}: {}", self.status.name(), self.message)
        }
    }
}

impl std::error::Error for Error {}

/// The result of every fallible call of this crate.
pub type Result<T> = std::result::Result<T, Error>;
