//! The mails sharing causes: a share, a link about to expire, an upload through a file
//! request, the quota filling up; a digest instead of a flood; and the preference that turns
//! activity mail off while security mail still goes.

use common::events::topics;
use fmsd::bus::ports::Publisher;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::{mkdir, spawn_app_with_quota, upload};
use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::sharing_support::{
    create_link, mails_to, register_named, send, share, upload_through_link, wait_for_event,
    wait_for_mails_to, ParsedMail, QUIET,
};

/// The mails to `email` about activity: neither the welcome nor a security mail.
fn activity(app: &TestApp, email: &str) -> Vec<ParsedMail> {
    mails_to(app, email)
        .into_iter()
        .filter(|mail| !mail.subject.contains("password was changed"))
        .collect()
}

/// Asserts `mail` has both a text and an HTML part, each containing every one of `words`.
fn assert_mentions(mail: &ParsedMail, words: &[&str]) {
    let text = mail
        .text
        .as_deref()
        .unwrap_or_else(|| panic!("no text part: {mail:#?}"));
    let html = mail
        .html
        .as_deref()
        .unwrap_or_else(|| panic!("no HTML part: {mail:#?}"));
    for word in words {
        assert!(
            text.contains(word),
            "{word:?} not in the text part: {mail:#?}"
        );
        assert!(
            html.contains(word),
            "{word:?} not in the HTML part: {mail:#?}"
        );
    }
}

