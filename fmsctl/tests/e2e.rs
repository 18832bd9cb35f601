//! End to end: the real `fmsd` (started on port 0 with its own data folder) driven by the real
//! `fmsctl`. Build both first: `cargo build --workspace --bins`.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{
    assert_same_file, random_file, sha256_of, upload_and_interrupt_after_first_part, Fmsctl, Fmsd,
};

const MIB: usize = 1024 * 1024;

/// Registers `email` and logs in, both with `--password-stdin`.
fn register_and_login(fmsctl: &Fmsctl, email: &str, password: &str) {
    fmsctl.register_and_login(email, "Test User", password);
}

fn login(fmsctl: &Fmsctl, email: &str, password: &str) {
    let stdin = format!("{password}\n");
    let run = fmsctl
        .run_with_stdin(
            &["login", "--email", email, "--password-stdin"],
            Some(&stdin),
        )
        .ok();
    assert!(!run.stdout.contains(password) && !run.stderr.contains(password));
}

/// The `--json ls` entry named `name` in `folder`, if any.
fn listed(fmsctl: &Fmsctl, folder: &str, name: &str) -> Option<serde_json::Value> {
    let listing = fmsctl.run(&["--json", "ls", folder]).ok().json();
    assert_eq!(listing["path"], folder);
    listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["name"] == name)
        .cloned()
}

/// Waits up to 10 s for a `.eml` under `<data>/mail/` that greets `email`.
fn wait_for_welcome_mail(data_dir: &Path, email: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if mail_files(&data_dir.join("mail")).iter().any(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.contains(email) && text.contains("Welcome")
        }) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no welcome mail for {email} under {} within 10 s",
            data_dir.join("mail").display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn mail_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(mail_files(&path));
        } else if path.extension().is_some_and(|extension| extension == "eml") {
            found.push(path);
        }
    }
    found
}

