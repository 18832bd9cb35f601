//! The `mail_codes` table: at most one code per customer and purpose, gone with its customer.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use uuid::Uuid;

use super::schema::mail_codes;
use super::{from_millis, parse_uuid};
use crate::customers::ports::{CodePurpose, StoredCode};
use crate::db::dialect::per_engine;
use crate::db::DbConnection;
use crate::error::{Error, Result};

/// A `mail_codes` row.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_codes)]
struct CodeRow {
    customer_id: String,
    purpose: String,
    token_hash: String,
    new_email: Option<String>,
    new_email_key: Option<String>,
    expires_at: i64,
}

impl CodeRow {
    fn new(code: &StoredCode) -> Self {
        let (new_email, new_email_key) = code.new_email.clone().unzip();
        Self {
            customer_id: code.customer_id.to_string(),
            purpose: code.purpose.as_str().to_owned(),
            token_hash: code.token_hash.clone(),
            new_email,
            new_email_key,
            expires_at: code.expires_at.timestamp_millis(),
        }
    }

    fn into_code(self) -> Result<StoredCode> {
        let purpose = CodePurpose::parse(&self.purpose).ok_or_else(|| {
            Error::internal(anyhow::anyhow!(
                "a mail code has the purpose '{}'",
                self.purpose
            ))
        })?;
        Ok(StoredCode {
            token_hash: self.token_hash,
            customer_id: parse_uuid(&self.customer_id)?,
            purpose,
            new_email: self.new_email.zip(self.new_email_key),
            expires_at: from_millis(self.expires_at),
        })
    }
}

/// Stores `code` in place of the customer's code of its purpose.
pub fn put(connection: &mut DbConnection, code: &StoredCode) -> Result<()> {
    let row = CodeRow::new(code);
    diesel::delete(
        mail_codes::table
            .filter(mail_codes::customer_id.eq(&row.customer_id))
            .filter(mail_codes::purpose.eq(&row.purpose)),
    )
    .execute(connection)?;
    diesel::insert_into(mail_codes::table)
        .values(&row)
        .execute(connection)
        .map_err(|error| match error {
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Error::NotFound("this account no longer exists".into())
            }
            other => other.into(),
        })?;
    Ok(())
}

/// Deletes and returns the unexpired code hashing to `token_hash` for one of `purposes`.
pub fn take(
    connection: &mut DbConnection,
    token_hash: &str,
    purposes: &[CodePurpose],
    now: i64,
) -> Result<Option<StoredCode>> {
    let purposes: Vec<&str> = purposes.iter().map(|purpose| purpose.as_str()).collect();
    let target = mail_codes::table
        .filter(mail_codes::token_hash.eq(token_hash))
        .filter(mail_codes::purpose.eq_any(purposes))
        .filter(mail_codes::expires_at.gt(now));
    per_engine!(connection, |inner| diesel::delete(target)
        .returning(CodeRow::as_returning())
        .get_result(inner)
        .optional())?
    .map(CodeRow::into_code)
    .transpose()
}

/// The customer's unexpired code for `purpose`.
pub fn of_customer(
    connection: &mut DbConnection,
    customer_id: Uuid,
    purpose: CodePurpose,
    now: i64,
) -> Result<Option<StoredCode>> {
    mail_codes::table
        .filter(mail_codes::customer_id.eq(customer_id.to_string()))
        .filter(mail_codes::purpose.eq(purpose.as_str()))
        .filter(mail_codes::expires_at.gt(now))
        .select(CodeRow::as_select())
        .first(connection)
        .optional()?
        .map(CodeRow::into_code)
        .transpose()
}
