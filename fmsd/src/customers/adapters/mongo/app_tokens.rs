//! The `app_tokens` collection: one document per app token, `_id` = the token id, a unique
//! index on `token_hash`. Deleted with their customer and on a password change.

use common::api::TokenScope;
use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};
use uuid::Uuid;

use super::documents::{
    conflict_or_store_error, from_millis, integer, store_error, text, uuid_field,
};
use crate::customers::ports::StoredAppToken;
use crate::error::{Error, Result};

/// The indexes: by hash (unique, what a request looks up) and by customer.
pub async fn create_indexes(
    tokens: &Collection<Document>,
) -> std::result::Result<(), mongodb::error::Error> {
    let by_hash = IndexModel::builder()
        .keys(doc! { "token_hash": 1 })
        .options(
            IndexOptions::builder()
                .name("app_tokens_by_hash".to_owned())
                .unique(true)
                .build(),
        )
        .build();
    let by_customer = IndexModel::builder()
        .keys(doc! { "customer_id": 1, "created_at": -1 })
        .build();
    tokens.create_indexes([by_hash, by_customer]).await?;
    Ok(())
}

/// The document of `token`.
pub fn document(token: &StoredAppToken) -> Document {
    let millis = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map_or(Bson::Null, |at| Bson::Int64(at.timestamp_millis()))
    };
    doc! {
        "_id": token.id.to_string(),
        "customer_id": token.customer_id.to_string(),
        "name": &token.name,
        "scope": token.scope.as_str(),
        "token_hash": &token.token_hash,
        "created_at": token.created_at.timestamp_millis(),
        "expires_at": millis(token.expires_at),
        "last_used_at": millis(token.last_used_at),
    }
}

/// The token a document holds.
pub fn decode(document: &Document) -> Result<StoredAppToken> {
    let optional_time = |key: &str| match document.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(_) => integer(document, key).map(|millis| Some(from_millis(millis))),
    };
    let scope = TokenScope::parse(text(document, "scope")?).ok_or_else(|| {
        Error::internal(anyhow::anyhow!(
            "an app token document has an unknown scope"
        ))
    })?;
    Ok(StoredAppToken {
        id: uuid_field(document, "_id")?,
        customer_id: uuid_field(document, "customer_id")?,
        name: text(document, "name")?.to_owned(),
        scope,
        token_hash: text(document, "token_hash")?.to_owned(),
        created_at: from_millis(integer(document, "created_at")?),
        expires_at: optional_time("expires_at")?,
        last_used_at: optional_time("last_used_at")?,
    })
}

/// Stores `token`.
pub async fn insert(tokens: &Collection<Document>, token: &StoredAppToken) -> Result<()> {
    tokens
        .insert_one(document(token))
        .await
        .map_err(|error| conflict_or_store_error(error, "this app token exists"))?;
    Ok(())
}

/// The customer's tokens, newest first.
pub async fn of_customer(
    tokens: &Collection<Document>,
    customer_id: Uuid,
) -> Result<Vec<StoredAppToken>> {
    let documents: Vec<Document> = tokens
        .find(doc! { "customer_id": customer_id.to_string() })
        .await
        .map_err(store_error)?
        .try_collect()
        .await
        .map_err(store_error)?;
    let mut found = documents.iter().map(decode).collect::<Result<Vec<_>>>()?;
    // Sorted here, not by the server: the ids are UUIDv7, so this is creation order exactly.
    found.sort_by_key(|token| std::cmp::Reverse((token.created_at, token.id)));
    Ok(found)
}

/// Deletes every token of the customer.
pub async fn delete_all(tokens: &Collection<Document>, customer_id: &str) -> Result<()> {
    tokens
        .delete_many(doc! { "customer_id": customer_id })
        .await
        .map_err(store_error)?;
    Ok(())
}
