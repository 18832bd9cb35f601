//! Checks the access token or app token on every protected route and tells the handler who
//! is calling, with what.
//!
//! The gateway needs only the public key: the same check works in Kong or any gateway that
//! reads `/.well-known/jwks.json`. The claims are the issuer's ([`AccessClaims`], in
//! `customers::tokens`), so the token's shape is defined once, where tokens are made.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::Method;
use common::api::TokenScope;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use quick_cache::sync::Cache;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use uuid::Uuid;

use super::error::ApiError;
use super::AppState;
use crate::customers::service::is_app_token;
use crate::customers::tokens::{AccessClaims, ISSUER};
use crate::error::Error;

/// Seconds of clock skew tolerated on expiry.
const LEEWAY_SECS: i64 = 5;

/// Seconds a token may be dated ahead of this clock (`iat`, `nbf`): instances that share the
/// signing key may disagree a little on the time, but a token made for later is refused.
const FUTURE_LEEWAY_SECS: i64 = 60;

/// Tokens whose signature was checked, remembered by this many digests: a client sends the
/// same token with every request for its whole lifetime.
const VERIFIED_TOKENS: usize = 10_000;

/// Verifies access tokens with the public key.
#[derive(Clone)]
pub struct TokenVerifier {
    /// The Ed25519 public key.
    key: DecodingKey,
    /// Algorithm, issuer, audience and required claims; the times are checked against the
    /// app's clock in [`TokenVerifier::verify`].
    validation: Validation,
    /// The claims of tokens whose signature held, by the SHA-256 of the token (so a lookup
    /// compares digests, never the secret itself). The times are checked on every use.
    verified: Arc<Cache<[u8; 32], AccessClaims>>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier for tokens signed by the Ed25519 key whose raw public key is `public_key`.
    pub fn new(public_key: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked against the app's clock below, so tests can age a token.
        validation.validate_exp = false;
        Self {
            key: DecodingKey::from_ed_der(public_key),
            validation,
            verified: Arc::new(Cache::new(VERIFIED_TOKENS)),
        }
    }

    /// The claims of a token that is valid at `now`.
    pub fn verify(
        &self,
        token: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<AccessClaims, Error> {
        let claims = self.claims(token)?;
        let now = now.timestamp();
        if claims.exp + LEEWAY_SECS < now {
            return Err(Error::Unauthorized(
                "the access token has expired; refresh it".into(),
            ));
        }
        // Checked here rather than by jsonwebtoken, which reads the system clock, not the
        // app's, and does not look at `iat` at all.
        let latest = now + FUTURE_LEEWAY_SECS;
        if claims.iat > latest || claims.nbf.is_some_and(|nbf| nbf > latest) {
            return Err(Error::Unauthorized(
                "the access token is not valid yet; log in again".into(),
            ));
        }
        Ok(claims)
    }

    /// The claims of `token` once its signature, issuer and audience hold (an Ed25519 check
    /// the first time, a digest and a lookup after).
    fn claims(&self, token: &str) -> Result<AccessClaims, Error> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(claims) = self.verified.get(&digest) {
            return Ok(claims);
        }
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| Error::Unauthorized("the access token is not valid".into()))?;
        self.verified.insert(digest, claims.clone());
        Ok(claims)
    }
}

/// The authenticated caller of a protected route.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The customer id.
    pub customer_id: Uuid,
    /// What they presented.
    pub credential: Credential,
}

/// What a caller presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An access token of a login session.
    Login {
        /// The session the token belongs to.
        session_id: Uuid,
    },
    /// An app token.
    AppToken {
        /// The token.
        token_id: Uuid,
        /// What it may do.
        scope: TokenScope,
    },
}

impl Caller {
    /// The login session, for what only a login may do (`what`: "changing the password");
    /// 403 for an app token.
    pub fn login_session(&self, what: &str) -> Result<Uuid, Error> {
        match self.credential {
            Credential::Login { session_id } => Ok(session_id),
            Credential::AppToken { .. } => Err(Error::Forbidden(format!(
                "{what} needs a login (`fmsctl login`); an app token cannot do it"
            ))),
        }
    }

    /// Refuses a read-only app token for a `method` that may change something.
    pub fn check_scope(&self, method: &Method) -> Result<(), Error> {
        match self.credential {
            Credential::AppToken {
                scope: TokenScope::Read,
                ..
            } if !reads_only(method) => Err(Error::Forbidden(
                "this app token may only read (scope `read`); use a read-write token to change anything"
                    .into(),
            )),
            _ => Ok(()),
        }
    }
}

