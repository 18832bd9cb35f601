//! The `SharingRepo` contract, written once and run against both file repos: SQLite (on a temp
//! dir) and, with the `postgres` feature, PostgreSQL (`sharing/postgres.rs`, a database of its
//! own per test). It covers the directory of customers, shares, links (`sharing/links.rs`:
//! the download limit under concurrent downloads, the expiry warnings) and what sharing needs
//! from the tree: an entry found by id after a move, and a replaced file keeping its id.
//!
//! Each runner also checks the outbox: a share's event is written only when the share is new,
//! a link's expiry warning only once, and the end of a share or link only when there was one
//! to end.

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::events::{FileShared, Outgoing, ShareRevoked};
use fmsd::bus::ports::Outbox;
use fmsd::files::adapters::sql::SqlFileRepo;
use fmsd::files::domain::{
    BlobKey, Garbage, Node, OverwritePolicy, Person, RemotePath, Removal, Role, Sha256Hex, Share,
    StagingId, Upload,
};
use fmsd::files::ports::{FileRepo, NewFile, SharingRepo, UploadLimits};
use fmsd::store_url::StoreUrl;
use tokio::sync::Notify;
use uuid::Uuid;

mod links;
#[cfg(feature = "postgres")]
mod postgres;

fn path(raw: &str) -> RemotePath {
    RemotePath::parse(raw).expect("a valid path")
}

fn person(name: &str) -> Person {
    Person {
        id: Uuid::new_v4(),
        email: format!("{name}-{}@example.com", Uuid::new_v4().simple()),
        name: name.to_owned(),
        verified: true,
    }
}

fn share(owner: Uuid, node_id: Uuid, recipient: Uuid, at: DateTime<Utc>) -> Share {
    Share {
        id: Uuid::now_v7(),
        owner,
        node_id,
        recipient,
        role: Role::Viewer,
        created_at: at,
    }
}

fn revoked_event(share: &Share) -> Outgoing {
    Outgoing::new(&ShareRevoked {
        share_id: share.id,
        owner_id: share.owner,
        recipient_id: share.recipient,
    })
}

fn shared_event(share: &Share) -> Vec<Outgoing> {
    vec![Outgoing::new(&FileShared {
        share_id: share.id,
        owner_id: share.owner,
        owner_name: "Ann".into(),
        owner_email: "ann@example.com".into(),
        recipient_id: share.recipient,
        recipient_email: "bob@example.com".into(),
        recipient_name: "Bob".into(),
        item_name: "docs".into(),
        kind: "folder".into(),
        role: share.role.as_str().into(),
    })]
}

/// What every sharing repo does; `files` and `sharing` are the same repo, `outbox` its outbox.
pub async fn sharing_repo_works(
    files: Arc<dyn FileRepo>,
    sharing: Arc<dyn SharingRepo>,
    outbox: Arc<dyn Outbox>,
) {
    // To the microsecond, as the service passes it: what the stores keep.
    let now = Utc::now().trunc_subsecs(6);
    people_are_kept_by_id_and_email(&sharing).await;
    shares_are_one_per_node_and_recipient(&files, &sharing, now).await;
    links::links_work(&sharing, now).await;
    forgetting_a_person_takes_their_shares_and_links(&sharing, now).await;
    entries_keep_their_id(&files, now).await;
    deleting_an_entry_takes_its_shares_and_links(&files, &sharing, now).await;

    // One event for the new share, one for the warned link, one for each share or link
    // ended, nothing else.
    let pending = outbox.pending(100).await.expect("the outbox");
    assert_eq!(
        pending
            .iter()
            .map(|entry| (entry.topic.as_str(), entry.envelope.event_type.as_str()))
            .collect::<Vec<_>>(),
        [
            (common::events::topics::FILES, "files.shared"),
            (common::events::topics::FILES, "files.share_revoked"),
            (common::events::topics::FILES, "files.link_revoked"),
            (common::events::topics::FILES, "files.link_expiring"),
            (common::events::topics::FILES, "files.share_revoked"),
            (common::events::topics::FILES, "files.share_revoked"),
            (common::events::topics::FILES, "files.deleted"),
        ]
    );
}

