//! The exit codes and the errors fmsctl raises itself, as plain types that every module may
//! import: this module imports nothing of fmsctl, so it never closes a circle of imports.
//! [`crate::exit`] picks the code for an error, looking at the client's errors too.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success (also when stdout is a closed pipe, as in `fmsctl ls \| head`) |
//! | 1 | anything else: network, server fault, local file problem |
//! | 2 | usage: bad flags or arguments (clap's own errors exit 2 as well) |
//! | 3 | not logged in, or authentication failed (401, no stored credentials) |
//! | 4 | not found (404) |
//! | 5 | conflict: already exists, or the state does not allow it (409) |
//! | 6 | quota exceeded (server code `quota_exceeded`) |
//! | 7 | forbidden: the share or link does not allow it (403), e.g. a viewer deleting |
//! | 8 | gone: the link expired or has no downloads left (410) |
//! | 9 | the server's disk has no room for the upload (507); an upload can be resumed later |
//! | 10 | rate-limited (429): too many logins or password attempts; wait and try again |
//!
//! The same table is printed at the end of `fmsctl --help` ([`HELP`]).

use std::process::ExitCode;

/// The exit-code table as `fmsctl --help` prints it.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  any other error (network, server fault, local file)
  2  usage error (bad flags or arguments)
  3  not logged in, or authentication failed
  4  not found
  5  conflict: already exists, or not allowed in this state
  6  quota exceeded
  7  forbidden: the share, link or app token does not allow it
  8  gone: the link expired or has no downloads left
  9  the server's disk is full (rerun the upload later to resume it)
  10 rate-limited: too many logins or password attempts; wait and try again

Environment:
  FMSCTL_SERVER  the server, as --server
  FMSCTL_TOKEN   an app token (`fmsctl token create`) every command uses instead of the
                 stored login: nothing is stored, nothing refreshed";

/// The exit codes `fmsctl` uses; see the module documentation for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: it worked.
    Success = 0,
    /// 1: anything not listed below.
    Failure = 1,
    /// 2: bad flags or arguments.
    Usage = 2,
    /// 3: not logged in, or the server refused the credentials.
    Auth = 3,
    /// 4: nothing at that path.
    NotFound = 4,
    /// 5: it already exists, or the state does not allow it.
    Conflict = 5,
    /// 6: the quota would be exceeded.
    Quota = 6,
    /// 7: the share or link does not allow it (a viewer writing, listing a file request).
    Forbidden = 7,
    /// 8: the link expired or has no downloads left.
    Gone = 8,
    /// 9: the server has no room for the write.
    NoRoom = 9,
    /// 10: too many attempts (logins, passwords); wait as the message says and try again.
    RateLimited = 10,
}

impl Exit {
    /// The name `--json` errors give it: `not_found`, `quota_exceeded`, ….
    pub fn name(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Usage => "usage",
            Self::Auth => "unauthorized",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::Quota => "quota_exceeded",
            Self::Forbidden => "forbidden",
            Self::Gone => "gone",
            Self::NoRoom => "insufficient_storage",
            Self::RateLimited => "rate_limited",
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A mistake in how `fmsctl` was called that clap cannot see by itself (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Something named on the command line that is not there, found out without asking the server
/// about it directly (no share by that name, no share of that path with that person): exit 4.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFoundError(pub String);

/// Something in the way that fmsctl will not replace by itself, found out locally (a file
/// where a sync puts a folder, without `--delete`): exit 5.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConflictError(pub String);
