//! The WebDAV tables (`migrations/files/2026-12-03-000000_dav` and its PostgreSQL twin): dead
//! properties by node, locks by owner and path.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{micros, time, uuid};
use crate::db::dialect::lock_owner;
use crate::db::DbConnection;
use crate::error::Result;
use crate::files::domain::{first_conflict, DavLockRecord, DeadProp, RemotePath};

diesel::table! {
    dav_properties (node_id, namespace, name) {
        node_id -> Text,
        owner_id -> Text,
        namespace -> Text,
        name -> Text,
        xml -> Text,
    }
}

diesel::table! {
    dav_locks (token) {
        token -> Text,
        owner_id -> Text,
        path -> Text,
        principal -> Nullable<Text>,
        owner_xml -> Nullable<Text>,
        expires_at -> Nullable<BigInt>,
        timeout_secs -> Nullable<BigInt>,
        shared -> Integer,
        deep -> Integer,
    }
}

/// A lock row.
type LockRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i32,
    i32,
);

/// The node's dead properties.
pub fn dead_props(connection: &mut DbConnection, owner: Uuid, node: Uuid) -> Result<Vec<DeadProp>> {
    let rows: Vec<(String, String, String)> = dav_properties::table
        .filter(dav_properties::owner_id.eq(owner.to_string()))
        .filter(dav_properties::node_id.eq(node.to_string()))
        .select((
            dav_properties::namespace,
            dav_properties::name,
            dav_properties::xml,
        ))
        .order((dav_properties::namespace, dav_properties::name))
        .load(connection)?;
    Ok(rows
        .into_iter()
        .map(|(namespace, name, xml)| DeadProp {
            namespace,
            name,
            xml: xml.into_bytes(),
        })
        .collect())
}

/// The owner's nodes that have dead properties.
pub fn nodes_with_dead_props(connection: &mut DbConnection, owner: Uuid) -> Result<Vec<Uuid>> {
    let ids: Vec<String> = dav_properties::table
        .filter(dav_properties::owner_id.eq(owner.to_string()))
        .select(dav_properties::node_id)
        .distinct()
        .load(connection)?;
    ids.iter().map(|id| uuid(id)).collect()
}

/// Applies `changes` to the node in order, inside the caller's transaction.
pub fn patch_dead_props(
    connection: &mut DbConnection,
    owner: Uuid,
    node: Uuid,
    changes: Vec<(bool, DeadProp)>,
) -> Result<()> {
    lock_owner(connection, owner)?;
    let node_id = node.to_string();
    for (set, prop) in changes {
        diesel::delete(
            dav_properties::table
                .filter(dav_properties::node_id.eq(&node_id))
                .filter(dav_properties::namespace.eq(&prop.namespace))
                .filter(dav_properties::name.eq(&prop.name)),
        )
        .execute(connection)?;
        if set {
            diesel::insert_into(dav_properties::table)
                .values((
                    dav_properties::node_id.eq(&node_id),
                    dav_properties::owner_id.eq(owner.to_string()),
                    dav_properties::namespace.eq(prop.namespace),
                    dav_properties::name.eq(prop.name),
                    dav_properties::xml.eq(String::from_utf8_lossy(&prop.xml).into_owned()),
                ))
                .execute(connection)?;
        }
    }
    Ok(())
}

