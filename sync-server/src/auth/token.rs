use std::fmt;

use sha2::{Digest, Sha256};

use crate::store::TokenHash;

/// What every token starts with, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "fsd_";

/// A bearer token in clear: shown to the device once, never stored or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(BearerToken(format!("{TOKEN_PREFIX}{}", hex::encode(bytes))))
    }

    /// Wraps a token presented by a client.
    pub fn presented(text: &str) -> Self {
        BearerToken(text.to_owned())
    }

    /// The token text, to hand to the device.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_hashed_stably() {
        let a = BearerToken::generate().unwrap();
        let b = BearerToken::generate().unwrap();
        assert_ne!(a, b);
        assert!(a.expose().starts_with(TOKEN_PREFIX));
        assert_eq!(a.expose().len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(a.hash(), BearerToken::presented(a.expose()).hash());
        assert_ne!(a.hash(), b.hash());
        assert!(!format!("{a:?}").contains(&a.expose()[4..]));
    }
}
