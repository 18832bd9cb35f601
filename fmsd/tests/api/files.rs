//! The tree: path rules, mkdir, listing with keyset pagination, metadata, move, delete, usage,
//! download links with `Range`. Also the small upload helpers the other files tests share.

use common::api::{Deleted, DownloadLink, Entry, EntryKind, Listing, UploadSession, Usage};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{error_code, spawn_app, TestApp};

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
        let range = part.offset as usize..(part.offset + part.size) as usize;
        let response = put_part(app, &part.url, bytes[range].to_vec()).await;
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
async fn names(app: &TestApp, token: &str, path: &str) -> Vec<String> {
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

#[tokio::test]
async fn every_path_rule_is_a_400_that_names_it() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let token = Some(user.token.as_str());
    let long_segment = format!("/{}", "x".repeat(256));
    let long_path = "/abcdefgh".repeat(456);
    let cases = [
        ("a/b", "start with '/'"),
        ("", "not be empty"),
        ("/a/../b", "'..' segments"),
        ("/a/./b", "'.' segments"),
        ("/a//b", "empty segments"),
        ("/a/", "not end with '/'"),
        ("/a\0b", "control characters"),
        ("/a\u{1b}b", "control characters"),
        (long_segment.as_str(), "at most 255 bytes"),
        (long_path.as_str(), "at most 4096 bytes"),
    ];
    for (path, rule) in cases {
        let responses = [
            app.get(&url("/v1/files", &[("path", path)]), token).await,
            app.get(&url("/v1/files/metadata", &[("path", path)]), token)
                .await,
            app.delete(&url("/v1/files", &[("path", path)]), token, None)
                .await,
            app.get(&url("/v1/downloads", &[("path", path)]), token)
                .await,
            app.post("/v1/folders", token, &json!({"path": path})).await,
            app.post("/v1/files/move", token, &json!({"from": path, "to": "/ok"}))
                .await,
            app.post("/v1/files/move", token, &json!({"from": "/ok", "to": path}))
                .await,
            app.post("/v1/uploads", token, &json!({"path": path, "size": 1}))
                .await,
        ];
        for response in responses {
            let (status, code, message) = error_code(response).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::BAD_REQUEST, "invalid"),
                "{path:?}: {message}"
            );
            assert!(
                message.contains(rule),
                "{path:?}: {message:?} should name {rule:?}"
            );
        }
    }
}

