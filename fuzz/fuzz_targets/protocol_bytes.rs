//! Fuzz target: the sans-I/O protocol layer (src/protocol/) driven by
//! bytes alone, no sockets: the frame-header reader, the UTF-8 watch, the
//! permessage-deflate inflater and negotiation, the response-head
//! normaliser, a refused handshake's head and body excerpt.
//!
//! Input: byte 0 picks the parser (low 3 bits) and flags (the rest); byte
//! 1 is the length N of the piece-size list that follows (the sizes the
//! bytes arrive in); the rest is the data.
//!
//! Checked (assertions in `wsc::fuzzing`): nothing panics; the frame-header
//! reader and the UTF-8 watch give the same result whatever pieces the bytes
//! come in; negotiation accepts only RFC 7692 window sizes; normalising a
//! response head is idempotent and keeps what follows the head; a
//! refusal's body excerpt stays within its limit and grows as a prefix.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let [select, n, rest @ ..] = input else {
        return;
    };
    let n = usize::from(*n).min(rest.len());
    let (sizes, data) = rest.split_at(n);
    match select & 7 {
        0 => wsc::fuzzing::frame_headers(data, sizes),
        1 => wsc::fuzzing::utf8_watch(data, sizes),
        2 | 3 => wsc::fuzzing::inflate(data, sizes, select >> 3),
        4 => wsc::fuzzing::negotiation(data),
        6 => wsc::fuzzing::refusal(data, sizes),
        _ => wsc::fuzzing::response_head(data),
    }
});
