//! Many uploads in one request (`POST /v1/uploads/batch`, `POST /v1/uploads/batch/complete`),
//! and the one-`PUT` upload of a small file whose SHA-256 is given up front (`part_headers`).

use common::api::{CompletedUploads, CreatedUploads, Entry, UploadSession, Usage};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fixtures::{
    complete, create_upload, download_link, fetch, mkdir, put_part_of, sample_bytes, sha256_hex,
    spawn_app_with_quota,
};
use crate::helpers::{spawn_app, TestApp};

/// `POST /v1/uploads/batch` with `uploads`; the answer, which must be 200.
async fn create_batch(app: &TestApp, token: &str, uploads: Value) -> CreatedUploads {
    let response = app
        .post(
            "/v1/uploads/batch",
            Some(token),
            &json!({ "uploads": uploads }),
        )
        .await;
    let status = response.status();
    let text = response.text().await.expect("a body");
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).expect("the batch's results")
}

/// `POST /v1/uploads/batch/complete` with `uploads`; the answer, which must be 200.
async fn complete_batch(app: &TestApp, token: &str, uploads: Value) -> CompletedUploads {
    let response = app
        .post(
            "/v1/uploads/batch/complete",
            Some(token),
            &json!({ "uploads": uploads }),
        )
        .await;
    let status = response.status();
    let text = response.text().await.expect("a body");
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).expect("the batch's results")
}

/// One small file's upload request with its checksum and `part_headers`.
fn small(path: &str, bytes: &[u8]) -> Value {
    json!({"path": path, "size": bytes.len(), "sha256": sha256_hex(bytes), "part_headers": true})
}

/// `PUT`s every part of `session` from `bytes`, with the headers each part names.
async fn send(app: &TestApp, session: &UploadSession, bytes: &[u8]) {
    for part in &session.parts {
        let response = put_part_of(app, part, bytes).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_batch_answers_each_file_alone_and_completes_the_good_ones() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    mkdir(&app, &user.token, "/docs", false).await;
    let taken = sample_bytes(10, 9);
    crate::fixtures::upload(&app, &user.token, "/docs/taken.txt", &taken).await;
    let files: Vec<Vec<u8>> = (0..3)
        .map(|seed| sample_bytes(4096 + seed, seed as u8))
        .collect();
    let created = create_batch(
        &app,
        &user.token,
        json!([
            small("/docs/a.bin", &files[0]),
            small("/nowhere/b.bin", &files[1]),
            small("/docs/taken.txt", &files[2]),
            {"path": "relative", "size": 1},
            small("/docs/c.bin", &files[2]),
        ]),
    )
    .await;
    let statuses: Vec<u16> = created.results.iter().map(|result| result.status).collect();
    assert_eq!(statuses, [201, 404, 409, 400, 201]);
    assert!(created.results[1]
        .error
        .as_ref()
        .is_some_and(|e| e.code == "not_found"));
    let a = created.results[0].session.clone().expect("a session");
    let c = created.results[4].session.clone().expect("a session");
    // A file of one part whose SHA-256 came with it is one PUT.
    assert_eq!(a.parts.len(), 1);
    send(&app, &a, &files[0]).await;
    send(&app, &c, &files[2]).await;

    let unknown = uuid::Uuid::new_v4();
    let completed = complete_batch(
        &app,
        &user.token,
        json!([
            {"upload_id": a.upload_id, "sha256": sha256_hex(&files[0])},
            {"upload_id": unknown},
            {"upload_id": c.upload_id},
        ]),
    )
    .await;
    let statuses: Vec<u16> = completed.results.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 404, 200]);
    let entry: &Entry = completed.results[2].entry.as_ref().expect("an entry");
    assert_eq!(entry.path, "/docs/c.bin");
    assert_eq!(
        entry.sha256.as_deref(),
        Some(sha256_hex(&files[2]).as_str())
    );

    for (path, bytes) in [("/docs/a.bin", &files[0]), ("/docs/c.bin", &files[2])] {
        let link: common::api::DownloadLink = download_link(&app, &user.token, path)
            .await
            .json()
            .await
            .expect("a link");
        let body = fetch(&app, &link.url, None)
            .await
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(body.as_ref(), bytes.as_slice());
    }
    let usage: Usage = app
        .get("/v1/usage", Some(&user.token))
        .await
        .json()
        .await
        .expect("usage");
    assert_eq!((usage.n_files, usage.reserved_bytes), (3, 0));
}