/// Upsert, look-up by id and by e-mail, a changed e-mail, an address taken over.
async fn people_are_kept_by_id_and_email(sharing: &Arc<dyn SharingRepo>) {
    let mut ann = person("ann");
    assert!(sharing.person(ann.id).await.expect("person").is_none());
    sharing.upsert_person(&ann).await.expect("upsert");
    sharing.upsert_person(&ann).await.expect("upsert again");
    assert_eq!(
        sharing.person(ann.id).await.expect("person"),
        Some(ann.clone())
    );
    assert_eq!(
        sharing.person_by_email(&ann.email).await.expect("by email"),
        Some(ann.clone())
    );

    // A new address and name replace the old ones.
    let old_email = ann.email.clone();
    ann.email = format!("ann-{}@example.org", Uuid::new_v4().simple());
    ann.name = "Ann Smith".into();
    sharing.upsert_person(&ann).await.expect("update");
    assert_eq!(
        sharing.person(ann.id).await.expect("person"),
        Some(ann.clone())
    );
    assert!(sharing
        .person_by_email(&old_email)
        .await
        .expect("by email")
        .is_none());
    assert_eq!(
        sharing.person_by_email(&ann.email).await.expect("by email"),
        Some(ann.clone())
    );

    // Someone else now has Ann's old address before Ann's own change arrived: the newest
    // holder of an address is the one found by it.
    let mut taker = person("taker");
    taker.email = ann.email.clone();
    sharing.upsert_person(&taker).await.expect("upsert");
    assert_eq!(
        sharing.person_by_email(&ann.email).await.expect("by email"),
        Some(taker.clone())
    );
    assert!(sharing.person(ann.id).await.expect("person").is_none());
}

/// One share per node and recipient; its role changes; lists are newest first.
async fn shares_are_one_per_node_and_recipient(
    files: &Arc<dyn FileRepo>,
    sharing: &Arc<dyn SharingRepo>,
    now: DateTime<Utc>,
) {
    let (ann, bob, carol) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let docs = files
        .mkdir(ann, &path("/docs"), false, now)
        .await
        .expect("mkdir");
    let photos = files
        .mkdir(ann, &path("/photos"), false, now)
        .await
        .expect("mkdir");

    let first = share(ann, docs.id, bob, now);
    let (stored, is_new) = sharing
        .put_share(&first, shared_event(&first))
        .await
        .expect("share");
    assert_eq!((stored, is_new), (first.clone(), true));

    // Sharing the same node with the same person again changes the role of the first share
    // and writes no event.
    let mut again = share(ann, docs.id, bob, now + Duration::seconds(5));
    again.role = Role::Editor;
    let (stored, is_new) = sharing
        .put_share(&again, shared_event(&again))
        .await
        .expect("share again");
    let editor = Share {
        role: Role::Editor,
        ..first.clone()
    };
    assert_eq!((stored, is_new), (editor.clone(), false));
    assert_eq!(sharing.share(first.id).await.expect("share"), Some(editor));
    assert!(sharing.share(again.id).await.expect("share").is_none());

    let to_carol = share(ann, docs.id, carol, now + Duration::seconds(1));
    let photos_to_bob = share(ann, photos.id, bob, now + Duration::seconds(2));
    for later in [&to_carol, &photos_to_bob] {
        assert!(sharing.put_share(later, Vec::new()).await.expect("share").1);
    }
    let ids = |shares: Vec<Share>| shares.iter().map(|share| share.id).collect::<Vec<_>>();
    assert_eq!(
        ids(sharing.shares_given(ann).await.expect("given")),
        [photos_to_bob.id, to_carol.id, first.id]
    );
    assert_eq!(
        ids(sharing.shares_received(bob).await.expect("received")),
        [photos_to_bob.id, first.id]
    );
    assert_eq!(
        ids(sharing.shares_received(carol).await.expect("received")),
        [to_carol.id]
    );
    assert!(sharing.shares_given(bob).await.expect("given").is_empty());

    // Changing the role, deleting.
    let viewer = sharing
        .set_share_role(first.id, Role::Viewer)
        .await
        .expect("role");
    assert_eq!(viewer, Some(first.clone()));
    assert!(sharing
        .set_share_role(Uuid::new_v4(), Role::Editor)
        .await
        .expect("role")
        .is_none());
    assert!(sharing
        .delete_share(to_carol.id, vec![revoked_event(&to_carol)])
        .await
        .expect("delete"));
    assert!(!sharing
        .delete_share(to_carol.id, vec![revoked_event(&to_carol)])
        .await
        .expect("delete"));
    assert!(sharing
        .shares_received(carol)
        .await
        .expect("received")
        .is_empty());
}

