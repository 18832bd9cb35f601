//! `fmsctl sync SRC DST [--delete] [--dry-run] [--exclude GLOB]...`: make DST a copy of SRC,
//! one way, sending only what differs (size, then SHA-256).
//!
//! Exactly one side is remote. A remote side is written `fms:PATH` (my own files; `fms:` alone
//! is `/`) or `shared:NAME[/PATH]` (inside an item shared with me, as the other commands write
//! it); anything else is a local folder (`./fms:x` for a local folder with such a name). Both
//! sides name folders, and DST's contents become SRC's: `sync ~/photos fms:/photos` twice in a
//! row sends nothing the second time. The remote side's SHA-256 comes from its listing; the
//! local side's from the hash cache (`crate::hash_cache`), read again only for files whose
//! size or mtime changed. [`pull`] is also `download -r`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::cli::SyncArgs;
use crate::client::{AtPath, Client, Origin};
use crate::error::UsageError;
use crate::hash_cache::HashCache;
use crate::output::Output;
use crate::remote::{self, Located};
use crate::remote_path::{self, RemoteSpec, Shown};
use crate::sync::exclude::Excludes;
use crate::sync::local::{self, LocalRoot, Role};
use crate::sync::plan::{compare, fill_local_hashes};
use crate::sync::pull::Pull;
use crate::sync::push::Push;
use crate::sync::remote::Refused;
use crate::sync::report::{self, Direction, Outcome, Summary};
use crate::sync::{self as tree_sync, Listing};

/// What marks my own remote files in a sync: `fms:/photos`.
pub const REMOTE_PREFIX: &str = "fms:";

/// One side of a sync, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Side {
    /// A local folder.
    Local(PathBuf),
    /// A remote folder, in the syntax [`remote::locate`] takes.
    Remote(String),
}

fn side(text: &str) -> Result<Side, UsageError> {
    if let Some(path) = text.strip_prefix(REMOTE_PREFIX) {
        return Ok(Side::Remote(remote_path::normalize(path)));
    }
    match remote_path::parse(text)? {
        RemoteSpec::Shared { .. } => Ok(Side::Remote(text.to_owned())),
        RemoteSpec::Link { .. } => Err(UsageError(format!(
            "{text}: a link cannot be synced; download what it leads to with \
             `fmsctl download -r URL LOCAL_DIR`"
        ))),
        RemoteSpec::Own(_) => Ok(Side::Local(PathBuf::from(text))),
    }
}

/// Syncs and reports.
pub async fn run(client: Arc<Client>, output: Output, args: SyncArgs) -> anyhow::Result<()> {
    let excludes = Excludes::new(&args.exclude)?;
    let options = Options {
        delete: args.delete,
        dry_run: args.dry_run,
        parallel: usize::from(args.parallel),
        excludes,
    };
    match (side(&args.source)?, side(&args.destination)?) {
        (Side::Local(local), Side::Remote(remote)) => {
            let located = remote::locate(&client, &remote).await?;
            push(client, output, &args, &local, located, &options).await
        }
        (Side::Remote(remote), Side::Local(local)) => {
            let located = remote::locate(&client, &remote).await?;
            let label = located.label();
            let (source, refused) =
                tree_sync::remote::listing(&client, located.tree, &located.path, &label)
                    .await?
                    .ok_or_else(|| {
                        crate::error::NotFoundError(format!("{label}: no such remote folder"))
                    })?;
            let job = PullJob {
                source_label: args.source.clone(),
                destination_label: args.destination.clone(),
                origin: located.tree.into(),
                remote_root: located.path,
                shown: located.shown,
                source,
                refused,
                skipped: Vec::new(),
                local,
            };
            pull(&client, output, job, &options).await
        }
        (Side::Local(_), Side::Local(_)) => Err(UsageError(format!(
            "neither {} nor {} is remote: write the remote side as {REMOTE_PREFIX}PATH or \
             shared:NAME/PATH",
            args.source, args.destination
        ))
        .into()),
        (Side::Remote(_), Side::Remote(_)) => Err(UsageError(
            "both sides are remote: one side of a sync must be a local folder".into(),
        )
        .into()),
    }
}

/// How a copy goes.
pub struct Options {
    /// Delete what the destination has beyond the source.
    pub delete: bool,
    /// Only say what would be done.
    pub dry_run: bool,
    /// Files (and parts) in flight at once.
    pub parallel: usize,
    /// What is left alone on both sides.
    pub excludes: Excludes,
}

/// A remote tree, already listed, to copy into a local folder.
pub struct PullJob {
    /// SRC as given, for the report.
    pub source_label: String,
    /// DST as given, for the report.
    pub destination_label: String,
    /// Where the remote tree is read from.
    pub origin: Origin,
    /// The remote folder the listing's paths are relative to.
    pub remote_root: String,
    /// How its paths appear in messages.
    pub shown: Shown,
    /// The remote tree.
    pub source: Listing,
    /// Remote entries whose names cannot become local paths.
    pub refused: Vec<Refused>,
    /// Remote entries not copied, to report.
    pub skipped: Vec<String>,
    /// The local folder.
    pub local: PathBuf,
}

