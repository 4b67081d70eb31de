//! Entry points for the fuzz targets (`fuzz/fuzz_targets/protocol_bytes.rs`):
//! the parsers of this layer driven by bytes alone, at memory speed, with
//! the invariants a caller relies on checked by assertions. Not part of the
//! supported API (hidden from the docs, may change without notice).

use super::deflate::{Inflater, negotiate};
use super::frame::HeaderReader;
use super::handshake::normalize_head;
use super::utf8::Utf8Watch;
use crate::options::DeflateOptions;

/// Splits `data` into pieces whose sizes come from `sizes` (cycled; 0
/// read as 1).
fn pieces<'a>(data: &'a [u8], sizes: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = data;
    let mut i = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = sizes
            .get(i % sizes.len().max(1))
            .map_or(rest.len(), |&s| usize::from(s.max(1)));
        i += 1;
        let (a, b) = rest.split_at(n.min(rest.len()));
        rest = b;
        Some(a)
    })
}

/// The UTF-8 watch: whatever the pieces the bytes arrive in, the verdict,
/// the bytes handed up (text rewritten as binary) and the queued message
/// kinds are the same as for the bytes in one piece.
pub fn utf8_watch(data: &[u8], sizes: &[u8]) {
    let mut whole_out = data.to_vec();
    let mut w = Utf8Watch::default();
    let whole = w.feed(&mut whole_out);
    let whole_kinds: Vec<_> = std::iter::from_fn(|| w.next_message_type()).collect();
    if let Err(at) = whole {
        whole_out.truncate(at);
    }
    let mut w = Utf8Watch::default();
    let mut out = Vec::new();
    let mut ok = true;
    for p in pieces(data, sizes) {
        let mut p = p.to_vec();
        if let Err(at) = w.feed(&mut p) {
            out.extend_from_slice(&p[..at]);
            ok = false;
            break;
        }
        out.extend_from_slice(&p);
    }
    let kinds: Vec<_> = std::iter::from_fn(|| w.next_message_type()).collect();
    assert_eq!(
        whole.is_ok(),
        ok,
        "the verdict depends on how the bytes arrive"
    );
    if ok {
        assert_eq!(whole_out, out, "the bytes handed up depend on the pieces");
        assert_eq!(whole_kinds, kinds, "the message kinds depend on the pieces");
    }
}

/// The frame-header reader: headers read in pieces equal the headers read
/// whole, and every header fits its encoding.
pub fn frame_headers(data: &[u8], sizes: &[u8]) {
    let mut whole = Vec::new();
    let mut r = HeaderReader::default();
    let mut input = data;
    while let Some(h) = r.read(&mut input) {
        assert!(h.raw_len <= super::frame::MAX_HEADER);
        whole.push(h);
    }
    let mut pieced = Vec::new();
    let mut r = HeaderReader::default();
    for mut p in pieces(data, sizes) {
        while let Some(h) = r.read(&mut p) {
            pieced.push(h);
        }
    }
    assert_eq!(whole, pieced);
}

/// The inflater, fed server bytes in pieces: it never panics, and no
/// output frame it hands up is larger than its output chunk plus a header.
pub fn inflate(data: &[u8], sizes: &[u8], flags: u8) {
    let offer = DeflateOptions::default();
    let answer = match flags & 3 {
        0 => "permessage-deflate",
        1 => "permessage-deflate; server_no_context_takeover",
        2 => "permessage-deflate; server_max_window_bits=9",
        _ => "permessage-deflate; client_no_context_takeover; client_max_window_bits=8",
    };
    let n = negotiate(Some(&offer), &[answer.to_string()])
        .expect("a valid answer")
        .expect("negotiated");
    let max = if flags & 4 != 0 { 64 } else { 1 << 20 };
    let mut inf = Inflater::new(&n, max);
    let mut out = [0u8; 32 * 1024];
    for p in pieces(data, sizes) {
        let buf = inf.input_buffer();
        let k = p.len().min(buf.len());
        buf[..k].copy_from_slice(&p[..k]);
        inf.input_filled(k);
        // Bounded: each step consumes input or produces output.
        for _ in 0..100_000 {
            if inf.has_output() {
                inf.take_output(&mut out);
                continue;
            }
            if inf.needs_input() {
                break;
            }
            if inf.step().is_err() {
                return;
            }
        }
    }
}

