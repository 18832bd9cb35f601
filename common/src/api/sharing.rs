//! The JSON bodies of sharing: shares with other customers, public links, and the public
//! `/s/{token}` endpoints a link resolves to.
//!
//! | method and path | request | answer |
//! | --- | --- | --- |
//! | `POST /v1/shares` | [`ShareRequest`] | 201 (new) or 200 (role changed) [`Share`] |
//! | `GET /v1/shares/incoming` | | [`ShareList`]: shared with me |
//! | `GET /v1/shares/outgoing` | | [`ShareList`]: what I shared |
//! | `PATCH /v1/shares/{id}` | [`UpdateShareRequest`] | [`Share`] (owner only) |
//! | `DELETE /v1/shares/{id}` | | 204 (the owner revokes, or the recipient leaves) |
//! | `POST /v1/links` | [`CreateLinkRequest`] | 201 [`CreatedLink`] |
//! | `GET /v1/links` | | [`LinkList`] |
//! | `DELETE /v1/links/{id}` | | 204 |
//! | `GET /s/{token}` | | [`PublicLink`] |
//! | `GET /s/{token}/files?path=&cursor=&limit=` | | [`super::Listing`] (folder download links) |
//! | `POST /s/{token}/download` | [`LinkDownloadRequest`] | [`super::DownloadLink`]; counts one download |
//! | `POST /s/{token}/uploads` | [`LinkUploadRequest`] | 201 [`LinkUploadSession`] (upload-only links) |
//! | `GET /s/{token}/uploads/{id}` | | [`LinkUploadSession`] with fresh part URLs |
//! | `POST /s/{token}/uploads/{id}/complete` | [`super::CompleteUploadRequest`] | [`ReceivedFile`] |
//!
//! A recipient reaches a share with the ordinary file endpoints plus `share=<share id>` in the
//! query string (`GET /v1/files?share=…&path=/`, `GET /v1/downloads?share=…&path=/a.txt`,
//! `POST /v1/uploads?share=…`, …): paths are then relative to the shared item, `/` being the
//! item itself, and every answer speaks in those relative paths.
//!
//! A password-protected link takes its password in the [`LINK_PASSWORD_HEADER`] header on every
//! `/s/{token}` request.
//!
//! Whoever uploads through a file request learns that the file was received, nothing more: the
//! answers name no path, so they do not tell whether the name was taken in the owner's folder
//! (the owner's copy is then called `name (2)`, …).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{EntryKind, UploadPart};

/// The header that carries a link's password.
pub const LINK_PASSWORD_HEADER: &str = "x-fms-link-password";

/// What a recipient may do with a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ShareRole {
    /// List and download.
    #[default]
    Viewer,
    /// Also upload into, make folders in, rename and delete inside the shared item.
    Editor,
}

impl ShareRole {
    /// `viewer` or `editor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
        }
    }
}

/// `POST /v1/shares`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// The file or folder to share, in the caller's tree.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::item_path))]
    pub path: String,
    /// The e-mail address of the registered customer to share with.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::email))]
    pub email: String,
    /// What they may do.
    #[serde(default)]
    pub role: ShareRole,
}

/// `PATCH /v1/shares/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateShareRequest {
    /// The new role.
    pub role: ShareRole,
}

/// A customer as sharing shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// Their e-mail address.
    pub email: String,
    /// Their display name.
    pub name: String,
}

/// A file or folder shared with a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Share {
    /// Its id; recipients pass it as `share=` to the file endpoints.
    pub id: Uuid,
    /// Who shared it.
    pub owner: Person,
    /// Who it is shared with.
    pub recipient: Person,
    /// The shared item's name.
    pub name: String,
    /// File or folder.
    pub kind: EntryKind,
    /// Bytes (0 for a folder).
    pub size: u64,
    /// The item's path in the owner's tree: shown to the owner only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What the recipient may do.
    pub role: ShareRole,
    /// When it was shared.
    pub created_at: DateTime<Utc>,
}

