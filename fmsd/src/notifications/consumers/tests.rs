//! The handlers over the service with in-memory fakes: who each event mails, the preference
//! projection, and payloads that cannot be decoded.

use std::time::Duration;

use chrono::Utc;
use common::events::{
    CustomerDeleted, CustomerRegistered, CustomerUpdated, Envelope, FileShared, FileUploaded,
    LinkExpiring, LinkRevoked, LinkUploadReceived, QuotaThresholdReached, ShareRevoked,
};

use super::*;
use crate::clock::ManualClock;
use crate::notifications::fakes::{FakeMailer, FakeRepo};

struct Fixture {
    customers: CustomerEvents,
    files: FileEvents,
    repo: Arc<FakeRepo>,
    mailer: Arc<FakeMailer>,
}

/// Handlers over a service with no digest window, so every mail goes at once.
fn fixture() -> Fixture {
    fixture_with(Duration::ZERO)
}

/// Handlers over a service that holds back what comes within `window` of a mail.
fn fixture_with(window: Duration) -> Fixture {
    let (repo, mailer) = (
        Arc::new(FakeRepo::default()),
        Arc::new(FakeMailer::default()),
    );
    let service = Arc::new(NotificationService::new(
        mailer.clone(),
        repo.clone(),
        Arc::new(ManualClock::new()),
        window,
        crate::notifications::domain::Server::new("https://fms.example.com"),
    ));
    Fixture {
        customers: CustomerEvents::new(service.clone()),
        files: FileEvents::new(service),
        repo,
        mailer,
    }
}

fn file_shared(role: &str) -> FileShared {
    FileShared {
        share_id: Uuid::now_v7(),
        owner_id: Uuid::now_v7(),
        owner_name: "Ann".into(),
        owner_email: "ann@example.com".into(),
        recipient_id: Uuid::now_v7(),
        recipient_email: "bob@example.com".into(),
        recipient_name: "Bob".into(),
        item_name: "plan.txt".into(),
        kind: "file".into(),
        role: role.into(),
    }
}

#[test]
fn each_topic_has_a_group_of_its_own() {
    let f = fixture();
    assert_eq!(f.customers.topic(), topics::CUSTOMERS);
    assert_eq!(f.files.topic(), topics::FILES);
    assert_ne!(f.customers.group(), f.files.group());
}

#[tokio::test]
async fn a_share_mails_the_recipient_once() {
    let f = fixture();
    let envelope = Envelope::wrap(&file_shared("viewer"));
    f.files.handle(&envelope).await.unwrap();
    f.files.handle(&envelope).await.unwrap();
    let sent = f.mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "bob@example.com");
    assert_eq!(sent[0].to_name, "Bob");
    assert_eq!(sent[0].message_id, format!("{}@fms", envelope.id));
    assert!(sent[0]
        .text
        .contains("shared the file 'plan.txt' with you as a viewer"));
}

#[tokio::test]
async fn link_and_quota_events_mail_the_owner() {
    let f = fixture();
    let owner_id = Uuid::now_v7();
    let events = [
        Envelope::wrap(&LinkExpiring {
            link_id: Uuid::now_v7(),
            owner_id,
            owner_email: "ann@example.com".into(),
            owner_name: "Ann".into(),
            item_name: "report.pdf".into(),
            item_path: Some("/report.pdf".into()),
            expires_at: Utc::now(),
        }),
        Envelope::wrap(&LinkUploadReceived {
            link_id: Uuid::now_v7(),
            owner_id,
            owner_email: "ann@example.com".into(),
            owner_name: "Ann".into(),
            folder_name: "inbox".into(),
            file_name: "cv.pdf".into(),
            size: 10,
            path: Some("/inbox/cv.pdf".into()),
        }),
        Envelope::wrap(&QuotaThresholdReached {
            owner_id,
            owner_email: "ann@example.com".into(),
            owner_name: "Ann".into(),
            percent: 80,
            used_bytes: 800,
            quota_bytes: 1000,
        }),
    ];
    for envelope in &events {
        f.files.handle(envelope).await.unwrap();
    }
    let sent = f.mailer.sent();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|mail| mail.to == "ann@example.com"));
    assert!(sent[0].text.contains("report.pdf"));
    assert!(sent[1]
        .text
        .contains("'cv.pdf' (10 B) was uploaded to 'inbox'"));
    assert!(sent[2].subject.contains("getting full"));
    assert_eq!(
        f.repo.state().last_sent.get(&owner_id).map(|_| ()),
        Some(())
    );
}

