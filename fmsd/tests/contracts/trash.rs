//! The `TrashRepo` contract, written once and run on SQLite (a temp dir) and, with the
//! `postgres` feature, PostgreSQL (a database of its own): a delete into the trash takes a
//! folder whole and frees its path, ends its shares and links, keeps the owner's usage exact
//! (tree and trash apart, the total unchanged); a restore puts everything back with its ids,
//! beside the old path when that is taken or at a path asked for, making missing parents; a
//! purge deletes for good and leaves the blobs as garbage; every call is scoped by owner, and
//! a refused call writes nothing.

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use fmsd::error::Error;
use fmsd::files::adapters::sql::SqlFileRepo;
use fmsd::files::domain::{
    BlobKey, Link, LinkMode, LinkToken, Node, NodeKind, OverwritePolicy, RemotePath, RestoreTarget,
    Restored, Role, Sha256Hex, Share, StagingId, TrashPurge, TrashSelection, Trashed, Upload,
};
use fmsd::files::ports::{EventsFor, FileRepo, NewFile, SharingRepo, TrashRepo, UploadLimits};
use fmsd::store_url::StoreUrl;
use tokio::sync::Notify;
use uuid::Uuid;

mod edges;
mod property;

/// What the contract needs of a repo: the tree, sharing and the trash, in one database.
pub trait Repo: FileRepo + SharingRepo + TrashRepo + 'static {}
impl<T: FileRepo + SharingRepo + TrashRepo + 'static> Repo for T {}

fn path(raw: &str) -> RemotePath {
    RemotePath::parse(raw).expect("a valid path")
}

fn no_trash_events() -> EventsFor<Trashed> {
    Box::new(|_| Vec::new())
}

fn no_restore_events() -> EventsFor<Restored> {
    Box::new(|_| Vec::new())
}

fn no_purge_events() -> EventsFor<TrashPurge> {
    Box::new(|_| Vec::new())
}

/// Stores a file of `size` bytes at `at` through a session, as an upload does.
pub async fn put_file<R: Repo>(
    repo: &Arc<R>,
    owner: Uuid,
    at: &str,
    size: u64,
    now: DateTime<Utc>,
) -> Node {
    let sha = Sha256Hex::from_digest(&[size as u8; 32]);
    let upload = Upload {
        id: Uuid::new_v4(),
        owner,
        path: path(at),
        size,
        sha256: Some(sha.clone()),
        overwrite: OverwritePolicy::Fail,
        part_size: size.max(1),
        blob_key: BlobKey::generate(),
        staging_id: StagingId(Uuid::new_v4().simple().to_string()),
        created_at: now,
        expires_at: now + Duration::hours(1),
        grant: None,
    };
    repo.insert_upload(&upload, UploadLimits::quota(u64::MAX / 2), now)
        .await
        .expect("a session");
    let file = NewFile {
        id: Uuid::now_v7(),
        size,
        sha256: sha,
        modified_at: now,
    };
    repo.finish_upload(&upload, file, Vec::new())
        .await
        .expect("the file")
        .0
}

/// The paths under `folder` (recursively), sorted, with their ids.
async fn tree_of<R: Repo>(repo: &Arc<R>, owner: Uuid, folder: &str) -> Vec<(String, Uuid)> {
    let mut found = Vec::new();
    let mut folders = vec![path(folder)];
    while let Some(next) = folders.pop() {
        for node in repo.list(owner, &next, None, 1000).await.expect("list") {
            if node.is_folder() {
                folders.push(node.path.clone());
            }
            found.push((node.path.to_string(), node.id));
        }
    }
    found.sort();
    found
}

