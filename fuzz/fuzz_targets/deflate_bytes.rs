//! Fuzz target: arbitrary frames from a server that accepted
//! permessage-deflate (RFC 7692), fed to the real client engine over
//! loopback through the public API: the receive filter that inflates
//! compressed messages below tungstenite (src/engine/deflate.rs).
//!
//! Input: the first byte is a set of flags, the rest is what the server
//! writes after its `101` head:
//! - bits 0-1: the server's answer: `permessage-deflate`, with
//!   `server_no_context_takeover`, with `server_max_window_bits=9`, or
//!   with `client_no_context_takeover; client_max_window_bits=8`;
//! - bit 2: the client's incoming message limit is 64 bytes;
//! - bit 3: the client answers every message with a (compressed) message;
//! - bit 4: the client starts the closing handshake after `Open`;
//! - bit 5: the server closes at once (reset) instead of half-closing;
//! - bit 6: the server writes in two parts with a pause;
//! - bit 7: the client pauses reading at `Open` and resumes 2 ms later.
//!
//! Checked: nothing panics, every input ends in `Closed` within the
//! deadline, the events are in the documented order (see
//! `common::check_order`), nothing comes after `Closed`.
#![no_main]

mod common;

use common::{ClientPlan, ServerPlan};
use libfuzzer_sys::fuzz_target;

const ANSWERS: [&str; 4] = [
    "permessage-deflate",
    "permessage-deflate; server_no_context_takeover",
    "permessage-deflate; server_max_window_bits=9",
    "permessage-deflate; client_no_context_takeover; client_max_window_bits=8",
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let rest = rest.to_vec();
    let answer = ANSWERS[usize::from(flags & 3)];
    let client = ClientPlan {
        queued_message: false,
        small_limits: flags & 4 != 0,
        echo_back: flags & 8 != 0,
        close_after_open: flags & 16 != 0,
        pause_after_open: flags & 128 != 0,
    };
    let server = ServerPlan {
        hard_close: flags & 32 != 0,
        split: flags & 64 != 0,
    };
    common::run(
        client,
        |c| {
            c.set_compression(Some(wsc::DeflateOptions::default()))
                .expect("compression");
        },
        Box::new(move |mut s| {
            let Some(request) = common::read_request_head(&mut s) else {
                return;
            };
            let head = String::from_utf8_lossy(&common::response_101(&request)).into_owned();
            let head = head.strip_suffix("\r\n").unwrap_or(&head);
            let mut out = format!("{head}Sec-WebSocket-Extensions: {answer}\r\n\r\n").into_bytes();
            out.extend_from_slice(&rest);
            common::write_and_close(s, &out, server);
        }),
    );
});
