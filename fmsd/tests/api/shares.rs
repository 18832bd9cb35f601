//! Shares with customers, as the owner makes them: who may be shared with, sharing again
//! changes the role, the incoming and outgoing lists, changing the role, revoking and leaving.

use common::api::{EntryKind, Share, ShareList, ShareRole};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fixtures::{mkdir, upload, url};
use crate::helpers::{error_code, spawn_app, TestApp, TestUser};
use crate::sharing_support::{in_share, post_share, register_named, share, status_and_text};

async fn outgoing(app: &TestApp, user: &TestUser) -> ShareList {
    app.get("/v1/shares/outgoing", Some(&user.token))
        .await
        .json()
        .await
        .unwrap()
}

async fn incoming(app: &TestApp, user: &TestUser) -> ShareList {
    app.get("/v1/shares/incoming", Some(&user.token))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn sharing_needs_another_registered_customer_and_an_item_below_the_root() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Recipient").await;
    mkdir(&app, &ann.token, "/docs", false).await;
    upload(&app, &ann.token, "/docs/a.txt", b"hello").await;
    // Once this works the directory knows both customers, so what follows is not a lag.
    share(&app, &ann, "/docs/a.txt", &bob, "viewer").await;

    let cases = [
        (
            json!({"path": "/docs", "email": "nobody@example.com"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"path": "/docs", "email": ann.email}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"path": "/docs", "email": ann.email.to_uppercase()}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"path": "/missing", "email": bob.email}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"path": "/docs/missing.txt", "email": bob.email}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"path": "/", "email": bob.email}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"path": "docs", "email": bob.email}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"path": "", "email": bob.email}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"path": "/docs/../docs", "email": bob.email}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"path": "/docs", "email": bob.email, "role": "owner"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"path": "/docs", "email": bob.email, "admin": true}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"path": "/docs"}), StatusCode::BAD_REQUEST),
    ];
    for (body, expected) in cases {
        let response = app.post("/v1/shares", Some(&ann.token), &body).await;
        let (status, code, message) = error_code(response).await;
        assert_eq!(status, expected, "{body}: {code} {message}");
        let expected_code = match expected {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::CONFLICT => "conflict",
            _ => "invalid",
        };
        assert_eq!(code, expected_code, "{body}: {message}");
    }
    let anonymous = app
        .post(
            "/v1/shares",
            None,
            &json!({"path": "/docs", "email": bob.email}),
        )
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // Nothing but the first share was made.
    assert_eq!(outgoing(&app, &ann).await.shares.len(), 1);
}

