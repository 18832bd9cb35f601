//! The trash's edges, on both engines: a restore that would make a path too long writes
//! nothing, and a purged owner's trash goes with the rest of what they stored.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use fmsd::error::Error;
use fmsd::files::domain::RestoreTarget;
use uuid::Uuid;

use super::{no_restore_events, no_trash_events, path, put_file, trash_file, Repo};

/// A restore whose new name would make a path inside the item longer than paths may be is
/// refused as invalid, and nothing is written.
pub async fn restore_refuses_a_path_made_too_long<R: Repo>(repo: &Arc<R>, now: DateTime<Utc>) {
    let cid = Uuid::new_v4();
    // `/t` and 16 segments of 250 bytes: 4,018 bytes, then the file.
    let mut deep = "/t".to_owned();
    for _ in 0..16 {
        deep.push('/');
        deep.push_str(&"s".repeat(250));
    }
    repo.mkdir(cid, &path(&deep), true, now)
        .await
        .expect("mkdir");
    put_file(repo, cid, &format!("{deep}/f"), 1, now).await;
    let item = repo
        .trash_entry(cid, &path("/t"), true, cid, now, no_trash_events())
        .await
        .expect("trash")
        .item;
    let longer = format!("/{}", "l".repeat(100));
    let refused = repo
        .restore(
            cid,
            item.id,
            RestoreTarget::At(path(&longer)),
            now,
            no_restore_events(),
        )
        .await;
    assert!(matches!(refused, Err(Error::Invalid(_))), "{refused:?}");
    assert_eq!(
        repo.trash_item(cid, item.id).await.expect("item"),
        Some(item.clone())
    );
    assert!(repo.get(cid, &path(&longer)).await.expect("get").is_none());
    let usage = repo.usage(cid, now).await.expect("usage");
    assert_eq!(
        (usage.used_bytes, usage.trash_bytes, usage.n_folders),
        (0, 1, 0)
    );
    // Where it was, it fits.
    repo.restore(
        cid,
        item.id,
        RestoreTarget::Original,
        now,
        no_restore_events(),
    )
    .await
    .expect("restore");
}

/// A purged owner's trash goes with everything else, its blobs garbage.
pub async fn purged_owner_takes_the_trash<R: Repo>(repo: &Arc<R>, now: DateTime<Utc>) {
    let dee = Uuid::new_v4();
    put_file(repo, dee, "/t.bin", 9, now).await;
    put_file(repo, dee, "/u.bin", 4, now).await;
    trash_file(repo, dee, "/t.bin", now).await;
    let removal = repo
        .purge_owner(
            dee,
            "test",
            &Uuid::new_v4().to_string(),
            now,
            Box::new(|_| Vec::new()),
        )
        .await
        .expect("purge")
        .expect("first time");
    assert_eq!((removal.n_files, removal.bytes_freed), (2, 13));
    assert_eq!(removal.garbage.len(), 2);
    assert_eq!(
        repo.trash_items(Uuid::new_v4(), None, 10)
            .await
            .expect("items"),
        []
    );
    assert!(matches!(
        repo.trash_items(dee, None, 10).await,
        Err(Error::Unauthorized(_))
    ));
}
