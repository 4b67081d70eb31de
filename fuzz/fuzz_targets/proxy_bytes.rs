//! Fuzz target: arbitrary bytes as a proxy's answers (HTTP CONNECT or
//! SOCKS5, RFC 1928/1929), fed to the real client engine over loopback.
//!
//! Input: the first byte is a set of flags, the rest is split at each
//! `"\n--\n"` into the proxy's answers: the server reads once from the
//! client (its CONNECT request, SOCKS5 greeting, authentication, connect
//! request; waiting at most 10 ms, as the client may be waiting for more of
//! the previous answer) and writes the next answer, in turn.
//! - bit 0: SOCKS5 (else HTTP CONNECT);
//! - bit 1: with a user name and password;
//! - bit 2: after the answers, play the target too: read the opening
//!   handshake request and answer a valid 101, so that the tunnel can
//!   reach `Open`;
//! - bit 3: the server closes at once (reset) instead of half-closing.
//!
//! Checked as in `server_bytes`: no panic, `Closed` within the deadline,
//! the documented event order.
#![no_main]

mod common;

use common::{ClientPlan, ServerPlan};
use libfuzzer_sys::fuzz_target;
use std::io::{Read, Write};
use std::time::Duration;

const SEPARATOR: &[u8] = b"\n--\n";

fn split(mut rest: &[u8]) -> Vec<Vec<u8>> {
    let mut parts = Vec::new();
    while let Some(at) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        parts.push(rest[..at].to_vec());
        rest = &rest[at + SEPARATOR.len()..];
    }
    parts.push(rest.to_vec());
    parts
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let answers = split(rest);
    if answers.len() > 8 {
        return;
    }
    let socks = flags & 1 != 0;
    let credentials = flags & 2 != 0;
    let play_target = flags & 4 != 0;
    let server = ServerPlan {
        hard_close: flags & 8 != 0,
        split: false,
    };
    let addr = common::addr();
    let proxy = match (socks, credentials) {
        (false, false) => format!("http://{addr}"),
        (false, true) => format!("http://user:p%40ss@{addr}"),
        (true, false) => format!("socks5://{addr}"),
        (true, true) => format!("socks5://user:pass@{addr}"),
    };
    common::run(
        ClientPlan::default(),
        |c| c.set_proxy(Some(&proxy), None).expect("proxy URL"),
        Box::new(move |mut s| {
            let _ = s.set_read_timeout(Some(Duration::from_millis(10)));
            let mut buf = [0u8; 4096];
            for answer in &answers {
                match s.read(&mut buf) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => return,
                }
                if s.write_all(answer).is_err() {
                    return;
                }
            }
            if play_target {
                // The client sends its request at once when the tunnel is
                // up; when it is not, it is waiting for the proxy.
                let _ = s.set_read_timeout(Some(Duration::from_millis(30)));
                if let Some(request) = common::read_request_head(&mut s) {
                    let _ = s.write_all(&common::response_101(&request));
                }
            }
            common::write_and_close(s, &[], server);
        }),
    );
});
