//! HTTPS for tests: a certificate made at test time (no key is committed) and
//! clients that trust it, speaking HTTP/2 or HTTP/1.1 as ALPN decides.

use std::net::SocketAddr;
use std::sync::Arc;

use justsse::tls::TlsConfig;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types::ServerName};

/// A self-signed certificate for `localhost` and 127.0.0.1, made now.
pub struct TestCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM.
    pub key_pem: String,
    der: rustls::pki_types::CertificateDer<'static>,
}

impl TestCert {
    /// A new certificate and key.
    pub fn new() -> Self {
        let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .expect("a certificate");
        Self {
            cert_pem: cert.pem(),
            key_pem: signing_key.serialize_pem(),
            der: cert.der().clone(),
        }
    }

    /// The server side.
    pub fn server(&self) -> TlsConfig {
        TlsConfig::from_pem(self.cert_pem.as_bytes(), self.key_pem.as_bytes()).expect("TLS config")
    }

    /// A client trusting only this certificate, offering `alpn`.
    pub fn client(&self, alpn: &[&[u8]]) -> TlsConnector {
        TlsConnector::from(self.client_config(alpn))
    }

    /// The configuration of a client trusting only this certificate,
    /// offering `alpn`.
    pub fn client_config(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.der.clone()).expect("root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// A TLS connection to `addr` offering `alpn`.
    pub async fn connect(&self, addr: SocketAddr, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let name = ServerName::try_from("localhost").expect("name");
        tokio::time::timeout(crate::DEADLINE, self.client(alpn).connect(name, tcp))
            .await
            .expect("handshake in time")
            .expect("handshake")
    }
}

impl Default for TestCert {
    fn default() -> Self {
        Self::new()
    }
}
