//! The limits in a SQL table, `rate_limits(key, tat)`, on SQLite or PostgreSQL through
//! `crate::db`: every instance of a stack that points at the same database counts against the
//! same rows. The real stack keeps them in the files PostgreSQL unless `stores.limits` names
//! another (`app/wiring.rs`); the table is the limiter's own and no service reads it.
//!
//! Each call is one write transaction. It first upserts every key's row in key order (`INSERT
//! .. ON CONFLICT DO UPDATE SET tat = tat RETURNING tat`): one statement that makes the row if
//! it is new, locks it until commit on PostgreSQL and reads its TAT. Then the arithmetic of
//! [`gcra`] runs in the process and the new TATs are written. A second instance counting the
//! same key waits at its upsert until the first commits and then reads the TAT the first wrote,
//! so no attempt is lost between instances; keys are always locked in the same order, so two
//! attempts on the same pair of keys never deadlock. On SQLite the transaction's write lock
//! (`BEGIN IMMEDIATE`) already serializes them.
//!
//! On PostgreSQL the commit does not wait for the disk (`dialect::commit_without_flush`): that
//! takes a shared check from about 4 ms to about 0.6 ms here (`benches/limits.rs`), and a crash
//! of the server can then forget only the last fraction of a second of counts, which gives a
//! guesser at most a few more attempts, once, never corrupt ones.
//!
//! Rows whose TAT has passed mean the same as no row; about once a minute an instance deletes
//! them, off the request's path.

use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_migrations::embed_migrations;

use crate::db::dialect::{self, per_engine};
use crate::db::{Database, DbConnection, Migrations};
use crate::error::Result;
use crate::health::Probe;
use crate::limits::gcra::{self, Micros};
use crate::limits::ports::{Limit, RateLimitStore, Verdict};
use crate::store_url::StoreUrl;

/// The same DDL on both engines (a text key, a 64-bit integer), so one set serves both.
const MIGRATIONS: Migrations = Migrations {
    sqlite: embed_migrations!("migrations/limits"),
    #[cfg(feature = "postgres")]
    postgres: embed_migrations!("migrations/limits"),
};

/// How often, at most, one instance deletes the rows whose TAT has passed.
const PRUNE_EVERY: Micros = 60_000_000;

/// The table, as diesel sees it.
#[allow(missing_docs)]
mod schema {
    diesel::table! {
        rate_limits (key) {
            key -> Text,
            tat -> BigInt,
        }
    }
}
use schema::rate_limits;

/// The limits in a SQL database.
#[derive(Debug)]
pub struct SqlRateLimitStore {
    /// The pooled database (its own pool, even when it is the files database).
    db: Database,
    /// When this instance last deleted passed rows, so it does so about once a minute.
    last_prune: AtomicI64,
}

impl SqlRateLimitStore {
    /// Opens the database at `url` (`sqlite://` or `postgres://`) and creates the table if
    /// needed. Never logs the URL (it may hold a password).
    pub async fn open(url: &StoreUrl) -> anyhow::Result<Self> {
        Ok(Self {
            db: Database::open("limits", url, MIGRATIONS).await?,
            last_prune: AtomicI64::new(0),
        })
    }

    /// Deletes the passed rows in the background, if this instance has not for a minute.
    fn prune_if_due(&self, now: Micros) {
        let last = self.last_prune.load(Ordering::Relaxed);
        if now - last < PRUNE_EVERY
            || self
                .last_prune
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let db = self.db.clone();
        tokio::spawn(async move {
            let pruned = db
                .write(move |connection| {
                    Ok(
                        diesel::delete(rate_limits::table.filter(rate_limits::tat.lt(now)))
                            .execute(connection)?,
                    )
                })
                .await;
            match pruned {
                Ok(n_rows) => tracing::debug!(n_rows, "passed rate limits deleted"),
                Err(error) => {
                    tracing::warn!(error = %error.report(), "failed to delete passed rate limits")
                }
            }
        });
    }
}

/// Makes `key`'s row if it is new, locks it until commit (PostgreSQL), and reads its TAT.
fn lock_tat(connection: &mut DbConnection, key: &str) -> Result<Micros> {
    let row = (rate_limits::key.eq(key), rate_limits::tat.eq(0_i64));
    Ok(per_engine!(connection, |inner| diesel::insert_into(
        rate_limits::table
    )
    .values(row)
    .on_conflict(rate_limits::key)
    .do_update()
    .set(rate_limits::tat.eq(rate_limits::tat))
    .returning(rate_limits::tat)
    .get_result(inner))?)
}

/// Writes `key`'s new TAT; its row is locked by [`lock_tat`].
fn set_tat(connection: &mut DbConnection, key: &str, tat: Micros) -> Result<()> {
    diesel::update(rate_limits::table.filter(rate_limits::key.eq(key)))
        .set(rate_limits::tat.eq(tat))
        .execute(connection)?;
    Ok(())
}

/// `limits` in the order their rows are locked.
fn in_lock_order(mut limits: Vec<Limit>) -> Vec<Limit> {
    limits.sort_by(|a, b| a.key.cmp(&b.key));
    limits
}

#[async_trait]
impl RateLimitStore for SqlRateLimitStore {
    #[tracing::instrument(skip_all)]
    async fn acquire(&self, limits: Vec<Limit>, now: Micros) -> Result<Verdict> {
        self.prune_if_due(now);
        let limits = in_lock_order(limits);
        self.db
            .write(move |connection| {
                dialect::commit_without_flush(connection)?;
                let mut current = Vec::with_capacity(limits.len());
                for limit in &limits {
                    current.push((lock_tat(connection, limit.key.as_str())?, limit.rate));
                }
                match gcra::admit_all(&current, now) {
                    Ok(next) => {
                        for (limit, tat) in limits.iter().zip(next) {
                            set_tat(connection, limit.key.as_str(), tat)?;
                        }
                        Ok(Verdict::Admitted)
                    }
                    Err(retry_after) => Ok(Verdict::Refused { retry_after }),
                }
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn give_back(&self, limits: Vec<Limit>) -> Result<()> {
        let limits = in_lock_order(limits);
        self.db
            .write(move |connection| {
                dialect::commit_without_flush(connection)?;
                for limit in &limits {
                    let tat = lock_tat(connection, limit.key.as_str())?;
                    set_tat(
                        connection,
                        limit.key.as_str(),
                        gcra::give_back(tat, limit.rate),
                    )?;
                }
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl Probe for SqlRateLimitStore {
    async fn probe(&self) -> Result<()> {
        self.db.ping().await
    }
}
