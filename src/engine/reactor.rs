//! The reactor: everything behind a context's lock. One turn runs the due
//! timers, takes the resolver's answers, waits on the poller and drives the
//! ready connections, within a CPU budget for handshakes.

use super::conn::{Conn, Env};
use super::resolver::{self, Resolver};
use super::timers::Timers;
use super::tls;
use crate::error::{Error, Result};
use crate::event::{Event, Status};
use crate::id_map::IdMap;
use crossbeam_channel::Sender;
use mio::{Events, Poll, Token, Waker};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The default event queue limit of a context, in bytes (see
/// [`Context::set_event_queue_limit`](crate::Context::set_event_queue_limit)):
/// 4 MiB. Measured with `make bench`'s push cases (a server streaming
/// 100- and 200-byte messages faster than a PHP caller takes them): CPU per
/// message is the same from 1 to 16 MiB, and the process's peak RSS grows
/// with the limit (PHP: 28-37 MiB at 16 MiB, 17-25 MiB at 4 MiB, against
/// Workerman's 12-19 MiB).
pub const DEFAULT_EVENT_QUEUE_LIMIT: usize = 4 << 20;

pub(super) const WAKE: Token = Token(usize::MAX);

/// CPU time per loop turn for connections that are still connecting
/// (TCP, proxy, TLS and opening handshakes); the rest wait for the next
/// turn, which follows at once. Open connections are served every turn,
/// so their wait stays near this bound however many handshakes run (see
/// docs/tls.md).
const HANDSHAKE_BUDGET: Duration = Duration::from_millis(4);

/// Everything behind the context lock (the reactor: poller, clients,
/// timers, resolver, event queue).
pub(crate) struct Reactor {
    pub(super) poll: Poll,
    pub(super) mio_events: Events,
    /// Ready sockets of this turn: token, and whether the peer's FIN (or an
    /// error) was part of the readiness (see `read_ahead`).
    pub(super) ready: Vec<(Token, bool)>,
    /// Ready sockets of connections still connecting that this turn's
    /// handshake budget ([`HANDSHAKE_BUDGET`]) did not reach: driven first
    /// thing next turn, which does not wait.
    pub(super) postponed: Vec<(Token, bool)>,
    /// Resolver answers this turn's budget did not reach.
    pub(super) answers: std::collections::VecDeque<resolver::Answer>,
    /// Handshake work done this turn (see [`HANDSHAKE_BUDGET`]).
    pub(super) spent: Duration,
    /// Makes the context fd readable while postponed work remains.
    pub(super) waker: Arc<Waker>,
    /// The clients, each boxed: a map's table holds about twice as many
    /// slots as entries (hashbrown keeps it at most 7/8 full and doubles
    /// it), so inline connections would cost twice their size each; boxed,
    /// a slot is 16 bytes.
    pub(super) clients: IdMap<Box<Conn>>,
    pub(super) timers: Timers,
    /// Clients (id, generation) with a read error to act on at the start of
    /// the next turn, after the caller has had the messages before it.
    pub(super) deferred: Vec<(u64, u64)>,
    pub(super) resolver: Resolver,
    pub(super) tx: Sender<Event>,
    /// Bytes of the events queued and not yet taken by the caller
    /// ([`Event::queued_size`]), shared with [`super::shared::Shared`].
    pub(super) queued: Arc<AtomicUsize>,
    /// Past this many queued bytes, clients stop reading their sockets.
    pub(super) queue_limit: usize,
    /// Clients (id, generation) that stopped reading at the queue limit,
    /// to read again once the caller has taken half of it.
    pub(super) throttled: Vec<(u64, u64)>,
    /// The shared TLS configurations, by settings.
    pub(super) tls: tls::TlsCache,
    /// Clients holding corked messages, written by [`Reactor::uncork_all`].
    pub(super) corked: Vec<u64>,
    /// `corked` is not empty (read without the lock; shared with
    /// `Shared::any_corked`).
    pub(super) any_corked: Arc<AtomicBool>,
    /// Threads waiting for this lock in `Shared::lock` (a caller's send,
    /// setting or connect): while one waits, a turn does no more
    /// handshake work than the first item (the rest is postponed to the
    /// next turn, as past [`HANDSHAKE_BUDGET`]), so that the lock is handed
    /// over within one connection's step, not the whole budget. Shared with
    /// `Shared::lock_wanted`.
    pub(super) lock_wanted: Arc<AtomicUsize>,
}

impl Reactor {
    /// A reactor around `poll` (with `waker` registered on it as
    /// [`WAKE`]), queueing events into `tx` and counting their bytes in
    /// `queued`.
    pub(super) fn new(
        poll: Poll,
        waker: Arc<Waker>,
        tx: Sender<Event>,
        queued: Arc<AtomicUsize>,
    ) -> Reactor {
        Reactor {
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
            queued,
            queue_limit: DEFAULT_EVENT_QUEUE_LIMIT,
            throttled: Vec::new(),
            tls: tls::TlsCache::default(),
            corked: Vec::new(),
            any_corked: Arc::new(AtomicBool::new(false)),
            lock_wanted: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Whether this turn may do more handshake work (TCP, proxy, TLS and
    /// opening handshakes, resolver answers): within [`HANDSHAKE_BUDGET`],
    /// and, while another thread waits for the lock, only the first item of
    /// the turn (so that handshakes still progress every turn).
    fn handshake_allowed(&self) -> bool {
        self.spent < HANDSHAKE_BUDGET
            && (self.spent.is_zero() || self.lock_wanted.load(Ordering::Relaxed) == 0)
    }

    pub(super) fn with_conn<R>(
        &mut self,
        id: u64,
        f: impl FnOnce(&mut Conn, &mut Env) -> R,
    ) -> Option<R> {
        let Reactor {
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
            corked,
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
            corked,
        };
        Some(f(conn, &mut env))
    }

    /// The batch of events the caller was dispatching ended: writes every
    /// client's corked messages (one write each).
    pub(super) fn uncork_all(&mut self) {
        if self.corked.is_empty() {
            return;
        }
        for id in std::mem::take(&mut self.corked) {
            self.with_conn(id, |c, env| c.uncork(env));
        }
        self.any_corked.store(false, Ordering::SeqCst);
    }

    pub(super) fn run_timers(&mut self, now: Instant) {
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
        while self.handshake_allowed()
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
    pub(super) fn turn(&mut self, timeout: Option<Duration>) -> Result<bool> {
        // A turn starts when the caller polls again after a batch, or the
        // fallback thread takes over: corked messages leave first.
        self.uncork_all();
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
        // otherwise hold every open connection back for as long), and only
        // one step while another thread waits for the lock (a caller
        // connecting 500 clients would otherwise wait out the fallback
        // thread's handshake work at every call).
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
            } else if self.handshake_allowed() {
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
