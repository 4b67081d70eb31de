//! The one error type of the crate, with the C result code and the RFC 6455
//! close code (§7.4.1) each variant maps to.

use std::fmt;

/// The typed reason of an error variant: a kind to match on, and the text
/// shown to people (what `Display` prints). Reads as the text (`Deref` to
/// `str`), so `reason.contains("...")` works as on the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason<K> {
    /// What went wrong, to match on.
    pub kind: K,
    text: String,
}

impl<K> Reason<K> {
    /// A reason of `kind` with its human-readable `text`.
    pub fn new(kind: K, text: impl Into<String>) -> Self {
        Reason {
            kind,
            text: text.into(),
        }
    }

    /// The human-readable text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl<K> std::ops::Deref for Reason<K> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl<K> fmt::Display for Reason<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Which timeout of a connection expired ([`Error::Timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// DNS, TCP, proxy and TLS did not complete within the connect timeout.
    Connect,
    /// No opening handshake response within the handshake timeout.
    Handshake,
    /// The server did not complete the closing handshake within the close
    /// timeout (RFC 6455 §7.1.1).
    Close,
    /// No pong within the pong timeout of a ping (RFC 6455 §5.5.3).
    Pong,
    /// No data message within the receive-idle timeout
    /// (`Client::set_idle_timeout`).
    Idle,
}

/// The server's answer to an opening handshake it refused (a status other
/// than 101, RFC 6455 §4.1 and §4.2.2 (6)), as far as wsc read it: the
/// status line and headers whole, the body as an excerpt. wsc reads the
/// body only for a short while after the head (see
/// [`HandshakeResponse::BODY_WAIT`]), honouring `Content-Length`, chunked
/// transfer coding or the end of the connection, and keeps at most
/// [`HandshakeResponse::BODY_EXCERPT`] bytes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeResponse {
    /// The status code, e.g. 403 (never 101).
    pub status: u16,
    /// The reason phrase of the status line as the server sent it (may be
    /// empty; HTTP/1.1 clients must not rely on it, RFC 9110 §15), e.g.
    /// `Forbidden`.
    pub reason: String,
    /// The headers in the order received, names as sent; values as UTF-8
    /// (bytes that are not UTF-8 replaced by U+FFFD).
    pub headers: Vec<(String, String)>,
    /// The raw response head exactly as received: status line, header
    /// lines and the empty line.
    pub head: tungstenite::Bytes,
    /// The first bytes of the body (at most [`Self::BODY_EXCERPT`]),
    /// chunked coding removed; empty when none came in time.
    pub body: tungstenite::Bytes,
    /// The whole body is in [`Self::body`]: its end (by `Content-Length`,
    /// the last chunk, or the end of the connection) was seen within the
    /// excerpt's size and the wait.
    pub body_complete: bool,
}

impl HandshakeResponse {
    /// The most bytes of a refused handshake's body kept: 4 KiB.
    pub const BODY_EXCERPT: usize = 4096;
    /// How long wsc waits, after the head of a refusal, for the body to
    /// arrive before it reports the refusal with what came: 300 ms.
    pub const BODY_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

    /// The value of a header, the name compared case-insensitively; the
    /// values of a header sent several times joined with ", " (RFC 9110
    /// §5.3). `None` when the server did not send it.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// The delay the server asks for in `Retry-After` (RFC 9110 §10.2.3:
    /// delay-seconds, or an HTTP date, taken relative to `now`; a date in
    /// the past is a delay of 0), whatever the status. `None` without the
    /// header or when its value is neither.
    pub fn retry_after(&self, now: std::time::SystemTime) -> Option<std::time::Duration> {
        crate::protocol::handshake::parse_retry_after(&self.header("retry-after")?, now)
    }
}

/// Why the server's opening handshake response was refused
/// ([`Error::Handshake`], RFC 6455 §4.1, RFC 7692 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeFault {
    /// The server answered with an HTTP status other than 101: its
    /// response (status, reason phrase, headers, the first bytes of the
    /// body). [`HandshakeFault::status`] gives the code alone.
    Status(Box<HandshakeResponse>),
    /// `Upgrade: websocket` or `Connection: Upgrade` is missing.
    Upgrade,
    /// `Sec-WebSocket-Accept` does not match our key.
    Accept,
    /// A subprotocol that was not offered was selected.
    Subprotocol,
    /// An extension that was not offered, or parameters that do not fit
    /// the permessage-deflate offer, were selected.
    Extension,
    /// The response is not a well-formed HTTP/1.1 response head.
    Malformed,
    /// The connection ended (or broke) before the response was complete.
    Closed,
}

