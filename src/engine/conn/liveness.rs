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

/// A connection's metrics and liveness clocks. What only some
/// connections need (RTT, once a ping was sent) or only for a while (the
/// clocks of an attempt under way) is boxed apart: every client carries a
/// `Link`, and an idle connection's size counts (issue 16).
#[derive(Default)]
pub(crate) struct Link {
    messages_sent: u64,
    payload_sent: u64,
    messages_received: u64,
    payload_received: u64,
    /// The RTT measurements, from the first ping on.
    rtt: Option<Box<Rtt>>,
    /// The clocks of the attempt under way (until it opens).
    attempt: Option<Box<Attempt>>,
    /// The phases of the last attempt that opened.
    last: ConnectTimings,
    connects: u64,
    opens: u64,
    /// When the last data message arrived (kept with the idle timeout on).
    pub(super) last_data: Option<Instant>,
}

/// RTT measurements from ping/pong ([`Link::rtt`]).
#[derive(Default)]
struct Rtt {
    /// When the ping being timed was written (the oldest without a pong).
    probe: Option<Instant>,
    last: Option<Duration>,
    srtt: Option<Duration>,
    rttvar: Duration,
    samples: u64,
}

impl Rtt {
    /// One RTT sample `r`: RFC 6298 §2.2 for the first, §2.3 after.
    fn sample(&mut self, r: Duration) {
        self.last = Some(r);
        self.samples += 1;
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
}

/// The attempt under way ([`Link::attempt`]): its start, the end of its
/// last phase, its phases so far.
struct Attempt {
    start: Instant,
    mark: Instant,
    phases: ConnectTimings,
}

impl Attempt {
    /// The time since the end of the last phase (or the start); a new
    /// phase starts now.
    fn lap(&mut self) -> Option<Duration> {
        let now = Instant::now();
        let took = now.saturating_duration_since(self.mark);
        self.mark = now;
        Some(took)
    }
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
        self.attempt = Some(Box::new(Attempt {
            start: now,
            mark: now,
            phases: ConnectTimings::default(),
        }));
        if let Some(rtt) = &mut self.rtt {
            rtt.probe = None;
        }
    }

    /// The phase `p` of the attempt under way ended now.
    pub(super) fn phase_done(&mut self, p: Phase) {
        let Some(a) = &mut self.attempt else {
            return;
        };
        let took = a.lap();
        let slot = match p {
            Phase::Dns => &mut a.phases.dns,
            Phase::Tcp => &mut a.phases.tcp,
            Phase::Proxy => &mut a.phases.proxy,
            Phase::Tls => &mut a.phases.tls,
        };
        *slot = took;
    }

    /// The opening handshake completed: the attempt's timings become the
    /// last connect's.
    pub(super) fn opened(&mut self) {
        if let Some(mut a) = self.attempt.take() {
            a.phases.handshake = a.lap();
            a.phases.total = Some(Instant::now().saturating_duration_since(a.start));
            self.last = a.phases;
        }
        self.opens += 1;
    }

    /// A ping was written: timed unless an earlier one still waits for its
    /// pong. A ping without a pong for [`Link::STALE_PROBE`] is given up
    /// (a server may answer only the latest of several pings, RFC 6455
    /// §5.5.3), so one lost pong does not stop the measurements.
    pub(super) fn ping_sent(&mut self) {
        let now = Instant::now();
        let rtt = self.rtt.get_or_insert_default();
        match rtt.probe {
            Some(at) if now.saturating_duration_since(at) < Self::STALE_PROBE => {}
            _ => rtt.probe = Some(now),
        }
    }

    /// How long a ping waits for its pong before a newer ping is timed
    /// instead.
    const STALE_PROBE: Duration = Duration::from_secs(30);

    /// A pong arrived: one RTT sample (RFC 6298 §2 smoothing).
    pub(super) fn pong_received(&mut self) {
        let Some(rtt) = &mut self.rtt else {
            return;
        };
        let Some(at) = rtt.probe.take() else {
            return;
        };
        rtt.sample(at.elapsed());
    }

    /// The metrics now, with the wire byte counts (read, written).
    pub(super) fn snapshot(&self, (read, written): (u64, u64)) -> LinkMetrics {
        let none = Rtt::default();
        let rtt = self.rtt.as_deref().unwrap_or(&none);
        LinkMetrics {
            rtt_last: rtt.last,
            rtt_smoothed: rtt.srtt,
            rtt_variation: rtt.srtt.map(|_| rtt.rttvar),
            rtt_samples: rtt.samples,
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
        let r = l.rtt.get_or_insert_default();
        r.sample(ms(80));
        // §2.2: SRTT = R, RTTVAR = R/2.
        assert_eq!((r.srtt, r.rttvar), (Some(ms(80)), ms(40)));
        r.sample(ms(160));
        // §2.3: RTTVAR = 3/4 * 40 + 1/4 * |80 - 160| = 50; SRTT = 7/8 * 80 + 1/8 * 160 = 90.
        assert_eq!((r.srtt, r.rttvar), (Some(ms(90)), ms(50)));
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
