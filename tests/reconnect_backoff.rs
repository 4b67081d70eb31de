//! Automatic reconnects with exponential backoff and jitter: off by
//! default (Workerman's behaviour); when on, the delays double per failed
//! attempt up to the longest, a server that comes back is reached without
//! the caller's help, and the caller's close stops it.

mod common;
use common::*;
use std::time::{Duration, Instant};
use wsc::{Context, Status};

#[test]
fn delays_double_up_to_the_longest_with_jitter() {
    let ctx = Context::new().unwrap();
    let client = ctx
        .client(&format!("ws://127.0.0.1:{}/", refused_port()))
        .unwrap();
    client.set_reconnect_backoff(100, 400).unwrap();
    client.connect().unwrap();
    let mut closed_at = Vec::new();
    while closed_at.len() < 5 {
        wait_for(&ctx, Duration::from_secs(3), is_closed);
        closed_at.push(Instant::now());
        assert_eq!(
            client.status().unwrap(),
            Status::Connecting,
            "a reconnect is pending"
        );
    }
    // Gaps between failures: the delays 100, 200, 400, 400 ms, each less a
    // random part of up to half, plus the (fast) refused connect.
    let gaps: Vec<u128> = closed_at
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    for (gap, delay) in gaps.iter().zip([100u128, 200, 400, 400]) {
        assert!(
            *gap + 5 >= delay / 2 && *gap <= delay + 150,
            "gap {gap} ms for a delay of {delay} ms (all gaps: {gaps:?})"
        );
    }
    client.close(1000, "").unwrap();
    assert_eq!(
        client.status().unwrap(),
        Status::Closed,
        "close cancels the pending reconnect"
    );
}

#[test]
fn a_server_that_comes_back_is_reached_without_the_callers_help() {
    let mut server = EchoServer::start();
    let addr = server.addr.clone();
    let (ctx, client, _) = open(&server.url("/"));
    client.set_reconnect_backoff(50, 200).unwrap();
    server.kill();
    wait_for(&ctx, WAIT, is_closed);
    // A few attempts fail while the server is away.
    wait_for(&ctx, WAIT, is_closed);
    let _server = EchoServer::start_on(&addr);
    let seen = wait_for(&ctx, WAIT, is_open);
    assert!(seen.iter().any(is_open));
    assert_eq!(client.status().unwrap(), Status::Established);
}

#[test]
fn off_by_default_and_never_after_the_callers_close() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/close/4000"));
    wait_for(&ctx, WAIT, is_closed);
    assert_eq!(
        client.status().unwrap(),
        Status::Closed,
        "no reconnect by default"
    );
    assert!(
        ctx.poll_event(Some(Duration::from_millis(300)))
            .unwrap()
            .is_none()
    );

    let (ctx, client, _) = open(&server.url("/"));
    client.set_reconnect_backoff(50, 100).unwrap();
    client.close(1000, "bye").unwrap();
    wait_for(&ctx, WAIT, is_closed);
    assert_eq!(client.status().unwrap(), Status::Closed);
    assert!(
        ctx.poll_event(Some(Duration::from_millis(400)))
            .unwrap()
            .is_none(),
        "no reconnect after the caller's close"
    );
}

#[test]
fn longest_below_first_is_refused() {
    let ctx = Context::new().unwrap();
    let client = ctx.client("ws://127.0.0.1:1/").unwrap();
    assert!(matches!(
        client.set_reconnect_backoff(500, 100),
        Err(wsc::Error::InvalidArgument(_))
    ));
}
