//! `wss://` with real certificates: a CA, server and client certificates
//! made by `openssl` for each test (tests/servers/make-test-pki.sh, in a
//! temporary directory removed afterwards), a real TLS WebSocket server on
//! 127.0.0.1 (tests/servers/tls_ws_server.py: Python's `ssl` and Debian's
//! python3-websockets), and each TLS setting of `Client` checked against
//! it: trusted chain, system roots, unknown CA, wrong host name, peer
//! name, verification off, client certificates with plain and encrypted
//! keys, the files refused at set time, and the settings PHP calls
//! peer_fingerprint, capath, crypto_method, SNI_enabled, ciphers and
//! security_level, with session resumption (TLS 1.2).

mod common;
use common::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wsc::{Client, Context, Error, Event, EventKind, MessageType, TlsVersion};

/// Debian's Python, which has python3-websockets (scripts/install-deps.sh).
const PYTHON: &str = "/usr/bin/python3";

/// The passphrase of `client-encrypted*.key` (make-test-pki.sh).
const PASSPHRASE: &str = "correct horse battery staple";

/// What OpenSSL says when the chain or the name does not verify.
const VERIFY_FAILED: &str = "certificate verify failed";

fn servers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers")
}

/// Runs `cmd` to its end within `within`; panics with its output when it
/// fails or takes longer (then it is killed by PID).
fn run_bounded(mut cmd: Command, within: Duration, what: &str) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let deadline = Instant::now() + within;
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(status.success(), "{what} failed ({status}): {err}");
}

