//! Just enough DER to find a certificate's issuer and subject names and to compute OpenSSL's
//! subject hash of a name, the file name `c_rehash` / `openssl rehash` give a CA in a
//! certificate directory (`<hash>.0`). Used by [`crate::tls`] to look up only the CA a chain
//! needs; everything else about a certificate is left to rustls.

/// The names of a certificate, each the contents of its `Name` SEQUENCE (the form rustls and
/// webpki use for a trust anchor's subject).
#[derive(Debug, PartialEq, Eq)]
pub struct Names<'a> {
    pub issuer: &'a [u8],
    pub subject: &'a [u8],
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;

/// `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
/// signature, issuer, validity, subject, ... }, ... }` (RFC 5280, section 4.1).
pub fn certificate_names(der: &[u8]) -> Option<Names<'_>> {
    let (tag, certificate, _) = read(der)?;
    let (tbs_tag, tbs, _) = read(certificate).filter(|_| tag == SEQUENCE)?;
    tbs_names(tbs).filter(|_| tbs_tag == SEQUENCE)
}

/// The names of a certificate read from its first bytes alone: the two outer SEQUENCEs may
/// end past `start`, but every field up to the subject must be within it.
pub fn certificate_names_at_start(start: &[u8]) -> Option<Names<'_>> {
    let (tag, length, certificate) = header(start)?;
    let (tbs_tag, tbs_length, tbs) = header(certificate).filter(|_| tag == SEQUENCE)?;
    let tbs = tbs.get(..tbs_length).unwrap_or(tbs);
    tbs_names(tbs).filter(|_| tbs_tag == SEQUENCE && tbs_length < length)
}

/// The issuer and subject among the fields of a `tbsCertificate`.
fn tbs_names(tbs: &[u8]) -> Option<Names<'_>> {
    let mut rest = tbs;
    let mut next = || -> Option<(u8, &[u8])> {
        let (tag, value, after) = read(rest)?;
        rest = after;
        Some((tag, value))
    };
    let mut field = next()?;
    if field.0 == 0xa0 {
        field = next()?; // the explicit version
    }
    let _serial = field;
    let _signature = next()?;
    let (issuer_tag, issuer) = next()?;
    let _validity = next()?;
    let (subject_tag, subject) = next()?;
    (issuer_tag == SEQUENCE && subject_tag == SEQUENCE).then_some(Names { issuer, subject })
}

/// OpenSSL's `X509_NAME_hash` of a name (the contents of its SEQUENCE), as eight hex digits:
/// the first four bytes, little-endian, of the SHA-1 of the name's canonical encoding. The
/// canonical encoding turns every string value into UTF-8, trims it, collapses runs of white
/// space into one space and lower-cases ASCII, and then concatenates the RDN SETs.
pub fn subject_hash(name: &[u8]) -> Option<String> {
    let mut canonical = Vec::new();
    let mut rdns = name;
    while !rdns.is_empty() {
        let (tag, rdn, after) = read(rdns)?;
        rdns = after;
        if tag != SET {
            return None;
        }
        let mut entries = Vec::new();
        let mut rest = rdn;
        while !rest.is_empty() {
            let (tag, entry, after) = read(rest)?;
            rest = after;
            let (oid_tag, oid, value) = read(entry).filter(|_| tag == SEQUENCE)?;
            let (value_tag, content, trailing) = read(value)?;
            if oid_tag != 0x06 || !trailing.is_empty() {
                return None;
            }
            let value = match canonical_string(value_tag, content) {
                Some(text) => encode(0x0c, text.as_bytes()),
                None if is_string(value_tag) => return None,
                None => value.to_vec(),
            };
            entries.push(encode(SEQUENCE, &[encode(0x06, oid), value].concat()));
        }
        // DER orders the members of a SET OF by their encodings.
        entries.sort();
        canonical.extend(encode(SET, &entries.concat()));
    }
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &canonical);
    let first = u32::from_le_bytes(digest.as_ref()[..4].try_into().ok()?);
    Some(format!("{first:08x}"))
}

/// The string types OpenSSL canonicalises (`ASN1_MASK_CANON`).
fn is_string(tag: u8) -> bool {
    matches!(tag, 0x0c | 0x13 | 0x14 | 0x16 | 0x1a | 0x1c | 0x1e)
}

