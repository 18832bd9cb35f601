//! Folder links through fmsctl, with no login: `ls URL[/PATH]`, one file inside
//! (`download URL/PATH`), the whole folder or a sub-folder (`download -r`), a password, and the
//! one-line errors with their exit codes: a path out of the link (2), one that is not there
//! (4), a path into a link to a file (2), a link used up or expired (8), a wrong password (3).

use std::path::Path;

use super::{register_and_login, start, GONE, LINK_PASSWORD};
use crate::support::{assert_same_file, random_file, Fmsctl};

const USAGE: i32 = 2;
const AUTH: i32 = 3;
const NOT_FOUND: i32 = 4;
const CONFLICT: i32 = 5;

/// A local tree of files (sizes in bytes) and an empty folder, under `root/trip`.
fn make_tree(root: &Path) -> std::path::PathBuf {
    let trip = root.join("trip");
    std::fs::create_dir_all(trip.join("sub/deep")).unwrap();
    std::fs::create_dir_all(trip.join("empty")).unwrap();
    random_file(&trip.join("a.txt"), 1_000, 1);
    random_file(&trip.join("sub/b.bin"), 3 * 1024 * 1024 + 5, 2);
    random_file(&trip.join("sub/deep/c d.txt"), 10, 3);
    trip
}

