//! Text and binary messages round-trip through a real echo server, in order,
//! with the events of a connection's lifetime in order.

mod common;
use common::*;
use wsc::{Context, EventKind, MessageType, SendStatus};

#[test]
fn text_and_binary_round_trip_in_order() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_open);
    assert!(matches!(seen[0].kind, EventKind::Connected), "{seen:?}");
    let EventKind::Open { response_head } = &seen.last().unwrap().kind else {
        unreachable!()
    };
    let head = std::str::from_utf8(response_head).unwrap();
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    assert!(head.ends_with("\r\n\r\n"), "{head}");

    assert_eq!(
        client.send(MessageType::Text, b"hello").unwrap(),
        SendStatus::Written
    );
    client.send(MessageType::Binary, &[0, 1, 2, 255]).unwrap();
    let big = vec![7u8; 1 << 20];
    client.send(MessageType::Binary, &big).unwrap();
    let seen = wait_for(
        &ctx,
        WAIT,
        |ev| matches!(&ev.kind, EventKind::Message { data, .. } if data.len() == 1 << 20),
    );
    let got: Vec<_> = seen
        .into_iter()
        .filter_map(|ev| match ev.kind {
            EventKind::Message { message_type, data } => Some((message_type, data)),
            _ => None,
        })
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], (MessageType::Text, "hello".into()));
    assert_eq!(got[1], (MessageType::Binary, vec![0u8, 1, 2, 255].into()));
    assert_eq!(got[2].1.len(), 1 << 20);

    client.close(1000, "done").unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    match &seen.last().unwrap().kind {
        EventKind::Closed {
            code,
            reason,
            clean,
        } => {
            assert_eq!((*code, reason.as_str(), *clean), (1000, "done", true));
        }
        _ => unreachable!(),
    }
}
