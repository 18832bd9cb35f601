//! The service's rules over in-memory fakes and a manual clock: preferences, the digest
//! window, the flush, and each event handled once.

use chrono::TimeDelta;

use super::*;
use crate::clock::ManualClock;
use crate::notifications::domain::{ItemKind, ShareRole};

const URL: &str = "https://fms.example.com";
use crate::notifications::fakes::{FakeMailer, FakeRepo};

const WINDOW: Duration = Duration::from_secs(300);

struct Fixture {
    service: NotificationService,
    repo: Arc<FakeRepo>,
    mailer: Arc<FakeMailer>,
    clock: ManualClock,
}

fn fixture() -> Fixture {
    let (repo, mailer, clock) = (
        Arc::new(FakeRepo::default()),
        Arc::new(FakeMailer::default()),
        ManualClock::new(),
    );
    Fixture {
        service: NotificationService::new(
            mailer.clone(),
            repo.clone(),
            Arc::new(clock.clone()),
            WINDOW,
            Server::new(URL),
        ),
        repo,
        mailer,
        clock,
    }
}

fn ada() -> Recipient {
    Recipient {
        customer_id: Uuid::now_v7(),
        email: "ada@example.com".into(),
        name: "Ada".into(),
    }
}

fn shared(item: &str) -> Template {
    shared_by(item, Uuid::now_v7())
}

fn shared_by(item: &str, share_id: Uuid) -> Template {
    Template::FileShared {
        share_id,
        owner_name: "Bob".into(),
        owner_email: "owner@example.com".into(),
        item_name: item.into(),
        kind: ItemKind::File,
        role: ShareRole::Viewer,
    }
}

fn secs(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

#[tokio::test]
async fn the_first_activity_mail_goes_at_once_and_the_burst_after_it_waits_for_one_digest() {
    let f = fixture();
    let ada = ada();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 1);
    f.clock.advance(secs(10));
    f.service.notify("e2", shared("b"), &ada).await.unwrap();
    f.service.notify("e3", shared("c"), &ada).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 1);

    // Before the window has passed, a flush sends nothing.
    f.clock.advance(secs(100));
    assert_eq!(f.service.flush_digests().await.unwrap(), 0);

    f.clock.advance(secs(190));
    assert_eq!(f.service.flush_digests().await.unwrap(), 1);
    let sent = f.mailer.sent();
    assert_eq!(sent.len(), 2);
    let digest = &sent[1];
    assert_eq!(digest.subject, "fms: 2 updates");
    assert!(digest.text.contains("Bob shared 'b' with you"));
    assert!(digest.text.contains("Bob shared 'c' with you"));
    assert!(!digest.text.contains("'a'"));
    assert!(f.repo.state().queue.is_empty());
    assert_eq!(
        f.repo.state().last_sent.get(&ada.customer_id),
        Some(&f.clock.now())
    );

    // Nothing queued: nothing more to flush.
    assert_eq!(f.service.flush_digests().await.unwrap(), 0);
}

