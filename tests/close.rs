//! The closing handshake (RFC 6455 §7): started by the client, started by
//! the server, and a connection that breaks without one (1006).

mod common;
use common::*;
use std::io::Write;
use std::time::Duration;
use wsc::{EventKind, MessageType, Status};

#[test]
fn client_close_completes_cleanly_with_code_and_reason() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    client.close(1000, "bye").unwrap();
    assert_eq!(client.status().unwrap(), Status::Closing);
    let seen = wait_for(&ctx, WAIT, is_closed);
    assert_eq!(
        seen.len(),
        2,
        "the server's close frame, then Closed: {seen:?}"
    );
    assert!(
        matches!(&seen[0].kind, EventKind::CloseFrame { code: 1000, reason } if reason == "bye"),
        "{seen:?}"
    );
    let (code, reason, clean) = closed_of(&seen[1]);
    assert_eq!((code, reason.as_str(), clean), (1000, "bye", true));
    assert_eq!(client.status().unwrap(), Status::Closed);
}

#[test]
fn client_close_frame_on_the_wire_carries_code_and_reason() {
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        let f = read_close_frame(&mut s);
        // Echo it (RFC 6455 §5.5.1), then close TCP as a server does.
        s.write_all(&frame(0x88, &f.payload, None)).unwrap();
        f
    });
    let (ctx, client, _) = open(&server.url("/"));
    client.close(4321, "going away now").unwrap();
    let (code, reason, clean) = closed_of(&wait_event(&ctx, WAIT, is_closed));
    let f = server.join();
    assert!(f.masked, "client frames are masked");
    assert_eq!(f.first, 0x88, "FIN + close opcode");
    assert_eq!(f.close_code(), Some(4321));
    assert_eq!(&f.payload[2..], b"going away now");
    assert_eq!(
        (code, reason.as_str(), clean),
        (4321, "going away now", true)
    );
}

#[test]
fn server_initiated_close_is_reported_with_its_code_and_reason() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/close/4000"));
    let seen = wait_for(&ctx, WAIT, is_closed);
    assert_eq!(
        seen.len(),
        2,
        "the server's close frame, then Closed: {seen:?}"
    );
    assert!(
        matches!(&seen[0].kind, EventKind::CloseFrame { code: 4000, reason } if reason == "bye"),
        "{seen:?}"
    );
    let (code, reason, clean) = closed_of(&seen[1]);
    assert_eq!((code, reason.as_str(), clean), (4000, "bye", true));
    assert_eq!(client.status().unwrap(), Status::Closed);
}

#[test]
fn server_close_is_echoed_by_the_client() {
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        let mut payload = 1001u16.to_be_bytes().to_vec();
        payload.extend_from_slice(b"restart");
        s.write_all(&frame(0x88, &payload, None)).unwrap();
        let echo = read_close_frame(&mut s);
        // The server closes TCP first after the handshake (§7.1.1).
        drop(s);
        echo
    });
    let (ctx, _client, _) = open(&server.url("/"));
    let (code, reason, clean) = closed_of(&wait_event(&ctx, WAIT, is_closed));
    assert_eq!((code, reason.as_str(), clean), (1001, "restart", true));
    let echo = server.join();
    assert!(echo.masked);
    assert_eq!(echo.close_code(), Some(1001), "{echo:?}");
}

#[test]
fn server_close_without_a_code_is_1005() {
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        s.write_all(&frame(0x88, &[], None)).unwrap();
        read_close_frame(&mut s)
    });
    let (ctx, _client, _) = open(&server.url("/"));
    let (code, _, clean) = closed_of(&wait_event(&ctx, WAIT, is_closed));
    assert_eq!((code, clean), (1005, true));
    let echo = server.join();
    // An empty close frame is answered with an empty one or with 1000;
    // never with the reserved 1005 (RFC 6455 §7.4.1).
    assert_ne!(echo.close_code(), Some(1005), "{echo:?}");
}

#[test]
fn server_process_killed_is_closed_1006_not_clean() {
    let mut server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    client.send(MessageType::Text, b"ping me").unwrap();
    assert_eq!(text_of(&wait_event(&ctx, WAIT, is_message)), "ping me");
    server.kill();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let (code, _, clean) = closed_of(seen.last().unwrap());
    assert_eq!((code, clean), (1006, false), "{seen:?}");
    assert_eq!(client.status().unwrap(), Status::Closed);
}

#[test]
fn tcp_closed_mid_message_without_a_close_frame_is_1006() {
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        // The first fragment of a text message (FIN clear), then TCP ends.
        s.write_all(&frame(0x01, b"half of a ", None)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    });
    let (ctx, _client, _) = open(&server.url("/"));
    let seen = wait_for(&ctx, WAIT, is_closed);
    server.join();
    assert!(!seen.iter().any(is_message), "no partial message: {seen:?}");
    let (code, _, clean) = closed_of(seen.last().unwrap());
    assert_eq!((code, clean), (1006, false));
}

#[test]
fn close_before_open_ends_the_attempt() {
    let server = EchoServer::start();
    let ctx = wsc::Context::new().unwrap();
    let client = ctx.client(&server.url("/silent")).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, |e| matches!(e.kind, EventKind::Connected));
    client.close(1000, "never mind").unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let (code, _, clean) = closed_of(seen.last().unwrap());
    assert_eq!((code, clean), (1006, false));
    assert!(!seen.iter().any(is_open), "{seen:?}");
}
