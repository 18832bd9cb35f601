//! The bytes that come to fmsd itself: parts `PUT` to, and downloads served from, the URLs the
//! blob store signed. Only a store whose URLs point at fmsd (the embedded one) takes these; any
//! other answers not found, as if the URLs did not exist.

use std::path::PathBuf;

use super::FileService;
use crate::error::Result;
use crate::files::domain::StoredPart;
use crate::files::ports::{ByteStream, UrlSignature};

impl FileService {
    /// Stores part `number` of staging `staging` from `body`, if the part URL it came to carries
    /// a `signature` valid now; `announced` is the body's `Content-Length`, if any.
    pub async fn receive_part(
        &self,
        staging: &str,
        number: u32,
        signature: UrlSignature<'_>,
        announced: Option<u64>,
        body: ByteStream,
    ) -> Result<StoredPart> {
        // Room for the part, by its announced size or the largest a part may be.
        self.space
            .admit(announced.unwrap_or(self.settings.part_size_bytes))
            .await?;
        self.blobs
            .receive_part(
                staging,
                number,
                signature,
                self.clock.now(),
                announced,
                body,
            )
            .await
    }

    /// The local file holding blob `key`, to serve for a download URL that carries a
    /// `signature` valid now.
    pub async fn file_to_serve(&self, key: &str, signature: UrlSignature<'_>) -> Result<PathBuf> {
        self.blobs
            .file_to_serve(key, signature, self.clock.now())
            .await
    }
}
