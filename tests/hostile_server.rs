//! Hostile servers are refused without allocating what they announce: an
//! oversized response head, an endless handshake response, too many
//! headers, a response dribbled byte by byte, frames announcing huge
//! lengths (up to 2^64 - 1). Each test asserts the exact error and that
//! the process RSS (`VmRSS` in `/proc/self/status`) grew by at most a few
//! MiB. The tests of this file hold one lock so that their RSS figures do
//! not mix. Also the regression tests of the fuzz targets (`fuzz/`).

mod common;
use common::*;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wsc::{Context, Error, Event, EventKind};

/// Serializes the tests of this file (RSS is per process).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Largest RSS growth accepted around one hostile connection.
const RSS_SLACK: u64 = 4 << 20;

/// The resident set size of this process, in bytes (`VmRSS`).
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line");
    kib * 1024
}

/// Writes `chunk` again and again (bounded by `max_total` bytes) until the
/// client stops reading or closes; returns the bytes written.
fn flood(s: &mut TcpStream, chunk: &[u8], max_total: usize) -> usize {
    let mut total = 0;
    while total < max_total {
        match s.write(chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
    total
}

/// Connects a client to `server` with `handshake_ms` as its handshake
/// timeout, runs it to `Closed` and returns the events, the RSS growth
/// from before the connection to after it, and how long it took.
fn run_hostile<T: Send + 'static>(
    server: &RawServer<T>,
    handshake_ms: u32,
) -> (Vec<Event>, i64, Duration) {
    let ctx = Context::new().expect("context");
    let client = ctx.client(&server.url("/")).expect("client");
    client.set_timeouts(5000, handshake_ms).expect("timeouts");
    let before = rss();
    let t0 = Instant::now();
    client.connect().expect("connect");
    let seen = wait_for(&ctx, Duration::from_secs(20), is_closed);
    let took = t0.elapsed();
    let growth = rss() as i64 - before as i64;
    (seen, growth, took)
}

fn the_error(seen: &[Event]) -> Error {
    error_of(
        seen.iter()
            .find(|e| is_error(e))
            .unwrap_or_else(|| panic!("no Error event: {seen:#?}")),
    )
}

fn assert_rss(what: &str, growth: i64) {
    println!("{what}: RSS grew by {} KiB", growth / 1024);
    assert!(
        growth < RSS_SLACK as i64,
        "{what}: RSS grew by {growth} bytes (limit {RSS_SLACK}): the client buffers what a hostile \
         server sends (a response head or frame limit is not enforced before allocating)"
    );
}

#[test]
fn an_oversized_response_header_is_refused() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // 101, then one header line that never ends (up to 64 MiB).
    let server = RawServer::start(|mut s| {
        read_request_head(&mut s);
        s.write_all(b"HTTP/1.1 101 Switching Protocols\r\nX-Pad: ")
            .unwrap();
        flood(&mut s, &[b'a'; 16 * 1024], 64 << 20)
    });
    let (seen, growth, took) = run_hostile(&server, 10_000);
    let written = server.join();
    let err = the_error(&seen);
    assert!(matches!(err, Error::Handshake(_)), "{err:?}");
    let (code, _, clean) = closed_of(seen.last().unwrap());
    assert_eq!((code, clean), (1006, false));
    assert!(!seen.iter().any(is_open), "{seen:#?}");
    println!("oversized header: {err} after {took:?}; the server wrote {written} bytes");
    assert!(
        written < 16 << 20,
        "the client read {written} bytes of a response head before refusing it"
    );
    assert!(took < Duration::from_secs(5), "refused after {took:?}");
    assert_rss("oversized header", growth);
}

#[test]
fn an_endless_handshake_response_is_refused() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // Well-formed header lines, forever (up to 64 MiB).
    let server = RawServer::start(|mut s| {
        read_request_head(&mut s);
        s.write_all(b"HTTP/1.1 101 Switching Protocols\r\n")
            .unwrap();
        flood(&mut s, &b"X-More: header line\r\n".repeat(512), 64 << 20)
    });
    let (seen, growth, took) = run_hostile(&server, 10_000);
    let written = server.join();
    let err = the_error(&seen);
    assert!(matches!(err, Error::Handshake(_)), "{err:?}");
    println!("endless response: {err} after {took:?}; the server wrote {written} bytes");
    assert!(written < 16 << 20, "the client read {written} bytes");
    assert!(took < Duration::from_secs(5), "refused after {took:?}");
    assert_rss("endless response", growth);
}

