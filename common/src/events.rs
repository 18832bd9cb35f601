//! The events the services exchange, and the envelope each one travels in.
//!
//! An event is a payload type implementing [`Event`]: it names its topic, its type string and its
//! schema version, and the aggregate it belongs to (the bus key, so one aggregate's events stay
//! in order). [`Envelope::wrap`] puts it in an envelope; [`Envelope::decode`] takes it out again.

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

/// Topic names. One topic per producing service.
pub mod topics {
    /// Events about customers: registered, updated, password changed, deleted, codes mailed.
    pub const CUSTOMERS: &str = "fms.customers.v1";
    /// Events about files: uploaded, moved, trashed, restored, deleted, shared, links, quota.
    pub const FILES: &str = "fms.files.v1";
    /// Every topic, for brokers that need them created up front.
    pub const ALL: &[&str] = &[CUSTOMERS, FILES];
}

/// A payload that can travel on the bus.
pub trait Event: Serialize + DeserializeOwned {
    /// The topic it is published on.
    const TOPIC: &'static str;
    /// The envelope's `type`, e.g. `customers.registered`.
    const TYPE: &'static str;
    /// The schema version of the payload; bumped on a breaking change.
    const VERSION: u32;
    /// The id of the aggregate the event is about; the bus key.
    fn aggregate_id(&self) -> String;
}

/// What goes on the bus: metadata plus a JSON payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique per event; consumers remember it to handle each event once.
    pub id: Uuid,
    /// The event type, e.g. `customers.registered`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The payload's schema version.
    pub version: u32,
    /// When the state change happened.
    pub occurred_at: DateTime<Utc>,
    /// The request (or event) that caused this one.
    pub correlation_id: Option<String>,
    /// The aggregate the event is about; used as the partition key.
    pub key: String,
    /// The event itself.
    pub payload: serde_json::Value,
}

/// Why an envelope could not be decoded into the payload asked for.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The envelope holds another event type or version.
    #[error("expected event {expected} v{expected_version}, got {actual} v{actual_version}")]
    WrongType {
        /// The type asked for.
        expected: &'static str,
        /// The version asked for.
        expected_version: u32,
        /// The type in the envelope.
        actual: String,
        /// The version in the envelope.
        actual_version: u32,
    },
    /// The payload does not match the schema.
    #[error("malformed {event_type} payload: {source}")]
    Malformed {
        /// The type in the envelope.
        event_type: String,
        /// What serde said.
        source: serde_json::Error,
    },
}

impl Envelope {
    /// Wraps `event`, stamped now, with the current correlation id.
    pub fn wrap<E: Event>(event: &E) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_type: E::TYPE.to_owned(),
            version: E::VERSION,
            occurred_at: Utc::now(),
            correlation_id: crate::correlation::current(),
            key: event.aggregate_id(),
            // Serialising a plain struct of strings and numbers cannot fail.
            payload: serde_json::to_value(event).unwrap_or(serde_json::Value::Null),
        }
    }

    /// Whether the envelope holds an `E`.
    pub fn is<E: Event>(&self) -> bool {
        self.event_type == E::TYPE && self.version == E::VERSION
    }

    /// Takes the payload out as an `E`.
    pub fn decode<E: Event>(&self) -> Result<E, DecodeError> {
        if !self.is::<E>() {
            return Err(DecodeError::WrongType {
                expected: E::TYPE,
                expected_version: E::VERSION,
                actual: self.event_type.clone(),
                actual_version: self.version,
            });
        }
        serde_json::from_value(self.payload.clone()).map_err(|source| DecodeError::Malformed {
            event_type: self.event_type.clone(),
            source,
        })
    }
}

/// An envelope with the topic it is to be published on: what a service hands its outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The topic, from [`Event::TOPIC`].
    pub topic: String,
    /// The wrapped event.
    pub envelope: Envelope,
}

impl Outgoing {
    /// Wraps `event` for its own topic.
    pub fn new<E: Event>(event: &E) -> Self {
        Self {
            topic: E::TOPIC.to_owned(),
            envelope: Envelope::wrap(event),
        }
    }
}

/// Implements [`Event`] for a payload: its topic, type string, version 1, and the field that
/// is its aggregate.
macro_rules! event {
    ($name:ident, $topic:expr, $type:literal, $key:ident) => {
        impl $crate::events::Event for $name {
            const TOPIC: &'static str = $topic;
            const TYPE: &'static str = $type;
            const VERSION: u32 = 1;
            fn aggregate_id(&self) -> String {
                self.$key.to_string()
            }
        }
    };
}

mod customers;
mod files;

pub use customers::*;
pub use files::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_round_trips_its_payload() {
        let event = CustomerRegistered {
            customer_id: Uuid::now_v7(),
            email: "a@example.com".into(),
            name: "A".into(),
            email_verified: false,
        };
        let envelope = Envelope::wrap(&event);
        assert_eq!(envelope.key, event.customer_id.to_string());
        assert_eq!(Outgoing::new(&event).topic, topics::CUSTOMERS);
        let json = serde_json::to_string(&envelope).unwrap();
        assert!(json.contains(r#""type":"customers.registered""#));
        let back: Envelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back.decode::<CustomerRegistered>().unwrap(), event);
        assert!(back.decode::<CustomerDeleted>().is_err());
    }

    #[test]
    fn customer_events_from_before_verification_read_as_verified_and_codes_stay_out_of_debug() {
        let old = serde_json::json!({
            "customer_id": Uuid::nil(),
            "email": "a@example.com",
            "name": "A",
        });
        let registered: CustomerRegistered = serde_json::from_value(old.clone()).unwrap();
        assert!(registered.email_verified);
        let updated: CustomerUpdated = serde_json::from_value(old).unwrap();
        assert!(updated.email_verified);
        let reset = CustomerPasswordResetRequested {
            customer_id: Uuid::nil(),
            email: "a@example.com".into(),
            name: "A".into(),
            token: "the-secret-code".into(),
            expires_at: Utc::now(),
        };
        let printed = format!("{reset:?}");
        assert!(!printed.contains("the-secret-code"), "{printed}");
        assert!(printed.contains("a@example.com"), "{printed}");
    }

    #[test]
    fn link_events_written_before_their_paths_were_added_still_decode() {
        let mut envelope = Envelope::wrap(&LinkRevoked {
            link_id: Uuid::nil(),
            owner_id: Uuid::nil(),
        });
        envelope.event_type = LinkUploadReceived::TYPE.into();
        envelope.payload = serde_json::json!({
            "link_id": Uuid::nil(), "owner_id": Uuid::nil(), "owner_email": "a@example.com",
            "owner_name": "A", "folder_name": "in", "file_name": "cv.pdf", "size": 3
        });
        assert_eq!(envelope.decode::<LinkUploadReceived>().unwrap().path, None);
        envelope.event_type = LinkExpiring::TYPE.into();
        envelope.payload = serde_json::json!({
            "link_id": Uuid::nil(), "owner_id": Uuid::nil(), "owner_email": "a@example.com",
            "owner_name": "A", "item_name": "x", "expires_at": "2026-12-01T09:30:00Z"
        });
        assert_eq!(envelope.decode::<LinkExpiring>().unwrap().item_path, None);
    }
}
