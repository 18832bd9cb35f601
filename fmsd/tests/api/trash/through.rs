//! The trash reached other ways than the owner's own `DELETE /v1/files`: an editor's delete
//! through a share lands in the owner's trash (and a permanent one is refused there), the end
//! of the shares and links a delete takes is told and not undone by a restore, and a WebDAV
//! `DELETE` moves a folder whole.

use common::api::Deleted;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{delete, restore, trash, usage};
use crate::dav::{app_token, dav, dav_with};
use crate::fixtures::{mkdir, names, upload};
use crate::helpers::{error_code, spawn_app};
use crate::sharing_support::{in_share, share, status_and_text, wait_for_event};

#[tokio::test]
async fn an_editors_delete_goes_to_the_owners_trash() {
    let app = spawn_app().await;
    let (ann, bob) = (
        app.register_and_login().await,
        app.register_and_login().await,
    );
    mkdir(&app, &ann.token, "/team", false).await;
    upload(&app, &ann.token, "/team/plan.txt", b"plan").await;
    upload(&app, &ann.token, "/mine.txt", b"mine").await;
    let shared = share(&app, &ann, "/team", &bob, "editor").await;
    let link = app
        .post("/v1/links", Some(&ann.token), &json!({"path": "/mine.txt"}))
        .await;
    assert_eq!(link.status(), StatusCode::CREATED);
    let token = Some(bob.token.as_str());

    // A permanent delete through a share is refused; nothing moved.
    let refused = app
        .delete(
            &in_share(
                "/v1/files",
                shared.id,
                &[("path", "/plan.txt"), ("permanent", "true")],
            ),
            token,
            None,
        )
        .await;
    assert_eq!(error_code(refused).await.0, StatusCode::FORBIDDEN);
    let response = app
        .delete(
            &in_share("/v1/files", shared.id, &[("path", "/plan.txt")]),
            token,
            None,
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let deleted: Deleted = serde_json::from_str(&text).unwrap();
    assert!(deleted.trashed);
    // In Ann's trash, by Bob, under Ann's path; Bob's own trash is empty and reaches nothing.
    let listing = trash(&app, &ann).await;
    assert_eq!(listing.items.len(), 1);
    assert_eq!(
        (
            listing.items[0].path.as_str(),
            listing.items[0].trashed_by,
            listing.items[0].trashed_by_email.as_deref()
        ),
        ("/team/plan.txt", bob.id, Some(bob.email.as_str()))
    );
    assert!(trash(&app, &bob).await.items.is_empty());
    let id = listing.items[0].id;
    for response in [
        app.get(&format!("/v1/trash/{id}"), token).await,
        app.post(&format!("/v1/trash/{id}/restore"), token, &json!({}))
            .await,
        app.delete(&format!("/v1/trash/{id}"), token, None).await,
    ] {
        let (status, code, _) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found")
        );
    }
    assert_eq!(usage(&app, &ann).await.trash_bytes, 4);
    assert_eq!(usage(&app, &bob).await.trash_bytes, 0);

    // Trashing the shared folder ends the share (and a file's link); a restore brings neither.
    let shared_listing = app
        .get(&in_share("/v1/files", shared.id, &[("path", "/")]), token)
        .await;
    assert_eq!(shared_listing.status(), StatusCode::OK);
    delete(&app, &ann, "/team", false).await;
    delete(&app, &ann, "/mine.txt", false).await;
    let after = app
        .get(&in_share("/v1/files", shared.id, &[("path", "/")]), token)
        .await;
    assert_eq!(after.status(), StatusCode::NOT_FOUND);
    for item in trash(&app, &ann).await.items {
        if item.path != "/team/plan.txt" {
            restore(&app, &ann, item.id, json!({})).await;
        }
    }
    assert_eq!(names(&app, &ann.token, "/").await, ["mine.txt", "team"]);
    let shares: Value = app
        .get("/v1/shares/outgoing", Some(&ann.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shares["shares"], json!([]), "{shares}");
    let links: Value = app
        .get("/v1/links", Some(&ann.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(links["links"], json!([]), "{links}");
    let after = app
        .get(&in_share("/v1/files", shared.id, &[("path", "/")]), token)
        .await;
    assert_eq!(after.status(), StatusCode::NOT_FOUND);
    // Their ends were told (the relay publishes the outbox soon after each commit).
    wait_for_event(&app, "files.share_revoked", |e| {
        e.payload["share_id"] == shared.id.to_string()
    })
    .await;
    wait_for_event(&app, "files.link_revoked", |_| true).await;
}

#[tokio::test]
async fn a_webdav_delete_goes_to_the_trash_a_folder_whole() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let password = app_token(&app, &ann, "read-write").await;
    mkdir(&app, &ann.token, "/docs/deep", true).await;
    upload(&app, &ann.token, "/docs/a.txt", b"a").await;
    upload(&app, &ann.token, "/docs/deep/b.txt", b"bb").await;
    upload(&app, &ann.token, "/single.txt", b"ccc").await;

    // A folder: one item, everything in it.
    let deleted = dav(&app, "DELETE", "/docs/", &password, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = dav(&app, "PROPFIND", "/docs/", &password, None).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let listing = trash(&app, &ann).await;
    assert_eq!(listing.items.len(), 1, "{listing:?}");
    assert_eq!(
        (
            listing.items[0].path.as_str(),
            listing.items[0].n_files,
            listing.items[0].n_folders,
            listing.items[0].size
        ),
        ("/docs", 2, 2, 3)
    );
    // A file.
    let deleted = dav(&app, "DELETE", "/single.txt", &password, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(trash(&app, &ann).await.items.len(), 2);
    assert!(names(&app, &ann.token, "/").await.is_empty());

    // Restored over HTTP, it reads back over WebDAV.
    let folder = listing.items[0].id;
    restore(&app, &ann, folder, json!({})).await;
    let got = dav(&app, "GET", "/docs/deep/b.txt", &password, None).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"bb");

    // What a MOVE with `Overwrite: T` replaces goes for good, as a replaced file does.
    let destination = format!("{}/dav/docs/a.txt", app.address);
    let moved = dav_with(
        &app,
        "MOVE",
        "/docs/deep/b.txt",
        &password,
        &[("destination", destination.as_str()), ("overwrite", "T")],
        None,
    )
    .await;
    assert!(moved.status().is_success(), "{}", moved.status());
    assert_eq!(trash(&app, &ann).await.items.len(), 1);
    let got = dav(&app, "GET", "/docs/a.txt", &password, None).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"bb");
}
