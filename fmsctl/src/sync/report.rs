//! What a sync (or `download -r`) says: a line per file done or failed as it happens, then a
//! summary; with `--json`, one [`Report`] document on stdout whose field names are stable
//! (README, "fmsctl sync").

use serde::Serialize;

use super::plan::{Conflict, Deletion, Plan, Transfer};
use crate::error::Exit;
use crate::exit;
use crate::hash_cache::HashCounts;
use crate::output::{human_bytes, Output};

/// Which way the bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Local → remote.
    Upload,
    /// Remote → local.
    Download,
}

impl Direction {
    /// The verb of the lines printed per file.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Upload => "uploaded",
            Self::Download => "downloaded",
        }
    }

    /// The verb of the dry run's lines.
    pub fn infinitive(self) -> &'static str {
        match self {
            Self::Upload => "upload",
            Self::Download => "download",
        }
    }
}

/// A file that arrived, checked.
#[derive(Debug, Clone, Serialize)]
pub struct Done {
    /// Relative path.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Its SHA-256, as the server has it.
    pub sha256: String,
}

/// Something that failed, with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct Failed {
    /// Relative path (or the remote path of a name the server sent that cannot be used).
    pub path: String,
    /// Why, one line.
    pub error: String,
    /// The exit code's name (`not_found`, `conflict`, ...).
    pub code: &'static str,
}

/// What carrying out a plan did.
#[derive(Default)]
pub struct Outcome {
    /// Files that arrived.
    pub transferred: Vec<Done>,
    /// Entries deleted at the destination.
    pub deleted: Vec<String>,
    /// Folders made at the destination.
    pub folders: Vec<String>,
    /// What failed, with its error; the first of the most specific kind sets the exit code.
    pub failed: Vec<(String, anyhow::Error)>,
}

impl Outcome {
    /// Records a failure and prints it (text mode) at once.
    pub fn fail(&mut self, output: Output, path: String, error: anyhow::Error) {
        if !output.json {
            output.notice(format_args!(
                "{path}: {}",
                crate::output::one_line(&format!("{error:#}"))
            ));
        }
        self.failed.push((path, error));
    }
}

/// The `--json` document of a sync or `download -r`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// SRC as given.
    pub source: String,
    /// DST as given.
    pub destination: String,
    /// `upload` or `download`.
    pub direction: Direction,
    /// Whether only the plan was made.
    pub dry_run: bool,
    /// Planned: entries to delete at the destination.
    pub deletions: Vec<Deletion>,
    /// Planned: folders to create.
    pub folders: Vec<String>,
    /// Planned: files to send.
    pub transfers: Vec<Transfer>,
    /// Paths left alone: file against folder without `--delete`.
    pub conflicts: Vec<Conflict>,
    /// Files already the same.
    pub unchanged: u64,
    /// Entries left out by `--exclude`.
    pub excluded: u64,
    /// Local entries that cannot be sent (symlinked folders, special files).
    pub skipped: Vec<String>,
    /// The bytes of the planned transfers.
    pub transfer_bytes: u64,
    /// Done: files that arrived, checked.
    pub transferred: Vec<Done>,
    /// Done: how many files arrived.
    pub transferred_files: u64,
    /// Done: their bytes.
    pub transferred_bytes: u64,
    /// Done: how many entries were deleted.
    pub deleted: u64,
    /// What failed.
    pub failed: Vec<Failed>,
    /// How local files were hashed: `cache_hits`, `files_read`, `bytes_read`.
    pub hashing: HashCounts,
}

/// Everything [`finish`] needs to say.
pub struct Summary<'a> {
    /// SRC as given.
    pub source: &'a str,
    /// DST as given.
    pub destination: &'a str,
    /// Which way.
    pub direction: Direction,
    /// `--dry-run`.
    pub dry_run: bool,
    /// The plan.
    pub plan: Plan,
    /// `--exclude`d entries.
    pub excluded: u64,
    /// Local entries not sent.
    pub skipped: Vec<String>,
    /// The hash cache's counts.
    pub hashing: HashCounts,
    /// Seconds the work took.
    pub seconds: f64,
}

