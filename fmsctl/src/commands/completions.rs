//! `fmsctl completions SHELL`: the shell's completion script, from the same clap definition
//! that parses the command line, on stdout.

use clap::{Command, CommandFactory};

use crate::cli::{Cli, CompletionsArgs};

/// Prints the script.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<()> {
    let mut command = without_hidden(Cli::command());
    let name = command.get_name().to_owned();
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, name, &mut stdout);
    Ok(())
}

/// `command` less its hidden subcommands (`manpages`), which some shells' scripts would offer:
/// the same name, version, arguments and visible subcommands, as the generator needs them.
fn without_hidden(command: Command) -> Command {
    let visible: Vec<Command> = command
        .get_subcommands()
        .filter(|subcommand| !subcommand.is_hide_set())
        .cloned()
        .collect();
    Command::new("fmsctl")
        .version(env!("FMS_VERSION"))
        .args(command.get_arguments().cloned())
        .subcommands(visible)
}
