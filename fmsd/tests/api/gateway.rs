//! The front door: tokens, errors, rate limits, body caps, correlation ids, health.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn protected_routes_need_a_valid_bearer_token() {
    let app = spawn_app().await;
    for (path, token) in [
        ("/v1/me", None),
        ("/v1/me", Some("garbage")),
        ("/v1/files?path=/", Some("a.b.c")),
        ("/v1/usage", None),
    ] {
        let (status, code, message) = error_code(app.get(path, token).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "{path}"
        );
        assert!(!message.is_empty());
    }
    let response = app
        .request(Method::GET, "/v1/me", None)
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let (status, code, _) = error_code(app.get("/v1/nope", None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

#[tokio::test]
async fn login_is_rate_limited_per_account_with_retry_after() {
    let app =
        spawn_app_with(|settings| settings.auth.login_attempts_per_minute_per_account = 3).await;
    let (email, _) = app.register().await;
    for _ in 0..3 {
        let response = app
            .post(
                "/v1/auth/login",
                None,
                &json!({"email": email, "password": "wrong password"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": email, "password": "wrong password"}),
        )
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(limited).await.1, "rate_limited");
    // Another account from the same client is not affected by this account's limit.
    let (other, password) = app.register().await;
    app.login(&other, &password).await;
}

#[tokio::test]
async fn login_is_rate_limited_per_ip() {
    let app = spawn_app_with(|settings| settings.auth.login_attempts_per_minute_per_ip = 4).await;
    for n in 0..4 {
        let body = json!({"email": format!("x{n}@example.com"), "password": "wrong password"});
        assert_eq!(
            app.post("/v1/auth/login", None, &body).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": "y@example.com", "password": "wrong password"}),
        )
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_json_body_over_the_cap_is_413() {
    let app = spawn_app_with(|settings| settings.gateway.json_body_limit_bytes = 1024).await;
    let body = json!({"email": "a@example.com", "password": "x".repeat(4096), "name": "A"});
    let (status, code, _) = error_code(app.post("/v1/auth/register", None, &body).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
}

#[tokio::test]
async fn the_correlation_id_is_kept_or_made_and_always_returned() {
    let app = spawn_app().await;
    let given = app
        .request(Method::GET, "/healthz", None)
        .header("x-correlation-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-correlation-id"], "trace-abc-123");
    let made = app.get("/healthz", None).await;
    let id = made.headers()["x-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let junk = app
        .request(Method::GET, "/healthz", None)
        .header("x-correlation-id", "x".repeat(500))
        .send()
        .await
        .unwrap();
    assert_ne!(
        junk.headers()["x-correlation-id"].to_str().unwrap(),
        "x".repeat(500)
    );
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    for store in [
        "customers",
        "files",
        "blobs",
        "notifications",
        "mail",
        "bus",
    ] {
        assert_eq!(body["stores"][store], "ok", "{body}");
    }
    assert_eq!(body["down_since"], serde_json::json!({}), "{body}");
}

#[tokio::test]
async fn readiness_fails_when_a_store_is_gone() {
    let app = spawn_app().await;
    // Make the blob store's folder unusable: readiness must say so rather than lie.
    let blobs = app.data_dir.join("blobs");
    std::fs::remove_dir_all(&blobs).unwrap();
    std::fs::write(&blobs, b"not a folder").unwrap();
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["stores"]["blobs"], "unavailable", "{body}");
    // Since when: the first check that failed, kept while it keeps failing.
    let since = body["down_since"]["blobs"].as_str().unwrap().to_owned();
    let again: Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(again["down_since"]["blobs"], since.as_str(), "{again}");
}