/// What every trash does.
pub async fn trash_works<R: Repo>(repo: Arc<R>) {
    let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let now = Utc::now().trunc_subsecs(6);

    repo.mkdir(ann, &path("/docs/deep"), true, now)
        .await
        .expect("mkdir");
    put_file(&repo, ann, "/docs/a.txt", 10, now).await;
    put_file(&repo, ann, "/docs/deep/b.bin", 32, now).await;
    let kept = put_file(&repo, ann, "/kept.txt", 5, now).await;
    let before = tree_of(&repo, ann, "/docs").await;
    let usage = repo.usage(ann, now).await.expect("usage");
    assert_eq!(
        (
            usage.used_bytes,
            usage.trash_bytes,
            usage.n_files,
            usage.n_folders
        ),
        (47, 0, 3, 2)
    );

    // A non-empty folder needs `recursive`; nothing moved.
    assert!(matches!(
        repo.trash_entry(ann, &path("/docs"), false, ann, now, no_trash_events())
            .await,
        Err(Error::Conflict(_))
    ));
    // Another owner's path is not found; so is a missing one.
    assert!(matches!(
        repo.trash_entry(bob, &path("/docs"), true, bob, now, no_trash_events())
            .await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(tree_of(&repo, ann, "/docs").await, before);

    // A share and a link of something inside go with the move, and are told to the events.
    let deep = repo
        .get(ann, &path("/docs/deep"))
        .await
        .expect("get")
        .expect("the folder");
    let share = Share {
        id: Uuid::now_v7(),
        owner: ann,
        node_id: deep.id,
        recipient: bob,
        role: Role::Editor,
        created_at: now,
    };
    repo.put_share(&share, Vec::new()).await.expect("share");
    let link = Link {
        id: Uuid::now_v7(),
        owner: ann,
        node_id: deep.id,
        token_hash: LinkToken::generate().hash(),
        mode: LinkMode::Download,
        password_hash: None,
        expires_at: now + Duration::days(1),
        max_downloads: None,
        downloads: 0,
        uploads: 0,
        created_at: now,
        expiry_warned: false,
    };
    repo.insert_link(&link).await.expect("link");
    let kept_share = Share {
        id: Uuid::now_v7(),
        node_id: kept.id,
        ..share.clone()
    };
    repo.put_share(&kept_share, Vec::new())
        .await
        .expect("share");

    // The folder goes whole, deleted by bob (an editor) into ann's trash.
    let told = Box::new(|trashed: &Trashed| {
        assert_eq!(trashed.ended_shares.len(), 1);
        assert_eq!(trashed.ended_links.len(), 1);
        Vec::new()
    });
    let trashed = repo
        .trash_entry(ann, &path("/docs"), true, bob, now, told)
        .await
        .expect("trash");
    let item = trashed.item.clone();
    assert_eq!(
        (
            item.owner,
            item.path.as_str(),
            item.kind,
            item.size,
            item.n_files,
            item.n_folders,
            item.trashed_at,
            item.trashed_by
        ),
        (ann, "/docs", NodeKind::Folder, 42, 2, 2, now, bob)
    );
    assert_eq!(trashed.ended_shares, std::slice::from_ref(&share));
    assert_eq!(trashed.ended_links, std::slice::from_ref(&link));
    assert!(repo.share(share.id).await.expect("share").is_none());
    assert_eq!(repo.links(ann).await.expect("links"), []);
    assert_eq!(
        repo.share(kept_share.id).await.expect("share"),
        Some(kept_share)
    );
    // Out of the tree: not found by path, by id, or in a listing; its path is free.
    assert!(repo.get(ann, &path("/docs")).await.expect("get").is_none());
    assert!(repo
        .get(ann, &path("/docs/deep/b.bin"))
        .await
        .expect("get")
        .is_none());
    assert!(repo.get_by_id(ann, deep.id).await.expect("get").is_none());
    assert!(matches!(
        repo.list(ann, &path("/docs"), None, 10).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(
        tree_of(&repo, ann, "/").await,
        [("/kept.txt".into(), kept.id)]
    );
    // The bytes moved from the tree to the trash: the total is the same.
    let usage = repo.usage(ann, now).await.expect("usage");
    assert_eq!(
        (
            usage.used_bytes,
            usage.trash_bytes,
            usage.n_trashed,
            usage.n_files,
            usage.n_folders
        ),
        (5, 42, 1, 1, 0)
    );
    // The trash counts against the quota: 47 stored, so 3 more fit in 50, 4 do not.
    let mut session = Upload {
        id: Uuid::new_v4(),
        owner: ann,
        path: path("/big"),
        size: 4,
        sha256: None,
        overwrite: OverwritePolicy::Fail,
        part_size: 4,
        blob_key: BlobKey::generate(),
        staging_id: StagingId("s".into()),
        created_at: now,
        expires_at: now + Duration::hours(1),
        grant: None,
    };
    assert!(matches!(
        repo.insert_upload(&session, UploadLimits::quota(50), now)
            .await,
        Err(Error::QuotaExceeded(_))
    ));
    session.size = 3;
    repo.insert_upload(&session, UploadLimits::quota(50), now)
        .await
        .expect("fits");
    repo.abort_upload(ann, session.id).await.expect("abort");

    // Listed for ann only; bob's trash is empty, and his look-up of ann's item finds nothing.
    assert_eq!(
        repo.trash_items(ann, None, 10).await.expect("items"),
        std::slice::from_ref(&item)
    );
    assert_eq!(repo.trash_items(bob, None, 10).await.expect("items"), []);
    assert_eq!(
        repo.trash_item(ann, item.id).await.expect("item"),
        Some(item.clone())
    );
    assert_eq!(repo.trash_item(bob, item.id).await.expect("item"), None);
    assert!(matches!(
        repo.restore(
            bob,
            item.id,
            RestoreTarget::Original,
            now,
            no_restore_events()
        )
        .await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        repo.purge_trash(bob, TrashSelection::Item(item.id), no_purge_events())
            .await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(
        repo.purge_trash(bob, TrashSelection::All, no_purge_events())
            .await
            .expect("bob's empty trash")
            .items,
        []
    );

    // A new folder takes the freed path; the restore then goes beside it, with every id back.
    repo.mkdir(ann, &path("/docs"), false, now)
        .await
        .expect("the path is free");
    let restored = repo
        .restore(
            ann,
            item.id,
            RestoreTarget::Original,
            now,
            no_restore_events(),
        )
        .await
        .expect("restore");
    assert_eq!(restored.node.path.as_str(), "/docs (2)");
    assert_eq!(restored.node.id, item.node_id);
    assert_eq!(restored.n_parents_made, 0);
    let renamed: Vec<(String, Uuid)> = before
        .iter()
        .map(|(at, id)| (at.replacen("/docs", "/docs (2)", 1), *id))
        .collect();
    assert_eq!(tree_of(&repo, ann, "/docs (2)").await, renamed[..]);
    let usage = repo.usage(ann, now).await.expect("usage");
    assert_eq!(
        (
            usage.used_bytes,
            usage.trash_bytes,
            usage.n_trashed,
            usage.n_files,
            usage.n_folders
        ),
        (47, 0, 0, 3, 3)
    );
    // Gone from the trash: a second restore is not found.
    assert!(matches!(
        repo.restore(
            ann,
            item.id,
            RestoreTarget::Original,
            now,
            no_restore_events()
        )
        .await,
        Err(Error::NotFound(_))
    ));

    // A file deleted twice from one path: two items, newest first, paged.
    let first = trash_file(&repo, ann, "/kept.txt", now).await;
    put_file(&repo, ann, "/kept.txt", 7, now).await;
    let second = trash_file(&repo, ann, "/kept.txt", now).await;
    let page = repo.trash_items(ann, None, 1).await.expect("page");
    assert_eq!(page, std::slice::from_ref(&second));
    let next = repo
        .trash_items(ann, Some(second.id), 10)
        .await
        .expect("page");
    assert_eq!(next, std::slice::from_ref(&first));

    // An explicit target must be free; missing parents are made; a file in their way refuses.
    assert!(matches!(
        repo.restore(
            ann,
            first.id,
            RestoreTarget::At(path("/docs")),
            now,
            no_restore_events()
        )
        .await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        repo.restore(
            ann,
            first.id,
            RestoreTarget::At(path("/docs (2)/a.txt/x")),
            now,
            no_restore_events()
        )
        .await,
        Err(Error::Conflict(_))
    ));
    let at = repo
        .restore(
            ann,
            first.id,
            RestoreTarget::At(path("/new/place/k.txt")),
            now,
            no_restore_events(),
        )
        .await
        .expect("restore elsewhere");
    assert_eq!(
        (at.node.path.as_str(), at.node.id, at.n_parents_made),
        ("/new/place/k.txt", first.node_id, 2)
    );
    // Its old parent gone, a file comes back to it made again.
    repo.mkdir(ann, &path("/gone/inner"), true, now)
        .await
        .expect("mkdir");
    let in_folder = put_file(&repo, ann, "/gone/inner/f.txt", 3, now).await;
    let item_f = trash_file(&repo, ann, "/gone/inner/f.txt", now).await;
    repo.trash_entry(ann, &path("/gone"), true, ann, now, no_trash_events())
        .await
        .expect("trash the folder");
    let back = repo
        .restore(
            ann,
            item_f.id,
            RestoreTarget::Original,
            now,
            no_restore_events(),
        )
        .await
        .expect("restore");
    assert_eq!(
        (back.node.path.as_str(), back.node.id, back.n_parents_made),
        ("/gone/inner/f.txt", in_folder.id, 2)
    );

    // Deleted for good: the blobs become garbage, the bytes leave the quota.
    let garbage_before = repo.pending_garbage(1000).await.expect("garbage").len();
    let usage = repo.usage(ann, now).await.expect("usage");
    let purge = repo
        .purge_trash(ann, TrashSelection::Item(second.id), no_purge_events())
        .await
        .expect("purge");
    assert_eq!(purge.items, std::slice::from_ref(&second));
    assert_eq!((purge.removal.n_files, purge.removal.bytes_freed), (1, 7));
    assert_eq!(purge.removal.garbage.len(), 1);
    assert_eq!(
        repo.pending_garbage(1000).await.expect("garbage").len(),
        garbage_before + 1
    );
    let after = repo.usage(ann, now).await.expect("usage");
    assert_eq!(after.trash_bytes, usage.trash_bytes - 7);
    assert_eq!(after.used_bytes, usage.used_bytes);

    // The retention sweep: owners with old items, then the old items only.
    let old = now - Duration::days(40);
    let stale = trash_file_at(&repo, ann, "/docs (2)/a.txt", old).await;
    let fresh = trash_file(&repo, ann, "/docs (2)/deep/b.bin", now).await;
    let cutoff = now - Duration::days(30);
    assert_eq!(
        repo.owners_with_trash_before(cutoff, 10)
            .await
            .expect("owners"),
        [ann]
    );
    let swept = repo
        .purge_trash(
            ann,
            TrashSelection::TrashedBefore(cutoff),
            no_purge_events(),
        )
        .await
        .expect("sweep");
    assert_eq!(swept.items, [stale]);
    assert!(repo
        .owners_with_trash_before(cutoff, 10)
        .await
        .expect("owners")
        .is_empty());

    // Emptying takes the rest (the folder trashed above and the fresh file).
    let emptied = repo
        .purge_trash(ann, TrashSelection::All, no_purge_events())
        .await
        .expect("empty");
    assert_eq!(emptied.items.len(), 2);
    assert!(emptied.items.iter().any(|item| item.id == fresh.id));
    let usage = repo.usage(ann, now).await.expect("usage");
    assert_eq!((usage.trash_bytes, usage.n_trashed), (0, 0));

    edges::restore_refuses_a_path_made_too_long(&repo, now).await;
    edges::purged_owner_takes_the_trash(&repo, now).await;
}

/// Trashes the file at `at`, deleted by its owner at `now`.
async fn trash_file<R: Repo>(
    repo: &Arc<R>,
    owner: Uuid,
    at: &str,
    now: DateTime<Utc>,
) -> fmsd::files::domain::TrashItem {
    trash_file_at(repo, owner, at, now).await
}

/// Trashes the file at `at`, as if at `when`.
async fn trash_file_at<R: Repo>(
    repo: &Arc<R>,
    owner: Uuid,
    at: &str,
    when: DateTime<Utc>,
) -> fmsd::files::domain::TrashItem {
    repo.trash_entry(owner, &path(at), false, owner, when, no_trash_events())
        .await
        .expect("trash")
        .item
}

#[tokio::test]
async fn sqlite_repo_keeps_the_trash_contract() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let repo = Arc::new(
        SqlFileRepo::open(
            &StoreUrl::Sqlite(dir.path().join("files.db")),
            Arc::new(Notify::new()),
        )
        .await
        .expect("open"),
    );
    trash_works(repo).await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_repo_keeps_the_trash_contract() {
    let database = crate::support::TestDatabase::create().await;
    let repo = Arc::new(
        SqlFileRepo::open(&database.store_url(), Arc::new(Notify::new()))
            .await
            .expect("open"),
    );
    trash_works(repo).await;
}