impl HandshakeFault {
    /// The HTTP status of a [`HandshakeFault::Status`] refusal; `None` for
    /// the other faults.
    pub fn status(&self) -> Option<u16> {
        match self {
            HandshakeFault::Status(r) => Some(r.status),
            _ => None,
        }
    }

    /// The server's response of a [`HandshakeFault::Status`] refusal;
    /// `None` for the other faults.
    pub fn response(&self) -> Option<&HandshakeResponse> {
        match self {
            HandshakeFault::Status(r) => Some(r),
            _ => None,
        }
    }
}

/// Which part of TLS failed ([`Error::Tls`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsFault {
    /// The server's certificate chain did not verify (OpenSSL's verify
    /// result says why: expired, unknown issuer, name mismatch...).
    Verify,
    /// The certificate does not name the host (checked by wsc with chain
    /// verification off and name verification on).
    Name,
    /// The certificate does not match a pinned fingerprint.
    Fingerprint,
    /// The server ended the connection right after the handshake, as a
    /// server that requires a (different) client certificate does.
    ClientCertificate,
    /// The TLS configuration or connection could not be set up (bad
    /// settings, OpenSSL failure).
    Setup,
    /// Any other handshake failure (protocol, a plain-TCP server...).
    Handshake,
}

/// Why the proxy did not open the tunnel ([`Error::Proxy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyFault {
    /// The HTTP proxy answered CONNECT with this status (not 2xx).
    Status(u16),
    /// The SOCKS5 proxy answered the connect request with this reply code
    /// (RFC 1928 §6), e.g. 5 = connection refused.
    SocksReply(u8),
    /// The proxy requires authentication, or refused the credentials.
    Authentication,
    /// The proxy's answer breaks its protocol (not HTTP / SOCKS5, data
    /// after the answer, too long).
    Protocol,
    /// The connection to the proxy ended or broke during the tunnel setup.
    Closed,
}

/// Everything that can go wrong, from a bad argument to a server that breaks
/// the protocol. Each variant maps one to one onto a C result code
/// ([`crate::ffi::wsc_result`]); connection failures reach the caller inside
/// [`crate::EventKind::Error`] events, argument errors as the return value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An argument is out of range or malformed (the text says which).
    /// Fix the call.
    InvalidArgument(String),
    /// The URL does not parse, is not `ws://` or `wss://`, has no host or
    /// carries a fragment (RFC 6455 §3). Fix the URL.
    InvalidUrl(String),
    /// A header name is empty or not an HTTP token, a value holds CR, LF or
    /// NUL, or the header is one the opening handshake sets itself
    /// (RFC 6455 §4.1). Fix the header.
    InvalidHeader(String),
    /// A text message or close reason is not valid UTF-8 (RFC 6455 §5.6,
    /// §8.1). Send it as binary, or fix the text.
    InvalidUtf8,
    /// The client is closing or closed: the message was not accepted and
    /// will not be delivered. Reconnect first.
    NotConnected,
    /// The send buffer already holds `max_send_buffer_size` bytes or more:
    /// the message was not accepted. Wait for the buffer to drain.
    BufferFull,
    /// The context was freed; no operation is possible any more.
    ContextClosed,
    /// An operating-system call failed (creating the poller, a thread, a
    /// socket). The text carries the OS error.
    Io(String),
    /// The host name did not resolve (DNS). The text names the host.
    Dns(String),
    /// The TCP connection failed (refused, unreachable). The text names the
    /// address and the OS error.
    Connect(String),
    /// The TLS handshake failed (certificate verification, protocol). The
    /// kind says which check failed ([`TlsFault`]); the text is OpenSSL's
    /// reason.
    Tls(Reason<TlsFault>),
    /// The proxy refused the tunnel or broke its protocol (HTTP CONNECT
    /// status, SOCKS5 reply or authentication). The text is the proxy's
    /// reason, e.g. `HTTP 407 Proxy Authentication Required`; the kind
    /// ([`ProxyFault`]) carries the HTTP status or SOCKS5 reply.
    Proxy(Reason<ProxyFault>),
    /// The server refused the opening handshake: a status other than 101, a
    /// missing `Upgrade`/`Connection` header, a wrong `Sec-WebSocket-Accept`
    /// or an unrequested subprotocol (RFC 6455 §4.1). The text says which,
    /// e.g. `HTTP 403 Forbidden`; the kind ([`HandshakeFault`]) carries
    /// the HTTP status or names the header at fault.
    Handshake(Reason<HandshakeFault>),
    /// The server broke RFC 6455 after the handshake (reserved bits, bad
    /// opcode, masked frame, bad control frame...). Closed with 1002.
    Protocol(String),
    /// Invalid UTF-8 arrived in a text message or close reason (RFC 6455
    /// §8.1). Closed with 1007.
    InvalidPayload(String),
    /// An incoming message or frame is larger than the configured maximum.
    /// Closed with 1009.
    MessageTooBig(String),
    /// A connect, handshake, close or pong timeout expired; the kind
    /// ([`TimeoutKind`]) says which.
    Timeout(Reason<TimeoutKind>),
    /// The connection broke without a closing handshake (reset, EOF):
    /// close code 1006 semantics (RFC 6455 §7.1.5).
    ConnectionLost(String),
    /// The context was created in another process, before `fork()`: its
    /// threads do not exist in this one. Create a new context (and clients)
    /// in the child; the old handles can only be freed.
    Forked,
    /// A bug in wsc: a panic was caught at the C boundary.
    Panic(String),
}