#[test]
fn files_round_trip_and_survive_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let log = root.path().join("fmsd.log");
    let server = Fmsd::start(&data_dir, &log);
    let mut fmsctl = Fmsctl::new(&server.url);
    let email = "alice@example.com";
    let password = "correct horse battery staple";

    register_and_login(&fmsctl, email, password);
    let profile = fmsctl.run(&["--json", "whoami"]).ok().json();
    assert_eq!(profile["email"], email);
    let text = fmsctl.run(&["whoami"]).ok().stdout;
    assert!(text.contains(email), "{text}");

    fmsctl.run(&["mkdir", "-p", "/docs"]).ok();
    fmsctl.run(&["mkdir", "-p", "/docs"]).ok();
    fmsctl.run(&["mkdir", "/docs"]).expect_code(5);

    // 50 MiB of random bytes: several parts, sent in parallel.
    let big = root.path().join("big.bin");
    random_file(&big, 50 * MIB, 1);
    let big_sha = sha256_of(&big);
    let run = fmsctl.run(&["upload", big.to_str().unwrap(), "/docs"]).ok();
    assert!(run.stdout.contains("to /docs/big.bin"), "{}", run.stdout);
    // stderr is no terminal here: no progress bars, nothing at all.
    assert!(run.stderr.is_empty(), "{}", run.stderr);

    let long = fmsctl.run(&["ls", "-l", "/docs"]).ok().stdout;
    let line = long
        .lines()
        .find(|line| line.ends_with(" big.bin"))
        .unwrap_or_else(|| panic!("big.bin missing from `ls -l /docs`:\n{long}"));
    assert!(
        line.starts_with('-') && line.contains(&(50 * MIB).to_string()),
        "{line}"
    );
    let entry = listed(&fmsctl, "/docs", "big.bin").expect("big.bin is listed");
    assert_eq!(entry["size"], 50 * MIB as u64);
    assert_eq!(entry["sha256"], big_sha.as_str());
    assert_eq!(entry["kind"], "file");

    // Uploading over it again needs --overwrite.
    fmsctl
        .run(&["upload", big.to_str().unwrap(), "docs"])
        .expect_code(5);

    let downloaded = root.path().join("downloaded.bin");
    let result = fmsctl
        .run(&[
            "--json",
            "download",
            "/docs/big.bin",
            downloaded.to_str().unwrap(),
        ])
        .ok()
        .json();
    assert_eq!(result["size"], 50 * MIB as u64);
    assert_eq!(result["sha256"], big_sha.as_str());
    assert_same_file(&big, &downloaded);

    fmsctl.run(&["mv", "/docs/big.bin", "/docs/moved.bin"]).ok();
    assert!(listed(&fmsctl, "/docs", "big.bin").is_none());
    assert!(listed(&fmsctl, "/docs", "moved.bin").is_some());
    let deleted = fmsctl.run(&["--json", "rm", "/docs/moved.bin"]).ok().json();
    assert_eq!(deleted["n_files"], 1);
    assert!(listed(&fmsctl, "/docs", "moved.bin").is_none());

    // `mv` into an existing folder, `ls` of a file, `rm -r` of a folder.
    fmsctl.run(&["mkdir", "archive"]).ok();
    let small = root.path().join("small.txt");
    std::fs::write(&small, b"hello\n").unwrap();
    fmsctl.run(&["upload", small.to_str().unwrap()]).ok();
    let moved = fmsctl
        .run(&["--json", "mv", "small.txt", "archive"])
        .ok()
        .json();
    assert_eq!(moved["path"], "/archive/small.txt");
    let run = fmsctl.run(&["ls", "/archive/small.txt"]).ok();
    assert_eq!(run.stdout.trim(), "small.txt");
    fmsctl.run(&["rm", "/archive"]).expect_code(5);
    let deleted = fmsctl.run(&["--json", "rm", "-r", "/archive"]).ok().json();
    assert_eq!(
        (deleted["n_files"].as_u64(), deleted["n_folders"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(listed(&fmsctl, "/", "archive").is_none());

    // More entries than one page holds: `ls` follows the cursor to the end.
    let tree = root.path().join("tree");
    for index in 0..130 {
        std::fs::create_dir_all(tree.join(format!("folder-{index:03}"))).unwrap();
    }
    fmsctl.run(&["upload", "-r", tree.to_str().unwrap()]).ok();
    let listing = fmsctl.run(&["--json", "ls", "/tree"]).ok().json();
    assert_eq!(listing["entries"].as_array().unwrap().len(), 130);
    assert_eq!(fmsctl.run(&["ls", "tree"]).ok().stdout.lines().count(), 130);

    // A reader that goes away early is no error.
    let mut child = fmsctl
        .command(&["ls", "-l", "/tree"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
    fmsctl.run(&["rm", "/nope"]).expect_code(4);
    fmsctl.run(&["download", "/nope"]).expect_code(4);

    // An empty file, and a small one kept across the restart.
    let empty = root.path().join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    let keep = root.path().join("keep.bin");
    random_file(&keep, 3 * MIB + 17, 2);
    let uploaded = fmsctl
        .run(&[
            "--json",
            "upload",
            empty.to_str().unwrap(),
            keep.to_str().unwrap(),
            "/docs",
        ])
        .ok()
        .json();
    let sizes: Vec<u64> = uploaded
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [0, 3 * MIB as u64 + 17]);
    let empty_copy = root.path().join("empty-copy.txt");
    fmsctl
        .run(&["download", "/docs/empty.txt", empty_copy.to_str().unwrap()])
        .ok();
    assert_same_file(&empty, &empty_copy);

    let usage = fmsctl.run(&["--json", "usage"]).ok().json();
    assert_eq!(usage["used_bytes"], 3 * MIB as u64 + 17);

    wait_for_welcome_mail(&data_dir, email);

    let status = server.stop();
    assert!(status.success(), "fmsd exited with {status} after SIGTERM");

    // Same data folder, new port: log in again and find the file as it was.
    let server = Fmsd::start(&data_dir, &log);
    fmsctl.server = server.url.clone();
    login(&fmsctl, email, password);
    let entry = listed(&fmsctl, "/docs", "keep.bin").expect("keep.bin survives the restart");
    assert_eq!(entry["sha256"], sha256_of(&keep).as_str());
    let keep_copy = root.path().join("keep-copy.bin");
    fmsctl
        .run(&["download", "/docs/keep.bin", keep_copy.to_str().unwrap()])
        .ok();
    assert_same_file(&keep, &keep_copy);

    let logged_out = fmsctl.run(&["--json", "logout"]).ok().json();
    assert_eq!(logged_out["logged_out"], true);
    fmsctl.run(&["ls"]).expect_code(3);
    drop(server);
}

#[test]
fn an_interrupted_upload_resumes_where_it_stopped() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start(&root.path().join("data"), &root.path().join("fmsd.log"));
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(
        &fmsctl,
        "resume@example.com",
        "correct horse battery staple",
    );

    let big = root.path().join("resume.bin");
    random_file(&big, 64 * MIB, 3);

    // Send one part at a time and stop fmsctl dead once the server holds the first.
    upload_and_interrupt_after_first_part(&fmsctl, &big, || server.log_text());
    assert!(listed(&fmsctl, "/", "resume.bin").is_none());

    let run = fmsctl.run(&["upload", big.to_str().unwrap(), "/"]).ok();
    assert!(
        run.stderr.contains("resuming the upload of /resume.bin"),
        "the second run did not resume:\n{}",
        run.stderr
    );
    let entry = listed(&fmsctl, "/", "resume.bin").expect("resume.bin is listed");
    assert_eq!(entry["sha256"], sha256_of(&big).as_str());
    assert!(
        fmsctl.upload_records().is_empty(),
        "a completed upload leaves no record"
    );
    let copy = root.path().join("copy.bin");
    fmsctl
        .run(&["download", "/resume.bin", copy.to_str().unwrap()])
        .ok();
    assert_same_file(&big, &copy);

    // A download that stopped part way leaves `NAME.part`; the next run fetches only the rest.
    let resumed = root.path().join("resumed.bin");
    let part = root.path().join("resumed.bin.part");
    let original = std::fs::read(&big).unwrap();
    std::fs::write(&part, &original[..20 * MIB + 5]).unwrap();
    fmsctl
        .run(&["download", "/resume.bin", resumed.to_str().unwrap()])
        .ok();
    assert_same_file(&big, &resumed);
    assert!(!part.exists());

    // A `.part` that is not a prefix of the file fails the checksum and is deleted.
    let mut wrong = original[..MIB].to_vec();
    wrong[100] ^= 0xff;
    std::fs::write(&part, &wrong).unwrap();
    let run = fmsctl
        .run(&["download", "/resume.bin", resumed.to_str().unwrap()])
        .expect_code(1);
    assert!(run.stderr.contains("checksum mismatch"), "{}", run.stderr);
    assert!(!part.exists());
}

#[test]
fn a_server_without_room_refuses_uploads_with_exit_9_and_they_resume_once_it_has_room() {
    let root = tempfile::tempdir().unwrap();
    let (data, log) = (root.path().join("data"), root.path().join("fmsd.log"));
    // A floor no disk can keep: the server has no room for anything.
    let no_room = [("FMSD_FILES__MIN_FREE_BYTES", "1000000000000000000")];
    let server = Fmsd::start(&data, &log);
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, "room@example.com", "correct horse battery staple");
    let big = root.path().join("room.bin");
    random_file(&big, 64 * MIB, 9);
    upload_and_interrupt_after_first_part(&fmsctl, &big, || server.log_text());
    let address = server.address().to_owned();
    server.stop();

    // Refused at create (a new file) and at the parts (the resumed one), in one line each.
    let server = Fmsd::start_at(&address, &data, &log, &no_room);
    let small = root.path().join("small.bin");
    random_file(&small, MIB, 10);
    let run = fmsctl
        .run(&["upload", small.to_str().unwrap(), "/"])
        .expect_code(9);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("no room"), "{}", run.stderr);
    let run = fmsctl
        .run(&["upload", big.to_str().unwrap(), "/"])
        .expect_code(9);
    assert!(
        run.stderr.contains("run the command again to resume")
            && run.stderr.contains("files.min_free_bytes"),
        "{}",
        run.stderr
    );
    assert!(listed(&fmsctl, "/", "room.bin").is_none());
    server.stop();

    // With room again, the same command resumes and finishes.
    let server = Fmsd::start_at(&address, &data, &log, &[]);
    let run = fmsctl.run(&["upload", big.to_str().unwrap(), "/"]).ok();
    assert!(
        run.stderr.contains("resuming the upload of /room.bin"),
        "{}",
        run.stderr
    );
    let entry = listed(&fmsctl, "/", "room.bin").expect("room.bin is listed");
    assert_eq!(entry["sha256"], sha256_of(&big).as_str());
    drop(server);
}

