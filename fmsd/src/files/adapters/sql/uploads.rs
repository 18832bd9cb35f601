//! The upload sessions' queries. Each write runs inside the caller's transaction under the
//! owner's lock ([`lock_owner`]), so the quota check and the insert it allows cannot be split
//! by a concurrent upload of the same owner. The sweep, which spans owners, takes no owner
//! lock: it locks the expired rows it ends and skips those another transaction holds.

use chrono::{DateTime, Utc};
use common::events::Outgoing;
use common::size::human_bytes;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
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
use crate::files::ports::{NewFile, PendingCap, QuietUpload, UploadLimits};

/// How many sessions, of every owner, are unexpired at `now`.
pub fn count_open(connection: &mut DbConnection, now: DateTime<Utc>) -> Result<u64> {
    let n_sessions: i64 = uploads::table
        .filter(uploads::expires_at.gt(micros(now)))
        .count()
        .get_result(connection)?;
    Ok(u64::try_from(n_sessions).unwrap_or(0))
}

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

/// Stores `upload` if the owner's quota leaves room for it, and its grant's cap if it has one.
pub fn insert_session(
    connection: &mut DbConnection,
    upload: &Upload,
    limits: UploadLimits,
    now: DateTime<Utc>,
) -> Result<()> {
    lock_owner(connection, upload.owner)?;
    ensure_owner_active(connection, upload.owner)?;
    if let (Some(cap), Some(grant)) = (limits.per_grant, upload.grant) {
        check_grant_cap(connection, upload, grant, cap, now)?;
    }
    let quota = limits.quota;
    let counts = usage(connection, upload.owner, now)?;
    // The trash counts: what it holds is freed only by emptying it (or by its retention).
    let taken = counts.stored_bytes().saturating_add(counts.reserved_bytes);
    if taken.saturating_add(upload.size) > quota {
        let in_trash = if counts.trash_bytes > 0 {
            format!(
                ", {} in the trash (`fmsctl trash empty` frees it)",
                human_bytes(counts.trash_bytes)
            )
        } else {
            String::new()
        };
        return Err(Error::QuotaExceeded(format!(
            "the file needs {} but only {} of your {} are free ({} used{in_trash}, {} reserved by uploads in progress)",
            human_bytes(upload.size),
            human_bytes(quota.saturating_sub(taken)),
            human_bytes(quota),
            human_bytes(counts.used_bytes),
            human_bytes(counts.reserved_bytes)
        )));
    }
    diesel::insert_into(uploads::table)
        .values(UploadRow::from_upload(upload)?)
        .execute(connection)
        .map_err(|error| map_error(error, &format!("the upload session {} exists", upload.id)))?;
    Ok(())
}

/// [`insert_session`] for each of `batch` in order, each under a savepoint of the caller's
/// transaction: a refused one is rolled back alone, and each sees those stored before it.
pub fn insert_sessions(
    connection: &mut DbConnection,
    batch: &[Upload],
    limits: UploadLimits,
    now: DateTime<Utc>,
) -> Vec<Result<()>> {
    batch
        .iter()
        .map(|upload| {
            connection.transaction::<_, Error, _>(|connection| {
                insert_session(connection, upload, limits, now)
            })
        })
        .collect()
}

/// Refuses `upload` if its grant's open sessions, with it, would pass `cap`. Runs under the
/// owner's lock, so two uploads through one link cannot both take the last place.
fn check_grant_cap(
    connection: &mut DbConnection,
    upload: &Upload,
    grant: Uuid,
    cap: PendingCap,
    now: DateTime<Utc>,
) -> Result<()> {
    let (sessions, bytes): (i64, i64) = uploads::table
        .filter(uploads::grant_id.eq(grant.to_string()))
        .filter(uploads::expires_at.gt(micros(now)))
        .select(sql::<(BigInt, BigInt)>(
            "COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT)",
        ))
        .first(connection)?;
    let (sessions, bytes) = (schema::size(sessions)?, schema::size(bytes)?);
    if sessions >= u64::from(cap.sessions) || bytes.saturating_add(upload.size) > cap.bytes {
        // Places free up as uploads finish, or when idle ones are ended.
        return Err(Error::RateLimited {
            retry_after: std::time::Duration::from_secs(GRANT_CAP_RETRY_SECS),
        });
    }
    Ok(())
}

/// What a refused upload through a full link is told to wait.
const GRANT_CAP_RETRY_SECS: u64 = 60;

/// Every session of `owner` unexpired at `now`, oldest first.
pub fn owner_sessions(
    connection: &mut DbConnection,
    owner: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Upload>> {
    uploads::table
        .filter(uploads::owner_id.eq(owner.to_string()))
        .filter(uploads::expires_at.gt(micros(now)))
        .order((uploads::created_at.asc(), uploads::path.asc()))
        .select(UploadRow::as_select())
        .load(connection)?
        .into_iter()
        .map(UploadRow::into_upload)
        .collect()
}

/// Up to `limit` sessions through a share or link last active at or before `quiet_since`.
pub fn quiet_sessions(
    connection: &mut DbConnection,
    quiet_since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<QuietUpload>> {
    uploads::table
        .filter(uploads::grant_id.is_not_null())
        .filter(uploads::active_at.le(micros(quiet_since)))
        .order(uploads::active_at.asc())
        .limit(i64::from(limit))
        .select(UploadRow::as_select())
        .load(connection)?
        .into_iter()
        .map(|row| {
            let stored_bytes = schema::size(row.stored_bytes)?;
            Ok(QuietUpload {
                upload: row.into_upload()?,
                stored_bytes,
            })
        })
        .collect()
}

/// Records progress of session `id` at `now`.
pub fn note_progress(
    connection: &mut DbConnection,
    id: Uuid,
    stored_bytes: u64,
    now: DateTime<Utc>,
) -> Result<()> {
    diesel::update(uploads::table.filter(uploads::id.eq(id.to_string())))
        .set((
            uploads::active_at.eq(micros(now)),
            uploads::stored_bytes.eq(schema::stored_size(stored_bytes)?),
        ))
        .execute(connection)?;
    Ok(())
}

/// Ends every session of `owner` started through `grant`.
pub fn abort_grant(
    connection: &mut DbConnection,
    owner: Uuid,
    grant: Uuid,
) -> Result<Vec<Garbage>> {
    lock_owner(connection, owner)?;
    let theirs = uploads::table
        .filter(uploads::owner_id.eq(owner.to_string()))
        .filter(uploads::grant_id.eq(grant.to_string()));
    let rows: Vec<UploadRow> = per_engine!(connection, |inner| diesel::delete(theirs)
        .returning(UploadRow::as_returning())
        .get_results(inner))?;
    rows.into_iter()
        .map(|row| {
            let upload = row.into_upload()?;
            record_garbage(connection, &upload.blob_key, Some(&upload.staging_id))
        })
        .collect()
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

/// [`finish`] for each of `batch` in order, each under a savepoint of the caller's transaction,
/// so one that fails is rolled back alone.
pub fn finish_each(
    connection: &mut DbConnection,
    batch: &[(Upload, NewFile, Vec<Outgoing>)],
) -> Vec<Result<(Node, Vec<Garbage>)>> {
    batch
        .iter()
        .map(|(upload, file, events)| {
            connection
                .transaction::<_, Error, _>(|connection| finish(connection, upload, file, events))
        })
        .collect()
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