/// Names in `fmsctl --json ls ARGS`, with the paths the answer gives.
fn listed(fmsctl: &Fmsctl, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["--json", "ls"];
    all.extend_from_slice(args);
    let listing = fmsctl.run(&all).ok().json();
    listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["name"].as_str().unwrap().to_owned(),
                entry["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `curl` of `url` with `args`: the status and the body.
fn curl(url: &str, args: &[&str]) -> (u16, String) {
    let output = std::process::Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

#[test]
fn a_folder_link_is_listed_and_downloaded_file_by_file_and_whole() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path());
    let alice = Fmsctl::new(&server.url);
    register_and_login(&alice, "alice@example.com", "Alice");
    // Nobody logged in, and no server configured: the link's URL is all it takes.
    let anybody = Fmsctl::new("http://127.0.0.1:1");

    let trip = make_tree(root.path());
    alice
        .run(&["upload", "-r", trip.to_str().unwrap(), "/"])
        .ok();
    let secret = root.path().join("secret.txt");
    std::fs::write(&secret, b"above the shared folder\n").unwrap();
    alice.run(&["upload", secret.to_str().unwrap(), "/"]).ok();
    let url = alice.run(&["share", "/trip", "--link"]).ok().stdout;
    let url = url.trim();

    // ls, as of a folder of one's own: names, -l, --json (paths relative to the link), -R.
    let run = anybody.run(&["ls", url]).ok();
    assert_eq!(run.stdout, "a.txt\nempty/\nsub/\n");
    let sub = format!("{url}/sub");
    assert_eq!(
        listed(&anybody, &[&sub]),
        [
            ("b.bin".to_owned(), "/sub/b.bin".to_owned()),
            ("deep".to_owned(), "/sub/deep".to_owned())
        ]
    );
    let long = anybody.run(&["ls", "-l", &format!("{sub}/")]).ok().stdout;
    assert!(
        long.lines()
            .any(|line| line.starts_with("- 3145733 ") && line.ends_with(" b.bin")),
        "{long}"
    );
    let file = anybody
        .run(&["ls", "-l", &format!("{sub}/b.bin")])
        .ok()
        .stdout;
    assert_eq!(file.lines().count(), 1, "{file}");
    assert!(file.trim_end().ends_with(" b.bin"), "{file}");
    let recursive = anybody.run(&["ls", "-R", url]).ok().stdout;
    assert!(
        recursive.contains("sub/deep via the link:\nc d.txt\n"),
        "{recursive}"
    );
    assert_eq!(
        listed(&anybody, &[&format!("{url}/sub/deep/c%20d.txt")]),
        [("c d.txt".to_owned(), "/sub/deep/c d.txt".to_owned())]
    );
    let matched = listed(&anybody, &[&format!("{url}/**/*.txt")]);
    let paths: Vec<&str> = matched.iter().map(|(_, path)| path.as_str()).collect();
    assert_eq!(paths, ["/a.txt", "/sub/deep/c d.txt"]);

    // One file inside, byte-identical, into a file or a folder.
    let out = root.path().join("b.bin");
    anybody
        .run(&["download", &format!("{sub}/b.bin"), out.to_str().unwrap()])
        .ok();
    assert_same_file(&trip.join("sub/b.bin"), &out);
    let into = root.path().join("into");
    std::fs::create_dir_all(&into).unwrap();
    let run = anybody
        .run(&[
            "download",
            &format!("{url}/sub/deep/c d.txt"),
            into.to_str().unwrap(),
        ])
        .ok();
    assert!(
        run.stdout.contains("sub/deep/c d.txt via the link"),
        "{}",
        run.stdout
    );
    assert_same_file(&trip.join("sub/deep/c d.txt"), &into.join("c d.txt"));

    // The whole folder with -r, then again (nothing to fetch), then a sub-folder.
    let copy = root.path().join("copy");
    let done = anybody
        .run(&["--json", "download", "-r", url, copy.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(done["transferred_files"], 3, "{done}");
    for path in ["a.txt", "sub/b.bin", "sub/deep/c d.txt"] {
        assert_same_file(&trip.join(path), &copy.join(path));
    }
    assert!(copy.join("empty").is_dir());
    let again = anybody
        .run(&["--json", "download", "-r", url, copy.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(again["transferred_files"], 0, "{again}");
    assert_eq!(again["unchanged"], 3, "{again}");
    let deep = root.path().join("deep-copy");
    anybody
        .run(&[
            "download",
            "-r",
            &format!("{url}/sub/deep/"),
            deep.to_str().unwrap(),
        ])
        .ok();
    assert_same_file(&trip.join("sub/deep/c d.txt"), &deep.join("c d.txt"));
    assert_eq!(std::fs::read_dir(&deep).unwrap().count(), 1);

    // Nothing above the folder: `..` is refused before anything is sent, and the server
    // refuses it too.
    for climbing in [
        format!("{url}/../secret.txt"),
        format!("{url}/sub/../../secret.txt"),
        format!("{url}/%2e%2e/secret.txt"),
    ] {
        let run = anybody.run(&["ls", &climbing]).expect_code(USAGE);
        assert!(run.stderr.contains("`..`"), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        let target = root.path().join("stolen.txt");
        anybody
            .run(&["download", &climbing, target.to_str().unwrap()])
            .expect_code(USAGE);
        assert!(!target.exists());
    }
    let (status, body) = curl(&format!("{url}/files?path=/.."), &[]);
    assert_eq!(status, 400, "{body}");
    let (status, body) = curl(
        &format!("{url}/download"),
        &[
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"path": "/../secret.txt"}"#,
        ],
    );
    assert_eq!(status, 400, "{body}");
    assert!(!body.contains("/trip"), "{body}");

    // What is not there, a folder without -r, a path into a file link: one line each.
    let run = anybody
        .run(&["ls", &format!("{url}/nothing")])
        .expect_code(NOT_FOUND);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(!run.stderr.contains("/trip"), "{}", run.stderr);
    let run = anybody
        .run(&["download", &format!("{url}/sub/nothing.bin")])
        .expect_code(NOT_FOUND);
    assert!(!run.stderr.contains("/trip"), "{}", run.stderr);
    anybody
        .run(&["download", "-r", &format!("{url}/nothing"), "x"])
        .expect_code(NOT_FOUND);
    let run = anybody.run(&["download", url]).expect_code(USAGE);
    assert!(run.stderr.contains("download -r"), "{}", run.stderr);
    let run = anybody
        .run(&["download", &sub, root.path().join("x").to_str().unwrap()])
        .expect_code(CONFLICT);
    assert!(run.stderr.contains("-r"), "{}", run.stderr);
    let file_link = alice.run(&["share", "/secret.txt", "--link"]).ok().stdout;
    let run = anybody
        .run(&["ls", &format!("{}/a.txt", file_link.trim())])
        .expect_code(USAGE);
    assert!(run.stderr.contains("not to a folder"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    // Each file fetched counted once, as the pages count them: b.bin, c d.txt, three by the
    // first -r, c d.txt again by the last.
    let links = alice.run(&["--json", "shares", "--links"]).ok().json();
    let folder = links["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|link| link["path"] == "/trip")
        .unwrap();
    assert_eq!(folder["downloads"], 6, "{folder}");
    drop(server);
}

#[test]
fn a_password_folder_link_takes_its_password_and_ends_at_its_limit() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path());
    let alice = Fmsctl::new(&server.url);
    register_and_login(&alice, "alice@example.com", "Alice");
    let anybody = Fmsctl::new("http://127.0.0.1:1");

    let album = root.path().join("album");
    std::fs::create_dir_all(&album).unwrap();
    random_file(&album.join("one.bin"), 200_000, 4);
    random_file(&album.join("two.bin"), 300_001, 5);
    alice
        .run(&["upload", "-r", album.to_str().unwrap(), "/"])
        .ok();
    let url = alice
        .run_with_stdin(
            &[
                "share",
                "/album",
                "--link",
                "--max-downloads",
                "3",
                "--password-stdin",
            ],
            Some(&format!("{LINK_PASSWORD}\n")),
        )
        .ok()
        .stdout;
    let url = url.trim();
    let password = format!("{LINK_PASSWORD}\n");

    // No password and nobody to ask: told how to give it. A wrong one: refused.
    let run = anybody.run(&["ls", url]).expect_code(USAGE);
    assert!(run.stderr.contains("--password-stdin"), "{}", run.stderr);
    let run = anybody
        .run_with_stdin(&["ls", url, "--password-stdin"], Some("not the password\n"))
        .expect_code(AUTH);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("password"), "{}", run.stderr);

    let names = anybody
        .run_with_stdin(&["ls", url, "--password-stdin"], Some(&password))
        .ok()
        .stdout;
    assert_eq!(names, "one.bin\ntwo.bin\n");
    let one = root.path().join("one.bin");
    anybody
        .run_with_stdin(
            &[
                "download",
                &format!("{url}/one.bin"),
                one.to_str().unwrap(),
                "--password-stdin",
            ],
            Some(&password),
        )
        .ok();
    assert_same_file(&album.join("one.bin"), &one);
    // With LOCAL left out, -r names the copy after the linked folder.
    let here = root.path().join("here");
    std::fs::create_dir_all(&here).unwrap();
    let status = anybody
        .command(&["download", "-r", url, "--password-stdin"])
        .current_dir(&here)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(password.as_bytes())?;
            child.wait()
        })
        .unwrap();
    assert!(status.success());
    for name in ["one.bin", "two.bin"] {
        assert_same_file(&album.join(name), &here.join("album").join(name));
    }

    // Three downloads were allowed and made: the link has ended.
    let run = anybody
        .run_with_stdin(
            &[
                "download",
                &format!("{url}/two.bin"),
                root.path().join("late.bin").to_str().unwrap(),
                "--password-stdin",
            ],
            Some(&password),
        )
        .expect_code(GONE);
    assert!(run.stderr.contains("no downloads left"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    drop(server);
}

#[test]
fn an_expired_folder_link_says_so() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path());
    let alice = Fmsctl::new(&server.url);
    register_and_login(&alice, "alice@example.com", "Alice");
    let anybody = Fmsctl::new("http://127.0.0.1:1");
    alice.run(&["mkdir", "/brief"]).ok();
    let url = alice
        .run(&["share", "/brief", "--link", "--expires", "1s"])
        .ok()
        .stdout;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let run = anybody
        .run(&["ls", &format!("{}/sub", url.trim())])
        .expect_code(GONE);
    assert!(run.stderr.contains("expired"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    anybody
        .run(&["download", "-r", url.trim(), "x"])
        .expect_code(GONE);
    drop(server);
}
