//! `fmsctl upload [-r] [--overwrite] [--parallel N] LOCAL... [REMOTE_DIR]`, and
//! `fmsctl upload - REMOTE_FILE` for stdin.
//!
//! With two or more paths the last one is the remote folder (as with scp); alone, a path goes
//! to `/`. Folders (with `-r`) are recreated remotely first, then the files go: small ones
//! (up to 4 MiB) by the hundred, each batch's sessions created and completed in one request
//! each, the others a few at a time, their parts sharing `--parallel` slots. Every file is tried and reported, uploaded or
//! failed; the first failure sets the exit code, and running the command again resumes every
//! unfinished file where it stopped.
//!
//! The remote folder may be inside a share (`shared:NAME/PATH`, as an editor), or a file
//! request link (`https://HOST/s/TOKEN`, no login): files only, each under its own name or, if
//! that is taken, a free variant the server picks and does not tell (the owner sees it).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use std::time::Instant;

use common::api::sharing::LinkMode;
use common::api::{Entry, Overwrite};
use futures::StreamExt;
use indicatif::ProgressBar;

use super::download::rate;
use crate::cli::UploadArgs;
use crate::client::{AtPath, Client, Tree, UploadTarget};
use crate::error::UsageError;
use crate::output::{human_bytes, Output};
use crate::progress::Progress;
use crate::remote;
use crate::remote_path::{self, RemoteSpec, Shown};
use crate::transfer::batch::{BatchUploader, FILES_PER_BATCH, SMALL_FILE_BYTES};
use crate::transfer::plan::{plan_upload, PlannedFile};
use crate::transfer::spool::spool;
use crate::transfer::upload::Uploader;

/// At most this many large files are in progress at once (hashing one while sending another).
const FILES_AT_ONCE: usize = 4;

/// Batches of small files in progress at once: one sends its parts while another's sessions
/// are created or completed.
const BATCHES_AT_ONCE: usize = 2;

