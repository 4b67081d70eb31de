//! A test WebSocket server of tests/servers/ written in Python with
//! Debian's python3-websockets, run with `/usr/bin/python3` on a free port
//! of 127.0.0.1, killed by its PID on drop (the script also exits by
//! itself after its `--lifetime`).
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Debian's Python, which has python3-websockets (scripts/install-deps.sh).
pub const PYTHON: &str = "/usr/bin/python3";

/// A running server script.
pub struct PyServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl PyServer {
    /// Starts `tests/servers/{script}` with `--lifetime 120` and `args`;
    /// waits at most 20 s for its `listening on 127.0.0.1:PORT` line.
    /// Panics with its stderr when it does not start (exit code 3:
    /// python3-websockets is missing).
    pub fn start(script: &str, args: &[&str]) -> PyServer {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/servers")
            .join(script);
        let mut child = Command::new(PYTHON)
            .arg(path)
            .args(["--lifetime", "120"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {PYTHON} {script}: {e}"));
        let (port, line) = crate::common::listening_port(&mut child, Duration::from_secs(20));
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

    /// `ws://127.0.0.1:PORT{path}`.
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