impl Error {
    /// The close code (RFC 6455 §7.4.1) sent to the server when this error
    /// ends an open connection, or reported for it: 1002 protocol error,
    /// 1007 invalid payload, 1009 message too big, 1006 otherwise (no close
    /// frame is sent for 1006).
    pub fn close_code(&self) -> u16 {
        match self {
            Error::Protocol(_) => 1002,
            Error::InvalidPayload(_) => 1007,
            Error::MessageTooBig(_) => 1009,
            _ => 1006,
        }
    }
}

/// The most characters of a refusal's body shown in the error text (the
/// whole excerpt is in [`HandshakeResponse::body`]).
const BODY_IN_TEXT: usize = 256;

impl Error {
    /// The error of a refused opening handshake: its text names the
    /// status, the reason phrase, `Retry-After` when sent, and the start
    /// of the body on one line, e.g.
    /// `HTTP 403 Forbidden: {"code":-2015,"msg":"Invalid API-key"}`.
    pub(crate) fn refused(r: Box<HandshakeResponse>) -> Error {
        let mut text = format!("HTTP {} {}", r.status, r.reason.trim());
        if let Some(v) = r.header("retry-after") {
            text = format!("{} (Retry-After: {v})", text.trim_end());
        }
        let body = one_line(&r.body, BODY_IN_TEXT);
        if !body.is_empty() {
            text = format!("{}: {body}", text.trim_end());
        }
        Error::Handshake(Reason::new(HandshakeFault::Status(r), text.trim_end()))
    }
}

/// Bytes shown on one line: UTF-8 (others replaced), each run of white
/// space and control characters one space, at most `max` characters
/// (then `...`).
fn one_line(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut count = 0;
    let mut space = false;
    for c in text.trim().chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if count >= max {
            out.push_str("...");
            return out;
        }
        if space {
            out.push(' ');
            count += 1;
            space = false;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// The marker inside the I/O error with which the stream layer reports a
/// refused opening handshake (a status other than 101), read whole.
#[derive(Debug)]
pub(crate) struct Refusal(pub(crate) Box<HandshakeResponse>);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.0.status)
    }
}

