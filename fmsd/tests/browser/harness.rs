//! What every browser test shares, whichever fmsd it drives: finding Chromium and
//! playwright-core, running one script of this folder, the screenshot folder, and the checks
//! of each script's result, so the embedded default (`fmsd/tests/api/browser.rs`) and the real
//! stack (`fmsctl/tests/real_stack/browser.rs`) check the same things. Both include this file
//! with `#[path]`.
//!
//! `scripts/browser.sh` installs Chromium and playwright-core; without them these tests fail
//! and say so.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The file request's three files: names and sizes (one of 300 MiB).
pub const FILE_REQUEST_FILES: [(&str, usize); 3] = [
    ("notes.txt", 1_000),
    ("photo.jpg", 3_000_000),
    ("video.mp4", 300 * 1024 * 1024),
];

/// The name of the file whose page must show markup as text.
pub const MARKUP_NAME: &str = "<img src=x onerror=alert(1)>.html";

/// Where the tools are: the environment's `FMS_TEST_CHROMIUM` and `FMS_TEST_PLAYWRIGHT`, else
/// where `scripts/browser.sh` puts them. Panics with what to run when one is missing.
pub fn tools() -> (PathBuf, PathBuf) {
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

/// The test's own screenshot folder under the test binary's `target/tmp/browser/`, empty.
pub fn screenshots(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("browser")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `fmsd/tests/browser/{script}` with `env`; returns its JSON line. Panics with its
/// output if it fails or saw a console error, a page error or a dialog.
pub async fn run_script(script: &str, shots: &Path, env: &[(&str, String)]) -> Value {
    let (chromium, playwright) = tools();
    // Both crates sit beside `fmsd`, so this names the scripts from either.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fmsd/tests/browser")
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
pub fn assert_headers(page: &Value) {
    let policy = page["csp"].as_str().unwrap();
    assert!(policy.contains("default-src 'none'"), "{page}");
    assert!(policy.contains("script-src 'nonce-"), "{page}");
    assert!(policy.contains("frame-ancestors 'none'"), "{page}");
    assert_eq!(page["referrer"], "no-referrer");
    assert_eq!(page["nosniff"], "nosniff");
}

/// The bytes of a download the script saved (`{"file": PATH, "suggested": NAME}`).
pub fn saved(download: &Value) -> Vec<u8> {
    std::fs::read(download["file"].as_str().unwrap()).unwrap()
}

/// `file_link.js`: the file's page and download (`bytes` under `report.pdf`), the expired
/// link's 410, the revoked one's 404, and the markup name shown as text.
pub fn check_file_link(result: &Value, bytes: &[u8]) {
    assert_eq!(result["file"]["status"], 200, "{result}");
    assert_headers(&result["file"]);
    assert_eq!(result["heading"], "report.pdf");
    assert_eq!(result["focused"], "Download");
    assert_eq!(result["outline"], "solid");
    assert_eq!(result["saved"]["suggested"], "report.pdf");
    assert!(
        saved(&result["saved"]) == bytes,
        "the downloaded bytes differ"
    );

    assert_eq!(result["expired"]["status"], 410, "{result}");
    assert_headers(&result["expired"]);
    assert_eq!(result["expired"]["heading"], "This link has ended");

    assert_eq!(result["revoked"]["status"], 404, "{result}");
    assert_headers(&result["revoked"]);
    assert_eq!(result["revoked"]["heading"], "This link does not work");

    assert_eq!(result["xss"]["status"], 200);
    assert_headers(&result["xss"]);
    assert_eq!(result["xss"]["heading"], MARKUP_NAME);
    assert_eq!(result["xss"]["images"], 0);
}

/// `password.js`: the form (401), the wrong password's error, the right one's page and
/// download (`bytes`), and the page again without the password.
pub fn check_password(result: &Value, bytes: &[u8]) {
    assert_eq!(result["form"]["status"], 401, "{result}");
    assert_headers(&result["form"]);
    assert!(
        result["error"].as_str().unwrap().contains("not right"),
        "{result}"
    );
    assert_eq!(result["heading"], "plans.txt");
    assert!(saved(&result["saved"]) == bytes);
    assert_eq!(result["again"]["status"], 200);
}

/// The files of the folder `folder.js` browses, by path inside `trip`.
pub fn folder_files() -> [(&'static str, Vec<u8>); 3] {
    [
        ("a.txt", b"alpha".to_vec()),
        ("sub/b.bin", sample_bytes(2_500_000, 7)),
        ("sub/deep/c.txt", b"gamma".to_vec()),
    ]
}

/// `folder.js`: the folder `trip` and its sub-folder, one file (`sub/b.bin` of `files`), and
/// the zip, whose path is returned for the caller to open.
pub fn check_folder(result: &Value, files: &[(&str, Vec<u8>)]) -> PathBuf {
    assert_eq!(result["root"]["status"], 200, "{result}");
    assert_headers(&result["root"]);
    assert_eq!(result["rootHeading"], "trip");
    assert_eq!(result["rootNames"], json!(["a.txt", "sub/"]));
    assert_eq!(result["subHeading"], "sub");
    assert_eq!(result["subNames"], json!(["b.bin", "deep/"]));
    assert_eq!(result["one"]["suggested"], "b.bin");
    let (_, b_bin) = files.iter().find(|(path, _)| *path == "sub/b.bin").unwrap();
    assert!(saved(&result["one"]) == *b_bin);
    assert_eq!(result["zip"]["suggested"], "trip.zip");
    PathBuf::from(result["zip"]["file"].as_str().unwrap())
}

/// `files` by path, as a zip of them should hold them.
pub fn by_path(files: &[(&str, Vec<u8>)]) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .map(|(path, bytes)| ((*path).to_owned(), bytes.clone()))
        .collect()
}

/// Writes the file request's files into `dir`: their paths, and each name's size and SHA-256.
pub fn file_request_files(dir: &Path) -> (Vec<String>, BTreeMap<String, (u64, String)>) {
    let mut expected = BTreeMap::new();
    let mut paths = Vec::new();
    for (index, (name, size)) in FILE_REQUEST_FILES.iter().enumerate() {
        let path = dir.join(name);
        let sha = write_file(&path, *size, index as u8 + 1);
        expected.insert((*name).to_owned(), (*size as u64, sha));
        paths.push(path.display().to_string());
    }
    (paths, expected)
}

/// `file_request.js`: every file's bar full and marked done, and the page's last word.
pub fn check_file_request(result: &Value) {
    assert_eq!(result["opened"]["status"], 200, "{result}");
    assert_headers(&result["opened"]);
    let rows = result["rows"].as_array().unwrap();
    assert_eq!(rows.len(), FILE_REQUEST_FILES.len(), "{result}");
    for row in rows {
        assert_eq!(row["done"], true, "{row}");
        assert_eq!(row["value"], row["max"], "{row}");
        assert!(row["note"].as_str().unwrap().contains("100 %"), "{row}");
    }
    assert_eq!(result["seen"], json!([1, 1, 1]), "{result}");
    assert_eq!(result["status"], "All files were uploaded.");
}

/// `n` bytes of a pattern that `seed` shifts.
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

/// Writes `size` pseudo-random bytes to `path` a MiB at a time; returns their SHA-256.
pub fn write_file(path: &Path, size: usize, seed: u8) -> String {
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
