//! The public [`Context`]: create clients, poll events, shut down. Its
//! state and lock protocol, shared with the clients and the fallback
//! thread, are in `shared.rs`.

use super::client::Client;
use super::conn::Conn;
use super::reactor::{Reactor, WAKE};
use super::shared::{Presence, Shared};
use super::{fallback, fork};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::options::Target;
use crossbeam_channel::unbounded;
use mio::{Poll, Waker};
use parking_lot::Mutex;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest a poller with a deadline waits for the fallback thread's turn
/// beyond that deadline (see `Context::poll_event`); a turn never waits on
/// I/O, so this bound is only reached on a machine too busy to run it.
const FALLBACK_TURN_WAIT: Duration = Duration::from_millis(100);

/// Ids of clients: unique in the process, never reused.
static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// A context: the event loop that owns a poller, its clients, their timers
/// and the event queue, and one fallback thread. Thread-safe (`Send +
/// Sync`); see the module docs for who drives the I/O.
pub struct Context {
    pub(super) shared: Arc<Shared>,
    fallback: Mutex<Option<JoinHandle<()>>>,
}

impl Context {
    /// Creates a context and starts its fallback thread. Process-wide,
    /// once: raises the open-files soft limit to the hard limit, and, while
    /// the process has a single thread, grows its file descriptor table to
    /// 1024 slots (later growths in a multi-threaded process each wait for
    /// an RCU grace period, milliseconds in `socket()`).
    ///
    /// Errors: [`Error::Io`] when the poller, its waker or the thread cannot
    /// be created (e.g. the open-files limit).
    pub fn new() -> Result<Context> {
        crate::sys::raise_open_files_limit();
        // Before the fallback thread starts: later growths of the fd table
        // would each wait for an RCU grace period (see the function).
        crate::sys::presize_fd_table();
        let poll = Poll::new().map_err(|e| Error::Io(format!("epoll_create: {e}")))?;
        let waker = Arc::new(
            Waker::new(poll.registry(), WAKE).map_err(|e| Error::Io(format!("eventfd: {e}")))?,
        );
        let poll_fd = poll.as_raw_fd();
        let (tx, rx) = unbounded();
        let queued = Arc::new(AtomicUsize::new(0));
        let reactor = Reactor::new(poll, waker.clone(), tx, queued.clone());
        let any_corked = reactor.any_corked.clone();
        let lock_wanted = reactor.lock_wanted.clone();
        let shared = Arc::new(Shared {
            reactor: Mutex::new(reactor),
            rx,
            queued,
            waker,
            poll_fd,
            lock_wanted,
            in_poll: AtomicUsize::new(0),
            last_exit_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            shutdown: AtomicBool::new(false),
            fallback_parked: AtomicBool::new(false),
            fallback_turning: AtomicBool::new(false),
            fallback: Mutex::new(None),
            fork_generation: fork::generation(),
            dispatcher: AtomicUsize::new(0),
            any_corked,
            batch: AtomicBool::new(false),
        });
        let handle = fallback::spawn(shared.clone())?;
        *shared.fallback.lock() = Some(handle.thread().clone());
        Ok(Context {
            shared,
            fallback: Mutex::new(Some(handle)),
        })
    }

