//! The customers outbox on MongoDB, without multi-document transactions: each customer
//! document carries its own unpublished events (`pending`), written by the same single-document
//! update that changes the customer, so both happen or neither does.
//!
//! [`MongoOutbox::pending`] reads the documents that have events, oldest first (by
//! `pending_since`, the time of their oldest event), and each document's events in the order
//! they were written (a new field is appended to a document; several set by one update are
//! added in key order, which is the order the events were made, see `documents::event_key`).
//! An embedded document keyed by envelope id rather than an array: nx-27017 stores a pushed
//! sub-document as text and its `$pull` by condition removes the wrong elements, while
//! `$set`/`$unset` of one path are plain on every server.
//!
//! [`MongoOutbox::mark_published`] `$unset`s events by envelope id; when the last event of a
//! deleted customer's tombstone is gone, the tombstone goes too.

use std::collections::HashMap;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{doc, Document};
use mongodb::options::ReturnDocument;
use mongodb::Collection;

use super::documents::{
    decode_pending, event_field, flag, integer, store_error, text, PENDING_COUNT, PENDING_SINCE,
};
use crate::bus::ports::{Outbox, OutboxEntry};
use crate::error::Result;

/// The events pending in the customers collection, for the relay.
#[derive(Debug, Clone)]
pub struct MongoOutbox {
    /// Customer documents, each with its pending events.
    pub(super) customers: Collection<Document>,
    /// Refresh tokens; a removed tombstone's leftovers are deleted with it.
    pub(super) refresh_tokens: Collection<Document>,
    /// Sessions (token families); likewise.
    pub(super) sessions: Collection<Document>,
    /// App tokens; likewise.
    pub(super) app_tokens: Collection<Document>,
    /// Mailed codes; likewise.
    pub(super) mail_codes: Collection<Document>,
}

impl MongoOutbox {
    /// Removes one event from the document that holds it; returns the document afterwards, or
    /// `None` if no document holds it (already published).
    async fn remove(&self, entry: &OutboxEntry) -> Result<Option<Document>> {
        let field = event_field(&entry.envelope.id);
        let update = doc! { "$unset": { &field: "" }, "$inc": { PENDING_COUNT: -1_i64 } };
        // Customer events are keyed by the customer id, which is the document id: try that
        // document first, and only then look among all documents that have pending events.
        let filters = [
            doc! { "_id": &entry.envelope.key, &field: { "$exists": true } },
            doc! { PENDING_COUNT: { "$gt": 0_i64 }, &field: { "$exists": true } },
        ];
        for filter in filters {
            let after = self
                .customers
                .find_one_and_update(filter, update.clone())
                .return_document(ReturnDocument::After)
                .await
                .map_err(store_error)?;
            if after.is_some() {
                return Ok(after);
            }
        }
        Ok(None)
    }

    /// Tidies a document after its events were removed: forgets `pending_since` when nothing
    /// is left (or moves it to the oldest remaining event), and deletes a tombstone with no
    /// events left, with whatever tokens and sessions a crash or a racing login left behind.
    async fn settle(&self, document: &Document) -> Result<()> {
        let id = text(document, "_id")?;
        let remaining = integer(document, PENDING_COUNT).unwrap_or(0);
        // Each change is guarded by the count seen, so an event written meanwhile is kept.
        if remaining > 0 {
            let oldest = decode_pending(document)?
                .iter()
                .map(|entry| entry.envelope.occurred_at.timestamp_millis())
                .min();
            if let Some(oldest) = oldest {
                self.customers
                    .update_one(
                        doc! { "_id": id, PENDING_COUNT: remaining },
                        doc! { "$set": { PENDING_SINCE: oldest } },
                    )
                    .await
                    .map_err(store_error)?;
            }
            return Ok(());
        }
        if flag(document, "deleted") {
            let removed = self
                .customers
                .delete_one(doc! { "_id": id, "deleted": true, PENDING_COUNT: { "$lte": 0_i64 } })
                .await
                .map_err(store_error)?;
            if removed.deleted_count > 0 {
                self.refresh_tokens
                    .delete_many(doc! { "customer_id": id })
                    .await
                    .map_err(store_error)?;
                self.sessions
                    .delete_many(doc! { "customer_id": id })
                    .await
                    .map_err(store_error)?;
                super::app_tokens::delete_all(&self.app_tokens, id).await?;
                super::codes::delete_all(&self.mail_codes, id).await?;
            }
            return Ok(());
        }
        self.customers
            .update_one(
                doc! { "_id": id, PENDING_COUNT: { "$lte": 0_i64 } },
                doc! { "$unset": { PENDING_SINCE: "" } },
            )
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl Outbox for MongoOutbox {
    #[tracing::instrument(skip(self))]
    async fn pending(&self, limit: i64) -> Result<Vec<OutboxEntry>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        // Every document found holds at least one event, so `limit` documents are enough.
        let documents: Vec<Document> = self
            .customers
            .find(doc! { PENDING_COUNT: { "$gt": 0_i64 } })
            .sort(doc! { PENDING_SINCE: 1, "_id": 1 })
            .limit(limit)
            .await
            .map_err(store_error)?
            .try_collect()
            .await
            .map_err(store_error)?;
        let mut entries = Vec::new();
        for document in &documents {
            entries.extend(decode_pending(document)?);
        }
        entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(entries)
    }

    #[tracing::instrument(skip_all, fields(n_entries = entries.len()))]
    async fn mark_published(&self, entries: &[OutboxEntry]) -> Result<()> {
        // The last state of every document touched, settled once at the end.
        let mut touched: Vec<String> = Vec::new();
        let mut last_state: HashMap<String, Document> = HashMap::new();
        for entry in entries {
            let Some(after) = self.remove(entry).await? else {
                continue;
            };
            let id = text(&after, "_id")?.to_owned();
            if !last_state.contains_key(&id) {
                touched.push(id.clone());
            }
            last_state.insert(id, after);
        }
        for id in touched {
            if let Some(document) = last_state.get(&id) {
                self.settle(document).await?;
            }
        }
        Ok(())
    }

    async fn backlog(&self) -> Result<u64> {
        // Each document counts its own events; their sum is the backlog.
        let documents: Vec<Document> = self
            .customers
            .find(doc! { PENDING_COUNT: { "$gt": 0_i64 } })
            .projection(doc! { PENDING_COUNT: 1 })
            .await
            .map_err(store_error)?
            .try_collect()
            .await
            .map_err(store_error)?;
        let n_events: i64 = documents
            .iter()
            .filter_map(|document| integer(document, PENDING_COUNT).ok())
            .sum();
        Ok(u64::try_from(n_events).unwrap_or(0))
    }
}
