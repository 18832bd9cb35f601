//! The `CustomerRepo` contract (with its `Outbox`), run against the embedded SQLite store and
//! against MongoDB.
//!
//! Isolation: the SQLite store lives in a temporary folder; the MongoDB test uses a database
//! named by `support::unique` and drops it at the end, so tests share one server.

// A failed `unwrap` is a failed test, with its location: what a test wants.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::api::NotificationSettings;
use common::events::{
    CustomerDeleted, CustomerPasswordChanged, CustomerRegistered, CustomerUpdated, Outgoing,
};
use fmsd::bus::ports::{Outbox, OutboxEntry};
use fmsd::customers::adapters::sqlite::SqliteCustomerRepo;
use fmsd::customers::ports::{Customer, CustomerRepo, NewRefreshToken, Rotation};
use fmsd::error::Error;
use futures::future::join_all;
use tokio::sync::Notify;
use uuid::Uuid;

mod app_tokens;
mod codes;

/// Now, to the millisecond (what every store keeps).
fn now() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(Utc::now().timestamp_millis())
        .unwrap()
}

fn customer(email: &str, name: &str) -> Customer {
    Customer {
        id: Uuid::now_v7(),
        email: email.to_owned(),
        email_key: email.to_lowercase(),
        name: name.to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        created_at: now(),
        notifications: NotificationSettings::default(),
        email_verified: true,
    }
}

fn registered(customer: &Customer) -> Outgoing {
    Outgoing::new(&CustomerRegistered {
        customer_id: customer.id,
        email: customer.email.clone(),
        name: customer.name.clone(),
        email_verified: customer.email_verified,
    })
}

fn updated(customer: &Customer, name: &str, activity_mail: bool) -> Outgoing {
    Outgoing::new(&CustomerUpdated {
        customer_id: customer.id,
        email: customer.email.clone(),
        name: name.to_owned(),
        activity_mail,
        email_verified: true,
    })
}

/// The mail preferences with activity mail `on` or off.
fn activity_mail(on: bool) -> NotificationSettings {
    NotificationSettings { activity_mail: on }
}

fn password_changed(customer: &Customer) -> Outgoing {
    Outgoing::new(&CustomerPasswordChanged {
        customer_id: customer.id,
        email: customer.email.clone(),
        name: customer.name.clone(),
    })
}

fn deleted(customer: &Customer) -> Outgoing {
    Outgoing::new(&CustomerDeleted {
        customer_id: customer.id,
        email: customer.email.clone(),
        name: customer.name.clone(),
    })
}

/// A new session's first token, expiring in a day (or at `expires_at`).
async fn login(
    repo: &dyn CustomerRepo,
    customer_id: Uuid,
    expires_at: Option<DateTime<Utc>>,
) -> (String, Uuid) {
    let token_hash = Uuid::new_v4().simple().to_string();
    let family_id = Uuid::now_v7();
    repo.insert_refresh_token(&NewRefreshToken {
        token_hash: token_hash.clone(),
        family_id,
        customer_id,
        expires_at: expires_at.unwrap_or_else(|| now() + Duration::days(1)),
    })
    .await
    .expect("insert a refresh token");
    (token_hash, family_id)
}

/// Rotates `presented` to a fresh hash with no reuse grace; returns the outcome and the
/// fresh hash.
async fn rotate(repo: &dyn CustomerRepo, presented: &str) -> (Rotation, String) {
    rotate_within(repo, presented, Duration::zero()).await
}

/// Rotates `presented`, forgiving a use less than `grace` ago.
async fn rotate_within(
    repo: &dyn CustomerRepo,
    presented: &str,
    grace: Duration,
) -> (Rotation, String) {
    let next = Uuid::new_v4().simple().to_string();
    let rotation = repo
        .rotate_refresh_token(presented, &next, now() + Duration::days(1), now(), grace)
        .await
        .expect("rotate a refresh token");
    (rotation, next)
}

/// What the outbox holds: (topic, envelope id), in order.
async fn pending(outbox: &dyn Outbox) -> Vec<(String, Uuid)> {
    outbox
        .pending(100)
        .await
        .expect("read the outbox")
        .into_iter()
        .map(|entry| (entry.topic, entry.envelope.id))
        .collect()
}

