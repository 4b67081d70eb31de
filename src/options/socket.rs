//! Socket settings of a client: TCP keepalive, `TCP_NODELAY`, the local
//! address to bind, and the connect-to override (the addresses TCP goes
//! to instead of the URL's host).

use crate::error::{Error, Result};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// TCP keepalive probes (`SO_KEEPALIVE` with `TCP_KEEPIDLE`,
/// `TCP_KEEPINTVL`, `TCP_KEEPCNT`, see tcp(7)): after `idle` without
/// traffic the kernel probes every `interval`; after `count` unanswered
/// probes the connection is reset and reported as lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keepalive {
    pub(crate) idle: Duration,
    pub(crate) interval: Duration,
    pub(crate) count: u32,
}

impl Keepalive {
    /// Workerman 5's values (`TcpConnection::TCP_KEEPALIVE_INTERVAL`, 55 s
    /// idle and interval, one probe): a dead peer is found after about
    /// 110 s of silence.
    pub(crate) const WORKERMAN: Keepalive = Keepalive {
        idle: Duration::from_secs(55),
        interval: Duration::from_secs(55),
        count: 1,
    };

    /// Checks the kernel's ranges (tcp(7): idle and interval 1..=32767 s,
    /// count 1..=127).
    pub(crate) fn new(idle_s: u32, interval_s: u32, count: u32) -> Result<Keepalive> {
        if !(1..=32767).contains(&idle_s) || !(1..=32767).contains(&interval_s) {
            return Err(Error::InvalidArgument(format!(
                "TCP keepalive: the idle time ({idle_s} s) and the probe interval \
                 ({interval_s} s) must be 1 to 32767 seconds"
            )));
        }
        if !(1..=127).contains(&count) {
            return Err(Error::InvalidArgument(format!(
                "TCP keepalive: the probe count must be 1 to 127, not {count}"
            )));
        }
        Ok(Keepalive {
            idle: Duration::from_secs(idle_s.into()),
            interval: Duration::from_secs(interval_s.into()),
            count,
        })
    }
}

/// Parses a local address to bind: `IP:PORT`, `[IPv6]:PORT`, or an IP
/// alone (port 0: the kernel picks one).
pub(crate) fn parse_bind_address(s: &str) -> Result<SocketAddr> {
    let s = s.trim();
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let ip = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    ip.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 0))
        .map_err(|_| {
            Error::InvalidArgument(format!(
                "the local address {s:?} is not IP:PORT, [IPv6]:PORT or an IP address \
                 (e.g. 127.0.0.1:0, [::1]:40000)"
            ))
        })
}

/// One entry of a connect-to list: a host (a name, or an IP address,
/// IPv6 without brackets) and an optional port (the URL's when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
}

impl Endpoint {
    /// The IP address, when the host is one.
    pub(crate) fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

/// Parses a connect-to list: comma-separated `HOST[:PORT]` entries
/// (`[IPv6]` in brackets when a port follows). Several entries must all be
/// IP addresses (they are raced as a resolver's answer would be); a single
/// entry may be a host name, resolved at each connect.
pub(crate) fn parse_connect_to(s: &str) -> Result<Vec<Endpoint>> {
    let bad = |why: &str| {
        Error::InvalidArgument(format!(
            "the connect-to address {s:?} {why} (expected HOST[:PORT], [IPv6][:PORT], or \
             several IP[:PORT] separated by commas)"
        ))
    };
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(bad("has an empty entry"));
        }
        let (host, port) = if let Some(rest) = part.strip_prefix('[') {
            let (ip, after) = rest.split_once(']').ok_or_else(|| bad("lacks a ']'"))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("has junk after ']'"))?,
                ),
            };
            if ip.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("has no IPv6 address in brackets"));
            }
            (ip, port)
        } else if part.parse::<IpAddr>().is_ok() {
            (part, None)
        } else {
            match part.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (part, None),
            }
        };
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => Some(p),
                _ => return Err(bad("has a port that is not 1 to 65535")),
            },
        };
        if host.is_empty()
            || host.contains(['[', ']', ':']) && host.parse::<IpAddr>().is_err()
            || host
                .bytes()
                .any(|b| b <= b' ' || b == b'/' || b == b'@' || b >= 0x7f)
        {
            return Err(bad("has no valid host"));
        }
        out.push(Endpoint {
            host: host.to_string(),
            port,
        });
    }
    if out.len() > 1 && out.iter().any(|e| e.ip().is_none()) {
        return Err(bad(
            "lists several entries, which must then all be IP addresses",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_to_forms() {
        let one = parse_connect_to("example.com:8443").unwrap();
        assert_eq!(one[0].host, "example.com");
        assert_eq!(one[0].port, Some(8443));
        let v6 = parse_connect_to("[::1]:80, 127.0.0.1").unwrap();
        assert_eq!(v6[0].host, "::1");
        assert_eq!(v6[1].port, None);
        assert_eq!(parse_connect_to("::1").unwrap()[0].host, "::1");
        assert_eq!(parse_connect_to("name").unwrap()[0].port, None);
        for bad in [
            "",
            "a:0",
            "a:x",
            "[::1",
            "[x]:1",
            "a,b",
            "127.0.0.1,name:1",
            "a b:1",
            ",1.2.3.4",
        ] {
            assert!(parse_connect_to(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn bind_forms() {
        assert_eq!(parse_bind_address("127.0.0.1:5").unwrap().port(), 5);
        assert_eq!(
            parse_bind_address("[::1]:0").unwrap().ip().to_string(),
            "::1"
        );
        assert_eq!(parse_bind_address("::1").unwrap().port(), 0);
        assert_eq!(parse_bind_address("[::1]").unwrap().port(), 0);
        assert!(parse_bind_address("localhost:1").is_err());
        assert!(Keepalive::new(0, 1, 1).is_err());
        assert!(Keepalive::new(1, 1, 128).is_err());
    }
}
