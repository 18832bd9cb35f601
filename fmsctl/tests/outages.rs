//! fms while a server of the real stack is away. Each test pauses (SIGSTOP, then SIGCONT),
//! restarts or kills a server of its own (`stack::private`), so the other tests keep theirs;
//! the rest of its stack is the shared one. What a test counts (mails, files, status codes) is
//! read with clients that are not the project's: maildev's API, `curl`, `aws`.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod stack;
mod support;

use std::time::{Duration, Instant};

use stack::private::Private;
use stack::{eventually, mails_at, mails_to, Stack};
use support::{Fmsctl, Fmsd};

const PASSWORD: &str = "correct horse battery staple";

/// fmsd on `stack`, with its data and log under `root/name`.
fn start(stack: &Stack, root: &std::path::Path, name: &str) -> Fmsd {
    Fmsd::start_with(
        &root.join(name),
        &root.join(format!("{name}.log")),
        &stack.env(),
    )
}

/// Registers `email` through fmsctl against `server`.
fn register(server: &Fmsd, email: &str) -> Fmsctl {
    let fmsctl = Fmsctl::new(&server.url);
    fmsctl
        .run_with_stdin(
            &[
                "register",
                "--email",
                email,
                "--name",
                "Patient",
                "--password-stdin",
            ],
            Some(PASSWORD),
        )
        .ok();
    fmsctl
}

/// Registers `email` through fmsctl against `server` and logs it in.
fn register_and_login(server: &Fmsd, email: &str) -> Fmsctl {
    let fmsctl = register(server, email);
    fmsctl
        .run_with_stdin(
            &["login", "--email", email, "--password-stdin"],
            Some(PASSWORD),
        )
        .ok();
    fmsctl
}

/// `GET /readyz`, whatever its status.
fn readyz(server: &Fmsd) -> serde_json::Value {
    let output = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "20", &format!("{}/readyz", server.url)])
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap_or_default()
}

/// How many mails each of `emails` got, through `mails`.
fn counts(emails: &[String], mails: &dyn Fn(&str) -> usize) -> Vec<usize> {
    emails.iter().map(|email| mails(email)).collect()
}

/// Waits up to `within` for a mail to every one of `emails`, then a little longer for any
/// duplicate, and checks that each got exactly one; returns how long the first part took.
fn assert_each_mailed_once(
    emails: &[String],
    mails: &dyn Fn(&str) -> usize,
    within: Duration,
    logs: &dyn Fn() -> String,
) -> Duration {
    assert_each_mailed(emails, mails, within, logs, 0)
}

/// [`assert_each_mailed_once`], allowing up to `repeats` mails sent twice.
fn assert_each_mailed(
    emails: &[String],
    mails: &dyn Fn(&str) -> usize,
    within: Duration,
    logs: &dyn Fn() -> String,
    repeats: usize,
) -> Duration {
    let started = Instant::now();
    let arrived = eventually(within, || counts(emails, mails).iter().all(|n| *n > 0));
    let took = started.elapsed();
    assert!(
        arrived,
        "not every mail arrived within {within:?}: {:?}\n{}",
        counts(emails, mails),
        logs()
    );
    std::thread::sleep(Duration::from_secs(3));
    let counted = counts(emails, mails);
    let repeated: usize = counted.iter().map(|n| n - 1).sum();
    assert!(
        counted.iter().all(|n| *n <= 2) && repeated <= repeats,
        "each must get one mail ({repeats} may come twice): {counted:?}\n{}",
        logs()
    );
    took
}

/// `/readyz` says ready again (and, asking every store, has logged each return).
fn assert_ready_again(server: &Fmsd) {
    assert!(
        eventually(Duration::from_secs(20), || readyz(server)["status"]
            == "ready"),
        "/readyz did not recover: {}",
        readyz(server)
    );
}

/// The log must tell an operator that the server went and came back.
fn assert_logged(log: &str, lines: &[&str]) {
    for line in lines {
        assert!(log.contains(line), "the log lacks {line:?}\n{log}");
    }
}

