//! The raw command line, as clap parses it. [`crate::config::Config`] turns the global part into
//! resolved settings; each subcommand's arguments go to its file in [`crate::commands`].

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::credentials::CredentialStoreKind;
use crate::{duration, error, size};

mod account;
mod sharing;

pub use account::*;
pub use sharing::*;

/// The fms command line: log in, upload, download, list, move, delete.
#[derive(Debug, Parser)]
#[command(name = "fmsctl", version = env!("FMS_VERSION"), about, after_help = error::HELP, max_term_width = 100)]
pub struct Cli {
    /// Flags every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The fms server [default: the config file's `server`, else http://127.0.0.1:8080]
    #[arg(long, env = "FMSCTL_SERVER", global = true, value_name = "URL")]
    pub server: Option<String>,
    /// Print one JSON document on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress bars and no informational messages
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log what happens on stderr (-vv for more)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Where tokens are kept [default: auto: the OS keyring, else a 0600 file]
    #[arg(
        long,
        env = "FMSCTL_CREDENTIAL_STORE",
        global = true,
        value_enum,
        value_name = "STORE"
    )]
    pub credential_store: Option<CredentialStoreKind>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an account
    Register(RegisterArgs),
    /// Log in and remember the session for this server
    Login(LoginArgs),
    /// Change your password (your other sessions and every app token end)
    Passwd(PasswdArgs),
    /// Set a new password with a code sent by mail, when the old one is forgotten
    PasswordReset(PasswordResetArgs),
    /// Confirm your e-mail address (or a new one) with the code sent to it
    Verify(VerifyArgs),
    /// Change your e-mail address, or delete your account
    #[command(subcommand)]
    Account(AccountAction),
    /// End the session and forget the stored tokens
    #[command(after_help = "Examples:\n  fmsctl logout")]
    Logout,
    /// Show who is logged in
    #[command(after_help = "Examples:\n  fmsctl whoami\n  fmsctl --json whoami | jq -r .email")]
    Whoami,
    /// Upload files (and folders with -r)
    #[command(override_usage = "fmsctl upload [OPTIONS] LOCAL... [REMOTE_DIR]")]
    Upload(UploadArgs),
    /// Download a file, resuming a previous partial download (`-` as LOCAL: to stdout), a
    /// folder with -r, or what a quoted pattern matches
    Download(DownloadArgs),
    /// Make a folder a copy of another, one way, local → remote or remote → local: only what
    /// differs is sent
    #[command(override_usage = "fmsctl sync [OPTIONS] SRC DST")]
    Sync(SyncArgs),
    /// Write a file to stdout
    Cat(CatArgs),
    /// List a folder (or what a quoted pattern matches: `fmsctl ls '/photos/*.jpg'`)
    Ls(LsArgs),
    /// Show a file's or folder's details: size, time, SHA-256
    Stat(StatArgs),
    /// Show how much each folder holds, sub-folders included
    Du(DuArgs),
    /// Find files and folders by name, age and size
    Find(FindArgs),
    /// Create a folder
    Mkdir(MkdirArgs),
    /// Move or rename a file or folder
    Mv(MvArgs),
    /// Copy a file, or a folder with -r, on the server (no bytes through this machine)
    Cp(CpArgs),
    /// Delete a file, or a folder with -r: into the trash, or for good with --permanent
    Rm(RmArgs),
    /// List the trash (what `rm` deleted), restore from it, delete from it for good, empty it
    Trash(TrashArgs),
    /// Show storage used and the quota
    #[command(after_help = "Examples:\n  fmsctl usage\n  fmsctl --json usage | jq .used_bytes")]
    Usage,
    /// List the unfinished uploads that reserve part of your quota (yours, and those started
    /// through your shares and links), or end some with `abort`
    Uploads(UploadsArgs),
    /// Share a file or folder with someone, or make a public link to it
    Share(ShareArgs),
    /// List what others shared with you, what you shared, and your links
    Shares(SharesArgs),
    /// Revoke a share or a link, or leave a share made with you
    Unshare(UnshareArgs),
    /// Show or change which mail you get (security mail always goes)
    Notifications(NotificationsArgs),
    /// Make, list and revoke app tokens: for scripts (`FMSCTL_TOKEN`) and WebDAV clients
    #[command(subcommand)]
    Token(TokenAction),
    /// Print a shell completion script on stdout (bash: `fmsctl completions bash >
    /// ~/.local/share/bash-completion/completions/fmsctl`)
    Completions(CompletionsArgs),
    /// Write the man pages of fmsctl and its subcommands into DIR (scripts/man.sh)
    #[command(hide = true)]
    Manpages(ManpagesArgs),
}

