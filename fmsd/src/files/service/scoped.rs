//! [`ScopedFiles`]: the tree and upload use cases as a caller sees them from inside a
//! [`Scope`], so a caller working through a share cannot skip a step.
//!
//! Every method takes the caller's paths (relative to the scope), resolves them to the owner's,
//! refuses a write the share's role does not allow, and takes the owner's folders above the
//! shared item out of every error message. In one's own tree the scope is the whole tree and
//! each step lets everything through, so one code path serves both.

use std::sync::Arc;

use uuid::Uuid;

use super::{
    CreateUpload, DownloadTicket, FileService, HeldUpload, Page, PartView, Scope, UploadView,
    UsageReport,
};
use crate::error::{Error, Result};
use crate::files::domain::{
    Node, OverwritePolicy, PageLimit, RemotePath, Removal, Sha256Hex, StoredPart, Trashed,
};
use crate::files::ports::ByteStream;

/// An upload as the caller asks for it: a path relative to the scope, the checksum as text.
#[derive(Debug, Clone, Copy)]
pub struct NewUpload<'a> {
    /// Where the file goes.
    pub path: &'a RemotePath,
    /// Its exact size.
    pub size: u64,
    /// Its SHA-256 (lowercase hex), if the client knows it up front.
    pub sha256: Option<&'a str>,
    /// What to do if a file is there.
    pub overwrite: OverwritePolicy,
    /// Whether the client sends each part with the headers the part names.
    pub part_headers: bool,
}

/// Where a delete sends what it deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// Into the owner's trash (what a delete does unless asked otherwise).
    ToTrash,
    /// Gone for good at once; only the owner may (an editor's delete always goes to the trash).
    Permanently,
    /// Gone for good because something takes its place (a WebDAV `MOVE` or `COPY` over it):
    /// an editor may, as they may replace a file's bytes with an upload.
    Replaced,
}

/// What a delete did.
#[derive(Debug, Clone)]
pub enum Deletion {
    /// The entry went into its owner's trash.
    Trashed(Trashed),
    /// The entry is gone for good.
    Removed(Removal),
}

/// The files service bound to one request's [`Scope`]; built by [`FileService::in_scope`].
#[derive(Debug, Clone)]
pub struct ScopedFiles {
    /// The service the use cases run on.
    service: Arc<FileService>,
    /// Who is calling: the owner, or a share's recipient (who a trashed item was deleted by).
    caller: Uuid,
    /// Whose tree, where in it, with which role: checked once when the handle was made.
    scope: Scope,
}

impl FileService {
    /// The use cases as `caller` reaches them: in their own tree, or inside the share `share`
    /// given to them (not found if there is no such share for them, or its item is gone).
    pub async fn in_scope(
        self: &Arc<Self>,
        caller: Uuid,
        share: Option<Uuid>,
    ) -> Result<ScopedFiles> {
        let scope = self.scope(caller, share).await?;
        Ok(ScopedFiles {
            service: Arc::clone(self),
            caller,
            scope,
        })
    }
}

impl ScopedFiles {
    /// The scope the handle works in, to show the owner's paths relative to it.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// One page of the folder `path`, after `cursor`.
    pub async fn list(
        &self,
        path: &RemotePath,
        cursor: Option<&str>,
        limit: PageLimit,
    ) -> Result<Page> {
        let scope = &self.scope;
        scope
            .redacted(async {
                let folder = scope.resolve(path)?;
                self.service.list(scope.owner, &folder, cursor, limit).await
            })
            .await
    }

    /// The file or folder at `path`.
    pub async fn metadata(&self, path: &RemotePath) -> Result<Node> {
        let scope = &self.scope;
        scope
            .redacted(async {
                self.service
                    .metadata(scope.owner, &scope.resolve(path)?)
                    .await
            })
            .await
    }

    /// Creates the folder `path` (and its missing parents with `parents`); needs write access.
    pub async fn mkdir(&self, path: &RemotePath, parents: bool) -> Result<Node> {
        let scope = &self.scope;
        scope.require_write()?;
        scope
            .redacted(async {
                self.service
                    .mkdir(scope.owner, &scope.resolve(path)?, parents)
                    .await
            })
            .await
    }

