//! End to end on the real stack: the real `fmsd` on Kafka, MongoDB, PostgreSQL, S3 and SMTP,
//! driven by the real `fmsctl`, and checked with clients that are not the project's. The link
//! pages in a real browser on this stack: [`browser`].

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

#[path = "real_stack/browser.rs"]
mod browser;
mod stack;
mod support;

use std::time::Duration;

use stack::{eventually, mails_to, Stack};
use support::{
    assert_same_file, random_file, sha256_of, upload_and_interrupt_after_first_part, Fmsctl, Fmsd,
};

const MIB: usize = 1024 * 1024;
const PASSWORD: &str = "correct horse battery staple";

/// fmsd on `stack`, with its data and log under `root`.
fn start_on(stack: &Stack, root: &std::path::Path) -> Fmsd {
    Fmsd::start_with(&root.join("data"), &root.join("fmsd.log"), &stack.env())
}

fn register_and_login(fmsctl: &Fmsctl, email: &str) {
    fmsctl.register_and_login(email, "Stack User", PASSWORD);
}

#[test]
fn files_flow_through_s3_events_through_kafka_and_mail_through_smtp() {
    let stack = Stack::new();
    let root = tempfile::tempdir().unwrap();
    let server = start_on(&stack, root.path());
    let fmsctl = Fmsctl::new(&server.url);
    let email = format!("{}@example.com", stack.tag);
    register_and_login(&fmsctl, &email);

    // 64 MiB in parallel parts, straight to S3.
    let big = root.path().join("big.bin");
    random_file(&big, 64 * MIB, 11);
    fmsctl
        .run(&["upload", "--parallel", "4", big.to_str().unwrap(), "/"])
        .ok();
    let objects = stack.s3_objects();
    assert_eq!(
        objects.len(),
        1,
        "the bucket should hold exactly the uploaded object: {objects:?}"
    );
    assert_eq!(objects[0].1, 64 * MIB as u64);

    let listing = fmsctl.run(&["--json", "ls", "/"]).ok().json();
    let entry = listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "big.bin")
        .unwrap()
        .clone();
    assert_eq!(entry["sha256"], sha256_of(&big).as_str());
    let copy = root.path().join("copy.bin");
    fmsctl
        .run(&["download", "/big.bin", copy.to_str().unwrap()])
        .ok();
    assert_same_file(&big, &copy);

    // In the trash the object stays; emptying the trash frees it.
    fmsctl.run(&["rm", "/big.bin"]).ok();
    assert_eq!(stack.s3_objects().len(), 1, "the trash lost the S3 object");
    fmsctl.run(&["trash", "empty"]).ok();
    assert!(
        eventually(Duration::from_secs(10), || stack.s3_objects().is_empty()),
        "emptying the trash did not free the S3 object"
    );

    // The events, as an independent Kafka client sees them.
    let customer_events = stack.kafka_envelopes("fms.customers.v1", 1);
    let registered = customer_events
        .iter()
        .find(|e| e["type"] == "customers.registered")
        .expect("customers.registered");
    assert_eq!(registered["payload"]["email"], email.as_str());
    assert!(registered["correlation_id"].is_string());
    let file_events = stack.kafka_envelopes("fms.files.v1", 3);
    let types: Vec<&str> = file_events
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(
        ["files.uploaded", "files.trashed", "files.deleted"]
            .iter()
            .all(|kind| types.contains(kind)),
        "{types:?}"
    );
    let purged = file_events
        .iter()
        .find(|e| e["type"] == "files.deleted")
        .expect("files.deleted");
    assert_eq!(purged["payload"]["from_trash"], true, "{purged}");

    // The welcome mail, through the catcher's HTTP API.
    assert!(
        eventually(Duration::from_secs(15), || !mails_to(&email).is_empty()),
        "no welcome mail for {email}"
    );
    let mails = mails_to(&email);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["subject"], "Welcome to fms");
    assert!(mails[0]["html"]
        .as_str()
        .is_some_and(|html| html.contains("Welcome")));
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn two_instances_on_one_stack_send_each_welcome_mail_once() {
    let stack = Stack::new();
    let root = tempfile::tempdir().unwrap();
    let first = Fmsd::start_with(
        &root.path().join("a"),
        &root.path().join("a.log"),
        &stack.env(),
    );
    let second = Fmsd::start_with(
        &root.path().join("b"),
        &root.path().join("b.log"),
        &stack.env(),
    );
    let emails: Vec<String> = (0..20)
        .map(|n| format!("{}-{n}@example.com", stack.tag))
        .collect();
    for (n, email) in emails.iter().enumerate() {
        let server = if n % 2 == 0 { &first } else { &second };
        Fmsctl::new(&server.url)
            .run_with_stdin(
                &[
                    "register",
                    "--email",
                    email,
                    "--name",
                    "Twin",
                    "--password-stdin",
                ],
                Some(PASSWORD),
            )
            .ok();
    }
    let all_arrived = eventually(Duration::from_secs(60), || {
        emails.iter().all(|email| !mails_to(email).is_empty())
    });
    assert!(
        all_arrived,
        "not every welcome mail arrived\n{}\n{}",
        first.log_text(),
        second.log_text()
    );
    // Give a duplicate time to show up, then count.
    std::thread::sleep(Duration::from_secs(3));
    let total: usize = emails.iter().map(|email| mails_to(email).len()).sum();
    assert_eq!(
        total, 20,
        "each of the 20 registrations must mail exactly once"
    );
}

