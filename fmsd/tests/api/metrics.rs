//! `/metrics` on its own listener: the series move as requests, uploads, downloads and failed
//! logins happen.
//!
//! The recorder is process-wide and other tests run at once, so the test compares each counter
//! before and after what it did, and asks only that it went up by at least its own share.

use common::api::DownloadLink;
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{create_upload, download_link, fetch, sample_bytes, sha256_hex, upload};
use crate::helpers::{spawn_app_with, TestApp};

/// The sum of every sample of `name` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(series, _)| {
            let (series_name, series_labels) = series.split_once('{').unwrap_or((series, ""));
            series_name == name
                && labels
                    .iter()
                    .all(|(key, value)| series_labels.contains(&format!("{key}=\"{value}\"")))
        })
        .map(|(_, value)| value.parse::<f64>().unwrap())
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let url = app.metrics_url.as_deref().expect("metrics are on");
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    response.text().await.unwrap()
}

async fn failed_login(app: &TestApp, email: &str) -> StatusCode {
    app.post(
        "/v1/auth/login",
        None,
        &json!({"email": email, "password": "not the password at all"}),
    )
    .await
    .status()
}

#[tokio::test]
async fn the_series_move_with_logins_uploads_and_downloads() {
    let app = spawn_app_with(|settings| {
        settings.metrics.listen = Some("127.0.0.1:0".parse().unwrap());
        // The login of `register_and_login` and one wrong password; the next is refused.
        settings.auth.login_attempts_per_minute_per_account = 2;
    })
    .await;
    let user = app.register_and_login().await;
    let before = scrape(&app).await;

    assert_eq!(
        failed_login(&app, &user.email).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        failed_login(&app, &user.email).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let bytes = sample_bytes(1024 * 1024 + 500, 3);
    upload(&app, &user.token, "/counted.bin", &bytes).await;
    let link: DownloadLink = download_link(&app, &user.token, "/counted.bin")
        .await
        .json()
        .await
        .unwrap();
    let served = fetch(&app, &link.url, None).await;
    // Counting the bytes changes nothing of the answer.
    assert_eq!(
        served.headers()["content-length"],
        bytes.len().to_string().as_str()
    );
    let served = served.bytes().await.unwrap();
    assert_eq!(served.len(), bytes.len());
    let secret_token = "a-link-token-that-must-never-be-a-label";
    let response = app.get(&format!("/s/{secret_token}"), None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // A session left open is in progress. (Only this test scrapes, so no other app's count
    // replaces this one's between the refresh and the render.)
    let (status, _session) = create_upload(
        &app,
        &user.token,
        json!({"path": "/open.bin", "size": 10, "sha256": sha256_hex(&[0; 10])}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let after = scrape(&app).await;
    let grew = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    let login = [("route", "/v1/auth/login"), ("method", "POST")];
    assert!(grew("fms_logins_failed_total", &[]) >= 1.0, "{after}");
    assert!(grew("fms_logins_rate_limited_total", &[]) >= 1.0, "{after}");
    assert!(
        grew(
            "fms_http_requests_total",
            &[login[0], login[1], ("status", "401")]
        ) >= 1.0
    );
    assert!(
        grew(
            "fms_http_requests_total",
            &[login[0], login[1], ("status", "429")]
        ) >= 1.0
    );
    assert!(
        grew(
            "fms_http_request_duration_seconds_count",
            &[login[0], ("status", "401")]
        ) >= 1.0
    );
    let parts = [
        ("route", "/blobs/parts/{staging}/{number}"),
        ("status", "200"),
    ];
    assert!(grew("fms_http_requests_total", &parts) >= 2.0, "{after}");
    assert!(grew("fms_uploaded_bytes_total", &[]) >= bytes.len() as f64);
    assert!(grew("fms_downloaded_bytes_total", &[]) >= bytes.len() as f64);
    assert!(
        grew(
            "fms_http_requests_total",
            &[("route", "/s/{token}"), ("status", "404")]
        ) >= 1.0
    );
    assert!(!after.contains(secret_token), "a raw path became a label");

    assert!(
        sample(&after, "fms_uploads_in_progress", &[]) >= 1.0,
        "{after}"
    );
    // The gauges are there, read at the scrape.
    for gauge in [
        "# TYPE fms_uploads_in_progress gauge",
        "fms_outbox_backlog_events{service=\"files\"}",
        "fms_outbox_backlog_events{service=\"customers\"}",
        "fms_consumer_lag_events{group=",
        "# TYPE fms_http_request_duration_seconds histogram",
    ] {
        assert!(after.contains(gauge), "{gauge} missing from:\n{after}");
    }
    // Not on the public port.
    let public = app.get("/metrics", None).await;
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
}
