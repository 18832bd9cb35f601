//! HMAC-signed, expiring URLs on fmsd itself: how the embedded blob store hands out upload and
//! download URLs that work without a token, the way presigned S3 URLs do.
//!
//! The signature covers the method, the path and the expiry, so a URL for one part or file
//! cannot be turned into another, nor kept alive longer.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Url;

use crate::error::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks URLs under one base.
#[derive(Clone)]
pub struct UrlSigner {
    /// The secret; 32 random bytes kept in the data dir so URLs survive a restart.
    key: Vec<u8>,
    /// Where clients reach fmsd.
    base: Url,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlSigner")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl UrlSigner {
    /// A signer with `key`, for URLs under `base`.
    pub fn new(key: Vec<u8>, base: Url) -> Self {
        Self { key, base }
    }

    /// Loads the key from `path`, creating it (mode 0600) on first start.
    pub fn load_or_create(path: &Path, base: Url) -> anyhow::Result<Self> {
        let key = crate::keys::load_or_create_secret(path, || {
            use rand::RngCore;
            let mut key = vec![0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            Ok(key)
        })
        .context("failed to load the URL signing key")?;
        Ok(Self::new(key, base))
    }

    fn mac(&self, method: &str, path: &str, expires: i64) -> HmacSha256 {
        // Any key length is valid for HMAC.
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(method.as_bytes());
        mac.update(b"\n");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// An absolute URL for `method` on `path` (which starts with `/`), good until `expires_at`.
    pub fn sign(&self, method: &str, path: &str, expires_at: DateTime<Utc>) -> Url {
        let expires = expires_at.timestamp();
        let signature = hex::encode(self.mac(method, path, expires).finalize().into_bytes());
        let mut url = self.base.clone();
        url.set_path(path);
        url.query_pairs_mut()
            .append_pair("expires", &expires.to_string())
            .append_pair("signature", &signature);
        url
    }

    /// A seal on `subject` for `purpose`, good until `expires_at`: `<expires>.<hex signature>`,
    /// what a signed cookie holds. `purpose` is never an HTTP method, so no seal is a URL
    /// signature, nor the other way round.
    pub fn seal(&self, purpose: &str, subject: &str, expires_at: DateTime<Utc>) -> String {
        let expires = expires_at.timestamp();
        let signature = hex::encode(self.mac(purpose, subject, expires).finalize().into_bytes());
        format!("{expires}.{signature}")
    }

    /// Whether `sealed` is a seal on `subject` for `purpose` that has not expired at `now`.
    pub fn check_seal(
        &self,
        purpose: &str,
        subject: &str,
        sealed: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let Some((expires, signature)) = sealed.split_once('.') else {
            return false;
        };
        let (Ok(expires), Ok(signature)) = (expires.parse::<i64>(), hex::decode(signature)) else {
            return false;
        };
        self.mac(purpose, subject, expires)
            .verify_slice(&signature)
            .is_ok()
            && now.timestamp() <= expires
    }

    /// Checks a signed request: a wrong signature is 403, a URL past its expiry too (with a
    /// message that says so, so a client knows to ask for a fresh one).
    pub fn verify(
        &self,
        method: &str,
        path: &str,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let signature = hex::decode(signature)
            .map_err(|_| Error::Forbidden("the URL signature is malformed".into()))?;
        self.mac(method, path, expires)
            .verify_slice(&signature)
            .map_err(|_| Error::Forbidden("the URL signature does not match".into()))?;
        if now.timestamp() > expires {
            return Err(Error::Forbidden(
                "the signed URL has expired; ask for a fresh one".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> UrlSigner {
        UrlSigner::new(vec![7; 32], Url::parse("http://127.0.0.1:8080").unwrap())
    }

    fn parts(url: &Url) -> (i64, String) {
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        (
            query["expires"].parse().unwrap(),
            query["signature"].clone(),
        )
    }

    #[test]
    fn a_signed_url_verifies_until_it_expires() {
        let now = Utc::now();
        let url = signer().sign(
            "PUT",
            "/blobs/parts/x/1",
            now + chrono::Duration::seconds(60),
        );
        let (expires, signature) = parts(&url);
        assert!(signer()
            .verify("PUT", "/blobs/parts/x/1", expires, &signature, now)
            .is_ok());
        let later = now + chrono::Duration::seconds(61);
        assert!(signer()
            .verify("PUT", "/blobs/parts/x/1", expires, &signature, later)
            .is_err());
    }

    #[test]
    fn a_seal_binds_purpose_subject_and_expiry() {
        let now = Utc::now();
        let sealed = signer().seal("UNLOCK", "abc", now + chrono::Duration::seconds(60));
        assert!(signer().check_seal("UNLOCK", "abc", &sealed, now));
        assert!(!signer().check_seal("UNLOCK", "abd", &sealed, now));
        assert!(!signer().check_seal("GET", "abc", &sealed, now));
        assert!(!signer().check_seal(
            "UNLOCK",
            "abc",
            &sealed,
            now + chrono::Duration::seconds(61)
        ));
        let (expires, signature) = sealed.split_once('.').unwrap();
        let longer = format!("{}.{signature}", expires.parse::<i64>().unwrap() + 3600);
        assert!(!signer().check_seal("UNLOCK", "abc", &longer, now));
        assert!(!signer().check_seal("UNLOCK", "abc", "garbage", now));
    }

    #[test]
    fn a_signature_binds_method_path_and_expiry() {
        let now = Utc::now();
        let url = signer().sign(
            "PUT",
            "/blobs/parts/x/1",
            now + chrono::Duration::seconds(60),
        );
        let (expires, signature) = parts(&url);
        assert!(signer()
            .verify("GET", "/blobs/parts/x/1", expires, &signature, now)
            .is_err());
        assert!(signer()
            .verify("PUT", "/blobs/parts/x/2", expires, &signature, now)
            .is_err());
        assert!(signer()
            .verify("PUT", "/blobs/parts/x/1", expires + 3600, &signature, now)
            .is_err());
    }
}
