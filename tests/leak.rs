//! Long runs stay flat: after a warm-up, 10,000 connect / send / echo /
//! close cycles and 1,000,000 echoed messages grow the process RSS
//! (`VmRSS`) by at most 2 MiB and leave no file descriptor or thread
//! behind. About 15 s in all on 2 cores (release build); `WSC_LONG=1`
//! multiplies the counts by 10. The tests of this file hold one lock so
//! that their figures do not mix.

mod common;
use common::*;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wsc::{Context, EventKind, MessageType};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Largest RSS growth accepted after the warm-up, in bytes.
const RSS_SLACK: i64 = 2 << 20;

fn factor() -> usize {
    if std::env::var("WSC_LONG").as_deref() == Ok("1") {
        10
    } else {
        1
    }
}

fn status_field(name: &str) -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
}

#[derive(Debug, Clone, Copy)]
struct Usage {
    rss: i64,
    fds: usize,
    /// wsc's threads only.
    threads: i64,
}

fn usage() -> Usage {
    Usage {
        rss: status_field("VmRSS") * 1024,
        fds: std::fs::read_dir("/proc/self/fd")
            .expect("/proc/self/fd")
            .count(),
        threads: wsc_threads(),
    }
}

/// wsc's own threads (`wsc-fallback`, `wsc-resolver`): the process's
/// thread count would also move with the test harness starting the next
/// test's thread meanwhile.
fn wsc_threads() -> i64 {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("wsc-"))
        .count() as i64
}

fn check_flat(what: &str, a: Usage, b: Usage, cause: &str) {
    println!(
        "{what}: RSS {} KiB -> {} KiB ({:+} KiB), fds {} -> {}, threads {} -> {}",
        a.rss / 1024,
        b.rss / 1024,
        (b.rss - a.rss) / 1024,
        a.fds,
        b.fds,
        a.threads,
        b.threads
    );
    assert!(
        b.fds <= a.fds,
        "{what}: {} file descriptors more: a socket, epoll or eventfd is not closed",
        b.fds - a.fds
    );
    assert!(
        b.threads <= a.threads,
        "{what}: {} threads more: a fallback or resolver thread is not joined",
        b.threads - a.threads
    );
    assert!(
        b.rss - a.rss <= RSS_SLACK,
        "{what}: RSS grew by {} KiB (limit {} KiB) after the warm-up: {cause}",
        (b.rss - a.rss) / 1024,
        RSS_SLACK / 1024
    );
}

/// One cycle: a new client, connect, send (queued before the handshake),
/// its echo, close 1000, `Closed`, drop.
fn cycle(ctx: &Context, url: &str, i: usize) {
    let client = ctx.client(url).expect("client");
    // Short timeouts: the timers of an ended attempt stay queued until they
    // are due (a bounded cost, cycles per second x the timeout); with 1 s
    // the warm-up reaches that steady state.
    client.set_timeouts(1000, 1000).expect("timeouts");
    client.set_close_timeout(1000).expect("close timeout");
    client.connect().expect("connect");
    client
        .send(MessageType::Text, format!("cycle {i}").as_bytes())
        .expect("send");
    wait_for(ctx, WAIT, is_message);
    client.close(1000, "bye").expect("close");
    let (code, _, clean) = closed_of(&wait_event(ctx, WAIT, is_closed));
    assert_eq!((code, clean), (1000, true), "cycle {i}");
}

#[test]
fn connect_send_close_cycles_do_not_grow_the_process() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let n = 10_000 * factor();
    let server = EchoServer::start();
    let url = server.url("/");
    let ctx = Context::new().expect("context");
    // Warm-up: a tenth of the cycles, and at least 1.5 s (the timers'
    // steady state, see `cycle`).
    let t0 = Instant::now();
    let mut i = 0;
    while i < n / 10 || t0.elapsed() < Duration::from_millis(1500) {
        cycle(&ctx, &url, i);
        i += 1;
    }
    let a = usage();
    let t0 = Instant::now();
    for i in 0..n {
        cycle(&ctx, &url, i);
    }
    let b = usage();
    println!("{n} cycles in {:?}", t0.elapsed());
    check_flat(
        "connect/send/close cycles",
        a,
        b,
        "a client, its connection or its events are kept after the client is dropped (engine \
         client map, timers, event queue)",
    );
}

/// Sends `n` messages, at most `window` unanswered, and counts the echoes.
fn messages(ctx: &Context, client: &wsc::Client, n: usize, window: usize) -> usize {
    let payload = [b'x'; 56];
    let (mut sent, mut echoed) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(600);
    while echoed < n {
        assert!(Instant::now() < deadline, "{echoed} of {n} echoes in 600 s");
        while sent < n && sent - echoed < window {
            match client.send(MessageType::Binary, &payload) {
                Ok(_) => sent += 1,
                Err(wsc::Error::BufferFull) => break,
                Err(e) => panic!("send {sent}: {e:?}"),
            }
        }
        let mut wait = if sent - echoed >= window {
            Some(Duration::from_millis(100))
        } else {
            Some(Duration::ZERO)
        };
        while let Some(ev) = ctx.poll_event(wait).expect("poll_event") {
            match ev.kind {
                EventKind::Message { .. } => echoed += 1,
                EventKind::BufferFull | EventKind::BufferDrain => {}
                other => panic!("unexpected {other:?}"),
            }
            wait = Some(Duration::ZERO);
            if sent - echoed < window / 2 {
                break;
            }
        }
    }
    echoed
}

#[test]
fn a_million_messages_do_not_grow_the_process() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let n = 1_000_000 * factor();
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    assert_eq!(messages(&ctx, &client, n / 10, 256), n / 10);
    let a = usage();
    let t0 = Instant::now();
    assert_eq!(messages(&ctx, &client, n, 256), n);
    let b = usage();
    println!("{n} messages in {:?}", t0.elapsed());
    check_flat(
        "messages",
        a,
        b,
        "messages or events are kept after delivery (unwritten list, read buffer, event queue)",
    );
    client.close(1000, "").expect("close");
    wait_for(&ctx, WAIT, is_closed);
}

#[test]
fn contexts_made_and_dropped_do_not_grow_the_process() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let n = 500 * factor();
    let make = |count: usize| {
        for _ in 0..count {
            let ctx = Context::new().expect("context");
            // A client dropped after its context.
            let client = ctx.client("ws://127.0.0.1:9/").expect("client");
            drop(ctx);
            drop(client);
        }
    };
    make(n / 10);
    let a = usage();
    make(n);
    let b = usage();
    check_flat(
        "context new/drop",
        a,
        b,
        "a context's threads, poller or queue outlive it",
    );
}