#[test]
fn a_file_changed_since_the_interrupted_run_is_uploaded_afresh() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start(&root.path().join("data"), &root.path().join("fmsd.log"));
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(
        &fmsctl,
        "changed@example.com",
        "correct horse battery staple",
    );

    let big = root.path().join("changed.bin");
    random_file(&big, 64 * MIB, 7);
    upload_and_interrupt_after_first_part(&fmsctl, &big, || server.log_text());
    assert_eq!(
        fmsctl.upload_records().len(),
        1,
        "the interrupted run left no record"
    );

    // Same size, other bytes, a later mtime: the server's first part is stale now.
    random_file(&big, 64 * MIB, 8);
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&big)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let run = fmsctl.run(&["upload", big.to_str().unwrap(), "/"]).ok();
    assert!(
        !run.stderr.contains("resuming"),
        "a changed file must not resume:\n{}",
        run.stderr
    );
    let entry = listed(&fmsctl, "/", "changed.bin").expect("changed.bin is listed");
    assert_eq!(entry["sha256"], sha256_of(&big).as_str());
    let copy = root.path().join("copy.bin");
    fmsctl
        .run(&["download", "/changed.bin", copy.to_str().unwrap()])
        .ok();
    assert_same_file(&big, &copy);
}

/// The stored credentials file of `fmsctl`, as JSON.
fn store_credentials(fmsctl: &Fmsctl, credentials: serde_json::Value) {
    let path = fmsctl.config_home().join("fmsctl/credentials.json");
    let all = serde_json::json!({ fmsctl.server.clone(): credentials });
    std::fs::write(path, all.to_string()).unwrap();
}

