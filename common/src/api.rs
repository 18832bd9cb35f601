//! The JSON bodies of fms's HTTP API, shared by the gateway and `fmsctl`.
//!
//! | method and path | request | answer |
//! | --- | --- | --- |
//! | `POST /v1/auth/register` | [`RegisterRequest`] | 201 [`Profile`] |
//! | `POST /v1/auth/login` | [`LoginRequest`] | 200 [`TokenPair`] |
//! | `POST /v1/auth/refresh` | [`RefreshRequest`] | 200 [`TokenPair`] |
//! | `POST /v1/auth/logout` | [`RefreshRequest`] | 204 |
//! | `GET /v1/me` | | [`Profile`] |
//! | `PATCH /v1/me` | [`UpdateProfileRequest`] | [`Profile`] |
//! | `DELETE /v1/me` | [`DeleteAccountRequest`] | 204 |
//! | `POST /v1/me/password` | [`ChangePasswordRequest`] | 204; every other session and every app token ends |
//! | `GET /v1/files?path=&cursor=&limit=` | | [`Listing`] |
//! | `GET /v1/files/metadata?path=` | | [`Entry`] |
//! | `DELETE /v1/files?path=&recursive=&permanent=` | | [`Deleted`]: into the trash, or for good with `permanent=true` |
//! | `POST /v1/folders` | [`MkdirRequest`] | 201 [`Entry`] |
//! | `POST /v1/files/move` | [`MoveRequest`] | [`Entry`] |
//! | `GET /v1/usage` | | [`Usage`] |
//! | `POST /v1/uploads` | [`CreateUploadRequest`] | 201 (new) or 200 (resumed) [`UploadSession`] |
//! | `GET /v1/uploads/{id}` | | [`UploadSession`] with fresh part URLs |
//! | `POST /v1/uploads/{id}/complete` | [`CompleteUploadRequest`] | [`Entry`] |
//! | `POST /v1/uploads/{id}/parts` | [`PartUrlsRequest`] | [`PartUrls`]: URLs that sign each part's SHA-256 |
//! | `POST /v1/uploads/batch` | [`CreateUploadsRequest`] | [`CreatedUploads`], one answer per file |
//! | `POST /v1/uploads/batch/complete` | [`CompleteUploadsRequest`] | [`CompletedUploads`], one answer per file |
//! | `DELETE /v1/uploads/{id}` | | 204 |
//! | `GET /v1/downloads?path=` | | [`DownloadLink`] |
//! | `PUT <part url>` | the part's bytes | 200 [`PartStored`] (embedded blob store) |
//! | `GET <download url>` | `Range` allowed | the bytes (200 or 206) |
//! | `GET /.well-known/jwks.json` | | the access-token public keys (RFC 7517) |
//! | `GET /healthz`, `GET /readyz` | | 200 when alive / when every store answers |
//! | `GET /openapi.json` | | the OpenAPI 3.1 document of all of the above but the blob URLs |
//!
//! Sharing (shares with customers, links, `/s/{token}`) is in [`sharing`]; app tokens
//! (`/v1/tokens`) are in [`tokens`]; password reset and address verification in [`recovery`];
//! the trash (`/v1/trash`) is in [`trash`].
//!
//! Every error is [`ErrorBody`]: `{"error": {"code": "...", "message": "..."}}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod batch;
pub mod parts;
pub mod recovery;
#[cfg(feature = "openapi")]
pub mod schemas;
pub mod sharing;
pub mod tokens;
pub mod trash;
pub use batch::*;
pub use parts::*;
pub use recovery::*;
pub use sharing::*;
pub use tokens::*;
pub use trash::*;

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for a program (`code`) and for a person (`message`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// One of [`codes`].
    pub code: String,
    /// One sentence a person can act on.
    pub message: String,
}

/// The error codes the API answers with.
pub mod codes {
    /// 400: the request is malformed or breaks a rule; the message names the rule.
    pub const INVALID: &str = "invalid";
    /// 401: no token, a bad or expired token, or wrong credentials.
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// 403: a valid signature but no right to this action (bad or expired signed URL).
    pub const FORBIDDEN: &str = "forbidden";
    /// 404: nothing there (or nothing there that the caller may see).
    pub const NOT_FOUND: &str = "not_found";
    /// 405: the endpoint exists but not with this method; the `Allow` header lists its methods.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// 409: it already exists, or the state does not allow it.
    pub const CONFLICT: &str = "conflict";
    /// 410: it existed but is used up (an expired or exhausted link).
    pub const GONE: &str = "gone";
    /// 408: the request did not arrive whole in time (a stalled body); send it again.
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    /// 413: the quota would be exceeded.
    pub const QUOTA_EXCEEDED: &str = "quota_exceeded";
    /// 413: the body is larger than allowed.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// 422: the uploaded bytes do not match the announced size or checksum.
    pub const INTEGRITY: &str = "integrity";
    /// 429: too many attempts; see `Retry-After`.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// 507: the server's disk has no room for the write; deleting frees room.
    pub const INSUFFICIENT_STORAGE: &str = "insufficient_storage";
    /// 503: a store is unreachable; try again.
    pub const UNAVAILABLE: &str = "unavailable";
    /// 500: a fault on the server side; the log has the details.
    pub const INTERNAL: &str = "internal";
}

