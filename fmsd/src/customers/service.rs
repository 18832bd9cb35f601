//! The customers use cases: register, log in, refresh, log out, profile, password, deletion,
//! app tokens ([`app_tokens`]), and mailed codes: password reset and address verification
//! ([`recovery`]).

use std::sync::Arc;

use chrono::Duration;
use common::api::{
    ChangePasswordRequest, DeleteAccountRequest, LoginRequest, NotificationSettings, Profile,
    RegisterRequest, TokenPair, UpdateProfileRequest,
};
use common::events::{
    CustomerDeleted, CustomerPasswordChanged, CustomerRegistered, CustomerUpdated, Outgoing,
};
use uuid::Uuid;

use super::domain::{DisplayName, Email, Password};
use super::ports::{CodePurpose, Customer, CustomerRepo, NewRefreshToken, Rotation};
use super::revoked::RevokedAccounts;
use super::tokens::{hash_secret, new_refresh_token, TokenIssuer};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::limits::GuessLimiter;
use crate::passwords;
use crate::settings::AuthSettings;

mod app_tokens;
mod recovery;

pub use app_tokens::{is_app_token, AppTokenGrant, MAX_APP_TOKENS};
pub use recovery::{RESET_CODE_TTL, VERIFY_CODE_TTL};

/// How soon after its use a refresh token may be presented again and still be rotated (into
/// one more successor in its session) rather than taken for theft: long enough for two
/// processes of one client that refreshed at the same moment, too short to be of use to a
/// thief, who would have to present it within these seconds of the rightful use.
const REFRESH_REUSE_GRACE_SECS: i64 = 10;

/// The one message for a wrong password and an unknown e-mail, so neither tells which.
const BAD_CREDENTIALS: &str = "the e-mail address or the password is wrong";

/// The customers service.
pub struct CustomerService {
    /// Where customers and refresh tokens are kept.
    repo: Arc<dyn CustomerRepo>,
    /// Signs access tokens.
    tokens: TokenIssuer,
    /// Time, injectable for tests.
    clock: Arc<dyn Clock>,
    /// Token lifetimes.
    settings: AuthSettings,
    /// Counts checks of the current password against the account, with its logins, so a
    /// stolen access token cannot be used to guess the password quickly.
    limiter: Arc<GuessLimiter>,
    /// Deleted accounts whose access tokens may still be alive; the gateway refuses them.
    revoked: RevokedAccounts,
}

impl std::fmt::Debug for CustomerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerService").finish_non_exhaustive()
    }
}

impl CustomerService {
    /// A service over `repo`, signing with `tokens`, limiting password checks with `limiter`.
    pub fn new(
        repo: Arc<dyn CustomerRepo>,
        tokens: TokenIssuer,
        clock: Arc<dyn Clock>,
        settings: AuthSettings,
        limiter: Arc<GuessLimiter>,
    ) -> Self {
        // A token issued just before a deletion lives its lifetime, plus the skew tolerated.
        let keep = Duration::seconds(settings.access_token_ttl_secs as i64 + 60);
        Self {
            repo,
            tokens,
            clock,
            settings,
            limiter,
            revoked: RevokedAccounts::new(keep),
        }
    }

    /// Whether the account `id` was deleted (while tokens issued to it may still be alive).
    pub fn is_deleted(&self, id: Uuid) -> bool {
        self.revoked.contains(id)
    }

    /// Whether an access token of `id` issued at `issued_at` (seconds) was ended with every
    /// session of the account (a password reset).
    pub fn is_ended(&self, id: Uuid, issued_at: i64) -> bool {
        self.revoked.ended_before(id, issued_at)
    }

    /// The access-token public keys, as a JWKS.
    pub fn jwks(&self) -> serde_json::Value {
        self.tokens.jwks()
    }

    /// The raw access-token public key, for the gateway's verifier.
    pub fn public_key(&self) -> &[u8] {
        self.tokens.public_key()
    }

