//! How customers, refresh tokens and pending events look as BSON, and how driver errors become
//! [`Error`]s.
//!
//! Readers are lenient about number and flag types on purpose: MongoDB-compatible servers over
//! SQLite (nx-27017) hand a boolean set by `$set` back as `1`, and a small `Int64` as `Int32`.
//! Times are stored as milliseconds since the epoch (`Int64`) for the same reason: such servers
//! turn a date written by an update operator into text.

use chrono::{DateTime, TimeZone, Utc};
use common::api::NotificationSettings;
use common::events::{Envelope, Outgoing};
use mongodb::bson::{doc, Bson, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::bus::ports::OutboxEntry;
use crate::customers::ports::Customer;
use crate::error::{Error, Result};

/// The embedded document of a customer's unpublished events, keyed by [`event_field`].
pub const PENDING: &str = "pending";
/// How many events `pending` holds; kept by `$inc` in the same update, so it is exact.
pub const PENDING_COUNT: &str = "pending_count";
/// The oldest pending event's time (ms), set with `$min`; orders customers in the outbox.
pub const PENDING_SINCE: &str = "pending_since";

/// The customer's activity-mail preference; documents written before it existed lack it, and
/// read as on.
pub const ACTIVITY_MAIL: &str = "activity_mail";

/// Whether the customer proved their address; documents written before verification existed
/// lack it, and read as verified (those accounts keep sharing as they did).
pub const EMAIL_VERIFIED: &str = "email_verified";

/// The MongoDB error code of a unique-index violation.
const DUPLICATE_KEY: i32 = 11000;

/// One pending event as stored: a JSON string, so the envelope comes back byte for byte (BSON
/// would change the numbers' types in the payload).
#[derive(Debug, Serialize, Deserialize)]
struct StoredEvent {
    /// Where it goes.
    topic: String,
    /// The event.
    envelope: Envelope,
}

/// The key of an event inside `pending`: a letter (so no server reads it as an array index)
/// and the envelope id. Envelope ids are UUIDv7, so keys sort as the events were made.
pub fn event_key(id: &Uuid) -> String {
    format!("e{}", id.simple())
}

/// The dotted path of an event inside the customer document.
pub fn event_field(id: &Uuid) -> String {
    format!("{PENDING}.{}", event_key(id))
}

/// The update that adds `events` to a customer's outbox, merged into `set` (the state change):
/// `$set` of each event under its key, `$inc` of the count, `$min` of the oldest time.
pub fn update_with_events(mut set: Document, events: &[Outgoing]) -> Result<Document> {
    for event in events {
        set.insert(event_field(&event.envelope.id), encode_event(event)?);
    }
    let mut update = doc! { "$set": set };
    if let Some(oldest) = oldest_millis(events) {
        update.insert("$inc", doc! { PENDING_COUNT: events.len() as i64 });
        update.insert("$min", doc! { PENDING_SINCE: oldest });
    }
    Ok(update)
}

/// A new customer document, with `events` pending in it.
pub fn customer_document(customer: &Customer, events: &[Outgoing]) -> Result<Document> {
    let mut pending = Document::new();
    for event in events {
        pending.insert(event_key(&event.envelope.id), encode_event(event)?);
    }
    let mut document = doc! {
        "_id": customer.id.to_string(),
        "email": &customer.email,
        "email_key": &customer.email_key,
        "name": &customer.name,
        "password_hash": &customer.password_hash,
        "created_at": customer.created_at.timestamp_millis(),
        ACTIVITY_MAIL: customer.notifications.activity_mail,
        EMAIL_VERIFIED: customer.email_verified,
        "deleted": false,
        PENDING: pending,
        PENDING_COUNT: events.len() as i64,
    };
    if let Some(oldest) = oldest_millis(events) {
        document.insert(PENDING_SINCE, oldest);
    }
    Ok(document)
}

/// The customer in a (live) customer document.
pub fn decode_customer(document: &Document) -> Result<Customer> {
    Ok(Customer {
        id: uuid_field(document, "_id")?,
        email: text(document, "email")?.to_owned(),
        email_key: text(document, "email_key")?.to_owned(),
        name: text(document, "name")?.to_owned(),
        password_hash: text(document, "password_hash")?.to_owned(),
        created_at: from_millis(integer(document, "created_at")?),
        notifications: NotificationSettings {
            activity_mail: flag_or(document, ACTIVITY_MAIL, true),
        },
        email_verified: flag_or(document, EMAIL_VERIFIED, true),
    })
}

/// The pending events of a customer document, in the order they were written.
pub fn decode_pending(document: &Document) -> Result<Vec<OutboxEntry>> {
    let Some(Bson::Document(pending)) = document.get(PENDING) else {
        return Ok(Vec::new());
    };
    pending
        .values()
        .map(|value| {
            let Bson::String(json) = value else {
                return Err(malformed(PENDING));
            };
            let stored: StoredEvent = serde_json::from_str(json).map_err(Error::internal)?;
            Ok(OutboxEntry {
                seq: 0,
                topic: stored.topic,
                envelope: stored.envelope,
            })
        })
        .collect()
}

fn encode_event(event: &Outgoing) -> Result<String> {
    serde_json::to_string(&StoredEvent {
        topic: event.topic.clone(),
        envelope: event.envelope.clone(),
    })
    .map_err(Error::internal)
}

/// The oldest event time among `events`, in ms.
pub fn oldest_millis(events: &[Outgoing]) -> Option<i64> {
    events
        .iter()
        .map(|event| event.envelope.occurred_at.timestamp_millis())
        .min()
}

/// A string field.
pub fn text<'a>(document: &'a Document, key: &str) -> Result<&'a str> {
    match document.get(key) {
        Some(Bson::String(value)) => Ok(value),
        _ => Err(malformed(key)),
    }
}