/// `fmsctl completions`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl completions bash > ~/.local/share/bash-completion/completions/fmsctl\n  fmsctl completions zsh > ~/.zfunc/_fmsctl"
)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `fmsctl manpages`.
#[derive(Debug, Args)]
pub struct ManpagesArgs {
    /// The folder to write them into (made if missing)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// `fmsctl upload`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl upload report.pdf /docs\n  fmsctl upload -r photos/ /\n  fmsctl upload --overwrite notes.txt /\n  pg_dump db | fmsctl upload - /backups/db.sql\n  fmsctl upload scan.pdf https://HOST/s/TOKEN"
)]
pub struct UploadArgs {
    /// Local files or folders, then the remote folder when there are two or more [default: /]
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Upload folders and everything in them
    #[arg(short, long)]
    pub recursive: bool,
    /// Replace remote files that already exist
    #[arg(long)]
    pub overwrite: bool,
    /// How many parts to send at once (small files: eight times as many, each one short request)
    #[arg(
        long,
        env = "FMSCTL_PARALLEL",
        default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub parallel: u16,
    /// For a file request link: read its password from the first line of stdin
    #[arg(long)]
    pub password_stdin: bool,
}

/// `fmsctl download`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Examples:\n  fmsctl download /docs/report.pdf\n  fmsctl download /docs/report.pdf ~/Downloads/\n  fmsctl download /backups/db.sql - | psql\n  fmsctl download -r /photos ~/photos\n  fmsctl download '/photos/2024/*.jpg' ~/jpgs\n  fmsctl download https://HOST/s/TOKEN\n  fmsctl download https://HOST/s/TOKEN/docs/report.pdf\n  fmsctl download -r https://HOST/s/TOKEN ~/shared"
)]
pub struct DownloadArgs {
    /// The remote file: a path, shared:NAME[/PATH], a link's URL or a file inside a folder
    /// link (URL/PATH; no login needed), or a quoted pattern (`*`, `?`, `[...]` within a
    /// name, `**` across folders)
    pub remote: String,
    /// Where to write it: a file, an existing folder, or `-` for stdout [default: its name,
    /// here]. With -r, the folder that becomes the copy (made if missing) [default: the remote
    /// folder's name, here]; for a pattern, the folder the matches go into, below the
    /// pattern's fixed part [default: here]
    pub local: Option<PathBuf>,
    /// Download a folder and everything in it (empty folders too); a rerun skips files
    /// already there and checked, and resumes partial ones
    #[arg(short, long)]
    pub recursive: bool,
    /// With -r or a pattern: how many files to download at once
    #[arg(
        long,
        env = "FMSCTL_PARALLEL",
        default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub parallel: u16,
    /// Read the link's password from the first line of stdin instead of asking
    #[arg(long)]
    pub password_stdin: bool,
}

