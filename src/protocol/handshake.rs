//! The opening handshake's rules that tungstenite leaves to us (RFC 6455
//! §4.1, RFC 9110 §5): the request we send (the caller's headers, checked;
//! the permessage-deflate offer) and the response head as tungstenite
//! needs it.

use crate::error::{Error, Result};
use crate::options::DeflateOptions;
use std::time::{Duration, SystemTime};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::Request;
use tungstenite::http::{HeaderName, HeaderValue};

/// The opening handshake request for `url` (checked by
/// [`crate::options::Target::parse`]) with the caller's `headers` (checked
/// by [`check_header`]) and, when compression is on, the
/// permessage-deflate offer (RFC 7692 §5).
///
/// Errors: [`Error::InvalidUrl`] when tungstenite does not take the URL;
/// [`Error::InvalidHeader`] for a header it does not take.
pub(crate) fn request(
    url: &str,
    headers: &[(String, String)],
    compression: Option<&DeflateOptions>,
) -> Result<Request> {
    let mut req = url
        .into_client_request()
        .map_err(|e| Error::InvalidUrl(e.to_string()))?;
    for (name, value) in headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| Error::InvalidHeader(format!("{name:?}: {e}")))?;
        let v = HeaderValue::from_bytes(value.as_bytes())
            .map_err(|e| Error::InvalidHeader(format!("the value of header {name:?}: {e}")))?;
        req.headers_mut().insert(n, v);
    }
    if let Some(d) = compression {
        let v = HeaderValue::from_str(&d.offer())
            .map_err(|e| Error::InvalidHeader(format!("Sec-WebSocket-Extensions: {e}")))?;
        req.headers_mut()
            .insert(HeaderName::from_static("sec-websocket-extensions"), v);
    }
    Ok(req)
}

/// Where the response head ends in `raw` (just past the empty line), if
/// it is complete.
pub(crate) fn head_end(raw: &[u8]) -> Option<usize> {
    raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Checks a request header: the name an HTTP token (RFC 9110 §5.6.2), the
/// value what RFC 9110 §5.5 allows (visible ASCII, obs-text, SP and HTAB;
/// no CR, LF, NUL or other control character), and not a header the
/// handshake sets itself. The one place header rules live: the C API and
/// PHP map this refusal.
///
/// Errors: [`Error::InvalidHeader`] naming the header.
pub(crate) fn check_header(name: &str, value: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidHeader("the header name is empty".into()));
    }
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !name.bytes().all(tchar) {
        return Err(Error::InvalidHeader(format!(
            "the header name {name:?} is not an HTTP token (no spaces, colons, CR or LF)"
        )));
    }
    // RFC 9110 §5.5: field-vchar (VCHAR, obs-text 0x80-0xFF) with SP and
    // HTAB between; every other control character is refused (CR and LF
    // would inject headers, NUL cuts C strings).
    if let Some(b) = value
        .bytes()
        .find(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        let what = match b {
            b'\r' => "CR".to_string(),
            b'\n' => "LF".to_string(),
            0 => "NUL".to_string(),
            b => format!("the control character {b:#04x}"),
        };
        return Err(Error::InvalidHeader(format!(
            "the value of header {name:?} contains {what} (RFC 9110 section 5.5 allows visible \
             characters, spaces and tabs)"
        )));
    }
    const RESERVED: [&str; 5] = [
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
    ];
    if RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) {
        return Err(Error::InvalidHeader(format!(
            "the header {name:?} is set by the opening handshake itself"
        )));
    }
    Ok(())
}

/// The response head as tungstenite should see it: a `Connection` header
/// whose token list includes `upgrade` among others (RFC 6455 §4.1 and RFC
/// 9110 §7.6.1 allow `Connection: keep-alive, Upgrade`) becomes
/// `Connection: Upgrade`, since tungstenite 0.30 compares the whole value.
/// Everything else, and the bytes behind the head, stay as they are.
pub(crate) fn normalize_head(raw: &[u8]) -> Vec<u8> {
    let Some(end) = head_end(raw) else {
        return raw.to_vec();
    };
    let Ok(head) = std::str::from_utf8(&raw[..end]) else {
        return raw.to_vec();
    };
    let mut out = String::with_capacity(end);
    for line in head.split_inclusive("\r\n") {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("connection")
        {
            let v = value.trim();
            let listed = v
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
            if listed && !v.eq_ignore_ascii_case("upgrade") {
                out.push_str("Connection: Upgrade\r\n");
                continue;
            }
        }
        out.push_str(line);
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&raw[end..]);
    bytes
}