/// The certificates and keys of one test, in a fresh temporary directory
/// that is removed on drop.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wsc-tls-certs-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cmd = Command::new("sh");
        cmd.arg(servers_dir().join("make-test-pki.sh")).arg(&dir);
        run_bounded(
            cmd,
            Duration::from_secs(60),
            "make-test-pki.sh (needs openssl)",
        );
        Pki { dir }
    }

    /// The path of one of make-test-pki.sh's files, as a string.
    fn path(&self, name: &str) -> String {
        let p = self.dir.join(name);
        assert!(p.is_file(), "make-test-pki.sh made no {name}");
        p.to_str().expect("a UTF-8 temp path").to_string()
    }

    /// A path in the directory that does not exist.
    fn missing(&self, name: &str) -> String {
        self.dir.join(name).to_str().expect("UTF-8").to_string()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// tls_ws_server.py on a free port of 127.0.0.1, killed by PID on drop.
struct TlsServer {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

impl TlsServer {
    /// Serves `cert`/`key` (files of `pki`); with `client_ca`, requires a
    /// client certificate signed by it.
    fn start(pki: &Pki, cert: &str, key: &str, client_ca: Option<&str>) -> TlsServer {
        let mut cmd = Command::new(PYTHON);
        cmd.arg(servers_dir().join("tls_ws_server.py"))
            .args(["--cert", &pki.path(cert), "--key", &pki.path(key)])
            .args(["--lifetime", "120"]);
        if let Some(ca) = client_ca {
            cmd.args(["--client-ca", &pki.path(ca)]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {PYTHON} tls_ws_server.py: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (port, line) = listening_port(&mut child, Duration::from_secs(20));
        let Some(port) = port else {
            let _ = child.kill();
            let status = child.wait().expect("reap tls_ws_server.py");
            // Let the stderr thread collect the reason.
            std::thread::sleep(Duration::from_millis(100));
            let err = stderr.lock().unwrap().clone();
            let hint = if status.code() == Some(3) {
                " -- python3-websockets is missing: run scripts/install-deps.sh test"
            } else {
                ""
            };
            panic!(
                "tls_ws_server.py did not start ({status}{hint}); stdout {line:?}, stderr: {err}"
            );
        };
        TlsServer {
            child,
            port,
            stderr,
        }
    }

    /// `wss://localhost:PORT{path}`.
    fn wss(&self, path: &str) -> String {
        format!("wss://localhost:{}{}", self.port, path)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "tls_ws_server.py stderr: {}",
                self.stderr.lock().unwrap().as_str()
            );
        }
    }
}

fn connect(ctx: &Context, url: &str, setup: impl FnOnce(&Client)) -> Client {
    let client = ctx.client(url).expect("client");
    setup(&client);
    client.connect().expect("connect");
    client
}

/// Waits for `Open` and checks the events before it: `Connected` then
/// `Open` with a 101 head.
fn expect_open(ctx: &Context) {
    let seen = wait_for(ctx, WAIT, |e| is_open(e) || is_closed(e));
    assert_eq!(seen.len(), 2, "Connected then Open: {seen:#?}");
    assert!(matches!(seen[0].kind, EventKind::Connected), "{seen:#?}");
    let EventKind::Open { response_head } = &seen[1].kind else {
        panic!("expected Open: {seen:#?}");
    };
    assert!(response_head.starts_with(b"HTTP/1.1 101 "), "{seen:#?}");
}

/// Sends a text and a binary message and checks their echoes, then closes
/// with 1000 and checks the clean close.
fn expect_echo_and_clean_close(ctx: &Context, client: &Client) {
    client
        .send(MessageType::Text, b"over verified TLS")
        .unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    client.send(MessageType::Binary, &big).unwrap();
    assert_eq!(
        text_of(&wait_event(ctx, WAIT, is_message)),
        "over verified TLS"
    );
    match wait_event(ctx, WAIT, is_message).kind {
        EventKind::Message {
            message_type: MessageType::Binary,
            data,
        } => assert!(data.to_vec() == big, "the binary echo differs"),
        other => panic!("expected the binary echo, got {other:?}"),
    }
    client.close(1000, "done").unwrap();
    let (code, reason, clean) = closed_of(&wait_event(ctx, WAIT, is_closed));
    assert_eq!((code, reason.as_str(), clean), (1000, "done", true));
}

/// Waits for the attempt to fail before the connection opened; checks
/// that `Error` is followed by `Closed` 1006 (not clean) and that no
/// `Open` came. Returns the error and every event seen.
fn expect_refused(ctx: &Context) -> (Error, Vec<Event>) {
    let seen = wait_for(ctx, WAIT, |e| is_open(e) || is_closed(e));
    assert!(
        !seen.iter().any(is_open),
        "the connection opened: {seen:#?}"
    );
    let n = seen.len();
    assert!(n >= 2, "Error then Closed: {seen:#?}");
    let (code, _, clean) = closed_of(&seen[n - 1]);
    assert_eq!((code, clean), (1006, false), "{seen:#?}");
    (error_of(&seen[n - 2]), seen)
}

/// Checks a refusal by certificate verification: `Error::Tls` (no
/// `Connected` before it) whose text is OpenSSL's verification failure
/// and contains `detail` (the verify result, e.g. the reason in brackets).
fn expect_verify_failure(ctx: &Context, detail: &str) {
    let (err, seen) = expect_refused(ctx);
    assert_eq!(seen.len(), 2, "Error then Closed, no Connected: {seen:#?}");
    match &err {
        Error::Tls(msg) => {
            assert!(msg.contains(VERIFY_FAILED), "{msg}");
            assert!(msg.contains(detail), "expected {detail:?} in: {msg}");
        }
        other => panic!("expected Error::Tls, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.starts_with("TLS handshake failed: "), "{text}");
}

/// Reads the `/info` message of tls_ws_server.py and returns the string
/// value of `key` (`None` for JSON null).
fn info_field(info: &str, key: &str) -> Option<String> {
    let at = info
        .find(&format!("\"{key}\": "))
        .unwrap_or_else(|| panic!("no {key} in {info}"));
    let rest = &info[at + key.len() + 4..];
    if rest.starts_with("null") {
        return None;
    }
    let rest = rest.strip_prefix('"').expect("a JSON string");
    Some(rest[..rest.find('"').expect("closing quote")].to_string())
}

/// Opens `/info` and returns the server's report of the TLS session.
fn session_info(ctx: &Context) -> String {
    expect_open(ctx);
    text_of(&wait_event(ctx, WAIT, is_message))
}

// --- server verification ---------------------------------------------------

#[test]
fn trusted_chain_via_ca_file_opens_and_echoes() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &client);
}

#[test]
fn sni_is_the_host_of_the_url() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/info"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
    });
    let info = session_info(&ctx);
    assert_eq!(
        info_field(&info, "sni").as_deref(),
        Some("localhost"),
        "{info}"
    );
    assert_eq!(info_field(&info, "client_cert"), None, "{info}");
}

