//! The caller's files as a `dav-server` file system: `/` is their own tree, `/shared/NAME/` an
//! item someone shared with them (NAME is the item's name; when two have one name, each is
//! `NAME (ID)`), worked on through [`ScopedFiles`], so the share's role and the quota hold
//! exactly as on the HTTP API. `/shared` is only listed when something is shared with the
//! caller; it is virtual, so a folder of one's own named `shared` at the root is not reachable
//! over WebDAV (fmsctl reaches it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavFileSystem, DavMetaData, DavProp, FsError, FsFuture, FsResult,
    FsStream, OpenOptions, ReadDirMeta,
};
use futures::{FutureExt, StreamExt};
use http::StatusCode;
use uuid::Uuid;

use super::file::{Reader, Writer};
use super::meta::{fs_error, Entry, NodeMeta};
use super::props::DeadProps;
use crate::error::Error;
use crate::files::domain::{Node, OverwritePolicy, PageLimit, RemotePath};
use crate::files::service::{DeleteMode, FileService, ScopedFiles, ShareView};

/// The name of the virtual folder of shared items.
const SHARED: &str = "shared";

/// One caller's view of the files, for one request.
#[derive(Clone)]
pub struct DavTree {
    /// The files service.
    files: Arc<FileService>,
    /// The caller.
    caller: Uuid,
    /// The caller's own tree.
    own: ScopedFiles,
    /// The dead properties of the nodes.
    props: DeadProps,
    /// The items shared with the caller, read once per request (a listing asks for each entry).
    shared: Arc<tokio::sync::OnceCell<Vec<(String, ShareView)>>>,
    /// The entries of the folders this request listed, with their owner, by WebDAV path: a
    /// `PROPFIND` then asks for each entry's properties. Forgotten at the first write.
    listed: Arc<Mutex<HashMap<String, (Uuid, Node)>>>,
    /// Whether the request is a `DELETE`: what it removes goes into the owner's trash, a folder
    /// whole (`dav-server` would remove a folder's entries one by one first, so a folder reads
    /// as empty to it and goes with everything in it). Other methods remove only what a
    /// `MOVE` or `COPY` with `Overwrite: T` replaces, which goes for good, as a replaced file's
    /// bytes do.
    deleting: bool,
}

/// A WebDAV path in its owner's tree, for locks.
#[derive(Debug, Clone)]
pub struct Located {
    /// Whose tree.
    pub owner: Uuid,
    /// The path in it.
    pub path: RemotePath,
    /// What the caller's paths to it start with: empty, or `/shared/NAME`.
    pub view: String,
    /// Where the caller's view starts in the owner's tree.
    pub base: RemotePath,
}

/// Where a WebDAV path leads.
enum Place {
    /// `/shared`.
    SharedRoot,
    /// A path inside a handle: one's own tree or a shared item.
    In(ScopedFiles, RemotePath),
}

impl DavTree {
    /// The same tree for a `DELETE` (`deleting`), whose removals go into the trash.
    pub fn deleting(mut self, deleting: bool) -> Self {
        self.deleting = deleting;
        self
    }

    /// The files of `caller`, whose own tree is `own`.
    pub fn new(files: Arc<FileService>, caller: Uuid, own: ScopedFiles, props: DeadProps) -> Self {
        Self {
            files,
            caller,
            own,
            props,
            shared: Arc::default(),
            listed: Arc::default(),
            deleting: false,
        }
    }

    /// Where `path` leads; a path that breaks the naming rules is forbidden.
    async fn place(&self, path: &DavPath) -> FsResult<Place> {
        let text = path_text(path)?;
        let mut segments = text.trim_start_matches('/').splitn(3, '/');
        if segments.next() == Some(SHARED) {
            let Some(name) = segments.next() else {
                return Ok(Place::SharedRoot);
            };
            let share = self.share_named(name).await?;
            let files = self
                .files
                .in_scope(self.caller, Some(share))
                .await
                .map_err(|error| fs_error(&error))?;
            let rest = segments
                .next()
                .map_or_else(String::new, |rest| format!("/{rest}"));
            let path = parse(if rest.is_empty() { "/" } else { &rest })?;
            return Ok(Place::In(files, path));
        }
        Ok(Place::In(
            self.own.clone(),
            parse(if text.is_empty() { "/" } else { text })?,
        ))
    }

    /// `path` in its owner's tree; `/shared` itself is no one's.
    pub async fn locate(&self, path: &DavPath) -> FsResult<Located> {
        let Place::In(files, inner) = self.place(path).await? else {
            return Err(FsError::Forbidden);
        };
        let scope = files.scope();
        let view = if scope.is_shared() {
            let text = std::str::from_utf8(path.as_bytes()).map_err(|_| FsError::Forbidden)?;
            let mut segments = text.trim_start_matches('/').splitn(3, '/');
            let (_, name) = (segments.next(), segments.next().unwrap_or_default());
            format!("/{SHARED}/{name}")
        } else {
            String::new()
        };
        Ok(Located {
            owner: scope.owner,
            path: scope.resolve(&inner).map_err(|error| fs_error(&error))?,
            view,
            base: scope.base.clone(),
        })
    }

