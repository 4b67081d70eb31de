//! Liveness beyond ping/pong, against real servers over loopback
//! (tests/servers/liveness_ws_server.py: Debian's python3-websockets; the
//! echo server): the application heartbeat as the server hears it, the
//! receive-idle timeout on a feed that goes quiet while pings still work
//! (and the automatic reconnect after it), any received frame counting as
//! liveness for the pong timeout, and the link metrics of a live
//! connection.

mod common;
use common::*;
use std::time::{Duration, Instant};
use wsc::error::TimeoutKind;
use wsc::{Context, Error, EventKind, MessageType};

fn client_of(ctx: &Context, url: &str) -> wsc::Client {
    ctx.client(url).expect("client")
}

/// The texts of the text messages among `events`.
fn texts(events: &[wsc::Event]) -> Vec<String> {
    events
        .iter()
        .filter(|e| is_message(e))
        .map(text_of)
        .collect()
}

#[test]
fn a_text_heartbeat_is_sent_every_interval_and_heard_by_the_server() {
    let server = PyServer::start("liveness_ws_server.py");
    let ctx = Context::new().unwrap();
    let client = client_of(&ctx, &server.url("/heard"));
    client
        .set_heartbeat(100, MessageType::Text, b"{\"op\":\"ping\"}")
        .unwrap();
    let t0 = Instant::now();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let first = wait_event(&ctx, Duration::from_secs(3), is_message);
    let first_after = t0.elapsed();
    assert_eq!(text_of(&first), "heard text {\"op\":\"ping\"}");
    // Not before the interval after the open (which follows `t0`).
    assert!(first_after >= Duration::from_millis(100), "{first_after:?}");
    let mut heard = 1;
    let deadline = Instant::now() + Duration::from_secs(5);
    while heard < 4 && Instant::now() < deadline {
        let ev = wait_event(&ctx, Duration::from_secs(3), is_message);
        assert_eq!(text_of(&ev), "heard text {\"op\":\"ping\"}");
        heard += 1;
    }
    assert_eq!(heard, 4);
    let m = client.metrics().unwrap();
    assert!(m.messages_sent >= 4, "{m:?}");
    // Turned off: no more after the next connect.
    client.set_heartbeat(0, MessageType::Text, b"").unwrap();
    client.reconnect(Duration::ZERO).unwrap();
    wait_for(&ctx, WAIT, is_open);
    let after = drain(&ctx, Duration::from_millis(400));
    assert!(texts(&after).is_empty(), "{after:?}");
}

#[test]
fn a_binary_heartbeat_goes_as_binary() {
    let server = PyServer::start("liveness_ws_server.py");
    let ctx = Context::new().unwrap();
    let client = client_of(&ctx, &server.url("/heard"));
    client
        .set_heartbeat(50, MessageType::Binary, &[0x00, 0x01, 0xfe])
        .unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let ev = wait_event(&ctx, Duration::from_secs(3), is_message);
    assert_eq!(text_of(&ev), "heard binary 0001fe");
}

#[test]
fn a_heartbeat_of_invalid_text_is_refused() {
    let ctx = Context::new().unwrap();
    let client = client_of(&ctx, "ws://127.0.0.1:1/");
    assert!(matches!(
        client.set_heartbeat(100, MessageType::Text, b"\xff"),
        Err(Error::InvalidUtf8)
    ));
}

#[test]
fn a_feed_that_goes_quiet_is_failed_after_the_idle_timeout_and_reconnects() {
    let server = PyServer::start("liveness_ws_server.py");
    let ctx = Context::new().unwrap();
    // Ticks 100 ms apart, far under the timeout even on a busy machine.
    let client = client_of(&ctx, &server.url("/feed?count=4&interval_ms=100"));
    client.set_idle_timeout(1000).unwrap();
    // Pings keep working while the feed is quiet: they must not count.
    client.set_ping_interval(100).unwrap();
    client.set_reconnect_backoff(50, 50).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let seen = wait_for(&ctx, Duration::from_secs(10), is_error);
    // The four ticks arrived, pongs too.
    let ticks = texts(&seen);
    assert_eq!(ticks, ["tick 1", "tick 2", "tick 3", "tick 4"], "{seen:?}");
    let pongs = seen
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Pong(_)))
        .count();
    assert!(pongs >= 3, "{pongs} pongs while quiet: {seen:?}");
    let at_tick4 = seen
        .iter()
        .rposition(is_message)
        .expect("a tick before the error");
    assert!(
        seen[at_tick4..]
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Pong(_)))
            .count()
            >= 2,
        "pings answered while quiet: {seen:?}"
    );
    match error_of(seen.last().unwrap()) {
        Error::Timeout(r) => {
            assert_eq!(r.kind, TimeoutKind::Idle);
            assert!(
                r.to_string()
                    .contains("no message from the server within 1000 ms"),
                "{r}"
            );
        }
        other => panic!("expected an idle timeout, got {other:?}"),
    }
    let closed = wait_event(&ctx, WAIT, is_closed);
    assert_eq!(closed_of(&closed).0, 1006);
    // The automatic reconnect opens again, and the feed starts over.
    let again = wait_for(&ctx, WAIT, is_open);
    assert!(again.iter().all(|e| !is_error(e)), "{again:?}");
    let tick = wait_event(&ctx, WAIT, is_message);
    assert_eq!(text_of(&tick), "tick 1");
    let m = client.metrics().unwrap();
    assert_eq!((m.connects, m.reconnects, m.opens), (2, 1, 2), "{m:?}");
}

