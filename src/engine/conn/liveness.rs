//! Liveness beyond ping/pong and the link metrics of a connection: the
//! application heartbeat, the receive-idle timeout, and [`Link`], the
//! plain counters and clocks behind `Client::metrics` (RTT from ping/pong,
//! the phases of the last connect, attempts, messages and bytes).
//!
//! The per-message cost is two additions on each side (`Link::sent`,
//! `Link::received`); clocks are read only per ping, pong, connect phase,
//! and, with the idle timeout on, once per read batch that delivered
//! messages.

use super::{Conn, Env, State};
use crate::engine::timers::TimerKind;
use crate::error::{Error, Reason, TimeoutKind};
use crate::metrics::{ConnectTimings, LinkMetrics};
use crate::options::Compress;
use std::time::{Duration, Instant};

/// A phase of a connect ([`ConnectTimings`]).
#[derive(Clone, Copy)]
pub(super) enum Phase {
    Dns,
    Tcp,
    Proxy,
    Tls,
}

/// A connection's metrics and liveness clocks.
#[derive(Default)]
pub(crate) struct Link {
    messages_sent: u64,
    payload_sent: u64,
    messages_received: u64,
    payload_received: u64,
    /// When the ping being timed was written (the oldest without a pong).
    rtt_probe: Option<Instant>,
    rtt_last: Option<Duration>,
    srtt: Option<Duration>,
    rttvar: Duration,
    rtt_samples: u64,
    /// The attempt under way: its start, the end of its last phase, its
    /// phases so far.
    attempt_start: Option<Instant>,
    mark: Option<Instant>,
    phases: ConnectTimings,
    /// The phases of the last attempt that opened.
    last: ConnectTimings,
    connects: u64,
    opens: u64,
    /// When the last data message arrived (kept with the idle timeout on).
    pub(super) last_data: Option<Instant>,
}

impl Link {
    /// A data message with a `len`-byte payload was handed to the socket.
    #[inline]
    pub(super) fn sent(&mut self, len: usize) {
        self.messages_sent += 1;
        self.payload_sent += len as u64;
    }

    /// A data message with a `len`-byte payload arrived.
    #[inline]
    pub(super) fn received(&mut self, len: usize) {
        self.messages_received += 1;
        self.payload_received += len as u64;
    }

    /// A connection attempt starts.
    pub(super) fn attempt_started(&mut self) {
        let now = Instant::now();
        self.connects += 1;
        self.attempt_start = Some(now);
        self.mark = Some(now);
        self.phases = ConnectTimings::default();
        self.rtt_probe = None;
    }

    /// The phase `p` of the attempt under way ended now.
    pub(super) fn phase_done(&mut self, p: Phase) {
        let took = self.lap();
        let slot = match p {
            Phase::Dns => &mut self.phases.dns,
            Phase::Tcp => &mut self.phases.tcp,
            Phase::Proxy => &mut self.phases.proxy,
            Phase::Tls => &mut self.phases.tls,
        };
        *slot = took;
    }

    fn lap(&mut self) -> Option<Duration> {
        let now = Instant::now();
        let took = self.mark.map(|m| now.saturating_duration_since(m));
        self.mark = Some(now);
        took
    }

    /// The opening handshake completed: the attempt's timings become the
    /// last connect's.
    pub(super) fn opened(&mut self) {
        self.phases.handshake = self.lap();
        self.phases.total = self
            .attempt_start
            .map(|s| Instant::now().saturating_duration_since(s));
        self.last = self.phases;
        self.opens += 1;
    }

    /// A ping was written: timed unless an earlier one still waits for its
    /// pong. A ping without a pong for [`Link::STALE_PROBE`] is given up
    /// (a server may answer only the latest of several pings, RFC 6455
    /// §5.5.3), so one lost pong does not stop the measurements.
    pub(super) fn ping_sent(&mut self) {
        let now = Instant::now();
        match self.rtt_probe {
            Some(at) if now.saturating_duration_since(at) < Self::STALE_PROBE => {}
            _ => self.rtt_probe = Some(now),
        }
    }

    /// How long a ping waits for its pong before a newer ping is timed
    /// instead.
    const STALE_PROBE: Duration = Duration::from_secs(30);

    /// A pong arrived: one RTT sample (RFC 6298 §2 smoothing).
    pub(super) fn pong_received(&mut self) {
        let Some(at) = self.rtt_probe.take() else {
            return;
        };
        self.sample(at.elapsed());
    }

