//! A client's settings: the `wsc_client_set_*` functions (headers,
//! timeouts, pings, TLS, proxy, reconnect backoff, limits, compression)
//! and the C types they take (`wsc_compression_options`,
//! `wsc_tls_version`). Each takes effect at the next connect unless its
//! doc says otherwise.

use super::boundary::{c_str, opt_c_str, try_arg, with_client};
use super::client::wsc_client;
use super::result::{record, result, wsc_result};
use crate::engine::{DeflateOptions, TlsVersion};
use crate::error::Error;
use std::ffi::{c_char, c_int};

/// permessage-deflate parameters (RFC 7692) for
/// `wsc_client_set_compression`. A zero-initialized struct is the default
/// offer: context takeover both ways, window bits left to the server,
/// level 6.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wsc_compression_options {
    /// true: this client does not keep its compression context between
    /// messages (`client_no_context_takeover`, §7.1.1.2): worse ratio for
    /// similar messages, no compressor kept between messages (saves about
    /// 260 KiB per idle connection).
    pub client_no_context_takeover: bool,
    /// true: ask the server not to keep its context between messages
    /// (`server_no_context_takeover`, §7.1.1.1): no decompressor kept
    /// between messages (saves about 40 KiB per idle connection). A server
    /// that does not support it declines compression; one that accepts
    /// the offer without granting it fails the handshake
    /// (`WSC_RESULT_HANDSHAKE`, §7.1.1.1), as python-websockets' client does.
    pub server_no_context_takeover: bool,
    /// The largest window this client compresses with, as a base-2
    /// logarithm (window of 2^N bytes): 9..15, offered as
    /// `client_max_window_bits=N` (§7.1.2.2); 0 offers the parameter
    /// without a value (the server may choose; 15 when it does not).
    /// 8 is refused (zlib cannot write raw deflate with a 256-byte window);
    /// a server that answers 8 gets uncompressed stored blocks.
    pub client_max_window_bits: u8,
    /// Ask the server to compress with a window of at most 2^N bytes:
    /// 9..15 (`server_max_window_bits=N`, §7.1.2.1); 0 asks nothing. An
    /// answer without it, or with a larger value, fails the handshake.
    pub server_max_window_bits: u8,
    /// zlib level of this client's messages: 1 (fastest) .. 9 (smallest);
    /// 0 means the default, 6.
    pub level: u8,
}

/// Adds a request header to the opening handshake (RFC 6455 §4.1), e.g.
/// `Cookie`, `Origin`, `Authorization`, `Sec-WebSocket-Protocol` (the
/// subprotocols offered, comma-separated; the server's choice is checked).
/// Setting a name again (case-insensitive) replaces its value. Takes effect
/// at the next connect.
///
/// - `name`, `value`: NUL-terminated UTF-8, copied.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_HEADER` (empty or non-token name; CR, LF or NUL in the value;
/// `Upgrade`, `Connection`, `Sec-WebSocket-Key`, `Sec-WebSocket-Version` or
/// `Sec-WebSocket-Extensions`, which the handshake sets itself);
/// `CONTEXT_CLOSED`. `Host` may be set: it replaces the URL's authority in
/// the request (virtual hosting); the TCP connection still goes to the
/// URL's host.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_header(
    client: *mut wsc_client,
    name: *const c_char,
    value: *const c_char,
) -> wsc_result {
    with_client(client, |c| {
        let name = try_arg!(c_str(name));
        let value = try_arg!(c_str(value));
        result(c.set_header(name, value))
    })
}

/// Sends a ping (opcode 0x9, empty payload) every `interval_ms`
/// milliseconds while the connection is open (Workerman's
/// `websocketPingInterval`, there in seconds); 0 turns it off. Takes effect
/// at the next opening of the connection.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_ping_interval(
    client: *mut wsc_client,
    interval_ms: u32,
) -> wsc_result {
    with_client(client, |c| result(c.set_ping_interval(interval_ms)))
}

