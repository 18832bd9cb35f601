//! Customers on MongoDB (the `mongodb` feature): the real-stack customer store.
//!
//! Five collections, and no multi-document transaction anywhere (every step is one atomic
//! single-document write, ordered so a crash between steps leaves a safe state):
//! - `customers`: one document per customer, `_id` = the customer id, a unique (sparse) index
//!   on `email_key`. The events of a change are written into the same document by the same
//!   update (`pending`, see [`MongoOutbox`]). A deleted customer becomes a tombstone
//!   (`deleted`, the e-mail key and personal fields removed, so the address can register
//!   again) until its events are published; readers never see tombstones.
//! - `refresh_tokens`: one document per token, `_id` = the token's SHA-256 hash, with its
//!   family, owner, expiry, `used` / `revoked` flags and `used_at`. A rotation claims the
//!   presented token with `find_one_and_update` on `{used: false, revoked: false, expires_at >
//!   now}`, so of two concurrent rotations of one token exactly one wins; the loser, within
//!   the reuse grace, gets a successor of its own in the same family.
//! - `app_tokens`: one document per app token (see [`app_tokens`]); a new one is checked
//!   against its customer after the insert, so a token made while the account was being
//!   deleted is deleted too.
//! - `mail_codes`: one document per customer and purpose (see [`codes`]), deleted with the
//!   customer. A new code is stored before the event that mails it is written into the
//!   customer document, so a crash in between leaves a code nobody received.
//! - `sessions`: one document per token family (login), with its `revoked` flag. Revoking a
//!   family flags its session first and then its tokens; a rotation checks the session after
//!   storing the successor, so a successor stored while its family was being revoked is revoked
//!   too.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::api::NotificationSettings;
use common::events::Outgoing;
use mongodb::bson::{doc, Document};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, Database, IndexModel};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::bus::ports::Outbox;
use crate::customers::ports::{
    CodePurpose, Customer, CustomerRepo, NewRefreshToken, Rotation, StoredAppToken, StoredCode,
};
use crate::error::{Error, Result};
use crate::health::Probe;

mod app_tokens;
mod codes;
mod documents;
mod outbox;

use documents::{
    conflict_or_store_error, customer_document, decode_customer, flag, integer, is_duplicate_key,
    store_error, text, update_with_events, uuid_field, ACTIVITY_MAIL, EMAIL_VERIFIED,
    PENDING_COUNT, PENDING_SINCE,
};
pub use outbox::MongoOutbox;

/// The database used when the URL names none.
const DEFAULT_DATABASE: &str = "fms";
/// How long an operation waits for a reachable server when the URL does not say.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the driver checks the server when the URL does not say. The Rust driver has no
/// socket timeout: an operation on a server that stopped answering waits until a check times
/// out and the driver cuts its connections, so this and [`CONNECT_TIMEOUT`] bound how long a
/// request waits for a MongoDB that is away (measured on a paused server: a login answered 503
/// after 29 s with the driver's defaults, 10 s each, and after 10 s with these).
const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long a check or a new connection may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// What a taken e-mail key answers.
const EMAIL_TAKEN: &str = "an account with this e-mail address exists";
/// What a missing (or deleted) customer answers.
const GONE: &str = "this account no longer exists";
/// How often a rotation looks again when the token changed under it (it cannot go back to
/// valid, so once is enough; the bound only guards against a misbehaving server).
const ROTATION_ATTEMPTS: usize = 3;

/// The customer store on MongoDB.
#[derive(Debug, Clone)]
pub struct MongoCustomerRepo {
    /// The database named by the URL; `ping` goes to it.
    database: Database,
    /// Customers, with their pending events inside.
    customers: Collection<Document>,
    /// Refresh tokens by hash.
    refresh_tokens: Collection<Document>,
    /// Token families (sessions) and whether they are revoked.
    sessions: Collection<Document>,
    /// App tokens by id.
    app_tokens: Collection<Document>,
    /// Mailed one-time codes, one per customer and purpose.
    mail_codes: Collection<Document>,
    /// Woken after a write that added events, so the relay publishes them at once.
    wake: Arc<Notify>,
}

