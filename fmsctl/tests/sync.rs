//! `fmsctl sync` and `fmsctl download -r` end to end: the real `fmsd` (embedded default, port 0)
//! driven by the real `fmsctl`, the copies checked by rclone (`rclone check --checksum`,
//! Debian's package, installed by `scripts/services.sh`) and by walking the folders.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{assert_same_file, random_file, Fmsctl, Fmsd};

const MIB: usize = 1024 * 1024;
const PASSWORD: &str = "correct horse battery staple";

fn register_and_login(fmsctl: &Fmsctl, email: &str) {
    let stdin = format!("{PASSWORD}\n");
    fmsctl
        .run_with_stdin(
            &[
                "register",
                "--email",
                email,
                "--name",
                "Sync User",
                "--password-stdin",
            ],
            Some(&stdin),
        )
        .ok();
}

/// fmsd with its data under `root`, and a logged-in fmsctl.
fn start(root: &Path, email: &str) -> (Fmsd, Fmsctl) {
    let server = Fmsd::start(&root.join("data"), &root.join("fmsd.log"));
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, email);
    (server, fmsctl)
}

/// A tree of `n_files` files under `root`: sizes from empty to a few MiB, unicode names and
/// spaces, nested folders and empty ones. Returns the empty folders made.
fn make_tree(root: &Path, n_files: usize) -> Vec<&'static str> {
    let empty = vec![
        "empty-top",
        "nested/empty in nested",
        "nested/a/b/c/empty-deep",
    ];
    for folder in &empty {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    let names = ["plain", "café ünïcødé", "日本語", "emoji 🎉", "with space"];
    for index in 0..n_files {
        let folder = match index % 5 {
            0 => root.to_path_buf(),
            1 => root.join(format!("d{:02}", index % 40)),
            2 => root.join(format!("nested/a/n{:02}", index % 13)),
            3 => root.join(format!("nested/a/b/c/deep-{}", index % 7)),
            _ => root.join(format!("ünï-{}", index % 9)),
        };
        std::fs::create_dir_all(&folder).unwrap();
        let name = format!("{}-{index:04}.dat", names[index % names.len()]);
        let size = match index {
            7 => 3 * MIB,
            11 => 5 * MIB + 17,
            13 => 2 * MIB - 1,
            _ if index % 9 == 0 => 0,
            _ => (index * 7919) % 20_000,
        };
        random_file(&folder.join(name), size, index as u64 + 1);
    }
    empty
}

/// Every folder under `root`, relative.
fn folders_under(root: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                let path = entry.path();
                found.insert(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
                stack.push(path);
            }
        }
    }
    found
}

