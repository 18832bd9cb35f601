//! Customers in SQLite through diesel: the embedded default.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use common::api::NotificationSettings;
use common::events::Outgoing;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::bus::adapters::sql_outbox::SqlOutbox;
use crate::customers::ports::{
    CodePurpose, Customer, CustomerRepo, NewRefreshToken, Rotation, StoredAppToken, StoredCode,
};
use crate::db::dialect::per_engine;
use crate::db::outbox::enqueue;
use crate::db::{map_error, Database, DbConnection};
use crate::error::{Error, Result};

/// The tables, as diesel sees them.
#[allow(missing_docs)]
mod schema {
    diesel::table! {
        customers (id) {
            id -> Text,
            email -> Text,
            email_key -> Text,
            name -> Text,
            password_hash -> Text,
            created_at -> BigInt,
            activity_mail -> Bool,
            email_verified -> Bool,
        }
    }
    diesel::table! {
        refresh_tokens (token_hash) {
            token_hash -> Text,
            family_id -> Text,
            customer_id -> Text,
            expires_at -> BigInt,
            used -> Bool,
            revoked -> Bool,
            used_at -> Nullable<BigInt>,
        }
    }
    diesel::table! {
        app_tokens (id) {
            id -> Text,
            customer_id -> Text,
            name -> Text,
            scope -> Text,
            token_hash -> Text,
            created_at -> BigInt,
            expires_at -> Nullable<BigInt>,
            last_used_at -> Nullable<BigInt>,
        }
    }
    diesel::table! {
        mail_codes (customer_id, purpose) {
            customer_id -> Text,
            purpose -> Text,
            token_hash -> Text,
            new_email -> Nullable<Text>,
            new_email_key -> Nullable<Text>,
            expires_at -> BigInt,
        }
    }
    diesel::joinable!(app_tokens -> customers (customer_id));
    diesel::joinable!(mail_codes -> customers (customer_id));
    diesel::allow_tables_to_appear_in_same_query!(
        customers,
        refresh_tokens,
        app_tokens,
        mail_codes
    );
}
use schema::{customers, refresh_tokens};

mod app_tokens;
mod codes;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/customers");

/// A customers row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = customers)]
struct CustomerRow {
    id: String,
    email: String,
    email_key: String,
    name: String,
    password_hash: String,
    created_at: i64,
    activity_mail: bool,
    email_verified: bool,
}

impl CustomerRow {
    fn into_customer(self) -> Result<Customer> {
        Ok(Customer {
            id: parse_uuid(&self.id)?,
            email: self.email,
            email_key: self.email_key,
            name: self.name,
            password_hash: self.password_hash,
            created_at: from_millis(self.created_at),
            notifications: NotificationSettings {
                activity_mail: self.activity_mail,
            },
            email_verified: self.email_verified,
        })
    }
}

fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(Error::internal)
}

