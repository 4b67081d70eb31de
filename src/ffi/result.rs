//! `wsc_result`, the result of every export: its numbers, its sentence
//! (`wsc_result_str`), the mapping from the crate's [`Error`], the
//! thread's last error text (`wsc_last_error`), and `wsc_version`.

use super::boundary::ffi_boundary;
use crate::error::{Error, Result};
use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int};

/// The result of every function. The numbers are stable and never reused;
/// `wsc_result_str` gives a sentence for each.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsc_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// The handle is not live: never returned by wsc, already freed (double
    /// free), or of another kind.
    InvalidHandle = 2,
    /// An argument is out of range or malformed.
    InvalidArgument = 3,
    /// The URL does not parse, is not ws:// or wss://, has no host or has a
    /// fragment.
    InvalidUrl = 4,
    /// A header name is empty or not a token, a value holds CR/LF/NUL, or
    /// the handshake sets that header itself.
    InvalidHeader = 5,
    /// A text message or close reason is not valid UTF-8.
    InvalidUtf8 = 6,
    /// The client is closing or closed: the message was not accepted and is
    /// not delivered.
    NotConnected = 7,
    /// The send buffer is full: the message was not accepted.
    BufferFull = 8,
    /// The context of this client was freed.
    ContextClosed = 9,
    /// An internal error (a caught panic): please report it.
    Panic = 10,
    /// An operating-system call failed.
    Io = 11,
    /// DNS resolution failed.
    Dns = 12,
    /// The TCP connection failed (refused, unreachable).
    Connect = 13,
    /// The TLS handshake failed (e.g. certificate verification).
    Tls = 14,
    /// The server refused the opening handshake (non-101 status, bad
    /// Sec-WebSocket-Accept...).
    Handshake = 15,
    /// The server violated RFC 6455 (close code 1002).
    Protocol = 16,
    /// Invalid UTF-8 arrived in a text message or close reason (close code
    /// 1007).
    InvalidPayload = 17,
    /// An incoming message exceeded the size limit (close code 1009).
    MessageTooBig = 18,
    /// A connect, handshake or close timeout expired.
    Timeout = 19,
    /// The connection broke without a closing handshake (close code 1006).
    ConnectionLost = 20,
    /// The proxy refused the tunnel or its authentication, or broke its
    /// protocol.
    Proxy = 21,
    /// The context was created in another process before `fork()`: create
    /// a new context in this process (the old handles can only be freed).
    Forked = 22,
}

impl wsc_result {
    /// Every result, in the order of their numbers (0, 1, 2, ...).
    const ALL: [wsc_result; 23] = [
        wsc_result::Ok,
        wsc_result::NullArgument,
        wsc_result::InvalidHandle,
        wsc_result::InvalidArgument,
        wsc_result::InvalidUrl,
        wsc_result::InvalidHeader,
        wsc_result::InvalidUtf8,
        wsc_result::NotConnected,
        wsc_result::BufferFull,
        wsc_result::ContextClosed,
        wsc_result::Panic,
        wsc_result::Io,
        wsc_result::Dns,
        wsc_result::Connect,
        wsc_result::Tls,
        wsc_result::Handshake,
        wsc_result::Protocol,
        wsc_result::InvalidPayload,
        wsc_result::MessageTooBig,
        wsc_result::Timeout,
        wsc_result::ConnectionLost,
        wsc_result::Proxy,
        wsc_result::Forked,
    ];

    /// The English sentence for this result, as `wsc_result_str` returns
    /// it: static and NUL-terminated.
    pub fn message(self) -> &'static CStr {
        match self {
            wsc_result::Ok => c"success",
            wsc_result::NullArgument => c"a required pointer argument was NULL",
            wsc_result::InvalidHandle => {
                c"the handle is not live (never created, already freed, or of another kind)"
            }
            wsc_result::InvalidArgument => c"an argument is out of range or malformed",
            wsc_result::InvalidUrl => {
                c"the URL is invalid (it must be ws:// or wss:// with a host and no fragment)"
            }
            wsc_result::InvalidHeader => {
                c"the header is invalid (empty or non-token name, CR/LF/NUL in the value, or set by the handshake itself)"
            }
            wsc_result::InvalidUtf8 => c"the text is not valid UTF-8",
            wsc_result::NotConnected => {
                c"the client is closing or closed: the message was not delivered"
            }
            wsc_result::BufferFull => c"the send buffer is full: the message was not accepted",
            wsc_result::ContextClosed => c"the context was freed",
            wsc_result::Panic => c"internal error (a panic was caught); please report it",
            wsc_result::Io => c"an operating-system call failed",
            wsc_result::Dns => c"DNS resolution failed",
            wsc_result::Connect => c"the TCP connection failed",
            wsc_result::Tls => c"the TLS handshake failed",
            wsc_result::Handshake => c"the server refused the opening handshake",
            wsc_result::Protocol => c"the server violated the WebSocket protocol (1002)",
            wsc_result::InvalidPayload => {
                c"invalid UTF-8 arrived in a text message or close reason (1007)"
            }
            wsc_result::MessageTooBig => c"an incoming message exceeded the size limit (1009)",
            wsc_result::Timeout => c"a timeout expired",
            wsc_result::ConnectionLost => {
                c"the connection broke without a closing handshake (1006)"
            }
            wsc_result::Proxy => c"the proxy refused the tunnel or the credentials",
            wsc_result::Forked => {
                c"the context was created before fork() in another process; create a new one"
            }
        }
    }
}

