//! The checks of the server's handshake response (RFC 6455 §4.1, items 1-6
//! of the client's requirements): a wrong or missing `Upgrade`,
//! `Connection` or `Sec-WebSocket-Accept`, and a subprotocol or extension
//! the client did not offer, each refuse the connection with the reason in
//! the error; an offered subprotocol that the server selects is accepted.

mod common;
use common::*;
use std::io::Write;
use wsc::{Context, Error, EventKind};

/// A server that answers the handshake with `101` plus exactly `headers`
/// (each "Name: value"), with a correct `Sec-WebSocket-Accept` unless
/// `headers` brings its own.
fn answer_with(headers: &'static [&'static str]) -> RawServer<String> {
    RawServer::start(move |mut s| {
        let req = read_request_head(&mut s);
        let key = header_value(&req, "Sec-WebSocket-Key").unwrap_or_default();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let mut resp = String::from("HTTP/1.1 101 Switching Protocols\r\n");
        if !headers
            .iter()
            .any(|h| h.starts_with("Sec-WebSocket-Accept"))
        {
            resp.push_str(&format!("Sec-WebSocket-Accept: {accept}\r\n"));
        }
        for h in headers {
            resp.push_str(h);
            resp.push_str("\r\n");
        }
        resp.push_str("\r\n");
        let _ = s.write_all(resp.as_bytes());
        let _ = wait_eof(&mut s);
        req
    })
}

/// Waits for `Open` and returns the raw response head it carries.
fn open_head(ctx: &Context) -> String {
    let seen = wait_for(ctx, WAIT, is_open);
    match &seen.last().unwrap().kind {
        EventKind::Open { response_head } => String::from_utf8_lossy(response_head).into_owned(),
        _ => unreachable!(),
    }
}

const UPGRADE: &str = "Upgrade: websocket";
const CONNECTION: &str = "Connection: Upgrade";

/// Connects with the given request headers and returns the handshake error.
fn refused(server: &RawServer<String>, request_headers: &[(&str, &str)]) -> String {
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    for (n, v) in request_headers {
        client.set_header(n, v).unwrap();
    }
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let n = seen.len();
    assert!(n >= 2, "{seen:?}");
    let (code, _, clean) = closed_of(&seen[n - 1]);
    assert_eq!((code, clean), (1006, false), "{seen:?}");
    assert!(
        !seen.iter().any(is_open),
        "the connection must not open: {seen:?}"
    );
    match error_of(&seen[n - 2]) {
        Error::Handshake(msg) => msg.to_string(),
        other => panic!("expected a handshake error, got {other:?}"),
    }
}

#[test]
fn missing_upgrade_header_is_refused() {
    let server = answer_with(&[CONNECTION]);
    let msg = refused(&server, &[]);
    assert!(msg.contains("Upgrade"), "{msg}");
}

#[test]
fn connection_header_without_upgrade_is_refused() {
    let server = answer_with(&[UPGRADE, "Connection: keep-alive"]);
    let msg = refused(&server, &[]);
    assert!(msg.contains("Connection"), "{msg}");
}

#[test]
fn wrong_accept_key_is_refused() {
    let server = answer_with(&[
        UPGRADE,
        CONNECTION,
        "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==",
    ]);
    let msg = refused(&server, &[]);
    assert!(msg.contains("Sec-WebSocket-Accept"), "{msg}");
}

#[test]
fn a_subprotocol_that_was_not_offered_is_refused() {
    let server = answer_with(&[UPGRADE, CONNECTION, "Sec-WebSocket-Protocol: chat"]);
    let msg = refused(&server, &[]);
    assert!(msg.to_lowercase().contains("subprotocol"), "{msg}");
}

#[test]
fn a_subprotocol_other_than_the_offered_ones_is_refused() {
    let server = answer_with(&[UPGRADE, CONNECTION, "Sec-WebSocket-Protocol: mqtt"]);
    let msg = refused(&server, &[("Sec-WebSocket-Protocol", "chat, superchat")]);
    assert!(msg.to_lowercase().contains("subprotocol"), "{msg}");
}

#[test]
fn an_extension_that_was_not_offered_is_refused() {
    let server = answer_with(&[
        UPGRADE,
        CONNECTION,
        "Sec-WebSocket-Extensions: permessage-deflate",
    ]);
    let msg = refused(&server, &[]);
    assert!(
        msg.contains("permessage-deflate") && msg.contains("not offered"),
        "{msg}"
    );
}

#[test]
fn an_offered_subprotocol_selected_by_the_server_is_accepted() {
    let server = answer_with(&[UPGRADE, CONNECTION, "Sec-WebSocket-Protocol: superchat"]);
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    client
        .set_header("Sec-WebSocket-Protocol", "chat, superchat")
        .unwrap();
    client.connect().unwrap();
    let head = open_head(&ctx);
    assert!(
        head.contains("Sec-WebSocket-Protocol: superchat\r\n"),
        "{head}"
    );
    drop(client);
    let req = server.join();
    assert!(
        req.contains("Sec-WebSocket-Protocol: chat, superchat\r\n"),
        "{req}"
    );
}

/// tungstenite 0.30 compares the whole `Connection` value with "Upgrade";
/// RFC 6455 §4.1 asks for a token of the list. wsc normalizes it below
/// tungstenite, and reports the head as the server sent it.
#[test]
fn a_connection_header_listing_upgrade_among_other_tokens_is_accepted() {
    let server = answer_with(&[UPGRADE, "Connection: keep-alive, Upgrade"]);
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    client.connect().unwrap();
    let head = open_head(&ctx);
    assert!(
        head.contains("Connection: keep-alive, Upgrade\r\n"),
        "the raw head: {head}"
    );
}