/// Sets the connect timeout (DNS, TCP and TLS together) and the opening
/// handshake timeout, in milliseconds; 0 leaves a value unchanged. Defaults
/// 10000 and 10000. Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_timeouts(
    client: *mut wsc_client,
    connect_timeout_ms: u32,
    handshake_timeout_ms: u32,
) -> wsc_result {
    with_client(client, |c| {
        result(c.set_timeouts(connect_timeout_ms, handshake_timeout_ms))
    })
}

/// TLS settings. `use_tls`: use TLS even for a `ws://` URL (Workerman's
/// `transport = 'ssl'`; a URL without a port then uses 443); `wss://`
/// always uses TLS. `verify`: check the server's certificate chain against
/// the system's roots and its host name (default true); false is UNSAFE:
/// anyone on the path can read and change the traffic. Takes effect at the
/// next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls(
    client: *mut wsc_client,
    use_tls: bool,
    verify: bool,
) -> wsc_result {
    with_client(client, |c| result(c.set_tls(use_tls, verify)))
}

/// Certificate verification, PHP's `verify_peer` and `verify_peer_name`:
/// `verify_peer` checks the chain against the trusted roots,
/// `verify_peer_name` that the certificate names the host (or
/// `wsc_client_set_tls_peer_name`). Both default to true; turning either
/// off is UNSAFE. Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_verify(
    client: *mut wsc_client,
    verify_peer: bool,
    verify_peer_name: bool,
) -> wsc_result {
    with_client(client, |c| {
        result(c.set_tls_verify(verify_peer, verify_peer_name))
    })
}

/// Trusts exactly the CA certificates in the PEM file `path` instead of the
/// system's roots (PHP's `cafile`; with `wsc_client_set_tls_ca_path`, the
/// roots of both); NULL returns to the system's roots. The file is read
/// during the call, and parsed once per process while it is unchanged.
///
/// - `path`: NUL-terminated, or NULL; copied.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_ARGUMENT` (unreadable, not PEM, no certificate; see
/// `wsc_last_error`); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_ca_file(
    client: *mut wsc_client,
    path: *const c_char,
) -> wsc_result {
    with_client(client, |c| {
        let path = try_arg!(opt_c_str(path));
        result(c.set_tls_ca_file(path))
    })
}

/// Accept a self-signed server certificate while still checking its name
/// (PHP's `allow_self_signed`): chain verification forgives only a
/// certificate that is self-signed (`X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT`);
/// any other fault still fails. Default false. UNSAFE unless the
/// certificate is trusted by other means. Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_allow_self_signed(
    client: *mut wsc_client,
    allow: bool,
) -> wsc_result {
    with_client(client, |c| result(c.set_tls_allow_self_signed(allow)))
}

/// The name sent as SNI and checked against the server's certificate
/// (PHP's `peer_name`); NULL = the URL's host.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_ARGUMENT` (empty or with spaces); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_peer_name(
    client: *mut wsc_client,
    name: *const c_char,
) -> wsc_result {
    with_client(client, |c| {
        let name = try_arg!(opt_c_str(name));
        result(c.set_tls_peer_name(name))
    })
}

/// Trusts the CA certificates of the folder `path` instead of the system's
/// roots (PHP's `capath`): files named by subject hash (`HASH.0`, as
/// `openssl rehash` makes them), read when a chain is verified. With
/// `wsc_client_set_tls_ca_file`, the roots of both. NULL = no folder.
/// Takes effect at the next connect.
///
/// - `path`: NUL-terminated, or NULL; copied.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_ARGUMENT` (not a readable folder; see `wsc_last_error`);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_ca_path(
    client: *mut wsc_client,
    path: *const c_char,
) -> wsc_result {
    with_client(client, |c| {
        let path = try_arg!(opt_c_str(path));
        result(c.set_tls_ca_path(path))
    })
}

