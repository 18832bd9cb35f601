//! The signed cookie that spares a browser a link's password for a while: set when the
//! password form was right, sent back only to that link's pages (`Path=/s/{token}`), never to
//! another site's requests (`SameSite=Strict`) nor to script (`HttpOnly`).
//!
//! It holds an expiry and an HMAC over the link's token hash (the [`UrlSigner`]'s key, with a
//! purpose of its own), so it cannot be made without the key, moved to another link or kept
//! alive longer; a revoked or expired link is refused whatever the cookie says.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};

use crate::files::domain::LinkToken;
use crate::gateway::client::Client;
use crate::signing::UrlSigner;

/// The cookie's name.
const NAME: &str = "fms_link";

/// What the seal is for, so it is never taken for a URL signature.
const PURPOSE: &str = "LINK-UNLOCK";

/// How long a right password holds: long enough to look around and download, short enough
/// that a shared computer forgets it soon.
const TTL_SECS: i64 = 30 * 60;

/// Makes and checks the unlock cookies.
#[derive(Debug, Clone)]
pub struct Unlocks {
    /// Signs with the URL-signing key, which survives restarts.
    signer: UrlSigner,
}

impl Unlocks {
    /// Cookies sealed with `signer`'s key.
    pub fn new(signer: UrlSigner) -> Self {
        Self { signer }
    }

    /// The `Set-Cookie` value that unlocks the link `token` for `client` from `now` on.
    pub fn cookie(&self, token: &LinkToken, client: &Client, now: DateTime<Utc>) -> HeaderValue {
        let sealed = self.signer.seal(
            PURPOSE,
            &token.hash(),
            now + chrono::Duration::seconds(TTL_SECS),
        );
        let secure = if client.is_https() { "; Secure" } else { "" };
        let cookie = format!(
            "{NAME}={sealed}; Path=/s/{}; Max-Age={TTL_SECS}; HttpOnly; SameSite=Strict{secure}",
            token.expose()
        );
        // The token is base64url and the seal digits and hex: always a valid header value.
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Whether `headers` carry a live cookie for the link `token`.
    pub fn unlocked(&self, token: &str, headers: &HeaderMap, now: DateTime<Utc>) -> bool {
        let Ok(token) = LinkToken::parse(token) else {
            return false;
        };
        let subject = token.hash();
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == NAME)
            .any(|(_, sealed)| self.signer.check_seal(PURPOSE, &subject, sealed, now))
    }
}