/// `GET /v1/shares/incoming` and `/outgoing`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareList {
    /// Newest first.
    pub shares: Vec<Share>,
}

/// `POST /v1/links`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateLinkRequest {
    /// The file or folder, in the caller's tree.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::item_path))]
    pub path: String,
    /// Lifetime in seconds; default 7 days, at most the server's configured maximum
    /// (`files.link_max_ttl_secs`, 90 days unless configured otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 7_776_000))]
    pub expires_in_secs: Option<u64>,
    /// A password the link asks for (at least 8 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::optional_link_password))]
    pub password: Option<String>,
    /// How many downloads the link allows (at least 1; not with `upload_only`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub max_downloads: Option<u64>,
    /// A file request: anyone with the link may upload into the folder; nobody may list or
    /// download through it.
    #[serde(default)]
    pub upload_only: bool,
}

/// What a link allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LinkMode {
    /// See and download (a folder: list it and download its files).
    Download,
    /// Upload into a folder; nothing else (a file request).
    Upload,
}

/// A link as its owner sees it. The token itself is shown once, at creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Link {
    /// Its id (for revoking).
    pub id: Uuid,
    /// The item's path in the owner's tree.
    pub path: String,
    /// The item's name.
    pub name: String,
    /// File or folder.
    pub kind: EntryKind,
    /// Download, or upload-only.
    pub mode: LinkMode,
    /// Whether it asks for a password.
    pub has_password: bool,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// How many downloads it allows, if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_downloads: Option<u64>,
    /// Downloads so far.
    pub downloads: u64,
    /// Uploads so far (file requests).
    pub uploads: u64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// `POST /v1/links`: the link, with its token and URL (shown only now).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedLink {
    /// The link.
    #[serde(flatten)]
    pub link: Link,
    /// The secret token.
    pub token: String,
    /// `<public url>/s/<token>`.
    pub url: String,
}

/// `GET /v1/links`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkList {
    /// Newest first.
    pub links: Vec<Link>,
}

/// `GET /s/{token}`: what a link leads to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicLink {
    /// The item's name.
    pub name: String,
    /// File or folder.
    pub kind: EntryKind,
    /// Download, or upload-only.
    pub mode: LinkMode,
    /// A file's size (0 for a folder).
    pub size: u64,
    /// A file's SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Who shared it.
    pub owner_name: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// Downloads left, if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloads_left: Option<u64>,
}

/// `POST /s/{token}/download`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkDownloadRequest {
    /// For a folder link: the file, relative to the folder (`/a.txt`). Absent for a file link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::optional_path))]
    pub path: Option<String>,
}

/// `POST /s/{token}/uploads`: a file for a file request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkUploadRequest {
    /// The file's name (one segment). Taken already: the server picks `name (2)`, … instead.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::name))]
    pub name: String,
    /// Its exact size in bytes.
    pub size: u64,
    /// Its SHA-256, if known up front.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::optional_sha256))]
    pub sha256: Option<String>,
}

/// `POST /s/{token}/uploads` and `GET /s/{token}/uploads/{id}`: an upload session of a file
/// request. Unlike [`super::UploadSession`] it names no path: which name the file takes in the
/// owner's folder is the owner's to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkUploadSession {
    /// Its id.
    pub upload_id: Uuid,
    /// The file's size.
    pub size: u64,
    /// The announced SHA-256, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size of every part but the last.
    pub part_size: u64,
    /// The parts, in order.
    pub parts: Vec<UploadPart>,
    /// When the part URLs stop working (ask `GET /s/{token}/uploads/{id}` for fresh ones).
    pub urls_expire_at: DateTime<Utc>,
    /// When the session is swept if not completed.
    pub expires_at: DateTime<Utc>,
}

/// `POST /s/{token}/uploads/{id}/complete`: the file request received the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceivedFile {
    /// Bytes received.
    pub size: u64,
    /// Their SHA-256, lowercase hex.
    pub sha256: String,
    /// When the file was received.
    pub received_at: DateTime<Utc>,
}
