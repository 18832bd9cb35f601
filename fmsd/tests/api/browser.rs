//! The link pages in a real browser: Debian's Chromium, driven headless by Playwright from the
//! scripts in `fmsd/tests/browser/`, against the real app on the embedded default with links
//! made over the HTTP API. Each script prints one JSON line that the test checks; screenshots
//! of every page land in `target/tmp/browser/<test>/`.
//!
//! `scripts/browser.sh` installs Chromium and playwright-core; without them these tests fail
//! and say so.

use std::io::Write;
use std::path::{Path, PathBuf};

use common::api::Listing;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::fixtures::{download_link, mkdir, sample_bytes, sha256_hex, upload, url};
use crate::helpers::{spawn_app, TestApp};
use crate::link_pages::unzip;
use crate::sharing_support::{create_link, register_named};

/// Where the tools are: the environment's `FMS_TEST_CHROMIUM` and `FMS_TEST_PLAYWRIGHT`, else
/// where `scripts/browser.sh` puts them. Panics with what to run when one is missing.
fn tools() -> (PathBuf, PathBuf) {
    let chromium =
        std::env::var("FMS_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let playwright = std::env::var("FMS_TEST_PLAYWRIGHT").unwrap_or_else(|_| {
        let tools = std::env::var("FMS_TOOLS_DIR").unwrap_or_else(|_| {
            format!(
                "{}/.cache/fms-tools",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        format!("{tools}/playwright-core-1.49.1/node_modules")
    });
    let (chromium, playwright) = (PathBuf::from(chromium), PathBuf::from(playwright));
    assert!(
        chromium.is_file(),
        "Chromium is not at {}: run `scripts/browser.sh` (or set FMS_TEST_CHROMIUM)",
        chromium.display()
    );
    assert!(
        playwright.join("playwright-core/package.json").is_file(),
        "playwright-core is not in {}: run `scripts/browser.sh` (or set FMS_TEST_PLAYWRIGHT)",
        playwright.display()
    );
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|output| output.status.success()),
        "node does not run: run `scripts/browser.sh`, which installs it"
    );
    (chromium, playwright)
}

/// The test's own screenshot folder, empty.
fn screenshots(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("browser")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `fmsd/tests/browser/{script}` with `env`; returns its JSON line. Panics with its
/// output if it fails or saw a console error, a page error or a dialog.
async fn run_script(script: &str, shots: &Path, env: &[(&str, String)]) -> Value {
    let (chromium, playwright) = tools();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser")
        .join(script);
    let output = tokio::process::Command::new("node")
        .arg(&path)
        .env("NODE_PATH", &playwright)
        .env("FMS_TEST_CHROMIUM", &chromium)
        .env("FMS_SCREENSHOTS", shots)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(900), output)
        .await
        .expect("the browser script finished within 15 minutes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let line = stdout.lines().last().unwrap_or_default();
    let result: Value = serde_json::from_str(line)
        .unwrap_or_else(|_| panic!("{script} printed no JSON:\n{stdout}\n{stderr}"));
    assert_eq!(
        result["problems"],
        json!([]),
        "{script} saw problems: {result}"
    );
    assert!(
        shots.read_dir().unwrap().any(|entry| entry
            .unwrap()
            .path()
            .extension()
            .is_some_and(|ext| ext == "png")),
        "{script} took no screenshot"
    );
    result
}

/// Asserts the security headers the script saw on a page.
fn assert_headers(page: &Value) {
    let policy = page["csp"].as_str().unwrap();
    assert!(policy.contains("default-src 'none'"), "{page}");
    assert!(policy.contains("script-src 'nonce-"), "{page}");
    assert!(policy.contains("frame-ancestors 'none'"), "{page}");
    assert_eq!(page["referrer"], "no-referrer");
    assert_eq!(page["nosniff"], "nosniff");
}

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
    let name = "<img src=x onerror=alert(1)>.html";
    upload(
        &app,
        &ann.token,
        &format!("/{name}"),
        b"<script>alert(2)</script>",
    )
    .await;
    let xss = create_link(&app, &ann, json!({"path": format!("/{name}")})).await;
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
    assert_eq!(result["file"]["status"], 200, "{result}");
    assert_headers(&result["file"]);
    assert_eq!(result["heading"], "report.pdf");
    assert_eq!(result["focused"], "Download");
    assert_eq!(result["outline"], "solid");
    assert_eq!(result["saved"]["suggested"], "report.pdf");
    let saved = std::fs::read(result["saved"]["file"].as_str().unwrap()).unwrap();
    assert!(saved == bytes, "the downloaded bytes differ");

    assert_eq!(result["expired"]["status"], 410, "{result}");
    assert_headers(&result["expired"]);
    assert_eq!(result["expired"]["heading"], "This link has ended");

    assert_eq!(result["revoked"]["status"], 404, "{result}");
    assert_headers(&result["revoked"]);
    assert_eq!(result["revoked"]["heading"], "This link does not work");

    assert_eq!(result["xss"]["status"], 200);
    assert_headers(&result["xss"]);
    assert_eq!(result["xss"]["heading"], name);
    assert_eq!(result["xss"]["images"], 0);
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
    assert_eq!(result["form"]["status"], 401, "{result}");
    assert_headers(&result["form"]);
    assert!(
        result["error"].as_str().unwrap().contains("not right"),
        "{result}"
    );
    assert_eq!(result["heading"], "plans.txt");
    let saved = std::fs::read(result["saved"]["file"].as_str().unwrap()).unwrap();
    assert!(saved == bytes);
    assert_eq!(result["again"]["status"], 200);
}

