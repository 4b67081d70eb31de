//! Soak (not in CI; `scripts/soak.sh [SECONDS]`, `make soak`): N clients
//! echo numbered messages against the echo server for a given time while
//! random faults hit them: the server killed (SIGKILL, by PID) and
//! restarted on the same port after a random pause, reading paused and
//! resumed, a connection aborted, reconnected at once, or closed and
//! reopened. Half of the clients reconnect by themselves (exponential
//! backoff), the others from `Closed`. Prints the counts: messages sent,
//! received, reported undelivered, refused, written with fate unknown,
//! reconnects, faults; and RSS, fds and threads at the start and the end.
//!
//! Checked: no message is echoed or reported twice, echoes of a client come
//! in the order sent, nothing unknown is reported, every message of the
//! last round (after the faults stop) is echoed, and RSS grew by less
//! than 48 MiB. Environment: `WSC_SOAK_SECONDS` (default 3600),
//! `WSC_SOAK_CLIENTS` (8), `WSC_SOAK_SEED` (from the clock; printed).

mod common;
use common::*;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use wsc::{Client, Context, Error, EventKind, MessageType, Status};

/// A small deterministic generator (xorshift64*), seeded from the
/// environment or the clock, so that a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from + 1))
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn status_field(name: &str) -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(-1)
}

fn usage() -> String {
    format!(
        "RSS {} KiB, {} fds, {} threads",
        status_field("VmRSS"),
        std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count()),
        status_field("Threads")
    )
}

/// Messages in flight per client at most.
const WINDOW: usize = 64;
/// ... and while its reading is paused: enough to fill the socket buffers
/// and then the send buffer (back-pressure: `BufferFull` refusals).
const PAUSED_WINDOW: usize = 200_000;

#[derive(Default, Debug)]
struct Counts {
    sent: u64,
    received: u64,
    undelivered: u64,
    refused_not_connected: u64,
    refused_buffer_full: u64,
    opens: u64,
    closes: u64,
    errors: u64,
    duplicates: u64,
    out_of_order: u64,
    unknown_numbers: u64,
}

struct Peer {
    client: Client,
    /// Reconnects by itself (backoff) rather than from `Closed`.
    auto: bool,
    next: u64,
    last_echo: Option<u64>,
    in_flight: BTreeSet<u64>,
    /// Still unresolved when a connection ended (see `handle`).
    limbo: BTreeSet<u64>,
    open: bool,
    paused_until: Option<Instant>,
    reconnect_at: Option<Instant>,
}

impl Peer {
    fn payload(&self, n: u64) -> Vec<u8> {
        let mut p = format!("{n}:").into_bytes();
        p.resize(16 + (n % 200) as usize, b'~');
        p
    }
}

fn number_of(data: &[u8]) -> u64 {
    std::str::from_utf8(data)
        .ok()
        .and_then(|s| s.split(':').next()?.parse().ok())
        .unwrap_or(u64::MAX)
}

#[derive(Default, Debug)]
struct Faults {
    server_kills: u64,
    pauses: u64,
    aborts: u64,
    reconnect_now: u64,
    close_reopen: u64,
}

