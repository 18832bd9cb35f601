//! A wrong method on an endpoint that exists: a JSON 405 in the one error shape, which keeps
//! the `Allow` header saying what the endpoint takes.

use reqwest::header::ALLOW;
use reqwest::{Method, StatusCode};

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn a_wrong_method_is_a_json_405_that_says_what_is_allowed() {
    let app = spawn_app().await;
    for (method, path, allowed) in [
        (Method::PUT, "/v1/files", "GET"),
        (Method::GET, "/v1/auth/login", "POST"),
        (Method::OPTIONS, "/v1/files", "DELETE"),
        (Method::POST, "/healthz", "GET"),
    ] {
        let response = app
            .request(method.clone(), path, None)
            .send()
            .await
            .unwrap();
        let allow = response
            .headers()
            .get(ALLOW)
            .unwrap_or_else(|| panic!("{method} {path}: no Allow header"))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(allow.contains(allowed), "{method} {path}: Allow: {allow}");
        let (status, code, message) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            "{method} {path}"
        );
        assert!(message.contains(method.as_str()), "{message}");
    }
}
