//! bench-wss: what a `wss://` connect costs, with many at once, against
//! Debian's nginx terminating TLS in front of `wsc-echo-server`, all on
//! 127.0.0.1 (tests/common/nginx.rs: certificates made by `openssl` for
//! the run, nginx started and stopped by its PID):
//!
//! - `open`: N `wss://` connections (default 1000) started at once on one
//!   context, trusting nginx's CA through `set_tls_ca_file` (PHP's
//!   `cafile`): the time until all are open, and this process's CPU time
//!   divided by N (client side only: nginx and the echo server are other
//!   processes). Meanwhile a `ws://` connection on the same context, to
//!   the echo server directly, sends a message every 20 ms: the worst
//!   round trip is how long an open connection waited for the loop.
//! - `reconnect`: the same N connections closed and connected again at
//!   once, with the same figures and how many resumed their TLS session
//!   (`Client::tls_session_resumed`).
//! - `php-ssl`: PHP's own `ssl://` stream (bench/php/ssl-connect.php),
//!   the same `cafile`, connects one after the other: CPU per connect,
//!   the figure to compare with (skipped when `php` is missing).
//!
//! Usage: `bench-wss [connections] [php_connects]` (defaults 1000 and
//! 300; `make bench` runs it through bench/run.sh). Figures, not pass/fail.
//! Bounded: every wait has a deadline (exit 1 with a message).

#[path = "../tests/common/nginx.rs"]
mod nginx;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wsc::{Client, Context, EventKind, MessageType};

const WAIT: Duration = Duration::from_secs(120);
const ECHO_EVERY: Duration = Duration::from_millis(20);

struct EchoServer {
    child: Child,
    addr: String,
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_echo_server() -> EchoServer {
    // target/release/examples/bench-wss -> target/release/wsc-echo-server
    let exe = std::env::current_exe().expect("current_exe");
    let server = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("wsc-echo-server"))
        .expect("the target folder");
    let mut child = Command::new(&server)
        .args(["--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!(
                "bench-wss: cannot start {}: {e} (cargo build --release --bins)",
                server.display()
            );
            std::process::exit(1)
        });
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| {
            eprintln!("bench-wss: the echo server did not start: {line:?}");
            std::process::exit(1)
        })
        .to_string();
    EchoServer { child, addr }
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn die(msg: String) -> ! {
    eprintln!("bench-wss: {msg}");
    std::process::exit(1)
}

/// The echo loop's connection: a message every 20 ms, one in flight.
struct EchoLoop {
    client: Client,
    sent_at: Option<Instant>,
    next_at: Instant,
    worst: Duration,
    round_trips: usize,
    /// The longest a `poll_event` call took beyond the wait it was given:
    /// how long the loop itself held the caller (the rest of a long echo
    /// round trip is the servers' and the scheduler's).
    overrun: Duration,
}

impl EchoLoop {
    fn tick(&mut self, now: Instant) {
        if self.sent_at.is_none() && now >= self.next_at {
            self.client
                .send(MessageType::Binary, b"tick")
                .unwrap_or_else(|e| die(format!("echo loop send: {e}")));
            self.sent_at = Some(now);
        }
        if let Some(s) = self.sent_at {
            // A round trip still under way counts as long as it has lasted.
            self.worst = self.worst.max(now - s);
        }
    }

    fn echoed(&mut self) {
        if let Some(s) = self.sent_at.take() {
            self.worst = self.worst.max(s.elapsed());
            self.round_trips += 1;
            self.next_at = Instant::now() + ECHO_EVERY;
        }
    }

    /// How long poll_event may wait before the next tick is due.
    fn wait(&self, now: Instant) -> Duration {
        if self.sent_at.is_some() {
            ECHO_EVERY
        } else {
            self.next_at.saturating_duration_since(now)
        }
    }
}

struct Round {
    seconds: f64,
    cpu_ms_per_connect: f64,
    worst_echo_ms: f64,
    round_trips: usize,
    resumed: usize,
    overrun_ms: f64,
}

