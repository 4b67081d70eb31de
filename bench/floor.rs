//! The benchmark floor: a blocking, single-threaded tungstenite client
//! (no wsc), running the same scenarios as `bench/c/bench.c` and
//! `bench/php/bench.php` against the same echo server.
//!
//! Usage: `bench-floor ws://127.0.0.1:PORT/ [round_trips] [window_messages]`.
//! Prints one `RESULT` line per scenario (see `bench/run.sh`).

use std::net::TcpStream;
use std::time::Instant;
use tungstenite::{Message, WebSocket};

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
    tungstenite::client(url, tcp).expect("handshake").0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .expect("usage: bench-floor URL [round_trips] [window_messages]");
    let round_trips: usize = args.get(2).map_or(20_000, |s| s.parse().expect("count"));
    let total: usize = args.get(3).map_or(200_000, |s| s.parse().expect("count"));

    // Sequential 32-byte round trips.
    let mut ws = connect(url);
    let payload = vec![b'x'; 32];
    let mut rtts = Vec::with_capacity(round_trips);
    let (t0, c0) = (Instant::now(), cpu_seconds());
    for _ in 0..round_trips {
        let t = Instant::now();
        ws.send(Message::binary(payload.clone())).expect("send");
        loop {
            if let Message::Binary(_) = ws.read().expect("read") {
                break;
            }
        }
        rtts.push(t.elapsed().as_secs_f64() * 1e6);
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
    let window = 1000.min(total);
    let (t0, c0) = (Instant::now(), cpu_seconds());
    for _ in 0..window {
        ws.write(Message::binary(payload.clone())).expect("write");
    }
    ws.flush().expect("flush");
    let (mut sent, mut received) = (window, 0);
    while received < total {
        if let Message::Binary(_) = ws.read().expect("read") {
            received += 1;
            if sent < total {
                ws.send(Message::binary(payload.clone())).expect("send");
                sent += 1;
            }
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
