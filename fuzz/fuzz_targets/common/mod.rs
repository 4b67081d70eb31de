//! What the fuzz targets share: one loopback listener (127.0.0.1:0) served
//! by one thread that plays a scripted server per input, one
//! [`wsc::Context`] for the whole process, a client per input driven until
//! its `Closed` under a deadline, and the checks on the order of its events.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::time::{Duration, Instant};
use wsc::{Client, Context, EventKind, MessageType};

/// How long the server waits for the client to connect, and each of its
/// reads and writes.
pub const SERVER_IO: Duration = Duration::from_secs(2);
/// How long one input may take before it counts as a hang. The client's
/// timeouts ([`CLIENT_TIMEOUT_MS`]) end every attempt well before it.
pub const INPUT_DEADLINE: Duration = Duration::from_secs(10);
/// The client's connect and handshake timeouts, in milliseconds.
pub const CLIENT_TIMEOUT_MS: u32 = 2000;

/// The script of one connection, run on the server thread.
pub type Script = Box<dyn FnOnce(TcpStream) + Send>;

struct Harness {
    ctx: Context,
    addr: SocketAddr,
    jobs: Mutex<Sender<Script>>,
    done: Mutex<Receiver<()>>,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let (jobs, rx) = channel::<Script>();
        let (done_tx, done) = sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("fuzz-server".into())
            .spawn(move || serve(listener, rx, done_tx))
            .expect("server thread");
        Harness {
            ctx: Context::new().expect("context"),
            addr,
            jobs: Mutex::new(jobs),
            done: Mutex::new(done),
        }
    })
}

/// The server thread: per job, accept one connection (under a deadline)
/// and run the script on it (blocking, with I/O timeouts), then report.
fn serve(listener: TcpListener, jobs: Receiver<Script>, done: SyncSender<()>) {
    for script in jobs {
        let deadline = Instant::now() + SERVER_IO;
        loop {
            match listener.accept() {
                Ok((s, _)) => {
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_read_timeout(Some(SERVER_IO));
                    let _ = s.set_write_timeout(Some(SERVER_IO));
                    let _ = s.set_nodelay(true);
                    script(s);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        break;
                    }
                    std::thread::sleep(Duration::from_micros(50));
                }
                Err(_) => break,
            }
        }
        let _ = done.send(());
    }
}

/// `ws://127.0.0.1:PORT/fuzz`.
pub fn url() -> String {
    format!("ws://{}/fuzz", harness().addr)
}

/// `127.0.0.1:PORT` of the listener (for proxy URLs).
pub fn addr() -> SocketAddr {
    harness().addr
}

/// Reads an HTTP request head (up to the empty line, at most 16 KiB);
/// `None` on EOF, timeout or overflow.
pub fn read_request_head(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).ok()?;
        if n == 0 || head.len() > 16 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(head)
}

/// A valid `101 Switching Protocols` head for the request's
/// `Sec-WebSocket-Key` (RFC 6455 §4.2.2).
pub fn response_101(request: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    let key = text
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("sec-websocket-key"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes()
}

/// What the client does besides connecting, chosen by the input.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientPlan {
    /// Send a message before connecting (queued; written after the
    /// handshake or reported `Undelivered`).
    pub queued_message: bool,
    /// A small incoming message limit (64 bytes) instead of the default.
    pub small_limits: bool,
    /// Answer every data message with a message (exercises writing while
    /// the peer misbehaves).
    pub echo_back: bool,
    /// Start the closing handshake after `Open`.
    pub close_after_open: bool,
    /// Pause reading at `Open` and resume 2 ms later.
    pub pause_after_open: bool,
}

/// The payload of the queued message.
pub const QUEUED: &[u8] = b"queued-before-connect";
/// The incoming message limit of [`ClientPlan::small_limits`].
pub const SMALL_LIMIT: usize = 64;