/// Uploads and prints the entries made.
pub async fn run(client: Arc<Client>, output: Output, mut args: UploadArgs) -> anyhow::Result<()> {
    let (locals, remote) = split_arguments(std::mem::take(&mut args.paths))?;
    if locals.iter().any(|local| local.as_os_str() == "-") {
        let (folder, name) = stdin_target(&locals, remote.as_deref())?;
        if std::io::stdin().is_terminal() {
            return Err(UsageError(
                "`fmsctl upload -` reads stdin, which is a terminal: pipe the data in".into(),
            )
            .into());
        }
        let spooled = tokio::task::spawn_blocking(move || spool(std::io::stdin().lock(), &name))
            .await
            .context("reading stdin failed")??;
        args.paths = vec![spooled.path.clone(), PathBuf::from(folder)];
        return Box::pin(run(client, output, args)).await;
    }
    let (target, shown, remote_dir) =
        destination(&client, remote.as_deref(), &locals, &args).await?;
    let plan = plan_upload(&locals, &remote_dir, args.recursive)?;
    for skipped in &plan.skipped {
        output.notice(format_args!("skipped {skipped}"));
    }
    if let UploadTarget::Tree(tree) = target {
        for folder in &plan.folders {
            client
                .mkdir(tree, folder, true)
                .await
                .at_path(&shown.path(folder))?;
        }
    }

    let progress = Progress::new(output);
    let total_bytes = plan.total_bytes();
    let total_bar = if plan.files.len() > 1 {
        progress.total_bar(total_bytes, plan.files.len())
    } else {
        ProgressBar::hidden()
    };
    let overwrite = if args.overwrite {
        Overwrite::Replace
    } else {
        Overwrite::Fail
    };
    let parallel = usize::from(args.parallel);

    let started = Instant::now();
    let single = plan.files.len() == 1;
    // Several small files into a tree go by the batch; the others one by one.
    let batcher = match &target {
        UploadTarget::Tree(tree) if !single => Some(BatchUploader::new(
            Arc::clone(&client),
            (*tree, shown.clone()),
            overwrite,
            parallel,
            total_bar.clone(),
        )),
        _ => None,
    };
    let (small, large): (Vec<_>, Vec<_>) = plan
        .files
        .iter()
        .enumerate()
        .partition(|(_, file)| batcher.is_some() && file.size <= SMALL_FILE_BYTES);
    let uploader = Uploader::new(
        Arc::clone(&client),
        target,
        overwrite,
        parallel,
        progress.clone(),
        total_bar.clone(),
        output,
    )
    .showing(shown.clone());
    let uploader = &uploader;
    let batcher = &batcher;
    let progress_ref = &progress;
    let shown = &shown;
    let noted = move |file: &PlannedFile, outcome: anyhow::Result<Entry>, seconds: Option<f64>| {
        note(output, progress_ref, shown, file, outcome, seconds)
    };
    let noted = &noted;
    // Every file is tried and every outcome reported, so a batch that fails part-way says
    // exactly what arrived; the first failure decides the exit code.
    let one_by_one = futures::stream::iter(large)
        .map(|(index, file)| async move {
            let file_started = Instant::now();
            let outcome = uploader.upload(file).await;
            let seconds = single.then(|| file_started.elapsed().as_secs_f64());
            (index, noted(file, outcome, seconds))
        })
        .buffer_unordered(FILES_AT_ONCE.min(parallel))
        .collect::<Vec<_>>();
    let by_batch = futures::stream::iter(small.chunks(FILES_PER_BATCH))
        .map(|chunk| async move {
            let files: Vec<&PlannedFile> = chunk.iter().map(|(_, file)| *file).collect();
            let outcomes = match batcher {
                Some(batcher) => batcher.upload(&files).await,
                None => Vec::new(),
            };
            chunk
                .iter()
                .zip(outcomes)
                .map(|((index, file), outcome)| (*index, noted(file, outcome, None)))
                .collect::<Vec<_>>()
        })
        .buffer_unordered(BATCHES_AT_ONCE)
        .flat_map(futures::stream::iter)
        .collect::<Vec<_>>();
    let (mut outcomes, batched) = futures::join!(one_by_one, by_batch);
    outcomes.extend(batched);
    total_bar.finish_and_clear();
    outcomes.sort_by_key(|(index, _)| *index);
    let mut entries = Vec::new();
    let mut failures = Vec::new();
    for (_, outcome) in outcomes {
        match outcome {
            Ok(entry) => entries.push(entry),
            Err(error) => failures.push(error),
        }
    }
    if output.json {
        // stdout: what arrived, even when something failed (the error goes to stderr).
        output.print_json(&entries)?;
    }
    if let Some(first) = failures.into_iter().next() {
        let tried = plan.files.len();
        if tried > 1 {
            let failed = tried - entries.len();
            return Err(first.context(format!(
                "{failed} of {tried} files failed, {} uploaded; run the same command again to \
                 resume",
                entries.len()
            )));
        }
        return Err(first);
    }
    if output.json {
        return Ok(());
    }
    if entries.len() > 1 {
        let seconds = started.elapsed().as_secs_f64();
        output.info(format_args!(
            "uploaded {} files, {} in {seconds:.1} s ({}/s)",
            entries.len(),
            human_bytes(total_bytes),
            human_bytes(rate(total_bytes, seconds))
        ))?;
    }
    Ok(())
}

/// Reports one file's outcome as it arrives (a line, or a notice for a failure among several)
/// and passes it on; `seconds` is set for a lone file, whose line says how fast it went.
fn note(
    output: Output,
    progress: &Progress,
    shown: &Shown,
    file: &PlannedFile,
    outcome: anyhow::Result<Entry>,
    seconds: Option<f64>,
) -> anyhow::Result<Entry> {
    let outcome = outcome.and_then(|entry| {
        let to = shown.path(&entry.path);
        match seconds {
            Some(_) => report(output, file, &to, seconds)?,
            None => progress.suspend(|| report(output, file, &to, None))?,
        }
        Ok(entry)
    });
    if let Err(error) = &outcome {
        if seconds.is_none() && !output.json {
            progress.suspend(|| {
                output.notice(format_args!(
                    "{}: {}",
                    file.local.display(),
                    crate::output::one_line(&format!("{error:#}"))
                ))
            });
        }
    }
    outcome
}

fn report(
    output: Output,
    file: &PlannedFile,
    to: &str,
    seconds: Option<f64>,
) -> anyhow::Result<()> {
    match seconds {
        Some(seconds) => output.info(format_args!(
            "uploaded {} to {to} ({} in {seconds:.1} s, {}/s)",
            file.local.display(),
            human_bytes(file.size),
            human_bytes(rate(file.size, seconds))
        )),
        None => output.info(format_args!(
            "uploaded {} to {to} ({})",
            file.local.display(),
            human_bytes(file.size)
        )),
    }
}

