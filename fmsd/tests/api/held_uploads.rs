//! Upload sessions that hold the owner's quota though someone else started them (a link's
//! visitor, a share's editor): the owner lists them and ends any; revoking the link or share,
//! or making the share read-only, ends its sessions; one that stores no new part for the idle
//! timeout is swept; a link's open sessions are capped.

use common::api::{StartedThrough, UploadList};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::{create_upload, mkdir, sha256_hex};
use crate::helpers::{error_code, spawn_app_with, TestApp, TestUser};
use crate::sharing_support::{
    create_link, in_share, public, register_named, send, share, status_and_text, usage,
};

/// `GET /v1/uploads` as `user`.
async fn held(app: &TestApp, user: &TestUser) -> UploadList {
    let response = app.get("/v1/uploads", Some(&user.token)).await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The paths of `user`'s open sessions once there are `n` of them (the sweep runs every
/// second; waits up to 10 s).
async fn held_paths_once(app: &TestApp, user: &TestUser, n: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let paths: Vec<String> = held(app, user)
            .await
            .uploads
            .into_iter()
            .map(|held| held.path)
            .collect();
        if paths.len() == n || tokio::time::Instant::now() > deadline {
            return paths;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Starts an upload of `size` bytes as `name` through the file-request link `token`, sending
/// no byte; the session's id.
async fn reserve_through_link(app: &TestApp, token: &str, name: &str, size: u64) -> String {
    let (status, text) = reserve_attempt(app, token, name, size).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let session: serde_json::Value = serde_json::from_str(&text).unwrap();
    session["upload_id"].as_str().unwrap().to_owned()
}

/// The answer to starting an upload through the link `token`.
async fn reserve_attempt(
    app: &TestApp,
    token: &str,
    name: &str,
    size: u64,
) -> (StatusCode, String) {
    let body = json!({"name": name, "size": size});
    status_and_text(send(public(app, Method::POST, token, "/uploads", None).json(&body)).await)
        .await
}

/// An owner with a `/inbox` folder and a file-request link to it.
async fn owner_with_inbox(app: &TestApp) -> (TestUser, common::api::CreatedLink) {
    let ann = register_named(app, "Ann").await;
    assert_eq!(
        mkdir(app, &ann.token, "/inbox", false).await.status(),
        StatusCode::CREATED
    );
    let link = create_link(app, &ann, json!({"path": "/inbox", "upload_only": true})).await;
    (ann, link)
}

#[tokio::test]
async fn the_owner_lists_and_ends_the_sessions_a_link_and_a_share_started() {
    let app = spawn_app_with(|_| {}).await;
    let (ann, link) = owner_with_inbox(&app).await;
    let bob = register_named(&app, "Bob").await;
    let given = share(&app, &ann, "/inbox", &bob, "editor").await;
    let visitor = reserve_through_link(&app, &link.token, "big.iso", 5000).await;
    let response = app
        .post(
            &in_share("/v1/uploads", given.id, &[]),
            Some(&bob.token),
            &json!({"path": "/bob.bin", "size": 3000}),
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let (status, own) =
        create_upload(&app, &ann.token, json!({"path": "/mine.bin", "size": 100})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(usage(&app, &ann).await.reserved_bytes, 8100);

    let listed = held(&app, &ann).await.uploads;
    let summary: Vec<(String, u64, StartedThrough)> = listed
        .iter()
        .map(|held| (held.path.clone(), held.size, held.started_through))
        .collect();
    assert_eq!(
        summary,
        [
            ("/inbox/big.iso".to_owned(), 5000, StartedThrough::Link),
            ("/inbox/bob.bin".to_owned(), 3000, StartedThrough::Share),
            ("/mine.bin".to_owned(), 100, StartedThrough::Owner),
        ]
    );
    assert_eq!(listed[0].grant_id, Some(link.link.id));
    assert_eq!(listed[1].grant_id, Some(given.id));
    assert_eq!(listed[2].grant_id, None);
    assert_eq!(listed[2].upload_id, own.upload_id);
    // The editor sees only what they started, with paths inside the share.
    let theirs = app
        .get(&in_share("/v1/uploads", given.id, &[]), Some(&bob.token))
        .await;
    let (status, text) = status_and_text(theirs).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let theirs: UploadList = serde_json::from_str(&text).unwrap();
    assert_eq!(theirs.uploads.len(), 1);
    assert_eq!(theirs.uploads[0].path, "/bob.bin");

    // The owner ends the visitor's and the editor's sessions: their quota comes back.
    for held in &listed[..2] {
        let path = format!("/v1/uploads/{}", held.upload_id);
        let shown = app.get(&path, Some(&ann.token)).await;
        assert_eq!(shown.status(), StatusCode::OK);
        let ended = app.delete(&path, Some(&ann.token), None).await;
        assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(usage(&app, &ann).await.reserved_bytes, 100);
    let gone = send(public(
        &app,
        Method::GET,
        &link.token,
        &format!("/uploads/{visitor}"),
        None,
    ))
    .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    // Nobody else ends the owner's sessions.
    let other = app
        .delete(
            &format!("/v1/uploads/{}", own.upload_id),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn revoking_a_link_or_a_share_or_making_it_read_only_ends_its_sessions() {
    let app = spawn_app_with(|_| {}).await;
    let (ann, link) = owner_with_inbox(&app).await;
    let bob = register_named(&app, "Bob").await;
    let carol = register_named(&app, "Carol").await;
    let to_bob = share(&app, &ann, "/inbox", &bob, "editor").await;
    let to_carol = share(&app, &ann, "/inbox", &carol, "editor").await;
    reserve_through_link(&app, &link.token, "a.bin", 1000).await;
    reserve_through_link(&app, &link.token, "b.bin", 1000).await;
    for (user, given) in [(&bob, &to_bob), (&carol, &to_carol)] {
        let response = app
            .post(
                &in_share("/v1/uploads", given.id, &[]),
                Some(&user.token),
                &json!({"path": "/x.bin", "size": 500}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_eq!(usage(&app, &ann).await.reserved_bytes, 3000);

    let revoked = app
        .delete(
            &format!("/v1/links/{}", link.link.id),
            Some(&ann.token),
            None,
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(usage(&app, &ann).await.reserved_bytes, 1000);

    let unshared = app
        .delete(&format!("/v1/shares/{}", to_bob.id), Some(&ann.token), None)
        .await;
    assert_eq!(unshared.status(), StatusCode::NO_CONTENT);
    assert_eq!(usage(&app, &ann).await.reserved_bytes, 500);

    let read_only = app
        .patch(
            &format!("/v1/shares/{}", to_carol.id),
            Some(&ann.token),
            &json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(read_only.status(), StatusCode::OK);
    assert_eq!(usage(&app, &ann).await.reserved_bytes, 0);
    assert!(held(&app, &ann).await.uploads.is_empty());
}

#[tokio::test]
async fn a_session_through_a_link_that_stores_no_new_part_for_the_idle_timeout_is_swept() {
    let app = spawn_app_with(|settings| {
        settings.files.sweep_interval_secs = 1;
        settings.files.idle_upload_timeout_secs = 600;
        // The clock moves 20 minutes; the owner's login outlives it.
        settings.auth.access_token_ttl_secs = 3600;
    })
    .await;
    let (ann, link) = owner_with_inbox(&app).await;
    let bytes = vec![5u8; 2 * 1024 * 1024];
    let body = json!({"name": "slow.bin", "size": bytes.len(), "sha256": sha256_hex(&bytes)});
    let (status, text) = status_and_text(
        send(public(&app, Method::POST, &link.token, "/uploads", None).json(&body)).await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let slow: common::api::sharing::LinkUploadSession = serde_json::from_str(&text).unwrap();
    let idle = reserve_through_link(&app, &link.token, "idle.bin", 1000).await;
    let (_, own) = create_upload(&app, &ann.token, json!({"path": "/mine.bin", "size": 10})).await;

    // Ten minutes on, the slow upload has sent a part since it started; the idle one nothing.
    let part = &slow.parts[0];
    let first = &bytes[..part.size as usize];
    assert_eq!(
        app.client
            .put(&part.url)
            .body(first.to_vec())
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    app.clock.advance(chrono::Duration::seconds(601));
    let left = held_paths_once(&app, &ann, 2).await;
    assert_eq!(left, ["/inbox/slow.bin", "/mine.bin"]);
    let gone = send(public(
        &app,
        Method::GET,
        &link.token,
        &format!("/uploads/{idle}"),
        None,
    ))
    .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // Another ten minutes with nothing new: the slow one goes too; the owner's own stays.
    app.clock.advance(chrono::Duration::seconds(601));
    let left = held_paths_once(&app, &ann, 1).await;
    assert_eq!(left, ["/mine.bin"]);
    assert_eq!(usage(&app, &ann).await.reserved_bytes, own.size);
}

#[tokio::test]
async fn a_links_open_sessions_are_capped_and_a_place_frees_when_one_ends() {
    let app = spawn_app_with(|settings| {
        settings.files.link_pending_uploads = 2;
        settings.files.link_pending_bytes = 5000;
    })
    .await;
    let (ann, link) = owner_with_inbox(&app).await;
    let first = reserve_through_link(&app, &link.token, "a.bin", 3000).await;
    let (status, text) = reserve_attempt(&app, &link.token, "b.bin", 2001).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{text}");
    reserve_through_link(&app, &link.token, "b.bin", 2000).await;
    let third = send(
        public(&app, Method::POST, &link.token, "/uploads", None)
            .json(&json!({"name": "c.bin", "size": 1})),
    )
    .await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().get("retry-after").is_some());
    let (_, code, _) = error_code(third).await;
    assert_eq!(code, "rate_limited");
    // The owner's own uploads are not held back by the link's cap.
    let (status, _) =
        create_upload(&app, &ann.token, json!({"path": "/mine.bin", "size": 10})).await;
    assert_eq!(status, StatusCode::CREATED);

    let ended = app
        .delete(&format!("/v1/uploads/{first}"), Some(&ann.token), None)
        .await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    reserve_through_link(&app, &link.token, "c.bin", 1).await;
}
