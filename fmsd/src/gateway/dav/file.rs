//! A file opened over WebDAV: read as one streamed blob read from where the client starts (a
//! `GET`, with or without `Range`), or written as an upload session whose parts fmsd stores as
//! the body streams in.
//!
//! A `PUT` of known length (`Content-Length`, or Finder's `X-Expected-Entity-Length`) starts
//! its session at open, so the quota is checked before a byte is read; a part is stored each
//! time a part's worth has arrived, so memory stays at one part. A `PUT` of unknown length is
//! spooled to a private temporary file first. Nothing is visible until every byte arrived and
//! the session completed; a body cut short ends the session (its reservation is given back).

use std::io::SeekFrom;

use bytes::{Buf, Bytes};
use dav_server::fs::{DavFile, DavMetaData, FsError, FsFuture, FsResult};
use futures::channel::mpsc;
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

use super::meta::{fs_error, NodeMeta};
use crate::files::domain::{Node, OverwritePolicy, RemotePath, StoredPart};
use crate::files::ports::ByteStream;
use crate::files::service::{NewUpload, PartView, ScopedFiles};

/// A file being read.
pub struct Reader {
    /// The handle it was found through.
    files: ScopedFiles,
    /// The file.
    node: Node,
    /// Where the next read starts.
    position: u64,
    /// The blob's bytes from `position` on, once a read asked for them; a seek elsewhere
    /// drops it, so a `GET` (with or without `Range`) is one streamed blob read. (In a mutex
    /// only because `dav-server` wants its files `Sync`; `&mut self` reaches it unlocked.)
    stream: Option<std::sync::Mutex<ByteStream>>,
    /// What the stream gave beyond the last read.
    ahead: Bytes,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("path", &self.node.path)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// Opens `node` for reading.
    pub fn new(files: ScopedFiles, node: Node) -> Self {
        Self {
            files,
            node,
            position: 0,
            stream: None,
            ahead: Bytes::new(),
        }
    }
}

impl DavFile for Reader {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta: Box<dyn DavMetaData> = Box::new(NodeMeta::of(&self.node));
        async move { Ok(meta) }.boxed()
    }

    fn write_buf(&mut self, _buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }

    fn write_bytes(&mut self, _buf: Bytes) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }

    fn read_bytes(&mut self, count: usize) -> FsFuture<'_, Bytes> {
        async move {
            if self.ahead.is_empty() && self.position < self.node.size {
                if self.stream.is_none() {
                    let rest = self.node.size - self.position;
                    let stream = self
                        .files
                        .read_file(&self.node, self.position, rest)
                        .await
                        .map_err(|error| fs_error(&error))?;
                    self.stream = Some(std::sync::Mutex::new(stream));
                }
                let stream = self.stream.as_mut().map(|stream| stream.get_mut());
                if let Some(Ok(stream)) = stream {
                    self.ahead = match stream.next().await {
                        Some(Ok(chunk)) => chunk,
                        Some(Err(error)) => {
                            tracing::warn!(%error, "a WebDAV read of a stored file failed");
                            return Err(FsError::GeneralFailure);
                        }
                        None => Bytes::new(),
                    };
                }
            }
            let bytes = self.ahead.split_to(count.min(self.ahead.len()));
            self.position += bytes.len() as u64;
            Ok(bytes)
        }
        .boxed()
    }

    fn seek(&mut self, position: SeekFrom) -> FsFuture<'_, u64> {
        async move {
            let target = match position {
                SeekFrom::Start(at) => Some(at),
                SeekFrom::End(back) => self.node.size.checked_add_signed(back),
                SeekFrom::Current(by) => self.position.checked_add_signed(by),
            }
            .ok_or(FsError::GeneralFailure)?;
            match target.checked_sub(self.position) {
                Some(skip) if (skip as usize) <= self.ahead.len() => {
                    self.ahead.advance(skip as usize)
                }
                _ => {
                    self.stream = None;
                    self.ahead = Bytes::new();
                }
            }
            self.position = target;
            Ok(target)
        }
        .boxed()
    }

    fn flush(&mut self) -> FsFuture<'_, ()> {
        async { Ok(()) }.boxed()
    }
}

/// A file being written by a `PUT`.
#[derive(Debug)]
pub struct Writer {
    /// The handle it is written through.
    files: ScopedFiles,
    /// Where it goes.
    path: RemotePath,
    /// The session, once the size is known.
    session: Option<Session>,
    /// The body so far when its length was not announced.
    spool: Option<tokio::fs::File>,
    /// Bytes received.
    received: u64,
    /// Whether the file was completed (else dropping the writer ends the session).
    done: bool,
}

/// An upload session being filled part by part.
#[derive(Debug)]
struct Session {
    /// Its id.
    id: Uuid,
    /// Its announced size.
    size: u64,
    /// Its parts, by number.
    parts: Vec<PartView>,
    /// The next part to start.
    next: usize,
    /// The part being stored, fed as the body arrives.
    current: Option<PartInFlight>,
}

/// A part being stored: its bytes go down a channel to a task that writes them, so a part
/// never waits whole in memory (but on S3, which takes a part whole).
#[derive(Debug)]
struct PartInFlight {
    /// Where its bytes go.
    bytes: mpsc::Sender<std::io::Result<Bytes>>,
    /// The task storing it.
    task: tokio::task::JoinHandle<crate::error::Result<StoredPart>>,
    /// What it still needs.
    missing: u64,
}

