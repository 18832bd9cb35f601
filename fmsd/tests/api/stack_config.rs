//! The settings `scripts/services.sh start` writes for the stack it started
//! (`target/services/fmsd.toml`) run fmsd as they are: every store answers, and a file goes up
//! to S3 and comes back through it.

use common::api::{DownloadLink, Entry, UploadSession};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fixtures::{sample_bytes, sha256_hex};
use crate::process::spawn_fmsd_after;

#[tokio::test]
async fn fmsd_runs_on_the_stack_with_the_settings_file_services_sh_writes() {
    let config = std::env::var("FMS_TEST_FMSD_CONFIG").unwrap_or_else(|_| {
        panic!(
            "FMS_TEST_FMSD_CONFIG is not set: start the real servers with \
             `scripts/services.sh start` (or run `scripts/test.sh`), which writes it"
        )
    });
    assert!(
        std::path::Path::new(&config).is_file(),
        "{config} is missing"
    );
    // Only the address and the data dir come from flags, so the test runs beside others.
    let fmsd = spawn_fmsd_after("umask 077", &[("FMSD_CONFIG", config.as_str())], |_| {});
    let ready = fmsd.client.get(fmsd.url("/readyz")).send().await.unwrap();
    let status = ready.status();
    let body: Value = ready.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    for store in [
        "customers",
        "files",
        "blobs",
        "bus",
        "mail",
        "notifications",
    ] {
        assert_eq!(body["stores"][store], "ok", "{store}: {body}");
    }

    let token = fmsd.register_and_login().await;
    let bytes = sample_bytes(100_000, 3);
    let name = format!("/stack-{}.bin", uuid::Uuid::new_v4().simple());
    let session: UploadSession = fmsd
        .client
        .post(fmsd.url("/v1/uploads"))
        .bearer_auth(&token)
        .json(&json!({"path": name, "size": bytes.len(), "sha256": sha256_hex(&bytes)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for part in &session.parts {
        let range = part.offset as usize..(part.offset + part.size) as usize;
        let stored = fmsd
            .client
            .put(&part.url)
            .body(bytes[range].to_vec())
            .send()
            .await
            .unwrap();
        assert!(stored.status().is_success(), "{}", stored.status());
    }
    let entry: Entry = fmsd
        .client
        .post(fmsd.url(&format!("/v1/uploads/{}/complete", session.upload_id)))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(entry.size, bytes.len() as u64);
    let link: DownloadLink = fmsd
        .client
        .get(fmsd.url(&format!("/v1/downloads?path={name}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = fmsd
        .client
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha256_hex(&body), sha256_hex(&bytes));
}
