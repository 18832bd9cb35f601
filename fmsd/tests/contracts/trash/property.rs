//! A property of the trash on both engines: over any sequence of uploads, deletes into the
//! trash, restores, deletes from the trash and emptyings, the owner's usage (kept by triggers
//! in each change's transaction) is exactly what a model of the steps says, and what a walk of
//! the tree finds; and the quota check sees tree and trash together.

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use fmsd::error::Error;
use fmsd::files::adapters::sql::SqlFileRepo;
use fmsd::files::domain::{
    BlobKey, OverwritePolicy, RemotePath, RestoreTarget, StagingId, TrashItem, TrashSelection,
    Upload,
};
use fmsd::files::ports::UploadLimits;
use fmsd::store_url::StoreUrl;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tokio::sync::Notify;
use uuid::Uuid;

use super::{path, put_file, Repo};

/// The paths uploads go to: collisions on purpose, and folders to trash whole.
const SLOTS: &[&str] = &["/a.txt", "/b.txt", "/d/c.txt", "/d/e/f.txt", "/d/e/g.txt"];

/// One step.
#[derive(Debug, Clone)]
enum Step {
    /// A file of this size at this slot, if the slot is free.
    Upload(usize, u64),
    /// The n-th entry of the tree (by path) into the trash, folders whole.
    Trash(usize),
    /// The n-th item of the trash back where it was (or beside it).
    Restore(usize),
    /// The n-th item of the trash deleted for good.
    Purge(usize),
    /// Everything in the trash deleted for good.
    Empty,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..SLOTS.len(), 0..5000_u64).prop_map(|(slot, size)| Step::Upload(slot, size)),
        3 => (0..16_usize).prop_map(Step::Trash),
        2 => (0..16_usize).prop_map(Step::Restore),
        1 => (0..16_usize).prop_map(Step::Purge),
        1 => Just(Step::Empty),
    ]
}

/// What the steps say the owner holds.
#[derive(Debug, Default)]
struct Model {
    /// Bytes of the tree's files.
    tree_bytes: u64,
    /// Items of the trash, oldest first.
    trash: Vec<TrashItem>,
}

impl Model {
    fn trash_bytes(&self) -> u64 {
        self.trash.iter().map(|item| item.size).sum()
    }
}