#[test]
fn ip_address_url_is_checked_against_the_ip_san() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &format!("wss://127.0.0.1:{}/", server.port), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &client);
}

#[test]
fn system_roots_do_not_trust_the_test_ca() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/"), |_| {});
    expect_verify_failure(&ctx, "unable to get local issuer certificate");
}

#[test]
fn ca_file_none_returns_to_the_system_roots() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_tls_ca_file(None).unwrap();
    });
    expect_verify_failure(&ctx, "unable to get local issuer certificate");
}

#[test]
fn unknown_ca_is_refused() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("other-ca.pem"))).unwrap();
    });
    expect_verify_failure(&ctx, "unable to get local issuer certificate");
}

#[test]
fn server_certificate_of_another_ca_is_refused() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "other-server.pem", "other-server.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
    });
    expect_verify_failure(&ctx, "unable to get local issuer certificate");
}

#[test]
fn self_signed_certificate_is_refused() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "self-signed.pem", "self-signed.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
    });
    expect_verify_failure(&ctx, "self-signed certificate");
}

#[test]
fn self_signed_certificate_given_as_ca_file_is_trusted() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "self-signed.pem", "self-signed.key", None);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("self-signed.pem")))
            .unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &client);
}

#[test]
fn wrong_host_name_is_refused() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "wrong-name.pem", "wrong-name.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
    });
    expect_verify_failure(&ctx, "hostname mismatch");
}

#[test]
fn peer_name_matching_the_certificate_opens_and_is_the_sni() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "wrong-name.pem", "wrong-name.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/info"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_tls_peer_name(Some("wrong.example")).unwrap();
    });
    let info = session_info(&ctx);
    assert_eq!(
        info_field(&info, "sni").as_deref(),
        Some("wrong.example"),
        "{info}"
    );
}

#[test]
fn peer_name_not_in_the_certificate_is_refused() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_tls_peer_name(Some("wrong.example")).unwrap();
    });
    expect_verify_failure(&ctx, "hostname mismatch");
}

#[test]
fn verify_peer_name_off_accepts_the_wrong_name() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "wrong-name.pem", "wrong-name.key", None);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_tls_verify(true, false).unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &client);
}

#[test]
fn verify_peer_name_off_still_verifies_the_chain() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "wrong-name.pem", "wrong-name.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("other-ca.pem"))).unwrap();
        c.set_tls_verify(true, false).unwrap();
    });
    expect_verify_failure(&ctx, "unable to get local issuer certificate");
}

/// PHP's semantics (ext/openssl `php_openssl_apply_verification_policy`):
/// `verify_peer => false` skips the chain, `verify_peer_name` still
/// checks the name unless it is false too.
#[test]
fn verify_peer_off_still_checks_the_name() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "wrong-name.pem", "wrong-name.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_verify(false, true).unwrap();
    });
    let (err, _) = expect_refused(&ctx);
    match &err {
        Error::Tls(msg) => assert!(
            msg.contains("name mismatch"),
            "the message should name the host name mismatch: {msg}"
        ),
        other => panic!("expected Error::Tls about the host name, got {other:?}"),
    }
}

