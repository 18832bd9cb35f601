//! The tree's queries: look-ups, listing, mkdir, move, delete, usage, and the purge of an owner.
//! Each write runs inside the caller's transaction, takes the owner's lock first
//! ([`lock_owner`]) and then checks its own preconditions, so what it read stays true until it
//! commits. The events of a delete or a purge are added by the caller, which builds them from
//! the returned [`Removal`].

use chrono::{DateTime, Utc};
use common::events::Outgoing;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use uuid::Uuid;

use super::schema::{
    self, deleted_owners, micros, nodes, uploads, NodeRow, UploadRow, FILE, FOLDER,
};
use super::uploads::record_garbage;
use super::{conflict_or, db_error};
use crate::db::postgres_outbox as outbox;
use crate::error::{Error, Result};
use crate::files::domain::{Node, NodeKind, RemotePath, Removal, UsageCounts};

/// The first key of the files service's advisory locks (`'fmsf'`), so they never collide
/// with another service's locks in a shared database; the second key is the owner's hash.
const OWNER_LOCK_CLASS: i32 = 0x666d_7366;

/// Serializes the writes of `owner` until the transaction ends: the quota check and the
/// insert it allows, the "is the path free" check and the insert, all happen under it. Two
/// owners whose ids hash alike only wait for each other.
pub fn lock_owner(connection: &mut PgConnection, owner: Uuid) -> Result<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind::<Integer, _>(OWNER_LOCK_CLASS)
        .bind::<Text, _>(owner.to_string())
        .execute(connection)
        .map_err(db_error)?;
    Ok(())
}

/// Whether `owner` was purged.
pub fn is_owner_deleted(connection: &mut PgConnection, owner: Uuid) -> Result<bool> {
    let query = deleted_owners::table.filter(deleted_owners::owner_id.eq(owner.to_string()));
    diesel::select(diesel::dsl::exists(query))
        .get_result(connection)
        .map_err(db_error)
}

/// Refuses a write for a purged owner (a request that raced the purge).
pub fn ensure_owner_active(connection: &mut PgConnection, owner: Uuid) -> Result<()> {
    if is_owner_deleted(connection, owner)? {
        return Err(Error::Unauthorized("this account has been deleted".into()));
    }
    Ok(())
}

/// The entry at `path`.
pub fn get(connection: &mut PgConnection, owner: Uuid, path: &RemotePath) -> Result<Option<Node>> {
    nodes::table
        .filter(nodes::owner_id.eq(owner.to_string()))
        .filter(nodes::path.eq(path.as_str()))
        .select(NodeRow::as_select())
        .first(connection)
        .optional()
        .map_err(db_error)?
        .map(NodeRow::into_node)
        .transpose()
}

/// `owner`'s entry with id `id`.
pub fn get_by_id(connection: &mut PgConnection, owner: Uuid, id: Uuid) -> Result<Option<Node>> {
    nodes::table
        .filter(nodes::id.eq(id.to_string()))
        .filter(nodes::owner_id.eq(owner.to_string()))
        .select(NodeRow::as_select())
        .first(connection)
        .optional()
        .map_err(db_error)?
        .map(NodeRow::into_node)
        .transpose()
}