#[test]
fn a_response_with_too_many_headers_is_refused() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let server = RawServer::start(|mut s| {
        let req = read_request_head(&mut s);
        let ok = response_101(&req);
        let (status_and_headers, _) = ok.split_at(ok.len() - 2);
        let mut r = status_and_headers.to_string();
        for i in 0..1000 {
            r.push_str(&format!("X-H{i}: v\r\n"));
        }
        r.push_str("\r\n");
        let _ = s.write_all(r.as_bytes());
        wait_eof(&mut s)
    });
    let (seen, growth, _) = run_hostile(&server, 10_000);
    assert!(server.join(), "the client closed TCP");
    let err = the_error(&seen);
    assert!(matches!(err, Error::Handshake(_)), "{err:?}");
    assert!(!seen.iter().any(is_open), "{seen:#?}");
    assert_rss("1000 headers", growth);
}

#[test]
fn a_response_dribbled_byte_by_byte_is_refused() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // One byte every 5 ms, never ending: the attack check (many tiny
    // packets) or the handshake timeout (2 s) ends it.
    let server = RawServer::start(|mut s| {
        read_request_head(&mut s);
        let line = b"HTTP/1.1 101 Switching Protocols\r\nX-Slow: ";
        let deadline = Instant::now() + Duration::from_secs(6);
        let mut i = 0usize;
        while Instant::now() < deadline {
            let b = if i < line.len() { line[i] } else { b'z' };
            if s.write_all(&[b]).is_err() {
                return true;
            }
            i += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    });
    let (seen, growth, took) = run_hostile(&server, 2000);
    assert!(server.join(), "the client kept reading the dribble for 6 s");
    let err = the_error(&seen);
    println!("dribble: {err} after {took:?}");
    assert!(
        matches!(err, Error::Handshake(_) | Error::Timeout(_)),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(4), "refused after {took:?}");
    assert_rss("dribble", growth);
}

/// A frame header announcing `len` payload bytes (64-bit length form),
/// unmasked, binary, FIN.
fn huge_frame_header(len: u64) -> Vec<u8> {
    let mut f = vec![0x82, 127];
    f.extend_from_slice(&len.to_be_bytes());
    f
}

#[test]
fn frames_announcing_huge_lengths_are_refused_without_allocating_them() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // Above the default limit (10 MiB) up to 2^64 - 1; the payload that
    // follows is 64 KiB of real bytes, then the server waits for the close.
    for len in [
        (10 << 20) + 1,
        1 << 32,
        1 << 62,
        1 << 63,
        (1 << 63) + 12345,
        u64::MAX,
    ] {
        let server = RawServer::start(move |mut s| {
            accept_ws(&mut s);
            let mut bytes = huge_frame_header(len);
            bytes.extend_from_slice(&[7u8; 64 * 1024]);
            let _ = s.write_all(&bytes);
            // The client's close frame (1009), then EOF.
            read_frame(&mut s).ok().and_then(|f| f.close_code())
        });
        let (seen, growth, took) = run_hostile(&server, 10_000);
        let sent_code = server.join();
        let err = the_error(&seen);
        assert!(
            matches!(err, Error::MessageTooBig(_)),
            "length {len}: {err:?}"
        );
        let (code, _, clean) = closed_of(seen.last().unwrap());
        assert_eq!((code, clean), (1009, false), "length {len}");
        assert_eq!(sent_code, Some(1009), "length {len}: close frame sent");
        assert!(
            !seen.iter().any(is_message),
            "length {len}: a message was delivered"
        );
        assert!(took < Duration::from_secs(5), "length {len}: {took:?}");
        assert_rss(&format!("a frame announcing {len} bytes"), growth);
    }
}