#[test]
fn verify_peer_off_with_the_right_name_opens() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "other-server.pem", "other-server.key", None);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_verify(false, true).unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &client);
}

#[test]
fn verification_off_accepts_any_certificate() {
    let pki = Pki::new();
    // Unknown CA and the wrong name: both checks would refuse it.
    let server = TlsServer::start(&pki, "wrong-name.pem", "wrong-name.key", None);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls(true, false).unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &client);
}

// --- Workerman's form: ws:// with transport = 'ssl' --------------------------

#[test]
fn ws_url_with_tls_on_verifies_and_opens() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &format!("ws://localhost:{}/", server.port), |c| {
        c.set_tls(true, true).unwrap();
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &client);
}

#[test]
fn ws_url_with_tls_on_refuses_an_untrusted_certificate() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &format!("ws://localhost:{}/", server.port), |c| {
        c.set_tls(true, true).unwrap();
    });
    expect_verify_failure(&ctx, "unable to get local issuer certificate");
}

// --- client certificates ---------------------------------------------------

fn client_cert_server(pki: &Pki) -> TlsServer {
    TlsServer::start(pki, "server.pem", "server.key", Some("ca.pem"))
}

/// With TLS 1.3 the server checks the client certificate after the
/// client's handshake is done: the client sees `Connected`, then the
/// server's alert when it reads the HTTP answer.
#[test]
fn client_certificate_required_but_none_given_fails() {
    let pki = Pki::new();
    let server = client_cert_server(&pki);
    let ctx = Context::new().unwrap();
    let _client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
    });
    let (err, seen) = expect_refused(&ctx);
    let text = err.to_string();
    assert!(
        text.contains("certificate required"),
        "the message should carry the server's alert: {text}; events {seen:#?}"
    );
    assert!(
        matches!(err, Error::Tls(_)),
        "a TLS alert during the opening handshake is a TLS failure: expected Error::Tls, got {err:?}"
    );
}

#[test]
fn client_certificate_with_key_file_opens() {
    let pki = Pki::new();
    let server = client_cert_server(&pki);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &server.wss("/info"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_tls_client_cert(&pki.path("client.pem"), Some(&pki.path("client.key")), None)
            .unwrap();
    });
    let info = session_info(&ctx);
    assert_eq!(
        info_field(&info, "client_cert").as_deref(),
        Some("wsc test client"),
        "{info}"
    );
    expect_echo_and_clean_close(&ctx, &client);
}

/// Connects to the server that requires a client certificate with the
/// given certificate, key file and passphrase, and checks that the server
/// saw the client's certificate.
fn opens_with_client_cert(cert: &str, key: Option<&str>, passphrase: Option<&str>) {
    let pki = Pki::new();
    let server = client_cert_server(&pki);
    let ctx = Context::new().unwrap();
    let key = key.map(|k| pki.path(k));
    let _client = connect(&ctx, &server.wss("/info"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_tls_client_cert(&pki.path(cert), key.as_deref(), passphrase)
            .unwrap();
    });
    let info = session_info(&ctx);
    assert_eq!(
        info_field(&info, "client_cert").as_deref(),
        Some("wsc test client"),
        "{info}"
    );
}

#[test]
fn client_certificate_and_key_in_one_file_opens() {
    opens_with_client_cert("client-combined.pem", None, None);
}

#[test]
fn encrypted_pkcs8_key_with_the_right_passphrase_opens() {
    opens_with_client_cert("client.pem", Some("client-encrypted.key"), Some(PASSPHRASE));
}

#[test]
fn encrypted_traditional_key_with_the_right_passphrase_opens() {
    opens_with_client_cert(
        "client.pem",
        Some("client-encrypted-traditional.key"),
        Some(PASSPHRASE),
    );
}

