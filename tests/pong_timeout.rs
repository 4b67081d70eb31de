//! Dead-peer detection: a server that stops answering pings is noticed
//! after the pong timeout (an `Error::Timeout`, then `Closed` 1006), and a
//! server that answers them is not disturbed.

mod common;
use common::*;
use std::time::{Duration, Instant};
use wsc::{Context, Error, EventKind};

fn open_with_keepalive(url: &str) -> (Context, wsc::Client) {
    let ctx = Context::new().unwrap();
    let client = ctx.client(url).unwrap();
    client.set_ping_interval(100).unwrap();
    client.set_pong_timeout(300).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    (ctx, client)
}

#[test]
fn a_server_that_never_answers_pings_is_closed_after_the_pong_timeout() {
    let server = EchoServer::start();
    let (ctx, _client) = open_with_keepalive(&server.url("/no-pong"));
    let t0 = Instant::now();
    let seen = wait_for(&ctx, Duration::from_secs(3), is_closed);
    let took = t0.elapsed();
    let n = seen.len();
    assert!(n >= 2, "{seen:?}");
    match &seen[n - 2].kind {
        EventKind::Error(Error::Timeout(msg)) => {
            assert!(msg.contains("no pong"), "{msg}");
            assert_eq!(msg.kind, wsc::error::TimeoutKind::Pong);
        }
        other => panic!("expected a timeout error, got {other:?}"),
    }
    match &seen[n - 1].kind {
        EventKind::Closed { code, clean, .. } => assert_eq!((*code, *clean), (1006, false)),
        other => panic!("{other:?}"),
    }
    // First ping at 100 ms, its pong due 300 ms later.
    assert!(took >= Duration::from_millis(350), "closed after {took:?}");
}

#[test]
fn a_server_that_answers_pings_stays_open() {
    let server = EchoServer::start();
    let (ctx, _client) = open_with_keepalive(&server.url("/"));
    let deadline = Instant::now() + Duration::from_millis(1200);
    let mut pongs = 0;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match ctx.poll_event(Some(left)).unwrap().map(|e| e.kind) {
            Some(EventKind::Pong(_)) => pongs += 1,
            Some(other) => panic!("unexpected {other:?}"),
            None => {}
        }
    }
    assert!(
        pongs >= 5,
        "{pongs} pongs in 1.2 s with a 100 ms ping interval"
    );
}

#[test]
fn a_pong_timeout_of_zero_turns_the_check_off() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/no-pong")).unwrap();
    client.set_ping_interval(50).unwrap();
    client.set_pong_timeout(0).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    assert!(
        ctx.poll_event(Some(Duration::from_millis(600)))
            .unwrap()
            .is_none()
    );
}
