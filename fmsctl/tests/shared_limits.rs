//! The password-guessing limits on the real stack are shared by every instance: two `fmsd`
//! processes on one stack (the limits kept in its PostgreSQL, by default the files database)
//! guessed at in turn over plain HTTP, as a guesser would (curl), try no more passwords between
//! them than the documented limit and answer the rest 429 with `Retry-After`; guesses sent all
//! at once from many addresses get no more. With the limits' database out of reach, guesses are
//! refused with 503, never let through. fmsctl sets the scene (accounts, files, links).

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod guessing;
mod stack;
mod support;

use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use guessing::relay::Relay;
use guessing::{guess_in_turn, http, Answer, Tally, N_GUESSES};
use serde_json::json;
use stack::{require, Stack};
use support::{Fmsctl, Fmsd};
use tempfile::TempDir;

const PASSWORD: &str = "correct horse battery staple";
const LINK_PASSWORD: &str = "the link password";
/// The documented password attempts per account per minute (README, `config/fmsd.toml`).
const PER_ACCOUNT: usize = 10;
/// The documented wrong link passwords per link and per client IP per minute.
const PER_LINK: usize = 5;

/// Two fmsd instances on one stack, with one signing-keys folder, as a deployment runs them.
struct Twins {
    /// Data dirs, keys and logs.
    _root: TempDir,
    /// The instances.
    instances: [Fmsd; 2],
}

impl Twins {
    /// Starts both on `stack`, with `extra` settings.
    fn start(stack: &Stack, extra: &[(&str, &str)]) -> Self {
        let root = tempfile::tempdir().unwrap();
        let keys = root.path().join("keys");
        let keys = keys.to_str().unwrap();
        let mut settings = stack.env();
        settings.push(("FMSD_KEYS_DIR", keys));
        settings.extend_from_slice(extra);
        let start = |name: &str| {
            Fmsd::start_with(
                &root.path().join(name),
                &root.path().join(format!("{name}.log")),
                &settings,
            )
        };
        let instances = [start("a"), start("b")];
        Self {
            _root: root,
            instances,
        }
    }

    /// The instance that takes guess `n`: each in turn.
    fn url(&self, n: usize) -> &str {
        &self.instances[n % 2].url
    }

    /// Both logs, for failure messages.
    fn logs(&self) -> String {
        format!(
            "{}\n{}",
            self.instances[0].log_text(),
            self.instances[1].log_text()
        )
    }
}

/// Registers `email` through fmsctl on `server`.
fn register(server: &str, email: &str) -> Fmsctl {
    let fmsctl = Fmsctl::new(server);
    fmsctl
        .run_with_stdin(
            &[
                "register",
                "--email",
                email,
                "--name",
                "Guessed At",
                "--password-stdin",
                "--no-login",
            ],
            Some(PASSWORD),
        )
        .ok();
    fmsctl
}

/// Registers `email` through fmsctl on `server` and logs it in there.
fn owner_on(server: &str, email: &str) -> Fmsctl {
    let fmsctl = register(server, email);
    fmsctl
        .run_with_stdin(
            &["login", "--email", email, "--password-stdin"],
            Some(PASSWORD),
        )
        .ok();
    fmsctl
}