/// `rclone check --checksum a b`: both trees hold the same files with the same bytes.
fn assert_rclone_finds_them_identical(a: &Path, b: &Path) {
    let output = Command::new("rclone")
        .args(["check", "--checksum"])
        .arg(a)
        .arg(b)
        .output()
        .unwrap_or_else(|error| {
            panic!("rclone is needed (scripts/services.sh installs it): {error}")
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.contains("0 differences found"),
        "rclone check found differences between {} and {}:\n{stderr}",
        a.display(),
        b.display()
    );
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn a_tree_of_2000_files_syncs_both_ways_and_a_second_sync_sends_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (server, fmsctl) = start(root.path(), "tree@example.com");
    let source = root.path().join("source");
    let empty = make_tree(&source, 2000);

    let up = fmsctl
        .run(&["--json", "sync", arg(&source), "fms:/backup"])
        .ok()
        .json();
    assert_eq!(up["direction"], "upload");
    assert_eq!(up["transferred_files"], 2000, "{}", up["failed"]);
    assert_eq!(up["failed"].as_array().unwrap().len(), 0);
    for folder in &empty {
        let listing = fmsctl
            .run(&["--json", "ls", &format!("/backup/{folder}")])
            .ok()
            .json();
        assert_eq!(listing["entries"].as_array().unwrap().len(), 0, "{folder}");
    }

    // The other way, into a folder that does not exist yet.
    let copy = root.path().join("copy");
    let down = fmsctl
        .run(&["--json", "sync", "fms:/backup", arg(&copy)])
        .ok()
        .json();
    assert_eq!(down["direction"], "download");
    assert_eq!(down["transferred_files"], 2000);
    assert_rclone_finds_them_identical(&source, &copy);
    assert_eq!(folders_under(&source), folders_under(&copy));

    // Nothing changed: nothing is sent either way, and no local file is read again.
    for (from, to) in [(arg(&source), "fms:/backup"), ("fms:/backup", arg(&copy))] {
        let again = fmsctl.run(&["--json", "sync", from, to]).ok().json();
        assert_eq!(again["transfers"].as_array().unwrap().len(), 0, "{from}");
        assert_eq!(again["transferred_files"], 0);
        assert_eq!(again["transferred_bytes"], 0);
        assert_eq!(again["transfer_bytes"], 0);
        assert_eq!(again["unchanged"], 2000);
        assert_eq!(again["hashing"]["files_read"], 0, "{from} → {to}");
        assert_eq!(again["hashing"]["bytes_read"], 0);
        assert_eq!(again["hashing"]["cache_hits"], 2000);
    }

    // A changed file is read (its mtime moved) and sent; the text summary says so.
    let changed = source.join("d01/café ünïcødé-0001.dat");
    std::fs::write(&changed, b"changed").unwrap();
    let run = fmsctl.run(&["sync", arg(&source), "fms:/backup"]).ok();
    assert!(
        run.stdout.contains("uploaded d01/café ünïcødé-0001.dat")
            && run.stdout.contains("1 files uploaded"),
        "{}",
        run.stdout
    );
    fmsctl.run(&["sync", "fms:/backup", arg(&copy)]).ok();
    assert_same_file(&changed, &copy.join("d01/café ünïcødé-0001.dat"));
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn delete_dry_run_and_exclude_do_what_they_say() {
    let root = tempfile::tempdir().unwrap();
    let (_server, fmsctl) = start(root.path(), "options@example.com");
    let source = root.path().join("site");
    std::fs::create_dir_all(source.join("css")).unwrap();
    std::fs::create_dir_all(source.join("build")).unwrap();
    std::fs::write(source.join("index.html"), b"<h1>hi</h1>").unwrap();
    std::fs::write(source.join("css/site.css"), b"h1{}").unwrap();
    std::fs::write(source.join("notes.tmp"), b"scratch").unwrap();
    std::fs::write(source.join("build/out.o"), b"obj").unwrap();

    // A dry run plans, changes nothing, and says so in JSON with stable names.
    let plan = fmsctl
        .run(&[
            "--json",
            "sync",
            "--dry-run",
            "--exclude",
            "*.tmp",
            "--exclude",
            "build/",
            arg(&source),
            "fms:/www",
        ])
        .ok()
        .json();
    assert_eq!(plan["dry_run"], true);
    let planned: Vec<&str> = plan["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["path"].as_str().unwrap())
        .collect();
    assert_eq!(planned, ["css/site.css", "index.html"]);
    assert_eq!(plan["transfers"][0]["reason"], "new");
    assert_eq!(plan["transfers"][0]["size"], 4);
    assert_eq!(plan["folders"], serde_json::json!(["css"]));
    assert_eq!(plan["excluded"], 3);
    assert_eq!(plan["transferred_files"], 0);
    fmsctl.run(&["ls", "/www"]).expect_code(4);
    let text = fmsctl
        .run(&["sync", "-n", "--exclude", "*.tmp", arg(&source), "fms:/www"])
        .ok()
        .stdout;
    assert!(
        text.contains("would upload index.html (new,") && text.contains("dry run:"),
        "{text}"
    );
    fmsctl.run(&["ls", "/www"]).expect_code(4);

    fmsctl
        .run(&[
            "sync",
            "--exclude",
            "*.tmp",
            "--exclude",
            "build/",
            arg(&source),
            "fms:/www",
        ])
        .ok();
    let listing = fmsctl.run(&["--json", "ls", "-R", "/www"]).ok().json();
    let names: BTreeSet<String> = listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        ["/www/css", "/www/css/site.css", "/www/index.html"]
            .map(String::from)
            .into()
    );

    // Remote extras: --delete removes them, but never what --exclude protects.
    let extra = root.path().join("extra.txt");
    std::fs::write(&extra, b"extra").unwrap();
    fmsctl.run(&["upload", arg(&extra), "/www"]).ok();
    fmsctl.run(&["upload", arg(&extra), "/www/css"]).ok();
    let kept = root.path().join("kept.tmp");
    std::fs::write(&kept, b"kept").unwrap();
    fmsctl.run(&["upload", arg(&kept), "/www"]).ok();
    let without_delete = fmsctl
        .run(&[
            "--json",
            "sync",
            "--exclude",
            "*.tmp",
            arg(&source),
            "fms:/www",
        ])
        .ok()
        .json();
    assert_eq!(without_delete["deletions"].as_array().unwrap().len(), 0);
    let deleted = fmsctl
        .run(&[
            "--json",
            "sync",
            "--delete",
            "--exclude",
            "*.tmp",
            "--exclude",
            "build/",
            arg(&source),
            "fms:/www",
        ])
        .ok()
        .json();
    let deletions: Vec<&str> = deleted["deletions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(deletions, ["css/extra.txt", "extra.txt"]);
    assert_eq!(deleted["deleted"], 2);
    fmsctl.run(&["stat", "/www/extra.txt"]).expect_code(4);
    fmsctl.run(&["stat", "/www/kept.tmp"]).ok();

    // Local extras on the way back, and a file where the remote has a folder.
    let copy = root.path().join("copy");
    fmsctl.run(&["sync", "fms:/www", arg(&copy)]).ok();
    std::fs::write(copy.join("local-only.txt"), b"x").unwrap();
    std::fs::remove_dir_all(copy.join("css")).unwrap();
    std::fs::write(copy.join("css"), b"a file in the way").unwrap();
    let conflict = fmsctl.run(&["sync", "fms:/www", arg(&copy)]).expect_code(5);
    assert!(conflict.stderr.contains("--delete"), "{}", conflict.stderr);
    assert!(copy.join("local-only.txt").exists());
    let plan = fmsctl
        .run(&["--json", "sync", "-n", "--delete", "fms:/www", arg(&copy)])
        .ok()
        .json();
    assert_eq!(
        plan["deletions"],
        serde_json::json!([
            {"path": "css", "kind": "file"},
            {"path": "local-only.txt", "kind": "file"}
        ])
    );
    assert!(copy.join("local-only.txt").exists());
    fmsctl
        .run(&["sync", "--delete", "fms:/www", arg(&copy)])
        .ok();
    assert!(!copy.join("local-only.txt").exists());
    assert_eq!(std::fs::read(copy.join("css/site.css")).unwrap(), b"h1{}");
    assert_eq!(std::fs::read(copy.join("kept.tmp")).unwrap(), b"kept");

    // Usage: exactly one side is remote.
    fmsctl
        .run(&["sync", arg(&source), arg(&copy)])
        .expect_code(2);
    fmsctl.run(&["sync", "fms:/a", "shared:x/b"]).expect_code(2);
    let a_file = copy.join("index.html");
    fmsctl
        .run(&["sync", arg(&a_file), "fms:/www"])
        .expect_code(2);
    fmsctl
        .run(&["sync", "fms:/www", arg(&a_file)])
        .expect_code(2);
    fmsctl
        .run(&["sync", "fms:/missing", arg(&root.path().join("m"))])
        .expect_code(4);
}

/// Starts `fmsctl download -r --parallel 1 REMOTE LOCAL` and kills it once it reports its
/// `after`th file, leaving an interrupted download.
fn download_and_interrupt(fmsctl: &Fmsctl, remote: &str, local: &Path, after: usize) {
    let mut child = fmsctl
        .command(&["download", "-r", "--parallel", "1", remote, arg(local)])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if line.starts_with("downloaded ") {
            seen += 1;
            if seen == after {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "download -r too slow to interrupt"
        );
    }
    assert_eq!(
        seen, after,
        "download -r ended before it could be interrupted"
    );
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
}

#[test]
fn download_r_resumes_after_an_interrupted_run() {
    let root = tempfile::tempdir().unwrap();
    let (_server, fmsctl) = start(root.path(), "resume@example.com");
    let source = root.path().join("photos");
    make_tree(&source, 300);
    let big = source.join("big.bin");
    random_file(&big, 12 * MIB, 99);
    fmsctl.run(&["upload", "-r", arg(&source), "/"]).ok();

    // Killed part-way: a rerun skips what arrived (checked through the hash cache) and
    // fetches the rest.
    let copy = root.path().join("copy");
    download_and_interrupt(&fmsctl, "/photos", &copy, 20);
    let rerun = fmsctl
        .run(&["--json", "download", "-r", "/photos", arg(&copy)])
        .ok()
        .json();
    let unchanged = rerun["unchanged"].as_u64().unwrap();
    assert!(unchanged >= 20, "{unchanged} files were kept");
    assert_eq!(
        unchanged + rerun["transferred_files"].as_u64().unwrap(),
        301,
        "{rerun}"
    );
    // Kept files are checked: from the cache where the killed run saved it, else read.
    assert!(rerun["hashing"]["files_read"].as_u64().unwrap() <= unchanged);
    assert_rclone_finds_them_identical(&source, &copy);
    assert_eq!(folders_under(&source), folders_under(&copy));

    // A partial file is continued from where it stopped, not fetched again.
    let partial = root.path().join("partial");
    std::fs::create_dir_all(&partial).unwrap();
    let bytes = std::fs::read(&big).unwrap();
    std::fs::write(partial.join("big.bin.part"), &bytes[..5 * MIB]).unwrap();
    let run = fmsctl
        .run(&["-v", "download", "-r", "/photos", arg(&partial)])
        .ok();
    assert!(
        run.stderr.contains("resuming a download") && run.stderr.contains("5242880"),
        "{}",
        run.stderr
    );
    assert_same_file(&big, &partial.join("big.bin"));
    assert!(!partial.join("big.bin.part").exists());
    assert_rclone_finds_them_identical(&source, &partial);

    // Patterns: what matches, below the pattern's fixed part; folders only with -r.
    let jpgs = root.path().join("matches");
    let run = fmsctl
        .run(&[
            "--json",
            "download",
            "/photos/nested/a/n0*/*.dat",
            arg(&jpgs),
        ])
        .ok()
        .json();
    let n_matched = run["transferred_files"].as_u64().unwrap();
    assert!(n_matched > 10, "{run}");
    assert!(jpgs.join("n00").is_dir() && !jpgs.join("nested").exists());
    let folders = root.path().join("folders");
    let run = fmsctl
        .run(&["download", "/photos/nested/a/*", arg(&folders)])
        .ok();
    assert!(run.stderr.contains("use -r"), "{}", run.stderr);
    fmsctl
        .run(&["download", "-r", "/photos/nested/a/*", arg(&folders)])
        .ok();
    assert_rclone_finds_them_identical(&source.join("nested/a"), &folders);
    fmsctl
        .run(&["download", "/photos/*.nothing", arg(&folders)])
        .expect_code(4);
    fmsctl
        .run(&["download", "-r", "/nothing", arg(&folders)])
        .expect_code(4);
    let folder = fmsctl
        .run(&["download", "/photos", arg(&folders)])
        .expect_code(5);
    assert!(folder.stderr.contains("download -r"), "{}", folder.stderr);
}

#[test]
fn download_r_never_writes_through_a_symlink_in_the_destination() {
    let root = tempfile::tempdir().unwrap();
    let (_server, fmsctl) = start(root.path(), "links@example.com");
    let source = root.path().join("docs");
    std::fs::create_dir_all(source.join("sub")).unwrap();
    std::fs::write(source.join("sub/secret.txt"), b"from the server").unwrap();
    std::fs::write(source.join("top.txt"), b"top").unwrap();
    std::fs::write(source.join("big.bin"), b"big").unwrap();
    fmsctl.run(&["upload", "-r", arg(&source), "/"]).ok();

    // Outside the destination: a folder and a file that symlinks inside point at.
    let outside = root.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), b"mine").unwrap();
    std::fs::write(outside.join("top.txt"), b"mine too").unwrap();
    std::fs::write(outside.join("part"), b"not a part").unwrap();
    let copy = root.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    let link = |target: PathBuf, at: &str| std::os::unix::fs::symlink(target, copy.join(at));
    link(outside.clone(), "sub").unwrap();
    link(outside.join("top.txt"), "top.txt").unwrap();
    link(outside.join("part"), "big.bin.part").unwrap();

    fmsctl.run(&["download", "-r", "/docs", arg(&copy)]).ok();
    assert_eq!(std::fs::read(outside.join("secret.txt")).unwrap(), b"mine");
    assert_eq!(std::fs::read(outside.join("top.txt")).unwrap(), b"mine too");
    assert_eq!(std::fs::read(outside.join("part")).unwrap(), b"not a part");
    for path in ["sub", "top.txt", "big.bin"] {
        let metadata = std::fs::symlink_metadata(copy.join(path)).unwrap();
        assert!(!metadata.file_type().is_symlink(), "{path} is still a link");
    }
    assert_rclone_finds_them_identical(&source, &copy);

    // The folder named as LOCAL may itself be a symlink: the user chose it.
    let chosen = root.path().join("chosen");
    std::fs::create_dir_all(&chosen).unwrap();
    let alias = root.path().join("alias");
    std::os::unix::fs::symlink(&chosen, &alias).unwrap();
    fmsctl.run(&["download", "-r", "/docs", arg(&alias)]).ok();
    assert_rclone_finds_them_identical(&source, &chosen);

    // A single file to a fifo named explicitly is still written through.
    let fifo = root.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    fmsctl.run(&["download", "/docs/top.txt", arg(&fifo)]).ok();
    assert_eq!(reader.join().unwrap(), b"top");
}

#[test]
fn an_interrupted_sync_resumes_its_upload_where_it_stopped() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start_with(
        &root.path().join("data"),
        &root.path().join("fmsd.log"),
        &[("FMSD_FILES__PART_SIZE_BYTES", &MIB.to_string())],
    );
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, "interrupted@example.com");
    let source = root.path().join("src");
    std::fs::create_dir_all(source.join("sub")).unwrap();
    random_file(&source.join("sub/big.bin"), 64 * MIB, 8);
    // Sent after the big file (paths go in order, one at a time with --parallel 1).
    std::fs::write(source.join("z-small.txt"), b"small").unwrap();

    // Killed once the big file's first part is stored.
    let mut child = fmsctl
        .command(&["-v", "sync", "--parallel", "1", arg(&source), "fms:/dst"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut stored = false;
    for line in stderr.lines().map_while(Result::ok) {
        if line.contains("part stored") {
            stored = true;
            break;
        }
    }
    assert!(stored, "no part was stored");
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());

    let rerun = fmsctl.run(&["sync", arg(&source), "fms:/dst"]).ok();
    assert!(
        rerun
            .stderr
            .contains("resuming the upload of /dst/sub/big.bin"),
        "{}",
        rerun.stderr
    );
    let copy = root.path().join("copy");
    fmsctl.run(&["sync", "fms:/dst", arg(&copy)]).ok();
    assert_rclone_finds_them_identical(&source, &copy);
    assert_eq!(
        fmsctl.run(&["--json", "usage"]).ok().json()["reserved_bytes"],
        0
    );
}

#[test]
fn a_name_spelled_in_nfd_locally_is_sent_once() {
    let root = tempfile::tempdir().unwrap();
    let (_server, fmsctl) = start(root.path(), "nfd@example.com");
    let source = root.path().join("mac");
    // `é` as `e` + U+0301, as macOS writes it; the server keeps names in NFC.
    std::fs::create_dir_all(source.join("cafe\u{301}")).unwrap();
    std::fs::write(source.join("cafe\u{301}/re\u{301}sume\u{301}.txt"), b"cv").unwrap();
    fmsctl.run(&["sync", arg(&source), "fms:/mac"]).ok();
    fmsctl
        .run(&["stat", "/mac/caf\u{e9}/r\u{e9}sum\u{e9}.txt"])
        .ok();
    let again = fmsctl
        .run(&["--json", "sync", "--delete", arg(&source), "fms:/mac"])
        .ok()
        .json();
    assert_eq!(again["transfers"].as_array().unwrap().len(), 0, "{again}");
    assert_eq!(again["deletions"].as_array().unwrap().len(), 0, "{again}");
    assert_eq!(again["unchanged"], 1);
}
