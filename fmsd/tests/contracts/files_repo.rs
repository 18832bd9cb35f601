//! The `FileRepo` contract, written once and run against every file repo: SQLite (on a temp
//! dir) and, with the `postgres` feature, PostgreSQL (`files_repo/postgres.rs`, a database of
//! its own per test). Besides every method and its error cases, it checks what concurrent
//! writes of one owner must keep: one folder per path, and the quota.
//!
//! Each runner also checks the repo's outbox: the delete's event is there after the commit,
//! the relay was woken, and publishing removes it.

use std::sync::Arc;

use chrono::{Duration, SubsecRound, Utc};
use common::events::{FileDeleted, Outgoing};
use fmsd::bus::ports::Outbox;
use fmsd::error::Error;
use fmsd::files::adapters::sql::SqlFileRepo;
use fmsd::files::domain::{
    BlobKey, Node, NodeKind, OverwritePolicy, RemotePath, Removal, Sha256Hex, StagingId, Upload,
};
use fmsd::files::ports::{EventsFor, FileRepo, NewFile, PendingCap, QuietUpload, UploadLimits};
use fmsd::store_url::StoreUrl;
use futures::future::join_all;
use tokio::sync::Notify;
use uuid::Uuid;

#[cfg(feature = "postgres")]
mod postgres;

fn path(raw: &str) -> RemotePath {
    RemotePath::parse(raw).expect("a valid path")
}

fn no_events() -> EventsFor<Removal> {
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
        // Kept and read back like every other field (the equality checks below see it).
        grant: Some(Uuid::new_v4()),
    }
}

