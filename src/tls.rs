//! Which HTTPS servers onfail trusts: the built-in web roots, plus the private CAs of
//! `SSL_CERT_FILE` and `SSL_CERT_DIR` (docs/delivery.md, "Delivery").
//!
//! The private roots cost next to nothing until a chain needs them. A certificate chain is
//! checked against the built-in roots first; only when that fails for want of a known issuer
//! are the `SSL_CERT_FILE` roots and, as OpenSSL does, the `SSL_CERT_DIR` files named after
//! the issuer's subject hash (`<hash>.0`, `<hash>.1`, ...) tried. Of the file, only the start
//! of each certificate is decoded up front, to know its subject. A runner that points
//! `SSL_CERT_DIR` at `/etc/ssl/certs` thus pays for one or two files, not for every one.
//!
//! A missing, unreadable or broken file is a warning, never an error: the built-in roots still
//! apply and the alert still goes out.

use std::ops::Range;
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
    let setting = |name: &str| crate::context::var(env, name).map(str::to_string);
    let file = setting("SSL_CERT_FILE").map(|file| match std::fs::read(&file) {
        Ok(pem) => {
            let (certificates, warning) = Bundle::read(&file, pem);
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

/// The certificates of a PEM bundle, found but not yet decoded: a system bundle holds some
/// 150, and a chain can use one or two. Each subject is read from the start of its block
/// alone; a whole certificate is decoded only when a chain names its subject as an issuer.
/// The subjects share one buffer: one allocation each would cost more than the reading (musl's
/// allocator maps and unmaps memory for them, and unmapping is slow in a process with threads).
#[derive(Debug, Default)]
struct Bundle {
    pem: Vec<u8>,
    subjects: Vec<u8>,
    /// Per certificate: its subject in `subjects`, its base64 body (with line breaks) in `pem`.
    certificates: Vec<(Range<usize>, Range<usize>)>,
}

/// How much of a block is decoded to read the subject: 768 base64 characters, 576 bytes.
/// The fields up to the subject (version, serial number, algorithm, issuer, validity, subject)
/// end within 490 bytes in every certificate of Debian's bundle, 274 on average, of some 1,080
/// in all; a block whose subject ends later is decoded whole.
const START: usize = 768;

impl Bundle {
    /// Finds the certificates of `pem`, and says what is wrong with it, if anything:
    /// `CERTIFICATE` blocks whose start does not decode or is not a certificate's, or that never
    /// end. (The `base64` crate decodes several times faster than rustls' PEM reader, whose
    /// constant-time decoder is built for private keys; certificates are public. `memchr` finds
    /// the blocks and line ends many bytes at a time.)
    fn read(file: &str, pem: Vec<u8>) -> (Bundle, Option<String>) {
        let begin = memchr::memmem::Finder::new(b"-----BEGIN CERTIFICATE-----");
        let end = memchr::memmem::Finder::new(b"-----END CERTIFICATE-----");
        let (mut subjects, mut certificates, mut bad) = (Vec::new(), Vec::new(), 0);
        let (mut base64, mut der) = (Vec::new(), Vec::new());
        let mut at = 0;
        while let Some(found) = begin.find(&pem[at..]) {
            let body_start = at + found + begin.needle().len();
            let Some(length) = end.find(&pem[body_start..]) else {
                bad += 1; // a block that never ends
                break;
            };
            let body = body_start..body_start + length;
            at = body.end + end.needle().len();
            // Appends the subject to `subjects` if the block's start (or, unlimited, all of it)
            // holds a certificate's names; says whether it did, and whether the block was cut.
            let subject_start = subjects.len();
            let mut read_subject = |limit| {
                base64_of(&pem[body.clone()], limit, &mut base64);
                der.clear();
                let cut = base64.len() == limit;
                let decoded = base64::engine::general_purpose::STANDARD.decode_vec(&base64, &mut der).is_ok();
                let names = if cut { der::certificate_names_at_start(&der) } else { der::certificate_names(&der) };
                let subject = names.filter(|_| decoded).map(|n| n.subject);
                subjects.extend_from_slice(subject.unwrap_or_default());
                (subject.is_some(), cut)
            };
            let (found, cut) = read_subject(START);
            let found = found || (cut && read_subject(usize::MAX).0);
            if found {
                certificates.push((subject_start..subjects.len(), body));
            } else {
                bad += 1;
            }
        }
        let warning = match (certificates.len(), bad) {
            (0, _) => Some(format!("SSL_CERT_FILE: {file} holds no PEM certificate; using the built-in roots")),
            (_, 0) => None,
            (_, bad) => {
                Some(format!("SSL_CERT_FILE: {bad} of the entries in {file} are not certificates; skipping them"))
            }
        };
        (Bundle { pem, subjects, certificates }, warning)
    }

    /// The certificates whose subject is one of `issuers`, decoded whole. One whose end does
    /// not decode is left out (a chain it would have completed then fails its channel).
    fn issuers_of(&self, issuers: &[&[u8]]) -> Vec<CertificateDer<'static>> {
        let mut base64 = Vec::new();
        self.certificates
            .iter()
            .filter(|(subject, _)| issuers.contains(&&self.subjects[subject.clone()]))
            .filter_map(|(_, body)| {
                base64_of(&self.pem[body.clone()], usize::MAX, &mut base64);
                base64::engine::general_purpose::STANDARD.decode(&base64).ok().map(CertificateDer::from)
            })
            .collect()
    }
}

/// The base64 of a PEM body without its line breaks and spaces, up to `limit` characters.
fn base64_of(body: &[u8], limit: usize, out: &mut Vec<u8>) {
    out.clear();
    let mut line_start = 0;
    for line_end in memchr::memchr_iter(b'\n', body).chain([body.len()]) {
        out.extend_from_slice(body[line_start..line_end].trim_ascii());
        line_start = line_end + 1;
        if out.len() >= limit {
            out.truncate(limit);
            return;
        }
    }
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
        if let Some(file) = &self.file {
            store.add_parsable_certificates(file.issuers_of(issuers).into_iter().filter(|c| named(c)));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem(name: &str, extra_names: usize) -> String {
        let names = (0..extra_names).map(|n| format!("n{n}.onfail.test")).collect::<Vec<_>>();
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap().pem()
    }

    #[test]
    fn a_bundle_cut_anywhere_never_panics_and_is_whole_only_when_whole() {
        for pem in [ca_pem("onfail short CA", 0), ca_pem("onfail long CA", 40)] {
            let whole = format!("{pem}\r\n{pem}");
            for end in 0..=whole.len() {
                let (bundle, warning) = Bundle::read("b.pem", whole.as_bytes()[..end].to_vec());
                let begun = whole[..end].matches("-----BEGIN CERTIFICATE-----").count();
                let complete = whole[..end].matches("-----END CERTIFICATE-----").count();
                assert_eq!(bundle.certificates.len(), complete, "{end}");
                assert_eq!(warning.is_none(), complete > 0 && begun == complete, "{end}: {warning:?}");
            }
        }
    }

    #[test]
    fn a_certificate_is_decoded_whole_only_for_the_issuer_a_chain_names() {
        let pem = ca_pem("onfail long CA", 40);
        let der = CertificateDer::pem_slice_iter(pem.as_bytes()).next().unwrap().unwrap();
        let subject = der::certificate_names(&der).unwrap().subject.to_vec();
        let (bundle, warning) =
            Bundle::read("b.pem", format!(" {pem}\n\n{}", ca_pem("onfail short CA", 0)).into_bytes());
        assert_eq!((bundle.certificates.len(), warning), (2, None));
        assert_eq!(bundle.issuers_of(&[&subject]), vec![der]);
        assert_eq!(bundle.issuers_of(&[b"not a name"]), vec![]);
    }
}
