//! Threads: a thread blocked in `poll_event` does not hold up `send` on
//! another thread; every echo reaches the polling thread, in order.

mod common;
use common::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wsc::{EventKind, MessageType};

const N: usize = 1000;

#[test]
fn sends_from_another_thread_are_not_blocked_by_a_waiting_poller() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    let ctx = Arc::new(ctx);
    let poller = {
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut got = Vec::with_capacity(N);
            while got.len() < N && Instant::now() < deadline {
                // Blocks up to 2 s at a time while nothing arrives.
                if let Some(ev) = ctx.poll_event(Some(Duration::from_secs(2))).unwrap() {
                    match ev.kind {
                        EventKind::Message { data, .. } => {
                            got.push(String::from_utf8(data.to_vec()).unwrap())
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
            }
            got
        })
    };
    // Let the poller settle inside epoll_wait with nothing to do.
    std::thread::sleep(Duration::from_millis(100));

    let t0 = Instant::now();
    for i in 0..N {
        client
            .send(MessageType::Text, format!("message {i}").as_bytes())
            .unwrap();
    }
    let sending = t0.elapsed();

    let got = poller.join().unwrap();
    let expected: Vec<String> = (0..N).map(|i| format!("message {i}")).collect();
    assert_eq!(got.len(), N, "all echoes arrive");
    assert_eq!(got, expected, "in order");
    // Each send takes the lock from the blocked poller; none waits for its
    // 2 s timeout.
    assert!(
        sending < Duration::from_millis(1000),
        "{N} sends took {sending:?} while another thread polled"
    );
}

#[test]
fn one_send_wakes_a_poller_blocked_in_epoll_wait() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    let ctx = Arc::new(ctx);
    let poller = {
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let ev = ctx.poll_event(Some(Duration::from_secs(3))).unwrap();
            (Instant::now(), ev.map(|e| e.kind))
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    client.send(MessageType::Text, b"one").unwrap();
    let sending = t0.elapsed();
    let (at, kind) = poller.join().unwrap();
    assert!(
        sending < Duration::from_millis(200),
        "send took {sending:?} while another thread waited in poll_event(3 s)"
    );
    match kind {
        Some(EventKind::Message { data, .. }) => assert_eq!(&data[..], b"one"),
        other => panic!("expected the echo, got {other:?}"),
    }
    assert!(
        at.duration_since(t0) < Duration::from_millis(500),
        "the echo reached the poller {:?} after the send",
        at.duration_since(t0)
    );
}

#[test]
fn two_threads_polling_share_the_events_without_loss() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    let ctx = Arc::new(ctx);
    let total = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let pollers: Vec<_> = (0..2)
        .map(|_| {
            let (ctx, total) = (ctx.clone(), total.clone());
            std::thread::spawn(move || {
                use std::sync::atomic::Ordering;
                let deadline = Instant::now() + Duration::from_secs(20);
                let mut mine = Vec::new();
                while total.load(Ordering::SeqCst) < 200 && Instant::now() < deadline {
                    let ev = ctx.poll_event(Some(Duration::from_millis(50))).unwrap();
                    if let Some(EventKind::Message { data, .. }) = ev.map(|e| e.kind) {
                        mine.push(String::from_utf8(data.to_vec()).unwrap());
                        total.fetch_add(1, Ordering::SeqCst);
                    }
                }
                mine
            })
        })
        .collect();
    for i in 0..200 {
        client
            .send(MessageType::Text, format!("{i:03}").as_bytes())
            .unwrap();
    }
    let mut all: Vec<String> = pollers
        .into_iter()
        .flat_map(|p| p.join().unwrap())
        .collect();
    all.sort();
    let expected: Vec<String> = (0..200).map(|i| format!("{i:03}")).collect();
    assert_eq!(all, expected, "each echo reaches exactly one poller");
}
