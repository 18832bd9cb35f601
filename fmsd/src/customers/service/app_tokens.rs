//! App tokens: make, list, revoke, and check one presented as a bearer token or a password.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::api::{AppToken, CreateAppTokenRequest, CreatedAppToken, TokenScope};
use uuid::Uuid;

use super::CustomerService;
use crate::customers::domain::DisplayName;
use crate::customers::ports::StoredAppToken;
use crate::customers::tokens::{hash_secret, new_app_token, APP_TOKEN_PREFIX};
use crate::error::{Error, Result};

/// How many app tokens one customer may hold.
pub const MAX_APP_TOKENS: usize = 100;
/// The shortest lifetime a token may be given.
const MIN_TTL_SECS: u64 = 60;
/// The longest lifetime a token may be given: ten years (leave it out for no expiry).
const MAX_TTL_SECS: u64 = 10 * 365 * 86_400;
/// How stale `last_used_at` may be before a use writes it again: one write a minute at most,
/// however busy the token.
const TOUCH_EVERY: Duration = Duration::seconds(60);
/// What an unknown, revoked or malformed app token answers.
const NOT_VALID: &str = "the app token is not valid; it may have been revoked";

/// Who a valid app token speaks for, and what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppTokenGrant {
    /// The customer.
    pub customer_id: Uuid,
    /// The token.
    pub token_id: Uuid,
    /// What it may do.
    pub scope: TokenScope,
}

/// Whether `secret` has the shape of an app token (as opposed to an access token).
pub fn is_app_token(secret: &str) -> bool {
    secret.starts_with(APP_TOKEN_PREFIX)
}

impl CustomerService {
    /// Makes an app token for `customer_id`; its secret is in the answer and nowhere else.
    #[tracing::instrument(skip(self, request))]
    pub async fn create_app_token(
        &self,
        customer_id: Uuid,
        request: CreateAppTokenRequest,
    ) -> Result<CreatedAppToken> {
        let name = DisplayName::parse(&request.name).map_err(|_| {
            Error::Invalid(
                "a token's name must have 1 to 100 characters and no control characters".into(),
            )
        })?;
        // To the millisecond, as the stores keep it: the answer says what a listing will.
        let now = self.clock.now().trunc_subsecs(3);
        let expires_at = match request.expires_in_secs {
            None => None,
            Some(secs) if (MIN_TTL_SECS..=MAX_TTL_SECS).contains(&secs) => {
                Some(now + Duration::seconds(secs as i64))
            }
            Some(_) => {
                return Err(Error::Invalid(format!(
                "expires_in_secs must be between {MIN_TTL_SECS} and {MAX_TTL_SECS} (ten years); \
                     leave it out for a token that works until revoked"
            )))
            }
        };
        self.existing(customer_id).await?;
        if self.repo.app_tokens(customer_id).await?.len() >= MAX_APP_TOKENS {
            return Err(Error::Conflict(format!(
                "you have {MAX_APP_TOKENS} app tokens, the most an account may hold; revoke one first"
            )));
        }
        let (secret, token_hash) = new_app_token();
        let stored = StoredAppToken {
            id: Uuid::now_v7(),
            customer_id,
            name: name.as_str().to_owned(),
            scope: request.scope,
            token_hash,
            created_at: now,
            expires_at,
            last_used_at: None,
        };
        self.repo.insert_app_token(&stored).await?;
        tracing::info!(%customer_id, token_id = %stored.id, scope = stored.scope.as_str(), "app token created");
        Ok(CreatedAppToken {
            token: view(stored),
            secret,
        })
    }

    /// The customer's app tokens, newest first, expired ones included (they say so).
    #[tracing::instrument(skip(self))]
    pub async fn app_tokens(&self, customer_id: Uuid) -> Result<Vec<AppToken>> {
        Ok(self
            .repo
            .app_tokens(customer_id)
            .await?
            .into_iter()
            .map(view)
            .collect())
    }

    /// Revokes the customer's app token `id` at once.
    #[tracing::instrument(skip(self))]
    pub async fn revoke_app_token(&self, customer_id: Uuid, id: Uuid) -> Result<()> {
        if !self.repo.delete_app_token(customer_id, id).await? {
            return Err(Error::NotFound(format!("you have no app token {id}")));
        }
        tracing::info!(%customer_id, token_id = %id, "app token revoked");
        Ok(())
    }

    /// The grant of the app token `secret`, if it is valid now; notes its use.
    pub async fn authenticate_app_token(&self, secret: &str) -> Result<AppTokenGrant> {
        if !is_app_token(secret) {
            return Err(Error::Unauthorized(NOT_VALID.into()));
        }
        let token = self
            .repo
            .app_token_by_hash(&hash_secret(secret))
            .await?
            .ok_or_else(|| Error::Unauthorized(NOT_VALID.into()))?;
        let now = self.clock.now();
        if token.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::Unauthorized(format!(
                "the app token '{}' has expired; make a new one",
                token.name
            )));
        }
        if self.is_deleted(token.customer_id) {
            return Err(Error::Unauthorized("this account has been deleted".into()));
        }
        if is_stale(token.last_used_at, now) {
            // Only a note: a store that cannot take it must not refuse a valid token.
            if let Err(error) = self.repo.touch_app_token(token.id, now).await {
                tracing::debug!(error = %error.report(), "failed to note an app token's use");
            }
        }
        Ok(AppTokenGrant {
            customer_id: token.customer_id,
            token_id: token.id,
            scope: token.scope,
        })
    }
}

/// Whether a use at `now` should be written down.
fn is_stale(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY)
}

/// What the owner sees of a stored token.
fn view(token: StoredAppToken) -> AppToken {
    AppToken {
        id: token.id,
        name: token.name,
        scope: token.scope,
        created_at: token.created_at,
        last_used_at: token.last_used_at,
        expires_at: token.expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_is_written_once_a_minute_at_most() {
        let now = Utc::now();
        assert!(is_stale(None, now));
        assert!(!is_stale(Some(now - Duration::seconds(59)), now));
        assert!(is_stale(Some(now - Duration::seconds(60)), now));
    }

    #[test]
    fn only_prefixed_secrets_are_app_tokens() {
        assert!(is_app_token("fms_abc"));
        assert!(!is_app_token("eyJhbGciOiJFZERTQSJ9.e30.sig"));
    }
}
