//! The opening handshake (RFC 6455 §4.1): the raw response head as sent,
//! extra request headers, refusals (non-101 status, wrong accept key), the
//! handshake timeout, and a first frame sent in the same TCP write as the
//! 101 response.

mod common;
use common::*;
use std::io::Write;
use std::time::{Duration, Instant};
use wsc::{Context, Error, EventKind};

/// The `Open` event carries the server's response head byte for byte, up
/// to and including the empty line — header order, case and unknown
/// headers kept.
#[test]
fn open_carries_the_raw_response_head_as_sent() {
    let server = RawServer::start(|mut s| {
        let req = read_request_head(&mut s);
        let key = header_value(&req, "sec-websocket-key").unwrap();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nX-Odd-Case: Value  with  spaces\r\nupgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nServer: raw-test\r\n\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        assert!(wait_eof(&mut s), "the client closed TCP");
        head
    });
    let (ctx, client, seen) = open(&server.url("/"));
    assert!(matches!(seen[0].kind, EventKind::Connected), "{seen:?}");
    let EventKind::Open { response_head } = &seen.last().unwrap().kind else {
        unreachable!()
    };
    let got = String::from_utf8(response_head.to_vec()).unwrap();
    drop(client);
    drop(ctx);
    let sent = server.join();
    assert_eq!(got, sent);
}

/// `set_header` adds a request header; setting the same name again (in
/// another case) replaces it instead of sending both.
#[test]
fn set_header_is_sent_and_a_second_set_replaces_it() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/headers")).unwrap();
    client.set_header("X-Custom", "first").unwrap();
    client.set_header("Cookie", "a=1; b=2").unwrap();
    client.set_header("x-custom", "second").unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let json = text_of(&wait_event(&ctx, WAIT, is_message));
    assert!(json.contains(r#""x-custom":"second""#), "{json}");
    assert_eq!(json.matches(r#""x-custom":"#).count(), 1, "{json}");
    assert!(!json.contains("first"), "{json}");
    assert!(json.contains(r#""cookie":"a=1; b=2""#), "{json}");
}

/// A non-101 answer fails the attempt with `Error::Handshake` naming the
/// status, then `Closed` 1006 (not clean); no `Open`.
#[test]
fn status_403_is_a_handshake_error_naming_the_status() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/status/403")).unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let kinds: Vec<_> = seen.iter().map(|e| &e.kind).collect();
    assert_eq!(seen.len(), 3, "Connected, Error, Closed: {kinds:?}");
    assert!(matches!(seen[0].kind, EventKind::Connected), "{kinds:?}");
    match error_of(&seen[1]) {
        Error::Handshake(msg) => {
            assert!(msg.contains("HTTP 403 Forbidden"), "{msg}");
            assert_eq!(msg.kind.status(), Some(403));
        }
        other => panic!("expected Error::Handshake, got {other:?}"),
    }
    let (code, _, clean) = closed_of(&seen[2]);
    assert_eq!((code, clean), (1006, false));
    assert!(seen.iter().all(|e| e.client_id == client.id()));
}

/// A 101 with a wrong `Sec-WebSocket-Accept` is refused (RFC 6455 §4.1,
/// item 4 of the client's checks).
#[test]
fn wrong_accept_key_is_a_handshake_error() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/bad-accept")).unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    assert!(!seen.iter().any(is_open), "{seen:?}");
    let err = seen.iter().find(|e| is_error(e)).expect("an Error event");
    match error_of(err) {
        Error::Handshake(msg) => {
            assert!(msg.contains("Sec-WebSocket-Accept"), "{msg}");
            assert_eq!(msg.kind, wsc::error::HandshakeFault::Accept);
        }
        other => panic!("expected Error::Handshake, got {other:?}"),
    }
    let (code, _, clean) = closed_of(seen.last().unwrap());
    assert_eq!((code, clean), (1006, false));
}

/// A server that accepts TCP and never answers: `Error::Timeout` after
/// the handshake timeout, then `Closed` 1006.
#[test]
fn silent_server_times_out_the_handshake() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/silent")).unwrap();
    client.set_timeouts(0, 300).unwrap();
    let t0 = Instant::now();
    client.connect().unwrap();
    let seen = wait_for(&ctx, Duration::from_secs(5), is_closed);
    let elapsed = t0.elapsed();
    let err = seen.iter().find(|e| is_error(e)).expect("an Error event");
    assert!(
        matches!(error_of(err), Error::Timeout(_)),
        "expected Error::Timeout: {seen:?}"
    );
    if let Error::Timeout(t) = error_of(err) {
        assert_eq!(t.kind, wsc::error::TimeoutKind::Handshake);
    }
    let (code, _, clean) = closed_of(seen.last().unwrap());
    assert_eq!((code, clean), (1006, false));
    assert!(
        elapsed >= Duration::from_millis(290) && elapsed < Duration::from_secs(3),
        "timed out after {elapsed:?}, set 300 ms"
    );
}

/// A server that writes its first frame in the same TCP write as the 101
/// response: the frame is delivered after `Open`, and the head stops at
/// the empty line.
#[test]
fn frame_in_the_same_segment_as_the_101_is_delivered() {
    let server = RawServer::start(|mut s| {
        let req = read_request_head(&mut s);
        let head = response_101(&req);
        let mut bytes = head.clone().into_bytes();
        bytes.extend(frame(0x81, b"early bird", None));
        bytes.extend(frame(0x82, &[1, 2, 3], None));
        s.write_all(&bytes).unwrap();
        assert!(wait_eof(&mut s), "the client closed TCP");
        head
    });
    let (ctx, client, seen) = open(&server.url("/"));
    let EventKind::Open { response_head } = &seen.last().unwrap().kind else {
        unreachable!()
    };
    let head = String::from_utf8(response_head.to_vec()).unwrap();
    let first = wait_event(&ctx, WAIT, |_| true);
    assert_eq!(text_of(&first), "early bird");
    let second = wait_event(&ctx, WAIT, |_| true);
    match &second.kind {
        EventKind::Message { message_type, data } => {
            assert_eq!(*message_type, wsc::MessageType::Binary);
            assert_eq!(&data[..], &[1, 2, 3]);
        }
        other => panic!("expected the binary message, got {other:?}"),
    }
    drop(client);
    drop(ctx);
    assert_eq!(head, server.join());
}
