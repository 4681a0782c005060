use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash as Phc;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::model::Password;
use crate::store::PasswordHash;

/// Hashing failed on the server side (never because of the password given).
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// argon2 refused to hash (out of memory, random source failed).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A stored hash is not a valid PHC string.
    #[error("a stored password hash is damaged")]
    StoredHashDamaged,
    /// The blocking task did not finish.
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The semaphore was closed (shutting down).
    #[error("password hashing is shut down")]
    Closed,
}

/// Hashes and verifies passwords off the async workers, a bounded number at a time.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    decoy: Arc<PasswordHash>,
}

fn hash_blocking(clear: &str) -> Result<PasswordHash, PasswordError> {
    // argon2id, 19 MiB, 2 passes, 1 lane: the OWASP recommendation. The parameters are
    // stored in each PHC string, so raising them later still verifies older hashes.
    let hash: Phc = Argon2::default()
        .hash_password(clear.as_bytes())
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(PasswordHash(hash.to_string()))
}

impl Passwords {
    /// A hasher allowing `max_concurrent` hashes at once. Computes the decoy hash.
    pub async fn new(max_concurrent: usize) -> Result<Self, PasswordError> {
        let decoy =
            tokio::task::spawn_blocking(|| hash_blocking("decoy password, never valid")).await??;
        Ok(Passwords {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            decoy: Arc::new(decoy),
        })
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Closed)?;
        let clear = password.expose().to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&clear)).await?
    }

    /// Whether `password` matches `stored`. With no stored hash (unknown login) it checks a
    /// decoy and answers `false`, taking the same time as a real check.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::Closed)?;
        let real = stored.is_some();
        let hash = stored.unwrap_or(&self.decoy).0.clone();
        let clear = password.expose().to_owned();
        let matched = tokio::task::spawn_blocking(move || {
            let parsed = Phc::new(&hash).map_err(|_| PasswordError::StoredHashDamaged)?;
            Ok::<_, PasswordError>(
                Argon2::default()
                    .verify_password(clear.as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await??;
        Ok(real && matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_never_contains_it() {
        let passwords = Passwords::new(2).await.unwrap();
        let right = Password::new("correct horse battery staple");
        let hash = passwords.hash(&right).await.unwrap();
        assert!(hash.0.starts_with("$argon2id$"));
        assert!(!hash.0.contains("horse"));
        assert!(passwords.verify(&right, Some(&hash)).await.unwrap());
        let wrong = Password::new("correct horse battery stapler");
        assert!(!passwords.verify(&wrong, Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_login_never_verifies_even_with_the_decoy_password() {
        let passwords = Passwords::new(1).await.unwrap();
        let decoy = Password::new("decoy password, never valid");
        assert!(!passwords.verify(&decoy, None).await.unwrap());
    }
}
