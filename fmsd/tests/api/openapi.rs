//! The OpenAPI document at `/openapi.json`: every operation it lists is a route of the router
//! and every method a documented path takes is in it; and schemathesis, with every check on,
//! finds no fault in fmsd against it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

/// The methods a route may take; HEAD comes with GET.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let response = app.get("/openapi.json", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// `path` with each `{parameter}` filled in.
fn concrete(path: &str) -> String {
    path.replace("{token}", "no-such-token")
        .replace("{id}", "00000000-0000-0000-0000-000000000000")
}

/// Whether an answer is the router's own: no such route (404 "no such endpoint") or not with
/// this method (405).
async fn is_fallback(response: reqwest::Response) -> bool {
    match response.status() {
        StatusCode::METHOD_NOT_ALLOWED => true,
        StatusCode::NOT_FOUND => {
            let body: Value = response.json().await.unwrap_or_default();
            body["error"]["message"] == "no such endpoint"
        }
        _ => false,
    }
}

#[tokio::test]
async fn the_document_and_the_router_list_the_same_operations() {
    let app = spawn_app().await;
    let document = document(&app).await;
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    for prefix in [
        "/v1/",
        "/s/",
        "/healthz",
        "/readyz",
        "/.well-known/jwks.json",
    ] {
        assert!(
            paths.keys().any(|path| path.starts_with(prefix)),
            "nothing under {prefix} in the document"
        );
    }
    assert!(paths.keys().all(|path| !path.starts_with("/blobs")));
    // Operation ids are unique (OpenAPI asks it): a link names its target by id, so with two
    // `list`s schemathesis's inferred `POST /v1/links` -> `GET /s/{token}/files` landed on
    // `GET /v1/uploads`, which has no `token`.
    let mut ids: HashMap<&str, String> = HashMap::new();
    for (path, item) in paths {
        for method in METHODS {
            let Some(id) = item.get(method).and_then(|op| op["operationId"].as_str()) else {
                continue;
            };
            if let Some(other) = ids.insert(id, format!("{method} {path}")) {
                panic!("{method} {path} and {other} share the operationId {id}");
            }
        }
    }
    for (path, item) in paths {
        for method in METHODS {
            let request = app.request(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                &concrete(path),
                None,
            );
            let fallback = is_fallback(request.send().await.unwrap()).await;
            match item.get(method) {
                Some(operation) => {
                    assert!(!fallback, "{method} {path} is documented but not routed");
                    check_operation(path, method, operation);
                }
                None => assert!(fallback, "{method} {path} is routed but not documented"),
            }
        }
    }
}

/// Every answer of the JSON API names its body, and the answers every operation of a kind
/// gives are there.
fn check_operation(path: &str, method: &str, operation: &Value) {
    let responses = operation["responses"].as_object().unwrap();
    let api = path.starts_with("/v1/") || path.starts_with("/s/");
    if api {
        assert!(responses.contains_key("503"), "{method} {path} lacks 503");
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
    if operation["security"]
        .as_array()
        .is_some_and(|s| !s.is_empty())
    {
        assert!(responses.contains_key("401"), "{method} {path} lacks 401");
    }
    if let Some(limited) = responses.get("429") {
        assert!(
            limited["headers"].get("Retry-After").is_some(),
            "{method} {path}: 429 without Retry-After"
        );
    }
}

/// `FMS_TEST_SCHEMATHESIS`, from the environment or `target/services/services.env`.
fn schemathesis() -> PathBuf {
    let name = "FMS_TEST_SCHEMATHESIS";
    let from_file = || {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/services/services.env");
        let text = std::fs::read_to_string(path).ok()?;
        let values: HashMap<&str, &str> = text
            .lines()
            .filter_map(|line| line.trim().trim_start_matches("export ").split_once('='))
            .collect();
        values
            .get(name)
            .map(|value| value.trim().trim_matches(['"', '\'']).to_owned())
    };
    let program = std::env::var(name)
        .ok()
        .or_else(from_file)
        .unwrap_or_else(|| {
            panic!(
            "{name} is not set: `scripts/services.sh start` installs schemathesis and writes it \
             to target/services/services.env (or set {name} to a schemathesis program)"
        )
        });
    let program = PathBuf::from(program);
    assert!(
        program.is_file(),
        "{name} names {}, which is not there: run `scripts/services.sh start`",
        program.display()
    );
    program
}

#[tokio::test]
async fn schemathesis_finds_no_fault() {
    let program = schemathesis();
    // A quota well below the free disk, so a large upload meets the quota (413), not a full
    // disk (507).
    let app = spawn_app_with(|settings| settings.files.quota_bytes = 256 * 1024 * 1024).await;
    let user = app.register_and_login().await;
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/schemathesis.toml");
    // Seed 1, so a run is repeatable; another seed explores other cases.
    let seed = std::env::var("FMS_TEST_SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".to_owned());
    let run = tokio::process::Command::new(&program)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/openapi.json", app.address)])
        .args(["--checks", "all"])
        .args(["--header", &format!("Authorization: Bearer {}", user.token)])
        .args(["--max-examples", "10", "--seed", &seed])
        .args(["--max-response-time", "5", "--request-timeout", "10"])
        .arg("--no-color")
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(170), run)
        .await
        .expect("schemathesis finished within 170 s")
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .find("SUMMARY")
        .map_or(stdout.as_ref(), |at| &stdout[at..]);
    println!("{summary}");
    assert!(
        output.status.success(),
        "schemathesis found faults ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