/// The check of the server's permessage-deflate answer: never panics, and
/// what it accepts fits RFC 7692's ranges.
pub fn negotiation(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let answers: Vec<String> = text.split('\n').map(str::to_string).collect();
    if let Ok(Some(n)) = negotiate(Some(&DeflateOptions::default()), &answers) {
        assert!((8..=15).contains(&n.client_max_window_bits));
        assert!((8..=15).contains(&n.server_max_window_bits));
    }
}

/// The response-head normaliser: never panics, keeps the bytes after the
/// head, and is idempotent.
pub fn response_head(data: &[u8]) {
    let once = normalize_head(data);
    assert_eq!(normalize_head(&once), once, "normalising twice changes it");
    if let Some(end) = super::handshake::head_end(data) {
        assert!(
            once.ends_with(&data[end..]),
            "the bytes after the head changed"
        );
    }
}

/// A refused handshake's head and body excerpt (the head, up to its empty
/// line, then the body bytes): parsing never panics (nor does reading
/// `Retry-After` from any header); the excerpt never exceeds its limit;
/// as the body arrives in pieces, each excerpt is a prefix of the one of
/// the whole body, and once complete it stays complete.
pub fn refusal(data: &[u8], sizes: &[u8]) {
    use super::handshake::{head_end, parse_retry_after, refusal, refusal_body};
    let Some(end) = head_end(data) else {
        return;
    };
    let Some(head) = refusal(&data[..end]) else {
        return;
    };
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
    for (_, value) in &head.headers {
        let _ = parse_retry_after(value, now);
    }
    const LIMIT: usize = 64;
    let raw = &data[end..];
    let (whole, whole_done) = refusal_body(head.framing, raw, false, LIMIT);
    assert!(whole.len() <= LIMIT, "the excerpt exceeds its limit");
    let mut have = 0;
    let mut done_before = false;
    for piece in pieces(raw, sizes) {
        have += piece.len();
        let (part, done) = refusal_body(head.framing, &raw[..have], false, LIMIT);
        assert!(
            whole.starts_with(&part),
            "a partial excerpt is not a prefix"
        );
        assert!(!done_before || done, "a complete body became incomplete");
        done_before |= done;
    }
    assert_eq!(done_before || raw.is_empty(), whole_done || raw.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::frame::tests::server_frame;

    #[test]
    fn the_fuzzing_entry_points_hold_on_ordinary_input() {
        let mut text = server_frame(0x81, "κόσμε".as_bytes());
        text.extend(server_frame(0x01, b"he"));
        text.extend(server_frame(0x89, b"p"));
        text.extend(server_frame(0x80, b"llo"));
        for sizes in [&[][..], &[1], &[2, 5, 1], &[255]] {
            frame_headers(&text, sizes);
            utf8_watch(&text, sizes);
            utf8_watch(&server_frame(0x81, b"ab\xf4\x90\x80\x80"), sizes);
            for flags in 0..8 {
                inflate(
                    &server_frame(0xc1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0]),
                    sizes,
                    flags,
                );
            }
        }
        negotiation(b"permessage-deflate; client_max_window_bits=10\npermessage-deflate");
        response_head(b"HTTP/1.1 101 OK\r\nconnection: keep-alive, Upgrade\r\n\r\n\x81\x02hi");
        for sizes in [&[][..], &[1], &[3, 7]] {
            refusal(
                b"HTTP/1.1 429 Slow\r\nRetry-After: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                sizes,
            );
            refusal(b"HTTP/1.1 403 No\r\nContent-Length: 100\r\n\r\nabc", sizes);
        }
    }
}
