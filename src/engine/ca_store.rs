//! The system's CA certificates for an OpenSSL built into libwsc (the
//! `vendored-openssl` feature of the portable release library).
//!
//! A vendored OpenSSL looks for its default roots under its build-time
//! directory (`/usr/local/ssl`), which no distribution uses. `openssl-probe`
//! knows the layouts: `SSL_CERT_FILE`/`SSL_CERT_DIR` first, then Debian and
//! Ubuntu (`/etc/ssl/certs/ca-certificates.crt`), RHEL, CentOS and Fedora
//! (`/etc/pki/tls/certs/ca-bundle.crt`), SUSE and Alpine
//! (`/etc/ssl/cert.pem`). The environment is only read, never written
//! (`openssl_probe::try_init_openssl_env_vars` calls `setenv`, which is not
//! safe in a multithreaded process such as PHP's).
//!
//! With the system's OpenSSL (the default build), `SslConnector::builder`'s
//! default paths already are the distribution's, and this does nothing.

use openssl::ssl::SslContextBuilder;

/// Adds the system's CA store to `b`, the roots used when the caller gave
/// no CA of its own (PHP's `cafile`). Errors loading one of the places are
/// ignored: the handshake then fails with OpenSSL's "unable to get local
/// issuer certificate", which names the real problem.
#[cfg(feature = "vendored-openssl")]
pub(crate) fn add_system_roots(b: &mut SslContextBuilder) {
    use std::sync::OnceLock;
    static PROBE: OnceLock<openssl_probe::ProbeResult> = OnceLock::new();
    let found = PROBE.get_or_init(openssl_probe::probe);
    if let Some(file) = &found.cert_file {
        let _ = b.load_verify_locations(Some(file.as_path()), None);
    }
    for dir in &found.cert_dir {
        let _ = b.load_verify_locations(None, Some(dir.as_path()));
    }
}

/// Without `vendored-openssl`: the system's OpenSSL already uses the
/// system's store (set by `SslConnector::builder`).
#[cfg(not(feature = "vendored-openssl"))]
pub(crate) fn add_system_roots(_b: &mut SslContextBuilder) {}
