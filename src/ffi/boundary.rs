//! The glue every export uses: the panic guard, the argument macros and the
//! checked conversions of C pointers (strings, byte ranges, out-parameters,
//! caller buffers). Each `unsafe` block here has its SAFETY note; the
//! exports call these helpers instead of dereferencing pointers themselves.

use super::client::wsc_client;
use super::result::{record, wsc_result};
use crate::engine::Client;
use crate::error::Error;
use std::ffi::{CStr, c_char};

/// Runs an export's body, turning a panic into `WSC_RESULT_PANIC` (or the
/// given value) instead of unwinding across the C boundary.
macro_rules! ffi_boundary {
    ($on_panic:expr, $body:block) => {{
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(_) => $on_panic,
        }
    }};
    ($body:block) => {
        ffi_boundary!($crate::ffi::wsc_result::Panic, $body)
    };
}
pub(crate) use ffi_boundary;

/// The live context behind a `wsc_context *` argument, or an early return
/// of `NULL_ARGUMENT` (NULL) or `INVALID_HANDLE` (not a live context).
macro_rules! try_context {
    ($ptr:expr) => {{
        if $ptr.is_null() {
            return $crate::ffi::wsc_result::NullArgument;
        }
        match $crate::ffi::registry::context($ptr as usize) {
            Some(c) => c,
            None => return $crate::ffi::wsc_result::InvalidHandle,
        }
    }};
}
pub(crate) use try_context;

/// Runs an export's body on the live client behind `client`, inside the
/// panic guard: `NULL_ARGUMENT` for NULL, `INVALID_HANDLE` for a handle
/// that is not a live client, else what `body` returns.
pub(crate) fn with_client(
    client: *const wsc_client,
    body: impl FnOnce(&Client) -> wsc_result,
) -> wsc_result {
    ffi_boundary!({
        if client.is_null() {
            return wsc_result::NullArgument;
        }
        match super::registry::client(client as usize) {
            Some(c) => body(&c),
            None => wsc_result::InvalidHandle,
        }
    })
}

/// The value of a `Result<T, wsc_result>`, or an early return of its error.
macro_rules! try_arg {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}
pub(crate) use try_arg;

/// Reads a NUL-terminated C string as UTF-8.
pub(crate) fn c_str<'a>(p: *const c_char) -> Result<&'a str, wsc_result> {
    if p.is_null() {
        return Err(wsc_result::NullArgument);
    }
    // SAFETY: the caller passes a NUL-terminated string (documented on every
    // function that takes one); NULL was excluded above.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| wsc_result::InvalidUtf8)
}

/// Reads an optional NUL-terminated UTF-8 string (NULL = `None`).
pub(crate) fn opt_c_str<'a>(p: *const c_char) -> Result<Option<&'a str>, wsc_result> {
    if p.is_null() {
        Ok(None)
    } else {
        c_str(p).map(Some)
    }
}

/// Reads `len` bytes at `p`; NULL is allowed only with `len == 0`.
pub(crate) fn bytes<'a>(p: *const u8, len: usize) -> Result<&'a [u8], wsc_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(wsc_result::NullArgument);
    }
    if len > isize::MAX as usize {
        return Err(wsc_result::InvalidArgument);
    }
    // SAFETY: the caller passes `len` readable bytes at `p` (documented);
    // NULL and impossible lengths were excluded above.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Writes `v` to the out-parameter `out` (checked non-NULL by the caller).
pub(crate) fn put<T>(out: *mut T, v: T) {
    // SAFETY: `out` was checked non-NULL and the caller passes a writable
    // location of type T (documented).
    unsafe { out.write(v) }
}

/// Writes `v` to the optional out-parameter `out`; NULL skips it.
pub(crate) fn put_opt<T>(out: *mut T, v: T) {
    if !out.is_null() {
        put(out, v);
    }
}

/// Writes `text` and a NUL into the caller's `buf` of `buf_len` bytes
/// (`buf` checked non-NULL by the caller); `INVALID_ARGUMENT`, nothing
/// written, when it does not fit.
pub(crate) fn write_c_string(text: &str, buf: *mut c_char, buf_len: usize) -> wsc_result {
    if text.len() + 1 > buf_len {
        return record(&Error::InvalidArgument(format!(
            "the buffer needs {} bytes, it has {buf_len}",
            text.len() + 1
        )));
    }
    // SAFETY: `buf` is non-NULL and the caller gives `buf_len` writable
    // bytes (documented); we write text.len() + 1 <= buf_len bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        buf.add(text.len()).write(0);
    }
    wsc_result::Ok
}
