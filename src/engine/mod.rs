//! The engine: a context (one mio poller, its clients, timers, the event
//! queue and a fallback thread) behind one lock.
//!
//! Who drives the I/O: the caller's thread inside
//! [`Context::poll_event`], while it waits; nobody else touches the poller
//! then. When no caller has been inside `poll_event` for [`GRACE`], the
//! fallback thread takes the lock for short turns (reads, pongs, pings,
//! timers, reconnects), queues the events and makes the context fd readable.
//! `send` takes the lock on the caller's thread and writes at once; if a
//! poller is blocked in `epoll_wait` holding the lock, the sender wakes it
//! and the lock is handed over fairly.

mod ca_store;
mod conn;
mod fallback;
mod fork;
mod read_ahead;
mod resolver;
mod stream;
mod tls;
mod tunnel;

/// The id map moved to [`crate::id_map`]; this path is kept for `src/ffi/`.
pub(crate) use crate::id_map as id_hash;

use crate::error::{Error, Result};
use crate::event::{Event, MessageType};
use crate::id_map::IdMap;
pub use crate::options::{DeflateOptions, TlsVersion};
use crate::options::{Fingerprint, Proxy, Target};
use conn::{Conn, Env};
use crossbeam_channel::{Receiver, Sender, unbounded};
use mio::{Events, Poll, Token, Waker};
use parking_lot::{Mutex, MutexGuard};
use resolver::Resolver;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the caller may stay away from `poll_event` before the fallback
/// thread takes over the I/O.
pub(crate) const GRACE: Duration = Duration::from_millis(10);
/// Longest a poller with a deadline waits for the fallback thread's turn
/// beyond that deadline (see `Context::poll_event`); a turn never waits on
/// I/O, so this bound is only reached on a machine too busy to run it.
const FALLBACK_TURN_WAIT: Duration = Duration::from_millis(100);

const WAKE: Token = Token(usize::MAX);

/// CPU time per loop turn for connections that are still connecting
/// (TCP, proxy, TLS and opening handshakes); the rest wait for the next
/// turn, which follows at once. Open connections are served every turn,
/// so their wait stays near this bound however many handshakes run (see
/// docs/tls.md).
const HANDSHAKE_BUDGET: Duration = Duration::from_millis(4);

/// The default event queue limit of a context, in bytes (see
/// [`Context::set_event_queue_limit`]).
pub const DEFAULT_EVENT_QUEUE_LIMIT: usize = 16 << 20;

/// Ids of clients: unique in the process, never reused.
static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// What a fired timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKind {
    Connect,
    Handshake,
    Close,
    Ping,
    Pong,
    Reconnect,
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

    fn pop_due(&mut self, now: Instant) -> Option<(u64, u64, TimerKind)> {
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
    fn compact(&mut self, live: impl Fn(u64, u64) -> bool) {
        if self.heap.len() < self.compact_at {
            return;
        }
        self.heap
            .retain(|Reverse((_, id, generation, _))| live(*id, *generation));
        self.compact_at = (self.heap.len() * 2).max(Self::MIN_COMPACT);
    }

    fn next_in(&self, now: Instant) -> Option<Duration> {
        self.heap
            .peek()
            .map(|Reverse((at, ..))| at.saturating_duration_since(now))
    }
}

/// What `send` did with an accepted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    /// Written to the socket whole.
    Written,
    /// Queued: before the handshake (written right after it, in order), or
    /// the socket was full (written as it drains).
    Queued,
}

/// A client's connection state (Workerman's `STATUS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created, never connected.
    Initial,
    /// Resolving, connecting, in the opening handshake, or waiting to
    /// reconnect.
    Connecting,
    /// Open.
    Established,
    /// In the closing handshake.
    Closing,
    /// Closed.
    Closed,
}

/// Everything behind the context lock.
pub(crate) struct Engine {
    poll: Poll,
    mio_events: Events,
    /// Ready sockets of this turn: token, and whether the peer's FIN (or an
    /// error) was part of the readiness (see `read_ahead`).
    ready: Vec<(Token, bool)>,
    /// Ready sockets of connections still connecting that this turn's
    /// handshake budget ([`HANDSHAKE_BUDGET`]) did not reach: driven first
    /// thing next turn, which does not wait.
    postponed: Vec<(Token, bool)>,
    /// Resolver answers this turn's budget did not reach.
    answers: std::collections::VecDeque<resolver::Answer>,
    /// Handshake work done this turn (see [`HANDSHAKE_BUDGET`]).
    spent: Duration,
    /// Makes the context fd readable while postponed work remains.
    waker: Arc<Waker>,
    clients: IdMap<Conn>,
    timers: Timers,
    /// Clients (id, generation) with a read error to act on at the start of
    /// the next turn, after the caller has had the messages before it.
    deferred: Vec<(u64, u64)>,
    resolver: Resolver,
    tx: Sender<Event>,
    /// Bytes of the events queued and not yet taken by the caller
    /// ([`Event::queued_size`]), shared with [`Shared`].
    queued: Arc<AtomicUsize>,
    /// Past this many queued bytes, clients stop reading their sockets.
    queue_limit: usize,
    /// Clients (id, generation) that stopped reading at the queue limit,
    /// to read again once the caller has taken half of it.
    throttled: Vec<(u64, u64)>,
    /// The shared TLS configurations, by settings.
    tls: tls::TlsCache,
}

