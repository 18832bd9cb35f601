//! Reaching a share with `share=` on the ordinary file endpoints: a viewer lists and downloads,
//! an editor also writes (on the owner's quota), every answer speaks in paths relative to the
//! shared item (the owner's folders above it never show).

use common::api::{Deleted, DownloadLink, Entry, EntryKind, Listing, UploadSession};
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{
    fetch, mkdir, names, sample_bytes, sha256_hex, spawn_app_with_quota, upload, MIB,
};
use crate::helpers::{error_code, spawn_app, TestApp, TestUser};
use crate::sharing_support::{
    download_in_share, in_share, register_named, share, status_and_text, upload_in_share, usage,
};

/// A folder name above the shared folder that the recipient must never see.
const HIDDEN: &str = "ann-hidden-parent";

/// `/ann-hidden-parent/projects/shared` with `a.txt` and `sub/b.bin` (two parts and a bit).
async fn seed(app: &TestApp, owner: &TestUser) -> (Vec<u8>, Vec<u8>) {
    mkdir(
        app,
        &owner.token,
        &format!("/{HIDDEN}/projects/shared/sub"),
        true,
    )
    .await;
    let small = b"small shared file".to_vec();
    let big = sample_bytes(2 * MIB + 77, 3);
    upload(
        app,
        &owner.token,
        &format!("/{HIDDEN}/projects/shared/a.txt"),
        &small,
    )
    .await;
    upload(
        app,
        &owner.token,
        &format!("/{HIDDEN}/projects/shared/sub/b.bin"),
        &big,
    )
    .await;
    (small, big)
}