    /// Moves or renames the entry at `from` to `to`; needs write access, and neither may be
    /// the shared item itself.
    pub async fn move_entry(&self, from: &RemotePath, to: &RemotePath) -> Result<Node> {
        let scope = &self.scope;
        scope.require_write()?;
        scope.require_inside(from)?;
        scope.require_inside(to)?;
        scope
            .redacted(async {
                self.service
                    .move_entry(scope.owner, &scope.resolve(from)?, &scope.resolve(to)?)
                    .await
            })
            .await
    }

    /// Deletes the entry at `path` (a non-empty folder only when `recursive`) into the owner's
    /// trash, or for good; needs write access, and it may not be the shared item itself.
    /// Through a share the entry always goes to the owner's trash: a permanent delete is
    /// forbidden there, so an editor cannot make the owner's data skip it.
    pub async fn delete(
        &self,
        path: &RemotePath,
        recursive: bool,
        mode: DeleteMode,
    ) -> Result<Deletion> {
        let scope = &self.scope;
        scope.require_write()?;
        scope.require_inside(path)?;
        if mode == DeleteMode::Permanently && scope.is_shared() {
            return Err(Error::Forbidden(
                "only the owner can delete permanently; without `permanent` the entry goes to \
                 the owner's trash"
                    .into(),
            ));
        }
        scope
            .redacted(async {
                let path = scope.resolve(path)?;
                match mode {
                    DeleteMode::ToTrash => self
                        .service
                        .trash(scope.owner, &path, recursive, self.caller)
                        .await
                        .map(Deletion::Trashed),
                    DeleteMode::Permanently | DeleteMode::Replaced => self
                        .service
                        .delete(scope.owner, &path, recursive)
                        .await
                        .map(Deletion::Removed),
                }
            })
            .await
    }

    /// A signed URL for the file at `path` (short-lived through a share).
    pub async fn download(&self, path: &RemotePath) -> Result<DownloadTicket> {
        let scope = &self.scope;
        scope.redacted(self.service.download_in(scope, path)).await
    }

    /// Starts an upload to `path`, or resumes the one started the same way; needs write access.
    /// `sha256` is the client's text, checked here so its error follows the role check. The
    /// flag says whether the session was resumed.
    pub async fn create_upload(&self, request: NewUpload<'_>) -> Result<(UploadView, bool)> {
        let scope = &self.scope;
        scope.require_write()?;
        scope
            .redacted(async {
                let request = self.creating(request)?;
                self.service.create_upload(scope.owner, request).await
            })
            .await
    }

    /// [`ScopedFiles::create_upload`] for each of `requests` at once: the batch is refused
    /// whole only if the caller may not write here, each file otherwise on its own.
    pub async fn create_uploads(
        &self,
        requests: Vec<NewUpload<'_>>,
    ) -> Result<Vec<Result<(UploadView, bool)>>> {
        let scope = &self.scope;
        scope.require_write()?;
        let requests = requests
            .into_iter()
            .map(|request| self.creating(request))
            .collect();
        let answers = scope
            .redacted(self.service.create_uploads(scope.owner, requests))
            .await?;
        Ok(answers
            .into_iter()
            .map(|answer| answer.map_err(|error| scope.redact(error)))
            .collect())
    }

    /// [`ScopedFiles::complete_upload`] for each of `items` (a session and the client's
    /// SHA-256, if sent) at once, each on its own.
    pub async fn complete_uploads(
        &self,
        items: Vec<(Uuid, Option<Sha256Hex>)>,
    ) -> Result<Vec<Result<Node>>> {
        let scope = &self.scope;
        scope.require_write()?;
        let answers = scope
            .redacted(self.service.complete_uploads(scope, items))
            .await?;
        Ok(answers
            .into_iter()
            .map(|answer| answer.map_err(|error| scope.redact(error)))
            .collect())
    }

    /// The service's request for `request`, its path resolved in the scope and its checksum
    /// parsed.
    fn creating(&self, request: NewUpload<'_>) -> Result<CreateUpload> {
        let scope = &self.scope;
        Ok(CreateUpload {
            path: scope.resolve(request.path)?,
            size: request.size,
            sha256: request.sha256.map(Sha256Hex::parse).transpose()?,
            overwrite: request.overwrite,
            grant: scope.grant,
            pending_cap: None,
            part_headers: request.part_headers,
        })
    }

