//! The links part of the `SharingRepo` contract: storing and finding links by token and by
//! owner, the download limit under concurrent downloads, upload counts, and the expiry
//! warnings (each link warned once, with its event written once).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::events::{LinkExpiring, LinkRevoked, Outgoing};
use fmsd::error::Error;
use fmsd::files::domain::{Link, LinkMode, LinkToken};
use fmsd::files::ports::SharingRepo;
use futures::future::join_all;
use uuid::Uuid;

/// A download link of `owner` to a node of theirs, made at `created_at`.
pub fn link(
    owner: Uuid,
    expires_at: DateTime<Utc>,
    max_downloads: Option<u64>,
    created_at: DateTime<Utc>,
) -> Link {
    Link {
        id: Uuid::now_v7(),
        owner,
        node_id: Uuid::now_v7(),
        token_hash: LinkToken::generate().hash(),
        mode: LinkMode::Download,
        password_hash: None,
        expires_at,
        max_downloads,
        downloads: 0,
        uploads: 0,
        created_at,
        expiry_warned: false,
    }
}

fn expiring_event(link: &Link) -> Vec<Outgoing> {
    vec![Outgoing::new(&LinkExpiring {
        link_id: link.id,
        owner_id: link.owner,
        owner_email: "ann@example.com".into(),
        owner_name: "Ann".into(),
        item_name: "docs".into(),
        item_path: Some("/docs".into()),
        expires_at: link.expires_at,
    })]
}

/// Every link rule of the contract.
pub async fn links_work(sharing: &Arc<dyn SharingRepo>, now: DateTime<Utc>) {
    links_are_kept_by_owner_and_token(sharing, now).await;
    downloads_stop_at_the_limit(sharing, now).await;
    expiring_links_are_warned_once(sharing, now).await;
}

/// Insert, find by token, list newest first, delete: all scoped by owner.
async fn links_are_kept_by_owner_and_token(sharing: &Arc<dyn SharingRepo>, now: DateTime<Utc>) {
    let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let week = now + Duration::days(7);
    let mut older = link(ann, week, Some(5), now);
    older.mode = LinkMode::Upload;
    older.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    let newer = link(ann, week, None, now + Duration::seconds(1));
    let bobs = link(bob, week, None, now);
    for made in [&older, &newer, &bobs] {
        sharing.insert_link(made).await.expect("insert");
    }
    let mut same_token = link(ann, week, None, now);
    same_token.token_hash = older.token_hash.clone();
    assert!(matches!(
        sharing.insert_link(&same_token).await,
        Err(Error::Conflict(_))
    ));

    assert_eq!(
        sharing
            .link_by_token(&older.token_hash)
            .await
            .expect("by token"),
        Some(older.clone())
    );
    assert!(sharing
        .link_by_token(&LinkToken::generate().hash())
        .await
        .expect("by token")
        .is_none());
    assert_eq!(
        sharing.links(ann).await.expect("links"),
        [newer.clone(), older.clone()]
    );
    assert_eq!(sharing.links(bob).await.expect("links"), [bobs]);

    // Uploads through a link are counted.
    sharing.count_upload(older.id).await.expect("count");
    sharing.count_upload(older.id).await.expect("count");
    let counted = sharing
        .link_by_token(&older.token_hash)
        .await
        .expect("by token")
        .expect("the link");
    assert_eq!((counted.uploads, counted.downloads), (2, 0));

    // Only the owner deletes a link.
    let revoked = |owner| {
        vec![Outgoing::new(&LinkRevoked {
            link_id: older.id,
            owner_id: owner,
        })]
    };
    assert!(!sharing
        .delete_link(bob, older.id, revoked(bob))
        .await
        .expect("delete"));
    assert!(sharing
        .delete_link(ann, older.id, revoked(ann))
        .await
        .expect("delete"));
    assert!(!sharing
        .delete_link(ann, older.id, revoked(ann))
        .await
        .expect("delete"));
    assert_eq!(sharing.links(ann).await.expect("links"), [newer]);
    assert!(sharing
        .link_by_token(&older.token_hash)
        .await
        .expect("by token")
        .is_none());
}

