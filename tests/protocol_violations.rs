//! A server that breaks RFC 6455 after the handshake: the client fails
//! the connection (§7.1.7) with the matching error and close code (1002
//! protocol error, 1007 invalid payload, 1009 too big), and sends that
//! code to the server in a close frame.

mod common;
use common::*;
use std::io::Write;
use std::time::{Duration, Instant};
use wsc::{Context, Error, EventKind, MessageType};

/// A raw server that answers the handshake, sends `bytes`, and returns the
/// close frame the client sends back.
fn misbehave(bytes: Vec<u8>) -> RawServer<ClientFrame> {
    RawServer::start(move |mut s| {
        accept_ws(&mut s);
        s.write_all(&bytes).unwrap();
        read_close_frame(&mut s)
    })
}

/// How long the client may take to fail the connection once the bad
/// bytes are on the loopback: nothing waits for a timer.
const PROMPT: Duration = Duration::from_secs(2);

/// Connects to `server`, waits for the end, and returns the events after
/// `Open`.
fn run(server: &RawServer<ClientFrame>, max_message_size: usize) -> Vec<wsc::Event> {
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    client.set_limits(max_message_size, 0).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    wait_for(&ctx, PROMPT, is_closed)
}

/// The last two events are `Error(e)` then `Closed{code, clean: false}`;
/// returns `e`.
fn failed_with(seen: &[wsc::Event], code: u16) -> Error {
    assert!(seen.len() >= 2, "{seen:?}");
    let e = error_of(&seen[seen.len() - 2]);
    let (got, _, clean) = closed_of(&seen[seen.len() - 1]);
    assert_eq!((got, clean), (code, false), "{seen:?}");
    e
}

fn assert_close_sent(f: &ClientFrame, code: u16) {
    assert!(f.masked, "the client's close frame is masked: {f:?}");
    assert_eq!(f.first, 0x88, "{f:?}");
    assert_eq!(f.close_code(), Some(code), "{f:?}");
}

#[test]
fn rsv1_set_without_an_extension_is_a_protocol_error_1002() {
    // FIN + RSV1 + text: no extension was negotiated (§5.2).
    let server = misbehave(frame(0x80 | 0x40 | 0x1, b"compressed?", None));
    let seen = run(&server, 0);
    assert!(
        matches!(failed_with(&seen, 1002), Error::Protocol(_)),
        "{seen:?}"
    );
    assert!(!seen.iter().any(is_message), "{seen:?}");
    assert_close_sent(&server.join(), 1002);
}

#[test]
fn rsv3_set_is_a_protocol_error_1002() {
    let server = misbehave(frame(0x80 | 0x10 | 0x2, b"x", None));
    let seen = run(&server, 0);
    assert!(matches!(failed_with(&seen, 1002), Error::Protocol(_)));
    assert_close_sent(&server.join(), 1002);
}

#[test]
fn masked_frame_from_the_server_is_a_protocol_error_1002() {
    // §5.1: "A client MUST close a connection if it detects a masked frame."
    let server = misbehave(frame(0x81, b"masked", Some([1, 2, 3, 4])));
    let seen = run(&server, 0);
    assert!(matches!(failed_with(&seen, 1002), Error::Protocol(_)));
    assert!(!seen.iter().any(is_message), "{seen:?}");
    assert_close_sent(&server.join(), 1002);
}

#[test]
fn reserved_opcode_is_a_protocol_error_1002() {
    let server = misbehave(frame(0x80 | 0x3, b"?", None));
    let seen = run(&server, 0);
    assert!(matches!(failed_with(&seen, 1002), Error::Protocol(_)));
    assert_close_sent(&server.join(), 1002);
}

#[test]
fn fragmented_ping_is_a_protocol_error_1002() {
    // Control frames must not be fragmented (§5.5).
    let server = misbehave(frame(0x09, b"p", None));
    let seen = run(&server, 0);
    assert!(matches!(failed_with(&seen, 1002), Error::Protocol(_)));
    assert_close_sent(&server.join(), 1002);
}

#[test]
fn invalid_utf8_in_a_text_message_is_1007() {
    // A valid message first, then one with a byte that is never UTF-8.
    let mut bytes = frame(0x81, "fine ✓".as_bytes(), None);
    bytes.extend(frame(0x81, &[b'a', 0xff, b'b'], None));
    let server = misbehave(bytes);
    let seen = run(&server, 0);
    assert_eq!(text_of(&seen[0]), "fine ✓");
    assert!(
        matches!(failed_with(&seen, 1007), Error::InvalidPayload(_)),
        "{seen:?}"
    );
    assert_eq!(seen.iter().filter(|e| is_message(e)).count(), 1);
    assert_close_sent(&server.join(), 1007);
}

#[test]
fn invalid_utf8_across_fragments_is_1007() {
    // "€" is E2 82 AC; the second fragment continues it wrongly.
    let mut bytes = frame(0x01, &[b'x', 0xe2, 0x82], None);
    bytes.extend(frame(0x80, &[0x41], None));
    let server = misbehave(bytes);
    let seen = run(&server, 0);
    assert!(matches!(failed_with(&seen, 1007), Error::InvalidPayload(_)));
    assert_close_sent(&server.join(), 1007);
}

#[test]
fn message_at_the_limit_passes_and_over_it_is_1009() {
    let mut bytes = frame(0x82, &[7u8; 1000], None);
    bytes.extend(frame(0x82, &[8u8; 1001], None));
    let server = misbehave(bytes);
    let seen = run(&server, 1000);
    match &seen[0].kind {
        EventKind::Message { message_type, data } => {
            assert_eq!((*message_type, data.len()), (MessageType::Binary, 1000))
        }
        other => panic!("the 1000-byte message first, got {other:?}"),
    }
    assert!(
        matches!(failed_with(&seen, 1009), Error::MessageTooBig(_)),
        "{seen:?}"
    );
    assert_close_sent(&server.join(), 1009);
}

#[test]
fn fragmented_message_over_the_limit_is_1009() {
    // Each frame is under the limit; the joined message is not.
    let mut bytes = frame(0x02, &[1u8; 600], None);
    bytes.extend(frame(0x80, &[2u8; 600], None));
    let server = misbehave(bytes);
    let seen = run(&server, 1000);
    assert!(
        matches!(failed_with(&seen, 1009), Error::MessageTooBig(_)),
        "{seen:?}"
    );
    assert!(!seen.iter().any(is_message), "{seen:?}");
    assert_close_sent(&server.join(), 1009);
}

#[test]
fn failure_right_after_a_message_is_reported_without_waiting_for_the_poll_timeout() {
    // The message and the violation arrive together; the message is
    // delivered first, then Error and Closed follow at once, not when the
    // caller's poll_event timeout runs out.
    let mut bytes = frame(0x81, b"last words", None);
    bytes.extend(frame(0x80 | 0x40 | 0x1, b"bad", None));
    let server = misbehave(bytes);
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let first = ctx.poll_event(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(text_of(&first.expect("the message")), "last words");
    let t0 = Instant::now();
    let next = ctx.poll_event(Some(Duration::from_secs(5))).unwrap();
    let waited = t0.elapsed();
    let next = next.expect("the Error event");
    assert!(matches!(error_of(&next), Error::Protocol(_)), "{next:?}");
    assert!(
        waited < Duration::from_millis(500),
        "Error came after {waited:?} inside poll_event(5 s)"
    );
    let (code, _, clean) = closed_of(
        &ctx.poll_event(Some(Duration::ZERO))
            .unwrap()
            .expect("Closed"),
    );
    assert_eq!((code, clean), (1002, false));
    assert_close_sent(&server.join(), 1002);
}
