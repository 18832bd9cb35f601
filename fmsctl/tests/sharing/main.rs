//! Sharing end to end on the embedded default: the real `fmsd` (port 0, its own data folder)
//! driven by the real `fmsctl` as two customers and as an anonymous holder of links. Build
//! both first: `cargo build --workspace --bins`. Folder links: [`folder_links`].

#![allow(clippy::unwrap_used)]

mod folder_links;
#[path = "../support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::{assert_same_file, random_file, Fmsctl, Fmsd, Run};

const PASSWORD: &str = "correct horse battery staple";
const LINK_PASSWORD: &str = "link password 42";
const FORBIDDEN: i32 = 7;
const GONE: i32 = 8;

/// Registers `email` under `name` and logs in.
fn register_and_login(fmsctl: &Fmsctl, email: &str, name: &str) {
    fmsctl.register_and_login(email, name, PASSWORD);
}

/// `fmsctl share PATH --with EMAIL --role ROLE`, tried again for up to 5 s while the server's
/// directory of customers (fed by events) does not know the recipient yet.
fn share_with(fmsctl: &Fmsctl, path: &str, email: &str, role: &str) -> Run {
    let args = ["share", path, "--with", email, "--role", role];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let run = fmsctl.run(&args);
        if run.code != 4 || Instant::now() > deadline {
            return run.ok();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Names in `fmsctl --json ls PATH`.
fn names(fmsctl: &Fmsctl, path: &str) -> Vec<String> {
    let listing = fmsctl.run(&["--json", "ls", path]).ok().json();
    listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["name"].as_str().unwrap().to_string())
        .collect()
}

fn start(root: &Path) -> Fmsd {
    Fmsd::start(&root.join("data"), &root.join("fmsd.log"))
}

#[test]
fn a_folder_shared_with_a_viewer_then_an_editor() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path());
    let alice = Fmsctl::new(&server.url);
    let bob = Fmsctl::new(&server.url);
    register_and_login(&alice, "alice@example.com", "Alice");
    register_and_login(&bob, "bob@example.com", "Bob");

    let report = root.path().join("report.bin");
    random_file(&report, 3 * 1024 * 1024 + 5, 21);
    alice.run(&["mkdir", "/team"]).ok();
    alice
        .run(&["upload", report.to_str().unwrap(), "/team"])
        .ok();

    let run = share_with(&alice, "/team", "bob@example.com", "viewer");
    assert!(
        run.stdout.contains("/team") && run.stdout.contains("bob@example.com"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("viewer"), "{}", run.stdout);

    // Bob sees it, lists it and downloads from it.
    let text = bob.run(&["ls", "--shared"]).ok().stdout;
    let line = text.lines().find(|line| line.starts_with("team/")).unwrap();
    assert!(
        line.contains("alice@example.com") && line.contains("viewer") && line.contains("folder"),
        "{text}"
    );
    let incoming = bob.run(&["--json", "ls", "--shared"]).ok().json();
    let share = &incoming["shares"][0];
    assert_eq!(share["name"], "team");
    assert!(share.get("path").is_none(), "{share}");
    assert_eq!(
        bob.run(&["ls", "shared:team"]).ok().stdout.trim(),
        "report.bin"
    );
    let listing = bob.run(&["--json", "ls", "shared:team/"]).ok().json();
    assert_eq!(listing["entries"][0]["path"], "/report.bin");
    let by_id = format!("shared:{}", share["id"].as_str().unwrap());
    assert_eq!(names(&bob, &by_id), ["report.bin"]);
    let copy = root.path().join("copy.bin");
    bob.run(&["download", "shared:team/report.bin", copy.to_str().unwrap()])
        .ok();
    assert_same_file(&report, &copy);

    // A viewer writes nothing.
    let run = bob
        .run(&["rm", "shared:team/report.bin"])
        .expect_code(FORBIDDEN);
    assert!(
        run.stderr.contains("shared:team/report.bin"),
        "{}",
        run.stderr
    );
    bob.run(&["mkdir", "shared:team/sub"])
        .expect_code(FORBIDDEN);
    let note = root.path().join("note.txt");
    std::fs::write(&note, b"from bob\n").unwrap();
    bob.run(&["upload", note.to_str().unwrap(), "shared:team"])
        .expect_code(FORBIDDEN);
    bob.run(&["ls", "shared:nothing"]).expect_code(4);

    // As an editor he uploads (into Alice's quota), makes folders, moves and deletes.
    let run = share_with(&alice, "/team", "bob@example.com", "editor");
    assert!(run.stdout.contains("editor"), "{}", run.stdout);
    let run = bob
        .run(&["upload", note.to_str().unwrap(), "shared:team"])
        .ok();
    assert!(
        run.stdout.contains("to shared:team/note.txt"),
        "{}",
        run.stdout
    );
    assert_eq!(names(&alice, "/team"), ["note.txt", "report.bin"]);
    let usage = alice.run(&["--json", "usage"]).ok().json();
    assert_eq!(usage["used_bytes"], 3 * 1024 * 1024 + 5 + 9);
    assert_eq!(bob.run(&["--json", "usage"]).ok().json()["used_bytes"], 0);
    bob.run(&["mkdir", "shared:team/sub"]).ok();
    let moved = bob
        .run(&["--json", "mv", "shared:team/note.txt", "shared:team/sub"])
        .ok()
        .json();
    assert_eq!(moved["path"], "/sub/note.txt");
    bob.run(&["mv", "shared:team/sub", "/mine"]).expect_code(2);
    assert_eq!(names(&alice, "/team/sub"), ["note.txt"]);
    bob.run(&["rm", "shared:team/sub/note.txt"]).ok();
    assert!(names(&alice, "/team/sub").is_empty());
    bob.run(&["rm", "-r", "shared:team"]).expect_code(FORBIDDEN);

    // The owner's view.
    let outgoing = alice.run(&["--json", "shares", "--outgoing"]).ok().json();
    assert_eq!(outgoing["outgoing"][0]["path"], "/team");
    assert_eq!(outgoing["outgoing"][0]["role"], "editor");
    assert!(outgoing.get("incoming").is_none() && outgoing.get("links").is_none());
    let text = alice.run(&["shares"]).ok().stdout;
    assert!(
        text.contains("Shared by me:") && text.contains("bob@example.com"),
        "{text}"
    );

    // Two items of one name: the name is ambiguous, and the error names both ids.
    alice.run(&["mkdir", "-p", "/other/team"]).ok();
    share_with(&alice, "/other/team", "bob@example.com", "viewer");
    let run = bob.run(&["ls", "shared:team"]).expect_code(2);
    let ids: Vec<String> = bob.run(&["--json", "shares", "--incoming"]).ok().json()["incoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(|share| share["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        ids.iter().all(|id| run.stderr.contains(id)),
        "{}",
        run.stderr
    );

    // Revoking works at once; so does leaving.
    alice
        .run(&["unshare", "/team", "--with", "BOB@example.com"])
        .ok();
    alice
        .run(&["unshare", "/team", "--with", "bob@example.com"])
        .expect_code(4);
    assert_eq!(names(&bob, "shared:team"), Vec::<String>::new());
    let remaining = bob.run(&["--json", "ls", "--shared"]).ok().json();
    let remaining_id = remaining["shares"][0]["id"].as_str().unwrap().to_string();
    bob.run(&["unshare", &remaining_id]).ok();
    bob.run(&["ls", "shared:team"]).expect_code(4);
    drop(server);
}

