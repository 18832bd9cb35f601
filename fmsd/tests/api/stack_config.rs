//! The settings `scripts/services.sh start` writes for the stack it started
//! (`target/services/fmsd.toml`) run fmsd as they are: every store answers, and a file goes up
//! to S3 and comes back through it.

use reqwest::StatusCode;
use serde_json::Value;

use crate::fixtures::{sample_bytes, sha256_hex};
use crate::process::{round_trip, spawn_fmsd_after};

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
    let trip = round_trip(&fmsd.client, &fmsd.address, &token, &name, &bytes).await;
    assert_eq!(sha256_hex(&trip.downloaded), sha256_hex(&bytes));
}
