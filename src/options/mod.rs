//! Per-client settings, with their defaults and units, and the checks and
//! parsing of each setting (target URL, proxy, TLS, compression). This
//! module is a leaf of the crate: it imports nothing from the engine.

mod compression;
mod proxy;
mod socket;
mod target;
mod tls;

pub use compression::{Compress, DEFAULT_COMPRESSION_THRESHOLD, DeflateOptions};
pub(crate) use proxy::{Proxy, ProxyKind};
pub(crate) use socket::{Endpoint, Keepalive, parse_bind_address, parse_connect_to};
pub(crate) use target::Target;
pub use tls::TlsVersion;
pub(crate) use tls::{CaCerts, Fingerprint, Identity, TlsSettings, check_ciphers, load_identity};

use std::time::Duration;

/// Settings of one client. Set before `connect`; a reconnect uses them as
/// they are then.
#[derive(Clone)]
pub(crate) struct ClientOptions {
    /// Extra request headers of the opening handshake, in order, name and
    /// value (RFC 6455 §4.1, e.g. `Cookie`, `Origin`,
    /// `Sec-WebSocket-Protocol`). Default: none.
    pub(crate) headers: Vec<(String, String)>,
    /// Send a ping (opcode 0x9, empty payload) this often while the
    /// connection is open; `None` = off. Default: off.
    pub(crate) ping_interval: Option<Duration>,
    /// Time allowed for DNS, TCP connect and TLS together. Default 10 s.
    pub(crate) connect_timeout: Duration,
    /// Time allowed for the opening handshake after TCP/TLS. Default 10 s.
    pub(crate) handshake_timeout: Duration,
    /// Time allowed for the closing handshake (our close frame until the
    /// server closes TCP) before TCP is closed anyway. Default 5 s.
    pub(crate) close_timeout: Duration,
    /// After a ping we send, time allowed for a pong (or any other frame:
    /// every frame received is a sign of life) before the peer is taken as
    /// dead: the connection is closed (1006) and an error reported.
    /// `None` = no check. Default 10 s.
    pub(crate) pong_timeout: Option<Duration>,
    /// Use TLS (OpenSSL) even for a `ws://` URL, as
    /// Workerman's `transport = 'ssl'` does; a URL without a port then uses
    /// 443. `wss://` always uses TLS. Default: false.
    pub(crate) tls: bool,
    /// The TLS settings that shape the shared OpenSSL configuration
    /// (PHP's `verify_peer`, `allow_self_signed`, `cafile`, `capath`,
    /// `local_cert`, `local_pk`, `ciphers`, `security_level`,
    /// `crypto_method`). Connections with equal settings share one.
    pub(crate) tls_settings: TlsSettings,
    /// Verify that the certificate names the host (PHP's
    /// `verify_peer_name`). Turning it off is unsafe. Default: true.
    pub(crate) tls_verify_peer_name: bool,
    /// The name used for SNI and the certificate name check (PHP's
    /// `peer_name`). Default: the URL's host.
    pub(crate) tls_peer_name: Option<String>,
    /// Send the name as SNI (PHP's `SNI_enabled`). Default: true.
    pub(crate) tls_sni: bool,
    /// Certificate fingerprints the server's certificate must all match
    /// (PHP's `peer_fingerprint`). Default: none.
    pub(crate) tls_fingerprints: Vec<Fingerprint>,
    /// Resume the last TLS session with the same host, port, name and
    /// settings, and keep this connection's session. Default: true.
    pub(crate) tls_resume: bool,
    /// Reconnect by itself after a connection ends or an attempt fails
    /// (not after the caller's close or abort): (first delay, longest
    /// delay). The delay doubles for each attempt in a row that does not
    /// open, up to the longest, with jitter (a random part of up to half);
    /// it starts over after a connection stayed open
    /// `reconnect_reset_after`. `None` = never (Workerman's
    /// behaviour: the caller reconnects in onClose). Default: `None`.
    pub(crate) reconnect_backoff: Option<(Duration, Duration)>,
    /// Connect through this proxy (HTTP CONNECT or SOCKS5). Default: none.
    /// Boxed, as the other rarely set options: every client carries its
    /// options, and an idle connection's size counts (issue 16).
    pub(crate) proxy: Option<Box<Proxy>>,
    /// Largest incoming message in bytes (the payload, fragments joined);
    /// larger ones close the connection with 1009. Default 10 MiB
    /// (Workerman's `maxPackageSize`).
    pub(crate) max_message_size: usize,
    /// Send buffer limit in bytes: `send` refuses a message while this many
    /// bytes or more wait to be written (queued before the handshake, or
    /// not yet accepted by the socket). Default 1 MiB (Workerman's
    /// `maxSendBufferSize`).
    pub(crate) max_send_buffer_size: usize,
    /// Offer permessage-deflate (RFC 7692) with these parameters; `None`
    /// = no compression (Workerman's behaviour; a compressing connection
    /// costs up to ~300 KiB with context takeover). Default: `None`.
    pub(crate) compression: Option<DeflateOptions>,
    /// `TCP_NODELAY` on the socket (Nagle's algorithm off: each frame
    /// leaves at once). Default: true (Workerman sets it too).
    pub(crate) tcp_nodelay: bool,
    /// TCP keepalive probes on the socket; `None` = off. Default:
    /// Workerman 5's 55 s idle, 55 s interval, 1 probe.
    pub(crate) tcp_keepalive: Option<Keepalive>,
    /// The local address the socket is bound to before it connects (PHP's
    /// `socket` context option `bindto`); port 0 lets the kernel pick one.
    /// Only the target's addresses of the same family are tried. Default:
    /// none (the kernel picks address and port).
    pub(crate) bind_address: Option<std::net::SocketAddr>,
    /// Where TCP goes instead of the URL's host and port (curl's
    /// `--connect-to`): the URL's host stays in `Host`, SNI and the
    /// certificate name check. Empty = the URL's host. With a proxy, the
    /// tunnel is asked for the first entry.
    pub(crate) connect_to: Vec<Endpoint>,
    /// With the reconnect backoff on: the backoff starts over only after a
    /// connection stayed open at least this long (a server that accepts
    /// then drops at once is not hammered). Default 10 s.
    pub(crate) reconnect_reset_after: Duration,
    /// The most automatic reconnect attempts in a row (without a
    /// connection that stayed open `reconnect_reset_after`); 0 = no limit.
    /// Default 0.
    pub(crate) reconnect_max_attempts: u32,
    /// The longest `Retry-After` honoured (RFC 9110 §10.2.3, on 429 and
    /// 503); zero = the header is ignored. Default 10 min.
    pub(crate) reconnect_retry_after_max: Duration,
    /// HTTP statuses of a refused handshake whose default (retried, or
    /// fatal for [`FATAL_STATUSES`]) the caller changed: (status, retried),
    /// the last setting of a status wins.
    pub(crate) reconnect_statuses: Vec<(u16, bool)>,
    /// Reconnect after a TLS certificate failure (chain verification, name,
    /// pinned fingerprint). Default: false (fatal).
    pub(crate) reconnect_tls_verify: bool,
    /// An application-level heartbeat: this message is sent every
    /// `interval` while the connection is open (the first one `interval`
    /// after the opening handshake), e.g. the text `ping` or
    /// `{"op":"ping"}` that some servers require besides ping frames.
    /// `None` = off. Default: off. Boxed (see `proxy`).
    pub(crate) heartbeat: Option<Box<Heartbeat>>,
    /// Receive-idle timeout: when no data message (text or binary) has
    /// arrived for this long while open, the connection is failed as a
    /// dead peer (an `Error::Timeout` of kind `Idle`, then `Closed` 1006),
    /// and the automatic reconnect, when set, applies. `None` = off.
    /// Default: off.
    pub(crate) idle_timeout: Option<Duration>,
    /// With permessage-deflate in force: messages whose payload is shorter
    /// than this many bytes are sent uncompressed (RFC 7692 §6: compression
    /// is chosen per message), unless a send asks otherwise. Default
    /// [`DEFAULT_COMPRESSION_THRESHOLD`].
    pub(crate) compression_threshold: usize,
}