/// Whether `method` only reads: what a `read` app token may use.
pub fn reads_only(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::OPTIONS].contains(method) || method.as_str() == "PROPFIND"
}

/// The caller behind `secret` (an access token or an app token), with its scope checked
/// against `method`.
pub async fn authenticate(
    state: &AppState,
    secret: &str,
    method: &Method,
) -> Result<Caller, Error> {
    let caller = if is_app_token(secret) {
        let grant = state.customers.authenticate_app_token(secret).await?;
        Caller {
            customer_id: grant.customer_id,
            credential: Credential::AppToken {
                token_id: grant.token_id,
                scope: grant.scope,
            },
        }
    } else {
        let claims = state.verifier.verify(secret, state.clock.now())?;
        // The token outlives its account: refuse it from the moment the deletion commits, not
        // when the files service has purged the account.
        if state.customers.is_deleted(claims.sub) {
            return Err(Error::Unauthorized("this account has been deleted".into()));
        }
        if state.customers.is_ended(claims.sub, claims.iat) {
            return Err(Error::Unauthorized(
                "the password was reset and every session ended; log in again".into(),
            ));
        }
        Caller {
            customer_id: claims.sub,
            credential: Credential::Login {
                session_id: claims.sid,
            },
        }
    };
    tracing::Span::current().record("customer_id", tracing::field::display(caller.customer_id));
    caller.check_scope(method)?;
    Ok(caller)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                Error::Unauthorized(
                    "log in first: this endpoint needs `Authorization: Bearer <token>`".into(),
                )
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .ok_or_else(|| {
                Error::Unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
        Ok(authenticate(state, token.trim(), &parts.method).await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::customers::tokens::TokenIssuer;

    #[test]
    fn an_issued_token_verifies_with_the_public_key_only_and_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt.pk8");
        let issuer = TokenIssuer::load_or_create(&path, 60).unwrap();
        let (customer, session) = (Uuid::now_v7(), Uuid::now_v7());
        let token = issuer.issue(customer, session, Utc::now()).unwrap();
        let reloaded = TokenIssuer::load_or_create(&path, 60).unwrap();
        let claims = TokenVerifier::new(reloaded.public_key())
            .verify(&token, Utc::now())
            .unwrap();
        assert_eq!((claims.sub, claims.sid), (customer, session));
        assert_eq!(
            issuer.jwks()["keys"][0]["kid"],
            reloaded.jwks()["keys"][0]["kid"]
        );
        let other = TokenIssuer::load_or_create(&dir.path().join("other.pk8"), 60).unwrap();
        assert!(TokenVerifier::new(other.public_key())
            .verify(&token, Utc::now())
            .is_err());
    }

    #[test]
    fn a_token_dated_ahead_is_refused_beyond_a_minute() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = TokenIssuer::load_or_create(&dir.path().join("jwt.pk8"), 600).unwrap();
        let verifier = TokenVerifier::new(issuer.public_key());
        let now = Utc::now();
        for (ahead, accepted) in [(30, true), (120, false), (3600, false)] {
            let token = issuer
                .issue(
                    Uuid::now_v7(),
                    Uuid::now_v7(),
                    now + chrono::Duration::seconds(ahead),
                )
                .unwrap();
            assert_eq!(verifier.verify(&token, now).is_ok(), accepted, "{ahead} s");
        }
    }

    #[test]
    fn a_remembered_token_still_has_its_times_checked_and_a_forged_one_is_not_taken_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = TokenIssuer::load_or_create(&dir.path().join("jwt.pk8"), 60).unwrap();
        let verifier = TokenVerifier::new(issuer.public_key());
        let now = Utc::now();
        let token = issuer.issue(Uuid::now_v7(), Uuid::now_v7(), now).unwrap();
        for _ in 0..2 {
            assert!(verifier.verify(&token, now).is_ok());
        }
        assert!(verifier
            .verify(&token, now + chrono::Duration::seconds(120))
            .is_err());
        let (body, signature) = token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
        let forged = format!("{body}.{flipped}{}", &signature[1..]);
        assert!(verifier.verify(&forged, now).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = TokenIssuer::load_or_create(&dir.path().join("jwt.pk8"), 60).unwrap();
        let token = issuer
            .issue(
                Uuid::now_v7(),
                Uuid::now_v7(),
                Utc::now() - chrono::Duration::seconds(120),
            )
            .unwrap();
        assert!(TokenVerifier::new(issuer.public_key())
            .verify(&token, Utc::now())
            .is_err());
    }
}
