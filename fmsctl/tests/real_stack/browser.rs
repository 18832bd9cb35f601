//! The link pages in a real browser on the real stack: the browser scripts of
//! `fmsd/tests/browser/` and their checks ([`harness`], shared with the embedded default's
//! test) against an fmsd on Kafka, MongoDB, PostgreSQL, S3 and SMTP, with the links made by
//! the real `fmsctl`.
//!
//! On S3 the browser fetches downloads from presigned S3 URLs (a top-level navigation after
//! fmsd's 303, which needs no CORS) and sends a file request's parts with `PUT` to presigned
//! part URLs, cross-origin from the page. Such a `PUT` is preflighted, so the bucket must
//! answer the preflight for the page's origin: the test gives the bucket the CORS rule the
//! README asks operators for (see [`allow_browser_uploads`]). Screenshots land in
//! `target/tmp/browser/real_stack_*/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "../../../fmsd/tests/browser/harness.rs"]
mod harness;

use self::harness::{
    by_path, check_file_link, check_file_request, check_folder, check_password, file_request_files,
    folder_files, run_script, sample_bytes, screenshots, MARKUP_NAME,
};
use super::{register_and_login, start_on};
use crate::stack::{require, Stack};
use crate::support::{sha256_of, Fmsctl};

/// The CORS rule a bucket needs for the file request page: `PUT` (the parts) and `GET`/`HEAD`
/// from the origin of fmsd's pages, here any port of 127.0.0.1 (one `*` in an origin, which
/// garage and AWS both take), since each test's fmsd listens on a port of its own. The
/// presigned URL is what authorizes a request, not its origin; the rule only lets a page's
/// script send it and see the answer. Setting it again is harmless, so tests running at once
/// on the shared bucket do not disturb each other.
const CORS_RULES: &str = r#"{"CORSRules": [{"AllowedOrigins": ["http://127.0.0.1:*"], "AllowedMethods": ["PUT", "GET", "HEAD"], "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600}]}"#;

/// Gives the test bucket [`CORS_RULES`], with `aws s3api put-bucket-cors`.
fn allow_browser_uploads(stack: &Stack) {
    let bucket = require("FMS_TEST_S3_BUCKET");
    stack.aws(&[
        "s3api",
        "put-bucket-cors",
        "--bucket",
        &bucket,
        "--cors-configuration",
        CORS_RULES,
    ]);
}

/// `fmsctl --json share PATH --link ARGS`: the link's URL and id.
fn link(owner: &Fmsctl, path: &str, args: &[&str]) -> (String, String) {
    let mut all = vec!["--json", "share", path, "--link"];
    all.extend_from_slice(args);
    let created = owner.run(&all).ok().json();
    (
        created["url"].as_str().unwrap().to_owned(),
        created["id"].as_str().unwrap().to_owned(),
    )
}

/// Uploads the local file `local` to the folder `folder`.
fn upload(owner: &Fmsctl, local: &Path, folder: &str) {
    owner.run(&["upload", local.to_str().unwrap(), folder]).ok();
}

/// Every file of the zip at `zip`, by path, as `unzip` (not the project's code) reads it.
fn unzip(zip: &Path, into: &Path) -> BTreeMap<String, Vec<u8>> {
    let output = std::process::Command::new("unzip")
        .arg("-q")
        .arg(zip)
        .arg("-d")
        .arg(into)
        .output()
        .expect("unzip runs");
    assert!(
        output.status.success(),
        "unzip failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut files = BTreeMap::new();
    let mut folders = vec![into.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let relative = path
                .strip_prefix(into)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            files.insert(relative, std::fs::read(&path).unwrap());
        }
    }
    files
}

/// Runs `script` on a runtime of its own (the test itself is synchronous, as fmsd runs apart).
fn run(script: &str, shots: &Path, env: &[(&str, String)]) -> Value {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(run_script(script, shots, env))
}

