//! Activity mail held back for a digest about a share or link that ends before the digest goes
//! out: revoked, or gone with its deleted item. The digest leaves it out; a digest left with
//! nothing is not sent; a mail already sent stays sent.

use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{mkdir, upload, url};
use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::sharing_support::{
    create_link, mails_to, register_named, share, wait_for_event, wait_for_mails_to, ParsedMail,
    QUIET,
};

/// The mails to `email` but the welcome mail and security mails.
fn activity(app: &TestApp, email: &str) -> Vec<ParsedMail> {
    mails_to(app, email)
        .into_iter()
        .filter(|mail| !mail.subject.contains("password was changed"))
        .collect()
}

/// Waits for `n` events of `event_type` on the bus, then a moment for notifications to read
/// them (it reads the bus in order, so everything before them is read too).
async fn wait_until_read(app: &TestApp, event_type: &str, n: usize) {
    crate::helpers::eventually(|| {
        let seen = app
            .bus_envelopes()
            .into_iter()
            .filter(|envelope| envelope.event_type == event_type)
            .count();
        (seen >= n).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("fewer than {n} {event_type} events on the bus"));
    tokio::time::sleep(QUIET).await;
}

#[tokio::test]
async fn a_share_revoked_or_deleted_before_the_digest_is_left_out_of_it() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Sharer").await;
    let bob = register_named(&app, "Bob").await;
    for name in ["first-item", "kept-item", "revoked-item", "deleted-item"] {
        mkdir(&app, &ann.token, &format!("/{name}"), false).await;
    }
    let first = share(&app, &ann, "/first-item", &bob, "viewer").await;
    wait_for_mails_to(&app, &bob.email, |mails| !mails.is_empty()).await;
    share(&app, &ann, "/kept-item", &bob, "viewer").await;
    let revoked = share(&app, &ann, "/revoked-item", &bob, "editor").await;
    let deleted = share(&app, &ann, "/deleted-item", &bob, "viewer").await;

    let response = app
        .delete(
            &format!("/v1/shares/{}", revoked.id),
            Some(&ann.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app
        .delete(
            &url("/v1/files", &[("path", "/deleted-item")]),
            Some(&ann.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    for ended in [&revoked, &deleted] {
        wait_for_event(&app, "files.share_revoked", |e| {
            e.payload["share_id"] == ended.id.to_string()
                && e.payload["recipient_id"] == bob.id.to_string()
        })
        .await;
    }
    // Revoking the share whose mail already went sends nothing, then or later.
    let response = app
        .delete(&format!("/v1/shares/{}", first.id), Some(&ann.token), None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    wait_until_read(&app, "files.share_revoked", 3).await;
    assert_eq!(activity(&app, &bob.email).len(), 1);

    app.clock.advance(chrono::Duration::seconds(301));
    let mails = wait_for_mails_to(&app, &bob.email, |mails| mails.len() >= 2).await;
    let digest = mails
        .iter()
        .find(|mail| mail.subject.starts_with("fms: "))
        .unwrap_or_else(|| panic!("no digest: {mails:#?}"));
    assert_eq!(digest.subject, "fms: 1 update", "{digest:#?}");
    let text = digest.text.as_deref().unwrap_or_default();
    let html = digest.html.as_deref().unwrap_or_default();
    let command = format!("fmsctl --server {} ls shared:kept-item", app.address);
    assert!(text.contains(&format!("`{command}`")), "{text}");
    assert!(html.contains(&format!("<code>{command}</code>")), "{html}");
    for gone in ["revoked-item", "deleted-item", "first-item"] {
        assert!(!digest.all_text().contains(gone), "{digest:#?}");
    }
    tokio::time::sleep(QUIET).await;
    assert_eq!(activity(&app, &bob.email).len(), 2);
}

#[tokio::test]
async fn a_digest_whose_every_share_was_revoked_is_not_sent() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    let bob = register_named(&app, "Bob").await;
    for name in ["opening", "withdrawn", "later"] {
        mkdir(&app, &ann.token, &format!("/{name}"), false).await;
    }
    share(&app, &ann, "/opening", &bob, "viewer").await;
    wait_for_mails_to(&app, &bob.email, |mails| !mails.is_empty()).await;
    let withdrawn = share(&app, &ann, "/withdrawn", &bob, "viewer").await;
    // The recipient leaving the share ends it as well as the owner revoking it.
    let response = app
        .delete(
            &format!("/v1/shares/{}", withdrawn.id),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    wait_until_read(&app, "files.share_revoked", 1).await;

    app.clock.advance(chrono::Duration::seconds(301));
    tokio::time::sleep(QUIET).await;
    let mails = activity(&app, &bob.email);
    assert_eq!(mails.len(), 1, "{mails:#?}");

    // Nothing waits, and the window is over: the next share mail goes at once, on its own.
    share(&app, &ann, "/later", &bob, "viewer").await;
    let mails = wait_for_mails_to(&app, &bob.email, |mails| mails.len() >= 2).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    assert!(
        mails.iter().any(|mail| mail.subject.contains("'later'")),
        "{mails:#?}"
    );
    assert!(
        mails.iter().all(
            |mail| !mail.subject.starts_with("fms: ") && !mail.all_text().contains("withdrawn")
        ),
        "{mails:#?}"
    );
}

#[tokio::test]
async fn a_link_revoked_before_the_digest_is_left_out_of_it() {
    let app = spawn_app_with(|settings| settings.files.sweep_interval_secs = 1).await;
    let ann = register_named(&app, "Ann").await;
    for name in ["/opening.pdf", "/revoked.pdf", "/kept.pdf"] {
        upload(&app, &ann.token, name, b"report").await;
    }
    // Links with an hour left are warned about at the next sweep.
    let hour = json!(3600);
    let opening = create_link(
        &app,
        &ann,
        json!({"path": "/opening.pdf", "expires_in_secs": hour}),
    )
    .await;
    let mails = wait_for_mails_to(&app, &ann.email, |mails| !mails.is_empty()).await;
    let warning = mails[0].text.as_deref().unwrap_or_default();
    assert!(warning.contains("'opening.pdf'"), "{warning}");
    assert!(
        warning.contains(&opening.link.id.to_string()),
        "the link is named by its id: {warning}"
    );
    assert!(warning.contains(" UTC, within a day"), "{warning}");
    assert!(
        warning.contains(&format!(
            "`fmsctl --server {} share /opening.pdf --link`",
            app.address
        )),
        "{warning}"
    );
    assert!(!mails[0].all_text().contains(&opening.token), "{mails:#?}");

    let revoked = create_link(
        &app,
        &ann,
        json!({"path": "/revoked.pdf", "expires_in_secs": hour}),
    )
    .await;
    create_link(
        &app,
        &ann,
        json!({"path": "/kept.pdf", "expires_in_secs": hour}),
    )
    .await;
    wait_until_read(&app, "files.link_expiring", 3).await;
    let response = app
        .delete(
            &format!("/v1/links/{}", revoked.link.id),
            Some(&ann.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    wait_for_event(&app, "files.link_revoked", |e| {
        e.payload["link_id"] == revoked.link.id.to_string()
    })
    .await;
    wait_until_read(&app, "files.link_revoked", 1).await;
    assert_eq!(activity(&app, &ann.email).len(), 1);

    app.clock.advance(chrono::Duration::seconds(301));
    let mails = wait_for_mails_to(&app, &ann.email, |mails| mails.len() >= 2).await;
    let digest = mails
        .iter()
        .find(|mail| mail.subject.starts_with("fms: "))
        .unwrap_or_else(|| panic!("no digest: {mails:#?}"));
    assert_eq!(digest.subject, "fms: 1 update", "{digest:#?}");
    assert!(digest.all_text().contains("'kept.pdf'"), "{digest:#?}");
    assert!(!digest.all_text().contains("revoked.pdf"), "{digest:#?}");
}