    /// The open sessions this caller reaches: in one's own tree every session that holds
    /// one's quota, whoever started it; through a share, those started through it.
    pub async fn held_uploads(&self) -> Result<Vec<HeldUpload>> {
        let scope = &self.scope;
        scope
            .redacted(async {
                let held = self.service.held_uploads(scope.owner).await?;
                if !scope.is_shared() {
                    return Ok(held);
                }
                Ok(held
                    .into_iter()
                    .filter(|held| {
                        held.upload.grant == scope.grant
                            && held.upload.path.starts_with(&scope.base)
                    })
                    .collect())
            })
            .await
    }

    /// The session `id` with fresh part URLs: any session of one's own tree, or one started
    /// through this share.
    pub async fn upload(&self, id: Uuid) -> Result<UploadView> {
        let scope = &self.scope;
        scope
            .redacted(async {
                self.reach_upload(id).await?;
                self.service.upload(scope.owner, id).await
            })
            .await
    }

    /// URLs for `parts` (numbers and the SHA-256 of each) of the session `id`, signing each
    /// part's checksum where the store checks it, and when they stop working; needs write
    /// access.
    pub async fn checked_part_urls(
        &self,
        id: Uuid,
        parts: Vec<(u32, Sha256Hex)>,
    ) -> Result<(Vec<PartView>, chrono::DateTime<chrono::Utc>)> {
        let scope = &self.scope;
        scope.require_write()?;
        scope
            .redacted(async {
                self.reach_upload(id).await?;
                self.service.checked_part_urls(scope.owner, id, parts).await
            })
            .await
    }

    /// Completes the session `id` started in this scope; needs write access.
    pub async fn complete_upload(&self, id: Uuid, sha256: Option<Sha256Hex>) -> Result<Node> {
        let scope = &self.scope;
        scope.require_write()?;
        scope
            .redacted(async {
                self.service.check_upload_scope(scope, id).await?;
                self.service.complete_upload(scope.owner, id, sha256).await
            })
            .await
    }

    /// Ends the session `id` and frees its parts: the owner ends any session that holds their
    /// quota (one a link's visitor or a share's editor started included), a recipient one
    /// started through their share; needs write access.
    pub async fn abort_upload(&self, id: Uuid) -> Result<()> {
        let scope = &self.scope;
        scope.require_write()?;
        scope
            .redacted(async {
                self.reach_upload(id).await?;
                self.service.abort_upload(scope.owner, id).await
            })
            .await
    }

    /// Stores part `number` (`size` bytes) of session `id` from `body`, bytes that came to
    /// fmsd itself; needs write access.
    pub async fn write_part(
        &self,
        id: Uuid,
        number: u32,
        size: u64,
        body: ByteStream,
    ) -> Result<StoredPart> {
        let scope = &self.scope;
        scope.require_write()?;
        scope
            .redacted(async {
                self.service.check_upload_scope(scope, id).await?;
                self.service
                    .write_part(scope.owner, id, number, size, body)
                    .await
            })
            .await
    }

    /// Up to `len` bytes from `offset` of the file `node`, found through this handle, streamed.
    pub async fn read_file(&self, node: &Node, offset: u64, len: u64) -> Result<ByteStream> {
        let scope = &self.scope;
        if scope.relative(&node.path).is_none() {
            return Err(Error::NotFound("no such file".into()));
        }
        scope
            .redacted(self.service.read_file(scope.owner, node, offset, len))
            .await
    }

    /// Copies the entry at `from` to `to` on the server (a folder with all it holds); needs
    /// write access. The copy takes the owner's quota, as an upload would.
    pub async fn copy(
        &self,
        from: &RemotePath,
        to: &RemotePath,
        overwrite: OverwritePolicy,
    ) -> Result<Node> {
        let scope = &self.scope;
        scope.require_write()?;
        scope
            .redacted(async {
                self.service
                    .copy(
                        scope.owner,
                        &scope.resolve(from)?,
                        &scope.resolve(to)?,
                        overwrite,
                        scope.grant,
                    )
                    .await
            })
            .await
    }

    /// The tree owner's storage against their quota (a share's recipient writes into it).
    pub async fn usage(&self) -> Result<UsageReport> {
        self.service.usage(self.scope.owner).await
    }

    /// Refuses session `id` unless this caller may see and end it: in one's own tree, every
    /// session of one's own; through a share, only those started through it.
    async fn reach_upload(&self, id: Uuid) -> Result<()> {
        if self.scope.is_shared() {
            self.service.check_upload_scope(&self.scope, id).await
        } else {
            self.service
                .open_upload(self.scope.owner, id)
                .await
                .map(drop)
        }
    }
}
