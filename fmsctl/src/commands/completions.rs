//! `fmsctl completions SHELL`: the shell's completion script, from the same clap definition
//! that parses the command line, on stdout.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

/// Prints the script.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<()> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, name, &mut stdout);
    Ok(())
}
