//! An upload session's life beyond the happy path: a rerun resumes it, its parts survive a
//! restart, a bad checksum keeps the file invisible, part URLs and sessions expire, open sessions
//! count against the quota, and an abort frees what it held.

use common::api::{Entry, Usage};
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{
    complete, count_files, create_upload, put_part, sample_bytes, session, sha256_hex, slice,
    spawn_app_with_quota, url, MIB,
};
use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn a_rerun_resumes_the_session_and_sees_which_parts_are_stored() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let bytes = sample_bytes(2 * MIB + 1, 2);
    let request = json!({"path": "/resume.bin", "size": bytes.len(), "sha256": sha256_hex(&bytes)});
    let (status, first) = create_upload(&app, &user.token, request.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        put_part(
            &app,
            &first.parts[1].url,
            slice(&bytes, &first.parts[1]).to_vec()
        )
        .await
        .status(),
        StatusCode::OK
    );

    let (status, again) = create_upload(&app, &user.token, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again.upload_id, first.upload_id);
    let stored: Vec<bool> = again.parts.iter().map(|part| part.stored).collect();
    assert_eq!(stored, [false, true, false]);
    let shown = session(&app, &user.token, first.upload_id).await;
    assert_eq!(
        shown
            .parts
            .iter()
            .map(|part| part.stored)
            .collect::<Vec<_>>(),
        stored
    );

    // Another size or no checksum is another upload.
    let (status, other) = create_upload(
        &app,
        &user.token,
        json!({"path": "/resume.bin", "size": bytes.len()}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(other.upload_id, first.upload_id);

    // Completing with a part missing is a conflict that names it.
    let (status, _, message) = error_code(complete(&app, &user.token, &again, None).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("parts 1, 3"), "{message}");

    for part in again.parts.iter().filter(|part| !part.stored) {
        assert_eq!(
            put_part(&app, &part.url, slice(&bytes, part).to_vec())
                .await
                .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        complete(&app, &user.token, &again, None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn stored_parts_survive_a_restart() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let bytes = sample_bytes(MIB + 100, 3);
    let (_, created) = create_upload(
        &app,
        &user.token,
        json!({"path": "/r.bin", "size": bytes.len()}),
    )
    .await;
    assert_eq!(
        put_part(
            &app,
            &created.parts[0].url,
            slice(&bytes, &created.parts[0]).to_vec()
        )
        .await
        .status(),
        StatusCode::OK
    );

    let app = app.restart().await;
    let shown = session(&app, &user.token, created.upload_id).await;
    assert_eq!(
        shown
            .parts
            .iter()
            .map(|part| part.stored)
            .collect::<Vec<_>>(),
        [true, false]
    );
    let last = &shown.parts[1];
    assert_eq!(
        put_part(&app, &last.url, slice(&bytes, last).to_vec())
            .await
            .status(),
        StatusCode::OK
    );
    let entry: Entry = complete(&app, &user.token, &shown, None)
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(entry.sha256.as_deref(), Some(sha256_hex(&bytes).as_str()));
}

#[tokio::test]
async fn a_bad_checksum_is_422_and_nothing_becomes_visible() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let bytes = sample_bytes(MIB + 5, 4);
    let wrong = sha256_hex(b"something else");

    // Announced at create.
    let (_, created) = create_upload(
        &app,
        &user.token,
        json!({"path": "/c.bin", "size": bytes.len(), "sha256": wrong}),
    )
    .await;
    for part in &created.parts {
        put_part(&app, &part.url, slice(&bytes, part).to_vec()).await;
    }
    let (status, code, message) =
        error_code(complete(&app, &user.token, &created, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "integrity"),
        "{message}"
    );
    assert!(message.contains(&sha256_hex(&bytes)), "{message}");
    let metadata = app
        .get(
            &url("/v1/files/metadata", &[("path", "/c.bin")]),
            Some(&user.token),
        )
        .await;
    assert_eq!(metadata.status(), StatusCode::NOT_FOUND);
    assert_eq!(count_files(&app.data_dir.join("blobs/objects")), 0);
    // The session stays, its parts to be sent again.
    let shown = session(&app, &user.token, created.upload_id).await;
    assert!(shown.parts.iter().all(|part| !part.stored));
    // A different checksum at complete than at create is refused outright.
    let (status, _, message) =
        error_code(complete(&app, &user.token, &created, Some(&sha256_hex(&bytes))).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("differs"), "{message}");

    // Given only at complete: wrong, then right after sending the parts again.
    let (_, created) = create_upload(
        &app,
        &user.token,
        json!({"path": "/d.bin", "size": bytes.len()}),
    )
    .await;
    for part in &created.parts {
        put_part(&app, &part.url, slice(&bytes, part).to_vec()).await;
    }
    let (status, _, _) =
        error_code(complete(&app, &user.token, &created, Some(&wrong)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let metadata = app
        .get(
            &url("/v1/files/metadata", &[("path", "/d.bin")]),
            Some(&user.token),
        )
        .await;
    assert_eq!(metadata.status(), StatusCode::NOT_FOUND);
    for part in &created.parts {
        put_part(&app, &part.url, slice(&bytes, part).to_vec()).await;
    }
    let response = complete(&app, &user.token, &created, Some(&sha256_hex(&bytes))).await;
    assert_eq!(response.status(), StatusCode::OK);

    let (status, _, message) =
        error_code(complete(&app, &user.token, &created, Some("not-hex")).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{message}");
}

#[tokio::test]
async fn an_expired_part_url_is_403_and_a_fresh_one_works() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let (_, created) =
        create_upload(&app, &user.token, json!({"path": "/e.bin", "size": 10})).await;
    app.clock.advance(chrono::Duration::seconds(3601));
    let (status, code, message) =
        error_code(put_part(&app, &created.parts[0].url, vec![0; 10]).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert!(message.contains("expired"), "{message}");

    // The access token expired too; a new login asks for fresh URLs.
    let token = app.login(&user.email, &user.password).await.access_token;
    let fresh = session(&app, &token, created.upload_id).await;
    assert!(fresh.urls_expire_at > created.urls_expire_at);
    assert_eq!(
        put_part(&app, &fresh.parts[0].url, vec![0; 10])
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_quota_is_checked_at_create_counting_open_sessions() {
    let app = spawn_app_with_quota(3 * MIB as u64).await;
    let user = app.register_and_login().await;
    let (status, first) =
        create_upload(&app, &user.token, json!({"path": "/one", "size": 2 * MIB})).await;
    assert_eq!(status, StatusCode::CREATED);

    let response = app
        .post(
            "/v1/uploads",
            Some(&user.token),
            &json!({"path": "/two", "size": 2 * MIB}),
        )
        .await;
    let (status, code, message) = error_code(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded"),
        "{message}"
    );
    let response = app
        .post(
            "/v1/uploads",
            Some(&user.token),
            &json!({"path": "/huge", "size": 4 * MIB}),
        )
        .await;
    assert_eq!(error_code(response).await.1, "quota_exceeded");

    // Aborting frees the reservation.
    let response = app
        .delete(
            &format!("/v1/uploads/{}", first.upload_id),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, _) =
        create_upload(&app, &user.token, json!({"path": "/two", "size": 2 * MIB})).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn abort_ends_the_session_and_frees_its_parts() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let (_, created) =
        create_upload(&app, &user.token, json!({"path": "/a.bin", "size": 10})).await;
    put_part(&app, &created.parts[0].url, vec![0; 10]).await;
    let path = format!("/v1/uploads/{}", created.upload_id);
    assert_eq!(
        app.delete(&path, Some(&user.token), None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&path, Some(&user.token)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&path, Some(&user.token), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        error_code(put_part(&app, &created.parts[0].url, vec![0; 10]).await)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(count_files(&app.data_dir.join("blobs/staging")), 0);
    let usage: Usage = app
        .get("/v1/usage", Some(&user.token))
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(usage.reserved_bytes, 0);
}

#[tokio::test]
async fn an_expired_session_is_gone_reserves_nothing_and_is_swept() {
    let app =
        crate::helpers::spawn_app_with(|settings| settings.files.sweep_interval_secs = 1).await;
    let user = app.register_and_login().await;
    let (_, created) =
        create_upload(&app, &user.token, json!({"path": "/old.bin", "size": 10})).await;
    put_part(&app, &created.parts[0].url, vec![0; 10]).await;
    app.clock.advance(chrono::Duration::hours(25));
    let token = app.login(&user.email, &user.password).await.access_token;
    let path = format!("/v1/uploads/{}", created.upload_id);
    assert_eq!(
        app.get(&path, Some(&token)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        error_code(complete(&app, &token, &created, None).await)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let usage: Usage = app
        .get("/v1/usage", Some(&token))
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(usage.reserved_bytes, 0);
    // The same upload again starts afresh instead of resuming the expired session.
    let (status, again) =
        create_upload(&app, &token, json!({"path": "/old.bin", "size": 10})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(again.upload_id, created.upload_id);

    // The sweep frees the expired session's staging and keeps the live one.
    let staging = app.data_dir.join("blobs/staging");
    let swept = crate::helpers::eventually(|| (count_dirs(&staging) == 1).then_some(())).await;
    assert!(swept.is_some(), "the expired staging was not swept");
    assert!(session(&app, &token, again.upload_id)
        .await
        .parts
        .iter()
        .all(|part| !part.stored));
    assert_eq!(
        put_part(&app, &again.parts[0].url, vec![0; 10])
            .await
            .status(),
        StatusCode::OK
    );
}

/// How many folders `dir` holds.
fn count_dirs(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.path().is_dir())
                .count()
        })
        .unwrap_or(0)
}
