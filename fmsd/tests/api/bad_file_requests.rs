//! Files and uploads requests refused before any work is done: a path that breaks a rule, a
//! malformed query string or body, a missing token.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::url;
use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn every_path_rule_is_a_400_that_names_it() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let token = Some(user.token.as_str());
    let long_segment = format!("/{}", "x".repeat(256));
    let long_path = "/abcdefgh".repeat(456);
    let cases = [
        ("a/b", "start with '/'"),
        ("", "not be empty"),
        ("/a/../b", "'..' segments"),
        ("/a/./b", "'.' segments"),
        ("/a//b", "empty segments"),
        ("/a/", "not end with '/'"),
        ("/a\0b", "control characters"),
        ("/a\u{1b}b", "control characters"),
        (long_segment.as_str(), "at most 255 bytes"),
        (long_path.as_str(), "at most 4096 bytes"),
    ];
    for (path, rule) in cases {
        let responses = [
            app.get(&url("/v1/files", &[("path", path)]), token).await,
            app.get(&url("/v1/files/metadata", &[("path", path)]), token)
                .await,
            app.delete(&url("/v1/files", &[("path", path)]), token, None)
                .await,
            app.get(&url("/v1/downloads", &[("path", path)]), token)
                .await,
            app.post("/v1/folders", token, &json!({"path": path})).await,
            app.post("/v1/files/move", token, &json!({"from": path, "to": "/ok"}))
                .await,
            app.post("/v1/files/move", token, &json!({"from": "/ok", "to": path}))
                .await,
            app.post("/v1/uploads", token, &json!({"path": path, "size": 1}))
                .await,
        ];
        for response in responses {
            let (status, code, message) = error_code(response).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::BAD_REQUEST, "invalid"),
                "{path:?}: {message}"
            );
            assert!(
                message.contains(rule),
                "{path:?}: {message:?} should name {rule:?}"
            );
        }
    }
}

#[tokio::test]
async fn bad_query_strings_and_bodies_are_400_not_500() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let token = Some(user.token.as_str());
    for path in [
        "/v1/files?limit=abc",
        "/v1/files?limit=0",
        "/v1/files?limit=1001",
        "/v1/files?cursor=***",
        "/v1/files/metadata",
    ] {
        let (status, code, message) = error_code(app.get(path, token).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{path}: {message}"
        );
    }
    let (status, _, message) = error_code(app.get("/v1/files?limit=0", token).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("between 1 and 1000"), "{message}");
    let (status, _, _) = error_code(
        app.delete("/v1/files?path=/a&recursive=maybe", token, None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for body in [
        json!({"path": "/a", "parents": "yes"}),
        json!({"path": "/a", "extra": 1}),
        json!({}),
    ] {
        let (status, _, message) = error_code(app.post("/v1/folders", token, &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {message}");
    }
}

#[tokio::test]
async fn every_files_endpoint_needs_a_token() {
    let app = spawn_app().await;
    let endpoints = [
        (Method::GET, "/v1/files?path=/"),
        (Method::GET, "/v1/files/metadata?path=/"),
        (Method::DELETE, "/v1/files?path=/a"),
        (Method::POST, "/v1/folders"),
        (Method::POST, "/v1/files/move"),
        (Method::GET, "/v1/usage"),
        (Method::GET, "/v1/downloads?path=/a"),
        (Method::POST, "/v1/uploads"),
        (
            Method::GET,
            "/v1/uploads/00000000-0000-0000-0000-000000000000",
        ),
        (
            Method::POST,
            "/v1/uploads/00000000-0000-0000-0000-000000000000/complete",
        ),
        (
            Method::DELETE,
            "/v1/uploads/00000000-0000-0000-0000-000000000000",
        ),
    ];
    for (method, path) in endpoints {
        let response = app
            .request(method.clone(), path, None)
            .json(&json!({}))
            .send()
            .await
            .expect("the request is sent");
        let (status, code, _) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "{method} {path}"
        );
    }
}
