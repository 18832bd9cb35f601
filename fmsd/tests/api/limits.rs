//! Where the limits are kept (`stores.limits`): by default in process, so two instances count
//! apart; pointed at one database, two instances count together; a scheme the limits cannot
//! use is refused at start. The real stack's case (PostgreSQL, two `fmsd` processes) is
//! `fmsctl/tests/shared_limits.rs`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app_with, TestApp};

/// Password attempts per account per minute in these tests.
const PER_MINUTE: u32 = 3;

/// Sends `n` wrong logins for `email`, alternating between `apps`; the statuses, in order.
async fn wrong_logins(apps: &[&TestApp], email: &str, n: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for attempt in 0..n {
        let body = json!({"email": email, "password": format!("wrong guess {attempt}")});
        let response = apps[attempt % apps.len()]
            .post("/v1/auth/login", None, &body)
            .await;
        statuses.push(response.status());
    }
    statuses
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn two_instances_pointed_at_one_limits_database_count_together() {
    let shared = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", shared.path().join("limits.db").display());
    let configure = |settings: &mut fmsd::settings::Settings| {
        settings.auth.login_attempts_per_minute_per_account = PER_MINUTE;
        settings.stores.limits = Some(url.clone());
    };
    let first = spawn_app_with(configure).await;
    let second = spawn_app_with(configure).await;
    let statuses = wrong_logins(&[&first, &second], "ann@example.com", 8).await;
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        PER_MINUTE as usize,
        "{statuses:?}"
    );
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        8 - PER_MINUTE as usize,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn by_default_each_embedded_instance_counts_on_its_own() {
    let configure = |settings: &mut fmsd::settings::Settings| {
        settings.auth.login_attempts_per_minute_per_account = PER_MINUTE;
    };
    let first = spawn_app_with(configure).await;
    let second = spawn_app_with(configure).await;
    let statuses = wrong_logins(&[&first, &second], "ann@example.com", 8).await;
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        2 * PER_MINUTE as usize,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_limits_store_of_another_kind_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let settings = fmsd::settings::Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        stores: fmsd::settings::StoresSettings {
            limits: Some("s3://limits".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let error = fmsd::app::App::build(settings)
        .await
        .err()
        .expect("s3:// is refused");
    let message = format!("{error:#}");
    assert!(
        message.contains("stores.limits") && message.contains("memory://"),
        "{message}"
    );
}