/// A UUID stored as a string.
pub fn uuid_field(document: &Document, key: &str) -> Result<Uuid> {
    Uuid::parse_str(text(document, key)?).map_err(|_| malformed(key))
}

/// An integer field, whatever width the server chose.
pub fn integer(document: &Document, key: &str) -> Result<i64> {
    match document.get(key) {
        Some(Bson::Int64(value)) => Ok(*value),
        Some(Bson::Int32(value)) => Ok(i64::from(*value)),
        Some(Bson::Double(value)) if value.fract() == 0.0 => Ok(*value as i64),
        _ => Err(malformed(key)),
    }
}

/// A flag: `true`, or a non-zero number (how SQLite-backed servers return it); absent is false.
pub fn flag(document: &Document, key: &str) -> bool {
    flag_or(document, key, false)
}

/// A flag read as [`flag`] does, but `absent` when the document has no such field (or null).
pub fn flag_or(document: &Document, key: &str, absent: bool) -> bool {
    match document.get(key) {
        Some(Bson::Boolean(value)) => *value,
        Some(Bson::Int32(value)) => *value != 0,
        Some(Bson::Int64(value)) => *value != 0,
        None | Some(Bson::Null) => absent,
        _ => false,
    }
}

/// A time stored as ms since the epoch.
pub fn from_millis(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

fn malformed(key: &str) -> Error {
    Error::internal(anyhow::anyhow!(
        "a stored customers document has a missing or malformed `{key}` field"
    ))
}

/// Whether the driver error is a unique-index violation. Matched on the code only: servers
/// other than MongoDB word the message their own way.
pub fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(failure)) => failure.code == DUPLICATE_KEY,
        ErrorKind::Command(failure) => failure.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(failure) => failure
            .write_errors
            .iter()
            .flatten()
            .any(|failure| failure.code == DUPLICATE_KEY),
        _ => false,
    }
}

/// A driver error with no meaning for the caller: `Unavailable` when the server cannot be
/// reached (the same call may work later), else `Internal`.
pub fn store_error(error: mongodb::error::Error) -> Error {
    match error.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Authentication { .. } => Error::unavailable(error),
        _ => Error::internal(error),
    }
}

/// Maps a unique-index violation to `Conflict(message)`, anything else through [`store_error`].
pub fn conflict_or_store_error(error: mongodb::error::Error, message: &str) -> Error {
    if is_duplicate_key(&error) {
        Error::Conflict(message.to_owned())
    } else {
        store_error(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(activity_mail: Option<Bson>) -> Document {
        let mut document = doc! {
            "_id": Uuid::now_v7().to_string(),
            "email": "ann@example.com",
            "email_key": "ann@example.com",
            "name": "Ann",
            "password_hash": "hash",
            "created_at": 0_i64,
            "deleted": false,
        };
        if let Some(value) = activity_mail {
            document.insert(ACTIVITY_MAIL, value);
        }
        document
    }

    #[test]
    fn activity_mail_is_on_when_absent_and_read_leniently() {
        let cases = [
            (None, true),
            (Some(Bson::Null), true),
            (Some(Bson::Boolean(true)), true),
            (Some(Bson::Boolean(false)), false),
            (Some(Bson::Int32(1)), true),
            (Some(Bson::Int32(0)), false),
            (Some(Bson::Int64(0)), false),
        ];
        for (value, expected) in cases {
            let customer = decode_customer(&stored(value.clone())).unwrap();
            assert_eq!(customer.notifications.activity_mail, expected, "{value:?}");
        }
    }

    #[test]
    fn a_new_document_keeps_the_preference() {
        let mut customer = decode_customer(&stored(None)).unwrap();
        customer.notifications.activity_mail = false;
        let document = customer_document(&customer, &[]).unwrap();
        assert!(
            !decode_customer(&document)
                .unwrap()
                .notifications
                .activity_mail
        );
    }
}