impl TryFrom<c_int> for wsc_result {
    type Error = c_int;

    /// The result with this number; the number itself when no result has it.
    fn try_from(code: c_int) -> std::result::Result<Self, c_int> {
        usize::try_from(code)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
            .ok_or(code)
    }
}

impl From<&Error> for wsc_result {
    fn from(e: &Error) -> Self {
        match e {
            Error::InvalidArgument(_) => wsc_result::InvalidArgument,
            Error::InvalidUrl(_) => wsc_result::InvalidUrl,
            Error::InvalidHeader(_) => wsc_result::InvalidHeader,
            Error::InvalidUtf8 => wsc_result::InvalidUtf8,
            Error::NotConnected => wsc_result::NotConnected,
            Error::BufferFull => wsc_result::BufferFull,
            Error::ContextClosed => wsc_result::ContextClosed,
            Error::Io(_) => wsc_result::Io,
            Error::Dns(_) => wsc_result::Dns,
            Error::Connect(_) => wsc_result::Connect,
            Error::Tls(_) => wsc_result::Tls,
            Error::Proxy(_) => wsc_result::Proxy,
            Error::Forked => wsc_result::Forked,
            Error::Handshake(_) => wsc_result::Handshake,
            Error::Protocol(_) => wsc_result::Protocol,
            Error::InvalidPayload(_) => wsc_result::InvalidPayload,
            Error::MessageTooBig(_) => wsc_result::MessageTooBig,
            Error::Timeout(_) => wsc_result::Timeout,
            Error::ConnectionLost(_) => wsc_result::ConnectionLost,
            Error::Panic(_) => wsc_result::Panic,
        }
    }
}

thread_local! {
    /// The text of `wsc_last_error`, per thread.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `e` as this thread's last error (`wsc_last_error`) and returns
/// its code.
pub(crate) fn record(e: &Error) -> wsc_result {
    let text = CString::new(e.to_string().replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|l| *l.borrow_mut() = text);
    e.into()
}

/// `OK`, or the recorded code of the error.
pub(crate) fn result(r: Result<()>) -> wsc_result {
    match r {
        Ok(()) => wsc_result::Ok,
        Err(e) => record(&e),
    }
}

/// A static, NUL-terminated English sentence for a result code (a
/// `wsc_result` value; unknown numbers give "unknown result code"); never
/// NULL, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_result_str(result: c_int) -> *const c_char {
    wsc_result::try_from(result)
        .map_or(c"unknown result code", wsc_result::message)
        .as_ptr()
}

/// The library version, a static NUL-terminated string such as "0.1.0";
/// never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A sentence saying why the last call that failed with an argument or
/// state error on this thread failed, e.g. `invalid header: the value of
/// header "Cookie" contains CR, LF or NUL`; "" when none did. The string is
/// owned by the library and valid until the next failing wsc call on the
/// same thread. Thread-safe (one per thread). Connection failures carry
/// their text in `WSC_EVENT_TYPE_ERROR` events instead.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_last_error() -> *const c_char {
    ffi_boundary!(c"".as_ptr(), { LAST_ERROR.with(|l| l.borrow().as_ptr()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_unknown_ones_are_refused() {
        for (i, r) in wsc_result::ALL.iter().enumerate() {
            assert_eq!(*r as c_int, i as c_int, "{r:?} is in ALL at its number");
            assert_eq!(wsc_result::try_from(i as c_int), Ok(*r));
        }
        assert_eq!(wsc_result::try_from(-1), Err(-1));
        assert_eq!(wsc_result::try_from(23), Err(23));
    }
}
