//! The command line on its own, with no server: help, usage errors, exit codes, error lines.

#![allow(clippy::unwrap_used)]

mod support;

use support::Fmsctl;

/// Nothing listens on port 1 of loopback.
const NOBODY: &str = "http://127.0.0.1:1";

/// The error line: exactly one line, starting with `fmsctl: `.
fn assert_one_error_line(stderr: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr, got:\n{stderr}"
    );
    assert!(lines[0].starts_with("fmsctl: "), "{stderr}");
}

#[test]
fn help_lists_the_exit_codes() {
    let run = Fmsctl::new(NOBODY).run(&["--help"]).ok();
    assert!(run.stdout.contains("Exit codes:"), "{}", run.stdout);
    for line in [
        "0  success",
        "2  usage error",
        "3  not logged in",
        "4  not found",
        "5  conflict",
        "6  quota exceeded",
        "7  forbidden",
        "8  gone",
    ] {
        assert!(
            run.stdout.contains(line),
            "--help lacks {line:?}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn commands_without_credentials_exit_3() {
    let fmsctl = Fmsctl::new(NOBODY);
    for args in [
        &["ls"][..],
        &["whoami"],
        &["--json", "usage"],
        &["rm", "/a"],
    ] {
        let run = fmsctl.run(args).expect_code(3);
        assert!(run.stderr.contains("not logged in"), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        if args[0] == "--json" {
            // One JSON object instead of the line, for scripts.
            let error: serde_json::Value = serde_json::from_str(run.stderr.trim()).unwrap();
            assert_eq!(
                (&error["error"]["code"], &error["error"]["exit_code"]),
                (&serde_json::json!("unauthorized"), &serde_json::json!(3))
            );
        } else {
            assert_one_error_line(&run.stderr);
        }
    }
}

#[test]
fn unknown_flags_and_bad_arguments_exit_2() {
    let fmsctl = Fmsctl::new(NOBODY);
    fmsctl.run(&["ls", "--no-such-flag"]).expect_code(2);
    fmsctl.run(&["no-such-command"]).expect_code(2);
    fmsctl
        .run(&["upload", "--parallel", "0", "a"])
        .expect_code(2);
    let run = fmsctl.run(&["--server", "ftp://x", "ls"]).expect_code(2);
    assert_one_error_line(&run.stderr);
}

#[test]
fn sharing_arguments_are_checked_before_any_request() {
    let fmsctl = Fmsctl::new(NOBODY);
    for (args, says) in [
        (&["share", "/a", "--link", "--expires", "3x"][..], "3x"),
        (
            &["share", "/a", "--link", "--expires", "0"],
            "more than zero",
        ),
        (
            &["share", "/a", "--link", "--expires", "1.5h"],
            "not a duration",
        ),
        (
            &["share", "/a", "--link", "--with", "b@example.com"],
            "cannot be used",
        ),
        (&["share", "/a"], "--with"),
        (
            &["share", "/a", "--with", "b@example.com", "--role", "owner"],
            "owner",
        ),
        (
            &["share", "/a", "--with", "b@example.com", "--expires", "7d"],
            "--link",
        ),
        (
            &["share", "/a", "--role", "editor", "--link"],
            "cannot be used",
        ),
        (&["share", "/a", "--link", "--max-downloads", "0"], "0"),
        (
            &[
                "share",
                "/a",
                "--link",
                "--upload-only",
                "--max-downloads",
                "2",
            ],
            "cannot be used",
        ),
        (
            &["share", "/a", "--with", "b@example.com", "--password-stdin"],
            "--link",
        ),
        (
            &["share", "shared:docs", "--with", "b@example.com"],
            "your own",
        ),
        (&["unshare"], "required"),
        (&["unshare", "not-an-id"], "--with"),
        (&["unshare", "--link", "not-an-id"], "not-an-id"),
        (
            &[
                "unshare",
                "/a",
                "--link",
                "00000000-0000-0000-0000-000000000000",
            ],
            "cannot be used",
        ),
        (&["unshare", "--with", "b@example.com"], "required"),
        (
            &[
                "unshare",
                "--with",
                "b@example.com",
                "--link",
                "00000000-0000-0000-0000-000000000000",
            ],
            "cannot be used",
        ),
        (&["ls", "--shared", "/docs"], "cannot be used"),
        (
            &["download", "https://example.com/docs/a.txt"],
            "not a link",
        ),
        (&["mkdir", "https://example.com/s/token"], "a link can be"),
    ] {
        let run = fmsctl.run(args).expect_code(2);
        assert!(
            run.stderr.contains(says),
            "`fmsctl {}` should mention {says:?}:\n{}",
            run.args,
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
}

#[test]
fn a_file_request_takes_files_only_and_no_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.txt");
    std::fs::write(&file, b"a").unwrap();
    let link = format!("{NOBODY}/s/token");
    let fmsctl = Fmsctl::new(NOBODY);
    let run = fmsctl
        .run(&["upload", "-r", dir.path().to_str().unwrap(), &link])
        .expect_code(2);
    assert!(run.stderr.contains("files only"), "{}", run.stderr);
    let run = fmsctl
        .run(&["upload", "--overwrite", file.to_str().unwrap(), &link])
        .expect_code(2);
    assert_one_error_line(&run.stderr);
    // Otherwise the link is asked, with no login: the unreachable server is the failure.
    let run = fmsctl
        .run(&["upload", file.to_str().unwrap(), &link])
        .expect_code(1);
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);
    assert!(!run.stderr.contains("token"), "{}", run.stderr);
}

#[test]
fn shares_need_a_login_but_links_do_not() {
    let fmsctl = Fmsctl::new(NOBODY);
    for args in [
        &["shares"][..],
        &["ls", "--shared"],
        &["ls", "shared:docs"],
        &["share", "/a", "--with", "b@example.com"],
        &["unshare", "00000000-0000-0000-0000-000000000000"],
    ] {
        let run = fmsctl.run(args).expect_code(3);
        assert_one_error_line(&run.stderr);
    }
    let run = fmsctl
        .run(&["download", &format!("{NOBODY}/s/token")])
        .expect_code(1);
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);
}

#[test]
fn login_without_a_terminal_or_password_stdin_exits_2() {
    let run = Fmsctl::new(NOBODY)
        .run(&["login", "--email", "a@example.com"])
        .expect_code(2);
    assert_one_error_line(&run.stderr);
    assert!(run.stderr.contains("--password-stdin"), "{}", run.stderr);
}

#[test]
fn uploading_a_folder_needs_dash_r() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().to_str().unwrap();
    let run = Fmsctl::new(NOBODY).run(&["upload", folder]).expect_code(2);
    assert!(run.stderr.contains("use -r"), "{}", run.stderr);
}

#[test]
fn an_unreachable_server_exits_1_with_one_clear_line() {
    let fmsctl = Fmsctl::new(NOBODY);
    let run = fmsctl
        .run_with_stdin(
            &["login", "--email", "a@example.com", "--password-stdin"],
            Some("a long enough password\n"),
        )
        .expect_code(1);
    assert_one_error_line(&run.stderr);
    assert!(
        run.stderr.contains("cannot reach http://127.0.0.1:1"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("a long enough password"));

    // With stored credentials the request is made, and fails the same way.
    let credentials = serde_json::json!({
        NOBODY: {
            "access_token": "x",
            "refresh_token": "y",
            "access_expires_at": "2999-01-01T00:00:00Z",
            "email": "a@example.com"
        }
    });
    let dir = fmsctl.config_home().join("fmsctl");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("credentials.json"), credentials.to_string()).unwrap();
    let run = fmsctl.run(&["whoami"]).expect_code(1);
    assert_one_error_line(&run.stderr);
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);
}

