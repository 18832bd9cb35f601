//! The notifications store in SQLite: which events were mailed.

use std::path::Path;

use async_trait::async_trait;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

use crate::db::outbox::{already_handled, remember_handled};
use crate::db::Sqlite;
use crate::error::Result;
use crate::notifications::ports::NotificationRepo;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/notifications");

/// The consumer name its processed-event records are kept under.
const CONSUMER: &str = "fms-notifications";

/// The notifications database.
#[derive(Debug, Clone)]
pub struct SqliteNotificationRepo {
    /// The service's own database file.
    db: Sqlite,
}

impl SqliteNotificationRepo {
    /// Opens (or creates and migrates) the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            db: Sqlite::open(path, MIGRATIONS)?,
        })
    }

    /// The database, for `/readyz`.
    pub fn db(&self) -> Sqlite {
        self.db.clone()
    }
}

#[async_trait]
impl NotificationRepo for SqliteNotificationRepo {
    async fn already_handled(&self, event_id: &str) -> Result<bool> {
        let event_id = event_id.to_owned();
        self.db
            .run(move |connection| already_handled(connection, CONSUMER, &event_id))
            .await
    }

    async fn remember_handled(&self, event_id: &str) -> Result<()> {
        let event_id = event_id.to_owned();
        self.db
            .run(move |connection| remember_handled(connection, CONSUMER, &event_id))
            .await
    }
}