#[test]
fn wrong_passphrase_is_refused_at_set_time_naming_the_key_file() {
    let pki = Pki::new();
    let ctx = Context::new().unwrap();
    let client = ctx.client("wss://localhost:1/").unwrap();
    let key = pki.path("client-encrypted.key");
    match client.set_tls_client_cert(&pki.path("client.pem"), Some(&key), Some("not it")) {
        Err(Error::InvalidArgument(msg)) => {
            assert!(msg.contains(&key), "the message names {key}: {msg}")
        }
        other => panic!("expected Error::InvalidArgument, got {other:?}"),
    }
}

/// Set in the child process of
/// `encrypted_key_without_passphrase_never_reads_a_passphrase`: the
/// certificate and key paths, separated by a newline.
const CHILD_ENV: &str = "WSC_TLS_CERTS_PROMPT_CHILD";

/// An encrypted key without a passphrase must be refused at once, naming
/// the key file. OpenSSL's default when no passphrase is given is to ask
/// for one: on /dev/tty, or, without a terminal, by reading stdin. The
/// test runs the call in a child process without a controlling terminal
/// (`setsid`) whose stdin holds the right passphrase: a library that
/// reads it succeeds, and prints OpenSSL's prompt on stderr.
#[test]
fn encrypted_key_without_passphrase_never_reads_a_passphrase() {
    if let Ok(paths) = std::env::var(CHILD_ENV) {
        let (cert, key) = paths.split_once('\n').expect("cert\nkey");
        let ctx = Context::new().unwrap();
        let client = ctx.client("wss://localhost:1/").unwrap();
        let r = client.set_tls_client_cert(cert, Some(key), None);
        println!("child result: {r:?}");
        return;
    }
    let pki = Pki::new();
    let key = pki.path("client-encrypted.key");
    let mut child = Command::new("setsid")
        .arg(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "encrypted_key_without_passphrase_never_reads_a_passphrase",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{}\n{key}", pki.path("client.pem")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setsid (util-linux) runs the test binary");
    // The right passphrase, offered on stdin, which stays open.
    let mut stdin = child.stdin.take().expect("stdin");
    std::io::Write::write_all(&mut stdin, format!("{PASSPHRASE}\n").as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the child blocked for 20 s in set_tls_client_cert: OpenSSL waits for a passphrase"
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    // libtest prints `test NAME ... ` on the same line first.
    let line = out
        .lines()
        .find_map(|l| l.find("child result: ").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("no result from the child; stdout {out}, stderr {err}"));
    assert!(
        !err.contains("pass phrase"),
        "OpenSSL prompted for a passphrase from inside the library: stderr {err:?}; {line}"
    );
    assert!(
        line.starts_with("child result: Err(InvalidArgument("),
        "expected Error::InvalidArgument without reading stdin, got {line}"
    );
    assert!(line.contains(&key), "the message names {key}: {line}");
}

#[test]
fn key_that_does_not_match_the_certificate_is_refused_at_set_time() {
    let pki = Pki::new();
    let ctx = Context::new().unwrap();
    let client = ctx.client("wss://localhost:1/").unwrap();
    let cert = pki.path("client.pem");
    match client.set_tls_client_cert(&cert, Some(&pki.path("server.key")), None) {
        Err(Error::InvalidArgument(msg)) => {
            assert!(msg.contains(&cert), "the message names {cert}: {msg}")
        }
        other => panic!("expected Error::InvalidArgument, got {other:?}"),
    }
}

#[test]
fn missing_client_certificate_file_is_refused_naming_it() {
    let pki = Pki::new();
    let ctx = Context::new().unwrap();
    let client = ctx.client("wss://localhost:1/").unwrap();
    let cert = pki.missing("no-such-client.pem");
    match client.set_tls_client_cert(&cert, Some(&pki.path("client.key")), None) {
        Err(Error::InvalidArgument(msg)) => {
            assert!(msg.contains(&cert), "the message names {cert}: {msg}")
        }
        other => panic!("expected Error::InvalidArgument, got {other:?}"),
    }
}

// --- CA files refused at set time ------------------------------------------

#[test]
fn missing_ca_file_is_invalid_argument_naming_the_path() {
    let pki = Pki::new();
    let ctx = Context::new().unwrap();
    let client = ctx.client("wss://localhost:1/").unwrap();
    let path = pki.missing("no-such-ca.pem");
    match client.set_tls_ca_file(Some(&path)) {
        Err(Error::InvalidArgument(msg)) => {
            assert!(msg.contains(&path), "the message names {path}: {msg}")
        }
        other => panic!("expected Error::InvalidArgument, got {other:?}"),
    }
}

#[test]
fn ca_file_without_a_certificate_is_invalid_argument_naming_the_path() {
    let pki = Pki::new();
    let ctx = Context::new().unwrap();
    let client = ctx.client("wss://localhost:1/").unwrap();
    // A PEM file, but a key, not a certificate.
    let path = pki.path("client.key");
    match client.set_tls_ca_file(Some(&path)) {
        Err(Error::InvalidArgument(msg)) => {
            assert!(msg.contains(&path), "the message names {path}: {msg}")
        }
        other => panic!("expected Error::InvalidArgument, got {other:?}"),
    }
}

// --- the settings of issue 12: pins, capath, versions, SNI, ciphers --------

/// The sha256 fingerprint of a PKI certificate, hex (`openssl x509`'s
/// colon form is accepted as it is).
fn sha256_of(pki: &Pki, cert: &str) -> String {
    let pem = std::fs::read(pki.path(cert)).expect("read the certificate");
    let x509 = openssl::x509::X509::from_pem(&pem).expect("PEM");
    x509.digest(openssl::hash::MessageDigest::sha256())
        .expect("digest")
        .iter()
        .map(|b| format!("{b:02X}:"))
        .collect::<String>()
        .trim_end_matches(':')
        .to_string()
}

#[test]
fn a_pinned_fingerprint_that_matches_opens_and_one_that_does_not_is_refused() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.add_tls_peer_fingerprint(Some("sha256"), &sha256_of(&pki, "server.pem"))
            .unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &client);

    let other = sha256_of(&pki, "other-server.pem");
    client.clear_tls_peer_fingerprints().unwrap();
    client
        .add_tls_peer_fingerprint(Some("SHA256"), &other.to_lowercase())
        .unwrap();
    client.connect().unwrap();
    let (err, seen) = expect_refused(&ctx);
    assert_eq!(seen.len(), 2, "refused before Connected: {seen:#?}");
    let text = err.to_string();
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    assert!(text.contains("peer fingerprint mismatch"), "{text}");
    assert!(
        text.contains(
            &sha256_of(&pki, "server.pem")
                .replace(':', "")
                .to_lowercase()
        ),
        "{text}"
    );
}