#[tokio::test]
async fn bad_query_strings_and_bodies_are_400_not_500() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let token = Some(user.token.as_str());
    for path in [
        "/v1/files?limit=abc",
        "/v1/files?limit=0",
        "/v1/files?limit=1001",
        "/v1/files?cursor=***",
        "/v1/files/metadata",
    ] {
        let (status, code, message) = error_code(app.get(path, token).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{path}: {message}"
        );
    }
    let (status, _, message) = error_code(app.get("/v1/files?limit=0", token).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("between 1 and 1000"), "{message}");
    let (status, _, _) = error_code(
        app.delete("/v1/files?path=/a&recursive=maybe", token, None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for body in [
        json!({"path": "/a", "parents": "yes"}),
        json!({"path": "/a", "extra": 1}),
        json!({}),
    ] {
        let (status, _, message) = error_code(app.post("/v1/folders", token, &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {message}");
    }
}

#[tokio::test]
async fn mkdir_creates_folders_and_with_parents_their_ancestors() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let token = &user.token;

    let response = mkdir(&app, token, "/photos", false).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let entry: Entry = response.json().await.expect("a JSON body");
    assert_eq!(
        (entry.path.as_str(), entry.name.as_str(), entry.kind),
        ("/photos", "photos", EntryKind::Folder)
    );

    let (status, code, message) = error_code(mkdir(&app, token, "/photos", false).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "conflict"),
        "{message}"
    );
    let (status, _, message) = error_code(mkdir(&app, token, "/a/b/c", false).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        message.contains("'/a/b'") && message.contains("parents"),
        "{message}"
    );

    assert_eq!(
        mkdir(&app, token, "/a/b/c", true).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(names(&app, token, "/a").await, ["b"]);
    assert_eq!(names(&app, token, "/a/b").await, ["c"]);
    // With parents an existing folder is fine.
    assert_eq!(
        mkdir(&app, token, "/a/b", true).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        mkdir(&app, token, "/", true).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        error_code(mkdir(&app, token, "/", false).await).await.0,
        StatusCode::CONFLICT
    );

    // A file in the way is a conflict, with or without parents.
    upload(&app, token, "/a/file", b"hello").await;
    assert_eq!(
        error_code(mkdir(&app, token, "/a/file", true).await)
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        error_code(mkdir(&app, token, "/a/file/x", true).await)
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        error_code(mkdir(&app, token, "/a/file/x", false).await)
            .await
            .0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn a_listing_is_keyset_paginated_by_name_in_byte_order() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let token = &user.token;
    mkdir(&app, token, "/dir", false).await;
    let created = ["b", "B", "a", "é", "a b", "a-b", "Z", "_"];
    for name in created {
        assert_eq!(
            mkdir(&app, token, &format!("/dir/{name}"), false)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    upload(&app, token, "/dir/file.txt", b"12345").await;
    // A grandchild is not a child.
    mkdir(&app, token, "/dir/a/inner", false).await;

    let mut expected: Vec<String> = created
        .iter()
        .map(|name| (*name).to_owned())
        .chain(["file.txt".to_owned()])
        .collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut n_pages = 0;
    loop {
        let mut pairs = vec![("path", "/dir"), ("limit", "4")];
        if let Some(cursor) = cursor.as_deref() {
            pairs.push(("cursor", cursor));
        }
        let response = app.get(&url("/v1/files", &pairs), Some(token)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: Listing = response.json().await.expect("a JSON body");
        assert_eq!(page.path, "/dir");
        assert!(page.entries.len() <= 4);
        n_pages += 1;
        seen.extend(page.entries.iter().map(|entry| entry.name.clone()));
        if let Some(file) = page.entries.iter().find(|entry| entry.name == "file.txt") {
            assert_eq!((file.kind, file.size), (EntryKind::File, 5));
            assert_eq!(file.sha256.as_deref(), Some(sha256_hex(b"12345").as_str()));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(n_pages, 3);

    // The default page holds everything here; the root lists only its own children.
    assert_eq!(names(&app, token, "/dir").await, expected);
    assert_eq!(names(&app, token, "/").await, ["dir"]);
    let listing: Listing = app
        .get("/v1/files", Some(token))
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(listing.path, "/");

    // Listing a file or a missing folder is 404.
    for path in ["/dir/file.txt", "/nope"] {
        let (status, code, _) = error_code(
            app.get(&url("/v1/files", &[("path", path)]), Some(token))
                .await,
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn metadata_describes_files_folders_and_the_root() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let token = &user.token;
    mkdir(&app, token, "/docs", false).await;
    let uploaded = upload(&app, token, "/docs/a.txt", b"some text").await;

    let file: Entry = app
        .get(
            &url("/v1/files/metadata", &[("path", "/docs/a.txt")]),
            Some(token),
        )
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(file, uploaded);
    assert_eq!(
        (file.kind, file.size, file.name.as_str()),
        (EntryKind::File, 9, "a.txt")
    );
    assert_eq!(
        file.sha256.expect("the test data is well formed"),
        sha256_hex(b"some text")
    );

    let folder: Entry = app
        .get(
            &url("/v1/files/metadata", &[("path", "/docs")]),
            Some(token),
        )
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(
        (folder.kind, folder.size, folder.sha256),
        (EntryKind::Folder, 0, None)
    );
    let root: Entry = app
        .get(&url("/v1/files/metadata", &[("path", "/")]), Some(token))
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!((root.path.as_str(), root.kind), ("/", EntryKind::Folder));

    let missing = app
        .get(
            &url("/v1/files/metadata", &[("path", "/docs/nope")]),
            Some(token),
        )
        .await;
    assert_eq!(error_code(missing).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn move_renames_a_file_and_carries_a_folder_with_its_subtree() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let token = Some(user.token.as_str());
    mkdir(&app, &user.token, "/a/b", true).await;
    mkdir(&app, &user.token, "/ab", false).await;
    mkdir(&app, &user.token, "/z", false).await;
    upload(&app, &user.token, "/a/b/c.txt", b"deep").await;
    upload(&app, &user.token, "/ab/keep.txt", b"sibling").await;

    let moved = |from: &str, to: &str| json!({"from": from, "to": to});
    let response = app
        .post("/v1/files/move", token, &moved("/a", "/z/renamed"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let entry: Entry = response.json().await.expect("a JSON body");
    assert_eq!(
        (entry.path.as_str(), entry.name.as_str(), entry.kind),
        ("/z/renamed", "renamed", EntryKind::Folder)
    );
    assert_eq!(names(&app, &user.token, "/z/renamed/b").await, ["c.txt"]);
    assert_eq!(names(&app, &user.token, "/").await, ["ab", "z"]);
    // A sibling whose name merely starts the same stays where it was.
    assert_eq!(names(&app, &user.token, "/ab").await, ["keep.txt"]);
    let old = app
        .get(&url("/v1/files/metadata", &[("path", "/a/b/c.txt")]), token)
        .await;
    assert_eq!(old.status(), StatusCode::NOT_FOUND);

    // The moved file keeps its bytes.
    let link: DownloadLink = download_link(&app, &user.token, "/z/renamed/b/c.txt")
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
        b"deep"
    );

    // A file rename.
    let response = app
        .post(
            "/v1/files/move",
            token,
            &moved("/ab/keep.txt", "/ab/kept.txt"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(names(&app, &user.token, "/ab").await, ["kept.txt"]);

    let cases = [
        (moved("/ab", "/z"), StatusCode::CONFLICT, "already exists"),
        (
            moved("/z", "/z/renamed/inner"),
            StatusCode::BAD_REQUEST,
            "into itself",
        ),
        (
            moved("/ab", "/nowhere/ab"),
            StatusCode::NOT_FOUND,
            "'/nowhere'",
        ),
        (
            moved("/missing", "/elsewhere"),
            StatusCode::NOT_FOUND,
            "'/missing'",
        ),
        (moved("/", "/root"), StatusCode::BAD_REQUEST, "root"),
        (moved("/ab", "/"), StatusCode::CONFLICT, "already exists"),
    ];
    for (body, expected, needle) in cases {
        let (status, _, message) = error_code(app.post("/v1/files/move", token, &body).await).await;
        assert_eq!(status, expected, "{body}: {message}");
        assert!(
            message.contains(needle),
            "{body}: {message:?} should contain {needle:?}"
        );
    }
}

#[tokio::test]
async fn delete_needs_recursive_for_a_non_empty_folder() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let token = Some(user.token.as_str());
    mkdir(&app, &user.token, "/d/e", true).await;
    upload(&app, &user.token, "/d/one", b"1").await;
    upload(&app, &user.token, "/d/e/two", b"22").await;
    mkdir(&app, &user.token, "/empty", false).await;
    upload(&app, &user.token, "/file", b"333").await;

    let (status, code, message) = error_code(
        app.delete(&url("/v1/files", &[("path", "/d")]), token, None)
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert!(
        message.contains("not empty") && message.contains("recursive=true"),
        "{message}"
    );

    let response = app
        .delete(
            &url("/v1/files", &[("path", "/d"), ("recursive", "true")]),
            token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let deleted: Deleted = response.json().await.expect("a JSON body");
    assert_eq!(
        (deleted.n_files, deleted.n_folders, deleted.bytes_freed),
        (2, 2, 3)
    );

    let deleted: Deleted = app
        .delete(&url("/v1/files", &[("path", "/empty")]), token, None)
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!((deleted.n_files, deleted.n_folders), (0, 1));
    let deleted: Deleted = app
        .delete(&url("/v1/files", &[("path", "/file")]), token, None)
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(
        (deleted.n_files, deleted.n_folders, deleted.bytes_freed),
        (1, 0, 3)
    );
    assert!(names(&app, &user.token, "/").await.is_empty());

    let again = app
        .delete(&url("/v1/files", &[("path", "/file")]), token, None)
        .await;
    assert_eq!(error_code(again).await.0, StatusCode::NOT_FOUND);
    let (status, _, message) = error_code(
        app.delete(
            &url("/v1/files", &[("path", "/"), ("recursive", "true")]),
            token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{message}");

    let usage: Usage = app
        .get("/v1/usage", token)
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(
        (usage.used_bytes, usage.n_files, usage.n_folders),
        (0, 0, 0)
    );
    // The blobs went with the files.
    assert_eq!(count_files(&app.data_dir.join("blobs/objects")), 0);
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

#[tokio::test]
async fn usage_counts_files_folders_reservations_and_the_quota() {
    let app = spawn_app_with_quota(1000).await;
    let user = app.register_and_login().await;
    let token = Some(user.token.as_str());
    mkdir(&app, &user.token, "/x/y", true).await;
    upload(&app, &user.token, "/x/a", &[1; 100]).await;
    upload(&app, &user.token, "/x/y/b", &[2; 50]).await;
    let (status, _) =
        create_upload(&app, &user.token, json!({"path": "/pending", "size": 300})).await;
    assert_eq!(status, StatusCode::CREATED);

    let usage: Usage = app
        .get("/v1/usage", token)
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(usage.used_bytes, 150);
    assert_eq!(usage.reserved_bytes, 300);
    assert_eq!(usage.quota_bytes, 1000);
    assert_eq!((usage.n_files, usage.n_folders), (2, 2));
}

/// The app with a quota of `quota_bytes`.
pub async fn spawn_app_with_quota(quota_bytes: u64) -> TestApp {
    crate::helpers::spawn_app_with(|settings| settings.files.quota_bytes = quota_bytes).await
}

#[tokio::test]
async fn a_download_link_serves_the_bytes_with_range_until_it_expires() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let bytes = sample_bytes(3 * 1024 * 1024 + 10, 7);
    upload(&app, &user.token, "/big file é.bin", &bytes).await;

    let response = download_link(&app, &user.token, "/big file é.bin").await;
    assert_eq!(response.status(), StatusCode::OK);
    let link: DownloadLink = response.json().await.expect("a JSON body");
    assert_eq!(
        (link.size, link.name.as_str()),
        (bytes.len() as u64, "big file é.bin")
    );
    assert_eq!(link.sha256, sha256_hex(&bytes));
    assert_eq!(
        link.expires_at,
        chrono::SubsecRound::trunc_subsecs(fmsd::clock::Clock::now(&app.clock), 6)
            + chrono::Duration::seconds(300)
    );

    let whole = fetch(&app, &link.url, None).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "application/octet-stream");
    assert!(whole.headers()["content-disposition"]
        .to_str()
        .expect("the test data is well formed")
        .contains("filename*=UTF-8''big%20file%20%C3%A9.bin"));
    assert_eq!(
        whole.bytes().await.expect("the body").as_ref(),
        bytes.as_slice()
    );

    let partial = fetch(&app, &link.url, Some("bytes=1048570-1048589")).await;
    assert_eq!(partial.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        partial.headers()["content-range"],
        format!("bytes 1048570-1048589/{}", bytes.len()).as_str()
    );
    assert_eq!(
        partial.bytes().await.expect("the body").as_ref(),
        &bytes[1_048_570..1_048_590]
    );
    let tail = fetch(&app, &link.url, Some("bytes=-5")).await;
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        tail.bytes().await.expect("the body").as_ref(),
        &bytes[bytes.len() - 5..]
    );
    let head = app
        .client
        .request(Method::HEAD, &link.url)
        .send()
        .await
        .expect("the request is sent");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["content-length"],
        bytes.len().to_string().as_str()
    );

    // A tampered URL, then the link once expired.
    let tampered = link.url.replace("signature=", "signature=00");
    let (status, code, _) = error_code(fetch(&app, &tampered, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let unsigned = link
        .url
        .split('?')
        .next()
        .expect("the test data is well formed")
        .to_owned();
    assert_eq!(
        error_code(fetch(&app, &unsigned, None).await).await.0,
        StatusCode::FORBIDDEN
    );
    app.clock.advance(chrono::Duration::seconds(301));
    let (status, _, message) = error_code(fetch(&app, &link.url, None).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(message.contains("expired"), "{message}");

    // Folders and missing files have no link.
    mkdir(&app, &user.token, "/folder", false).await;
    assert_eq!(
        error_code(download_link(&app, &user.token, "/folder").await)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        error_code(download_link(&app, &user.token, "/missing").await)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn every_files_endpoint_needs_a_token() {
    let app = spawn_app().await;
    let endpoints = [
        (Method::GET, "/v1/files?path=/"),
        (Method::GET, "/v1/files/metadata?path=/"),
        (Method::DELETE, "/v1/files?path=/a"),
        (Method::POST, "/v1/folders"),
        (Method::POST, "/v1/files/move"),
        (Method::GET, "/v1/usage"),
        (Method::GET, "/v1/downloads?path=/a"),
        (Method::POST, "/v1/uploads"),
        (
            Method::GET,
            "/v1/uploads/00000000-0000-0000-0000-000000000000",
        ),
        (
            Method::POST,
            "/v1/uploads/00000000-0000-0000-0000-000000000000/complete",
        ),
        (
            Method::DELETE,
            "/v1/uploads/00000000-0000-0000-0000-000000000000",
        ),
    ];
    for (method, path) in endpoints {
        let response = app
            .request(method.clone(), path, None)
            .json(&json!({}))
            .send()
            .await
            .expect("the request is sent");
        let (status, code, _) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "{method} {path}"
        );
    }
}
