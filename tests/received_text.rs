//! Received text is checked for UTF-8 once, by the client's own watch as
//! the bytes arrive (RFC 6455 §8.1); tungstenite is handed text frames as
//! binary and does not check them again. What a user sees stays: valid
//! text arrives as a text message (fragmented, split inside a character,
//! with a ping between the fragments, compressed, behind the 101 response
//! head), binary stays binary, and invalid UTF-8 fails the connection with
//! 1007 without delivering the broken message.

mod common;
use common::*;
use flate2::{Compress, Compression, FlushCompress};
use std::io::Write;
use wsc::{Context, DeflateOptions, Error, EventKind, MessageType};

/// How the raw server answers the handshake.
#[derive(Clone, Copy)]
enum Answer {
    Plain,
    /// Accepts permessage-deflate (RFC 7692) with the default parameters.
    Deflate,
}

/// A raw server that answers the handshake and sends `bytes` in the same
/// write as its 101 head (so they arrive behind it), then returns the close
/// frame the client sends, echoed (`None` when the client closed without
/// one).
fn serve(answer: Answer, bytes: Vec<u8>) -> RawServer<Option<ClientFrame>> {
    RawServer::start(move |mut s| {
        let req = read_request_head(&mut s);
        let mut head = response_101(&req);
        if let Answer::Deflate = answer {
            let offer = header_value(&req, "sec-websocket-extensions").unwrap_or_default();
            assert!(offer.starts_with("permessage-deflate"), "{req}");
            head.insert_str(
                head.len() - 2,
                "Sec-WebSocket-Extensions: permessage-deflate\r\n",
            );
        }
        let mut out = head.into_bytes();
        out.extend(bytes);
        s.write_all(&out).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        loop {
            match read_frame(&mut s) {
                Ok(f) if f.opcode() == 0x8 => {
                    // Completes the closing handshake (RFC 6455 §5.5.1).
                    let _ = s.write_all(&frame(0x88, &f.payload, None));
                    return Some(f);
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    })
}

/// Connects to `server` and returns the events after `Open`, up to and
/// including `Closed` (the server closes when it has sent `bytes` only if
/// the client fails the connection; otherwise the test closes it).
fn events(
    server: &RawServer<Option<ClientFrame>>,
    answer: Answer,
    until: usize,
) -> Vec<wsc::Event> {
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    if let Answer::Deflate = answer {
        client
            .set_compression(Some(DeflateOptions::default()))
            .unwrap();
    }
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let mut seen = Vec::new();
    let mut messages = 0;
    for _ in 0..10_000 {
        let ev = wait_event(&ctx, WAIT, |_| true);
        messages += usize::from(is_message(&ev));
        let done = is_closed(&ev);
        seen.push(ev);
        if done {
            return seen;
        }
        if messages == until {
            client.close(1000, "").unwrap();
        }
    }
    panic!("no Closed event: {seen:?}");
}

fn message(ev: &wsc::Event) -> (MessageType, Vec<u8>) {
    match &ev.kind {
        EventKind::Message { message_type, data } => (*message_type, data.to_vec()),
        other => panic!("expected a message, got {other:?}"),
    }
}

/// The client failed the connection with 1007 (invalid payload) after
/// delivering `messages` messages, and sent 1007 in its close frame.
fn assert_1007(seen: &[wsc::Event], server: RawServer<Option<ClientFrame>>, messages: usize) {
    assert_eq!(
        seen.iter().filter(|e| is_message(e)).count(),
        messages,
        "{seen:?}"
    );
    let n = seen.len();
    assert!(n >= 2, "{seen:?}");
    assert!(
        matches!(error_of(&seen[n - 2]), Error::InvalidPayload(_)),
        "{seen:?}"
    );
    assert_eq!(closed_of(&seen[n - 1]).0, 1007, "{seen:?}");
    let close = server.join().expect("the client's close frame");
    assert_eq!(close.close_code(), Some(1007), "{close:?}");
}

/// `text` compressed as one permessage-deflate message (RFC 7692 §7.2.1:
/// raw DEFLATE, sync-flushed, without the trailing 00 00 FF FF), with the
/// context of `z` (the server's context takeover).
fn deflate(z: &mut Compress, text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2 + 64);
    let before = z.total_in();
    z.compress_vec(text, &mut out, FlushCompress::Sync).unwrap();
    assert_eq!(z.total_in() - before, text.len() as u64);
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]), "{out:?}");
    out.truncate(out.len() - 4);
    out
}