impl MongoCustomerRepo {
    /// Connects to `url` (the database is the URL's path, `fms` if none) and creates the
    /// indexes. Never logs the URL: it may hold a password.
    pub async fn connect(url: &str, wake: Arc<Notify>) -> anyhow::Result<Self> {
        let mut options = ClientOptions::parse(url)
            .await
            .context("failed to parse the MongoDB URL of stores.customers")?;
        options.app_name.get_or_insert_with(|| "fmsd".to_owned());
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.heartbeat_freq.get_or_insert(HEARTBEAT);
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        let database_name = options
            .default_database
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let client =
            Client::with_options(options).context("failed to set up the MongoDB client")?;
        let database = client.database(&database_name);
        let repo = Self {
            customers: database.collection("customers"),
            refresh_tokens: database.collection("refresh_tokens"),
            sessions: database.collection("sessions"),
            app_tokens: database.collection("app_tokens"),
            mail_codes: database.collection("mail_codes"),
            database,
            wake,
        };
        repo.create_indexes()
            .await
            .context("failed to reach MongoDB and create the customers indexes")?;
        Ok(repo)
    }

    /// The outbox kept inside the customer documents, for the relay.
    pub fn outbox(&self) -> Arc<dyn Outbox> {
        Arc::new(MongoOutbox {
            customers: self.customers.clone(),
            refresh_tokens: self.refresh_tokens.clone(),
            sessions: self.sessions.clone(),
            app_tokens: self.app_tokens.clone(),
            mail_codes: self.mail_codes.clone(),
        })
    }

    async fn create_indexes(&self) -> std::result::Result<(), mongodb::error::Error> {
        // Sparse, so tombstones (which have no e-mail key) do not collide with each other.
        let unique_email = IndexModel::builder()
            .keys(doc! { "email_key": 1 })
            .options(
                IndexOptions::builder()
                    .name("customers_by_email_key".to_owned())
                    .unique(true)
                    .sparse(true)
                    .build(),
            )
            .build();
        let pending = IndexModel::builder()
            .keys(doc! { PENDING_COUNT: 1, PENDING_SINCE: 1 })
            .build();
        self.customers
            .create_indexes([unique_email, pending])
            .await?;
        let by_family = IndexModel::builder().keys(doc! { "family_id": 1 }).build();
        let by_customer = IndexModel::builder()
            .keys(doc! { "customer_id": 1 })
            .build();
        self.refresh_tokens
            .create_indexes([by_family, by_customer.clone()])
            .await?;
        self.sessions.create_index(by_customer).await?;
        app_tokens::create_indexes(&self.app_tokens).await?;
        codes::create_indexes(&self.mail_codes).await
    }

    /// Wakes the relay when `events` were written.
    fn written(&self, events: &[Outgoing]) {
        if !events.is_empty() {
            self.wake.notify_one();
        }
    }

