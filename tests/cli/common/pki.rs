//! A private CA made in the test (rcgen) and a server certificate it
//! signed, for endpoints served over rustls: the one test PKI.

use std::sync::Arc;

use super::TestEnv;

/// A private CA and a server certificate it signed.
pub struct Pki {
    pub ca_pem: String,
    pub cert: rustls::pki_types::CertificateDer<'static>,
    pub key: Vec<u8>,
}

impl Pki {
    /// A new CA, and a server certificate for `names` (DNS names or IP
    /// addresses) it signed.
    pub fn new(names: &[&str]) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "keyless test CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().unwrap();
        let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
        let issuer = Issuer::new(ca, ca_key);
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut leaf = CertificateParams::new(names).unwrap();
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().unwrap();
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        Pki {
            ca_pem,
            cert: cert.der().clone(),
            key: key.serialize_der(),
        }
    }

    /// The CA written to `name` in `env`'s directory: its path.
    pub fn ca_file(&self, env: &TestEnv, name: &str) -> String {
        let p = env.path(name);
        std::fs::write(&p, &self.ca_pem).unwrap();
        p.display().to_string()
    }

    /// A rustls server configuration with the certificate, offering `alpn`.
    pub fn server_config(&self, alpn: &[&[u8]]) -> rustls::ServerConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![self.cert.clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(self.key.clone().into()),
            )
            .unwrap();
        cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        cfg
    }
}