/// `fmsctl sync`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl sync ~/photos fms:/photos\n  fmsctl sync fms:/photos ~/photos --delete\n  fmsctl sync --dry-run --exclude '*.tmp' --exclude 'build/' ./site fms:/www\n  fmsctl sync shared:team/docs ./team-docs\n  fmsctl --json sync ./site fms:/www | jq .transferred_files"
)]
pub struct SyncArgs {
    /// The folder to copy: local, or remote as fms:PATH (your files) or shared:NAME[/PATH]
    #[arg(value_name = "SRC")]
    pub source: String,
    /// The folder that becomes the copy (made if missing): the other kind
    #[arg(value_name = "DST")]
    pub destination: String,
    /// Also delete what DST has that SRC has not (never what --exclude matches)
    #[arg(long)]
    pub delete: bool,
    /// Only print what would be done (with --json: the plan)
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Leave alone what matches, on both sides: a pattern without `/` matches a name anywhere
    /// (`*.tmp`), one with `/` a path from the top (`build/*.o`); repeatable
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// How many files (and parts) to send at once
    #[arg(
        long,
        env = "FMSCTL_PARALLEL",
        default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub parallel: u16,
}

/// `fmsctl cat`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl cat /notes/todo.txt | grep urgent\n  fmsctl cat /backups/db.sql.gz | gunzip | psql"
)]
pub struct CatArgs {
    /// The remote file: a path, shared:NAME[/PATH], or a link's URL (no login needed)
    pub remote: String,
    /// Read the link's password from the first line of stdin instead of asking
    #[arg(long)]
    pub password_stdin: bool,
}

/// `fmsctl ls`.
#[derive(Debug, Args)]
#[command(
    disable_help_flag = true,
    after_help = "Examples:\n  fmsctl ls -lh /photos\n  fmsctl ls -R /projects\n  fmsctl ls '/photos/2024/*.jpg'\n  fmsctl --json ls / | jq -r '.entries[].name'\n  fmsctl ls -l https://HOST/s/TOKEN/photos"
)]
pub struct LsArgs {
    /// The remote folder: a path, shared:NAME[/PATH], a link's URL or a folder inside a
    /// folder link (URL/PATH; no login needed), or a quoted pattern (`*`, `?`, `[...]` within
    /// a name, `**` across folders)
    #[arg(default_value = "/")]
    pub path: String,
    /// Long form: kind, size, modification time, name
    #[arg(short, long)]
    pub long: bool,
    /// With -l: sizes in KiB, MiB, GiB instead of bytes
    #[arg(short = 'h', long)]
    pub human: bool,
    /// List every folder below too
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// List the items others shared with you (reach them as shared:NAME)
    #[arg(long, conflicts_with = "path")]
    pub shared: bool,
    /// Read the link's password from the first line of stdin instead of asking
    #[arg(long)]
    pub password_stdin: bool,
}

/// `fmsctl stat`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl stat /reports/q3.pdf\n  fmsctl --json stat /reports/q3.pdf | jq -r .sha256"
)]
pub struct StatArgs {
    /// Remote paths: yours, or shared:NAME[/PATH]
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
}

/// `fmsctl du`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  fmsctl du /photos\n  fmsctl du -s /")]
pub struct DuArgs {
    /// The remote folder
    #[arg(default_value = "/")]
    pub path: String,
    /// Only the folder's total
    #[arg(short, long)]
    pub summarize: bool,
}

/// `fmsctl find --type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindType {
    /// Files
    F,
    /// Folders
    D,
}

/// `fmsctl find`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl find /photos --name '*.jpg' --newer 7d\n  fmsctl find / --larger 1G --type f"
)]
pub struct FindArgs {
    /// Where to look
    #[arg(default_value = "/")]
    pub path: String,
    /// Names matching this pattern (quote it: `--name '*.pdf'`)
    #[arg(long, value_name = "GLOB")]
    pub name: Option<String>,
    /// Changed within this long (30m, 12h, 7d, 2w)
    #[arg(long, value_name = "DURATION", value_parser = duration::parse_seconds)]
    pub newer: Option<u64>,
    /// Files larger than this (500k, 10M, 1.5G)
    #[arg(long, value_name = "SIZE", value_parser = size::parse_bytes)]
    pub larger: Option<u64>,
    /// Only files (f) or only folders (d)
    #[arg(long = "type", value_enum, value_name = "f|d")]
    pub kind: Option<FindType>,
}

