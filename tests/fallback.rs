//! The fallback thread: while no caller is inside `poll_event`, it keeps
//! the connections alive (answers pings), queues what arrives in order,
//! and makes the context fd readable for an outer event loop.

mod common;
use common::*;
use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use wsc::EventKind;

/// Whether `fd` becomes readable within `ms` milliseconds (`poll`).
fn readable_within(fd: std::os::fd::RawFd, ms: i32) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; the fd is owned by a live context.
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    assert!(n >= 0, "poll: {}", std::io::Error::last_os_error());
    n == 1 && pfd.revents & libc::POLLIN != 0
}

#[test]
fn pings_are_answered_and_events_queued_while_nobody_polls() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let server = RawServer::start(move |mut s| {
        accept_ws(&mut s);
        go_rx
            .recv_timeout(RAW_IO)
            .expect("the test stopped polling");
        s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut pong_delays = Vec::new();
        for i in 0..3 {
            std::thread::sleep(Duration::from_millis(100));
            let ping = format!("p{i}");
            s.write_all(&frame(0x89, ping.as_bytes(), None)).unwrap();
            let t = Instant::now();
            let pong =
                read_frame(&mut s).unwrap_or_else(|e| panic!("no pong for {ping} within 1 s: {e}"));
            pong_delays.push(t.elapsed());
            assert_eq!((pong.first, &pong.payload[..]), (0x8a, ping.as_bytes()));
            s.write_all(&frame(0x81, format!("m{i}").as_bytes(), None))
                .unwrap();
        }
        s.set_read_timeout(Some(RAW_IO)).unwrap();
        read_close_frame(&mut s);
        pong_delays
    });
    let (ctx, client, _) = open(&server.url("/"));
    assert!(
        drain(&ctx, Duration::ZERO).is_empty(),
        "nothing queued after Open"
    );

    // Nobody polls for 1.5 s.
    go_tx.send(()).unwrap();
    std::thread::sleep(Duration::from_millis(1500));

    // Each fallback turn consumes the poller's readiness and re-arms it
    // right after (a window of some 100 us every 50 ms, in which a
    // zero-timeout check can miss it); an outer loop blocks on the fd, so
    // check as it would, with a short wait.
    assert!(
        readable_within(ctx.fd(), 100),
        "the context fd is readable while events wait"
    );
    let mut got = Vec::new();
    while got.len() < 6 {
        let ev = ctx
            .poll_event(Some(Duration::ZERO))
            .unwrap()
            .unwrap_or_else(|| panic!("6 events queued, got {got:?}"));
        got.push(match ev.kind {
            EventKind::Ping(p) => format!("ping {}", String::from_utf8_lossy(&p)),
            EventKind::Message { data, .. } => {
                format!("message {}", String::from_utf8_lossy(&data))
            }
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        got,
        [
            "ping p0",
            "message m0",
            "ping p1",
            "message m1",
            "ping p2",
            "message m2"
        ]
    );
    client.close(1000, "").unwrap();
    wait_for(&ctx, WAIT, is_closed);
    let delays = server.join();
    assert!(
        delays.iter().all(|d| *d < Duration::from_secs(1)),
        "{delays:?}"
    );
}

#[test]
fn context_fd_becomes_readable_when_the_fallback_thread_queues_an_event() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let server = RawServer::start(move |mut s| {
        accept_ws(&mut s);
        go_rx
            .recv_timeout(RAW_IO)
            .expect("the test stopped polling");
        std::thread::sleep(Duration::from_millis(200));
        s.write_all(&frame(0x81, b"wake up", None)).unwrap();
        read_close_frame(&mut s);
    });
    let (ctx, client, _) = open(&server.url("/"));
    // Once the fallback thread has taken over (10 ms after the last
    // poll_event, more on a loaded machine), an idle context's fd is not
    // readable (an outer loop waiting on it would spin).
    std::thread::sleep(Duration::from_millis(200));
    assert!(!readable_within(ctx.fd(), 0), "nothing waits yet");
    go_tx.send(()).unwrap();
    // An outer event loop waits on the fd, not in poll_event.
    let mut pfd = libc::pollfd {
        fd: ctx.fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let t0 = Instant::now();
    // SAFETY: one valid pollfd; the fd is owned by a live context.
    let n = unsafe { libc::poll(&mut pfd, 1, 3000) };
    let waited = t0.elapsed();
    assert_eq!(n, 1, "readable within 3 s");
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(1),
        "readable once the message arrived (200 ms), after {waited:?}"
    );
    let ev = ctx
        .poll_event(Some(Duration::ZERO))
        .unwrap()
        .expect("event");
    assert_eq!(text_of(&ev), "wake up");
    client.close(1000, "").unwrap();
    wait_for(&ctx, WAIT, is_closed);
    server.join();
}