/// Children of `folder` after the name `after`, in byte order (the columns are `COLLATE "C"`,
/// so the index on (owner, parent, name) serves both the filter and the order).
pub fn list(
    connection: &mut PgConnection,
    owner: Uuid,
    folder: &RemotePath,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Node>> {
    let mut query = nodes::table
        .filter(nodes::owner_id.eq(owner.to_string()))
        .filter(nodes::parent.eq(folder.as_str()))
        .order(nodes::name.asc())
        .limit(i64::from(limit))
        .select(NodeRow::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(nodes::name.gt(after.to_owned()));
    }
    query
        .load(connection)
        .map_err(db_error)?
        .into_iter()
        .map(NodeRow::into_node)
        .collect()
}

/// The folder at `path` must exist (the root always does); a file there is a conflict.
fn ensure_folder(connection: &mut PgConnection, owner: Uuid, path: &RemotePath) -> Result<()> {
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
pub fn insert(connection: &mut PgConnection, node: &Node) -> Result<()> {
    diesel::insert_into(nodes::table)
        .values(NodeRow::from_node(node)?)
        .execute(connection)
        .map_err(|error| conflict_or(error, &format!("'{}' already exists", node.path)))?;
    Ok(())
}

/// A new, empty folder.
fn new_folder(owner: Uuid, path: &RemotePath, now: DateTime<Utc>) -> Node {
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
    connection: &mut PgConnection,
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

/// Moves the entry at `from` with its subtree to `to`.
pub fn move_entry(
    connection: &mut PgConnection,
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
    if node.is_folder() {
        // Every descendant's path and parent start with `from`; swap that prefix for `to`.
        // `substr` and `char_length` both count characters, so the cut is right whatever the
        // database's encoding. No new path can collide with an old one on the way: `to` was
        // free, so nothing lies under it, and it does not lie inside `from`.
        let (low, high) = from.descendant_range();
        diesel::sql_query(
            "UPDATE nodes SET path = $1 || substr(path, char_length($2) + 1), \
             parent = $1 || substr(parent, char_length($2) + 1) \
             WHERE owner_id = $3 AND path >= $4 AND path < $5",
        )
        .bind::<Text, _>(to.as_str())
        .bind::<Text, _>(from.as_str())
        .bind::<Text, _>(owner.to_string())
        .bind::<Text, _>(low)
        .bind::<Text, _>(high)
        .execute(connection)
        .map_err(|error| conflict_or(error, &format!("'{to}' already exists")))?;
    }
    diesel::update(nodes::table.filter(nodes::id.eq(node.id.to_string())))
        .set((
            nodes::path.eq(to.as_str()),
            nodes::parent.eq(to_parent.as_str()),
            nodes::name.eq(to.name()),
            nodes::modified_at.eq(micros(now)),
        ))
        .execute(connection)
        .map_err(|error| conflict_or(error, &format!("'{to}' already exists")))?;
    outbox::enqueue(connection, events)?;
    node.path = to.clone();
    node.modified_at = now;
    Ok(node)
}

/// Counts the removed `rows` and records their blobs as garbage (the caller deletes the rows).
fn remove_rows(connection: &mut PgConnection, rows: Vec<NodeRow>) -> Result<Removal> {
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

/// Deletes the entry at `path`, and its subtree when `recursive`; the caller adds the events.
pub fn delete(
    connection: &mut PgConnection,
    owner: Uuid,
    path: &RemotePath,
    recursive: bool,
) -> Result<Removal> {
    lock_owner(connection, owner)?;
    let node = get(connection, owner, path)?
        .ok_or_else(|| Error::NotFound(format!("'{path}' does not exist")))?;
    let owner_id = owner.to_string();
    let (low, high) = path.descendant_range();
    let in_subtree = nodes::owner_id.eq(owner_id.clone()).and(
        nodes::path.eq(path.as_str()).or(nodes::path
            .ge(low.clone())
            .and(nodes::path.lt(high.clone()))),
    );
    if node.is_folder() && !recursive {
        let children = nodes::table
            .filter(nodes::owner_id.eq(&owner_id))
            .filter(nodes::parent.eq(path.as_str()));
        let has_children: bool = diesel::select(diesel::dsl::exists(children))
            .get_result(connection)
            .map_err(db_error)?;
        if has_children {
            return Err(Error::Conflict(format!(
                "the folder '{path}' is not empty; delete it with recursive=true to remove everything in it"
            )));
        }
    }
    let rows: Vec<NodeRow> = diesel::delete(nodes::table.filter(in_subtree))
        .returning(NodeRow::as_returning())
        .get_results(connection)
        .map_err(db_error)?;
    remove_rows(connection, rows)
}

/// What `owner` stores, and what unexpired sessions reserve at `now`.
pub fn usage(
    connection: &mut PgConnection,
    owner: Uuid,
    now: DateTime<Utc>,
) -> Result<UsageCounts> {
    let owner_id = owner.to_string();
    // SUM of bigint is numeric in PostgreSQL: cast it back.
    let (used, n_files, n_folders): (i64, i64, i64) = nodes::table
        .filter(nodes::owner_id.eq(&owner_id))
        .select(sql::<(BigInt, BigInt, BigInt)>(&format!(
            "COALESCE(SUM(size) FILTER (WHERE kind = '{FILE}'), 0)::bigint, \
             COUNT(*) FILTER (WHERE kind = '{FILE}'), \
             COUNT(*) FILTER (WHERE kind = '{FOLDER}')"
        )))
        .first(connection)
        .map_err(db_error)?;
    let reserved: i64 = uploads::table
        .filter(uploads::owner_id.eq(&owner_id))
        .filter(uploads::expires_at.gt(micros(now)))
        .select(sql::<BigInt>("COALESCE(SUM(size), 0)::bigint"))
        .first(connection)
        .map_err(db_error)?;
    Ok(UsageCounts {
        used_bytes: schema::size(used)?,
        reserved_bytes: schema::size(reserved)?,
        n_files: schema::size(n_files)?,
        n_folders: schema::size(n_folders)?,
    })
}

/// Removes everything of `owner`, marks the owner deleted and the event handled; `None` if
/// `consumer` already handled `event_id`. The caller adds the events.
pub fn purge(
    connection: &mut PgConnection,
    owner: Uuid,
    consumer: &str,
    event_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Removal>> {
    lock_owner(connection, owner)?;
    if outbox::already_handled(connection, consumer, event_id)? {
        return Ok(None);
    }
    let owner_id = owner.to_string();
    let rows: Vec<NodeRow> = diesel::delete(nodes::table.filter(nodes::owner_id.eq(&owner_id)))
        .returning(NodeRow::as_returning())
        .get_results(connection)
        .map_err(db_error)?;
    let mut removal = remove_rows(connection, rows)?;
    // The sweep may be ending one of these sessions right now: the delete waits for it, and
    // a session it ended is not returned here, so its staging is not recorded twice.
    let sessions: Vec<UploadRow> =
        diesel::delete(uploads::table.filter(uploads::owner_id.eq(&owner_id)))
            .returning(UploadRow::as_returning())
            .get_results(connection)
            .map_err(db_error)?;
    for session in sessions {
        let upload = session.into_upload()?;
        removal.garbage.push(record_garbage(
            connection,
            &upload.blob_key,
            Some(&upload.staging_id),
        )?);
    }
    diesel::insert_into(deleted_owners::table)
        .values((
            deleted_owners::owner_id.eq(&owner_id),
            deleted_owners::deleted_at.eq(micros(now)),
        ))
        .on_conflict_do_nothing()
        .execute(connection)
        .map_err(db_error)?;
    outbox::remember_handled(connection, consumer, event_id)?;
    Ok(Some(removal))
}
