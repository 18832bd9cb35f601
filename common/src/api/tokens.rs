//! The JSON bodies of app tokens: long-lived secrets a customer makes for scripts and for
//! clients that take a password (WebDAV), each with a scope and an optional expiry.
//!
//! | method and path | request | answer |
//! | --- | --- | --- |
//! | `POST /v1/tokens` | [`CreateAppTokenRequest`] | 201 [`CreatedAppToken`] (the secret, shown once) |
//! | `GET /v1/tokens` | | [`AppTokenList`] |
//! | `DELETE /v1/tokens/{id}` | | 204 |
//!
//! An app token goes where an access token goes (`Authorization: Bearer fms_…`). A `read` token
//! may only read: `GET` and `HEAD`, and the reading WebDAV methods. Managing app tokens,
//! changing the password and deleting the account need a login, never an app token.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What an app token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum TokenScope {
    /// List, read and download: `GET` and `HEAD` only.
    Read,
    /// Everything a login may do with files, shares and links.
    #[default]
    ReadWrite,
}

impl TokenScope {
    /// `read` or `read-write`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read-write",
        }
    }

    /// The scope named `text`, as the API spells it.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "read" => Some(Self::Read),
            "read-write" => Some(Self::ReadWrite),
            _ => None,
        }
    }
}

/// `POST /v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAppTokenRequest {
    /// What the token is for, as the customer will recognise it: `backup on nas`.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::display_name))]
    pub name: String,
    /// What it may do; `read-write` if left out.
    #[serde(default)]
    pub scope: TokenScope,
    /// Seconds until it stops working; it works until revoked if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 315_360_000))]
    pub expires_in_secs: Option<u64>,
}

/// An app token as its owner sees it: never the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppToken {
    /// Its id, to revoke it by.
    pub id: Uuid,
    /// What it is for.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was last used, to the minute; never if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working; never if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// What `POST /v1/tokens` answers: the token and, this once, its secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedAppToken {
    /// The token.
    #[serde(flatten)]
    pub token: AppToken,
    /// The secret (`fms_` and 43 characters): shown only now, stored by fmsd only as a hash.
    pub secret: String,
}

/// `GET /v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppTokenList {
    /// The caller's app tokens, newest first.
    pub tokens: Vec<AppToken>,
}