/// Where the files go, how to show the remote paths, and the remote folder in that tree.
async fn destination(
    client: &Client,
    remote: Option<&str>,
    locals: &[PathBuf],
    args: &UploadArgs,
) -> anyhow::Result<(UploadTarget, Shown, String)> {
    let Some(remote) = remote else {
        return Ok((UploadTarget::Tree(Tree::Own), Shown::Own, "/".to_string()));
    };
    let RemoteSpec::Link { url, path } = remote_path::parse(remote)? else {
        let located = remote::locate(client, remote).await?;
        return Ok((
            UploadTarget::Tree(located.tree),
            located.shown,
            located.path,
        ));
    };
    if path != "/" {
        return Err(UsageError(format!(
            "{remote}: a file request takes files into its folder only; upload to {url}"
        ))
        .into());
    }
    if args.overwrite {
        return Err(UsageError(
            "--overwrite does not apply to a file request: a taken name gets a new one".into(),
        )
        .into());
    }
    if let Some(folder) = locals.iter().find(|local| local.is_dir()) {
        return Err(UsageError(format!(
            "{} is a folder: a file request takes files only",
            folder.display()
        ))
        .into());
    }
    let (access, info) = remote::open_link(client, &url, args.password_stdin).await?;
    if info.mode != LinkMode::Upload {
        return Err(UsageError(format!(
            "{url} is not a file request: it takes no uploads (download it with `fmsctl download {url}` or list it with `fmsctl ls {url}`)"
        ))
        .into());
    }
    Ok((UploadTarget::Link(access), Shown::Link, "/".to_string()))
}

/// For `fmsctl upload - REMOTE_FILE`: the remote folder and the file's name.
fn stdin_target(locals: &[PathBuf], remote: Option<&str>) -> anyhow::Result<(String, String)> {
    let explain = || {
        UsageError(
            "`-` reads stdin and goes alone, then the remote file: `fmsctl upload - /backups/db.sql`"
                .into(),
        )
    };
    let (Some(remote), [_]) = (remote, locals) else {
        return Err(explain().into());
    };
    if matches!(remote_path::parse(remote)?, RemoteSpec::Link { .. }) {
        return Err(UsageError(
            "stdin cannot go to a file request link: upload a file (`fmsctl upload FILE URL`)"
                .into(),
        )
        .into());
    }
    let (folder, name) = match remote.rsplit_once('/') {
        Some((folder, name)) if folder.is_empty() || folder.ends_with(':') => {
            (format!("{folder}/"), name)
        }
        Some((folder, name)) => (folder.to_owned(), name),
        None => return Err(explain().into()),
    };
    if name.is_empty() || name == "." || name == ".." {
        return Err(UsageError(format!(
            "{remote}: name the remote file the data goes to, e.g. {remote}data.bin"
        ))
        .into());
    }
    Ok((folder, name.to_owned()))
}

/// `LOCAL... [REMOTE_DIR]`: with two or more paths the last is the remote folder, as typed.
fn split_arguments(mut paths: Vec<PathBuf>) -> anyhow::Result<(Vec<PathBuf>, Option<String>)> {
    if paths.len() < 2 {
        return Ok((paths, None));
    }
    let remote = paths.pop().unwrap_or_default();
    let remote = remote
        .to_str()
        .ok_or_else(|| UsageError(format!("{}: not valid UTF-8", remote.display())))?;
    Ok((paths, Some(remote.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_of_several_paths_is_the_remote_folder() {
        let (locals, remote) = split_arguments(vec!["a.txt".into()]).unwrap();
        assert_eq!((locals.len(), remote), (1, None));
        let (locals, remote) =
            split_arguments(vec!["a.txt".into(), "b.txt".into(), "docs".into()]).unwrap();
        assert_eq!(locals, [PathBuf::from("a.txt"), PathBuf::from("b.txt")]);
        assert_eq!(remote.as_deref(), Some("docs"));
    }

    #[test]
    fn stdin_goes_to_the_remote_file_named() {
        let dash = [PathBuf::from("-")];
        assert_eq!(
            stdin_target(&dash, Some("/backups/db.sql")).unwrap(),
            ("/backups".to_owned(), "db.sql".to_owned())
        );
        assert_eq!(
            stdin_target(&dash, Some("/db.sql")).unwrap(),
            ("/".to_owned(), "db.sql".to_owned())
        );
        assert_eq!(
            stdin_target(&dash, Some("shared:team/db.sql")).unwrap(),
            ("shared:team".to_owned(), "db.sql".to_owned())
        );
        assert!(stdin_target(&dash, None).is_err());
        assert!(stdin_target(&dash, Some("/backups/")).is_err());
        assert!(stdin_target(&[PathBuf::from("-"), PathBuf::from("b")], Some("/x")).is_err());
    }
}