#[test]
fn tokens_refresh_silently_and_the_quota_holds() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start_with(
        &root.path().join("data"),
        &root.path().join("fmsd.log"),
        &[
            ("FMSD_AUTH__ACCESS_TOKEN_TTL_SECS", "1"),
            ("FMSD_FILES__QUOTA_BYTES", &(8 * MIB).to_string()),
            ("FMSD_FILES__PART_SIZE_BYTES", &MIB.to_string()),
            ("FMSD_FILES__PART_URL_TTL_SECS", "2"),
        ],
    );
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(
        &fmsctl,
        "refresh@example.com",
        "correct horse battery staple",
    );
    let first = fmsctl.stored_credentials();

    // Expired (or about to be) by the clock: refreshed before the request.
    fmsctl.run(&["whoami"]).ok();
    let second = fmsctl.stored_credentials();
    assert_ne!(first["refresh_token"], second["refresh_token"]);

    // Expired although the stored expiry says otherwise: the 401 triggers one refresh.
    let mut lying = second.clone();
    lying["access_expires_at"] = "2999-01-01T00:00:00Z".into();
    store_credentials(&fmsctl, lying);
    // The server allows a few seconds of clock skew past the 1 s lifetime.
    std::thread::sleep(Duration::from_millis(7500));
    fmsctl.run(&["ls"]).ok();
    let third = fmsctl.stored_credentials();
    assert_ne!(second["refresh_token"], third["refresh_token"]);

    // Many small parts whose URLs expire every two seconds.
    let five = root.path().join("five.bin");
    random_file(&five, 5 * MIB + 1, 4);
    fmsctl
        .run(&["upload", "--parallel", "2", five.to_str().unwrap()])
        .ok();
    let copy = root.path().join("five-copy.bin");
    fmsctl
        .run(&["download", "/five.bin", copy.to_str().unwrap()])
        .ok();
    assert_same_file(&five, &copy);

    let four = root.path().join("four.bin");
    random_file(&four, 4 * MIB, 5);
    let run = fmsctl
        .run(&["upload", four.to_str().unwrap()])
        .expect_code(6);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    // A refresh token the server no longer knows: log in again.
    let mut revoked = fmsctl.stored_credentials();
    revoked["refresh_token"] = "not-a-token".into();
    revoked["access_expires_at"] = "2000-01-01T00:00:00Z".into();
    store_credentials(&fmsctl, revoked);
    let run = fmsctl.run(&["ls"]).expect_code(3);
    assert!(run.stderr.contains("fmsctl login"), "{}", run.stderr);
}

#[test]
fn app_tokens_serve_scripts_with_no_login_and_their_scope() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start(&root.path().join("data"), &root.path().join("fmsd.log"));
    let ann = Fmsctl::new(&server.url);
    register_and_login(&ann, "ann-tokens@example.com", "correct horse battery");
    let local = root.path().join("report.txt");
    std::fs::write(&local, b"quarterly figures").unwrap();

    // The secret alone on stdout, what it is on stderr.
    let made = ann.run(&["token", "create", "ci", "--expires", "30d"]).ok();
    let secret = made.stdout.trim().to_owned();
    assert!(secret.starts_with("fms_"), "{}", made.stdout);
    assert!(made.stderr.contains("shown only now"), "{}", made.stderr);
    let read_only = ann
        .run(&["--json", "token", "create", "dashboard", "--read-only"])
        .ok()
        .json();
    assert_eq!(read_only["scope"], "read");
    let reader_secret = read_only["secret"].as_str().unwrap().to_owned();

    // A script with the token: no login, nothing stored.
    let script = Fmsctl::with_app_token(&server.url, &secret);
    script.run(&["upload", local.to_str().unwrap(), "/"]).ok();
    let listing = script.run(&["--json", "ls", "/"]).ok().json();
    assert_eq!(listing["entries"][0]["name"], "report.txt");
    assert!(!script
        .config_home()
        .join("fmsctl/credentials.json")
        .exists());
    let whoami = script.run(&["whoami"]).ok();
    assert!(
        whoami.stdout.contains("ann-tokens@example.com"),
        "{}",
        whoami.stdout
    );

    // A read-only token reads, and a write is refused with exit 7.
    let reader = Fmsctl::with_app_token(&server.url, &reader_secret);
    let fetched = root.path().join("fetched.txt");
    reader
        .run(&["download", "/report.txt", fetched.to_str().unwrap()])
        .ok();
    assert_same_file(&local, &fetched);
    let refused = reader.run(&["rm", "/report.txt"]).expect_code(7);
    assert!(
        refused.stderr.contains("may only read"),
        "{}",
        refused.stderr
    );
    // Tokens are managed by a login only.
    let refused = script.run(&["token", "ls"]).expect_code(7);
    assert!(
        refused.stderr.contains("needs a login"),
        "{}",
        refused.stderr
    );

    // Listed with their scope and use, never with a secret; revoked, refused at once (exit 3).
    let listed = ann.run(&["--json", "token", "ls"]).ok();
    assert!(!listed.stdout.contains(&secret), "{}", listed.stdout);
    let tokens = listed.json()["tokens"].as_array().unwrap().clone();
    assert_eq!(tokens.len(), 2);
    let ci = tokens.iter().find(|token| token["name"] == "ci").unwrap();
    assert!(ci["last_used_at"].is_string(), "{ci}");
    assert!(ci["expires_at"].is_string(), "{ci}");
    let table = ann.run(&["token", "ls"]).ok();
    assert!(
        table.stdout.contains("read-write") && table.stdout.contains("never"),
        "{}",
        table.stdout
    );
    ann.run(&["token", "revoke", ci["id"].as_str().unwrap()])
        .ok();
    let refused = script.run(&["ls", "/"]).expect_code(3);
    assert!(
        refused.stderr.contains("FMSCTL_TOKEN was refused"),
        "{}",
        refused.stderr
    );
    let bad_expiry = ann
        .run(&["token", "create", "x", "--expires", "soon"])
        .expect_code(2);
    assert!(
        bad_expiry.stderr.contains("--expires"),
        "{}",
        bad_expiry.stderr
    );
}

