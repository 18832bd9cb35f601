//! The service over the embedded adapters: which events each use case leaves in the outbox, the
//! purge of a deleted customer, handled once however often its event arrives, and what a
//! [`super::ScopedFiles`] lets a share's recipient see and do.

use std::sync::Arc;

use common::events::FileUploaded;
use url::Url;
use uuid::Uuid;

use super::{CreateUpload, DeleteMode, FileService, FileStores};
use crate::bus::ports::Outbox;
use crate::clock::ManualClock;
use crate::error::Error;
use crate::files::adapters::local_fs::LocalBlobStore;
use crate::files::adapters::sql::SqlFileRepo;
use crate::files::domain::{OverwritePolicy, PageLimit, Person, RemotePath, Role};
use crate::settings::FilesSettings;
use crate::signing::UrlSigner;
use crate::store_url::StoreUrl;

/// A files service over the embedded stores in a temp dir, for this module's tests and the
/// consumers'.
pub(crate) struct Harness {
    pub(crate) service: Arc<FileService>,
    repo: Arc<SqlFileRepo>,
    blobs: Arc<LocalBlobStore>,
    pub(crate) dir: tempfile::TempDir,
}

/// A fresh [`Harness`].
pub(crate) async fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("a temp dir");
    let wake = Arc::new(tokio::sync::Notify::new());
    let repo = Arc::new(
        SqlFileRepo::open(&StoreUrl::Sqlite(dir.path().join("files.db")), wake)
            .await
            .expect("the repo opens"),
    );
    let signer = UrlSigner::new(
        vec![9; 32],
        Url::parse("http://127.0.0.1:1").expect("a URL"),
    );
    let blobs =
        Arc::new(LocalBlobStore::open(&dir.path().join("blobs"), signer).expect("the store opens"));
    let settings = FilesSettings {
        part_size_bytes: 4,
        ..FilesSettings::default()
    };
    let stores = FileStores {
        repo: repo.clone(),
        sharing: repo.clone(),
        dav: repo.clone(),
        trash: repo.clone(),
    };
    let service = Arc::new(FileService::new(
        stores,
        blobs.clone(),
        Arc::new(ManualClock::new()),
        settings,
        Arc::new(crate::space::DiskSpace::unwatched()),
    ));
    Harness {
        service,
        repo,
        blobs,
        dir,
    }
}

fn path(raw: &str) -> RemotePath {
    RemotePath::parse(raw).expect("a valid path")
}

impl Harness {
    /// Uploads `bytes` to `at` through the service and the store, as a client would.
    /// Uploads `bytes` to `at` as `owner`.
    pub(crate) async fn upload(&self, owner: Uuid, at: &str, bytes: &[u8]) {
        let request = CreateUpload {
            path: path(at),
            size: bytes.len() as u64,
            sha256: None,
            overwrite: OverwritePolicy::Fail,
            grant: None,
            pending_cap: None,
            part_headers: false,
        };
        let (view, _) = self
            .service
            .create_upload(owner, request)
            .await
            .expect("create");
        for part in &view.parts {
            let url = Url::parse(&part.url).expect("a part URL");
            let staging = url
                .path()
                .split('/')
                .nth(3)
                .expect("a staging id")
                .to_owned();
            let chunk = bytes::Bytes::copy_from_slice(
                &bytes[part.offset as usize..(part.offset + part.size) as usize],
            );
            let body = futures::stream::iter([Ok::<_, std::io::Error>(chunk)]);
            self.blobs
                .store_part(&staging, part.number, None, body)
                .await
                .expect("a part");
        }
        self.service
            .complete_upload(owner, view.upload.id, None)
            .await
            .expect("complete");
    }

    /// The types of the events in the outbox, oldest first.
    pub(crate) async fn event_types(&self) -> Vec<String> {
        let pending = self.repo.outbox().pending(100).await.expect("the outbox");
        pending
            .into_iter()
            .map(|entry| entry.envelope.event_type)
            .collect()
    }
}