/// What every file repo does.
pub async fn file_repo_works(repo: Arc<dyn FileRepo>) {
    let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
    // To the microsecond, as the service passes it: what the stores keep.
    let now = Utc::now().trunc_subsecs(6);

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
    let names = |nodes: Vec<Node>| {
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
    // Another owner's folder is not there for bob.
    assert!(matches!(
        repo.list(bob, &path("/a"), None, 10).await,
        Err(Error::NotFound(_))
    ));
    // What a read returns equals what the write returned, to the microsecond.
    assert_eq!(
        repo.get(ann, &path("/a/b")).await.expect("get"),
        Some(folder.clone())
    );

    // An upload within the quota, resumed by path, size and checksum, then finished.
    let upload = session(ann, "/a/b/f", 10, now);
    assert!(matches!(
        repo.insert_upload(&upload, UploadLimits::quota(9), now)
            .await,
        Err(Error::QuotaExceeded(_))
    ));
    repo.insert_upload(&upload, UploadLimits::quota(10), now)
        .await
        .expect("insert");
    assert_eq!(repo.open_uploads(now).await.expect("count"), 1);
    assert!(matches!(
        repo.insert_upload(&session(ann, "/x", 1, now), UploadLimits::quota(10), now)
            .await,
        Err(Error::QuotaExceeded(_))
    ));
    assert_eq!(
        repo.get_upload(ann, upload.id, now).await.expect("get"),
        Some(upload.clone())
    );
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
    assert_eq!(repo.open_uploads(now).await.expect("count"), 0);
    assert_eq!(
        repo.get(ann, &path("/a/b/f")).await.expect("get"),
        Some(node.clone())
    );
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

    // A file is in the way of a folder; without Replace, a file in the way of a file conflicts.
    assert!(matches!(
        repo.mkdir(ann, &path("/a/b/f/g"), true, now).await,
        Err(Error::Conflict(_))
    ));
    let clashing = session(ann, "/a/b/f", 3, now);
    repo.insert_upload(&clashing, UploadLimits::quota(100), now)
        .await
        .expect("insert");
    let file = NewFile {
        id: Uuid::now_v7(),
        size: 3,
        sha256: sha.clone(),
        modified_at: now,
    };
    assert!(matches!(
        repo.finish_upload(&clashing, file, Vec::new()).await,
        Err(Error::Conflict(_))
    ));
    // The refused finish left the session as it was; aborting it makes its staging garbage.
    let garbage = repo.abort_upload(ann, clashing.id).await.expect("abort");
    assert_eq!(
        garbage
            .iter()
            .map(|item| (&item.blob_key, item.staging_id.as_ref()))
            .collect::<Vec<_>>(),
        [(&clashing.blob_key, Some(&clashing.staging_id))]
    );
    repo.forget_garbage(&[garbage[0].id]).await.expect("forget");

    // Replacing makes the old blob garbage.
    let mut replacing = session(ann, "/a/b/f", 3, now);
    replacing.overwrite = OverwritePolicy::Replace;
    repo.insert_upload(&replacing, UploadLimits::quota(100), now)
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
    let moved = repo
        .move_entry(ann, &path("/a"), &path("/ab/moved"), now, Vec::new())
        .await
        .expect("move");
    assert_eq!(moved.path, path("/ab/moved"));
    assert!(repo
        .get(ann, &path("/ab/moved/b/f"))
        .await
        .expect("get")
        .is_some());
    assert!(repo.get(ann, &path("/a/b/f")).await.expect("get").is_none());
    assert_eq!(
        names(
            repo.list(ann, &path("/ab/moved/b"), None, 10)
                .await
                .expect("list")
        ),
        ["f"]
    );
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
    assert!(matches!(
        repo.move_entry(ann, &path("/none"), &path("/x"), now, Vec::new())
            .await,
        Err(Error::NotFound(_))
    ));

    // Delete: a non-empty folder needs recursive; the files' blobs become garbage.
    assert!(matches!(
        repo.delete(ann, &path("/ab"), false, no_events()).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        repo.delete(ann, &path("/none"), true, no_events()).await,
        Err(Error::NotFound(_))
    ));
    let event = |removal: &Removal| {
        vec![Outgoing::new(&FileDeleted {
            owner_id: Uuid::nil(),
            path: "/ab".into(),
            n_files: removal.n_files,
            bytes_freed: 0,
            from_trash: false,
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
    assert!(repo.pending_garbage(10).await.expect("garbage").is_empty());

    // Expired sessions are swept with their staging as garbage.
    let stale = session(ann, "/stale", 1, now - Duration::hours(2));
    repo.insert_upload(&stale, UploadLimits::quota(100), now)
        .await
        .expect("insert");
    let n_open = repo.open_uploads(now).await.expect("count");
    assert_eq!(n_open, 0, "an expired session is not open");
    let (n, garbage) = repo.sweep_expired_uploads(now, 10).await.expect("sweep");
    assert_eq!((n, garbage.len()), (1, 1));
    assert_eq!(garbage[0].staging_id.as_ref(), Some(&stale.staging_id));
    repo.forget_garbage(&[garbage[0].id]).await.expect("forget");

    concurrent_writes_keep_the_rules(&repo, now).await;
    sessions_through_a_link(&repo, now).await;

    // Purge: once per event, then the owner is refused.
    repo.mkdir(bob, &path("/keep"), false, now)
        .await
        .expect("mkdir");
    repo.mkdir(ann, &path("/gone"), false, now)
        .await
        .expect("mkdir");
    repo.insert_upload(
        &session(ann, "/open", 1, now),
        UploadLimits::quota(100),
        now,
    )
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
    assert!(matches!(
        repo.insert_upload(
            &session(ann, "/again", 1, now),
            UploadLimits::quota(100),
            now
        )
        .await,
        Err(Error::Unauthorized(_))
    ));
    assert!(repo.get(bob, &path("/keep")).await.expect("get").is_some());
}

/// Sessions started through a link: listed with the owner's own, capped per link, found when
/// quiet and no longer once they progress, ended all at once with the link.
async fn sessions_through_a_link(repo: &Arc<dyn FileRepo>, now: chrono::DateTime<Utc>) {
    let (dana, link) = (Uuid::new_v4(), Uuid::new_v4());
    let through = |at: &str, size: u64| Upload {
        grant: Some(link),
        ..session(dana, at, size, now)
    };
    let capped = UploadLimits {
        quota: 1000,
        per_grant: Some(PendingCap {
            sessions: 2,
            bytes: 10,
        }),
    };
    let first = through("/a", 4);
    repo.insert_upload(&first, capped, now)
        .await
        .expect("insert");
    assert!(matches!(
        repo.insert_upload(&through("/b", 7), capped, now).await,
        Err(Error::RateLimited { .. })
    ));
    let second = through("/b", 6);
    repo.insert_upload(&second, capped, now)
        .await
        .expect("insert");
    assert!(matches!(
        repo.insert_upload(&through("/c", 0), capped, now).await,
        Err(Error::RateLimited { .. })
    ));
    let own = Upload {
        grant: None,
        ..session(dana, "/own", 1, now)
    };
    repo.insert_upload(&own, capped, now).await.expect("insert");
    let mut listed: Vec<Uuid> = repo
        .uploads(dana, now)
        .await
        .expect("uploads")
        .iter()
        .map(|upload| upload.id)
        .collect();
    let mut expected = vec![first.id, second.id, own.id];
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);

    let quiet_of_dana = |quiet: Vec<QuietUpload>| {
        let mut found: Vec<(Uuid, u64)> = quiet
            .into_iter()
            .filter(|quiet| quiet.upload.owner == dana)
            .map(|quiet| (quiet.upload.id, quiet.stored_bytes))
            .collect();
        found.sort();
        found
    };
    let mut both = vec![(first.id, 0), (second.id, 0)];
    both.sort();
    assert_eq!(
        quiet_of_dana(repo.quiet_uploads(now, 1000).await.expect("quiet")),
        both
    );
    let later = now + Duration::minutes(1);
    repo.note_upload_progress(first.id, 3, later)
        .await
        .expect("progress");
    assert_eq!(
        quiet_of_dana(repo.quiet_uploads(now, 1000).await.expect("quiet")),
        vec![(second.id, 0)]
    );
    let mut both = vec![(first.id, 3), (second.id, 0)];
    both.sort();
    assert_eq!(
        quiet_of_dana(repo.quiet_uploads(later, 1000).await.expect("quiet")),
        both
    );

    let garbage = repo.abort_grant_uploads(dana, link).await.expect("abort");
    assert_eq!(garbage.len(), 2);
    let left: Vec<Uuid> = repo
        .uploads(dana, now)
        .await
        .expect("uploads")
        .iter()
        .map(|upload| upload.id)
        .collect();
    assert_eq!(left, vec![own.id]);
    let ids: Vec<i64> = garbage.iter().map(|item| item.id).collect();
    repo.forget_garbage(&ids).await.expect("forget");
    let own_garbage = repo.abort_upload(dana, own.id).await.expect("abort");
    let ids: Vec<i64> = own_garbage.iter().map(|item| item.id).collect();
    repo.forget_garbage(&ids).await.expect("forget");
}

/// Concurrent writes of one owner: the same folder made ten times at once is made once, and
/// sessions opened at once never reserve more than the quota together.
async fn concurrent_writes_keep_the_rules(repo: &Arc<dyn FileRepo>, now: chrono::DateTime<Utc>) {
    let carol = Uuid::new_v4();
    let at_once = |parents: bool, at: &'static str| {
        join_all((0..10).map(move |_| {
            let repo = repo.clone();
            async move { repo.mkdir(carol, &path(at), parents, now).await }
        }))
    };

    // With parents, every call succeeds and returns the one folder.
    let made = at_once(true, "/p/q").await;
    let ids: Vec<Uuid> = made
        .into_iter()
        .map(|result| result.expect("mkdir -p").id)
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");

    // Without parents, one call creates it and the others find it taken.
    let made = at_once(false, "/solo").await;
    let n_created = made.iter().filter(|result| result.is_ok()).count();
    let n_conflicts = made
        .iter()
        .filter(|result| matches!(result, Err(Error::Conflict(_))))
        .count();
    assert_eq!((n_created, n_conflicts), (1, 9), "{made:?}");

    // No duplicate rows.
    let root = repo.list(carol, &path("/"), None, 100).await.expect("list");
    let p = repo
        .list(carol, &path("/p"), None, 100)
        .await
        .expect("list");
    assert_eq!(
        (
            root.iter().map(|node| node.path.name()).collect::<Vec<_>>(),
            p.iter().map(|node| node.path.name()).collect::<Vec<_>>()
        ),
        (vec!["p", "solo"], vec!["q"])
    );
    assert_eq!(repo.usage(carol, now).await.expect("usage").n_folders, 3);

    // Ten sessions of 10 bytes at once against a quota of 35: three fit, the rest are refused.
    let sessions: Vec<Upload> = (0..10)
        .map(|n| session(carol, &format!("/p/q/f{n}"), 10, now))
        .collect();
    let opened = join_all(sessions.iter().map(|upload| {
        let repo = repo.clone();
        async move {
            repo.insert_upload(upload, UploadLimits::quota(35), now)
                .await
        }
    }))
    .await;
    let n_opened = opened.iter().filter(|result| result.is_ok()).count();
    let n_refused = opened
        .iter()
        .filter(|result| matches!(result, Err(Error::QuotaExceeded(_))))
        .count();
    assert_eq!((n_opened, n_refused), (3, 7), "{opened:?}");
    assert_eq!(
        repo.usage(carol, now).await.expect("usage").reserved_bytes,
        30
    );
}

/// The repo's outbox after [`file_repo_works`]: the delete's event only, the relay woken, and
/// nothing left once it is published.
pub async fn outbox_holds_the_delete_event(outbox: Arc<dyn Outbox>, wake: &Notify) {
    let pending = outbox.pending(100).await.expect("the outbox");
    assert_eq!(
        pending
            .iter()
            .map(|entry| (entry.topic.as_str(), entry.envelope.event_type.as_str()))
            .collect::<Vec<_>>(),
        [(common::events::topics::FILES, "files.deleted")]
    );
    // The delete woke the relay.
    tokio::time::timeout(std::time::Duration::from_secs(1), wake.notified())
        .await
        .expect("a wake-up");
    outbox.mark_published(&pending).await.expect("publish");
    assert!(outbox.pending(100).await.expect("the outbox").is_empty());
    // Publishing the same entries again (a relay that crashed after publishing) is harmless.
    outbox.mark_published(&pending).await.expect("publish");
}

#[tokio::test]
async fn sqlite_repo_keeps_the_file_repo_contract_and_writes_its_events_to_the_outbox() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let wake = Arc::new(Notify::new());
    let repo = Arc::new(
        SqlFileRepo::open(&StoreUrl::Sqlite(dir.path().join("files.db")), wake.clone())
            .await
            .expect("open"),
    );
    file_repo_works(repo.clone()).await;
    outbox_holds_the_delete_event(Arc::new(repo.outbox()), &wake).await;
}