#[test]
fn parallel_commands_share_one_session_through_many_refreshes() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start_with(
        &root.path().join("data"),
        &root.path().join("fmsd.log"),
        &[("FMSD_AUTH__ACCESS_TOKEN_TTL_SECS", "2")],
    );
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, "parallel@example.com", "correct horse battery");

    // Every command refreshes (the token lives 2 s, less than fmsctl's margin), 20 at once.
    for round in 0..5 {
        let children: Vec<_> = (0..20)
            .map(|n| {
                let args: &[&str] = match n % 3 {
                    0 => &["ls", "/"],
                    1 => &["whoami"],
                    _ => &["usage"],
                };
                let child = fmsctl
                    .command(args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (args.join(" "), child)
            })
            .collect();
        for (args, child) in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: fmsctl {args} exited {:?}: {}",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    fmsctl.run(&["whoami"]).ok();

    // A reader that leaves after one line, while fmsctl refreshes and logs at length: the new
    // pair is saved all the same, and the session lives on.
    let before = fmsctl.stored_credentials();
    let mut child = fmsctl
        .command(&["-vv", "whoami"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    std::io::Read::read_exact(child.stderr.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stderr.take());
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "fmsctl -vv whoami with its reader gone: {status}"
    );
    let after = fmsctl.stored_credentials();
    assert_ne!(before["refresh_token"], after["refresh_token"]);
    // Past the server's grace for a refresh token presented twice: only a saved pair works.
    std::thread::sleep(Duration::from_secs(11));
    fmsctl.run(&["whoami"]).ok();
    fmsctl.run(&["ls", "/"]).ok();
}

#[test]
fn stdin_and_stdout_stream_and_a_fifo_is_written_through() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start(&root.path().join("data"), &root.path().join("fmsd.log"));
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, "streams@example.com", "correct horse battery");
    let source = root.path().join("source.bin");
    random_file(&source, 3 * MIB + 17, 9);
    let bytes = std::fs::read(&source).unwrap();

    // Stdin of unknown length into a remote file.
    fmsctl.run(&["mkdir", "/backups"]).ok();
    let mut child = fmsctl
        .command(&["upload", "-", "/backups/db.bin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feed = bytes.clone();
    let writer = std::thread::spawn(move || {
        for chunk in feed.chunks(64 * 1024) {
            std::io::Write::write_all(&mut stdin, chunk).unwrap();
        }
    });
    writer.join().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Out again on stdout, by cat and by download -, with nothing else on stdout.
    for args in [
        &["cat", "/backups/db.bin"][..],
        &["download", "/backups/db.bin", "-"],
    ] {
        let output = fmsctl.command(args).stdin(Stdio::null()).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.stdout == bytes,
            "{args:?}: {} bytes",
            output.stdout.len()
        );
    }

    // A fifo is written through and stays a fifo.
    let fifo = root.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read(reader_path).unwrap());
    fmsctl
        .run(&["download", "/backups/db.bin", fifo.to_str().unwrap()])
        .ok();
    assert!(reader.join().unwrap() == bytes);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    // So is a device.
    fmsctl
        .run(&["download", "/backups/db.bin", "/dev/null"])
        .ok();
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());

    // `-` needs the remote file, and goes alone.
    let run = fmsctl.run(&["upload", "-"]).expect_code(2);
    assert!(run.stderr.contains("upload - /"), "{}", run.stderr);
    fmsctl
        .run(&["upload", "-", source.to_str().unwrap(), "/x"])
        .expect_code(2);
}