#[test]
fn a_broken_config_file_is_reported() {
    let fmsctl = Fmsctl::new(NOBODY);
    let dir = fmsctl.config_home().join("fmsctl");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "sever = 'http://x'\n").unwrap();
    let mut command = fmsctl.command(&["ls"]);
    command.env_remove("FMSCTL_SERVER");
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_one_error_line(&stderr);
    assert!(stderr.contains("config.toml"), "{stderr}");
}

#[test]
fn the_config_file_names_the_server() {
    let fmsctl = Fmsctl::new(NOBODY);
    let dir = fmsctl.config_home().join("fmsctl");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "server = 'http://127.0.0.1:2/'\n").unwrap();
    let mut command = fmsctl.command(&["ls"]);
    command.env_remove("FMSCTL_SERVER");
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("http://127.0.0.1:2;"), "{stderr}");
}

#[test]
fn bash_completions_name_every_subcommand() {
    let run = Fmsctl::new(NOBODY).run(&["completions", "bash"]).ok();
    assert!(run.stdout.contains("complete -F _fmsctl"), "{}", run.stdout);
    for subcommand in ["login", "upload", "download", "ls", "share", "completions"] {
        assert!(
            run.stdout
                .contains(&format!("fmsctl__subcmd__{subcommand}")),
            "no {subcommand} in the bash completions"
        );
    }
    assert!(
        !run.stdout.contains("manpages"),
        "the hidden manpages command is offered"
    );
    assert!(run.stdout.contains("--version"), "{}", run.stdout);
    // Every shell clap_complete knows works.
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let run = Fmsctl::new(NOBODY).run(&["completions", shell]).ok();
        assert!(run.stdout.contains("upload"), "{shell}: {}", run.stdout);
    }
}

