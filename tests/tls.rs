//! TLS (`wss://`, or `ws://` with TLS on): a server whose certificate does
//! not verify, and one that does not speak TLS, fail with `Error::Tls`
//! then `Closed` 1006; with verification off the connection opens and
//! echoes. The server is a real TLS listener on 127.0.0.1 with the
//! self-signed `localhost` certificate in `tests/servers/`.

mod common;
use common::*;
use std::io::{Read, Write};
use wsc::{Context, Error, EventKind, MessageType};

fn acceptor() -> native_tls::TlsAcceptor {
    let cert = include_bytes!("servers/localhost.crt");
    let key = include_bytes!("servers/localhost.key");
    let identity = native_tls::Identity::from_pkcs8(cert, key).expect("the test identity");
    native_tls::TlsAcceptor::new(identity).expect("a TLS acceptor")
}

/// A TLS WebSocket server for one connection: echoes messages until the
/// client closes. Returns the TLS handshake's error, if it failed.
fn tls_echo_server() -> RawServer<Option<String>> {
    let acceptor = acceptor();
    RawServer::start(move |s| {
        let tls = match acceptor.accept(s) {
            Ok(t) => t,
            Err(e) => return Some(e.to_string()),
        };
        let mut ws = tungstenite::accept(tls).expect("the WebSocket handshake over TLS");
        loop {
            match ws.read() {
                Ok(m @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))) => {
                    ws.send(m).expect("echo");
                }
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => return None,
                Err(e) => panic!("server read: {e}"),
            }
        }
    })
}

#[test]
fn self_signed_certificate_fails_verification() {
    let server = tls_echo_server();
    let ctx = Context::new().unwrap();
    let url = format!("wss://localhost:{}/", server.addr.port());
    let client = ctx.client(&url).unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    assert_eq!(seen.len(), 2, "Error then Closed, no Connected: {seen:?}");
    match error_of(&seen[0]) {
        Error::Tls(msg) => {
            assert!(msg.contains("certificate"), "{msg}");
            assert_eq!(msg.kind, wsc::error::TlsFault::Verify);
        }
        other => panic!("expected Error::Tls, got {other:?}"),
    }
    let (code, _, clean) = closed_of(&seen[1]);
    assert_eq!((code, clean), (1006, false));
    assert!(server.join().is_some(), "the server saw the handshake fail");
}

#[test]
fn wss_with_verification_off_opens_and_echoes() {
    let server = tls_echo_server();
    let ctx = Context::new().unwrap();
    let client = ctx
        .client(&format!("wss://127.0.0.1:{}/chat", server.addr.port()))
        .unwrap();
    client.set_tls(false, false).unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, |e| is_open(e) || is_closed(e));
    assert!(matches!(seen[0].kind, EventKind::Connected), "{seen:?}");
    let EventKind::Open { response_head } = &seen.last().unwrap().kind else {
        panic!("expected Open: {seen:?}")
    };
    assert!(response_head.starts_with(b"HTTP/1.1 101 "), "{seen:?}");
    client.send(MessageType::Text, b"secret").unwrap();
    let big = vec![42u8; 100_000];
    client.send(MessageType::Binary, &big).unwrap();
    assert_eq!(text_of(&wait_event(&ctx, WAIT, is_message)), "secret");
    match wait_event(&ctx, WAIT, is_message).kind {
        EventKind::Message { data, .. } => assert_eq!(data.to_vec(), big),
        _ => unreachable!(),
    }
    client.close(1000, "done").unwrap();
    let (code, reason, clean) = closed_of(&wait_event(&ctx, WAIT, is_closed));
    assert_eq!((code, reason.as_str(), clean), (1000, "done", true));
    assert_eq!(server.join(), None);
}

#[test]
fn ws_url_with_tls_turned_on_uses_tls() {
    let server = tls_echo_server();
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    client.set_tls(true, false).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    client.send(MessageType::Text, b"over tls").unwrap();
    assert_eq!(text_of(&wait_event(&ctx, WAIT, is_message)), "over tls");
    client.close(1000, "").unwrap();
    wait_for(&ctx, WAIT, is_closed);
    assert_eq!(server.join(), None);
}

#[test]
fn server_that_does_not_speak_tls_is_a_tls_error() {
    let server = RawServer::start(|mut s| {
        let mut hello = [0u8; 5];
        s.read_exact(&mut hello)
            .expect("a ClientHello record header");
        s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        hello[0]
    });
    let ctx = Context::new().unwrap();
    let client = ctx
        .client(&format!("wss://127.0.0.1:{}/", server.addr.port()))
        .unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    assert_eq!(server.join(), 0x16, "a TLS handshake record came first");
    assert_eq!(seen.len(), 2, "Error then Closed: {seen:?}");
    assert!(matches!(error_of(&seen[0]), Error::Tls(_)), "{seen:?}");
    let (code, _, clean) = closed_of(&seen[1]);
    assert_eq!((code, clean), (1006, false));
}

#[test]
fn the_metrics_time_the_tls_handshake() {
    let server = tls_echo_server();
    let ctx = Context::new().unwrap();
    let client = ctx
        .client(&format!("wss://127.0.0.1:{}/", server.addr.port()))
        .unwrap();
    client.set_tls(false, false).unwrap();
    client.connect().unwrap();
    wait_for(&ctx, WAIT, is_open);
    let t = client.metrics().unwrap().connect;
    assert!(
        t.tls.is_some() && t.tcp.is_some() && t.handshake.is_some(),
        "{t:?}"
    );
    assert_eq!((t.dns, t.proxy), (None, None));
    assert!(t.total.unwrap() >= t.tcp.unwrap() + t.tls.unwrap() + t.handshake.unwrap());
    client.close(1000, "").unwrap();
    wait_for(&ctx, WAIT, is_closed);
    assert_eq!(server.join(), None);
}