/// Copies a listed remote tree into a local folder (`sync REMOTE LOCAL`, `download -r`).
pub async fn pull(
    client: &Client,
    output: Output,
    mut job: PullJob,
    options: &Options,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let cache = HashCache::open();
    let excluded = options.excludes.apply(&mut job.source);
    let root = absolute(&job.local)?;
    let mut destination = if options.delete {
        let mut ignored = Vec::new();
        local::walk(&root, Role::Destination, &mut ignored)?
    } else {
        local::probe(&root, job.source.keys())
    };
    options.excludes.apply(&mut destination);
    fill_local_hashes(&root, &mut destination, &job.source, &cache).await?;
    let plan = compare(&job.source, &destination, options.delete, true);
    let mut outcome = Outcome::default();
    for refused in job.refused {
        outcome.fail(
            output,
            job.shown.path(&refused.remote),
            anyhow::anyhow!("the server's name cannot be a local file name: not written"),
        );
    }
    for skipped in &job.skipped {
        output.notice(format_args!("skipped {skipped}"));
    }
    if options.dry_run {
        report::print_plan(output, Direction::Download, &plan)?;
    } else {
        let local_root = LocalRoot::create(&job.local)?;
        let pull = Pull {
            client,
            origin: job.origin.clone(),
            remote_root: job.remote_root.clone(),
            shown: job.shown.clone(),
            local: local_root,
            parallel: options.parallel,
            output,
            cache: &cache,
        };
        let done = pull.run(&plan).await;
        outcome.transferred = done.transferred;
        outcome.deleted = done.deleted;
        outcome.folders = done.folders;
        outcome.failed.extend(done.failed);
    }
    save(&cache);
    let summary = Summary {
        source: &job.source_label,
        destination: &job.destination_label,
        direction: Direction::Download,
        dry_run: options.dry_run,
        plan,
        excluded,
        skipped: job.skipped,
        hashing: cache.counts(),
        seconds: started.elapsed().as_secs_f64(),
    };
    report::finish(output, summary, outcome)
}

async fn push(
    client: Arc<Client>,
    output: Output,
    args: &SyncArgs,
    local: &Path,
    located: Located,
    options: &Options,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let cache = HashCache::open();
    let root =
        std::fs::canonicalize(local).with_context(|| format!("cannot sync {}", local.display()))?;
    let mut skipped = Vec::new();
    let mut source = local::walk(&root, Role::Source, &mut skipped)?;
    let excluded = options.excludes.apply(&mut source);
    let label = located.label();
    let listed = tree_sync::remote::listing(&client, located.tree, &located.path, &label).await?;
    let exists = listed.is_some();
    let mut destination = listed.map(|(listing, _)| listing).unwrap_or_default();
    options.excludes.apply(&mut destination);
    fill_local_hashes(&root, &mut source, &destination, &cache).await?;
    let plan = compare(&source, &destination, options.delete, false);
    for skipped in &skipped {
        output.notice(format_args!("skipped {skipped}"));
    }
    let mut outcome = Outcome::default();
    if options.dry_run {
        report::print_plan(output, Direction::Upload, &plan)?;
    } else {
        if !exists && located.path != "/" {
            client
                .mkdir(located.tree, &located.path, true)
                .await
                .at_path(&label)?;
        }
        let push = Push {
            client: Arc::clone(&client),
            tree: located.tree,
            remote_root: located.path.clone(),
            shown: located.shown.clone(),
            local_root: root,
            parallel: options.parallel,
            output,
            cache: &cache,
        };
        outcome = push.run(&plan).await;
    }
    save(&cache);
    let summary = Summary {
        source: &args.source,
        destination: &args.destination,
        direction: Direction::Upload,
        dry_run: options.dry_run,
        plan,
        excluded,
        skipped,
        hashing: cache.counts(),
        seconds: started.elapsed().as_secs_f64(),
    };
    report::finish(output, summary, outcome)
}

/// The local folder as the hash cache names it: resolved when it exists (as
/// [`LocalRoot::create`] resolves it), else made absolute.
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(path) => Ok(path),
        Err(_) => std::path::absolute(path)
            .with_context(|| format!("failed to resolve {}", path.display())),
    }
}

fn save(cache: &HashCache) {
    if let Err(error) = cache.save() {
        // Only the next run's speed depends on it.
        tracing::warn!(error = %format!("{error:#}"), "could not save the hash cache");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remote_side_is_marked() {
        assert_eq!(side("fms:/photos").unwrap(), Side::Remote("/photos".into()));
        assert_eq!(side("fms:").unwrap(), Side::Remote("/".into()));
        assert_eq!(
            side("shared:team/docs").unwrap(),
            Side::Remote("shared:team/docs".into())
        );
        assert_eq!(side("/home/ann").unwrap(), Side::Local("/home/ann".into()));
        assert_eq!(side("./fms:x").unwrap(), Side::Local("./fms:x".into()));
        assert!(side("https://h/s/tok").is_err());
    }
}
