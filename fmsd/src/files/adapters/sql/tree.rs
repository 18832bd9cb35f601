//! The tree's queries: look-ups, listing, mkdir, move, delete, usage, and the purge of an owner.
//! Each write runs inside the caller's transaction, takes the owner's lock first
//! ([`lock_owner`]) and then checks its own preconditions, so what it read stays true until it
//! commits.
//!
//! Paths are unique per owner; a folder's children are listed through the index on
//! (owner, parent, name), whose collation (SQLite's BINARY, PostgreSQL's `COLLATE "C"`) is the
//! byte order the API promises. A subtree is a range scan on `path` (see
//! [`RemotePath::descendant_range`]).

use chrono::{DateTime, Utc};
use common::events::Outgoing;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use uuid::Uuid;

use super::garbage::record_garbage;
use super::schema::{
    self, deleted_owners, micros, nodes, owner_usage, uploads, NodeRow, UploadRow, FOLDER,
};
use crate::db::dialect::{lock_owner, per_engine};
use crate::db::{map_error, outbox, DbConnection};
use crate::error::{Error, Result};
use crate::files::domain::{Node, NodeKind, RemotePath, Removal, UsageCounts};
use crate::files::ports::EventsFor;

diesel::define_sql_function! {
    /// The characters of `string` from the 1-based position `start` on (both engines count
    /// characters, whatever the encoding).
    fn substr(string: Text, start: Integer) -> Text;
}

/// Whether `owner` was purged.
pub fn is_owner_deleted(connection: &mut DbConnection, owner: Uuid) -> Result<bool> {
    // A plain select (unlike `EXISTS`) is a statement diesel prepares once and caches.
    let found = deleted_owners::table
        .filter(deleted_owners::owner_id.eq(owner.to_string()))
        .select(deleted_owners::owner_id)
        .first::<String>(connection)
        .optional()?;
    Ok(found.is_some())
}

/// Refuses a write for a purged owner (a request that raced the purge).
pub fn ensure_owner_active(connection: &mut DbConnection, owner: Uuid) -> Result<()> {
    if is_owner_deleted(connection, owner)? {
        return Err(Error::Unauthorized("this account has been deleted".into()));
    }
    Ok(())
}

/// The entry at `path`.
pub fn get(connection: &mut DbConnection, owner: Uuid, path: &RemotePath) -> Result<Option<Node>> {
    nodes::table
        .filter(nodes::owner_id.eq(owner.to_string()))
        .filter(nodes::path.eq(path.as_str()))
        .select(NodeRow::as_select())
        .first(connection)
        .optional()?
        .map(NodeRow::into_node)
        .transpose()
}

/// `owner`'s entry with id `id`.
pub fn get_by_id(connection: &mut DbConnection, owner: Uuid, id: Uuid) -> Result<Option<Node>> {
    nodes::table
        .filter(nodes::id.eq(id.to_string()))
        .filter(nodes::owner_id.eq(owner.to_string()))
        .select(NodeRow::as_select())
        .first(connection)
        .optional()?
        .map(NodeRow::into_node)
        .transpose()
}

