//! Part URLs that sign each part's SHA-256, for a session whose blob store checks every part
//! against it (`UploadView::part_checksums`): the client hashes a part, asks for its URL, and
//! the store refuses a body that does not hash to what was signed, so complete trusts the
//! store's checks instead of reading the file back.

use uuid::Uuid;

use super::batch::MAX_BATCH;
use super::{FileService, PartView};
use crate::error::{Error, Result};
use crate::files::domain::Sha256Hex;

impl FileService {
    /// URLs of `owner`'s session `id` for `parts` (numbers and the SHA-256 of each), in order,
    /// and when they stop working.
    #[tracing::instrument(skip(self, parts), fields(n_parts = parts.len()))]
    pub(super) async fn checked_part_urls(
        &self,
        owner: Uuid,
        id: Uuid,
        parts: Vec<(u32, Sha256Hex)>,
    ) -> Result<(Vec<PartView>, chrono::DateTime<chrono::Utc>)> {
        if parts.is_empty() || parts.len() > MAX_BATCH {
            return Err(Error::Invalid(format!(
                "ask for 1 to {MAX_BATCH} parts at once, not {}",
                parts.len()
            )));
        }
        self.ensure_active(owner).await?;
        let upload = self.open_upload(owner, id).await?;
        let plan = upload.plan();
        let urls_expire_at = self.urls_expire_at(&upload);
        let mut views = Vec::with_capacity(parts.len());
        for (number, sha256) in parts {
            // No such part is a 404, as no such session is: which parts exist is the
            // session's state, which no schema of the request can say.
            let (offset, size) = plan.part(number).ok_or_else(|| {
                Error::NotFound(format!(
                    "this upload has parts 1 to {}, not part {number}",
                    plan.n_parts()
                ))
            })?;
            let (url, headers) = self
                .blobs
                .checked_part_url(
                    &upload.blob_key,
                    &upload.staging_id,
                    number,
                    &sha256,
                    urls_expire_at,
                )
                .await?;
            views.push(PartView {
                number,
                offset,
                size,
                stored: false,
                url,
                headers,
            });
        }
        Ok((views, urls_expire_at))
    }
}
