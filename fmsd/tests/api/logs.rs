//! What the log says about links: whoever reads fmsd's log at debug level must not learn a
//! working link. Requests to `/s/{token}` are logged with a short hash of the token instead,
//! and no file in the data dir holds a token either.

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::api::sharing::LINK_PASSWORD_HEADER;
use common::api::CreatedLink;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fixtures::sha256_hex;
use crate::process::{spawn_fmsd, FmsdProcess};

#[tokio::test]
async fn link_tokens_never_reach_the_log() {
    let fmsd = spawn_fmsd("022", &[("RUST_LOG", "debug")]);
    let token = fmsd.register_and_login().await;
    for folder in ["/shared", "/inbox"] {
        let made = fmsd
            .client
            .post(fmsd.url("/v1/folders"))
            .bearer_auth(&token)
            .json(&json!({"path": folder}))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), StatusCode::CREATED);
    }
    let open = create_link(&fmsd, &token, json!({"path": "/shared"})).await;
    let guarded = create_link(
        &fmsd,
        &token,
        json!({"path": "/shared", "password": "a long password"}),
    )
    .await;
    let inbox = create_link(
        &fmsd,
        &token,
        json!({"path": "/inbox", "upload_only": true}),
    )
    .await;

    let client = &fmsd.client;
    let at = |link: &CreatedLink, rest: &str| fmsd.url(&format!("/s/{}{rest}", link.token));
    let statuses = [
        client.get(at(&open, "")).send().await.unwrap().status(),
        client
            .get(at(&open, "/files?path=/"))
            .send()
            .await
            .unwrap()
            .status(),
        client
            .post(at(&open, "/download"))
            .json(&json!({"path": "/missing.txt"}))
            .send()
            .await
            .unwrap()
            .status(),
        client
            .get(at(&open, "/uploads/not-a-uuid"))
            .send()
            .await
            .unwrap()
            .status(),
        client
            .get(at(&guarded, ""))
            .header(LINK_PASSWORD_HEADER, "a wrong guess")
            .send()
            .await
            .unwrap()
            .status(),
        client
            .post(at(&inbox, "/uploads"))
            .json(&json!({"name": "note.txt", "size": 3}))
            .send()
            .await
            .unwrap()
            .status(),
    ];
    assert_eq!(
        statuses.map(|status| status.as_u16()),
        [200, 200, 404, 400, 401, 201]
    );
    // Give the consumers a moment: events and mails are logged too.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let log = fmsd.log();
    for link in [&open, &guarded, &inbox] {
        assert!(
            !log.contains(&link.token),
            "the log holds the token of the link to {}:\n{log}",
            link.link.path
        );
        // Nor is it kept anywhere on disk: the links table holds its SHA-256.
        for file in files_under(&fmsd.data_dir) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(
                !bytes
                    .windows(link.token.len())
                    .any(|window| window == link.token.as_bytes()),
                "{} holds a link token",
                file.display()
            );
        }
        // The requests are logged all the same, under a short hash of the token.
        let logged_as = format!("/s/sha256:{}", &sha256_hex(link.token.as_bytes())[..12]);
        assert!(
            log.contains(&logged_as),
            "no {logged_as} in the log:\n{log}"
        );
    }
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => files.extend(files_under(&entry.path())),
            Ok(_) => files.push(entry.path()),
            Err(_) => {}
        }
    }
    files
}

/// `POST /v1/links`; panics unless it answers 201.
async fn create_link(fmsd: &FmsdProcess, token: &str, body: Value) -> CreatedLink {
    let response = fmsd
        .client
        .post(fmsd.url("/v1/links"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}