/// Connects every client at once and runs the echo loop until all are open.
fn open_all(ctx: &Context, clients: &[Client], echo: &mut EchoLoop) -> Round {
    let n = clients.len();
    echo.worst = Duration::ZERO;
    echo.round_trips = 0;
    echo.overrun = Duration::ZERO;
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let ids: std::collections::HashSet<u64> = clients.iter().map(Client::id).collect();
    for c in clients {
        c.connect().unwrap_or_else(|e| die(format!("connect: {e}")));
    }
    let mut open = 0;
    let deadline = t0 + WAIT;
    while open < n {
        let now = Instant::now();
        if now >= deadline {
            die(format!(
                "only {open} of {n} wss connections opened within {WAIT:?}"
            ));
        }
        echo.tick(now);
        let wait = echo.wait(now);
        let ev = ctx
            .poll_event(Some(wait))
            .unwrap_or_else(|e| die(format!("poll_event: {e}")));
        echo.overrun = echo.overrun.max(now.elapsed().saturating_sub(wait));
        let Some(ev) = ev else { continue };
        if ev.client_id == echo.client.id() {
            match ev.kind {
                EventKind::Message { .. } => echo.echoed(),
                EventKind::Closed { reason, .. } => die(format!("the echo loop closed: {reason}")),
                _ => {}
            }
            continue;
        }
        if !ids.contains(&ev.client_id) {
            continue;
        }
        match ev.kind {
            EventKind::Open { .. } => open += 1,
            EventKind::Error(e) => die(format!("a wss connection failed: {e}")),
            _ => {}
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let resumed = clients
        .iter()
        .filter(|c| c.tls_session_resumed().unwrap_or(false))
        .count();
    Round {
        seconds,
        cpu_ms_per_connect: cpu * 1000.0 / n as f64,
        worst_echo_ms: echo.worst.as_secs_f64() * 1000.0,
        round_trips: echo.round_trips,
        resumed,
        overrun_ms: echo.overrun.as_secs_f64() * 1000.0,
    }
}

/// Closes every client at once and waits for their `Closed`.
fn close_all(ctx: &Context, clients: &[Client], echo: &mut EchoLoop) {
    for c in clients {
        let _ = c.close(1000, "");
    }
    let ids: std::collections::HashSet<u64> = clients.iter().map(Client::id).collect();
    let mut closed = 0;
    let deadline = Instant::now() + WAIT;
    while closed < clients.len() {
        let now = Instant::now();
        if now >= deadline {
            die(format!("only {closed} of {} closed", clients.len()));
        }
        echo.tick(now);
        if let Some(ev) = ctx
            .poll_event(Some(echo.wait(now)))
            .unwrap_or_else(|e| die(format!("poll_event: {e}")))
        {
            if ev.client_id == echo.client.id() {
                if let EventKind::Message { .. } = ev.kind {
                    echo.echoed();
                }
            } else if ids.contains(&ev.client_id) && matches!(ev.kind, EventKind::Closed { .. }) {
                closed += 1;
            }
        }
    }
}

/// PHP's own ssl:// connects (bench/php/ssl-connect.php): CPU ms per
/// connect, or why there is no figure.
fn php_ssl(port: u16, ca: &str, connects: usize) -> Result<f64, String> {
    if connects == 0 {
        return Err("skipped: php_connects is 0".into());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/php/ssl-connect.php");
    let out = Command::new("php")
        .arg(script)
        .arg(port.to_string())
        .arg(ca)
        .arg(connects.to_string())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run php: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("cpu_ms_per_connect="))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "ssl-connect.php failed: {} {}",
                text.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(1000, |a| a.parse().expect("connections"));
    let php_connects: usize = args
        .next()
        .map_or(300, |a| a.parse().expect("php_connects"));
    if let Some(why) = nginx::missing() {
        println!("wss: (no result: {why})");
        return;
    }
    // First: the context raises this process's open-files soft limit to
    // the hard limit, which the echo server (N connections) inherits.
    let ctx = Context::new().unwrap_or_else(|e| die(format!("context: {e}")));
    let echo_server = start_echo_server();
    let proxy = nginx::Nginx::start(&echo_server.addr);
    let ca = proxy.ca_file();

    let echo_client = ctx
        .client(&format!("ws://{}/", echo_server.addr))
        .expect("client");
    echo_client.connect().expect("connect");
    let deadline = Instant::now() + WAIT;
    loop {
        if Instant::now() >= deadline {
            die("the echo loop's connection did not open".into());
        }
        if let Some(ev) = ctx.poll_event(Some(Duration::from_secs(1))).expect("poll") {
            match ev.kind {
                EventKind::Open { .. } => break,
                EventKind::Error(e) => die(format!("the echo loop's connection failed: {e}")),
                _ => {}
            }
        }
    }
    let mut echo = EchoLoop {
        client: echo_client,
        sent_at: None,
        next_at: Instant::now(),
        worst: Duration::ZERO,
        round_trips: 0,
        overrun: Duration::ZERO,
    };

    let url = proxy.wss("/");
    let clients: Vec<Client> = (0..n)
        .map(|_| {
            let c = ctx.client(&url).expect("client");
            c.set_tls_ca_file(Some(&ca)).expect("cafile");
            c.set_timeouts(60_000, 60_000).expect("timeouts");
            c
        })
        .collect();
    // Every connect a full handshake first, then with resumption.
    for c in &clients {
        c.set_tls_session_resumption(false).expect("resumption");
    }
    let full = open_all(&ctx, &clients, &mut echo);
    close_all(&ctx, &clients, &mut echo);
    for c in &clients {
        c.set_tls_session_resumption(true).expect("resumption");
    }
    let first = open_all(&ctx, &clients, &mut echo);
    close_all(&ctx, &clients, &mut echo);
    let again = open_all(&ctx, &clients, &mut echo);
    close_all(&ctx, &clients, &mut echo);
    for (name, r) in [("full", &full), ("open", &first), ("reconnect", &again)] {
        println!(
            "wss {name:<9} {n} connections at once: all open in {:.2} s, CPU {:.2} ms per connect, \
             TLS sessions resumed {}/{n}; echo every 20 ms meanwhile: worst round trip {:.1} ms \
             ({} round trips; longest poll_event beyond its wait {:.1} ms)",
            r.seconds,
            r.cpu_ms_per_connect,
            r.resumed,
            r.worst_echo_ms,
            r.round_trips,
            r.overrun_ms
        );
    }
    match php_ssl(proxy.port, &ca, php_connects) {
        Ok(ms) => println!(
            "php ssl://     {php_connects} connects one after the other, same cafile: CPU {ms:.2} ms per connect"
        ),
        Err(why) => println!("php ssl://     (no result: {why})"),
    }
}
