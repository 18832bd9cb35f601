//! A full disk: uploads that would fill it are refused with 507 before it fills, at create and
//! at each part; when something else filled it, parts and writes answer 507 (never 500),
//! `/readyz` says the disk is degraded, and deleting and aborting still work, after a restart
//! too. The data dir is a small tmpfs of its own (mounting one needs root).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fixtures::{create_upload, put_part_of, sha256_hex, upload, url};
use crate::helpers::{error_code, eventually, spawn_app_in, TestApp};
use crate::sharing_support::put_parts;

const MIB: u64 = 1024 * 1024;
/// The test file system's size.
const DISK: u64 = 64 * MIB;
/// `files.min_free_bytes` in these tests.
const FLOOR: u64 = 8 * MIB;
/// `files.reserve_bytes` in these tests.
const RESERVE: u64 = 4 * MIB;

/// A tmpfs of `DISK` bytes mounted on a temporary folder; unmounted when dropped.
struct Tmpfs {
    dir: Arc<tempfile::TempDir>,
}

impl Tmpfs {
    fn mount() -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("a temp dir"));
        let output = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={DISK},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .expect("mount runs");
        assert!(
            output.status.success(),
            "mounting a {DISK}-byte tmpfs for the data dir needs root (CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system from outside fmsd, as another program would, until not one
    /// more byte fits.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).expect("the filler is created");
        for chunk in [MIB as usize, 4096, 1] {
            let bytes = vec![7u8; chunk];
            while file.write_all(&bytes).is_ok() {}
        }
        let _ = file.sync_all();
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: a task of the app may still hold a file open.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The app on `disk` with the floor and the reserve of these tests.
async fn app_on(disk: &Tmpfs) -> TestApp {
    spawn_app_in(disk.dir.clone(), configure).await
}

fn configure(settings: &mut fmsd::settings::Settings) {
    settings.files.min_free_bytes = FLOOR;
    settings.files.reserve_bytes = RESERVE;
}

/// `GET /readyz`: its status and body.
async fn readyz(app: &TestApp) -> (StatusCode, Value) {
    let response = app.get("/readyz", None).await;
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

/// How many stagings the embedded blob store holds.
fn stagings(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir.join("blobs/staging"))
        .expect("the staging folder")
        .count()
}

/// Sends every part of `session` from `bytes`; returns the statuses.
async fn send_parts(
    app: &TestApp,
    session: &common::api::UploadSession,
    bytes: &[u8],
) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for part in &session.parts {
        let response = put_part_of(app, part, bytes).await;
        let status = response.status();
        if status != StatusCode::OK {
            let (_, code, _) = error_code(response).await;
            assert_eq!(code, "insufficient_storage", "part {}", part.number);
        }
        statuses.push(status);
    }
    statuses
}

