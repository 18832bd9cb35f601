//! The trash's queries: an entry moved out of `nodes` with its subtree into `trashed_nodes`
//! under one row of `trash`, listed, put back, and deleted for good. Each write runs inside the
//! caller's transaction and takes the owner's lock ([`lock_owner`]) first, as the tree's do.
//!
//! The rows move whole, in one transaction: the tree's counters (`owner_usage`, triggers on
//! `nodes`) lose what the trash's gain (triggers on `trash`), so an owner's total never moves
//! on a trash or a restore, and drops by exactly an item's size when it is purged. Rows are
//! written in batches small enough for either engine's limit on bound parameters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{self, micros, nodes, NodeRow, FILE, FOLDER};
use super::trash_schema::{trash, trashed_nodes, TrashRow, TrashedNodeRow};
use super::tree::{self, ensure_owner_active, new_folder, remove_rows};
use super::SqlFileRepo;
use crate::db::dialect::{lock_owner, per_engine};
use crate::db::{map_error, outbox, DbConnection};
use crate::error::{Error, Result};
use crate::files::domain::{
    restore_candidate, RemotePath, Removal, RestoreTarget, Restored, TrashItem, TrashPurge,
    TrashSelection, Trashed, MAX_RESTORE_NAMES,
};
use crate::files::ports::{EventsFor, TrashRepo};

/// Rows per multi-row insert or `IN` list: 11 columns each stays far below SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters.
const BATCH: usize = 500;

/// Moves the entry at `path` with its subtree into the trash, as
/// [`crate::files::ports::TrashRepo::trash_entry`] says.
pub fn trash_entry(
    connection: &mut DbConnection,
    owner: Uuid,
    path: &RemotePath,
    recursive: bool,
    by: Uuid,
    now: DateTime<Utc>,
    events: EventsFor<Trashed>,
) -> Result<Trashed> {
    lock_owner(connection, owner)?;
    ensure_owner_active(connection, owner)?;
    let node = tree::get(connection, owner, path)?
        .ok_or_else(|| Error::NotFound(format!("'{path}' does not exist")))?;
    if node.is_folder() && !recursive {
        tree::refuse_non_empty(connection, owner, path)?;
    }
    let owner_id = owner.to_string();
    let (low, high) = path.descendant_range();
    let in_subtree = nodes::owner_id.eq(&owner_id).and(
        nodes::path
            .eq(path.as_str())
            .or(nodes::path.ge(low).and(nodes::path.lt(high))),
    );
    let rows: Vec<NodeRow> = per_engine!(connection, |inner| diesel::delete(
        nodes::table.filter(in_subtree)
    )
    .returning(NodeRow::as_returning())
    .get_results(inner))?;
    let (mut size, mut n_files, mut n_folders) = (0_i64, 0_i64, 0_i64);
    for row in &rows {
        if row.kind == FOLDER {
            n_folders += 1;
        } else {
            n_files += 1;
            size = size.saturating_add(row.size);
        }
    }
    let trash_id = Uuid::now_v7();
    let item = TrashRow {
        id: trash_id.to_string(),
        owner_id: owner_id.clone(),
        node_id: node.id.to_string(),
        path: path.to_string(),
        kind: if node.is_folder() { FOLDER } else { FILE }.to_owned(),
        size,
        n_files,
        n_folders,
        trashed_at: micros(now),
        trashed_by: by.to_string(),
    };
    // The item first: its rows refer to it.
    diesel::insert_into(trash::table)
        .values(&item)
        .execute(connection)?;
    let node_ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let kept: Vec<TrashedNodeRow> = rows
        .into_iter()
        .map(|row| TrashedNodeRow::kept(row, &item.id))
        .collect();
    for batch in kept.chunks(BATCH) {
        per_engine!(connection, |inner| diesel::insert_into(
            trashed_nodes::table
        )
        .values(batch)
        .execute(inner))?;
    }
    // Shares and links end with the move, as with a delete: a restore does not bring them back.
    let (ended_shares, ended_links) = super::sharing::end_with_nodes(connection, owner, &node_ids)?;
    let trashed = Trashed {
        item: item.into_item()?,
        ended_shares,
        ended_links,
    };
    outbox::enqueue(connection, &events(&trashed))?;
    Ok(trashed)
}

