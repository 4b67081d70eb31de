//! The socket reads under tungstenite (src/engine/read_ahead.rs): bulk
//! reads through the connection's read-ahead buffer keep every byte in
//! order, and a short read is not taken for a drained socket when the
//! server's FIN came with the data (the FIN raises no new readiness).

mod common;
use common::*;
use std::io::Write;
use std::net::Shutdown;
use std::time::{Duration, Instant};
use wsc::{Context, EventKind, MessageType};

/// The server sends its close frame and its FIN at once, right after the
/// handshake settled; the client must see the FIN at once, not after its
/// close timeout (10 s here): the readiness event that brings the frame
/// already carries the FIN, and a short read of the frame says nothing
/// about it. Repeated, since the FIN must arrive before the client reads.
#[test]
fn a_close_frame_followed_at_once_by_the_fin_ends_the_connection_without_waiting() {
    for round in 0..10 {
        let server = RawServer::start(|mut s| {
            accept_ws(&mut s);
            std::thread::sleep(Duration::from_millis(50));
            let mut close = vec![0x03, 0xe8];
            close.extend_from_slice(b"bye");
            s.write_all(&frame(0x88, &close, None))
                .expect("close frame");
            s.shutdown(Shutdown::Write).expect("FIN");
            wait_eof(&mut s)
        });
        let ctx = Context::new().expect("context");
        let client = ctx.client(&server.url("/")).expect("client");
        client.set_close_timeout(10_000).expect("close timeout");
        client.connect().expect("connect");
        wait_for(&ctx, WAIT, is_open);
        let t0 = Instant::now();
        let closed = wait_event(&ctx, Duration::from_secs(5), is_closed);
        let (code, reason, clean) = closed_of(&closed);
        assert_eq!(
            (code, reason.as_str(), clean),
            (1000, "bye", true),
            "round {round}"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "round {round}: Closed came after {:?} (the close timeout is 10 s)",
            t0.elapsed()
        );
        assert!(server.join(), "round {round}: the client closed TCP");
    }
}

/// Large messages (read through the read-ahead buffer) come back byte for
/// byte, binary and text (the UTF-8 check sees the bytes in order), and
/// small ones between them (the buffer is given up and taken again).
#[test]
fn large_and_small_messages_in_turn_come_back_byte_for_byte() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    client.set_limits(16 << 20, 16 << 20).expect("limits");
    let binary: Vec<u8> = (0..(3 << 20) + 7).map(|i| (i * 7 % 256) as u8).collect();
    let text = "κόσμε €𝄞 ".repeat(60_000);
    let cases: Vec<(MessageType, Vec<u8>)> = vec![
        (MessageType::Binary, binary.clone()),
        (MessageType::Text, b"small".to_vec()),
        (MessageType::Text, text.clone().into_bytes()),
        (MessageType::Binary, vec![1, 2, 3]),
        (MessageType::Binary, binary[..(1 << 20)].to_vec()),
        (MessageType::Binary, binary[..4096].to_vec()),
        (MessageType::Binary, binary[..4097].to_vec()),
    ];
    for (i, (t, data)) in cases.iter().enumerate() {
        client.send(*t, data).expect("send");
        let ev = wait_event(&ctx, WAIT, is_message);
        match &ev.kind {
            EventKind::Message {
                message_type,
                data: got,
            } => {
                assert_eq!(message_type, t, "case {i}");
                assert!(
                    got[..] == data[..],
                    "case {i}: {} bytes back, {} sent",
                    got.len(),
                    data.len()
                );
            }
            other => panic!("case {i}: {other:?}"),
        }
    }
    // Several large messages in flight at once.
    for _ in 0..4 {
        client.send(MessageType::Binary, &binary).expect("send");
    }
    for i in 0..4 {
        let ev = wait_event(&ctx, WAIT, is_message);
        let EventKind::Message { data, .. } = &ev.kind else {
            panic!("{ev:?}")
        };
        assert!(data[..] == binary[..], "message {i} in flight");
    }
}
