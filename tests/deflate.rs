//! permessage-deflate (RFC 7692) against a third-party server: Debian's
//! python3-websockets with its own permessage-deflate
//! (tests/servers/deflate_ws_server.py), over loopback. Compressed messages
//! both ways (the server counts the RSV1 frames and wire bytes it got; we
//! count ours), with and without context takeover, the answer in force,
//! an answer that was not offered, and the close codes of bad compressed
//! data from the server (1009, 1002, 1007).

mod common;

use common::*;
use wsc::{Compress, Context, DeflateOptions, Error, EventKind, MessageType};

/// deflate_ws_server.py on a free port of 127.0.0.1, killed by PID on drop.
type Server = PyServer;

fn server() -> Server {
    PyServer::start("deflate_ws_server.py")
}

/// A JSON-like, compressible text of about `n` bytes.
fn json_like(n: usize) -> String {
    let mut s = String::from("[");
    let mut i = 0;
    while s.len() < n {
        s.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user{i}\",\"active\":true,\"tags\":[\"a\",\"b\"]}},"
        ));
        i += 1;
    }
    s.push_str("{}]");
    s
}

/// `n` hexadecimal digits of a pseudo-random sequence: compresses about 2:1
/// on its own, to almost nothing when the same text was sent just before
/// (within the 32 KiB window) and the context was kept.
fn noisy(n: usize) -> String {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from_digit((x % 16) as u32, 16).expect("digit")
        })
        .collect()
}

/// The wire bytes the server read for sending `text` twice: (first, second).
fn twice(ctx: &Context, client: &wsc::Client, text: &str) -> (u64, u64) {
    let (w0, ..) = stats(ctx, client);
    send_text(client, text);
    assert_eq!(next_text(ctx), text);
    let (w1, ..) = stats(ctx, client);
    send_text(client, text);
    assert_eq!(next_text(ctx), text);
    let (w2, ..) = stats(ctx, client);
    (w1 - w0, w2 - w1)
}

fn connect(server: &Server, path: &str, opts: Option<DeflateOptions>) -> (Context, wsc::Client) {
    let ctx = Context::new().expect("context");
    let client = ctx.client(&server.url(path)).expect("client");
    client.set_compression(opts).expect("set_compression");
    client.connect().expect("connect");
    wait_for(&ctx, WAIT, is_open);
    (ctx, client)
}

fn send_text(client: &wsc::Client, text: &str) {
    client
        .send(MessageType::Text, text.as_bytes())
        .expect("send");
}

fn next_text(ctx: &Context) -> String {
    text_of(&wait_event(ctx, WAIT, is_message))
}