#[test]
#[ignore = "a soak of WSC_SOAK_SECONDS (default an hour): run it with scripts/soak.sh"]
fn soak() {
    let seconds = env_u64("WSC_SOAK_SECONDS", 3600);
    let n_clients = env_u64("WSC_SOAK_CLIENTS", 8) as usize;
    let seed = env_u64(
        "WSC_SOAK_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1,
    );
    let mut rng = Rng(seed | 1);
    println!("soak: {seconds} s, {n_clients} clients, seed {seed} (WSC_SOAK_SEED)");

    let mut server = Some(EchoServer::start());
    let addr = server.as_ref().unwrap().addr.clone();
    let url = format!("ws://{addr}/");
    let ctx = Context::new().expect("context");
    let mut peers: Vec<Peer> = (0..n_clients)
        .map(|i| {
            let client = ctx.client(&url).expect("client");
            client.set_timeouts(2000, 2000).unwrap();
            let auto = i % 2 == 1;
            if auto {
                client.set_reconnect_backoff(20, 1000).unwrap();
            }
            client.connect().unwrap();
            Peer {
                client,
                auto,
                next: 0,
                last_echo: None,
                in_flight: BTreeSet::new(),
                limbo: BTreeSet::new(),
                open: false,
                paused_until: None,
                reconnect_at: None,
            }
        })
        .collect();
    let mut c = Counts::default();
    let mut f = Faults::default();
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut restart_at: Option<Instant> = None;
    let mut next_fault = start + rng.millis(1000, 3000);
    let mut next_report = start + Duration::from_secs(60);
    let mut rss_start: Option<(i64, String)> = None;
    let mut turns: u64 = 0;

    // The main loop: bounded by the deadline (and a turn budget).
    while Instant::now() < end && turns < 1_000_000_000 {
        turns += 1;
        let now = Instant::now();
        if rss_start.is_none() && now >= start + Duration::from_secs(seconds.min(10)) {
            rss_start = Some((status_field("VmRSS"), usage()));
        }
        if now >= next_report {
            println!("  {:>5} s: {c:?}", (now - start).as_secs());
            next_report = now + Duration::from_secs(60);
        }
        // Restart the server when its pause is over.
        if restart_at.is_some_and(|t| now >= t) {
            server = Some(EchoServer::start_on(&addr));
            restart_at = None;
        }
        // A fault now and then (only while the server is up).
        if now >= next_fault && server.is_some() {
            next_fault = now + rng.millis(500, 4000);
            let p = rng.below(n_clients as u64) as usize;
            match rng.below(5) {
                0 => {
                    server.take().unwrap().kill();
                    f.server_kills += 1;
                    restart_at = Some(now + rng.millis(0, 1500));
                }
                1 => {
                    let _ = peers[p].client.pause_recv();
                    peers[p].paused_until = Some(now + rng.millis(200, 2000));
                    f.pauses += 1;
                }
                2 => {
                    let _ = peers[p].client.abort();
                    f.aborts += 1;
                }
                3 => {
                    let _ = peers[p].client.reconnect(Duration::ZERO);
                    f.reconnect_now += 1;
                }
                _ => {
                    let _ = peers[p].client.close(1000, "soak");
                    f.close_reopen += 1;
                }
            }
        }
        for peer in peers.iter_mut() {
            if peer.paused_until.is_some_and(|t| now >= t) {
                let _ = peer.client.resume_recv();
                peer.paused_until = None;
            }
            if peer.reconnect_at.is_some_and(|t| now >= t) {
                peer.reconnect_at = None;
                if peer.client.status().unwrap() == Status::Closed {
                    peer.client.connect().unwrap();
                }
            }
            // Keep the window full (also while connecting: queued).
            let window = if peer.paused_until.is_some() {
                PAUSED_WINDOW
            } else {
                WINDOW
            };
            while peer.in_flight.len() < window {
                let n = peer.next;
                match peer.client.send(MessageType::Text, &peer.payload(n)) {
                    Ok(_) => {
                        peer.next += 1;
                        peer.in_flight.insert(n);
                        c.sent += 1;
                    }
                    Err(Error::NotConnected) => {
                        peer.next += 1;
                        c.refused_not_connected += 1;
                        break;
                    }
                    Err(Error::BufferFull) => {
                        peer.next += 1;
                        c.refused_buffer_full += 1;
                        break;
                    }
                    Err(e) => panic!("send: unexpected {e:?}"),
                }
            }
        }
        // Events, for at most 5 ms.
        let mut wait = Duration::from_millis(5);
        while let Some(ev) = ctx.poll_event(Some(wait)).expect("poll_event") {
            wait = Duration::ZERO;
            let peer = peers
                .iter_mut()
                .find(|p| p.client.id() == ev.client_id)
                .expect("an event of one of our clients");
            handle(peer, ev.kind, &mut c, &mut rng);
        }
    }

    // The last round: no more faults; the server up; every client open;
    // a batch of messages, all echoed; then a clean close.
    if server.is_none() {
        server = Some(EchoServer::start_on(&addr));
    }
    let settle = Instant::now() + Duration::from_secs(30);
    for peer in peers.iter_mut() {
        let _ = peer.client.resume_recv();
        peer.paused_until = None;
    }
    let all_open = |peers: &[Peer]| {
        peers
            .iter()
            .all(|p| p.open && p.client.status().unwrap() == Status::Established)
    };
    while !all_open(&peers) {
        assert!(Instant::now() < settle, "the clients did not all reopen");
        for peer in peers.iter_mut() {
            let _ = peer.client.resume_recv();
            peer.paused_until = None;
            if peer.client.status().unwrap() == Status::Closed {
                peer.reconnect_at = None;
                peer.client.connect().unwrap();
            }
        }
        while let Some(ev) = ctx
            .poll_event(Some(Duration::from_millis(20)))
            .expect("poll_event")
        {
            let peer = peers
                .iter_mut()
                .find(|p| p.client.id() == ev.client_id)
                .unwrap();
            handle(peer, ev.kind, &mut c, &mut rng);
        }
    }
    let unknown_before_last_round: u64 = peers
        .iter()
        .map(|p| (p.in_flight.len() + p.limbo.len()) as u64)
        .sum();
    let mut last_round = Vec::new();
    for peer in peers.iter_mut() {
        for _ in 0..100 {
            let n = peer.next;
            peer.client
                .send(MessageType::Text, &peer.payload(n))
                .expect("a send on an open connection, no faults");
            peer.next += 1;
            peer.in_flight.insert(n);
            last_round.push((peer.client.id(), n));
            c.sent += 1;
        }
    }
    while last_round.iter().any(|(id, n)| {
        peers
            .iter()
            .any(|p| p.client.id() == *id && p.in_flight.contains(n))
    }) {
        if Instant::now() >= settle {
            for p in &peers {
                eprintln!(
                    "  client {}: {:?}, open {}, {} in flight {:?}",
                    p.client.id(),
                    p.client.status(),
                    p.open,
                    p.in_flight.len(),
                    p.in_flight.iter().take(5).collect::<Vec<_>>()
                );
            }
            panic!("the last round was not echoed whole");
        }
        if let Some(ev) = ctx
            .poll_event(Some(Duration::from_millis(20)))
            .expect("poll_event")
        {
            let peer = peers
                .iter_mut()
                .find(|p| p.client.id() == ev.client_id)
                .unwrap();
            handle(peer, ev.kind, &mut c, &mut rng);
        }
    }
    for peer in peers.iter_mut() {
        peer.client.set_reconnect_backoff(0, 0).unwrap();
        peer.client.close(1000, "done").unwrap();
    }
    while peers.iter().any(|p| p.open) {
        assert!(Instant::now() < settle + WAIT, "the final closes");
        if let Some(ev) = ctx
            .poll_event(Some(Duration::from_millis(20)))
            .expect("poll_event")
        {
            let peer = peers
                .iter_mut()
                .find(|p| p.client.id() == ev.client_id)
                .unwrap();
            peer.reconnect_at = None;
            let closing = matches!(ev.kind, EventKind::Closed { .. });
            handle(peer, ev.kind, &mut c, &mut rng);
            if closing {
                peer.reconnect_at = None;
            }
        }
    }
    c.unknown_numbers = peers
        .iter()
        .map(|p| (p.in_flight.len() + p.limbo.len()) as u64)
        .sum();
    let elapsed = start.elapsed();
    let (rss0, usage0) = rss_start.unwrap_or((status_field("VmRSS"), usage()));
    let rss1 = status_field("VmRSS");
    drop(server);

    println!("soak: {:.0} s, seed {seed}", elapsed.as_secs_f64());
    println!(
        "  messages: {} sent (accepted), {} received, {} reported undelivered, {} refused \
         ({} NotConnected, {} BufferFull), {} written with fate unknown",
        c.sent,
        c.received,
        c.undelivered,
        c.refused_not_connected + c.refused_buffer_full,
        c.refused_not_connected,
        c.refused_buffer_full,
        c.unknown_numbers
    );
    println!(
        "  connections: {} opens ({} reconnects), {} closes, {} errors",
        c.opens,
        c.opens.saturating_sub(n_clients as u64),
        c.closes,
        c.errors
    );
    println!(
        "  faults: {} server kills, {} pauses, {} aborts, {} reconnects at once, {} close and \
         reopen",
        f.server_kills, f.pauses, f.aborts, f.reconnect_now, f.close_reopen
    );
    println!("  start (after 10 s): {usage0}");
    println!("  end:                {}", usage());
    assert_eq!(c.duplicates, 0, "messages echoed or reported twice");
    assert_eq!(c.out_of_order, 0, "echoes out of order");
    assert_eq!(
        c.sent,
        c.received + c.undelivered + c.unknown_numbers,
        "every accepted message is echoed, reported or of unknown fate"
    );
    assert!(
        c.unknown_numbers <= unknown_before_last_round,
        "a message of the last round was lost"
    );
    // Bounded by the peaks (a paused client's 200,000 messages in flight,
    // 1 MiB send buffers); a leak grows with the duration.
    assert!(
        rss1 - rss0 < 48 * 1024,
        "RSS grew by {} KiB during the soak",
        rss1 - rss0
    );
}