/// Every entry of `owner`'s tree: (path, is a folder, size), by path.
async fn walk<R: Repo>(repo: &Arc<R>, owner: Uuid) -> Result<Vec<(RemotePath, bool, u64)>, Error> {
    let mut found = Vec::new();
    let mut folders = vec![RemotePath::root()];
    while let Some(folder) = folders.pop() {
        for node in repo.list(owner, &folder, None, 1000).await? {
            if node.is_folder() {
                folders.push(node.path.clone());
            }
            found.push((node.path.clone(), node.is_folder(), node.size));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

fn check(condition: bool, what: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if condition {
        Ok(())
    } else {
        Err(TestCaseError::fail(what()))
    }
}

fn failed(error: Error) -> TestCaseError {
    TestCaseError::fail(format!("{error:?}"))
}

/// Runs `steps` for a fresh owner and checks the usage after each.
async fn run_steps<R: Repo>(
    repo: &Arc<R>,
    steps: &[Step],
    now: DateTime<Utc>,
) -> Result<(), TestCaseError> {
    let owner = Uuid::new_v4();
    let mut model = Model::default();
    for step in steps {
        match step {
            Step::Upload(slot, size) => {
                let at = path(SLOTS[*slot]);
                if repo.get(owner, &at).await.map_err(failed)?.is_none() {
                    let parent = at.parent().unwrap_or_else(RemotePath::root);
                    if !parent.is_root() {
                        repo.mkdir(owner, &parent, true, now)
                            .await
                            .map_err(failed)?;
                    }
                    put_file(repo, owner, SLOTS[*slot], *size, now).await;
                    model.tree_bytes += size;
                }
            }
            Step::Trash(n) => {
                let entries = walk(repo, owner).await.map_err(failed)?;
                if entries.is_empty() {
                    continue;
                }
                let (at, _, _) = &entries[n % entries.len()];
                let inside: u64 = entries
                    .iter()
                    .filter(|(other, _, _)| other.starts_with(at))
                    .map(|(_, _, size)| size)
                    .sum();
                let trashed = repo
                    .trash_entry(owner, at, true, owner, now, Box::new(|_| Vec::new()))
                    .await
                    .map_err(failed)?;
                check(trashed.item.size == inside, || {
                    format!(
                        "{at} holds {inside} bytes, its item says {}",
                        trashed.item.size
                    )
                })?;
                model.tree_bytes -= inside;
                model.trash.push(trashed.item);
            }
            Step::Restore(n) => {
                if model.trash.is_empty() {
                    continue;
                }
                let item = model.trash.remove(n % model.trash.len());
                let restored = repo
                    .restore(
                        owner,
                        item.id,
                        RestoreTarget::Original,
                        now,
                        Box::new(|_| Vec::new()),
                    )
                    .await
                    .map_err(failed)?;
                check(restored.node.id == item.node_id, || {
                    format!("{} came back with another id", item.path)
                })?;
                model.tree_bytes += item.size;
            }
            Step::Purge(n) => {
                if model.trash.is_empty() {
                    continue;
                }
                let item = model.trash.remove(n % model.trash.len());
                let purge = repo
                    .purge_trash(
                        owner,
                        TrashSelection::Item(item.id),
                        Box::new(|_| Vec::new()),
                    )
                    .await
                    .map_err(failed)?;
                check(purge.removal.bytes_freed == item.size, || {
                    format!("purging {} freed {}", item.size, purge.removal.bytes_freed)
                })?;
            }
            Step::Empty => {
                let purge = repo
                    .purge_trash(owner, TrashSelection::All, Box::new(|_| Vec::new()))
                    .await
                    .map_err(failed)?;
                check(purge.removal.bytes_freed == model.trash_bytes(), || {
                    format!(
                        "emptying {} freed {}",
                        model.trash_bytes(),
                        purge.removal.bytes_freed
                    )
                })?;
                model.trash.clear();
            }
        }

        // The counters are what the model and a walk of the tree say.
        let usage = repo.usage(owner, now).await.map_err(failed)?;
        let entries = walk(repo, owner).await.map_err(failed)?;
        let walked_bytes: u64 = entries.iter().map(|(_, _, size)| size).sum();
        let n_files = entries.iter().filter(|(_, folder, _)| !folder).count() as u64;
        let n_folders = entries.iter().filter(|(_, folder, _)| *folder).count() as u64;
        check(
            (
                usage.used_bytes,
                usage.trash_bytes,
                usage.n_trashed,
                usage.n_files,
                usage.n_folders,
            ) == (
                model.tree_bytes,
                model.trash_bytes(),
                model.trash.len() as u64,
                n_files,
                n_folders,
            ) && walked_bytes == model.tree_bytes,
            || format!("after {step:?}: {usage:?}, model {model:?}, walked {walked_bytes}"),
        )?;
        let listed = repo.trash_items(owner, None, 1000).await.map_err(failed)?;
        check(listed.len() == model.trash.len(), || {
            format!("after {step:?}: {} items listed", listed.len())
        })?;

        // The quota holds tree and trash: exactly what is left fits, one byte more does not.
        let stored = usage.stored_bytes();
        let quota = stored + 10;
        let session = |size| Upload {
            id: Uuid::new_v4(),
            owner,
            path: path("/probe"),
            size,
            sha256: None,
            overwrite: OverwritePolicy::Fail,
            part_size: size.max(1),
            blob_key: BlobKey::generate(),
            staging_id: StagingId(Uuid::new_v4().simple().to_string()),
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
            grant: None,
        };
        let too_big = repo
            .insert_upload(&session(11), UploadLimits::quota(quota), now)
            .await;
        check(matches!(too_big, Err(Error::QuotaExceeded(_))), || {
            format!("after {step:?}: 11 bytes over a quota of {quota}: {too_big:?}")
        })?;
        let fits = session(10);
        repo.insert_upload(&fits, UploadLimits::quota(quota), now)
            .await
            .map_err(failed)?;
        repo.abort_upload(owner, fits.id).await.map_err(failed)?;
    }
    Ok(())
}

/// Runs the property on `repo`, `cases` sequences of up to 24 steps, each for a new owner.
fn property_holds<R: Repo>(open: impl FnOnce(&tokio::runtime::Runtime) -> Arc<R>, cases: u32) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let repo = open(&runtime);
    let now = Utc::now().trunc_subsecs(6);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(step(), 1..24), |steps| {
        runtime.block_on(run_steps(&repo, &steps, now))
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[test]
fn usage_stays_exact_through_trash_restore_and_purge_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    property_holds(
        |runtime| {
            Arc::new(
                runtime
                    .block_on(SqlFileRepo::open(
                        &StoreUrl::Sqlite(dir.path().join("files.db")),
                        Arc::new(Notify::new()),
                    ))
                    .unwrap(),
            )
        },
        64,
    );
}

#[cfg(feature = "postgres")]
#[test]
fn usage_stays_exact_through_trash_restore_and_purge_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = runtime.block_on(crate::support::TestDatabase::create());
    drop(runtime);
    property_holds(
        |runtime| {
            Arc::new(
                runtime
                    .block_on(SqlFileRepo::open(
                        &database.store_url(),
                        Arc::new(Notify::new()),
                    ))
                    .unwrap(),
            )
        },
        24,
    );
}
