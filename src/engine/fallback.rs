//! The fallback thread: keeps a context's connections alive (reads, pongs,
//! pings, timers, reconnects) while no caller is inside `poll_event`, and
//! makes the context fd readable when it queued events. It never runs
//! foreign code and never holds the lock while it waits.

use super::shared::{GRACE, Shared};
use crate::error::{Error, Result};
use crate::sys::EpollWatch;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest sleep between turns while events wait for the caller (it is not
/// draining them, so the poller stays readable and cannot be waited on).
const QUEUED_TURN: Duration = Duration::from_millis(50);
/// Longest wait without anything due.
const IDLE_TURN: Duration = Duration::from_secs(1);

pub(crate) fn spawn(shared: Arc<Shared>) -> Result<JoinHandle<()>> {
    let watch =
        EpollWatch::new(shared.poll_fd).map_err(|e| Error::Io(format!("epoll_create: {e}")))?;
    std::thread::Builder::new()
        .name("wsc-fallback".into())
        .spawn(move || run(&shared, &watch))
        .map_err(|e| Error::Io(format!("cannot start the fallback thread: {e}")))
}

fn run(s: &Shared, watch: &EpollWatch) {
    loop {
        if s.shutdown.load(Ordering::SeqCst) {
            return;
        }
        // A caller inside poll_event drives the I/O: sleep until it leaves.
        if s.in_poll.load(Ordering::SeqCst) > 0 {
            s.fallback_parked.store(true, Ordering::SeqCst);
            if s.in_poll.load(Ordering::SeqCst) > 0 {
                std::thread::park_timeout(IDLE_TURN);
            }
            s.fallback_parked.store(false, Ordering::SeqCst);
            continue;
        }
        // A caller left it a moment ago: it will likely be back.
        let since = Duration::from_millis(
            s.now_ms()
                .saturating_sub(s.last_exit_ms.load(Ordering::SeqCst)),
        );
        if since < GRACE {
            std::thread::park_timeout(GRACE - since);
            continue;
        }
        let Some(mut g) = s.reactor.try_lock() else {
            std::thread::park_timeout(Duration::from_millis(1));
            continue;
        };
        // A poller that finds the lock taken waits for this turn instead of
        // returning empty-handed while the context fd is still readable.
        s.fallback_turning.store(true, Ordering::SeqCst);
        let turned = g.turn(Some(Duration::ZERO));
        let next = g
            .timers
            .next_in(std::time::Instant::now())
            .unwrap_or(IDLE_TURN)
            .min(IDLE_TURN);
        s.fallback_turning.store(false, Ordering::SeqCst);
        drop(g);
        if turned.is_err() {
            // epoll failed: nothing sensible to do but retry later.
            std::thread::park_timeout(QUEUED_TURN);
            continue;
        }
        if !s.rx.is_empty() {
            // Make the context fd readable for an outer event loop, then
            // sleep: the poller stays readable until the caller drains.
            let _ = s.waker.wake();
            std::thread::park_timeout(next.min(QUEUED_TURN));
        } else {
            watch.wait(next);
        }
    }
}
