//! Access and refresh tokens.
//!
//! Access tokens are JWTs signed with an Ed25519 key that fmsd makes on first start and keeps
//! in `<data-dir>/keys/`; the public half is served as a JWKS so any gateway can check them.
//! Refresh tokens and app tokens are 256 random bits, handed out once and stored only as a
//! SHA-256 hash (a hash of that much randomness cannot be searched, so no slow hash is needed).

use std::path::Path;

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Error, Result};

/// Who the token says the caller is; the claims of an fms access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The customer id.
    pub sub: Uuid,
    /// The session (refresh-token family) the token was issued in.
    pub sid: Uuid,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not valid before (Unix seconds); fmsd leaves it out (`iat` says as much), but a token
    /// that has one is held to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Always `fms`.
    pub iss: String,
    /// Always `fms`.
    pub aud: String,
}

/// The issuer and audience of every fms access token.
pub const ISSUER: &str = "fms";

/// Signs access tokens.
pub struct TokenIssuer {
    /// The private key, PKCS#8.
    encoding_key: EncodingKey,
    /// The raw public key, for the JWKS and the gateway's verifier.
    public_key: Vec<u8>,
    /// The key id: a hash of the public key, so rotating keys later is unambiguous.
    kid: String,
    /// How long an access token lives.
    ttl_secs: u64,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// Loads the key pair at `path`, making one on first start.
    pub fn load_or_create(path: &Path, ttl_secs: u64) -> anyhow::Result<Self> {
        let pkcs8 = crate::keys::load_or_create_secret(path, || {
            let document = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                .map_err(|_| anyhow::anyhow!("failed to generate an Ed25519 key"))?;
            Ok(document.as_ref().to_vec())
        })
        .context("failed to load the token signing key")?;
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
            .map_err(|_| anyhow::anyhow!("{} is not an Ed25519 PKCS#8 key", path.display()))?;
        let public_key = pair.public_key().as_ref().to_vec();
        let kid = hex::encode(&Sha256::digest(&public_key)[..8]);
        Ok(Self {
            encoding_key: EncodingKey::from_ed_der(&pkcs8),
            public_key,
            kid,
            ttl_secs,
        })
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// Seconds an access token lives.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// A signed access token for `customer_id` in session `session_id`.
    pub fn issue(&self, customer_id: Uuid, session_id: Uuid, now: DateTime<Utc>) -> Result<String> {
        let claims = AccessClaims {
            sub: customer_id,
            sid: session_id,
            iat: now.timestamp(),
            nbf: None,
            exp: now.timestamp() + self.ttl_secs as i64,
            iss: ISSUER.into(),
            aud: ISSUER.into(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding_key).map_err(Error::internal)
    }

    /// The public key as a JSON Web Key Set (RFC 7517, RFC 8037).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": "EdDSA",
                "use": "sig",
                "kid": self.kid,
                "x": URL_SAFE_NO_PAD.encode(&self.public_key),
            }]
        })
    }
}

/// What every app token starts with, so it is told from an access token (a JWT, `eyJ…`) at a
/// glance, and so secret scanners can find one that leaked.
pub const APP_TOKEN_PREFIX: &str = "fms_";

/// A new refresh token and the hash to store.
pub fn new_refresh_token() -> (String, String) {
    let token = random_secret();
    let hash = hash_secret(&token);
    (token, hash)
}

/// A new app token secret (`fms_` and 256 random bits) and the hash to store.
pub fn new_app_token() -> (String, String) {
    let secret = format!("{APP_TOKEN_PREFIX}{}", random_secret());
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// A new one-time code for a mail (256 random bits) and the hash to store.
pub fn new_mail_code() -> (String, String) {
    new_refresh_token()
}

/// The stored form of a refresh token or an app token.
pub fn hash_secret(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// 256 random bits, base64url.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_stored_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_secret(&a), hash_a);
        assert!(!hash_a.contains(&a));
    }

    #[test]
    fn app_tokens_carry_the_prefix_and_256_random_bits() {
        let (a, hash_a) = new_app_token();
        let (b, _) = new_app_token();
        assert_ne!(a, b);
        assert!(a.starts_with(APP_TOKEN_PREFIX), "{a}");
        assert_eq!(a.len(), APP_TOKEN_PREFIX.len() + 43);
        assert_eq!(hash_secret(&a), hash_a);
    }
}
