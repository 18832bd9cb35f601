//! The store the trash needs: entries moved out of the tree with everything in them, put back,
//! and deleted for good. Kept in the files database beside the tree, so a move into the trash
//! and out of it is one transaction with the tree's own change, its counters and its events.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::EventsFor;
use crate::error::Result;
use crate::files::domain::{
    RemotePath, RestoreTarget, Restored, TrashItem, TrashPurge, TrashSelection, Trashed,
};

/// Each owner's trash.
///
/// Every method is scoped by owner, as the tree's are: another owner's items are simply not
/// there. Every write takes the owner's lock first, keeps the owner's usage (tree bytes and
/// trash bytes apart) in the same transaction, and adds the events built from its outcome to
/// the outbox in that transaction too.
#[async_trait]
pub trait TrashRepo: Send + Sync {
    /// Moves the entry at `path` (with everything in it; a non-empty folder only when
    /// `recursive`, else a conflict) out of `owner`'s tree into their trash, deleted by `by` at
    /// `now`. Its shares and links end in the same transaction and are returned.
    async fn trash_entry(
        &self,
        owner: Uuid,
        path: &RemotePath,
        recursive: bool,
        by: Uuid,
        now: DateTime<Utc>,
        events: EventsFor<Trashed>,
    ) -> Result<Trashed>;

    /// Up to `limit` items of `owner`'s trash, newest first, after the item `after` (the last
    /// of the previous page) when given.
    async fn trash_items(
        &self,
        owner: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<TrashItem>>;

    /// `owner`'s trash item `id`.
    async fn trash_item(&self, owner: Uuid, id: Uuid) -> Result<Option<TrashItem>>;

    /// Puts item `id` back into `owner`'s tree at `target`, with the ids its entries had;
    /// missing parent folders are made (a file in their way is a conflict). Not found if the
    /// item is not in the trash; a taken explicit target is a conflict.
    async fn restore(
        &self,
        owner: Uuid,
        id: Uuid,
        target: RestoreTarget,
        now: DateTime<Utc>,
        events: EventsFor<Restored>,
    ) -> Result<Restored>;

    /// Deletes the items of `owner`'s trash that `which` selects, for good: their blobs become
    /// garbage (returned), their bytes leave the quota. Not found for a single item that is not
    /// there; nothing selected is no error for the others.
    async fn purge_trash(
        &self,
        owner: Uuid,
        which: TrashSelection,
        events: EventsFor<TrashPurge>,
    ) -> Result<TrashPurge>;

    /// Up to `limit` owners with an item trashed at or before `before`: what the retention
    /// sweep purges, one owner per transaction.
    async fn owners_with_trash_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>>;
}