#[test]
fn valid_text_arrives_as_text_and_binary_as_binary() {
    let text = "héllo wörld €𝄞".as_bytes();
    let big = "ü".repeat(512 * 1024); // 1 MiB, two bytes a character
    let mut bytes = frame(0x81, "plain ✓".as_bytes(), None);
    bytes.extend(frame(0x82, &[0xff, 0xfe, 0xc0], None)); // not UTF-8: binary
    bytes.extend(frame(0x01, &text[..2], None)); // cuts "é" in two
    bytes.extend(frame(0x89, b"between", None));
    bytes.extend(frame(0x00, &text[2..text.len() - 2], None)); // cuts "𝄞"
    bytes.extend(frame(0x80, &text[text.len() - 2..], None));
    bytes.extend(frame(0x81, big.as_bytes(), None));
    bytes.extend(frame(0x81, b"", None));
    let server = serve(Answer::Plain, bytes);
    let seen = events(&server, Answer::Plain, 5);
    let got: Vec<_> = seen.iter().filter(|e| is_message(e)).map(message).collect();
    let expected = [
        (MessageType::Text, "plain ✓".as_bytes().to_vec()),
        (MessageType::Binary, vec![0xff, 0xfe, 0xc0]),
        (MessageType::Text, text.to_vec()),
        (MessageType::Text, big.into_bytes()),
        (MessageType::Text, Vec::new()),
    ];
    assert_eq!(got.len(), expected.len(), "{seen:?}");
    for (g, e) in got.iter().zip(&expected) {
        assert!(
            g == e,
            "{:?} {} bytes, expected {:?} {} bytes",
            g.0,
            g.1.len(),
            e.0,
            e.1.len()
        );
    }
    assert!(
        seen.iter()
            .any(|e| matches!(&e.kind, EventKind::Ping(p) if p.as_ref() == b"between")),
        "{seen:?}"
    );
    assert_eq!(closed_of(seen.last().unwrap()).0, 1000);
    assert_eq!(server.join().and_then(|f| f.close_code()), Some(1000));
}

#[test]
fn invalid_utf8_in_a_plain_text_message_is_1007() {
    let mut bytes = frame(0x81, b"before", None);
    bytes.extend(frame(0x81, &[b'a', 0xed, 0xa0, 0x80, b'b'], None)); // a surrogate
    let server = serve(Answer::Plain, bytes);
    let seen = events(&server, Answer::Plain, usize::MAX);
    assert_eq!(text_of(&seen[0]), "before");
    assert_1007(&seen, server, 1);
}

#[test]
fn a_text_message_that_ends_inside_a_character_is_1007_and_not_delivered() {
    // "€" is E2 82 AC: the message ends after E2 82, at its last byte.
    let mut bytes = frame(0x81, b"before", None);
    bytes.extend(frame(0x81, &[b'x', 0xe2, 0x82], None));
    let server = serve(Answer::Plain, bytes);
    let seen = events(&server, Answer::Plain, usize::MAX);
    assert_1007(&seen, server, 1);
}

#[test]
fn invalid_utf8_in_a_fragment_after_a_ping_is_1007() {
    let mut bytes = frame(0x01, "ok €".as_bytes(), None);
    bytes.extend(frame(0x89, b"between", None));
    bytes.extend(frame(0x80, &[b'a', 0xff], None));
    let server = serve(Answer::Plain, bytes);
    let seen = events(&server, Answer::Plain, usize::MAX);
    assert!(
        seen.iter().any(|e| matches!(e.kind, EventKind::Ping(_))),
        "{seen:?}"
    );
    assert_1007(&seen, server, 0);
}

#[test]
fn compressed_text_is_checked_after_inflating() {
    let mut z = Compress::new(Compression::default(), false);
    let text = "compressed ✓ ".repeat(1000);
    let mut bytes = frame(0xc1, &deflate(&mut z, text.as_bytes()), None);
    // A compressed text message in two fragments (RSV1 on the first only).
    let whole = deflate(&mut z, "€uro".as_bytes());
    bytes.extend(frame(0x41, &whole[..1], None));
    bytes.extend(frame(0x89, b"between", None));
    bytes.extend(frame(0x80, &whole[1..], None));
    bytes.extend(frame(0xc2, &deflate(&mut z, &[0xff, 0xfe]), None));
    let server = serve(Answer::Deflate, bytes);
    let seen = events(&server, Answer::Deflate, 3);
    let got: Vec<_> = seen.iter().filter(|e| is_message(e)).map(message).collect();
    assert_eq!(
        got,
        [
            (MessageType::Text, text.into_bytes()),
            (MessageType::Text, "€uro".as_bytes().to_vec()),
            (MessageType::Binary, vec![0xff, 0xfe]),
        ]
    );
    assert_eq!(closed_of(seen.last().unwrap()).0, 1000);
}

#[test]
fn invalid_utf8_in_a_compressed_text_message_is_1007() {
    let mut z = Compress::new(Compression::default(), false);
    let mut bytes = frame(0xc1, &deflate(&mut z, b"before"), None);
    bytes.extend(frame(0xc1, &deflate(&mut z, &[b'a', 0xc0, 0xaf]), None));
    let server = serve(Answer::Deflate, bytes);
    let seen = events(&server, Answer::Deflate, usize::MAX);
    assert_eq!(text_of(&seen[0]), "before");
    assert_1007(&seen, server, 1);
}