/// How the body of a refused handshake ends (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    /// No body: 1xx, 204 and 304 answers, or `Content-Length: 0`.
    None,
    /// `Content-Length` bytes.
    Length(usize),
    /// Chunked transfer coding (RFC 9112 §7.1).
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

/// The parsed head of an opening handshake answer other than 101.
pub(crate) struct RefusalHead {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) framing: BodyFraming,
}

/// The head of a response (`head`, up to and including the empty line)
/// when it is a refusal: a well-formed HTTP/1.x head with a status other
/// than 101. `None` for a 101 (tungstenite checks the rest) and for a head
/// that does not parse (tungstenite reports why).
pub(crate) fn refusal(head: &[u8]) -> Option<RefusalHead> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut resp = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(_)) = resp.parse(head) else {
        return None;
    };
    let status = resp.code?;
    if status == 101 {
        return None;
    }
    let headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .map(|h| {
            let v = String::from_utf8_lossy(h.value).trim().to_string();
            (h.name.to_string(), v)
        })
        .collect();
    let value = |name: &str| {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    let chunked = value("transfer-encoding")
        .iter()
        .flat_map(|v| v.split(','))
        .next_back()
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        BodyFraming::None
    } else if chunked {
        BodyFraming::Chunked
    } else {
        match value("content-length").first().map(|v| v.parse::<usize>()) {
            Some(Ok(0)) => BodyFraming::None,
            Some(Ok(n)) => BodyFraming::Length(n),
            _ => BodyFraming::UntilClose,
        }
    };
    Some(RefusalHead {
        status,
        reason: resp.reason.unwrap_or("").to_string(),
        headers,
        framing,
    })
}

/// The body of a refusal from the bytes received after its head so far
/// (`raw`), at most `limit` bytes, chunked coding removed, and whether
/// that is the whole body: its end is in `raw` (or `eof`: the server
/// closed) and it fits in `limit`. Once the excerpt holds `limit` bytes,
/// more bytes change nothing.
pub(crate) fn refusal_body(
    framing: BodyFraming,
    raw: &[u8],
    eof: bool,
    limit: usize,
) -> (Vec<u8>, bool) {
    match framing {
        BodyFraming::None => (Vec::new(), true),
        BodyFraming::Length(n) => {
            let have = raw.len().min(n);
            (raw[..have.min(limit)].to_vec(), have == n && n <= limit)
        }
        BodyFraming::UntilClose => (
            raw[..raw.len().min(limit)].to_vec(),
            eof && raw.len() <= limit,
        ),
        BodyFraming::Chunked => {
            let mut out = Vec::new();
            let mut rest = raw;
            let mut cut = false;
            loop {
                let Ok(httparse::Status::Complete((used, size))) = httparse::parse_chunk_size(rest)
                else {
                    return (out, false);
                };
                if size == 0 {
                    return (out, !cut);
                }
                rest = &rest[used..];
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                let take = size.min(rest.len());
                let room = limit.saturating_sub(out.len());
                cut |= take > room;
                out.extend_from_slice(&rest[..take.min(room)]);
                if take < size || rest.len() < size + 2 {
                    return (out, false);
                }
                rest = &rest[size + 2..];
            }
        }
    }
}