fn from_millis(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

/// The customers database.
#[derive(Debug, Clone)]
pub struct SqliteCustomerRepo {
    /// The service's own database file.
    db: Database,
    /// Woken after a commit that wrote events, so the relay publishes them at once.
    wake: Arc<Notify>,
}

impl SqliteCustomerRepo {
    /// Opens (or creates and migrates) the database at `path`.
    pub fn open(path: &Path, wake: Arc<Notify>) -> anyhow::Result<Self> {
        Ok(Self {
            db: Database::sqlite(path, MIGRATIONS)?,
            wake,
        })
    }

    /// The outbox in this database, for the relay.
    pub fn outbox(&self) -> SqlOutbox {
        SqlOutbox::new(self.db.clone())
    }

    /// The database, for `/readyz`.
    pub fn db(&self) -> Database {
        self.db.clone()
    }

    /// Runs `work` in an immediate transaction that also enqueues `events`, then wakes the relay.
    async fn write<T, F>(&self, events: Vec<Outgoing>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
    {
        let n_events = events.len();
        let value = self
            .db
            .write(move |connection| {
                let value = work(connection)?;
                enqueue(connection, &events)?;
                Ok(value)
            })
            .await?;
        if n_events > 0 {
            self.wake.notify_one();
        }
        Ok(value)
    }
}

#[async_trait]
impl CustomerRepo for SqliteCustomerRepo {
    async fn insert(&self, customer: &Customer, events: Vec<Outgoing>) -> Result<()> {
        let row = CustomerRow {
            id: customer.id.to_string(),
            email: customer.email.clone(),
            email_key: customer.email_key.clone(),
            name: customer.name.clone(),
            password_hash: customer.password_hash.clone(),
            created_at: customer.created_at.timestamp_millis(),
            activity_mail: customer.notifications.activity_mail,
            email_verified: customer.email_verified,
        };
        self.write(events, move |connection| {
            diesel::insert_into(customers::table)
                .values(&row)
                .execute(connection)
                .map_err(|error| map_error(error, "an account with this e-mail address exists"))?;
            Ok(())
        })
        .await
    }

    async fn by_email_key(&self, email_key: &str) -> Result<Option<Customer>> {
        let email_key = email_key.to_owned();
        self.db
            .run(move |connection| {
                customers::table
                    .filter(customers::email_key.eq(email_key))
                    .select(CustomerRow::as_select())
                    .first(connection)
                    .optional()?
                    .map(CustomerRow::into_customer)
                    .transpose()
            })
            .await
    }

    async fn by_id(&self, id: Uuid) -> Result<Option<Customer>> {
        self.db
            .run(move |connection| {
                customers::table
                    .find(id.to_string())
                    .select(CustomerRow::as_select())
                    .first(connection)
                    .optional()?
                    .map(CustomerRow::into_customer)
                    .transpose()
            })
            .await
    }

    async fn update_profile(
        &self,
        id: Uuid,
        name: &str,
        notifications: NotificationSettings,
        events: Vec<Outgoing>,
    ) -> Result<Customer> {
        let name = name.to_owned();
        self.write(events, move |connection| {
            let changes = (
                customers::name.eq(name),
                customers::activity_mail.eq(notifications.activity_mail),
            );
            per_engine!(connection, |inner| diesel::update(
                customers::table.find(id.to_string())
            )
            .set(changes)
            .returning(CustomerRow::as_returning())
            .get_result(inner)
            .optional())?
            .ok_or_else(|| Error::NotFound("this account no longer exists".into()))?
            .into_customer()
        })
        .await
    }

    async fn update_password(
        &self,
        id: Uuid,
        password_hash: &str,
        keep_session: Option<Uuid>,
        events: Vec<Outgoing>,
    ) -> Result<()> {
        let password_hash = password_hash.to_owned();
        self.write(events, move |connection| {
            let n = diesel::update(customers::table.find(id.to_string()))
                .set(customers::password_hash.eq(password_hash))
                .execute(connection)?;
            if n == 0 {
                return Err(Error::NotFound("this account no longer exists".into()));
            }
            let keep = keep_session.map(|s| s.to_string()).unwrap_or_default();
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::customer_id.eq(id.to_string()))
                    .filter(refresh_tokens::family_id.ne(keep)),
            )
            .set(refresh_tokens::revoked.eq(true))
            .execute(connection)?;
            app_tokens::delete_all(connection, id)?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, id: Uuid, events: Vec<Outgoing>) -> Result<()> {
        self.write(events, move |connection| {
            diesel::delete(
                refresh_tokens::table.filter(refresh_tokens::customer_id.eq(id.to_string())),
            )
            .execute(connection)?;
            app_tokens::delete_all(connection, id)?;
            let n = diesel::delete(customers::table.find(id.to_string())).execute(connection)?;
            if n == 0 {
                return Err(Error::NotFound("this account no longer exists".into()));
            }
            Ok(())
        })
        .await
    }

    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<()> {
        let row = (
            refresh_tokens::token_hash.eq(token.token_hash.clone()),
            refresh_tokens::family_id.eq(token.family_id.to_string()),
            refresh_tokens::customer_id.eq(token.customer_id.to_string()),
            refresh_tokens::expires_at.eq(token.expires_at.timestamp_millis()),
        );
        self.write(Vec::new(), move |connection| {
            diesel::insert_into(refresh_tokens::table)
                .values(row)
                .execute(connection)
                .map_err(|error| match error {
                    // The account was deleted between the password check and this insert.
                    DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                        Error::Unauthorized("this account no longer exists".into())
                    }
                    other => other.into(),
                })?;
            Ok(())
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        next_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        reuse_grace: chrono::Duration,
    ) -> Result<Rotation> {
        let (presented_hash, next_hash) = (presented_hash.to_owned(), next_hash.to_owned());
        let (now, grace_from) = (
            now.timestamp_millis(),
            (now - reuse_grace).timestamp_millis(),
        );
        self.write(Vec::new(), move |connection| {
            let found: Option<(String, String, i64, bool, bool, Option<i64>)> =
                refresh_tokens::table
                    .find(&presented_hash)
                    .select((
                        refresh_tokens::family_id,
                        refresh_tokens::customer_id,
                        refresh_tokens::expires_at,
                        refresh_tokens::used,
                        refresh_tokens::revoked,
                        refresh_tokens::used_at,
                    ))
                    .first(connection)
                    .optional()?;
            let Some((family_id, customer_id, expires_at, used, revoked, used_at)) = found else {
                return Ok(Rotation::Unknown);
            };
            let lost_race = used && !revoked && used_at.is_some_and(|at| at > grace_from);
            if (used && !lost_race) || revoked {
                diesel::update(
                    refresh_tokens::table.filter(refresh_tokens::family_id.eq(&family_id)),
                )
                .set(refresh_tokens::revoked.eq(true))
                .execute(connection)?;
                return Ok(Rotation::Reused);
            }
            if expires_at <= now {
                return Ok(Rotation::Expired);
            }
            if !used {
                diesel::update(refresh_tokens::table.find(&presented_hash))
                    .set((
                        refresh_tokens::used.eq(true),
                        refresh_tokens::used_at.eq(now),
                    ))
                    .execute(connection)?;
            }
            diesel::insert_into(refresh_tokens::table)
                .values((
                    refresh_tokens::token_hash.eq(next_hash),
                    refresh_tokens::family_id.eq(&family_id),
                    refresh_tokens::customer_id.eq(&customer_id),
                    refresh_tokens::expires_at.eq(next_expires_at.timestamp_millis()),
                ))
                .execute(connection)?;
            Ok(Rotation::Rotated {
                customer_id: parse_uuid(&customer_id)?,
                family_id: parse_uuid(&family_id)?,
            })
        })
        .await
    }

    async fn revoke_session_of(&self, presented_hash: &str) -> Result<bool> {
        let presented_hash = presented_hash.to_owned();
        self.write(Vec::new(), move |connection| {
            let family: Option<String> = refresh_tokens::table
                .find(&presented_hash)
                .select(refresh_tokens::family_id)
                .first(connection)
                .optional()?;
            let Some(family) = family else {
                return Ok(false);
            };
            diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(family)))
                .set(refresh_tokens::revoked.eq(true))
                .execute(connection)?;
            Ok(true)
        })
        .await
    }

    async fn insert_app_token(&self, token: &StoredAppToken) -> Result<()> {
        let token = token.clone();
        self.write(Vec::new(), move |connection| {
            app_tokens::insert(connection, &token)
        })
        .await
    }

    async fn app_tokens(&self, customer_id: Uuid) -> Result<Vec<StoredAppToken>> {
        self.db
            .run(move |connection| app_tokens::of_customer(connection, customer_id))
            .await
    }

    async fn app_token_by_hash(&self, token_hash: &str) -> Result<Option<StoredAppToken>> {
        let token_hash = token_hash.to_owned();
        self.db
            .run(move |connection| app_tokens::by_hash(connection, &token_hash))
            .await
    }

    async fn delete_app_token(&self, customer_id: Uuid, id: Uuid) -> Result<bool> {
        self.write(Vec::new(), move |connection| {
            app_tokens::delete(connection, customer_id, id)
        })
        .await
    }

    async fn touch_app_token(&self, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        let at = at.timestamp_millis();
        self.write(Vec::new(), move |connection| {
            app_tokens::touch(connection, id, at)
        })
        .await
    }

    async fn put_code(&self, code: &StoredCode, events: Vec<Outgoing>) -> Result<()> {
        let code = code.clone();
        self.write(events, move |connection| codes::put(connection, &code))
            .await
    }

    async fn take_code(
        &self,
        token_hash: &str,
        purposes: &[CodePurpose],
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCode>> {
        let (token_hash, purposes) = (token_hash.to_owned(), purposes.to_vec());
        self.write(Vec::new(), move |connection| {
            codes::take(connection, &token_hash, &purposes, now.timestamp_millis())
        })
        .await
    }

    async fn code_of(
        &self,
        customer_id: Uuid,
        purpose: CodePurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCode>> {
        self.db
            .run(move |connection| {
                codes::of_customer(connection, customer_id, purpose, now.timestamp_millis())
            })
            .await
    }

    async fn set_verified(
        &self,
        id: Uuid,
        new_email: Option<(String, String)>,
        events: Vec<Outgoing>,
    ) -> Result<Customer> {
        self.write(events, move |connection| {
            let target = || customers::table.find(id.to_string());
            if let Some((email, email_key)) = new_email {
                diesel::update(target())
                    .set((
                        customers::email.eq(email),
                        customers::email_key.eq(email_key),
                    ))
                    .execute(connection)
                    .map_err(|error| {
                        map_error(error, "another account has this e-mail address now")
                    })?;
            }
            per_engine!(connection, |inner| diesel::update(target())
                .set(customers::email_verified.eq(true))
                .returning(CustomerRow::as_returning())
                .get_result(inner)
                .optional())?
            .ok_or_else(|| Error::NotFound("this account no longer exists".into()))?
            .into_customer()
        })
        .await
    }
}
