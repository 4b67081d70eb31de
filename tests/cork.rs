//! Write coalescing ("corking"): messages sent while the caller dispatches
//! a batch of events (it took an event and more are queued) leave together
//! when the batch ends; a lone send is written at once; corked messages are
//! written even if the caller stops polling, and reported undelivered when
//! the connection ends before they were written.

mod common;
use common::*;
use std::time::{Duration, Instant};
use wsc::{Client, Context, EventKind, MessageType, SendStatus};

/// Sends `n` text messages `m0`.. and waits (without polling: the fallback
/// thread reads) until their `n` echoes are in the event queue.
fn queue_echoes(client: &Client, n: usize) {
    let (read0, _) = client.bytes().unwrap();
    for i in 0..n {
        let status = client
            .send(MessageType::Text, format!("m{i}").as_bytes())
            .unwrap();
        assert_eq!(status, SendStatus::Written, "m{i}: nothing is dispatched");
    }
    // Each echo is a 2-byte header and a 2-byte payload.
    let want = read0 + 4 * n as u64;
    let deadline = Instant::now() + WAIT;
    while client.bytes().unwrap().0 < want {
        assert!(Instant::now() < deadline, "the echoes did not come back");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn next_text(ctx: &Context) -> String {
    text_of(&wait_event(ctx, WAIT, is_message))
}

#[test]
fn sends_while_a_batch_is_dispatched_are_corked_and_all_arrive_in_order() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    // A lone send (no event taken, none queued) is written at once.
    assert_eq!(
        client.send(MessageType::Text, b"lone").unwrap(),
        SendStatus::Written
    );
    assert_eq!(next_text(&ctx), "lone");
    queue_echoes(&client, 10);
    let mut statuses = Vec::new();
    for i in 0..10 {
        assert_eq!(next_text(&ctx), format!("m{i}"));
        statuses.push(
            client
                .send(MessageType::Text, format!("r{i}").as_bytes())
                .unwrap(),
        );
    }
    // Corked while more events were queued; the send for the last one is
    // written at once (with nothing left corked: the batch ended when the
    // last event was taken).
    let mut want = vec![SendStatus::Corked; 9];
    want.push(SendStatus::Written);
    assert_eq!(statuses, want);
    assert_eq!(client.send_buffer_size().unwrap(), 0);
    for i in 0..10 {
        assert_eq!(next_text(&ctx), format!("r{i}"), "every reply, in order");
    }
}

#[test]
fn corked_messages_leave_when_the_caller_stops_polling() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    queue_echoes(&client, 2);
    assert_eq!(next_text(&ctx), "m0");
    let (read0, _) = client.bytes().unwrap();
    assert_eq!(
        client.send(MessageType::Text, b"c").unwrap(),
        SendStatus::Corked
    );
    // The caller does not come back: the fallback thread writes the corked
    // message, the server echoes it and the fallback thread reads the echo.
    let deadline = Instant::now() + WAIT;
    while client.bytes().unwrap().0 < read0 + 3 {
        assert!(
            Instant::now() < deadline,
            "the corked message never left while the caller did not poll"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(next_text(&ctx), "m1");
    assert_eq!(next_text(&ctx), "c");
}

#[test]
fn corked_messages_are_undelivered_when_the_connection_ends_first() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    queue_echoes(&client, 2);
    assert_eq!(next_text(&ctx), "m0");
    assert_eq!(
        client.send(MessageType::Text, b"corked").unwrap(),
        SendStatus::Corked
    );
    client.abort().unwrap();
    let seen = wait_for(&ctx, WAIT, is_closed);
    let undelivered: Vec<_> = seen
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Undelivered { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .collect();
    assert_eq!(undelivered, [b"corked".to_vec()], "{seen:?}");
}

#[test]
fn sends_while_a_poll_events_batch_is_dispatched_leave_at_the_next_poll() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    queue_echoes(&client, 3);
    let batch = ctx.poll_events(Some(WAIT), 16).unwrap();
    let texts: Vec<_> = batch.iter().map(text_of).collect();
    assert_eq!(texts, ["m0", "m1", "m2"], "one batch of the three echoes");
    // Nothing more is queued, but the batch is still being dispatched: all
    // three replies are corked, the last one too.
    for i in 0..3 {
        assert_eq!(
            client
                .send(MessageType::Text, format!("r{i}").as_bytes())
                .unwrap(),
            SendStatus::Corked
        );
    }
    assert!(client.send_buffer_size().unwrap() > 0, "held, not written");
    // The context fd is readable, so that an outer event loop that waits
    // on it polls again at once; that poll writes them.
    let mut pfd = libc::pollfd {
        fd: ctx.fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, the context's fd, which lives as long as ctx.
    let ready = unsafe { libc::poll(&mut pfd, 1, 5000) };
    assert_eq!(ready, 1, "the context fd turned readable");
    for i in 0..3 {
        assert_eq!(next_text(&ctx), format!("r{i}"), "every reply, in order");
    }
    assert_eq!(client.send_buffer_size().unwrap(), 0);
}

#[test]
fn sends_while_a_packed_batch_is_dispatched_are_corked_through_the_c_api() {
    use wsc::ffi::*;
    let server = EchoServer::start();
    let url = std::ffi::CString::new(server.url("/")).unwrap();
    let mut ctx: *mut wsc_context = std::ptr::null_mut();
    assert_eq!(wsc_context_new(&mut ctx), wsc_result::Ok);
    let mut c: *mut wsc_client = std::ptr::null_mut();
    assert_eq!(wsc_client_new(ctx, url.as_ptr(), &mut c), wsc_result::Ok);
    assert_eq!(wsc_client_connect(c), wsc_result::Ok);
    for m in [b"m0", b"m1", b"m2"] {
        assert_eq!(
            wsc_client_send(c, 1, m.as_ptr(), 2, std::ptr::null_mut()),
            wsc_result::Ok
        );
    }
    // Polls batches until `want` text messages came; returns them.
    let poll_messages = |want: usize| -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let deadline = Instant::now() + WAIT;
        while got.len() < want && Instant::now() < deadline {
            let (mut p, mut len, mut count) = (std::ptr::null(), 0usize, 0usize);
            assert_eq!(
                wsc_context_poll_batch(ctx, 200, 64, &mut p, &mut len, &mut count),
                wsc_result::Ok
            );
            // SAFETY: `len` readable bytes at `p` until the next batch poll.
            let b = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
            let mut at = 0;
            for _ in 0..count {
                let le = |off: usize, n: usize| {
                    b[at + off..at + off + n]
                        .iter()
                        .rev()
                        .fold(0u64, |v, &x| (v << 8) | u64::from(x))
                };
                // event_type@4 (3 = TEXT), data_len@16, data_offset@24
                // (inline, from the buffer's start); record_size@0.
                if le(4, 4) == 3 {
                    let (n, off) = (le(16, 8) as usize, le(24, 8) as usize);
                    got.push(b[off..off + n].to_vec());
                }
                at += le(0, 4) as usize;
            }
        }
        got
    };
    // The three echoes come in one batch once the fallback thread read them.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        poll_messages(3),
        [b"m0".to_vec(), b"m1".to_vec(), b"m2".to_vec()]
    );
    let mut status = wsc_send_status::Written;
    for r in [b"r0", b"r1", b"r2"] {
        assert_eq!(
            wsc_client_send(c, 1, r.as_ptr(), 2, &mut status),
            wsc_result::Ok
        );
        assert_eq!(
            status,
            wsc_send_status::Corked,
            "sent while the batch is dispatched"
        );
    }
    // The next batch poll writes them; their echoes come back in order.
    assert_eq!(
        poll_messages(3),
        [b"r0".to_vec(), b"r1".to_vec(), b"r2".to_vec()]
    );
    assert_eq!(wsc_client_free(c), wsc_result::Ok);
    assert_eq!(wsc_context_free(ctx), wsc_result::Ok);
}
