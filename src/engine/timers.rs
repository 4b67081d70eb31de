//! The timer list of a context: connect, handshake, close, ping, pong and
//! reconnect deadlines of its clients.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// What a fired timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKind {
    Connect,
    Handshake,
    Close,
    Ping,
    Pong,
    Reconnect,
    /// Happy Eyeballs (RFC 8305 §5): start the next TCP attempt while the
    /// earlier ones are still pending.
    NextAttempt,
    /// The wait for the body of a refused opening handshake is over.
    RefusalBody,
    /// The application heartbeat's next message.
    Heartbeat,
    /// The receive-idle timeout's check.
    Idle,
}

/// The timer list: a min-heap of deadlines, stale entries skipped by
/// generation when they fire.
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64, u64, TimerKind)>>,
    /// Past this many entries the heap is rid of the timers of ended
    /// attempts and removed clients (see [`Timers::compact`]).
    compact_at: usize,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            heap: BinaryHeap::new(),
            compact_at: Self::MIN_COMPACT,
        }
    }
}

impl Timers {
    pub(crate) fn push(&mut self, at: Instant, client_id: u64, generation: u64, kind: TimerKind) {
        self.heap.push(Reverse((at, client_id, generation, kind)));
    }

    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(u64, u64, TimerKind)> {
        match self.heap.peek() {
            Some(Reverse((at, ..))) if *at <= now => {
                let Reverse((_, id, generation, kind)) = self.heap.pop().expect("peeked");
                Some((id, generation, kind))
            }
            _ => None,
        }
    }

    const MIN_COMPACT: usize = 1024;

    /// Drops the entries `live` says no longer matter, once the heap has
    /// doubled since the last time: the timers of an attempt that ended
    /// (connect, handshake, close: up to 10 s) would otherwise stay until
    /// due, growing with the rate of connects. Amortised O(1) per push.
    pub(super) fn compact(&mut self, live: impl Fn(u64, u64) -> bool) {
        if self.heap.len() < self.compact_at {
            return;
        }
        self.heap
            .retain(|Reverse((_, id, generation, _))| live(*id, *generation));
        self.compact_at = (self.heap.len() * 2).max(Self::MIN_COMPACT);
    }

    pub(super) fn next_in(&self, now: Instant) -> Option<Duration> {
        self.heap
            .peek()
            .map(|Reverse((at, ..))| at.saturating_duration_since(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timers_of_ended_attempts_do_not_pile_up() {
        // 100,000 connect/close cycles of one client, each leaving a
        // connect, a handshake and a close timer 10 s ahead: only the
        // current attempt's are live.
        let mut t = Timers::default();
        let at = Instant::now() + Duration::from_secs(10);
        let mut peak = 0;
        for generation in 1..=100_000u64 {
            for kind in [TimerKind::Connect, TimerKind::Handshake, TimerKind::Close] {
                t.push(at, 7, generation, kind);
            }
            t.compact(|id, g| id == 7 && g == generation);
            peak = peak.max(t.heap.len());
        }
        assert!(peak <= 2 * Timers::MIN_COMPACT, "the heap grew to {peak}");
        // The live ones are all kept, and they fire.
        t.compact_at = 0;
        t.compact(|_, g| g == 100_000);
        assert_eq!(t.heap.len(), 3);
        assert_eq!(t.pop_due(at), Some((7, 100_000, TimerKind::Connect)));
    }
}
