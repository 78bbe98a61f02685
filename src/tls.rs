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
use std::sync::Arc;

use base64::Engine as _;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

use crate::context::Env;
use crate::der;

/// The TLS client configuration for `env`, and what was wrong with its trust settings.
pub fn client_config(env: &Env) -> (rustls::ClientConfig, Vec<String>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut warnings = Vec::new();
    let setting = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_string);
    let file = setting("SSL_CERT_FILE").map(|file| match std::fs::read(&file) {
        Ok(pem) => {
            let (certificates, warning) = read_bundle(&file, &pem);
            warnings.extend(warning);
            certificates
        }
        Err(e) => {
            warnings.push(format!("SSL_CERT_FILE: cannot read {file} ({e}); using the built-in roots"));
            Bundle::default()
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

/// The certificates of a PEM bundle, decoded into one buffer: a system bundle holds some 150,
/// and one allocation each costs more than the decoding (musl's allocator maps and unmaps
/// memory for them, and unmapping is slow in a process with threads).
#[derive(Debug, Default)]
struct Bundle {
    der: Vec<u8>,
    certificates: Vec<std::ops::Range<usize>>,
}

impl Bundle {
    fn iter(&self) -> impl Iterator<Item = CertificateDer<'_>> {
        self.certificates.iter().map(|range| CertificateDer::from(&self.der[range.clone()]))
    }
}

/// Reads a PEM bundle, and says what is wrong with it, if anything: `CERTIFICATE` blocks that
/// do not decode or hold something other than a certificate. Decoding is cheap; turning a
/// certificate into a trust anchor is left until a chain names it as its issuer. (The `base64`
/// crate decodes several times faster than rustls' PEM reader, whose constant-time decoder is
/// built for private keys; certificates are public.)
fn read_bundle(file: &str, pem: &[u8]) -> (Bundle, Option<String>) {
    let mut bundle = Bundle { der: Vec::with_capacity(pem.len() / 4 * 3), certificates: Vec::new() };
    let mut bad = 0;
    let mut body: Option<Vec<u8>> = None;
    let mut base64 = Vec::new();
    for line in pem.split(|&b| b == b'\n').map(<[u8]>::trim_ascii) {
        match (line, &mut body) {
            (b"-----BEGIN CERTIFICATE-----", _) => {
                base64.clear();
                body = Some(std::mem::take(&mut base64));
            }
            (b"-----END CERTIFICATE-----", Some(_)) => {
                base64 = body.take().unwrap_or_default();
                let start = bundle.der.len();
                let decoded = base64::engine::general_purpose::STANDARD.decode_vec(&base64, &mut bundle.der);
                if decoded.is_ok() && der::certificate_names(&bundle.der[start..]).is_some() {
                    bundle.certificates.push(start..bundle.der.len());
                } else {
                    bundle.der.truncate(start);
                    bad += 1;
                }
            }
            (_, Some(body)) => body.extend_from_slice(line),
            _ => {}
        }
    }
    bad += usize::from(body.is_some()); // a block that never ends
    let warning = match (bundle.certificates.len(), bad) {
        (0, _) => Some(format!("SSL_CERT_FILE: {file} holds no PEM certificate; using the built-in roots")),
        (_, 0) => None,
        (_, bad) => Some(format!("SSL_CERT_FILE: {bad} of the entries in {file} are not certificates; skipping them")),
    };
    (bundle, warning)
}

fn verifier(roots: RootCertStore, provider: &Arc<CryptoProvider>) -> Option<Arc<WebPkiServerVerifier>> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider)).build().ok()
}

/// Checks chains against the built-in roots, then against the private ones (see the module doc).
#[derive(Debug)]
struct Verifier {
    builtin: Arc<WebPkiServerVerifier>,
    /// The certificates of `SSL_CERT_FILE`, if it is set.
    file: Option<Bundle>,
    dirs: Vec<PathBuf>,
    provider: Arc<CryptoProvider>,
}

impl Verifier {
    /// The private roots that could have issued a certificate of the chain: those of
    /// `SSL_CERT_FILE` and of the `SSL_CERT_DIR` files named after the issuer's subject hash,
    /// whose subject is one of `issuers`.
    fn roots_for(&self, issuers: &[&[u8]]) -> RootCertStore {
        let named = |cert: &CertificateDer<'_>| {
            der::certificate_names(cert).is_some_and(|names| issuers.contains(&names.subject))
        };
        let mut store = RootCertStore::empty();
        let file = self.file.iter().flat_map(Bundle::iter).filter(|c| named(c)).map(|c| c.into_owned());
        store.add_parsable_certificates(file);
        for hash in issuers.iter().filter_map(|issuer| der::subject_hash(issuer)) {
            for dir in &self.dirs {
                store.add_parsable_certificates(hashed_files(dir, &hash).into_iter().filter(|c| named(c)));
            }
        }
        store
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
        let chain = std::iter::once(end_entity).chain(intermediates);
        let issuers: Vec<&[u8]> = chain.filter_map(|c| der::certificate_names(c)).map(|n| n.issuer).collect();
        match verifier(self.roots_for(&issuers), &self.provider) {
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
