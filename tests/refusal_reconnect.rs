//! Why a handshake failed, and reconnects that respect the server: a
//! refusal carries its status, reason phrase, headers and the start of its
//! body; the reconnect policy honours `Retry-After` on 429/503 (seconds or
//! an HTTP date), does not retry fatal refusals (403...), keeps growing
//! its backoff for a server that accepts then drops at once, stops after
//! the most attempts, and reports each decision as a `Reconnect` event.
//! Peers: the echo server process (`/status/NNN?...`, `/drop`) and raw
//! loopback servers.

mod common;
use common::*;
use std::io::Write;
use std::time::{Duration, Instant};
use wsc::error::HandshakeFault;
use wsc::{Client, Context, Error, ReconnectReason, Status};

fn client_for(url: &str) -> (Context, Client) {
    let ctx = Context::new().unwrap();
    let client = ctx.client(url).unwrap();
    (ctx, client)
}

#[test]
fn a_refusal_reports_status_reason_headers_and_body() {
    let server = EchoServer::start();
    let body = r#"{"code":-2015,"msg":"Invalid API-key"}"#;
    let q = format!(
        "/status/401?body={}",
        body.replace('"', "%22").replace(' ', "%20")
    );
    let (ctx, client) = client_for(&server.url(&q));
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let err = seen.iter().find(|e| is_error(e)).expect("an error");
    let (text, resp) = refusal_of(err);
    assert_eq!(
        text,
        format!("HTTP 401 Unauthorized: {body}"),
        "the error text names the status and shows the body"
    );
    assert_eq!(
        error_of(err).to_string(),
        format!("opening handshake refused: HTTP 401 Unauthorized: {body}")
    );
    assert_eq!((resp.status, resp.reason.as_str()), (401, "Unauthorized"));
    assert_eq!(resp.body, body.as_bytes());
    assert!(resp.body_complete);
    assert_eq!(resp.header("content-type").as_deref(), Some("text/plain"));
    assert!(resp.head.starts_with(b"HTTP/1.1 401 Unauthorized\r\n"));
    assert!(resp.head.ends_with(b"\r\n\r\n"));
    assert_eq!(
        seen.iter().filter(|e| is_reconnect(e)).count(),
        0,
        "no reconnect policy, no decision"
    );
}

#[test]
fn a_chunked_body_is_unchunked_and_retry_after_shown() {
    let server = EchoServer::start();
    let (ctx, client) = client_for(&server.url("/status/503?chunked=1&retry-after=7"));
    client.connect().unwrap();
    let err = wait_event(&ctx, WAIT, is_error);
    let (text, resp) = refusal_of(&err);
    assert_eq!(
        text,
        "HTTP 503 Service Unavailable (Retry-After: 7): 503 Service Unavailable"
    );
    assert_eq!(resp.body, &b"503 Service Unavailable\n"[..]);
    assert!(resp.body_complete);
    assert_eq!(
        resp.retry_after(std::time::SystemTime::now()),
        Some(Duration::from_secs(7))
    );
}

/// A server that announces a body and never sends all of it: the refusal
/// is reported with what came, shortly after the head (not at the
/// handshake timeout).
#[test]
fn a_late_body_does_not_hold_the_refusal_back() {
    let server = RawServer::start(|mut s| {
        read_request_head(&mut s);
        s.write_all(b"HTTP/1.1 403 Go Away\r\nContent-Length: 1000\r\n\r\nnot all of it")
            .unwrap();
        wait_eof(&mut s)
    });
    let (ctx, client) = client_for(&server.url("/"));
    client.connect().unwrap();
    let started = Instant::now();
    let err = wait_event(&ctx, WAIT, is_error);
    let took = started.elapsed();
    let (text, resp) = refusal_of(&err);
    assert_eq!(text, "HTTP 403 Go Away: not all of it");
    assert_eq!(resp.body, &b"not all of it"[..]);
    assert!(!resp.body_complete);
    assert!(
        took < Duration::from_secs(5),
        "reported after {took:?}, not at the 10 s handshake timeout"
    );
    drop(client);
    assert!(server.join(), "the client closed TCP");
}

