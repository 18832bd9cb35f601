//! The customer-events handler over the real files service on the embedded stores.

use common::events::{CustomerDeleted, CustomerRegistered, Envelope};
use uuid::Uuid;

use super::CustomerEvents;
use crate::bus::consumer::EventHandler;
use crate::error::Error;
use crate::files::domain::{PageLimit, RemotePath};
use crate::files::service::tests::{harness, walk};

#[tokio::test]
async fn a_customer_deleted_event_handled_twice_purges_once() {
    let harness = harness().await;
    let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
    harness.upload(ann, "/a.txt", b"ann's bytes").await;
    harness.upload(bob, "/b.txt", b"bob's").await;
    let handler = CustomerEvents::new(harness.service.clone());

    let unrelated = Envelope::wrap(&CustomerRegistered {
        customer_id: ann,
        email: "a@example.com".into(),
        name: "A".into(),
        email_verified: true,
    });
    handler.handle(&unrelated).await.expect("ignored");
    let deleted = Envelope::wrap(&CustomerDeleted {
        customer_id: ann,
        email: "a@example.com".into(),
        name: "A".into(),
    });
    handler.handle(&deleted).await.expect("the purge");
    handler
        .handle(&deleted)
        .await
        .expect("the same event again");

    let types = harness.event_types().await;
    assert_eq!(
        types
            .iter()
            .filter(|kind| *kind == "files.owner_purged")
            .count(),
        1,
        "{types:?}"
    );
    let refused = harness
        .service
        .list(
            ann,
            &RemotePath::root(),
            None,
            PageLimit::parse(None).expect("a limit"),
        )
        .await;
    assert!(
        matches!(refused, Err(Error::Unauthorized(_))),
        "{refused:?}"
    );
    let bobs = harness
        .service
        .list(
            bob,
            &RemotePath::root(),
            None,
            PageLimit::parse(None).expect("a limit"),
        )
        .await;
    assert_eq!(bobs.expect("bob's listing").entries.len(), 1);
    // Only Bob's blob is left on disk.
    let objects = walk(&harness.dir.path().join("blobs/objects"));
    assert_eq!(objects, 1);

    // A malformed payload is not retried: it can never succeed.
    let mut malformed = deleted.clone();
    malformed.id = Uuid::now_v7();
    malformed.payload = serde_json::json!({"customer_id": "not a uuid"});
    let error = handler
        .handle(&malformed)
        .await
        .expect_err("a malformed event");
    assert!(!error.is_transient());
}