    /// Revokes a family: its session first (what a racing rotation checks), then its tokens.
    async fn revoke_family(&self, family_id: &str) -> Result<()> {
        self.sessions
            .update_one(
                doc! { "_id": family_id },
                doc! { "$set": { "revoked": true } },
            )
            .await
            .map_err(store_error)?;
        self.refresh_tokens
            .update_many(
                doc! { "family_id": family_id },
                doc! { "$set": { "revoked": true } },
            )
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Finishes a won rotation: stores the successor, then revokes it again if the family was
    /// revoked (or deleted) meanwhile, since that revocation may have missed it.
    async fn store_successor(
        &self,
        claimed: &Document,
        next_hash: &str,
        next_expires_at: DateTime<Utc>,
    ) -> Result<Rotation> {
        let family_id = text(claimed, "family_id")?;
        let customer_id = text(claimed, "customer_id")?;
        self.refresh_tokens
            .insert_one(token_document(
                next_hash,
                family_id,
                customer_id,
                next_expires_at,
            ))
            .await
            .map_err(|error| conflict_or_store_error(error, "this refresh token exists"))?;
        let session = self
            .sessions
            .find_one(doc! { "_id": family_id })
            .await
            .map_err(store_error)?;
        if session.is_none_or(|session| flag(&session, "revoked")) {
            self.refresh_tokens
                .update_one(
                    doc! { "_id": next_hash },
                    doc! { "$set": { "revoked": true } },
                )
                .await
                .map_err(store_error)?;
        }
        Ok(Rotation::Rotated {
            customer_id: uuid_field(claimed, "customer_id")?,
            family_id: uuid_field(claimed, "family_id")?,
        })
    }
}

/// A new, unused refresh token document.
fn token_document(
    token_hash: &str,
    family_id: &str,
    customer_id: &str,
    expires_at: DateTime<Utc>,
) -> Document {
    doc! {
        "_id": token_hash,
        "family_id": family_id,
        "customer_id": customer_id,
        "expires_at": expires_at.timestamp_millis(),
        "used": false,
        "revoked": false,
    }
}

#[async_trait]
impl CustomerRepo for MongoCustomerRepo {
    #[tracing::instrument(skip_all, fields(customer_id = %customer.id))]
    async fn insert(&self, customer: &Customer, events: Vec<Outgoing>) -> Result<()> {
        self.customers
            .insert_one(customer_document(customer, &events)?)
            .await
            .map_err(|error| conflict_or_store_error(error, EMAIL_TAKEN))?;
        self.written(&events);
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn by_email_key(&self, email_key: &str) -> Result<Option<Customer>> {
        self.customers
            .find_one(doc! { "email_key": email_key, "deleted": false })
            .await
            .map_err(store_error)?
            .as_ref()
            .map(decode_customer)
            .transpose()
    }

    #[tracing::instrument(skip(self))]
    async fn by_id(&self, id: Uuid) -> Result<Option<Customer>> {
        self.customers
            .find_one(doc! { "_id": id.to_string(), "deleted": false })
            .await
            .map_err(store_error)?
            .as_ref()
            .map(decode_customer)
            .transpose()
    }

    #[tracing::instrument(skip(self, name, events))]
    async fn update_profile(
        &self,
        id: Uuid,
        name: &str,
        notifications: NotificationSettings,
        events: Vec<Outgoing>,
    ) -> Result<Customer> {
        let update = update_with_events(
            doc! { "name": name, ACTIVITY_MAIL: notifications.activity_mail },
            &events,
        )?;
        let updated = self
            .customers
            .find_one_and_update(doc! { "_id": id.to_string(), "deleted": false }, update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(store_error)?
            .ok_or_else(|| Error::NotFound(GONE.into()))?;
        self.written(&events);
        decode_customer(&updated)
    }

    #[tracing::instrument(skip(self, password_hash, events))]
    async fn update_password(
        &self,
        id: Uuid,
        password_hash: &str,
        keep_session: Option<Uuid>,
        events: Vec<Outgoing>,
    ) -> Result<()> {
        // Sessions are revoked before the password changes: a crash in between leaves the old
        // password with fewer sessions (the caller retries), never a new password with the old
        // sessions alive.
        let customer_id = id.to_string();
        let mut others = doc! { "customer_id": &customer_id };
        let mut other_tokens = others.clone();
        if let Some(keep) = keep_session {
            others.insert("_id", doc! { "$ne": keep.to_string() });
            other_tokens.insert("family_id", doc! { "$ne": keep.to_string() });
        }
        self.sessions
            .update_many(others, doc! { "$set": { "revoked": true } })
            .await
            .map_err(store_error)?;
        self.refresh_tokens
            .update_many(other_tokens, doc! { "$set": { "revoked": true } })
            .await
            .map_err(store_error)?;
        app_tokens::delete_all(&self.app_tokens, &customer_id).await?;
        let update = update_with_events(doc! { "password_hash": password_hash }, &events)?;
        let changed = self
            .customers
            .update_one(doc! { "_id": &customer_id, "deleted": false }, update)
            .await
            .map_err(store_error)?;
        if changed.matched_count == 0 {
            return Err(Error::NotFound(GONE.into()));
        }
        self.written(&events);
        Ok(())
    }

    #[tracing::instrument(skip(self, events))]
    async fn delete(&self, id: Uuid, events: Vec<Outgoing>) -> Result<()> {
        let customer_id = id.to_string();
        let live = doc! { "_id": &customer_id, "deleted": false };
        if events.is_empty() {
            // Nothing to publish, so no tombstone is needed.
            let removed = self.customers.delete_one(live).await.map_err(store_error)?;
            if removed.deleted_count == 0 {
                return Err(Error::NotFound(GONE.into()));
            }
        } else {
            // The tombstone keeps only the events; the e-mail key goes, so the address is free.
            let mut update = update_with_events(doc! { "deleted": true }, &events)?;
            update.insert(
                "$unset",
                doc! { "email_key": "", "email": "", "name": "", "password_hash": "" },
            );
            let changed = self
                .customers
                .update_one(live, update)
                .await
                .map_err(store_error)?;
            if changed.matched_count == 0 {
                return Err(Error::NotFound(GONE.into()));
            }
            self.written(&events);
        }
        // Sessions first, so a racing rotation sees its family gone and revokes its successor.
        // Whatever a crash leaves here is deleted again with the tombstone.
        self.sessions
            .delete_many(doc! { "customer_id": &customer_id })
            .await
            .map_err(store_error)?;
        self.refresh_tokens
            .delete_many(doc! { "customer_id": &customer_id })
            .await
            .map_err(store_error)?;
        app_tokens::delete_all(&self.app_tokens, &customer_id).await?;
        codes::delete_all(&self.mail_codes, &customer_id).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(customer_id = %token.customer_id))]
    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<()> {
        let family_id = token.family_id.to_string();
        let customer_id = token.customer_id.to_string();
        // The session first: a token is never without the session a rotation checks.
        let session = doc! { "_id": &family_id, "customer_id": &customer_id, "revoked": false };
        match self.sessions.insert_one(session).await {
            Err(error) if !is_duplicate_key(&error) => return Err(store_error(error)),
            _ => {}
        }
        self.refresh_tokens
            .insert_one(token_document(
                &token.token_hash,
                &family_id,
                &customer_id,
                token.expires_at,
            ))
            .await
            .map_err(|error| conflict_or_store_error(error, "this refresh token exists"))?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        next_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        reuse_grace: chrono::Duration,
    ) -> Result<Rotation> {
        let grace_from = (now - reuse_grace).timestamp_millis();
        let now = now.timestamp_millis();
        for _ in 0..ROTATION_ATTEMPTS {
            let claimed = self
                .refresh_tokens
                .find_one_and_update(
                    doc! {
                        "_id": presented_hash,
                        "used": false,
                        "revoked": false,
                        "expires_at": { "$gt": now },
                    },
                    doc! { "$set": { "used": true, "used_at": now } },
                )
                .await
                .map_err(store_error)?;
            if let Some(claimed) = claimed {
                return self
                    .store_successor(&claimed, next_hash, next_expires_at)
                    .await;
            }
            // Not claimed: say why, in the order the embedded store does.
            let Some(token) = self
                .refresh_tokens
                .find_one(doc! { "_id": presented_hash })
                .await
                .map_err(store_error)?
            else {
                return Ok(Rotation::Unknown);
            };
            let lost_race = flag(&token, "used")
                && !flag(&token, "revoked")
                && integer(&token, "used_at").is_ok_and(|at| at > grace_from)
                && integer(&token, "expires_at")? > now;
            if lost_race {
                return self
                    .store_successor(&token, next_hash, next_expires_at)
                    .await;
            }
            if flag(&token, "used") || flag(&token, "revoked") {
                self.revoke_family(text(&token, "family_id")?).await?;
                return Ok(Rotation::Reused);
            }
            if integer(&token, "expires_at")? <= now {
                return Ok(Rotation::Expired);
            }
        }
        Err(Error::internal(anyhow::anyhow!(
            "a refresh token is neither valid nor invalid after {ROTATION_ATTEMPTS} attempts"
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_session_of(&self, presented_hash: &str) -> Result<bool> {
        let Some(token) = self
            .refresh_tokens
            .find_one(doc! { "_id": presented_hash })
            .await
            .map_err(store_error)?
        else {
            return Ok(false);
        };
        self.revoke_family(text(&token, "family_id")?).await?;
        Ok(true)
    }

    #[tracing::instrument(skip_all, fields(customer_id = %token.customer_id))]
    async fn insert_app_token(&self, token: &StoredAppToken) -> Result<()> {
        app_tokens::insert(&self.app_tokens, token).await?;
        // Checked after the insert: a deletion that ran meanwhile may have missed this token.
        if self.by_id(token.customer_id).await?.is_none() {
            self.app_tokens
                .delete_one(doc! { "_id": token.id.to_string() })
                .await
                .map_err(store_error)?;
            return Err(Error::Unauthorized(GONE.into()));
        }
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    async fn app_tokens(&self, customer_id: Uuid) -> Result<Vec<StoredAppToken>> {
        app_tokens::of_customer(&self.app_tokens, customer_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn app_token_by_hash(&self, token_hash: &str) -> Result<Option<StoredAppToken>> {
        self.app_tokens
            .find_one(doc! { "token_hash": token_hash })
            .await
            .map_err(store_error)?
            .as_ref()
            .map(app_tokens::decode)
            .transpose()
    }

    #[tracing::instrument(skip(self))]
    async fn delete_app_token(&self, customer_id: Uuid, id: Uuid) -> Result<bool> {
        let removed = self
            .app_tokens
            .delete_one(doc! { "_id": id.to_string(), "customer_id": customer_id.to_string() })
            .await
            .map_err(store_error)?;
        Ok(removed.deleted_count > 0)
    }

    #[tracing::instrument(skip(self))]
    async fn touch_app_token(&self, id: Uuid, at: DateTime<Utc>) -> Result<()> {
        self.app_tokens
            .update_one(
                doc! { "_id": id.to_string() },
                doc! { "$set": { "last_used_at": at.timestamp_millis() } },
            )
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(customer_id = %code.customer_id))]
    async fn put_code(&self, code: &StoredCode, events: Vec<Outgoing>) -> Result<()> {
        codes::put_with_events(&self.mail_codes, &self.customers, code, &events).await?;
        self.written(&events);
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn take_code(
        &self,
        token_hash: &str,
        purposes: &[CodePurpose],
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCode>> {
        codes::take(&self.mail_codes, token_hash, purposes, now).await
    }

    #[tracing::instrument(skip(self))]
    async fn code_of(
        &self,
        customer_id: Uuid,
        purpose: CodePurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCode>> {
        codes::of_customer(&self.mail_codes, customer_id, purpose, now).await
    }

    #[tracing::instrument(skip(self, new_email, events))]
    async fn set_verified(
        &self,
        id: Uuid,
        new_email: Option<(String, String)>,
        events: Vec<Outgoing>,
    ) -> Result<Customer> {
        let mut set = doc! { EMAIL_VERIFIED: true };
        if let Some((email, email_key)) = new_email {
            set.insert("email", email);
            set.insert("email_key", email_key);
        }
        // An update, not find-and-modify: MongoDB-compatible servers report a unique-key
        // violation of an update, where a find-and-modify may just match nothing.
        let live = doc! { "_id": id.to_string(), "deleted": false };
        let changed = self
            .customers
            .update_one(live.clone(), update_with_events(set, &events)?)
            .await
            .map_err(|error| {
                conflict_or_store_error(error, "another account has this e-mail address now")
            })?;
        if changed.matched_count == 0 {
            return Err(Error::NotFound(GONE.into()));
        }
        self.written(&events);
        let updated = self
            .customers
            .find_one(live)
            .await
            .map_err(store_error)?
            .ok_or_else(|| Error::NotFound(GONE.into()))?;
        decode_customer(&updated)
    }
}

#[async_trait]
impl Probe for MongoCustomerRepo {
    async fn probe(&self) -> Result<()> {
        self.database
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(Error::unavailable)?;
        Ok(())
    }
}