/// Up to `limit` of `owner`'s items, newest first, after the item `after`.
pub fn items(
    connection: &mut DbConnection,
    owner: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<TrashItem>> {
    ensure_owner_active(connection, owner)?;
    // Ids are UUIDv7 in lowercase hex: their text sorts by when they were made. The largest
    // possible text stands for "from the newest", so one shape of statement serves every page.
    let after = after.map_or_else(|| "~".to_owned(), |id| id.to_string());
    trash::table
        .filter(trash::owner_id.eq(owner.to_string()))
        .filter(trash::id.lt(after))
        .order(trash::id.desc())
        .limit(i64::from(limit))
        .select(TrashRow::as_select())
        .load(connection)?
        .into_iter()
        .map(TrashRow::into_item)
        .collect()
}

/// `owner`'s item `id`.
pub fn item(connection: &mut DbConnection, owner: Uuid, id: Uuid) -> Result<Option<TrashItem>> {
    trash::table
        .filter(trash::id.eq(id.to_string()))
        .filter(trash::owner_id.eq(owner.to_string()))
        .select(TrashRow::as_select())
        .first(connection)
        .optional()?
        .map(TrashRow::into_item)
        .transpose()
}

/// Makes the missing folders down to `folder` (the root always exists); a file on the way is a
/// conflict that says how to restore elsewhere. Returns how many it made.
fn make_parents(
    connection: &mut DbConnection,
    owner: Uuid,
    folder: &RemotePath,
    restoring: &RemotePath,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut n_made = 0;
    for ancestor in folder.lineage() {
        match tree::get(connection, owner, &ancestor)? {
            Some(node) if node.is_folder() => {}
            Some(_) => {
                return Err(Error::Conflict(format!(
                    "'{ancestor}' is a file, so '{restoring}' cannot be restored under it; \
                     restore it to another path"
                )))
            }
            None => {
                tree::insert(connection, &new_folder(owner, &ancestor, now))?;
                n_made += 1;
            }
        }
    }
    Ok(n_made)
}

/// Where `item` goes for `target`: checked free, under the owner's lock.
fn place(
    connection: &mut DbConnection,
    owner: Uuid,
    item: &TrashItem,
    target: RestoreTarget,
) -> Result<RemotePath> {
    match target {
        RestoreTarget::At(path) => {
            if path.is_root() || tree::get(connection, owner, &path)?.is_some() {
                return Err(Error::Conflict(format!(
                    "'{path}' already exists; restore to a free path"
                )));
            }
            Ok(path)
        }
        RestoreTarget::Original => {
            for n in 1..=MAX_RESTORE_NAMES {
                let candidate = restore_candidate(&item.path, item.kind, n)?;
                if tree::get(connection, owner, &candidate)?.is_none() {
                    return Ok(candidate);
                }
            }
            Err(Error::Conflict(format!(
                "'{}' and {MAX_RESTORE_NAMES} numbered names beside it are taken; restore to \
                 another path",
                item.path
            )))
        }
    }
}

/// `row`, which lay at or under `from`, moved to lie at or under `to` (the item's own row
/// takes `to`'s name). A path the move makes too long is invalid: nothing is written.
fn moved(row: TrashedNodeRow, item: &TrashItem, to: &RemotePath) -> Result<NodeRow> {
    let mut row = row.into_node_row();
    let from = item.path.as_str();
    let rebase = |text: &str| -> Result<String> {
        let rest = text
            .strip_prefix(from)
            .ok_or_else(|| schema::corrupt("trashed path", text))?;
        let joined = format!("{}{rest}", to.as_str());
        Ok(RemotePath::parse(&joined)?.to_string())
    };
    if row.id == item.node_id.to_string() {
        row.path = to.to_string();
        row.parent = to.parent().unwrap_or_else(RemotePath::root).to_string();
        row.name = to.name().to_owned();
    } else {
        row.path = rebase(&row.path)?;
        row.parent = rebase(&row.parent)?;
    }
    Ok(row)
}

/// Puts item `id` back, as [`crate::files::ports::TrashRepo::restore`] says.
pub fn restore(
    connection: &mut DbConnection,
    owner: Uuid,
    id: Uuid,
    target: RestoreTarget,
    now: DateTime<Utc>,
    events: EventsFor<Restored>,
) -> Result<Restored> {
    lock_owner(connection, owner)?;
    ensure_owner_active(connection, owner)?;
    let item = item(connection, owner, id)?
        .ok_or_else(|| Error::NotFound(format!("there is no item {id} in the trash")))?;
    let to = place(connection, owner, &item, target)?;
    let parent = to.parent().unwrap_or_else(RemotePath::root);
    let n_parents_made = make_parents(connection, owner, &parent, &to, now)?;
    let trash_id = id.to_string();
    let rows: Vec<TrashedNodeRow> = trashed_nodes::table
        .filter(trashed_nodes::trash_id.eq(&trash_id))
        .select(TrashedNodeRow::as_select())
        .load(connection)?;
    let rows: Vec<NodeRow> = rows
        .into_iter()
        .map(|row| moved(row, &item, &to))
        .collect::<Result<_>>()?;
    let taken = |error| map_error(error, &format!("'{to}' already exists"));
    for batch in rows.chunks(BATCH) {
        per_engine!(connection, |inner| diesel::insert_into(nodes::table)
            .values(batch)
            .execute(inner))
        .map_err(taken)?;
    }
    diesel::delete(trashed_nodes::table.filter(trashed_nodes::trash_id.eq(&trash_id)))
        .execute(connection)?;
    diesel::delete(trash::table.filter(trash::id.eq(&trash_id))).execute(connection)?;
    let node = tree::get(connection, owner, &to)?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("the restored entry is not at '{to}'")))?;
    let restored = Restored {
        item,
        node,
        n_parents_made,
    };
    outbox::enqueue(connection, &events(&restored))?;
    Ok(restored)
}