/// The owner's locks unexpired at `now`.
pub fn dav_locks(
    connection: &mut DbConnection,
    owner: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<DavLockRecord>> {
    let rows: Vec<LockRow> = dav_locks::table
        .filter(dav_locks::owner_id.eq(owner.to_string()))
        .filter(
            dav_locks::expires_at
                .is_null()
                .or(dav_locks::expires_at.gt(micros(now))),
        )
        .order(dav_locks::path)
        .load(connection)?;
    rows.into_iter().map(lock_record).collect()
}

/// Takes `lock` unless one held conflicts, under the owner's lock; the expired ones go.
pub fn add_dav_lock(
    connection: &mut DbConnection,
    lock: DavLockRecord,
    now: DateTime<Utc>,
) -> Result<Option<DavLockRecord>> {
    lock_owner(connection, lock.owner)?;
    diesel::delete(
        dav_locks::table
            .filter(dav_locks::owner_id.eq(lock.owner.to_string()))
            .filter(dav_locks::expires_at.le(micros(now))),
    )
    .execute(connection)?;
    let held = dav_locks(connection, lock.owner, now)?;
    if let Some(conflict) = first_conflict(&held, &lock.path, lock.deep, lock.shared) {
        return Ok(Some(conflict.clone()));
    }
    diesel::insert_into(dav_locks::table)
        .values((
            dav_locks::token.eq(&lock.token),
            dav_locks::owner_id.eq(lock.owner.to_string()),
            dav_locks::path.eq(lock.path.as_str()),
            dav_locks::principal.eq(&lock.principal),
            dav_locks::owner_xml.eq(&lock.owner_xml),
            dav_locks::expires_at.eq(lock.expires_at.map(micros)),
            dav_locks::timeout_secs.eq(lock.timeout_secs.map(|secs| secs as i64)),
            dav_locks::shared.eq(i32::from(lock.shared)),
            dav_locks::deep.eq(i32::from(lock.deep)),
        ))
        .execute(connection)?;
    Ok(None)
}

/// Gives the owner's lock `token` a new end.
pub fn refresh_dav_lock(
    connection: &mut DbConnection,
    owner: Uuid,
    token: &str,
    expires_at: Option<DateTime<Utc>>,
    timeout_secs: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Option<DavLockRecord>> {
    let updated = diesel::update(
        dav_locks::table
            .filter(dav_locks::owner_id.eq(owner.to_string()))
            .filter(dav_locks::token.eq(token))
            .filter(
                dav_locks::expires_at
                    .is_null()
                    .or(dav_locks::expires_at.gt(micros(now))),
            ),
    )
    .set((
        dav_locks::expires_at.eq(expires_at.map(micros)),
        dav_locks::timeout_secs.eq(timeout_secs.map(|secs| secs as i64)),
    ))
    .execute(connection)?;
    if updated == 0 {
        return Ok(None);
    }
    let row: LockRow = dav_locks::table
        .filter(dav_locks::token.eq(token))
        .first(connection)?;
    lock_record(row).map(Some)
}

/// Removes the owner's lock `token`; whether there was one.
pub fn remove_dav_lock(connection: &mut DbConnection, owner: Uuid, token: &str) -> Result<bool> {
    let removed = diesel::delete(
        dav_locks::table
            .filter(dav_locks::owner_id.eq(owner.to_string()))
            .filter(dav_locks::token.eq(token)),
    )
    .execute(connection)?;
    Ok(removed > 0)
}

/// Removes the owner's locks on `path` and below.
pub fn remove_dav_locks_under(
    connection: &mut DbConnection,
    owner: Uuid,
    path: &str,
) -> Result<()> {
    let below = format!("{}/%", path.trim_end_matches('/'));
    diesel::delete(
        dav_locks::table
            .filter(dav_locks::owner_id.eq(owner.to_string()))
            .filter(dav_locks::path.eq(path).or(dav_locks::path.like(below))),
    )
    .execute(connection)?;
    Ok(())
}

fn lock_record(row: LockRow) -> Result<DavLockRecord> {
    let (token, owner, path, principal, owner_xml, expires_at, timeout_secs, shared, deep) = row;
    Ok(DavLockRecord {
        token,
        owner: uuid(&owner)?,
        path: RemotePath::parse(&path)?,
        principal,
        owner_xml,
        expires_at: expires_at.map(time).transpose()?,
        timeout_secs: timeout_secs.map(|secs| secs.max(0) as u64),
        shared: shared != 0,
        deep: deep != 0,
    })
}
