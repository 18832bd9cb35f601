//! What a file request tells the person uploading: that the file was received, and nothing
//! about the files already in the folder. A taken name is still renamed for the owner.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fixtures::{mkdir, names, sha256_hex, upload};
use crate::helpers::spawn_app;
use crate::sharing_support::{create_link, public, register_named, send, status_and_text};

#[tokio::test]
async fn a_file_request_does_not_tell_the_uploader_which_names_exist() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    assert_eq!(
        mkdir(&app, &ann.token, "/inbox", false).await.status(),
        StatusCode::CREATED
    );
    upload(&app, &ann.token, "/inbox/secret-plan.pdf", b"ann's plan").await;
    let link = create_link(&app, &ann, json!({"path": "/inbox", "upload_only": true})).await;
    let token = link.token.as_str();

    let bytes = b"a stranger's plan";
    let body = json!({"name": "secret-plan.pdf", "size": bytes.len(), "sha256": sha256_hex(bytes)});
    let (status, created) = status_and_text(
        send(public(&app, Method::POST, token, "/uploads", None).json(&body)).await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_tells_nothing(&created);
    let session: Value = serde_json::from_str(&created).unwrap();
    let upload_id = session["upload_id"].as_str().unwrap().to_owned();
    let part_url = session["parts"][0]["url"].as_str().unwrap().to_owned();
    let put = app
        .client
        .put(&part_url)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);

    let again = send(public(
        &app,
        Method::GET,
        token,
        &format!("/uploads/{upload_id}"),
        None,
    ))
    .await;
    let (status, again) = status_and_text(again).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_tells_nothing(&again);

    let completed = send(
        public(
            &app,
            Method::POST,
            token,
            &format!("/uploads/{upload_id}/complete"),
            None,
        )
        .json(&json!({})),
    )
    .await;
    let (status, received) = status_and_text(completed).await;
    assert_eq!(status, StatusCode::OK, "{received}");
    assert_tells_nothing(&received);
    let received: Value = serde_json::from_str(&received).unwrap();
    assert_eq!(received["size"], bytes.len());
    assert_eq!(received["sha256"], sha256_hex(bytes));

    // The owner sees what happened, as before.
    assert_eq!(
        names(&app, &ann.token, "/inbox").await,
        ["secret-plan (2).pdf", "secret-plan.pdf"]
    );
}

/// Checks that an answer to the uploader names no stored path and no renamed name.
fn assert_tells_nothing(body: &str) {
    let value: Value = serde_json::from_str(body).unwrap();
    assert!(value.get("path").is_none(), "an answer with a path: {body}");
    assert!(value.get("name").is_none(), "an answer with a name: {body}");
    assert!(
        !body.contains("(2)"),
        "an answer that shows the rename: {body}"
    );
    assert!(
        !body.contains("inbox"),
        "an answer that shows the folder: {body}"
    );
}
