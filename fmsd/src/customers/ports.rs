//! What the customers service needs from a store, in its own words.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::api::{NotificationSettings, TokenScope};
use common::events::Outgoing;
use uuid::Uuid;

use crate::error::Result;

/// A stored customer.
#[derive(Debug, Clone)]
pub struct Customer {
    /// Their id.
    pub id: Uuid,
    /// Their address as given (domain lowercased).
    pub email: String,
    /// Their address lowercased: unique.
    pub email_key: String,
    /// Their display name.
    pub name: String,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// When they registered.
    pub created_at: DateTime<Utc>,
    /// Which mail they want; activity mail is on until they turn it off.
    pub notifications: NotificationSettings,
    /// Whether they proved the address is theirs.
    pub email_verified: bool,
}

/// What a mailed code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// Setting a new password without the old one.
    PasswordReset,
    /// Proving the account's own address.
    Verify,
    /// Proving a new address, which the account then switches to.
    ChangeEmail,
}

impl CodePurpose {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password-reset",
            Self::Verify => "verify",
            Self::ChangeEmail => "change-email",
        }
    }

    /// The purpose stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::PasswordReset, Self::Verify, Self::ChangeEmail]
            .into_iter()
            .find(|purpose| purpose.as_str() == text)
    }
}

/// A mailed one-time code as stored: the secret only as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    /// SHA-256 of the code, hex: unique.
    pub token_hash: String,
    /// Whose it is.
    pub customer_id: Uuid,
    /// What it is for.
    pub purpose: CodePurpose,
    /// For [`CodePurpose::ChangeEmail`]: the new address as given and as its key.
    pub new_email: Option<(String, String)>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A new refresh token, stored by its hash only.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The session (login) it belongs to; every rotation stays in the family.
    pub family_id: Uuid,
    /// Whose it is.
    pub customer_id: Uuid,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// An app token as stored: the secret only as its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAppToken {
    /// Its id.
    pub id: Uuid,
    /// Whose it is.
    pub customer_id: Uuid,
    /// What it is for, as its owner named it.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// SHA-256 of the secret, hex: unique.
    pub token_hash: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used, to the minute, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was valid: it is now used, and the successor is stored in its family.
    Rotated {
        /// Whose it is.
        customer_id: Uuid,
        /// The session.
        family_id: Uuid,
    },
    /// It had been used (beyond the grace) or revoked before: a sign of theft, so the whole
    /// family is revoked now.
    Reused,
    /// It expired.
    Expired,
    /// No such token.
    Unknown,
}

/// The customer store. Every method that changes state takes the events to publish and writes
/// them to the outbox in the same transaction.
#[async_trait]
pub trait CustomerRepo: Send + Sync {
    /// Stores a new customer; `Conflict` if the e-mail key is taken.
    async fn insert(&self, customer: &Customer, events: Vec<Outgoing>) -> Result<()>;
    /// The customer with this e-mail key.
    async fn by_email_key(&self, email_key: &str) -> Result<Option<Customer>>;
    /// The customer with this id.
    async fn by_id(&self, id: Uuid) -> Result<Option<Customer>>;
    /// Replaces the display name and the mail preferences; `NotFound` if gone.
    async fn update_profile(
        &self,
        id: Uuid,
        name: &str,
        notifications: NotificationSettings,
        events: Vec<Outgoing>,
    ) -> Result<Customer>;
    /// Changes the password hash, revokes every session but `keep_session` and deletes every
    /// app token.
    async fn update_password(
        &self,
        id: Uuid,
        password_hash: &str,
        keep_session: Option<Uuid>,
        events: Vec<Outgoing>,
    ) -> Result<()>;
    /// Deletes the customer and every refresh token and app token of theirs.
    async fn delete(&self, id: Uuid, events: Vec<Outgoing>) -> Result<()>;
    /// Stores the first refresh token of a new session; `Unauthorized` where the store can
    /// tell that the customer is gone (a login that raced the account's deletion).
    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<()>;
    /// Atomically: looks up `presented_hash`, and if it is valid marks it used at `now` and
    /// stores `next_hash` in the same family, expiring at `next_expires_at`. A token used less
    /// than `reuse_grace` before `now` (and not revoked or expired) is rotated again, into one
    /// more successor in its family: a client that lost a race with its own other process, not
    /// a thief.
    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        next_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        reuse_grace: chrono::Duration,
    ) -> Result<Rotation>;
    /// Revokes the session `presented_hash` belongs to; `false` if no such token.
    async fn revoke_session_of(&self, presented_hash: &str) -> Result<bool>;
    /// Stores a new app token; `Unauthorized` where the store can tell that the customer is
    /// gone.
    async fn insert_app_token(&self, token: &StoredAppToken) -> Result<()>;
    /// The customer's app tokens, newest first.
    async fn app_tokens(&self, customer_id: Uuid) -> Result<Vec<StoredAppToken>>;
    /// The app token whose secret hashes to `token_hash`.
    async fn app_token_by_hash(&self, token_hash: &str) -> Result<Option<StoredAppToken>>;
    /// Deletes the customer's app token `id`; `false` if they have no such token.
    async fn delete_app_token(&self, customer_id: Uuid, id: Uuid) -> Result<bool>;
    /// Records that the app token `id` was used at `at`.
    async fn touch_app_token(&self, id: Uuid, at: DateTime<Utc>) -> Result<()>;
    /// Stores `code`, replacing the customer's code of the same purpose, and writes `events`;
    /// `NotFound` if the customer is gone.
    async fn put_code(&self, code: &StoredCode, events: Vec<Outgoing>) -> Result<()>;
    /// Atomically deletes and returns the code whose secret hashes to `token_hash`, if it is
    /// for one of `purposes` and unexpired at `now`: a code works once.
    async fn take_code(
        &self,
        token_hash: &str,
        purposes: &[CodePurpose],
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCode>>;
    /// The customer's unexpired code for `purpose`, if any.
    async fn code_of(
        &self,
        customer_id: Uuid,
        purpose: CodePurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCode>>;
    /// Marks the customer's address proved and, with `new_email` (as given, and its key),
    /// switches to that address first; `Conflict` if another account has it, `NotFound` if
    /// the customer is gone.
    async fn set_verified(
        &self,
        id: Uuid,
        new_email: Option<(String, String)>,
        events: Vec<Outgoing>,
    ) -> Result<Customer>;
}
