//! The contract every `FileRepo` and `BlobStore` adapter keeps, written once and run against
//! each adapter: the embedded ones here; a PostgreSQL repo or an S3 store adds one runner.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::events::{FileDeleted, Outgoing};
use uuid::Uuid;

use super::domain::{
    BlobKey, NodeKind, OverwritePolicy, PartPlan, RemotePath, Removal, Sha256Hex, StagingId, Upload,
};
use super::ports::{BlobStore, FileRepo, NewFile};
use crate::error::{Error, Result};

fn path(raw: &str) -> RemotePath {
    RemotePath::parse(raw).expect("a valid path")
}

fn no_events() -> super::ports::EventsFor<Removal> {
    Box::new(|_| Vec::new())
}

fn session(owner: Uuid, at: &str, size: u64, now: chrono::DateTime<Utc>) -> Upload {
    Upload {
        id: Uuid::new_v4(),
        owner,
        path: path(at),
        size,
        sha256: Some(Sha256Hex::from_digest(&[size as u8; 32])),
        overwrite: OverwritePolicy::Fail,
        part_size: 4,
        blob_key: BlobKey::generate(),
        staging_id: StagingId(Uuid::new_v4().simple().to_string()),
        created_at: now,
        expires_at: now + Duration::hours(1),
    }
}