/// A `Retry-After` value (RFC 9110 §10.2.3) as a delay from `now`:
/// delay-seconds (a non-negative integer), or an HTTP date in any of the
/// three formats a recipient must accept (RFC 9110 §5.6.7); a date in the
/// past is a delay of 0. `None` for anything else.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than u64 holds: as long as can be (capped later).
        return Some(Duration::from_secs(v.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_the_three_date_formats() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:30 GMT").unwrap();
        let s = |v| parse_retry_after(v, now).map(|d| d.as_secs());
        assert_eq!(s("120"), Some(120));
        assert_eq!(s(" 0 "), Some(0));
        assert_eq!(s("Sun, 06 Nov 1994 08:49:37 GMT"), Some(7));
        assert_eq!(s("Sunday, 06-Nov-94 08:49:40 GMT"), Some(10));
        assert_eq!(s("Sun Nov  6 08:50:30 1994"), Some(60));
        assert_eq!(s("Sun, 06 Nov 1994 08:00:00 GMT"), Some(0), "past: now");
        assert_eq!(s("-5"), None);
        assert_eq!(s("soon"), None);
        assert_eq!(s(""), None);
    }

    #[test]
    fn a_refusal_head_gives_status_reason_headers_and_framing() {
        let h = refusal(b"HTTP/1.1 429 Slow Down\r\nRetry-After: 3\r\nContent-Length: 12\r\n\r\n")
            .unwrap();
        assert_eq!((h.status, h.reason.as_str()), (429, "Slow Down"));
        assert_eq!(h.headers[0], ("Retry-After".into(), "3".into()));
        assert_eq!(h.framing, BodyFraming::Length(12));
        let h = refusal(b"HTTP/1.1 403 \r\nTransfer-Encoding: gzip, chunked\r\n\r\n").unwrap();
        assert_eq!((h.reason.as_str(), h.framing), ("", BodyFraming::Chunked));
        let h = refusal(b"HTTP/1.0 500 Oops\r\n\r\n").unwrap();
        assert_eq!(h.framing, BodyFraming::UntilClose);
        let h = refusal(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n").unwrap();
        assert_eq!(h.framing, BodyFraming::None);
        assert!(refusal(b"HTTP/1.1 101 Switching Protocols\r\n\r\n").is_none());
        assert!(refusal(b"garbage\r\n\r\n").is_none());
    }

    #[test]
    fn a_refusal_body_is_cut_at_its_end_or_the_limit_and_unchunked() {
        let b = |f, raw: &[u8], eof, limit| refusal_body(f, raw, eof, limit);
        assert_eq!(
            b(BodyFraming::Length(3), b"abcdef", false, 10),
            (b"abc".to_vec(), true)
        );
        assert_eq!(
            b(BodyFraming::Length(5), b"abc", false, 10),
            (b"abc".to_vec(), false)
        );
        assert_eq!(
            b(BodyFraming::Length(5), b"abcde", false, 2),
            (b"ab".to_vec(), false)
        );
        assert_eq!(
            b(BodyFraming::UntilClose, b"abc", false, 10),
            (b"abc".to_vec(), false)
        );
        assert_eq!(
            b(BodyFraming::UntilClose, b"abc", true, 2),
            (b"ab".to_vec(), false)
        );
        assert_eq!(
            b(BodyFraming::UntilClose, b"abc", true, 3),
            (b"abc".to_vec(), true)
        );
        let chunked = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
        assert_eq!(
            b(BodyFraming::Chunked, chunked, false, 100),
            (b"hello world".to_vec(), true)
        );
        assert_eq!(
            b(BodyFraming::Chunked, &chunked[..21], false, 100),
            (b"hello w".to_vec(), false)
        );
        assert_eq!(
            b(BodyFraming::Chunked, chunked, false, 4),
            (b"hell".to_vec(), false)
        );
    }

    #[test]
    fn a_connection_token_list_with_upgrade_is_normalized_and_the_rest_kept() {
        let raw = b"HTTP/1.1 101 OK\r\nconnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi";
        let n = normalize_head(raw);
        assert_eq!(
            n,
            b"HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi"
                .to_vec()
        );
        let plain = b"HTTP/1.1 101 OK\r\nConnection: upgrade\r\n\r\n";
        assert_eq!(normalize_head(plain), plain.to_vec());
        let other = b"HTTP/1.1 101 OK\r\nConnection: keep-alive\r\n\r\n";
        assert_eq!(
            normalize_head(other),
            other.to_vec(),
            "no upgrade token: left for tungstenite to refuse"
        );
    }
}
