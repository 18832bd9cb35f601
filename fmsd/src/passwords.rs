//! Password hashing with argon2id, for customers' passwords and link passwords alike.
//!
//! The crate's defaults follow OWASP (19 MiB, 2 passes). Both calls run off the async threads,
//! since they are deliberately slow, and at most one per core at a time: more would not hash
//! faster, only hold more memory (19 MiB each) and make every login in the burst wait as long as
//! the slowest. Logins beyond that wait their turn in order.

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::{Error, Result};

/// The argon2id PHC string of `password`, with a fresh salt.
pub async fn hash(password: String) -> Result<String> {
    on_a_core(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| Error::internal(anyhow::anyhow!("failed to hash a password: {error}")))
    })
    .await
}

/// Whether `password` matches the PHC string `hash`. For `None` it checks against a dummy hash
/// and answers `false`, so an unknown account costs as much time as a known one.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool> {
    on_a_core(move || {
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
}

/// Runs `work` on the blocking pool once a core is free for it. The turn goes with the work, so
/// a caller that stops waiting does not free a core still hashing for it.
async fn on_a_core<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    static CORES: OnceLock<Arc<Semaphore>> = OnceLock::new();
    let cores = CORES.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Arc::new(Semaphore::new(n))
    });
    let turn = cores
        .clone()
        .acquire_owned()
        .await
        .map_err(Error::internal)?;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
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