/// Runs one connection: the server thread runs `script` on the accepted
/// socket while a fresh client (configured by `setup`) connects and is
/// polled until its `Closed`. Panics when the deadline passes, when the
/// events break the documented order, or when anything in wsc panics.
pub fn run(plan: ClientPlan, setup: impl FnOnce(&Client), script: Script) {
    let h = harness();
    h.jobs
        .lock()
        .unwrap()
        .send(script)
        .expect("the server thread runs");
    let client = h.ctx.client(&url()).expect("client");
    client
        .set_timeouts(CLIENT_TIMEOUT_MS, CLIENT_TIMEOUT_MS)
        .expect("timeouts");
    client.set_close_timeout(1000).expect("close timeout");
    if plan.small_limits {
        client.set_limits(SMALL_LIMIT, 1024).expect("limits");
    }
    setup(&client);
    if plan.queued_message {
        client
            .send(MessageType::Binary, QUEUED)
            .expect("a send before connect is queued");
    }
    client.connect().expect("connect");
    let deadline = Instant::now() + INPUT_DEADLINE;
    let mut events = Vec::new();
    let mut resume_at: Option<Instant> = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no Closed within {INPUT_DEADLINE:?}; events so far: {events:#?}"
        );
        if resume_at.is_some_and(|t| Instant::now() >= t) {
            resume_at = None;
            client.resume_recv().expect("resume_recv");
        }
        let wait = match resume_at {
            Some(_) => left.min(Duration::from_millis(1)),
            None => left,
        };
        let Some(ev) = h.ctx.poll_event(Some(wait)).expect("poll_event") else {
            continue;
        };
        assert_eq!(
            ev.client_id,
            client.id(),
            "an event of an earlier client, after its Closed: {ev:?}"
        );
        let closed = matches!(ev.kind, EventKind::Closed { .. });
        match &ev.kind {
            EventKind::Open { .. } if plan.close_after_open || plan.pause_after_open => {
                if plan.pause_after_open {
                    client.pause_recv().expect("pause_recv");
                    resume_at = Some(Instant::now() + Duration::from_millis(2));
                }
                if plan.close_after_open {
                    let _ = client.close(1000, "fuzz");
                }
            }
            EventKind::Message { message_type, data } if plan.echo_back => {
                // Refusals are fine (closing, buffer full); panics are not.
                let _ = client.send(*message_type, data);
            }
            _ => {}
        }
        events.push(ev.kind);
        if closed {
            break;
        }
    }
    check_order(plan, &events);
    drop(client);
    // The server is done with this input before the next starts.
    let _ = h.done.lock().unwrap().recv_timeout(SERVER_IO * 3);
    // Nothing more of that client may arrive (checked at the next input
    // too, by client id).
    if let Some(ev) = h.ctx.poll_event(Some(Duration::ZERO)).expect("poll_event") {
        panic!("an event after Closed: {ev:?}; before: {events:#?}");
    }
}

