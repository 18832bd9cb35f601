//! The use cases whose bytes pass through fmsd itself rather than a signed URL: parts a
//! client cannot `PUT` to a URL (WebDAV sends one body), reads fmsd serves itself (WebDAV
//! `GET`), and server-side copies, which read the source part by part into an upload session
//! of the copy, so a copy is checked against the quota, verified by its SHA-256 and appears
//! atomically exactly as an upload does.

use futures::{StreamExt, TryStreamExt};
use uuid::Uuid;

use super::{CreateUpload, FileService};
use crate::error::{Error, Result};
use crate::files::domain::{BlobKey, Node, OverwritePolicy, PageLimit, RemotePath, StoredPart};
use crate::files::ports::ByteStream;

impl FileService {
    /// Stores part `number` of `owner`'s session `id` from `body`, which must bring exactly
    /// the part's `size` bytes.
    pub async fn write_part(
        &self,
        owner: Uuid,
        id: Uuid,
        number: u32,
        size: u64,
        body: ByteStream,
    ) -> Result<StoredPart> {
        self.ensure_active(owner).await?;
        let upload = self.open_upload(owner, id).await?;
        self.space.admit(size).await?;
        self.blobs
            .write_part(&upload.blob_key, &upload.staging_id, number, size, body)
            .await
    }

    /// Up to `len` bytes of the file `node` from `offset`, streamed; `node` is one of
    /// `owner`'s files. A stream that would end short ends with an error instead.
    pub async fn read_file(
        &self,
        owner: Uuid,
        node: &Node,
        offset: u64,
        len: u64,
    ) -> Result<ByteStream> {
        self.ensure_active(owner).await?;
        let key = match (&node.blob_key, node.owner == owner) {
            (Some(key), true) => key,
            _ => return Err(Error::NotFound(format!("'{}' is not a file", node.path))),
        };
        let len = len.min(node.size.saturating_sub(offset));
        self.read_blob(key, offset, len).await
    }

    /// `len` bytes of blob `key` from `offset`, all of them or an error at the end.
    pub(super) async fn read_blob(
        &self,
        key: &BlobKey,
        offset: u64,
        len: u64,
    ) -> Result<ByteStream> {
        Ok(exactly(self.blobs.read(key, offset, len).await?, len))
    }

    /// Copies `owner`'s file or folder `from` to `to` (a folder with everything in it), as a
    /// session started through `grant` would; the parent of `to` must exist. A file at `to`
    /// is replaced only under [`OverwritePolicy::Replace`]; a folder is never merged into.
    #[tracing::instrument(skip(self))]
    pub async fn copy(
        &self,
        owner: Uuid,
        from: &RemotePath,
        to: &RemotePath,
        overwrite: OverwritePolicy,
        grant: Option<Uuid>,
    ) -> Result<Node> {
        self.ensure_active(owner).await?;
        let source = self.entry(owner, from).await?;
        if source.is_folder() {
            if to.starts_with(from) {
                return Err(Error::Conflict(format!(
                    "'{from}' cannot be copied into itself"
                )));
            }
            return Box::pin(self.copy_folder(owner, &source, to, overwrite, grant)).await;
        }
        self.copy_file(owner, &source, to, overwrite, grant).await
    }

    /// The folder `source` and everything in it, to `to`, which must not exist yet.
    async fn copy_folder(
        &self,
        owner: Uuid,
        source: &Node,
        to: &RemotePath,
        overwrite: OverwritePolicy,
        grant: Option<Uuid>,
    ) -> Result<Node> {
        if self.repo.get(owner, to).await?.is_some() {
            return Err(Error::Conflict(format!("'{to}' already exists")));
        }
        let folder = self.mkdir(owner, to, false).await?;
        let mut cursor = None;
        loop {
            let page = self
                .list(owner, &source.path, cursor.as_deref(), PageLimit::max())
                .await?;
            for entry in &page.entries {
                let target = to.join(entry.path.name())?;
                if entry.is_folder() {
                    Box::pin(self.copy_folder(owner, entry, &target, overwrite, grant)).await?;
                } else {
                    self.copy_file(owner, entry, &target, overwrite, grant)
                        .await?;
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(folder),
            }
        }
    }

    /// The file `source` to `to`, through an upload session whose parts fmsd writes from the
    /// source's bytes.
    async fn copy_file(
        &self,
        owner: Uuid,
        source: &Node,
        to: &RemotePath,
        overwrite: OverwritePolicy,
        grant: Option<Uuid>,
    ) -> Result<Node> {
        let key = source
            .blob_key
            .as_ref()
            .ok_or_else(|| Error::internal(anyhow::anyhow!("a file without a blob")))?;
        let request = CreateUpload {
            path: to.clone(),
            size: source.size,
            sha256: source.sha256.clone(),
            overwrite,
            grant,
            pending_cap: None,
            part_headers: false,
        };
        let (view, _) = self.create_upload(owner, request).await?;
        let upload = view.upload;
        // Part by part, each streamed from the source straight into the copy's part.
        let copied = async {
            for part in view.parts.iter().filter(|part| !part.stored) {
                let body = self.read_blob(key, part.offset, part.size).await?;
                self.space.admit(part.size).await?;
                self.blobs
                    .write_part(
                        &upload.blob_key,
                        &upload.staging_id,
                        part.number,
                        part.size,
                        body,
                    )
                    .await?;
            }
            Ok(())
        }
        .await;
        if let Err(error) = copied {
            self.discard(owner, upload.id).await;
            return Err(error);
        }
        self.finish(upload, None, Vec::new()).await
    }
}

/// `body`, with an error at its end unless it brought exactly `len` bytes (a blob read that
/// stopped early must never pass for the whole file).
fn exactly(body: ByteStream, len: u64) -> ByteStream {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let seen = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&seen);
    let counted = body.inspect_ok(move |chunk| {
        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    });
    let check = futures::stream::once(async move {
        let got = seen.load(Ordering::Relaxed);
        (got != len).then(|| {
            Err(std::io::Error::other(format!(
                "the stored file ended after {got} of {len} bytes"
            )))
        })
    })
    .filter_map(futures::future::ready);
    counted.chain(check).boxed()
}
