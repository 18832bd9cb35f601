//! Activity mail: the `NotificationRepo` contract for preferences, last sends and the digest
//! queue (written once, run on SQLite and PostgreSQL), and the service over a real mailer and
//! store, moved by a manual clock: a burst becomes one digest.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use fmsd::clock::ManualClock;
use fmsd::notifications::domain::{
    About, ItemKind, QueuedMail, Recipient, Rich, Server, ShareRole, Template,
};
use fmsd::notifications::ports::{Mailer, NotificationRepo};
use fmsd::notifications::service::NotificationService;
use uuid::Uuid;

use super::{customer, recipient, wait_for, Mailbox, DUPLICATE_WAIT};
use crate::support;

/// What [`repo_contract`] left behind, for a check after reopening the store.
#[derive(Debug)]
pub struct Kept {
    /// A customer who turned activity mail off.
    customer_id: Uuid,
    /// When they were last sent an activity mail.
    last_sent: DateTime<Utc>,
    /// The mail still queued for them.
    queued: QueuedMail,
}

/// Now, to the microsecond (what both stores keep).
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

/// A queued share mail for `to`, about a share of its own, with markup to keep.
fn queued(to: &Recipient, item: &str) -> QueuedMail {
    QueuedMail {
        event_id: support::unique("evt-"),
        recipient: to.clone(),
        subject: format!("Bob shared '{item}' with you"),
        summary: Rich::new()
            .text(format!(
                "Bob shared the file '{item}' with you as a viewer: <b>&</b>. Run "
            ))
            .code(format!("fmsctl ls shared:{item}"))
            .text(" on ")
            .url("https://fms.example.com"),
        about: Some(About::Share(Uuid::now_v7())),
    }
}

/// The queued mails' event ids.
fn ids(mails: &[QueuedMail]) -> Vec<String> {
    mails.iter().map(|mail| mail.event_id.clone()).collect()
}