#[test]
fn an_upload_interrupted_by_an_fmsd_restart_resumes_byte_identical() {
    let stack = Stack::new();
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let log = root.path().join("fmsd.log");
    let server = Fmsd::start_with(&data, &log, &stack.env());
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, &format!("{}@example.com", stack.tag));
    let big = root.path().join("resume.bin");
    random_file(&big, 64 * MIB, 5);

    // One part at a time; stop fmsctl and restart fmsd once S3 holds the first part.
    upload_and_interrupt_after_first_part(&fmsctl, &big, || server.log_text());
    let address = server.address().to_owned();
    assert_eq!(server.stop().code(), Some(0));

    // Same address, so fmsctl's stored login still applies.
    let server = Fmsd::start_at(&address, &data, &log, &stack.env());
    let run = fmsctl.run(&["upload", big.to_str().unwrap(), "/"]).ok();
    assert!(
        run.stderr.contains("resuming the upload of /resume.bin"),
        "did not resume:\n{}",
        run.stderr
    );
    let copy = root.path().join("copy.bin");
    fmsctl
        .run(&["download", "/resume.bin", copy.to_str().unwrap()])
        .ok();
    assert_same_file(&big, &copy);
    assert_eq!(stack.s3_objects().len(), 1);
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn a_share_is_downloaded_from_s3_and_mailed_to_the_recipient_once() {
    let stack = Stack::new();
    let root = tempfile::tempdir().unwrap();
    let server = start_on(&stack, root.path());
    let owner = Fmsctl::new(&server.url);
    let recipient = Fmsctl::new(&server.url);
    let owner_email = format!("{}-owner@example.com", stack.tag);
    let recipient_email = format!("{}-recipient@example.com", stack.tag);
    register_and_login(&owner, &owner_email);
    register_and_login(&recipient, &recipient_email);

    let plans = root.path().join("plans.bin");
    random_file(&plans, 12 * MIB + 7, 31);
    owner.run(&["mkdir", "/project"]).ok();
    owner
        .run(&["upload", plans.to_str().unwrap(), "/project"])
        .ok();
    // The server learns of new customers through Kafka: the recipient may be unknown at first.
    let shared = eventually(Duration::from_secs(10), || {
        owner
            .run(&["share", "/project", "--with", &recipient_email])
            .code
            == 0
    });
    assert!(shared, "the share was not made\n{}", server.log_text());

    let copy = root.path().join("copy.bin");
    recipient
        .run(&[
            "download",
            "shared:project/plans.bin",
            copy.to_str().unwrap(),
        ])
        .ok();
    assert_same_file(&plans, &copy);
    assert_eq!(
        stack.s3_objects().len(),
        1,
        "one object, read through the share"
    );

    let share_mails = || -> Vec<serde_json::Value> {
        mails_to(&recipient_email)
            .into_iter()
            .filter(|mail| {
                mail["subject"]
                    .as_str()
                    .is_some_and(|subject| subject.contains("shared 'project'"))
            })
            .collect()
    };
    assert!(
        eventually(Duration::from_secs(20), || !share_mails().is_empty()),
        "no share mail for {recipient_email}\n{}",
        server.log_text()
    );
    // Give a duplicate time to show up, then count.
    std::thread::sleep(Duration::from_secs(3));
    let mails = share_mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0]["text"]
        .as_str()
        .is_some_and(|text| text.contains("Stack User") && text.contains("viewer")));
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn links_serve_s3_downloads_up_to_their_limit_and_take_file_requests() {
    let stack = Stack::new();
    let root = tempfile::tempdir().unwrap();
    let server = start_on(&stack, root.path());
    let owner = Fmsctl::new(&server.url);
    let stranger = Fmsctl::new(&server.url);
    let owner_email = format!("{}-links@example.com", stack.tag);
    register_and_login(&owner, &owner_email);

    let talk = root.path().join("talk.bin");
    random_file(&talk, 6 * MIB + 3, 41);
    owner.run(&["upload", talk.to_str().unwrap(), "/"]).ok();
    let url = owner
        .run_with_stdin(
            &[
                "share",
                "/talk.bin",
                "--link",
                "--max-downloads",
                "1",
                "--password-stdin",
            ],
            Some("a link password\n"),
        )
        .ok()
        .stdout
        .trim()
        .to_owned();
    assert!(url.contains("/s/"), "{url}");

    // Anyone with the URL and the password: once, straight from S3.
    let copy = root.path().join("copy.bin");
    stranger
        .run_with_stdin(
            &["download", &url, copy.to_str().unwrap(), "--password-stdin"],
            Some("a link password\n"),
        )
        .ok();
    assert_same_file(&talk, &copy);
    let again = root.path().join("again.bin");
    stranger
        .run_with_stdin(
            &[
                "download",
                &url,
                again.to_str().unwrap(),
                "--password-stdin",
            ],
            Some("a link password\n"),
        )
        .expect_code(8);

    // A file request: the upload lands in the owner's folder (and bucket), the owner is told.
    owner.run(&["mkdir", "/inbox"]).ok();
    let request = owner
        .run(&["share", "/inbox", "--link", "--upload-only"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let scan = root.path().join("scan.bin");
    random_file(&scan, MIB + 1, 42);
    stranger
        .run(&["upload", scan.to_str().unwrap(), &request])
        .ok();
    let back = root.path().join("scan-back.bin");
    owner
        .run(&["download", "/inbox/scan.bin", back.to_str().unwrap()])
        .ok();
    assert_same_file(&scan, &back);
    assert_eq!(
        stack.s3_objects().len(),
        2,
        "the file and the received scan"
    );
    let told = eventually(Duration::from_secs(20), || {
        mails_to(&owner_email).iter().any(|mail| {
            mail["subject"]
                .as_str()
                .is_some_and(|subject| subject.contains("'scan.bin' was uploaded"))
        })
    });
    assert!(
        told,
        "no file-request mail for {owner_email}\n{}",
        server.log_text()
    );
    assert_eq!(server.stop().code(), Some(0));
}

/// `curl -s` with `args`, returning the status code and the body.
fn curl(args: &[&str]) -> (u16, Vec<u8>) {
    let output = std::process::Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(output.status.success(), "curl {args:?} failed");
    let text = output.stdout;
    let split = text.iter().rposition(|byte| *byte == b'\n').unwrap();
    let status = String::from_utf8_lossy(&text[split + 1..]).parse().unwrap();
    (status, text[..split].to_vec())
}

#[test]
fn webdav_streams_into_s3_and_two_instances_honour_one_lock() {
    let stack = Stack::new();
    let root = tempfile::tempdir().unwrap();
    for instance in ["a", "b"] {
        std::fs::create_dir_all(root.path().join(instance)).unwrap();
    }
    let first = start_on(&stack, &root.path().join("a"));
    let second = start_on(&stack, &root.path().join("b"));
    let fmsctl = Fmsctl::new(&first.url);
    register_and_login(&fmsctl, &format!("{}-dav@example.com", stack.tag));
    let token = fmsctl.run(&["token", "create", "dav"]).ok().stdout;
    let auth = format!("dav:{}", token.trim());

    // A PUT of three parts streams into an S3 multipart upload; GET and COPY read it back.
    let local = root.path().join("video.bin");
    random_file(&local, 40 * MIB + 3, 77);
    let (status, _) = curl(&[
        "-u",
        &auth,
        "-T",
        local.to_str().unwrap(),
        &format!("{}/dav/video.bin", first.url),
    ]);
    assert_eq!(status, 201);
    assert!(
        stack
            .s3_objects()
            .iter()
            .any(|(_, size)| *size == (40 * MIB + 3) as u64),
        "{:?}",
        stack.s3_objects()
    );
    let back = root.path().join("back.bin");
    let (status, bytes) = curl(&["-u", &auth, &format!("{}/dav/video.bin", second.url)]);
    assert_eq!(status, 200);
    std::fs::write(&back, bytes).unwrap();
    assert_same_file(&local, &back);
    let (status, _) = curl(&[
        "-u",
        &auth,
        "-X",
        "COPY",
        "-H",
        &format!("Destination: {}/dav/copy.bin", second.url),
        &format!("{}/dav/video.bin", second.url),
    ]);
    assert_eq!(status, 201);
    let copied = root.path().join("copied.bin");
    fmsctl
        .run(&["download", "/copy.bin", copied.to_str().unwrap()])
        .ok();
    assert_eq!(sha256_of(&copied), sha256_of(&local));

    // A lock taken on one instance holds on the other until it is presented or released.
    let lock_body = r#"<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>stack test</D:owner></D:lockinfo>"#;
    let locked = std::process::Command::new("curl")
        .args([
            "-s",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-u",
            &auth,
            "-X",
            "LOCK",
            "-d",
            lock_body,
        ])
        .arg(format!("{}/dav/video.bin", first.url))
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&locked.stdout).into_owned();
    let lock_token = headers
        .lines()
        .find_map(|line| {
            line.strip_prefix("lock-token: ")
                .or_else(|| line.strip_prefix("Lock-Token: "))
        })
        .unwrap_or_else(|| panic!("no Lock-Token in {headers}"))
        .trim()
        .to_owned();
    let target = format!("{}/dav/video.bin", second.url);
    let (status, _) = curl(&["-u", &auth, "-T", back.to_str().unwrap(), &target]);
    assert_eq!(
        status, 423,
        "a PUT without the lock token on the other instance"
    );
    let (status, _) = curl(&[
        "-u",
        &auth,
        "-T",
        back.to_str().unwrap(),
        "-H",
        &format!("If: ({lock_token})"),
        &target,
    ]);
    assert!(status == 204 || status == 201, "{status}");
    let (status, _) = curl(&[
        "-u",
        &auth,
        "-X",
        "UNLOCK",
        "-H",
        &format!("Lock-Token: {lock_token}"),
        &target,
    ]);
    assert_eq!(status, 204);
    let (status, _) = curl(&[
        "-u",
        &auth,
        "-X",
        "DELETE",
        &format!("{}/dav/video.bin", first.url),
    ]);
    assert_eq!(status, 204);
}

/// `rclone check --checksum a b`: both trees hold the same files with the same bytes.
fn assert_rclone_finds_them_identical(a: &std::path::Path, b: &std::path::Path) {
    let output = std::process::Command::new("rclone")
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

#[test]
fn a_tree_syncs_through_s3_both_ways_and_download_r_copies_it() {
    let stack = Stack::new();
    let root = tempfile::tempdir().unwrap();
    let server = start_on(&stack, root.path());
    let fmsctl = Fmsctl::new(&server.url);
    register_and_login(&fmsctl, &format!("{}-sync@example.com", stack.tag));

    let source = root.path().join("tree");
    std::fs::create_dir_all(source.join("empty/deeper")).unwrap();
    for index in 0..120usize {
        let folder = source.join(format!("d{}/ünï {}", index % 6, index % 4));
        std::fs::create_dir_all(&folder).unwrap();
        let size = if index % 10 == 0 {
            0
        } else {
            (index * 7919) % 30_000
        };
        random_file(
            &folder.join(format!("f-{index:03}.bin")),
            size,
            index as u64 + 1,
        );
    }
    // Several S3 parts.
    random_file(&source.join("big.bin"), 12 * MIB, 5);

    let up = fmsctl
        .run(&["--json", "sync", source.to_str().unwrap(), "fms:/tree"])
        .ok()
        .json();
    assert_eq!(up["transferred_files"], 121, "{}", up["failed"]);
    let objects = stack.s3_objects();
    assert!(
        objects.iter().any(|(_, size)| *size == 12 * MIB as u64),
        "the big file is not in the bucket: {objects:?}"
    );

    let copy = root.path().join("copy");
    fmsctl
        .run(&["sync", "fms:/tree", copy.to_str().unwrap()])
        .ok();
    assert_rclone_finds_them_identical(&source, &copy);
    assert!(copy.join("empty/deeper").is_dir());

    let again = fmsctl
        .run(&["--json", "sync", source.to_str().unwrap(), "fms:/tree"])
        .ok()
        .json();
    assert_eq!(again["transferred_files"], 0);
    assert_eq!(again["unchanged"], 121);
    assert_eq!(again["hashing"]["files_read"], 0);

    // --delete on the real stack: into the trash, then out of S3 once the trash is emptied.
    let n_objects = stack.s3_objects().len();
    std::fs::remove_file(source.join("big.bin")).unwrap();
    let deleted = fmsctl
        .run(&[
            "--json",
            "sync",
            "--delete",
            source.to_str().unwrap(),
            "fms:/tree",
        ])
        .ok()
        .json();
    assert_eq!(deleted["deleted"], 1);
    // The remote extra went to the trash, its object with it; emptying the trash frees it.
    assert_eq!(
        stack.s3_objects().len(),
        n_objects,
        "the trash lost the object"
    );
    fmsctl.run(&["trash", "empty"]).ok();
    assert!(
        eventually(Duration::from_secs(10), || stack.s3_objects().len()
            < n_objects),
        "the deleted file's object is still in S3 after the trash was emptied"
    );

    let downloaded = root.path().join("downloaded");
    fmsctl
        .run(&["download", "-r", "/tree", downloaded.to_str().unwrap()])
        .ok();
    assert_rclone_finds_them_identical(&source, &downloaded);
    assert!(downloaded.join("empty/deeper").is_dir());
    assert_eq!(server.stop().code(), Some(0));
}

/// The word after `marker` in the text of the newest mail to `to` whose subject contains
/// `subject`, read through maildev's API, waiting up to 20 s for it.
fn code_in_mail(server: &Fmsd, to: &str, subject: &str, marker: &str) -> String {
    let mut code = None;
    let found = eventually(Duration::from_secs(20), || {
        code = mails_to(to)
            .iter()
            .rev()
            .filter(|mail| {
                mail["subject"]
                    .as_str()
                    .is_some_and(|s| s.contains(subject))
            })
            .find_map(|mail| {
                let text = mail["text"].as_str()?;
                let (_, after) = text.split_once(marker)?;
                after
                    .split(|c: char| c.is_whitespace() || c == '`')
                    .next()
                    .map(str::to_owned)
            });
        code.is_some()
    });
    assert!(found, "no '{subject}' mail to {to}\n{}", server.log_text());
    code.unwrap()
}

#[test]
fn an_address_is_verified_and_a_password_reset_by_codes_mailed_through_kafka_and_smtp() {
    let stack = Stack::new();
    let root = tempfile::tempdir().unwrap();
    let mut env = stack.env();
    env.push(("FMSD_AUTH__EMAIL_VERIFICATION", "required"));
    let server = Fmsd::start_with(
        &root.path().join("data"),
        &root.path().join("fmsd.log"),
        &env,
    );
    let ann = Fmsctl::new(&server.url);
    let email = format!("{}-ann@example.com", stack.tag);
    register_and_login(&ann, &email);
    ann.run(&["mkdir", "/docs"]).ok();
    let refused = ann.run(&["share", "/docs", "--link"]);
    assert_eq!(
        refused.code, 7,
        "an unverified account makes no link: {refused:?}"
    );

    let code = code_in_mail(&server, &email, "Confirm your e-mail address", " verify ");
    ann.run(&["verify", &code]).ok();
    // Files learns of the verification through Kafka, a moment later.
    assert!(
        eventually(Duration::from_secs(20), || ann
            .run(&["share", "/docs", "--link"])
            .code
            == 0),
        "no link once verified\n{}",
        server.log_text()
    );

    Fmsctl::new(&server.url)
        .run(&["password-reset", "--email", &email])
        .ok();
    let code = code_in_mail(&server, &email, "Reset your fms password", "--token ");
    let new_password = "a passphrase set by mail";
    // Tokens tell their time to the second: let Ann's be from an earlier one than the reset.
    std::thread::sleep(Duration::from_millis(1100));
    Fmsctl::new(&server.url)
        .run_with_stdin(
            &["password-reset", "--token", &code, "--password-stdin"],
            Some(new_password),
        )
        .ok();
    assert_eq!(ann.run(&["ls", "/"]).code, 3, "the reset ended the session");
    ann.run_with_stdin(
        &["login", "--email", &email, "--password-stdin"],
        Some(new_password),
    )
    .ok();
    assert!(
        eventually(Duration::from_secs(20), || mails_to(&email).iter().any(
            |mail| mail["subject"].as_str() == Some("Your fms password was changed")
        )),
        "no password-changed mail\n{}",
        server.log_text()
    );
    assert_eq!(server.stop().code(), Some(0));
}
