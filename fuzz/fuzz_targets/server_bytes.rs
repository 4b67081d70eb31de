//! Fuzz target: arbitrary bytes as the server's side of a WebSocket
//! connection (opening handshake response and frames), fed to the real
//! client engine over loopback through the public API.
//!
//! Input: the first byte is a set of flags, the rest is what the server
//! writes after reading the client's request:
//! - bit 0: prefix the rest with a valid `101 Switching Protocols` head for
//!   the request's key (the rest is then frames); else the rest is raw;
//! - bit 1: the client sends a message before connecting (queued);
//! - bit 2: the client's incoming message limit is 64 bytes;
//! - bit 3: the client answers every message with a message;
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

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let rest = rest.to_vec();
    let with_101 = flags & 1 != 0;
    let client = ClientPlan {
        queued_message: flags & 2 != 0,
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
        |_| {},
        Box::new(move |mut s| {
            let Some(request) = common::read_request_head(&mut s) else {
                return;
            };
            let mut out = if with_101 {
                common::response_101(&request)
            } else {
                Vec::new()
            };
            out.extend_from_slice(&rest);
            common::write_and_close(s, &out, server);
        }),
    );
});