#[tokio::test]
async fn a_viewer_lists_and_downloads_but_cannot_write() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Viewer").await;
    let (small, big) = seed(&app, &ann).await;
    let shared = share(
        &app,
        &ann,
        &format!("/{HIDDEN}/projects/shared"),
        &bob,
        "viewer",
    )
    .await;
    let id = shared.id;
    let token = Some(bob.token.as_str());
    let mut bodies = Vec::new();

    let (status, text) = status_and_text(
        app.get(&in_share("/v1/files", id, &[("path", "/")]), token)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let listing: Listing = serde_json::from_str(&text).unwrap();
    assert_eq!(listing.path, "/");
    let paths: Vec<&str> = listing.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/a.txt", "/sub"]);
    bodies.push(text);
    let (status, text) = status_and_text(
        app.get(&in_share("/v1/files", id, &[("path", "/sub")]), token)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let listing: Listing = serde_json::from_str(&text).unwrap();
    assert_eq!(listing.path, "/sub");
    assert_eq!(listing.entries[0].path, "/sub/b.bin");
    bodies.push(text);
    for path in ["/", "/sub/b.bin"] {
        let response = app
            .get(
                &in_share("/v1/files/metadata", id, &[("path", path)]),
                token,
            )
            .await;
        let (status, text) = status_and_text(response).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let entry: Entry = serde_json::from_str(&text).unwrap();
        assert_eq!(entry.path, path);
        bodies.push(text);
    }
    let response = app
        .get(
            &in_share("/v1/downloads", id, &[("path", "/sub/b.bin")]),
            token,
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let link: DownloadLink = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (link.name.as_str(), link.sha256.clone()),
        ("b.bin", sha256_hex(&big))
    );
    bodies.push(text);
    let fetched = fetch(&app, &link.url, None).await;
    let disposition = fetched.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!disposition.contains(HIDDEN), "{disposition}");
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), big.as_slice());
    assert_eq!(download_in_share(&app, &bob, id, "/a.txt").await, small);

    // Every write is refused with 403, and nothing changes.
    let writes = [
        app.delete(
            &in_share("/v1/files", id, &[("path", "/a.txt")]),
            token,
            None,
        )
        .await,
        app.delete(
            &in_share("/v1/files", id, &[("path", "/sub"), ("recursive", "true")]),
            token,
            None,
        )
        .await,
        app.post(
            &in_share("/v1/folders", id, &[]),
            token,
            &json!({"path": "/new"}),
        )
        .await,
        app.post(
            &in_share("/v1/files/move", id, &[]),
            token,
            &json!({"from": "/a.txt", "to": "/z.txt"}),
        )
        .await,
        app.post(
            &in_share("/v1/uploads", id, &[]),
            token,
            &json!({"path": "/c.txt", "size": 3}),
        )
        .await,
    ];
    for (index, response) in writes.into_iter().enumerate() {
        let (status, code, message) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "write {index}: {message}"
        );
    }
    let parent = format!("/{HIDDEN}/projects/shared");
    assert_eq!(names(&app, &ann.token, &parent).await, ["a.txt", "sub"]);

    // The way out of the share is closed.
    let escape = app
        .get(&in_share("/v1/files", id, &[("path", "/../")]), token)
        .await;
    assert_eq!(escape.status(), StatusCode::BAD_REQUEST);
    let missing = app
        .get(
            &in_share("/v1/files/metadata", id, &[("path", "/nope")]),
            token,
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    for body in &bodies {
        assert!(
            !body.contains(HIDDEN) && !body.contains("projects"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn an_editor_writes_inside_the_share_on_the_owners_quota() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Editor").await;
    seed(&app, &ann).await;
    let shared = share(
        &app,
        &ann,
        &format!("/{HIDDEN}/projects/shared"),
        &bob,
        "editor",
    )
    .await;
    let id = shared.id;
    let token = Some(bob.token.as_str());
    let before = usage(&app, &ann).await.used_bytes;

    let bytes = sample_bytes(MIB + 5, 9);
    let entry = upload_in_share(&app, &bob, id, "/sub/new.bin", &bytes).await;
    assert_eq!(
        (entry.path.as_str(), entry.size),
        ("/sub/new.bin", bytes.len() as u64)
    );
    assert_eq!(
        usage(&app, &ann).await.used_bytes,
        before + bytes.len() as u64
    );
    assert_eq!(usage(&app, &bob).await.used_bytes, 0);
    assert_eq!(
        names(&app, &ann.token, &format!("/{HIDDEN}/projects/shared/sub")).await,
        ["b.bin", "new.bin"]
    );
    assert_eq!(
        download_in_share(&app, &bob, id, "/sub/new.bin").await,
        bytes
    );

    let response = app
        .post(
            &in_share("/v1/folders", id, &[]),
            token,
            &json!({"path": "/made"}),
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    assert_eq!(serde_json::from_str::<Entry>(&text).unwrap().path, "/made");
    let response = app
        .post(
            &in_share("/v1/files/move", id, &[]),
            token,
            &json!({"from": "/sub/new.bin", "to": "/made/moved.bin"}),
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(
        serde_json::from_str::<Entry>(&text).unwrap().path,
        "/made/moved.bin"
    );
    let response = app
        .delete(
            &in_share("/v1/files", id, &[("path", "/made"), ("recursive", "true")]),
            token,
            None,
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    // An editor's delete goes into the owner's trash: out of the tree, still in the quota.
    let deleted: Deleted = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (
            deleted.n_files,
            deleted.trashed,
            deleted.bytes_freed,
            deleted.bytes_trashed
        ),
        (1, true, 0, bytes.len() as u64)
    );
    let after = usage(&app, &ann).await;
    assert_eq!(
        (after.used_bytes, after.trash_bytes),
        (before, bytes.len() as u64)
    );

    // The shared item itself cannot be deleted or moved by the recipient.
    let root_delete = app
        .delete(
            &in_share("/v1/files", id, &[("path", "/"), ("recursive", "true")]),
            token,
            None,
        )
        .await;
    assert_eq!(error_code(root_delete).await.0, StatusCode::FORBIDDEN);
    let root_move = app
        .post(
            &in_share("/v1/files/move", id, &[]),
            token,
            &json!({"from": "/", "to": "/x"}),
        )
        .await;
    assert_eq!(error_code(root_move).await.0, StatusCode::FORBIDDEN);

    // An upload session through the share: relative paths, and an abort frees the reservation.
    let response = app
        .post(
            &in_share("/v1/uploads", id, &[]),
            token,
            &json!({"path": "/later.bin", "size": 10}),
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let session: UploadSession = serde_json::from_str(&text).unwrap();
    assert_eq!(session.path, "/later.bin");
    assert!(!text.contains(HIDDEN), "{text}");
    assert_eq!(usage(&app, &ann).await.reserved_bytes, 10);
    let upload_path = format!("/v1/uploads/{}", session.upload_id);
    let (status, text) =
        status_and_text(app.get(&in_share(&upload_path, id, &[]), token).await).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(
        serde_json::from_str::<UploadSession>(&text).unwrap().path,
        "/later.bin"
    );
    // Without share= the session is not the editor's own.
    assert_eq!(
        app.get(&upload_path, token).await.status(),
        StatusCode::NOT_FOUND
    );
    let aborted = app
        .delete(&in_share(&upload_path, id, &[]), token, None)
        .await;
    assert_eq!(aborted.status(), StatusCode::NO_CONTENT);
    assert_eq!(usage(&app, &ann).await.reserved_bytes, 0);
}

#[tokio::test]
async fn an_editor_upload_over_the_owners_quota_is_413() {
    let app = spawn_app_with_quota(1000).await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Editor").await;
    mkdir(&app, &ann.token, "/drop", false).await;
    upload(&app, &ann.token, "/drop/ann.bin", &[1u8; 600]).await;
    let shared = share(&app, &ann, "/drop", &bob, "editor").await;

    // Bob's own tree is empty, yet the owner's quota is what counts.
    let response = app
        .post(
            &in_share("/v1/uploads", shared.id, &[]),
            Some(&bob.token),
            &json!({"path": "/bob.bin", "size": 500}),
        )
        .await;
    let (status, code, _) = error_code(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded")
    );
    let entry = upload_in_share(&app, &bob, shared.id, "/bob.bin", &[2u8; 400]).await;
    assert_eq!(entry.size, 400);
    assert_eq!(usage(&app, &ann).await.used_bytes, 1000);
}

#[tokio::test]
async fn a_shared_file_is_reached_at_the_root_of_its_share() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Viewer").await;
    mkdir(&app, &ann.token, &format!("/{HIDDEN}"), false).await;
    upload(
        &app,
        &ann.token,
        &format!("/{HIDDEN}/report.pdf"),
        b"%PDF report",
    )
    .await;
    let shared = share(&app, &ann, &format!("/{HIDDEN}/report.pdf"), &bob, "viewer").await;
    let token = Some(bob.token.as_str());

    let response = app
        .get(
            &in_share("/v1/files/metadata", shared.id, &[("path", "/")]),
            token,
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let entry: Entry = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (entry.path.as_str(), entry.name.as_str(), entry.kind),
        ("/", "report.pdf", EntryKind::File)
    );
    assert!(!text.contains(HIDDEN), "{text}");
    assert_eq!(
        download_in_share(&app, &bob, shared.id, "/").await,
        b"%PDF report"
    );
    let other = app
        .get(
            &in_share("/v1/downloads", shared.id, &[("path", "/other")]),
            token,
        )
        .await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}
