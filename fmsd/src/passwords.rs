//! Password hashing with argon2id, for customers' passwords and link passwords alike.
//!
//! The crate's defaults follow OWASP (19 MiB, 2 passes). Both calls run off the async threads,
//! since they are deliberately slow.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::{Error, Result};

/// The argon2id PHC string of `password`, with a fresh salt.
pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| Error::internal(anyhow::anyhow!("failed to hash a password: {error}")))
    })
    .await
    .map_err(Error::internal)?
}

/// Whether `password` matches the PHC string `hash`. For `None` it checks against a dummy hash
/// and answers `false`, so an unknown account costs as much time as a known one.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let parsed = PasswordHash::new(&hash).map_err(|error| {
            Error::internal(anyhow::anyhow!(
                "a stored password hash is malformed: {error}"
            ))
        })?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known)
    })
    .await
    .map_err(Error::internal)?
}

/// A hash of a random password, made once, to verify against when there is no hash.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(uuid::Uuid::new_v4().to_string().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}