/// `POST /v1/auth/register`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The login and where mail goes.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::email))]
    pub email: String,
    /// At least 10 characters.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::password))]
    pub password: String,
    /// How mail greets the customer.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::display_name))]
    pub name: String,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The e-mail registered with.
    pub email: String,
    /// The password.
    pub password: String,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last [`TokenPair`].
    pub refresh_token: String,
}

/// What login and refresh answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    /// A short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    /// An opaque token, good for one refresh.
    pub refresh_token: String,
}

/// A customer as they see themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    /// Their id.
    pub id: Uuid,
    /// Their e-mail address.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// When they registered.
    pub created_at: DateTime<Utc>,
    /// Which mail they want.
    #[serde(default)]
    pub notifications: NotificationSettings,
    /// Whether they proved the address is theirs (the code mailed to it). Until then they may
    /// use their own files but not share, be shared with, or make links.
    #[serde(default = "verified")]
    pub email_verified: bool,
    /// An address they asked to change to, waiting for the code mailed to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_email: Option<String>,
}

/// What an answer without `email_verified` means: a server from before verification, where
/// every address counted as proved.
fn verified() -> bool {
    true
}

/// Which mail a customer wants. Security mail (password changed, account deleted) always goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    /// Mail about activity: shares, links, file requests, quota. On by default.
    pub activity_mail: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            activity_mail: true,
        }
    }
}

/// `PATCH /v1/me`: the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    /// A new display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::optional_display_name))]
    pub name: Option<String>,
    /// New mail preferences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<NotificationSettings>,
    /// A new e-mail address: a code goes to it, and the account switches to it once the code
    /// is confirmed (`POST /v1/auth/verify`); the current address is told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::optional_email))]
    pub email: Option<String>,
}

/// `POST /v1/me/password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password now.
    pub current_password: String,
    /// The password from now on (at least 10 characters).
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::password))]
    pub new_password: String,
}

/// `DELETE /v1/me`: the password again, so a stolen token alone cannot delete an account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The password now.
    pub password: String,
}

/// Whether an entry is a file or a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A file with bytes.
    File,
    /// A folder.
    Folder,
}

/// A file or folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entry {
    /// Absolute path in the owner's tree, e.g. `/photos/2024/a.jpg`.
    pub path: String,
    /// The last segment of `path`.
    pub name: String,
    /// File or folder.
    pub kind: EntryKind,
    /// Bytes (0 for a folder).
    pub size: u64,
    /// SHA-256 of the bytes, lowercase hex (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// When it last changed.
    pub modified_at: DateTime<Utc>,
}

/// The largest page `GET /v1/files` gives (`limit`); what a client reading a whole folder asks.
pub const MAX_PAGE: u32 = 1000;

/// `GET /v1/files`: one page of a folder, sorted by name (byte order).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Listing {
    /// The folder listed.
    pub path: String,
    /// This page's entries.
    pub entries: Vec<Entry>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `DELETE /v1/files`: what went, into the owner's trash or (`permanent=true`) for good.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deleted {
    /// Files removed from the tree.
    pub n_files: u64,
    /// Folders removed from the tree.
    pub n_folders: u64,
    /// Bytes freed from the quota: 0 when the entry went into the trash, whose bytes still count.
    pub bytes_freed: u64,
    /// Whether the entry went into the owner's trash (it can be restored from there).
    #[serde(default)]
    pub trashed: bool,
    /// Its id in the trash (`POST /v1/trash/{id}/restore`), when it went there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trash_id: Option<Uuid>,
    /// Bytes of its files now in the trash (0 for a permanent delete).
    #[serde(default)]
    pub bytes_trashed: u64,
}

/// `POST /v1/folders`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MkdirRequest {
    /// The folder to create.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::path))]
    pub path: String,
    /// Create missing parents too, and succeed if the folder exists.
    #[serde(default)]
    pub parents: bool,
}

/// `POST /v1/files/move`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// What to move.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::item_path))]
    pub from: String,
    /// Its new path (the parent folder must exist).
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::item_path))]
    pub to: String,
}

/// `POST /v1/files/copy`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CopyRequest {
    /// What to copy: a file, or a folder with everything in it.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::item_path))]
    pub from: String,
    /// The copy's path (the parent folder must exist; a folder's copy must not exist yet).
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::item_path))]
    pub to: String,
    /// What to do if a file is at `to` (a folder there is always a conflict).
    #[serde(default)]
    pub overwrite: Overwrite,
}

