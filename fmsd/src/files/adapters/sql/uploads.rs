//! The upload sessions' queries. Each write runs inside the caller's transaction under the
//! owner's lock ([`lock_owner`]), so the quota check and the insert it allows cannot be split
//! by a concurrent upload of the same owner. The sweep, which spans owners, takes no owner
//! lock: it locks the expired rows it ends and skips those another transaction holds.

use chrono::{DateTime, Utc};
use common::events::Outgoing;
use diesel::prelude::*;
use uuid::Uuid;

use super::garbage::record_garbage;
use super::schema::{self, micros, nodes, overwrite_text, uploads, UploadRow};
use super::tree::{ensure_owner_active, get, insert, usage};
use crate::db::dialect::{load_skip_locked, lock_owner, per_engine};
use crate::db::{map_error, outbox, DbConnection};
use crate::error::{Error, Result};
use crate::files::domain::{
    Garbage, Node, NodeKind, OverwritePolicy, RemotePath, Sha256Hex, Upload,
};
use crate::files::ports::NewFile;

/// An unexpired session for the same path, size and checksum, switched to `overwrite`.
pub fn resume(
    connection: &mut DbConnection,
    owner: Uuid,
    path: &RemotePath,
    size: u64,
    sha256: &Sha256Hex,
    overwrite: OverwritePolicy,
    now: DateTime<Utc>,
) -> Result<Option<Upload>> {
    lock_owner(connection, owner)?;
    let row: Option<UploadRow> = uploads::table
        .filter(uploads::owner_id.eq(owner.to_string()))
        .filter(uploads::path.eq(path.as_str()))
        .filter(uploads::size.eq(schema::stored_size(size)?))
        .filter(uploads::sha256.eq(sha256.as_str()))
        .filter(uploads::expires_at.gt(micros(now)))
        .order(uploads::created_at.desc())
        .select(UploadRow::as_select())
        .first(connection)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let mut upload = row.into_upload()?;
    if upload.overwrite != overwrite {
        diesel::update(uploads::table.filter(uploads::id.eq(upload.id.to_string())))
            .set(uploads::overwrite.eq(overwrite_text(overwrite)))
            .execute(connection)?;
        upload.overwrite = overwrite;
    }
    Ok(Some(upload))
}

/// Stores `upload` if the owner's quota leaves room for it.
pub fn insert_session(
    connection: &mut DbConnection,
    upload: &Upload,
    quota: u64,
    now: DateTime<Utc>,
) -> Result<()> {
    lock_owner(connection, upload.owner)?;
    ensure_owner_active(connection, upload.owner)?;
    let counts = usage(connection, upload.owner, now)?;
    let taken = counts.used_bytes.saturating_add(counts.reserved_bytes);
    if taken.saturating_add(upload.size) > quota {
        return Err(Error::QuotaExceeded(format!(
            "the file needs {} bytes but only {} of your {quota} bytes are free ({} used, {} reserved by uploads in progress)",
            upload.size,
            quota.saturating_sub(taken),
            counts.used_bytes,
            counts.reserved_bytes
        )));
    }
    diesel::insert_into(uploads::table)
        .values(UploadRow::from_upload(upload)?)
        .execute(connection)
        .map_err(|error| map_error(error, &format!("the upload session {} exists", upload.id)))?;
    Ok(())
}