    /// Creates a client of this context for `url` (`ws://` or `wss://`,
    /// RFC 6455 §3); it does not connect yet.
    ///
    /// Errors: [`Error::InvalidUrl`] (does not parse, another scheme, no
    /// host, a fragment); [`Error::ContextClosed`].
    pub fn client(&self, url: &str) -> Result<Client> {
        self.shared.check_open()?;
        let target = Target::parse(url)?;
        let id = NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed);
        self.shared
            .lock()
            .clients
            .insert(id, Box::new(Conn::new(id, target)));
        Ok(Client {
            shared: self.shared.clone(),
            id,
        })
    }

    /// Waits up to `timeout` (`None`: without limit) for the next event of
    /// any client, driving the I/O on the calling thread while it waits.
    /// `Ok(None)` when the timeout passed without an event, or when a
    /// signal interrupted the wait (so that the caller's signal handlers
    /// run promptly). When the fallback thread is in a turn (which never
    /// waits on I/O), the call waits for that turn to end, up to
    /// `FALLBACK_TURN_WAIT` (100 ms) beyond `timeout`: returning at once
    /// would leave the context fd readable, and an outer loop that polls
    /// whenever the fd is readable would spin until the turn ends.
    ///
    /// Errors: [`Error::ContextClosed`]; [`Error::Io`] when epoll fails.
    ///
    /// Sends made by the thread that took the event while more events are
    /// queued are corked ([`SendStatus::Corked`](crate::SendStatus::Corked)):
    /// they leave together when the caller takes the last queued event, polls
    /// again, or stops polling (the fallback thread writes them).
    pub fn poll_event(&self, timeout: Option<Duration>) -> Result<Option<Event>> {
        let ev = self.poll_one(timeout)?;
        if ev.is_some() {
            self.shared.handed_out(1);
        }
        Ok(ev)
    }

    /// [`Context::poll_event`] without the end of the batch.
    fn poll_one(&self, timeout: Option<Duration>) -> Result<Option<Event>> {
        let s = &*self.shared;
        // A poll ends the batch its caller was dispatching (the turn below
        // writes the corked messages, or the next events continue it).
        s.batch.store(false, Ordering::Relaxed);
        if s.forked() {
            return Err(Error::Forked);
        }
        if let Some(ev) = s.pop() {
            // A caller taking queued events is present too: without this,
            // one draining a long queue (it never waits, so never enters
            // `Presence`) looks absent to the fallback thread after
            // `GRACE`, which then reads more into the queue beside it (and
            // allocates those events in its own malloc arena).
            s.last_exit_ms.store(s.now_ms(), Ordering::SeqCst);
            return Ok(Some(ev));
        }
        s.check_open()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let _presence = Presence::enter(s);
        // Pollers do not count in `lock_wanted` (two pollers would hand the
        // lock back and forth); one waits here, within its own deadline,
        // while another drives the I/O.
        let mut g = match deadline {
            Some(d) => match s.reactor.try_lock_until(d) {
                Some(g) => g,
                // The fallback thread is in a turn that does not wait, but it
                // may not have taken the readiness off the poller yet (a busy
                // machine can deschedule it for milliseconds right there). An
                // empty return now would leave the context fd readable, and an
                // outer loop that polls with a zero timeout whenever the fd is
                // readable would spin (hundreds of empty wakes) until the turn
                // ends: wait for the turn instead, bounded.
                None if s.fallback_turning.load(Ordering::SeqCst) => {
                    match s.reactor.try_lock_for(FALLBACK_TURN_WAIT) {
                        Some(g) => g,
                        None => return Ok(s.pop()),
                    }
                }
                None => return Ok(s.pop()),
            },
            None => s.reactor.lock(),
        };
        loop {
            if let Some(ev) = s.pop() {
                return Ok(Some(ev));
            }
            s.check_open()?;
            // A thread that wants the lock (send, close...) may have woken a
            // poller before us: never block in epoll_wait while it waits.
            s.hand_over(&mut g);
            let wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let completed = g.turn(wait)?;
            if let Some(ev) = s.pop() {
                return Ok(Some(ev));
            }
            if !completed {
                // A signal: return so the caller can handle it.
                return Ok(None);
            }
            s.hand_over(&mut g);
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(s.pop());
            }
        }
    }

    /// Like [`Context::poll_event`], then takes up to `max - 1` more events
    /// that are already queued, without waiting or doing more I/O: one call
    /// drains a batch. Empty when the timeout passed (or a signal came).
    /// Sends made by this thread while it dispatches a batch of more than
    /// one event are corked until its next poll (the context fd turns
    /// readable meanwhile, so an outer event loop polls again at once).
    ///
    /// Errors: as [`Context::poll_event`].
    pub fn poll_events(&self, timeout: Option<Duration>, max: usize) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        self.poll_each(timeout, max, |ev| out.push(ev))?;
        Ok(out)
    }

    /// Like [`Context::poll_events`], handing each event to `each` in order
    /// instead of collecting them; returns how many it handed over.
    ///
    /// Errors: as [`Context::poll_event`].
    pub fn poll_each(
        &self,
        timeout: Option<Duration>,
        max: usize,
        mut each: impl FnMut(Event),
    ) -> Result<usize> {
        if max == 0 {
            return Ok(0);
        }
        let Some(first) = self.poll_one(timeout)? else {
            return Ok(0);
        };
        each(first);
        let mut n = 1;
        while n < max {
            match self.shared.pop() {
                Some(ev) => each(ev),
                None => break,
            }
            n += 1;
        }
        self.shared.handed_out(n);
        Ok(n)
    }

    /// True in a `fork()` child of the process that created the context:
    /// every call on it then fails with [`Error::Forked`]. Takes no lock.
    pub fn forked(&self) -> bool {
        self.shared.forked()
    }

    /// The context's file descriptor (the epoll fd): readable whenever
    /// `poll_event(Some(Duration::ZERO))` has work to do. Owned by the
    /// context; valid until it is dropped.
    pub fn fd(&self) -> RawFd {
        self.shared.poll_fd
    }

    /// Sets the event queue limit, in bytes (default
    /// [`DEFAULT_EVENT_QUEUE_LIMIT`](crate::DEFAULT_EVENT_QUEUE_LIMIT), 4 MiB): once the events waiting for
    /// the caller exceed it (counted at the memory they hold: each event's
    /// slot in the queue, about 72 bytes, plus its payload's allocation,
    /// the payload and 30 bytes rounded up to 16), the context stops
    /// reading its sockets, so a server that sends faster than the caller
    /// takes events is held back by TCP flow control instead of filling
    /// memory; reading resumes when the caller has taken the queue down to
    /// half the limit. A single message larger than the limit is still
    /// delivered whole (its size is bounded by `set_limits`). 0 reads one
    /// event at a time. Takes effect at the next read.
    ///
    /// Errors: [`Error::ContextClosed`]; [`Error::Forked`].
    pub fn set_event_queue_limit(&self, bytes: usize) -> Result<()> {
        self.shared.check_open()?;
        self.shared.lock().queue_limit = bytes;
        Ok(())
    }

    /// Closes every connection at once (no closing handshake), drops queued
    /// events and stops the threads. Idempotent; also done on drop.
    pub fn shutdown(&self) {
        let s = &*self.shared;
        if s.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        if s.forked() {
            // In a fork() child: the threads do not exist here and a lock
            // may be held forever; leave everything as it is (leaked) rather
            // than lock, join or drop state that may be half-changed.
            std::mem::forget(self.shared.clone());
            std::mem::forget(self.fallback.lock().take());
            return;
        }
        {
            let mut g = s.lock();
            let ids: Vec<u64> = g.clients.keys().copied().collect();
            for id in ids {
                g.with_conn(id, |c, env| c.teardown(env));
            }
            g.clients.clear();
            g.resolver.stop();
        }
        while s.pop().is_some() {}
        let _ = s.waker.wake();
        if let Some(h) = self.fallback.lock().take() {
            h.thread().unpark();
            let _ = h.join();
        }
        while s.pop().is_some() {}
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Holds the engine lock for `hold` on another thread, as the fallback
    /// thread's turn does when `fallback` (or as another poller when not),
    /// while the context fd is readable. Returns whether a zero-timeout
    /// poll_event returned after the lock was let go (it waited), and
    /// whether the fd was still readable after it.
    fn poll_while_the_lock_is_held(fallback: bool, hold: Duration) -> (bool, bool) {
        let ctx = Context::new().unwrap();
        let s = ctx.shared.clone();
        s.waker.wake().unwrap();
        let released = Arc::new(AtomicBool::new(false));
        let released2 = released.clone();
        let (taken_tx, taken_rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            let g = s.reactor.lock();
            s.fallback_turning.store(fallback, Ordering::SeqCst);
            taken_tx.send(()).unwrap();
            std::thread::sleep(hold);
            s.fallback_turning.store(false, Ordering::SeqCst);
            released2.store(true, Ordering::SeqCst);
            drop(g);
        });
        taken_rx.recv().unwrap();
        assert!(ctx.poll_event(Some(Duration::ZERO)).unwrap().is_none());
        let waited = released.load(Ordering::SeqCst);
        let still_readable = crate::sys::readable(ctx.fd());
        holder.join().unwrap();
        (waited, still_readable)
    }

    #[test]
    fn a_zero_timeout_poll_waits_for_the_fallback_turn_instead_of_leaving_the_fd_readable() {
        // The fallback thread descheduled inside its turn, before it took
        // the readiness off the poller: returning at once would leave the fd
        // readable, and a loop that polls whenever it is readable would spin.
        let (waited, still_readable) = poll_while_the_lock_is_held(true, Duration::from_millis(20));
        assert!(waited, "returned while the fallback turn held the lock");
        assert!(
            !still_readable,
            "the poll took the readiness off the context fd"
        );
        // Another poller holding the lock (it may wait in epoll_wait for
        // long): a zero timeout does not wait for it.
        let (waited, _) = poll_while_the_lock_is_held(false, Duration::from_secs(1));
        assert!(!waited, "a zero-timeout poll waited for another poller");
    }
}