#[tokio::test]
async fn a_share_or_link_that_ends_before_the_digest_is_left_out_of_it() {
    let f = fixture();
    let ada = ada();
    let (sent_share, kept_share, ended_share, link) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    f.service
        .notify("e1", shared_by("sent", sent_share), &ada)
        .await
        .unwrap();
    f.service
        .notify("e2", shared_by("kept", kept_share), &ada)
        .await
        .unwrap();
    f.service
        .notify("e3", shared_by("ended", ended_share), &ada)
        .await
        .unwrap();
    let expiring = Template::LinkExpiring {
        link_id: link,
        item_name: "linked".into(),
        item_path: Some("/linked".into()),
        expires_at: f.clock.now(),
    };
    f.service.notify("e4", expiring, &ada).await.unwrap();
    let upload = Template::LinkUploadReceived {
        folder_name: "inbox".into(),
        file_name: "uploaded".into(),
        size: 1,
        path: Some("/inbox/uploaded".into()),
    };
    f.service.notify("e5", upload, &ada).await.unwrap();
    assert_eq!(f.repo.state().queue.len(), 4);

    // The one already mailed stays mailed; the others ending take their queued mail along,
    // twice changing nothing more. An upload mail stays: the file stays with its link gone.
    for about in [
        About::Share(sent_share),
        About::Share(ended_share),
        About::Share(ended_share),
        About::Link(link),
    ] {
        f.service.withdraw(about).await.unwrap();
    }
    assert_eq!(f.repo.state().queue.len(), 2);
    f.clock.advance(secs(300));
    assert_eq!(f.service.flush_digests().await.unwrap(), 1);
    let digest = &f.mailer.sent()[1];
    assert_eq!(digest.subject, "fms: 2 updates");
    assert!(digest.text.contains("'kept'"), "{}", digest.text);
    assert!(digest.text.contains("'uploaded'"), "{}", digest.text);
    assert!(!digest.text.contains("'ended'"), "{}", digest.text);
    assert!(!digest.text.contains("linked"), "{}", digest.text);
    assert!(digest
        .text
        .contains(&format!("`fmsctl --server {URL} download shared:kept`")));
}

#[tokio::test]
async fn a_digest_whose_every_item_ended_is_not_sent() {
    let f = fixture();
    let ada = ada();
    let ended = Uuid::now_v7();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    f.service
        .notify("e2", shared_by("b", ended), &ada)
        .await
        .unwrap();
    f.service.withdraw(About::Share(ended)).await.unwrap();
    f.clock.advance(secs(300));
    assert_eq!(f.service.flush_digests().await.unwrap(), 0);
    assert_eq!(f.mailer.sent().len(), 1);
    // The next one goes at once: nothing waits before it.
    f.service.notify("e3", shared("c"), &ada).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 2);
}

#[tokio::test]
async fn the_digest_itself_opens_a_new_window() {
    let f = fixture();
    let ada = ada();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    f.service.notify("e2", shared("b"), &ada).await.unwrap();
    f.clock.advance(secs(300));
    assert_eq!(f.service.flush_digests().await.unwrap(), 1);
    f.clock.advance(secs(1));
    f.service.notify("e3", shared("c"), &ada).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 2);
    assert_eq!(f.repo.state().queue.len(), 1);
}

#[tokio::test]
async fn after_a_quiet_window_an_activity_mail_goes_at_once_again() {
    let f = fixture();
    let ada = ada();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    f.clock.advance(secs(300));
    f.service.notify("e2", shared("b"), &ada).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 2);
    assert_eq!(f.mailer.sent()[1].message_id, "e2@fms");
}

#[tokio::test]
async fn a_mail_does_not_overtake_mails_already_waiting() {
    let f = fixture();
    let ada = ada();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    f.service.notify("e2", shared("b"), &ada).await.unwrap();
    // The window has passed but the flush has not run yet.
    f.clock.advance(secs(400));
    f.service.notify("e3", shared("c"), &ada).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 1);
    assert_eq!(f.service.flush_digests().await.unwrap(), 1);
    assert_eq!(f.mailer.sent()[1].subject, "fms: 2 updates");
}

#[tokio::test]
async fn bursts_are_counted_per_customer() {
    let f = fixture();
    let (ada, bob) = (ada(), ada());
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    f.service.notify("e2", shared("b"), &bob).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 2);
}

#[tokio::test]
async fn security_mail_is_never_held_back_nor_opens_a_window() {
    let f = fixture();
    let ada = ada();
    f.service
        .set_activity_mail(ada.customer_id, false)
        .await
        .unwrap();
    f.service
        .notify("e1", Template::PasswordChanged, &ada)
        .await
        .unwrap();
    f.service
        .notify("e2", Template::PasswordChanged, &ada)
        .await
        .unwrap();
    assert_eq!(f.mailer.sent().len(), 2);
    assert!(f.repo.state().last_sent.is_empty());
}

