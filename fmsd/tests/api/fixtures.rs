//! What the files, uploads and authorization tests share: requests that make folders, upload
//! and download files, list a folder, plus sample bytes, checksums and counters of blobs on disk.
//! The test app cuts files into 1 MiB parts.

use common::api::{Entry, Listing, UploadPart, UploadSession};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;

/// `endpoint?key=value&...`, encoded.
pub fn url(endpoint: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    format!("{endpoint}?{}", query.finish())
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `n` bytes that differ from part to part, so a misplaced part changes the checksum.
pub fn sample_bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| {
            (i as u8)
                .wrapping_mul(31)
                .wrapping_add((i / 1000) as u8)
                .wrapping_add(seed)
        })
        .collect()
}

/// `POST /v1/folders`.
pub async fn mkdir(app: &TestApp, token: &str, path: &str, parents: bool) -> Response {
    app.post(
        "/v1/folders",
        Some(token),
        &json!({"path": path, "parents": parents}),
    )
    .await
}

/// `POST /v1/uploads`; the session, whatever the status.
pub async fn create_upload(app: &TestApp, token: &str, body: Value) -> (StatusCode, UploadSession) {
    let response = app.post("/v1/uploads", Some(token), &body).await;
    let status = response.status();
    let text = response.text().await.expect("a body");
    let session = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"));
    (status, session)
}

/// `PUT`s `bytes` to a part URL.
pub async fn put_part(app: &TestApp, url: &str, bytes: Vec<u8>) -> Response {
    app.client
        .put(url)
        .body(bytes)
        .send()
        .await
        .expect("the part is sent")
}

/// `PUT`s the bytes of `part` (of a file whose bytes are `bytes`) to its URL.
pub async fn put_part_of(app: &TestApp, part: &UploadPart, bytes: &[u8]) -> Response {
    let range = part.offset as usize..(part.offset + part.size) as usize;
    put_part(app, &part.url, bytes[range].to_vec()).await
}

/// `POST /v1/uploads/{id}/complete` with an optional checksum.
pub async fn complete(
    app: &TestApp,
    token: &str,
    session: &UploadSession,
    sha256: Option<&str>,
) -> Response {
    let body = match sha256 {
        Some(sha256) => json!({"sha256": sha256}),
        None => json!({}),
    };
    app.post(
        &format!("/v1/uploads/{}/complete", session.upload_id),
        Some(token),
        &body,
    )
    .await
}

/// Uploads `bytes` to `path` (every part, then complete) and returns the entry.
pub async fn upload(app: &TestApp, token: &str, path: &str, bytes: &[u8]) -> Entry {
    let (status, session) = create_upload(
        app,
        token,
        json!({"path": path, "size": bytes.len(), "sha256": sha256_hex(bytes)}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    for part in &session.parts {
        let response = put_part_of(app, part, bytes).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
    }
    let response = complete(app, token, &session, None).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("an entry")
}

/// `GET` a signed download URL, with an optional `Range`.
pub async fn fetch(app: &TestApp, url: &str, range: Option<&str>) -> Response {
    let request = app.client.get(url);
    let request = match range {
        Some(range) => request.header("range", range),
        None => request,
    };
    request.send().await.expect("the download is sent")
}

/// The download link of `path`.
pub async fn download_link(app: &TestApp, token: &str, path: &str) -> Response {
    app.get(&url("/v1/downloads", &[("path", path)]), Some(token))
        .await
}

/// The names in one page of `path`.
pub async fn names(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let listing: Listing = app
        .get(&url("/v1/files", &[("path", path)]), Some(token))
        .await
        .json()
        .await
        .expect("a listing");
    listing
        .entries
        .into_iter()
        .map(|entry| entry.name)
        .collect()
}

/// How many files lie under `dir`.
pub fn count_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| {
            if entry.path().is_dir() {
                count_files(&entry.path())
            } else {
                1
            }
        })
        .sum()
}

/// The app with a quota of `quota_bytes`.
pub async fn spawn_app_with_quota(quota_bytes: u64) -> TestApp {
    crate::helpers::spawn_app_with(|settings| settings.files.quota_bytes = quota_bytes).await
}

/// The part size of the test app.
pub const MIB: usize = 1024 * 1024;

/// The bytes of `part` within `bytes`.
pub fn slice<'a>(bytes: &'a [u8], part: &common::api::UploadPart) -> &'a [u8] {
    &bytes[part.offset as usize..(part.offset + part.size) as usize]
}

/// `GET /v1/uploads/{id}`.
pub async fn session(app: &TestApp, token: &str, id: uuid::Uuid) -> UploadSession {
    let response = app.get(&format!("/v1/uploads/{id}"), Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a session")
}
