//! The SQL layer's contract, written once and run on SQLite and on PostgreSQL: the same fault
//! is the same error on both engines (a unique violation is a conflict everywhere), recording
//! an event twice is harmless, and a write whose work fails leaves nothing behind.

use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use fmsd::db::{map_error, outbox, Database};
use fmsd::error::Error;

/// Any service's migrations will do: each creates the outbox and processed-event tables.
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/notifications");

/// The same, for PostgreSQL.
#[cfg(feature = "postgres")]
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/notifications-postgres");

const INSERT: &str = "INSERT INTO processed_events (consumer, event_id) VALUES ('c', 'e')";

async fn sql_layer_works(db: Database) {
    db.ping().await.unwrap();
    db.write(|connection| {
        diesel::sql_query(INSERT).execute(connection)?;
        Ok(())
    })
    .await
    .unwrap();

    // A unique violation is a conflict that says what the caller says, and `?` maps it too.
    let named = db
        .write(|connection| {
            diesel::sql_query(INSERT)
                .execute(connection)
                .map_err(|error| map_error(error, "'e' was handled"))?;
            Ok(())
        })
        .await;
    assert!(
        matches!(&named, Err(Error::Conflict(message)) if message == "'e' was handled"),
        "{named:?}"
    );
    let plain = db
        .write(|connection| {
            diesel::sql_query(INSERT).execute(connection)?;
            Ok(())
        })
        .await;
    assert!(matches!(plain, Err(Error::Conflict(_))), "{plain:?}");

    // Recording a handled event again changes nothing.
    db.write(|connection| outbox::remember_handled(connection, "c", "e"))
        .await
        .unwrap();
    assert!(db
        .run(|connection| outbox::already_handled(connection, "c", "e"))
        .await
        .unwrap());

    // A write whose work fails after a first statement is rolled back whole.
    let failed = db
        .write(|connection| {
            outbox::remember_handled(connection, "c", "half")?;
            Err::<(), _>(Error::Invalid("the rest of the write is refused".into()))
        })
        .await;
    assert!(matches!(failed, Err(Error::Invalid(_))), "{failed:?}");
    assert!(!db
        .run(|connection| outbox::already_handled(connection, "c", "half"))
        .await
        .unwrap());

    // A fault of ours is internal, not a conflict and not "unavailable".
    let broken = db
        .run(|connection| {
            diesel::sql_query("SELECT * FROM no_such_table").execute(connection)?;
            Ok(())
        })
        .await;
    assert!(matches!(broken, Err(Error::Internal(_))), "{broken:?}");
}

#[tokio::test]
async fn sqlite_keeps_the_sql_layer_contract() {
    let dir = tempfile::tempdir().unwrap();
    sql_layer_works(Database::sqlite(&dir.path().join("any.db"), SQLITE).unwrap()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_keeps_the_sql_layer_contract() {
    let database = crate::support::TestDatabase::create().await;
    sql_layer_works(Database::postgres(&database.url, POSTGRES).await.unwrap()).await;
}
