//! HTTPS for device listeners: a self-signed certificate made at start, as real devices
//! ship, or a certificate and key brought by the user.

use std::path::PathBuf;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Where the certificate comes from.
#[derive(Clone, Debug)]
pub enum TlsSetup {
    /// Made at start for `localhost` and `127.0.0.1`.
    SelfSigned,
    /// PEM files.
    Files {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
}

impl TlsSetup {
    /// The listener configuration.
    pub fn server_config(&self) -> Result<RustlsConfig, String> {
        let (certs, key) = match self {
            TlsSetup::SelfSigned => {
                let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
                let made = rcgen::generate_simple_self_signed(names)
                    .map_err(|e| format!("cannot make a self-signed certificate: {e}"))?;
                let key =
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()));
                (vec![made.cert.der().clone()], key)
            }
            TlsSetup::Files { cert, key } => {
                let read = |p: &PathBuf| {
                    std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
                };
                let cert_pem = read(cert)?;
                let key_pem = read(key)?;
                let certs = CertificateDer::pem_slice_iter(&cert_pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("{}: not a PEM certificate: {e}", cert.display()))?;
                if certs.is_empty() {
                    return Err(format!("{}: no certificate in it", cert.display()));
                }
                let key = PrivateKeyDer::from_pem_slice(&key_pem)
                    .map_err(|e| format!("{}: not a PEM private key: {e}", key.display()))?;
                (certs, key)
            }
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("certificate and key do not fit together: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(RustlsConfig::from_config(Arc::new(config)))
    }
}