/// `fmsctl mkdir`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  fmsctl mkdir /projects\n  fmsctl mkdir -p /projects/2026/q1")]
pub struct MkdirArgs {
    /// The folder to create
    pub path: String,
    /// Create missing parents, and succeed if the folder exists
    #[arg(short, long)]
    pub parents: bool,
}

/// `fmsctl mv`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl mv /draft.txt /final.txt\n  fmsctl mv /a.txt /archive/\n  fmsctl mv '/inbox/*.pdf' /papers"
)]
pub struct MvArgs {
    /// What to move: a path, or a quoted pattern (`'/inbox/*.pdf'`; TO is then a folder)
    pub from: String,
    /// The new path, or an existing folder to move into
    pub to: String,
}

/// `fmsctl cp`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl cp /report.pdf /report-v2.pdf\n  fmsctl cp /a.txt /archive/\n  fmsctl cp -r /photos/2024 /backup/photos-2024"
)]
pub struct CpArgs {
    /// What to copy
    pub from: String,
    /// The copy's path, or an existing folder to copy into
    pub to: String,
    /// Copy a folder and everything in it (its copy must not exist yet)
    #[arg(short, long)]
    pub recursive: bool,
    /// Replace a file that is already at the copy's path
    #[arg(long)]
    pub overwrite: bool,
}

/// `fmsctl rm`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl rm /old.txt\n  fmsctl rm -r /projects/2019\n  fmsctl rm '/logs/*.gz'\n  fmsctl rm --permanent /huge.iso\n\nA deleted file or folder goes into the trash (`fmsctl trash`), from where\n`fmsctl trash restore PATH` brings it back; --permanent skips it."
)]
pub struct RmArgs {
    /// What to delete: a path, or a quoted pattern (`'/logs/*.gz'`)
    pub path: String,
    /// Delete a folder and everything in it
    #[arg(short, long)]
    pub recursive: bool,
    /// Delete for good at once, skipping the trash (only in your own files: inside a share
    /// a delete always goes to the owner's trash)
    #[arg(long)]
    pub permanent: bool,
}

/// `fmsctl trash`: without an action, `ls`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl trash\n  fmsctl trash restore /report.pdf\n  fmsctl trash restore 0193a1b2-… --to /restored/report.pdf\n  fmsctl trash rm 0193a1b2-…\n  fmsctl trash empty\n\nDeleted items stay in the trash, counting against the quota, for the server's\nfiles.trash_retention_days (30 by default); then they are deleted for good."
)]
pub struct TrashArgs {
    /// What to do; `ls` when left out
    #[command(subcommand)]
    pub action: Option<TrashAction>,
}

/// `fmsctl trash ls|restore|rm|empty`.
#[derive(Debug, Subcommand)]
pub enum TrashAction {
    /// List the trash, newest first
    #[command(
        after_help = "Examples:\n  fmsctl trash ls\n  fmsctl --json trash ls | jq -r '.items[].path'"
    )]
    Ls,
    /// Put an item back where it was (beside it as `name (2).ext` when that path is taken), or
    /// at --to; missing parent folders are made again
    #[command(
        after_help = "Examples:\n  fmsctl trash restore /report.pdf\n  fmsctl trash restore 0193a1b2-… --to /old/report.pdf"
    )]
    Restore {
        /// The item: the path it was deleted from (the newest item from there), or its id
        #[arg(value_name = "PATH|ID")]
        item: String,
        /// Restore it exactly here instead (the path must be free)
        #[arg(long, value_name = "PATH")]
        to: Option<String>,
    },
    /// Delete an item of the trash for good
    #[command(
        after_help = "Examples:\n  fmsctl trash rm 0193a1b2-…\n  fmsctl trash rm /report.pdf"
    )]
    Rm {
        /// The item: its id, or the path it was deleted from (the newest item from there)
        #[arg(value_name = "ID|PATH")]
        item: String,
    },
    /// Delete everything in the trash for good
    #[command(after_help = "Examples:\n  fmsctl trash empty")]
    Empty,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
