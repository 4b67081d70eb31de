//! Bad arguments are refused at the call with the exact error: URLs,
//! request headers, close codes and reasons, text that is not UTF-8.

mod common;
use common::*;
use std::time::Duration;
use wsc::{Context, Error, MessageType, SendStatus};

fn url_error(url: &str) -> String {
    let ctx = Context::new().unwrap();
    match ctx.client(url) {
        Err(Error::InvalidUrl(msg)) => msg,
        Err(other) => panic!("{url:?}: expected Error::InvalidUrl, got {other:?}"),
        Ok(_) => panic!("{url:?}: accepted"),
    }
}

#[test]
fn url_with_another_scheme_is_refused() {
    for url in [
        "http://127.0.0.1/",
        "https://example.com/",
        "ftp://h/",
        "tcp://127.0.0.1:1234",
    ] {
        let msg = url_error(url);
        assert!(msg.contains("scheme"), "{url}: {msg}");
    }
}

#[test]
fn url_without_a_host_is_refused() {
    for url in ["ws://", "ws://:1234/", "wss:///"] {
        url_error(url);
    }
}

#[test]
fn url_with_a_fragment_is_refused() {
    let msg = url_error("ws://127.0.0.1:1234/chat#part");
    assert!(msg.contains("fragment"), "{msg}");
    url_error("ws://127.0.0.1/#");
}

#[test]
fn garbage_url_is_refused() {
    for url in [
        "",
        "not a url",
        "ws//127.0.0.1",
        "ws://exa mple.com/",
        "ws://[::1/",
        "ws://h:99999/",
    ] {
        url_error(url);
    }
}

#[test]
fn good_urls_are_accepted() {
    let ctx = Context::new().unwrap();
    for url in [
        "ws://127.0.0.1:1234",
        "ws://localhost/chat?room=1",
        "wss://example.com/",
        "WS://EXAMPLE.COM/",
        "ws://[::1]:8080/",
    ] {
        ctx.client(url).unwrap_or_else(|e| panic!("{url:?}: {e:?}"));
    }
}

fn header_error(name: &str, value: &str) -> String {
    let ctx = Context::new().unwrap();
    let client = ctx.client("ws://127.0.0.1:1/").unwrap();
    match client.set_header(name, value) {
        Err(Error::InvalidHeader(msg)) => msg,
        Err(other) => panic!("{name:?}: {value:?}: expected Error::InvalidHeader, got {other:?}"),
        Ok(()) => panic!("{name:?}: {value:?}: accepted"),
    }
}

#[test]
fn empty_header_name_is_refused() {
    let msg = header_error("", "x");
    assert!(msg.contains("empty"), "{msg}");
}

#[test]
fn header_name_with_a_space_colon_or_newline_is_refused() {
    for name in ["X Bad", "X-Bad:", "X-Bad\r\nInjected", "X-Bad\n", " X"] {
        let msg = header_error(name, "v");
        assert!(
            msg.contains(&format!("{name:?}")),
            "the message names {name:?}: {msg}"
        );
    }
}

#[test]
fn header_value_with_cr_or_lf_is_refused() {
    for value in ["a\rb", "a\nb", "a\r\nX-Injected: 1", "\n", "a\0b"] {
        let msg = header_error("X-Custom", value);
        assert!(
            msg.contains("\"X-Custom\""),
            "the message names the header: {msg}"
        );
    }
}

#[test]
fn headers_the_handshake_sets_itself_are_refused() {
    for name in [
        "Sec-WebSocket-Key",
        "sec-websocket-key",
        "Sec-WebSocket-Version",
        "Upgrade",
        "Connection",
    ] {
        let msg = header_error(name, "x");
        assert!(msg.contains(&format!("{name:?}")), "{msg}");
    }
}

#[test]
fn ordinary_headers_are_accepted() {
    let ctx = Context::new().unwrap();
    let client = ctx.client("ws://127.0.0.1:1/").unwrap();
    client.set_header("Origin", "http://example.com").unwrap();
    client.set_header("Sec-WebSocket-Protocol", "chat").unwrap();
    client.set_header("X-Empty", "").unwrap();
    client.set_header("Cookie", "a=1; b=\"two\"").unwrap();
}

