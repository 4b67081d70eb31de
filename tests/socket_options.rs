//! The socket options users set, seen on the client's real socket and by
//! real servers over loopback: TCP keepalive (on by default with
//! Workerman 5's values) and TCP_NODELAY (on by default), both settable;
//! the local address to bind (port 0 and a fixed port, the address the
//! server sees); the connect-to override (TCP goes elsewhere, the URL's
//! host stays in `Host` and in the TLS name check).

mod common;
#[path = "common/sockets.rs"]
mod sockets;

use common::*;
use sockets::options_of;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;
use wsc::{Context, EventKind};

fn local_addr(client: &wsc::Client) -> SocketAddr {
    client
        .addresses()
        .expect("addresses")
        .1
        .expect("a local address")
}

#[test]
fn keepalive_and_nodelay_are_on_by_default_with_workermans_values() {
    let server = EchoServer::start();
    let (_ctx, client, _) = open(&server.url("/"));
    let (keepalive, (idle, interval, count), nodelay) = options_of(local_addr(&client));
    assert!(keepalive, "SO_KEEPALIVE is off");
    assert_eq!(idle, Duration::from_secs(55));
    assert_eq!(interval, Duration::from_secs(55));
    assert_eq!(count, 1);
    assert!(nodelay, "TCP_NODELAY is off");
}

#[test]
fn keepalive_and_nodelay_are_settable() {
    let server = EchoServer::start();
    let ctx = Context::new().expect("context");
    let client = ctx.client(&server.url("/")).expect("client");
    client.set_tcp_keepalive(10, 3, 4).expect("keepalive");
    client.set_tcp_nodelay(false).expect("nodelay");
    client.connect().expect("connect");
    wait_for(&ctx, WAIT, is_open);
    let (keepalive, (idle, interval, count), nodelay) = options_of(local_addr(&client));
    assert!(keepalive);
    assert_eq!(
        (idle, interval, count),
        (Duration::from_secs(10), Duration::from_secs(3), 4)
    );
    assert!(!nodelay);

    // Off, on the next connection of the same client.
    client.set_tcp_keepalive(0, 0, 0).expect("keepalive off");
    client.reconnect(Duration::ZERO).expect("reconnect");
    wait_for(&ctx, WAIT, is_open);
    let (keepalive, _, _) = options_of(local_addr(&client));
    assert!(
        !keepalive,
        "keepalive still on after set_tcp_keepalive(0, ..)"
    );
}

#[test]
fn bad_socket_settings_are_refused_with_a_reason() {
    let ctx = Context::new().expect("context");
    let client = ctx.client("ws://127.0.0.1:1/").expect("client");
    for (idle, interval, count) in [(32768, 1, 1), (1, 0, 1), (1, 1, 0), (1, 1, 128)] {
        let e = client
            .set_tcp_keepalive(idle, interval, count)
            .expect_err("out of range");
        assert!(matches!(e, wsc::Error::InvalidArgument(_)), "{e}");
    }
    let e = client
        .set_bind_address(Some("localhost:0"))
        .expect_err("a name");
    assert!(e.to_string().contains("\"localhost:0\""), "{e}");
    for bad in ["", "a,b", "127.0.0.1:0", "[::1", "host:99999"] {
        let e = client.set_connect_to(Some(bad)).expect_err(bad);
        assert!(e.to_string().contains("connect-to"), "{bad:?}: {e}");
    }
}

#[test]
fn the_server_sees_the_bound_local_address_with_port_0() {
    let server = EchoServer::start();
    let ctx = Context::new().expect("context");
    let client = ctx.client(&server.url("/peer-address")).expect("client");
    client.set_bind_address(Some("127.0.0.3:0")).expect("bind");
    client.connect().expect("connect");
    let seen = text_of(&wait_event(&ctx, WAIT, is_message));
    let local = local_addr(&client);
    assert_eq!(local.ip().to_string(), "127.0.0.3");
    assert_ne!(local.port(), 0);
    assert_eq!(seen, local.to_string(), "the server saw another address");
}

