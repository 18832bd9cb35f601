//! The garbage table: blobs to delete (and stagings to abort) once the transaction that let go
//! of them committed. The service empties it through the blob store, and forgets what is gone.

use diesel::prelude::*;

use super::schema::{self, garbage};
use crate::db::dialect::per_engine;
use crate::db::DbConnection;
use crate::error::Result;
use crate::files::domain::{BlobKey, Garbage, StagingId};

/// Records a blob to delete (and a staging to abort), inside the caller's transaction.
pub fn record_garbage(
    connection: &mut DbConnection,
    blob_key: &BlobKey,
    staging_id: Option<&StagingId>,
) -> Result<Garbage> {
    let row = (
        garbage::blob_key.eq(blob_key.as_str()),
        garbage::staging_id.eq(staging_id.map(StagingId::as_str)),
    );
    let id: i64 = per_engine!(connection, |inner| diesel::insert_into(garbage::table)
        .values(row)
        .returning(garbage::id)
        .get_result(inner))?;
    Ok(Garbage {
        id,
        blob_key: blob_key.clone(),
        staging_id: staging_id.cloned(),
    })
}

/// Up to `limit` garbage items, oldest first.
pub fn pending_garbage(connection: &mut DbConnection, limit: u32) -> Result<Vec<Garbage>> {
    let rows: Vec<(i64, String, Option<String>)> = garbage::table
        .order(garbage::id.asc())
        .limit(i64::from(limit))
        .load(connection)?;
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
pub fn forget_garbage(connection: &mut DbConnection, ids: &[i64]) -> Result<()> {
    diesel::delete(garbage::table.filter(garbage::id.eq_any(ids))).execute(connection)?;
    Ok(())
}
