#!/usr/bin/env bash
# Builds the man pages of fmsctl (one per subcommand too) and fmsd into a folder, from each
# binary's own clap definition: `scripts/man.sh [DIR]`, default target/man.
# Read one with `man target/man/fmsctl.1`; install with `cp target/man/*.1 ~/.local/share/man/man1/`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/target/man}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"
cargo run --quiet -p fmsctl -- manpages "$out"
cargo run --quiet -p fmsd -- --manpages "$out"
echo "man pages in $out:"
ls "$out"