/// Customers register and upload while the broker is paused for `pause`: every request
/// succeeds, `/readyz` names the bus, and once the broker is back every welcome mail arrives,
/// each exactly once, with the log saying when the bus went and when it came back.
fn welcome_mails_arrive_once_after_a_broker_pause(pause: Duration) {
    let broker = Private::tansu();
    let mut stack = Stack::new();
    let brokers = format!("127.0.0.1:{}", broker.port);
    stack.set("FMSD_STORES__BUS", format!("kafka://{brokers}"));
    let root = tempfile::tempdir().unwrap();
    let server = start(&stack, root.path(), "fmsd");
    let mails = |email: &str| mails_to(email).len();
    let logs = || server.log_text();

    let before = vec![format!("{}-before@example.com", stack.tag)];
    let owner = register_and_login(&server, &before[0]);
    assert_each_mailed_once(&before, &mails, Duration::from_secs(30), &logs);

    broker.pause();
    let paused = Instant::now();
    let during: Vec<String> = (0..10)
        .map(|n| format!("{}-{n}@example.com", stack.tag))
        .collect();
    for email in &during {
        register(&server, email);
    }
    let file = root.path().join("during.txt");
    std::fs::write(&file, "uploaded while the broker was away").unwrap();
    owner.run(&["upload", file.to_str().unwrap(), "/"]).ok();
    assert!(
        eventually(Duration::from_secs(20), || readyz(&server)["stores"]["bus"]
            == "unavailable"),
        "/readyz did not name the bus: {}",
        readyz(&server)
    );
    std::thread::sleep(pause.saturating_sub(paused.elapsed()));
    broker.resume();

    let took = assert_each_mailed_once(&during, &mails, Duration::from_secs(60), &logs);
    eprintln!(
        "{} welcome mails arrived {:.1} s after a {} s broker pause",
        during.len(),
        took.as_secs_f64(),
        pause.as_secs()
    );
    let uploaded = stack.kafka_envelopes_on(&brokers, "fms.files.v1", 1);
    assert!(
        uploaded
            .iter()
            .any(|event| event["type"] == "files.uploaded"),
        "the upload's event did not reach the broker: {uploaded:?}"
    );
    assert_ready_again(&server);
    assert_logged(
        &server.log_text(),
        &[
            "store unreachable",
            "store reachable again",
            "outbox relay failed",
            "outbox relay works again",
        ],
    );
}

#[test]
fn welcome_mails_arrive_once_after_a_40_s_broker_pause() {
    welcome_mails_arrive_once_after_a_broker_pause(Duration::from_secs(40));
}

#[test]
fn welcome_mails_arrive_once_after_a_90_s_broker_pause() {
    // Longer than the consumers' session timeout (45 s): the groups must be rejoined.
    welcome_mails_arrive_once_after_a_broker_pause(Duration::from_secs(90));
}

#[test]
fn mails_wait_out_a_60_s_smtp_pause_and_each_send_gives_up_in_time() {
    let (maildev, api) = Private::maildev();
    let mut stack = Stack::new();
    stack.set(
        "FMSD_STORES__MAIL",
        format!("smtp://127.0.0.1:{}", maildev.port),
    );
    let root = tempfile::tempdir().unwrap();
    let server = start(&stack, root.path(), "fmsd");
    let mails = |email: &str| mails_at(&api, email).len();
    let logs = || server.log_text();

    let before = vec![format!("{}-before@example.com", stack.tag)];
    register(&server, &before[0]);
    assert_each_mailed_once(&before, &mails, Duration::from_secs(30), &logs);

    maildev.pause();
    let paused = Instant::now();
    let during: Vec<String> = (0..5)
        .map(|n| format!("{}-{n}@example.com", stack.tag))
        .collect();
    for email in &during {
        register(&server, email);
    }
    assert!(
        eventually(Duration::from_secs(30), || readyz(&server)["stores"]
            ["mail"]
            == "unavailable"),
        "/readyz did not name the mail server: {}",
        readyz(&server)
    );
    std::thread::sleep(Duration::from_secs(60).saturating_sub(paused.elapsed()));
    maildev.resume();

    let took = assert_each_mailed_once(&during, &mails, Duration::from_secs(45), &logs);
    eprintln!(
        "{} mails arrived {:.1} s after a 60 s SMTP pause",
        during.len(),
        took.as_secs_f64()
    );
    assert_ready_again(&server);
    assert_logged(
        &server.log_text(),
        &[
            "did not accept the mail within 10 s",
            "event handler failed; will retry",
            "store unreachable",
            "store reachable again",
        ],
    );
}