/// Children of `folder` after the name `after`, in byte order (the index on
/// (owner, parent, name) serves both the filter and the order), once the owner is known
/// active and the folder to exist.
pub fn list(
    connection: &mut DbConnection,
    owner: Uuid,
    folder: &RemotePath,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Node>> {
    ensure_owner_active(connection, owner)?;
    if !folder.is_root() {
        match get(connection, owner, folder)? {
            Some(node) if node.is_folder() => {}
            Some(_) => {
                return Err(Error::NotFound(format!(
                    "'{folder}' is a file, not a folder"
                )));
            }
            None => return Err(Error::NotFound(format!("'{folder}' does not exist"))),
        }
    }
    // Every name sorts after the empty one; one shape of statement is prepared once per
    // connection and cached.
    nodes::table
        .filter(nodes::owner_id.eq(owner.to_string()))
        .filter(nodes::parent.eq(folder.as_str()))
        .filter(nodes::name.gt(after.unwrap_or("")))
        .order(nodes::name.asc())
        .limit(i64::from(limit))
        .select(NodeRow::as_select())
        .load(connection)?
        .into_iter()
        .map(NodeRow::into_node)
        .collect()
}

/// The folder at `path` must exist (the root always does); a file there is a conflict.
fn ensure_folder(connection: &mut DbConnection, owner: Uuid, path: &RemotePath) -> Result<()> {
    if path.is_root() {
        return Ok(());
    }
    match get(connection, owner, path)? {
        Some(node) if node.is_folder() => Ok(()),
        Some(_) => Err(Error::Conflict(format!("'{path}' is a file, not a folder"))),
        None => Err(Error::NotFound(format!(
            "the folder '{path}' does not exist"
        ))),
    }
}

/// Inserts `node`; a taken path is a conflict.
pub fn insert(connection: &mut DbConnection, node: &Node) -> Result<()> {
    diesel::insert_into(nodes::table)
        .values(NodeRow::from_node(node)?)
        .execute(connection)
        .map_err(|error| map_error(error, &format!("'{}' already exists", node.path)))?;
    Ok(())
}

/// A new, empty folder.
pub(super) fn new_folder(owner: Uuid, path: &RemotePath, now: DateTime<Utc>) -> Node {
    Node {
        id: Uuid::now_v7(),
        owner,
        path: path.clone(),
        kind: NodeKind::Folder,
        size: 0,
        sha256: None,
        blob_key: None,
        modified_at: now,
    }
}

/// Creates the folder `path`, as [`crate::files::ports::FileRepo::mkdir`] says.
pub fn mkdir(
    connection: &mut DbConnection,
    owner: Uuid,
    path: &RemotePath,
    parents: bool,
    now: DateTime<Utc>,
) -> Result<Node> {
    lock_owner(connection, owner)?;
    ensure_owner_active(connection, owner)?;
    if !parents {
        if get(connection, owner, path)?.is_some() {
            return Err(Error::Conflict(format!("'{path}' already exists")));
        }
        let parent = path.parent().unwrap_or_else(RemotePath::root);
        ensure_folder(connection, owner, &parent).map_err(|error| match error {
            Error::NotFound(message) => {
                Error::NotFound(format!("{message}; pass parents=true to create it"))
            }
            other => other,
        })?;
        let folder = new_folder(owner, path, now);
        insert(connection, &folder)?;
        return Ok(folder);
    }
    let mut last = None;
    for ancestor in path.lineage() {
        let folder = match get(connection, owner, &ancestor)? {
            Some(node) if node.is_folder() => node,
            Some(_) => {
                return Err(Error::Conflict(format!(
                    "'{ancestor}' is a file, not a folder"
                )))
            }
            None => {
                let folder = new_folder(owner, &ancestor, now);
                insert(connection, &folder)?;
                folder
            }
        };
        last = Some(folder);
    }
    last.ok_or_else(|| Error::Conflict("'/' already exists".into()))
}

/// Moves the entry at `from` with its subtree to `to`, with `events` in the outbox.
pub fn move_entry(
    connection: &mut DbConnection,
    owner: Uuid,
    from: &RemotePath,
    to: &RemotePath,
    now: DateTime<Utc>,
    events: &[Outgoing],
) -> Result<Node> {
    lock_owner(connection, owner)?;
    ensure_owner_active(connection, owner)?;
    let mut node = get(connection, owner, from)?
        .ok_or_else(|| Error::NotFound(format!("'{from}' does not exist")))?;
    if get(connection, owner, to)?.is_some() || to.is_root() {
        return Err(Error::Conflict(format!("'{to}' already exists")));
    }
    let to_parent = to.parent().unwrap_or_else(RemotePath::root);
    ensure_folder(connection, owner, &to_parent)?;
    let taken = |error| map_error(error, &format!("'{to}' already exists"));
    if node.is_folder() {
        // Every descendant's path and parent start with `from`; swap that prefix for `to`.
        // `substr` counts characters, so the cut is the character length of `from`. No new
        // path can collide with an old one on the way: `to` was free, so nothing lies under
        // it, and it does not lie inside `from`.
        let rest_starts_at =
            i32::try_from(from.as_str().chars().count() + 1).map_err(Error::internal)?;
        let (low, high) = from.descendant_range();
        diesel::update(
            nodes::table
                .filter(nodes::owner_id.eq(owner.to_string()))
                .filter(nodes::path.ge(low))
                .filter(nodes::path.lt(high)),
        )
        .set((
            nodes::path.eq(to
                .as_str()
                .into_sql::<Text>()
                .concat(substr(nodes::path, rest_starts_at))),
            nodes::parent.eq(to
                .as_str()
                .into_sql::<Text>()
                .concat(substr(nodes::parent, rest_starts_at))),
        ))
        .execute(connection)
        .map_err(taken)?;
    }
    diesel::update(nodes::table.filter(nodes::id.eq(node.id.to_string())))
        .set((
            nodes::path.eq(to.as_str()),
            nodes::parent.eq(to_parent.as_str()),
            nodes::name.eq(to.name()),
            nodes::modified_at.eq(micros(now)),
        ))
        .execute(connection)
        .map_err(taken)?;
    outbox::enqueue(connection, events)?;
    node.path = to.clone();
    node.modified_at = now;
    Ok(node)
}

/// Counts the removed `rows` and records their blobs as garbage (the caller deleted the rows).
pub(super) fn remove_rows(connection: &mut DbConnection, rows: Vec<NodeRow>) -> Result<Removal> {
    let mut removal = Removal::default();
    for row in rows {
        if row.kind == FOLDER {
            removal.n_folders += 1;
            continue;
        }
        removal.n_files += 1;
        removal.bytes_freed += schema::size(row.size)?;
        if let Some(key) = row.blob_key.as_deref() {
            removal
                .garbage
                .push(record_garbage(connection, &schema::blob_key(key)?, None)?);
        }
    }
    Ok(removal)
}

/// A conflict if the folder at `path` holds anything: what a delete without `recursive` says.
pub(super) fn refuse_non_empty(
    connection: &mut DbConnection,
    owner: Uuid,
    path: &RemotePath,
) -> Result<()> {
    let children = nodes::table
        .filter(nodes::owner_id.eq(owner.to_string()))
        .filter(nodes::parent.eq(path.as_str()));
    let has_children: bool =
        diesel::select(diesel::dsl::exists(children)).get_result(connection)?;
    if has_children {
        return Err(Error::Conflict(format!(
            "the folder '{path}' is not empty; delete it with recursive=true to remove everything in it"
        )));
    }
    Ok(())
}

/// Deletes the entry at `path`, and its subtree when `recursive`, with the shares and links of
/// what it removes, and the events `events` builds from what was removed.
pub fn delete(
    connection: &mut DbConnection,
    owner: Uuid,
    path: &RemotePath,
    recursive: bool,
    events: EventsFor<Removal>,
) -> Result<Removal> {
    lock_owner(connection, owner)?;
    let node = get(connection, owner, path)?
        .ok_or_else(|| Error::NotFound(format!("'{path}' does not exist")))?;
    if node.is_folder() && !recursive {
        refuse_non_empty(connection, owner, path)?;
    }
    let owner_id = owner.to_string();
    let (low, high) = path.descendant_range();
    let in_subtree = nodes::owner_id.eq(owner_id).and(
        nodes::path
            .eq(path.as_str())
            .or(nodes::path.ge(low).and(nodes::path.lt(high))),
    );
    let rows: Vec<NodeRow> = per_engine!(connection, |inner| diesel::delete(
        nodes::table.filter(in_subtree)
    )
    .returning(NodeRow::as_returning())
    .get_results(inner))?;
    let node_ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let mut removal = remove_rows(connection, rows)?;
    // The shares and links of what goes go with it, and their ends are told.
    (removal.ended_shares, removal.ended_links) =
        super::sharing::end_with_nodes(connection, owner, &node_ids)?;
    outbox::enqueue(connection, &events(&removal))?;
    Ok(removal)
}

/// What `owner` stores (one row the triggers on `nodes` keep, so the cost does not grow with
/// the account), and what unexpired sessions reserve at `now`.
pub fn usage(
    connection: &mut DbConnection,
    owner: Uuid,
    now: DateTime<Utc>,
) -> Result<UsageCounts> {
    let owner_id = owner.to_string();
    let (used, n_files, n_folders, trash_bytes, n_trashed): (i64, i64, i64, i64, i64) =
        owner_usage::table
            .find(&owner_id)
            .select((
                owner_usage::used_bytes,
                owner_usage::n_files,
                owner_usage::n_folders,
                owner_usage::trash_bytes,
                owner_usage::n_trashed,
            ))
            .first(connection)
            .optional()?
            .unwrap_or_default();
    let reserved: i64 = uploads::table
        .filter(uploads::owner_id.eq(&owner_id))
        .filter(uploads::expires_at.gt(micros(now)))
        .select(sql::<BigInt>("CAST(COALESCE(SUM(size), 0) AS BIGINT)"))
        .first(connection)?;
    Ok(UsageCounts {
        used_bytes: schema::size(used)?,
        trash_bytes: schema::size(trash_bytes)?,
        n_trashed: schema::size(n_trashed)?,
        reserved_bytes: schema::size(reserved)?,
        n_files: schema::size(n_files)?,
        n_folders: schema::size(n_folders)?,
    })
}

/// Removes everything of `owner`, marks the owner deleted and the event handled, with the
/// events `events` builds; `None` if `consumer` already handled `event_id`.
pub fn purge(
    connection: &mut DbConnection,
    owner: Uuid,
    consumer: &str,
    event_id: &str,
    now: DateTime<Utc>,
    events: EventsFor<Removal>,
) -> Result<Option<Removal>> {
    lock_owner(connection, owner)?;
    if outbox::already_handled(connection, consumer, event_id)? {
        return Ok(None);
    }
    let owner_id = owner.to_string();
    let rows: Vec<NodeRow> = per_engine!(connection, |inner| diesel::delete(
        nodes::table.filter(nodes::owner_id.eq(&owner_id))
    )
    .returning(NodeRow::as_returning())
    .get_results(inner))?;
    let mut removal = remove_rows(connection, rows)?;
    let trashed = super::trash::purge_all(connection, owner)?;
    removal.n_files += trashed.n_files;
    removal.n_folders += trashed.n_folders;
    removal.bytes_freed += trashed.bytes_freed;
    removal.garbage.extend(trashed.garbage);
    diesel::delete(owner_usage::table.find(&owner_id)).execute(connection)?;
    // The sweep may be ending one of these sessions right now: the delete waits for it, and a
    // session it ended is not returned here, so its staging is not recorded twice.
    let sessions: Vec<UploadRow> = per_engine!(connection, |inner| diesel::delete(
        uploads::table.filter(uploads::owner_id.eq(&owner_id))
    )
    .returning(UploadRow::as_returning())
    .get_results(inner))?;
    for session in sessions {
        let upload = session.into_upload()?;
        removal.garbage.push(record_garbage(
            connection,
            &upload.blob_key,
            Some(&upload.staging_id),
        )?);
    }
    let deleted = (
        deleted_owners::owner_id.eq(&owner_id),
        deleted_owners::deleted_at.eq(micros(now)),
    );
    per_engine!(connection, |inner| diesel::insert_into(
        deleted_owners::table
    )
    .values(deleted)
    .on_conflict_do_nothing()
    .execute(inner))?;
    outbox::remember_handled(connection, consumer, event_id)?;
    outbox::enqueue(connection, &events(&removal))?;
    Ok(Some(removal))
}
