//! Back-pressure and the other connection controls of Workerman's API:
//! `BufferFull`/`BufferDrain` around the send buffer limit, `pause_recv`/
//! `resume_recv`, `abort` (destroy), `cancel_reconnect`, byte counts and
//! addresses.

mod common;
use common::*;
use std::io::Read;
use std::time::{Duration, Instant};
use wsc::{Context, Error, EventKind, MessageType, SendStatus, Status};

#[test]
fn a_full_send_buffer_is_reported_refuses_sends_and_drains() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/stall/700"));
    client.set_limits(0, 256 * 1024).unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    // The server reads nothing for 700 ms: the kernel buffers fill, then ours.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut queued = 0;
    let refused = loop {
        assert!(Instant::now() < deadline, "the send buffer never filled");
        match client.send(MessageType::Binary, &chunk) {
            Ok(SendStatus::Written | SendStatus::Corked) => {}
            Ok(SendStatus::Queued | SendStatus::QueuedBufferFull) => queued += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(refused, Error::BufferFull);
    assert!(queued >= 1);
    assert!(client.send_buffer_size().unwrap() >= 256 * 1024);
    let seen = wait_for(&ctx, WAIT, |e| matches!(e.kind, EventKind::BufferDrain));
    let kinds: Vec<_> = seen.iter().map(|e| format!("{:?}", e.kind)).collect();
    assert_eq!(kinds, ["BufferFull", "BufferDrain"], "{seen:?}");
    assert_eq!(client.send_buffer_size().unwrap(), 0);
    // Drained: sends are accepted again.
    client.send(MessageType::Binary, &chunk).unwrap();
}

#[test]
fn paused_reading_holds_messages_back_until_resumed() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    client.pause_recv().unwrap();
    for i in 0..20 {
        client
            .send(MessageType::Text, format!("m{i}").as_bytes())
            .unwrap();
    }
    assert!(
        ctx.poll_event(Some(Duration::from_millis(300)))
            .unwrap()
            .is_none(),
        "no message while paused"
    );
    client.resume_recv().unwrap();
    let mut got = Vec::new();
    while got.len() < 20 {
        let ev = wait_event(&ctx, WAIT, is_message);
        got.push(text_of(&ev));
    }
    let want: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    assert_eq!(got, want, "all of them, in order");
}

#[test]
fn a_pong_timeout_does_not_fire_while_reading_is_paused() {
    // Pings go out every 100 ms and the server answers them, but the pongs
    // sit unread in the socket while reading is paused: that is not a dead
    // server, so no timeout error may end the connection.
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    client.set_pong_timeout(300).unwrap();
    client.set_ping_interval(100).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    client.pause_recv().unwrap();
    let seen = drain(&ctx, Duration::from_millis(1500));
    assert!(
        !seen.iter().any(|e| is_error(e) || is_closed(e)),
        "the pong timeout fired while reading was paused: {seen:?}"
    );
    client.resume_recv().unwrap();
    wait_event(&ctx, WAIT, |e| matches!(e.kind, EventKind::Pong(_)));
    client.send(MessageType::Text, b"still open").unwrap();
    let ev = wait_event(&ctx, WAIT, is_message);
    assert_eq!(text_of(&ev), "still open");
}

#[test]
fn a_tiny_event_queue_limit_still_delivers_everything_in_order() {
    // With a limit of 0 the context reads one event at a time: every
    // message still arrives, in order.
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    ctx.set_event_queue_limit(0).unwrap();
    for i in 0..200 {
        client
            .send(MessageType::Text, format!("m{i}").as_bytes())
            .unwrap();
    }
    let mut got = Vec::new();
    while got.len() < 200 {
        let ev = wait_event(&ctx, WAIT, is_message);
        got.push(text_of(&ev));
    }
    let want: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    assert_eq!(got, want);
}

#[test]
fn abort_closes_at_once_without_a_close_frame() {
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        let mut rest = Vec::new();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.read_to_end(&mut rest);
        rest
    });
    let (ctx, client, _) = open(&server.url("/"));
    client.abort().unwrap();
    let seen = wait_for(&ctx, Duration::from_secs(1), is_closed);
    let (code, _, clean) = closed_of(seen.last().unwrap());
    assert_eq!((code, clean), (1006, false));
    assert_eq!(client.status().unwrap(), Status::Closed);
    assert!(
        server.join().is_empty(),
        "no close frame reached the server"
    );
}

#[test]
fn cancel_reconnect_stops_a_pending_reconnect() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    client.close(1000, "").unwrap();
    wait_for(&ctx, WAIT, is_closed);
    client.reconnect(Duration::from_millis(300)).unwrap();
    assert_eq!(client.status().unwrap(), Status::Connecting);
    client.cancel_reconnect().unwrap();
    assert_eq!(client.status().unwrap(), Status::Closed);
    assert!(
        ctx.poll_event(Some(Duration::from_millis(700)))
            .unwrap()
            .is_none()
    );
}

#[test]
fn byte_counts_and_addresses_are_those_of_the_connection() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    assert_eq!(client.bytes().unwrap(), (0, 0));
    assert_eq!(client.addresses().unwrap(), (None, None));
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    client.send(MessageType::Text, b"hello").unwrap();
    wait_for(&ctx, WAIT, is_message);
    let (read, written) = client.bytes().unwrap();
    // The request and the 101 response, then 11 bytes out and 7 in.
    assert!(
        written > 100 && read > 100,
        "{read} read, {written} written"
    );
    let (peer, local) = client.addresses().unwrap();
    assert_eq!(peer.unwrap().to_string(), server.addr);
    assert_eq!(local.unwrap().ip().to_string(), "127.0.0.1");
    client.reconnect(Duration::ZERO).unwrap();
    wait_for(&ctx, WAIT, is_open);
    let (read2, written2) = client.bytes().unwrap();
    assert!(
        read2 > read && written2 > written,
        "counts add up over reconnects"
    );
}
