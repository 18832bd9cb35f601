// The build script of fmsd and fmsctl (each `build.rs` includes this file): sets `FMS_VERSION`
// to the package version and, when built from a git checkout, the short commit, as in
// `0.1.0 (abc1234)`. Without git or `.git` (a source tarball) it is the version alone.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../build/git_version.rs");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let version = match commit(&manifest_dir) {
        Some(commit) => format!("{version} ({commit})"),
        None => version,
    };
    println!("cargo:rustc-env=FMS_VERSION={version}");
}

/// The short commit of `HEAD`, and a rebuild whenever `HEAD` or the branch it names moves.
fn commit(dir: &Path) -> Option<String> {
    // Only this workspace's own checkout counts, not a repository the sources were unpacked in.
    if !dir.join("../.git").exists() {
        return None;
    }
    let commit = git(dir, &["rev-parse", "--short", "HEAD"])?;
    // `--git-path` finds the files in a linked worktree too (its own HEAD, the shared refs).
    rerun_if_changed(dir, "HEAD");
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        rerun_if_changed(dir, &branch);
        // A packed branch lives in `packed-refs` until it moves again.
        rerun_if_changed(dir, "packed-refs");
    }
    Some(commit)
}

/// Tells cargo to rerun when the git file `name` changes, if it exists (a missing one would
/// make cargo rerun the script on every build).
fn rerun_if_changed(dir: &Path, name: &str) {
    if let Some(path) = git(dir, &["rev-parse", "--path-format=absolute", "--git-path", name]) {
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// What `git ARGS` prints in `dir`, trimmed; `None` if git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
