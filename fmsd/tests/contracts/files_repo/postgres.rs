//! The file repo on PostgreSQL, each test in a database of its own (created on the server at
//! `FMS_TEST_POSTGRES_URL`, dropped at the end), so tests run in parallel.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fmsd::bus::ports::Outbox;
use fmsd::error::Error;
use fmsd::files::adapters::sql::SqlFileRepo;
use fmsd::files::domain::RemotePath;
use fmsd::files::ports::FileRepo;
use fmsd::health::Probe;
use fmsd::store_url::StoreUrl;
use tokio::sync::Notify;
use uuid::Uuid;

use super::{file_repo_works, outbox_holds_the_delete_event};
use crate::support::TestDatabase;

#[tokio::test]
async fn postgres_repo_keeps_the_file_repo_contract_and_writes_its_events_to_the_outbox() {
    let database = TestDatabase::create().await;
    let wake = Arc::new(Notify::new());
    let repo = Arc::new(
        SqlFileRepo::open(&database.store_url(), wake.clone())
            .await
            .unwrap(),
    );
    repo.probe().await.unwrap();
    file_repo_works(repo.clone()).await;

    // Everything outlives the connection, and connecting again (migrations already run) works.
    let reopened = SqlFileRepo::open(&database.store_url(), Arc::new(Notify::new()))
        .await
        .unwrap();
    assert_eq!(reopened.outbox().pending(100).await.unwrap().len(), 1);
    outbox_holds_the_delete_event(Arc::new(repo.outbox()), &wake).await;
}

#[tokio::test]
async fn postgres_repo_on_a_closed_port_fails_to_connect() {
    let started = Instant::now();
    let result = SqlFileRepo::open(
        &StoreUrl::Postgres("postgres://postgres@127.0.0.1:1/none".into()),
        Arc::new(Notify::new()),
    )
    .await;
    assert!(result.is_err());
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn a_lost_database_is_unavailable_not_internal() {
    let database = TestDatabase::create().await;
    let repo = SqlFileRepo::open(&database.store_url(), Arc::new(Notify::new()))
        .await
        .unwrap();
    let owner = Uuid::new_v4();
    let folder = RemotePath::parse("/f").unwrap();
    repo.mkdir(owner, &folder, false, chrono::Utc::now())
        .await
        .unwrap();
    let dropped = tokio::task::spawn_blocking(move || {
        database.drop_now();
        database
    })
    .await
    .unwrap();
    let error = repo.get(owner, &folder).await.unwrap_err();
    assert!(matches!(error, Error::Unavailable(_)), "{error:?}");
    assert!(matches!(repo.probe().await, Err(Error::Unavailable(_))));
    drop(dropped);
}
