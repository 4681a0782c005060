//! Encryption at rest of a phone's store (feature `encryption`).
//!
//! A phone is lost or stolen with a rep's whole territory on it: customers, contacts, deals,
//! visit photos. So the store file is a SQLCipher database (AES-256 in CBC mode with an
//! HMAC-SHA512 per page, the page format of SQLCipher 4) and each photo is sealed with
//! XChaCha20-Poly1305 ([`crate::attachments`]). SQLCipher is what the mobile teams who answer
//! for their users' data use (Signal on Android and iOS, through SQLCipher for Android and
//! GRDB; most banking and health apps): audited, page-level (the WAL and every page are
//! encrypted, not only rows), and a drop-in SQLite, so every query, index and migration of
//! the store is unchanged.
//!
//! The key is 32 random bytes the app keeps in the platform keystore (on Android wrapped by
//! an Android Keystore key, on iOS a Keychain item readable after the first unlock, on this
//! device only) and hands to the engine when it opens the store. It is given to SQLCipher as
//! a raw key, so no password derivation runs at every open. Photos are sealed with a second
//! random key kept inside the encrypted store: changing the store's key ([`Store::rekey`])
//! re-encrypts the database and leaves the photos as they are.
//!
//! A wrong key, no key for an encrypted store, or a key for a plain one is
//! [`Error::WrongKey`], found before anything is written: the file is left as it was.

use zeroize::Zeroizing;

use crate::{Error, Result};

/// The length of a store key, bytes.
pub const STORE_KEY_BYTES: usize = 32;

/// The key of an encrypted store: 32 bytes, wiped from memory when dropped, never printed.
#[derive(Clone)]
pub struct StoreKey(Zeroizing<[u8; STORE_KEY_BYTES]>);

impl StoreKey {
    /// The key in `bytes`, which must be exactly [`STORE_KEY_BYTES`] long.
    pub fn from_bytes(bytes: &[u8]) -> Result<StoreKey> {
        let key: [u8; STORE_KEY_BYTES] = bytes.try_into().map_err(|_| Error::InvalidInput {
            field: "key",
            detail: format!(
                "a store key is {STORE_KEY_BYTES} bytes, not {}",
                bytes.len()
            ),
        })?;
        Ok(StoreKey(Zeroizing::new(key)))
    }

    /// The key in `bytes` (as the app hands it over), which are wiped once read.
    pub fn from_vec(bytes: Vec<u8>) -> Result<StoreKey> {
        let bytes = Zeroizing::new(bytes);
        Self::from_bytes(&bytes)
    }

    /// A new random key, from the operating system's generator.
    pub fn generate() -> Result<StoreKey> {
        let mut key = Zeroizing::new([0u8; STORE_KEY_BYTES]);
        getrandom::fill(key.as_mut_slice())
            .map_err(|e| Error::Internal(format!("no random key: {e}")))?;
        Ok(StoreKey(key))
    }

    /// The key's bytes, for the app to keep in its keystore.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// The key as SQLCipher reads a raw key in a string: `x'<hex>'`.
    pub(crate) fn raw_literal(&self) -> Zeroizing<String> {
        use std::fmt::Write as _;
        let mut text = Zeroizing::new(String::with_capacity(4 + 2 * STORE_KEY_BYTES));
        text.push_str("x'");
        for b in self.0.iter() {
            let _ = write!(text, "{b:02X}");
        }
        text.push('\'');
        text
    }

    /// The statement that sets (`pragma` = `key`) or changes (`rekey`) the key of a SQLCipher
    /// connection: a raw key in hex, so SQLCipher derives nothing from it.
    pub(crate) fn statement(&self, pragma: &str) -> Zeroizing<String> {
        let literal = self.raw_literal();
        let mut sql = Zeroizing::new(String::with_capacity(32 + literal.len()));
        sql.push_str("PRAGMA ");
        sql.push_str(pragma);
        sql.push_str(" = \"");
        sql.push_str(&literal);
        sql.push_str("\";");
        sql
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_thirty_two_bytes_and_never_printed() {
        assert!(matches!(
            StoreKey::from_bytes(&[7; 31]),
            Err(Error::InvalidInput { field: "key", .. })
        ));
        let key = StoreKey::from_bytes(&[0xab; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "StoreKey(..)");
        assert!(key.statement("key").contains(&"AB".repeat(32)));
        let (a, b) = (StoreKey::generate().unwrap(), StoreKey::generate().unwrap());
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(a.as_bytes().len(), STORE_KEY_BYTES);
    }
}