/// The OpenSSL cipher list for TLS 1.2 and older (PHP's `ciphers`; the
/// syntax of `openssl ciphers`, e.g. `ECDHE-ECDSA-AES128-GCM-SHA256`); NULL
/// = the default list. TLS 1.3 cipher suites are not affected. Takes
/// effect at the next connect.
///
/// - `ciphers`: NUL-terminated, or NULL; copied.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_ARGUMENT` (OpenSSL matches no cipher; see `wsc_last_error`);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_ciphers(
    client: *mut wsc_client,
    ciphers: *const c_char,
) -> wsc_result {
    with_client(client, |c| {
        let ciphers = try_arg!(opt_c_str(ciphers));
        result(c.set_tls_ciphers(ciphers))
    })
}

/// OpenSSL's security level (PHP's `security_level`): 0 to 5, the
/// smallest key sizes and oldest protocols allowed (2, Debian's default,
/// refuses keys under 112 bits of security and TLS below 1.2); -1 =
/// OpenSSL's configured default. Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (below -1 or above 5); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_security_level(
    client: *mut wsc_client,
    level: c_int,
) -> wsc_result {
    with_client(client, |c| {
        let level = match level {
            -1 => None,
            0..=5 => Some(level as u8),
            _ => {
                return record(&Error::InvalidArgument(format!(
                    "the TLS security level is -1 or 0 to 5, not {level}"
                )));
            }
        };
        result(c.set_tls_security_level(level))
    })
}

/// Sends the server name (peer name or the URL's host) as SNI (RFC 6066
/// §3) in the TLS handshake (PHP's `SNI_enabled`; default true). Never
/// sent for an IP address. Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_sni(client: *mut wsc_client, enabled: bool) -> wsc_result {
    with_client(client, |c| result(c.set_tls_sni(enabled)))
}

/// A TLS protocol version, for `wsc_client_set_tls_versions`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wsc_tls_version {
    /// No bound at this end: OpenSSL's configuration (TLS 1.2 to 1.3 on
    /// Debian).
    Default = 0,
    /// TLS 1.0 (needs security level 0 with OpenSSL 3).
    Tls10 = 10,
    /// TLS 1.1 (needs security level 0 with OpenSSL 3).
    Tls11 = 11,
    /// TLS 1.2.
    Tls12 = 12,
    /// TLS 1.3.
    Tls13 = 13,
}

fn tls_version_of(v: u32) -> Option<Option<TlsVersion>> {
    use TlsVersion as V;
    Some(match v {
        0 => None,
        10 => Some(V::Tls1_0),
        11 => Some(V::Tls1_1),
        12 => Some(V::Tls1_2),
        13 => Some(V::Tls1_3),
        _ => return None,
    })
}

/// The TLS versions that may be used, `min` to `max` (PHP's
/// `crypto_method`; each a `wsc_tls_version`, `WSC_TLS_VERSION_DEFAULT`
/// for no bound at that end). Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (a value that is not a `wsc_tls_version`, or `min` above `max`);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_versions(
    client: *mut wsc_client,
    min: u32,
    max: u32,
) -> wsc_result {
    with_client(client, |c| {
        let (Some(lo), Some(hi)) = (tls_version_of(min), tls_version_of(max)) else {
            return record(&Error::InvalidArgument(format!(
                "{min} or {max} is not a wsc_tls_version (0, 10, 11, 12, 13)"
            )));
        };
        result(c.set_tls_versions(lo, hi))
    })
}

