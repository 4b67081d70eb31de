//! Shared helpers of the integration tests: the echo server as a real
//! process on 127.0.0.1, a raw misbehaving server on a loopback listener,
//! WebSocket frames as raw bytes, and bounded waits for events.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wsc::{Context, Event, EventKind, MessageType};

/// The echo server (`wsc-echo-server`) on a free loopback port; killed by
/// PID on drop.
pub struct EchoServer {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl EchoServer {
    pub fn start() -> EchoServer {
        Self::start_on("127.0.0.1:0")
    }

    pub fn start_on(addr: &str) -> EchoServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wsc-echo-server"))
            .args(["--addr", addr])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the echo server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .expect("listening line")
            .to_string();
        EchoServer { child, addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server process by its PID (SIGKILL) and reaps it: every
    /// connection it had breaks without a closing handshake.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill the echo server");
        self.child.wait().expect("reap the echo server");
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls until `pred` matches an event, at most `within`; returns the
/// events seen, the matching one last. Panics with the events seen on
/// timeout.
pub fn wait_for(ctx: &Context, within: Duration, pred: impl Fn(&Event) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        if let Some(ev) = ctx.poll_event(Some(left)).expect("poll_event") {
            let hit = pred(&ev);
            seen.push(ev);
            if hit {
                return seen;
            }
        }
    }
    panic!("no matching event within {within:?}; saw: {seen:#?}");
}

pub fn is_closed(ev: &Event) -> bool {
    matches!(ev.kind, EventKind::Closed { .. })
}

pub fn is_open(ev: &Event) -> bool {
    matches!(ev.kind, EventKind::Open { .. })
}

pub const WAIT: Duration = Duration::from_secs(10);

/// Polls until `pred` matches an event and returns that event (the ones
/// before it are dropped).
pub fn wait_event(ctx: &Context, within: Duration, pred: impl Fn(&Event) -> bool) -> Event {
    wait_for(ctx, within, pred)
        .pop()
        .expect("the matching event")
}

/// Polls for `within` and returns every event seen (none need match).
pub fn drain(ctx: &Context, within: Duration) -> Vec<Event> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        if let Some(ev) = ctx.poll_event(Some(left)).expect("poll_event") {
            seen.push(ev);
        }
    }
    seen
}

/// `(code, reason, clean)` of a `Closed` event; panics on any other event.
pub fn closed_of(ev: &Event) -> (u16, String, bool) {
    match &ev.kind {
        EventKind::Closed {
            code,
            reason,
            clean,
        } => (*code, reason.clone(), *clean),
        other => panic!("expected Closed, got {other:?}"),
    }
}

/// The error of an `Error` event; panics on any other event.
pub fn error_of(ev: &Event) -> wsc::Error {
    match &ev.kind {
        EventKind::Error(e) => e.clone(),
        other => panic!("expected Error, got {other:?}"),
    }
}

pub fn is_error(ev: &Event) -> bool {
    matches!(ev.kind, EventKind::Error(_))
}

pub fn is_message(ev: &Event) -> bool {
    matches!(ev.kind, EventKind::Message { .. })
}

/// The text of a text `Message` event; panics on any other event.
pub fn text_of(ev: &Event) -> String {
    match &ev.kind {
        EventKind::Message {
            message_type: MessageType::Text,
            data,
        } => String::from_utf8(data.to_vec()).expect("text is UTF-8"),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// A fresh context with one client for `url`, connected, and its `Open`
/// event awaited; returns the events up to and including `Open`.
pub fn open(url: &str) -> (Context, wsc::Client, Vec<Event>) {
    let ctx = Context::new().expect("context");
    let client = ctx.client(url).expect("client");
    client.connect().expect("connect");
    let seen = wait_for(&ctx, WAIT, is_open);
    (ctx, client, seen)
}

/// A loopback port with nothing listening on it (bound, then closed).
pub fn refused_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// How long a raw server waits for the client to connect, and for each
/// read and write.
pub const RAW_IO: Duration = Duration::from_secs(5);

/// A misbehaving server played by hand: a real listener on
/// `127.0.0.1:0`, one thread that accepts one connection (under a
/// deadline) and runs a script on it with raw bytes. `join` returns what
/// the script returned and re-raises its panic.
pub struct RawServer<T: Send + 'static> {
    pub addr: SocketAddr,
    handle: Option<JoinHandle<T>>,
}

impl<T: Send + 'static> RawServer<T> {
    pub fn start(script: impl FnOnce(TcpStream) -> T + Send + 'static) -> RawServer<T> {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + RAW_IO;
            let stream = loop {
                match listener.accept() {
                    Ok((s, _)) => break s,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        assert!(Instant::now() < deadline, "no client connected");
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            };
            stream.set_nonblocking(false).expect("blocking");
            stream.set_read_timeout(Some(RAW_IO)).expect("timeout");
            stream.set_write_timeout(Some(RAW_IO)).expect("timeout");
            stream.set_nodelay(true).expect("nodelay");
            script(stream)
        });
        RawServer {
            addr,
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Waits for the script to end; its panic becomes the test's.
    pub fn join(mut self) -> T {
        match self.handle.take().expect("joined once").join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        }
    }
}

impl<T: Send + 'static> Drop for RawServer<T> {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            // Bounded: every accept, read and write of the script has a
            // timeout. A failure of the script is the test's only when
            // the test did not fail first.
            let r = h.join();
            if r.is_err() && !std::thread::panicking() {
                panic!("the raw server's script panicked");
            }
        }
    }
}

