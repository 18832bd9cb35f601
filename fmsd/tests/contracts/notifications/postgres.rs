//! The notifications store on PostgreSQL, each test in a database of its own.

use std::sync::Arc;

use diesel::{Connection, PgConnection, RunQueryDsl};
use fmsd::health::Probe;
use fmsd::notifications::adapters::postgres::PostgresNotificationRepo;
use fmsd::notifications::ports::NotificationRepo;

use super::repo_contract;
use crate::support;

/// A fresh database on the test server, dropped when this is.
pub struct TestDatabase {
    /// `FMS_TEST_POSTGRES_URL`, the server's admin database.
    admin_url: String,
    /// The database's name.
    name: String,
    /// The URL of the database itself.
    pub url: String,
}

impl TestDatabase {
    /// Creates a database no other test uses.
    pub async fn create() -> Self {
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
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Best effort: a database left behind after a failure is harmless, named fms_test_*.
        if let Ok(mut connection) = PgConnection::establish(&self.admin_url) {
            let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = diesel::sql_query(statement).execute(&mut connection);
        }
    }
}

#[tokio::test]
async fn postgres_repo_keeps_the_repo_contract() {
    let database = TestDatabase::create().await;
    let repo = PostgresNotificationRepo::connect(&database.url)
        .await
        .unwrap();
    repo.probe().await.unwrap();
    let remembered = repo_contract(Arc::new(repo)).await;

    // The record outlives the connection, and connecting again (migrations already run) works.
    let reopened = PostgresNotificationRepo::connect(&database.url)
        .await
        .unwrap();
    assert!(reopened.already_handled(&remembered).await.unwrap());
}

#[tokio::test]
async fn postgres_repo_on_a_closed_port_fails_to_connect() {
    let started = std::time::Instant::now();
    let result = PostgresNotificationRepo::connect("postgres://postgres@127.0.0.1:1/none").await;
    assert!(result.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}

#[cfg(feature = "smtp")]
#[tokio::test]
async fn service_over_smtp_and_postgres_mails_each_event_once() {
    let database = TestDatabase::create().await;
    let repo = PostgresNotificationRepo::connect(&database.url)
        .await
        .unwrap();
    super::service_contract(
        super::smtp::maildev_mailer(),
        Arc::new(repo),
        &super::smtp::Maildev::from_env(),
    )
    .await;
}
