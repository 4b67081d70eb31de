//! Where the system keeps its CA certificates, for an OpenSSL built into
//! libwsc (the `vendored-openssl` feature of the portable release library).
//!
//! A vendored OpenSSL's compiled-in defaults (`X509_get_default_cert_file`,
//! `_dir`) point into its build-time directory (`/usr/local/ssl`), which no
//! distribution uses. `openssl-probe` knows the layouts: Debian and Ubuntu
//! (`/etc/ssl/certs/ca-certificates.crt`), RHEL, CentOS and Fedora
//! (`/etc/pki/tls/certs/ca-bundle.crt`), SUSE, and Alpine
//! (`/etc/ssl/cert.pem`). The environment is only read, never written
//! (`openssl_probe::try_init_openssl_env_vars` calls `setenv`, which is not
//! safe in a multithreaded process such as PHP's). `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` are looked at first by the caller (`tls.rs`), as OpenSSL
//! does.
//!
//! With the system's OpenSSL (the default build) its compiled-in defaults
//! already are the distribution's, and both functions return `None`.

use std::path::PathBuf;

#[cfg(feature = "vendored-openssl")]
fn probe() -> &'static openssl_probe::ProbeResult {
    use std::sync::OnceLock;
    static PROBE: OnceLock<openssl_probe::ProbeResult> = OnceLock::new();
    PROBE.get_or_init(openssl_probe::probe)
}

/// The system's CA bundle file (probed once per process), or `None` to use
/// OpenSSL's compiled-in default.
pub(crate) fn system_cert_file() -> Option<PathBuf> {
    #[cfg(feature = "vendored-openssl")]
    return probe().cert_file.clone();
    #[cfg(not(feature = "vendored-openssl"))]
    None
}

/// The system's hashed CA folder (probed once per process), or `None` to
/// use OpenSSL's compiled-in default.
pub(crate) fn system_cert_dir() -> Option<PathBuf> {
    #[cfg(feature = "vendored-openssl")]
    return probe().cert_dir.first().cloned();
    #[cfg(not(feature = "vendored-openssl"))]
    None
}