/// The short commit of the checkout the binaries were built from, if it is a git checkout.
fn built_commit() -> Option<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if !root.join(".git").exists() {
        return None;
    }
    let output = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&root)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Checks `NAME 0.1.0 (COMMIT)` from a git checkout, `NAME 0.1.0` from anything else.
fn assert_version_line(name: &str, printed: &str) {
    let version = env!("CARGO_PKG_VERSION");
    let line = printed.trim_end();
    match built_commit() {
        Some(full) => {
            let short = line
                .strip_prefix(&format!("{name} {version} ("))
                .and_then(|rest| rest.strip_suffix(')'))
                .unwrap_or_else(|| panic!("no commit in {line:?}"));
            assert!(
                short.len() >= 7 && full.starts_with(short),
                "{line:?} is not {full}"
            );
        }
        None => assert_eq!(line, format!("{name} {version}")),
    }
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let run = Fmsctl::new(NOBODY).run(&["--version"]).ok();
    assert_version_line("fmsctl", &run.stdout);
    let output = std::process::Command::new(support::fmsd_binary())
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_version_line("fmsd", &String::from_utf8_lossy(&output.stdout));
}

#[test]
fn man_pages_are_made_for_each_binary_and_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man");
    let out_text = out.to_str().unwrap();
    Fmsctl::new(NOBODY).run(&["manpages", out_text]).ok();
    let status = std::process::Command::new(support::fmsd_binary())
        .args(["--manpages", out_text])
        .status()
        .unwrap();
    assert!(status.success());
    for (page, title) in [
        ("fmsctl.1", ".TH fmsctl 1"),
        ("fmsctl-upload.1", ".TH fmsctl-upload 1"),
        ("fmsd.1", ".TH fmsd 1"),
    ] {
        let text = std::fs::read_to_string(out.join(page))
            .unwrap_or_else(|error| panic!("{page}: {error}"));
        assert!(text.contains(title), "{page}: {text}");
    }
    assert!(
        !out.join("fmsctl-manpages.1").exists(),
        "a hidden command got a page"
    );
}

#[test]
fn every_command_s_help_ends_with_examples() {
    let commands: &[&[&str]] = &[
        &["register"],
        &["login"],
        &["passwd"],
        &["account", "delete"],
        &["logout"],
        &["whoami"],
        &["upload"],
        &["download"],
        &["sync"],
        &["cat"],
        &["ls"],
        &["stat"],
        &["du"],
        &["find"],
        &["mkdir"],
        &["mv"],
        &["rm"],
        &["trash"],
        &["trash", "ls"],
        &["trash", "restore"],
        &["trash", "rm"],
        &["trash", "empty"],
        &["usage"],
        &["uploads"],
        &["share"],
        &["shares"],
        &["unshare"],
        &["notifications"],
        &["token", "create"],
        &["token", "ls"],
        &["token", "revoke"],
        &["completions"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let run = Fmsctl::new(NOBODY).run(&args).ok();
        let examples = run.stdout.rfind("Examples:").unwrap_or_else(|| {
            panic!("fmsctl {command:?} --help has no examples:\n{}", run.stdout)
        });
        let name = command.last().unwrap();
        assert!(
            run.stdout[examples..].contains(&format!("fmsctl {}", command.join(" ")))
                || run.stdout[examples..].contains(name),
            "fmsctl {command:?}: the examples do not show the command:\n{}",
            run.stdout
        );
    }
}