fn handle(peer: &mut Peer, kind: EventKind, c: &mut Counts, rng: &mut Rng) {
    match kind {
        EventKind::Open { .. } => {
            c.opens += 1;
            peer.open = true;
        }
        EventKind::Message { data, .. } => {
            let n = number_of(&data);
            if !peer.in_flight.remove(&n) && !peer.limbo.remove(&n) {
                c.duplicates += 1;
            }
            if peer.last_echo.is_some_and(|l| n <= l) {
                c.out_of_order += 1;
            }
            peer.last_echo = Some(n);
            c.received += 1;
        }
        EventKind::Undelivered { data, .. } => {
            let n = number_of(&data);
            if !peer.in_flight.remove(&n) && !peer.limbo.remove(&n) {
                c.duplicates += 1;
            }
            c.undelivered += 1;
        }
        EventKind::Error(_) => c.errors += 1,
        EventKind::Closed { .. } => {
            c.closes += 1;
            peer.open = false;
            peer.paused_until = None;
            // What is still in flight was written to a connection that
            // broke (fate unknown), or was sent after the attempt ended
            // and waits for the next one (an auto client or a reconnect
            // at once): set aside, so that the window refills; an echo or
            // report of it later still counts.
            let rest = std::mem::take(&mut peer.in_flight);
            peer.limbo.extend(rest);
            // Manual clients, and auto clients after our close or abort
            // (the library does not reconnect those), reopen after a while.
            if !peer.auto || peer.client.status().unwrap() == Status::Closed {
                peer.reconnect_at = Some(Instant::now() + rng.millis(10, 300));
            }
        }
        EventKind::Connected
        | EventKind::CloseFrame { .. }
        | EventKind::BufferFull
        | EventKind::BufferDrain
        | EventKind::Ping(_)
        | EventKind::Pong(_)
        | EventKind::Reconnect { .. } => {}
    }
}