/// Deletes the items `rows` for good with what they hold: the blobs become garbage.
fn remove_items(connection: &mut DbConnection, rows: Vec<TrashRow>) -> Result<TrashPurge> {
    let mut purge = TrashPurge::default();
    for batch in rows.chunks(BATCH) {
        let ids: Vec<&str> = batch.iter().map(|row| row.id.as_str()).collect();
        // The kept rows first, for their blobs (a cascade would drop them unseen).
        let kept: Vec<TrashedNodeRow> = per_engine!(connection, |inner| diesel::delete(
            trashed_nodes::table.filter(trashed_nodes::trash_id.eq_any(ids.clone()))
        )
        .returning(TrashedNodeRow::as_returning())
        .get_results(inner))?;
        let removal = remove_rows(
            connection,
            kept.into_iter()
                .map(TrashedNodeRow::into_node_row)
                .collect(),
        )?;
        purge.removal.n_files += removal.n_files;
        purge.removal.n_folders += removal.n_folders;
        purge.removal.bytes_freed += removal.bytes_freed;
        purge.removal.garbage.extend(removal.garbage);
        diesel::delete(trash::table.filter(trash::id.eq_any(ids))).execute(connection)?;
    }
    purge.items = rows
        .into_iter()
        .map(TrashRow::into_item)
        .collect::<Result<_>>()?;
    Ok(purge)
}

/// Deletes the items of `owner` that `which` selects, as
/// [`crate::files::ports::TrashRepo::purge_trash`] says.
pub fn purge(
    connection: &mut DbConnection,
    owner: Uuid,
    which: TrashSelection,
    events: EventsFor<TrashPurge>,
) -> Result<TrashPurge> {
    lock_owner(connection, owner)?;
    let owner_id = owner.to_string();
    let of_owner = trash::table
        .filter(trash::owner_id.eq(&owner_id))
        .select(TrashRow::as_select())
        .order(trash::id.asc());
    let rows: Vec<TrashRow> = match which {
        TrashSelection::Item(id) => of_owner
            .filter(trash::id.eq(id.to_string()))
            .load(connection)?,
        TrashSelection::All => of_owner.load(connection)?,
        TrashSelection::TrashedBefore(at) => of_owner
            .filter(trash::trashed_at.le(micros(at)))
            .load(connection)?,
    };
    if let (TrashSelection::Item(id), true) = (which, rows.is_empty()) {
        return Err(Error::NotFound(format!(
            "there is no item {id} in the trash"
        )));
    }
    let purge = remove_items(connection, rows)?;
    outbox::enqueue(connection, &events(&purge))?;
    Ok(purge)
}

/// Everything in `owner`'s trash, gone with the owner (inside [`tree::purge`], which holds the
/// owner's lock and tells the owner's end itself).
pub fn purge_all(connection: &mut DbConnection, owner: Uuid) -> Result<Removal> {
    let rows: Vec<TrashRow> = trash::table
        .filter(trash::owner_id.eq(owner.to_string()))
        .select(TrashRow::as_select())
        .load(connection)?;
    Ok(remove_items(connection, rows)?.removal)
}

/// Up to `limit` owners with an item trashed at or before `before`.
pub fn owners_with_trash_before(
    connection: &mut DbConnection,
    before: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Uuid>> {
    let owners: Vec<String> = trash::table
        .filter(trash::trashed_at.le(micros(before)))
        .select(trash::owner_id)
        .distinct()
        .order(trash::owner_id.asc())
        .limit(i64::from(limit))
        .load(connection)?;
    owners.iter().map(|owner| schema::uuid(owner)).collect()
}

#[async_trait]
impl TrashRepo for SqlFileRepo {
    #[tracing::instrument(skip(self, events))]
    async fn trash_entry(
        &self,
        owner: Uuid,
        path: &RemotePath,
        recursive: bool,
        by: Uuid,
        now: DateTime<Utc>,
        events: EventsFor<Trashed>,
    ) -> Result<Trashed> {
        let path = path.clone();
        self.write_with_events(move |connection| {
            trash_entry(connection, owner, &path, recursive, by, now, events)
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn trash_items(
        &self,
        owner: Uuid,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<TrashItem>> {
        self.db
            .run(move |connection| items(connection, owner, after, limit))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn trash_item(&self, owner: Uuid, id: Uuid) -> Result<Option<TrashItem>> {
        self.db
            .run(move |connection| item(connection, owner, id))
            .await
    }

    #[tracing::instrument(skip(self, events))]
    async fn restore(
        &self,
        owner: Uuid,
        id: Uuid,
        target: RestoreTarget,
        now: DateTime<Utc>,
        events: EventsFor<Restored>,
    ) -> Result<Restored> {
        self.write_with_events(move |connection| {
            restore(connection, owner, id, target, now, events)
        })
        .await
    }

    #[tracing::instrument(skip(self, events))]
    async fn purge_trash(
        &self,
        owner: Uuid,
        which: TrashSelection,
        events: EventsFor<TrashPurge>,
    ) -> Result<TrashPurge> {
        self.write_with_events(move |connection| purge(connection, owner, which, events))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn owners_with_trash_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>> {
        self.db
            .run(move |connection| owners_with_trash_before(connection, before, limit))
            .await
    }
}