#[tokio::test]
async fn a_folder_link_is_browsed_and_downloaded_whole_as_a_zip_in_a_browser() {
    let shots = screenshots("folder");
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    mkdir(&app, &ann.token, "/trip/sub/deep", true).await;
    let files = [
        ("a.txt", b"alpha".to_vec()),
        ("sub/b.bin", sample_bytes(2_500_000, 7)),
        ("sub/deep/c.txt", b"gamma".to_vec()),
    ];
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
    assert_eq!(result["root"]["status"], 200, "{result}");
    assert_headers(&result["root"]);
    assert_eq!(result["rootHeading"], "trip");
    assert_eq!(result["rootNames"], json!(["a.txt", "sub/"]));
    assert_eq!(result["subHeading"], "sub");
    assert_eq!(result["subNames"], json!(["b.bin", "deep/"]));
    assert_eq!(result["one"]["suggested"], "b.bin");
    let one = std::fs::read(result["one"]["file"].as_str().unwrap()).unwrap();
    assert!(one == files[1].1);
    assert_eq!(result["zip"]["suggested"], "trip.zip");
    let zip = std::fs::read(result["zip"]["file"].as_str().unwrap()).unwrap();
    let unzipped = unzip(zip).await;
    let expected: std::collections::BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(path, bytes)| ((*path).to_owned(), bytes.clone()))
        .collect();
    assert!(unzipped == expected, "the zip holds {:?}", unzipped.keys());
}

/// Writes `size` pseudo-random bytes to `path` a MiB at a time; returns their SHA-256.
fn write_file(path: &Path, size: usize, seed: u8) -> String {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut hash = Sha256::new();
    let chunk = sample_bytes(1024 * 1024, seed);
    let mut left = size;
    let mut round = 0u8;
    while left > 0 {
        let mut piece = chunk[..left.min(chunk.len())].to_vec();
        // Each MiB differs, so a part sent twice or out of place changes the hash.
        piece[0] = round;
        round = round.wrapping_add(1);
        file.write_all(&piece).unwrap();
        hash.update(&piece);
        left -= piece.len();
    }
    file.flush().unwrap();
    hex::encode(hash.finalize())
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
    let sizes = [
        ("notes.txt", 1_000),
        ("photo.jpg", 3_000_000),
        ("video.mp4", 300 * 1024 * 1024),
    ];
    let mut expected = std::collections::BTreeMap::new();
    let mut paths = Vec::new();
    for (index, (name, size)) in sizes.iter().enumerate() {
        let path = dir.path().join(name);
        let sha = write_file(&path, *size, index as u8 + 1);
        expected.insert((*name).to_owned(), (*size as u64, sha));
        paths.push(path.display().to_string());
    }
    let result = run_script(
        "file_request.js",
        &shots,
        &[
            ("FMS_UPLOAD_URL", link_url(&app, &link.token)),
            ("FMS_UPLOAD_FILES", paths.join("\n")),
        ],
    )
    .await;
    assert_eq!(result["opened"]["status"], 200, "{result}");
    assert_headers(&result["opened"]);
    let rows = result["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{result}");
    for row in rows {
        assert_eq!(row["done"], true, "{row}");
        assert_eq!(row["value"], row["max"], "{row}");
        assert!(row["note"].as_str().unwrap().contains("100 %"), "{row}");
    }
    assert_eq!(result["seen"], json!([1, 1, 1]), "{result}");
    assert_eq!(result["status"], "All files were uploaded.");

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