/// The server's counters (see deflate_ws_server.py, /echo "stats").
fn stats(ctx: &Context, client: &wsc::Client) -> (u64, u64, u64) {
    send_text(client, "stats");
    let s = next_text(ctx);
    let num = |k: &str| -> u64 {
        let at = s
            .find(&format!("\"{k}\": "))
            .unwrap_or_else(|| panic!("{k} in {s}"));
        s[at + k.len() + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .expect("a number")
    };
    (num("wire_in"), num("rsv1_in"), num("frames_in"))
}

/// Echoes `count` copies of a 100 KB JSON-like text and returns (wire bytes
/// the server read, RSV1 frames it got, bytes we read); the "stats"
/// message itself (5 bytes, below the compression threshold) goes
/// uncompressed.
fn echo_round(ctx: &Context, client: &wsc::Client, count: usize) -> (u64, u64, u64) {
    let text = json_like(100_000);
    let read_before = client.bytes().expect("bytes").0;
    for _ in 0..count {
        send_text(client, &text);
        assert_eq!(next_text(ctx), text, "the echo comes back whole");
    }
    let read = client.bytes().expect("bytes").0 - read_before;
    let (wire_in, rsv1, _) = stats(ctx, client);
    (wire_in, rsv1, read)
}

#[test]
fn compressed_both_ways_with_context_takeover() {
    let server = server();
    let (ctx, client) = connect(&server, "/echo", Some(DeflateOptions::default()));
    let ext = client
        .extensions()
        .expect("extensions")
        .expect("negotiated");
    assert!(ext.starts_with("permessage-deflate"), "{ext}");
    let (wire_in, rsv1, read) = echo_round(&ctx, &client, 5);
    // 5 x 100 KB of text: compressed to a few KB each way.
    assert_eq!(rsv1, 5, "every message reached the server with RSV1");
    assert!(
        wire_in < 50_000,
        "server read {wire_in} bytes for 500 KB of text"
    );
    assert!(read < 50_000, "we read {read} bytes for 500 KB of text");
    // Context takeover: a repeated message costs next to nothing.
    let (first, second) = twice(&ctx, &client, &noisy(8000));
    assert!(second * 4 < first, "first {first} bytes, repeated {second}");
    client.close(1000, "").expect("close");
    let (code, _, clean) = closed_of(&wait_event(&ctx, WAIT, is_closed));
    assert_eq!((code, clean), (1000, true));
}

#[test]
fn no_context_takeover_both_ways_is_negotiated_and_works() {
    let server = server();
    let opts = DeflateOptions {
        client_no_context_takeover: true,
        server_no_context_takeover: true,
        server_max_window_bits: Some(10),
        client_max_window_bits: Some(11),
        level: 1,
    };
    let (ctx, client) = connect(&server, "/echo", Some(opts));
    let ext = client
        .extensions()
        .expect("extensions")
        .expect("negotiated");
    for p in [
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits=10",
    ] {
        assert!(ext.contains(p), "{p} in {ext}");
    }
    let (wire_in, rsv1, read) = echo_round(&ctx, &client, 3);
    assert_eq!(rsv1, 3);
    assert!(wire_in < 60_000, "server read {wire_in}");
    assert!(read < 60_000, "we read {read}");
    // Without context takeover a repeated message costs as much again.
    let (first, second) = twice(&ctx, &client, &noisy(8000));
    assert!(second * 2 > first, "first {first} bytes, repeated {second}");
    // Binary and empty messages too.
    client
        .send(MessageType::Binary, &[0u8; 3000])
        .expect("send");
    client.send(MessageType::Text, b"").expect("send");
    let ev = wait_event(&ctx, WAIT, is_message);
    assert!(
        matches!(&ev.kind, EventKind::Message { message_type: MessageType::Binary, data } if data.len() == 3000 && data.iter().all(|&b| b == 0))
    );
    assert_eq!(next_text(&ctx), "");
}

#[test]
fn a_server_that_declines_leaves_the_connection_uncompressed() {
    let server = server();
    let (ctx, client) = connect(&server, "/echo?compress=0", Some(DeflateOptions::default()));
    assert_eq!(client.extensions().expect("extensions"), None);
    let (wire_in, rsv1, _) = echo_round(&ctx, &client, 1);
    assert_eq!(rsv1, 0);
    assert!(wire_in > 100_000, "plain: {wire_in}");
}

#[test]
fn compression_is_off_by_default() {
    let server = server();
    let (ctx, client) = connect(&server, "/echo", None);
    assert_eq!(client.extensions().expect("extensions"), None);
    let (_, rsv1, read) = echo_round(&ctx, &client, 1);
    assert_eq!(rsv1, 0);
    assert!(read > 100_000);
}

/// Connects and returns the error and close events of the failed attempt.
fn failure(server: &Server, path: &str, opts: Option<DeflateOptions>) -> (Error, u16) {
    let ctx = Context::new().expect("context");
    let client = ctx.client(&server.url(path)).expect("client");
    client.set_compression(opts).expect("set_compression");
    client.set_limits(1 << 20, 0).expect("limits");
    client.connect().expect("connect");
    let seen = wait_for(&ctx, WAIT, is_closed);
    let err = seen
        .iter()
        .find(|e| is_error(e))
        .map(error_of)
        .unwrap_or_else(|| panic!("no error in {seen:#?}"));
    let (code, ..) = closed_of(seen.last().expect("closed"));
    (err, code)
}

#[test]
fn an_answer_that_was_not_offered_fails_the_handshake() {
    let server = server();
    // Compression off: no extension may be selected.
    let (e, code) = failure(&server, "/answer?ext=permessage-deflate", None);
    assert!(
        matches!(&e, Error::Handshake(s) if s.contains("not offered")),
        "{e}"
    );
    assert_eq!(code, 1006);
    // On: an unknown parameter, and an extension not offered.
    let on = Some(DeflateOptions::default());
    let (e, _) = failure(
        &server,
        "/answer?ext=permessage-deflate%3B%20foo",
        on.clone(),
    );
    assert!(
        matches!(&e, Error::Handshake(s) if s.contains("unknown parameter")),
        "{e}"
    );
    let (e, _) = failure(&server, "/answer?ext=x-webkit-deflate-frame", on.clone());
    assert!(
        matches!(&e, Error::Handshake(s) if s.contains("not offered")),
        "{e}"
    );
    // Asked for server_no_context_takeover, answered without it.
    let snct = Some(DeflateOptions {
        server_no_context_takeover: true,
        ..DeflateOptions::default()
    });
    let (e, _) = failure(&server, "/answer?ext=permessage-deflate", snct);
    assert!(
        matches!(&e, Error::Handshake(s) if s.contains("server_no_context_takeover")),
        "{e}"
    );
}

#[test]
fn a_decompression_bomb_is_refused_with_1009() {
    let server = server();
    // 8 MiB of zeros in about 8 KB, against a 1 MiB limit.
    let (e, code) = failure(&server, "/bomb", Some(DeflateOptions::default()));
    assert!(matches!(e, Error::MessageTooBig(_)), "{e}");
    assert_eq!(code, 1009);
}

#[test]
fn rsv1_on_a_control_frame_is_refused_with_1002() {
    let server = server();
    let (e, code) = failure(&server, "/rsv1-ping", Some(DeflateOptions::default()));
    assert!(matches!(e, Error::Protocol(_)), "{e}");
    assert_eq!(code, 1002);
}

#[test]
fn invalid_utf8_in_a_compressed_text_is_refused_with_1007() {
    let server = server();
    let (e, code) = failure(&server, "/bad-utf8", Some(DeflateOptions::default()));
    assert!(matches!(e, Error::InvalidPayload(_)), "{e}");
    assert_eq!(code, 1007);
}

#[test]
fn data_that_does_not_inflate_is_refused_with_1007() {
    let server = server();
    let (e, code) = failure(&server, "/bad-data", Some(DeflateOptions::default()));
    assert!(matches!(e, Error::InvalidPayload(_)), "{e}");
    assert_eq!(code, 1007);
}

#[test]
fn bad_options_are_refused() {
    let ctx = Context::new().expect("context");
    let client = ctx.client("ws://127.0.0.1:9/").expect("client");
    for o in [
        DeflateOptions {
            client_max_window_bits: Some(8),
            ..DeflateOptions::default()
        },
        DeflateOptions {
            server_max_window_bits: Some(16),
            ..DeflateOptions::default()
        },
        DeflateOptions {
            level: 10,
            ..DeflateOptions::default()
        },
    ] {
        assert!(matches!(
            client.set_compression(Some(o)),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn messages_queued_before_the_handshake_go_compressed() {
    let server = server();
    let ctx = Context::new().expect("context");
    let client = ctx.client(&server.url("/echo")).expect("client");
    client
        .set_compression(Some(DeflateOptions::default()))
        .expect("set_compression");
    let text = json_like(50_000);
    send_text(&client, &text); // queued: not connected yet
    client.connect().expect("connect");
    assert_eq!(next_text(&ctx), text);
    let (wire_in, rsv1, _) = stats(&ctx, &client);
    assert_eq!(
        rsv1, 1,
        "the queued message went compressed (\"stats\" is below the threshold)"
    );
    assert!(wire_in < 10_000, "server read {wire_in}");
}

/// Level 0 means the default level (6), as in the C API and PHP: one
/// meaning everywhere. Stored blocks would put more than the message on
/// the wire; level 0 compresses exactly as level 6 does.
#[test]
fn level_0_compresses_at_the_default_level() {
    let server = server();
    let text = json_like(100_000);
    let wire_of = |level: u8| {
        let opts = DeflateOptions {
            level,
            ..DeflateOptions::default()
        };
        let (ctx, client) = connect(&server, "/echo", Some(opts));
        let (first, _) = twice(&ctx, &client, &text);
        first
    };
    let (zero, six) = (wire_of(0), wire_of(6));
    assert!(
        zero < text.len() as u64 / 4,
        "level 0 compressed: {zero} wire bytes for {} bytes",
        text.len()
    );
    assert_eq!(zero, six, "level 0 is level 6");
}

/// Levels above 9 are refused with an error naming the level.
#[test]
fn a_level_above_9_is_refused_naming_it() {
    let ctx = Context::new().expect("context");
    let client = ctx.client("ws://127.0.0.1:9/").expect("client");
    let opts = DeflateOptions {
        level: 12,
        ..DeflateOptions::default()
    };
    match client.set_compression(Some(opts)) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("12"), "{m}"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn short_messages_go_uncompressed_and_each_send_may_choose() {
    let server = server();
    let (ctx, client) = connect(&server, "/echo", Some(DeflateOptions::default()));
    let long = json_like(1000);
    let short = &long[..100];
    assert_eq!(wsc::DEFAULT_COMPRESSION_THRESHOLD, 256);
    send_text(&client, &long); // compressed: at or over the threshold
    send_text(&client, short); // not
    for (text, compress) in [(short, Compress::Always), (long.as_str(), Compress::Never)] {
        client
            .send_with(MessageType::Text, text.as_bytes(), compress)
            .expect("send_with");
    }
    client.set_compression_threshold(0).expect("threshold");
    send_text(&client, short); // compressed: the threshold applies at once
    for want in [long.as_str(), short, short, long.as_str(), short] {
        assert_eq!(next_text(&ctx), want);
    }
    client.set_compression_threshold(256).expect("threshold");
    let (_, rsv1, frames) = stats(&ctx, &client);
    assert_eq!(
        (rsv1, frames),
        (3, 6),
        "3 of the 5 messages (and not \"stats\") compressed"
    );
}