impl Engine {
    fn with_conn<R>(&mut self, id: u64, f: impl FnOnce(&mut Conn, &mut Env) -> R) -> Option<R> {
        let Engine {
            poll,
            clients,
            timers,
            deferred,
            resolver,
            tx,
            queued,
            queue_limit,
            throttled,
            tls,
            ..
        } = self;
        let conn = clients.get_mut(&id)?;
        let mut env = Env {
            registry: poll.registry(),
            events: tx,
            timers,
            deferred,
            resolver,
            queued,
            queue_limit: *queue_limit,
            throttled,
            tls,
        };
        Some(f(conn, &mut env))
    }

    fn run_timers(&mut self, now: Instant) {
        while let Some((id, generation, kind)) = self.timers.pop_due(now) {
            self.with_conn(id, |c, env| {
                if c.generation == generation {
                    c.timer(env, kind);
                }
            });
        }
    }

    /// Resolver answers start TCP connects (a connect(2) each): within
    /// this turn's handshake budget; the rest wait, in order, for the next.
    fn drain_resolver(&mut self) {
        while let Some(a) = self.resolver.try_answer() {
            self.answers.push_back(a);
        }
        while self.spent < HANDSHAKE_BUDGET
            && let Some(a) = self.answers.pop_front()
        {
            let t = Instant::now();
            self.with_conn(a.client_id, |c, env| c.resolved(env, a.generation, a.addrs));
            self.spent += t.elapsed();
        }
    }

    /// One turn: timers, resolver answers, then wait for I/O up to
    /// `timeout` (capped by the next timer) and handle it. `Ok(false)` when
    /// a signal interrupted the wait.
    fn turn(&mut self, timeout: Option<Duration>) -> Result<bool> {
        if !self.throttled.is_empty() && self.queued.load(Ordering::SeqCst) <= self.queue_limit / 2
        {
            for (id, generation) in std::mem::take(&mut self.throttled) {
                self.with_conn(id, |c, env| {
                    if c.generation == generation {
                        c.unthrottle(env);
                    }
                });
            }
        }
        for (id, generation) in std::mem::take(&mut self.deferred) {
            self.with_conn(id, |c, env| {
                if c.generation == generation {
                    c.fail_deferred(env);
                }
            });
        }
        self.spent = Duration::ZERO;
        let now = Instant::now();
        self.run_timers(now);
        let clients = &self.clients;
        self.timers
            .compact(|id, generation| clients.get(&id).is_some_and(|c| c.generation == generation));
        self.drain_resolver();
        let timeout = match (timeout, self.timers.next_in(now)) {
            // The work above queued events, or handshakes wait their turn:
            // look at the sockets, do not wait.
            _ if !self.tx.is_empty() || !self.postponed.is_empty() || !self.answers.is_empty() => {
                Some(Duration::ZERO)
            }
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut interrupted = false;
        if let Err(e) = self.poll.poll(&mut self.mio_events, timeout) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(Error::Io(format!("epoll_wait: {e}")));
            }
            interrupted = true;
            self.mio_events.clear();
        }
        let mut ready = std::mem::take(&mut self.ready);
        // Postponed handshakes first, in their order, then this turn's.
        ready.append(&mut self.postponed);
        ready.extend(
            self.mio_events
                .iter()
                .map(|e| (e.token(), e.is_read_closed() || e.is_error())),
        );
        // Open connections are always served; connections in TCP, proxy,
        // TLS or opening handshake get at most HANDSHAKE_BUDGET of this
        // turn (TLS handshakes cost CPU: hundreds ready at once would
        // otherwise hold every open connection back for as long).
        for (token, read_closed) in ready.drain(..) {
            if token == WAKE {
                continue;
            }
            let id = token.0 as u64;
            let connecting = self
                .clients
                .get(&id)
                .is_some_and(|c| c.status() == Status::Connecting);
            if !connecting {
                self.with_conn(id, |c, env| c.drive_ready(env, read_closed));
            } else if self.spent < HANDSHAKE_BUDGET {
                let t = Instant::now();
                self.with_conn(id, |c, env| c.drive_ready(env, read_closed));
                self.spent += t.elapsed();
            } else {
                self.postponed.push((token, read_closed));
            }
        }
        self.ready = ready;
        self.drain_resolver();
        if !self.postponed.is_empty() || !self.answers.is_empty() {
            // The context fd says there is work (callers that wait on it).
            let _ = self.waker.wake();
        }
        self.run_timers(Instant::now());
        Ok(!interrupted)
    }
}

