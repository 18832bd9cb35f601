//! Checks the access token on every protected route and tells the handler who is calling.
//!
//! The gateway needs only the public key: the same check works in Kong or any gateway that
//! reads `/.well-known/jwks.json`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::ApiError;
use super::AppState;
use crate::error::Error;

/// Who the token says the caller is; the claims of an fms access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The customer id.
    pub sub: Uuid,
    /// The session (refresh-token family) the token was issued in.
    pub sid: Uuid,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Always `fms`.
    pub iss: String,
    /// Always `fms`.
    pub aud: String,
}

/// The issuer and audience of every fms access token.
pub const ISSUER: &str = "fms";

/// Seconds of clock skew tolerated on expiry.
const LEEWAY_SECS: i64 = 5;

/// Verifies access tokens with the public key.
#[derive(Clone)]
pub struct TokenVerifier {
    /// The Ed25519 public key.
    key: DecodingKey,
    /// Algorithm, issuer, audience and expiry checks.
    validation: Validation,
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
        }
    }

    /// The claims of a token that is valid at `now`.
    pub fn verify(
        &self,
        token: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<AccessClaims, Error> {
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| Error::Unauthorized("the access token is not valid".into()))?;
        if claims.exp + LEEWAY_SECS < now.timestamp() {
            return Err(Error::Unauthorized(
                "the access token has expired; refresh it".into(),
            ));
        }
        Ok(claims)
    }
}

/// The authenticated caller of a protected route.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The customer id.
    pub customer_id: Uuid,
    /// The session the token belongs to.
    pub session_id: Uuid,
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
        let claims = state.verifier.verify(token.trim(), state.clock.now())?;
        tracing::Span::current().record("customer_id", tracing::field::display(claims.sub));
        Ok(Caller {
            customer_id: claims.sub,
            session_id: claims.sid,
        })
    }
}