fn expected(events: &[&Outgoing]) -> Vec<(String, Uuid)> {
    events
        .iter()
        .map(|event| (event.topic.clone(), event.envelope.id))
        .collect()
}

/// Publishes everything pending (checking each envelope came back whole), twice, to show that
/// marking is idempotent.
async fn drain(outbox: &dyn Outbox, sent: &[&Outgoing]) {
    let entries: Vec<OutboxEntry> = outbox.pending(100).await.expect("read the outbox");
    for entry in &entries {
        let original = sent
            .iter()
            .find(|event| event.envelope.id == entry.envelope.id)
            .expect("only events that were written are pending");
        assert_eq!(entry.envelope, original.envelope);
        assert_eq!(entry.topic, original.topic);
    }
    outbox
        .mark_published(&entries)
        .await
        .expect("mark published");
    outbox
        .mark_published(&entries)
        .await
        .expect("mark published again");
    assert!(pending(outbox).await.is_empty());
}

/// The contract every customer store keeps.
async fn contract(repo: Arc<dyn CustomerRepo>, outbox: Arc<dyn Outbox>) {
    let repo = repo.as_ref();
    let outbox = outbox.as_ref();
    assert!(pending(outbox).await.is_empty());
    assert!(outbox.pending(0).await.expect("read the outbox").is_empty());
    assert_eq!(outbox.backlog().await.unwrap(), 0);

    // Insert, and find by id and by e-mail key.
    let alice = customer("Alice@example.com", "Alice");
    let alice_registered = registered(&alice);
    repo.insert(&alice, vec![alice_registered.clone()])
        .await
        .expect("insert alice");
    let found = repo.by_id(alice.id).await.unwrap().expect("alice by id");
    assert_eq!(
        (
            &found.email,
            &found.email_key,
            &found.name,
            &found.password_hash
        ),
        (
            &alice.email,
            &alice.email_key,
            &alice.name,
            &alice.password_hash
        )
    );
    assert_eq!(found.created_at, alice.created_at);
    let found = repo.by_email_key(&alice.email_key).await.unwrap();
    assert_eq!(found.map(|c| c.id), Some(alice.id));
    assert!(repo
        .by_email_key("nobody@example.com")
        .await
        .unwrap()
        .is_none());
    assert!(repo.by_id(Uuid::now_v7()).await.unwrap().is_none());

    // A taken e-mail key is a conflict, and leaves no event behind.
    let twin = customer("alice@example.com", "Twin");
    let error = repo
        .insert(&twin, vec![registered(&twin)])
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Conflict(_)), "{error:?}");
    assert!(repo.by_id(twin.id).await.unwrap().is_none());

    // A new customer wants activity mail.
    assert!(
        repo.by_id(alice.id)
            .await
            .unwrap()
            .unwrap()
            .notifications
            .activity_mail
    );

    // Update the name and the mail preferences; an unknown id is not found and writes no event.
    let renamed = updated(&alice, "Alice B.", true);
    let after = repo
        .update_profile(
            alice.id,
            "Alice B.",
            activity_mail(true),
            vec![renamed.clone()],
        )
        .await
        .expect("update the name");
    assert_eq!(
        (after.id, after.name.as_str(), after.notifications),
        (alice.id, "Alice B.", activity_mail(true))
    );
    assert_eq!(
        repo.by_id(alice.id).await.unwrap().unwrap().name,
        "Alice B."
    );
    let quiet = updated(&alice, "Alice B.", false);
    let after = repo
        .update_profile(
            alice.id,
            "Alice B.",
            activity_mail(false),
            vec![quiet.clone()],
        )
        .await
        .expect("turn activity mail off");
    assert_eq!(
        (after.name.as_str(), after.notifications),
        ("Alice B.", activity_mail(false))
    );
    let found = repo.by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(
        (found.name.as_str(), found.notifications),
        ("Alice B.", activity_mail(false))
    );
    let found = repo.by_email_key(&alice.email_key).await.unwrap().unwrap();
    assert_eq!(found.notifications, activity_mail(false));
    let loud = updated(&alice, "Alice B.", true);
    let after = repo
        .update_profile(
            alice.id,
            "Alice B.",
            activity_mail(true),
            vec![loud.clone()],
        )
        .await
        .expect("turn activity mail on again");
    assert_eq!(after.notifications, activity_mail(true));
    assert!(
        repo.by_id(alice.id)
            .await
            .unwrap()
            .unwrap()
            .notifications
            .activity_mail
    );
    let nobody = customer("nobody@example.com", "Nobody");
    let error = repo
        .update_profile(
            nobody.id,
            "X",
            activity_mail(false),
            vec![updated(&nobody, "X", false)],
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");

    // A customer stored with activity mail off keeps it off.
    let carol = Customer {
        notifications: activity_mail(false),
        ..customer("carol@example.com", "Carol")
    };
    repo.insert(&carol, Vec::new()).await.expect("insert carol");
    assert_eq!(
        repo.by_id(carol.id).await.unwrap().unwrap().notifications,
        activity_mail(false)
    );

    // The outbox: in order, whole, gone once published (a second mark changes nothing).
    assert_eq!(
        pending(outbox).await,
        expected(&[&alice_registered, &renamed, &quiet, &loud])
    );
    assert_eq!(
        outbox.backlog().await.unwrap(),
        4,
        "the backlog counts every event"
    );
    let first = outbox.pending(1).await.unwrap();
    assert_eq!(first.len(), 1);
    outbox.mark_published(&first).await.expect("mark the first");
    outbox
        .mark_published(&first)
        .await
        .expect("mark the first again");
    assert_eq!(pending(outbox).await, expected(&[&renamed, &quiet, &loud]));
    assert_eq!(outbox.backlog().await.unwrap(), 3);
    drain(outbox, &[&renamed, &quiet, &loud]).await;
    assert_eq!(outbox.backlog().await.unwrap(), 0);

    // Rotation: Rotated, then the same token again is Reused and revokes the family.
    let (first_token, first_family) = login(repo, alice.id, None).await;
    let (other_token, other_family) = login(repo, alice.id, None).await;
    let (rotation, successor) = rotate(repo, &first_token).await;
    assert_eq!(
        rotation,
        Rotation::Rotated {
            customer_id: alice.id,
            family_id: first_family
        }
    );
    assert_eq!(rotate(repo, &first_token).await.0, Rotation::Reused);
    assert_eq!(rotate(repo, &successor).await.0, Rotation::Reused);
    // Other sessions are untouched.
    let (rotation, other_token) = rotate(repo, &other_token).await;
    assert_eq!(
        rotation,
        Rotation::Rotated {
            customer_id: alice.id,
            family_id: other_family
        }
    );

    // Expired, and Unknown.
    let (stale, _) = login(repo, alice.id, Some(now() - Duration::seconds(1))).await;
    assert_eq!(rotate(repo, &stale).await.0, Rotation::Expired);
    assert_eq!(rotate(repo, "no-such-token").await.0, Rotation::Unknown);

    // Revoking a session: by its current token or an old one; unknown tokens say false.
    let (logout_token, _) = login(repo, alice.id, None).await;
    let (_, logout_successor) = rotate(repo, &logout_token).await;
    assert!(repo.revoke_session_of(&logout_successor).await.unwrap());
    assert_eq!(rotate(repo, &logout_successor).await.0, Rotation::Reused);
    assert!(repo.revoke_session_of(&logout_token).await.unwrap());
    assert!(!repo.revoke_session_of("no-such-token").await.unwrap());

    // Two (ten) rotations of one token at once: exactly one wins, the others see a reuse, and
    // the reuse revokes the winner's successor too.
    let (raced, _) = login(repo, alice.id, None).await;
    let outcomes = join_all((0..10).map(|_| rotate(repo, &raced))).await;
    let winners: Vec<&String> = outcomes
        .iter()
        .filter(|(rotation, _)| matches!(rotation, Rotation::Rotated { .. }))
        .map(|(_, next)| next)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|(rotation, _)| matches!(rotation, Rotation::Rotated { .. } | Rotation::Reused)));
    assert_eq!(rotate(repo, winners[0]).await.0, Rotation::Reused);

    // Within the reuse grace, a client racing itself: every rotation of one token at once
    // gets a successor of its own in the family, and each works.
    let grace = Duration::seconds(10);
    let (shared, shared_family) = login(repo, alice.id, None).await;
    let outcomes = join_all((0..10).map(|_| rotate_within(repo, &shared, grace))).await;
    for (rotation, next) in &outcomes {
        assert_eq!(
            *rotation,
            Rotation::Rotated {
                customer_id: alice.id,
                family_id: shared_family
            },
            "{outcomes:?}"
        );
        let (rotation, _) = rotate(repo, next).await;
        assert!(matches!(rotation, Rotation::Rotated { .. }), "{rotation:?}");
    }
    // Past the grace, or once revoked, a reuse is theft again and ends the family.
    assert_eq!(rotate(repo, &shared).await.0, Rotation::Reused);
    assert_eq!(
        rotate_within(repo, &shared, grace).await.0,
        Rotation::Reused,
        "a revoked token has no grace"
    );

    // A password change revokes every session but the one kept, and writes its event.
    let (kept_token, kept_family) = login(repo, alice.id, None).await;
    let (dropped_token, _) = login(repo, alice.id, None).await;
    let changed = password_changed(&alice);
    repo.update_password(
        alice.id,
        "new-hash",
        Some(kept_family),
        vec![changed.clone()],
    )
    .await
    .expect("update the password");
    assert_eq!(
        repo.by_id(alice.id).await.unwrap().unwrap().password_hash,
        "new-hash"
    );
    let (rotation, kept_token) = rotate(repo, &kept_token).await;
    assert!(matches!(rotation, Rotation::Rotated { .. }), "{rotation:?}");
    assert_eq!(rotate(repo, &dropped_token).await.0, Rotation::Reused);
    assert_eq!(rotate(repo, &other_token).await.0, Rotation::Reused);
    let error = repo
        .update_password(nobody.id, "x", None, vec![password_changed(&nobody)])
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    // Without a session to keep, every one goes.
    let changed_again = password_changed(&alice);
    repo.update_password(alice.id, "newer-hash", None, vec![changed_again.clone()])
        .await
        .expect("update the password again");
    assert_eq!(rotate(repo, &kept_token).await.0, Rotation::Reused);

    // Delete: the customer and their tokens go; the address is free at once.
    let (live_token, _) = login(repo, alice.id, None).await;
    let goodbye = deleted(&alice);
    repo.delete(alice.id, vec![goodbye.clone()])
        .await
        .expect("delete alice");
    assert!(repo.by_id(alice.id).await.unwrap().is_none());
    assert!(repo.by_email_key(&alice.email_key).await.unwrap().is_none());
    assert_eq!(rotate(repo, &live_token).await.0, Rotation::Unknown);
    assert!(!repo.revoke_session_of(&live_token).await.unwrap());
    let error = repo
        .delete(alice.id, vec![deleted(&alice)])
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    let error = repo
        .update_profile(
            alice.id,
            "Ghost",
            activity_mail(true),
            vec![updated(&alice, "Ghost", true)],
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");

    let again = customer("alice@example.com", "Alice again");
    let again_registered = registered(&again);
    repo.insert(&again, vec![again_registered.clone()])
        .await
        .expect("register the freed address");
    assert_eq!(
        pending(outbox).await,
        expected(&[&changed, &changed_again, &goodbye, &again_registered])
    );
    drain(
        outbox,
        &[&changed, &changed_again, &goodbye, &again_registered],
    )
    .await;
    let found = repo.by_email_key(&again.email_key).await.unwrap();
    assert_eq!(found.map(|c| c.id), Some(again.id));
    assert!(repo.by_id(alice.id).await.unwrap().is_none());

    // A change without events writes none; a deletion without events leaves nothing behind.
    let bob = customer("bob@example.com", "Bob");
    repo.insert(&bob, Vec::new()).await.expect("insert bob");
    repo.update_profile(bob.id, "Robert", activity_mail(false), Vec::new())
        .await
        .unwrap();
    repo.delete(bob.id, Vec::new()).await.expect("delete bob");
    assert!(repo.by_id(bob.id).await.unwrap().is_none());
    assert!(pending(outbox).await.is_empty());
    repo.insert(&customer("bob@example.com", "Bob again"), Vec::new())
        .await
        .expect("register bob's freed address");

    // And once more after the deletion was published.
    let bye_again = deleted(&again);
    repo.delete(again.id, vec![bye_again.clone()])
        .await
        .unwrap();
    drain(outbox, &[&bye_again]).await;
    let third = customer("alice@example.com", "Alice III");
    let third_registered = registered(&third);
    repo.insert(&third, vec![third_registered.clone()])
        .await
        .unwrap();
    assert_eq!(pending(outbox).await, expected(&[&third_registered]));
    drain(outbox, &[&third_registered]).await;
}

