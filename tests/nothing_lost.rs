//! Nothing lost: numbered messages are sent continuously while the echo
//! server is killed (SIGKILL, by PID) and restarted on the same port twice;
//! every number is accounted for: echoed, reported `Undelivered` (with its
//! payload), refused by `send`, or written to a socket whose server then
//! died (TCP gives no delivery proof for those: "written, fate unknown").

mod common;
use common::*;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wsc::{Client, Context, Error, EventKind, MessageType, Status};

/// Messages sent in all.
const N: usize = 20_000;
/// The server is killed just before these numbers are sent...
const KILLS: [usize; 2] = [6_000, 13_000];
/// ...and restarted this many messages later (the client meanwhile gets
/// `Closed`, reconnects, is refused, queues and refuses messages).
const DOWN_FOR: usize = 1_000;
/// Every this many messages the test polls with a short wait (pacing).
const PACE_EVERY: usize = 50;
const PACE: Duration = Duration::from_millis(4);
/// Delay of each reconnect after a `Closed`.
const RECONNECT_AFTER: Duration = Duration::from_millis(20);
/// Upper bound on reconnects (each refused one costs one).
const MAX_RECONNECTS: usize = 2_000;

/// The payload of message `i`: its number, then padding to 100 bytes, so
/// that the socket buffers hold a realistic amount when the server dies.
fn payload(i: usize) -> Vec<u8> {
    let mut p = format!("{i:06}:").into_bytes();
    p.resize(100, b'.');
    p
}

fn number_of(data: &[u8]) -> usize {
    let s = std::str::from_utf8(data).expect("payloads are ASCII");
    s.split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a numbered payload: {s:?}"))
}

/// How one connection attempt ("epoch": the attempts are numbered by the
/// `Closed` events before them) ended.
#[derive(Debug, Clone, Copy)]
struct EpochEnd {
    opened: bool,
    code: u16,
    clean: bool,
}

#[derive(Default)]
struct Book {
    /// The epoch each accepted number was accepted into.
    accepted: HashMap<usize, usize>,
    refused: Vec<(usize, Error)>,
    echoed: Vec<usize>,
    undelivered: Vec<usize>,
    /// The current epoch: `Closed` events seen so far.
    epoch: usize,
    opened_now: bool,
    ends: Vec<EpochEnd>,
    opens: usize,
    reconnects: usize,
    /// Set before the final close: no more reconnects.
    finishing: bool,
    other_events: Vec<String>,
}

impl Book {
    fn on_event(&mut self, client: &Client, kind: EventKind) {
        match kind {
            EventKind::Message { data, .. } => self.echoed.push(number_of(&data)),
            EventKind::Undelivered { data, .. } => self.undelivered.push(number_of(&data)),
            EventKind::Open { .. } => {
                self.opens += 1;
                self.opened_now = true;
            }
            EventKind::Closed { code, clean, .. } => {
                self.ends.push(EpochEnd {
                    opened: self.opened_now,
                    code,
                    clean,
                });
                self.epoch += 1;
                self.opened_now = false;
                if !self.finishing {
                    self.reconnects += 1;
                    assert!(
                        self.reconnects <= MAX_RECONNECTS,
                        "more than {MAX_RECONNECTS} reconnects: the client never gets back in"
                    );
                    client.reconnect(RECONNECT_AFTER).expect("reconnect");
                }
            }
            EventKind::Connected | EventKind::Error(_) => {}
            EventKind::BufferFull | EventKind::BufferDrain => {}
            // The echo of our final close.
            EventKind::CloseFrame { .. } if self.finishing => {}
            other => self.other_events.push(format!("{other:?}")),
        }
    }

    /// Polls once with `wait`, then without waiting until no event is left.
    fn pump(&mut self, ctx: &Context, client: &Client, wait: Duration) {
        let mut timeout = wait;
        while let Some(ev) = ctx.poll_event(Some(timeout)).expect("poll_event") {
            assert_eq!(ev.client_id, client.id());
            self.on_event(client, ev.kind);
            timeout = Duration::ZERO;
        }
    }
}