/// Logs `email` in over HTTP; the access token.
fn access_token(server: &str, email: &str) -> String {
    let answer = http(
        "POST",
        &format!("{server}/v1/auth/login"),
        "127.0.0.1",
        &[],
        Some(&json!({"email": email, "password": PASSWORD})),
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body["access_token"].as_str().unwrap().to_owned()
}

/// A folder `/NAME` of `owner` shared by a link with [`LINK_PASSWORD`]; the link's token.
fn password_link(owner: &Fmsctl, name: &str) -> String {
    owner.run(&["mkdir", &format!("/{name}")]).ok();
    let url = owner
        .run_with_stdin(
            &["share", &format!("/{name}"), "--link", "--password-stdin"],
            Some(&format!("{LINK_PASSWORD}\n")),
        )
        .ok()
        .stdout;
    url.trim().rsplit('/').next().unwrap().to_owned()
}

/// `GET /s/TOKEN` on `server` from `from` with the link password `password`.
fn open_link(server: &str, token: &str, from: &str, password: &str) -> Answer {
    http(
        "GET",
        &format!("{server}/s/{token}"),
        from,
        &[("x-fms-link-password", password)],
        None,
    )
}

#[test]
fn password_guesses_in_turn_on_two_instances_get_the_account_limit_between_them() {
    let stack = Stack::new();
    let twins = Twins::start(&stack, &[]);

    // Wrong logins for one account.
    let email = format!("{}-login@example.com", stack.tag);
    register(twins.url(0), &email);
    let logins = guess_in_turn(|n| {
        http(
            "POST",
            &format!("{}/v1/auth/login", twins.url(n)),
            "127.0.0.1",
            &[],
            Some(&json!({"email": email, "password": format!("wrong guess {n}")})),
        )
    });
    logins.assert_within(PER_ACCOUNT, 0, Duration::from_secs(6), || twins.logs());
    // The right password is held back too, on both.
    for n in 0..2 {
        let right = http(
            "POST",
            &format!("{}/v1/auth/login", twins.url(n)),
            "127.0.0.1",
            &[],
            Some(&json!({"email": email, "password": PASSWORD})),
        );
        assert_eq!(right.status, 429, "{right:?}");
    }

    // Wrong current passwords through a stolen access token, on both instances: the login that
    // got the token was one of the account's attempts.
    let email = format!("{}-token@example.com", stack.tag);
    register(twins.url(1), &email);
    let token = access_token(twins.url(1), &email);
    let bearer = format!("Bearer {token}");
    let checks = guess_in_turn(|n| {
        http(
            "POST",
            &format!("{}/v1/me/password", twins.url(n)),
            "127.0.0.1",
            &[("authorization", &bearer)],
            Some(
                &json!({"current_password": format!("wrong guess {n}"), "new_password": "a brand new password"}),
            ),
        )
    });
    checks.assert_within(PER_ACCOUNT, 1, Duration::from_secs(6), || twins.logs());
}

#[test]
fn wrong_link_passwords_on_two_instances_get_the_link_limit_between_them() {
    let stack = Stack::new();
    let twins = Twins::start(&stack, &[]);
    let owner = owner_on(twins.url(0), &format!("{}-links@example.com", stack.tag));

    // One client guessing in turn on both instances.
    let token = password_link(&owner, "in-turn");
    let in_turn =
        guess_in_turn(|n| open_link(twins.url(n), &token, "127.0.0.1", &format!("wrong {n}")));
    in_turn.assert_within(PER_LINK, 0, Duration::from_secs(12), || twins.logs());
    let right = open_link(twins.url(1), &token, "127.0.0.1", LINK_PASSWORD);
    assert_eq!(right.status, 429, "{right:?}");

    // Many clients guessing at once, half on each instance: the link's own limit holds.
    let token = password_link(&owner, "at-once");
    let started = Instant::now();
    let guesses: Vec<_> = (0..N_GUESSES)
        .map(|n| {
            let (server, token) = (twins.url(n).to_owned(), token.clone());
            std::thread::spawn(move || {
                open_link(
                    &server,
                    &token,
                    &format!("127.0.1.{}", n + 1),
                    &format!("wrong {n}"),
                )
            })
        })
        .collect();
    let answers: Vec<Answer> = guesses
        .into_iter()
        .map(|guess| guess.join().unwrap())
        .collect();
    let at_once = Tally::of(&answers, started.elapsed());
    at_once.assert_within(PER_LINK, 0, Duration::from_secs(12), || twins.logs());

    // A right password from a client of its own is answered, on a link not guessed at.
    let open = password_link(&owner, "untouched");
    let right = open_link(twins.url(1), &open, "127.0.2.1", LINK_PASSWORD);
    assert_eq!(right.status, 200, "{right:?}");
}

#[test]
fn guesses_are_refused_with_503_while_the_limits_database_cannot_be_reached() {
    let stack = Stack::new();
    let admin = url::Url::parse(&require("FMS_TEST_POSTGRES_URL")).unwrap();
    let postgres = (admin.host_str().unwrap(), admin.port().unwrap_or(5432))
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap();
    let relay = Relay::to(postgres);
    let files = stack
        .fmsd_env
        .iter()
        .find(|(key, _)| key == "FMSD_STORES__FILES")
        .map(|(_, url)| url.clone())
        .unwrap();
    let limits = relay.in_front_of(&files);
    let root = tempfile::tempdir().unwrap();
    let mut settings = stack.env();
    settings.push(("FMSD_STORES__LIMITS", &limits));
    let server = Fmsd::start_with(
        &root.path().join("data"),
        &root.path().join("fmsd.log"),
        &settings,
    );
    let email = format!("{}-outage@example.com", stack.tag);
    let owner = owner_on(&server.url, &email);
    let link = password_link(&owner, "box");
    let token = access_token(&server.url, &email);

    relay.cut();
    // Each waits out the pool's connection timeout, so they go at once.
    let url = server.url.clone();
    let bearer = format!("Bearer {token}");
    let attempts: Vec<(&str, std::thread::JoinHandle<Answer>)> = vec![
        ("a wrong login", {
            let (url, email) = (url.clone(), email.clone());
            std::thread::spawn(move || {
                http(
                    "POST",
                    &format!("{url}/v1/auth/login"),
                    "127.0.0.1",
                    &[],
                    Some(&json!({"email": email, "password": "wrong guess"})),
                )
            })
        }),
        ("the right login", {
            let (url, email) = (url.clone(), email.clone());
            std::thread::spawn(move || {
                http(
                    "POST",
                    &format!("{url}/v1/auth/login"),
                    "127.0.0.1",
                    &[],
                    Some(&json!({"email": email, "password": PASSWORD})),
                )
            })
        }),
        ("a current-password check", {
            let (url, bearer) = (url.clone(), bearer.clone());
            std::thread::spawn(move || {
                http(
                    "POST",
                    &format!("{url}/v1/me/password"),
                    "127.0.0.1",
                    &[("authorization", &bearer)],
                    Some(
                        &json!({"current_password": "wrong guess", "new_password": "a brand new password"}),
                    ),
                )
            })
        }),
        ("a link password", {
            let url = url.clone();
            std::thread::spawn(move || open_link(&url, &link, "127.0.0.1", "wrong guess"))
        }),
    ];
    let started = Instant::now();
    for (what, attempt) in attempts {
        let answer = attempt.join().unwrap();
        assert_eq!(
            (answer.status, answer.body["error"]["code"].as_str()),
            (503, Some("unavailable")),
            "{what}: {answer:?}\n{}",
            server.log_text()
        );
    }
    println!("refused with 503 within {:?} of the cut", started.elapsed());
    // What checks no password goes on working.
    let me = http(
        "GET",
        &format!("{url}/v1/me"),
        "127.0.0.1",
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(me.status, 200, "{me:?}");
}
