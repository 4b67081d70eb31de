//! TLS for `wss://` (and `ws://` with TLS on): one OpenSSL client
//! configuration (`SslContext`) per distinct set of TLS settings, built
//! once per context and shared by every connection that uses it, with a
//! client session cache for resumption; the per-connection checks
//! (certificate name without chain verification, pinned fingerprints);
//! readable error texts. See docs/tls.md.
//!
//! The settings map onto PHP's `ssl` stream context options, with PHP's
//! meaning (ext/openssl's xp_ssl.c): `verify_peer`, `verify_peer_name`,
//! `allow_self_signed`, `cafile`, `capath`, `peer_name`, `local_cert`,
//! `local_pk`, `passphrase`, `peer_fingerprint`, `ciphers`,
//! `security_level`, `SNI_enabled`, `crypto_method`.

use crate::error::{Error, Reason, TlsFault, describe_stack};
use crate::options::{Fingerprint, TlsSettings, TlsVersion};
use mio::net::TcpStream;
use openssl::ssl::{
    HandshakeError, Ssl, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslSession,
    SslSessionCacheMode, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use openssl::x509::store::{X509Lookup, X509StoreBuilder};
use openssl::x509::verify::X509CheckFlags;
use parking_lot::Mutex;
use std::collections::HashMap;

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// The per-connection side of a TLS connect.
pub(crate) struct Peer<'a> {
    /// The name for SNI and the name check (peer name or the URL's host).
    pub(crate) name: &'a str,
    /// The server's host and port (the session cache's key, with `name`).
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    /// Send SNI (PHP's `SNI_enabled`); never for an IP address.
    pub(crate) sni: bool,
    /// Check the name (PHP's `verify_peer_name`).
    pub(crate) verify_name: bool,
    /// Resume the peer's last session, and keep this one's.
    pub(crate) resume: bool,
}

/// Sessions kept per configuration (each ~2-4 KiB with the server's
/// certificate): past it, those of an arbitrary peer are forgotten.
const MAX_SESSIONS: usize = 8192;

/// Sessions kept per peer: as many connections to one server can resume
/// at once (a TLS 1.3 ticket is used once, RFC 8446 §C.4).
const MAX_SESSIONS_PER_PEER: usize = 1024;

/// Configurations kept per context; past it, an arbitrary one is
/// forgotten (connections using it keep their own reference).
const MAX_CONFIGS: usize = 256;

/// Sessions by peer key (name, host, port); the newest last.
#[derive(Default)]
struct Sessions {
    by_peer: HashMap<String, Vec<SslSession>>,
    count: usize,
}

impl Sessions {
    fn put(&mut self, key: &str, session: SslSession) {
        if self.count >= MAX_SESSIONS
            && let Some(k) = self.by_peer.keys().find(|k| *k != key).cloned()
        {
            let gone = self.by_peer.remove(&k).map_or(0, |v| v.len());
            self.count -= gone;
        }
        let v = self.by_peer.entry(key.to_string()).or_default();
        if v.len() >= MAX_SESSIONS_PER_PEER {
            v.remove(0);
            self.count -= 1;
        }
        v.push(session);
        self.count += 1;
    }

    /// The newest session of `key`, taken out: each is offered once.
    fn take(&mut self, key: &str) -> Option<SslSession> {
        let v = self.by_peer.get_mut(key)?;
        let s = v.pop();
        if s.is_some() {
            self.count -= 1;
        }
        if v.is_empty() {
            self.by_peer.remove(key);
        }
        s
    }
}

/// One shared OpenSSL client configuration and its session cache.
pub(crate) struct TlsConfig {
    ctx: SslContext,
    sessions: Arc<Mutex<Sessions>>,
}

/// The configurations of a context, by settings.
#[derive(Default)]
pub(crate) struct TlsCache {
    configs: HashMap<TlsSettings, Arc<TlsConfig>>,
    /// Configurations built so far (for tests and the docs' claims).
    pub(crate) built: u64,
}

