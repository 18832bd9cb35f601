//! `POST /v1/files/copy`: a server-side copy of a file or a folder, with the quota checked and
//! the copy's bytes verified, and the conflicts a copy can meet.

use common::api::{DownloadLink, Entry};
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{download_link, fetch, mkdir, names, upload};
use crate::helpers::{error_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_file_and_a_folder_are_copied_on_the_server() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let bytes: Vec<u8> = (0..200_000u32).map(|n| (n % 253) as u8).collect();
    mkdir(&app, &ann.token, "/src/deep", true).await;
    upload(&app, &ann.token, "/src/a.bin", &bytes).await;
    upload(&app, &ann.token, "/src/deep/b.txt", b"bee").await;

    let copied = app
        .post(
            "/v1/files/copy",
            Some(&ann.token),
            &json!({"from": "/src/a.bin", "to": "/a copy.bin"}),
        )
        .await;
    assert_eq!(copied.status(), StatusCode::CREATED);
    let entry: Entry = copied.json().await.unwrap();
    assert_eq!(entry.path, "/a copy.bin");
    assert_eq!(entry.size, bytes.len() as u64);
    let link: DownloadLink = download_link(&app, &ann.token, "/a copy.bin")
        .await
        .json()
        .await
        .unwrap();
    let got = fetch(&app, &link.url, None).await.bytes().await.unwrap();
    assert_eq!(got.as_ref(), bytes.as_slice());

    // A file is there: a conflict unless replaced.
    let again = app
        .post(
            "/v1/files/copy",
            Some(&ann.token),
            &json!({"from": "/src/deep/b.txt", "to": "/a copy.bin"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let replaced = app
        .post(
            "/v1/files/copy",
            Some(&ann.token),
            &json!({"from": "/src/deep/b.txt", "to": "/a copy.bin", "overwrite": "replace"}),
        )
        .await;
    assert_eq!(replaced.status(), StatusCode::CREATED);

    // A folder with everything in it; never into itself, never onto something there.
    let folder = app
        .post(
            "/v1/files/copy",
            Some(&ann.token),
            &json!({"from": "/src", "to": "/backup"}),
        )
        .await;
    assert_eq!(folder.status(), StatusCode::CREATED);
    assert_eq!(names(&app, &ann.token, "/backup").await, ["a.bin", "deep"]);
    assert_eq!(names(&app, &ann.token, "/backup/deep").await, ["b.txt"]);
    for (from, to) in [("/src", "/src/inside"), ("/src", "/backup")] {
        let refused = app
            .post(
                "/v1/files/copy",
                Some(&ann.token),
                &json!({"from": from, "to": to}),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::CONFLICT, "{from} -> {to}");
        assert_eq!(error_code(refused).await.1, "conflict");
    }
    let missing = app
        .post(
            "/v1/files/copy",
            Some(&ann.token),
            &json!({"from": "/nothing", "to": "/x"}),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_copy_takes_the_quota_and_one_past_it_is_refused_leaving_nothing() {
    let app = spawn_app_with(|settings| settings.files.quota_bytes = 1500).await;
    let ann = app.register_and_login().await;
    upload(&app, &ann.token, "/a.bin", &[1; 1000]).await;
    let refused = app
        .post(
            "/v1/files/copy",
            Some(&ann.token),
            &json!({"from": "/a.bin", "to": "/b.bin"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(refused).await.1, "quota_exceeded");
    assert_eq!(names(&app, &ann.token, "/").await, ["a.bin"]);
    let usage: serde_json::Value = app
        .get("/v1/usage", Some(&ann.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            usage["used_bytes"].as_u64(),
            usage["reserved_bytes"].as_u64()
        ),
        (Some(1000), Some(0))
    );
}
