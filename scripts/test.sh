#!/usr/bin/env bash
# README command 2: installs what is missing, then builds and runs every test, lint and format
# check. Exits non-zero if anything fails. Safe to run again: nothing is reinstalled.
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

step "format"
cargo fmt --all -- --check

step "build (every binary, so the end-to-end tests can run them)"
cargo build --workspace --all-targets --locked

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
cargo test --workspace --locked --no-fail-fast
