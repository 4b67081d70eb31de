//! The benchmark floor: a blocking, single-threaded tungstenite client
//! (no wsc), running the same scenarios as `bench/c/bench.c` and
//! `bench/php/bench.php` against the same echo server: 1000 warm-up round
//! trips, then `seq32` (sequential 32-byte binary round trips) on one
//! connection, and `window64` (64-byte binary messages, 1000 in flight) on
//! another.
//!
//! Usage: `bench-floor ws://127.0.0.1:PORT/ [round_trips] [window_messages]`
//! (defaults 20000 and 200000). Prints one `RESULT` line per scenario (see
//! `bench/run.sh`). Bounded: a read waits at most 10 s, the whole run at
//! most 120 s (exit code 1 with a message).

use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

const WARMUP: usize = 1000;
const WINDOW: usize = 1000;
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const RUN_LIMIT: Duration = Duration::from_secs(120);

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn connect(url: &str) -> WebSocket<TcpStream> {
    let hostport = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .expect("host:port");
    let tcp = TcpStream::connect(hostport).expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    tcp.set_read_timeout(Some(READ_TIMEOUT))
        .expect("read timeout");
    tungstenite::client(url, tcp).expect("handshake").0
}

/// Reads until the next binary message (a read error, e.g. the 10 s
/// timeout, ends the run).
fn read_binary(ws: &mut WebSocket<TcpStream>) -> usize {
    loop {
        match ws.read() {
            Ok(Message::Binary(data)) => return data.len(),
            Ok(_) => {}
            Err(e) => {
                eprintln!("bench-floor: read: {e}");
                std::process::exit(1);
            }
        }
    }
}

fn check_deadline(start: Instant) {
    if start.elapsed() > RUN_LIMIT {
        eprintln!(
            "bench-floor: the run did not finish within {} s",
            RUN_LIMIT.as_secs()
        );
        std::process::exit(1);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .expect("usage: bench-floor URL [round_trips] [window_messages]");
    let round_trips: usize = args.get(2).map_or(20_000, |s| s.parse().expect("count"));
    let total: usize = args.get(3).map_or(200_000, |s| s.parse().expect("count"));
    assert!(round_trips > 0 && total > 0, "counts must be above 0");
    let start = Instant::now();

    // Sequential 32-byte round trips, after the warm-up.
    let mut ws = connect(url);
    let payload = vec![b'x'; 32];
    for _ in 0..WARMUP {
        ws.send(Message::binary(payload.clone())).expect("send");
        read_binary(&mut ws);
    }
    let mut rtts = Vec::with_capacity(round_trips);
    let (t0, c0) = (Instant::now(), cpu_seconds());
    for _ in 0..round_trips {
        let t = Instant::now();
        ws.send(Message::binary(payload.clone())).expect("send");
        assert_eq!(read_binary(&mut ws), 32, "echo size");
        rtts.push(t.elapsed().as_secs_f64() * 1e6);
        check_deadline(start);
    }
    let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    rtts.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    println!(
        "RESULT client=rust-floor scenario=seq32 messages={round_trips} seconds={secs:.3} msg_per_s={:.0} cpu_us_per_msg={:.2} rtt_p50_us={:.1} rtt_p99_us={:.1}",
        round_trips as f64 / secs,
        cpu * 1e6 / round_trips as f64,
        rtts[rtts.len() / 2],
        rtts[rtts.len() * 99 / 100],
    );
    let _ = ws.close(None);

    // 64-byte messages, 1000 in flight.
    let mut ws = connect(url);
    let payload = vec![b'y'; 64];
    let window = WINDOW.min(total);
    let (t0, c0) = (Instant::now(), cpu_seconds());
    for _ in 0..window {
        ws.write(Message::binary(payload.clone())).expect("write");
    }
    ws.flush().expect("flush");
    let (mut sent, mut received) = (window, 0);
    while received < total {
        assert_eq!(read_binary(&mut ws), 64, "echo size");
        received += 1;
        if sent < total {
            ws.send(Message::binary(payload.clone())).expect("send");
            sent += 1;
        }
        if received % 1024 == 0 {
            check_deadline(start);
        }
    }
    let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    println!(
        "RESULT client=rust-floor scenario=window64 messages={total} seconds={secs:.3} msg_per_s={:.0} cpu_us_per_msg={:.2}",
        total as f64 / secs,
        cpu * 1e6 / total as f64,
    );
    let _ = ws.close(None);
}
