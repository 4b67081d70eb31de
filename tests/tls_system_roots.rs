//! The system's roots are read at most once per process, and not at all
//! while `cafile` replaces them or verification is off (docs/tls.md).
//! Seen from outside: `SSL_CERT_FILE` names the "system" bundle, a file
//! this test writes and rewrites between connects to Debian's nginx
//! (tests/common/nginx.rs; skipped, saying so, without nginx). Its own test
//! binary: the variables must be set before anything in the process uses
//! TLS.

mod common;
#[path = "common/nginx.rs"]
mod nginx;

use common::*;
use std::time::Duration;
use wsc::{Context, EventKind};

/// Connects `url` and returns whether it opened (`Err` with the error).
fn opens(ctx: &Context, url: &str, setup: impl FnOnce(&wsc::Client)) -> Result<(), String> {
    let c = ctx.client(url).expect("client");
    setup(&c);
    c.connect().expect("connect");
    let seen = wait_for(ctx, WAIT, |e| is_open(e) || is_closed(e));
    let result = match seen.iter().find_map(|e| match &e.kind {
        EventKind::Error(err) => Some(err.to_string()),
        _ => None,
    }) {
        Some(err) => Err(err),
        None if seen.last().is_some_and(is_open) => Ok(()),
        None => Err(format!("{seen:?}")),
    };
    let _ = c.abort();
    drain(ctx, Duration::from_millis(50));
    result
}

#[test]
fn system_roots_are_read_once_per_process_and_not_while_cafile_replaces_them() {
    if let Some(why) = nginx::missing() {
        eprintln!("SKIPPED system_roots_are_read_once_per_process: {why}");
        return;
    }
    let echo = EchoServer::start();
    let proxy = nginx::Nginx::start(&echo.addr);
    let roots = proxy.dir.join("system-roots.pem");
    let empty_dir = proxy.dir.join("no-roots");
    std::fs::create_dir_all(&empty_dir).expect("mkdir");
    // SAFETY: set before this process uses TLS; the only test of this
    // binary, so no other thread reads the environment meanwhile.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &roots);
        std::env::set_var("SSL_CERT_DIR", &empty_dir);
    }
    let url = proxy.wss("/");
    let ctx = Context::new().expect("context");

    // 1. The "system" bundle does not exist yet: cafile and verification
    //    off work without it, and must not read it.
    opens(&ctx, &url, |c| {
        c.set_tls_ca_file(Some(&proxy.ca_file())).expect("cafile")
    })
    .expect("cafile opens");
    opens(&ctx, &url, |c| {
        c.set_tls_verify(false, false).expect("verify")
    })
    .expect("no verification opens");

    // 2. Now the bundle holds nginx's CA: the system roots, read now for
    //    the first time, trust it.
    std::fs::copy(proxy.dir.join("ca.pem"), &roots).expect("write the bundle");
    opens(&ctx, &url, |_| {}).expect("the system roots (nginx's CA) open");

    // 3. The bundle changes to another CA: this process read it once and
    //    keeps what it read, also for a new context and new settings.
    std::fs::copy(proxy.dir.join("other-ca.pem"), &roots).expect("rewrite the bundle");
    let ctx2 = Context::new().expect("context");
    opens(&ctx2, &url, |c| {
        c.set_tls_ciphers(Some("DEFAULT")).expect("ciphers")
    })
    .expect("still nginx's CA: the bundle was not read again");
}
