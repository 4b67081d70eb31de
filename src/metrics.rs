//! Link metrics of a client ([`crate::Client::metrics`]): round-trip time
//! from ping/pong, the timings of the last connect, connection counts,
//! messages and bytes each way. Plain counters kept on the connection.

use std::time::Duration;

/// The phases of the last connect that opened (the opening handshake
/// completed), each measured on the monotonic clock from the end of the
/// one before. A phase that did not take place is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectTimings {
    /// Name resolution (`getaddrinfo` on the resolver thread); `None` when
    /// the host (or the proxy's) is an IP address.
    pub dns: Option<Duration>,
    /// TCP connect (the three-way handshake, including the addresses tried
    /// before the one that answered), to the server or to the proxy.
    pub tcp: Option<Duration>,
    /// The proxy tunnel (HTTP CONNECT or SOCKS5); `None` without a proxy.
    pub proxy: Option<Duration>,
    /// The TLS handshake; `None` for `ws://`.
    pub tls: Option<Duration>,
    /// The opening handshake: the HTTP Upgrade request until the 101
    /// response was read and checked (RFC 6455 §4.1).
    pub handshake: Option<Duration>,
    /// From the start of the attempt to the open connection.
    pub total: Option<Duration>,
}

/// A snapshot of a client's link metrics (see [`crate::Client::metrics`]).
/// Counts are over the client's whole life (all its connections).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkMetrics {
    /// The round-trip time of the last ping answered by a pong: from
    /// writing the ping to reading the pong (RFC 6455 §5.5.2, §5.5.3).
    /// `None` before the first pong.
    pub rtt_last: Option<Duration>,
    /// The smoothed round-trip time, RFC 6298 §2's SRTT (α = 1/8): the
    /// first sample, then `7/8 · SRTT + 1/8 · sample`.
    pub rtt_smoothed: Option<Duration>,
    /// RFC 6298 §2's RTTVAR (β = 1/4): the first sample / 2, then
    /// `3/4 · RTTVAR + 1/4 · |SRTT − sample|`.
    pub rtt_variation: Option<Duration>,
    /// Pongs that gave an RTT sample.
    pub rtt_samples: u64,
    /// The timings of the last connect that opened.
    pub connect: ConnectTimings,
    /// Connection attempts started (the first connect included).
    pub connects: u64,
    /// Attempts after the first one: automatic reconnects, `reconnect`,
    /// and `connect` again after a close.
    pub reconnects: u64,
    /// Attempts that opened (the opening handshake completed).
    pub opens: u64,
    /// Data messages handed to the connection to be written (heartbeats
    /// included; counted when written to the socket or its buffer, not
    /// when queued before the handshake).
    pub messages_sent: u64,
    /// Data messages received (complete messages, as delivered).
    pub messages_received: u64,
    /// Payload bytes of the messages sent (before compression).
    pub payload_bytes_sent: u64,
    /// Payload bytes of the messages received (after decompression).
    pub payload_bytes_received: u64,
    /// Bytes read from the connections, handshakes and frame headers
    /// included (after TLS decryption), as [`crate::Client::bytes`].
    pub wire_bytes_read: u64,
    /// Bytes written to the connections, as [`crate::Client::bytes`].
    pub wire_bytes_written: u64,
}
