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
    /// Events about customers: registered, password changed, deleted.
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

macro_rules! event {
    ($name:ident, $topic:expr, $type:literal, $key:ident) => {
        impl Event for $name {
            const TOPIC: &'static str = $topic;
            const TYPE: &'static str = $type;
            const VERSION: u32 = 1;
            fn aggregate_id(&self) -> String {
                self.$key.to_string()
            }
        }
    };
}

/// A customer registered; notifications sends the welcome mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRegistered {
    /// The new customer's id.
    pub customer_id: Uuid,
    /// Where mail goes.
    pub email: String,
    /// How mail greets them.
    pub name: String,
    /// Whether the address counts as theirs already (verification turned off); else a
    /// `customers.verification_requested` follows. Events from before verification lack it
    /// and read as verified, as those accounts are.
    #[serde(default = "yes")]
    pub email_verified: bool,
}
event!(
    CustomerRegistered,
    topics::CUSTOMERS,
    "customers.registered",
    customer_id
);

/// A customer changed their password; notifications sends a security mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerPasswordChanged {
    /// The customer.
    pub customer_id: Uuid,
    /// Where mail goes.
    pub email: String,
    /// How mail greets them.
    pub name: String,
}
event!(
    CustomerPasswordChanged,
    topics::CUSTOMERS,
    "customers.password_changed",
    customer_id
);

/// A customer changed their profile: display name or mail preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerUpdated {
    /// The customer.
    pub customer_id: Uuid,
    /// Their e-mail address.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Whether they want mail about activity (shares, links, quota); security mail always goes.
    #[serde(default = "yes")]
    pub activity_mail: bool,
    /// Whether they proved `email` is theirs (older events lack it: verified).
    #[serde(default = "yes")]
    pub email_verified: bool,
}

/// The default of a preference that is on unless turned off.
fn yes() -> bool {
    true
}
event!(
    CustomerUpdated,
    topics::CUSTOMERS,
    "customers.updated",
    customer_id
);

/// A customer asked to reset a forgotten password; notifications mails them the code. The code
/// travels only here, in clear: the customers store keeps its hash.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerPasswordResetRequested {
    /// The customer.
    pub customer_id: Uuid,
    /// Where the code goes.
    pub email: String,
    /// How mail greets them.
    pub name: String,
    /// The one-time code.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}
event!(
    CustomerPasswordResetRequested,
    topics::CUSTOMERS,
    "customers.password_reset_requested",
    customer_id
);

/// A code that proves an address: after registration, when the customer asks again, or for a
/// new address they asked to change to (`previous_email` set: that address is told too).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerVerificationRequested {
    /// The customer.
    pub customer_id: Uuid,
    /// The address to prove, where the code goes.
    pub email: String,
    /// How mail greets them.
    pub name: String,
    /// The one-time code.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// For a change of address: the address the account has now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_email: Option<String>,
}
event!(
    CustomerVerificationRequested,
    topics::CUSTOMERS,
    "customers.verification_requested",
    customer_id
);

/// The events that carry a code print everything but the code.
macro_rules! debug_without_token {
    ($name:ident, $($field:ident),*) => {
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($field), &self.$field))*
                    .field("token", &"[redacted]")
                    .finish()
            }
        }
    };
}
debug_without_token!(
    CustomerPasswordResetRequested,
    customer_id,
    email,
    name,
    expires_at
);
debug_without_token!(
    CustomerVerificationRequested,
    customer_id,
    email,
    name,
    expires_at,
    previous_email
);

/// A customer deleted their account; files purges what they stored, notifications says goodbye.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerDeleted {
    /// The former customer.
    pub customer_id: Uuid,
    /// Where the goodbye mail goes.
    pub email: String,
    /// How the goodbye mail greets them.
    pub name: String,
}
event!(
    CustomerDeleted,
    topics::CUSTOMERS,
    "customers.deleted",
    customer_id
);

/// A file became visible after an upload completed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileUploaded {
    /// The owner.
    pub owner_id: Uuid,
    /// The file's id.
    pub file_id: Uuid,
    /// Its path in the owner's tree.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}
event!(FileUploaded, topics::FILES, "files.uploaded", owner_id);

/// A file or folder was moved or renamed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMoved {
    /// The owner.
    pub owner_id: Uuid,
    /// The path it had.
    pub from: String,
    /// The path it has now.
    pub to: String,
}
event!(FileMoved, topics::FILES, "files.moved", owner_id);

/// A file or folder (with everything in it) was deleted for good: its bytes are gone. Either
/// straight from the tree (a permanent delete) or from the trash (deleted there, the trash
/// emptied, or purged after `files.trash_retention_days`), which `from_trash` tells; an entry
/// that went into the trash first left the tree with [`FileTrashed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileDeleted {
    /// The owner.
    pub owner_id: Uuid,
    /// The path it had in the tree (for an item of the trash: where it was deleted from).
    pub path: String,
    /// How many files went with it.
    pub n_files: u64,
    /// How many bytes were freed.
    pub bytes_freed: u64,
    /// Whether it was an item of the trash (so it had left the tree before).
    #[serde(default)]
    pub from_trash: bool,
}
event!(FileDeleted, topics::FILES, "files.deleted", owner_id);