/// What every file repo does.
pub async fn file_repo_works(repo: Arc<dyn FileRepo>) {
    let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let now = Utc::now();

    // mkdir with and without parents, scoped by owner.
    assert!(matches!(
        repo.mkdir(ann, &path("/a/b"), false, now).await,
        Err(Error::NotFound(_))
    ));
    let folder = repo
        .mkdir(ann, &path("/a/b"), true, now)
        .await
        .expect("mkdir -p");
    assert_eq!(
        (folder.path.as_str(), folder.kind),
        ("/a/b", NodeKind::Folder)
    );
    assert!(matches!(
        repo.mkdir(ann, &path("/a"), false, now).await,
        Err(Error::Conflict(_))
    ));
    assert!(repo.get(bob, &path("/a")).await.expect("get").is_none());
    for name in ["z", "B", "é", "a"] {
        repo.mkdir(ann, &path(&format!("/a/{name}")), false, now)
            .await
            .expect("mkdir");
    }
    let names = |nodes: Vec<super::domain::Node>| {
        nodes
            .iter()
            .map(|node| node.path.name().to_owned())
            .collect::<Vec<_>>()
    };
    let page = repo.list(ann, &path("/a"), None, 3).await.expect("list");
    assert_eq!(names(page), ["B", "a", "b"]);
    let page = repo
        .list(ann, &path("/a"), Some("b".into()), 3)
        .await
        .expect("list");
    assert_eq!(names(page), ["z", "é"]);
    assert!(repo
        .list(bob, &path("/a"), None, 10)
        .await
        .expect("list")
        .is_empty());

    // An upload within the quota, resumed by path, size and checksum, then finished.
    let upload = session(ann, "/a/b/f", 10, now);
    assert!(matches!(
        repo.insert_upload(&upload, 9, now).await,
        Err(Error::QuotaExceeded(_))
    ));
    repo.insert_upload(&upload, 10, now).await.expect("insert");
    assert!(matches!(
        repo.insert_upload(&session(ann, "/x", 1, now), 10, now)
            .await,
        Err(Error::QuotaExceeded(_))
    ));
    let sha = upload.sha256.clone().expect("a checksum");
    let resumed = repo
        .resume_upload(ann, &upload.path, 10, &sha, OverwritePolicy::Replace, now)
        .await
        .expect("resume");
    assert_eq!(
        resumed.map(|found| (found.id, found.overwrite)),
        Some((upload.id, OverwritePolicy::Replace))
    );
    assert!(repo
        .resume_upload(bob, &upload.path, 10, &sha, OverwritePolicy::Fail, now)
        .await
        .expect("resume")
        .is_none());
    assert!(repo
        .get_upload(bob, upload.id, now)
        .await
        .expect("get")
        .is_none());
    assert!(repo
        .get_upload(ann, upload.id, now + Duration::hours(2))
        .await
        .expect("get")
        .is_none());
    assert_eq!(
        repo.usage(ann, now).await.expect("usage").reserved_bytes,
        10
    );
    let file = NewFile {
        id: Uuid::now_v7(),
        size: 10,
        sha256: sha.clone(),
        modified_at: now,
    };
    let (node, garbage) = repo
        .finish_upload(&upload, file, Vec::new())
        .await
        .expect("finish");
    assert_eq!(
        (node.path.as_str(), node.size, node.kind),
        ("/a/b/f", 10, NodeKind::File)
    );
    assert!(garbage.is_empty());
    assert!(matches!(
        repo.abort_upload(ann, upload.id).await,
        Err(Error::NotFound(_))
    ));
    let usage = repo.usage(ann, now).await.expect("usage");
    assert_eq!(
        (
            usage.used_bytes,
            usage.reserved_bytes,
            usage.n_files,
            usage.n_folders
        ),
        (10, 0, 1, 6)
    );

    // Replacing makes the old blob garbage.
    let mut replacing = session(ann, "/a/b/f", 3, now);
    replacing.overwrite = OverwritePolicy::Replace;
    repo.insert_upload(&replacing, 100, now)
        .await
        .expect("insert");
    let file = NewFile {
        id: Uuid::now_v7(),
        size: 3,
        sha256: sha.clone(),
        modified_at: now,
    };
    let (_, garbage) = repo
        .finish_upload(&replacing, file, Vec::new())
        .await
        .expect("replace");
    let keys: Vec<&BlobKey> = garbage.iter().map(|item| &item.blob_key).collect();
    assert_eq!(keys, [&upload.blob_key]);
    repo.forget_garbage(&garbage.iter().map(|item| item.id).collect::<Vec<_>>())
        .await
        .expect("forget");

    // Move a subtree; a same-prefix sibling stays.
    repo.mkdir(ann, &path("/ab"), false, now)
        .await
        .expect("mkdir");
    repo.move_entry(ann, &path("/a"), &path("/ab/moved"), now, Vec::new())
        .await
        .expect("move");
    assert!(repo
        .get(ann, &path("/ab/moved/b/f"))
        .await
        .expect("get")
        .is_some());
    assert!(repo.get(ann, &path("/a/b/f")).await.expect("get").is_none());
    assert!(matches!(
        repo.move_entry(
            ann,
            &path("/ab/moved/z"),
            &path("/ab/moved/b"),
            now,
            Vec::new()
        )
        .await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        repo.move_entry(ann, &path("/ab"), &path("/none/x"), now, Vec::new())
            .await,
        Err(Error::NotFound(_))
    ));

    // Delete: a non-empty folder needs recursive; the files' blobs become garbage.
    assert!(matches!(
        repo.delete(ann, &path("/ab"), false, no_events()).await,
        Err(Error::Conflict(_))
    ));
    let event = |removal: &Removal| {
        vec![Outgoing::new(&FileDeleted {
            owner_id: Uuid::nil(),
            path: "/ab".into(),
            n_files: removal.n_files,
            bytes_freed: 0,
        })]
    };
    let removal = repo
        .delete(ann, &path("/ab"), true, Box::new(event))
        .await
        .expect("delete");
    assert_eq!(
        (removal.n_files, removal.n_folders, removal.bytes_freed),
        (1, 7, 3)
    );
    assert_eq!(removal.garbage.len(), 1);
    assert_eq!(repo.pending_garbage(10).await.expect("garbage").len(), 1);
    repo.forget_garbage(&[removal.garbage[0].id])
        .await
        .expect("forget");

    // Expired sessions are swept with their staging as garbage.
    let stale = session(ann, "/stale", 1, now - Duration::hours(2));
    repo.insert_upload(&stale, 100, now).await.expect("insert");
    let (n, garbage) = repo.sweep_expired_uploads(now, 10).await.expect("sweep");
    assert_eq!((n, garbage.len()), (1, 1));
    assert_eq!(garbage[0].staging_id.as_ref(), Some(&stale.staging_id));
    repo.forget_garbage(&[garbage[0].id]).await.expect("forget");

    // Purge: once per event, then the owner is refused.
    repo.mkdir(bob, &path("/keep"), false, now)
        .await
        .expect("mkdir");
    repo.mkdir(ann, &path("/gone"), false, now)
        .await
        .expect("mkdir");
    repo.insert_upload(&session(ann, "/open", 1, now), 100, now)
        .await
        .expect("insert");
    let purged = repo
        .purge_owner(ann, "test", "event-1", now, no_events())
        .await
        .expect("purge");
    assert_eq!(
        purged.map(|removal| (removal.n_folders, removal.garbage.len())),
        Some((1, 1))
    );
    assert!(repo
        .purge_owner(ann, "test", "event-1", now, no_events())
        .await
        .expect("purge")
        .is_none());
    assert!(repo.is_owner_deleted(ann).await.expect("deleted"));
    assert!(!repo.is_owner_deleted(bob).await.expect("deleted"));
    assert!(matches!(
        repo.mkdir(ann, &path("/again"), false, now).await,
        Err(Error::Unauthorized(_))
    ));
    assert!(repo.get(bob, &path("/keep")).await.expect("get").is_some());
}

/// Sends `bytes` to a part URL the way a client would.
pub type PartUploader =
    Box<dyn Fn(String, Vec<u8>) -> Pin<Box<dyn Future<Output = Result<()>> + Send>> + Send + Sync>;