impl TlsCache {
    /// The configuration for `s`, built on first use.
    pub(crate) fn get(&mut self, s: &TlsSettings) -> crate::Result<Arc<TlsConfig>> {
        if let Some(c) = self.configs.get(s) {
            return Ok(c.clone());
        }
        let c = Arc::new(
            build(s).map_err(|e| Error::Tls(Reason::new(TlsFault::Setup, describe_stack(&e))))?,
        );
        if self.configs.len() >= MAX_CONFIGS
            && let Some(k) = self.configs.keys().next().cloned()
        {
            self.configs.remove(&k);
        }
        self.built += 1;
        self.configs.insert(s.clone(), c.clone());
        Ok(c)
    }
}

/// The ex-data slot of an `Ssl` holding its session cache key.
fn session_key_index() -> Result<openssl::ex_data::Index<Ssl, String>, openssl::error::ErrorStack> {
    static INDEX: OnceLock<openssl::ex_data::Index<Ssl, String>> = OnceLock::new();
    if let Some(i) = INDEX.get() {
        return Ok(*i);
    }
    let i = Ssl::new_ex_index::<String>()?;
    Ok(*INDEX.get_or_init(|| i))
}

/// The system's roots (the default file: `SSL_CERT_FILE`, else OpenSSL's
/// compiled-in path or, with OpenSSL built in, the probed system file),
/// parsed once per process; the default folder is
/// looked up lazily by each configuration.
fn system_roots() -> &'static [X509] {
    static ROOTS: OnceLock<Vec<X509>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let Ok(mut b) = X509StoreBuilder::new() else {
            return Vec::new();
        };
        // Only the file is read here; OpenSSL ignores a missing one.
        let file = std::env::var_os("SSL_CERT_FILE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(default_cert_file);
        if let Ok(lookup) = b.add_lookup(X509Lookup::file())
            && let Some(f) = file.to_str()
        {
            let _ = lookup.load_cert_file(f, openssl::ssl::SslFiletype::PEM);
        }
        b.build().all_certificates().into_iter().collect()
    })
}

fn default_cert_file() -> std::path::PathBuf {
    // An OpenSSL built into libwsc has no usable default (see ca_store.rs).
    if let Some(f) = super::ca_store::system_cert_file() {
        return f;
    }
    crate::sys::openssl_default_cert_file()
}

fn default_cert_dir() -> String {
    if let Some(d) = std::env::var_os("SSL_CERT_DIR") {
        return d.to_string_lossy().into_owned();
    }
    if let Some(d) = super::ca_store::system_cert_dir() {
        return d.to_string_lossy().into_owned();
    }
    crate::sys::openssl_default_cert_dir()
}

/// `X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT`.
const SELF_SIGNED: i32 = 18;

/// OpenSSL's client defaults as `SslConnector::builder` sets them, without
/// its per-call parse of the system roots.
const DEFAULT_CIPHERS: &str =
    "DEFAULT:!aNULL:!eNULL:!MD5:!3DES:!DES:!RC4:!IDEA:!SEED:!aDSS:!SRP:!PSK";