#[test]
fn the_link_pages_work_in_a_browser_with_s3_presigned_urls() {
    let stack = Stack::new();
    allow_browser_uploads(&stack);
    let root = tempfile::tempdir().unwrap();
    let server = start_on(&stack, root.path());
    let owner = Fmsctl::new(&server.url);
    register_and_login(&owner, &format!("{}-pages@example.com", stack.tag));
    let local = root.path().join("local");
    std::fs::create_dir_all(&local).unwrap();

    // A file link (its download a 303 to S3), an expired one, a revoked one, a markup name.
    let shots = screenshots("real_stack_file_link");
    let bytes = sample_bytes(1_234_567, 5);
    let report = local.join("report.pdf");
    std::fs::write(&report, &bytes).unwrap();
    upload(&owner, &report, "/");
    let (file_url, _) = link(&owner, "/report.pdf", &["--max-downloads", "3"]);
    let old = local.join("old.txt");
    std::fs::write(&old, b"old").unwrap();
    upload(&owner, &old, "/");
    let (expired_url, _) = link(&owner, "/old.txt", &["--expires", "1s"]);
    let expires = Instant::now() + Duration::from_secs(2);
    let markup = local.join(MARKUP_NAME);
    std::fs::write(&markup, b"<script>alert(2)</script>").unwrap();
    upload(&owner, &markup, "/");
    let (xss_url, _) = link(&owner, &format!("/{MARKUP_NAME}"), &[]);
    let (revoked_url, revoked_id) = link(&owner, "/old.txt", &[]);
    owner.run(&["unshare", "--link", &revoked_id]).ok();
    std::thread::sleep(expires.saturating_duration_since(Instant::now()));
    let result = run(
        "file_link.js",
        &shots,
        &[
            ("FMS_FILE_URL", file_url),
            ("FMS_EXPIRED_URL", expired_url),
            ("FMS_REVOKED_URL", revoked_url),
            ("FMS_XSS_URL", xss_url),
        ],
    );
    check_file_link(&result, &bytes);

    // A password link: the form, a wrong password, the right one, the download from S3.
    let shots = screenshots("real_stack_password");
    let plans = local.join("plans.txt");
    std::fs::write(&plans, b"the plans").unwrap();
    upload(&owner, &plans, "/");
    let created = owner
        .run_with_stdin(
            &[
                "--json",
                "share",
                "/plans.txt",
                "--link",
                "--password-stdin",
            ],
            Some("open sesame\n"),
        )
        .ok()
        .json();
    let result = run(
        "password.js",
        &shots,
        &[
            (
                "FMS_PASSWORD_URL",
                created["url"].as_str().unwrap().to_owned(),
            ),
            ("FMS_PASSWORD", "open sesame".to_owned()),
        ],
    );
    check_password(&result, b"the plans");

    // A folder link: browsed, one file from S3, the whole folder as a zip fmsd reads from S3.
    let shots = screenshots("real_stack_folder");
    let files = folder_files();
    let trip = local.join("trip");
    for (path, bytes) in &files {
        let file = trip.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, bytes).unwrap();
    }
    owner
        .run(&["upload", "-r", trip.to_str().unwrap(), "/"])
        .ok();
    let (folder_url, _) = link(&owner, "/trip", &[]);
    let result = run("folder.js", &shots, &[("FMS_FOLDER_URL", folder_url)]);
    let zip = check_folder(&result, &files);
    let unzipped = unzip(&zip, &root.path().join("unzipped"));
    assert!(
        unzipped == by_path(&files),
        "the zip holds {:?}",
        unzipped.keys()
    );

    // A file request: three files at once, their parts PUT by the page straight to S3.
    let shots = screenshots("real_stack_file_request");
    owner.run(&["mkdir", "/inbox"]).ok();
    let (request_url, _) = link(&owner, "/inbox", &["--upload-only"]);
    let dropped = root.path().join("dropped");
    std::fs::create_dir_all(&dropped).unwrap();
    let (paths, expected) = file_request_files(&dropped);
    let result = run(
        "file_request.js",
        &shots,
        &[
            ("FMS_UPLOAD_URL", request_url),
            ("FMS_UPLOAD_FILES", paths.join("\n")),
        ],
    );
    check_file_request(&result);
    let listing = owner.run(&["--json", "ls", "/inbox"]).ok().json();
    let landed: BTreeMap<String, (u64, String)> = listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["name"].as_str().unwrap().to_owned(),
                (
                    entry["size"].as_u64().unwrap(),
                    entry["sha256"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    assert_eq!(landed, expected);
    let objects = stack.s3_objects();
    for (size, _) in expected.values() {
        assert!(
            objects.iter().any(|(_, stored)| stored == size),
            "no object of {size} bytes in S3: {objects:?}"
        );
    }
    // Read back from S3 by another way in: fmsctl's download.
    let back: PathBuf = root.path().join("photo-back.jpg");
    owner
        .run(&["download", "/inbox/photo.jpg", back.to_str().unwrap()])
        .ok();
    assert_eq!(sha256_of(&back), expected["photo.jpg"].1);
    assert_eq!(server.stop().code(), Some(0));
}
