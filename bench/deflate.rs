//! bench-deflate: what permessage-deflate (RFC 7692) costs and saves, with
//! wsc against a server that compresses (tests/servers/deflate_ws_server.py:
//! Debian's python3-websockets, its zlib in C), on 127.0.0.1:
//!
//! - `echo`: JSON-like text messages echoed with 16 in flight, for three
//!   modes (off; deflate with context takeover; deflate without context
//!   takeover both ways, the low-memory mode): messages per second, bytes
//!   on the wire per message each way (`Client::bytes`), and this
//!   process's CPU time per message (the client's side only: the server
//!   is another process, and it is the bottleneck of the rate);
//! - `idle`: the resident memory (RSS) per idle open connection for the
//!   same modes: N connections open, each has echoed one message (so
//!   its compressor and decompressor exist if they are kept), then
//!   (RSS after - RSS before) / N.
//!
//! Usage: `bench-deflate [messages] [payload_bytes] [idle_connections]`
//! (defaults 20000, 2048, 500; `make bench-deflate`). Figures, not
//! pass/fail. Bounded: every wait has a deadline (exit 1 with a message).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wsc::{Compress, Context, DeflateOptions, EventKind, MessageType};

const WAIT: Duration = Duration::from_secs(60);
const WINDOW: usize = 16;

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/deflate_ws_server.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .args(["--lifetime", "900"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start /usr/bin/python3 deflate_ws_server.py");
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
    let port = line
        .trim()
        .strip_prefix("listening on 127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("deflate_ws_server.py did not start: {line:?} (python3-websockets missing?)");
            std::process::exit(1)
        });
    Server { child, port }
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// About `n` bytes of JSON-like text (an API response: rows of records).
fn json_like(n: usize, seed: usize) -> String {
    let mut s = String::from("[");
    let mut i = seed;
    while s.len() + 2 < n {
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"score\":{},\"active\":{},\"tags\":[\"a{}\",\"b\"]}},",
            i * 7 % 1000,
            i * 31 % 977,
            i.is_multiple_of(3),
            i % 10
        ));
        i += 1;
    }
    s.truncate(n - 1);
    s.push(']');
    s
}

fn modes() -> [(&'static str, Option<DeflateOptions>); 3] {
    [
        ("off", None),
        ("deflate", Some(DeflateOptions::default())),
        (
            "deflate-low-memory",
            Some(DeflateOptions {
                client_no_context_takeover: true,
                server_no_context_takeover: true,
                ..DeflateOptions::default()
            }),
        ),
    ]
}

fn fail(what: &str) -> ! {
    eprintln!("bench-deflate: {what}");
    std::process::exit(1)
}

fn open(ctx: &Context, url: &str, opts: &Option<DeflateOptions>) -> wsc::Client {
    let c = ctx.client(url).expect("client");
    c.set_compression(opts.clone()).expect("compression");
    c.connect().expect("connect");
    c
}

/// Polls until `n` events matching `pred` arrived.
fn await_events(ctx: &Context, n: usize, pred: impl Fn(&EventKind) -> bool) {
    let deadline = Instant::now() + WAIT;
    let mut seen = 0;
    while seen < n {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            fail(&format!("{seen} of {n} events within {WAIT:?}"));
        }
        if let Some(ev) = ctx.poll_event(Some(left)).expect("poll") {
            match &ev.kind {
                EventKind::Error(e) => fail(&format!("error: {e}")),
                k if pred(k) => seen += 1,
                _ => {}
            }
        }
    }
}

