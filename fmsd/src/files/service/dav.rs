//! What WebDAV keeps beside the tree, as use cases: the dead properties of a node and the locks
//! on an owner's paths. The callers (the WebDAV face) have found the node or path through a
//! [`super::ScopedFiles`], so the caller's reach is checked there.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::FileService;
use crate::error::Result;
use crate::files::domain::{DavLockRecord, DeadProp};

impl FileService {
    /// The dead properties of `owner`'s node `node`.
    pub async fn dead_props(&self, owner: Uuid, node: Uuid) -> Result<Vec<DeadProp>> {
        self.ensure_active(owner).await?;
        self.dav.dead_props(owner, node).await
    }

    /// The nodes of `owner` that have dead properties.
    pub async fn nodes_with_dead_props(&self, owner: Uuid) -> Result<Vec<Uuid>> {
        self.ensure_active(owner).await?;
        self.dav.nodes_with_dead_props(owner).await
    }

    /// Applies `changes` to the node in order (`true`: set, `false`: remove), all or nothing.
    pub async fn patch_dead_props(
        &self,
        owner: Uuid,
        node: Uuid,
        changes: Vec<(bool, DeadProp)>,
    ) -> Result<()> {
        self.ensure_active(owner).await?;
        self.dav.patch_dead_props(owner, node, changes).await
    }

    /// `owner`'s locks in force now.
    pub async fn dav_locks(&self, owner: Uuid) -> Result<Vec<DavLockRecord>> {
        self.dav.dav_locks(owner, self.now()).await
    }

    /// Takes `lock`, or returns the lock in force that conflicts with it.
    pub async fn add_dav_lock(&self, lock: DavLockRecord) -> Result<Option<DavLockRecord>> {
        self.ensure_active(lock.owner).await?;
        self.dav.add_dav_lock(lock, self.now()).await
    }

    /// Gives `owner`'s lock `token` a new end `timeout_secs` from now (`None`: never).
    pub async fn refresh_dav_lock(
        &self,
        owner: Uuid,
        token: &str,
        timeout_secs: Option<u64>,
    ) -> Result<Option<DavLockRecord>> {
        let now = self.now();
        let expires_at = timeout_secs.map(|secs| now + chrono::Duration::seconds(secs as i64));
        self.dav
            .refresh_dav_lock(owner, token, expires_at, timeout_secs, now)
            .await
    }

    /// Releases `owner`'s lock `token`; whether it was held.
    pub async fn remove_dav_lock(&self, owner: Uuid, token: &str) -> Result<bool> {
        self.dav.remove_dav_lock(owner, token).await
    }

    /// Releases every lock of `owner` on `path` and below (the path was deleted or moved).
    pub async fn remove_dav_locks_under(&self, owner: Uuid, path: &str) -> Result<()> {
        self.dav.remove_dav_locks_under(owner, path).await
    }

    /// When a lock of `timeout_secs` taken now ends.
    pub fn lock_end(&self, timeout_secs: Option<u64>) -> Option<DateTime<Utc>> {
        timeout_secs.map(|secs| self.now() + chrono::Duration::seconds(secs as i64))
    }
}
