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