/// The state shared by a context, its clients and its fallback thread.
pub(crate) struct Shared {
    engine: Mutex<Engine>,
    rx: Receiver<Event>,
    /// The engine's count of queued event bytes.
    queued: Arc<AtomicUsize>,
    waker: Arc<Waker>,
    poll_fd: RawFd,
    /// Threads waiting for the lock while a poller may sit in epoll_wait.
    lock_wanted: AtomicUsize,
    /// Callers inside `poll_event` now.
    in_poll: AtomicUsize,
    /// When a caller last left `poll_event`, in ms since `epoch`.
    last_exit_ms: AtomicU64,
    epoch: Instant,
    shutdown: AtomicBool,
    /// The fallback thread sleeps until a caller leaves `poll_event`.
    fallback_parked: AtomicBool,
    /// The fallback thread holds the engine lock for one turn that does not
    /// wait (set after it took the lock, cleared before it lets go).
    fallback_turning: AtomicBool,
    fallback: Mutex<Option<std::thread::Thread>>,
    /// `fork::generation()` when the context was made.
    fork_generation: u64,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Takes the engine lock; if a poller holds it (maybe inside
    /// epoll_wait), wakes it so it hands the lock over. The wake is repeated
    /// every 2 ms while the lock stays taken: a wake can be consumed by a
    /// poller that then returns an event instead of handing over.
    fn lock(&self) -> MutexGuard<'_, Engine> {
        if let Some(g) = self.engine.try_lock() {
            return g;
        }
        self.lock_wanted.fetch_add(1, Ordering::SeqCst);
        let g = loop {
            let _ = self.waker.wake();
            if let Some(g) = self.engine.try_lock_for(Duration::from_millis(2)) {
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
    fn hand_over(&self, g: &mut MutexGuard<'_, Engine>) {
        if self.lock_wanted.load(Ordering::SeqCst) > 0 {
            MutexGuard::unlocked_fair(g, || {
                while self.lock_wanted.load(Ordering::SeqCst) > 0 {
                    std::thread::yield_now();
                }
            });
        }
    }

    /// Takes the next queued event, if any, and counts it off the queue.
    fn pop(&self) -> Option<Event> {
        let ev = self.rx.try_recv().ok()?;
        self.queued.fetch_sub(ev.queued_size(), Ordering::SeqCst);
        Some(ev)
    }

    /// True in a `fork()` child of the process that made the context.
    fn forked(&self) -> bool {
        fork::generation() != self.fork_generation
    }

    fn check_open(&self) -> Result<()> {
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
struct Presence<'a>(&'a Shared);

impl<'a> Presence<'a> {
    fn enter(s: &'a Shared) -> Self {
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

/// A context: the event loop that owns a poller, its clients, their timers
/// and the event queue, and one fallback thread. Thread-safe (`Send +
/// Sync`); see the module docs for who drives the I/O.
pub struct Context {
    shared: Arc<Shared>,
    fallback: Mutex<Option<JoinHandle<()>>>,
}

impl Context {
    /// Creates a context and starts its fallback thread.
    ///
    /// Errors: [`Error::Io`] when the poller, its waker or the thread cannot
    /// be created (e.g. the open-files limit).
    pub fn new() -> Result<Context> {
        crate::sys::raise_open_files_limit();
        let poll = Poll::new().map_err(|e| Error::Io(format!("epoll_create: {e}")))?;
        let waker = Arc::new(
            Waker::new(poll.registry(), WAKE).map_err(|e| Error::Io(format!("eventfd: {e}")))?,
        );
        let poll_fd = poll.as_raw_fd();
        let (tx, rx) = unbounded();
        let queued = Arc::new(AtomicUsize::new(0));
        let engine = Engine {
            poll,
            mio_events: Events::with_capacity(256),
            ready: Vec::with_capacity(256),
            postponed: Vec::new(),
            answers: Default::default(),
            spent: Duration::ZERO,
            waker: waker.clone(),
            clients: IdMap::default(),
            timers: Timers::default(),
            deferred: Vec::new(),
            resolver: Resolver::new(waker.clone()),
            tx,
            queued: queued.clone(),
            queue_limit: DEFAULT_EVENT_QUEUE_LIMIT,
            throttled: Vec::new(),
            tls: tls::TlsCache::default(),
        };
        let shared = Arc::new(Shared {
            engine: Mutex::new(engine),
            rx,
            queued,
            waker,
            poll_fd,
            lock_wanted: AtomicUsize::new(0),
            in_poll: AtomicUsize::new(0),
            last_exit_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            shutdown: AtomicBool::new(false),
            fallback_parked: AtomicBool::new(false),
            fallback_turning: AtomicBool::new(false),
            fallback: Mutex::new(None),
            fork_generation: fork::generation(),
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
        self.shared.lock().clients.insert(id, Conn::new(id, target));
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
    pub fn poll_event(&self, timeout: Option<Duration>) -> Result<Option<Event>> {
        let s = &*self.shared;
        if s.forked() {
            return Err(Error::Forked);
        }
        if let Some(ev) = s.pop() {
            return Ok(Some(ev));
        }
        s.check_open()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let _presence = Presence::enter(s);
        // Pollers do not count in `lock_wanted` (two pollers would hand the
        // lock back and forth); one waits here, within its own deadline,
        // while another drives the I/O.
        let mut g = match deadline {
            Some(d) => match s.engine.try_lock_until(d) {
                Some(g) => g,
                // The fallback thread is in a turn that does not wait, but it
                // may not have taken the readiness off the poller yet (a busy
                // machine can deschedule it for milliseconds right there). An
                // empty return now would leave the context fd readable, and an
                // outer loop that polls with a zero timeout whenever the fd is
                // readable would spin (hundreds of empty wakes) until the turn
                // ends: wait for the turn instead, bounded.
                None if s.fallback_turning.load(Ordering::SeqCst) => {
                    match s.engine.try_lock_for(FALLBACK_TURN_WAIT) {
                        Some(g) => g,
                        None => return Ok(s.pop()),
                    }
                }
                None => return Ok(s.pop()),
            },
            None => s.engine.lock(),
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
    ///
    /// Errors: as [`Context::poll_event`].
    pub fn poll_events(&self, timeout: Option<Duration>, max: usize) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        if let Some(first) = self.poll_event(timeout)? {
            out.push(first);
            while out.len() < max {
                match self.shared.pop() {
                    Some(ev) => out.push(ev),
                    None => break,
                }
            }
        }
        Ok(out)
    }

    /// The context's file descriptor (the epoll fd): readable whenever
    /// `poll_event(Some(Duration::ZERO))` has work to do. Owned by the
    /// context; valid until it is dropped.
    pub fn fd(&self) -> RawFd {
        self.shared.poll_fd
    }

    /// Sets the event queue limit, in bytes (default
    /// [`DEFAULT_EVENT_QUEUE_LIMIT`], 16 MiB): once the events waiting for
    /// the caller (payloads plus 64 bytes each) exceed it, the context stops
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

/// A client: one WebSocket connection to one URL, reconnectable, owned by
/// a [`Context`]. Thread-safe. Dropping it closes its connection at once.
pub struct Client {
    shared: Arc<Shared>,
    id: u64,
}

impl Client {
    /// The id found in [`Event::client_id`]: unique in the process.
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
    /// before the connection is closed (1006) with a timeout error; 0 turns
    /// the check off. Default 10000.
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
    /// handshake.
    ///
    /// Errors: [`Error::InvalidUtf8`], [`Error::NotConnected`] (not
    /// delivered), [`Error::BufferFull`] (not accepted).
    pub fn send(&self, message_type: MessageType, data: &[u8]) -> Result<SendStatus> {
        self.with(|c, env| c.send(env, message_type, data))
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
    /// milliseconds, doubled for each attempt in a row that does not open,
    /// up to `longest_ms`, less a random part of up to half (jitter, so
    /// that many clients do not reconnect in step). `first_ms == 0` turns it
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

    /// Connect through a proxy from the next connect on: `url` is
    /// `http://[user:pass@]host:port` (HTTP CONNECT; user and password go
    /// as Basic `Proxy-Authorization`) or `socks5://[user:pass@]host:port`
    /// (SOCKS5, the target's name resolved by the proxy); `None` = direct.
    /// `authorization` (HTTP only): a whole `Proxy-Authorization` value,
    /// used instead of the URL's user and password.
    ///
    /// Errors: [`Error::InvalidArgument`] naming what is wrong in the URL.
    pub fn set_proxy(&self, url: Option<&str>, authorization: Option<&str>) -> Result<()> {
        let proxy = url.map(|u| Proxy::parse(u, authorization)).transpose()?;
        self.with(|c, _| {
            c.opts.proxy = proxy;
            Ok(())
        })
    }

    /// The connection state.
    pub fn status(&self) -> Result<Status> {
        self.with(|c, _| Ok(c.status()))
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
            let g = s.engine.lock();
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
