//! The raw command line, as clap parses it. [`crate::config::Config`] turns the global part into
//! resolved settings; each subcommand's arguments go to its file in [`crate::commands`].

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::credentials::CredentialStoreKind;
use crate::exit;

/// The fms command line: log in, upload, download, list, move, delete.
#[derive(Debug, Parser)]
#[command(name = "fmsctl", version, about, after_help = exit::HELP, max_term_width = 100)]
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
    /// End the session and forget the stored tokens
    Logout,
    /// Show who is logged in
    Whoami,
    /// Upload files (and folders with -r)
    #[command(override_usage = "fmsctl upload [OPTIONS] LOCAL... [REMOTE_DIR]")]
    Upload(UploadArgs),
    /// Download a file, resuming a previous partial download
    Download(DownloadArgs),
    /// List a folder
    Ls(LsArgs),
    /// Create a folder
    Mkdir(MkdirArgs),
    /// Move or rename a file or folder
    Mv(MvArgs),
    /// Delete a file, or a folder with -r
    Rm(RmArgs),
    /// Show storage used and the quota
    Usage,
}

/// `fmsctl register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The e-mail address to log in with
    #[arg(long)]
    pub email: String,
    /// The name mail greets you with
    #[arg(long)]
    pub name: String,
    /// Read the password from the first line of stdin instead of asking
    #[arg(long)]
    pub password_stdin: bool,
}

/// `fmsctl login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The e-mail address registered with [default: the last one used with this server]
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from the first line of stdin instead of asking
    #[arg(long)]
    pub password_stdin: bool,
}

/// `fmsctl upload`.
#[derive(Debug, Args)]
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
    /// How many parts to send at once
    #[arg(
        long,
        env = "FMSCTL_PARALLEL",
        default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub parallel: u16,
}

/// `fmsctl download`.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The remote file
    pub remote: String,
    /// Where to write it: a file, or an existing folder [default: its name, here]
    pub local: Option<PathBuf>,
}

/// `fmsctl ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// The remote folder
    #[arg(default_value = "/")]
    pub path: String,
    /// Long form: kind, size in bytes, modification time, name
    #[arg(short, long)]
    pub long: bool,
}

/// `fmsctl mkdir`.
#[derive(Debug, Args)]
pub struct MkdirArgs {
    /// The folder to create
    pub path: String,
    /// Create missing parents, and succeed if the folder exists
    #[arg(short, long)]
    pub parents: bool,
}

/// `fmsctl mv`.
#[derive(Debug, Args)]
pub struct MvArgs {
    /// What to move
    pub from: String,
    /// The new path, or an existing folder to move into
    pub to: String,
}

/// `fmsctl rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// What to delete
    pub path: String,
    /// Delete a folder and everything in it
    #[arg(short, long)]
    pub recursive: bool,
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