#[test]
fn a_huge_frame_above_a_small_limit_is_refused_early() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // With max_message_size 1 KiB, a frame announcing 1 GiB is refused at
    // its header: the client does not read the (never sent) payload.
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        let _ = s.write_all(&huge_frame_header(1 << 30));
        read_frame(&mut s).ok().and_then(|f| f.close_code())
    });
    let ctx = Context::new().unwrap();
    let client = ctx.client(&server.url("/")).unwrap();
    client.set_limits(1024, 0).unwrap();
    let before = rss();
    client.connect().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let growth = rss() as i64 - before as i64;
    assert_eq!(server.join(), Some(1009));
    assert!(matches!(the_error(&seen), Error::MessageTooBig(_)));
    assert_eq!(closed_of(seen.last().unwrap()).0, 1009);
    assert_rss("1 GiB frame, 1 KiB limit", growth);
}

#[test]
fn many_frames_announcing_the_limit_do_not_add_up() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // 50 connections in a row, each with a frame announcing just over the
    // limit: nothing of it is kept.
    let before = rss();
    for _ in 0..50 {
        let server = RawServer::start(|mut s| {
            accept_ws(&mut s);
            let _ = s.write_all(&huge_frame_header((10 << 20) + 1));
            let _ = read_frame(&mut s);
        });
        let (seen, _, _) = run_hostile(&server, 10_000);
        server.join();
        assert!(matches!(the_error(&seen), Error::MessageTooBig(_)));
    }
    assert_rss(
        "50 connections with oversized frames",
        rss() as i64 - before as i64,
    );
}

/// What the client saw, as kinds only (for the order checks below).
fn kinds(seen: &[Event]) -> Vec<&EventKind> {
    seen.iter().map(|e| &e.kind).collect()
}

#[test]
fn bytes_after_the_servers_close_frame_are_ignored() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // A close frame followed by garbage (invalid UTF-8 in a "text frame"):
    // the closing handshake completes with the server's code.
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        let mut b = frame(0x88, &[0x03, 0xe8], None);
        b.extend(frame(0x81, &[0xff, 0xfe, 0xfd], None));
        b.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let _ = s.write_all(&b);
        read_close_frame(&mut s).close_code()
    });
    let (seen, _, _) = run_hostile(&server, 10_000);
    assert_eq!(server.join(), Some(1000), "our close frame echoes 1000");
    let (code, _, clean) = closed_of(seen.last().unwrap());
    assert_eq!((code, clean), (1000, true), "{:#?}", kinds(&seen));
    assert!(!seen.iter().any(is_error), "{:#?}", kinds(&seen));
}

#[test]
fn pings_during_the_closing_handshake_leave_the_send_buffer_empty() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // We close; the server answers with pings before its close frame. No
    // pong is due after our close frame (RFC 6455 §5.5.1: nothing after a
    // close frame), so nothing waits to be written: the send buffer is 0.
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        let ours = read_close_frame(&mut s);
        for _ in 0..3 {
            s.write_all(&frame(0x89, b"", None)).unwrap();
        }
        std::thread::sleep(Duration::from_millis(300));
        s.write_all(&frame(0x88, &[0x03, 0xe8], None)).unwrap();
        ours.close_code()
    });
    let (ctx, client, _) = open(&server.url("/"));
    client.close(1000, "").unwrap();
    for _ in 0..3 {
        wait_event(&ctx, WAIT, |e| matches!(e.kind, EventKind::Ping(_)));
    }
    let buffered = client.send_buffer_size().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    assert_eq!(server.join(), Some(1000));
    assert_eq!(closed_of(seen.last().unwrap()), (1000, String::new(), true));
    assert_eq!(
        buffered, 0,
        "the send buffer counts {buffered} bytes while closing: pongs that tungstenite does not \
         send after our close frame are counted as queued (conn.rs drive_open, Message::Ping)"
    );
}