#[test]
fn a_link_with_a_password_and_one_download() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path());
    let alice = Fmsctl::new(&server.url);
    register_and_login(&alice, "alice@example.com", "Alice");
    let anybody = Fmsctl::new("http://127.0.0.1:1");

    let document = root.path().join("document.bin");
    random_file(&document, 2 * 1024 * 1024 + 3, 22);
    alice.run(&["upload", document.to_str().unwrap()]).ok();
    let run = alice
        .run_with_stdin(
            &[
                "share",
                "/document.bin",
                "--link",
                "--expires",
                "2d",
                "--max-downloads",
                "1",
                "--password-stdin",
            ],
            Some(&format!("{LINK_PASSWORD}\n")),
        )
        .ok();
    let url = run.stdout.trim().to_string();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(url.starts_with("http") && url.contains("/s/"), "{url}");

    // No password: nobody to ask. A wrong one: refused.
    let out = root.path().join("out.bin");
    let out_arg = out.to_str().unwrap();
    let run = anybody.run(&["download", &url, out_arg]).expect_code(2);
    assert!(run.stderr.contains("--password-stdin"), "{}", run.stderr);
    anybody
        .run_with_stdin(
            &["download", &url, out_arg, "--password-stdin"],
            Some("not the password\n"),
        )
        .expect_code(3);
    assert!(!out.exists());

    let password = format!("{LINK_PASSWORD}\n");
    let listed = anybody
        .run_with_stdin(&["ls", "-l", &url, "--password-stdin"], Some(&password))
        .ok()
        .stdout;
    assert!(listed.trim().ends_with(" document.bin"), "{listed}");
    anybody
        .run_with_stdin(
            &["download", &url, out_arg, "--password-stdin"],
            Some(&password),
        )
        .ok();
    assert_same_file(&document, &out);
    let again = root.path().join("again.bin");
    let run = anybody
        .run_with_stdin(
            &[
                "download",
                &url,
                again.to_str().unwrap(),
                "--password-stdin",
            ],
            Some(&password),
        )
        .expect_code(GONE);
    assert!(!again.exists(), "{}", run.stderr);

    let links = alice.run(&["--json", "shares", "--links"]).ok().json();
    let link = &links["links"][0];
    assert_eq!(link["downloads"], 1);
    assert_eq!(link["max_downloads"], 1);
    assert_eq!(link["has_password"], true);

    // A link without limits, revoked.
    let created = alice
        .run(&["--json", "share", "/document.bin", "--link"])
        .ok()
        .json();
    let open_url = created["url"].as_str().unwrap().to_string();
    let listed = anybody.run(&["ls", &open_url]).ok().stdout;
    assert_eq!(listed.trim(), "document.bin");
    alice
        .run(&["unshare", "--link", created["id"].as_str().unwrap()])
        .ok();
    anybody
        .run(&["download", &open_url, out_arg])
        .expect_code(4);

    // A folder link lists; downloading it points at `ls`.
    alice.run(&["mkdir", "/album"]).ok();
    alice
        .run(&["upload", document.to_str().unwrap(), "/album"])
        .ok();
    let url = alice.run(&["share", "/album", "--link"]).ok().stdout;
    let url = url.trim();
    assert_eq!(anybody.run(&["ls", url]).ok().stdout.trim(), "document.bin");
    let run = anybody.run(&["download", url]).expect_code(2);
    assert!(
        run.stderr.contains(&format!("fmsctl ls {url}")),
        "{}",
        run.stderr
    );
    drop(server);
}