#[tokio::test]
async fn an_upload_that_would_fill_the_disk_is_refused_at_create_and_at_its_parts() {
    let disk = Tmpfs::mount();
    let app = app_on(&disk).await;
    let user = app.register_and_login().await;
    assert!(
        disk.path().join("files.db").exists()
            && disk.path().join(fmsd::space::RESERVE_FILE).exists(),
        "the reserve sits beside the files database"
    );

    // Larger than the whole disk: refused before a byte is written, nothing reserved.
    let body = json!({"path": "/huge.bin", "size": 100 * MIB});
    let response = app.post("/v1/uploads", Some(&user.token), &body).await;
    let (status, code, message) = error_code(response).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{message}");
    assert_eq!(code, "insufficient_storage");
    assert!(message.contains("files.min_free_bytes"), "{message}");
    assert_eq!(stagings(&app), 0);
    let usage: Value = app
        .get("/v1/usage", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["reserved_bytes"], 0, "{usage}");

    // Two sessions that each fit but not together: the parts that would cross the floor are
    // refused, the rest of the disk stays free.
    let bytes: Vec<u8> = (0..30 * MIB).map(|i| (i % 251) as u8).collect();
    let mut sessions = Vec::new();
    for name in ["/a.bin", "/b.bin"] {
        let (status, session) = create_upload(
            &app,
            &user.token,
            json!({"path": name, "size": bytes.len(), "sha256": sha256_hex(&bytes)}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{name}");
        sessions.push(session);
    }
    let first = send_parts(&app, &sessions[0], &bytes).await;
    assert!(first.iter().all(|status| *status == StatusCode::OK));
    let second = send_parts(&app, &sessions[1], &bytes).await;
    let refused = second
        .iter()
        .filter(|status| **status == StatusCode::INSUFFICIENT_STORAGE)
        .count();
    assert!(refused > 0, "every part of the second session was taken");
    let free = free_bytes(disk.path());
    assert!(free >= FLOOR - MIB, "only {free} bytes are left free");

    // The session that cannot finish is aborted, and its room comes back.
    let response = app
        .delete(
            &format!("/v1/uploads/{}", sessions[1].upload_id),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(free_bytes(disk.path()) > free + 20 * MIB);
    let response = crate::fixtures::complete(&app, &user.token, &sessions[0], None).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn on_a_disk_something_else_filled_writes_answer_507_and_deleting_still_works() {
    let disk = Tmpfs::mount();
    let app = app_on(&disk).await;
    let user = app.register_and_login().await;
    let bytes: Vec<u8> = (0..10 * MIB).map(|i| (i % 241) as u8).collect();
    upload(&app, &user.token, "/kept.bin", &bytes).await;
    upload(&app, &user.token, "/big.bin", &bytes).await;
    let (status, session) = create_upload(
        &app,
        &user.token,
        json!({"path": "/half.bin", "size": bytes.len()}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    put_parts(&app, &session.parts[..5], &bytes).await;

    let filler = disk.fill();
    assert_eq!(free_bytes(disk.path()), 0);

    // Still ready (downloads and deletes work), but the disk is reported degraded.
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["stores"]["disk"], "degraded", "{body}");
    assert!(
        body["degraded"]["disk"]
            .as_str()
            .is_some_and(|reason| reason.contains("files.min_free_bytes")),
        "{body}"
    );

    // A part that cannot be written: 507 with the JSON error, not 500.
    let response = put_part_of(&app, &session.parts[5], &bytes).await;
    let (status, code, _) = error_code(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage")
    );
    // A write of metadata: it fits (the database has room of its own) or it is a clear 507.
    let response = app
        .post("/v1/folders", Some(&user.token), &json!({"path": "/new"}))
        .await;
    let status = response.status();
    assert!(
        status == StatusCode::CREATED || status == StatusCode::INSUFFICIENT_STORAGE,
        "mkdir on a full disk answered {status}: {}",
        response.text().await.unwrap_or_default()
    );

    // A restart on the full disk comes up, and deleting and aborting free room.
    let app = app.restart_with(configure).await;
    let response = app
        .delete(
            &format!("/v1/uploads/{}", session.upload_id),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let response = app
        .delete(
            &url("/v1/files", &[("path", "/big.bin"), ("permanent", "true")]),
            Some(&user.token),
            None,
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap_or_default()
    );
    assert_eq!(stagings(&app), 0);
    assert!(free_bytes(disk.path()) >= 10 * MIB);
    let listing = crate::fixtures::names(&app, &user.token, "/").await;
    assert!(listing.contains(&"kept.bin".to_owned()), "{listing:?}");
    assert!(!listing.contains(&"big.bin".to_owned()), "{listing:?}");

    // Once the other program's file is gone, the disk is ready again, its reserve back.
    std::fs::remove_file(filler).unwrap();
    let (status, body) = readyz(&app).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &json!("ready")),
        "{body}"
    );
    let reserve = disk.path().join(fmsd::space::RESERVE_FILE);
    let restored = eventually(|| {
        let size = std::fs::metadata(&reserve).ok()?.len();
        (size == RESERVE).then_some(())
    })
    .await;
    assert!(restored.is_some(), "the reserve was not put back");
}

/// Bytes free on the file system of `path`.
fn free_bytes(path: &Path) -> u64 {
    let output = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .expect("df runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)
        .and_then(|line| line.trim().parse().ok())
        .expect("df prints the free bytes")
}