fn build(s: &TlsSettings) -> Result<TlsConfig, openssl::error::ErrorStack> {
    let mut b = SslContextBuilder::new(SslMethod::tls_client())?;
    let mut opts = SslOptions::ALL
        | SslOptions::NO_COMPRESSION
        | SslOptions::NO_SSLV2
        | SslOptions::NO_SSLV3
        | SslOptions::SINGLE_DH_USE
        | SslOptions::SINGLE_ECDH_USE;
    opts &= !SslOptions::DONT_INSERT_EMPTY_FRAGMENTS;
    b.set_options(opts);
    b.set_mode(
        SslMode::AUTO_RETRY
            | SslMode::ACCEPT_MOVING_WRITE_BUFFER
            | SslMode::ENABLE_PARTIAL_WRITE
            | SslMode::RELEASE_BUFFERS,
    );
    b.set_cipher_list(s.ciphers.as_deref().unwrap_or(DEFAULT_CIPHERS))?;
    if let Some(level) = s.security_level {
        b.set_security_level(level.into());
    }
    b.set_min_proto_version(s.min_version.map(TlsVersion::openssl))?;
    b.set_max_proto_version(s.max_version.map(TlsVersion::openssl))?;
    // The roots: cafile and/or capath replace the system's; without chain
    // verification none are loaded (PHP does the same).
    if s.ca.is_some() || s.ca_path.is_some() {
        let mut store = X509StoreBuilder::new()?;
        for c in s.ca.iter().flat_map(|ca| ca.certs.iter()) {
            store.add_cert(c.clone())?;
        }
        if let Some(dir) = &s.ca_path {
            store
                .add_lookup(X509Lookup::hash_dir())?
                .add_dir(dir, openssl::ssl::SslFiletype::PEM)?;
        }
        b.set_cert_store(store.build());
    } else if s.verify_peer {
        let mut store = X509StoreBuilder::new()?;
        for c in system_roots() {
            // Adding a parsed certificate only takes a reference.
            let _ = store.add_cert(c.clone());
        }
        store
            .add_lookup(X509Lookup::hash_dir())?
            .add_dir(&default_cert_dir(), openssl::ssl::SslFiletype::PEM)?;
        b.set_cert_store(store.build());
    }
    if let Some(id) = &s.identity {
        b.set_certificate(&id.inner.cert)?;
        for c in &id.inner.chain {
            b.add_extra_chain_cert(c.clone())?;
        }
        b.set_private_key(&id.inner.key)?;
        b.check_private_key()?;
    }
    if !s.verify_peer {
        b.set_verify(SslVerifyMode::NONE);
    } else if s.allow_self_signed {
        // PHP's allow_self_signed: forgive only a self-signed server
        // certificate (the name is still checked).
        b.set_verify_callback(SslVerifyMode::PEER, |ok, ctx| {
            ok || ctx.error().as_raw() == SELF_SIGNED
        });
    } else {
        b.set_verify(SslVerifyMode::PEER);
    }
    // Client sessions are kept by us, by peer (OpenSSL's internal cache
    // is for servers).
    b.set_session_cache_mode(SslSessionCacheMode::CLIENT | SslSessionCacheMode::NO_INTERNAL);
    let sessions: Arc<Mutex<Sessions>> = Arc::default();
    let keep = sessions.clone();
    let index = session_key_index()?;
    b.set_new_session_callback(move |ssl, session| {
        if let Some(key) = ssl.ex_data(index) {
            keep.lock().put(key, session);
        }
    });
    Ok(TlsConfig {
        ctx: b.build(),
        sessions,
    })
}

/// What a TLS connect gives back (the types of `Ssl::connect`).
pub(crate) type Handshake = Result<SslStream<TcpStream>, HandshakeError<TcpStream>>;

impl TlsConfig {
    /// Starts the TLS handshake on `sock` (non-blocking): SNI, the name to
    /// verify, and the last session of this peer to resume.
    pub(crate) fn connect(&self, peer: &Peer, sock: TcpStream) -> crate::Result<Handshake> {
        let setup = || -> Result<Ssl, openssl::error::ErrorStack> {
            let mut ssl = Ssl::new(&self.ctx)?;
            let ip: Option<IpAddr> = peer.name.trim_matches(['[', ']']).parse().ok();
            if peer.sni && ip.is_none() {
                ssl.set_hostname(peer.name)?;
            }
            if peer.verify_name {
                let param = ssl.param_mut();
                param.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
                match ip {
                    Some(ip) => param.set_ip(ip)?,
                    None => param.set_host(peer.name)?,
                }
            }
            if peer.resume {
                // Everything OpenSSL verified for the session is in its
                // key: a resumed session skips the verification (a session
                // made without the name check must not stand in for one).
                let key = format!(
                    "{}|{}|{}|name-checked={}|sni={}",
                    peer.name, peer.host, peer.port, peer.verify_name, peer.sni
                );
                if let Some(session) = self.sessions.lock().take(&key) {
                    // The session came from this same SslContext.
                    crate::sys::set_session_of_same_context(&mut ssl, &session)?;
                }
                ssl.set_ex_data(session_key_index()?, key);
            }
            Ok(ssl)
        };
        let ssl =
            setup().map_err(|e| Error::Tls(Reason::new(TlsFault::Setup, describe_stack(&e))))?;
        Ok(ssl.connect(sock))
    }

    /// After a handshake: a resumed TLS 1.2 session stays valid (no new
    /// one comes), so it goes back to the cache for the next connection.
    pub(crate) fn handshake_done(&self, tls: &SslStream<TcpStream>) {
        let ssl = tls.ssl();
        if !ssl.session_reused() || ssl.version2() == Some(SslVersion::TLS1_3) {
            return;
        }
        if let (Ok(index), Some(session)) = (session_key_index(), ssl.session())
            && let Some(key) = ssl.ex_data(index)
        {
            self.sessions.lock().put(key, session.to_owned());
        }
    }