#[test]
fn every_message_is_echoed_reported_refused_or_written_before_the_server_died() {
    let mut server = EchoServer::start();
    let addr = server.addr.clone();
    let ctx = Context::new().expect("context");
    let client = ctx.client(&server.url("/")).expect("client");
    client.connect().expect("connect");
    let mut book = Book::default();
    let deadline = Instant::now() + WAIT;
    while book.opens == 0 {
        assert!(
            Instant::now() < deadline,
            "the first connection never opened"
        );
        book.pump(&ctx, &client, Duration::from_millis(50));
    }

    let t0 = Instant::now();
    let mut down_until = None;
    let mut kills = 0;
    for i in 0..N {
        if KILLS.contains(&i) {
            server.kill();
            kills += 1;
            down_until = Some(i + DOWN_FOR);
        }
        if down_until == Some(i) {
            server = EchoServer::start_on(&addr);
            assert_eq!(server.addr, addr, "restarted on the same port");
            down_until = None;
        }
        match client.send(MessageType::Text, &payload(i)) {
            Ok(_) => {
                book.accepted.insert(i, book.epoch);
            }
            Err(e @ (Error::NotConnected | Error::BufferFull)) => book.refused.push((i, e)),
            Err(e) => panic!("send {i}: unexpected error {e:?}"),
        }
        let wait = if i % PACE_EVERY == 0 {
            PACE
        } else {
            Duration::ZERO
        };
        book.pump(&ctx, &client, wait);
    }
    let send_time = t0.elapsed();

    // Let the last connection settle: open, and everything accepted into
    // it echoed (it is never killed), or the deadline.
    let last_epoch_done = |b: &Book| {
        b.opened_now
            && b.accepted.iter().filter(|&(_, &e)| e == b.epoch).count()
                <= b.echoed
                    .iter()
                    .filter(|n| b.accepted.get(n) == Some(&b.epoch))
                    .count()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !last_epoch_done(&book) && Instant::now() < deadline {
        book.pump(&ctx, &client, Duration::from_millis(50));
    }
    assert_eq!(client.status().unwrap(), Status::Established);
    book.finishing = true;
    client.close(1000, "done").expect("close");
    let final_epoch = book.epoch;
    let deadline = Instant::now() + WAIT;
    while book.epoch == final_epoch {
        assert!(Instant::now() < deadline, "no Closed after close()");
        book.pump(&ctx, &client, Duration::from_millis(50));
    }
    // Nothing may come after the final Closed.
    book.pump(&ctx, &client, Duration::from_millis(200));

    // The accounts.
    let mut echo_count = vec![0u32; N];
    let mut undelivered_count = vec![0u32; N];
    for &n in &book.echoed {
        echo_count[n] += 1;
    }
    for &n in &book.undelivered {
        undelivered_count[n] += 1;
    }
    let mut unknown = Vec::new();
    for i in 0..N {
        let refused = book.refused.iter().any(|(n, _)| *n == i);
        let accepted = book.accepted.contains_key(&i);
        let (e, u) = (echo_count[i], undelivered_count[i]);
        assert!(e <= 1, "message {i} echoed {e} times");
        assert!(u <= 1, "message {i} reported undelivered {u} times");
        assert!(
            e + u <= 1,
            "message {i} both echoed and reported undelivered"
        );
        assert!(
            !refused || e + u == 0,
            "message {i} was refused by send, yet echoed ({e}) or reported undelivered ({u})"
        );
        assert!(refused != accepted, "message {i}: refused xor accepted");
        if accepted && e + u == 0 {
            unknown.push(i);
        }
    }
    // "Written, fate unknown" is only possible on a connection that was
    // open and then broke (the server died): on any other ending every
    // accepted message must be echoed or reported.
    for &i in &unknown {
        let epoch = book.accepted[&i];
        let end = book.ends[epoch];
        assert!(
            end.opened && !end.clean && end.code == 1006,
            "message {i} (epoch {epoch}, ended {end:?}) was accepted, never echoed and never \
             reported undelivered: it was lost silently"
        );
    }
    // Echoes come back in the order sent.
    for w in book.echoed.windows(2) {
        assert!(w[0] < w[1], "echo {} came after {}", w[1], w[0]);
    }
    let echoed = book.echoed.len();
    let undelivered = book.undelivered.len();
    let refused = book.refused.len();
    let not_connected = book
        .refused
        .iter()
        .filter(|(_, e)| *e == Error::NotConnected)
        .count();
    println!(
        "nothing_lost: {N} messages in {send_time:?}: {echoed} echoed, {undelivered} undelivered, \
         {refused} refused ({not_connected} NotConnected, {} BufferFull), {} written with fate \
         unknown; {kills} server kills, {} opens, {} reconnects, epochs ended {:?}",
        refused - not_connected,
        unknown.len(),
        book.opens,
        book.reconnects,
        book.ends
            .iter()
            .map(|e| (e.code, e.opened))
            .collect::<Vec<_>>(),
    );
    assert_eq!(echoed + undelivered + refused + unknown.len(), N);
    assert!(
        book.other_events.is_empty(),
        "unexpected events: {:?}",
        book.other_events
    );
    assert_eq!(kills, 2);
    assert!(
        book.opens >= 3,
        "reopened after each kill: {} opens",
        book.opens
    );
    let last = book.ends.last().expect("a final Closed");
    assert_eq!((last.code, last.clean), (1000, true), "the final close");
    // Not vacuous: most messages went through, and the kills were felt.
    assert!(echoed > N / 2, "only {echoed} of {N} echoed");
    assert!(
        refused + undelivered + unknown.len() > 0,
        "the kills changed nothing"
    );
}
