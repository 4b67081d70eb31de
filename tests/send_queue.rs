//! The send queue: messages sent before the handshake are queued and
//! delivered in order after it; messages that can never be written come
//! back as `Undelivered`; a closed client refuses with `NotConnected`; the
//! buffer limit refuses with `BufferFull`.

mod common;
use common::*;
use wsc::{Context, Error, EventKind, MessageType, SendStatus};

#[test]
fn sends_before_open_are_queued_then_delivered_in_order() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/opcode")).unwrap();
    // Before connect, and while connecting: queued.
    assert_eq!(
        client.send(MessageType::Text, b"1").unwrap(),
        SendStatus::Queued
    );
    client.connect().unwrap();
    assert_eq!(
        client.send(MessageType::Binary, b"2").unwrap(),
        SendStatus::Queued
    );
    assert_eq!(
        client.send(MessageType::Text, b"3").unwrap(),
        SendStatus::Queued
    );
    let seen = wait_for(&ctx, WAIT, is_open);
    assert!(
        !seen.iter().any(is_message),
        "nothing before Open: {seen:?}"
    );
    // After Open, while its BufferDrain is still queued (the caller is
    // dispatching a batch): corked, written after the queued ones when the
    // caller takes the next event.
    assert_eq!(
        client.send(MessageType::Text, b"4").unwrap(),
        SendStatus::Corked
    );
    // The queue was written right after Open: BufferDrain comes first
    // (Workerman's onBufferDrain after flushing what was sent early).
    let first = wait_event(&ctx, WAIT, |_| true);
    assert!(
        matches!(first.kind, wsc::EventKind::BufferDrain),
        "{first:?}"
    );
    let mut got = Vec::new();
    while got.len() < 4 {
        got.push(text_of(&wait_event(&ctx, WAIT, |_| true)));
    }
    assert_eq!(got, ["text:1", "binary:2", "text:3", "text:4"]);
}

#[test]
fn send_after_closed_is_not_connected() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    client.close(1000, "").unwrap();
    // Closing: refused already.
    assert_eq!(
        client.send(MessageType::Text, b"late"),
        Err(Error::NotConnected)
    );
    let (code, _, clean) = closed_of(&wait_event(&ctx, WAIT, is_closed));
    assert_eq!((code, clean), (1000, true));
    assert_eq!(
        client.send(MessageType::Text, b"later"),
        Err(Error::NotConnected)
    );
    assert_eq!(
        client.send(MessageType::Binary, b"later"),
        Err(Error::NotConnected)
    );
    // Refused, so not reported again as undelivered.
    let rest = drain(&ctx, std::time::Duration::from_millis(100));
    assert!(rest.is_empty(), "{rest:?}");
}

#[test]
fn send_after_a_failed_attempt_is_not_connected() {
    let ctx = Context::new().unwrap();
    let client = ctx
        .client(&format!("ws://127.0.0.1:{}/", refused_port()))
        .unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_closed);
    assert_eq!(
        client.send(MessageType::Text, b"x"),
        Err(Error::NotConnected)
    );
}

#[test]
fn queued_messages_toward_a_refused_port_come_back_undelivered_before_closed() {
    let ctx = Context::new().unwrap();
    let client = ctx
        .client(&format!("ws://127.0.0.1:{}/", refused_port()))
        .unwrap();
    client.send(MessageType::Text, b"first").unwrap();
    client.send(MessageType::Binary, &[0, 159, 255]).unwrap();
    client.connect().unwrap();
    client.send(MessageType::Text, b"third").unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let kinds: Vec<_> = seen.iter().map(|e| &e.kind).collect();
    assert_eq!(seen.len(), 5, "Error, 3 x Undelivered, Closed: {kinds:#?}");
    assert!(matches!(error_of(&seen[0]), Error::Connect(_)), "{kinds:?}");
    let undelivered: Vec<_> = seen[1..4]
        .iter()
        .map(|e| match &e.kind {
            EventKind::Undelivered { message_type, data } => (*message_type, data.to_vec()),
            other => panic!("expected Undelivered, got {other:?}"),
        })
        .collect();
    assert_eq!(
        undelivered,
        [
            (MessageType::Text, b"first".to_vec()),
            (MessageType::Binary, vec![0, 159, 255]),
            (MessageType::Text, b"third".to_vec()),
        ]
    );
    let (code, _, clean) = closed_of(&seen[4]);
    assert_eq!((code, clean), (1006, false));
}