#[tokio::test]
async fn undecodable_payloads_and_unknown_roles_are_invalid() {
    let f = fixture();
    let mut envelope = Envelope::wrap(&file_shared("viewer"));
    envelope.payload = serde_json::json!({"share_id": "not a uuid"});
    let error = f.files.handle(&envelope).await.unwrap_err();
    assert!(matches!(error, Error::Invalid(_)), "{error:?}");

    let error = f
        .files
        .handle(&Envelope::wrap(&file_shared("owner")))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Invalid(_)), "{error:?}");

    let mut envelope = Envelope::wrap(&CustomerUpdated {
        customer_id: Uuid::now_v7(),
        email: "a@example.com".into(),
        name: "A".into(),
        activity_mail: false,
        email_verified: true,
    });
    envelope.payload = serde_json::json!({});
    let error = f.customers.handle(&envelope).await.unwrap_err();
    assert!(matches!(error, Error::Invalid(_)), "{error:?}");
    assert!(f.mailer.sent().is_empty());
}

#[tokio::test]
async fn the_end_of_a_share_or_link_withdraws_what_is_queued_about_it() {
    let f = fixture_with(Duration::from_secs(300));
    let (first, second) = (file_shared("viewer"), file_shared("viewer"));
    let second = FileShared {
        recipient_id: first.recipient_id,
        ..second
    };
    f.files.handle(&Envelope::wrap(&first)).await.unwrap();
    f.files.handle(&Envelope::wrap(&second)).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 1);
    assert_eq!(f.repo.state().queue.len(), 1);

    // A link's end decodes and touches no share; the share's end empties the queue.
    let link_revoked = Envelope::wrap(&LinkRevoked {
        link_id: second.share_id,
        owner_id: second.owner_id,
    });
    f.files.handle(&link_revoked).await.unwrap();
    assert_eq!(f.repo.state().queue.len(), 1);
    let revoked = Envelope::wrap(&ShareRevoked {
        share_id: second.share_id,
        owner_id: second.owner_id,
        recipient_id: second.recipient_id,
    });
    f.files.handle(&revoked).await.unwrap();
    f.files.handle(&revoked).await.unwrap();
    assert!(f.repo.state().queue.is_empty());
    assert_eq!(f.mailer.sent().len(), 1);

    let mut malformed = revoked.clone();
    malformed.payload = serde_json::json!({"share_id": 7});
    let error = f.files.handle(&malformed).await.unwrap_err();
    assert!(matches!(error, Error::Invalid(_)), "{error:?}");
}

#[tokio::test]
async fn other_file_events_are_ignored() {
    let f = fixture();
    let envelope = Envelope::wrap(&FileUploaded {
        owner_id: Uuid::now_v7(),
        file_id: Uuid::now_v7(),
        path: "/a".into(),
        size: 1,
        sha256: "00".into(),
    });
    f.files.handle(&envelope).await.unwrap();
    assert!(f.mailer.sent().is_empty());
}

#[tokio::test]
async fn customer_events_keep_the_preference_that_share_mail_follows() {
    let f = fixture();
    let shared = file_shared("editor");
    let bob = shared.recipient_id;
    f.customers
        .handle(&Envelope::wrap(&CustomerRegistered {
            customer_id: bob,
            email: "bob@example.com".into(),
            name: "Bob".into(),
            email_verified: true,
        }))
        .await
        .unwrap();
    assert_eq!(f.repo.state().preferences.get(&bob), Some(&true));
    assert_eq!(f.mailer.sent().len(), 1, "the welcome mail");

    f.customers
        .handle(&Envelope::wrap(&CustomerUpdated {
            customer_id: bob,
            email: "bob@example.com".into(),
            name: "Bob".into(),
            activity_mail: false,
            email_verified: true,
        }))
        .await
        .unwrap();
    f.files.handle(&Envelope::wrap(&shared)).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 1);

    f.customers
        .handle(&Envelope::wrap(&CustomerDeleted {
            customer_id: bob,
            email: "bob@example.com".into(),
            name: "Bob".into(),
        }))
        .await
        .unwrap();
    assert_eq!(f.mailer.sent().len(), 2, "the goodbye mail");
    assert!(f.repo.state().preferences.is_empty());
}