/// Pins the server certificate (PHP's `peer_fingerprint`): after the
/// handshake the digest of the server's certificate (DER) by `algorithm`
/// must equal `fingerprint`, or the attempt fails with `WSC_RESULT_TLS`.
/// Each call adds a pin; all must match. Checked in addition to chain and
/// name verification. Takes effect at the next connect.
///
/// - `algorithm`: an OpenSSL digest name (`sha256`, `sha1`, `md5`, ...),
///   or NULL for PHP's string form: md5 for 32 hex digits, sha1 for 40.
/// - `fingerprint`: hex digits, either case, `:` between bytes allowed.
///   Both NUL-terminated, copied.
///
/// Results: `OK`; `NULL_ARGUMENT` (client, fingerprint); `INVALID_HANDLE`;
/// `INVALID_UTF8`; `INVALID_ARGUMENT` (unknown algorithm, wrong length,
/// not hex; see `wsc_last_error`); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_add_tls_peer_fingerprint(
    client: *mut wsc_client,
    algorithm: *const c_char,
    fingerprint: *const c_char,
) -> wsc_result {
    with_client(client, |c| {
        let algorithm = try_arg!(opt_c_str(algorithm));
        let fingerprint = try_arg!(c_str(fingerprint));
        result(c.add_tls_peer_fingerprint(algorithm, fingerprint))
    })
}

/// Removes every pin of `wsc_client_add_tls_peer_fingerprint`.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_clear_tls_peer_fingerprints(client: *mut wsc_client) -> wsc_result {
    with_client(client, |c| result(c.clear_tls_peer_fingerprints()))
}

/// TLS session resumption (RFC 8446 §2.2; default on): a connection offers
/// a session of an earlier one with the same TLS settings, host, port and
/// name on the same context, so that a reconnect skips the full handshake;
/// off, every connect is a full handshake and no session is kept. Takes
/// effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_session_resumption(
    client: *mut wsc_client,
    enabled: bool,
) -> wsc_result {
    with_client(client, |c| result(c.set_tls_session_resumption(enabled)))
}

/// A client certificate for servers that require one (PHP's `local_cert`,
/// `local_pk`, `passphrase`). Files are read during the call.
///
/// - `cert_path`: PEM file with the certificate and its chain (and the
///   private key when `key_path` is NULL).
/// - `key_path`: PEM private key, or NULL.
/// - `passphrase`: for an encrypted key, or NULL.
///
/// Results: `OK`; `NULL_ARGUMENT` (`cert_path`); `INVALID_HANDLE`;
/// `INVALID_UTF8`; `INVALID_ARGUMENT` (unreadable file, wrong passphrase,
/// key and certificate do not match; see `wsc_last_error`);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tls_client_cert(
    client: *mut wsc_client,
    cert_path: *const c_char,
    key_path: *const c_char,
    passphrase: *const c_char,
) -> wsc_result {
    with_client(client, |c| {
        let cert = try_arg!(c_str(cert_path));
        let key = try_arg!(opt_c_str(key_path));
        let pass = try_arg!(opt_c_str(passphrase));
        result(c.set_tls_client_cert(cert, key, pass))
    })
}

/// Connect through a proxy from the next connect on.
///
/// - `url`: NUL-terminated, `http://[user:pass@]host:port` (HTTP CONNECT;
///   user and password, percent-encoded, go as Basic `Proxy-Authorization`)
///   or `socks5://[user:pass@]host:port` (SOCKS5 with user/password
///   authentication, RFC 1928/1929; the target's name is resolved by the
///   proxy); NULL = connect directly. Copied.
/// - `authorization`: HTTP only, a whole `Proxy-Authorization` header value
///   (e.g. `Basic dXNlcjpwYXNz`) used instead of the URL's credentials; NULL
///   = none. Copied.
///
/// A refused tunnel or bad credentials end the attempt with an `ERROR`
/// event `WSC_RESULT_PROXY` whose text is the proxy's reason.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_UTF8`;
/// `INVALID_ARGUMENT` (not such a URL, or CR/LF in `authorization`; see
/// `wsc_last_error`); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_proxy(
    client: *mut wsc_client,
    url: *const c_char,
    authorization: *const c_char,
) -> wsc_result {
    with_client(client, |c| {
        let url = try_arg!(opt_c_str(url));
        let auth = try_arg!(opt_c_str(authorization));
        result(c.set_proxy(url, auth))
    })
}

