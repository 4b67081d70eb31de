//! The state a context shares with its clients and its fallback thread
//! ([`Shared`]): the reactor behind its lock, the event queue, the lock
//! protocol (take, hand over) and the presence of pollers.

use super::fork;
use super::reactor::Reactor;
use crate::error::{Error, Result};
use crate::event::Event;
use crossbeam_channel::Receiver;
use mio::Waker;
use parking_lot::{Mutex, MutexGuard};
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long the caller may stay away from `poll_event` before the fallback
/// thread takes over the I/O.
pub(crate) const GRACE: Duration = Duration::from_millis(10);
/// The state shared by a context, its clients and its fallback thread.
pub(crate) struct Shared {
    pub(super) reactor: Mutex<Reactor>,
    pub(super) rx: Receiver<Event>,
    /// The engine's count of queued event bytes.
    pub(super) queued: Arc<AtomicUsize>,
    pub(super) waker: Arc<Waker>,
    pub(super) poll_fd: RawFd,
    /// Threads waiting for the lock while a poller may sit in epoll_wait
    /// (shared with the reactor, whose turn then cuts its handshake work
    /// short: [`Reactor::lock_wanted`]).
    pub(super) lock_wanted: Arc<AtomicUsize>,
    /// Callers inside `poll_event` now.
    pub(super) in_poll: AtomicUsize,
    /// When a caller last left `poll_event` or took a queued event from
    /// it, in ms since `epoch`.
    pub(super) last_exit_ms: AtomicU64,
    pub(super) epoch: Instant,
    pub(super) shutdown: AtomicBool,
    /// The fallback thread sleeps until a caller leaves `poll_event`.
    pub(super) fallback_parked: AtomicBool,
    /// The fallback thread holds the engine lock for one turn that does not
    /// wait (set after it took the lock, cleared before it lets go).
    pub(super) fallback_turning: AtomicBool,
    pub(super) fallback: Mutex<Option<std::thread::Thread>>,
    /// `fork::generation()` when the context was made.
    pub(super) fork_generation: u64,
    /// The thread that last took an event from `poll_event`
    /// ([`thread_token`]): its sends while more events are queued are
    /// corked (it is dispatching a batch).
    pub(super) dispatcher: AtomicUsize,
    /// Some client holds corked messages (the reactor's `corked` list is
    /// not empty): a poll that takes the last queued event writes them.
    pub(super) any_corked: Arc<AtomicBool>,
    /// The dispatcher took a batch of events in one `poll_events` call
    /// (more than one): it dispatches them until its next poll, and its
    /// sends meanwhile are corked even when nothing more is queued.
    pub(super) batch: AtomicBool,
}

/// A number that identifies the calling thread while it lives (the address
/// of a thread-local), for [`Shared::dispatcher`].
pub(super) fn thread_token() -> usize {
    thread_local!(static TOKEN: u8 = const { 0 });
    TOKEN.with(|t| t as *const u8 as usize)
}

impl Shared {
    pub(super) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Takes the engine lock; if a poller holds it (maybe inside
    /// epoll_wait), wakes it so it hands the lock over. The wake is repeated
    /// every 2 ms while the lock stays taken: a wake can be consumed by a
    /// poller that then returns an event instead of handing over.
    pub(super) fn lock(&self) -> MutexGuard<'_, Reactor> {
        if let Some(g) = self.reactor.try_lock() {
            return g;
        }
        self.lock_wanted.fetch_add(1, Ordering::SeqCst);
        let g = loop {
            let _ = self.waker.wake();
            if let Some(g) = self.reactor.try_lock_for(Duration::from_millis(2)) {
                break g;
            }
        };
        self.lock_wanted.fetch_sub(1, Ordering::SeqCst);
        g
    }

    /// Lets every thread waiting in [`Shared::lock`] have the lock, then
    /// takes it back. Stays unlocked until they are all through: a waiter
    /// still spinning (not yet parked) would otherwise lose the race and
    /// wait out a poller's timeout.
    pub(super) fn hand_over(&self, g: &mut MutexGuard<'_, Reactor>) {
        if self.lock_wanted.load(Ordering::SeqCst) > 0 {
            MutexGuard::unlocked_fair(g, || {
                while self.lock_wanted.load(Ordering::SeqCst) > 0 {
                    std::thread::yield_now();
                }
            });
        }
    }

    /// Takes the next queued event, if any, and counts it off the queue.
    pub(super) fn pop(&self) -> Option<Event> {
        let ev = self.rx.try_recv().ok()?;
        self.queued.fetch_sub(ev.queued_size(), Ordering::SeqCst);
        Some(ev)
    }

    /// Whether a send by the calling thread now is corked: it is the
    /// thread dispatching events and more of them are queued.
    pub(super) fn corks(&self) -> bool {
        (!self.rx.is_empty() || self.batch.load(Ordering::Relaxed))
            && self.dispatcher.load(Ordering::Relaxed) == thread_token()
    }

    /// After a poll handed `n` events to the caller: it is the dispatcher
    /// now. More than one (a `poll_events` batch): the batch lasts until
    /// its next poll. One, and the queue is empty: the batch it dispatched
    /// ends with this event, and corked messages are written (this event's
    /// sends are not corked: they go out at once).
    pub(super) fn handed_out(&self, n: usize) {
        self.dispatcher.store(thread_token(), Ordering::Relaxed);
        self.batch.store(n > 1, Ordering::Relaxed);
        if n == 1 && self.any_corked.load(Ordering::SeqCst) && self.rx.is_empty() {
            self.lock().uncork_all();
        }
    }

    /// The first message of a `poll_events` batch was corked: the context
    /// fd turns readable, so that a caller that waits on it after dispatching the
    /// batch (an outer event loop) polls again at once, and that poll's
    /// turn writes the corked messages.
    pub(super) fn first_corked(&self) {
        // While events are queued the caller polls again anyway (callers
        // that wait on the fd drain it until a poll returns nothing).
        if self.batch.load(Ordering::Relaxed) {
            let _ = self.waker.wake();
        }
    }

    /// True in a `fork()` child of the process that made the context.
    pub(super) fn forked(&self) -> bool {
        fork::generation() != self.fork_generation
    }

    pub(super) fn check_open(&self) -> Result<()> {
        if self.forked() {
            Err(Error::Forked)
        } else if self.shutdown.load(Ordering::Acquire) {
            Err(Error::ContextClosed)
        } else {
            Ok(())
        }
    }
}

/// Marks a caller as inside `poll_event` for its lifetime.
pub(super) struct Presence<'a>(&'a Shared);

impl<'a> Presence<'a> {
    pub(super) fn enter(s: &'a Shared) -> Self {
        s.in_poll.fetch_add(1, Ordering::SeqCst);
        Presence(s)
    }
}

impl Drop for Presence<'_> {
    fn drop(&mut self) {
        let s = self.0;
        s.last_exit_ms.store(s.now_ms(), Ordering::SeqCst);
        s.in_poll.fetch_sub(1, Ordering::SeqCst);
        if s.fallback_parked.load(Ordering::SeqCst)
            && let Some(t) = s.fallback.lock().as_ref()
        {
            t.unpark();
        }
    }
}