#[test]
fn a_killed_instance_loses_no_welcome_mail_and_its_tokens_work_on_the_other() {
    let mut stack = Stack::new();
    let root = tempfile::tempdir().unwrap();
    // One stack's instances share their signing keys (README: "the same keys_dir").
    let keys = root.path().join("keys");
    stack.set("FMSD_KEYS_DIR", keys.to_str().unwrap());
    let doomed = start(&stack, root.path(), "doomed");
    let survivor = start(&stack, root.path(), "survivor");
    let emails: Vec<String> = (0..20)
        .map(|n| format!("{}-{n}@example.com", stack.tag))
        .collect();
    let logs = || survivor.log_text();

    let (first_half, second_half) = emails.split_at(10);
    for (n, email) in first_half.iter().enumerate() {
        let server = if n % 2 == 0 { &doomed } else { &survivor };
        register(server, email);
    }
    let token = access_token(&doomed, &first_half[0]);
    doomed.kill();
    for email in second_half {
        register(&survivor, email);
    }
    // The killed instance never left its consumer groups: its partitions move to the survivor
    // once its session times out (45 s). Its notifications consumer sends one mail at a time,
    // and a mail the SMTP server accepted just before the kill, whose sending was not yet
    // recorded, is sent again by the survivor: at least once, so at most that one twice.
    let mails = |email: &str| mails_to(email).len();
    let took = assert_each_mailed(&emails, &mails, Duration::from_secs(120), &logs, 1);
    eprintln!(
        "20 welcome mails arrived {:.1} s after one of two instances was killed",
        took.as_secs_f64()
    );
    let me = std::process::Command::new("curl")
        .args(["-sS", "-f", "-H", &format!("authorization: Bearer {token}")])
        .arg(format!("{}/v1/me", survivor.url))
        .output()
        .unwrap();
    assert!(
        me.status.success(),
        "a token of the killed instance must work on the survivor: {}",
        String::from_utf8_lossy(&me.stderr)
    );
    let profile: serde_json::Value = serde_json::from_slice(&me.stdout).unwrap();
    assert_eq!(profile["email"], first_half[0].as_str());
}

/// Logs `email` in on `server` with curl and returns the access token.
fn access_token(server: &Fmsd, email: &str) -> String {
    let body = serde_json::json!({"email": email, "password": PASSWORD}).to_string();
    let output = std::process::Command::new("curl")
        .args([
            "-sS",
            "-f",
            "-H",
            "content-type: application/json",
            "-d",
            &body,
        ])
        .arg(format!("{}/v1/auth/login", server.url))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "login failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pair: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    pair["access_token"].as_str().unwrap().to_owned()
}

/// `POST /v1/auth/login` with curl: the status and the body.
fn login_answer(server: &Fmsd, email: &str) -> (u16, serde_json::Value) {
    let body = serde_json::json!({"email": email, "password": PASSWORD}).to_string();
    let output = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "60", "-w", "\n%{http_code}"])
        .args(["-H", "content-type: application/json", "-d", &body])
        .arg(format!("{}/v1/auth/login", server.url))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        status.trim().parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or_default(),
    )
}

#[test]
fn logins_while_mongodb_is_paused_get_a_prompt_503_and_work_once_it_is_back() {
    let mongo = Private::mongodb();
    let mut stack = Stack::new();
    let customers = format!("mongodb://127.0.0.1:{}/{}", mongo.port, stack.tag);
    stack.set("FMSD_STORES__CUSTOMERS", customers);
    let root = tempfile::tempdir().unwrap();
    let server = start(&stack, root.path(), "fmsd");
    let email = format!("{}@example.com", stack.tag);
    register(&server, &email);
    assert_eq!(login_answer(&server, &email).0, 200);

    mongo.pause();
    let asked = Instant::now();
    let (status, body) = login_answer(&server, &email);
    let waited = asked.elapsed();
    assert_eq!(status, 503, "{body}\n{}", server.log_text());
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(
        waited < Duration::from_secs(20),
        "a login waited {waited:?} for the paused store"
    );
    assert!(
        eventually(Duration::from_secs(20), || readyz(&server)["stores"]
            ["customers"]
            == "unavailable"),
        "/readyz did not name the customer store: {}",
        readyz(&server)
    );
    std::thread::sleep(Duration::from_secs(10));
    mongo.resume();

    assert!(
        eventually(Duration::from_secs(30), || login_answer(&server, &email).0
            == 200),
        "logins did not work again after the store came back\n{}",
        server.log_text()
    );
    eprintln!("a login during the MongoDB pause answered 503 after {waited:?}");
    assert_ready_again(&server);
    assert_logged(
        &server.log_text(),
        &["store unreachable", "store reachable again"],
    );
}