/// `GET /v1/usage`. The quota holds `used_bytes + trash_bytes + reserved_bytes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    /// Bytes in the files of the tree (the trash not included).
    pub used_bytes: u64,
    /// Bytes in the files of the trash: they count against the quota until deleted for good.
    #[serde(default)]
    pub trash_bytes: u64,
    /// Items in the trash.
    #[serde(default)]
    pub n_trashed: u64,
    /// Bytes reserved by uploads in progress.
    pub reserved_bytes: u64,
    /// The quota.
    pub quota_bytes: u64,
    /// Number of files.
    pub n_files: u64,
    /// Number of folders.
    pub n_folders: u64,
}

/// What to do when the upload's path already holds a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Overwrite {
    /// Refuse with 409 (checked at create and again at complete).
    #[default]
    Fail,
    /// Replace the file atomically at complete.
    Replace,
}

/// `POST /v1/uploads`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUploadRequest {
    /// Where the file will be; its folder must exist.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::item_path))]
    pub path: String,
    /// Its exact size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex, checked at complete. Also lets a re-run find and resume
    /// an unfinished session for the same path, size and checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::optional_sha256))]
    pub sha256: Option<String>,
    /// What to do if a file is there.
    #[serde(default)]
    pub overwrite: Overwrite,
    /// The client sends every part with the `headers` its [`UploadPart`] lists (signed into
    /// its URL; on S3 the part's `x-amz-checksum-sha256`, which S3 checks). With `sha256` given,
    /// a file of at most one part is then taken in one `PUT` with nothing staged before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub part_headers: bool,
}

/// One part of an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadPart {
    /// 1-based part number.
    pub number: u32,
    /// Byte offset of the part in the file.
    pub offset: u64,
    /// Its size in bytes (the last part may be shorter).
    pub size: u64,
    /// Whether the server already holds this part.
    pub stored: bool,
    /// Where to `PUT` the part's bytes; signed and expiring.
    pub url: String,
    /// Headers the `PUT` must carry exactly (they are signed into `url`); only for a session
    /// created with `part_headers`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// An upload session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadSession {
    /// Its id.
    pub upload_id: Uuid,
    /// Where the file will be.
    pub path: String,
    /// The file's size.
    pub size: u64,
    /// The announced SHA-256, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size of every part but the last.
    pub part_size: u64,
    /// The parts, in order.
    pub parts: Vec<UploadPart>,
    /// When the part URLs stop working (ask `GET /v1/uploads/{id}` for fresh ones).
    pub urls_expire_at: DateTime<Utc>,
    /// The blob store checks every part against its SHA-256: get each part's URL from
    /// `POST /v1/uploads/{id}/parts` with that SHA-256 (the URLs here work without one, and
    /// then the whole file is read back at complete to be checked).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub part_checksums: bool,
    /// When the session is swept if not completed.
    pub expires_at: DateTime<Utc>,
}

/// `GET /v1/uploads`: the open sessions that hold part of your quota (through a share, those
/// started through it), oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadList {
    /// The sessions.
    pub uploads: Vec<HeldUpload>,
}

/// An open upload session, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldUpload {
    /// Its id: `DELETE /v1/uploads/{id}` ends it.
    pub upload_id: Uuid,
    /// Where the file will be.
    pub path: String,
    /// The bytes it reserves.
    pub size: u64,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When it is swept if not completed.
    pub expires_at: DateTime<Utc>,
    /// Who started it.
    pub started_through: StartedThrough,
    /// The share's or link's id, unless `started_through` is `owner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<Uuid>,
}

/// Who started an upload session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StartedThrough {
    /// The owner.
    Owner,
    /// The recipient of a share (`grant_id`).
    Share,
    /// A holder of a file-request link (`grant_id`).
    Link,
    /// A share or link since revoked; the session ends soon.
    Revoked,
}

/// `POST /v1/uploads/{id}/complete`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteUploadRequest {
    /// The SHA-256 the client computed, checked against the stored bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::optional_sha256))]
    pub sha256: Option<String>,
}

/// What the embedded blob store answers to a part `PUT`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartStored {
    /// The part number.
    pub number: u32,
    /// Bytes stored.
    pub size: u64,
}

/// `GET /v1/downloads`: where to fetch a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DownloadLink {
    /// A signed, expiring URL; `Range` works.
    pub url: String,
    /// When `url` stops working.
    pub expires_at: DateTime<Utc>,
    /// The file's size.
    pub size: u64,
    /// The file's SHA-256, lowercase hex.
    pub sha256: String,
    /// The file's name.
    pub name: String,
}
