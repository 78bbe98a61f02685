//! Which HTTPS servers onfail trusts: the built-in web roots, plus the private CAs of
//! `SSL_CERT_FILE` and `SSL_CERT_DIR` (README, "Delivery").
//!
//! The private roots cost nothing until a chain needs them. A certificate chain is checked
//! against the built-in roots first; only when that fails for want of a known issuer are the
//! `SSL_CERT_FILE` roots and, as OpenSSL does, the `SSL_CERT_DIR` files named after the
//! issuer's subject hash (`<hash>.0`, `<hash>.1`, ...) read and tried. A runner that points
//! `SSL_CERT_DIR` at `/etc/ssl/certs` thus pays for one or two files, not for every one.
//!
//! A missing, unreadable or broken file is a warning, never an error: the built-in roots still
//! apply and the alert still goes out.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

use crate::context::Env;
use crate::der;

/// The TLS client configuration for `env`, and what was wrong with its trust settings.
pub fn client_config(env: &Env) -> (rustls::ClientConfig, Vec<String>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut warnings = Vec::new();
    let setting = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_string);
    let file = setting("SSL_CERT_FILE").and_then(|file| match std::fs::read(&file) {
        Ok(pem) => {
            warnings.extend(check_bundle(&file, &pem));
            Some(pem)
        }
        Err(e) => {
            warnings.push(format!("SSL_CERT_FILE: cannot read {file} ({e}); using the built-in roots"));
            None
        }
    });
    let dirs: Vec<PathBuf> = setting("SSL_CERT_DIR").map(|v| std::env::split_paths(&v).collect()).unwrap_or_default();
    for dir in &dirs {
        if !dir.is_dir() {
            warnings.push(format!("SSL_CERT_DIR: {} is not a readable directory; skipping it", dir.display()));
        }
    }
    let builtin = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let verifier = Verifier {
        builtin: verifier(builtin, &provider).expect("the built-in root store is not empty"),
        file,
        file_roots: OnceLock::new(),
        dirs,
        provider: Arc::clone(&provider),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    (config, warnings)
}

/// What is wrong with a PEM bundle, found without the cost of full parsing: PEM blocks that do
/// not decode, or hold something other than a certificate.
fn check_bundle(file: &str, pem: &[u8]) -> Option<String> {
    let blocks: Vec<bool> = CertificateDer::pem_slice_iter(pem)
        .map(|block| block.is_ok_and(|der| der::certificate_names(&der).is_some()))
        .collect();
    let good = blocks.iter().filter(|ok| **ok).count();
    match (good, blocks.len() - good) {
        (0, _) => Some(format!("SSL_CERT_FILE: {file} holds no PEM certificate; using the built-in roots")),
        (_, 0) => None,
        (_, bad) => Some(format!("SSL_CERT_FILE: {bad} of the entries in {file} are not certificates; skipping them")),
    }
}

fn verifier(roots: RootCertStore, provider: &Arc<CryptoProvider>) -> Option<Arc<WebPkiServerVerifier>> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider)).build().ok()
}

/// Checks chains against the built-in roots, then against the private ones (see the module doc).
#[derive(Debug)]
struct Verifier {
    builtin: Arc<WebPkiServerVerifier>,
    /// The bytes of `SSL_CERT_FILE`, parsed into `file_roots` on first need.
    file: Option<Vec<u8>>,
    file_roots: OnceLock<Vec<TrustAnchor<'static>>>,
    dirs: Vec<PathBuf>,
    provider: Arc<CryptoProvider>,
}

impl Verifier {
    fn file_roots(&self) -> &[TrustAnchor<'static>] {
        self.file_roots.get_or_init(|| {
            let mut store = RootCertStore::empty();
            if let Some(pem) = &self.file {
                store.add_parsable_certificates(CertificateDer::pem_slice_iter(pem).flatten());
            }
            store.roots
        })
    }

    /// The roots in `SSL_CERT_DIR` whose subject is one of `issuers`.
    fn dir_roots(&self, issuers: &[&[u8]]) -> Vec<TrustAnchor<'static>> {
        let mut store = RootCertStore::empty();
        for issuer in issuers {
            let Some(hash) = der::subject_hash(issuer) else { continue };
            for dir in &self.dirs {
                for cert in hashed_files(dir, &hash) {
                    if der::certificate_names(&cert).is_some_and(|names| names.subject == *issuer) {
                        store.add_parsable_certificates([cert]);
                    }
                }
            }
        }
        store.roots
    }
}

/// The certificates of `<dir>/<hash>.0`, `<hash>.1`, ... up to the first missing one.
fn hashed_files(dir: &Path, hash: &str) -> Vec<CertificateDer<'static>> {
    let mut certificates = Vec::new();
    for n in 0.. {
        let Ok(pem) = std::fs::read(dir.join(format!("{hash}.{n}"))) else { break };
        certificates.extend(CertificateDer::pem_slice_iter(&pem).flatten());
    }
    certificates
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verify = |v: &WebPkiServerVerifier| v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        let error = match verify(&self.builtin) {
            Err(Error::InvalidCertificate(CertificateError::UnknownIssuer))
                if self.file.is_some() || !self.dirs.is_empty() =>
            {
                Error::InvalidCertificate(CertificateError::UnknownIssuer)
            }
            done => return done,
        };
        let mut roots = self.file_roots().to_vec();
        if !self.dirs.is_empty() {
            let chain = std::iter::once(end_entity).chain(intermediates);
            let issuers: Vec<&[u8]> = chain.filter_map(|c| der::certificate_names(c)).map(|n| n.issuer).collect();
            roots.extend(self.dir_roots(&issuers));
        }
        match verifier(RootCertStore { roots }, &self.provider) {
            Some(private) => verify(&private),
            None => Err(error),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.builtin.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.builtin.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.builtin.supported_verify_schemes()
    }
}
