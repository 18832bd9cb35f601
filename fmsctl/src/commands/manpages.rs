//! `fmsctl manpages DIR` (hidden; `scripts/man.sh` runs it): `fmsctl.1` and one page per
//! subcommand (`fmsctl-upload.1`, ...), from the same clap definition that parses the command
//! line.

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, ManpagesArgs};

/// Writes the pages.
pub fn run(args: &ManpagesArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("failed to create {}", args.dir.display()))?;
    clap_mangen::generate_to(Cli::command(), &args.dir)
        .with_context(|| format!("failed to write the man pages into {}", args.dir.display()))
}
