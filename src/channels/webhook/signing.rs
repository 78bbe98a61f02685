//! Standard Webhooks signing, spec v1.0.0 (`docs/providers.md`, "Webhooks"): `webhook-signature`
//! is `v1,` plus the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`. Pure: the
//! caller picks the id and the timestamp, so the published test vector can be checked exactly.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How Standard Webhooks shows a secret: this prefix, then the key in base64.
pub const SECRET_PREFIX: &str = "whsec_";

/// Holds the HMAC key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(***)")
    }
}

impl Signer {
    /// A `whsec_` secret is base64-decoded (as the reference libraries do); any other secret is
    /// used as its raw UTF-8 bytes. Surrounding whitespace (a pasted newline) is ignored. The
    /// error never quotes the secret, nor the offending character.
    pub fn new(secret: &str) -> Result<Signer, String> {
        let secret = secret.trim();
        let key = match secret.strip_prefix(SECRET_PREFIX) {
            // Padding is optional: a secret copied without its trailing `=` still works.
            Some(encoded) => STANDARD_PAD_INDIFFERENT.decode(encoded).map_err(|_| {
                "starts with whsec_ but the rest is not valid base64; copy the whole secret from the \
                 receiver, or give a secret without the whsec_ prefix to use it as raw bytes"
                    .to_string()
            })?,
            None => secret.as_bytes().to_vec(),
        };
        if key.is_empty() {
            return Err("holds no key after whsec_; copy the whole secret from the receiver".into());
        }
        Ok(Signer { key })
    }

    /// The `webhook-signature` value for one attempt.
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts a key of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// A fresh `webhook-id`: `msg_` and 27 random letters and digits (~160 bits), the shape the
/// reference implementations use. It is an idempotency key, not a secret, so a fast RNG will do.
pub fn message_id() -> String {
    let random: String = std::iter::repeat_with(fastrand::alphanumeric).take(27).collect();
    format!("msg_{random}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_test_vector() {
        let signer = Signer::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            signer.sign("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn any_change_changes_the_signature() {
        let signer = Signer::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let base = signer.sign("msg_1", 1, b"{}");
        assert_ne!(base, signer.sign("msg_2", 1, b"{}"));
        assert_ne!(base, signer.sign("msg_1", 2, b"{}"));
        assert_ne!(base, signer.sign("msg_1", 1, b"{ }"));
    }

    #[test]
    fn raw_secrets_are_used_as_bytes() {
        // Verified independently: HMAC-SHA256 keyed with the bytes of "raw-secret" over "m.1.{}".
        let raw = Signer::new(" raw-secret\n").unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(b"raw-secret").unwrap();
        mac.update(b"m.1.{}");
        assert_eq!(raw.sign("m", 1, b"{}"), format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())));
        // whsec_ + base64 of those bytes is the same key.
        let encoded = Signer::new(&format!("whsec_{}", STANDARD.encode("raw-secret"))).unwrap();
        assert_eq!(encoded.sign("m", 1, b"{}"), raw.sign("m", 1, b"{}"));
        // Padding may be left off.
        let unpadded = Signer::new("whsec_cmF3LXNlY3JldA").unwrap();
        assert_eq!(unpadded.sign("m", 1, b"{}"), raw.sign("m", 1, b"{}"));
    }

    #[test]
    fn bad_whsec_secrets_are_refused_without_quoting_them() {
        let err = Signer::new("whsec_not*base64!").unwrap_err();
        assert!(err.contains("not valid base64") && !err.contains("not*base64"), "{err}");
        assert!(Signer::new("whsec_").is_err());
        assert_eq!(format!("{:?}", Signer::new("k-123456").unwrap()), "Signer(***)");
    }

    #[test]
    fn message_ids_are_unique_and_well_formed() {
        let (a, b) = (message_id(), message_id());
        assert_ne!(a, b);
        assert!(a.starts_with("msg_") && a.len() == 31 && a[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