/// Forgetting a customer removes their entry, the shares they gave and got, and their links,
/// and nobody else's; doing it again changes nothing.
async fn forgetting_a_person_takes_their_shares_and_links(
    sharing: &Arc<dyn SharingRepo>,
    now: DateTime<Utc>,
) {
    let (dan, eve, fay) = (person("dan"), person("eve"), person("fay"));
    for someone in [&dan, &eve, &fay] {
        sharing.upsert_person(someone).await.expect("upsert");
    }
    let given = share(dan.id, Uuid::new_v4(), eve.id, now);
    let got = share(eve.id, Uuid::new_v4(), dan.id, now);
    let others = share(eve.id, Uuid::new_v4(), fay.id, now);
    for kept in [&given, &got, &others] {
        sharing.put_share(kept, Vec::new()).await.expect("share");
    }
    let dans_link = links::link(dan.id, now + Duration::days(7), None, now);
    let eves_link = links::link(eve.id, now + Duration::days(7), None, now);
    for kept in [&dans_link, &eves_link] {
        sharing.insert_link(kept).await.expect("link");
    }

    let ended =
        |removed: &Vec<Share>| -> Vec<Outgoing> { removed.iter().map(revoked_event).collect() };
    sharing
        .forget_person(dan.id, Box::new(ended))
        .await
        .expect("forget");
    assert!(sharing.person(dan.id).await.expect("person").is_none());
    assert!(sharing
        .person_by_email(&dan.email)
        .await
        .expect("by email")
        .is_none());
    assert!(sharing
        .shares_given(dan.id)
        .await
        .expect("given")
        .is_empty());
    assert!(sharing
        .shares_received(dan.id)
        .await
        .expect("received")
        .is_empty());
    assert!(sharing.share(got.id).await.expect("share").is_none());
    assert!(sharing.links(dan.id).await.expect("links").is_empty());
    assert!(sharing
        .link_by_token(&dans_link.token_hash)
        .await
        .expect("by token")
        .is_none());

    // Everyone else's entries, shares and links stay.
    assert_eq!(
        sharing.person(eve.id).await.expect("person"),
        Some(eve.clone())
    );
    assert_eq!(sharing.shares_given(eve.id).await.expect("given"), [others]);
    assert_eq!(sharing.links(eve.id).await.expect("links"), [eves_link]);
    sharing
        .forget_person(dan.id, Box::new(ended))
        .await
        .expect("forget again");
}

/// Deleting an entry deletes the shares and links of everything it removes, and hands them to
/// its events; those of other entries stay.
async fn deleting_an_entry_takes_its_shares_and_links(
    files: &Arc<dyn FileRepo>,
    sharing: &Arc<dyn SharingRepo>,
    now: DateTime<Utc>,
) {
    let (ivy, jon) = (Uuid::new_v4(), Uuid::new_v4());
    let gone = files
        .mkdir(ivy, &path("/gone/inner"), true, now)
        .await
        .expect("mkdir");
    let kept = files
        .mkdir(ivy, &path("/kept"), true, now)
        .await
        .expect("mkdir");
    let top = files
        .get(ivy, &path("/gone"))
        .await
        .expect("get")
        .expect("the parent");
    let of_top = share(ivy, top.id, jon, now);
    let of_inner = share(ivy, gone.id, jon, now);
    let of_kept = share(ivy, kept.id, jon, now);
    for made in [&of_top, &of_inner, &of_kept] {
        sharing.put_share(made, Vec::new()).await.expect("share");
    }
    let mut link_to_inner = links::link(ivy, now + Duration::days(7), None, now);
    link_to_inner.node_id = gone.id;
    let mut link_to_kept = links::link(ivy, now + Duration::days(7), None, now);
    link_to_kept.node_id = kept.id;
    for made in [&link_to_inner, &link_to_kept] {
        sharing.insert_link(made).await.expect("link");
    }

    let told = Box::new(|removal: &Removal| {
        assert_eq!(removal.ended_shares.len(), 2);
        assert_eq!(removal.ended_links.len(), 1);
        vec![Outgoing::new(&common::events::FileDeleted {
            owner_id: Uuid::nil(),
            path: "/gone".into(),
            n_files: removal.n_files,
            bytes_freed: removal.bytes_freed,
            from_trash: false,
        })]
    });
    let removal = files
        .delete(ivy, &path("/gone"), true, told)
        .await
        .expect("delete");
    let mut ended: Vec<Uuid> = removal.ended_shares.iter().map(|s| s.id).collect();
    ended.sort();
    let mut expected = vec![of_top.id, of_inner.id];
    expected.sort();
    assert_eq!(ended, expected);
    assert_eq!(
        removal.ended_links.iter().map(|l| l.id).collect::<Vec<_>>(),
        [link_to_inner.id]
    );
    for ended in [&of_top, &of_inner] {
        assert!(sharing.share(ended.id).await.expect("share").is_none());
    }
    assert_eq!(
        sharing.share(of_kept.id).await.expect("share"),
        Some(of_kept)
    );
    assert_eq!(sharing.links(ivy).await.expect("links"), [link_to_kept]);
}