/// What every blob store does; `put` sends a part to its URL.
pub async fn blob_store_works(store: Arc<dyn BlobStore>, put: PartUploader) {
    let now = Utc::now();
    let bytes: Vec<u8> = (0..10u8).collect();
    let plan = PartPlan::new(10, 4).expect("a plan");
    let key = BlobKey::generate();
    let staging = store.start_upload(&key, &plan, now).await.expect("start");
    assert!(store
        .stored_parts(&key, &staging)
        .await
        .expect("parts")
        .is_empty());
    for number in [3, 1] {
        let (offset, size) = plan.part(number).expect("a part");
        let url = store
            .part_url(&key, &staging, number, now + Duration::minutes(5))
            .await
            .expect("url");
        put(
            url,
            bytes[offset as usize..(offset + size) as usize].to_vec(),
        )
        .await
        .expect("put");
    }
    let numbers: Vec<u32> = store
        .stored_parts(&key, &staging)
        .await
        .expect("parts")
        .iter()
        .map(|part| part.number)
        .collect();
    assert_eq!(numbers, [1, 3]);
    let url = store
        .part_url(&key, &staging, 2, now + Duration::minutes(5))
        .await
        .expect("url");
    put(url, bytes[4..8].to_vec()).await.expect("put");

    // A wrong checksum: nothing at the key, the parts forgotten.
    let wrong = Sha256Hex::from_digest(&[0; 32]);
    assert!(matches!(
        store.complete(&key, &staging, &plan, Some(&wrong)).await,
        Err(Error::Integrity(_))
    ));
    assert!(store
        .stored_parts(&key, &staging)
        .await
        .expect("parts")
        .is_empty());
    for number in 1..=3 {
        let (offset, size) = plan.part(number).expect("a part");
        let url = store
            .part_url(&key, &staging, number, now + Duration::minutes(5))
            .await
            .expect("url");
        put(
            url,
            bytes[offset as usize..(offset + size) as usize].to_vec(),
        )
        .await
        .expect("put");
    }
    let right = {
        use sha2::Digest;
        Sha256Hex::from_digest(&sha2::Sha256::digest(&bytes))
    };
    let assembled = store
        .complete(&key, &staging, &plan, Some(&right))
        .await
        .expect("complete");
    assert_eq!((assembled.size, assembled.sha256), (10, right));
    assert!(store
        .download_url(&key, now + Duration::minutes(5), "f")
        .await
        .is_ok());

    // Clean-ups are idempotent.
    store.delete(&key).await.expect("delete");
    store.delete(&key).await.expect("delete again");
    let other = store
        .start_upload(&BlobKey::generate(), &plan, now)
        .await
        .expect("start");
    store.abort(&key, &other).await.expect("abort");
    store.abort(&key, &other).await.expect("abort again");

    // The sweep drops stagings started before the cutoff only.
    let old = store
        .start_upload(&BlobKey::generate(), &plan, now - Duration::days(2))
        .await
        .expect("start");
    let fresh = store
        .start_upload(&BlobKey::generate(), &plan, now)
        .await
        .expect("start");
    assert_eq!(
        store.sweep(now - Duration::days(1)).await.expect("sweep"),
        1
    );
    assert!(store.stored_parts(&key, &old).await.is_err());
    assert!(store.stored_parts(&key, &fresh).await.is_ok());
}

mod embedded {
    use std::sync::Arc;

    use url::Url;

    use super::*;
    use crate::bus::ports::Outbox;
    use crate::files::adapters::local_fs::LocalBlobStore;
    use crate::files::adapters::sqlite::SqliteFileRepo;
    use crate::signing::UrlSigner;

    #[tokio::test]
    async fn the_sqlite_repo_keeps_the_contract_and_writes_its_events_to_the_outbox() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let wake = Arc::new(tokio::sync::Notify::new());
        let repo = Arc::new(
            SqliteFileRepo::open(&dir.path().join("files.db"), wake.clone()).expect("open"),
        );
        file_repo_works(repo.clone()).await;
        let pending = repo.outbox().pending(100).await.expect("the outbox");
        assert_eq!(
            pending
                .iter()
                .map(|entry| entry.envelope.event_type.as_str())
                .collect::<Vec<_>>(),
            ["files.deleted"]
        );
        // The delete woke the relay.
        tokio::time::timeout(std::time::Duration::from_secs(1), wake.notified())
            .await
            .expect("a wake-up");
    }

    #[tokio::test]
    async fn the_local_store_keeps_the_contract() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let signer = UrlSigner::new(
            vec![1; 32],
            Url::parse("http://127.0.0.1:1").expect("a URL"),
        );
        let store = Arc::new(LocalBlobStore::open(dir.path(), signer).expect("open"));
        let target = store.clone();
        // No server here: check the signature and store the part as the PUT route would.
        let put: PartUploader = Box::new(move |url, bytes| {
            let store = target.clone();
            Box::pin(async move {
                let url = Url::parse(&url).map_err(Error::internal)?;
                let query: std::collections::HashMap<_, _> =
                    url.query_pairs().into_owned().collect();
                store.verify(
                    "PUT",
                    url.path(),
                    query.get("expires").map(String::as_str),
                    query.get("signature").map(String::as_str),
                    Utc::now(),
                )?;
                let mut segments = url.path().rsplit('/');
                let number = segments
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("a part number");
                let staging = segments.next().expect("a staging id").to_owned();
                let length = bytes.len() as u64;
                let body =
                    futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(bytes))]);
                store
                    .store_part(&staging, number, Some(length), body)
                    .await
                    .map(|_| ())
            })
        });
        blob_store_works(store, put).await;
    }
}
