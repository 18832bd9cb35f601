//! The trash's use cases: a delete moves an entry (a folder with everything in it) into its
//! owner's trash, which lists, restores, deletes for good and empties; the sweep deletes what
//! is older than `files.trash_retention_days`.
//!
//! Whoever deletes — the owner, or an editor through a share — the item goes into the
//! *owner's* trash, and only the owner sees it, restores it or deletes it for good: a
//! recipient never holds another's bytes in a trash of their own, and an editor cannot make
//! the owner's data skip the trash. Trashed bytes keep counting against the owner's quota
//! (`UsageCounts::trash_bytes`) until they are deleted for good.
//!
//! The move ends the shares and links of everything it takes, in its transaction, each end
//! told (`files.share_revoked`, `files.link_revoked`), and the upload sessions started through
//! them end after it, as a permanent delete does; a restore does not bring them back. Events:
//! `files.trashed` when an entry leaves the tree, `files.restored` when it comes back, and
//! `files.deleted` (with `from_trash`) for each item deleted for good.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use common::events::{FileDeleted, FileRestored, FileTrashed, LinkRevoked, Outgoing};
use uuid::Uuid;

use super::{shares, FileService, SWEEP_BATCH};
use crate::error::{Error, Result};
use crate::files::domain::{
    NodeKind, PageLimit, RemotePath, RestoreTarget, Restored, TrashItem, TrashPurge,
    TrashSelection, Trashed,
};
use crate::files::ports::EventsFor;

/// The longest retention honoured, so a huge setting cannot overflow the clock's arithmetic
/// (about 2,700 years: forever, in practice).
const MAX_RETENTION_DAYS: u64 = 1_000_000;

/// One page of an owner's trash.
#[derive(Debug, Clone)]
pub struct TrashPage {
    /// This page's items, newest first.
    pub items: Vec<TrashItem>,
    /// The item the next page starts after; `None` on the last one.
    pub next_cursor: Option<Uuid>,
}

/// `file` or `folder`, as the events say.
fn kind_text(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::File => "file",
        NodeKind::Folder => "folder",
    }
}

/// The events of a move into the trash: the entry left the tree, its shares and links ended.
fn trashed_events() -> EventsFor<Trashed> {
    Box::new(|trashed: &Trashed| {
        let item = &trashed.item;
        let mut events = vec![Outgoing::new(&FileTrashed {
            owner_id: item.owner,
            trash_id: item.id,
            path: item.path.to_string(),
            kind: kind_text(item.kind).to_owned(),
            n_files: item.n_files,
            size: item.size,
            trashed_by: item.trashed_by,
        })];
        events.extend(
            trashed
                .ended_shares
                .iter()
                .map(|share| Outgoing::new(&shares::share_revoked(share))),
        );
        events.extend(trashed.ended_links.iter().map(|link| {
            Outgoing::new(&LinkRevoked {
                link_id: link.id,
                owner_id: item.owner,
            })
        }));
        events
    })
}

/// The event of a restore.
fn restored_events() -> EventsFor<Restored> {
    Box::new(|restored: &Restored| {
        let item = &restored.item;
        vec![Outgoing::new(&FileRestored {
            owner_id: item.owner,
            trash_id: item.id,
            from: item.path.to_string(),
            path: restored.node.path.to_string(),
            kind: kind_text(item.kind).to_owned(),
            n_files: item.n_files,
            size: item.size,
        })]
    })
}

/// One `files.deleted` per item deleted for good.
fn purged_events() -> EventsFor<TrashPurge> {
    Box::new(|purge: &TrashPurge| {
        purge
            .items
            .iter()
            .map(|item| {
                Outgoing::new(&FileDeleted {
                    owner_id: item.owner,
                    path: item.path.to_string(),
                    n_files: item.n_files,
                    bytes_freed: item.size,
                    from_trash: true,
                })
            })
            .collect()
    })
}

impl FileService {
    /// Moves the entry at `path` of `owner`'s tree into the owner's trash (a non-empty folder
    /// only when `recursive`), deleted by `by`: the owner, or an editor of a share.
    #[tracing::instrument(skip(self))]
    pub async fn trash(
        &self,
        owner: Uuid,
        path: &RemotePath,
        recursive: bool,
        by: Uuid,
    ) -> Result<Trashed> {
        self.ensure_active(owner).await?;
        if path.is_root() {
            return Err(Error::Invalid(
                "the root folder '/' cannot be deleted".into(),
            ));
        }
        let now = self.now();
        // Through `freeing`: on a full disk the move still goes, as a delete does.
        let trashed = self
            .space
            .freeing(|| {
                self.trash
                    .trash_entry(owner, path, recursive, by, now, trashed_events())
            })
            .await?;
        let ended = trashed.ended_shares.iter().map(|share| share.id);
        for grant in ended.chain(trashed.ended_links.iter().map(|link| link.id)) {
            self.end_grant_uploads(owner, grant).await;
        }
        Ok(trashed)
    }

