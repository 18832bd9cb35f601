//! Many uploads in one request: sessions created (`POST /v1/uploads/batch`) and completed
//! (`POST /v1/uploads/batch/complete`) by the batch. Each file gets its own answer, in the
//! order asked, with the status and body the one-file endpoint would have answered; the
//! request as a whole fails only when none of it can be done (no login, a read-only share, a
//! malformed body, more than [`MAX_UPLOAD_BATCH`] files).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CreateUploadRequest, Entry, ErrorDetail, UploadSession};

/// The most files one batch may name.
pub const MAX_UPLOAD_BATCH: usize = 100;

/// `POST /v1/uploads/batch`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUploadsRequest {
    /// 1 to 100 uploads, each as `POST /v1/uploads` takes it.
    // 100 is MAX_UPLOAD_BATCH: the attribute takes a literal.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub uploads: Vec<CreateUploadRequest>,
}

/// What `POST /v1/uploads/batch` answers: one result per upload asked for, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedUploads {
    /// The results.
    pub results: Vec<CreatedUpload>,
}

/// One upload's result in a batch create.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedUpload {
    /// What `POST /v1/uploads` would have answered: 201 (new), 200 (resumed), or an error's.
    pub status: u16,
    /// The session, unless it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<UploadSession>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// `POST /v1/uploads/batch/complete`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteUploadsRequest {
    /// 1 to 100 sessions to complete.
    // 100 is MAX_UPLOAD_BATCH: the attribute takes a literal.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub uploads: Vec<CompleteOneUpload>,
}

/// One session to complete in a batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteOneUpload {
    /// The session.
    pub upload_id: Uuid,
    /// The SHA-256 the client computed, checked against the stored bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::optional_sha256))]
    pub sha256: Option<String>,
}

/// What `POST /v1/uploads/batch/complete` answers: one result per session, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompletedUploads {
    /// The results.
    pub results: Vec<CompletedUpload>,
}

/// One session's result in a batch complete.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompletedUpload {
    /// What `POST /v1/uploads/{id}/complete` would have answered: 200, or an error's.
    pub status: u16,
    /// The file, unless it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<Entry>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}
