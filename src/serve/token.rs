//! The service's secrets: tokens compared in constant time, and the random codes of page ids
//! and acknowledge links.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

/// A token, kept as its SHA-256: comparing digests takes the same time whatever the given
/// value's length and however much of it is right.
pub struct Token([u8; 32]);

impl Token {
    pub fn new(value: &str) -> Token {
        Token(Sha256::digest(value.as_bytes()).into())
    }

    pub fn matches(&self, given: &str) -> bool {
        let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        let difference = self.0.iter().zip(given).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        // `black_box` keeps the compiler from turning the fold back into an early exit.
        std::hint::black_box(difference) == 0
    }
}

/// `bytes` random bytes from the operating system, URL-safe (16 bytes = 128 bits, 22 characters).
pub fn random_code(bytes: usize) -> Result<String, ring::error::Unspecified> {
    let mut buffer = vec![0u8; bytes];
    SystemRandom::new().fill(&mut buffer)?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_themselves() {
        let token = Token::new("0123456789abcdef0123");
        assert!(token.matches("0123456789abcdef0123"));
        assert!(!token.matches("0123456789abcdef012"));
        assert!(!token.matches(""));
    }

    #[test]
    fn codes_are_url_safe_and_differ() {
        let (a, b) = (random_code(16).unwrap(), random_code(16).unwrap());
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{a}");
    }
}