    /// One page of `owner`'s trash, newest first, after `cursor` (the previous page's
    /// `next_cursor`).
    #[tracing::instrument(skip(self))]
    pub async fn trash_page(
        &self,
        owner: Uuid,
        cursor: Option<Uuid>,
        limit: PageLimit,
    ) -> Result<TrashPage> {
        // The store checks the owner on the same connection; one more than asked tells whether
        // there is a next page.
        let mut items = self
            .trash
            .trash_items(owner, cursor, limit.get() + 1)
            .await?;
        let next_cursor = if items.len() > limit.get() as usize {
            items.truncate(limit.get() as usize);
            items.last().map(|last| last.id)
        } else {
            None
        };
        Ok(TrashPage { items, next_cursor })
    }

    /// When the sweep deletes `item` for good, unless it is restored first.
    pub fn purge_at(&self, item: &TrashItem) -> DateTime<Utc> {
        let days = self.settings.trash_retention_days.min(MAX_RETENTION_DAYS);
        item.trashed_at
            .checked_add_signed(Duration::days(i64::try_from(days).unwrap_or(0)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The e-mail addresses of whoever deleted `items` other than `owner` (editors of the
    /// owner's shares), from the directory; one who is no longer in it is left out.
    pub async fn deleted_by(
        &self,
        owner: Uuid,
        items: &[TrashItem],
    ) -> Result<HashMap<Uuid, String>> {
        let mut emails = HashMap::new();
        for by in items.iter().map(|item| item.trashed_by) {
            if by == owner || emails.contains_key(&by) {
                continue;
            }
            if let Some(person) = self.sharing.person(by).await? {
                emails.insert(by, person.email);
            }
        }
        Ok(emails)
    }

    /// `owner`'s trash item `id`.
    #[tracing::instrument(skip(self))]
    pub async fn trash_item(&self, owner: Uuid, id: Uuid) -> Result<TrashItem> {
        self.ensure_active(owner).await?;
        self.trash
            .trash_item(owner, id)
            .await?
            .ok_or_else(|| not_in_trash(id))
    }

    /// Puts `owner`'s trash item `id` back: at `to` (which must be free), or where it was, or
    /// beside it as `name (2).ext` when that is taken; missing parent folders are made.
    #[tracing::instrument(skip(self))]
    pub async fn restore(
        &self,
        owner: Uuid,
        id: Uuid,
        to: Option<&RemotePath>,
    ) -> Result<Restored> {
        self.ensure_active(owner).await?;
        let target = match to {
            Some(path) if path.is_root() => {
                return Err(Error::Invalid(
                    "an item cannot be restored as the root folder '/'".into(),
                ))
            }
            Some(path) => RestoreTarget::At(path.clone()),
            None => RestoreTarget::Original,
        };
        self.trash
            .restore(owner, id, target, self.now(), restored_events())
            .await
    }

    /// Deletes `owner`'s trash item `id` for good.
    #[tracing::instrument(skip(self))]
    pub async fn delete_from_trash(&self, owner: Uuid, id: Uuid) -> Result<TrashPurge> {
        self.ensure_active(owner).await?;
        self.purge_trash(owner, TrashSelection::Item(id)).await
    }

    /// Deletes everything in `owner`'s trash for good.
    #[tracing::instrument(skip(self))]
    pub async fn empty_trash(&self, owner: Uuid) -> Result<TrashPurge> {
        self.ensure_active(owner).await?;
        self.purge_trash(owner, TrashSelection::All).await
    }

    /// Deletes the selected items for good and lets their blobs go.
    async fn purge_trash(&self, owner: Uuid, which: TrashSelection) -> Result<TrashPurge> {
        let purge = self
            .space
            .freeing(|| self.trash.purge_trash(owner, which, purged_events()))
            .await?;
        self.dispose(&purge.removal.garbage).await;
        Ok(purge)
    }

    /// Deletes for good every item trashed more than `files.trash_retention_days` before
    /// `now`, one owner per transaction; returns how many items went.
    pub(super) async fn purge_expired_trash(&self, now: DateTime<Utc>) -> Result<u64> {
        let days = self.settings.trash_retention_days.min(MAX_RETENTION_DAYS);
        let retention = Duration::days(i64::try_from(days).unwrap_or(0));
        let Some(cutoff) = now.checked_sub_signed(retention) else {
            return Ok(0);
        };
        let mut n_purged = 0;
        loop {
            let owners = self
                .trash
                .owners_with_trash_before(cutoff, SWEEP_BATCH)
                .await?;
            for owner in &owners {
                let purge = self
                    .purge_trash(*owner, TrashSelection::TrashedBefore(cutoff))
                    .await?;
                n_purged += purge.items.len() as u64;
            }
            // The owners just purged no longer match, so the next query finds the others.
            if owners.len() < SWEEP_BATCH as usize {
                break;
            }
        }
        if n_purged > 0 {
            tracing::info!(n_purged, "purged trash past its retention");
        }
        Ok(n_purged)
    }
}

/// An id that is not in the caller's trash.
fn not_in_trash(id: Uuid) -> Error {
    Error::NotFound(format!("there is no item {id} in the trash"))
}
