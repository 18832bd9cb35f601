//! The file repo on PostgreSQL, each test in a database of its own (created on the server at
//! `FMS_TEST_POSTGRES_URL`, dropped at the end), so tests run in parallel.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use fmsd::error::Error;
use fmsd::files::adapters::postgres::PostgresFileRepo;
use fmsd::files::domain::RemotePath;
use fmsd::files::ports::FileRepo;
use fmsd::health::Probe;
use tokio::sync::Notify;
use uuid::Uuid;

use super::{file_repo_works, outbox_holds_the_delete_event};
use crate::support;

/// A fresh database on the test server, dropped when this is.
struct TestDatabase {
    /// `FMS_TEST_POSTGRES_URL`, the server's admin database.
    admin_url: String,
    /// The database's name.
    name: String,
    /// The URL of the database itself.
    url: String,
}

impl TestDatabase {
    /// Creates a database no other test uses.
    async fn create() -> Self {
        let admin_url = support::require("FMS_TEST_POSTGRES_URL");
        let name = support::unique("fms_test_");
        let mut url = url::Url::parse(&admin_url).expect("FMS_TEST_POSTGRES_URL is a URL");
        url.set_path(&format!("/{name}"));
        let statement = format!("CREATE DATABASE {name}");
        let admin = admin_url.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = PgConnection::establish(&admin).unwrap_or_else(|error| {
                panic!("PostgreSQL (FMS_TEST_POSTGRES_URL) is not reachable: {error}")
            });
            diesel::sql_query(statement)
                .execute(&mut connection)
                .unwrap();
        })
        .await
        .unwrap();
        Self {
            admin_url,
            name,
            url: url.to_string(),
        }
    }

    /// Drops the database now, closing the connections a repo still holds to it.
    fn drop_now(&self) {
        // Best effort: a database left behind after a failure is harmless, named fms_test_*.
        if let Ok(mut connection) = PgConnection::establish(&self.admin_url) {
            let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = diesel::sql_query(statement).execute(&mut connection);
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.drop_now();
    }
}

#[tokio::test]
async fn postgres_repo_keeps_the_file_repo_contract_and_writes_its_events_to_the_outbox() {
    let database = TestDatabase::create().await;
    let wake = Arc::new(Notify::new());
    let repo = Arc::new(
        PostgresFileRepo::connect(&database.url, wake.clone())
            .await
            .unwrap(),
    );
    repo.probe().await.unwrap();
    file_repo_works(repo.clone()).await;

    // Everything outlives the connection, and connecting again (migrations already run) works.
    let reopened = PostgresFileRepo::connect(&database.url, Arc::new(Notify::new()))
        .await
        .unwrap();
    assert_eq!(reopened.outbox().pending(100).await.unwrap().len(), 1);
    outbox_holds_the_delete_event(repo.outbox(), &wake).await;
}

#[tokio::test]
async fn postgres_repo_on_a_closed_port_fails_to_connect() {
    let started = Instant::now();
    let result = PostgresFileRepo::connect(
        "postgres://postgres@127.0.0.1:1/none",
        Arc::new(Notify::new()),
    )
    .await;
    assert!(result.is_err());
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn a_lost_database_is_unavailable_not_internal() {
    let database = TestDatabase::create().await;
    let repo = PostgresFileRepo::connect(&database.url, Arc::new(Notify::new()))
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
