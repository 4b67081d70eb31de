//! Shared helpers of the integration tests: the echo server as a real
//! process on 127.0.0.1, and bounded waits for events.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wsc::{Context, Event, EventKind};

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
