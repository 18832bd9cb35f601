//! Accounts deleted, or whose every session was ended (a password reset), while access
//! tokens issued to them may still be alive.
//!
//! An access token is a JWT that the gateway checks with the public key alone, so it stays
//! valid until it expires even when its account is gone; the files service hears of the
//! deletion only through an event, a moment later. The customers service notes a deletion here
//! before it commits it, and the gateway refuses a noted account from then on: a lookup in
//! memory per request instead of one in the customer store. An entry is forgotten once every
//! token issued before the deletion has expired.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// The accounts deleted within the lifetime of an access token, with when.
#[derive(Debug)]
pub struct RevokedAccounts {
    /// Account id → when its deletion was noted.
    deleted_at: RwLock<HashMap<Uuid, DateTime<Utc>>>,
    /// Account id → when every session of it ended: tokens issued before are refused.
    sessions_ended_at: RwLock<HashMap<Uuid, DateTime<Utc>>>,
    /// How long an entry is kept: the longest an access token issued before it may live.
    keep: Duration,
}

impl RevokedAccounts {
    /// An empty list whose entries live `keep`.
    pub fn new(keep: Duration) -> Self {
        Self {
            deleted_at: RwLock::new(HashMap::new()),
            sessions_ended_at: RwLock::new(HashMap::new()),
            keep,
        }
    }

    /// Refuses `id` from now on; forgets entries older than `keep`.
    pub fn revoke(&self, id: Uuid, now: DateTime<Utc>) {
        let mut deleted_at = self
            .deleted_at
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        deleted_at.retain(|_, at| now - *at < self.keep);
        deleted_at.insert(id, now);
    }

    /// Takes `id` back: its deletion did not commit.
    pub fn restore(&self, id: Uuid) {
        self.deleted_at
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&id);
    }

    /// Refuses the tokens of `id` issued before `now`; forgets entries older than `keep`.
    pub fn end_sessions(&self, id: Uuid, now: DateTime<Utc>) {
        let mut ended_at = self
            .sessions_ended_at
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ended_at.retain(|_, at| now - *at < self.keep);
        ended_at.insert(id, now);
    }

    /// Whether a token of `id` issued at `issued_at` (seconds since the epoch, as a JWT says)
    /// came before its sessions were ended. A token of the very second they ended passes:
    /// a login right after a reset must work, and a JWT tells time to the second only.
    pub fn ended_before(&self, id: Uuid, issued_at: i64) -> bool {
        self.sessions_ended_at
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&id)
            .is_some_and(|ended| issued_at < ended.timestamp())
    }

    /// Whether `id` was deleted.
    pub fn contains(&self, id: Uuid) -> bool {
        self.deleted_at
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains_key(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_lives_as_long_as_a_token_could() {
        let revoked = RevokedAccounts::new(Duration::seconds(60));
        let (gone, restored, later) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let now = Utc::now();
        revoked.revoke(gone, now);
        revoked.revoke(restored, now);
        revoked.restore(restored);
        assert!(revoked.contains(gone));
        assert!(!revoked.contains(restored));
        revoked.revoke(later, now + Duration::seconds(61));
        assert!(!revoked.contains(gone), "an old entry is forgotten");
        assert!(revoked.contains(later));
    }

    #[test]
    fn tokens_issued_before_the_sessions_ended_are_refused() {
        let revoked = RevokedAccounts::new(Duration::seconds(60));
        let (reset, other) = (Uuid::now_v7(), Uuid::now_v7());
        let now = Utc::now();
        revoked.end_sessions(reset, now);
        assert!(revoked.ended_before(reset, now.timestamp() - 1));
        assert!(!revoked.ended_before(reset, now.timestamp()));
        assert!(!revoked.ended_before(other, now.timestamp() - 1));
    }
}