#[test]
fn close_codes_that_may_not_be_sent_are_refused() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, u16::MAX] {
        match client.close(code, "") {
            Err(Error::InvalidArgument(msg)) => {
                assert!(msg.contains(&code.to_string()), "{msg}")
            }
            other => panic!("close({code}): expected InvalidArgument, got {other:?}"),
        }
    }
    // Nothing was sent: the connection is still open and echoes.
    assert_eq!(client.status().unwrap(), wsc::Status::Established);
    client.send(MessageType::Text, b"still open").unwrap();
    assert_eq!(text_of(&wait_event(&ctx, WAIT, is_message)), "still open");
}

#[test]
fn close_reason_over_123_bytes_is_refused_and_123_is_sent() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    let long = "r".repeat(124);
    match client.close(1000, &long) {
        Err(Error::InvalidArgument(msg)) => assert!(msg.contains("124"), "{msg}"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    // 123 bytes in 41 three-byte characters: the limit is in bytes.
    let max = "€".repeat(41);
    assert_eq!(max.len(), 123);
    match client.close(1000, &(max.clone() + "x")) {
        Err(Error::InvalidArgument(_)) => {}
        other => panic!("124 bytes: expected InvalidArgument, got {other:?}"),
    }
    client.close(4001, &max).unwrap();
    let (code, reason, clean) = closed_of(&wait_event(&ctx, WAIT, is_closed));
    assert_eq!((code, reason.as_str(), clean), (4001, max.as_str(), true));
}

#[test]
fn text_that_is_not_utf8_is_refused() {
    let server = EchoServer::start();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    // Before connecting (it would be queued) ...
    assert_eq!(
        client.send(MessageType::Text, &[0x68, 0xff, 0x69]),
        Err(Error::InvalidUtf8)
    );
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    // ... and when open; a lone surrogate half and a truncated sequence.
    for bad in [
        &[0xed, 0xa0, 0x80][..],
        &[0xe2, 0x82][..],
        &[0xc0, 0xaf][..],
    ] {
        assert_eq!(client.send(MessageType::Text, bad), Err(Error::InvalidUtf8));
    }
    // The same bytes are fine as binary, and the connection is unharmed.
    assert_eq!(
        client.send(MessageType::Binary, &[0xff]).unwrap(),
        SendStatus::Written
    );
    let ev = wait_event(&ctx, WAIT, is_message);
    assert!(
        matches!(&ev.kind, wsc::EventKind::Message { message_type: MessageType::Binary, data } if data[..] == [0xff]),
        "{ev:?}"
    );
}

#[test]
fn ping_payload_over_125_bytes_is_refused() {
    let server = EchoServer::start();
    let (_ctx, client, _) = open(&server.url("/"));
    match client.ping(&[0u8; 126]) {
        Err(Error::InvalidArgument(msg)) => assert!(msg.contains("126"), "{msg}"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    client.ping(&[0u8; 125]).unwrap();
}

/// What RFC 9110 §5.5 allows in a field value is accepted and sent as
/// given: visible ASCII, obs-text (bytes 0x80-0xFF: UTF-8 text), and SP
/// and HTAB inside the value.
#[test]
fn header_values_rfc_9110_allows_are_accepted_and_sent_as_given() {
    let values = [
        ("X-Obs-Text", "café ☕"),
        ("X-Tab", "a\tb"),
        ("X-Spaces", "a b  c"),
        ("X-Visible", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    ];
    let server = RawServer::start(|mut s| accept_ws(&mut s));
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    for (n, v) in values {
        client
            .set_header(n, v)
            .unwrap_or_else(|e| panic!("{n}: {v:?} refused: {e}"));
    }
    client.connect().unwrap();
    wait_for(&ctx, Duration::from_secs(10), is_open);
    let head = server.join();
    for (n, v) in values {
        assert_eq!(header_value(&head, n).as_deref(), Some(v), "{head}");
    }
}

/// Control characters other than HTAB (RFC 9110 §5.5) are refused, naming
/// the header.
#[test]
fn header_values_with_control_characters_are_refused() {
    for value in ["a\x01b", "a\x1bb", "a\x7fb", "\x08"] {
        let msg = header_error("X-Custom", value);
        assert!(
            msg.contains("\"X-Custom\""),
            "the message names the header: {msg}"
        );
    }
}