#[test]
fn a_file_request_takes_uploads_without_a_login() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path());
    let alice = Fmsctl::new(&server.url);
    register_and_login(&alice, "alice@example.com", "Alice");
    let anybody = Fmsctl::new("http://127.0.0.1:1");

    alice.run(&["mkdir", "/inbox"]).ok();
    alice
        .run(&["share", "/inbox", "--link", "--upload-only"])
        .expect_code(0);
    let url = alice
        .run(&[
            "share",
            "/inbox",
            "--link",
            "--upload-only",
            "--expires",
            "12h",
        ])
        .ok()
        .stdout
        .trim()
        .to_string();

    let scan = root.path().join("scan.pdf");
    random_file(&scan, 1024 * 1024 + 1, 23);
    let run = anybody.run(&["upload", scan.to_str().unwrap(), &url]).ok();
    assert!(
        run.stdout.contains("scan.pdf via the link"),
        "{}",
        run.stdout
    );
    let uploaded = anybody
        .run(&["--json", "upload", scan.to_str().unwrap(), &url])
        .ok()
        .json();
    // The uploader is not told that the name was taken: the owner's copy is renamed.
    assert_eq!(uploaded[0]["name"], "scan.pdf");

    // Nobody lists or downloads through it.
    anybody.run(&["ls", &url]).expect_code(FORBIDDEN);
    let run = anybody.run(&["download", &url]).expect_code(2);
    assert!(run.stderr.contains("file request"), "{}", run.stderr);

    assert_eq!(names(&alice, "/inbox"), ["scan (2).pdf", "scan.pdf"]);
    let copy = root.path().join("copy.pdf");
    alice
        .run(&["download", "/inbox/scan (2).pdf", copy.to_str().unwrap()])
        .ok();
    assert_same_file(&scan, &copy);
    let links = alice.run(&["--json", "shares", "--links"]).ok().json();
    let uploads: Vec<u64> = links["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|link| link["uploads"].as_u64().unwrap())
        .collect();
    assert_eq!(uploads, [2, 0], "newest first");
    drop(server);
}

