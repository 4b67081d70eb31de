//! Proxy settings: an HTTP CONNECT (RFC 9110 §9.3.6) or SOCKS5 (RFC 1928,
//! user/password RFC 1929) proxy given as a URL. The tunnel itself is set
//! up by the engine (`engine/tunnel.rs`).

use crate::error::{Error, Result};

/// Which kind of proxy, with its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProxyKind {
    /// HTTP CONNECT; the `Proxy-Authorization` header value, if any.
    Http { authorization: Option<String> },
    /// SOCKS5; user name and password, if any.
    Socks5 {
        credentials: Option<(String, String)>,
    },
}

/// A configured proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    pub(crate) kind: ProxyKind,
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Proxy {
    /// Parses `http://[user:pass@]host:port` or `socks5://[user:pass@]host:port`;
    /// `authorization` (HTTP only) is a whole `Proxy-Authorization` value
    /// and takes precedence over the URL's user and password.
    pub(crate) fn parse(url: &str, authorization: Option<&str>) -> Result<Proxy> {
        let bad = |why: &str| Error::InvalidArgument(format!("proxy {url:?}: {why}"));
        let u = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        let host = match u.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(bad("no host")),
        };
        let port = u.port().ok_or_else(|| bad("no port"))?;
        if u.path() != "/" && !u.path().is_empty() || u.query().is_some() {
            return Err(bad("a proxy URL has no path or query"));
        }
        // The userinfo is percent-encoded (RFC 3986 §2.1, §3.2.1): decode
        // that only; `+` is a plus, not a space (that is form encoding).
        let decode = |what: &str, s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| bad(&format!("the {what} is not UTF-8 once percent-decoded")))
        };
        let user = decode("user name", u.username())?;
        let pass = match u.password() {
            Some(p) => decode("password", p)?,
            None => String::new(),
        };
        if let Some(a) = authorization
            && a.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
        {
            return Err(bad("the Proxy-Authorization value contains CR, LF or NUL"));
        }
        let kind = match u.scheme() {
            "http" => ProxyKind::Http {
                authorization: match authorization {
                    Some(a) if !a.is_empty() => Some(a.to_string()),
                    _ if !user.is_empty() => Some(format!(
                        "Basic {}",
                        base64(format!("{user}:{pass}").as_bytes())
                    )),
                    _ => None,
                },
            },
            "socks5" | "socks5h" => {
                if user.len() > 255 || pass.len() > 255 {
                    return Err(bad("SOCKS5 user names and passwords are at most 255 bytes"));
                }
                ProxyKind::Socks5 {
                    credentials: (!user.is_empty()).then_some((user, pass)),
                }
            }
            other => return Err(bad(&format!("the scheme is {other:?}, not http or socks5"))),
        };
        Ok(Proxy { kind, host, port })
    }
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for c in input.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let v = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (i, o) in v {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn proxy_urls_parse_with_credentials() {
        let p = Proxy::parse("http://us%40er:p%3Ass@127.0.0.1:3128", None).unwrap();
        assert_eq!((p.host.as_str(), p.port), ("127.0.0.1", 3128));
        assert_eq!(
            p.kind,
            ProxyKind::Http {
                authorization: Some(format!("Basic {}", base64(b"us@er:p:ss")))
            }
        );
        let p = Proxy::parse("http://127.0.0.1:3128", Some("Bearer t")).unwrap();
        assert_eq!(
            p.kind,
            ProxyKind::Http {
                authorization: Some("Bearer t".into())
            }
        );
        let p = Proxy::parse("socks5://a+b:c+d@127.0.0.1:1080", None).unwrap();
        assert_eq!(
            p.kind,
            ProxyKind::Socks5 {
                credentials: Some(("a+b".into(), "c+d".into()))
            }
        );
        let p = Proxy::parse("http://a+b:c%2Bd@127.0.0.1:3128", None).unwrap();
        assert_eq!(
            p.kind,
            ProxyKind::Http {
                authorization: Some(format!("Basic {}", base64(b"a+b:c+d")))
            }
        );
        let p = Proxy::parse("socks5://u:p@[::1]:1080", None).unwrap();
        assert_eq!(p.host, "::1");
        assert_eq!(
            p.kind,
            ProxyKind::Socks5 {
                credentials: Some(("u".into(), "p".into()))
            }
        );
        for bad in [
            "ftp://h:1",
            "http://h",
            "socks5://:1",
            "http://h:1/path",
            "nonsense",
        ] {
            assert!(
                matches!(Proxy::parse(bad, None), Err(Error::InvalidArgument(_))),
                "{bad}"
            );
        }
        assert!(Proxy::parse("http://h:1", Some("a\r\nX: y")).is_err());
    }
}