    /// One RTT sample `r`: RFC 6298 §2.2 for the first, §2.3 after.
    fn sample(&mut self, r: Duration) {
        self.rtt_last = Some(r);
        self.rtt_samples += 1;
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(s) => {
                let delta = s.abs_diff(r);
                self.rttvar = (self.rttvar * 3 + delta) / 4;
                self.srtt = Some((s * 7 + r) / 8);
            }
        }
    }

    /// The metrics now, with the wire byte counts (read, written).
    pub(super) fn snapshot(&self, (read, written): (u64, u64)) -> LinkMetrics {
        LinkMetrics {
            rtt_last: self.rtt_last,
            rtt_smoothed: self.srtt,
            rtt_variation: self.srtt.map(|_| self.rttvar),
            rtt_samples: self.rtt_samples,
            connect: self.last,
            connects: self.connects,
            reconnects: self.connects.saturating_sub(1),
            opens: self.opens,
            messages_sent: self.messages_sent,
            messages_received: self.messages_received,
            payload_bytes_sent: self.payload_sent,
            payload_bytes_received: self.payload_received,
            wire_bytes_read: read,
            wire_bytes_written: written,
        }
    }
}

impl Conn {
    /// The link metrics of this client.
    pub(crate) fn metrics(&self) -> LinkMetrics {
        self.link.snapshot(self.bytes())
    }

    /// The connection opened: arms the heartbeat and the idle timeout.
    pub(super) fn arm_liveness(&mut self, env: &mut Env) {
        let now = Instant::now();
        if let Some(hb) = &self.opts.heartbeat {
            env.timers.push(
                now + hb.interval,
                self.id,
                self.generation,
                TimerKind::Heartbeat,
            );
        }
        if let Some(t) = self.opts.idle_timeout {
            self.link.last_data = Some(now);
            env.timers
                .push(now + t, self.id, self.generation, TimerKind::Idle);
        }
    }

    /// A read batch ended after `delivered` data messages.
    #[inline]
    pub(super) fn note_data(&mut self, delivered: usize) {
        if delivered > 0 && self.opts.idle_timeout.is_some() {
            self.link.last_data = Some(Instant::now());
        }
    }

    /// The heartbeat timer fired: sends the heartbeat message (skipped
    /// when the send buffer is full: the connection is backed up anyway)
    /// and arms the next one.
    pub(super) fn heartbeat(&mut self, env: &mut Env) {
        let State::Open(_) = self.state else {
            return;
        };
        let Some(hb) = self.opts.heartbeat.clone() else {
            return;
        };
        // Errors: BufferFull (skipped), NotConnected (the connection broke
        // on this write and was reported).
        let _ = self.send_with(env, hb.message_type, &hb.data, Compress::Auto, false);
        if let State::Open(_) = self.state {
            env.timers.push(
                Instant::now() + hb.interval,
                self.id,
                self.generation,
                TimerKind::Heartbeat,
            );
        }
    }

    /// The idle timer fired: fails the connection when no data message
    /// arrived within the timeout, else checks again when it would expire.
    pub(super) fn idle_check(&mut self, env: &mut Env) {
        let (Some(t), Some(last)) = (self.opts.idle_timeout, self.link.last_data) else {
            return;
        };
        if !matches!(self.state, State::Open(_)) {
            return;
        }
        let now = Instant::now();
        if self.paused || self.throttled {
            // Not reading: messages may be waiting in the socket. Judge
            // again a timeout later.
            env.timers
                .push(now + t, self.id, self.generation, TimerKind::Idle);
            return;
        }
        let due = last + t;
        if now < due {
            env.timers
                .push(due, self.id, self.generation, TimerKind::Idle);
            return;
        }
        let e = Error::Timeout(Reason::new(
            TimeoutKind::Idle,
            format!(
                "no message from the server within {} ms (the receive-idle timeout)",
                t.as_millis()
            ),
        ));
        let reason = e.to_string();
        self.finish(env, Some(e), 1006, reason, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtt_smoothing_follows_rfc_6298() {
        let ms = Duration::from_millis;
        let mut l = Link::default();
        l.sample(ms(80));
        // §2.2: SRTT = R, RTTVAR = R/2.
        assert_eq!((l.srtt, l.rttvar), (Some(ms(80)), ms(40)));
        l.sample(ms(160));
        // §2.3: RTTVAR = 3/4 * 40 + 1/4 * |80 - 160| = 50; SRTT = 7/8 * 80 + 1/8 * 160 = 90.
        assert_eq!((l.srtt, l.rttvar), (Some(ms(90)), ms(50)));
        let m = l.snapshot((0, 0));
        assert_eq!(
            (m.rtt_last, m.rtt_smoothed, m.rtt_variation, m.rtt_samples),
            (Some(ms(160)), Some(ms(90)), Some(ms(50)), 2)
        );
    }

    #[test]
    fn a_pong_without_a_timed_ping_gives_no_sample() {
        let mut l = Link::default();
        l.pong_received();
        assert_eq!(l.snapshot((0, 0)).rtt_samples, 0);
        l.ping_sent();
        l.ping_sent(); // the first one is still the one timed
        l.pong_received();
        l.pong_received();
        assert_eq!(l.snapshot((0, 0)).rtt_samples, 1);
    }
}
