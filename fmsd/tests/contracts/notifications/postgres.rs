//! The notifications store on PostgreSQL, each test in a database of its own.

use std::sync::Arc;

use fmsd::health::Probe;
use fmsd::notifications::adapters::sql::SqlNotificationRepo;
use fmsd::notifications::ports::NotificationRepo;
use fmsd::store_url::StoreUrl;

use super::{activity, repo_contract};
use crate::support::TestDatabase;

#[tokio::test]
async fn postgres_repo_keeps_the_repo_contract() {
    let database = TestDatabase::create().await;
    let repo = SqlNotificationRepo::open(&database.store_url())
        .await
        .unwrap();
    repo.probe().await.unwrap();
    let remembered = repo_contract(Arc::new(repo)).await;

    // The record outlives the connection, and connecting again (migrations already run) works.
    let reopened = SqlNotificationRepo::open(&database.store_url())
        .await
        .unwrap();
    assert!(reopened.already_handled(&remembered).await.unwrap());
}

#[tokio::test]
async fn postgres_repo_keeps_the_activity_contract() {
    let database = TestDatabase::create().await;
    let repo = SqlNotificationRepo::open(&database.store_url())
        .await
        .unwrap();
    let kept = activity::repo_contract(Arc::new(repo)).await;
    let reopened = SqlNotificationRepo::open(&database.store_url())
        .await
        .unwrap();
    activity::kept_after_reopening(&reopened, &kept).await;
}

#[tokio::test]
async fn postgres_repo_on_a_closed_port_fails_to_connect() {
    let started = std::time::Instant::now();
    let result = SqlNotificationRepo::open(&StoreUrl::Postgres(
        "postgres://postgres@127.0.0.1:1/none".into(),
    ))
    .await;
    assert!(result.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}

#[cfg(feature = "smtp")]
#[tokio::test]
async fn service_over_smtp_and_postgres_mails_each_event_once() {
    let database = TestDatabase::create().await;
    let repo = SqlNotificationRepo::open(&database.store_url())
        .await
        .unwrap();
    super::service_contract(
        super::smtp::maildev_mailer(),
        Arc::new(repo),
        &super::smtp::Maildev::from_env(),
    )
    .await;
}

#[cfg(feature = "smtp")]
#[tokio::test]
async fn service_over_smtp_and_postgres_sends_a_burst_as_one_digest() {
    let database = TestDatabase::create().await;
    let repo = SqlNotificationRepo::open(&database.store_url())
        .await
        .unwrap();
    activity::service_contract(
        super::smtp::maildev_mailer(),
        Arc::new(repo),
        &super::smtp::Maildev::from_env(),
    )
    .await;
}