#[tokio::test]
async fn a_batch_never_reserves_past_the_quota() {
    let app = spawn_app_with_quota(10_000).await;
    let user = app.register_and_login().await;
    let bytes = sample_bytes(3_000, 1);
    let uploads: Vec<Value> = (0..4)
        .map(|n| small(&format!("/f{n}.bin"), &bytes))
        .collect();
    let created = create_batch(&app, &user.token, json!(uploads)).await;
    let statuses: Vec<u16> = created.results.iter().map(|result| result.status).collect();
    // Each file counts the ones before it: three fit, the fourth does not.
    assert_eq!(statuses, [201, 201, 201, 413]);
    assert_eq!(
        created.results[3].error.as_ref().map(|e| e.code.as_str()),
        Some("quota_exceeded")
    );
    let usage: Usage = app
        .get("/v1/usage", Some(&user.token))
        .await
        .json()
        .await
        .expect("usage");
    assert_eq!(usage.reserved_bytes, 9_000);
}

#[tokio::test]
async fn an_empty_or_oversized_batch_is_refused_whole() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let too_many: Vec<Value> = (0..101)
        .map(|n| json!({"path": format!("/f{n}"), "size": 1}))
        .collect();
    // A malformed SHA-256 breaks the request's schema: the whole batch is refused, and nothing
    // of it is stored.
    let malformed =
        json!([{"path": "/ok", "size": 1}, {"path": "/f", "size": 1, "sha256": "nothex"}]);
    // So does a path over the schema's 4,096 characters, or a segment over 255.
    let long_path = json!([{"path": "/ok", "size": 1}, {"path": format!("/{}", "d/".repeat(2100)) + "f", "size": 1}]);
    let long_name = json!([{"path": format!("/{}", "n".repeat(256)), "size": 1}]);
    for uploads in [json!([]), json!(too_many), malformed, long_path, long_name] {
        let response = app
            .post(
                "/v1/uploads/batch",
                Some(&user.token),
                &json!({ "uploads": uploads }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let nothex = json!([{"upload_id": uuid::Uuid::new_v4(), "sha256": "nothex"}]);
    for uploads in [json!([]), nothex] {
        let response = app
            .post(
                "/v1/uploads/batch/complete",
                Some(&user.token),
                &json!({ "uploads": uploads }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    let sessions = app.get("/v1/uploads", Some(&user.token)).await;
    let sessions: common::api::UploadList = sessions.json().await.expect("a list");
    assert!(sessions.uploads.is_empty(), "{sessions:?}");
    let response = app
        .post(
            "/v1/uploads/batch",
            None,
            &json!({"uploads": [{"path": "/a", "size": 1}]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_one_put_upload_refuses_bytes_that_are_not_the_announced_file() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let bytes = sample_bytes(5_000, 3);
    let (status, session) = create_upload(&app, &user.token, small("/one.bin", &bytes)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(session.parts.len(), 1);
    // Same length, other bytes: refused at complete, the session kept for a retry.
    let wrong = sample_bytes(5_000, 4);
    send(&app, &session, &wrong).await;
    let response = complete(&app, &user.token, &session, None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    send(&app, &session, &bytes).await;
    let response = complete(&app, &user.token, &session, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let entry: Entry = response.json().await.expect("an entry");
    assert_eq!(entry.sha256.as_deref(), Some(sha256_hex(&bytes).as_str()));

    // Run again, the same file resumes the same way: the server finds the session by checksum.
    let (status, again) = create_upload(&app, &user.token, small("/two.bin", &bytes)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, resumed) = create_upload(&app, &user.token, small("/two.bin", &bytes)).await;
    assert_eq!(
        (status, resumed.upload_id),
        (StatusCode::OK, again.upload_id)
    );
}