/// An entry is found by id wherever it moved, and a replaced file keeps its id.
async fn entries_keep_their_id(files: &Arc<dyn FileRepo>, now: DateTime<Utc>) {
    let (gus, hal) = (Uuid::new_v4(), Uuid::new_v4());
    let folder = files
        .mkdir(gus, &path("/a/b"), true, now)
        .await
        .expect("mkdir");
    assert_eq!(
        files.get_by_id(gus, folder.id).await.expect("by id"),
        Some(folder.clone())
    );
    files
        .move_entry(gus, &path("/a"), &path("/c"), now, Vec::new())
        .await
        .expect("move");
    let moved = files
        .get_by_id(gus, folder.id)
        .await
        .expect("by id")
        .expect("still there");
    assert_eq!((moved.id, moved.path), (folder.id, path("/c/b")));
    assert!(files
        .get_by_id(hal, folder.id)
        .await
        .expect("by id")
        .is_none());
    assert!(files
        .get_by_id(gus, Uuid::new_v4())
        .await
        .expect("by id")
        .is_none());

    let (first, _) = upload(files, gus, 4, OverwritePolicy::Fail, now).await;
    let (replaced, garbage) = upload(files, gus, 7, OverwritePolicy::Replace, now).await;
    assert_eq!(garbage.len(), 1);
    assert_eq!((replaced.id, replaced.size), (first.id, 7));
    assert_eq!(
        files.get_by_id(gus, first.id).await.expect("by id"),
        Some(replaced.clone())
    );
    assert_eq!(
        files.get(gus, &path("/c/b/f")).await.expect("get"),
        Some(replaced)
    );
}

/// Uploads a file of `size` bytes to `/c/b/f` of `owner` under `overwrite`; a file that
/// replaces nothing has the id it was given.
async fn upload(
    files: &Arc<dyn FileRepo>,
    owner: Uuid,
    size: u64,
    overwrite: OverwritePolicy,
    now: DateTime<Utc>,
) -> (Node, Vec<Garbage>) {
    let sha256 = Sha256Hex::from_digest(&[size as u8; 32]);
    let session = Upload {
        id: Uuid::new_v4(),
        owner,
        path: path("/c/b/f"),
        size,
        sha256: Some(sha256.clone()),
        overwrite,
        part_size: 4,
        blob_key: BlobKey::generate(),
        staging_id: StagingId(Uuid::new_v4().simple().to_string()),
        created_at: now,
        expires_at: now + Duration::hours(1),
        grant: None,
    };
    files
        .insert_upload(&session, UploadLimits::quota(100), now)
        .await
        .expect("insert");
    let file = NewFile {
        id: Uuid::now_v7(),
        size,
        sha256,
        modified_at: now,
    };
    let new_id = file.id;
    let (node, garbage) = files
        .finish_upload(&session, file, Vec::new())
        .await
        .expect("finish");
    if garbage.is_empty() {
        assert_eq!(node.id, new_id);
    }
    (node, garbage)
}

#[tokio::test]
async fn sqlite_repo_keeps_the_sharing_contract() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let repo = Arc::new(
        SqlFileRepo::open(
            &StoreUrl::Sqlite(dir.path().join("files.db")),
            Arc::new(Notify::new()),
        )
        .await
        .expect("open"),
    );
    sharing_repo_works(repo.clone(), repo.clone(), Arc::new(repo.outbox())).await;
}