#[test]
fn a_pinned_self_signed_certificate_opens_without_chain_verification() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "self-signed.pem", "self-signed.key", None);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_verify(false, true).unwrap();
        c.add_tls_peer_fingerprint(Some("sha256"), &sha256_of(&pki, "self-signed.pem"))
            .unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &client);
}

#[test]
fn ca_path_of_the_ca_opens_and_of_another_ca_is_refused() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let dir = |d: &str| pki.dir.join(d).to_str().unwrap().to_string();
    let client = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_path(Some(&dir("capath"))).unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &client);
    let _other = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_path(Some(&dir("other-capath"))).unwrap();
    });
    expect_verify_failure(&ctx, "unable to get local issuer certificate");
    assert!(matches!(
        client.set_tls_ca_path(Some(&dir("no-such-folder"))),
        Err(Error::InvalidArgument(m)) if m.contains("no-such-folder")
    ));
}

#[test]
fn tls_versions_sni_and_resumption_as_the_server_saw_them() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    let client = connect(&ctx, &server.wss("/info"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_tls_versions(Some(TlsVersion::Tls1_2), Some(TlsVersion::Tls1_2))
            .unwrap();
        c.set_tls_sni(false).unwrap();
    });
    let info = session_info(&ctx);
    assert_eq!(info_field(&info, "tls_version").as_deref(), Some("TLSv1.2"));
    assert_eq!(info_field(&info, "sni"), None, "{info}");
    assert!(!client.tls_session_resumed().unwrap());
    let again = |ctx: &Context| {
        client.close(1000, "").unwrap();
        wait_event(ctx, WAIT, is_closed);
        client.connect().unwrap();
        session_info(ctx)
    };
    // A reconnect resumes the TLS 1.2 session.
    let info = again(&ctx);
    assert_eq!(info_field(&info, "tls_version").as_deref(), Some("TLSv1.2"));
    assert!(client.tls_session_resumed().unwrap(), "TLS 1.2 resumed");
    // And again: a TLS 1.2 session stays usable after it was resumed.
    again(&ctx);
    assert!(
        client.tls_session_resumed().unwrap(),
        "TLS 1.2 resumed twice"
    );
    assert!(matches!(
        client.set_tls_versions(Some(TlsVersion::Tls1_3), Some(TlsVersion::Tls1_2)),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn ciphers_and_security_level_are_applied_and_bad_ones_refused() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "server.pem", "server.key", None);
    let ctx = Context::new().unwrap();
    // The server's key is ECDSA: RSA-only ciphers leave nothing in TLS 1.2.
    let _c = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_tls_versions(None, Some(TlsVersion::Tls1_2)).unwrap();
        c.set_tls_ciphers(Some("ECDHE-RSA-AES128-GCM-SHA256"))
            .unwrap();
    });
    let (err, _) = expect_refused(&ctx);
    assert!(err.to_string().contains("handshake failure"), "{err}");
    let ok = connect(&ctx, &server.wss("/"), |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_tls_versions(None, Some(TlsVersion::Tls1_2)).unwrap();
        c.set_tls_ciphers(Some("ECDHE-ECDSA-AES128-GCM-SHA256"))
            .unwrap();
        c.set_tls_security_level(Some(3)).unwrap();
    });
    expect_open(&ctx);
    expect_echo_and_clean_close(&ctx, &ok);
    match ok.set_tls_ciphers(Some("NO-SUCH-CIPHER")) {
        Err(Error::InvalidArgument(m)) => {
            assert!(m.contains("NO-SUCH-CIPHER") && !m.contains(".c:"), "{m}")
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    assert!(matches!(
        ok.set_tls_security_level(Some(6)),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        ok.add_tls_peer_fingerprint(None, "abc"),
        Err(Error::InvalidArgument(_))
    ));
}

// --- connect-to (issue 17) ---------------------------------------------------

/// TCP goes to the connect-to address; the URL's host is the SNI and the
/// name verified (the certificate names only wrong.example, which does not
/// resolve here).
#[test]
fn connect_to_keeps_the_urls_host_for_sni_and_the_name_check() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki, "wrong-name.pem", "wrong-name.key", None);
    let ctx = Context::new().unwrap();
    let url = format!("wss://wrong.example:{}/info", server.port);
    let client = connect(&ctx, &url, |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_connect_to(Some("127.0.0.1")).unwrap();
    });
    let info = session_info(&ctx);
    assert_eq!(
        info_field(&info, "sni").as_deref(),
        Some("wrong.example"),
        "{info}"
    );
    assert_eq!(
        client.addresses().unwrap().0,
        Some(format!("127.0.0.1:{}", server.port).parse().unwrap())
    );

    // The URL's host is still what the certificate must name.
    let url = format!("wss://localhost:{}/", server.port);
    let _client = connect(&ctx, &url, |c| {
        c.set_tls_ca_file(Some(&pki.path("ca.pem"))).unwrap();
        c.set_connect_to(Some("127.0.0.1")).unwrap();
    });
    expect_verify_failure(&ctx, "hostname mismatch");
}