#[tokio::test]
async fn each_change_leaves_its_event_in_the_outbox() {
    let harness = harness().await;
    let owner = Uuid::new_v4();
    harness
        .service
        .mkdir(owner, &path("/a"), false)
        .await
        .expect("mkdir");
    harness.upload(owner, "/a/f", b"hello").await;
    harness
        .service
        .move_entry(owner, &path("/a"), &path("/b"))
        .await
        .expect("move");
    harness
        .service
        .delete(owner, &path("/b"), true)
        .await
        .expect("delete");
    assert_eq!(
        harness.event_types().await,
        ["files.uploaded", "files.moved", "files.deleted"]
    );

    let pending = harness.repo.outbox().pending(1).await.expect("the outbox");
    let uploaded: FileUploaded = pending[0]
        .envelope
        .decode()
        .expect("a files.uploaded payload");
    assert_eq!(
        (uploaded.owner_id, uploaded.path.as_str(), uploaded.size),
        (owner, "/a/f", 5)
    );
    assert_eq!(
        uploaded.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"hello"))
    );
}

/// How many files lie under `dir`.
pub(crate) fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| {
                    if entry.path().is_dir() {
                        walk(&entry.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_scoped_handle_works_in_the_share_s_terms_and_redacts_its_errors() {
    let harness = harness().await;
    let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
    for (id, name) in [(ann, "ann"), (bob, "bob")] {
        harness
            .service
            .remember_person(Person {
                id,
                email: format!("{name}@example.com"),
                name: name.into(),
                verified: true,
            })
            .await
            .expect("a directory entry");
    }
    harness
        .service
        .mkdir(ann, &path("/private/team"), true)
        .await
        .expect("mkdir");
    harness.upload(ann, "/private/team/a.txt", b"team").await;
    let (view, _) = harness
        .service
        .share(ann, &path("/private/team"), "bob@example.com", Role::Viewer)
        .await
        .expect("a share");

    let unknown = Uuid::new_v4();
    let refused = harness.service.in_scope(bob, Some(unknown)).await;
    assert!(
        matches!(&refused, Err(Error::NotFound(m)) if m.contains(&unknown.to_string())),
        "{refused:?}"
    );
    let tree = harness
        .service
        .in_scope(bob, Some(view.share.id))
        .await
        .expect("bob's scope");

    // Paths go in relative to the shared folder.
    let node = tree.metadata(&path("/a.txt")).await.expect("metadata");
    assert_eq!(node.path, path("/private/team/a.txt"));
    assert_eq!(tree.scope().relative(&node.path), Some(path("/a.txt")));
    let page = tree
        .list(
            &RemotePath::root(),
            None,
            PageLimit::parse(None).expect("a limit"),
        )
        .await
        .expect("a listing");
    assert_eq!(page.entries.len(), 1);

    // An error names the caller's path, never the owner's folders above the share.
    let missing = tree.metadata(&path("/gone.txt")).await;
    assert!(
        matches!(&missing, Err(Error::NotFound(m)) if m == "'/gone.txt' does not exist"),
        "{missing:?}"
    );
    let folder = tree.download(&RemotePath::root()).await;
    assert!(
        matches!(&folder, Err(Error::Conflict(m)) if !m.contains("private")),
        "{folder:?}"
    );

    // A viewer may not write, and nobody moves or deletes the shared item itself.
    let written = tree.mkdir(&path("/new"), false).await;
    assert!(matches!(written, Err(Error::Forbidden(_))), "{written:?}");
    harness
        .service
        .change_share(ann, view.share.id, Role::Editor)
        .await
        .expect("a role change");
    let tree = harness
        .service
        .in_scope(bob, Some(view.share.id))
        .await
        .expect("bob's scope");
    let created = tree
        .mkdir(&path("/new"), false)
        .await
        .expect("an editor's mkdir");
    assert_eq!(created.path, path("/private/team/new"));
    let itself = tree
        .delete(&RemotePath::root(), true, DeleteMode::ToTrash)
        .await;
    assert!(matches!(itself, Err(Error::Forbidden(_))), "{itself:?}");

    // Without a share the handle is the caller's own tree.
    let own = harness
        .service
        .in_scope(ann, None)
        .await
        .expect("ann's tree");
    let node = own
        .metadata(&path("/private/team/a.txt"))
        .await
        .expect("metadata");
    assert_eq!(own.scope().relative(&node.path), Some(node.path.clone()));
}
