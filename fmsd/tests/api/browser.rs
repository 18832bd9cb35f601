//! The link pages in a real browser: Debian's Chromium, driven headless by Playwright from the
//! scripts in `fmsd/tests/browser/`, against the real app on the embedded default with links
//! made over the HTTP API. Each script prints one JSON line that the test checks; screenshots
//! of every page land in `target/tmp/browser/<test>/`. What runs the scripts and checks their
//! results is [`harness`], which the real stack's browser test shares.

#[path = "../browser/harness.rs"]
mod harness;

use common::api::Listing;
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

use self::harness::{
    assert_headers, by_path, check_file_link, check_file_request, check_folder, check_password,
    file_request_files, folder_files, run_script, screenshots, MARKUP_NAME,
};
use crate::fixtures::{download_link, mkdir, sample_bytes, sha256_hex, upload, url};
use crate::helpers::{spawn_app, TestApp};
use crate::link_pages::unzip;
use crate::recovery::{page_url_from_mail, register, spawn_verifying_app};
use crate::sharing_support::{create_link, register_named};

fn link_url(app: &TestApp, token: &str) -> String {
    format!("{}/s/{token}", app.address)
}

#[tokio::test]
async fn a_file_link_downloads_in_a_browser_and_names_show_as_text() {
    let shots = screenshots("file_link");
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bytes = sample_bytes(1_234_567, 5);
    upload(&app, &ann.token, "/report.pdf", &bytes).await;
    let file = create_link(
        &app,
        &ann,
        json!({"path": "/report.pdf", "max_downloads": 3}),
    )
    .await;
    upload(&app, &ann.token, "/old.txt", b"old").await;
    let expired = create_link(
        &app,
        &ann,
        json!({"path": "/old.txt", "expires_in_secs": 60}),
    )
    .await;
    upload(
        &app,
        &ann.token,
        &format!("/{MARKUP_NAME}"),
        b"<script>alert(2)</script>",
    )
    .await;
    let xss = create_link(&app, &ann, json!({"path": format!("/{MARKUP_NAME}")})).await;
    let revoked = create_link(&app, &ann, json!({"path": "/old.txt"})).await;
    let path = format!("/v1/links/{}", revoked.link.id);
    assert!(app
        .delete(&path, Some(&ann.token), None)
        .await
        .status()
        .is_success());
    // The other links live a week; only the one of 60 s expires.
    app.clock.advance(chrono::Duration::seconds(61));

    let result = run_script(
        "file_link.js",
        &shots,
        &[
            ("FMS_FILE_URL", link_url(&app, &file.token)),
            ("FMS_EXPIRED_URL", link_url(&app, &expired.token)),
            ("FMS_REVOKED_URL", link_url(&app, &revoked.token)),
            ("FMS_XSS_URL", link_url(&app, &xss.token)),
        ],
    )
    .await;
    check_file_link(&result, &bytes);
}

#[tokio::test]
async fn a_password_link_takes_a_wrong_then_the_right_password_in_a_browser() {
    let shots = screenshots("password");
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    let bytes = b"the plans".to_vec();
    upload(&app, &ann.token, "/plans.txt", &bytes).await;
    let link = create_link(
        &app,
        &ann,
        json!({"path": "/plans.txt", "password": "open sesame"}),
    )
    .await;
    let result = run_script(
        "password.js",
        &shots,
        &[
            ("FMS_PASSWORD_URL", link_url(&app, &link.token)),
            ("FMS_PASSWORD", "open sesame".to_owned()),
        ],
    )
    .await;
    check_password(&result, &bytes);
}

#[tokio::test]
async fn a_folder_link_is_browsed_and_downloaded_whole_as_a_zip_in_a_browser() {
    let shots = screenshots("folder");
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    mkdir(&app, &ann.token, "/trip/sub/deep", true).await;
    let files = folder_files();
    for (path, bytes) in &files {
        upload(&app, &ann.token, &format!("/trip/{path}"), bytes).await;
    }
    let link = create_link(&app, &ann, json!({"path": "/trip"})).await;
    let result = run_script(
        "folder.js",
        &shots,
        &[("FMS_FOLDER_URL", link_url(&app, &link.token))],
    )
    .await;
    let zip = check_folder(&result, &files);
    let unzipped = unzip(std::fs::read(zip).unwrap()).await;
    assert!(
        unzipped == by_path(&files),
        "the zip holds {:?}",
        unzipped.keys()
    );
}

