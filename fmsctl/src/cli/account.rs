//! The options of the account commands: register, login, passwd, password-reset, verify,
//! account, notifications.

use clap::{Args, Subcommand, ValueEnum};

/// `fmsctl notifications`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  fmsctl notifications\n  fmsctl notifications off")]
pub struct NotificationsArgs {
    /// Turn activity mail (shares, links, file requests, quota warnings) on or off; without
    /// it, show the current setting
    #[arg(value_enum, value_name = "on|off")]
    pub activity_mail: Option<Switch>,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// `fmsctl register`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl register --email ann@example.com --name Ann\n  echo \"$PASSWORD\" | fmsctl register --email ann@example.com --name Ann --password-stdin"
)]
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
    /// Only register; do not log in
    #[arg(long)]
    pub no_login: bool,
}

/// `fmsctl passwd`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl passwd\n  printf '%s\\n%s\\n' \"$OLD\" \"$NEW\" | fmsctl passwd --password-stdin"
)]
pub struct PasswdArgs {
    /// Read the current password, then the new one, from the first two lines of stdin
    #[arg(long)]
    pub password_stdin: bool,
}

/// `fmsctl password-reset`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl password-reset --email ann@example.com\n  fmsctl password-reset --token CODE\n  echo \"$NEW\" | fmsctl password-reset --token CODE --password-stdin\n\nEvery session and app token of the account ends; log in again with the new password."
)]
#[group(id = "step", required = true, args = ["email", "token"])]
pub struct PasswordResetArgs {
    /// Ask for a code, sent to this address if an account has it
    #[arg(long)]
    pub email: Option<String>,
    /// Set a new password with the code from the mail
    #[arg(long)]
    pub token: Option<String>,
    /// Read the new password from the first line of stdin instead of asking
    #[arg(long, requires = "token")]
    pub password_stdin: bool,
}

/// `fmsctl verify`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  fmsctl verify CODE\n  fmsctl verify --resend")]
pub struct VerifyArgs {
    /// The code from the mail
    #[arg(required_unless_present = "resend", conflicts_with = "resend")]
    pub code: Option<String>,
    /// Mail the code again (to the new address when a change waits for one)
    #[arg(long)]
    pub resend: bool,
}

/// `fmsctl account`.
#[derive(Debug, Subcommand)]
pub enum AccountAction {
    /// Change the e-mail address: a code goes to the new one, and the account switches once it
    /// is confirmed with `fmsctl verify CODE`
    #[command(after_help = "Examples:\n  fmsctl account email ann@example.org")]
    Email {
        /// The new address
        address: String,
    },
    /// Delete the account with every file, share and link, for good
    #[command(
        after_help = "Examples:\n  fmsctl account delete\n  echo \"$PASSWORD\" | fmsctl account delete --yes --password-stdin"
    )]
    Delete {
        /// Do not ask for the e-mail address typed out (for scripts)
        #[arg(long)]
        yes: bool,
        /// Read the password from the first line of stdin instead of asking
        #[arg(long)]
        password_stdin: bool,
    },
}

/// `fmsctl login`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  fmsctl login --email ann@example.com\n  fmsctl login\n  echo \"$PASSWORD\" | fmsctl login --password-stdin"
)]
pub struct LoginArgs {
    /// The e-mail address registered with [default: the last one used with this server]
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from the first line of stdin instead of asking
    #[arg(long)]
    pub password_stdin: bool,
}