fn echo(port: u16, name: &str, opts: &Option<DeflateOptions>, messages: usize, size: usize) {
    let ctx = Context::new().expect("context");
    let c = open(&ctx, &format!("ws://127.0.0.1:{port}/echo"), opts);
    await_events(&ctx, 1, |k| matches!(k, EventKind::Open { .. }));
    let payloads: Vec<String> = (0..64).map(|i| json_like(size, i * 1000)).collect();
    let (r0, w0) = c.bytes().expect("bytes");
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let deadline = t0 + WAIT * 2;
    let (mut sent, mut got) = (0usize, 0usize);
    while got < messages {
        while sent < messages && sent - got < WINDOW {
            c.send(MessageType::Text, payloads[sent % 64].as_bytes())
                .expect("send");
            sent += 1;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            fail(&format!("{name}: {got} of {messages} echoes in time"));
        }
        if let Some(ev) = ctx.poll_event(Some(left)).expect("poll") {
            match ev.kind {
                EventKind::Message { data, .. } => {
                    if data.len() != size {
                        fail(&format!("{name}: an echo of {} bytes", data.len()));
                    }
                    got += 1;
                }
                EventKind::Error(e) => fail(&format!("{name}: {e}")),
                _ => {}
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let (r1, w1) = c.bytes().expect("bytes");
    let m = messages as f64;
    println!(
        "echo  {name:<19} {:>9.0} msg/s  wire out {:>6.0} B/msg  wire in {:>6.0} B/msg  \
         client CPU {:>5.1} us/msg  ({} x {size} B, ext {:?})",
        m / secs,
        (w1 - w0) as f64 / m,
        (r1 - r0) as f64 / m,
        cpu * 1e6 / m,
        messages,
        c.extensions().expect("extensions").unwrap_or_default()
    );
}

fn idle(port: u16, name: &str, opts: &Option<DeflateOptions>, n: usize, size: usize) {
    let ctx = Context::new().expect("context");
    let url = format!("ws://127.0.0.1:{port}/echo");
    // Warm the allocator and the engine with one connection first.
    let warm = open(&ctx, &url, opts);
    await_events(&ctx, 1, |k| matches!(k, EventKind::Open { .. }));
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_kib();
    let clients: Vec<wsc::Client> = (0..n).map(|_| open(&ctx, &url, opts)).collect();
    await_events(&ctx, n, |k| matches!(k, EventKind::Open { .. }));
    let text = json_like(size, 0);
    for c in &clients {
        c.send(MessageType::Text, text.as_bytes()).expect("send");
    }
    await_events(&ctx, n, |k| matches!(k, EventKind::Message { .. }));
    // Let the fallback thread and the allocator settle.
    std::thread::sleep(Duration::from_millis(300));
    let after = rss_kib();
    println!(
        "idle  {name:<19} {:>7.1} KiB RSS per open idle connection  ({n} connections, each echoed one \
         {size}-byte message; RSS {before} -> {after} KiB)",
        after.saturating_sub(before) as f64 / n as f64
    );
    drop(clients);
    drop(warm);
}

/// Sends `data` once with `opts` and returns the wire bytes it took
/// (frame header included) and the client CPU of the round trip.
fn one_message(port: u16, opts: DeflateOptions, data: &[u8], threshold: usize) -> u64 {
    let ctx = Context::new().expect("context");
    let c = open(&ctx, &format!("ws://127.0.0.1:{port}/echo"), &Some(opts));
    c.set_compression_threshold(threshold).expect("threshold");
    await_events(&ctx, 1, |k| matches!(k, EventKind::Open { .. }));
    let (_, w0) = c.bytes().expect("bytes");
    c.send(MessageType::Binary, data).expect("send");
    await_events(&ctx, 1, |k| matches!(k, EventKind::Message { .. }));
    c.bytes().expect("bytes").1 - w0
}

/// The size stock zlib (Python's zlib module, C zlib) compresses `data`
/// to at `level` with a 2^`bits` window, as permessage-deflate sends it
/// (raw deflate, sync flush, the 4-byte tail removed).
fn stock_zlib(data: &[u8], level: u8, bits: u8) -> String {
    use std::io::Write;
    let script = format!(
        "import sys, zlib; d = sys.stdin.buffer.read(); c = zlib.compressobj({level}, zlib.DEFLATED, -{bits}); \
         print(len(c.compress(d) + c.flush(zlib.Z_SYNC_FLUSH)) - 4, zlib.ZLIB_RUNTIME_VERSION)"
    );
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("python3: {e}")));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data)
        .expect("write");
    let out = child.wait_with_output().expect("python3");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `--window`: the compressed size of 1 MiB messages at level 6 (the
/// default) for each window size, wsc (zlib-rs) beside stock zlib.
fn window(port: u16) {
    let pattern: Vec<u8> = (0..1usize << 20).map(|i| (i % 251) as u8).collect();
    let json = json_like(1 << 20, 0).into_bytes();
    println!(
        "window: wire bytes of one 1 MiB message at level 6, wsc vs stock zlib (payload bytes, version)"
    );
    for (name, data) in [("period-251 pattern", &pattern), ("JSON-like text", &json)] {
        for bits in 9..=15u8 {
            let opts = DeflateOptions {
                client_max_window_bits: Some(bits),
                ..DeflateOptions::default()
            };
            let wire = one_message(port, opts, data, 0);
            println!(
                "window  {name:<19} 2^{bits:<2}  wsc {wire:>8} B on the wire  stock zlib {}",
                stock_zlib(data, 6, bits)
            );
        }
    }
}

/// `--threshold`: per message size, what compressing costs the client in
/// CPU and saves on the wire (distinct JSON-like texts, level 6, with and
/// without context takeover), against the same messages sent
/// uncompressed on the same connection (the server compresses its echoes
/// either way, so the difference in CPU is our compressor's).
fn threshold(port: u16, messages: usize) {
    println!(
        "threshold: distinct JSON-like texts, level 6; {messages} messages per row and mode, 16 in flight"
    );
    for (mode, opts) in modes().into_iter().skip(1) {
        for size in [32usize, 64, 128, 192, 256, 384, 512, 1024, 2048] {
            threshold_row(port, messages, mode, opts.clone(), size);
        }
    }
}

fn threshold_row(
    port: u16,
    messages: usize,
    mode: &str,
    opts: Option<DeflateOptions>,
    size: usize,
) {
    {
        let ctx = Context::new().expect("context");
        let c = open(&ctx, &format!("ws://127.0.0.1:{port}/echo"), &opts);
        await_events(&ctx, 1, |k| matches!(k, EventKind::Open { .. }));
        // Each message its own: the same bytes would compress to a
        // back-reference with context takeover.
        let payloads: Vec<String> = (0..messages)
            .map(|i| json_like(size, i * size / 40))
            .collect();
        let mut row = Vec::new();
        // Warm-up, then uncompressed, compressed, uncompressed, compressed.
        for (round, compress) in [
            (0, Compress::Never),
            (1, Compress::Never),
            (2, Compress::Always),
            (3, Compress::Never),
            (4, Compress::Always),
        ] {
            let (_, w0) = c.bytes().expect("bytes");
            let cpu0 = cpu_seconds();
            let (mut sent, mut got) = (0usize, 0usize);
            let deadline = Instant::now() + WAIT * 2;
            while got < messages {
                while sent < messages && sent - got < WINDOW {
                    c.send_with(MessageType::Text, payloads[sent].as_bytes(), compress)
                        .expect("send");
                    sent += 1;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    fail("threshold: echoes in time");
                }
                if let Some(ev) = ctx.poll_event(Some(left)).expect("poll")
                    && let EventKind::Message { .. } = ev.kind
                {
                    got += 1;
                }
            }
            let cpu = (cpu_seconds() - cpu0) * 1e6 / messages as f64;
            let wire = (c.bytes().expect("bytes").1 - w0) as f64 / messages as f64;
            if round > 0 {
                row.push((compress, cpu, wire));
            }
        }
        let avg = |z: Compress, f: fn(&(Compress, f64, f64)) -> f64| {
            let v: Vec<f64> = row.iter().filter(|r| r.0 == z).map(f).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let (cpu_off, cpu_on) = (
            avg(Compress::Never, |r| r.1),
            avg(Compress::Always, |r| r.1),
        );
        let (wire_off, wire_on) = (
            avg(Compress::Never, |r| r.2),
            avg(Compress::Always, |r| r.2),
        );
        println!(
            "threshold {mode:<19} {size:>5} B  wire {wire_off:>6.0} -> {wire_on:>6.0} B/msg (saves {:>5.0} B, {:>3.0} %)  \
             client CPU {cpu_off:>5.1} -> {cpu_on:>5.1} us/msg ({:+.1} us)",
            wire_off - wire_on,
            (wire_off - wire_on) * 100.0 / wire_off,
            cpu_on - cpu_off
        );
    }
}

fn main() {
    // `bench-deflate --window` and `--threshold [messages]`: the figures
    // behind the small-window level mapping and the default threshold.
    let first = std::env::args().nth(1);
    if matches!(first.as_deref(), Some("--window" | "--threshold")) {
        let server = start_server();
        if first.as_deref() == Some("--window") {
            window(server.port);
        } else {
            let n = std::env::args()
                .nth(2)
                .map(|a| a.parse().unwrap_or_else(|_| fail("--threshold: messages")))
                .unwrap_or(5000);
            threshold(server.port, n);
        }
        return;
    }
    // `bench-deflate --idle PORT MODE N SIZE`: one idle measurement in a
    // fresh process (memory freed by an earlier mode would skew it).
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().map(String::as_str) == Some("--idle") && raw.len() == 5 {
        let port = raw[1].parse().unwrap_or_else(|_| fail("--idle: port"));
        let (name, opts) = modes()
            .into_iter()
            .find(|(n, _)| *n == raw[2])
            .unwrap_or_else(|| fail("--idle: mode"));
        let n = raw[3].parse().unwrap_or_else(|_| fail("--idle: N"));
        let size = raw[4].parse().unwrap_or_else(|_| fail("--idle: size"));
        idle(port, name, &opts, n, size);
        return;
    }
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse().unwrap_or_else(|_| {
                fail("usage: bench-deflate [messages] [payload_bytes] [idle_connections]")
            })
        })
        .collect();
    let messages = args.first().copied().unwrap_or(20_000);
    let size = args.get(1).copied().unwrap_or(2048).max(16);
    let conns = args.get(2).copied().unwrap_or(500);
    let server = start_server();
    println!(
        "bench-deflate: wsc {} against deflate_ws_server.py (python3-websockets) on 127.0.0.1:{}",
        env!("CARGO_PKG_VERSION"),
        server.port
    );
    for (name, opts) in modes() {
        echo(server.port, name, &opts, messages, size);
    }
    let me = std::env::current_exe().unwrap_or_else(|_| fail("current_exe"));
    for (name, _) in modes() {
        let status = Command::new(&me)
            .args(["--idle", &server.port.to_string(), name])
            .args([conns.to_string(), size.to_string()])
            .status()
            .unwrap_or_else(|e| fail(&format!("{me:?}: {e}")));
        if !status.success() {
            fail(&format!("the idle measurement of {name} failed ({status})"));
        }
    }
}