    /// Registers a customer; emits `customers.registered` and, when addresses must be proved,
    /// mails a verification code.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, request: RegisterRequest) -> Result<Profile> {
        let email = Email::parse(&request.email)?;
        let password = Password::parse(&request.password)?;
        let name = DisplayName::parse(&request.name)?;
        let customer = Customer {
            id: Uuid::now_v7(),
            email: email.as_str().to_owned(),
            email_key: email.key(),
            name: name.as_str().to_owned(),
            password_hash: hash_password(password).await?,
            created_at: self.clock.now(),
            notifications: NotificationSettings::default(),
            email_verified: !self.verification_required(),
        };
        let event = CustomerRegistered {
            customer_id: customer.id,
            email: customer.email.clone(),
            name: customer.name.clone(),
            email_verified: customer.email_verified,
        };
        self.repo
            .insert(&customer, vec![Outgoing::new(&event)])
            .await
            .map_err(|error| match error {
                Error::Conflict(_) => {
                    Error::Conflict("an account with this e-mail address exists".into())
                }
                other => other,
            })?;
        tracing::info!(customer_id = %customer.id, "customer registered");
        if !customer.email_verified {
            // A code that fails to go out now can be asked for again (`resend_verification`).
            if let Err(error) = self.mail_verification_code(&customer, None).await {
                tracing::warn!(error = %error.report(), "failed to store the verification code");
            }
        }
        Ok(profile(&customer, customer.email_verified, None))
    }

    /// Checks the credentials and opens a session.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, request: LoginRequest) -> Result<TokenPair> {
        let customer = match Email::parse(&request.email) {
            Ok(email) => self.repo.by_email_key(&email.key()).await?,
            Err(_) => None,
        };
        // Verify against a dummy hash when there is no such customer, so both answers take as long.
        let hash = customer.as_ref().map(|c| c.password_hash.clone());
        let password_ok = verify_password(request.password, hash).await?;
        let customer = match customer {
            Some(customer) if password_ok => customer,
            _ => {
                crate::metrics::login_failed();
                return Err(Error::Unauthorized(BAD_CREDENTIALS.into()));
            }
        };
        let session_id = Uuid::now_v7();
        let (refresh_token, token_hash) = new_refresh_token();
        self.repo
            .insert_refresh_token(&NewRefreshToken {
                token_hash,
                family_id: session_id,
                customer_id: customer.id,
                expires_at: self.refresh_expiry(),
            })
            .await?;
        tracing::info!(customer_id = %customer.id, "customer logged in");
        self.token_pair(customer.id, session_id, refresh_token)
    }

    /// Trades a refresh token for a new pair; a token used before (beyond a few seconds' grace
    /// for a client racing itself) revokes its whole session.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        let (next_token, next_hash) = new_refresh_token();
        let rotation = self
            .repo
            .rotate_refresh_token(
                &hash_secret(refresh_token),
                &next_hash,
                self.refresh_expiry(),
                self.clock.now(),
                Duration::seconds(REFRESH_REUSE_GRACE_SECS),
            )
            .await?;
        match rotation {
            Rotation::Rotated {
                customer_id,
                family_id,
            } => self.token_pair(customer_id, family_id, next_token),
            Rotation::Reused => {
                tracing::warn!("a used refresh token was presented again; its session is revoked");
                Err(Error::Unauthorized(
                    "the refresh token was already used; log in again".into(),
                ))
            }
            Rotation::Expired => Err(Error::Unauthorized(
                "the refresh token has expired; log in again".into(),
            )),
            Rotation::Unknown => Err(Error::Unauthorized(
                "the refresh token is not valid; log in again".into(),
            )),
        }
    }

    /// Ends the session the refresh token belongs to.
    #[tracing::instrument(skip_all)]
    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        if !self
            .repo
            .revoke_session_of(&hash_secret(refresh_token))
            .await?
        {
            return Err(Error::Unauthorized("the refresh token is not valid".into()));
        }
        Ok(())
    }

    /// The customer's profile.
    #[tracing::instrument(skip(self))]
    pub async fn profile(&self, id: Uuid) -> Result<Profile> {
        self.profile_of(&self.existing(id).await?).await
    }

    /// What `customer` sees of their record, with the address a change waits to prove.
    async fn profile_of(&self, customer: &Customer) -> Result<Profile> {
        let pending = self
            .repo
            .code_of(customer.id, CodePurpose::ChangeEmail, self.clock.now())
            .await?
            .and_then(|code| code.new_email)
            .map(|(email, _)| email);
        let verified = customer.email_verified || !self.verification_required();
        Ok(profile(customer, verified, pending))
    }

    /// Changes the profile fields given (display name, mail preferences); emits
    /// `customers.updated` with the whole new state. A new e-mail address is not taken at
    /// once: a code goes to it (see [`recovery`]). A request with no field changes nothing.
    #[tracing::instrument(skip(self, request))]
    pub async fn update_profile(&self, id: Uuid, request: UpdateProfileRequest) -> Result<Profile> {
        let UpdateProfileRequest {
            name,
            notifications,
            email,
        } = request;
        let name = name.as_deref().map(DisplayName::parse).transpose()?;
        let current = self.existing(id).await?;
        if let Some(email) = email {
            self.request_email_change(&current, &email).await?;
        }
        if name.is_none() && notifications.is_none() {
            return self.profile_of(&current).await;
        }
        let name = name.map_or(current.name, |name| name.as_str().to_owned());
        let notifications = notifications.unwrap_or(current.notifications);
        let event = CustomerUpdated {
            customer_id: id,
            email: current.email,
            name: name.clone(),
            activity_mail: notifications.activity_mail,
            email_verified: current.email_verified,
        };
        let updated = self
            .repo
            .update_profile(id, &name, notifications, vec![Outgoing::new(&event)])
            .await?;
        self.profile_of(&updated).await
    }

    /// Changes the password and ends every other session; emits `customers.password_changed`.
    /// The current password's check counts against the account's password attempts.
    #[tracing::instrument(skip(self, request))]
    pub async fn change_password(
        &self,
        id: Uuid,
        session_id: Uuid,
        request: ChangePasswordRequest,
    ) -> Result<()> {
        let customer = self.existing(id).await?;
        self.limiter.password_check(&customer.email).await?;
        if !verify_password(
            request.current_password,
            Some(customer.password_hash.clone()),
        )
        .await?
        {
            return Err(Error::Unauthorized("the current password is wrong".into()));
        }
        let new_password = Password::parse(&request.new_password)?;
        let hash = hash_password(new_password).await?;
        let event = CustomerPasswordChanged {
            customer_id: id,
            email: customer.email,
            name: customer.name,
        };
        self.repo
            .update_password(id, &hash, Some(session_id), vec![Outgoing::new(&event)])
            .await?;
        tracing::info!(customer_id = %id, "password changed; other sessions revoked");
        Ok(())
    }

    /// Deletes the account after checking the password (counted against the account's password
    /// attempts); emits `customers.deleted`, on which the files service purges what the
    /// customer stored.
    #[tracing::instrument(skip(self, request))]
    pub async fn delete_account(&self, id: Uuid, request: DeleteAccountRequest) -> Result<()> {
        let customer = self.existing(id).await?;
        self.limiter.password_check(&customer.email).await?;
        if !verify_password(request.password, Some(customer.password_hash.clone())).await? {
            return Err(Error::Unauthorized("the password is wrong".into()));
        }
        let event = CustomerDeleted {
            customer_id: id,
            email: customer.email,
            name: customer.name,
        };
        // Refused before the commit, so no request sees the account gone in one store and
        // there in another; taken back if the deletion fails.
        self.revoked.revoke(id, self.clock.now());
        if let Err(error) = self.repo.delete(id, vec![Outgoing::new(&event)]).await {
            self.revoked.restore(id);
            return Err(error);
        }
        tracing::info!(customer_id = %id, "account deleted");
        Ok(())
    }

    /// The customer, or 401 when a still-valid token outlived its account.
    async fn existing(&self, id: Uuid) -> Result<Customer> {
        self.repo
            .by_id(id)
            .await?
            .ok_or_else(|| Error::Unauthorized("this account no longer exists".into()))
    }

    fn refresh_expiry(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now() + Duration::days(self.settings.refresh_token_ttl_days as i64)
    }

    fn token_pair(
        &self,
        customer_id: Uuid,
        session_id: Uuid,
        refresh_token: String,
    ) -> Result<TokenPair> {
        Ok(TokenPair {
            access_token: self
                .tokens
                .issue(customer_id, session_id, self.clock.now())?,
            token_type: "Bearer".into(),
            expires_in: self.tokens.ttl_secs(),
            refresh_token,
        })
    }
}

/// What a customer sees of their record, with the address a change waits to prove.
fn profile(customer: &Customer, email_verified: bool, pending_email: Option<String>) -> Profile {
    Profile {
        id: customer.id,
        email: customer.email.clone(),
        name: customer.name.clone(),
        created_at: customer.created_at,
        notifications: customer.notifications,
        email_verified,
        pending_email,
    }
}

/// Hashes a customer's password with argon2id.
async fn hash_password(password: Password) -> Result<String> {
    passwords::hash(password.expose().to_owned()).await
}

/// Checks a password against a stored hash (or, for `None`, a dummy one).
async fn verify_password(password: String, hash: Option<String>) -> Result<bool> {
    passwords::verify(password, hash).await
}