#[test]
fn the_idle_timeout_does_not_fire_while_messages_flow() {
    let server = PyServer::start("liveness_ws_server.py");
    let ctx = Context::new().unwrap();
    // 20 ticks 100 ms apart: 2 s of traffic, each gap far below 1 s.
    let client = client_of(&ctx, &server.url("/feed?count=20&interval_ms=100"));
    client.set_idle_timeout(1000).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let seen = wait_for(&ctx, Duration::from_secs(15), |e| {
        is_message(e) && text_of(e) == "tick 20"
    });
    assert!(
        seen.iter().all(|e| !is_error(e) && !is_closed(e)),
        "{seen:?}"
    );
    // Then it goes quiet: the timeout fires.
    let ev = wait_event(&ctx, Duration::from_secs(10), |e| {
        is_error(e) || is_closed(e)
    });
    assert!(
        matches!(error_of(&ev), Error::Timeout(r) if r.kind == TimeoutKind::Idle),
        "{ev:?}"
    );
}

#[test]
fn any_received_frame_counts_as_liveness_for_the_pong_timeout() {
    let server = PyServer::start("liveness_ws_server.py");
    let ctx = Context::new().unwrap();
    // Never a pong, but a message every 50 ms for 1.5 s.
    let client = client_of(&ctx, &server.url("/feed?count=30&interval_ms=50&pong=0"));
    client.set_ping_interval(100).unwrap();
    client.set_pong_timeout(1000).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let seen = wait_for(&ctx, Duration::from_secs(15), |e| {
        is_error(e) || (is_message(e) && text_of(e) == "tick 30")
    });
    assert!(
        seen.iter().all(|e| !is_error(e)),
        "failed while messages flowed: {seen:?}"
    );
    assert!(seen.iter().all(|e| !matches!(e.kind, EventKind::Pong(_))));
    // Quiet and no pongs: now the pong timeout fires.
    let ev = wait_event(&ctx, Duration::from_secs(10), |e| {
        is_error(e) || is_closed(e)
    });
    assert!(
        matches!(error_of(&ev), Error::Timeout(r) if r.kind == TimeoutKind::Pong),
        "{ev:?}"
    );
}

#[test]
fn the_metrics_of_a_live_connection() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = client_of(&ctx, &server.url("/"));
    let before = client.metrics().unwrap();
    assert_eq!(before, wsc::LinkMetrics::default());
    client.set_ping_interval(50).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    for i in 0..10u8 {
        client.send(MessageType::Binary, &[i; 100]).unwrap();
    }
    let mut echoes = 0;
    let mut pongs = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while (echoes < 10 || pongs < 3) && Instant::now() < deadline {
        match ctx.poll_event(Some(Duration::from_millis(100))).unwrap() {
            Some(e) if is_message(&e) => echoes += 1,
            Some(e) if matches!(e.kind, EventKind::Pong(_)) => pongs += 1,
            _ => {}
        }
    }
    assert_eq!((echoes, pongs >= 3), (10, true));
    let m = client.metrics().unwrap();
    assert_eq!(m.messages_sent, 10);
    assert_eq!(m.messages_received, 10);
    assert_eq!(m.payload_bytes_sent, 1000);
    assert_eq!(m.payload_bytes_received, 1000);
    let (read, written) = client.bytes().unwrap();
    assert_eq!((m.wire_bytes_read, m.wire_bytes_written), (read, written));
    assert!(m.wire_bytes_written > 1000 + 10 * 8, "{m:?}");
    assert!(m.rtt_samples >= 3, "{m:?}");
    let rtt = m.rtt_last.expect("an RTT after pongs");
    assert!(
        rtt > Duration::ZERO && rtt < Duration::from_secs(2),
        "{m:?}"
    );
    assert!(m.rtt_smoothed.is_some() && m.rtt_variation.is_some());
    assert_eq!((m.connects, m.reconnects, m.opens), (1, 0, 1));
    let c = m.connect;
    assert_eq!(c.dns, None, "an IP address is not resolved");
    assert_eq!((c.proxy, c.tls), (None, None));
    let (tcp, hs, total) = (c.tcp.unwrap(), c.handshake.unwrap(), c.total.unwrap());
    assert!(total >= tcp + hs, "{c:?}");
    // A reconnect is counted, and a host name is resolved.
    client.reconnect(Duration::ZERO).unwrap();
    wait_for(&ctx, WAIT, is_open);
    let m = client.metrics().unwrap();
    assert_eq!((m.connects, m.reconnects, m.opens), (2, 1, 2));
    let named = client_of(&ctx, &server.url("/").replace("127.0.0.1", "localhost"));
    named.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let t = named.metrics().unwrap().connect;
    assert!(t.dns.is_some() && t.tcp.is_some(), "{t:?}");
}
