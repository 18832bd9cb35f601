//! One customer's files are invisible to another: every files and uploads endpoint is scoped by
//! the caller, so another user's path or session is simply not found. Signed URLs work only as
//! they were signed, and a deleted account's files go with it.

use common::api::{DownloadLink, Listing, UploadSession, Usage};
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{
    complete, count_files, create_upload, download_link, fetch, mkdir, put_part, upload, url,
};
use crate::helpers::{error_code, eventually, spawn_app};

#[tokio::test]
async fn another_user_cannot_see_or_touch_a_users_files() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let bob = app.register_and_login().await;
    mkdir(&app, &ann.token, "/private", false).await;
    upload(&app, &ann.token, "/private/secret.txt", b"ann's secret").await;
    let bob_token = Some(bob.token.as_str());

    // Bob's tree is empty and Ann's paths do not exist for him.
    let listing: Listing = app
        .get("/v1/files?path=/", bob_token)
        .await
        .json()
        .await
        .expect("a JSON body");
    assert!(listing.entries.is_empty());
    let usage: Usage = app
        .get("/v1/usage", bob_token)
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(
        (usage.used_bytes, usage.n_files, usage.n_folders),
        (0, 0, 0)
    );
    let attempts = [
        app.get(&url("/v1/files", &[("path", "/private")]), bob_token)
            .await,
        app.get(
            &url("/v1/files/metadata", &[("path", "/private/secret.txt")]),
            bob_token,
        )
        .await,
        app.get(
            &url("/v1/files/metadata", &[("path", "/private")]),
            bob_token,
        )
        .await,
        download_link(&app, &bob.token, "/private/secret.txt").await,
        app.post(
            "/v1/files/move",
            bob_token,
            &json!({"from": "/private", "to": "/mine"}),
        )
        .await,
        app.post(
            "/v1/files/move",
            bob_token,
            &json!({"from": "/private/secret.txt", "to": "/stolen.txt"}),
        )
        .await,
        app.delete(
            &url("/v1/files", &[("path", "/private"), ("recursive", "true")]),
            bob_token,
            None,
        )
        .await,
        app.delete(
            &url("/v1/files", &[("path", "/private/secret.txt")]),
            bob_token,
            None,
        )
        .await,
        app.post(
            "/v1/uploads",
            bob_token,
            &json!({"path": "/private/planted.txt", "size": 1}),
        )
        .await,
        app.post("/v1/folders", bob_token, &json!({"path": "/private/sub"}))
            .await,
    ];
    for response in attempts {
        let (status, code, message) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{message}"
        );
    }

    // Bob may use the same names in his own tree without touching Ann's.
    assert_eq!(
        mkdir(&app, &bob.token, "/private", false).await.status(),
        StatusCode::CREATED
    );
    upload(&app, &bob.token, "/private/secret.txt", b"bob's own").await;
    let link: DownloadLink = download_link(&app, &ann.token, "/private/secret.txt")
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(
        fetch(&app, &link.url, None)
            .await
            .bytes()
            .await
            .expect("the body")
            .as_ref(),
        b"ann's secret"
    );
    let link: DownloadLink = download_link(&app, &bob.token, "/private/secret.txt")
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(
        fetch(&app, &link.url, None)
            .await
            .bytes()
            .await
            .expect("the body")
            .as_ref(),
        b"bob's own"
    );
}