#[test]
fn the_owner_lists_and_aborts_an_upload_a_link_visitor_left_open() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path());
    let alice = Fmsctl::new(&server.url);
    register_and_login(&alice, "alice@example.com", "Alice");
    alice.run(&["mkdir", "/inbox"]).ok();
    let url = alice
        .run(&["share", "/inbox", "--link", "--upload-only"])
        .ok()
        .stdout
        .trim()
        .to_string();
    // A visitor starts an upload through the link and never sends a byte.
    let started = std::process::Command::new("curl")
        .args([
            "-sS",
            "-f",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
        ])
        .args(["-d", r#"{"name": "big.iso", "size": 5000}"#])
        .arg(format!("{url}/uploads"))
        .output()
        .expect("curl runs");
    assert!(started.status.success(), "{started:?}");
    let usage = alice.run(&["--json", "usage"]).ok().json();
    assert_eq!(usage["reserved_bytes"], 5000);

    let held = alice.run(&["--json", "uploads"]).ok().json();
    let uploads = held["uploads"].as_array().unwrap();
    assert_eq!(uploads.len(), 1, "{held}");
    assert_eq!(uploads[0]["started_through"], "link");
    assert_eq!(uploads[0]["path"], "/inbox/big.iso");
    let id = uploads[0]["upload_id"].as_str().unwrap().to_string();
    let table = alice.run(&["uploads"]).ok().stdout;
    assert!(
        table.contains(&id) && table.contains("link ") && table.contains("/inbox/big.iso"),
        "{table}"
    );

    let run = alice.run(&["uploads", "abort", &id]).ok();
    assert!(
        run.stdout.contains(&format!("aborted upload {id}")),
        "{}",
        run.stdout
    );
    let usage = alice.run(&["--json", "usage"]).ok().json();
    assert_eq!(usage["reserved_bytes"], 0);
    assert!(alice
        .run(&["uploads"])
        .ok()
        .stdout
        .contains("no unfinished uploads"));
    let run = alice.run(&["uploads", "abort", &id]).expect_code(4);
    assert!(run.stderr.contains(&id), "{}", run.stderr);
    drop(server);
}

#[test]
fn activity_mail_is_turned_off_and_on() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path());
    let ann = Fmsctl::new(&server.url);
    register_and_login(&ann, "ann@example.com", "Ann");

    let shown = ann.run(&["--json", "notifications"]).ok().json();
    assert_eq!(shown["activity_mail"], true);
    let off = ann.run(&["--json", "notifications", "off"]).ok().json();
    assert_eq!(off["activity_mail"], false);
    let me = ann.run(&["--json", "whoami"]).ok().json();
    assert_eq!(me["notifications"]["activity_mail"], false);
    let text = ann.run(&["notifications", "on"]).ok();
    assert!(text.stdout.contains("activity mail"), "{}", text.stdout);
    assert!(text.stdout.contains(": on"), "{}", text.stdout);
    ann.run(&["notifications", "maybe"]).expect_code(2);
}
