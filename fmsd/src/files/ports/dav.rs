//! The store WebDAV needs beside the tree: dead properties of nodes and locks on paths. Kept in
//! the files database, so every instance of a stack sees the same locks.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::files::domain::{DavLockRecord, DeadProp};

/// Dead properties and locks, per owner.
#[async_trait]
pub trait DavRepo: Send + Sync {
    /// The dead properties of `owner`'s node `node`; they go with the node (a move keeps them,
    /// deleting the node drops them).
    async fn dead_props(&self, owner: Uuid, node: Uuid) -> Result<Vec<DeadProp>>;

    /// The nodes of `owner` that have dead properties.
    async fn nodes_with_dead_props(&self, owner: Uuid) -> Result<Vec<Uuid>>;

    /// Applies `changes` to the node in order (`true`: set the property, `false`: remove the
    /// one of that namespace and name), all or nothing.
    async fn patch_dead_props(
        &self,
        owner: Uuid,
        node: Uuid,
        changes: Vec<(bool, DeadProp)>,
    ) -> Result<()>;

    /// Every lock of `owner` unexpired at `now`.
    async fn dav_locks(&self, owner: Uuid, now: DateTime<Utc>) -> Result<Vec<DavLockRecord>>;

    /// Takes `lock` unless an unexpired lock conflicts with it (by
    /// [`crate::files::domain::first_conflict`]), which is returned instead; checked and
    /// written in one transaction under the owner's lock, so two instances never both win.
    async fn add_dav_lock(
        &self,
        lock: DavLockRecord,
        now: DateTime<Utc>,
    ) -> Result<Option<DavLockRecord>>;

    /// Sets a new end of `owner`'s lock `token`; the lock, or `None` if it is not held.
    async fn refresh_dav_lock(
        &self,
        owner: Uuid,
        token: &str,
        expires_at: Option<DateTime<Utc>>,
        timeout_secs: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Option<DavLockRecord>>;

    /// Removes `owner`'s lock `token`; whether it was held.
    async fn remove_dav_lock(&self, owner: Uuid, token: &str) -> Result<bool>;

    /// Removes every lock of `owner` on `path` or below it.
    async fn remove_dav_locks_under(&self, owner: Uuid, path: &str) -> Result<()>;
}