#[test]
fn queued_bytes_over_the_send_buffer_limit_are_refused() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    client.set_limits(0, 10).unwrap();
    assert_eq!(
        client.send(MessageType::Binary, b"123456").unwrap(),
        SendStatus::Queued
    );
    // 6 bytes wait, under the limit: accepted, now 10 wait (the limit is
    // reached, and the status says so).
    assert_eq!(
        client.send(MessageType::Binary, b"7890").unwrap(),
        SendStatus::QueuedBufferFull
    );
    // 10 bytes wait: the limit is reached, nothing more is accepted.
    assert_eq!(
        client.send(MessageType::Binary, b"x"),
        Err(Error::BufferFull)
    );
    assert_eq!(client.send(MessageType::Text, b""), Err(Error::BufferFull));
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    // The queue drained into the socket: accepted again.
    assert_eq!(
        client.send(MessageType::Binary, b"after").unwrap(),
        SendStatus::Written
    );
    let mut got = Vec::new();
    while got.len() < 3 {
        match wait_event(&ctx, WAIT, is_message).kind {
            EventKind::Message { data, .. } => got.push(data.to_vec()),
            _ => unreachable!(),
        }
    }
    assert_eq!(
        got,
        [b"123456".to_vec(), b"7890".to_vec(), b"after".to_vec()]
    );
}

#[test]
fn messages_waiting_for_a_full_socket_come_back_undelivered_when_the_connection_breaks() {
    let (close_tx, close_rx) = std::sync::mpsc::channel::<()>();
    let server = RawServer::start(move |mut s| {
        accept_ws(&mut s);
        // Read nothing more: the client's socket fills up.
        close_rx.recv_timeout(RAW_IO).expect("told to close");
        // Unread data: the kernel answers with a reset, no close frame.
        drop(s);
    });
    let (ctx, client, _) = open(&server.url("/"));
    let mut last = None;
    for i in 0u32..2000 {
        let mut msg = vec![0u8; 64 * 1024];
        msg[..4].copy_from_slice(&i.to_be_bytes());
        match client.send(MessageType::Binary, &msg).unwrap() {
            // Corked only while a batch of events is dispatched: not here.
            SendStatus::Written | SendStatus::Corked => {}
            SendStatus::Queued | SendStatus::QueuedBufferFull => {
                last = Some(msg);
                break;
            }
        }
    }
    let last = last.expect("the socket filled up within 2000 x 64 KiB");
    close_tx.send(()).unwrap();
    server.join();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let (code, _, clean) = closed_of(seen.last().unwrap());
    assert_eq!((code, clean), (1006, false));
    let undelivered: Vec<_> = seen
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Undelivered { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .collect();
    assert!(
        undelivered.contains(&last),
        "the message still queued when the connection broke is reported \
         Undelivered before Closed; got {} Undelivered events and {:?}",
        undelivered.len(),
        seen.iter()
            .filter(|e| !matches!(e.kind, EventKind::Undelivered { .. }))
            .map(|e| &e.kind)
            .collect::<Vec<_>>()
    );
}

/// On an open connection whose server does not read, the send that makes
/// the waiting bytes reach the limit says so (`QueuedBufferFull`; before
/// the handshake, see `queued_bytes_over_the_send_buffer_limit_are_refused`);
/// the `BufferFull` event follows once for the episode.
#[test]
fn the_send_that_fills_the_buffer_says_so() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/stall/700"));
    client.set_limits(0, 256 * 1024).unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let last = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the send buffer never filled"
        );
        match client.send(MessageType::Binary, &chunk) {
            Ok(SendStatus::Written | SendStatus::Queued) => {}
            other => break other,
        }
    };
    assert_eq!(last, Ok(SendStatus::QueuedBufferFull));
    assert!(client.send_buffer_size().unwrap() >= 256 * 1024);
    assert_eq!(
        client.send(MessageType::Binary, b"x"),
        Err(Error::BufferFull)
    );
    let seen = wait_for(&ctx, WAIT, |e| matches!(e.kind, EventKind::BufferDrain));
    let full = seen
        .iter()
        .filter(|e| matches!(e.kind, EventKind::BufferFull))
        .count();
    assert_eq!(full, 1, "one BufferFull for the episode: {seen:?}");
}
