//! Guesses sent over plain HTTP, as a guesser would send them (curl, from any local address),
//! and what a run of them got.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod relay;

/// Guesses in each run.
pub const N_GUESSES: usize = 40;

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
    /// The body, as JSON (`null` when empty).
    pub body: Value,
}

/// `METHOD url` sent by curl from the local address `from`, with `headers` and a JSON `body`.
pub fn http(
    method: &str,
    url: &str,
    from: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut command = Command::new("curl");
    command.args(["-sS", "-i", "-X", method, "--interface", from]);
    for (name, value) in headers {
        command.args(["-H", &format!("{name}: {value}")]);
    }
    if body.is_some() {
        command.args([
            "-H",
            "content-type: application/json",
            "--data-binary",
            "@-",
        ]);
    }
    let mut child = command
        .arg(url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    if let Some(body) = body {
        stdin.write_all(body.to_string().as_bytes()).unwrap();
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "curl {method} {url} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let retry_after = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
        .map(|(_, value)| value.trim().parse().unwrap());
    let body = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"))
    };
    Answer {
        status,
        retry_after,
        body,
    }
}

/// What a run of guesses got.
#[derive(Debug)]
pub struct Tally {
    /// Answered 401: the password was checked.
    pub tried: usize,
    /// Answered 429.
    pub limited: usize,
    /// From the first guess to the last answer.
    pub elapsed: Duration,
}

impl Tally {
    /// Counts `answers`; anything but 401 and a well-formed 429 fails the test.
    pub fn of(answers: &[Answer], elapsed: Duration) -> Self {
        for answer in answers {
            match answer.status {
                401 => {}
                429 => {
                    assert_eq!(answer.body["error"]["code"], "rate_limited", "{answer:?}");
                    let retry_after = answer.retry_after.unwrap_or_else(|| panic!("{answer:?}"));
                    assert!((1..=60).contains(&retry_after), "{answer:?}");
                }
                _ => panic!("a guess got {answer:?}"),
            }
        }
        let tried = answers.iter().filter(|answer| answer.status == 401).count();
        Self {
            tried,
            limited: answers.len() - tried,
            elapsed,
        }
    }

    /// At least `limit - used` and at most `limit - used` plus what came back while the
    /// guesses ran (one attempt per interval) were tried; the rest were refused.
    pub fn assert_within(
        &self,
        limit: usize,
        used: usize,
        interval: Duration,
        logs: impl Fn() -> String,
    ) {
        let came_back = (self.elapsed.as_secs_f64() / interval.as_secs_f64()).floor() as usize;
        println!("{self:?}: limit {limit}, {used} used before, {came_back} came back meanwhile");
        assert!(
            self.tried >= limit - used && self.tried <= limit - used + came_back,
            "{self:?} against a limit of {limit} ({used} used before, {came_back} came back)\n{}",
            logs()
        );
        assert_eq!(self.tried + self.limited, N_GUESSES);
    }
}

/// Sends `N_GUESSES` guesses one after the other; `guess(n)` sends the n-th.
pub fn guess_in_turn(guess: impl Fn(usize) -> Answer) -> Tally {
    let started = Instant::now();
    let answers: Vec<Answer> = (0..N_GUESSES).map(guess).collect();
    Tally::of(&answers, started.elapsed())
}