    /// The items shared with the caller, each with the name it has under `/shared`.
    async fn shares(&self) -> FsResult<&[(String, ShareView)]> {
        self.shared
            .get_or_try_init(|| self.read_shares())
            .await
            .map(Vec::as_slice)
    }

    async fn read_shares(&self) -> FsResult<Vec<(String, ShareView)>> {
        let shares = self
            .files
            .shares_received(self.caller)
            .await
            .map_err(|error| fs_error(&error))?;
        let names: Vec<String> = shares
            .iter()
            .map(|view| view.node.path.name().to_owned())
            .collect();
        Ok(shares
            .into_iter()
            .zip(&names)
            .map(|(view, name)| {
                let taken = names.iter().filter(|other| *other == name).count() > 1;
                let shown = if taken {
                    format!("{name} ({})", view.share.id)
                } else {
                    name.clone()
                };
                (shown, view)
            })
            .collect())
    }

    /// The share shown as `name` under `/shared`.
    async fn share_named(&self, name: &str) -> FsResult<Uuid> {
        self.shares()
            .await?
            .iter()
            .find(|(shown, _)| shown == name)
            .map(|(_, view)| view.share.id)
            .ok_or(FsError::NotFound)
    }

    /// The node `path` leads to, with the handle it was found through.
    async fn node(&self, path: &DavPath) -> FsResult<Option<(ScopedFiles, Node)>> {
        match self.place(path).await? {
            Place::SharedRoot => Ok(None),
            Place::In(files, path) => {
                let node = files
                    .metadata(&path)
                    .await
                    .map_err(|error| fs_error(&error))?;
                Ok(Some((files, node)))
            }
        }
    }

    /// The owner and node `path` leads to, for reading its properties: an entry of a folder
    /// this request listed comes from that listing, without a lookup.
    async fn listed_node(&self, path: &DavPath) -> FsResult<Option<(Uuid, Node)>> {
        if let Some(found) = self.listing().get(path_text(path)?) {
            return Ok(Some(found.clone()));
        }
        Ok(self
            .node(path)
            .await?
            .map(|(files, node)| (files.scope().owner, node)))
    }

