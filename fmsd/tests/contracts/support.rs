//! Where the real servers are, and per-test isolation on them.
//!
//! Connection settings come from `FMS_TEST_*` variables, or else from
//! `target/services/services.env`, which `scripts/services.sh start` writes. A missing setting
//! or an unreachable server is a test failure with a message that says how to start them.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The settings `scripts/services.sh` wrote, parsed once.
fn services_env() -> &'static HashMap<String, String> {
    static ENV: OnceLock<HashMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/services/services.env");
        let Ok(text) = std::fs::read_to_string(path) else {
            return HashMap::new();
        };
        text.lines()
            .filter_map(|line| line.trim().trim_start_matches("export ").split_once('='))
            .map(|(key, value)| {
                (
                    key.trim().to_owned(),
                    value.trim().trim_matches(['"', '\'']).to_owned(),
                )
            })
            .collect()
    })
}

/// The real-server setting `name` (e.g. `FMS_TEST_POSTGRES_URL`); panics with directions if unset.
pub fn require(name: &str) -> String {
    std::env::var(name)
        .ok()
        .or_else(|| services_env().get(name).cloned())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set: start the real servers with `scripts/services.sh start` \
             (or run `scripts/test.sh`, which does)"
            )
        })
}

/// A name no other test uses, for databases, topic prefixes, key prefixes.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

#[cfg(feature = "postgres")]
use diesel::{Connection, PgConnection, RunQueryDsl};

#[cfg(feature = "postgres")]
/// A fresh database on the test server, dropped when this is.
pub struct TestDatabase {
    /// `FMS_TEST_POSTGRES_URL`, the server's admin database.
    admin_url: String,
    /// The database's name.
    name: String,
    /// The URL of the database itself.
    pub url: String,
}

#[cfg(feature = "postgres")]
impl TestDatabase {
    /// The database as a store URL, for the stores' `open`.
    pub fn store_url(&self) -> fmsd::store_url::StoreUrl {
        fmsd::store_url::StoreUrl::Postgres(self.url.clone())
    }

    /// Creates a database no other test uses.
    pub async fn create() -> Self {
        let admin_url = require("FMS_TEST_POSTGRES_URL");
        let name = unique("fms_test_");
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
    pub fn drop_now(&self) {
        // Best effort: a database left behind after a failure is harmless, named fms_test_*.
        if let Ok(mut connection) = PgConnection::establish(&self.admin_url) {
            let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = diesel::sql_query(statement).execute(&mut connection);
        }
    }
}

#[cfg(feature = "postgres")]
impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.drop_now();
    }
}
