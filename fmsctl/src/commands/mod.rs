//! One file per subcommand; [`run`] picks the file.
//!
//! Every command takes the shared [`Client`] and the resolved [`Config`], does its calls, and
//! prints its result through [`crate::output::Output`]: text, or one JSON document with `--json`.

mod account;
mod completions;
mod cp;
mod download;
mod download_tree;
mod du;
mod find;
mod login;
mod logout;
mod ls;
mod manpages;
mod mkdir;
mod mv;
mod notifications;
mod passwd;
mod password_reset;
mod register;
mod rm;
mod share;
mod shares;
mod stat;
mod sync;
mod token;
mod trash;
mod unshare;
mod upload;
mod uploads;
mod usage;
mod verify;
mod whoami;

use std::sync::Arc;

use crate::cli::Command;
use crate::client::Client;
use crate::config::Config;

/// Runs `command` if it needs neither the server nor the settings (completions, man pages), so
/// that it works even where the config file is broken; `None` for every other command.
pub fn run_offline(command: &Command) -> Option<anyhow::Result<()>> {
    match command {
        Command::Completions(args) => Some(completions::run(args)),
        Command::Manpages(args) => Some(manpages::run(args)),
        _ => None,
    }
}

/// Runs `command` against the server in `config`.
pub async fn run(config: Config, command: Command) -> anyhow::Result<()> {
    let client = Arc::new(Client::new(&config)?);
    let output = config.output;
    match command {
        Command::Register(args) => {
            register::run(&client, output, config.config_dir.as_deref(), args).await
        }
        Command::Login(args) => {
            login::run(&client, output, config.config_dir.as_deref(), args).await
        }
        Command::Passwd(args) => passwd::run(&client, output, args).await,
        Command::PasswordReset(args) => password_reset::run(&client, output, args).await,
        Command::Verify(args) => verify::run(&client, output, args).await,
        Command::Account(action) => account::run(&client, output, action).await,
        Command::Logout => logout::run(&client, output).await,
        Command::Whoami => whoami::run(&client, output).await,
        Command::Upload(args) => upload::run(client, output, args).await,
        Command::Download(args) => download::run(&client, output, args).await,
        Command::Sync(args) => sync::run(client, output, args).await,
        Command::Cat(args) => download::cat(&client, output, args).await,
        Command::Ls(args) => ls::run(&client, output, args).await,
        Command::Stat(args) => stat::run(&client, output, args).await,
        Command::Du(args) => du::run(&client, output, args).await,
        Command::Find(args) => find::run(&client, output, args).await,
        Command::Mkdir(args) => mkdir::run(&client, output, args).await,
        Command::Mv(args) => mv::run(&client, output, args).await,
        Command::Cp(args) => cp::run(&client, output, args).await,
        Command::Rm(args) => rm::run(&client, output, args).await,
        Command::Trash(args) => trash::run(&client, output, args).await,
        Command::Usage => usage::run(&client, output).await,
        Command::Uploads(args) => uploads::run(&client, output, args).await,
        Command::Share(args) => share::run(&client, output, args).await,
        Command::Shares(args) => shares::run(&client, output, args).await,
        Command::Unshare(args) => unshare::run(&client, output, args).await,
        Command::Notifications(args) => notifications::run(&client, output, args).await,
        Command::Token(action) => token::run(&client, output, action).await,
        Command::Completions(args) => completions::run(&args),
        Command::Manpages(args) => manpages::run(&args),
    }
}