    /// The entries listed so far.
    fn listing(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Uuid, Node)>> {
        self.listed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Two places in one handle, for a move or a copy; across handles is another server's
    /// business as far as WebDAV is concerned (502).
    async fn pair(
        &self,
        from: &DavPath,
        to: &DavPath,
    ) -> FsResult<(ScopedFiles, RemotePath, RemotePath)> {
        self.listing().clear();
        match (self.place(from).await?, self.place(to).await?) {
            (Place::In(source, from), Place::In(target, to))
                if source.scope().owner == target.scope().owner
                    && source.scope().grant == target.scope().grant =>
            {
                Ok((source, from, to))
            }
            (Place::In(..), Place::In(..)) => Err(FsError::IsRemote),
            _ => Err(FsError::Forbidden),
        }
    }

    /// A write to `/shared` itself, or to a shared item itself, is the owner's decision.
    async fn writable(&self, path: &DavPath) -> FsResult<(ScopedFiles, RemotePath)> {
        self.listing().clear();
        match self.place(path).await? {
            Place::In(files, path) => Ok((files, path)),
            Place::SharedRoot => Err(FsError::Forbidden),
        }
    }
}

/// The text of `path` without a trailing slash: what [`DavTree::place`] reads, and the key of
/// an entry among the listed ones.
fn path_text(path: &DavPath) -> FsResult<&str> {
    let text = std::str::from_utf8(path.as_bytes()).map_err(|_| FsError::Forbidden)?;
    Ok(text.trim_end_matches('/'))
}

/// `text` as a path of the tree.
fn parse(text: &str) -> FsResult<RemotePath> {
    RemotePath::parse(text).map_err(|_| FsError::Forbidden)
}

impl DavFileSystem for DavTree {
    fn open<'a>(
        &'a self,
        path: &'a DavPath,
        options: OpenOptions,
    ) -> FsFuture<'a, Box<dyn DavFile>> {
        async move {
            let (files, path) = self.writable(path).await?;
            if options.write {
                if options.create_new && files.metadata(&path).await.is_ok() {
                    return Err(FsError::Exists);
                }
                let writer = Writer::open(files, path, options.size).await?;
                return Ok(Box::new(writer) as Box<dyn DavFile>);
            }
            let node = files
                .metadata(&path)
                .await
                .map_err(|error| fs_error(&error))?;
            if node.is_folder() {
                return Err(FsError::Forbidden);
            }
            Ok(Box::new(Reader::new(files, node)) as Box<dyn DavFile>)
        }
        .boxed()
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a DavPath,
        _meta: ReadDirMeta,
    ) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        async move {
            let mut entries: Vec<Box<dyn DavDirEntry>> = Vec::new();
            if self.deleting {
                // A folder goes into the trash whole, by its own `remove_dir`.
                return Ok(into_stream(entries));
            }
            let (files, folder) = match self.place(path).await? {
                Place::SharedRoot => {
                    for (name, view) in self.shares().await? {
                        let meta = NodeMeta::of(&view.node);
                        let name = name.clone();
                        entries.push(Box::new(Entry { name, meta }));
                    }
                    return Ok(into_stream(entries));
                }
                Place::In(files, folder) => (files, folder),
            };
            if folder.is_root() && !files.scope().is_shared() && !self.shares().await?.is_empty() {
                entries.push(Box::new(Entry {
                    name: SHARED.to_owned(),
                    meta: NodeMeta::virtual_folder(SystemTime::now()),
                }));
            }
            let base = path_text(path)?.to_owned();
            let owner = files.scope().owner;
            let mut cursor = None;
            loop {
                let page = files
                    .list(&folder, cursor.as_deref(), PageLimit::max())
                    .await
                    .map_err(|error| fs_error(&error))?;
                // One lock for the page, let go before the next one is read.
                let mut listed = self.listing();
                for node in &page.entries {
                    if folder.is_root() && node.path.name() == SHARED && !files.scope().is_shared()
                    {
                        continue;
                    }
                    let name = node.path.name().to_owned();
                    listed.insert(format!("{base}/{name}"), (owner, node.clone()));
                    entries.push(Box::new(Entry {
                        name,
                        meta: NodeMeta::of(node),
                    }));
                }
                drop(listed);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => return Ok(into_stream(entries)),
                }
            }
        }
        .boxed()
    }

    fn metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        async move {
            let meta = match self.node(path).await? {
                Some((_, node)) => NodeMeta::of(&node),
                None => NodeMeta::virtual_folder(SystemTime::now()),
            };
            Ok(Box::new(meta) as Box<dyn DavMetaData>)
        }
        .boxed()
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let (files, path) = self.writable(path).await?;
            match files.mkdir(&path, false).await {
                Ok(_) => Ok(()),
                Err(Error::Conflict(_)) => Err(FsError::Exists),
                Err(error) => Err(fs_error(&error)),
            }
        }
        .boxed()
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        self.remove_file(path)
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let (files, path) = self.writable(path).await?;
            let (recursive, mode) = if self.deleting {
                (true, DeleteMode::ToTrash)
            } else {
                (false, DeleteMode::Replaced)
            };
            files
                .delete(&path, recursive, mode)
                .await
                .map(drop)
                .map_err(|error| fs_error(&error))
        }
        .boxed()
    }

    fn rename<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let (files, from, to) = self.pair(from, to).await?;
            files
                .move_entry(&from, &to)
                .await
                .map(drop)
                .map_err(|error| fs_error(&error))
        }
        .boxed()
    }

    fn copy<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let (files, from, to) = self.pair(from, to).await?;
            files
                .copy(&from, &to, OverwritePolicy::Replace)
                .await
                .map(drop)
                .map_err(|error| fs_error(&error))
        }
        .boxed()
    }

    fn have_props<'a>(
        &'a self,
        path: &'a DavPath,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        async move {
            match self.listed_node(path).await {
                Ok(Some((owner, node))) => self.props.any(owner, node.id).await,
                _ => false,
            }
        }
        .boxed()
    }

    fn patch_props<'a>(
        &'a self,
        path: &'a DavPath,
        patch: Vec<(bool, DavProp)>,
    ) -> FsFuture<'a, Vec<(StatusCode, DavProp)>> {
        async move {
            let Some((files, node)) = self.node(path).await? else {
                return Err(FsError::Forbidden);
            };
            files
                .scope()
                .require_write()
                .map_err(|error| fs_error(&error))?;
            self.props.patch(files.scope().owner, node.id, patch).await
        }
        .boxed()
    }

    fn get_props<'a>(&'a self, path: &'a DavPath, do_content: bool) -> FsFuture<'a, Vec<DavProp>> {
        async move {
            match self.listed_node(path).await? {
                Some((owner, node)) => self.props.all(owner, node.id, do_content).await,
                None => Ok(Vec::new()),
            }
        }
        .boxed()
    }

    fn get_prop<'a>(&'a self, path: &'a DavPath, prop: DavProp) -> FsFuture<'a, Vec<u8>> {
        async move {
            let Some((owner, node)) = self.listed_node(path).await? else {
                return Err(FsError::NotFound);
            };
            self.props.one(owner, node.id, &prop).await
        }
        .boxed()
    }

    fn get_quota(&self) -> FsFuture<'_, (u64, Option<u64>)> {
        async move {
            let usage = self.own.usage().await.map_err(|error| fs_error(&error))?;
            let used = usage.counts.stored_bytes() + usage.counts.reserved_bytes;
            Ok((used, Some(usage.quota_bytes)))
        }
        .boxed()
    }
}

/// Entries as the stream `dav-server` reads.
fn into_stream(entries: Vec<Box<dyn DavDirEntry>>) -> FsStream<Box<dyn DavDirEntry>> {
    futures::stream::iter(entries.into_iter().map(Ok)).boxed()
}
