//! The `mail_codes` collection: one document per customer and purpose (`_id` =
//! `CUSTOMER:PURPOSE`, so a newer code replaces the older one in one write), a unique index on
//! `token_hash`. Deleted with their customer.

use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use uuid::Uuid;

use common::events::Outgoing;

use super::documents::{from_millis, integer, store_error, text, update_with_events, uuid_field};
use crate::customers::ports::{CodePurpose, StoredCode};
use crate::error::{Error, Result};

/// The index a code is looked up by.
pub async fn create_indexes(
    codes: &Collection<Document>,
) -> std::result::Result<(), mongodb::error::Error> {
    let by_hash = IndexModel::builder()
        .keys(doc! { "token_hash": 1 })
        .options(
            IndexOptions::builder()
                .name("mail_codes_by_hash".to_owned())
                .unique(true)
                .build(),
        )
        .build();
    let by_customer = IndexModel::builder()
        .keys(doc! { "customer_id": 1 })
        .build();
    codes.create_indexes([by_hash, by_customer]).await?;
    Ok(())
}

/// The `_id` of a customer's code for `purpose`.
fn key(customer_id: Uuid, purpose: CodePurpose) -> String {
    format!("{customer_id}:{}", purpose.as_str())
}

/// Stores `code` in place of the customer's code of its purpose, then writes `events` into
/// the customer's document (its outbox); `NotFound`, and no code, if the customer is gone.
pub async fn put_with_events(
    codes: &Collection<Document>,
    customers: &Collection<Document>,
    code: &StoredCode,
    events: &[Outgoing],
) -> Result<()> {
    put(codes, code).await?;
    let live = doc! { "_id": code.customer_id.to_string(), "deleted": false };
    // Checked after the write, as app tokens are: a deletion that ran meanwhile missed it.
    let found = if events.is_empty() {
        customers
            .find_one(live)
            .await
            .map_err(store_error)?
            .is_some()
    } else {
        customers
            .update_one(live, update_with_events(Document::new(), events)?)
            .await
            .map_err(store_error)?
            .matched_count
            > 0
    };
    if !found {
        delete_all(codes, &code.customer_id.to_string()).await?;
        return Err(Error::NotFound("this account no longer exists".into()));
    }
    Ok(())
}

/// Stores `code` in place of the customer's code of its purpose.
async fn put(codes: &Collection<Document>, code: &StoredCode) -> Result<()> {
    let (new_email, new_email_key) = match &code.new_email {
        Some((email, email_key)) => (Bson::from(email), Bson::from(email_key)),
        None => (Bson::Null, Bson::Null),
    };
    let id = key(code.customer_id, code.purpose);
    // The replacement names its `_id` too: a MongoDB-compatible server may not take it from
    // the filter on an upsert.
    let document = doc! {
        "_id": &id,
        "customer_id": code.customer_id.to_string(),
        "purpose": code.purpose.as_str(),
        "token_hash": &code.token_hash,
        "new_email": new_email,
        "new_email_key": new_email_key,
        "expires_at": code.expires_at.timestamp_millis(),
    };
    codes
        .replace_one(doc! { "_id": &id }, document)
        .upsert(true)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Deletes and returns the unexpired code hashing to `token_hash` for one of `purposes`.
pub async fn take(
    codes: &Collection<Document>,
    token_hash: &str,
    purposes: &[CodePurpose],
    now: DateTime<Utc>,
) -> Result<Option<StoredCode>> {
    let purposes: Vec<&str> = purposes.iter().map(|purpose| purpose.as_str()).collect();
    codes
        .find_one_and_delete(doc! {
            "token_hash": token_hash,
            "purpose": { "$in": purposes },
            "expires_at": { "$gt": now.timestamp_millis() },
        })
        .await
        .map_err(store_error)?
        .as_ref()
        .map(decode)
        .transpose()
}

/// The customer's unexpired code for `purpose`.
pub async fn of_customer(
    codes: &Collection<Document>,
    customer_id: Uuid,
    purpose: CodePurpose,
    now: DateTime<Utc>,
) -> Result<Option<StoredCode>> {
    codes
        .find_one(doc! {
            "_id": key(customer_id, purpose),
            "expires_at": { "$gt": now.timestamp_millis() },
        })
        .await
        .map_err(store_error)?
        .as_ref()
        .map(decode)
        .transpose()
}

/// Deletes every code of the customer `customer_id`.
pub async fn delete_all(codes: &Collection<Document>, customer_id: &str) -> Result<()> {
    codes
        .delete_many(doc! { "customer_id": customer_id })
        .await
        .map_err(store_error)?;
    Ok(())
}

/// The code in a document.
fn decode(document: &Document) -> Result<StoredCode> {
    let purpose = CodePurpose::parse(text(document, "purpose")?)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("a mail code has an unknown purpose")))?;
    let new_email = match (document.get("new_email"), document.get("new_email_key")) {
        (Some(Bson::String(email)), Some(Bson::String(key))) => Some((email.clone(), key.clone())),
        _ => None,
    };
    Ok(StoredCode {
        token_hash: text(document, "token_hash")?.to_owned(),
        customer_id: uuid_field(document, "customer_id")?,
        purpose,
        new_email,
        expires_at: from_millis(integer(document, "expires_at")?),
    })
}
