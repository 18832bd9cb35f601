//! The events the customers service emits: account changes, and the codes it mails.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::topics;

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