#[test]
fn a_fixed_local_port_is_used_again_on_reconnect() {
    // Each round reaches another server (the URL stays, connect-to moves),
    // so whichever side holds TIME_WAIT for the previous address pair, the
    // new pair is free and the fixed local port must be used again.
    let servers: Vec<EchoServer> = (0..4).map(|_| EchoServer::start()).collect();
    // A port free on 127.0.0.3 a moment ago.
    let port = TcpListener::bind("127.0.0.3:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let wanted = format!("127.0.0.3:{port}");
    let ctx = Context::new().expect("context");
    let client = ctx
        .client(&servers[0].url("/peer-address"))
        .expect("client");
    client.set_bind_address(Some(&wanted)).expect("bind");
    for (round, server) in servers.iter().take(2).enumerate() {
        client
            .set_connect_to(Some(&server.addr))
            .expect("connect-to");
        client.connect().expect("connect");
        let seen = text_of(&wait_event(&ctx, WAIT, is_message));
        assert_eq!(seen, wanted, "round {round}");
        client.close(1000, "").expect("close");
        let (code, _, clean) = closed_of(&wait_event(&ctx, WAIT, is_closed));
        assert_eq!((code, clean), (1000, true));
    }

    // reconnect() after an abort: our side closed first; the new server
    // gives a free pair, and the same port is used.
    client
        .set_connect_to(Some(&servers[2].addr))
        .expect("connect-to");
    client.connect().expect("connect");
    wait_event(&ctx, WAIT, is_message);
    client
        .set_connect_to(Some(&servers[3].addr))
        .expect("connect-to");
    client.reconnect(Duration::ZERO).expect("reconnect");
    assert_eq!(text_of(&wait_event(&ctx, WAIT, is_message)), wanted);
}

#[test]
fn a_local_address_that_cannot_be_bound_is_an_error_naming_it() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_addr = taken.local_addr().expect("addr").to_string();
    let server = EchoServer::start();
    let ctx = Context::new().expect("context");
    let client = ctx.client(&server.url("/")).expect("client");
    client.set_bind_address(Some(&taken_addr)).expect("bind");
    client.connect().expect("connect");
    let e = error_of(&wait_event(&ctx, WAIT, is_error));
    assert!(matches!(e, wsc::Error::Connect(_)), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("cannot bind the local address {taken_addr}")),
        "{e}"
    );

    // IPv6 to bind, an IPv4 target: no address of that family.
    client.set_bind_address(Some("[::1]:0")).expect("bind");
    client.connect().expect("connect");
    let e = error_of(&wait_event(&ctx, WAIT, is_error));
    assert!(e.to_string().contains("is IPv6"), "{e}");
}

#[test]
fn connect_to_keeps_the_urls_host_in_the_request() {
    let server = EchoServer::start();
    let port = server.addr.rsplit_once(':').expect("port").1;
    let ctx = Context::new().expect("context");
    // A name that resolves nowhere (RFC 6761 .invalid): only connect-to
    // can reach the server.
    let url = format!("ws://wsc-connect-to.invalid:{port}/headers");
    let client = ctx.client(&url).expect("client");
    client
        .set_connect_to(Some(&server.addr))
        .expect("connect-to");
    client.connect().expect("connect");
    let headers = text_of(&wait_event(&ctx, WAIT, is_message));
    assert!(
        headers.contains(&format!("\"host\":\"wsc-connect-to.invalid:{port}\"")),
        "{headers}"
    );
    assert_eq!(
        client.addresses().expect("addresses").0,
        Some(server.addr.parse().expect("addr"))
    );

    // A host name in connect-to goes through the resolver; no port: the
    // URL's.
    client
        .set_connect_to(Some("localhost"))
        .expect("connect-to");
    client.reconnect(Duration::ZERO).expect("reconnect");
    let headers = text_of(&wait_event(&ctx, WAIT, is_message));
    assert!(headers.contains("wsc-connect-to.invalid"), "{headers}");

    // Back to the URL's host: it does not resolve.
    client.set_connect_to(None).expect("connect-to");
    client.reconnect(Duration::ZERO).expect("reconnect");
    let e = error_of(&wait_event(&ctx, WAIT, is_error));
    assert!(matches!(e, wsc::Error::Dns(_)), "{e}");
    assert!(e.to_string().contains("wsc-connect-to.invalid"), "{e}");
}

#[test]
fn connect_to_reports_its_own_host_when_it_does_not_resolve() {
    let ctx = Context::new().expect("context");
    let client = ctx.client("ws://example.com/").expect("client");
    client
        .set_connect_to(Some("wsc-nowhere.invalid:80"))
        .expect("connect-to");
    client.connect().expect("connect");
    let ev = wait_event(&ctx, WAIT, is_error);
    let EventKind::Error(e) = &ev.kind else {
        unreachable!()
    };
    assert!(
        e.to_string().contains("wsc-nowhere.invalid (connect-to)"),
        "{e}"
    );
}

#[test]
fn through_a_proxy_connect_to_is_the_tunnels_target() {
    // An HTTP proxy played by hand: it records the CONNECT request and
    // refuses it.
    let proxy = RawServer::start(|mut s| {
        let head = read_request_head(&mut s);
        use std::io::Write;
        let _ = s.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        head
    });
    let ctx = Context::new().expect("context");
    let client = ctx.client("ws://ws.example.com/feed").expect("client");
    client
        .set_proxy(Some(&format!("http://{}", proxy.addr)), None)
        .expect("proxy");
    client
        .set_connect_to(Some("[::1]:9000,127.0.0.1:9001"))
        .expect("connect-to");
    client.connect().expect("connect");
    let e = error_of(&wait_event(&ctx, WAIT, is_error));
    assert!(matches!(e, wsc::Error::Proxy(_)), "{e}");
    let head = proxy.join();
    assert!(
        head.starts_with("CONNECT [::1]:9000 HTTP/1.1\r\n"),
        "{head}"
    );
}