#[tokio::test]
async fn the_links_of_the_verification_and_reset_mails_work_in_a_browser() {
    let shots = screenshots("account");
    let app = spawn_verifying_app().await;
    let email = format!("ann-{}@example.com", uuid::Uuid::new_v4().simple());
    register(&app, &email, "correct horse battery").await;
    let verify_url = page_url_from_mail(
        &app,
        &email,
        "Confirm your e-mail address",
        "/account/verify",
    )
    .await;
    let asked = app
        .post("/v1/auth/password-reset", None, &json!({"email": email}))
        .await;
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let reset_url =
        page_url_from_mail(&app, &email, "Reset your fms password", "/account/reset").await;
    let new_password = "set in a browser, at last";
    let result = run_script(
        "account.js",
        &shots,
        &[
            ("FMS_VERIFY_URL", verify_url),
            ("FMS_RESET_URL", reset_url),
            ("FMS_BARE_URL", format!("{}/account/verify", app.address)),
            ("FMS_NEW_PASSWORD", new_password.to_owned()),
        ],
    )
    .await;
    for page in [&result["verify"], &result["reset"]] {
        assert_eq!(page["status"], 200, "{result}");
        assert_headers(page);
    }
    let verified = result["verified"].as_str().unwrap();
    assert!(
        verified.contains(&email) && verified.contains("verified"),
        "{result}"
    );
    assert!(
        !result["addressAfter"].as_str().unwrap().contains('#'),
        "the used code leaves the address bar: {result}"
    );
    assert!(
        result["used"].as_str().unwrap().contains("not valid"),
        "{result}"
    );
    assert!(
        result["mismatch"].as_str().unwrap().contains("differ"),
        "{result}"
    );
    assert!(
        result["done"].as_str().unwrap().contains("password is set"),
        "{result}"
    );
    assert!(
        result["bare"]
            .as_str()
            .unwrap()
            .contains("code from your mail"),
        "{result}"
    );
    assert_eq!(result["bareDisabled"], true, "{result}");
    // What the pages did holds: the new password logs in, and the address is verified.
    let tokens = app.login(&email, new_password).await;
    let me: serde_json::Value = app
        .get("/v1/me", Some(&tokens.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], true);
}

/// The SHA-256 of `path` in `owner`'s tree, streamed down.
async fn remote_sha256(app: &TestApp, token: &str, path: &str) -> String {
    let response = download_link(app, token, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let link: common::api::DownloadLink = response.json().await.unwrap();
    let mut download = app.client.get(&link.url).send().await.unwrap();
    let mut hash = Sha256::new();
    while let Some(chunk) = download.chunk().await.unwrap() {
        hash.update(&chunk);
    }
    hex::encode(hash.finalize())
}

#[tokio::test]
async fn a_file_request_takes_three_dropped_files_one_of_300_mb_in_a_browser() {
    let shots = screenshots("file_request");
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    mkdir(&app, &ann.token, "/inbox", false).await;
    let link = create_link(&app, &ann, json!({"path": "/inbox", "upload_only": true})).await;
    let dir = tempfile::tempdir().unwrap();
    let (paths, expected) = file_request_files(dir.path());
    let result = run_script(
        "file_request.js",
        &shots,
        &[
            ("FMS_UPLOAD_URL", link_url(&app, &link.token)),
            ("FMS_UPLOAD_FILES", paths.join("\n")),
        ],
    )
    .await;
    check_file_request(&result);

    let listing: Listing = app
        .get(&url("/v1/files", &[("path", "/inbox")]), Some(&ann.token))
        .await
        .json()
        .await
        .unwrap();
    let landed: std::collections::BTreeMap<String, (u64, String)> = listing
        .entries
        .iter()
        .map(|entry| {
            (
                entry.name.clone(),
                (entry.size, entry.sha256.clone().unwrap()),
            )
        })
        .collect();
    assert_eq!(landed, expected);
    for name in expected.keys() {
        let sha = remote_sha256(&app, &ann.token, &format!("/inbox/{name}")).await;
        assert_eq!(sha, expected[name].1, "{name}");
    }
    assert_ne!(sha256_hex(b""), expected["notes.txt"].1);
}