/// Automatic reconnects with exponential backoff (off by default, as in
/// Workerman, where the caller reconnects in onClose): after a connection
/// ends or an attempt fails, unless the caller closed or aborted it, wsc
/// connects again after `first_ms` milliseconds, doubled for each attempt
/// in a row, up to `longest_ms`, less a random part of up to half
/// (jitter). The count starts over only after a connection stayed open
/// (`wsc_client_set_reconnect_reset_after`, default 10 s). Refusals that
/// will not succeed are not retried (`wsc_client_set_reconnect_status`,
/// `wsc_client_set_reconnect_tls_verify`), a 429 or 503 waits at least its
/// `Retry-After` (`wsc_client_set_reconnect_retry_after_max`), the attempts
/// can be limited (`wsc_client_set_reconnect_max_attempts`). Each decision
/// comes as a `WSC_EVENT_TYPE_RECONNECT` event (the delay and why) before
/// the `CLOSED` event of the end; the status is then `CONNECTING` (or
/// `CLOSED` when not reconnecting). `first_ms` 0 turns it off.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (`longest_ms < first_ms`); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_reconnect_backoff(
    client: *mut wsc_client,
    first_ms: u32,
    longest_ms: u32,
) -> wsc_result {
    with_client(client, |c| {
        result(c.set_reconnect_backoff(first_ms, longest_ms))
    })
}

/// Dead-peer detection: after each ping this client sends, wait at most
/// `timeout_ms` milliseconds for a pong; when none comes, the connection
/// is closed without a closing handshake and reported as an `ERROR`
/// (`WSC_RESULT_TIMEOUT`) then `CLOSED` (1006). Any frame received after
/// the ping (a message, a ping, a pong) counts as the sign of life, so a
/// server that streams data is not dropped for a late pong. 0 turns the
/// check off. Default 10000. Pair it with `wsc_client_set_ping_interval`.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_pong_timeout(
    client: *mut wsc_client,
    timeout_ms: u32,
) -> wsc_result {
    with_client(client, |c| result(c.set_pong_timeout(timeout_ms)))
}

/// Time in milliseconds allowed for the closing handshake (RFC 6455 §7.1)
/// before TCP is closed anyway; default 5000.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (0); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_close_timeout(
    client: *mut wsc_client,
    timeout_ms: u32,
) -> wsc_result {
    with_client(client, |c| result(c.set_close_timeout(timeout_ms)))
}

/// Sets the size limits in bytes; 0 leaves a value unchanged.
/// `max_message_size`: the largest incoming message (fragments joined);
/// larger ones close the connection with 1009 (default 10 MiB).
/// `max_send_buffer_size`: `wsc_client_send` refuses a message with
/// `BUFFER_FULL` while this many bytes or more wait to be written (default
/// 1 MiB).
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_limits(
    client: *mut wsc_client,
    max_message_size: usize,
    max_send_buffer_size: usize,
) -> wsc_result {
    with_client(client, |c| {
        result(c.set_limits(max_message_size, max_send_buffer_size))
    })
}

