//! The port the limits are kept behind, in the words of the limiter: keys, rates, and whether
//! an attempt gets in. Its adapters (`adapters/`) are process memory, for one instance, and a
//! SQL table, shared by every instance of a stack.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::gcra::{Micros, Rate};
use crate::error::Result;

/// What a limit is kept under. Never a secret in clear: an e-mail address is hashed, a link is
/// named by its token's hash; only a client's IP is kept as it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LimitKey(String);

impl LimitKey {
    /// Logins from the client `ip`.
    pub fn login_client(ip: IpAddr) -> Self {
        Self(format!("login-ip:{ip}"))
    }

    /// Password attempts on the account of `email` (logins and current-password checks
    /// alike), case and surrounding blanks ignored, so every spelling of one address is one
    /// key. The address is hashed: a key names it without holding it.
    pub fn account(email: &str) -> Self {
        let normalized = email.trim().to_lowercase();
        Self(format!(
            "account:{}",
            hex::encode(Sha256::digest(normalized.as_bytes()))
        ))
    }

    /// Mails with a code sent to `email` (hashed like [`LimitKey::account`]).
    pub fn mail_to(email: &str) -> Self {
        let normalized = email.trim().to_lowercase();
        Self(format!(
            "mail-to:{}",
            hex::encode(Sha256::digest(normalized.as_bytes()))
        ))
    }

    /// Mails with a code asked for from the client `ip`.
    pub fn mail_client(ip: IpAddr) -> Self {
        Self(format!("mail-ip:{ip}"))
    }

    /// Wrong passwords on the link whose token hashes to `token_hash`.
    pub fn link(token_hash: &str) -> Self {
        Self(format!("link:{token_hash}"))
    }

    /// Wrong link passwords from the client `ip`, on any link.
    pub fn link_client(ip: IpAddr) -> Self {
        Self(format!("link-ip:{ip}"))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One limit an attempt counts against: a key and its rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// What is limited.
    pub key: LimitKey,
    /// How fast.
    pub rate: Rate,
}

/// Whether an attempt got in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It counted against every limit.
    Admitted,
    /// It counted against none: a limit is used up until `retry_after` has passed.
    Refused {
        /// The longest wait among the limits that refused it.
        retry_after: Duration,
    },
}

/// Where the limits are kept. Each call is one atomic step on the store: two instances counting
/// the same key at the same moment both count.
#[async_trait]
pub trait RateLimitStore: Send + Sync + std::fmt::Debug {
    /// Counts one attempt at `now` against each of `limits` (distinct keys), all or none: a
    /// refused attempt charges no key, so what one limit refuses does not use up another.
    async fn acquire(&self, limits: Vec<Limit>, now: Micros) -> Result<Verdict>;

    /// Gives back one attempt [`RateLimitStore::acquire`] counted against each of `limits`.
    async fn give_back(&self, limits: Vec<Limit>) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_key_hides_the_address_and_ignores_its_case() {
        let key = LimitKey::account(" Ann@Example.com ");
        assert_eq!(key, LimitKey::account("ann@example.com"));
        assert!(!key.as_str().to_lowercase().contains("ann"), "{key:?}");
        assert_ne!(key, LimitKey::account("bob@example.com"));
    }

    #[test]
    fn logins_and_link_guesses_from_one_client_are_counted_apart() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_ne!(LimitKey::login_client(ip), LimitKey::link_client(ip));
    }
}