#[tokio::test]
async fn a_share_is_made_once_and_sharing_again_changes_its_role() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Recipient").await;
    mkdir(&app, &ann.token, "/docs", false).await;
    upload(&app, &ann.token, "/docs/a.txt", b"hello").await;

    // The role defaults to viewer.
    let response = post_share(&app, &ann, "/docs/a.txt", &bob.email, "viewer").await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let first: Share = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (first.owner.email.as_str(), first.owner.name.as_str()),
        (ann.email.as_str(), "Ann Owner")
    );
    assert_eq!(
        (
            first.recipient.email.as_str(),
            first.recipient.name.as_str()
        ),
        (bob.email.as_str(), "Bob Recipient")
    );
    assert_eq!(
        (first.name.as_str(), first.kind, first.size, first.role),
        ("a.txt", EntryKind::File, 5, ShareRole::Viewer)
    );

    // Again, with the address in another case and another role: the same share, role changed.
    let again = app
        .post(
            "/v1/shares",
            Some(&ann.token),
            &json!({"path": "/docs/a.txt", "email": bob.email.to_uppercase(), "role": "editor"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Share = again.json().await.unwrap();
    assert_eq!((again.id, again.role), (first.id, ShareRole::Editor));
    let without_role = app
        .post(
            "/v1/shares",
            Some(&ann.token),
            &json!({"path": "/docs/a.txt", "email": bob.email}),
        )
        .await;
    assert_eq!(without_role.status(), StatusCode::OK);
    let without_role: Share = without_role.json().await.unwrap();
    assert_eq!(
        (without_role.id, without_role.role),
        (first.id, ShareRole::Viewer)
    );

    let shares = outgoing(&app, &ann).await.shares;
    assert_eq!(shares.len(), 1);
    assert_eq!(
        (shares[0].id, shares[0].role),
        (first.id, ShareRole::Viewer)
    );
    assert_eq!(incoming(&app, &bob).await.shares.len(), 1);
}

#[tokio::test]
async fn the_lists_show_each_side_newest_first_and_forget_deleted_items() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Recipient").await;
    let carl = register_named(&app, "Carl Third").await;
    mkdir(&app, &ann.token, "/private/work", true).await;
    upload(&app, &ann.token, "/private/work/a.txt", b"aaa").await;
    mkdir(&app, &ann.token, "/private/photos", true).await;
    let older = share(&app, &ann, "/private/work/a.txt", &bob, "viewer").await;
    app.clock.advance(chrono::Duration::seconds(1));
    let newer = share(&app, &ann, "/private/photos", &bob, "editor").await;

    let given = outgoing(&app, &ann).await.shares;
    assert_eq!(
        given.iter().map(|s| s.id).collect::<Vec<_>>(),
        [newer.id, older.id]
    );
    assert_eq!(given[0].path.as_deref(), Some("/private/photos"));
    assert_eq!(given[1].path.as_deref(), Some("/private/work/a.txt"));
    assert_eq!(
        (given[0].kind, given[0].role),
        (EntryKind::Folder, ShareRole::Editor)
    );

    // The recipient sees the same shares without the owner's paths.
    let raw: Value = app
        .get("/v1/shares/incoming", Some(&bob.token))
        .await
        .json()
        .await
        .unwrap();
    let got = raw["shares"].as_array().unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|share| share.get("path").is_none()), "{raw}");
    assert!(!raw.to_string().contains("/private"), "{raw}");
    let got: ShareList = serde_json::from_value(raw).unwrap();
    assert_eq!(
        got.shares.iter().map(|s| s.id).collect::<Vec<_>>(),
        [newer.id, older.id]
    );
    assert_eq!(got.shares[1].owner.name, "Ann Owner");
    assert_eq!(got.shares[1].name, "a.txt");

    // Nobody else sees them; the owner has nothing incoming, the recipient nothing outgoing.
    assert!(outgoing(&app, &carl).await.shares.is_empty());
    assert!(incoming(&app, &carl).await.shares.is_empty());
    assert!(incoming(&app, &ann).await.shares.is_empty());
    assert!(outgoing(&app, &bob).await.shares.is_empty());
    assert_eq!(
        app.get("/v1/shares/incoming", None).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A share follows its item when it moves, and goes with it when it is deleted.
    let moved = app
        .post(
            "/v1/files/move",
            Some(&ann.token),
            &json!({"from": "/private/work/a.txt", "to": "/private/b.txt"}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let given = outgoing(&app, &ann).await.shares;
    assert_eq!(given[1].path.as_deref(), Some("/private/b.txt"));
    assert_eq!(given[1].name, "b.txt");
    let deleted = app
        .delete(
            &url("/v1/files", &[("path", "/private/b.txt")]),
            Some(&ann.token),
            None,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let given = outgoing(&app, &ann).await.shares;
    assert_eq!(given.iter().map(|s| s.id).collect::<Vec<_>>(), [newer.id]);
    let got = incoming(&app, &bob).await.shares;
    assert_eq!(got.iter().map(|s| s.id).collect::<Vec<_>>(), [newer.id]);
}

#[tokio::test]
async fn only_the_owner_changes_the_role() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Recipient").await;
    let carl = register_named(&app, "Carl Third").await;
    mkdir(&app, &ann.token, "/team", false).await;
    let shared = share(&app, &ann, "/team", &bob, "viewer").await;
    let path = format!("/v1/shares/{}", shared.id);

    let changed = app
        .patch(&path, Some(&ann.token), &json!({"role": "editor"}))
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Share = changed.json().await.unwrap();
    assert_eq!((changed.id, changed.role), (shared.id, ShareRole::Editor));
    assert_eq!(incoming(&app, &bob).await.shares[0].role, ShareRole::Editor);

    for user in [&bob, &carl] {
        let (status, code, _) = error_code(
            app.patch(&path, Some(&user.token), &json!({"role": "viewer"}))
                .await,
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found")
        );
    }
    let unknown = format!("/v1/shares/{}", uuid::Uuid::now_v7());
    let response = app
        .patch(&unknown, Some(&ann.token), &json!({"role": "viewer"}))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    for body in [
        json!({"role": "owner"}),
        json!({}),
        json!({"role": "viewer", "x": 1}),
    ] {
        let (status, code, _) = error_code(app.patch(&path, Some(&ann.token), &body).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{body}"
        );
    }
    let response = app
        .patch(
            "/v1/shares/not-a-uuid",
            Some(&ann.token),
            &json!({"role": "viewer"}),
        )
        .await;
    assert!(
        [StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND].contains(&response.status()),
        "{}",
        response.status()
    );
    assert_eq!(incoming(&app, &bob).await.shares[0].role, ShareRole::Editor);
}

#[tokio::test]
async fn the_owner_revokes_the_recipient_leaves_and_nobody_else_can() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Recipient").await;
    let carl = register_named(&app, "Carl Third").await;
    mkdir(&app, &ann.token, "/one", false).await;
    mkdir(&app, &ann.token, "/two", false).await;
    let first = share(&app, &ann, "/one", &bob, "viewer").await;
    let second = share(&app, &ann, "/two", &bob, "editor").await;

    let path = format!("/v1/shares/{}", first.id);
    assert_eq!(
        app.delete(&path, Some(&carl.token), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&path, None, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The recipient leaves.
    assert_eq!(
        app.delete(&path, Some(&bob.token), None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&path, Some(&bob.token), None).await.status(),
        StatusCode::NOT_FOUND
    );
    let got = incoming(&app, &bob).await.shares;
    assert_eq!(got.iter().map(|s| s.id).collect::<Vec<_>>(), [second.id]);
    let listing = app
        .get(
            &in_share("/v1/files", first.id, &[("path", "/")]),
            Some(&bob.token),
        )
        .await;
    assert_eq!(listing.status(), StatusCode::NOT_FOUND);

    // The owner revokes.
    let path = format!("/v1/shares/{}", second.id);
    assert_eq!(
        app.delete(&path, Some(&ann.token), None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&path, Some(&ann.token), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(incoming(&app, &bob).await.shares.is_empty());
    assert!(outgoing(&app, &ann).await.shares.is_empty());
    // The items themselves stay.
    let listing = app.get("/v1/files?path=/", Some(&ann.token)).await;
    assert_eq!(listing.status(), StatusCode::OK);
    assert!(listing.text().await.unwrap().contains("\"two\""));
}
