//! The benchmark floor: a blocking, single-threaded tungstenite client
//! (no wsc), running the same scenarios as `bench/c/bench.c` and
//! `bench/php/bench.php` against the same echo server: 1000 warm-up round
//! trips, then `seq32` (sequential 32-byte binary round trips) on one
//! connection, and `window64` (64-byte binary messages, 1000 in flight) on
//! another.
//!
//! Usage:
//! - `bench-floor ws://127.0.0.1:PORT/ [round_trips] [window_messages]`
//!   (defaults 20000 and 200000): seq32 and window64;
//! - `bench-floor URL mib1 [round_trips]` (default 200): sequential 1 MiB
//!   binary round trips after 5 warm-up ones;
//! - `bench-floor URL conns [connections] [rounds]` (defaults 500, 10): a
//!   thread per connection (what a blocking client needs), all connected
//!   first, then each does `rounds` sequential 64-byte round trips at once;
//! - `bench-floor URL idle [connections] [idle_seconds]` (defaults 1000, 3):
//!   opens the connections one after the other on this one thread (a
//!   blocking client needs no thread for an idle connection), measures the
//!   RSS they add, idles, then one 32-byte echo round over all of them.
//!
//! Prints one `RESULT` line per scenario (see `bench/run.sh`). Bounded: a
//! read waits at most 10 s, the whole run at most 120 s (exit code 1 with a
//! message).

use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

const WARMUP: usize = 1000;
const WINDOW: usize = 1000;
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const RUN_LIMIT: Duration = Duration::from_secs(120);
const MIB: usize = 1 << 20;
const MIB_WARMUP: usize = 5;

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

/// The resident set of this process in bytes (/proc/self/statm).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm field 2");
    // SAFETY: sysconf has no memory effects.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

fn arg(args: &[String], i: usize, default: usize) -> usize {
    args.get(i).map_or(default, |s| s.parse().expect("count"))
}

/// Sequential 1 MiB round trips.
fn mib1(url: &str, n: usize) {
    let start = Instant::now();
    let mut ws = connect(url);
    let payload: Vec<u8> = (0..MIB).map(|i| (i % 251) as u8).collect();
    let mut rtts = Vec::with_capacity(n);
    let mut c0 = 0.0;
    let mut t0 = Instant::now();
    for i in 0..MIB_WARMUP + n {
        if i == MIB_WARMUP {
            (t0, c0) = (Instant::now(), cpu_seconds());
        }
        let t = Instant::now();
        ws.send(Message::binary(payload.clone())).expect("send");
        assert_eq!(read_binary(&mut ws), MIB, "echo size");
        if i >= MIB_WARMUP {
            rtts.push(t.elapsed().as_secs_f64() * 1e6);
        }
        check_deadline(start);
    }
    let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    rtts.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    println!(
        "RESULT client=rust-floor scenario=mib1 messages={n} seconds={secs:.3} msg_per_s={:.1} cpu_us_per_msg={:.1} rtt_p50_us={:.1} rtt_p99_us={:.1}",
        n as f64 / secs,
        cpu * 1e6 / n as f64,
        rtts[rtts.len() / 2],
        rtts[rtts.len() * 99 / 100],
    );
    let _ = ws.close(None);
}

/// `conns` connections, a thread each; all connect, then all do `rounds`
/// sequential 64-byte round trips at once.
fn conns(url: &str, conns: usize, rounds: usize) {
    use std::sync::{Arc, Barrier};
    let connected = Arc::new(Barrier::new(conns + 1));
    let go = Arc::new(Barrier::new(conns + 1));
    let t_open = Instant::now();
    let threads: Vec<_> = (0..conns)
        .map(|_| {
            let (url, connected, go) = (url.to_string(), connected.clone(), go.clone());
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let mut ws = connect(&url);
                    connected.wait();
                    go.wait();
                    let payload = vec![b'z'; 64];
                    for _ in 0..rounds {
                        ws.send(Message::binary(payload.clone())).expect("send");
                        assert_eq!(read_binary(&mut ws), 64, "echo size");
                    }
                    ws
                })
                .expect("thread")
        })
        .collect();
    connected.wait();
    let open_s = t_open.elapsed().as_secs_f64();
    let (t0, c0) = (Instant::now(), cpu_seconds());
    go.wait();
    let sockets: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("a connection thread failed"))
        .collect();
    let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    let n = conns * rounds;
    println!(
        "RESULT client=rust-floor scenario=conns{conns} messages={n} seconds={secs:.3} msg_per_s={:.0} cpu_us_per_msg={:.2} open_s={open_s:.3}",
        n as f64 / secs,
        cpu * 1e6 / n as f64,
    );
    drop(sockets);
}

/// `n` idle connections opened one after the other on this thread: the
/// RSS they add, the CPU while idle, then one echo round over all.
fn idle(url: &str, n: usize, idle_s: u64) {
    let start = Instant::now();
    let warm = connect(url);
    let rss0 = rss_bytes();
    let t_open = Instant::now();
    let mut all = Vec::with_capacity(n);
    for _ in 0..n {
        all.push(connect(url));
        if all.len() % 256 == 0 {
            check_deadline(start);
        }
    }
    let open_s = t_open.elapsed().as_secs_f64();
    let rss1 = rss_bytes();
    let c_idle = cpu_seconds();
    std::thread::sleep(Duration::from_secs(idle_s));
    let idle_cpu = (cpu_seconds() - c_idle) / idle_s as f64 * 100.0;
    let (t0, c0) = (Instant::now(), cpu_seconds());
    for (i, ws) in all.iter_mut().enumerate() {
        let msg = format!("{i:032}");
        ws.write(Message::binary(msg.into_bytes())).expect("write");
        ws.flush().expect("flush");
    }
    for (i, ws) in all.iter_mut().enumerate() {
        let expected = format!("{i:032}");
        loop {
            match ws.read() {
                Ok(Message::Binary(d)) => {
                    assert_eq!(&d[..], expected.as_bytes(), "echo of connection {i}");
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("bench-floor: read: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    println!(
        "RESULT client=rust-floor scenario=idle{n} messages={n} seconds={secs:.3} msg_per_s={:.0} cpu_us_per_msg={:.2} open_s={open_s:.3} rss_kib_per_conn={:.1} idle_cpu_pct={idle_cpu:.2}",
        n as f64 / secs,
        cpu * 1e6 / n as f64,
        (rss1.saturating_sub(rss0)) as f64 / 1024.0 / n as f64,
    );
    drop(warm);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .expect("usage: bench-floor URL [round_trips] [window_messages] | URL mib1|conns|idle ...");
    match args.get(2).map(String::as_str) {
        Some("mib1") => return mib1(url, arg(&args, 3, 200)),
        Some("conns") => return conns(url, arg(&args, 3, 500), arg(&args, 4, 10)),
        Some("idle") => return idle(url, arg(&args, 3, 1000), arg(&args, 4, 3) as u64),
        _ => {}
    }
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