/// A body longer than the excerpt is cut at 4 KiB; the text shows its
/// start on one line.
#[test]
fn a_long_body_is_cut_to_the_excerpt() {
    let server = RawServer::start(|mut s| {
        read_request_head(&mut s);
        let body = "line\r\n".repeat(2000);
        let head = format!(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(body.as_bytes());
        wait_eof(&mut s)
    });
    let (ctx, client) = client_for(&server.url("/"));
    client.connect().unwrap();
    let (text, resp) = refusal_of(&wait_event(&ctx, WAIT, is_error));
    assert_eq!(resp.body.len(), wsc::error::HandshakeResponse::BODY_EXCERPT);
    assert!(!resp.body_complete);
    assert!(
        text.starts_with("HTTP 500 Internal Server Error: line line line"),
        "{text}"
    );
    assert!(text.ends_with("..."), "{text}");
    assert!(text.len() < 400, "{text}");
    drop(client);
    server.join();
}

/// 429 with `Retry-After: 1` (seconds) under a backoff of 50..100 ms: the
/// next attempt waits the server's second, and the decision says so.
#[test]
fn retry_after_seconds_is_the_next_delays_floor() {
    let server = EchoServer::start();
    let (ctx, client) = client_for(&server.url("/status/429?retry-after=1"));
    client.set_reconnect_backoff(50, 100).unwrap();
    client.connect().unwrap();
    let mut gaps = Vec::new();
    let mut last_closed = None;
    for round in 1..=2u32 {
        let seen = wait_for(&ctx, WAIT, is_closed);
        let now = Instant::now();
        if let Some(t) = last_closed {
            gaps.push(now - t);
        }
        last_closed = Some(now);
        let decision = seen.iter().find(|e| is_reconnect(e)).expect("a decision");
        let (delay, reason, attempt, text) = reconnect_of(decision);
        assert_eq!(
            (delay, reason, attempt),
            (1000, ReconnectReason::RetryAfter, round),
            "{text}"
        );
        assert_eq!(
            text,
            format!(
                "reconnecting in 1000 ms (attempt {round}): the server asked to retry after 1 s (HTTP 429 Retry-After)"
            )
        );
        assert_eq!(client.status().unwrap(), Status::Connecting);
    }
    assert!(
        gaps[0] >= Duration::from_millis(950) && gaps[0] < Duration::from_secs(5),
        "the attempt waited the server's 1 s: {gaps:?}"
    );
    client.close(1000, "").unwrap();
}

/// `Retry-After` as an HTTP date 2 s ahead: the date has a resolution of
/// 1 s (cut down) and the client reads it a moment later, so the delay is
/// just over 1 s to 2 s; a busy machine can take some of that second.
#[test]
fn retry_after_as_an_http_date() {
    let server = EchoServer::start();
    let (ctx, client) = client_for(&server.url("/status/503?retry-after-date=2"));
    client.set_reconnect_backoff(50, 100).unwrap();
    client.connect().unwrap();
    let (delay, reason, _, text) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
    assert_eq!(reason, ReconnectReason::RetryAfter, "{text}");
    assert!((500..=2000).contains(&delay), "{delay} ms: {text}");
    client.close(1000, "").unwrap();
}

/// A `Retry-After` beyond the cap waits the cap; a cap of 0 ignores it.
#[test]
fn retry_after_is_capped() {
    let server = EchoServer::start();
    let (ctx, client) = client_for(&server.url("/status/429?retry-after=3600"));
    client.set_reconnect_backoff(50, 100).unwrap();
    client.set_reconnect_retry_after_max(300).unwrap();
    client.connect().unwrap();
    let (delay, reason, _, _) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
    assert_eq!((delay, reason), (300, ReconnectReason::RetryAfter));
    client.close(1000, "").unwrap();

    let (ctx, client) = client_for(&server.url("/status/429?retry-after=3600"));
    client.set_reconnect_backoff(50, 100).unwrap();
    client.set_reconnect_retry_after_max(0).unwrap();
    client.connect().unwrap();
    let (delay, reason, _, _) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
    assert_eq!(reason, ReconnectReason::Backoff);
    assert!(delay <= 50, "{delay}");
    client.close(1000, "").unwrap();
}

/// A server that accepts then drops at once: the connection opened, but
/// did not stay open, so the backoff keeps growing instead of starting
/// over at every open.
#[test]
fn accept_then_drop_grows_the_backoff() {
    let server = EchoServer::start();
    let (ctx, client) = client_for(&server.url("/drop"));
    client.set_reconnect_backoff(100, 800).unwrap();
    client.connect().unwrap();
    let mut delays = Vec::new();
    let mut opens = 0;
    while delays.len() < 4 {
        let seen = wait_for(&ctx, WAIT, is_reconnect);
        opens += seen.iter().filter(|e| is_open(e)).count();
        let (delay, reason, attempt, _) = reconnect_of(seen.last().unwrap());
        assert_eq!(reason, ReconnectReason::Backoff);
        assert_eq!(attempt as usize, delays.len() + 1);
        delays.push(delay);
    }
    client.close(1000, "").unwrap();
    assert_eq!(opens, 4, "every attempt opened");
    for (delay, base) in delays.iter().zip([100u64, 200, 400, 800]) {
        assert!(
            *delay >= base / 2 && *delay <= base,
            "delay {delay} ms for a backoff of {base} ms (all: {delays:?})"
        );
    }

    // With a reset time of 0 (the old behaviour), every open starts over.
    let (ctx, client) = client_for(&server.url("/drop"));
    client.set_reconnect_backoff(100, 800).unwrap();
    client.set_reconnect_reset_after(0).unwrap();
    client.connect().unwrap();
    for _ in 0..3 {
        let (delay, _, attempt, _) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
        assert_eq!(attempt, 1);
        assert!(delay <= 100, "{delay}");
    }
    client.close(1000, "").unwrap();
}

/// 403 is fatal by default: one decision not to reconnect, the client
/// stays closed. Marked retried, it is retried.
#[test]
fn forbidden_is_not_retried_unless_the_caller_says_so() {
    let server = EchoServer::start();
    let (ctx, client) = client_for(&server.url("/status/403"));
    client.set_reconnect_backoff(50, 100).unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let kinds: Vec<_> = seen.iter().map(|e| &e.kind).collect();
    let decision = seen.iter().position(is_reconnect).expect("a decision");
    let (delay, reason, _, text) = reconnect_of(&seen[decision]);
    assert_eq!((delay, reason), (0, ReconnectReason::Fatal));
    assert_eq!(text, "not reconnecting: HTTP 403 is not retried");
    assert_eq!(decision, seen.len() - 2, "right before Closed: {kinds:?}");
    assert_eq!(client.status().unwrap(), Status::Closed);
    let later = drain(&ctx, Duration::from_millis(400));
    assert!(later.is_empty(), "no further attempt: {later:?}");

    let (ctx, client) = client_for(&server.url("/status/403"));
    client.set_reconnect_backoff(50, 100).unwrap();
    client.set_reconnect_status(403, true).unwrap();
    client.set_reconnect_status(503, false).unwrap();
    client.connect().unwrap();
    let (_, reason, attempt, _) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
    assert_eq!((reason, attempt), (ReconnectReason::Backoff, 1));
    let (_, reason, attempt, _) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
    assert_eq!((reason, attempt), (ReconnectReason::Backoff, 2));
    client.close(1000, "").unwrap();

    let (ctx, client) = client_for(&server.url("/status/503?retry-after=1"));
    client.set_reconnect_backoff(50, 100).unwrap();
    client.set_reconnect_status(503, false).unwrap();
    client.connect().unwrap();
    let (_, reason, _, _) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
    assert_eq!(reason, ReconnectReason::Fatal);
}

/// At most N reconnects in a row: N + 1 attempts in all, then a decision
/// to stop; `connect()` starts over.
#[test]
fn the_attempt_limit_stops_reconnecting() {
    let (ctx, client) = client_for(&format!("ws://127.0.0.1:{}/", refused_port()));
    client.set_reconnect_backoff(20, 40).unwrap();
    client.set_reconnect_max_attempts(3).unwrap();
    client.connect().unwrap();
    let mut decisions = Vec::new();
    let mut errors = 0;
    loop {
        let seen = wait_for(&ctx, WAIT, is_reconnect);
        errors += seen.iter().filter(|e| is_error(e)).count();
        let d = reconnect_of(seen.last().unwrap());
        let stop = d.1 == ReconnectReason::AttemptsExhausted;
        decisions.push(d);
        if stop || decisions.len() > 10 {
            break;
        }
    }
    wait_for(&ctx, WAIT, is_closed);
    let reasons: Vec<_> = decisions.iter().map(|d| (d.1, d.2)).collect();
    assert_eq!(
        reasons,
        [
            (ReconnectReason::Backoff, 1),
            (ReconnectReason::Backoff, 2),
            (ReconnectReason::Backoff, 3),
            (ReconnectReason::AttemptsExhausted, 3)
        ]
    );
    assert_eq!(errors, 4, "the first connect and 3 reconnects");
    assert_eq!(
        decisions[3].3,
        "not reconnecting: 3 reconnect attempts in a row failed"
    );
    assert_eq!(client.status().unwrap(), Status::Closed);
    assert!(drain(&ctx, Duration::from_millis(300)).is_empty());

    client.connect().unwrap();
    let (_, reason, attempt, _) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
    assert_eq!(
        (reason, attempt),
        (ReconnectReason::Backoff, 1),
        "starts over"
    );
    client.close(1000, "").unwrap();
}

#[test]
fn a_status_outside_http_is_refused() {
    let ctx = Context::new().unwrap();
    let client = ctx.client("ws://127.0.0.1:1/").unwrap();
    for bad in [0u16, 99, 101, 600] {
        assert!(
            matches!(
                client.set_reconnect_status(bad, true),
                Err(Error::InvalidArgument(_))
            ),
            "{bad}"
        );
    }
    assert!(client.set_reconnect_status(500, false).is_ok());
    assert!(HandshakeFault::Accept.status().is_none());
}

/// `clear_reconnect_statuses` restores the defaults: 403 fatal again.
#[test]
fn clearing_the_statuses_restores_the_defaults() {
    let server = EchoServer::start();
    let (ctx, client) = client_for(&server.url("/status/403"));
    client.set_reconnect_backoff(50, 100).unwrap();
    client.set_reconnect_status(403, true).unwrap();
    client.clear_reconnect_statuses().unwrap();
    client.connect().unwrap();
    let (_, reason, _, _) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
    assert_eq!(reason, ReconnectReason::Fatal);
}

/// A handshake timeout shorter than the body's wait: the refusal is still
/// reported as such (with what came), not as a timeout.
#[test]
fn a_refusal_whose_body_outlasts_the_handshake_timeout_is_still_a_refusal() {
    let server = RawServer::start(|mut s| {
        read_request_head(&mut s);
        s.write_all(b"HTTP/1.1 503 Busy\r\nContent-Length: 50\r\n\r\npart")
            .unwrap();
        wait_eof(&mut s)
    });
    let (ctx, client) = client_for(&server.url("/"));
    client.set_timeouts(0, 100).unwrap();
    client.connect().unwrap();
    let (text, resp) = refusal_of(&wait_event(&ctx, WAIT, is_error));
    assert_eq!(text, "HTTP 503 Busy: part");
    assert_eq!(resp.body, &b"part"[..]);
    drop(client);
    server.join();
}

/// A TLS listener on 127.0.0.1 with the self-signed `localhost`
/// certificate of `tests/servers/`: runs the TLS handshake of up to
/// `conns` connections (under a deadline) and returns how many came.
fn tls_listener(conns: usize) -> (u16, std::thread::JoinHandle<usize>) {
    let cert = include_bytes!("servers/localhost.crt");
    let key = include_bytes!("servers/localhost.key");
    let identity = native_tls::Identity::from_pkcs8(cert, key).expect("the test identity");
    let acceptor = native_tls::TlsAcceptor::new(identity).expect("a TLS acceptor");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + WAIT;
        let mut accepted = 0;
        while accepted < conns && Instant::now() < deadline {
            match listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    s.set_read_timeout(Some(RAW_IO)).unwrap();
                    let _ = acceptor.accept(s);
                    accepted += 1;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        accepted
    });
    (port, handle)
}