#[test]
fn uploads_and_listings_ride_out_postgresql_restarts() {
    let postgres = stack::private::PrivatePostgres::start();
    let mut stack = Stack::new();
    for (setting, database) in [
        ("FMSD_STORES__FILES", "files"),
        ("FMSD_STORES__NOTIFICATIONS", "notifications"),
    ] {
        stack::psql(&postgres.url(), &format!("CREATE DATABASE {database}"));
        stack.set(setting, stack::with_database(&postgres.url(), database));
    }
    let root = tempfile::tempdir().unwrap();
    let server = start(&stack, root.path(), "fmsd");
    let email = format!("{}@example.com", stack.tag);
    let fmsctl = register_and_login(&server, &email);

    // 150 uploads and 300 listings while the server restarts twice (open connections cut).
    let restarts = std::thread::scope(|scope| {
        let restarter = scope.spawn(|| {
            for _ in 0..2 {
                std::thread::sleep(Duration::from_secs(3));
                postgres.restart();
            }
        });
        let mut failures = Vec::new();
        for n in 0..150 {
            let file = root.path().join(format!("file-{n}.bin"));
            support::random_file(&file, 1024 + n * 37, n as u64 + 1);
            let upload = fmsctl
                .command(&["upload", file.to_str().unwrap(), "/"])
                .output()
                .unwrap();
            if !upload.status.success() {
                failures.push(String::from_utf8_lossy(&upload.stderr).into_owned());
            }
            for _ in 0..2 {
                let listing = fmsctl.command(&["ls", "/"]).output().unwrap();
                if !listing.status.success() {
                    failures.push(String::from_utf8_lossy(&listing.stderr).into_owned());
                }
            }
        }
        restarter.join().unwrap();
        failures
    });
    eprintln!(
        "{} of 450 operations failed during two PostgreSQL restarts: {restarts:?}",
        restarts.len()
    );
    for failure in &restarts {
        assert!(
            failure.contains("unavailable") && !failure.contains("went wrong on our side"),
            "a failure during the restart must be a clear 503, not: {failure}\n{}",
            server.log_text()
        );
    }

    // Whatever failed goes through now; then every file is there, byte-identical, and the
    // usage is the sum of the sizes.
    let mut total = 0u64;
    for n in 0..150 {
        let file = root.path().join(format!("file-{n}.bin"));
        total += std::fs::metadata(&file).unwrap().len();
        let copy = root.path().join(format!("copy-{n}.bin"));
        let remote = format!("/file-{n}.bin");
        let download = fmsctl
            .command(&["download", &remote, copy.to_str().unwrap()])
            .output()
            .unwrap();
        if !download.status.success() {
            fmsctl.run(&["upload", file.to_str().unwrap(), "/"]).ok();
            fmsctl
                .run(&["download", &remote, copy.to_str().unwrap()])
                .ok();
        }
        support::assert_same_file(&file, &copy);
    }
    let usage = fmsctl.run(&["--json", "usage"]).ok().json();
    assert_eq!(usage["used_bytes"], total, "{usage}");
    assert_eq!(usage["n_files"], 150, "{usage}");
}

#[test]
fn an_upload_through_a_paused_s3_finishes_or_fails_clearly_and_resumes_byte_identical() {
    let bucket = "fms";
    let s3 = Private::s3s_fs(bucket);
    let mut stack = Stack::new();
    let endpoint = format!("http://127.0.0.1:{}", s3.port);
    stack.set("FMSD_STORES__BLOBS", format!("s3://{bucket}"));
    stack.set("FMSD_S3__ENDPOINT", endpoint);
    stack.set(
        "FMSD_S3__ACCESS_KEY",
        stack::require("FMS_TEST_S3FS_ACCESS_KEY"),
    );
    stack.set(
        "FMSD_S3__SECRET_KEY",
        stack::require("FMS_TEST_S3FS_SECRET_KEY"),
    );
    let root = tempfile::tempdir().unwrap();
    let server = start(&stack, root.path(), "fmsd");
    let email = format!("{}@example.com", stack.tag);
    let fmsctl = register_and_login(&server, &email);
    let big = root.path().join("big.bin");
    support::random_file(&big, 200 * 1024 * 1024, 7);

    let mut upload = fmsctl
        .command(&[
            "-v",
            "upload",
            "--parallel",
            "4",
            big.to_str().unwrap(),
            "/",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = upload.stderr.take().unwrap();
    let (lines, seen) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead as _;
        let mut all = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line.clone());
            all.push(line);
        }
        all
    });
    let first_part = eventually(Duration::from_secs(60), || {
        seen.try_iter().any(|line| line.contains("part stored"))
    });
    assert!(first_part, "no part was stored\n{}", server.log_text());
    s3.pause();
    std::thread::sleep(Duration::from_secs(30));
    s3.resume();

    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(status) = upload.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "fmsctl upload hung after S3 came back"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let said = reader.join().unwrap();
    if !status.success() {
        let errors: Vec<&String> = said
            .iter()
            .filter(|line| line.starts_with("error"))
            .collect();
        assert_eq!(errors.len(), 1, "one clear line, not: {said:#?}");
        eprintln!("the upload failed clearly ({}); resuming", errors[0]);
        fmsctl.run(&["upload", big.to_str().unwrap(), "/"]).ok();
    } else {
        eprintln!("the upload rode out the 30 s S3 pause");
    }
    let copy = root.path().join("copy.bin");
    fmsctl
        .run(&["download", "/big.bin", copy.to_str().unwrap()])
        .ok();
    support::assert_same_file(&big, &copy);
}
