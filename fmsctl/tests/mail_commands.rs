//! The commands fms mails tell people to run work as they are written: the real `fmsd` on the
//! embedded default writes its mails as `.eml` files, and the commands found between backticks
//! in their text are run with the real `fmsctl`, by someone whose own configuration points at
//! no server at all (so only the mail's `--server` can reach it). Build both first:
//! `cargo build --workspace --bins`.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use support::{Fmsctl, Fmsd};

const PASSWORD: &str = "correct horse battery staple";
/// Where nothing listens: an `fmsctl` set up with it reaches fmsd only through `--server`.
const NOWHERE: &str = "http://127.0.0.1:9";

/// The decoded `text/plain` part of the `.eml` in `raw`.
fn text_part(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let start = raw
        .find("Content-Type: text/plain")
        .unwrap_or_else(|| panic!("no text part:\n{raw}"));
    let boundary = raw
        .split_once("boundary=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(boundary, _)| format!("\n--{boundary}"))
        .unwrap_or_else(|| panic!("not a multipart mail:\n{raw}"));
    let part = &raw[start..];
    let (head, body) = part.split_once("\n\n").unwrap();
    let body = body.split(&boundary).next().unwrap();
    let encoding = head.to_lowercase();
    if encoding.contains("content-transfer-encoding: base64") {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .unwrap();
        String::from_utf8(bytes).unwrap()
    } else if encoding.contains("content-transfer-encoding: quoted-printable") {
        quoted_printable(body)
    } else {
        body.to_owned()
    }
}

/// Quoted-printable decoded: soft line breaks joined, `=XX` read as bytes.
fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let mut bytes = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'=' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).unwrap();
            bytes.push(u8::from_str_radix(hex, 16).unwrap());
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// Waits up to 10 s for a mail to `email` whose subject contains `subject`; its text.
fn wait_for_mail(data_dir: &Path, email: &str, subject: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = std::fs::read_dir(data_dir.join("mail"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
            .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
            .find(|raw| raw.contains(email) && raw.contains(subject));
        if let Some(raw) = found {
            return text_part(&raw);
        }
        assert!(
            Instant::now() < deadline,
            "no mail '{subject}' to {email} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The `fmsctl` command between backticks in `text` that contains `marker`.
fn command_in(text: &str, marker: &str) -> String {
    text.split('`')
        .skip(1)
        .step_by(2)
        .find(|code| code.starts_with("fmsctl ") && code.contains(marker))
        .unwrap_or_else(|| panic!("no `fmsctl ...{marker}...` in:\n{text}"))
        .to_owned()
}

/// `command` split as a POSIX shell splits it (plain words, single quotes and backslashes,
/// which is all the mails write), without its leading `fmsctl`.
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (_, '\'') => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            (false, '\\') => {
                let escaped = chars.next().expect("a character after a backslash");
                word.get_or_insert_with(String::new).push(escaped);
            }
            (false, ' ') => words.extend(word.take()),
            (_, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(!quoted, "an unclosed quote in {command}");
    words.extend(word);
    assert_eq!(words.first().map(String::as_str), Some("fmsctl"));
    words.remove(0);
    words
}

/// Runs what the mail says, as `fmsctl` set up with no server; returns its stdout.
fn run_as_written(fmsctl: &Fmsctl, command: &str, stdin: Option<&str>) -> String {
    let words = shell_words(command);
    let args: Vec<&str> = words.iter().map(String::as_str).collect();
    fmsctl.run_with_stdin(&args, stdin).ok().stdout
}

#[test]
fn the_commands_in_the_welcome_and_share_mails_work_as_written() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let server = Fmsd::start(&data_dir, &root.path().join("fmsd.log"));
    let stdin = format!("{PASSWORD}\n");
    let ann_email = "ann@example.com";
    let bob_email = "bob@example.com";
    for (email, name) in [(ann_email, "Ann"), (bob_email, "Bob")] {
        Fmsctl::new(&server.url)
            .run_with_stdin(
                &[
                    "register",
                    "--email",
                    email,
                    "--name",
                    name,
                    "--password-stdin",
                ],
                Some(&stdin),
            )
            .ok();
    }

    // The welcome mail's login, with nothing but the mail to say where the server is.
    let ann = Fmsctl::new(NOWHERE);
    let welcome = wait_for_mail(&data_dir, ann_email, "Welcome to fms");
    assert!(welcome.contains(&server.url), "{welcome}");
    let login = command_in(&welcome, " login ");
    run_as_written(&ann, &format!("{login} --password-stdin"), Some(&stdin));
    let folder = "/Ann's Docs";
    let as_ann = |args: &[&str]| {
        let mut all = vec!["--server", server.url.as_str()];
        all.extend_from_slice(args);
        ann.run(&all).ok();
    };
    as_ann(&["mkdir", folder]);
    let note = root.path().join("plan.txt");
    std::fs::write(&note, "the plan").unwrap();
    as_ann(&["upload", note.to_str().unwrap(), folder]);
    as_ann(&["share", folder, "--with", bob_email]);

    // The share mail's command lists the shared folder, its awkward name quoted.
    let bob = Fmsctl::new(NOWHERE);
    let welcome = wait_for_mail(&data_dir, bob_email, "Welcome to fms");
    run_as_written(
        &bob,
        &format!("{} --password-stdin", command_in(&welcome, " login ")),
        Some(&stdin),
    );
    let shared = wait_for_mail(&data_dir, bob_email, "shared 'Ann's Docs'");
    let ls = command_in(&shared, " ls 'shared:");
    assert_eq!(
        ls,
        format!(r"fmsctl --server {} ls 'shared:Ann'\''s Docs'", server.url)
    );
    let listing = run_as_written(&bob, &ls, None);
    assert!(listing.contains("plan.txt"), "{listing}");
    let download = command_in(&shared, " download -r 'shared:");
    assert!(download.ends_with(r"'shared:Ann'\''s Docs'"), "{download}");
    assert!(
        shared.ends_with(&format!("-- \nfms at {}\n", server.url)),
        "{shared}"
    );
    // Without the mail's --server, the same command reaches nothing.
    let lost = bob.run(&["ls", "shared:Ann's Docs"]);
    assert_ne!(lost.code, 0, "{lost:?}");
}

#[test]
fn the_codes_in_the_verification_and_reset_mails_work_as_written() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let server = Fmsd::start_with(
        &data_dir,
        &root.path().join("fmsd.log"),
        &[("FMSD_AUTH__EMAIL_VERIFICATION", "required")],
    );
    let stdin = format!("{PASSWORD}\n");
    let (ann_email, bob_email) = ("ann@example.com", "bob@example.com");
    let ann = Fmsctl::new(&server.url);
    let bob = Fmsctl::new(&server.url);
    ann.register_and_login(ann_email, "Ann", PASSWORD);
    bob.register_and_login(bob_email, "Bob", PASSWORD);
    ann.run(&["mkdir", "/docs"]).ok();
    let whoami = ann.run(&["whoami"]).ok().stdout;
    assert!(whoami.contains("not verified"), "{whoami}");

    // Unverified, Ann may not share: exit 7 and one line saying what to do.
    let refused = ann.run(&["share", "/docs", "--with", bob_email]);
    assert_eq!(refused.code, 7, "{refused:?}");
    assert!(refused.stderr.contains("fmsctl verify"), "{refused:?}");

    // The verification mail's command, as written, proves her address.
    let mail = wait_for_mail(&data_dir, ann_email, "Confirm your e-mail address");
    let verify = command_in(&mail, " verify ");
    run_as_written(&Fmsctl::new(NOWHERE), &verify, None);
    let whoami = ann.run(&["whoami"]).ok().stdout;
    assert!(!whoami.contains("not verified"), "{whoami}");
    // Bob is not verified: a share to him answers as to an address nobody has (exit 4).
    let unknown = ann.run(&["share", "/docs", "--with", bob_email]);
    assert_eq!(unknown.code, 4, "{unknown:?}");
    let mail = wait_for_mail(&data_dir, bob_email, "Confirm your e-mail address");
    run_as_written(&Fmsctl::new(NOWHERE), &command_in(&mail, " verify "), None);
    let deadline = Instant::now() + Duration::from_secs(5);
    while ann.run(&["share", "/docs", "--with", bob_email]).code != 0 {
        assert!(
            Instant::now() < deadline,
            "the share to a verified Bob failed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A forgotten password: asked for with no login, set with the mail's command.
    let stranger = Fmsctl::new(NOWHERE);
    stranger
        .run(&[
            "--server",
            &server.url,
            "password-reset",
            "--email",
            ann_email,
        ])
        .ok();
    let mail = wait_for_mail(&data_dir, ann_email, "Reset your fms password");
    let reset = command_in(&mail, " password-reset --token ");
    let new_password = "a brand new passphrase";
    // Tokens tell their time to the second: let Ann's be from an earlier one than the reset.
    std::thread::sleep(Duration::from_millis(1100));
    run_as_written(
        &stranger,
        &format!("{reset} --password-stdin"),
        Some(&format!("{new_password}\n")),
    );
    // Ann's session ended with the reset; the old password fails, the new one works.
    let ended = ann.run(&["ls", "/"]);
    assert_eq!(ended.code, 3, "{ended:?}");
    let old = ann.run_with_stdin(
        &["login", "--email", ann_email, "--password-stdin"],
        Some(&stdin),
    );
    assert_eq!(old.code, 3, "{old:?}");
    ann.run_with_stdin(
        &["login", "--email", ann_email, "--password-stdin"],
        Some(&format!("{new_password}\n")),
    )
    .ok();
    // The code worked once: the same command fails now.
    let words = shell_words(&format!("{reset} --password-stdin"));
    let args: Vec<&str> = words.iter().map(String::as_str).collect();
    let again = stranger.run_with_stdin(&args, Some("yet another passphrase\n"));
    assert_eq!(again.code, 3, "{again:?}");
    assert!(again.stderr.contains("not valid"), "{again:?}");
}
