//! `POST /v1/uploads/{id}/parts`: part URLs that sign each part's SHA-256, for a session whose
//! blob store checks every part against it (`UploadSession::part_checksums`). The client hashes
//! a part, asks for its URL, and `PUT`s it with the headers the answer lists; the store refuses
//! a body that does not hash to what was signed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::UploadPart;

/// `POST /v1/uploads/{id}/parts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PartUrlsRequest {
    /// The parts wanted, 1 to 100, each with its SHA-256.
    // 100 is MAX_UPLOAD_BATCH: the attribute takes a literal.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub parts: Vec<PartChecksum>,
}

/// One part and the SHA-256 of its bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PartChecksum {
    /// The part's number.
    pub number: u32,
    /// The SHA-256 of its bytes, lowercase hex.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::sha256))]
    pub sha256: String,
}

/// What `POST /v1/uploads/{id}/parts` answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartUrls {
    /// The parts asked for, in order, each with its URL and the headers to send.
    pub parts: Vec<UploadPart>,
    /// When the URLs stop working.
    pub urls_expire_at: DateTime<Utc>,
}
