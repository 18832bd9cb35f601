//! The upload sessions' queries and the garbage table. Each write runs inside the caller's
//! immediate transaction, so the quota check and the insert it allows cannot be split by a
//! concurrent upload.

use chrono::{DateTime, Utc};
use common::events::Outgoing;
use diesel::prelude::*;
use uuid::Uuid;

use super::db_error;
use super::schema::{self, garbage, micros, nodes, overwrite_text, uploads, UploadRow};
use super::tree::{ensure_owner_active, get, insert, usage};
use crate::db::outbox;
use crate::error::{Error, Result};
use crate::files::domain::{
    BlobKey, Garbage, Node, NodeKind, OverwritePolicy, RemotePath, Sha256Hex, StagingId, Upload,
};
use crate::files::ports::NewFile;

/// Records a blob to delete (and a staging to abort) once the transaction committed.
pub fn record_garbage(
    connection: &mut SqliteConnection,
    blob_key: &BlobKey,
    staging_id: Option<&StagingId>,
) -> Result<Garbage> {
    let id: i64 = diesel::insert_into(garbage::table)
        .values((
            garbage::blob_key.eq(blob_key.as_str()),
            garbage::staging_id.eq(staging_id.map(StagingId::as_str)),
        ))
        .returning(garbage::id)
        .get_result(connection)
        .map_err(db_error)?;
    Ok(Garbage {
        id,
        blob_key: blob_key.clone(),
        staging_id: staging_id.cloned(),
    })
}

/// An unexpired session for the same path, size and checksum, switched to `overwrite`.
pub fn resume(
    connection: &mut SqliteConnection,
    owner: Uuid,
    path: &RemotePath,
    size: u64,
    sha256: &Sha256Hex,
    overwrite: OverwritePolicy,
    now: DateTime<Utc>,
) -> Result<Option<Upload>> {
    let row: Option<UploadRow> = uploads::table
        .filter(uploads::owner_id.eq(owner.to_string()))
        .filter(uploads::path.eq(path.as_str()))
        .filter(uploads::size.eq(schema::stored_size(size)?))
        .filter(uploads::sha256.eq(sha256.as_str()))
        .filter(uploads::expires_at.gt(micros(now)))
        .order(uploads::created_at.desc())
        .select(UploadRow::as_select())
        .first(connection)
        .optional()
        .map_err(db_error)?;
    let Some(row) = row else { return Ok(None) };
    let mut upload = row.into_upload()?;
    if upload.overwrite != overwrite {
        diesel::update(uploads::table.filter(uploads::id.eq(upload.id.to_string())))
            .set(uploads::overwrite.eq(overwrite_text(overwrite)))
            .execute(connection)
            .map_err(db_error)?;
        upload.overwrite = overwrite;
    }
    Ok(Some(upload))
}

/// Stores `upload` if the owner's quota leaves room for it.
pub fn insert_session(
    connection: &mut SqliteConnection,
    upload: &Upload,
    quota: u64,
    now: DateTime<Utc>,
) -> Result<()> {
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
        .map_err(db_error)?;
    Ok(())
}

/// `owner`'s session `id`, unless expired at `now`.
pub fn get_session(
    connection: &mut SqliteConnection,
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
        .optional()
        .map_err(db_error)?
        .map(UploadRow::into_upload)
        .transpose()
}

/// Deletes `owner`'s session `id`; not found if it is not there.
fn remove_session(connection: &mut SqliteConnection, owner: Uuid, id: Uuid) -> Result<()> {
    let n = diesel::delete(
        uploads::table
            .filter(uploads::id.eq(id.to_string()))
            .filter(uploads::owner_id.eq(owner.to_string())),
    )
    .execute(connection)
    .map_err(db_error)?;
    if n == 0 {
        return Err(Error::NotFound(format!("there is no upload session {id}")));
    }
    Ok(())
}

/// Makes the uploaded file visible and ends the session.
pub fn finish(
    connection: &mut SqliteConnection,
    upload: &Upload,
    file: &NewFile,
    events: &[Outgoing],
) -> Result<(Node, Vec<Garbage>)> {
    let owner = upload.owner;
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
                .execute(connection)
                .map_err(db_error)?;
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
pub fn abort(connection: &mut SqliteConnection, owner: Uuid, id: Uuid) -> Result<Vec<Garbage>> {
    let row: UploadRow = uploads::table
        .filter(uploads::id.eq(id.to_string()))
        .filter(uploads::owner_id.eq(owner.to_string()))
        .select(UploadRow::as_select())
        .first(connection)
        .optional()
        .map_err(db_error)?
        .ok_or_else(|| Error::NotFound(format!("there is no upload session {id}")))?;
    let upload = row.into_upload()?;
    remove_session(connection, owner, id)?;
    Ok(vec![record_garbage(
        connection,
        &upload.blob_key,
        Some(&upload.staging_id),
    )?])
}

/// Ends up to `limit` sessions expired at `now`.
pub fn sweep_expired(
    connection: &mut SqliteConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<(u64, Vec<Garbage>)> {
    let rows: Vec<UploadRow> = uploads::table
        .filter(uploads::expires_at.le(micros(now)))
        .order(uploads::expires_at.asc())
        .limit(i64::from(limit))
        .select(UploadRow::as_select())
        .load(connection)
        .map_err(db_error)?;
    let mut garbage = Vec::with_capacity(rows.len());
    for row in rows {
        let upload = row.into_upload()?;
        remove_session(connection, upload.owner, upload.id)?;
        garbage.push(record_garbage(
            connection,
            &upload.blob_key,
            Some(&upload.staging_id),
        )?);
    }
    Ok((garbage.len() as u64, garbage))
}

/// Up to `limit` garbage items, oldest first.
pub fn pending_garbage(connection: &mut SqliteConnection, limit: u32) -> Result<Vec<Garbage>> {
    let rows: Vec<(i64, String, Option<String>)> = garbage::table
        .order(garbage::id.asc())
        .limit(i64::from(limit))
        .load(connection)
        .map_err(db_error)?;
    rows.into_iter()
        .map(|(id, key, staging)| {
            Ok(Garbage {
                id,
                blob_key: schema::blob_key(&key)?,
                staging_id: staging.map(StagingId),
            })
        })
        .collect()
}

/// Forgets garbage items the blob store let go of.
pub fn forget_garbage(connection: &mut SqliteConnection, ids: &[i64]) -> Result<()> {
    diesel::delete(garbage::table.filter(garbage::id.eq_any(ids)))
        .execute(connection)
        .map_err(db_error)?;
    Ok(())
}
