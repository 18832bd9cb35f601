#!/usr/bin/env bash
# README command 2: installs what is missing (the toolchain's lint components, the real servers
# through scripts/services.sh, Chromium and playwright-core through scripts/browser.sh), starts the servers on 127.0.0.1, then builds and runs every test,
# lint and format check. Exits non-zero if anything fails. Safe to run again: nothing is
# reinstalled and running servers are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install the Rust toolchain (https://rustup.rs) and run this again" >&2
  exit 1
fi
cargo --version
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

step "real servers (PostgreSQL, tansu, nx-27017, garage, s3s-fs, maildev)"
bash scripts/services.sh start
# shellcheck disable=SC1091
source target/services/services.env

step "browser for the link pages' tests (chromium, playwright-core)"
eval "$(bash scripts/browser.sh)"

step "format"
cargo fmt --all -- --check

step "build (every binary, so the end-to-end tests can run them)"
cargo build --workspace --all-targets --locked

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (embedded default and real stack)"
cargo test --workspace --locked --no-fail-fast

echo
echo "every test passed; the servers keep running for the next run (scripts/services.sh stop ends them)"