/// Ten downloads at once through a link allowing three: exactly three are counted. A link
/// without a limit counts every download; an unknown link counts none.
async fn downloads_stop_at_the_limit(sharing: &Arc<dyn SharingRepo>, now: DateTime<Utc>) {
    let owner = Uuid::new_v4();
    let limited = link(owner, now + Duration::days(2), Some(3), now);
    let unlimited = link(owner, now + Duration::days(2), None, now);
    for made in [&limited, &unlimited] {
        sharing.insert_link(made).await.expect("insert");
    }
    let at_once = |id: Uuid| {
        join_all((0..10).map(move |_| {
            let sharing = sharing.clone();
            async move { sharing.take_download(id).await }
        }))
    };
    let taken = at_once(limited.id).await;
    let n_counted = taken
        .iter()
        .filter(|result| matches!(result, Ok(true)))
        .count();
    let n_refused = taken
        .iter()
        .filter(|result| matches!(result, Ok(false)))
        .count();
    assert_eq!((n_counted, n_refused), (3, 7), "{taken:?}");
    assert!(!sharing.take_download(limited.id).await.expect("take"));

    let taken = at_once(unlimited.id).await;
    assert!(
        taken.iter().all(|result| matches!(result, Ok(true))),
        "{taken:?}"
    );
    assert!(!sharing.take_download(Uuid::new_v4()).await.expect("take"));

    let counts = sharing.links(owner).await.expect("links");
    let downloads = |id: Uuid| {
        counts
            .iter()
            .find(|found| found.id == id)
            .map(|found| found.downloads)
    };
    assert_eq!(
        (downloads(limited.id), downloads(unlimited.id)),
        (Some(3), Some(10))
    );
}

/// Links unexpired now and expiring within the day, not yet warned, soonest first and up to
/// the limit; each is marked warned once, with its event.
async fn expiring_links_are_warned_once(sharing: &Arc<dyn SharingRepo>, now: DateTime<Utc>) {
    let owner = Uuid::new_v4();
    let at = |hours: i64| link(owner, now + Duration::hours(hours), None, now);
    let (expired, soon, later, outside) = (at(-1), at(2), at(5), at(30));
    for made in [&outside, &later, &expired, &soon] {
        sharing.insert_link(made).await.expect("insert");
    }
    let within_a_day = now + Duration::days(1);
    let ids = |links: Vec<Link>| links.iter().map(|link| link.id).collect::<Vec<_>>();
    // Other tests' links in the same database expire days later or already warned: none is in
    // this window, so the lists hold this test's links only.
    assert_eq!(
        ids(sharing
            .links_expiring(now, within_a_day, 10)
            .await
            .expect("expiring")),
        [soon.id, later.id]
    );
    assert_eq!(
        ids(sharing
            .links_expiring(now, within_a_day, 1)
            .await
            .expect("expiring")),
        [soon.id]
    );

    assert!(sharing
        .mark_link_warned(soon.id, expiring_event(&soon))
        .await
        .expect("mark"));
    // Marking it again writes nothing, its event included.
    assert!(!sharing
        .mark_link_warned(soon.id, expiring_event(&soon))
        .await
        .expect("mark again"));
    assert!(!sharing
        .mark_link_warned(Uuid::new_v4(), expiring_event(&soon))
        .await
        .expect("mark unknown"));
    assert_eq!(
        ids(sharing
            .links_expiring(now, within_a_day, 10)
            .await
            .expect("expiring")),
        [later.id]
    );
    let warned = sharing
        .link_by_token(&soon.token_hash)
        .await
        .expect("by token")
        .expect("the link");
    assert!(warned.expiry_warned);
}
