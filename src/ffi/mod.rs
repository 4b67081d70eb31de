//! The C ABI of wsc; cbindgen turns these modules into `include/wsc.h`
//! (build.rs follows the `mod` lines below, in this order).
//!
//! One module per C type, after rustls-ffi and hyper's `ffi`:
//! [`result`] (`wsc_result`, `wsc_result_str`, `wsc_last_error`,
//! `wsc_version`), [`context`] (`wsc_context`), [`event`] (`wsc_event`),
//! [`client`] (`wsc_client`) and [`client_config`] (its settings), with
//! the glue in `boundary` (panic guard, argument macros, pointer helpers)
//! and `registry` (the handle registry).
//!
//! The rules of the ABI (also in the header's preamble, `cbindgen.toml`):
//! every symbol starts with `wsc_`; functions are `wsc_<type>_<verb>` with
//! the object first, then inputs, then out-parameters; each (but
//! `wsc_result_str`, `wsc_version`, `wsc_last_error`) returns a
//! [`wsc_result`] and writes its out-parameters only on success (one
//! exception, documented: `wsc_client_extensions` reports the needed length
//! also when the buffer is too small); `_free(NULL)` is a no-op. Handles
//! are looked up, never dereferenced, so a double free or a call on a freed
//! handle returns `WSC_RESULT_INVALID_HANDLE`. No panic unwinds across the
//! boundary (`WSC_RESULT_PANIC`). All functions are thread-safe unless
//! their doc says otherwise.
#![allow(non_camel_case_types)]
// The exports take raw pointers from C and check them themselves (NULL,
// registry look-up); they cannot be `unsafe fn` for cbindgen's C signature.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
// Every `unsafe` block says why it is sound.
#![deny(clippy::undocumented_unsafe_blocks)]

mod batch;
mod boundary;
mod registry;

pub mod result;

pub mod context;

pub mod event;

pub mod client;

pub mod client_config;

// Every C type and function also at `wsc::ffi::*`, as before the split.
pub use batch::wsc_batch_record;
pub use client::*;
pub use client_config::*;
pub use context::*;
pub use event::*;
pub use result::*;
