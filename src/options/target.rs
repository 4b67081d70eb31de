//! The target URL of a client (RFC 6455 §3).

use crate::error::{Error, Result};
use tungstenite::client::IntoClientRequest;

/// The parsed target of a client.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The URL as serialized by `url` (given to tungstenite for the request).
    pub(crate) url: String,
    /// The host: a name, or an IP address (IPv6 without brackets).
    pub(crate) host: String,
    /// The port in the URL, if any.
    pub(crate) explicit_port: Option<u16>,
    /// `wss://`: TLS whatever the options say.
    pub(crate) wss: bool,
}

impl Target {
    /// Parses a `ws://` or `wss://` URL (RFC 6455 §3).
    ///
    /// Errors: [`Error::InvalidUrl`]: does not parse, another scheme, no
    /// host, a fragment.
    pub(crate) fn parse(s: &str) -> Result<Target> {
        let url = url::Url::parse(s).map_err(|e| Error::InvalidUrl(format!("{s:?}: {e}")))?;
        let wss = match url.scheme() {
            "ws" => false,
            "wss" => true,
            other => {
                return Err(Error::InvalidUrl(format!(
                    "{s:?}: the scheme is {other:?}, not ws or wss"
                )));
            }
        };
        if url.fragment().is_some() {
            return Err(Error::InvalidUrl(format!(
                "{s:?}: a WebSocket URL must not have a fragment (RFC 6455 section 3)"
            )));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(Error::InvalidUrl(format!("{s:?}: no host"))),
        };
        // Check now that tungstenite will accept it as a request.
        url.as_str()
            .into_client_request()
            .map_err(|e| Error::InvalidUrl(format!("{s:?}: {e}")))?;
        Ok(Target {
            url: url.as_str().to_string(),
            host,
            explicit_port: url.port(),
            wss,
        })
    }

    /// The port to connect to: the URL's, or 443 with TLS, 80 without.
    pub(crate) fn port(&self, tls: bool) -> u16 {
        self.explicit_port.unwrap_or(if tls { 443 } else { 80 })
    }
}
