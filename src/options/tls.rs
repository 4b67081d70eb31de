//! TLS settings (PHP's `ssl` stream context options, with PHP's meaning:
//! `verify_peer`, `allow_self_signed`, `cafile`, `capath`, `local_cert`,
//! `local_pk`, `passphrase`, `peer_fingerprint`, `ciphers`,
//! `security_level`, `crypto_method`), checked and loaded from files when
//! they are set. The OpenSSL configuration built from them lives in the
//! engine (`engine/tls.rs`).

use crate::error::{Error, Result, describe_stack};
use openssl::hash::MessageDigest;
use openssl::ssl::{SslContextBuilder, SslMethod, SslVersion};
use openssl::x509::X509;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

/// A TLS protocol version (PHP's `STREAM_CRYPTO_METHOD_TLSv1_x_CLIENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.0 (RFC 2246). OpenSSL 3 refuses it at its default security
    /// level (1 and up); it needs `security_level` 0.
    Tls1_0,
    /// TLS 1.1 (RFC 4346); like TLS 1.0, only at security level 0.
    Tls1_1,
    /// TLS 1.2 (RFC 5246).
    Tls1_2,
    /// TLS 1.3 (RFC 8446).
    Tls1_3,
}

impl TlsVersion {
    pub(crate) fn openssl(self) -> SslVersion {
        match self {
            TlsVersion::Tls1_0 => SslVersion::TLS1,
            TlsVersion::Tls1_1 => SslVersion::TLS1_1,
            TlsVersion::Tls1_2 => SslVersion::TLS1_2,
            TlsVersion::Tls1_3 => SslVersion::TLS1_3,
        }
    }
}

/// CA certificates of a `cafile`, compared by a digest of their DER.
#[derive(Clone)]
pub(crate) struct CaCerts {
    pub(crate) certs: Arc<Vec<X509>>,
    digest: [u8; 32],
}

/// CA files read so far in this process, by path, with the size, change
/// time and inode they had: a file given to every connect (PHP passes its
/// options at each `connect()`, often the whole system bundle as `cafile`)
/// is parsed once, and again only when it changes.
type CaFiles = HashMap<String, ((u64, i64, i64, u64), CaCerts)>;

/// How many CA files are remembered.
const MAX_CA_FILES: usize = 64;

impl CaCerts {
    /// The certificates of the PEM file `path` (PHP's `cafile`).
    ///
    /// Errors: [`Error::InvalidArgument`] naming the file: unreadable, not
    /// PEM, or no certificate in it.
    pub(crate) fn load(path: &str) -> Result<CaCerts> {
        use std::os::unix::fs::MetadataExt;
        static FILES: OnceLock<Mutex<CaFiles>> = OnceLock::new();
        let unreadable = |e: std::io::Error| {
            Error::InvalidArgument(format!("cannot read the CA file {path:?}: {e}"))
        };
        let m = std::fs::metadata(path).map_err(unreadable)?;
        let stamp = (m.len(), m.mtime(), m.mtime_nsec(), m.ino());
        let files = FILES.get_or_init(Mutex::default);
        if let Some((s, ca)) = files.lock().get(path)
            && *s == stamp
        {
            return Ok(ca.clone());
        }
        let pem = std::fs::read(path).map_err(unreadable)?;
        let certs = X509::stack_from_pem(&pem).map_err(|e| {
            Error::InvalidArgument(format!(
                "the CA file {path:?} is not PEM: {}",
                describe_stack(&e)
            ))
        })?;
        if certs.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "the CA file {path:?} holds no certificate"
            )));
        }
        let ca = CaCerts::new(certs)?;
        let mut f = files.lock();
        if f.len() >= MAX_CA_FILES {
            f.clear();
        }
        f.insert(path.to_string(), (stamp, ca.clone()));
        Ok(ca)
    }

    fn new(certs: Vec<X509>) -> Result<CaCerts> {
        let mut der = Vec::new();
        for c in &certs {
            der.extend(
                c.to_der()
                    .map_err(|e| Error::InvalidArgument(describe_stack(&e)))?,
            );
        }
        Ok(CaCerts {
            certs: Arc::new(certs),
            digest: sha256(&der)?,
        })
    }
}