/// Turns permessage-deflate compression (RFC 7692) on or off for the next
/// connection attempts (an open connection keeps what it negotiated).
/// Off by default (Workerman's behaviour). On: the opening handshake
/// offers `permessage-deflate` with `options`; if the server accepts,
/// messages are sent compressed and compressed messages from the server
/// are inflated (the message size limit of `wsc_client_set_limits` applies
/// to the inflated size: a bigger one closes with 1009); if it declines,
/// the connection works uncompressed. An answer that does not fit the
/// offer fails the handshake (`WSC_RESULT_HANDSHAKE`). The answer in force:
/// `wsc_client_extensions`.
///
/// Memory per open connection: up to ~300 KiB with context takeover both
/// ways; with `client_no_context_takeover` and `server_no_context_takeover`
/// the (de)compressor exists only while a message is processed.
///
/// - `options`: read during the call (the caller keeps ownership); NULL
///   turns compression off.
///
/// Results: `OK`; `NULL_ARGUMENT` (client); `INVALID_HANDLE`;
/// `INVALID_ARGUMENT` (window bits not 0 or 9..15, level above 9);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_compression(
    client: *mut wsc_client,
    options: *const wsc_compression_options,
) -> wsc_result {
    with_client(client, |c| {
        let opts = if options.is_null() {
            None
        } else {
            // SAFETY: non-NULL, and the caller passes a readable
            // `wsc_compression_options` (documented); read by value.
            let o = unsafe { options.read() };
            Some(DeflateOptions {
                client_no_context_takeover: o.client_no_context_takeover,
                server_no_context_takeover: o.server_no_context_takeover,
                client_max_window_bits: (o.client_max_window_bits != 0)
                    .then_some(o.client_max_window_bits),
                server_max_window_bits: (o.server_max_window_bits != 0)
                    .then_some(o.server_max_window_bits),
                level: o.level,
            })
        };
        result(c.set_compression(opts))
    })
}

/// `TCP_NODELAY` on the client's sockets: true (the default, as Workerman
/// sets it) sends each frame at once; false lets Nagle's algorithm hold
/// small writes back until earlier ones are acknowledged (fewer packets,
/// up to one round trip of delay). Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tcp_nodelay(client: *mut wsc_client, enabled: bool) -> wsc_result {
    with_client(client, |c| result(c.set_tcp_nodelay(enabled)))
}

/// TCP keepalive on the client's sockets (tcp(7): `SO_KEEPALIVE`,
/// `TCP_KEEPIDLE`, `TCP_KEEPINTVL`, `TCP_KEEPCNT`): after `idle_s` seconds
/// without traffic the kernel probes every `interval_s` seconds; after
/// `count` unanswered probes it resets the connection, which ends as lost
/// (`CLOSED` 1006). `idle_s` 0 turns keepalive off (the other two are then
/// ignored). Default on with Workerman 5's values: 55, 55, 1 (a silent
/// dead peer is found after about 110 s, also with no ping interval set).
/// Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (`idle_s` or `interval_s` above 32767, `interval_s` 0, `count` not 1 to
/// 127); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_tcp_keepalive(
    client: *mut wsc_client,
    idle_s: u32,
    interval_s: u32,
    count: u32,
) -> wsc_result {
    with_client(client, |c| {
        result(c.set_tcp_keepalive(idle_s, interval_s, count))
    })
}

/// The local address the client's sockets are bound to before they
/// connect (PHP's `socket` context option `bindto`): `IP:PORT`,
/// `[IPv6]:PORT` or an IP alone; port 0 lets the kernel pick a port, a
/// fixed port is bound with `SO_REUSEADDR` so that reconnects can reuse
/// it (while the last connection to the same server address is in
/// TIME_WAIT on this side, up to 60 s after this side closed TCP first,
/// e.g. by `wsc_client_abort`, the kernel may refuse the pair: that
/// attempt fails saying so). Only the target's addresses of the same family are tried. An
/// address that cannot be bound (not of this machine, port in use), or a
/// target without an address of that family, ends the attempt with an
/// `ERROR` event `WSC_RESULT_CONNECT` naming it. With a proxy, the socket
/// to the proxy is bound. NULL (the default): the kernel picks. Takes
/// effect at the next connect.
///
/// - `address`: NUL-terminated, or NULL; copied.
///
/// Results: `OK`; `NULL_ARGUMENT` (client); `INVALID_HANDLE`;
/// `INVALID_UTF8`; `INVALID_ARGUMENT` (none of those forms; a host name is
/// refused); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_bind_address(
    client: *mut wsc_client,
    address: *const c_char,
) -> wsc_result {
    with_client(client, |c| {
        let address = try_arg!(opt_c_str(address));
        result(c.set_bind_address(address))
    })
}