/// An application-level heartbeat ([`ClientOptions::heartbeat`]).
#[derive(Clone)]
pub(crate) struct Heartbeat {
    /// Time between two heartbeats; above 0.
    pub(crate) interval: Duration,
    /// Text (checked as UTF-8 when it was set) or binary.
    pub(crate) message_type: crate::event::MessageType,
    /// The message's payload.
    pub(crate) data: tungstenite::Bytes,
}

/// The statuses of a refused opening handshake not retried by default:
/// they will not succeed by themselves (bad request, authentication,
/// forbidden, no such resource).
pub(crate) const FATAL_STATUSES: [u16; 4] = [400, 401, 403, 404];

impl ClientOptions {
    /// Whether an automatic reconnect follows a handshake refused with
    /// `status`.
    pub(crate) fn reconnect_status(&self, status: u16) -> bool {
        match self
            .reconnect_statuses
            .iter()
            .rev()
            .find(|(s, _)| *s == status)
        {
            Some((_, retry)) => *retry,
            None => !FATAL_STATUSES.contains(&status),
        }
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            headers: Vec::new(),
            ping_interval: None,
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            pong_timeout: Some(Duration::from_secs(10)),
            tls: false,
            tls_settings: TlsSettings::default(),
            tls_verify_peer_name: true,
            tls_peer_name: None,
            tls_sni: true,
            tls_fingerprints: Vec::new(),
            tls_resume: true,
            proxy: None,
            reconnect_backoff: None,
            max_message_size: 10 << 20,
            max_send_buffer_size: 1 << 20,
            compression: None,
            tcp_nodelay: true,
            tcp_keepalive: Some(Keepalive::WORKERMAN),
            bind_address: None,
            connect_to: Vec::new(),
            reconnect_reset_after: Duration::from_secs(10),
            reconnect_max_attempts: 0,
            reconnect_retry_after_max: Duration::from_secs(600),
            reconnect_statuses: Vec::new(),
            reconnect_tls_verify: false,
            heartbeat: None,
            idle_timeout: None,
            compression_threshold: DEFAULT_COMPRESSION_THRESHOLD,
        }
    }
}