/// A client certificate with its key, compared by a digest of both.
#[derive(Clone)]
pub(crate) struct Identity {
    pub(crate) inner: Arc<TlsIdentity>,
    digest: [u8; 32],
}

impl Identity {
    pub(crate) fn new(id: TlsIdentity) -> Result<Identity> {
        let bad = |e: openssl::error::ErrorStack| Error::InvalidArgument(describe_stack(&e));
        let mut der = id.cert.to_der().map_err(bad)?;
        for c in &id.chain {
            der.extend(c.to_der().map_err(bad)?);
        }
        der.extend(id.key.private_key_to_der().map_err(bad)?);
        let digest = sha256(&der)?;
        // The key's bytes do not stay around longer than needed.
        der.iter_mut().for_each(|b| *b = 0);
        Ok(Identity {
            inner: Arc::new(id),
            digest,
        })
    }
}

fn sha256(data: &[u8]) -> Result<[u8; 32]> {
    let d = openssl::hash::hash(MessageDigest::sha256(), data)
        .map_err(|e| Error::Io(describe_stack(&e)))?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&d);
    Ok(out)
}

macro_rules! by_digest {
    ($t:ty) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.digest == other.digest
            }
        }
        impl Eq for $t {}
        impl Hash for $t {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.digest.hash(state);
            }
        }
    };
}
by_digest!(CaCerts);
by_digest!(Identity);

/// The TLS settings that shape an OpenSSL client context: connections
/// whose settings are equal share one configuration (and its session
/// cache). The per-connection ones (name, SNI, fingerprints) live in
/// `ClientOptions`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct TlsSettings {
    /// Verify the chain (PHP's `verify_peer`). Default true.
    pub(crate) verify_peer: bool,
    /// Forgive a self-signed server certificate (PHP's `allow_self_signed`).
    pub(crate) allow_self_signed: bool,
    /// Trust exactly these roots (PHP's `cafile`); with `ca_path`, both.
    pub(crate) ca: Option<CaCerts>,
    /// Trust the roots of this hashed folder (PHP's `capath`, as made by
    /// `openssl rehash`); with `ca`, both.
    pub(crate) ca_path: Option<String>,
    /// A client certificate to present (PHP's `local_cert`, `local_pk`).
    pub(crate) identity: Option<Identity>,
    /// OpenSSL cipher list for TLS 1.2 and older (PHP's `ciphers`).
    pub(crate) ciphers: Option<String>,
    /// OpenSSL security level 0..=5 (PHP's `security_level`).
    pub(crate) security_level: Option<u8>,
    /// The TLS versions allowed (PHP's `crypto_method`); `None`: OpenSSL's
    /// bound (its configuration: TLS 1.2 to 1.3 on Debian).
    pub(crate) min_version: Option<TlsVersion>,
    pub(crate) max_version: Option<TlsVersion>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            verify_peer: true,
            allow_self_signed: false,
            ca: None,
            ca_path: None,
            identity: None,
            ciphers: None,
            security_level: None,
            min_version: None,
            max_version: None,
        }
    }
}

/// Checks a cipher list as OpenSSL would take it (PHP's `ciphers`).
pub(crate) fn check_ciphers(list: &str) -> Result<()> {
    let mut b = SslContextBuilder::new(SslMethod::tls_client())
        .map_err(|e| Error::Io(describe_stack(&e)))?;
    b.set_cipher_list(list).map_err(|e| {
        Error::InvalidArgument(format!(
            "the cipher list {list:?} selects no cipher OpenSSL knows ({})",
            describe_stack(&e)
        ))
    })
}

/// A pinned certificate fingerprint (PHP's `peer_fingerprint`): the
/// digest of the server certificate's DER.
#[derive(Clone)]
pub(crate) struct Fingerprint {
    pub(crate) algorithm: String,
    pub(crate) digest: MessageDigest,
    pub(crate) expected: Vec<u8>,
}