/// Connects TCP to `addresses` instead of the URL's host and port (curl's
/// `--connect-to`, a wsc addition): the URL's host stays in the `Host`
/// header, in SNI and in the certificate name check. `HOST[:PORT]` (a host
/// name, resolved at each connect, or an IP address; IPv6 in brackets when
/// a port follows), or several `IP[:PORT]` separated by commas, raced as a
/// resolver's answer is (Happy Eyeballs, RFC 8305); an entry without a
/// port uses the URL's port. With a proxy, the proxy is asked to tunnel to
/// the first entry. NULL (the default): the URL's host. Takes effect at
/// the next connect.
///
/// - `addresses`: NUL-terminated, or NULL; copied.
///
/// Results: `OK`; `NULL_ARGUMENT` (client); `INVALID_HANDLE`;
/// `INVALID_UTF8`; `INVALID_ARGUMENT` (an empty entry, a port outside 1 to
/// 65535, a host name among several entries; see `wsc_last_error`);
/// `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_connect_to(
    client: *mut wsc_client,
    addresses: *const c_char,
) -> wsc_result {
    with_client(client, |c| {
        let addresses = try_arg!(opt_c_str(addresses));
        result(c.set_connect_to(addresses))
    })
}

/// With the reconnect backoff on (`wsc_client_set_reconnect_backoff`): the
/// backoff, and the count of `wsc_client_set_reconnect_max_attempts`,
/// start over only after a connection stayed open at least `ms`
/// milliseconds, so that a server that accepts then drops at once is not
/// hammered. 0: after every open. Default 10000.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_reconnect_reset_after(
    client: *mut wsc_client,
    ms: u32,
) -> wsc_result {
    with_client(client, |c| result(c.set_reconnect_reset_after(ms)))
}

/// With the reconnect backoff on: the most automatic reconnect attempts in
/// a row (the first connect not counted; the count starts over after a
/// connection that stayed open, see `wsc_client_set_reconnect_reset_after`,
/// and at `wsc_client_connect`). When they are used up, a
/// `WSC_EVENT_TYPE_RECONNECT` event with
/// `WSC_RECONNECT_REASON_ATTEMPTS_EXHAUSTED` comes and the client stays
/// closed. 0: no limit (the default).
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_reconnect_max_attempts(
    client: *mut wsc_client,
    attempts: u32,
) -> wsc_result {
    with_client(client, |c| result(c.set_reconnect_max_attempts(attempts)))
}

/// With the reconnect backoff on: the longest `Retry-After` honoured, in
/// milliseconds. A handshake refused with 429 or 503 and a `Retry-After`
/// (delay-seconds or an HTTP date, RFC 9110 §10.2.3) waits at least that
/// long, at most `ms`, before the next attempt, even beyond the backoff's
/// longest delay (`WSC_RECONNECT_REASON_RETRY_AFTER`). 0: `Retry-After` is
/// ignored. Default 600000 (10 minutes).
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_reconnect_retry_after_max(
    client: *mut wsc_client,
    ms: u32,
) -> wsc_result {
    with_client(client, |c| result(c.set_reconnect_retry_after_max(ms)))
}

/// With the reconnect backoff on: whether a handshake refused with the HTTP
/// `status` is retried (`retry` true) or fatal (no reconnect; a
/// `WSC_EVENT_TYPE_RECONNECT` event with `WSC_RECONNECT_REASON_FATAL` says
/// so). By default 400, 401, 403 and 404 are fatal and every other status
/// is retried. Call once per status; the last call for a status wins.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (`status` not 100..599, or 101); `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_reconnect_status(
    client: *mut wsc_client,
    status: u16,
    retry: bool,
) -> wsc_result {
    with_client(client, |c| result(c.set_reconnect_status(status, retry)))
}

