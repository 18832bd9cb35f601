//! The services talk through events: welcome mails, the outbox surviving a crash, idempotent
//! consumers, correlation ids in envelopes.

use common::events::{CustomerRegistered, Outgoing};
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{eventually, read_mails, spawn_app};

#[tokio::test]
async fn registration_sends_one_welcome_mail_in_text_and_html() {
    let app = spawn_app().await;
    let (email, _) = app.register().await;
    let mails = app
        .wait_for_mails(|mails| mails.iter().any(|m| m.contains(&email)))
        .await;
    let mail = mails.iter().find(|m| m.contains(&email)).unwrap();
    assert!(mail.contains("Subject: Welcome to fms"), "{mail}");
    assert!(
        mail.contains("text/plain") && mail.contains("text/html"),
        "{mail}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mails().iter().filter(|m| m.contains(&email)).count(), 1);
}

#[tokio::test]
async fn the_correlation_id_of_the_request_is_in_the_event_envelope() {
    let app = spawn_app().await;
    let body = json!({"email": "corr@example.com", "password": "0123456789", "name": "C"});
    let response = app
        .request(Method::POST, "/v1/auth/register", None)
        .header("x-correlation-id", "corr-test-42")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let envelope = eventually(|| {
        app.bus_envelopes()
            .into_iter()
            .find(|e| e.event_type == "customers.registered")
    })
    .await
    .expect("the event reaches the bus");
    assert_eq!(envelope.correlation_id.as_deref(), Some("corr-test-42"));
    assert_eq!(envelope.version, 1);
    assert_eq!(envelope.payload["email"], "corr@example.com");
}

#[tokio::test]
async fn an_event_delivered_twice_mails_once() {
    let app = spawn_app().await;
    let event = Outgoing::new(&CustomerRegistered {
        customer_id: uuid::Uuid::now_v7(),
        email: "twice@example.com".into(),
        name: "Twice".into(),
        email_verified: true,
    });
    // Publish the very same envelope twice, as a relay that crashed before marking it would.
    let bus =
        fmsd::bus::adapters::embedded::EmbeddedBus::open(&app.data_dir.join("bus.db")).unwrap();
    use fmsd::bus::ports::Publisher;
    bus.publish(&event.topic, &event.envelope).await.unwrap();
    bus.publish(&event.topic, &event.envelope).await.unwrap();
    app.wait_for_mails(|mails| mails.iter().any(|m| m.contains("twice@example.com")))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        app.mails()
            .iter()
            .filter(|m| m.contains("twice@example.com"))
            .count(),
        1
    );
}

#[tokio::test]
async fn an_event_committed_but_not_published_before_a_crash_is_published_on_restart() {
    let mut app = spawn_app().await;
    app.stop().await;
    // Stand in for a crash right after the commit: the event is in the outbox, not on the bus.
    let event = Outgoing::new(&CustomerRegistered {
        customer_id: uuid::Uuid::now_v7(),
        email: "outbox@example.com".into(),
        name: "Outbox".into(),
        email_verified: true,
    });
    let mut connection = fmsd::db::DbConnection::Sqlite(
        SqliteConnection::establish(&app.data_dir.join("customers.db").to_string_lossy()).unwrap(),
    );
    fmsd::db::outbox::enqueue(&mut connection, &[event]).unwrap();
    drop(connection);
    assert!(read_mails(&app.data_dir.join("mail"))
        .iter()
        .all(|m| !m.contains("outbox@example.com")));

    let app = app.restart().await;
    app.wait_for_mails(|mails| mails.iter().any(|m| m.contains("outbox@example.com")))
        .await;
}

#[tokio::test]
async fn data_survives_a_restart() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let app = app.restart().await;
    let tokens = app.login(&user.email, &user.password).await;
    // The signing key survived too: the old access token still verifies.
    assert_eq!(
        app.get("/v1/me", Some(&user.token)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/v1/me", Some(&tokens.access_token)).await.status(),
        StatusCode::OK
    );
}