#[tokio::test]
async fn the_share_mail_arrives_once_even_when_its_event_comes_twice() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Sharer").await;
    let bob = register_named(&app, "Bob Receiver").await;
    upload(&app, &ann.token, "/plan-2025.txt", b"the plan").await;
    let shared = share(&app, &ann, "/plan-2025.txt", &bob, "editor").await;

    let mails = wait_for_mails_to(&app, &bob.email, |mails| !mails.is_empty()).await;
    let mail = &mails[0];
    assert!(
        mail.subject.contains("Ann Sharer") || mail.subject.contains("plan-2025.txt"),
        "{mail:#?}"
    );
    assert_mentions(mail, &["Ann Sharer", "plan-2025.txt", "editor"]);
    // What to run, against this server; in the HTML as code, not between backticks.
    let command = format!(
        "fmsctl --server {} download shared:plan-2025.txt",
        app.address
    );
    assert_mentions(mail, &[&command]);
    assert!(mail
        .text
        .as_deref()
        .unwrap()
        .contains(&format!("`{command}`")));
    let html = mail.html.as_deref().unwrap();
    assert!(html.contains(&format!("<code>{command}</code>")), "{html}");
    assert!(!html.contains('`'), "{html}");

    // A role change sends nothing; the same event delivered again mails nothing either.
    let again = app
        .post(
            "/v1/shares",
            Some(&ann.token),
            &json!({"path": "/plan-2025.txt", "email": bob.email, "role": "viewer"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let patched = app
        .patch(
            &format!("/v1/shares/{}", shared.id),
            Some(&ann.token),
            &json!({"role": "editor"}),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let event = wait_for_event(&app, "files.shared", |e| {
        e.payload["share_id"] == shared.id.to_string()
    })
    .await;
    let bus =
        fmsd::bus::adapters::embedded::EmbeddedBus::open(&app.data_dir.join("bus.db")).unwrap();
    bus.publish(topics::FILES, &event).await.unwrap();
    let copies = app
        .bus_envelopes()
        .into_iter()
        .filter(|e| e.id == event.id)
        .count();
    assert_eq!(copies, 2);
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        activity(&app, &bob.email).len(),
        1,
        "{:#?}",
        activity(&app, &bob.email)
    );
    // The owner is told nothing.
    assert!(activity(&app, &ann.email).is_empty());
}

#[tokio::test]
async fn the_owner_is_mailed_once_when_a_link_has_less_than_a_day_left() {
    let app = spawn_app_with(|settings| settings.files.sweep_interval_secs = 1).await;
    let ann = register_named(&app, "Ann").await;
    upload(&app, &ann.token, "/expiring-report.pdf", b"report").await;
    create_link(&app, &ann, json!({"path": "/expiring-report.pdf"})).await;

    // Two days left: nothing yet, sweep after sweep.
    app.clock.advance(chrono::Duration::days(5));
    tokio::time::sleep(QUIET).await;
    assert!(
        activity(&app, &ann.email).is_empty(),
        "{:#?}",
        activity(&app, &ann.email)
    );
    // 23 hours left.
    app.clock.advance(chrono::Duration::hours(25));
    let mails = wait_for_mails_to(&app, &ann.email, |mails| !mails.is_empty()).await;
    assert_mentions(
        &mails[0],
        &[
            "expiring-report.pdf",
            " UTC, within a day",
            &format!("fmsctl --server {} shares --links", app.address),
        ],
    );
    tokio::time::sleep(QUIET).await;
    assert_eq!(activity(&app, &ann.email).len(), 1);
}

#[tokio::test]
async fn the_owner_is_mailed_when_a_file_request_receives_a_file() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    mkdir(&app, &ann.token, "/tax-inbox", false).await;
    let created = create_link(
        &app,
        &ann,
        json!({"path": "/tax-inbox", "upload_only": true}),
    )
    .await;
    let (status, text) =
        upload_through_link(&app, &created.token, "receipts-march.pdf", b"receipts").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let mails = wait_for_mails_to(&app, &ann.email, |mails| !mails.is_empty()).await;
    assert_mentions(
        &mails[0],
        &[
            "receipts-march.pdf",
            "tax-inbox",
            "(8 B)",
            "/tax-inbox/receipts-march.pdf",
            &format!(
                "fmsctl --server {} download /tax-inbox/receipts-march.pdf",
                app.address
            ),
        ],
    );
}

#[tokio::test]
async fn the_owner_is_mailed_at_80_and_at_100_percent_of_the_quota() {
    let app = spawn_app_with_quota(1000).await;
    let ann = register_named(&app, "Ann").await;
    upload(&app, &ann.token, "/half.bin", &[0u8; 500]).await;
    upload(&app, &ann.token, "/more.bin", &[0u8; 350]).await;
    let mails = wait_for_mails_to(&app, &ann.email, |mails| !mails.is_empty()).await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(mails[0].all_text().contains("80"), "{mails:#?}");
    assert!(mails[0].text.is_some() && mails[0].html.is_some());
    assert_mentions(
        &mails[0],
        &[&format!("fmsctl --server {} du /", app.address)],
    );

    // Past the digest window, so the next one goes at once.
    app.clock.advance(chrono::Duration::seconds(301));
    upload(&app, &ann.token, "/full.bin", &[0u8; 150]).await;
    let mails = wait_for_mails_to(&app, &ann.email, |mails| mails.len() >= 2).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let percents: Vec<u64> = app
        .bus_envelopes()
        .into_iter()
        .filter(|e| e.event_type == "files.quota_threshold_reached")
        .map(|e| e.payload["percent"].as_u64().unwrap())
        .collect();
    assert_eq!(percents, [80, 100]);
}

#[tokio::test]
async fn activity_within_the_window_is_gathered_into_one_digest() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Sharer").await;
    let bob = register_named(&app, "Bob").await;
    for name in ["first-item", "second-item", "third-item"] {
        mkdir(&app, &ann.token, &format!("/{name}"), false).await;
    }
    share(&app, &ann, "/first-item", &bob, "viewer").await;
    let mails = wait_for_mails_to(&app, &bob.email, |mails| !mails.is_empty()).await;
    assert!(mails[0].all_text().contains("first-item"));

    share(&app, &ann, "/second-item", &bob, "viewer").await;
    share(&app, &ann, "/third-item", &bob, "editor").await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        activity(&app, &bob.email).len(),
        1,
        "{:#?}",
        activity(&app, &bob.email)
    );

    app.clock.advance(chrono::Duration::seconds(301));
    let mails = wait_for_mails_to(&app, &bob.email, |mails| mails.len() >= 2).await;
    let digest = mails
        .iter()
        .find(|mail| !mail.all_text().contains("first-item"))
        .unwrap_or_else(|| panic!("no digest: {mails:#?}"));
    assert_eq!(digest.subject, "fms: 2 updates");
    assert_mentions(digest, &["second-item", "third-item"]);
    tokio::time::sleep(QUIET).await;
    assert_eq!(activity(&app, &bob.email).len(), 2);
}