/// `owner`'s session `id`, unless expired at `now`.
pub fn get_session(
    connection: &mut DbConnection,
    owner: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Upload>> {
    uploads::table
        .filter(uploads::id.eq(id.to_string()))
        .filter(uploads::owner_id.eq(owner.to_string()))
        .filter(uploads::expires_at.gt(micros(now)))
        .select(UploadRow::as_select())
        .first(connection)
        .optional()?
        .map(UploadRow::into_upload)
        .transpose()
}

/// Deletes `owner`'s session `id` and returns it; not found if it is not there (a sweep that
/// ended it first included).
fn remove_session(connection: &mut DbConnection, owner: Uuid, id: Uuid) -> Result<Upload> {
    let ours = uploads::table
        .filter(uploads::id.eq(id.to_string()))
        .filter(uploads::owner_id.eq(owner.to_string()));
    per_engine!(connection, |inner| diesel::delete(ours)
        .returning(UploadRow::as_returning())
        .get_result(inner)
        .optional())?
    .ok_or_else(|| Error::NotFound(format!("there is no upload session {id}")))?
    .into_upload()
}

/// Makes the uploaded file visible and ends the session, with `events` in the outbox.
pub fn finish(
    connection: &mut DbConnection,
    upload: &Upload,
    file: &NewFile,
    events: &[Outgoing],
) -> Result<(Node, Vec<Garbage>)> {
    let owner = upload.owner;
    lock_owner(connection, owner)?;
    ensure_owner_active(connection, owner)?;
    remove_session(connection, owner, upload.id)?;
    let parent = upload.path.parent().unwrap_or_else(RemotePath::root);
    if !parent.is_root() && !get(connection, owner, &parent)?.is_some_and(|node| node.is_folder()) {
        return Err(Error::NotFound(format!(
            "the folder '{parent}' no longer exists"
        )));
    }
    let mut garbage = Vec::new();
    let id = match get(connection, owner, &upload.path)? {
        Some(node) if node.is_folder() => {
            return Err(Error::Conflict(format!("'{}' is a folder", upload.path)))
        }
        Some(_) if upload.overwrite == OverwritePolicy::Fail => {
            return Err(Error::Conflict(format!("'{}' already exists", upload.path)));
        }
        Some(old) => {
            diesel::delete(nodes::table.filter(nodes::id.eq(old.id.to_string())))
                .execute(connection)?;
            if let Some(key) = &old.blob_key {
                garbage.push(record_garbage(connection, key, None)?);
            }
            // The new file takes the old one's place under its id, so whatever points at
            // that id (shares, links) leads to the new content.
            old.id
        }
        None => file.id,
    };
    let node = Node {
        id,
        owner,
        path: upload.path.clone(),
        kind: NodeKind::File,
        size: file.size,
        sha256: Some(file.sha256.clone()),
        blob_key: Some(upload.blob_key.clone()),
        modified_at: file.modified_at,
    };
    insert(connection, &node)?;
    outbox::enqueue(connection, events)?;
    Ok((node, garbage))
}

/// Ends `owner`'s session `id`; its staging and blob become garbage.
pub fn abort(connection: &mut DbConnection, owner: Uuid, id: Uuid) -> Result<Vec<Garbage>> {
    lock_owner(connection, owner)?;
    let upload = remove_session(connection, owner, id)?;
    Ok(vec![record_garbage(
        connection,
        &upload.blob_key,
        Some(&upload.staging_id),
    )?])
}

/// Ends up to `limit` sessions expired at `now`. The rows are locked as they are picked, and
/// rows another transaction holds (a finish or an abort of that session) are skipped: that
/// transaction ends the session, or the next sweep does.
pub fn sweep_expired(
    connection: &mut DbConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<(u64, Vec<Garbage>)> {
    let rows: Vec<UploadRow> = load_skip_locked!(
        connection,
        uploads::table
            .filter(uploads::expires_at.le(micros(now)))
            .order(uploads::expires_at.asc())
            .limit(i64::from(limit))
            .select(UploadRow::as_select())
    )?;
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    diesel::delete(uploads::table.filter(uploads::id.eq_any(&ids))).execute(connection)?;
    let mut garbage = Vec::with_capacity(rows.len());
    for row in rows {
        let upload = row.into_upload()?;
        garbage.push(record_garbage(
            connection,
            &upload.blob_key,
            Some(&upload.staging_id),
        )?);
    }
    Ok((garbage.len() as u64, garbage))
}