impl Fingerprint {
    /// `algorithm` an OpenSSL digest name (`sha256`, `sha1`, `md5`...), or
    /// `None` for PHP's string form: md5 for 32 hex digits, sha1 for 40.
    /// `hex` the fingerprint in hex, either case (`:` between bytes
    /// allowed).
    pub(crate) fn parse(algorithm: Option<&str>, hex: &str) -> Result<Fingerprint> {
        let clean: String = hex.chars().filter(|c| *c != ':').collect();
        let algorithm = match algorithm {
            Some(a) => a.to_ascii_lowercase(),
            None => match clean.len() {
                32 => "md5".into(),
                40 => "sha1".into(),
                n => {
                    return Err(Error::InvalidArgument(format!(
                        "a peer fingerprint without an algorithm is md5 (32 hex digits) or \
                         sha1 (40), not {n} characters; name the algorithm for others (sha256)"
                    )));
                }
            },
        };
        let digest = MessageDigest::from_name(&algorithm).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{algorithm:?} is not a digest algorithm OpenSSL knows"
            ))
        })?;
        if clean.len() != digest.size() * 2 || !clean.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::InvalidArgument(format!(
                "a {algorithm} fingerprint is {} hex digits, not {hex:?}",
                digest.size() * 2
            )));
        }
        let expected = (0..clean.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).expect("checked hex"))
            .collect();
        Ok(Fingerprint {
            algorithm,
            digest,
            expected,
        })
    }
}

/// A client certificate with its chain and private key.
#[derive(Clone)]
pub(crate) struct TlsIdentity {
    /// The client's certificate.
    pub(crate) cert: openssl::x509::X509,
    /// The certificates that follow it in the file (its chain).
    pub(crate) chain: Vec<openssl::x509::X509>,
    /// Its private key (decrypted).
    pub(crate) key: openssl::pkey::PKey<openssl::pkey::Private>,
}

fn read_file(what: &str, path: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| Error::InvalidArgument(format!("cannot read the {what} {path:?}: {e}")))
}

/// Reads a client certificate (with its chain) and its private key from PEM
/// files (PHP's `local_cert`, `local_pk`, `passphrase`).
///
/// Errors: [`Error::InvalidArgument`] naming the file and the reason.
pub(crate) fn load_identity(
    cert: &str,
    key: Option<&str>,
    pass: Option<&str>,
) -> Result<TlsIdentity> {
    let cert_pem = read_file("client certificate", cert)?;
    let (key_pem, key_name) = match key {
        Some(k) => (read_file("client key", k)?, k),
        None => (cert_pem.clone(), cert),
    };
    // Never `private_key_from_pem` without a passphrase: for an encrypted
    // key OpenSSL would then prompt on the terminal (and a daemon hang).
    let pkey = openssl::pkey::PKey::private_key_from_pem_passphrase(
        &key_pem,
        pass.unwrap_or("").as_bytes(),
    )
    .map_err(|e| {
        let hint = if pass.is_none() {
            " (encrypted? give its passphrase)"
        } else {
            ""
        };
        Error::InvalidArgument(format!(
            "cannot load the private key {key_name:?}{hint}: {}",
            describe_stack(&e)
        ))
    })?;
    let mut certs = openssl::x509::X509::stack_from_pem(&cert_pem)
        .map_err(|e| {
            Error::InvalidArgument(format!(
                "the client certificate {cert:?} is not PEM: {}",
                describe_stack(&e)
            ))
        })?
        .into_iter();
    let leaf = certs.next().ok_or_else(|| {
        Error::InvalidArgument(format!(
            "the client certificate file {cert:?} holds no certificate"
        ))
    })?;
    if !leaf
        .public_key()
        .map(|k| k.public_eq(&pkey))
        .unwrap_or(false)
    {
        return Err(Error::InvalidArgument(format!(
            "the private key {key_name:?} does not belong to the client certificate {cert:?}"
        )));
    }
    Ok(TlsIdentity {
        cert: leaf,
        chain: certs.collect(),
        key: pkey,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_as_php_reads_them() {
        assert_eq!(
            Fingerprint::parse(None, &"a".repeat(32)).unwrap().algorithm,
            "md5"
        );
        assert_eq!(
            Fingerprint::parse(None, &"B".repeat(40)).unwrap().algorithm,
            "sha1"
        );
        assert!(Fingerprint::parse(None, &"a".repeat(64)).is_err());
        assert!(Fingerprint::parse(Some("sha256"), &"a".repeat(64)).is_ok());
        assert!(Fingerprint::parse(Some("sha256"), &"a".repeat(40)).is_err());
        assert!(Fingerprint::parse(Some("sha256"), &"g".repeat(64)).is_err());
        assert!(Fingerprint::parse(Some("nope"), &"a".repeat(64)).is_err());
    }
}