#[test]
fn register_logs_in_login_remembers_and_the_account_commands_work() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start(&root.path().join("data"), &root.path().join("fmsd.log"));
    let fmsctl = Fmsctl::new(&server.url);
    let old = "correct horse battery\n";
    fmsctl
        .run_with_stdin(
            &[
                "register",
                "--email",
                "acct@example.com",
                "--name",
                "Acct",
                "--password-stdin",
            ],
            Some(old),
        )
        .ok();
    // Logged in by register; after logout, a bare login knows the address.
    fmsctl.run(&["whoami"]).ok();
    fmsctl.run(&["logout"]).ok();
    fmsctl
        .run_with_stdin(&["login", "--password-stdin"], Some(old))
        .ok();

    // passwd: this session stays, app tokens end, only the new password logs in.
    let token = fmsctl
        .run(&["token", "create", "old"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let new = "an entirely new password";
    fmsctl
        .run_with_stdin(
            &["passwd", "--password-stdin"],
            Some(&format!("correct horse battery\n{new}\n")),
        )
        .ok();
    fmsctl.run(&["whoami"]).ok();
    Fmsctl::with_app_token(&server.url, &token)
        .run(&["ls", "/"])
        .expect_code(3);
    let other = Fmsctl::new(&server.url);
    other
        .run_with_stdin(
            &["login", "--email", "acct@example.com", "--password-stdin"],
            Some(old),
        )
        .expect_code(3);
    other
        .run_with_stdin(
            &["login", "--email", "acct@example.com", "--password-stdin"],
            Some(&format!("{new}\n")),
        )
        .ok();
    let wrong = fmsctl
        .run_with_stdin(
            &["passwd", "--password-stdin"],
            Some("not it at all\nwhatever else\n"),
        )
        .expect_code(3);
    assert_eq!(wrong.stderr.lines().count(), 1, "{}", wrong.stderr);

    // Deleting asks for the address typed out, unless --yes; without a terminal, --yes it is.
    let refused = fmsctl
        .run_with_stdin(
            &["account", "delete", "--password-stdin"],
            Some(&format!("{new}\n")),
        )
        .expect_code(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    fmsctl.run(&["whoami"]).ok();
    fmsctl
        .run_with_stdin(
            &["account", "delete", "--yes", "--password-stdin"],
            Some(&format!("{new}\n")),
        )
        .ok();
    fmsctl.run(&["whoami"]).expect_code(3);
    other.run(&["whoami"]).expect_code(3);

    // --no-login registers only.
    let quiet = Fmsctl::new(&server.url);
    quiet
        .run_with_stdin(
            &[
                "register",
                "--email",
                "q@example.com",
                "--name",
                "Q",
                "--password-stdin",
                "--no-login",
            ],
            Some(old),
        )
        .ok();
    quiet.run(&["whoami"]).expect_code(3);
}

#[test]
fn folders_are_listed_measured_searched_and_matched_remotely() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start_with(
        &root.path().join("data"),
        &root.path().join("fmsd.log"),
        &[("FMSD_AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT", "3")],
    );
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, "tree@example.com", "correct horse battery");
    let local = root.path().join("photos");
    std::fs::create_dir_all(local.join("2024/summer")).unwrap();
    random_file(&local.join("a.jpg"), 2 * MIB, 1);
    random_file(&local.join("notes.txt"), 10, 2);
    random_file(&local.join("2024/b.jpg"), 1000, 3);
    random_file(&local.join("2024/summer/c.jpg"), 3000, 4);
    fmsctl
        .run(&["upload", "-r", local.to_str().unwrap(), "/"])
        .ok();

    // ls -R, and -lh (not the help).
    let tree = fmsctl.run(&["ls", "-R", "/photos"]).ok().stdout;
    for line in [
        "/photos:",
        "/photos/2024:",
        "/photos/2024/summer:",
        "c.jpg",
        "summer/",
    ] {
        assert!(tree.lines().any(|l| l == line), "{line} missing in\n{tree}");
    }
    let long = fmsctl.run(&["ls", "-lh", "/photos"]).ok().stdout;
    assert!(
        long.contains("2.00 MiB") && long.contains("a.jpg"),
        "{long}"
    );
    let help = fmsctl.run(&["ls", "--help"]).ok().stdout;
    assert!(help.contains("--human"), "{help}");

    // Quoted patterns, expanded against the remote tree (`**/` is zero or more folders).
    let jpgs = fmsctl.run(&["ls", "/photos/**/*.jpg"]).ok().stdout;
    assert_eq!(
        jpgs.lines().collect::<Vec<_>>(),
        [
            "/photos/2024/b.jpg",
            "/photos/2024/summer/c.jpg",
            "/photos/a.jpg"
        ],
        "{jpgs}"
    );
    let top = fmsctl.run(&["--json", "ls", "/photos/*.jpg"]).ok().json();
    assert_eq!(top["entries"].as_array().unwrap().len(), 1, "{top}");
    let none = fmsctl.run(&["ls", "/photos/*.png"]).expect_code(4);
    assert!(none.stderr.contains("nothing matches"), "{}", none.stderr);

    // stat, du, find.
    let stat = fmsctl.run(&["--json", "stat", "/photos/a.jpg"]).ok().json();
    assert_eq!(stat["size"], 2 * MIB);
    assert_eq!(stat["sha256"], sha256_of(&local.join("a.jpg")));
    let text = fmsctl.run(&["stat", "/photos/a.jpg"]).ok().stdout;
    assert!(text.contains("2.00 MiB (2097152 bytes)"), "{text}");
    let du = fmsctl.run(&["--json", "du", "/photos"]).ok().json();
    let rows = du.as_array().unwrap();
    let total = rows.iter().find(|row| row["path"] == "/photos").unwrap();
    assert_eq!(total["bytes"], 2 * MIB + 10 + 1000 + 3000);
    assert_eq!(total["files"], 4);
    let year = rows
        .iter()
        .find(|row| row["path"] == "/photos/2024")
        .unwrap();
    assert_eq!(year["bytes"], 4000);
    assert_eq!(
        rows.last().unwrap()["path"],
        "/photos",
        "the total comes last"
    );
    let summary = fmsctl.run(&["--json", "du", "-s", "/photos"]).ok().json();
    assert_eq!(summary.as_array().unwrap().len(), 1);
    let found = fmsctl
        .run(&[
            "find", "/photos", "--name", "*.jpg", "--larger", "1.5k", "--newer", "1h",
        ])
        .ok()
        .stdout;
    assert_eq!(
        found.lines().collect::<Vec<_>>(),
        ["/photos/2024/summer/c.jpg", "/photos/a.jpg"],
        "{found}"
    );
    let folders = fmsctl.run(&["find", "/photos", "--type", "d"]).ok().stdout;
    assert_eq!(folders.lines().count(), 2, "{folders}");
    fmsctl
        .run(&["find", "/photos", "--larger", "lots"])
        .expect_code(2);

    // mv and rm with patterns: every match, each reported.
    fmsctl.run(&["mkdir", "/pictures"]).ok();
    let moved = fmsctl
        .run(&["mv", "/photos/**/*.jpg", "/pictures"])
        .ok()
        .stdout;
    assert_eq!(moved.lines().count(), 3, "{moved}");
    let removed = fmsctl.run(&["--json", "rm", "/pictures/*.jpg"]).ok().json();
    assert_eq!(removed["removed"].as_array().unwrap().len(), 3, "{removed}");
    assert!(removed["failed"].as_array().unwrap().is_empty());
    fmsctl.run(&["rm", "/pictures/*.jpg"]).expect_code(4);

    // A rate-limited login has its own exit code.
    let other = Fmsctl::new(&server.url);
    let mut last = None;
    for _ in 0..5 {
        let run = other.run_with_stdin(
            &["login", "--email", "tree@example.com", "--password-stdin"],
            Some("wrong password here\n"),
        );
        last = Some(run);
    }
    let last = last.unwrap().expect_code(10);
    assert!(last.stderr.contains("try again"), "{}", last.stderr);
}

