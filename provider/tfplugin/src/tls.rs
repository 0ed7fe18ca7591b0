//! go-plugin's automatic mutual TLS.
//!
//! Terraform generates a throwaway client certificate and passes it in `PLUGIN_CLIENT_CERT`;
//! the plugin generates its own throwaway server certificate and sends it back in the
//! handshake line. Each side then trusts exactly the other's certificate. There is no CA to
//! build a chain to, so the client certificate is checked by comparing it byte for byte.
//!
//! Terraform's client key is ECDSA P-521, which `ring` cannot verify; aws-lc-rs can
//! (ECDSA_NISTP521_SHA512), so the client's signatures are verified with aws-lc-rs.
//!
//! Everything that needs randomness (our key, the certificate's signature, the handshake's
//! key exchange and nonces) uses `ring`, which reads the operating system's generator. The
//! aws-lc build seeds its own generator from CPU jitter entropy the first time a process asks
//! it for a random byte, which costs ~30 ms of CPU per process; Terraform starts the provider
//! three times per plan and waits for each handshake line (see docs/performance.md).
//! Signature verification needs no randomness, so aws-lc-rs never pays that cost here.

use std::sync::Arc;

use ::ring::rand::SystemRandom;
use ::ring::signature::{self, EcdsaKeyPair, KeyPair};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{
    CryptoProvider, aws_lc_rs, ring as ring_tls, verify_tls12_signature, verify_tls13_signature,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    DigitallySignedStruct, DistinguishedName, Error as TlsError, ServerConfig, SignatureScheme,
};

pub(crate) struct AutoMtls {
    pub config: Arc<ServerConfig>,
    /// DER of our server certificate, for the handshake line.
    pub server_cert_der: Vec<u8>,
}

pub(crate) fn auto_mtls(client_cert_pem: &str) -> Result<AutoMtls, String> {
    let client_cert = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
        .map_err(|e| format!("PLUGIN_CLIENT_CERT is not a PEM certificate: {e}"))?
        .into_owned();

    let rng = SystemRandom::new();
    let key = ServerKey::generate(&rng).map_err(|()| "cannot generate a server key".to_owned())?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .map_err(|e| format!("cannot build the server certificate: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    // Terraform adds this certificate as its only root and verifies the server against it,
    // so it must be a CA that is also valid for serving "localhost".
    // rcgen draws a serial itself only with its own crypto backend, which this crate does not
    // enable; 16 random bytes with the top bit clear (a positive INTEGER), as rcgen would.
    let mut serial = [0u8; 16];
    ::ring::rand::SecureRandom::fill(&rng, &mut serial)
        .map_err(|_| "cannot generate a certificate serial number".to_owned())?;
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("cannot sign the server certificate: {e}"))?;
    let server_cert_der = cert.der().to_vec();

    let provider = Arc::new(tls_provider());
    let verifier = PinnedClientCert {
        expected: client_cert,
        provider: provider.clone(),
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![CertificateDer::from(server_cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8)),
        )
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    // gRPC clients insist on negotiating HTTP/2 through ALPN.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(AutoMtls {
        config: Arc::new(config),
        server_cert_der,
    })
}

/// ring for key exchange, ciphers, randomness and our own key; aws-lc-rs (which covers
/// everything Terraform may sign with, P-521 included) for verifying the client.
fn tls_provider() -> CryptoProvider {
    CryptoProvider {
        signature_verification_algorithms: aws_lc_rs::default_provider()
            .signature_verification_algorithms,
        ..ring_tls::default_provider()
    }
}

/// Our throwaway ECDSA P-256 key, generated and used by `ring`.
struct ServerKey {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    rng: SystemRandom,
}

impl ServerKey {
    fn generate(rng: &SystemRandom) -> Result<Self, ()> {
        let alg = &signature::ECDSA_P256_SHA256_ASN1_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, rng).map_err(|_| ())?;
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), rng).map_err(|_| ())?;
        Ok(Self {
            pair,
            pkcs8: pkcs8.as_ref().to_vec(),
            rng: rng.clone(),
        })
    }
}

impl rcgen::PublicKeyData for ServerKey {
    fn der_bytes(&self) -> &[u8] {
        // The uncompressed point, which is what X.509 puts in subjectPublicKey for EC keys.
        self.pair.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for ServerKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.pair
            .sign(&self.rng, msg)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

/// Accepts exactly one client certificate: the one Terraform announced.
#[derive(Debug)]
struct PinnedClientCert {
    expected: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, TlsError> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(TlsError::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::ServerName;
    use rustls::{ClientConfig, ClientConnection, ServerConnection};

    // Throwaway ECDSA P-521 certificates, like the ones Terraform generates.
    const CLIENT_CERT: &str = include_str!("testdata/client-p521-cert.pem");
    const CLIENT_KEY: &str = include_str!("testdata/client-p521-key.pem");
    const OTHER_CERT: &str = include_str!("testdata/other-p521-cert.pem");
    const OTHER_KEY: &str = include_str!("testdata/other-p521-key.pem");

    /// Trusts exactly our server certificate. (go-plugin makes it the only root; webpki,
    /// unlike Go, refuses a CA certificate as the server's own, so the test pins it instead.)
    #[derive(Debug)]
    struct PinnedServer(Vec<u8>, Arc<CryptoProvider>);

    impl ServerCertVerifier for PinnedServer {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, TlsError> {
            assert_eq!(end_entity.as_ref(), self.0.as_slice());
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, TlsError> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.1.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, TlsError> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.1.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.1.signature_verification_algorithms.supported_schemes()
        }
    }

    /// Runs a handshake in memory, the client presenting `cert`/`key` as go-plugin does.
    fn handshake(tls: &AutoMtls, cert: &str, key: &str) -> Result<(), TlsError> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let client_config = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedServer(
                tls.server_cert_der.clone(),
                provider,
            )))
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap();
        let mut client = ClientConnection::new(
            Arc::new(client_config),
            ServerName::try_from("localhost").unwrap(),
        )
        .unwrap();
        let mut server = ServerConnection::new(tls.config.clone()).unwrap();
        for _ in 0..10 {
            let mut buf = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut buf).unwrap();
            }
            server.read_tls(&mut buf.as_slice()).unwrap();
            server.process_new_packets()?;
            let mut buf = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut buf).unwrap();
            }
            client.read_tls(&mut buf.as_slice()).unwrap();
            client.process_new_packets()?;
            if !client.is_handshaking() && !server.is_handshaking() {
                return Ok(());
            }
        }
        panic!("handshake did not finish");
    }

    #[test]
    fn accepts_exactly_the_announced_p521_client_certificate() {
        let tls = auto_mtls(CLIENT_CERT).unwrap();
        assert!(!tls.server_cert_der.is_empty());
        handshake(&tls, CLIENT_CERT, CLIENT_KEY).unwrap();
        let err = handshake(&tls, OTHER_CERT, OTHER_KEY).unwrap_err();
        assert!(
            matches!(
                err,
                TlsError::InvalidCertificate(
                    rustls::CertificateError::ApplicationVerificationFailure
                )
            ),
            "{err:?}"
        );
        assert!(auto_mtls("not a pem").is_err());
    }

    #[test]
    fn each_start_has_a_fresh_key_and_serial() {
        let a = auto_mtls(CLIENT_CERT).unwrap();
        let b = auto_mtls(CLIENT_CERT).unwrap();
        assert_ne!(a.server_cert_der, b.server_cert_der);
    }
}
