//! The permessage-deflate offer's answer (RFC 7692 §5, §7.1): which
//! parameters are in force.

use crate::options::DeflateOptions;

/// The parameters in force after the server accepted the offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Negotiated {
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_no_context_takeover: bool,
    /// Our compressor's window, 8..=15 (8: stored blocks only, see
    /// `Deflater`).
    pub(crate) client_max_window_bits: u8,
    /// The server's window, 8..=15.
    pub(crate) server_max_window_bits: u8,
    pub(crate) level: u8,
    /// The server's answer as it came (the `Sec-WebSocket-Extensions`
    /// value), for the caller.
    pub(crate) answer: String,
}

/// A window-bits value: a decimal 8..=15 without leading zeros, possibly
/// quoted (§7.1.2.1, §7.1.2.2; RFC 6455 §9.1 allows a quoted-string).
fn window_bits(name: &str, v: Option<&str>) -> Result<u8, String> {
    let raw = v.ok_or(format!("{name} needs a value"))?;
    let v = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    match v {
        "8" | "9" | "10" | "11" | "12" | "13" | "14" | "15" => Ok(v.parse().unwrap_or(15)),
        _ => Err(format!("{name}={raw} is not 8..15")),
    }
}

/// Checks the server's `Sec-WebSocket-Extensions` answer against our offer
/// (RFC 7692 §7.1, RFC 6455 §9.1): `Ok(None)` when the server declined
/// (no extension selected), the parameters in force when it accepted, and
/// an error naming the fault when the answer selects anything not offered,
/// repeats or misuses a parameter, or asks for more than offered.
/// `offer` is `None` when nothing was offered: then any extension is refused.
pub(crate) fn negotiate(
    offer: Option<&DeflateOptions>,
    answers: &[String],
) -> Result<Option<Negotiated>, String> {
    let joined = answers.join(", ");
    let elements: Vec<&str> = joined
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if elements.is_empty() {
        return Ok(None);
    }
    let Some(offer) = offer else {
        return Err(format!(
            "the server selected the extension {joined:?}, which was not offered"
        ));
    };
    if elements.len() > 1 {
        return Err(format!(
            "the server selected {} extensions ({joined:?}); only permessage-deflate was offered, once",
            elements.len()
        ));
    }
    let mut parts = elements[0].split(';').map(str::trim);
    let name = parts.next().unwrap_or("");
    if !name.eq_ignore_ascii_case("permessage-deflate") {
        return Err(format!(
            "the server selected the extension {name:?}, which was not offered (only permessage-deflate was)"
        ));
    }
    let mut n = Negotiated {
        client_no_context_takeover: offer.client_no_context_takeover,
        server_no_context_takeover: false,
        client_max_window_bits: offer.client_max_window_bits.unwrap_or(15),
        server_max_window_bits: 15,
        level: offer.effective_level(),
        answer: elements[0].to_string(),
    };
    let mut seen: Vec<String> = Vec::new();
    for p in parts {
        if p.is_empty() {
            continue;
        }
        let (key, value) = match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (p.to_ascii_lowercase(), None),
        };
        if seen.contains(&key) {
            return Err(format!(
                "permessage-deflate answer repeats {key} (RFC 7692 section 7.1)"
            ));
        }
        seen.push(key.clone());
        match key.as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" => {
                if value.is_some() {
                    return Err(format!(
                        "permessage-deflate answer gives {key} a value; it has none (RFC 7692 section 7.1.1)"
                    ));
                }
                if key == "server_no_context_takeover" {
                    n.server_no_context_takeover = true;
                } else {
                    n.client_no_context_takeover = true;
                }
            }
            "server_max_window_bits" => {
                let b = window_bits(&key, value)?;
                if let Some(asked) = offer.server_max_window_bits
                    && b > asked
                {
                    return Err(format!(
                        "permessage-deflate answer server_max_window_bits={b} exceeds the {asked} offered \
                         (RFC 7692 section 7.1.2.1)"
                    ));
                }
                n.server_max_window_bits = b;
            }
            "client_max_window_bits" => {
                // Offered always (with or without a value).
                let b = window_bits(&key, value)?;
                if let Some(mine) = offer.client_max_window_bits
                    && b > mine
                {
                    return Err(format!(
                        "permessage-deflate answer client_max_window_bits={b} exceeds the {mine} offered \
                         (RFC 7692 section 7.1.2.2)"
                    ));
                }
                n.client_max_window_bits = b;
            }
            other => {
                return Err(format!(
                    "permessage-deflate answer has the unknown parameter {other:?} (RFC 7692 section 7.1)"
                ));
            }
        }
    }
    if offer.server_no_context_takeover && !n.server_no_context_takeover {
        return Err(
            "the server accepted permessage-deflate without the server_no_context_takeover \
             that was offered (RFC 7692 section 7.1.1.1)"
                .into(),
        );
    }
    if offer.server_max_window_bits.is_some() && !seen.iter().any(|k| k == "server_max_window_bits")
    {
        return Err(
            "the server accepted permessage-deflate without the server_max_window_bits \
             that was offered (RFC 7692 section 7.1.2.1)"
                .into(),
        );
    }
    Ok(Some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> DeflateOptions {
        DeflateOptions::default()
    }

    #[test]
    fn the_offer_lists_the_parameters() {
        assert_eq!(opts().offer(), "permessage-deflate; client_max_window_bits");
        let o = DeflateOptions {
            client_no_context_takeover: true,
            server_no_context_takeover: true,
            client_max_window_bits: Some(10),
            server_max_window_bits: Some(9),
            level: 1,
        };
        assert_eq!(
            o.offer(),
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover; \
             client_max_window_bits=10; server_max_window_bits=9"
        );
        assert!(
            DeflateOptions {
                client_max_window_bits: Some(8),
                ..opts()
            }
            .check()
            .is_err()
        );
        assert!(
            DeflateOptions {
                level: 10,
                ..opts()
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn answers_are_checked_against_the_offer() {
        let ok = |a: &str| negotiate(Some(&opts()), &[a.to_string()]);
        assert_eq!(ok("").unwrap(), None);
        let n = ok("permessage-deflate; server_no_context_takeover; client_max_window_bits=\"9\"")
            .unwrap()
            .unwrap();
        assert!(n.server_no_context_takeover && !n.client_no_context_takeover);
        assert_eq!(
            (n.client_max_window_bits, n.server_max_window_bits),
            (9, 15)
        );
        assert_eq!(
            ok("permessage-deflate; client_max_window_bits=8")
                .unwrap()
                .unwrap()
                .client_max_window_bits,
            8
        );
        for bad in [
            "x-webkit-deflate-frame",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; foo",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=09",
            "permessage-deflate; client_no_context_takeover=1",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
        assert!(negotiate(None, &["permessage-deflate".into()]).is_err());
        let asked = DeflateOptions {
            server_no_context_takeover: true,
            server_max_window_bits: Some(10),
            client_max_window_bits: Some(12),
            ..opts()
        };
        let with = |a: &str| negotiate(Some(&asked), &[a.to_string()]);
        assert!(with("permessage-deflate; server_max_window_bits=10").is_err());
        assert!(with("permessage-deflate; server_no_context_takeover").is_err());
        assert!(
            with("permessage-deflate; server_no_context_takeover; server_max_window_bits=11")
                .is_err()
        );
        assert!(with("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=13").is_err());
        let n = with("permessage-deflate; server_no_context_takeover; server_max_window_bits=9")
            .unwrap()
            .unwrap();
        assert_eq!(
            (n.client_max_window_bits, n.server_max_window_bits),
            (12, 9)
        );
    }
}