#[tokio::test]
async fn customers_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let repo = SqliteCustomerRepo::open(&dir.path().join("customers.db"), Arc::new(Notify::new()))
        .expect("open the SQLite customer store");
    let outbox: Arc<dyn Outbox> = Arc::new(repo.outbox());
    let repo = Arc::new(repo);
    contract(repo.clone(), outbox.clone()).await;
    app_tokens::contract(repo.as_ref()).await;
    codes::contract(repo.as_ref(), outbox.as_ref()).await;
}

/// `base` with its database (the URL path) replaced by `database`.
#[cfg(feature = "mongodb")]
fn with_database(base: &str, database: &str) -> String {
    let (address, query) = match base.split_once('?') {
        Some((address, query)) => (address, Some(query)),
        None => (base, None),
    };
    let (scheme, rest) = address.split_once("://").expect("a mongodb:// URL");
    let hosts = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(query) => format!("{scheme}://{hosts}/{database}?{query}"),
        None => format!("{scheme}://{hosts}/{database}"),
    }
}

#[cfg(feature = "mongodb")]
#[tokio::test]
async fn customers_on_mongodb() {
    use fmsd::customers::adapters::mongo::MongoCustomerRepo;
    use fmsd::health::Probe;
    use mongodb::bson::doc;

    let database = crate::support::unique("fms_customers_");
    let url = with_database(&crate::support::require("FMS_TEST_MONGODB_URL"), &database);
    let wake = Arc::new(Notify::new());
    let repo = Arc::new(
        MongoCustomerRepo::connect(&url, wake.clone())
            .await
            .expect("connect to MongoDB (is it running? `scripts/services.sh start`)"),
    );
    repo.probe().await.expect("ping MongoDB");
    contract(repo.clone(), repo.outbox()).await;
    app_tokens::contract(repo.as_ref()).await;
    codes::contract(repo.as_ref(), repo.outbox().as_ref()).await;
    // A write with events woke the relay.
    tokio::time::timeout(std::time::Duration::from_secs(1), wake.notified())
        .await
        .expect("the relay was woken");

    let client = mongodb::Client::with_uri_str(&url).await.unwrap();
    let customers = client
        .database(&database)
        .collection::<mongodb::bson::Document>("customers");

    // A document written before mail preferences existed reads as activity mail on, and can
    // be turned off.
    let old = customer("old@example.com", "Old");
    customers
        .insert_one(doc! {
            "_id": old.id.to_string(),
            "email": &old.email,
            "email_key": &old.email_key,
            "name": &old.name,
            "password_hash": &old.password_hash,
            "created_at": old.created_at.timestamp_millis(),
            "deleted": false,
            "pending": {},
            "pending_count": 0_i64,
        })
        .await
        .unwrap();
    let found = repo.by_id(old.id).await.unwrap().expect("the old customer");
    assert_eq!(found.notifications, NotificationSettings::default());
    assert!(found.notifications.activity_mail);
    repo.update_profile(old.id, "Old", activity_mail(false), Vec::new())
        .await
        .unwrap();
    assert!(
        !repo
            .by_id(old.id)
            .await
            .unwrap()
            .unwrap()
            .notifications
            .activity_mail
    );

    // Published tombstones are gone from the collection, not just hidden.
    assert_eq!(
        customers
            .count_documents(doc! { "deleted": true })
            .await
            .unwrap(),
        0
    );
    // A second connect (indexes exist already) works.
    MongoCustomerRepo::connect(&url, wake)
        .await
        .expect("connect again");
    client.database(&database).drop().await.unwrap();
}