impl std::error::Error for Refusal {}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(s) => write!(f, "invalid argument: {s}"),
            Error::InvalidUrl(s) => write!(f, "invalid URL: {s}"),
            Error::InvalidHeader(s) => write!(f, "invalid header: {s}"),
            Error::InvalidUtf8 => f.write_str("text is not valid UTF-8"),
            Error::NotConnected => f.write_str("not connected: the message was not delivered"),
            Error::BufferFull => f.write_str("send buffer full: the message was not accepted"),
            Error::ContextClosed => f.write_str("the context was freed"),
            Error::Io(s) => write!(f, "I/O error: {s}"),
            Error::Dns(s) => write!(f, "DNS resolution failed: {s}"),
            Error::Connect(s) => write!(f, "TCP connect failed: {s}"),
            Error::Tls(s) => write!(f, "TLS handshake failed: {s}"),
            Error::Proxy(s) => write!(f, "proxy failed: {s}"),
            Error::Handshake(s) => write!(f, "opening handshake refused: {s}"),
            Error::Protocol(s) => write!(f, "protocol error: {s}"),
            Error::InvalidPayload(s) => write!(f, "invalid payload: {s}"),
            Error::MessageTooBig(s) => write!(f, "message too big: {s}"),
            Error::Timeout(s) => write!(f, "timeout: {s}"),
            Error::ConnectionLost(s) => write!(f, "connection lost: {s}"),
            Error::Forked => f.write_str(
                "the context was created before fork() in another process; create a new one in this process",
            ),
            Error::Panic(s) => write!(f, "internal error (panic): {s}"),
        }
    }
}

impl std::error::Error for Error {}

/// The marker inside the I/O error with which the stream layer reports
/// invalid UTF-8 in a text message before tungstenite has the whole frame.
#[derive(Debug)]
pub(crate) struct Utf8Violation;

impl fmt::Display for Utf8Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8 in a text message")
    }
}

impl std::error::Error for Utf8Violation {}

/// The marker inside the I/O error with which the permessage-deflate
/// receive filter (RFC 7692) reports a compressed message it cannot accept.
#[derive(Debug)]
pub(crate) enum InflateViolation {
    /// The compressed data does not inflate (1007).
    Invalid(String),
    /// The compressed message exceeds what the size limit allows (1009).
    TooBig(String),
    /// The frames around a compressed message break RFC 6455 (1002).
    Protocol(String),
}

