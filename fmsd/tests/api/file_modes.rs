//! Who else on the machine may read fmsd's data: nobody. The data dir is 0700 and every file in
//! it 0600 from the first start, whatever umask fmsd was started under, and a data dir that
//! was left open is closed at start.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::api::UploadSession;
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::sha256_hex;
use crate::helpers::eventually;
use crate::process::{spawn_fmsd, spawn_fmsd_on, FmsdProcess};

#[tokio::test]
async fn the_data_dir_and_everything_in_it_are_private_whatever_the_umask() {
    let fmsd = spawn_fmsd("000", &[]);
    let token = fmsd.register_and_login().await;
    upload(&fmsd, &token, "/plan.txt", b"nobody else may read this").await;
    let blobs = fmsd.data_dir.join("blobs");
    eventually(|| (!files_under(&blobs).is_empty()).then_some(()))
        .await
        .expect("the blob is on disk");
    // The registration mail is written by a consumer, a moment later.
    eventually(|| (!files_under(&fmsd.data_dir.join("mail")).is_empty()).then_some(()))
        .await
        .expect("a mail is written");

    let mut seen = Vec::new();
    let mut open = Vec::new();
    for (path, is_dir) in entries(&fmsd.data_dir) {
        let mode = mode(&path);
        let wanted = if is_dir { 0o700 } else { 0o600 };
        if mode != wanted {
            open.push(format!("{} is {mode:o}", path.display()));
        }
        seen.push(path);
    }
    assert!(open.is_empty(), "readable by others: {open:#?}");
    for name in [
        "customers.db",
        "files.db",
        "notifications.db",
        "bus.db",
        "keys",
    ] {
        assert!(
            seen.contains(&fmsd.data_dir.join(name)),
            "{name} was not checked"
        );
    }
}

#[tokio::test]
async fn a_data_dir_left_open_is_closed_at_start() {
    let fmsd = spawn_fmsd_on("022", &[], |data_dir| {
        std::fs::create_dir_all(data_dir).unwrap();
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    });
    fmsd.register_and_login().await;
    assert_eq!(mode(&fmsd.data_dir), 0o700);
}

/// The permission bits of `path`.
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `dir` and everything under it, each with whether it is a folder.
fn entries(dir: &Path) -> Vec<(PathBuf, bool)> {
    let mut found = vec![(dir.to_owned(), true)];
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => found.extend(entries(&path)),
            Ok(_) => found.push((path, false)),
            Err(_) => {}
        }
    }
    found
}

/// The files (not folders) under `dir`, if it exists.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    if !dir.exists() {
        return Vec::new();
    }
    entries(dir)
        .into_iter()
        .filter(|(_, is_dir)| !is_dir)
        .map(|(path, _)| path)
        .collect()
}

/// Uploads `bytes` to `path` in one part.
async fn upload(fmsd: &FmsdProcess, token: &str, path: &str, bytes: &[u8]) {
    let body = json!({"path": path, "size": bytes.len(), "sha256": sha256_hex(bytes)});
    let created = fmsd
        .client
        .post(fmsd.url("/v1/uploads"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let session: UploadSession = created.json().await.unwrap();
    let part = fmsd
        .client
        .put(&session.parts[0].url)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::OK);
    let completed = fmsd
        .client
        .post(fmsd.url(&format!("/v1/uploads/{}/complete", session.upload_id)))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(completed.status(), StatusCode::OK);
}
