//! The sharing contract on PostgreSQL, in a database of its own (created on the server at
//! `FMS_TEST_POSTGRES_URL`, dropped at the end), so it runs in parallel with other tests.

use std::sync::Arc;

use fmsd::files::adapters::sql::SqlFileRepo;
use tokio::sync::Notify;

use super::sharing_repo_works;
use crate::support::TestDatabase;

#[tokio::test]
async fn postgres_repo_keeps_the_sharing_contract() {
    let database = TestDatabase::create().await;
    let repo = Arc::new(
        SqlFileRepo::open(&database.store_url(), Arc::new(Notify::new()))
            .await
            .unwrap(),
    );
    sharing_repo_works(repo.clone(), repo.clone(), Arc::new(repo.outbox())).await;
}