/// A file or folder (with everything in it) was deleted into its owner's trash: it left the
/// tree, its shares and links ended, and its bytes still count against the quota until it is
/// restored ([`FileRestored`]) or deleted for good ([`FileDeleted`] with `from_trash`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileTrashed {
    /// The owner, whose trash holds it.
    pub owner_id: Uuid,
    /// Its id in the trash.
    pub trash_id: Uuid,
    /// The path it had.
    pub path: String,
    /// `file` or `folder`.
    pub kind: String,
    /// How many files it holds (1 for a file).
    pub n_files: u64,
    /// Bytes of its files.
    pub size: u64,
    /// Who deleted it: the owner, or an editor of a share.
    pub trashed_by: Uuid,
}
event!(FileTrashed, topics::FILES, "files.trashed", owner_id);

/// An item of the trash was put back into its owner's tree (without the shares and links it
/// had).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRestored {
    /// The owner.
    pub owner_id: Uuid,
    /// Its id in the trash, which it left.
    pub trash_id: Uuid,
    /// The path it was deleted from.
    pub from: String,
    /// The path it has now (the same, a numbered name beside it, or the one asked for).
    pub path: String,
    /// `file` or `folder`.
    pub kind: String,
    /// How many files it holds.
    pub n_files: u64,
    /// Bytes of its files.
    pub size: u64,
}
event!(FileRestored, topics::FILES, "files.restored", owner_id);

/// Everything a former customer stored was purged after their account was deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerPurged {
    /// The former customer.
    pub owner_id: Uuid,
    /// How many files were removed.
    pub n_files: u64,
    /// How many bytes were freed.
    pub bytes_freed: u64,
}
event!(OwnerPurged, topics::FILES, "files.owner_purged", owner_id);

/// An owner shared a file or folder with another customer; notifications tells the recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileShared {
    /// The share.
    pub share_id: Uuid,
    /// Who shared.
    pub owner_id: Uuid,
    /// The owner's display name.
    pub owner_name: String,
    /// The owner's e-mail address.
    pub owner_email: String,
    /// Who it is shared with.
    pub recipient_id: Uuid,
    /// Where the mail goes.
    pub recipient_email: String,
    /// How the mail greets them.
    pub recipient_name: String,
    /// The shared item's name.
    pub item_name: String,
    /// `file` or `folder`.
    pub kind: String,
    /// `viewer` or `editor`.
    pub role: String,
}
event!(FileShared, topics::FILES, "files.shared", owner_id);

/// A link expires within a day; notifications tells its owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkExpiring {
    /// The link.
    pub link_id: Uuid,
    /// Its owner.
    pub owner_id: Uuid,
    /// Where the mail goes.
    pub owner_email: String,
    /// How the mail greets them.
    pub owner_name: String,
    /// The linked item's name.
    pub item_name: String,
    /// Its path in the owner's tree; missing in events written before it was added.
    #[serde(default)]
    pub item_path: Option<String>,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}
event!(LinkExpiring, topics::FILES, "files.link_expiring", owner_id);

/// Someone uploaded a file through a file-request link; notifications tells the owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkUploadReceived {
    /// The link.
    pub link_id: Uuid,
    /// The folder's owner.
    pub owner_id: Uuid,
    /// Where the mail goes.
    pub owner_email: String,
    /// How the mail greets them.
    pub owner_name: String,
    /// The folder's name.
    pub folder_name: String,
    /// The new file's name.
    pub file_name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where it landed in the owner's tree; missing in events written before it was added.
    #[serde(default)]
    pub path: Option<String>,
}
event!(
    LinkUploadReceived,
    topics::FILES,
    "files.link_upload_received",
    owner_id
);

/// A share ended: its owner revoked it, its recipient left it, or its item was deleted.
/// Notifications drops the mails about it that still wait for a digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareRevoked {
    /// The share.
    pub share_id: Uuid,
    /// Who had shared (the key, as for [`FileShared`], so the end follows the start).
    pub owner_id: Uuid,
    /// Who it was shared with.
    pub recipient_id: Uuid,
}
event!(ShareRevoked, topics::FILES, "files.share_revoked", owner_id);

/// A link ended before it expired: its owner revoked it, or its item was deleted.
/// Notifications drops the mails about it that still wait for a digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRevoked {
    /// The link.
    pub link_id: Uuid,
    /// Its owner (the key, as for [`LinkExpiring`]).
    pub owner_id: Uuid,
}
event!(LinkRevoked, topics::FILES, "files.link_revoked", owner_id);

/// An owner's stored bytes crossed 80 % or 100 % of their quota; notifications warns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaThresholdReached {
    /// The owner.
    pub owner_id: Uuid,
    /// Where the mail goes.
    pub owner_email: String,
    /// How the mail greets them.
    pub owner_name: String,
    /// 80 or 100.
    pub percent: u8,
    /// Bytes stored now.
    pub used_bytes: u64,
    /// The quota.
    pub quota_bytes: u64,
}
event!(
    QuotaThresholdReached,
    topics::FILES,
    "files.quota_threshold_reached",
    owner_id
);

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
