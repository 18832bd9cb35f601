//! What answers carry besides their body: those that hand out a token or a link's secret are
//! never stored by a cache; JSON answers and downloads tell browsers not to guess another
//! content type.

use common::api::{CreatedLink, TokenPair};
use reqwest::header::{HeaderMap, CACHE_CONTROL, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::{download_link, fetch, upload};
use crate::helpers::spawn_app;

#[tokio::test]
async fn answers_with_a_secret_are_never_stored_and_nothing_is_sniffed() {
    let app = spawn_app().await;
    let (email, password) = app.register().await;
    let login = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    assert_not_stored(login.headers(), "login");
    assert_nosniff(login.headers(), "login");
    let tokens: TokenPair = login.json().await.unwrap();

    let refreshed = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh_token}),
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    assert_not_stored(refreshed.headers(), "refresh");
    let tokens: TokenPair = refreshed.json().await.unwrap();
    let token = tokens.access_token.as_str();

    upload(&app, token, "/talk.pdf", b"slides").await;
    let link = app
        .post("/v1/links", Some(token), &json!({"path": "/talk.pdf"}))
        .await;
    assert_eq!(link.status(), StatusCode::CREATED);
    assert_not_stored(link.headers(), "link creation");
    assert_nosniff(link.headers(), "link creation");
    let link: CreatedLink = link.json().await.unwrap();
    let shown = app.get(&format!("/s/{}", link.token), None).await;
    assert_nosniff(shown.headers(), "a link's page");

    let missing = app.get("/v1/files?path=/nowhere", Some(token)).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_nosniff(missing.headers(), "an error");
    let wrong_method = app
        .request(Method::PUT, "/v1/files", Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_nosniff(wrong_method.headers(), "a 405");
    let download = download_link(&app, token, "/talk.pdf").await;
    assert_eq!(download.status(), StatusCode::OK);
    let url = download.json::<serde_json::Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let bytes = fetch(&app, &url, None).await;
    assert_eq!(bytes.status(), StatusCode::OK);
    assert_eq!(bytes.headers()[CONTENT_TYPE], "application/octet-stream");
    assert_nosniff(bytes.headers(), "a download");
}

fn assert_not_stored(headers: &HeaderMap, what: &str) {
    let cache_control = headers
        .get(CACHE_CONTROL)
        .map(|value| value.to_str().unwrap().to_owned());
    assert_eq!(cache_control.as_deref(), Some("no-store"), "{what}");
}

fn assert_nosniff(headers: &HeaderMap, what: &str) {
    assert_eq!(
        headers
            .get("x-content-type-options")
            .map(|value| value.to_str().unwrap()),
        Some("nosniff"),
        "{what}"
    );
}