impl Writer {
    /// Opens `path` for writing `size` bytes, or an unknown number when `None`.
    pub async fn open(files: ScopedFiles, path: RemotePath, size: Option<u64>) -> FsResult<Self> {
        let mut writer = Self {
            files,
            path,
            session: None,
            spool: None,
            received: 0,
            done: false,
        };
        match size {
            Some(size) => writer.session = Some(writer.start(size).await?),
            None => {
                let spool = tempfile::tempfile().map_err(|error| {
                    tracing::warn!(%error, "failed to make a temporary file for a WebDAV PUT");
                    FsError::InsufficientStorage
                })?;
                writer.spool = Some(tokio::fs::File::from_std(spool));
            }
        }
        Ok(writer)
    }

    /// Starts the session of `size` bytes.
    async fn start(&self, size: u64) -> FsResult<Session> {
        let (view, _) = self
            .files
            .create_upload(NewUpload {
                path: &self.path,
                size,
                sha256: None,
                overwrite: OverwritePolicy::Replace,
                part_headers: false,
            })
            .await
            .map_err(|error| fs_error(&error))?;
        Ok(Session {
            id: view.upload.id,
            size,
            parts: view.parts,
            next: 0,
            current: None,
        })
    }

    /// Adds `bytes` to the session, starting each part when its first byte arrives and
    /// waiting for it to be stored once its last one did.
    async fn feed(&mut self, mut bytes: Bytes) -> FsResult<()> {
        let Some(session) = self.session.as_mut() else {
            return Err(FsError::GeneralFailure);
        };
        while !bytes.is_empty() {
            if session.current.is_none() {
                let Some(part) = session.parts.get(session.next) else {
                    // More than the announced length.
                    return Err(FsError::TooLarge);
                };
                session.next += 1;
                let (sender, receiver) = mpsc::channel(4);
                let (files, id, number, size) =
                    (self.files.clone(), session.id, part.number, part.size);
                let task = tokio::spawn(async move {
                    files.write_part(id, number, size, receiver.boxed()).await
                });
                session.current = Some(PartInFlight {
                    bytes: sender,
                    task,
                    missing: part.size,
                });
            }
            let Some(part) = session.current.as_mut() else {
                return Err(FsError::GeneralFailure);
            };
            let taken = bytes.split_to((part.missing as usize).min(bytes.len()));
            part.missing -= taken.len() as u64;
            let sent = part.bytes.send(Ok(taken)).await.is_ok();
            if part.missing == 0 || !sent {
                let Some(done) = session.current.take() else {
                    return Err(FsError::GeneralFailure);
                };
                drop(done.bytes);
                done.task
                    .await
                    .map_err(|_| FsError::GeneralFailure)?
                    .map_err(|error| fs_error(&error))?;
                if !sent {
                    return Err(FsError::GeneralFailure);
                }
            }
        }
        Ok(())
    }

    /// Sends a spooled body into a new session.
    async fn unspool(&mut self) -> FsResult<()> {
        let Some(mut spool) = self.spool.take() else {
            return Ok(());
        };
        self.session = Some(self.start(self.received).await?);
        spool
            .seek(SeekFrom::Start(0))
            .await
            .map_err(|_| FsError::GeneralFailure)?;
        let mut chunk = vec![0; 1024 * 1024];
        loop {
            let n = spool
                .read(&mut chunk)
                .await
                .map_err(|_| FsError::GeneralFailure)?;
            if n == 0 {
                return Ok(());
            }
            self.feed(Bytes::copy_from_slice(&chunk[..n])).await?;
        }
    }
}

impl DavFile for Writer {
    fn metadata(&mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        async move {
            let node = self
                .files
                .metadata(&self.path)
                .await
                .map_err(|error| fs_error(&error))?;
            let meta: Box<dyn DavMetaData> = Box::new(NodeMeta::of(&node));
            Ok(meta)
        }
        .boxed()
    }

    fn write_buf(&mut self, mut buf: Box<dyn Buf + Send>) -> FsFuture<'_, ()> {
        let bytes = buf.copy_to_bytes(buf.remaining());
        self.write_bytes(bytes)
    }

    fn write_bytes(&mut self, bytes: Bytes) -> FsFuture<'_, ()> {
        async move {
            self.received += bytes.len() as u64;
            match self.spool.as_mut() {
                Some(spool) => spool.write_all(&bytes).await.map_err(|error| {
                    tracing::warn!(%error, "failed to spool a WebDAV PUT");
                    FsError::InsufficientStorage
                }),
                None => self.feed(bytes).await,
            }
        }
        .boxed()
    }

    fn read_bytes(&mut self, _count: usize) -> FsFuture<'_, Bytes> {
        async { Err(FsError::Forbidden) }.boxed()
    }

    fn seek(&mut self, position: SeekFrom) -> FsFuture<'_, u64> {
        // Only a whole body from its start: partial writes are not offered.
        async move {
            match position {
                SeekFrom::Start(0) if self.received == 0 => Ok(0),
                _ => Err(FsError::NotImplemented),
            }
        }
        .boxed()
    }

    fn flush(&mut self) -> FsFuture<'_, ()> {
        async move {
            if self.done {
                return Ok(());
            }
            self.unspool().await?;
            let Some(session) = self.session.as_ref() else {
                return Err(FsError::GeneralFailure);
            };
            if self.received != session.size {
                // The body ended early; dropping the writer ends the session.
                return Err(FsError::GeneralFailure);
            }
            self.files
                .complete_upload(session.id, None)
                .await
                .map_err(|error| fs_error(&error))?;
            self.done = true;
            Ok(())
        }
        .boxed()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let Some(session) = self.session.as_ref().filter(|_| !self.done) else {
            return;
        };
        let (files, id) = (self.files.clone(), session.id);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = files.abort_upload(id).await {
                    tracing::warn!(error = %error.report(), "failed to end an unfinished WebDAV upload; the sweep will");
                }
            });
        }
    }
}