#[test]
fn a_close_frame_without_a_code_leaves_the_send_buffer_empty() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // The server closes with an empty close frame (1005); the client echoes
    // an empty close frame (6 bytes on the wire) and waits for TCP to end:
    // meanwhile nothing waits to be written.
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        s.write_all(&frame(0x88, b"", None)).unwrap();
        let echo = read_close_frame(&mut s);
        std::thread::sleep(Duration::from_millis(300));
        echo.payload.len()
    });
    let (ctx, client, _) = open(&server.url("/"));
    let ev = wait_event(&ctx, WAIT, |e| {
        matches!(e.kind, EventKind::CloseFrame { .. })
    });
    assert!(matches!(ev.kind, EventKind::CloseFrame { code: 1005, .. }));
    // Let the echo be written.
    std::thread::sleep(Duration::from_millis(100));
    let _ = ctx.poll_event(Some(Duration::from_millis(10)));
    let buffered = client.send_buffer_size().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    assert_eq!(server.join(), 0, "the echoed close frame is empty");
    assert_eq!(closed_of(seen.last().unwrap()).0, 1005);
    assert_eq!(
        buffered, 0,
        "the send buffer counts {buffered} bytes while closing: the echo of an empty close frame \
         is counted as a 2-byte status code (conn.rs drive_open, Message::Close)"
    );
}

/// While no caller polls, the fallback thread reads only up to the event
/// queue limit (4 MiB by default), then stops reading: TCP flow control
/// holds the server back instead of memory filling with what it sends.
/// Once the caller polls again, every message arrives, in order.
#[test]
fn a_flooding_server_is_held_back_while_the_caller_does_not_poll() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // The server sends 4096 messages of 64 KiB (256 MiB) as fast as it can,
    // each starting with its number; the caller polls nothing for 3 s.
    // Workerman reads nothing while its worker is busy, so TCP flow control
    // holds the server back; wsc's fallback thread must not read without
    // bound into the event queue either.
    const COUNT: u32 = 4096;
    const SIZE: usize = 64 * 1024;
    let server = RawServer::start(|mut s| {
        accept_ws(&mut s);
        s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut payload = vec![b'f'; SIZE];
        let mut written = 0u32;
        while written < COUNT {
            payload[..4].copy_from_slice(&written.to_be_bytes());
            if s.write_all(&frame(0x82, &payload, None)).is_err() {
                break;
            }
            written += 1;
        }
        // Wait for the client's close frame (or EOF) before closing.
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let _ = std::io::Read::read(&mut s, &mut [0u8; 64]);
        written as usize
    });
    let (ctx, client, _) = open(&server.url("/"));
    let before = rss();
    std::thread::sleep(Duration::from_secs(3));
    let growth = rss() as i64 - before as i64;
    let read_while_idle = client.bytes().unwrap().0;
    assert!(
        growth < 64 << 20,
        "RSS grew by {} MiB in 3 s without a poll (the client read {} MiB): the event queue is \
         not bounded while the caller does not poll",
        growth >> 20,
        read_while_idle >> 20
    );
    assert!(
        read_while_idle < 64 << 20,
        "the client read {} MiB while nobody polled; the event queue limit is 4 MiB",
        read_while_idle >> 20
    );
    // Polling again: everything arrives, in order, nothing lost.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut next = 0u32;
    while next < COUNT && Instant::now() < deadline {
        let Some(ev) = ctx.poll_event(Some(Duration::from_millis(500))).unwrap() else {
            continue;
        };
        match ev.kind {
            EventKind::Message { data, .. } => {
                assert_eq!(data.len(), SIZE);
                let n = u32::from_be_bytes(data[..4].try_into().unwrap());
                assert_eq!(n, next, "messages out of order or lost");
                next += 1;
            }
            EventKind::Closed { code, reason, .. } => {
                panic!("closed ({code} {reason}) after {next} of {COUNT} messages")
            }
            _ => {}
        }
    }
    assert_eq!(
        next, COUNT,
        "only {next} of {COUNT} messages arrived within 60 s"
    );
    client.close(1000, "").unwrap();
    let _ = wait_for(&ctx, WAIT, is_closed);
    drop(ctx);
    assert_eq!(server.join(), COUNT as usize);
    println!(
        "flood: the client read {} MiB while nobody polled for 3 s (RSS +{} MiB); then all {COUNT} \
         messages of 64 KiB arrived in order",
        read_while_idle >> 20,
        growth >> 20
    );
}
