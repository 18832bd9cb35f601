//! The options of the sharing commands (share, shares, unshare), of app tokens (token) and of
//! unfinished uploads (uploads).

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use common::api::sharing::ShareRole;
use uuid::Uuid;

use crate::duration;

/// `fmsctl share`. The link options conflict with `--with` rather than require `--link`: one
/// of the two is required, and clap takes a `requires` on a member of that group as met once
/// any member is given.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("how").required(true).args(["with", "link"])))]
#[command(
    after_help = "Examples:\n  fmsctl share /team --with bob@example.com --role editor\n  fmsctl share /talk.pdf --link --expires 7d\n  fmsctl share /inbox --link --upload-only"
)]
pub struct ShareArgs {
    /// The file or folder to share, in your own files
    pub path: String,
    /// Share with this registered user
    #[arg(long, value_name = "EMAIL")]
    pub with: Option<String>,
    /// What they may do [default: viewer]
    #[arg(long, value_enum, conflicts_with = "link")]
    pub role: Option<RoleArg>,
    /// Make a public link instead, and print its URL
    #[arg(long)]
    pub link: bool,
    /// How long the link works: 30m, 12h, 7d, 2w, or seconds [default: the server's, 7 days]
    #[arg(long, value_name = "DURATION", value_parser = duration::parse_seconds, conflicts_with = "with")]
    pub expires: Option<u64>,
    /// Protect the link with a password, read from the first line of stdin
    #[arg(long, conflicts_with = "with")]
    pub password_stdin: bool,
    /// How many downloads the link allows
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u64).range(1..),
        conflicts_with = "with"
    )]
    pub max_downloads: Option<u64>,
    /// A file request for a folder: anyone with the link may upload into it, nobody may list it
    #[arg(long, conflicts_with_all = ["with", "max_downloads"])]
    pub upload_only: bool,
}

/// What a recipient may do with a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// List and download
    Viewer,
    /// Also upload, make folders, rename and delete inside
    Editor,
}

impl From<RoleArg> for ShareRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Viewer => ShareRole::Viewer,
            RoleArg::Editor => ShareRole::Editor,
        }
    }
}

/// `fmsctl shares`: with no flag, all three sections.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl shares\n  fmsctl shares --incoming\n  fmsctl shares --links"
)]
pub struct SharesArgs {
    /// What others shared with you
    #[arg(long)]
    pub incoming: bool,
    /// What you shared with others
    #[arg(long)]
    pub outgoing: bool,
    /// Your public links, with their use counts
    #[arg(long)]
    pub links: bool,
}

/// `fmsctl uploads`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl uploads\n  fmsctl uploads abort 01939b9e-0000-7000-8000-000000000000"
)]
pub struct UploadsArgs {
    #[command(subcommand)]
    pub action: Option<UploadsAction>,
}

/// What `fmsctl uploads` does besides listing.
#[derive(Debug, Subcommand)]
pub enum UploadsAction {
    /// End unfinished uploads and give back the quota they reserve
    Abort {
        /// Upload ids, as `fmsctl uploads` shows them
        #[arg(value_name = "UPLOAD_ID", required = true)]
        ids: Vec<Uuid>,
    },
}

/// `fmsctl token`.
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Make an app token and print its secret (shown only this once)
    #[command(
        after_help = "Examples:\n  fmsctl token create backup --expires 90d\n  \
                            FMSCTL_TOKEN=$(fmsctl token create ci --read-only --json | jq -r .secret) fmsctl ls /"
    )]
    Create {
        /// What it is for, as you will recognise it in `fmsctl token ls`
        #[arg(value_name = "NAME")]
        name: String,
        /// It may only list and download
        #[arg(long)]
        read_only: bool,
        /// Stop working after this long (30m, 12h, 30d, 2w); works until revoked if left out
        #[arg(long, value_name = "DURATION", value_parser = duration::parse_seconds)]
        expires: Option<u64>,
    },
    /// List your app tokens (never their secrets)
    #[command(
        visible_alias = "list",
        after_help = "Examples:\n  fmsctl token ls\n  fmsctl --json token ls | jq -r '.tokens[].name'"
    )]
    Ls,
    /// Revoke app tokens: they stop working at once
    #[command(
        after_help = "Examples:\n  fmsctl token revoke 01939b9e-0000-7000-8000-000000000000"
    )]
    Revoke {
        /// Token ids, as `fmsctl token ls` shows them
        #[arg(value_name = "TOKEN_ID", required = true)]
        ids: Vec<Uuid>,
    },
}

/// `fmsctl unshare`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["target", "link"])))]
#[command(
    after_help = "Examples:\n  fmsctl unshare /team --with bob@example.com\n  fmsctl unshare --link 01939b9e-0000-7000-8000-000000000000"
)]
pub struct UnshareArgs {
    /// A share's id (as `fmsctl shares` shows it); with --with, the path you shared
    #[arg(value_name = "SHARE_ID|PATH")]
    pub target: Option<String>,
    /// Revoke your share of PATH with this person
    #[arg(
        long,
        value_name = "EMAIL",
        requires = "target",
        conflicts_with = "link"
    )]
    pub with: Option<String>,
    /// Revoke the link with this id (as `fmsctl shares --links` shows it)
    #[arg(long, value_name = "LINK_ID")]
    pub link: Option<Uuid>,
}
