//! The tree: mkdir, listing with keyset pagination, metadata, usage.

use common::api::{Entry, EntryKind, Listing, Usage};
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{create_upload, mkdir, names, sha256_hex, spawn_app_with_quota, upload, url};
use crate::helpers::{error_code, spawn_app};

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