#[test]
fn a_batch_that_meets_the_quota_reports_every_file_and_reserves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start_with(
        &root.path().join("data"),
        &root.path().join("fmsd.log"),
        &[
            ("FMSD_FILES__QUOTA_BYTES", &(3 * MIB).to_string()),
            ("FMSD_FILES__PART_SIZE_BYTES", &MIB.to_string()),
        ],
    );
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, "batch@example.com", "correct horse battery");
    let files: Vec<_> = [("s1.bin", MIB), ("s2.bin", MIB), ("s3.bin", 3 * MIB / 2)]
        .iter()
        .enumerate()
        .map(|(seed, (name, size))| {
            let path = root.path().join(name);
            random_file(&path, *size, seed as u64);
            path.to_str().unwrap().to_owned()
        })
        .collect();
    let usage = |fmsctl: &Fmsctl| fmsctl.run(&["--json", "usage"]).ok().json();
    let before = usage(&fmsctl);

    // Any two fit, all three do not: two arrive, one is refused, and every one is told.
    let mut args = vec!["--json", "upload"];
    args.extend(files.iter().map(String::as_str));
    args.push("/");
    let run = fmsctl.run(&args).expect_code(6);
    assert_eq!(run.json().as_array().unwrap().len(), 2, "{}", run.stdout);
    let error: serde_json::Value = serde_json::from_str(run.stderr.trim()).unwrap();
    assert_eq!(error["error"]["code"], "quota_exceeded", "{}", run.stderr);
    assert_eq!(error["error"]["exit_code"], 6);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 of 3 files failed, 2 uploaded"),
        "{error}"
    );

    // Failed tries reserve nothing: usage holds exactly the two files, again after a retry.
    let after = usage(&fmsctl);
    assert_eq!(after["reserved_bytes"], before["reserved_bytes"]);
    assert_eq!(after["n_files"], 2);
    let mut text = vec!["upload"];
    text.extend(files.iter().map(String::as_str));
    text.push("/");
    let again = fmsctl.run(&text);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("add --overwrite"), "{}", again.stderr);
    assert!(
        !again.stderr.contains("overwrite=replace"),
        "{}",
        again.stderr
    );
    assert!(
        again.stderr.contains("3 of 3 files failed"),
        "{}",
        again.stderr
    );
    fmsctl.run(&["mkdir", "/full"]).ok();
    fmsctl.run(&["mkdir", "/full/inside"]).ok();
    let not_empty = fmsctl.run(&["rm", "/full"]).expect_code(5);
    assert!(not_empty.stderr.contains("add -r"), "{}", not_empty.stderr);
    assert_eq!(usage(&fmsctl)["reserved_bytes"], before["reserved_bytes"]);
}