#[tokio::test]
async fn an_activity_mail_to_a_customer_who_turned_it_off_is_handled_but_not_sent() {
    let f = fixture();
    let ada = ada();
    f.service
        .customer_registered(ada.customer_id)
        .await
        .unwrap();
    assert_eq!(
        f.repo.state().preferences.get(&ada.customer_id),
        Some(&true)
    );
    f.service
        .set_activity_mail(ada.customer_id, false)
        .await
        .unwrap();
    // A registration delivered again keeps the preference.
    f.service
        .customer_registered(ada.customer_id)
        .await
        .unwrap();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    assert!(f.mailer.sent().is_empty());
    assert!(f.repo.state().handled.contains("e1"));

    // Turned on again, it goes; an event already handled does not.
    f.service
        .set_activity_mail(ada.customer_id, true)
        .await
        .unwrap();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    assert!(f.mailer.sent().is_empty());
    f.service.notify("e2", shared("b"), &ada).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 1);
}

#[tokio::test]
async fn turning_activity_mail_off_drops_what_was_queued() {
    let f = fixture();
    let ada = ada();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    f.service.notify("e2", shared("b"), &ada).await.unwrap();
    f.service
        .set_activity_mail(ada.customer_id, false)
        .await
        .unwrap();
    f.clock.advance(secs(300));
    assert_eq!(f.service.flush_digests().await.unwrap(), 0);
    assert_eq!(f.mailer.sent().len(), 1);
    assert!(f.repo.state().queue.is_empty());
}

#[tokio::test]
async fn an_event_delivered_twice_mails_or_queues_once() {
    let f = fixture();
    let ada = ada();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    f.service.notify("e2", shared("b"), &ada).await.unwrap();
    f.service.notify("e2", shared("b"), &ada).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 1);
    assert_eq!(f.repo.state().queue.len(), 1);
}

#[tokio::test]
async fn a_refused_digest_is_dropped_and_an_unreachable_server_keeps_the_queue() {
    let f = fixture();
    let ada = ada();
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    f.service.notify("e2", shared("b"), &ada).await.unwrap();
    f.clock.advance(secs(300));

    f.mailer.fail(Some(false));
    assert!(f.service.flush_digests().await.unwrap_err().is_transient());
    assert_eq!(f.repo.state().queue.len(), 1);

    f.mailer.fail(Some(true));
    assert_eq!(f.service.flush_digests().await.unwrap(), 0);
    assert!(f.repo.state().queue.is_empty());
}

#[tokio::test]
async fn a_failed_send_leaves_the_event_unhandled_for_a_retry() {
    let f = fixture();
    let ada = ada();
    f.mailer.fail(Some(false));
    assert!(f.service.notify("e1", shared("a"), &ada).await.is_err());
    assert!(!f.repo.state().handled.contains("e1"));
    f.mailer.fail(None);
    f.service.notify("e1", shared("a"), &ada).await.unwrap();
    assert_eq!(f.mailer.sent().len(), 1);
}

#[tokio::test]
async fn a_deleted_customer_is_forgotten() {
    let f = fixture();
    let ada = ada();
    f.service
        .set_activity_mail(ada.customer_id, false)
        .await
        .unwrap();
    f.service.forget_customer(ada.customer_id).await.unwrap();
    assert!(f.repo.state().preferences.is_empty());
}

#[tokio::test]
async fn a_zero_window_never_holds_a_mail_back() {
    let (repo, mailer, clock) = (
        Arc::new(FakeRepo::default()),
        Arc::new(FakeMailer::default()),
        ManualClock::new(),
    );
    let service = NotificationService::new(
        mailer.clone(),
        repo,
        Arc::new(clock),
        Duration::ZERO,
        Server::new(URL),
    );
    let ada = ada();
    for id in ["e1", "e2", "e3"] {
        service.notify(id, shared(id), &ada).await.unwrap();
    }
    assert_eq!(mailer.sent().len(), 3);
}