/// The documented order of one attempt's events (`wsc::EventKind`):
/// `Connected`, `Open`, then messages, pings, pongs, a close frame, buffer
/// events; a failure gives `Error`, then `Undelivered`s, then `Closed`,
/// which is last and comes once.
pub fn check_order(plan: ClientPlan, events: &[EventKind]) {
    let pos = |f: &dyn Fn(&EventKind) -> bool| events.iter().position(f);
    let count = |f: &dyn Fn(&EventKind) -> bool| events.iter().filter(|e| f(e)).count();
    let is_open = |e: &EventKind| matches!(e, EventKind::Open { .. });
    let is_connected = |e: &EventKind| matches!(e, EventKind::Connected);
    let is_closed = |e: &EventKind| matches!(e, EventKind::Closed { .. });
    let is_error = |e: &EventKind| matches!(e, EventKind::Error(_));
    let is_undelivered = |e: &EventKind| matches!(e, EventKind::Undelivered { .. });
    let is_close_frame = |e: &EventKind| matches!(e, EventKind::CloseFrame { .. });
    let after_open = |e: &EventKind| {
        matches!(
            e,
            EventKind::Message { .. }
                | EventKind::Ping(_)
                | EventKind::Pong(_)
                | EventKind::CloseFrame { .. }
                | EventKind::BufferFull
                | EventKind::BufferDrain
        )
    };
    let fail = |why: &str| panic!("{why}; events: {events:#?}");

    if count(&is_closed) != 1 || !events.last().is_some_and(is_closed) {
        fail("Closed must come once, last");
    }
    if count(&is_connected) > 1 {
        fail("Connected more than once");
    }
    if count(&is_open) > 1 {
        fail("Open more than once");
    }
    if count(&is_error) > 1 {
        fail("Error more than once");
    }
    if count(&is_close_frame) > 1 {
        fail("CloseFrame more than once");
    }
    let open_at = pos(&is_open);
    if let Some(o) = open_at
        && pos(&is_connected).is_none_or(|c| c > o)
    {
        fail("Open without a Connected before it");
    }
    if let Some(first) = pos(&after_open)
        && open_at.is_none_or(|o| o > first)
    {
        fail("a message, ping, pong, close frame or buffer event before Open");
    }
    // After an Error or an Undelivered, only Undelivered and Closed.
    let tail_from = [pos(&is_error), pos(&is_undelivered)]
        .into_iter()
        .flatten()
        .min();
    if let Some(t) = tail_from
        && events[t + 1..]
            .iter()
            .any(|e| !is_undelivered(e) && !is_closed(e))
    {
        fail("something other than Undelivered or Closed after an Error or Undelivered");
    }
    if let Some(EventKind::Closed {
        code,
        clean,
        reason,
    }) = events.last()
    {
        if open_at.is_none() && (*code != 1006 || *clean) {
            fail("an attempt that never opened must close with 1006, not clean");
        }
        if *clean && pos(&is_close_frame).is_none() {
            fail("a clean Closed without the server's close frame");
        }
        if *code == 1006 && *clean {
            fail("1006 is never clean");
        }
        let _ = reason;
    }
    let undelivered_queued = events
        .iter()
        .filter(|e| matches!(e, EventKind::Undelivered { data, .. } if &data[..] == QUEUED))
        .count();
    if undelivered_queued > 1 {
        fail("the queued message reported undelivered twice");
    }
    if plan.queued_message && open_at.is_none() && undelivered_queued != 1 {
        fail("the message queued before connect was neither written nor reported undelivered");
    }
    for e in events {
        if let EventKind::Message { message_type, data } = e {
            if *message_type == MessageType::Text && std::str::from_utf8(data).is_err() {
                fail("a text message that is not UTF-8");
            }
            if plan.small_limits && data.len() > SMALL_LIMIT {
                fail("a message over max_message_size was delivered");
            }
        }
        if let EventKind::Ping(p) | EventKind::Pong(p) = e
            && p.len() > 125
        {
            fail("a control frame payload over 125 bytes was delivered");
        }
    }
}

/// How the scripted server writes its bytes and ends the connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerPlan {
    /// Write in two parts with a pause between them (the client sees a
    /// partial response or frame first).
    pub split: bool,
    /// Close at once (a reset if the client's bytes are unread) instead of
    /// half-closing and reading until the client closes.
    pub hard_close: bool,
}

/// Writes `bytes` and ends the connection as `plan` says; errors are
/// ignored (the client may be gone).
pub fn write_and_close(mut s: TcpStream, bytes: &[u8], plan: ServerPlan) {
    if plan.split && bytes.len() > 1 {
        let (a, b) = bytes.split_at(bytes.len() / 2);
        let _ = s.write_all(a);
        let _ = s.flush();
        std::thread::sleep(Duration::from_millis(1));
        let _ = s.write_all(b);
    } else {
        let _ = s.write_all(bytes);
    }
    let _ = s.flush();
    if plan.hard_close {
        return;
    }
    let _ = s.shutdown(std::net::Shutdown::Write);
    // Read what the client still sends (its close frame, a pong) until it
    // closes: an orderly end rather than a reset. Bounded by the read
    // timeout and a byte budget.
    let mut sink = [0u8; 4096];
    let mut budget: usize = 1 << 20;
    while budget > 0 {
        match s.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => budget = budget.saturating_sub(n),
        }
    }
}