#[tokio::test]
async fn turning_activity_mail_off_stops_share_mail_but_not_security_mail() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    let bob = register_named(&app, "Bob").await;
    mkdir(&app, &ann.token, "/quiet-folder", false).await;
    mkdir(&app, &ann.token, "/loud-folder", false).await;

    let response = app
        .patch(
            "/v1/me",
            Some(&bob.token),
            &json!({"notifications": {"activity_mail": false}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let profile: common::api::Profile = response.json().await.unwrap();
    assert!(!profile.notifications.activity_mail);
    let me: common::api::Profile = app
        .get("/v1/me", Some(&bob.token))
        .await
        .json()
        .await
        .unwrap();
    assert!(!me.notifications.activity_mail);
    // Let the preference reach the bus before anything else happens.
    wait_for_event(&app, "customers.updated", |e| {
        e.payload["customer_id"] == bob.id.to_string() && e.payload["activity_mail"] == false
    })
    .await;

    let shared = share(&app, &ann, "/quiet-folder", &bob, "viewer").await;
    wait_for_event(&app, "files.shared", |e| {
        e.payload["share_id"] == shared.id.to_string()
    })
    .await;
    let changed = app
        .post(
            "/v1/me/password",
            Some(&bob.token),
            &json!({"current_password": bob.password, "new_password": "another long password"}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    wait_for_mails_to(&app, &bob.email, |mails| {
        mails
            .iter()
            .any(|mail| mail.subject.contains("password was changed"))
    })
    .await;
    tokio::time::sleep(QUIET).await;
    assert!(
        activity(&app, &bob.email).is_empty(),
        "{:#?}",
        activity(&app, &bob.email)
    );

    // Turned on again, share mail comes again.
    let tokens = app.login(&bob.email, "another long password").await;
    let response = send(
        app.request(Method::PATCH, "/v1/me", Some(&tokens.access_token))
            .json(&json!({"notifications": {"activity_mail": true}})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    wait_for_event(&app, "customers.updated", |e| {
        e.payload["customer_id"] == bob.id.to_string() && e.payload["activity_mail"] == true
    })
    .await;
    share(&app, &ann, "/loud-folder", &bob, "viewer").await;
    let mails = wait_for_mails_to(&app, &bob.email, |mails| {
        mails
            .iter()
            .any(|mail| mail.all_text().contains("loud-folder"))
    })
    .await;
    assert!(
        mails
            .iter()
            .all(|mail| !mail.all_text().contains("quiet-folder")),
        "{mails:#?}"
    );
}

#[tokio::test]
async fn the_goodbye_mail_goes_even_with_activity_mail_off() {
    let app = spawn_app().await;
    let bob = register_named(&app, "Bob").await;
    let response = app
        .patch(
            "/v1/me",
            Some(&bob.token),
            &json!({"notifications": {"activity_mail": false}}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    wait_for_event(&app, "customers.updated", |e| {
        e.payload["activity_mail"] == false
    })
    .await;
    let deleted = app
        .delete(
            "/v1/me",
            Some(&bob.token),
            Some(&json!({"password": bob.password})),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let mails = wait_for_mails_to(&app, &bob.email, |mails| {
        mails
            .iter()
            .any(|mail| mail.subject.contains("account was deleted"))
    })
    .await;
    assert!(mails
        .iter()
        .all(|mail| mail.text.is_some() && mail.html.is_some()));
}
