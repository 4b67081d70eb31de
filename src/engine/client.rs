//! The public [`Client`] handle: settings, connect, send, close; each call
//! takes the context lock and acts on the client's connection.

use super::conn::{Conn, Env};
use super::shared::Shared;
use crate::error::{Error, Result};
use crate::event::{MessageType, SendStatus, Status};
use crate::options::{DeflateOptions, Fingerprint, Proxy, TlsVersion};
use std::sync::Arc;
use std::time::Duration;

/// A client: one WebSocket connection to one URL, reconnectable, owned by
/// a [`crate::Context`]. Thread-safe. Dropping it closes its connection at once.
pub struct Client {
    pub(super) shared: Arc<Shared>,
    pub(super) id: u64,
}

impl Client {
    /// The id found in [`crate::Event::client_id`]: unique in the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    fn with<R>(&self, f: impl FnOnce(&mut Conn, &mut Env) -> Result<R>) -> Result<R> {
        self.shared.check_open()?;
        let mut g = self.shared.lock();
        g.with_conn(self.id, f).unwrap_or(Err(Error::ContextClosed))
    }

    /// Adds (or replaces, case-insensitively) a request header of the
    /// opening handshake (RFC 6455 §4.1). Takes effect at the next connect.
    ///
    /// Errors: [`Error::InvalidHeader`] (empty or non-token name; CR, LF or
    /// NUL in the value; a header the handshake sets itself).
    pub fn set_header(&self, name: &str, value: &str) -> Result<()> {
        crate::protocol::handshake::check_header(name, value)?;
        self.with(|c, _| {
            c.opts
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            c.opts.headers.push((name.to_string(), value.to_string()));
            Ok(())
        })
    }

    /// Sends a ping every `interval_ms` milliseconds while open; 0 = off.
    pub fn set_ping_interval(&self, interval_ms: u32) -> Result<()> {
        self.with(|c, _| {
            c.opts.ping_interval =
                (interval_ms > 0).then(|| Duration::from_millis(interval_ms.into()));
            Ok(())
        })
    }

    /// Sets the connect and handshake timeouts in milliseconds; 0 leaves a
    /// value unchanged.
    pub fn set_timeouts(&self, connect_ms: u32, handshake_ms: u32) -> Result<()> {
        self.with(|c, _| {
            if connect_ms > 0 {
                c.opts.connect_timeout = Duration::from_millis(connect_ms.into());
            }
            if handshake_ms > 0 {
                c.opts.handshake_timeout = Duration::from_millis(handshake_ms.into());
            }
            Ok(())
        })
    }

    /// TLS for a `ws://` URL too (`use_tls`), and certificate verification
    /// of chain and name (`verify`, default true; false is unsafe).
    pub fn set_tls(&self, use_tls: bool, verify: bool) -> Result<()> {
        self.with(|c, _| {
            c.opts.tls = use_tls;
            c.opts.tls_settings.verify_peer = verify;
            c.opts.tls_verify_peer_name = verify;
            Ok(())
        })
    }

    /// Verification of the certificate chain (`verify_peer`) and of the
    /// name in it (`verify_peer_name`) separately (PHP's options of those
    /// names). Turning either off is unsafe.
    pub fn set_tls_verify(&self, verify_peer: bool, verify_peer_name: bool) -> Result<()> {
        self.with(|c, _| {
            c.opts.tls_settings.verify_peer = verify_peer;
            c.opts.tls_verify_peer_name = verify_peer_name;
            Ok(())
        })
    }

    /// Trusts exactly the CA certificates of the PEM file `path` instead of
    /// the system's roots (PHP's `cafile`; with [`Client::set_tls_ca_path`],
    /// the roots of both); `None` returns to the system's roots. The file
    /// is read now; the process keeps what it parsed while the file is
    /// unchanged (same size, change time and inode), so giving the same
    /// file to many clients parses it once.
    ///
    /// Errors: [`Error::InvalidArgument`] (unreadable, or no certificate).
    pub fn set_tls_ca_file(&self, path: Option<&str>) -> Result<()> {
        let certs = match path {
            None => None,
            Some(p) => Some(crate::options::CaCerts::load(p)?),
        };
        self.with(|c, _| {
            c.opts.tls_settings.ca = certs;
            Ok(())
        })
    }

    /// Trusts the CA certificates of the folder `path` instead of the
    /// system's roots (PHP's `capath`): certificates named by their subject
    /// hash, `HASH.0` (as `openssl rehash` or `c_rehash` make them), looked
    /// up when a chain is verified. With [`Client::set_tls_ca_file`], the
    /// roots of both. `None` = no folder.
    ///
    /// Errors: [`Error::InvalidArgument`] when `path` is not a readable
    /// folder.
    pub fn set_tls_ca_path(&self, path: Option<&str>) -> Result<()> {
        if let Some(p) = path {
            std::fs::read_dir(p).map_err(|e| {
                Error::InvalidArgument(format!("the CA folder {p:?} cannot be read: {e}"))
            })?;
        }
        self.with(|c, _| {
            c.opts.tls_settings.ca_path = path.map(str::to_string);
            Ok(())
        })
    }

    /// Accept a self-signed server certificate while still checking its
    /// name (PHP's `allow_self_signed`): chain verification forgives only
    /// `X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT`. Unsafe unless the
    /// certificate is pinned by other means.
    pub fn set_tls_allow_self_signed(&self, allow: bool) -> Result<()> {
        self.with(|c, _| {
            c.opts.tls_settings.allow_self_signed = allow;
            Ok(())
        })
    }

    /// The name for SNI and the certificate name check (PHP's `peer_name`);
    /// `None` = the URL's host.
    pub fn set_tls_peer_name(&self, name: Option<&str>) -> Result<()> {
        if name.is_some_and(|n| n.is_empty() || n.bytes().any(|b| b <= b' ')) {
            return Err(Error::InvalidArgument(format!(
                "{name:?} is not a host name"
            )));
        }
        self.with(|c, _| {
            c.opts.tls_peer_name = name.map(str::to_string);
            Ok(())
        })
    }

    /// Sends the server name (the peer name, or the URL's host) as SNI
    /// (RFC 6066 §3) in the TLS handshake (PHP's `SNI_enabled`; default
    /// true). Never sent for an IP address. Off, a server hosting several
    /// names may present another certificate.
    pub fn set_tls_sni(&self, enabled: bool) -> Result<()> {
        self.with(|c, _| {
            c.opts.tls_sni = enabled;
            Ok(())
        })
    }

    /// Pins the server certificate (PHP's `peer_fingerprint`): after the
    /// handshake, the digest of the server certificate (its DER) by
    /// `algorithm` must equal `fingerprint` (hex, either case, `:`
    /// between bytes allowed), or the connection fails. `algorithm` an
    /// OpenSSL digest name (`sha256`, `sha1`, `md5`, ...); `None` = PHP's
    /// string form: md5 for 32 hex digits, sha1 for 40. Each call adds a
    /// pin; all must match (PHP's array form). Checked in addition to chain
    /// and name verification, as PHP does.
    ///
    /// Errors: [`Error::InvalidArgument`] for an unknown algorithm or a
    /// fingerprint of the wrong length or not in hex.
    pub fn add_tls_peer_fingerprint(
        &self,
        algorithm: Option<&str>,
        fingerprint: &str,
    ) -> Result<()> {
        let pin = Fingerprint::parse(algorithm, fingerprint)?;
        self.with(|c, _| {
            c.opts.tls_fingerprints.push(pin);
            Ok(())
        })
    }

    /// Removes every pin of [`Client::add_tls_peer_fingerprint`].
    pub fn clear_tls_peer_fingerprints(&self) -> Result<()> {
        self.with(|c, _| {
            c.opts.tls_fingerprints.clear();
            Ok(())
        })
    }

    /// The OpenSSL cipher list for TLS 1.2 and older (PHP's `ciphers`, e.g.
    /// `ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256`; see
    /// `openssl ciphers`); `None` = the library's default list. TLS 1.3
    /// cipher suites are not affected (as in PHP).
    ///
    /// Errors: [`Error::InvalidArgument`] when OpenSSL matches no cipher.
    pub fn set_tls_ciphers(&self, ciphers: Option<&str>) -> Result<()> {
        if let Some(list) = ciphers {
            crate::options::check_ciphers(list)?;
        }
        self.with(|c, _| {
            c.opts.tls_settings.ciphers = ciphers.map(str::to_string);
            Ok(())
        })
    }

    /// OpenSSL's security level 0..=5 (PHP's `security_level`): the
    /// smallest key sizes and the protocol versions allowed (level 2, the
    /// usual default, refuses keys under 112 bits of security and TLS
    /// below 1.2); `None` = OpenSSL's configured default.
    ///
    /// Errors: [`Error::InvalidArgument`] above 5.
    pub fn set_tls_security_level(&self, level: Option<u8>) -> Result<()> {
        if let Some(l) = level.filter(|l| *l > 5) {
            return Err(Error::InvalidArgument(format!(
                "the TLS security level is 0 to 5, not {l}"
            )));
        }
        self.with(|c, _| {
            c.opts.tls_settings.security_level = level;
            Ok(())
        })
    }

    /// The TLS versions that may be used, `min` to `max` (PHP's
    /// `crypto_method`); `None` leaves that end to OpenSSL's configuration
    /// (TLS 1.2 to 1.3 on Debian). TLS 1.0 and 1.1 also need security
    /// level 0 with OpenSSL 3.
    ///
    /// Errors: [`Error::InvalidArgument`] when `min` is above `max`.
    pub fn set_tls_versions(&self, min: Option<TlsVersion>, max: Option<TlsVersion>) -> Result<()> {
        if let (Some(a), Some(b)) = (min, max)
            && a > b
        {
            return Err(Error::InvalidArgument(format!(
                "the lowest TLS version ({a:?}) is above the highest ({b:?})"
            )));
        }
        self.with(|c, _| {
            c.opts.tls_settings.min_version = min;
            c.opts.tls_settings.max_version = max;
            Ok(())
        })
    }

    /// TLS session resumption (RFC 8446 §2.2, RFC 5077; default on): a
    /// connection offers the session of the last one with the same TLS
    /// settings, host, port and name, so that a reconnect skips the full
    /// handshake (its certificate checks were done by the connection that
    /// made the session), and keeps its own for the next. Off, every
    /// connect is a full handshake and no session is kept (servers can
    /// then not link this client's connections by their session).
    pub fn set_tls_session_resumption(&self, enabled: bool) -> Result<()> {
        self.with(|c, _| {
            c.opts.tls_resume = enabled;
            Ok(())
        })
    }

    /// Whether the last TLS handshake of this client resumed an earlier
    /// session (RFC 8446 §2.2, RFC 5077) instead of a full handshake:
    /// connections with the same TLS settings to the same host, port and
    /// name resume the session of the last one, when the server agrees.
    /// False before the first TLS handshake and for `ws://`.
    pub fn tls_session_resumed(&self) -> Result<bool> {
        self.with(|c, _| Ok(c.tls_resumed))
    }

    /// A client certificate to present (PHP's `local_cert`, `local_pk`,
    /// `passphrase`): `cert_path` a PEM file with the certificate (and its
    /// chain, and the key when `key_path` is `None`); `key_path` a PEM
    /// private key, encrypted when `passphrase` is given. Read now.
    ///
    /// Errors: [`Error::InvalidArgument`] naming the file and the reason.
    pub fn set_tls_client_cert(
        &self,
        cert_path: &str,
        key_path: Option<&str>,
        passphrase: Option<&str>,
    ) -> Result<()> {
        let id = crate::options::Identity::new(crate::options::load_identity(
            cert_path, key_path, passphrase,
        )?)?;
        self.with(|c, _| {
            c.opts.tls_settings.identity = Some(id);
            Ok(())
        })
    }

    /// After each ping, wait at most `timeout_ms` milliseconds for a pong
    /// before the connection is closed (1006) with a timeout error; any
    /// frame received after the ping (message, ping, pong) counts as the
    /// sign of life. 0 turns the check off. Default 10000.
    pub fn set_pong_timeout(&self, timeout_ms: u32) -> Result<()> {
        self.with(|c, _| {
            c.opts.pong_timeout =
                (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms.into()));
            Ok(())
        })
    }

    /// Time in milliseconds allowed for the closing handshake before TCP is
    /// closed anyway (default 5000).
    ///
    /// Errors: [`Error::InvalidArgument`] for 0.
    pub fn set_close_timeout(&self, timeout_ms: u32) -> Result<()> {
        if timeout_ms == 0 {
            return Err(Error::InvalidArgument(
                "the close timeout must be above 0 ms".into(),
            ));
        }
        self.with(|c, _| {
            c.opts.close_timeout = Duration::from_millis(timeout_ms.into());
            Ok(())
        })
    }

    /// Sets the incoming message limit and the send buffer limit, in bytes;
    /// 0 leaves a value unchanged.
    pub fn set_limits(&self, max_message_size: usize, max_send_buffer_size: usize) -> Result<()> {
        self.with(|c, _| {
            if max_message_size > 0 {
                c.opts.max_message_size = max_message_size;
            }
            if max_send_buffer_size > 0 {
                c.opts.max_send_buffer_size = max_send_buffer_size;
            }
            Ok(())
        })
    }

    /// Offers permessage-deflate (RFC 7692) in the next opening handshakes
    /// with these parameters, or stops offering it (`None`, the default:
    /// Workerman's behaviour). With compression on, messages are sent
    /// compressed and compressed messages from the server are inflated;
    /// the message size limit applies to the inflated size. Memory: with
    /// context takeover up to ~300 KiB per open connection (compressor and
    /// decompressor kept between messages); with both
    /// `client_no_context_takeover` and `server_no_context_takeover` they
    /// exist only while a message is processed.
    ///
    /// Errors: [`Error::InvalidArgument`] for window bits outside 9..=15
    /// or a level above 9.
    pub fn set_compression(&self, options: Option<DeflateOptions>) -> Result<()> {
        if let Some(o) = &options {
            o.check().map_err(Error::InvalidArgument)?;
        }
        self.with(|c, _| {
            c.opts.compression = options;
            Ok(())
        })
    }

    /// The server's `Sec-WebSocket-Extensions` answer in force on the last
    /// connection that opened, e.g. `permessage-deflate;
    /// client_max_window_bits=15`; `None` before the first open and when it
    /// opened without compression.
    pub fn extensions(&self) -> Result<Option<String>> {
        self.with(|c, _| Ok(c.extensions.clone()))
    }

    /// Starts connecting; ignored when already connecting or open.
    pub fn connect(&self) -> Result<()> {
        self.with(|c, env| {
            c.connect(env);
            Ok(())
        })
    }

    /// Sends a message: written at once when open, queued before the
    /// handshake. [`SendStatus::Written`], [`SendStatus::Queued`], or
    /// [`SendStatus::QueuedBufferFull`] when the queued bytes reached the
    /// send buffer limit with this message; [`SendStatus::Corked`] when
    /// the calling thread is dispatching a batch of events (it took an
    /// event from [`crate::Context::poll_event`] and more are queued): the
    /// message leaves with the batch's other sends when the batch ends.
    ///
    /// Errors: [`Error::InvalidUtf8`], [`Error::NotConnected`] (not
    /// delivered), [`Error::BufferFull`] (not accepted).
    pub fn send(&self, message_type: MessageType, data: &[u8]) -> Result<SendStatus> {
        self.send_with(message_type, data, crate::Compress::Auto)
    }

    /// Sends a ping with `data` (at most 125 bytes) on an open connection.
    pub fn ping(&self, data: &[u8]) -> Result<()> {
        self.with(|c, env| c.ping(env, data))
    }

    /// Starts the closing handshake with `code` and `reason` (RFC 6455
    /// §7.1.2); before the connection is open, ends the attempt at once.
    pub fn close(&self, code: u16, reason: &str) -> Result<()> {
        self.with(|c, env| c.close(env, code, reason))
    }

    /// Connects again after `delay`, closing an open connection first.
    pub fn reconnect(&self, delay: Duration) -> Result<()> {
        self.with(|c, env| {
            c.reconnect(env, delay);
            Ok(())
        })
    }

    /// Stops reading from the socket until [`Client::resume_recv`]
    /// (Workerman's `pauseRecv`); the server feels it through TCP flow
    /// control. Applies to the current connection attempt.
    pub fn pause_recv(&self) -> Result<()> {
        self.with(|c, env| {
            c.pause_recv(env);
            Ok(())
        })
    }

    /// Reads again after [`Client::pause_recv`] (Workerman's `resumeRecv`).
    pub fn resume_recv(&self) -> Result<()> {
        self.with(|c, env| {
            c.resume_recv(env);
            Ok(())
        })
    }

    /// Closes at once, without a closing handshake (Workerman's
    /// `destroy`): `Closed` (1006) follows, with `Undelivered` for what was
    /// not written.
    pub fn abort(&self) -> Result<()> {
        self.with(|c, env| {
            c.abort(env);
            Ok(())
        })
    }

    /// Cancels a pending reconnect (Workerman's `cancelReconnect`).
    pub fn cancel_reconnect(&self) -> Result<()> {
        self.with(|c, env| {
            c.cancel_reconnect(env);
            Ok(())
        })
    }

    /// Bytes read and written over all connections of this client,
    /// handshakes included, as (read, written) (Workerman's `bytesRead`,
    /// `bytesWritten`).
    pub fn bytes(&self) -> Result<(u64, u64)> {
        self.with(|c, _| Ok(c.bytes()))
    }

    /// Bytes accepted by `send` and not yet written to the socket (queued
    /// before the handshake, or waiting for the socket).
    pub fn send_buffer_size(&self) -> Result<usize> {
        self.with(|c, _| Ok(c.send_buffer_size()))
    }

    /// The server's and our address of the last TCP connection (to the
    /// proxy, when one is used), kept after it closed; `None` before the
    /// first TCP connection.
    pub fn addresses(
        &self,
    ) -> Result<(Option<std::net::SocketAddr>, Option<std::net::SocketAddr>)> {
        self.with(|c, _| Ok((c.peer_addr, c.local_addr)))
    }

    /// Reconnects by itself after a connection ends or an attempt fails
    /// (not after [`Client::close`] or [`Client::abort`]): after `first_ms`
    /// milliseconds, doubled for each attempt in a row, up to `longest_ms`,
    /// less a random part of up to half (jitter, so that many clients do
    /// not reconnect in step); the count starts over after a connection
    /// that stayed open ([`Client::set_reconnect_reset_after`]). Each
    /// decision comes as an [`crate::EventKind::Reconnect`] event; refusals
    /// that will not succeed are not retried
    /// ([`Client::set_reconnect_status`]), a 429 or 503 waits at least its
    /// `Retry-After`, and the attempts can be limited
    /// ([`Client::set_reconnect_max_attempts`]). `first_ms == 0` turns it
    /// off (the default: Workerman's behaviour, where the caller reconnects).
    ///
    /// Errors: [`Error::InvalidArgument`] when `longest_ms < first_ms`.
    pub fn set_reconnect_backoff(&self, first_ms: u32, longest_ms: u32) -> Result<()> {
        if first_ms > 0 && longest_ms < first_ms {
            return Err(Error::InvalidArgument(format!(
                "the longest reconnect delay ({longest_ms} ms) is below the first ({first_ms} ms)"
            )));
        }
        self.with(|c, _| {
            c.opts.reconnect_backoff = (first_ms > 0).then(|| {
                (
                    Duration::from_millis(first_ms.into()),
                    Duration::from_millis(longest_ms.into()),
                )
            });
            Ok(())
        })
    }

    /// With the reconnect backoff on: the backoff (and the attempt count
    /// of [`Client::set_reconnect_max_attempts`]) starts over only after a
    /// connection stayed open at least `ms` milliseconds, so that a server
    /// that accepts then drops at once is not hammered. 0: after every
    /// open. Default 10,000.
    pub fn set_reconnect_reset_after(&self, ms: u32) -> Result<()> {
        self.with(|c, _| {
            c.opts.reconnect_reset_after = Duration::from_millis(ms.into());
            Ok(())
        })
    }

    /// With the reconnect backoff on: the most automatic reconnect attempts
    /// in a row (the first connect not counted; the count starts over
    /// after a connection that stayed open, see
    /// [`Client::set_reconnect_reset_after`], and at [`Client::connect`]).
    /// When they are used up, an [`crate::EventKind::Reconnect`] event
    /// with [`crate::ReconnectReason::AttemptsExhausted`] comes and the
    /// client stays closed. 0: no limit (the default).
    pub fn set_reconnect_max_attempts(&self, attempts: u32) -> Result<()> {
        self.with(|c, _| {
            c.opts.reconnect_max_attempts = attempts;
            Ok(())
        })
    }

    /// With the reconnect backoff on: the longest `Retry-After` honoured,
    /// in milliseconds. A handshake refused with 429 or 503 and a
    /// `Retry-After` (delay-seconds or an HTTP date, RFC 9110 §10.2.3)
    /// waits at least that long, at most `ms`, before the next attempt,
    /// even beyond the backoff's longest delay. 0: `Retry-After` is
    /// ignored. Default 600,000 (10 minutes).
    pub fn set_reconnect_retry_after_max(&self, ms: u32) -> Result<()> {
        self.with(|c, _| {
            c.opts.reconnect_retry_after_max = Duration::from_millis(ms.into());
            Ok(())
        })
    }

    /// With the reconnect backoff on: whether a handshake refused with the
    /// HTTP `status` is retried (`retry`) or fatal (no reconnect; an
    /// [`crate::EventKind::Reconnect`] event with
    /// [`crate::ReconnectReason::Fatal`] says so). By default 400, 401,
    /// 403 and 404 are fatal and every other status is retried. The last
    /// setting of a status wins.
    ///
    /// Errors: [`Error::InvalidArgument`] when `status` is not 100..=599 or
    /// is 101 (an open connection).
    pub fn set_reconnect_status(&self, status: u16, retry: bool) -> Result<()> {
        if !(100..=599).contains(&status) || status == 101 {
            return Err(Error::InvalidArgument(format!(
                "{status} is not an HTTP status that refuses a handshake (100..599, not 101)"
            )));
        }
        self.with(|c, _| {
            c.opts.reconnect_statuses.retain(|(s, _)| *s != status);
            c.opts.reconnect_statuses.push((status, retry));
            Ok(())
        })
    }

    /// Forgets every [`Client::set_reconnect_status`]: 400, 401, 403 and
    /// 404 fatal again, every other status retried.
    pub fn clear_reconnect_statuses(&self) -> Result<()> {
        self.with(|c, _| {
            c.opts.reconnect_statuses.clear();
            Ok(())
        })
    }

    /// With the reconnect backoff on: whether a TLS certificate failure
    /// (the chain does not verify, the name does not match, a pinned
    /// fingerprint differs) is retried. Default false: fatal. Bad settings
    /// (a bad URL or header, TLS files that cannot be used) are always
    /// fatal.
    pub fn set_reconnect_tls_verify(&self, retry: bool) -> Result<()> {
        self.with(|c, _| {
            c.opts.reconnect_tls_verify = retry;
            Ok(())
        })
    }

    /// Connect through a proxy from the next connect on: `url` is
    /// `http://[user:pass@]host:port` (HTTP CONNECT; user and password go
    /// as Basic `Proxy-Authorization`) or `socks5://[user:pass@]host:port`
    /// (SOCKS5, the target's name resolved by the proxy); `None` = direct.
    /// `authorization` (HTTP only): a whole `Proxy-Authorization` value,
    /// used instead of the URL's user and password.
    ///
    /// Errors: [`Error::InvalidArgument`] naming what is wrong in the URL.
    pub fn set_proxy(&self, url: Option<&str>, authorization: Option<&str>) -> Result<()> {
        let proxy = url
            .map(|u| Proxy::parse(u, authorization).map(Box::new))
            .transpose()?;
        self.with(|c, _| {
            c.opts.proxy = proxy;
            Ok(())
        })
    }

    /// The connection state.
    pub fn status(&self) -> Result<Status> {
        self.with(|c, _| Ok(c.status()))
    }

    /// `TCP_NODELAY` on the client's sockets (default true, as Workerman
    /// sets it): each frame leaves at once instead of waiting, by Nagle's
    /// algorithm, for the acknowledgement of earlier small writes. Off
    /// saves packets when many small messages are sent in a row, at up to
    /// one round trip of delay. Takes effect at the next connect.
    pub fn set_tcp_nodelay(&self, enabled: bool) -> Result<()> {
        self.with(|c, _| {
            c.opts.tcp_nodelay = enabled;
            Ok(())
        })
    }

    /// TCP keepalive probes on the client's sockets (`SO_KEEPALIVE`,
    /// `TCP_KEEPIDLE`, `TCP_KEEPINTVL`, `TCP_KEEPCNT`; tcp(7)): after
    /// `idle_s` seconds without traffic the kernel sends a probe every
    /// `interval_s` seconds, and after `count` unanswered probes it resets
    /// the connection, which then ends as lost (1006). `idle_s == 0` turns
    /// keepalive off. Default on with Workerman 5's values: 55 s, 55 s, 1
    /// probe (a silent dead peer is found after about 110 s; unlike ping
    /// frames this needs no answer from the server's application). Takes
    /// effect at the next connect.
    ///
    /// Errors: [`Error::InvalidArgument`] when `idle_s` or `interval_s` is
    /// above 32767 or `interval_s` is 0, or `count` is not 1..=127 (with
    /// `idle_s > 0`).
    pub fn set_tcp_keepalive(&self, idle_s: u32, interval_s: u32, count: u32) -> Result<()> {
        let keepalive = match idle_s {
            0 => None,
            _ => Some(crate::options::Keepalive::new(idle_s, interval_s, count)?),
        };
        self.with(|c, _| {
            c.opts.tcp_keepalive = keepalive;
            Ok(())
        })
    }

    /// The local address the client's sockets are bound to before they
    /// connect (PHP's `socket` context option `bindto`, e.g. the one
    /// address of the machine that a server has on its allow-list):
    /// `IP:PORT`, `[IPv6]:PORT`, or an IP alone; port 0 lets the kernel
    /// pick a free port, a fixed port is bound with `SO_REUSEADDR` so that
    /// reconnects can reuse it (while the last connection to the same
    /// server address is in TIME_WAIT on this side, up to 60 s after this
    /// side closed TCP first, e.g. by [`Client::abort`], the kernel may
    /// refuse the pair: that attempt fails with an error saying so). Only the target's addresses of the same
    /// family are tried; none of them fails the attempt with
    /// [`Error::Connect`], as does an address that cannot be bound (not of
    /// this machine, port in use). `None` (the default): the kernel picks.
    /// With a proxy, the socket to the proxy is bound. Takes effect at the
    /// next connect.
    ///
    /// Errors: [`Error::InvalidArgument`] when `address` is none of those
    /// forms (a host name is refused: no resolution).
    pub fn set_bind_address(&self, address: Option<&str>) -> Result<()> {
        let local = address
            .map(crate::options::parse_bind_address)
            .transpose()?;
        self.with(|c, _| {
            c.opts.bind_address = local;
            Ok(())
        })
    }

    /// Connects TCP to these addresses instead of the URL's host and port
    /// (curl's `--connect-to`), while the URL's host stays in the `Host`
    /// header, in SNI and in the certificate name check: reaching one
    /// server of a cluster, or a host whose name does not resolve from
    /// here. `addresses`: `HOST[:PORT]` (a name, resolved at each connect,
    /// or an IP; IPv6 in brackets when a port follows), or several
    /// `IP[:PORT]` separated by commas, raced as a resolver's answer is
    /// (Happy Eyeballs); an entry without a port uses the URL's port.
    /// With a proxy, the proxy is asked to tunnel to the first entry.
    /// `None` (the default): the URL's host. Takes effect at the next
    /// connect.
    ///
    /// Errors: [`Error::InvalidArgument`] naming what is wrong (an empty
    /// entry, a port outside 1..=65535, a host name among several
    /// entries).
    pub fn set_connect_to(&self, addresses: Option<&str>) -> Result<()> {
        let list = match addresses {
            None => Vec::new(),
            Some(a) => crate::options::parse_connect_to(a)?,
        };
        self.with(|c, _| {
            c.opts.connect_to = list;
            Ok(())
        })
    }

    /// An application-level heartbeat: while the connection is open, sends
    /// `data` as a `message_type` message every `interval_ms` milliseconds,
    /// the first one `interval_ms` after the opening handshake (e.g. the
    /// text `ping` or `{"op":"ping"}` that servers requiring a heartbeat
    /// expect besides ping frames). `interval_ms == 0` turns it off (the
    /// default). Takes effect at the next connect. A heartbeat is an
    /// ordinary message: compressed under the same rules, counted in
    /// [`Client::metrics`], reported `Undelivered` if the connection
    /// breaks before it is written; one that finds the send buffer full
    /// is skipped.
    ///
    /// Errors: [`Error::InvalidUtf8`] for text that is not UTF-8.
    pub fn set_heartbeat(
        &self,
        interval_ms: u32,
        message_type: MessageType,
        data: &[u8],
    ) -> Result<()> {
        if message_type == MessageType::Text && std::str::from_utf8(data).is_err() {
            return Err(Error::InvalidUtf8);
        }
        let hb = (interval_ms > 0).then(|| {
            Box::new(crate::options::Heartbeat {
                interval: Duration::from_millis(interval_ms.into()),
                message_type,
                data: tungstenite::Bytes::copy_from_slice(data),
            })
        });
        self.with(|c, _| {
            c.opts.heartbeat = hb;
            Ok(())
        })
    }

    /// The receive-idle timeout: when no data message (text or binary)
    /// has arrived for `timeout_ms` milliseconds while the connection is
    /// open, it is failed as a dead peer: `Error::Timeout` (kind
    /// [`crate::error::TimeoutKind::Idle`]) then `Closed` with 1006, and
    /// the automatic reconnect ([`Client::set_reconnect_backoff`]) applies.
    /// Pings and pongs do not count (a feed can go quiet while pings still
    /// work). The clock starts at the opening handshake; while reading is
    /// paused it does not fail. `0` turns it off (the default). Takes
    /// effect at the next connect.
    pub fn set_idle_timeout(&self, timeout_ms: u32) -> Result<()> {
        self.with(|c, _| {
            c.opts.idle_timeout =
                (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms.into()));
            Ok(())
        })
    }

    /// The link metrics of this client: round-trip times from ping/pong,
    /// the timings of the last connect that opened, connection counts,
    /// messages and bytes each way (see [`crate::LinkMetrics`]).
    pub fn metrics(&self) -> Result<crate::LinkMetrics> {
        self.with(|c, _| Ok(c.metrics()))
    }

    /// With permessage-deflate in force, messages whose payload is shorter
    /// than `min_bytes` go uncompressed (RFC 7692 §6 lets each message
    /// choose); [`Client::send_with`] can override it per message. 0
    /// compresses every message. Default
    /// [`crate::DEFAULT_COMPRESSION_THRESHOLD`] (256 bytes). Takes effect
    /// at once, also on an open connection.
    pub fn set_compression_threshold(&self, min_bytes: usize) -> Result<()> {
        self.with(|c, _| {
            c.opts.compression_threshold = min_bytes;
            Ok(())
        })
    }

    /// [`Client::send`] with this message's compression chosen:
    /// [`crate::Compress::Auto`] (by the threshold, as `send`),
    /// `Always` or `Never`. Without permessage-deflate in force it goes
    /// uncompressed whatever `compress` says; a message queued before the
    /// handshake keeps its choice.
    ///
    /// Errors: as [`Client::send`].
    pub fn send_with(
        &self,
        message_type: MessageType,
        data: &[u8],
        compress: crate::Compress,
    ) -> Result<SendStatus> {
        let cork = self.shared.corks();
        let shared = &self.shared;
        self.with(|c, env| {
            let r = c.send_with(env, message_type, data, compress, cork);
            if let Ok(SendStatus::Corked) = r
                && !shared
                    .any_corked
                    .swap(true, std::sync::atomic::Ordering::SeqCst)
            {
                shared.first_corked();
            }
            r
        })
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if self.shared.forked() {
            // See `Context::shutdown`: never lock in a fork() child.
            std::mem::forget(self.shared.clone());
            return;
        }
        let mut g = self.shared.lock();
        g.with_conn(self.id, |c, env| c.teardown(env));
        g.clients.remove(&self.id);
    }
}
