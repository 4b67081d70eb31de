//! The opening handshake's rules that tungstenite leaves to us (RFC 6455
//! §4.1, RFC 9110 §5): the request we send (the caller's headers, checked;
//! the permessage-deflate offer) and the response head as tungstenite
//! needs it.

use crate::error::{Error, Result};
use crate::options::DeflateOptions;
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

#[cfg(test)]
mod tests {
    use super::*;

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