    /// Sessions kept now (tests).
    #[cfg(test)]
    fn sessions(&self) -> usize {
        self.sessions.lock().count
    }
}

/// Checks the pinned fingerprints (all must match, as PHP's array form).
pub(crate) fn check_fingerprints(
    tls: &SslStream<TcpStream>,
    pins: &[Fingerprint],
) -> Result<(), String> {
    if pins.is_empty() {
        return Ok(());
    }
    let x509 = tls
        .ssl()
        .peer_certificate()
        .ok_or("the server sent no certificate to check the peer fingerprint against")?;
    for pin in pins {
        let actual = x509.digest(pin.digest).map_err(|e| describe_stack(&e))?;
        if *actual != pin.expected[..] {
            let hex: String = actual.iter().map(|b| format!("{b:02x}")).collect();
            return Err(format!(
                "peer fingerprint mismatch: the server certificate's {} fingerprint is {hex}, \
                 not the pinned one",
                pin.algorithm
            ));
        }
    }
    Ok(())
}

/// Checks that the server's certificate names `host` (RFC 6125: the DNS
/// names or IP addresses of subjectAltName, a `*.` wildcard for one
/// left-most label; the common name only when there is no subjectAltName).
/// Used when chain verification is off but the name check is on (PHP's
/// `verify_peer => false, verify_peer_name => true`).
pub(crate) fn check_certificate_name(tls: &SslStream<TcpStream>, host: &str) -> Result<(), String> {
    let x509 = tls
        .ssl()
        .peer_certificate()
        .ok_or("the server sent no certificate")?;
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ip: Option<IpAddr> = host.trim_matches(['[', ']']).parse().ok();
    let dns_matches = |pattern: &str| {
        let p = pattern.trim_end_matches('.').to_ascii_lowercase();
        match p.strip_prefix("*.") {
            Some(rest) => host
                .split_once('.')
                .is_some_and(|(l, r)| !l.is_empty() && r == rest),
            None => p == host,
        }
    };
    let mut names = Vec::new();
    if let Some(sans) = x509.subject_alt_names() {
        for san in &sans {
            if let Some(d) = san.dnsname() {
                if ip.is_none() && dns_matches(d) {
                    return Ok(());
                }
                names.push(d.to_string());
            } else if let Some(a) = san.ipaddress() {
                let a: Option<IpAddr> = match a.len() {
                    4 => <[u8; 4]>::try_from(a).ok().map(IpAddr::from),
                    16 => <[u8; 16]>::try_from(a).ok().map(IpAddr::from),
                    _ => None,
                };
                if let Some(a) = a {
                    if Some(a) == ip {
                        return Ok(());
                    }
                    names.push(a.to_string());
                }
            }
        }
    } else {
        for cn in x509
            .subject_name()
            .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        {
            if let Ok(cn) = cn.data().to_string() {
                if ip.is_none() && dns_matches(&cn) {
                    return Ok(());
                }
                names.push(cn.to_string());
            }
        }
    }
    Err(format!(
        "certificate name mismatch: the server's certificate is for {}, not {host}",
        if names.is_empty() {
            "no name".to_string()
        } else {
            names.join(", ")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_settings_share_one_configuration() {
        let mut cache = TlsCache::default();
        let a = TlsSettings::default();
        let c1 = cache.get(&a).expect("build");
        let c2 = cache.get(&a.clone()).expect("cached");
        assert!(Arc::ptr_eq(&c1, &c2));
        let b = TlsSettings {
            ciphers: Some("ECDHE-ECDSA-AES128-GCM-SHA256".into()),
            ..TlsSettings::default()
        };
        let c3 = cache.get(&b).expect("build");
        assert!(!Arc::ptr_eq(&c1, &c3));
        assert_eq!(cache.built, 2);
        assert_eq!(c1.sessions(), 0);
    }

    #[test]
    fn error_texts_carry_no_source_file() {
        let mut b = SslContextBuilder::new(SslMethod::tls_client()).unwrap();
        let e = b.set_cipher_list("NO-SUCH-CIPHER").unwrap_err();
        let text = describe_stack(&e);
        assert!(!text.contains(".c:"), "{text}");
        assert!(text.contains("no cipher match"), "{text}");
    }
}
