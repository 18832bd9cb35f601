//! The `app_tokens` table: one row per app token, gone with its customer.

use common::api::TokenScope;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use uuid::Uuid;

use super::schema::app_tokens;
use super::{from_millis, parse_uuid};
use crate::customers::ports::StoredAppToken;
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// An `app_tokens` row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = app_tokens)]
struct AppTokenRow {
    id: String,
    customer_id: String,
    name: String,
    scope: String,
    token_hash: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl AppTokenRow {
    fn new(token: &StoredAppToken) -> Self {
        Self {
            id: token.id.to_string(),
            customer_id: token.customer_id.to_string(),
            name: token.name.clone(),
            scope: token.scope.as_str().to_owned(),
            token_hash: token.token_hash.clone(),
            created_at: token.created_at.timestamp_millis(),
            expires_at: token.expires_at.map(|at| at.timestamp_millis()),
            last_used_at: token.last_used_at.map(|at| at.timestamp_millis()),
        }
    }

    fn into_token(self) -> Result<StoredAppToken> {
        let scope = TokenScope::parse(&self.scope).ok_or_else(|| {
            Error::internal(anyhow::anyhow!(
                "an app token has the scope {:?}",
                self.scope
            ))
        })?;
        Ok(StoredAppToken {
            id: parse_uuid(&self.id)?,
            customer_id: parse_uuid(&self.customer_id)?,
            name: self.name,
            scope,
            token_hash: self.token_hash,
            created_at: from_millis(self.created_at),
            expires_at: self.expires_at.map(from_millis),
            last_used_at: self.last_used_at.map(from_millis),
        })
    }
}

/// Stores `token`; `Unauthorized` if its customer is gone.
pub fn insert(connection: &mut DbConnection, token: &StoredAppToken) -> Result<()> {
    diesel::insert_into(app_tokens::table)
        .values(AppTokenRow::new(token))
        .execute(connection)
        .map_err(|error| match error {
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Error::Unauthorized("this account no longer exists".into())
            }
            other => crate::db::map_error(other, "this app token exists"),
        })?;
    Ok(())
}

/// The customer's tokens, newest first.
pub fn of_customer(
    connection: &mut DbConnection,
    customer_id: Uuid,
) -> Result<Vec<StoredAppToken>> {
    app_tokens::table
        .filter(app_tokens::customer_id.eq(customer_id.to_string()))
        .order((app_tokens::created_at.desc(), app_tokens::id.desc()))
        .select(AppTokenRow::as_select())
        .load(connection)?
        .into_iter()
        .map(AppTokenRow::into_token)
        .collect()
}

/// The token with this hash.
pub fn by_hash(connection: &mut DbConnection, token_hash: &str) -> Result<Option<StoredAppToken>> {
    app_tokens::table
        .filter(app_tokens::token_hash.eq(token_hash))
        .select(AppTokenRow::as_select())
        .first(connection)
        .optional()?
        .map(AppTokenRow::into_token)
        .transpose()
}

/// Deletes the customer's token `id`; whether there was one.
pub fn delete(connection: &mut DbConnection, customer_id: Uuid, id: Uuid) -> Result<bool> {
    let n = diesel::delete(
        app_tokens::table
            .filter(app_tokens::id.eq(id.to_string()))
            .filter(app_tokens::customer_id.eq(customer_id.to_string())),
    )
    .execute(connection)?;
    Ok(n > 0)
}

/// Deletes every token of the customer.
pub fn delete_all(connection: &mut DbConnection, customer_id: Uuid) -> Result<()> {
    diesel::delete(app_tokens::table.filter(app_tokens::customer_id.eq(customer_id.to_string())))
        .execute(connection)?;
    Ok(())
}

/// Notes a use of token `id` at `at_millis`.
pub fn touch(connection: &mut DbConnection, id: Uuid, at_millis: i64) -> Result<()> {
    diesel::update(app_tokens::table.find(id.to_string()))
        .set(app_tokens::last_used_at.eq(at_millis))
        .execute(connection)?;
    Ok(())
}
