//! Moving (renaming) files and folders, and deleting them, recursively for a non-empty folder.

use common::api::{Deleted, DownloadLink, Entry, EntryKind, Usage};
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{count_files, download_link, fetch, mkdir, names, upload, url};
use crate::helpers::{error_code, spawn_app};

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
            StatusCode::CONFLICT,
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

/// With `permanent=true` a delete skips the trash: the bytes and blobs go at once.
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
            &url(
                "/v1/files",
                &[("path", "/d"), ("recursive", "true"), ("permanent", "true")],
            ),
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
        .delete(
            &url("/v1/files", &[("path", "/empty"), ("permanent", "true")]),
            token,
            None,
        )
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!((deleted.n_files, deleted.n_folders), (0, 1));
    let deleted: Deleted = app
        .delete(
            &url("/v1/files", &[("path", "/file"), ("permanent", "true")]),
            token,
            None,
        )
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
