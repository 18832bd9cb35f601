//! Where a share ends: a share id is nothing to a third customer, a role change applies to
//! the very next request, and a revoke denies at once while a download URL handed out before
//! lives only its short life.

use common::api::{DownloadLink, UploadSession};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::{fetch, mkdir, names, upload, url};
use crate::helpers::{error_code, spawn_app};
use crate::sharing_support::{create_link, in_share, public, register_named, send, share};

#[tokio::test]
async fn a_share_id_is_nothing_to_a_third_customer() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Recipient").await;
    let carl = register_named(&app, "Carl Third").await;
    mkdir(&app, &ann.token, "/team", false).await;
    upload(&app, &ann.token, "/team/a.txt", b"team file").await;
    let shared = share(&app, &ann, "/team", &bob, "editor").await;
    let id = shared.id;
    let token = Some(carl.token.as_str());

    let upload_id = uuid::Uuid::now_v7().to_string();
    let attempts = vec![
        app.get(&in_share("/v1/files", id, &[("path", "/")]), token)
            .await,
        app.get(
            &in_share("/v1/files/metadata", id, &[("path", "/a.txt")]),
            token,
        )
        .await,
        app.get(&in_share("/v1/downloads", id, &[("path", "/a.txt")]), token)
            .await,
        app.delete(
            &in_share("/v1/files", id, &[("path", "/a.txt")]),
            token,
            None,
        )
        .await,
        app.post(
            &in_share("/v1/folders", id, &[]),
            token,
            &json!({"path": "/x"}),
        )
        .await,
        app.post(
            &in_share("/v1/files/move", id, &[]),
            token,
            &json!({"from": "/a.txt", "to": "/b.txt"}),
        )
        .await,
        app.post(
            &in_share("/v1/uploads", id, &[]),
            token,
            &json!({"path": "/c.txt", "size": 1}),
        )
        .await,
        app.get(
            &in_share(&format!("/v1/uploads/{upload_id}"), id, &[]),
            token,
        )
        .await,
        app.post(
            &in_share(&format!("/v1/uploads/{upload_id}/complete"), id, &[]),
            token,
            &json!({}),
        )
        .await,
        app.delete(
            &in_share(&format!("/v1/uploads/{upload_id}"), id, &[]),
            token,
            None,
        )
        .await,
        app.patch(
            &format!("/v1/shares/{id}"),
            token,
            &json!({"role": "editor"}),
        )
        .await,
        app.delete(&format!("/v1/shares/{id}"), token, None).await,
    ];
    for (index, response) in attempts.into_iter().enumerate() {
        let (status, code, message) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "attempt {index}: {message}"
        );
    }
    // An unknown share id answers the same to anyone; a share is reached by its recipient
    // only (the owner has the item in their own tree).
    let unknown = uuid::Uuid::now_v7();
    for (user, share_id) in [(&ann, unknown), (&bob, unknown), (&ann, id)] {
        let response = app
            .get(
                &in_share("/v1/files", share_id, &[("path", "/")]),
                Some(&user.token),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    // Nothing changed for the owner.
    let metadata = app
        .get(
            &url("/v1/files/metadata", &[("path", "/team/a.txt")]),
            Some(&ann.token),
        )
        .await;
    assert_eq!(metadata.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_role_change_applies_to_the_next_request() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob").await;
    mkdir(&app, &ann.token, "/team", false).await;
    let shared = share(&app, &ann, "/team", &bob, "viewer").await;
    let mkdir_in_share = |path: &'static str| {
        let app = &app;
        let token = bob.token.clone();
        async move {
            app.post(
                &in_share("/v1/folders", shared.id, &[]),
                Some(&token),
                &json!({"path": path}),
            )
            .await
            .status()
        }
    };
    assert_eq!(mkdir_in_share("/a").await, StatusCode::FORBIDDEN);
    let path = format!("/v1/shares/{}", shared.id);
    app.patch(&path, Some(&ann.token), &json!({"role": "editor"}))
        .await;
    assert_eq!(mkdir_in_share("/a").await, StatusCode::CREATED);
    app.patch(&path, Some(&ann.token), &json!({"role": "viewer"}))
        .await;
    assert_eq!(mkdir_in_share("/b").await, StatusCode::FORBIDDEN);
    assert_eq!(names(&app, &ann.token, "/team").await, ["a"]);
}

#[tokio::test]
async fn a_revoke_denies_at_once_and_a_url_handed_out_before_dies_with_its_short_life() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob").await;
    mkdir(&app, &ann.token, "/team", false).await;
    upload(&app, &ann.token, "/team/a.txt", b"soon revoked").await;
    let shared = share(&app, &ann, "/team", &bob, "editor").await;
    let token = Some(bob.token.as_str());

    let response = app
        .get(
            &in_share("/v1/downloads", shared.id, &[("path", "/a.txt")]),
            token,
        )
        .await;
    let link: DownloadLink = response.json().await.unwrap();
    let now = fmsd::clock::Clock::now(&app.clock);
    // Shorter-lived than an owner's own download URL (300 s): shared_download_url_ttl_secs.
    assert!(
        link.expires_at > now && link.expires_at <= now + chrono::Duration::seconds(60),
        "{}",
        link.expires_at
    );
    let response = app
        .post(
            &in_share("/v1/uploads", shared.id, &[]),
            token,
            &json!({"path": "/b.txt", "size": 3}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let session: UploadSession = response.json().await.unwrap();

    let revoked = app
        .delete(&format!("/v1/shares/{}", shared.id), Some(&ann.token), None)
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let attempts = [
        app.get(
            &in_share("/v1/downloads", shared.id, &[("path", "/a.txt")]),
            token,
        )
        .await,
        app.get(&in_share("/v1/files", shared.id, &[("path", "/")]), token)
            .await,
        app.get(
            &in_share("/v1/files/metadata", shared.id, &[("path", "/a.txt")]),
            token,
        )
        .await,
        app.post(
            &in_share("/v1/folders", shared.id, &[]),
            token,
            &json!({"path": "/x"}),
        )
        .await,
        app.post(
            &in_share("/v1/uploads", shared.id, &[]),
            token,
            &json!({"path": "/c.txt", "size": 1}),
        )
        .await,
        app.post(
            &in_share(
                &format!("/v1/uploads/{}/complete", session.upload_id),
                shared.id,
                &[],
            ),
            token,
            &json!({}),
        )
        .await,
    ];
    for (index, response) in attempts.into_iter().enumerate() {
        let (status, code, message) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "attempt {index}: {message}"
        );
    }

    // The URL handed out before the revoke stops working when it expires.
    app.clock.advance(chrono::Duration::seconds(61));
    let (status, code, _) = error_code(fetch(&app, &link.url, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    // The owner still has the file.
    let own = app
        .get(
            &url("/v1/downloads", &[("path", "/team/a.txt")]),
            Some(&ann.token),
        )
        .await;
    assert_eq!(own.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_upload_session_is_reached_only_the_way_it_was_started() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    let bob = register_named(&app, "Bob Editor").await;
    mkdir(&app, &ann.token, "/team", false).await;
    let shared = share(&app, &ann, "/team", &bob, "editor").await;
    let link = create_link(&app, &ann, json!({"path": "/team", "upload_only": true})).await;

    // Ann's own session inside the shared folder.
    let response = app
        .post(
            "/v1/uploads",
            Some(&ann.token),
            &json!({"path": "/team/own.bin", "size": 3}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let own: UploadSession = response.json().await.unwrap();
    // Bob's session through the share.
    let response = app
        .post(
            &in_share("/v1/uploads", shared.id, &[]),
            Some(&bob.token),
            &json!({"path": "/bob.bin", "size": 3}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let bobs: UploadSession = response.json().await.unwrap();

    let bob_token = Some(bob.token.as_str());
    let own_path = format!("/v1/uploads/{}", own.upload_id);
    for response in [
        app.get(&in_share(&own_path, shared.id, &[]), bob_token)
            .await,
        app.post(
            &in_share(&format!("{own_path}/complete"), shared.id, &[]),
            bob_token,
            &json!({}),
        )
        .await,
        app.delete(&in_share(&own_path, shared.id, &[]), bob_token, None)
            .await,
        send(public(
            &app,
            Method::GET,
            &link.token,
            &format!("/uploads/{}", own.upload_id),
            None,
        ))
        .await,
        send(public(
            &app,
            Method::GET,
            &link.token,
            &format!("/uploads/{}", bobs.upload_id),
            None,
        ))
        .await,
    ] {
        let (status, code, message) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{message}"
        );
    }
    // Each still reaches its own.
    let response = app
        .get(
            &in_share(&format!("/v1/uploads/{}", bobs.upload_id), shared.id, &[]),
            bob_token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.get(&own_path, Some(&ann.token)).await;
    assert_eq!(response.status(), StatusCode::OK);
}
