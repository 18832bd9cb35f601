//! The trash end to end: the real `fmsd` on the embedded default, driven by the real `fmsctl`.
//! `rm` moves into the trash, `trash ls` shows it, `trash restore` brings it back byte for byte
//! (beside a taken path as `name (2).ext`, or `--to` a path), `rm --permanent` skips it,
//! `trash rm` and `trash empty` delete for good, and each mistake is one line with its exit
//! code. Build both binaries first: `cargo build --workspace --bins`.

#![allow(clippy::unwrap_used)]

mod support;

use support::{assert_same_file, random_file, Fmsctl, Fmsd};

fn register_and_login(fmsctl: &Fmsctl, email: &str, password: &str) {
    fmsctl.register_and_login(email, "Trash User", password);
}

/// `fmsctl --json trash ls`'s items.
fn trash_items(fmsctl: &Fmsctl) -> Vec<serde_json::Value> {
    fmsctl.run(&["--json", "trash", "ls"]).ok().json()["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn usage(fmsctl: &Fmsctl) -> serde_json::Value {
    fmsctl.run(&["--json", "usage"]).ok().json()
}

/// The names `fmsctl ls` prints for `folder`.
fn names(fmsctl: &Fmsctl, folder: &str) -> Vec<String> {
    fmsctl
        .run(&["ls", folder])
        .ok()
        .stdout
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn rm_goes_to_the_trash_and_comes_back_byte_for_byte() {
    let root = tempfile::tempdir().unwrap();
    let server = Fmsd::start(&root.path().join("data"), &root.path().join("fmsd.log"));
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, "trash@example.com", "correct horse battery");

    let report = root.path().join("report.pdf");
    random_file(&report, 3 * 1024 * 1024 + 11, 7);
    let size = std::fs::metadata(&report).unwrap().len();
    fmsctl.run(&["mkdir", "/docs"]).ok();
    fmsctl
        .run(&["upload", report.to_str().unwrap(), "/docs"])
        .ok();

    // rm: into the trash, with a line saying how to bring it back.
    let removed = fmsctl.run(&["rm", "/docs/report.pdf"]).ok();
    assert!(
        removed
            .stdout
            .contains("moved /docs/report.pdf to the trash")
            && removed
                .stdout
                .contains("fmsctl trash restore /docs/report.pdf"),
        "{}",
        removed.stdout
    );
    assert!(names(&fmsctl, "/docs").is_empty());
    let items = trash_items(&fmsctl);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["path"], "/docs/report.pdf");
    assert_eq!(items[0]["size"], size);
    let shown = fmsctl.run(&["trash"]).ok().stdout;
    assert!(
        shown.contains("/docs/report.pdf") && shown.contains(items[0]["id"].as_str().unwrap()),
        "{shown}"
    );
    let counted = usage(&fmsctl);
    assert_eq!(
        (
            counted["used_bytes"].as_u64(),
            counted["trash_bytes"].as_u64()
        ),
        (Some(0), Some(size))
    );
    assert!(fmsctl.run(&["usage"]).ok().stdout.contains("trash"));

    // Restored by its path, it downloads byte for byte.
    let restored = fmsctl.run(&["trash", "restore", "/docs/report.pdf"]).ok();
    assert!(
        restored.stdout.contains("restored /docs/report.pdf"),
        "{}",
        restored.stdout
    );
    let downloaded = root.path().join("downloaded.pdf");
    fmsctl
        .run(&["download", "/docs/report.pdf", downloaded.to_str().unwrap()])
        .ok();
    assert_same_file(&report, &downloaded);
    assert!(trash_items(&fmsctl).is_empty());

    // Into a taken path: beside it, as `report (2).pdf`, still the same bytes.
    fmsctl.run(&["rm", "/docs/report.pdf"]).ok();
    let newer = root.path().join("newer");
    std::fs::create_dir(&newer).unwrap();
    std::fs::write(newer.join("report.pdf"), b"a newer report").unwrap();
    fmsctl
        .run(&[
            "upload",
            newer.join("report.pdf").to_str().unwrap(),
            "/docs",
        ])
        .ok();
    let restored = fmsctl
        .run(&["--json", "trash", "restore", "/docs/report.pdf"])
        .ok()
        .json();
    assert_eq!(restored["entry"]["path"], "/docs/report (2).pdf");
    let again = root.path().join("again.pdf");
    fmsctl
        .run(&["download", "/docs/report (2).pdf", again.to_str().unwrap()])
        .ok();
    assert_same_file(&report, &again);

    // By id, --to a path of one's choosing; a taken --to is a conflict (5).
    fmsctl.run(&["rm", "/docs/report (2).pdf"]).ok();
    let id = trash_items(&fmsctl)[0]["id"].as_str().unwrap().to_owned();
    let taken = fmsctl
        .run(&["trash", "restore", &id, "--to", "/docs/report.pdf"])
        .expect_code(5);
    assert_eq!(taken.stderr.trim().lines().count(), 1, "{}", taken.stderr);
    fmsctl
        .run(&["trash", "restore", &id, "--to", "/kept/report.pdf"])
        .ok();
    assert_eq!(names(&fmsctl, "/kept"), ["report.pdf"]);

    // rm --permanent skips the trash and frees the bytes.
    let before = usage(&fmsctl)["used_bytes"].as_u64().unwrap();
    let gone = fmsctl
        .run(&["--json", "rm", "--permanent", "/kept/report.pdf"])
        .ok()
        .json();
    assert_eq!(gone["trashed"], false);
    assert_eq!(gone["bytes_freed"], size);
    assert!(trash_items(&fmsctl).is_empty());
    assert_eq!(
        usage(&fmsctl)["used_bytes"].as_u64().unwrap(),
        before - size
    );

    // A folder goes whole (a file inside it is restored with it, not alone); trash rm
    // deletes one item for good, trash empty the rest.
    fmsctl.run(&["rm", "-r", "/docs"]).ok();
    let inside = fmsctl
        .run(&["trash", "restore", "/docs/report.pdf"])
        .expect_code(4);
    assert!(
        inside
            .stderr
            .contains("inside /docs, which is in the trash"),
        "{}",
        inside.stderr
    );
    fmsctl.run(&["mkdir", "/scratch"]).ok();
    fmsctl.run(&["rm", "/scratch"]).ok();
    let items = trash_items(&fmsctl);
    assert_eq!(items.len(), 2);
    let folder = items
        .iter()
        .find(|item| item["path"] == "/docs")
        .expect("the folder");
    assert_eq!(folder["kind"], "folder");
    let purged = fmsctl
        .run(&["--json", "trash", "rm", folder["id"].as_str().unwrap()])
        .ok()
        .json();
    assert_eq!(purged["n_items"], 1);
    let emptied = fmsctl.run(&["trash", "empty"]).ok();
    assert!(
        emptied.stdout.contains("emptied the trash: 1 item"),
        "{}",
        emptied.stdout
    );
    assert!(trash_items(&fmsctl).is_empty());
    assert_eq!(usage(&fmsctl)["trash_bytes"], 0);
    assert!(fmsctl.run(&["trash"]).ok().stdout.contains("empty"));

    // Mistakes: one line each, with the documented exit code.
    for (args, code) in [
        (vec!["trash", "restore", "/nothing/here"], 4),
        (
            vec!["trash", "rm", "0193a1b2-0000-7000-8000-000000000000"],
            4,
        ),
        (vec!["trash", "restore", "not-a-path"], 2),
    ] {
        let run = fmsctl.run(&args).expect_code(code);
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
    }
    fmsctl.run(&["trash", "bogus"]).expect_code(2);
}