/// Reads an HTTP request head byte by byte (so nothing after it is
/// consumed) up to and including the empty line.
pub fn read_request_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut b).expect("read the request head");
        assert!(n == 1, "EOF inside the request head: {head:?}");
        head.push(b[0]);
        assert!(head.len() < 64 * 1024, "request head too long");
    }
    String::from_utf8(head).expect("request head is UTF-8")
}

/// The value of header `name` (case-insensitive) in a request head.
pub fn header_value(head: &str, name: &str) -> Option<String> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// A valid `101 Switching Protocols` head answering `request`.
pub fn response_101(request: &str) -> String {
    let key = header_value(request, "sec-websocket-key").expect("Sec-WebSocket-Key");
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )
}

/// Reads the client's request and answers 101; returns the request head.
pub fn accept_ws(s: &mut TcpStream) -> String {
    let req = read_request_head(s);
    s.write_all(response_101(&req).as_bytes())
        .expect("write 101");
    req
}

/// A frame as raw bytes: `first` is the first byte (FIN, RSV1-3, opcode),
/// then the length, the mask key if any, and the (masked) payload.
pub fn frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![first];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(m | n as u8),
        n if n <= 0xffff => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// One frame read from the client: its first byte, whether it was masked,
/// and the payload unmasked.
#[derive(Debug)]
pub struct ClientFrame {
    pub first: u8,
    pub masked: bool,
    pub payload: Vec<u8>,
}

impl ClientFrame {
    pub fn opcode(&self) -> u8 {
        self.first & 0x0f
    }

    /// The status code of a close frame (RFC 6455 §5.5.1), if it has one.
    pub fn close_code(&self) -> Option<u16> {
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Reads one frame from the client (under the stream's read timeout).
pub fn read_frame(s: &mut TcpStream) -> std::io::Result<ClientFrame> {
    let mut h = [0u8; 2];
    s.read_exact(&mut h)?;
    let masked = h[1] & 0x80 != 0;
    let len = match h[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            s.read_exact(&mut b)?;
            u16::from_be_bytes(b) as usize
        }
        127 => {
            let mut b = [0u8; 8];
            s.read_exact(&mut b)?;
            u64::from_be_bytes(b) as usize
        }
        n => n as usize,
    };
    let mut key = [0u8; 4];
    if masked {
        s.read_exact(&mut key)?;
    }
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload)?;
    if masked {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    Ok(ClientFrame {
        first: h[0],
        masked,
        payload,
    })
}

/// Reads frames until the client's close frame and returns it; panics on
/// EOF or timeout before one.
pub fn read_close_frame(s: &mut TcpStream) -> ClientFrame {
    loop {
        let f = read_frame(s).expect("a close frame from the client");
        if f.opcode() == 0x8 {
            return f;
        }
    }
}

/// Waits (under the read timeout) until the client closes TCP; returns
/// whether it did (EOF or reset) rather than time out.
pub fn wait_eof(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Waits up to `within` for a test server's first stdout line,
/// `listening on 127.0.0.1:PORT`; returns the port (None when the line did
/// not come or says something else) and the line as read.
#[allow(dead_code)]
pub fn listening_port(child: &mut Child, within: Duration) -> (Option<u16>, String) {
    let out = child.stdout.take().expect("the server's stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(within).unwrap_or_default();
    let port = line
        .trim()
        .strip_prefix("listening on 127.0.0.1:")
        .and_then(|p| p.parse().ok());
    (port, line)
}

/// A test server script of tests/servers/ (`liveness_ws_server.py`,
/// `deflate_ws_server.py`, `drop_ws_server.py`) run with Debian's
/// /usr/bin/python3 (which has python3-websockets) on a free port of
/// 127.0.0.1; killed by PID on drop (the script also exits by itself after
/// its `--lifetime`).
pub struct PyServer {
    child: Child,
    pub port: u16,
}

impl PyServer {
    /// Starts `tests/servers/{script}` with `--lifetime 120` and `args`;
    /// waits at most 20 s for its `listening on 127.0.0.1:PORT` line.
    /// Panics with its stderr when it does not start (exit code 3:
    /// python3-websockets is missing).
    pub fn start(script: &str, args: &[&str]) -> PyServer {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/servers")
            .join(script);
        let mut child = Command::new("/usr/bin/python3")
            .arg(path)
            .args(["--lifetime", "120"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start /usr/bin/python3 {script}: {e}"));
        let (port, line) = listening_port(&mut child, Duration::from_secs(20));
        let Some(port) = port else {
            let _ = child.kill();
            let status = child.wait().expect("reap");
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!(
                "{script} did not start ({status}; exit 3 = python3-websockets missing: \
                 scripts/install-deps.sh test); stdout {line:?}, stderr: {err}"
            );
        };
        PyServer { child, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The refusal's error text and response out of an `Error` event of a
/// refused opening handshake; panics on any other event.
pub fn refusal_of(ev: &Event) -> (String, wsc::error::HandshakeResponse) {
    match error_of(ev) {
        wsc::Error::Handshake(r) => {
            let resp = r.kind.response().expect("a status refusal").clone();
            (r.text().to_string(), resp)
        }
        other => panic!("expected a refused handshake, got {other:?}"),
    }
}

pub fn is_reconnect(ev: &Event) -> bool {
    matches!(ev.kind, EventKind::Reconnect { .. })
}

/// (delay_ms, reason, attempt, text) of a `Reconnect` event.
pub fn reconnect_of(ev: &Event) -> (u64, wsc::ReconnectReason, u32, String) {
    match &ev.kind {
        EventKind::Reconnect {
            delay_ms,
            reason,
            attempt,
            text,
        } => (*delay_ms, *reason, *attempt, text.clone()),
        other => panic!("expected Reconnect, got {other:?}"),
    }
}