/// The activity part of the `NotificationRepo` contract, written once.
pub async fn repo_contract(repo: Arc<dyn NotificationRepo>) -> Kept {
    let ada = customer(&recipient());
    let bob = customer(&recipient());

    // Preferences: unknown, then set, then changed; per customer.
    assert_eq!(repo.activity_mail(ada.customer_id).await.unwrap(), None);
    repo.set_activity_mail(ada.customer_id, true).await.unwrap();
    assert_eq!(
        repo.activity_mail(ada.customer_id).await.unwrap(),
        Some(true)
    );
    repo.set_activity_mail(ada.customer_id, false)
        .await
        .unwrap();
    repo.set_activity_mail(ada.customer_id, false)
        .await
        .unwrap();
    assert_eq!(
        repo.activity_mail(ada.customer_id).await.unwrap(),
        Some(false)
    );
    assert_eq!(repo.activity_mail(bob.customer_id).await.unwrap(), None);

    // Last sends: recording one also marks its event handled; a later one replaces it.
    assert_eq!(
        repo.last_activity_mail_at(ada.customer_id).await.unwrap(),
        None
    );
    let sent_event = support::unique("evt-");
    let first_sent = now();
    repo.record_activity_mail(&sent_event, ada.customer_id, first_sent)
        .await
        .unwrap();
    assert!(repo.already_handled(&sent_event).await.unwrap());
    assert_eq!(
        repo.last_activity_mail_at(ada.customer_id).await.unwrap(),
        Some(first_sent)
    );
    let later = first_sent + TimeDelta::seconds(5);
    repo.record_activity_mail(&support::unique("evt-"), ada.customer_id, later)
        .await
        .unwrap();
    assert_eq!(
        repo.last_activity_mail_at(ada.customer_id).await.unwrap(),
        Some(later)
    );
    assert_eq!(
        repo.last_activity_mail_at(bob.customer_id).await.unwrap(),
        None
    );

    // The queue: in order, once per event (even when two deliveries race), each event handled.
    let (a1, a2, a3) = (queued(&ada, "a1"), queued(&ada, "a2"), queued(&ada, "a3"));
    let b1 = queued(&bob, "b1");
    assert!(repo
        .queued_activity_mail(ada.customer_id)
        .await
        .unwrap()
        .is_empty());
    repo.queue_activity_mail(&a1).await.unwrap();
    assert!(repo.already_handled(&a1.event_id).await.unwrap());
    repo.queue_activity_mail(&b1).await.unwrap();
    let (first, second) =
        tokio::join!(repo.queue_activity_mail(&a2), repo.queue_activity_mail(&a2));
    first.unwrap();
    second.unwrap();
    repo.queue_activity_mail(&a1).await.unwrap();
    repo.queue_activity_mail(&a3).await.unwrap();
    let queue = repo.queued_activity_mail(ada.customer_id).await.unwrap();
    assert_eq!(queue, vec![a1.clone(), a2.clone(), a3.clone()]);
    assert_eq!(
        repo.queued_activity_mail(bob.customer_id).await.unwrap(),
        vec![b1.clone()]
    );

    // Due digests: customers never sent one, or last sent at or before the cutoff.
    let due = repo
        .due_digests(later - TimeDelta::seconds(1))
        .await
        .unwrap();
    let mine: Vec<_> = due
        .iter()
        .filter(|d| d.customer_id == ada.customer_id || d.customer_id == bob.customer_id)
        .collect();
    assert_eq!(mine.len(), 1, "{due:#?}");
    assert_eq!(mine[0].customer_id, bob.customer_id);
    assert_eq!(mine[0].items, vec![b1.clone()]);
    let due = repo.due_digests(later).await.unwrap();
    let ada_digest = due
        .iter()
        .find(|d| d.customer_id == ada.customer_id)
        .unwrap_or_else(|| panic!("{due:#?}"));
    assert_eq!(ada_digest.items, vec![a1.clone(), a2.clone(), a3.clone()]);
    assert!(due.iter().any(|d| d.customer_id == bob.customer_id));

    // Dequeueing what a digest carried keeps what came since, and records the send.
    let digest_sent = later + TimeDelta::seconds(300);
    repo.dequeue_activity_mail(ada.customer_id, &ids(&[a1, a2]), Some(digest_sent))
        .await
        .unwrap();
    assert_eq!(
        repo.queued_activity_mail(ada.customer_id).await.unwrap(),
        vec![a3.clone()]
    );
    assert_eq!(
        repo.last_activity_mail_at(ada.customer_id).await.unwrap(),
        Some(digest_sent)
    );
    // Without a send time (a dropped queue), the last send stays; an unknown id is no error.
    repo.dequeue_activity_mail(bob.customer_id, &ids(std::slice::from_ref(&b1)), None)
        .await
        .unwrap();
    repo.dequeue_activity_mail(bob.customer_id, &[support::unique("evt-")], None)
        .await
        .unwrap();
    assert!(repo
        .queued_activity_mail(bob.customer_id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        repo.last_activity_mail_at(bob.customer_id).await.unwrap(),
        None
    );
    assert!(repo.already_handled(&b1.event_id).await.unwrap());

    // Forgetting a customer drops their preference, last send and queue, and no one else's.
    let carl = customer(&recipient());
    repo.set_activity_mail(carl.customer_id, true)
        .await
        .unwrap();
    repo.record_activity_mail(&support::unique("evt-"), carl.customer_id, later)
        .await
        .unwrap();
    let c1 = queued(&carl, "c1");
    repo.queue_activity_mail(&c1).await.unwrap();
    repo.forget_customer(carl.customer_id).await.unwrap();
    repo.forget_customer(carl.customer_id).await.unwrap();
    assert_eq!(repo.activity_mail(carl.customer_id).await.unwrap(), None);
    assert_eq!(
        repo.last_activity_mail_at(carl.customer_id).await.unwrap(),
        None
    );
    assert!(repo
        .queued_activity_mail(carl.customer_id)
        .await
        .unwrap()
        .is_empty());
    assert!(!repo
        .due_digests(digest_sent + TimeDelta::days(1))
        .await
        .unwrap()
        .iter()
        .any(|d| d.customer_id == carl.customer_id));
    // The event stays handled: a redelivery must not mail a customer who is gone.
    assert!(repo.already_handled(&c1.event_id).await.unwrap());

    // A share or link that ended takes the mails queued about it along, and only those; its
    // end told twice drops nothing more.
    let dan = customer(&recipient());
    let (d1, d2) = (queued(&dan, "d1"), queued(&dan, "d2"));
    let ended = d1.about.unwrap();
    let About::Share(ended_id) = ended else {
        unreachable!("queued() makes share mails")
    };
    let unrelated = QueuedMail {
        about: None,
        ..queued(&dan, "d3")
    };
    let same_id_other_kind = QueuedMail {
        about: Some(About::Link(ended_id)),
        ..queued(&dan, "d4")
    };
    for mail in [&d1, &d2, &unrelated, &same_id_other_kind] {
        repo.queue_activity_mail(mail).await.unwrap();
    }
    assert_eq!(repo.drop_queued_about(ended).await.unwrap(), 1);
    assert_eq!(repo.drop_queued_about(ended).await.unwrap(), 0);
    assert_eq!(
        repo.queued_activity_mail(dan.customer_id).await.unwrap(),
        vec![d2.clone(), unrelated, same_id_other_kind.clone()]
    );
    assert_eq!(
        repo.drop_queued_about(same_id_other_kind.about.unwrap())
            .await
            .unwrap(),
        1
    );
    repo.forget_customer(dan.customer_id).await.unwrap();
    assert_eq!(
        repo.activity_mail(ada.customer_id).await.unwrap(),
        Some(false)
    );

    Kept {
        customer_id: ada.customer_id,
        last_sent: digest_sent,
        queued: a3,
    }
}

/// What [`repo_contract`] left is still there in a store opened again.
pub async fn kept_after_reopening(repo: &dyn NotificationRepo, kept: &Kept) {
    assert_eq!(
        repo.activity_mail(kept.customer_id).await.unwrap(),
        Some(false)
    );
    assert_eq!(
        repo.last_activity_mail_at(kept.customer_id).await.unwrap(),
        Some(kept.last_sent)
    );
    assert_eq!(
        repo.queued_activity_mail(kept.customer_id).await.unwrap(),
        vec![kept.queued.clone()]
    );
}

/// A share of `item`, by an owner whose name needs escaping.
fn shared(item: &str) -> Template {
    Template::FileShared {
        share_id: Uuid::now_v7(),
        owner_name: "Bob <b>".into(),
        owner_email: "bob@example.com".into(),
        item_name: item.into(),
        kind: ItemKind::Folder,
        role: ShareRole::Editor,
    }
}

/// The service over a mailer and a repo: the first activity mail goes at once, the rest of
/// the burst waits and goes as one digest once the window has passed; delivered twice, an
/// event still counts once; a customer who turned activity mail off gets none.
pub async fn service_contract(
    mailer: Arc<dyn Mailer>,
    repo: Arc<dyn NotificationRepo>,
    mailbox: &impl Mailbox,
) {
    let clock = ManualClock::new();
    let service = NotificationService::new(
        mailer,
        repo,
        Arc::new(clock.clone()),
        Duration::from_secs(300),
        Server::new("https://fms.example.com"),
    );
    let ada = customer(&recipient());
    let first = support::unique("evt-");
    service
        .notify(&first, shared("first-item"), &ada)
        .await
        .unwrap();
    assert_eq!(wait_for(mailbox, &ada.email, 1).await.len(), 1);

    clock.advance(TimeDelta::seconds(10));
    let second = support::unique("evt-");
    for (event_id, item) in [
        (&second, "second-item"),
        (&second, "second-item"),
        (&support::unique("evt-"), "third-item"),
    ] {
        service.notify(event_id, shared(item), &ada).await.unwrap();
    }
    assert_eq!(service.flush_digests().await.unwrap(), 0);
    tokio::time::sleep(DUPLICATE_WAIT).await;
    assert_eq!(mailbox.received(&ada.email).await.len(), 1);

    clock.advance(TimeDelta::seconds(290));
    assert_eq!(service.flush_digests().await.unwrap(), 1);
    let received = wait_for(mailbox, &ada.email, 2).await;
    assert_eq!(received.len(), 2, "{received:#?}");
    let digest = received
        .iter()
        .find(|mail| mail.subject == "fms: 2 updates")
        .unwrap_or_else(|| panic!("{received:#?}"));
    for part in [&digest.text, &digest.html] {
        assert!(part.contains("second-item"), "{part}");
        assert!(part.contains("third-item"), "{part}");
        assert!(!part.contains("first-item"), "{part}");
    }
    assert!(digest.html.contains("Bob &lt;b&gt;"), "{}", digest.html);
    assert!(digest.text.contains("PATCH /v1/me"), "{}", digest.text);
    assert!(
        digest
            .html
            .contains("<code>fmsctl --server https://fms.example.com ls shared:second-item</code>"),
        "{}",
        digest.html
    );
    assert_eq!(service.flush_digests().await.unwrap(), 0);

    // Off: not sent, not queued; security mail still goes.
    let eve = customer(&recipient());
    service
        .set_activity_mail(eve.customer_id, false)
        .await
        .unwrap();
    service
        .notify(&support::unique("evt-"), shared("x"), &eve)
        .await
        .unwrap();
    service
        .notify(&support::unique("evt-"), Template::PasswordChanged, &eve)
        .await
        .unwrap();
    let received = wait_for(mailbox, &eve.email, 1).await;
    tokio::time::sleep(DUPLICATE_WAIT).await;
    let received_later = mailbox.received(&eve.email).await;
    assert_eq!(received_later.len(), 1, "{received_later:#?}");
    assert_eq!(received[0].subject, "Your fms password was changed");
    clock.advance(TimeDelta::days(1));
    assert_eq!(service.flush_digests().await.unwrap(), 0);
}
