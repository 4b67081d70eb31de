//! `poll_events` drains a batch in one call: the first event as
//! `poll_event` would give it, then the ones already queued, in order, at
//! most `max`.

mod common;
use common::*;
use std::time::{Duration, Instant};
use wsc::{EventKind, MessageType};

#[test]
fn a_batch_holds_the_queued_events_in_order_up_to_max() {
    let server = EchoServer::start();
    let (ctx, client, _) = open(&server.url("/"));
    for i in 0..50 {
        client
            .send(MessageType::Text, format!("m{i}").as_bytes())
            .unwrap();
    }
    // Let the echoes arrive and queue up (the fallback thread reads them
    // while nobody polls): without the pause, a loaded machine delivers
    // them one by one as they come and every batch holds a single event.
    std::thread::sleep(Duration::from_millis(500));
    let mut got = Vec::new();
    let mut batches = 0;
    let deadline = Instant::now() + WAIT;
    while got.len() < 50 && Instant::now() < deadline {
        let batch = ctx
            .poll_events(Some(Duration::from_millis(500)), 16)
            .unwrap();
        assert!(batch.len() <= 16, "at most max: {}", batch.len());
        if !batch.is_empty() {
            batches += 1;
        }
        for ev in batch {
            match ev.kind {
                EventKind::Message { data, .. } => {
                    got.push(String::from_utf8(data.to_vec()).unwrap())
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    let want: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    assert_eq!(got, want);
    assert!(
        batches < 50,
        "events came in batches ({batches} calls for 50 events)"
    );
    assert!(
        ctx.poll_events(Some(Duration::from_millis(50)), 16)
            .unwrap()
            .is_empty()
    );
    assert!(
        ctx.poll_events(None, 0).unwrap().is_empty(),
        "max 0: nothing, at once"
    );
}

/// Reads the little-endian field of `n` bytes at `at`.
fn le(b: &[u8], at: usize, n: usize) -> u64 {
    b[at..at + n]
        .iter()
        .rev()
        .fold(0, |v, &x| (v << 8) | u64::from(x))
}

#[test]
fn a_packed_batch_holds_every_field_and_each_thread_keeps_its_own() {
    use wsc::ffi::*;
    let server = EchoServer::start();
    let url = std::ffi::CString::new(server.url("/")).unwrap();
    let mut ctx: *mut wsc_context = std::ptr::null_mut();
    assert_eq!(wsc_context_new(&mut ctx), wsc_result::Ok);
    let mut c: *mut wsc_client = std::ptr::null_mut();
    assert_eq!(wsc_client_new(ctx, url.as_ptr(), &mut c), wsc_result::Ok);
    assert_eq!(wsc_client_connect(c), wsc_result::Ok);
    let big = vec![7u8; 20_000];
    assert_eq!(
        wsc_client_send(c, 1, b"hi".as_ptr(), 2, std::ptr::null_mut()),
        wsc_result::Ok
    );
    assert_eq!(
        wsc_client_send(c, 2, big.as_ptr(), big.len(), std::ptr::null_mut()),
        wsc_result::Ok
    );
    // (type, payload) of every record, until the big echo came.
    let mut seen: Vec<(u32, Vec<u8>)> = Vec::new();
    let deadline = Instant::now() + WAIT;
    while !seen.iter().any(|(t, _)| *t == 4) && Instant::now() < deadline {
        let (mut p, mut len, mut count) = (std::ptr::null(), 0usize, 0usize);
        let mut ix: *const u64 = std::ptr::null();
        assert_eq!(
            wsc_context_poll_batch_index(ctx, 200, 64, &mut p, &mut len, &mut count, &mut ix),
            wsc_result::Ok
        );
        if count == 0 {
            assert!(p.is_null() && len == 0 && ix.is_null());
            continue;
        }
        assert!(!ix.is_null());
        // SAFETY: two index words per event, valid as long as the buffer.
        let index = unsafe { std::slice::from_raw_parts(ix, 2 * count) };
        // SAFETY: the library gives `len` readable bytes at `p` until the next batch poll.
        let b = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
        assert_eq!(p as usize % 8, 0, "8-byte aligned");
        let mut n = 0;
        let stride = le(b, 0, 4) as usize;
        assert_eq!(stride, 112);
        assert_eq!(stride, std::mem::size_of::<wsc_batch_record>());
        let mut payload_end = count * stride;
        for i in 0..count {
            let at = i * stride;
            assert_eq!(le(b, at, 4) as usize, stride, "every record the same size");
            let event_type = le(b, at + 4, 4) as u32;
            let data_len = le(b, at + 16, 8) as usize;
            let offset = le(b, at + 24, 8) as usize;
            let address = le(b, at + 32, 8) as usize;
            assert_eq!(&b[at + 51..at + 56], &[0; 5], "reserved bytes are zero");
            assert_eq!(&b[at + 58..at + 60], &[0; 2], "reserved bytes are zero");
            assert_eq!(&b[at + 76..at + 80], &[0; 4], "reserved bytes are zero");
            // The same fields through the struct (a little-endian host).
            // SAFETY: `count` records at `p`, aligned (checked above).
            let r = unsafe { &*p.add(i) };
            assert_eq!((r.event_type, r.data_len as usize), (event_type, data_len));
            assert_eq!(r.client_id, le(b, at + 8, 8));
            let data = if data_len == 0 {
                assert_eq!((offset, address), (0, 0));
                Vec::new()
            } else if address == 0 {
                assert_eq!(
                    offset, payload_end,
                    "inline payloads follow the records, in order"
                );
                payload_end += data_len;
                b[offset..offset + data_len].to_vec()
            } else {
                assert_eq!(offset, 0);
                assert!(data_len > 4096, "only big payloads are out of line");
                // SAFETY: valid as long as the buffer (documented).
                unsafe { std::slice::from_raw_parts(address as *const u8, data_len) }.to_vec()
            };
            // The compact index: client_id, then type | len << 8 | offset << 32
            // for inline (or empty) payloads, len 0xFFFFFF otherwise.
            assert_eq!(index[2 * i], le(b, at + 8, 8));
            let packed = if address == 0 {
                (data_len as u64) << 8 | (offset as u64) << 32
            } else {
                0xff_ffff << 8
            };
            assert_eq!(index[2 * i + 1], u64::from(event_type) | packed);
            seen.push((event_type, data));
            n += 1;
        }
        assert_eq!(
            payload_end, len,
            "the buffer ends with the last inline payload"
        );
        assert_eq!(n, count);
    }
    // (BUFFER_DRAIN, 12, comes once the queued sends are written.)
    seen.retain(|(t, _)| *t != 12);
    let types: Vec<u32> = seen.iter().map(|(t, _)| *t).collect();
    assert_eq!(types, vec![1, 2, 3, 4], "connected, open, text, binary");
    assert!(seen[1].1.starts_with(b"HTTP/1.1 101"));
    assert_eq!(seen[2].1, b"hi");
    assert_eq!(seen[3].1, big);

    // Another thread's batch poll leaves this thread's buffer alone.
    assert_eq!(
        wsc_client_send(c, 1, b"again".as_ptr(), 5, std::ptr::null_mut()),
        wsc_result::Ok
    );
    let (mut p, mut len) = (std::ptr::null(), 0usize);
    let deadline = Instant::now() + WAIT;
    while len == 0 && Instant::now() < deadline {
        assert_eq!(
            wsc_context_poll_batch(ctx, 200, 64, &mut p, &mut len, std::ptr::null_mut()),
            wsc_result::Ok
        );
    }
    // SAFETY: as above.
    let mine = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }.to_vec();
    let ctx_addr = ctx as usize;
    std::thread::spawn(move || {
        let (mut q, mut l) = (std::ptr::null(), 0usize);
        let r = wsc_context_poll_batch(
            ctx_addr as *mut _,
            50,
            64,
            &mut q,
            &mut l,
            std::ptr::null_mut(),
        );
        assert_eq!(r, wsc_result::Ok);
    })
    .join()
    .unwrap();
    // SAFETY: still this thread's batch: no batch poll of this thread since.
    assert_eq!(
        unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) },
        &mine[..]
    );
    assert_eq!(&mine[112..], b"again");

    assert_eq!(wsc_client_free(c), wsc_result::Ok);
    assert_eq!(wsc_context_free(ctx), wsc_result::Ok);
    let (mut q, mut l) = (std::ptr::null(), 0usize);
    assert_eq!(
        wsc_context_poll_batch(ctx, 0, 8, &mut q, &mut l, std::ptr::null_mut()),
        wsc_result::InvalidHandle
    );
}
