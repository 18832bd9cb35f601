//! The mailed-codes part of the `CustomerRepo` contract: one code per customer and purpose,
//! taken once, unexpired, for the purposes asked; an address proved, or switched to.

use chrono::Duration;
use common::events::Outgoing;
use fmsd::bus::ports::Outbox;
use fmsd::customers::ports::{CodePurpose, CustomerRepo, StoredCode};
use fmsd::error::Error;
use uuid::Uuid;

use super::{customer, now, pending, registered};

fn code(customer_id: Uuid, purpose: CodePurpose, minutes: i64) -> StoredCode {
    StoredCode {
        token_hash: Uuid::new_v4().simple().to_string(),
        customer_id,
        purpose,
        new_email: None,
        expires_at: now() + Duration::minutes(minutes),
    }
}

/// Stores, replaces, finds and takes codes; proves and switches addresses.
pub async fn contract(repo: &dyn CustomerRepo, outbox: &dyn Outbox) {
    let mut ann = customer("ann-codes@example.com", "Ann");
    ann.email_verified = false;
    let bob = customer("bob-codes@example.com", "Bob");
    repo.insert(&ann, Vec::new()).await.unwrap();
    repo.insert(&bob, Vec::new()).await.unwrap();
    assert!(!repo.by_id(ann.id).await.unwrap().unwrap().email_verified);
    assert!(repo.by_id(bob.id).await.unwrap().unwrap().email_verified);

    // A code with its event: both written.
    let before = pending(outbox).await.len();
    let reset = code(ann.id, CodePurpose::PasswordReset, 30);
    let event = registered(&ann);
    repo.put_code(&reset, vec![event.clone()]).await.unwrap();
    let after = pending(outbox).await;
    assert_eq!(after.len(), before + 1);
    assert!(after.contains(&(event.topic.clone(), event.envelope.id)));
    let found = repo
        .code_of(ann.id, CodePurpose::PasswordReset, now())
        .await
        .unwrap();
    assert_eq!(found, Some(reset.clone()));

    // A newer code of one purpose replaces the older; other purposes stay.
    let newer = code(ann.id, CodePurpose::PasswordReset, 30);
    repo.put_code(&newer, Vec::new()).await.unwrap();
    let mut change = code(ann.id, CodePurpose::ChangeEmail, 60);
    change.new_email = Some(("Ann@Example.org".into(), "ann@example.org".into()));
    repo.put_code(&change, Vec::new()).await.unwrap();
    let purposes = [CodePurpose::PasswordReset];
    assert_eq!(
        repo.take_code(&reset.token_hash, &purposes, now())
            .await
            .unwrap(),
        None,
        "a replaced code is gone"
    );
    assert_eq!(
        repo.code_of(ann.id, CodePurpose::ChangeEmail, now())
            .await
            .unwrap(),
        Some(change.clone())
    );

    // Taken for the wrong purpose, or once expired: nothing, and it stays.
    assert_eq!(
        repo.take_code(&newer.token_hash, &[CodePurpose::Verify], now())
            .await
            .unwrap(),
        None
    );
    let later = now() + Duration::minutes(31);
    assert_eq!(
        repo.take_code(&newer.token_hash, &purposes, later)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        repo.code_of(ann.id, CodePurpose::PasswordReset, later)
            .await
            .unwrap(),
        None,
        "an expired code is not found"
    );
    // Taken right: once.
    assert_eq!(
        repo.take_code(&newer.token_hash, &purposes, now())
            .await
            .unwrap(),
        Some(newer.clone())
    );
    assert_eq!(
        repo.take_code(&newer.token_hash, &purposes, now())
            .await
            .unwrap(),
        None,
        "a code works once"
    );

    // Proving the own address; switching to a new one.
    let verified = repo.set_verified(ann.id, None, Vec::new()).await.unwrap();
    assert!(verified.email_verified);
    assert_eq!(verified.email, ann.email);
    let taken = repo
        .take_code(
            &change.token_hash,
            &[CodePurpose::Verify, CodePurpose::ChangeEmail],
            now(),
        )
        .await
        .unwrap()
        .expect("the change code");
    let switched = repo
        .set_verified(ann.id, taken.new_email, Vec::new())
        .await
        .unwrap();
    assert_eq!(
        (switched.email.as_str(), switched.email_key.as_str()),
        ("Ann@Example.org", "ann@example.org")
    );
    assert_eq!(
        repo.by_email_key("ann@example.org")
            .await
            .unwrap()
            .map(|c| c.id),
        Some(ann.id)
    );
    assert!(repo
        .by_email_key("ann-codes@example.com")
        .await
        .unwrap()
        .is_none());

    // An address another account has is refused, and nothing changes.
    let refused = repo
        .set_verified(
            ann.id,
            Some((bob.email.clone(), bob.email_key.clone())),
            Vec::new(),
        )
        .await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "{refused:?}");
    assert_eq!(
        repo.by_id(ann.id).await.unwrap().unwrap().email,
        "Ann@Example.org"
    );

    // Gone with their customer; a code for a customer who is gone is refused.
    let last = code(bob.id, CodePurpose::Verify, 60);
    repo.put_code(&last, Vec::new()).await.unwrap();
    repo.delete(bob.id, Vec::new()).await.unwrap();
    assert_eq!(
        repo.take_code(&last.token_hash, &[CodePurpose::Verify], now())
            .await
            .unwrap(),
        None
    );
    let orphan = repo
        .put_code(
            &code(bob.id, CodePurpose::Verify, 60),
            Vec::<Outgoing>::new(),
        )
        .await;
    assert!(matches!(orphan, Err(Error::NotFound(_))), "{orphan:?}");
    assert!(matches!(
        repo.set_verified(bob.id, None, Vec::new()).await,
        Err(Error::NotFound(_))
    ));
}