#[tokio::test]
async fn another_user_cannot_see_or_touch_an_upload_session() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let bob = app.register_and_login().await;
    let (_, session) = create_upload(&app, &ann.token, json!({"path": "/a.bin", "size": 4})).await;
    put_part(&app, &session.parts[0].url, b"abcd".to_vec()).await;
    let path = format!("/v1/uploads/{}", session.upload_id);

    let attempts = [
        app.get(&path, Some(&bob.token)).await,
        complete(&app, &bob.token, &session, None).await,
        app.delete(&path, Some(&bob.token), None).await,
    ];
    for response in attempts {
        let (status, code, _) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found")
        );
    }
    // Resuming by path, size and checksum only finds one's own sessions.
    let request =
        json!({"path": "/a.bin", "size": 4, "sha256": crate::fixtures::sha256_hex(b"abcd")});
    let (_, ann_resumable) = create_upload(&app, &ann.token, request.clone()).await;
    let (status, bobs): (StatusCode, UploadSession) =
        create_upload(&app, &bob.token, request).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(bobs.upload_id, ann_resumable.upload_id);

    // Ann's session is intact.
    let response = complete(&app, &ann.token, &session, None).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_signed_url_is_good_only_for_what_it_was_signed_for() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let bob = app.register_and_login().await;
    upload(&app, &ann.token, "/ann.txt", b"ann").await;
    upload(&app, &bob.token, "/bob.txt", b"bob").await;
    let ann_link: DownloadLink = download_link(&app, &ann.token, "/ann.txt")
        .await
        .json()
        .await
        .expect("a JSON body");
    let bob_link: DownloadLink = download_link(&app, &bob.token, "/bob.txt")
        .await
        .json()
        .await
        .expect("a JSON body");

    // Ann's signature on Bob's blob key does not open it.
    let key_of = |link: &str| {
        link.split("/blobs/files/")
            .nth(1)
            .expect("the test data is well formed")
            .split('?')
            .next()
            .expect("the test data is well formed")
            .to_owned()
    };
    let forged = ann_link
        .url
        .replace(&key_of(&ann_link.url), &key_of(&bob_link.url));
    let (status, code, _) = error_code(fetch(&app, &forged, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    // A download URL is not an upload URL.
    let response = app
        .client
        .put(&ann_link.url)
        .body("x")
        .send()
        .await
        .expect("the request is sent");
    assert!(response.status().is_client_error());
    // A guessed key without a signature is forbidden, a malformed one too.
    for guessed in [
        "/blobs/files/0123456789abcdef0123456789abcdef",
        "/blobs/files/..%2F..%2Fkeys",
    ] {
        let response = app.get(guessed, None).await;
        assert_eq!(
            error_code(response).await.0,
            StatusCode::FORBIDDEN,
            "{guessed}"
        );
    }
}

#[tokio::test]
async fn a_deleted_account_loses_its_files_and_its_tokens_stop_working() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let bob = app.register_and_login().await;
    upload(&app, &ann.token, "/a.txt", b"ann's").await;
    let (_, pending) = create_upload(
        &app,
        &ann.token,
        json!({"path": "/pending.bin", "size": 10}),
    )
    .await;
    put_part(&app, &pending.parts[0].url, vec![1; 10]).await;
    upload(&app, &bob.token, "/b.txt", b"bob's").await;
    let ann_link: DownloadLink = download_link(&app, &ann.token, "/a.txt")
        .await
        .json()
        .await
        .expect("a JSON body");

    let deleted = app
        .delete(
            "/v1/me",
            Some(&ann.token),
            Some(&json!({"password": ann.password})),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    // From the deletion on, every files endpoint refuses Ann's still-valid token.
    for response in [
        app.get("/v1/usage", Some(&ann.token)).await,
        app.get("/v1/files?path=/", Some(&ann.token)).await,
        app.post("/v1/folders", Some(&ann.token), &json!({"path": "/again"}))
            .await,
        app.post(
            "/v1/uploads",
            Some(&ann.token),
            &json!({"path": "/again", "size": 1}),
        )
        .await,
        app.get(
            &format!("/v1/uploads/{}", pending.upload_id),
            Some(&ann.token),
        )
        .await,
    ] {
        let (status, code, _) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized")
        );
    }

    // The purge runs on the event: Ann's bytes go, staging included; Bob's are untouched.
    let purged = eventually(|| {
        (count_files(&app.data_dir.join("blobs/staging")) == 0
            && count_files(&app.data_dir.join("blobs/objects")) == 1)
            .then_some(())
    })
    .await;
    assert!(
        purged.is_some(),
        "the deleted account's blobs are still there"
    );
    assert_eq!(
        fetch(&app, &ann_link.url, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let link: DownloadLink = download_link(&app, &bob.token, "/b.txt")
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(
        fetch(&app, &link.url, None)
            .await
            .bytes()
            .await
            .expect("the body")
            .as_ref(),
        b"bob's"
    );
}
