//! The upload protocol: sessions, parts through signed URLs, resume, integrity checks, quota,
//! overwrite, abort, expiry. The test app cuts files into 1 MiB parts.

use common::api::{DownloadLink, Entry, UploadSession, Usage};
use reqwest::StatusCode;
use serde_json::json;

use crate::files::{
    complete, count_files, create_upload, download_link, fetch, mkdir, put_part, sample_bytes,
    sha256_hex, spawn_app_with_quota, upload, url,
};
use crate::helpers::{error_code, spawn_app, TestApp};

const MIB: usize = 1024 * 1024;

/// The bytes of `part` within `bytes`.
fn slice<'a>(bytes: &'a [u8], part: &common::api::UploadPart) -> &'a [u8] {
    &bytes[part.offset as usize..(part.offset + part.size) as usize]
}

/// `GET /v1/uploads/{id}`.
async fn session(app: &TestApp, token: &str, id: uuid::Uuid) -> UploadSession {
    let response = app.get(&format!("/v1/uploads/{id}"), Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a session")
}

#[tokio::test]
async fn a_file_uploaded_in_parallel_parts_becomes_visible_at_complete() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let bytes = sample_bytes(3 * MIB + 12_345, 1);
    let (status, created) = create_upload(
        &app,
        &user.token,
        json!({"path": "/video.bin", "size": bytes.len(), "sha256": sha256_hex(&bytes)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (created.path.as_str(), created.size, created.part_size),
        ("/video.bin", bytes.len() as u64, MIB as u64)
    );
    let layout: Vec<(u32, u64, u64, bool)> = created
        .parts
        .iter()
        .map(|part| (part.number, part.offset, part.size, part.stored))
        .collect();
    let mib = MIB as u64;
    assert_eq!(
        layout,
        [
            (1, 0, mib, false),
            (2, mib, mib, false),
            (3, 2 * mib, mib, false),
            (4, 3 * mib, 12_345, false)
        ]
    );
    assert!(created.urls_expire_at <= created.expires_at);

    // Nothing is visible before complete.
    let before = app
        .get(
            &url("/v1/files/metadata", &[("path", "/video.bin")]),
            Some(&user.token),
        )
        .await;
    assert_eq!(before.status(), StatusCode::NOT_FOUND);

    // All parts at once, last first.
    let puts = created
        .parts
        .iter()
        .rev()
        .map(|part| put_part(&app, &part.url, slice(&bytes, part).to_vec()));
    for (response, part) in futures::future::join_all(puts)
        .await
        .into_iter()
        .zip(created.parts.iter().rev())
    {
        assert_eq!(response.status(), StatusCode::OK);
        let stored: common::api::PartStored = response.json().await.expect("a JSON body");
        assert_eq!((stored.number, stored.size), (part.number, part.size));
    }
    let response = complete(&app, &user.token, &created, Some(&sha256_hex(&bytes))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let entry: Entry = response.json().await.expect("a JSON body");
    assert_eq!(
        (entry.path.as_str(), entry.size),
        ("/video.bin", bytes.len() as u64)
    );
    assert_eq!(entry.sha256.as_deref(), Some(sha256_hex(&bytes).as_str()));

    let link: DownloadLink = download_link(&app, &user.token, "/video.bin")
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
        bytes.as_slice()
    );
    // The session is over, and its staging with it.
    let gone = app
        .get(
            &format!("/v1/uploads/{}", created.upload_id),
            Some(&user.token),
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(count_files(&app.data_dir.join("blobs/staging")), 0);
    let usage: Usage = app
        .get("/v1/usage", Some(&user.token))
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(
        (usage.used_bytes, usage.reserved_bytes),
        (bytes.len() as u64, 0)
    );
}

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
async fn an_empty_file_has_no_parts() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let entry = upload(&app, &user.token, "/empty", b"").await;
    assert_eq!(
        (entry.size, entry.sha256.as_deref()),
        (0, Some(sha256_hex(b"").as_str()))
    );
    let link: DownloadLink = download_link(&app, &user.token, "/empty")
        .await
        .json()
        .await
        .expect("a JSON body");
    assert!(fetch(&app, &link.url, None)
        .await
        .bytes()
        .await
        .expect("the body")
        .is_empty());
}

#[tokio::test]
async fn a_part_of_the_wrong_size_is_refused_and_not_stored() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let (_, created) =
        create_upload(&app, &user.token, json!({"path": "/s.bin", "size": 1000})).await;
    let url = &created.parts[0].url;

    let (status, _, message) = error_code(put_part(&app, url, vec![1; 999]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{message}");
    assert!(message.contains("1000 bytes"), "{message}");
    assert_eq!(
        error_code(put_part(&app, url, vec![1; 1001]).await).await.0,
        StatusCode::BAD_REQUEST
    );
    // Without Content-Length (chunked), the bytes that arrive are counted.
    for n in [999, 1001] {
        let stream = futures::stream::iter([Ok::<_, std::io::Error>(vec![1u8; n])]);
        let response = app
            .client
            .put(url)
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .expect("the request is sent");
        let (status, code, message) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "integrity"),
            "{n}: {message}"
        );
    }
    assert!(!session(&app, &user.token, created.upload_id).await.parts[0].stored);

    assert_eq!(
        put_part(&app, url, vec![1; 1000]).await.status(),
        StatusCode::OK
    );
    assert!(session(&app, &user.token, created.upload_id).await.parts[0].stored);
    // A failed rewrite of a stored part forgets it.
    assert_eq!(
        error_code(put_part(&app, url, vec![1; 10]).await).await.0,
        StatusCode::BAD_REQUEST
    );
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(vec![1u8; 10])]);
    app.client
        .put(url)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("the request is sent");
    assert!(!session(&app, &user.token, created.upload_id).await.parts[0].stored);
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
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
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
async fn a_part_url_works_only_as_signed() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let (_, created) = create_upload(
        &app,
        &user.token,
        json!({"path": "/p.bin", "size": 2 * MIB}),
    )
    .await;
    let first = &created.parts[0].url;
    let other_part = first.replacen("/1?", "/2?", 1);
    let unsigned = first
        .split('?')
        .next()
        .expect("the test data is well formed")
        .to_owned();
    let tampered = first.replace("signature=", "signature=ab");
    let later = {
        let expires: i64 = first
            .split("expires=")
            .nth(1)
            .expect("the test data is well formed")
            .split('&')
            .next()
            .expect("the test data is well formed")
            .parse()
            .expect("the test data is well formed");
        first.replace(
            &format!("expires={expires}"),
            &format!("expires={}", expires + 3600),
        )
    };
    for url in [other_part, unsigned, tampered, later] {
        // A small body: the answer comes before the body is read.
        let (status, code, _) = error_code(put_part(&app, &url, vec![0; 10]).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{url}"
        );
    }
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
async fn overwrite_fail_refuses_and_replace_swaps_the_file_atomically() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    upload(&app, &user.token, "/f.txt", b"first version").await;

    let response = app
        .post(
            "/v1/uploads",
            Some(&user.token),
            &json!({"path": "/f.txt", "size": 3}),
        )
        .await;
    let (status, _, message) = error_code(response).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("overwrite=replace"), "{message}");

    let (status, created) = create_upload(
        &app,
        &user.token,
        json!({"path": "/f.txt", "size": 3, "overwrite": "replace"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    put_part(&app, &created.parts[0].url, b"new".to_vec()).await;
    // Until complete the old file is what is there.
    let link: DownloadLink = download_link(&app, &user.token, "/f.txt")
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
        b"first version"
    );
    let entry: Entry = complete(&app, &user.token, &created, None)
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(
        (
            entry.size,
            entry.sha256.expect("the test data is well formed")
        ),
        (3, sha256_hex(b"new"))
    );

    let link: DownloadLink = download_link(&app, &user.token, "/f.txt")
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
        b"new"
    );
    let usage: Usage = app
        .get("/v1/usage", Some(&user.token))
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!((usage.used_bytes, usage.n_files), (3, 1));
    // The old blob is gone from disk.
    assert_eq!(count_files(&app.data_dir.join("blobs/objects")), 1);

    // A file that appeared after create is still refused at complete under `fail`.
    let (_, late) = create_upload(&app, &user.token, json!({"path": "/late.txt", "size": 1})).await;
    put_part(&app, &late.parts[0].url, b"x".to_vec()).await;
    upload(&app, &user.token, "/late.txt", b"y").await;
    assert_eq!(
        error_code(complete(&app, &user.token, &late, None).await)
            .await
            .0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn create_checks_the_parent_the_target_and_the_checksum_format() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    mkdir(&app, &user.token, "/folder", false).await;
    upload(&app, &user.token, "/file", b"f").await;
    let cases = [
        (
            json!({"path": "/missing/x", "size": 1}),
            StatusCode::NOT_FOUND,
            "'/missing'",
        ),
        (
            json!({"path": "/file/x", "size": 1}),
            StatusCode::NOT_FOUND,
            "'/file'",
        ),
        (
            json!({"path": "/folder", "size": 1}),
            StatusCode::CONFLICT,
            "folder",
        ),
        (
            json!({"path": "/folder", "size": 1, "overwrite": "replace"}),
            StatusCode::CONFLICT,
            "folder",
        ),
        (
            json!({"path": "/", "size": 1}),
            StatusCode::BAD_REQUEST,
            "'/'",
        ),
        (
            json!({"path": "/x", "size": 1, "sha256": "xyz"}),
            StatusCode::BAD_REQUEST,
            "64 hexadecimal",
        ),
        (
            json!({"path": "/x", "size": -1}),
            StatusCode::BAD_REQUEST,
            "size",
        ),
        (
            json!({"path": "/x", "size": 1, "overwrite": "sometimes"}),
            StatusCode::BAD_REQUEST,
            "overwrite",
        ),
    ];
    for (body, expected, needle) in cases {
        let (status, _, message) =
            error_code(app.post("/v1/uploads", Some(&user.token), &body).await).await;
        assert_eq!(status, expected, "{body}: {message}");
        assert!(
            message.contains(needle),
            "{body}: {message:?} should contain {needle:?}"
        );
    }
    let response = app.get("/v1/uploads/not-a-uuid", Some(&user.token)).await;
    assert_eq!(error_code(response).await.0, StatusCode::BAD_REQUEST);
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
