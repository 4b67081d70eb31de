//! Debian's nginx as a TLS-terminating reverse proxy in front of a
//! WebSocket server, for the TLS scale and resumption tests
//! (tests/tls_nginx.rs) and the wss benchmark (bench/wss.rs); and as a
//! plain-HTTP server with a test's own `location` blocks (refusals with
//! bodies and `Retry-After`, tests/nginx_refusal.rs).
//!
//! Everything of one run lives in a fresh temporary folder removed on drop:
//! certificates made by `openssl` (tests/servers/make-test-pki.sh), the
//! configuration, the pid file, the error log and an access log whose
//! lines are `$ssl_session_reused $ssl_protocol $status` (`r` when the TLS
//! session was resumed, `.` for a full handshake). nginx runs in the
//! foreground (`daemon off`), is started and stopped by its PID (SIGQUIT,
//! then SIGKILL of the master after 10 s), listens on 127.0.0.1 only.
//!
//! Open files: nginx holds two per proxied connection (client and
//! upstream); the configuration allows 8192 per worker.
#![allow(dead_code)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where Debian's package puts nginx.
pub const NGINX: &str = "/usr/sbin/nginx";

/// Why nginx cannot be used here, or `None` when it can.
pub fn missing() -> Option<String> {
    if Path::new(NGINX).is_file() {
        None
    } else {
        Some(format!(
            "{NGINX} is not installed (apt-get install nginx-light, or scripts/install-deps.sh test)"
        ))
    }
}

/// nginx terminating TLS on 127.0.0.1 and proxying WebSocket upgrades to
/// a plain `ws://` upstream.
pub struct Nginx {
    child: Child,
    /// The TLS port on 127.0.0.1.
    pub port: u16,
    /// The temporary folder of this run (certificates, logs).
    pub dir: PathBuf,
}

impl Nginx {
    /// Makes the certificates, writes the configuration and starts nginx
    /// in front of `upstream` (`127.0.0.1:PORT` of a WebSocket server);
    /// returns once the TLS port accepts connections. Panics with nginx's
    /// error log when it does not start within 20 s.
    pub fn start(upstream: &str) -> Nginx {
        Self::launch(true, |dir, port| write_config(dir, port, upstream))
    }

    /// Starts nginx on plain HTTP (`ws://`, no TLS, no certificates) at
    /// 127.0.0.1 with `locations` (nginx `location` blocks, verbatim) as
    /// its one server's configuration. The access log's lines are
    /// `$msec $status $request_uri` (the time of each request, in seconds
    /// since the epoch with millisecond resolution), so a test sees when
    /// each attempt reached the server. Panics with nginx's error log when
    /// it does not start within 20 s.
    pub fn start_plain(locations: &str) -> Nginx {
        Self::launch(false, |dir, port| write_plain_config(dir, port, locations))
    }

    /// Makes the folder (and the certificates when `tls`), then starts
    /// nginx with the configuration `write(dir, port)` writes, on a free
    /// port (a few tries: another process may take the port in between).
    fn launch(tls: bool, write: impl Fn(&Path, u16)) -> Nginx {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wsc-nginx-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tmp")).expect("create the nginx folder");
        if tls {
            make_pki(&dir);
        }
        let mut last = String::new();
        // A free port is picked, released and given to nginx: another
        // process may take it in between, so try a few.
        for _ in 0..5 {
            let port = free_port();
            write(&dir, port);
            let mut child = Command::new(NGINX)
                .arg("-e")
                .arg(dir.join("error.log"))
                .arg("-p")
                .arg(&dir)
                .arg("-c")
                .arg(dir.join("nginx.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {NGINX}: {e}"));
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                    last = format!("nginx exited ({status}): {err} {log}");
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Nginx { child, port, dir };
                }
                if Instant::now() >= deadline {
                    stop(&mut child);
                    last = "nginx did not listen within 20 s".into();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!("nginx did not start: {last}");
    }

    /// `wss://localhost:PORT{path}`.
    pub fn wss(&self, path: &str) -> String {
        format!("wss://localhost:{}{}", self.port, path)
    }

    /// `ws://127.0.0.1:PORT{path}` (a server of [`Nginx::start_plain`]).
    pub fn ws(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{}", self.port, path)
    }

    /// The CA that signed nginx's certificate (PEM), for `set_tls_ca_file`.
    pub fn ca_file(&self) -> String {
        self.dir.join("ca.pem").to_str().expect("UTF-8").to_string()
    }

    /// The access log's lines so far: `$ssl_session_reused $ssl_protocol
    /// $status` ([`Nginx::start`]) or `$msec $status $request_uri`
    /// ([`Nginx::start_plain`]); nginx writes a WebSocket's line when it
    /// ends, a refusal's when it is sent.
    pub fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    /// The master's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        stop(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stops nginx by its PID: SIGQUIT (the master stops its workers), then
/// SIGKILL after 10 s.
fn stop(child: &mut Child) {
    // SAFETY: kill(2) on the PID of our own child, not yet reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGQUIT) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// Runs tests/servers/make-test-pki.sh into `dir` (bounded: 60 s).
fn make_pki(dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/make-test-pki.sh");
    let mut child = Command::new("sh")
        .arg(script)
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run make-test-pki.sh");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("make-test-pki.sh did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(status.success(), "make-test-pki.sh failed: {err}");
}

/// `user root;` when running as root (the workers would otherwise run as
/// nobody and could not write the logs in our folder), else nothing.
fn user_line() -> &'static str {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        "user root;"
    } else {
        ""
    }
}

/// tests/servers/nginx-plain.conf.in (shared with the PHP tests) filled in.
fn write_plain_config(dir: &Path, port: u16, locations: &str) {
    let template = include_str!("../servers/nginx-plain.conf.in");
    let conf = template
        .replace("@USER@", user_line())
        .replace("@DIR@", dir.to_str().expect("a UTF-8 temp path"))
        .replace("@PORT@", &port.to_string())
        .replace("@LOCATIONS@", locations);
    std::fs::write(dir.join("nginx.conf"), conf).expect("write nginx.conf");
}

fn write_config(dir: &Path, port: u16, upstream: &str) {
    let d = dir.to_str().expect("a UTF-8 temp path");
    let user = user_line();
    let conf = format!(
        r#"# wsc test nginx: TLS on 127.0.0.1:{port}, proxying to ws://{upstream}
{user}
daemon off;
master_process on;
worker_processes 2;
worker_rlimit_nofile 8192;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 8192;
}}
http {{
    log_format resumed '$ssl_session_reused $ssl_protocol $status';
    access_log {d}/access.log resumed;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port} ssl backlog=4096;
        ssl_certificate {d}/server.pem;
        ssl_certificate_key {d}/server.key;
        ssl_session_cache shared:wsc:10m;
        ssl_session_tickets on;
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 600s;
            proxy_send_timeout 600s;
        }}
    }}
}}
"#
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("write nginx.conf");
}
