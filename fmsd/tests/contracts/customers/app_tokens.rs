//! The app-token part of the `CustomerRepo` contract.

use chrono::Duration;
use common::api::TokenScope;
use fmsd::customers::ports::{CustomerRepo, StoredAppToken};
use fmsd::error::Error;
use uuid::Uuid;

use super::{customer, now};

fn token(customer_id: Uuid, name: &str, scope: TokenScope, age_secs: i64) -> StoredAppToken {
    let created_at = now() - Duration::seconds(age_secs);
    StoredAppToken {
        id: Uuid::now_v7(),
        customer_id,
        name: name.to_owned(),
        scope,
        token_hash: format!("{:064x}", rand_hash()),
        created_at,
        expires_at: (scope == TokenScope::Read).then(|| created_at + Duration::days(30)),
        last_used_at: None,
    }
}

fn rand_hash() -> u128 {
    Uuid::new_v4().as_u128()
}

/// Stores, finds, lists, notes uses of and deletes app tokens; a password change and the
/// account's deletion take every token with them.
pub async fn contract(repo: &dyn CustomerRepo) {
    let ann = customer("ann-tokens@example.com", "Ann");
    let bob = customer("bob-tokens@example.com", "Bob");
    repo.insert(&ann, Vec::new()).await.unwrap();
    repo.insert(&bob, Vec::new()).await.unwrap();

    let older = token(ann.id, "nas backup", TokenScope::ReadWrite, 60);
    let newer = token(ann.id, "dashboard", TokenScope::Read, 0);
    let bobs = token(bob.id, "bob's", TokenScope::ReadWrite, 0);
    for stored in [&older, &newer, &bobs] {
        repo.insert_app_token(stored).await.unwrap();
    }
    // The hash is unique.
    let mut twin = token(bob.id, "twin", TokenScope::Read, 0);
    twin.token_hash = older.token_hash.clone();
    assert!(matches!(
        repo.insert_app_token(&twin).await,
        Err(Error::Conflict(_))
    ));

    assert_eq!(
        repo.app_tokens(ann.id).await.unwrap(),
        [newer.clone(), older.clone()]
    );
    assert_eq!(
        repo.app_token_by_hash(&newer.token_hash).await.unwrap(),
        Some(newer.clone())
    );
    assert_eq!(repo.app_token_by_hash(&"0".repeat(64)).await.unwrap(), None);

    let used_at = now();
    repo.touch_app_token(older.id, used_at).await.unwrap();
    let found = repo
        .app_token_by_hash(&older.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.last_used_at, Some(used_at));

    // Only the owner deletes a token.
    assert!(!repo.delete_app_token(bob.id, older.id).await.unwrap());
    assert!(repo.delete_app_token(ann.id, older.id).await.unwrap());
    assert!(!repo.delete_app_token(ann.id, older.id).await.unwrap());
    assert_eq!(
        repo.app_token_by_hash(&older.token_hash).await.unwrap(),
        None
    );

    // A password change takes every token of the account, and only its.
    repo.update_password(ann.id, "new hash", None, Vec::new())
        .await
        .unwrap();
    assert!(repo.app_tokens(ann.id).await.unwrap().is_empty());
    assert_eq!(
        repo.app_token_by_hash(&newer.token_hash).await.unwrap(),
        None
    );
    assert_eq!(
        repo.app_tokens(bob.id).await.unwrap(),
        std::slice::from_ref(&bobs)
    );

    // So does the deletion; a token for a customer who is gone is refused.
    repo.delete(bob.id, Vec::new()).await.unwrap();
    assert_eq!(
        repo.app_token_by_hash(&bobs.token_hash).await.unwrap(),
        None
    );
    let orphan = token(bob.id, "late", TokenScope::ReadWrite, 0);
    assert!(matches!(
        repo.insert_app_token(&orphan).await,
        Err(Error::Unauthorized(_))
    ));
    assert_eq!(
        repo.app_token_by_hash(&orphan.token_hash).await.unwrap(),
        None
    );
    repo.delete(ann.id, Vec::new()).await.unwrap();
}
