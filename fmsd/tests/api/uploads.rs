//! The upload protocol: create a session, send parts through signed URLs, complete, overwrite.
//! The test app cuts files into 1 MiB parts.

use common::api::{DownloadLink, Entry, Usage};
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{
    complete, count_files, create_upload, download_link, fetch, mkdir, put_part, sample_bytes,
    session, sha256_hex, slice, upload, url, MIB,
};
use crate::helpers::{error_code, spawn_app};

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