/// Forgets every `wsc_client_set_reconnect_status` of this client: 400,
/// 401, 403 and 404 fatal again, every other status retried.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_clear_reconnect_statuses(client: *mut wsc_client) -> wsc_result {
    with_client(client, |c| result(c.clear_reconnect_statuses()))
}

/// With the reconnect backoff on: whether a TLS certificate failure (the
/// chain does not verify, the name does not match, a pinned fingerprint
/// differs) is retried. Default false: fatal. Bad settings (a URL or
/// header the handshake refuses, TLS files that cannot be used) are always
/// fatal.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_reconnect_tls_verify(
    client: *mut wsc_client,
    retry: bool,
) -> wsc_result {
    with_client(client, |c| result(c.set_reconnect_tls_verify(retry)))
}

/// An application-level heartbeat, for servers that require a message of
/// their own besides ping frames (e.g. the text `ping` or
/// `{"op":"ping"}`): while the connection is open, `data` is sent as a
/// `message_type` message every `interval_ms` milliseconds, the first one
/// `interval_ms` after the opening handshake. 0 turns it off (the
/// default). Takes effect at the next connect. A heartbeat is an ordinary
/// message: compressed under the same rules, counted in
/// `wsc_client_metrics`, and, if the connection breaks before it is
/// written, reported as `WSC_EVENT_TYPE_UNDELIVERED`; one that finds the
/// send buffer full is skipped.
///
/// - `message_type`: `WSC_MESSAGE_TYPE_TEXT` (valid UTF-8 required) or
///   `WSC_MESSAGE_TYPE_BINARY`.
/// - `data`, `data_len`: the payload, copied; NULL only with length 0.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `INVALID_ARGUMENT`
/// (another message type); `INVALID_UTF8`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_heartbeat(
    client: *mut wsc_client,
    interval_ms: u32,
    message_type: u32,
    data: *const u8,
    data_len: usize,
) -> wsc_result {
    with_client(client, |c| {
        let data = try_arg!(super::boundary::bytes(data, data_len));
        let Some(t) = super::event::wsc_message_type::from_c(message_type) else {
            return wsc_result::InvalidArgument;
        };
        result(c.set_heartbeat(interval_ms, t, data))
    })
}

/// The receive-idle timeout: when no data message (text or binary) has
/// arrived for `timeout_ms` milliseconds while the connection is open, the
/// connection is failed as a dead peer: `WSC_EVENT_TYPE_ERROR`
/// (`WSC_RESULT_TIMEOUT`, "no message from the server within N ms") then
/// `WSC_EVENT_TYPE_CLOSED` with 1006, and the automatic reconnect
/// (`wsc_client_set_reconnect_backoff`) applies. Pings and pongs do not
/// count (a feed can go quiet while pings still work). The clock starts at
/// the opening handshake; while reading is paused it does not fail. 0
/// turns it off (the default). Takes effect at the next connect.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_idle_timeout(
    client: *mut wsc_client,
    timeout_ms: u32,
) -> wsc_result {
    with_client(client, |c| result(c.set_idle_timeout(timeout_ms)))
}

/// With permessage-deflate in force (`wsc_client_set_compression`),
/// messages whose payload is shorter than `min_bytes` are sent
/// uncompressed (RFC 7692 §6: compression is chosen per message);
/// `wsc_client_send_with` overrides it per message. 0 compresses every
/// message. Default 256: below that, deflate saves a few bytes at
/// several microseconds of CPU per message on each side. Takes effect at once, also on an open connection.
///
/// Results: `OK`; `NULL_ARGUMENT`; `INVALID_HANDLE`; `CONTEXT_CLOSED`.
#[unsafe(no_mangle)]
pub extern "C" fn wsc_client_set_compression_threshold(
    client: *mut wsc_client,
    min_bytes: usize,
) -> wsc_result {
    with_client(client, |c| result(c.set_compression_threshold(min_bytes)))
}
