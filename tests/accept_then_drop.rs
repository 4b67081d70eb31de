//! The reconnect policy against a server this project did not write that
//! accepts the opening handshake and then drops the connection: Debian's
//! python3-websockets with its own asyncio server
//! (tests/servers/drop_ws_server.py, 127.0.0.1, killed by PID). Such a
//! server is not hammered: a connection that opened but did not stay open
//! `reconnect_reset_after` does not start the backoff over, whether the
//! server aborts TCP or closes cleanly with 1013; one that stayed open
//! long enough does.

mod common;

use common::*;
use wsc::{Client, Context, ReconnectReason};

/// What one attempt looked like: whether it opened, how it closed
/// (`(code, reason, clean)`), and the decision that followed.
#[derive(Debug)]
struct Attempt {
    opened: bool,
    closed: (u16, String, bool),
    decision: (u64, ReconnectReason, u32, String),
}

/// Connects with a backoff of `first_ms`..`longest_ms` (and a reset time
/// when given) and records `n` attempts, each up to its decision and the
/// `Closed` after it (bounded: 10 s per attempt); then closes.
fn attempts(
    url: &str,
    first_ms: u32,
    longest_ms: u32,
    reset_after_ms: Option<u32>,
    n: usize,
) -> Vec<Attempt> {
    let ctx = Context::new().unwrap();
    let client: Client = ctx.client(url).unwrap();
    client.set_reconnect_backoff(first_ms, longest_ms).unwrap();
    if let Some(ms) = reset_after_ms {
        client.set_reconnect_reset_after(ms).unwrap();
    }
    client.connect().unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        // The order is Open, (Error), Reconnect, Closed.
        let seen = wait_for(&ctx, WAIT, is_closed);
        let decision = seen
            .iter()
            .find(|e| is_reconnect(e))
            .map(reconnect_of)
            .unwrap_or_else(|| panic!("no decision: {seen:?}"));
        out.push(Attempt {
            opened: seen.iter().any(is_open),
            closed: closed_of(seen.last().unwrap()),
            decision,
        });
    }
    client.close(1000, "").unwrap();
    out
}

/// Each decision is the backoff at its attempt number (the first delay
/// doubled per attempt in a row up to the longest, less up to half of
/// jitter), and every attempt opened.
fn assert_growing(runs: &[Attempt], first_ms: u64, longest_ms: u64) {
    for (i, a) in runs.iter().enumerate() {
        let attempt = i as u32 + 1;
        let base = (first_ms << i).min(longest_ms);
        assert!(a.opened, "attempt {attempt} opened: {runs:#?}");
        assert_eq!(
            (a.decision.1, a.decision.2),
            (ReconnectReason::Backoff, attempt),
            "{runs:#?}"
        );
        assert!(
            a.decision.0 >= base / 2 && a.decision.0 <= base,
            "attempt {attempt}: {} ms for a backoff of {base} ms: {runs:#?}",
            a.decision.0
        );
    }
}

/// The server aborts TCP right after the 101: each connection opened,
/// ended without a closing handshake (1006), and the delays keep doubling.
#[test]
fn an_aborted_connection_right_after_the_handshake_grows_the_backoff() {
    let server = PyServer::start("drop_ws_server.py", &[]);
    let runs = attempts(&server.url("/drop"), 100, 800, None, 4);
    assert_growing(&runs, 100, 800);
    for a in &runs {
        assert_eq!((a.closed.0, a.closed.2), (1006, false), "{runs:#?}");
    }
}

/// The server closes cleanly with 1013 "try again later" right after the
/// 101: a clean close is no sign the server is healthy either; the delays
/// keep doubling, and the close code and reason reach the caller.
#[test]
fn a_clean_1013_close_right_after_the_handshake_grows_the_backoff() {
    let server = PyServer::start("drop_ws_server.py", &[]);
    let runs = attempts(&server.url("/close"), 100, 800, None, 4);
    assert_growing(&runs, 100, 800);
    for a in &runs {
        assert_eq!(
            a.closed,
            (1013, "try again later".to_string(), true),
            "{runs:#?}"
        );
    }
}

/// Connections that stay open 1.2 s (the server pings answered) before
/// the server drops them: with a reset time of 300 ms each stayed long
/// enough, so every decision starts over at attempt 1; with the default
/// reset time (10 s) the same server makes the backoff grow.
#[test]
fn a_connection_that_stayed_open_long_enough_starts_the_backoff_over() {
    let server = PyServer::start("drop_ws_server.py", &[]);
    let url = server.url("/drop?hold=1200");
    let runs = attempts(&url, 100, 800, Some(300), 3);
    for a in &runs {
        assert!(a.opened, "{runs:#?}");
        assert_eq!(
            (a.decision.1, a.decision.2),
            (ReconnectReason::Backoff, 1),
            "{runs:#?}"
        );
        assert!(a.decision.0 <= 100, "{runs:#?}");
    }
    let runs = attempts(&url, 100, 800, None, 3);
    assert_growing(&runs, 100, 800);
}