#[test]
fn cp_copies_on_the_server_into_folders_and_whole_trees_with_r() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start(&root.path().join("data"), &root.path().join("fmsd.log"));
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, "cp@example.com", "correct horse battery");
    let local = root.path().join("report.bin");
    random_file(&local, 3 * MIB + 7, 5);
    fmsctl.run(&["mkdir", "-p", "/docs/old"]).ok();
    fmsctl
        .run(&["upload", local.to_str().unwrap(), "/docs"])
        .ok();

    // Into a folder, as cp(1) does; the copy is byte for byte the original.
    let run = fmsctl.run(&["cp", "/docs/report.bin", "/docs/old"]).ok();
    assert!(
        run.stdout
            .contains("copied /docs/report.bin to /docs/old/report.bin"),
        "{}",
        run.stdout
    );
    let back = root.path().join("back.bin");
    fmsctl
        .run(&["download", "/docs/old/report.bin", back.to_str().unwrap()])
        .ok();
    assert_same_file(&local, &back);

    // A file there needs --overwrite; a folder needs -r.
    let run = fmsctl
        .run(&["cp", "/docs/report.bin", "/docs/old/report.bin"])
        .expect_code(5);
    assert!(run.stderr.contains("--overwrite"), "{}", run.stderr);
    fmsctl
        .run(&[
            "cp",
            "--overwrite",
            "/docs/report.bin",
            "/docs/old/report.bin",
        ])
        .ok();
    let run = fmsctl.run(&["cp", "/docs", "/backup"]).expect_code(2);
    assert!(run.stderr.contains("-r"), "{}", run.stderr);
    let copied = fmsctl
        .run(&["--json", "cp", "-r", "/docs", "/backup"])
        .ok()
        .json();
    assert_eq!(copied["path"], "/backup");
    let tree = fmsctl.run(&["ls", "-R", "/backup"]).ok().stdout;
    assert!(
        tree.contains("report.bin") && tree.contains("old"),
        "{tree}"
    );
    let usage = fmsctl.run(&["--json", "usage"]).ok().json();
    assert_eq!(usage["used_bytes"], 4 * (3 * MIB as u64 + 7));
}

#[test]
fn an_upload_that_fails_for_good_ends_its_session_and_gives_the_quota_back() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start_with(
        &root.path().join("data"),
        &root.path().join("fmsd.log"),
        &[("FMSD_FILES__PART_SIZE_BYTES", &MIB.to_string())],
    );
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, "gone@example.com", "correct horse battery");
    let file = root.path().join("vanishing.bin");
    random_file(&file, 96 * MIB, 3);

    // The file disappears once its first part is stored: the next part cannot be read, which
    // no rerun mends, so fmsctl ends the session instead of leaving it to hold the quota.
    let mut child = fmsctl
        .command(&[
            "-v",
            "upload",
            "--parallel",
            "1",
            file.to_str().unwrap(),
            "/",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    let mut removed = false;
    for line in std::io::BufRead::lines(stderr).map_while(Result::ok) {
        if !removed && line.contains("part stored") {
            std::fs::remove_file(&file).unwrap();
            removed = true;
        }
        log.push_str(&line);
        log.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(removed, "no part was stored:\n{log}");
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(log.contains("upload aborted"), "{log}");
    assert!(!log.contains("run the command again to resume"), "{log}");

    let held = fmsctl.run(&["--json", "uploads"]).ok().json();
    assert_eq!(held["uploads"].as_array().unwrap().len(), 0, "{held}");
    assert_eq!(
        fmsctl.run(&["--json", "usage"]).ok().json()["reserved_bytes"],
        0
    );
    assert!(fmsctl.upload_records().is_empty());
}

#[test]
fn a_folder_of_small_files_goes_by_the_batch_and_arrives_whole() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start(&root.path().join("data"), &root.path().join("fmsd.log"));
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, "small@example.com", "correct horse battery");
    // 230 small files (more than two batches, one of them empty, some in a subfolder) and one
    // of 5 MiB, which goes alone.
    let tree = root.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    let mut expected = std::collections::BTreeMap::new();
    for n in 0..230u64 {
        let folder = if n % 3 == 0 { "sub/" } else { "" };
        let name = format!("{folder}f{n:03}.bin");
        let path = tree.join(&name);
        random_file(&path, (n as usize * 37) % 9000, n);
        expected.insert(format!("/tree/{name}"), sha256_of(&path));
    }
    let big = tree.join("big.bin");
    random_file(&big, 5 * MIB, 999);
    expected.insert("/tree/big.bin".to_owned(), sha256_of(&big));

    let run = fmsctl
        .run(&["--json", "upload", "-r", tree.to_str().unwrap(), "/"])
        .ok();
    let entries = run.json();
    let uploaded: std::collections::BTreeMap<String, String> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["path"].as_str().unwrap().to_owned(),
                entry["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(uploaded, expected);
    let usage = fmsctl.run(&["--json", "usage"]).ok().json();
    assert_eq!(
        (usage["n_files"].as_u64(), usage["reserved_bytes"].as_u64()),
        (Some(231), Some(0))
    );
    let listed_sha = listed(&fmsctl, "/tree/sub", "f003.bin").unwrap()["sha256"].clone();
    assert_eq!(listed_sha, expected["/tree/sub/f003.bin"].as_str());

    // Again: every file is there, so every one is refused and told; with --overwrite every
    // one is replaced.
    let again = fmsctl.run(&["upload", "-r", tree.to_str().unwrap(), "/"]);
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("231 of 231 files failed"),
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains("add --overwrite"), "{}", again.stderr);
    fmsctl
        .run(&["upload", "--overwrite", "-r", tree.to_str().unwrap(), "/"])
        .ok();
    let usage = fmsctl.run(&["--json", "usage"]).ok().json();
    assert_eq!(
        (usage["n_files"].as_u64(), usage["reserved_bytes"].as_u64()),
        (Some(231), Some(0))
    );
}