fn canonical_string(tag: u8, content: &[u8]) -> Option<String> {
    let text: String = match tag {
        0x0c => String::from_utf8(content.to_vec()).ok()?,
        // PrintableString, IA5String, VisibleString; T61String is read as Latin-1, as OpenSSL does.
        0x13 | 0x14 | 0x16 | 0x1a => content.iter().map(|&b| char::from(b)).collect(),
        0x1e => char::decode_utf16(content.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])))
            .collect::<Result<_, _>>()
            .ok()?,
        0x1c => content
            .chunks_exact(4)
            .map(|q| char::from_u32(u32::from_be_bytes([q[0], q[1], q[2], q[3]])))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    // OpenSSL's white space: space, \t, \n, \v, \f, \r.
    let space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r');
    let mut out = String::with_capacity(text.len());
    for word in text.split(space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    Some(out)
}

/// Reads one TLV: (tag, contents, the bytes after it). Single-byte tags, definite lengths.
fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (tag, length, rest) = header(input)?;
    let contents = rest.get(..length)?;
    Some((tag, contents, &rest[length..]))
}

/// Reads the tag and length of a TLV: (tag, length, the bytes after the header).
fn header(input: &[u8]) -> Option<(u8, usize, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81..=0x84 => {
            let count = usize::from(first & 0x7f);
            let bytes = rest.get(..count)?;
            (bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b)), &rest[count..])
        }
        _ => return None,
    };
    Some((tag, length, rest))
}

fn encode(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = contents.len();
    match length {
        0..=0x7f => out.push(length as u8),
        _ => {
            let bytes = length.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend(&bytes[skip..]);
        }
    }
    out.extend(contents);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_round_trip_and_refusals() {
        for size in [0, 1, 127, 128, 255, 256, 70_000] {
            let value = vec![7u8; size];
            let encoded = encode(0x04, &value);
            assert_eq!(read(&encoded), Some((0x04, value.as_slice(), &[][..])), "{size}");
            assert_eq!(read(&encoded[..encoded.len() - 1]).filter(|_| size > 0), None, "{size} cut");
        }
        assert_eq!(read(&[0x30, 0x80]), None, "indefinite lengths are not DER");
        assert_eq!(read(&[]), None);
    }

    #[test]
    fn names_are_read_from_the_start_of_a_certificate_alone() {
        let names = (0..40).map(|n| format!("n{n}.onfail.test")).collect::<Vec<_>>();
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "onfail start CA");
        let cert = params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap();
        let der: &[u8] = cert.der();
        let whole = certificate_names(der).unwrap();
        let subject_end = whole.subject.as_ptr() as usize - der.as_ptr() as usize + whole.subject.len();
        assert!(der.len() > subject_end + 500, "the extensions follow the subject");
        for end in 0..=der.len() {
            let start = certificate_names_at_start(&der[..end]);
            assert_eq!(start.as_ref(), (end >= subject_end).then_some(&whole), "{end} of {}", der.len());
            assert_eq!(certificate_names(&der[..end]).is_some(), end == der.len(), "{end}");
        }
    }

    #[test]
    fn canonical_strings_follow_openssl() {
        assert_eq!(canonical_string(0x13, b"  Onfail   Test\tCA "), Some("onfail test ca".into()));
        assert_eq!(canonical_string(0x0c, "Çağrı ÇA".as_bytes()), Some("Çağrı Ça".into()));
        assert_eq!(canonical_string(0x1e, &[0, b'A', 0, b'b']), Some("ab".into()));
        assert_eq!(canonical_string(0x0c, &[0xff]), None);
    }

    /// `openssl x509 -subject_hash` of these roots, as Debian's `/etc/ssl/certs` names them.
    #[test]
    fn subject_hashes_match_openssl() {
        for (name, hash) in [("ISRG Root X1", "4042bcee"), ("DigiCert Global Root G2", "607986c7")] {
            let root = webpki_roots::TLS_SERVER_ROOTS
                .iter()
                .find(|r| r.subject.windows(name.len()).any(|w| w == name.as_bytes()))
                .unwrap_or_else(|| panic!("{name} is a built-in root"));
            assert_eq!(subject_hash(&root.subject).as_deref(), Some(hash), "{name}");
        }
    }
}