/// Prints the dry run's plan, line by line (text mode).
pub fn print_plan(output: Output, direction: Direction, plan: &Plan) -> anyhow::Result<()> {
    if output.json {
        return Ok(());
    }
    let verb = direction.infinitive();
    for deletion in &plan.deletions {
        output.print_line(format_args!("would delete {}", deletion.path))?;
    }
    for folder in &plan.folders {
        output.print_line(format_args!("would create folder {folder}"))?;
    }
    for transfer in &plan.transfers {
        let reason = match transfer.reason {
            super::plan::Reason::New => "new",
            super::plan::Reason::Changed => "changed",
        };
        output.print_line(format_args!(
            "would {verb} {} ({reason}, {})",
            transfer.path,
            human_bytes(transfer.size)
        ))?;
    }
    Ok(())
}

/// Prints the summary (or the JSON report) and turns failures into the command's error: the
/// first failure of the most specific kind (any code but 1), else the first.
pub fn finish(output: Output, summary: Summary<'_>, outcome: Outcome) -> anyhow::Result<()> {
    let Summary {
        source,
        destination,
        direction,
        dry_run,
        plan,
        excluded,
        skipped,
        hashing,
        seconds,
    } = summary;
    let conflicts = plan.conflicts.clone();
    let mut failures: Vec<(String, anyhow::Error)> = conflicts
        .iter()
        .map(|conflict| {
            let error = anyhow::Error::new(crate::error::ConflictError(conflict.message.clone()));
            (conflict.path.clone(), error)
        })
        .collect();
    failures.extend(outcome.failed);
    let transferred_bytes: u64 = outcome.transferred.iter().map(|done| done.size).sum();
    let transferred_files = outcome.transferred.len() as u64;
    if output.json {
        let failed = failures
            .iter()
            .map(|(path, error)| Failed {
                path: path.clone(),
                error: crate::output::one_line(&format!("{error:#}")),
                code: exit::classify(error).name(),
            })
            .collect();
        output.print_json(&Report {
            source: source.to_owned(),
            destination: destination.to_owned(),
            direction,
            dry_run,
            transfer_bytes: plan.transfer_bytes(),
            deletions: plan.deletions,
            folders: plan.folders,
            transfers: plan.transfers,
            conflicts,
            unchanged: plan.unchanged,
            excluded,
            skipped,
            transferred: outcome.transferred,
            transferred_files,
            transferred_bytes,
            deleted: outcome.deleted.len() as u64,
            failed,
            hashing,
        })?;
    } else {
        for conflict in &conflicts {
            output.notice(&conflict.message);
        }
        let hashes = format!(
            "local hashes: {} from the cache, {} files read",
            hashing.cache_hits, hashing.files_read
        );
        if dry_run {
            output.info(format_args!(
                "dry run: {} to {} ({}), {} to delete, {} folders to create, {} unchanged; {hashes}",
                plan.transfers.len(),
                direction.infinitive(),
                human_bytes(plan.transfer_bytes()),
                plan.deletions.len(),
                plan.folders.len(),
                plan.unchanged,
            ))?;
        } else {
            output.info(format_args!(
                "{source} → {destination}: {transferred_files} files {} ({} in {seconds:.1} s), \
                 {} deleted, {} folders created, {} unchanged, {} failed; {hashes}",
                direction.verb(),
                human_bytes(transferred_bytes),
                outcome.deleted.len(),
                outcome.folders.len(),
                plan.unchanged,
                failures.len(),
            ))?;
        }
    }
    let n_failed = failures.len();
    if n_failed == 0 {
        return Ok(());
    }
    let index = failures
        .iter()
        .position(|(_, error)| exit::classify(error) != Exit::Failure)
        .unwrap_or(0);
    let (path, error) = failures.swap_remove(index);
    Err(error.context(format!(
        "{n_failed} failed ({path} among them); run the same command again to resume"
    )))
}