impl fmt::Display for InflateViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InflateViolation::Invalid(s)
            | InflateViolation::TooBig(s)
            | InflateViolation::Protocol(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for InflateViolation {}

/// OpenSSL's reasons that mean the server did not answer in TLS at all.
const NOT_TLS: [&str; 5] = [
    "wrong version number",
    "packet length too long",
    "record layer failure",
    "unknown protocol",
    "http request",
];

/// An OpenSSL error stack as a user reads it: the reasons, without
/// OpenSSL's source file, line and function (e.g. "certificate verify
/// failed"), and a plain-TCP server named as such.
pub(crate) fn describe_stack(e: &openssl::error::ErrorStack) -> String {
    let mut reasons: Vec<String> = Vec::new();
    for err in e.errors() {
        let r = match err.reason() {
            Some(r) => r.to_string(),
            None => format!("OpenSSL error {:#x}", err.code()),
        };
        let r = match err.data() {
            Some(d) if !d.is_empty() => format!("{r} ({d})"),
            _ => r,
        };
        if !reasons.contains(&r) {
            reasons.push(r);
        }
    }
    if reasons.is_empty() {
        return "unknown OpenSSL error".into();
    }
    let text = reasons.join(": ");
    if reasons
        .iter()
        .any(|r| NOT_TLS.iter().any(|n| r.starts_with(n)))
    {
        return format!(
            "the server did not answer in TLS ({text}): is it a plain-TCP (ws://) server?"
        );
    }
    text
}

/// An OpenSSL handshake or I/O error as a user reads it (see
/// [`describe_stack`]); an end of the connection during the handshake
/// says so.
pub(crate) fn describe_tls(e: &openssl::ssl::Error) -> String {
    use openssl::ssl::ErrorCode;
    if let Some(stack) = e.ssl_error()
        && !stack.errors().is_empty()
    {
        return describe_stack(stack);
    }
    if let Some(io) = e.io_error() {
        return io.to_string();
    }
    match e.code() {
        ErrorCode::SYSCALL | ErrorCode::ZERO_RETURN => {
            "the server closed the connection during the TLS handshake without a TLS answer: \
             is it a plain-TCP (ws://) server?"
                .into()
        }
        code => format!("OpenSSL error code {}", code.as_raw()),
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl From<tungstenite::Error> for Error {
    fn from(e: tungstenite::Error) -> Self {
        use tungstenite::Error as T;
        use tungstenite::error::{CapacityError, ProtocolError};
        match e {
            T::ConnectionClosed | T::AlreadyClosed => {
                Error::ConnectionLost("the connection is closed".into())
            }
            T::Io(io) if io.get_ref().is_some_and(|e| e.is::<Utf8Violation>()) => {
                Error::InvalidPayload("invalid UTF-8 in a text message".into())
            }
            T::Io(io) if io.get_ref().is_some_and(|e| e.is::<Refusal>()) => {
                match io.into_inner().map(|e| e.downcast::<Refusal>()) {
                    Some(Ok(r)) => Error::refused(r.0),
                    _ => Error::Handshake(Reason::new(HandshakeFault::Malformed, "refused")),
                }
            }
            T::Io(io) if io.get_ref().is_some_and(|e| e.is::<InflateViolation>()) => {
                match io.into_inner().map(|e| e.downcast::<InflateViolation>()) {
                    Some(Ok(v)) => match *v {
                        InflateViolation::Invalid(s) => Error::InvalidPayload(s),
                        InflateViolation::TooBig(s) => Error::MessageTooBig(s),
                        InflateViolation::Protocol(s) => Error::Protocol(s),
                    },
                    _ => Error::InvalidPayload("invalid compressed data".into()),
                }
            }
            T::Io(io) => match io
                .get_ref()
                .and_then(|e| e.downcast_ref::<openssl::ssl::Error>())
            {
                // OpenSSL's text carries its source file and line: keep
                // the reasons only.
                Some(ssl) => Error::ConnectionLost(describe_tls(ssl)),
                None => Error::ConnectionLost(io.to_string()),
            },
            T::Tls(t) => Error::Tls(Reason::new(TlsFault::Handshake, t.to_string())),
            T::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
                Error::MessageTooBig(format!("{size} bytes, the limit is {max_size} bytes"))
            }
            T::Capacity(c) => Error::Protocol(c.to_string()),
            T::Utf8(s) => Error::InvalidPayload(format!("invalid UTF-8 in a text message: {s}")),
            T::Protocol(
                p @ (ProtocolError::MissingConnectionUpgradeHeader
                | ProtocolError::MissingUpgradeWebSocketHeader),
            ) => Error::Handshake(Reason::new(HandshakeFault::Upgrade, p.to_string())),
            T::Protocol(p @ ProtocolError::SecWebSocketAcceptKeyMismatch) => {
                Error::Handshake(Reason::new(HandshakeFault::Accept, p.to_string()))
            }
            T::Protocol(p @ ProtocolError::SecWebSocketSubProtocolError(_)) => {
                Error::Handshake(Reason::new(HandshakeFault::Subprotocol, p.to_string()))
            }
            T::Protocol(
                p @ (ProtocolError::HttparseError(_)
                | ProtocolError::WrongHttpVersion
                | ProtocolError::InvalidHeader(_)),
            ) => Error::Handshake(Reason::new(HandshakeFault::Malformed, p.to_string())),
            T::Protocol(p @ ProtocolError::HandshakeIncomplete) => {
                Error::Handshake(Reason::new(HandshakeFault::Closed, p.to_string()))
            }
            T::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                Error::ConnectionLost("the server closed TCP without a close frame".into())
            }
            T::Protocol(p) => Error::Protocol(p.to_string()),
            T::WriteBufferFull(_) => Error::BufferFull,
            T::AttackAttempt => Error::Handshake(Reason::new(
                HandshakeFault::Malformed,
                "the response looks like an attack",
            )),
            T::Url(u) => Error::InvalidUrl(u.to_string()),
            // Not reached (the stream reports a refusal itself, with the
            // reason phrase and the body); kept for a head only tungstenite
            // could parse.
            T::Http(resp) => {
                let status = resp.status();
                let head = tungstenite::Bytes::new();
                let headers = resp
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                        (n.as_str().to_string(), v)
                    })
                    .collect();
                let body = resp.body().clone().unwrap_or_default();
                Error::refused(Box::new(HandshakeResponse {
                    status: status.as_u16(),
                    reason: status.canonical_reason().unwrap_or("").to_string(),
                    headers,
                    head,
                    body: body.into(),
                    body_complete: false,
                }))
            }
            T::HttpFormat(h) => {
                Error::Handshake(Reason::new(HandshakeFault::Malformed, h.to_string()))
            }
        }
    }
}