/// A certificate that does not verify is fatal by default; allowed, it is
/// retried.
#[test]
fn a_tls_verification_failure_is_not_retried_unless_allowed() {
    let (port, server) = tls_listener(3);
    let url = format!("wss://localhost:{port}/");
    let (ctx, client) = client_for(&url);
    client.set_reconnect_backoff(50, 100).unwrap();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    assert!(matches!(error_of(&seen[0]), Error::Tls(_)), "{seen:?}");
    let decision = seen.iter().find(|e| is_reconnect(e)).expect("a decision");
    let (delay, reason, _, text) = reconnect_of(decision);
    assert_eq!((delay, reason), (0, ReconnectReason::Fatal));
    assert_eq!(
        text,
        "not reconnecting: a TLS certificate failure is not retried"
    );
    assert_eq!(client.status().unwrap(), Status::Closed);

    let (ctx, client) = client_for(&url);
    client.set_reconnect_backoff(50, 100).unwrap();
    client.set_reconnect_tls_verify(true).unwrap();
    client.connect().unwrap();
    for attempt in 1..=2 {
        let (_, reason, n, _) = reconnect_of(&wait_event(&ctx, WAIT, is_reconnect));
        assert_eq!((reason, n), (ReconnectReason::Backoff, attempt));
    }
    client.close(1000, "").unwrap();
    assert_eq!(
        server.join().unwrap(),
        3,
        "one attempt, then the first and a retry"
    );
}
