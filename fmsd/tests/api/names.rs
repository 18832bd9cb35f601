//! What a file or folder may be called: no Unicode bidirectional controls (they make
//! `invoice\u{202E}fdp.exe` look like `invoiceexe.pdf`), and one name however its accents are
//! encoded (stored in NFC, so `é` precomposed and `e` + U+0301 are the same name).

use common::api::{Entry, UploadSession};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::{mkdir, names, url};
use crate::helpers::{error_code, spawn_app};
use crate::sharing_support::{create_link, public, register_named, send};

/// One of each bidirectional control: embeddings and overrides, isolates, marks.
const BIDI_CONTROLS: [char; 12] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
];

#[tokio::test]
async fn a_name_with_a_bidirectional_control_is_refused() {
    let app = spawn_app().await;
    let user = register_named(&app, "Ann").await;
    let token = Some(user.token.as_str());
    assert_eq!(
        mkdir(&app, &user.token, "/inbox", false).await.status(),
        StatusCode::CREATED
    );
    for control in BIDI_CONTROLS {
        let name = format!("invoice{control}fdp.exe");
        let path = format!("/{name}");
        let requests = [
            ("/v1/folders", json!({"path": path})),
            ("/v1/uploads", json!({"path": path, "size": 1})),
            ("/v1/files/move", json!({"from": "/inbox", "to": path})),
        ];
        for (endpoint, body) in requests {
            let response = app.post(endpoint, token, &body).await;
            let (status, code, message) = error_code(response).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::BAD_REQUEST, "invalid"),
                "{endpoint} with U+{:04X}: {message}",
                control as u32
            );
            assert!(message.contains("bidirectional"), "{message}");
        }
    }
    // Through a file request too.
    let link = create_link(&app, &user, json!({"path": "/inbox", "upload_only": true})).await;
    let body = json!({"name": "scan\u{202E}fdp.exe", "size": 1});
    let response =
        send(public(&app, Method::POST, &link.token, "/uploads", None).json(&body)).await;
    assert_eq!(error_code(response).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(names(&app, &user.token, "/").await, ["inbox"]);
}

#[tokio::test]
async fn a_name_is_the_same_name_composed_or_decomposed() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let token = Some(user.token.as_str());
    let composed = "/caf\u{e9}";
    let decomposed = "/cafe\u{301}";

    let made = mkdir(&app, &user.token, decomposed, false).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Entry = made.json().await.unwrap();
    assert_eq!(made.path, composed, "stored in NFC");
    let again = mkdir(&app, &user.token, composed, false).await;
    assert_eq!(error_code(again).await.0, StatusCode::CONFLICT);
    assert_eq!(names(&app, &user.token, "/").await, ["caf\u{e9}"]);

    // Found by either spelling, inside paths as well.
    for path in [composed, decomposed] {
        let found = app
            .get(&url("/v1/files/metadata", &[("path", path)]), token)
            .await;
        assert_eq!(found.status(), StatusCode::OK, "{path:?}");
    }
    let response = app
        .post(
            "/v1/uploads",
            token,
            &json!({"path": format!("{decomposed}/r\u{e9}sume\u{301}.txt"), "size": 1}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let session: UploadSession = response.json().await.unwrap();
    assert_eq!(session.path, "/caf\u{e9}/r\u{e9}sum\u{e9}.txt");
}
