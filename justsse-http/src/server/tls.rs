//! HTTPS with rustls: certificates from PEM files or rustls's own
//! configuration, ALPN offering `h2` and `http/1.1`.
//!
//! The crypto provider is *ring*: it builds with the C compiler every Rust
//! toolchain with C dependencies already needs, where aws-lc-rs also wants
//! CMake (and more on some platforms) on a fresh machine.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::server::Error;

/// What the server offers in ALPN, preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// A server's TLS configuration: its certificate chain and private key. Give
/// it to [`ServerConfig::tls`](crate::ServerConfig::tls); browsers then speak
/// HTTP/2 to the server (one connection for every stream of a page) and
/// HTTP/1.1 clients keep working.
///
/// ```no_run
/// use justsse_http::{ServerConfig, TlsConfig};
///
/// # fn run() -> Result<(), justsse_http::Error> {
/// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
/// let config = ServerConfig::default().tls(tls);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub(crate) rustls: Arc<rustls::ServerConfig>,
}

impl TlsConfig {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1). A missing file, a file without a
    /// certificate or key, or a key that does not match is an error naming
    /// the file.
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self, Error> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let read = |path: &Path| {
            std::fs::read(path).map_err(|err| Error::Tls(format!("{}: {err}", path.display())))
        };
        Self::from_pem_named(
            &read(cert)?,
            &read(key)?,
            &cert.display().to_string(),
            &key.display().to_string(),
        )
    }

    /// The certificate and key files named by the `TLS_CERT` and `TLS_KEY`
    /// environment variables: `Ok(None)` when neither is set (serve plain
    /// HTTP), an error when only one is, or when the files do not do.
    ///
    /// ```no_run
    /// use justsse_http::{ServerConfig, TlsConfig};
    ///
    /// # fn run() -> Result<(), justsse_http::Error> {
    /// let mut config = ServerConfig::default();
    /// if let Some(tls) = TlsConfig::from_env()? {
    ///     config = config.tls(tls);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn from_env() -> Result<Option<Self>, Error> {
        match (std::env::var_os("TLS_CERT"), std::env::var_os("TLS_KEY")) {
            (Some(cert), Some(key)) => Self::from_pem_files(cert, key).map(Some),
            (None, None) => Ok(None),
            (Some(_), None) => Err(Error::Tls("TLS_CERT is set but TLS_KEY is not".to_owned())),
            (None, Some(_)) => Err(Error::Tls("TLS_KEY is set but TLS_CERT is not".to_owned())),
        }
    }

    /// Like [`from_pem_files`](Self::from_pem_files), from the PEM text.
    pub fn from_pem(cert: &[u8], key: &[u8]) -> Result<Self, Error> {
        Self::from_pem_named(cert, key, "the certificate", "the key")
    }

    fn from_pem_named(
        cert: &[u8],
        key: &[u8],
        cert_name: &str,
        key_name: &str,
    ) -> Result<Self, Error> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
            .collect::<Result<_, _>>()
            .map_err(|err| Error::Tls(format!("{cert_name}: {err}")))?;
        if chain.is_empty() {
            return Err(Error::Tls(format!("{cert_name}: no PEM certificate in it")));
        }
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|err| Error::Tls(format!("{key_name}: no PEM private key in it ({err})")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| Error::Tls(err.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|err| Error::Tls(format!("{cert_name} and {key_name}: {err}")))?;
        Ok(Self::from_rustls(Arc::new(config)))
    }

    /// Uses rustls's own configuration as it is (client certificates, a
    /// certificate resolver, another crypto provider...). If it sets no ALPN
    /// protocols, `h2` and `http/1.1` are offered.
    pub fn from_rustls(config: Arc<rustls::ServerConfig>) -> Self {
        if !config.alpn_protocols.is_empty() {
            return Self { rustls: config };
        }
        let mut config = Arc::unwrap_or_clone(config);
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Self {
            rustls: Arc::new(config),
        }
    }

    /// The rustls configuration in use.
    pub fn rustls(&self) -> &Arc<rustls::ServerConfig> {
        &self.rustls
    }
}
