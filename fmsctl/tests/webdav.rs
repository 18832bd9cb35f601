//! WebDAV proven by the clients people use: litmus (the conformance suite sabre/dav and
//! mod_dav are held to) and rclone's WebDAV backend, against the real fmsd binary, with an app
//! token made by fmsctl; fmsctl then sees and downloads what rclone wrote.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{assert_same_file, random_file, Fmsctl, Fmsd};

const PASSWORD: &str = "correct horse battery staple";

/// A user registered (and logged in) through fmsctl, with a read-write app token.
fn user_with_token(server: &Fmsd, email: &str) -> (Fmsctl, String) {
    let fmsctl = Fmsctl::new(&server.url);
    fmsctl
        .run_with_stdin(
            &[
                "register",
                "--email",
                email,
                "--name",
                "Dav User",
                "--password-stdin",
            ],
            Some(PASSWORD),
        )
        .ok();
    let secret = fmsctl.run(&["token", "create", "webdav"]).ok().stdout;
    (fmsctl, secret.trim().to_owned())
}

/// The tool `name`, installed by scripts/services.sh; its absence fails the test.
fn tool(name: &str) -> PathBuf {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .expect("sh runs");
    let path = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    assert!(
        found.status.success() && !path.is_empty(),
        "{name} is not installed; scripts/services.sh installs it (Debian package {name})"
    );
    PathBuf::from(path)
}

#[test]
fn litmus_passes_every_suite() {
    let litmus = tool("litmus");
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start(&root.path().join("data"), &root.path().join("fmsd.log"));
    let (_, token) = user_with_token(&server, "litmus@example.com");
    let output = Command::new(litmus)
        .current_dir(root.path())
        .env("TESTS", "basic copymove props locks http")
        .args([&format!("{}/dav/", server.url), "litmus", &token])
        .output()
        .expect("litmus runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let summaries: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("summary for"))
        .collect();
    for line in &summaries {
        println!("{line}");
    }
    assert_eq!(summaries.len(), 5, "{text}\n{}", server.log_text());
    assert!(
        summaries.iter().all(|line| line.contains(" 0 failed")),
        "{text}\n{}",
        server.log_text()
    );
    assert!(output.status.success(), "{text}");
}

/// `rclone ARGS` against the remote `fms:`, configured in the environment.
fn rclone(url: &str, token: &str, args: &[&str]) -> String {
    let binary = tool("rclone");
    let obscured = Command::new(&binary)
        .args(["obscure", token])
        .output()
        .expect("rclone runs");
    let output = Command::new(&binary)
        .env("RCLONE_CONFIG", "/dev/null")
        .env("RCLONE_CONFIG_FMS_TYPE", "webdav")
        .env("RCLONE_CONFIG_FMS_URL", format!("{url}/dav/"))
        .env("RCLONE_CONFIG_FMS_VENDOR", "other")
        .env("RCLONE_CONFIG_FMS_USER", "rclone")
        .env(
            "RCLONE_CONFIG_FMS_PASS",
            String::from_utf8_lossy(&obscured.stdout).trim(),
        )
        .args(args)
        .output()
        .expect("rclone runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "rclone {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// 499 small files (unicode names, nested folders, some empty) and one of `big` bytes.
fn make_tree(root: &Path, big: usize) {
    let names = ["résumé", "日本語", "naïve café", "emoji 🎉", "plain"];
    for n in 0..499usize {
        let folder = root
            .join(names[n % names.len()])
            .join(format!("sub {}", n % 7));
        std::fs::create_dir_all(&folder).unwrap();
        let size = (n * 37) % 5000;
        random_file(
            &folder.join(format!("file {n} – ü.txt")),
            size,
            n as u64 + 1,
        );
    }
    random_file(&root.join("big.bin"), big, 99);
}

/// Every file under `root`, relative to it.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn rclone_copies_checks_syncs_moves_and_purges_and_fmsctl_sees_the_tree() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start(&root.path().join("data"), &root.path().join("fmsd.log"));
    let (fmsctl, token) = user_with_token(&server, "rclone@example.com");
    let source = root.path().join("source");
    make_tree(&source, 1 << 30);
    let url = server.url.as_str();

    rclone(url, &token, &["copy", source.to_str().unwrap(), "fms:tree"]);
    let listed: serde_json::Value = serde_json::from_str(&rclone(
        url,
        &token,
        &["lsjson", "-R", "--files-only", "fms:tree"],
    ))
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 500);
    // No hash in common over WebDAV: --download compares every byte.
    rclone(
        url,
        &token,
        &["check", "--download", source.to_str().unwrap(), "fms:tree"],
    );

    // fmsctl sees the same tree and downloads it byte for byte.
    let remote = fmsctl.run(&["--json", "ls", "-R", "/tree"]).ok().json();
    let text = remote.to_string();
    assert!(
        text.contains("file 3 – ü.txt") && text.contains("日本語"),
        "{text}"
    );
    let copy = root.path().join("big copy.bin");
    fmsctl
        .run(&["download", "/tree/big.bin", copy.to_str().unwrap()])
        .ok();
    assert_same_file(&source.join("big.bin"), &copy);

    // sync --delete removes what the source no longer has; moveto renames; purge empties.
    let small = files_under(&source);
    let gone = small
        .iter()
        .find(|path| !path.ends_with("big.bin"))
        .unwrap();
    std::fs::remove_file(source.join(gone)).unwrap();
    std::fs::remove_file(source.join("big.bin")).unwrap();
    rclone(
        url,
        &token,
        &[
            "sync",
            "--delete-during",
            source.to_str().unwrap(),
            "fms:tree",
        ],
    );
    let listed: serde_json::Value = serde_json::from_str(&rclone(
        url,
        &token,
        &["lsjson", "-R", "--files-only", "fms:tree"],
    ))
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 498);
    rclone(
        url,
        &token,
        &["check", "--download", source.to_str().unwrap(), "fms:tree"],
    );
    rclone(url, &token, &["moveto", "fms:tree/plain", "fms:moved"]);
    let moved = fmsctl.run(&["--json", "ls", "/moved"]).ok().json();
    assert!(!moved["entries"].as_array().unwrap().is_empty(), "{moved}");
    rclone(url, &token, &["purge", "fms:tree"]);
    fmsctl.run(&["ls", "/tree"]).expect_code(4);
}
