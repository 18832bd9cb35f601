//! What the integration tests share: the real `fmsctl` binary run in an isolated config home,
//! the real `fmsd` started on port 0, and test files made on the fly.

// Each test binary uses a different part of this module.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The `fmsctl` binary cargo built for these tests.
pub const FMSCTL: &str = env!("CARGO_BIN_EXE_fmsctl");

/// What one run of `fmsctl` did.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
    /// The command line, for failure messages.
    pub args: String,
}

impl Run {
    /// Asserts the exit code, showing both streams when it is not `code`.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "`fmsctl {}` exited {} instead of {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Asserts success.
    pub fn ok(self) -> Self {
        self.expect_code(0)
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "`fmsctl {}` printed no JSON ({error}):\n{}",
                self.args, self.stdout
            )
        })
    }
}

/// `fmsctl` with its own config home (so its own credentials file) and a server URL.
pub struct Fmsctl {
    /// `XDG_CONFIG_HOME` for every run.
    config_home: TempDir,
    /// `FMSCTL_SERVER` for every run.
    pub server: String,
    /// `FMSCTL_TOKEN` for every run, if set.
    pub app_token: Option<String>,
}

impl Fmsctl {
    /// A fresh, logged-out `fmsctl` pointed at `server`.
    pub fn new(server: &str) -> Self {
        Self {
            config_home: tempfile::tempdir().unwrap(),
            server: server.to_string(),
            app_token: None,
        }
    }

    /// A fresh `fmsctl` with no stored login that uses the app token `secret` (`FMSCTL_TOKEN`).
    pub fn with_app_token(server: &str, secret: &str) -> Self {
        Self {
            app_token: Some(secret.to_owned()),
            ..Self::new(server)
        }
    }

    /// What the file credential store holds for this server, as JSON.
    pub fn stored_credentials(&self) -> serde_json::Value {
        let path = self.config_home().join("fmsctl/credentials.json");
        let text = std::fs::read_to_string(path).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()[&self.server].clone()
    }

    /// The config home (`$XDG_CONFIG_HOME`).
    pub fn config_home(&self) -> &Path {
        self.config_home.path()
    }

    /// The state home (`$XDG_STATE_HOME`), where unfinished uploads are recorded.
    pub fn state_home(&self) -> PathBuf {
        self.config_home.path().join("state")
    }

    /// The cache home (`$XDG_CACHE_HOME`), where the hashes of local files are remembered.
    pub fn cache_home(&self) -> PathBuf {
        self.config_home.path().join("cache")
    }

    /// The records of unfinished uploads, kept for resuming.
    pub fn upload_records(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.state_home().join("fmsctl/uploads")) {
            Ok(entries) => entries.map(|entry| entry.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The command, with the environment set and isolated from the caller's.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(FMSCTL);
        command
            .args(args)
            .env("FMSCTL_SERVER", &self.server)
            .env("XDG_CONFIG_HOME", self.config_home.path())
            .env("XDG_STATE_HOME", self.state_home())
            .env("XDG_CACHE_HOME", self.cache_home())
            .env("FMSCTL_CREDENTIAL_STORE", "file")
            .env_remove("FMSCTL_PARALLEL")
            .env_remove("RUST_LOG");
        match &self.app_token {
            Some(secret) => command.env("FMSCTL_TOKEN", secret),
            None => command.env_remove("FMSCTL_TOKEN"),
        };
        command
    }

    /// Runs `fmsctl ARGS` with no stdin.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    /// Registers `email` as `name` and logs in, both with `--password-stdin`; neither prints
    /// the password.
    pub fn register_and_login(&self, email: &str, name: &str, password: &str) {
        let stdin = format!("{password}\n");
        for args in [
            &[
                "register",
                "--email",
                email,
                "--name",
                name,
                "--password-stdin",
            ][..],
            &["login", "--email", email, "--password-stdin"][..],
        ] {
            let run = self.run_with_stdin(args, Some(&stdin)).ok();
            assert!(!run.stdout.contains(password) && !run.stderr.contains(password));
        }
    }

    /// Runs `fmsctl ARGS` with `stdin` written to its standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut child = self
            .command(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            args: args.join(" "),
        }
    }
}

/// A running `fmsd`, stopped (SIGKILL) when dropped if the test did not stop it.
pub struct Fmsd {
    /// The process.
    child: Child,
    /// `http://127.0.0.1:PORT`, as fmsd printed it.
    pub url: String,
    /// Its `--data-dir`.
    pub data_dir: PathBuf,
    /// Where its stderr goes, shown when something fails.
    log: PathBuf,
}

/// The `fmsd` binary, next to `fmsctl` in cargo's target folder.
pub fn fmsd_binary() -> PathBuf {
    let path = Path::new(FMSCTL).with_file_name("fmsd");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first, then run the tests again",
        path.display()
    );
    path
}

impl Fmsd {
    /// Starts `fmsd --listen 127.0.0.1:0 --data-dir DATA_DIR` and reads the URL it prints.
    pub fn start(data_dir: &Path, log: &Path) -> Self {
        Self::start_with(data_dir, log, &[])
    }

    /// [`Fmsd::start`] with settings in `FMSD_*` variables, e.g. a small quota.
    pub fn start_with(data_dir: &Path, log: &Path, settings: &[(&str, &str)]) -> Self {
        Self::start_at("127.0.0.1:0", data_dir, log, settings)
    }

    /// [`Fmsd::start_with`] on a given address (to restart on the same port).
    pub fn start_at(listen: &str, data_dir: &Path, log: &Path, settings: &[(&str, &str)]) -> Self {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new(fmsd_binary())
            .args(["--listen", listen, "--data-dir"])
            .arg(data_dir)
            .env_remove("FMSD_CONFIG")
            // Addresses count as proved unless a test asks for verification: the tests of
            // verification itself set `FMSD_AUTH__EMAIL_VERIFICATION=required`.
            .env("FMSD_AUTH__EMAIL_VERIFICATION", "off")
            .envs(settings.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines, first_line) = mpsc::channel();
        // Keep reading stdout for the life of the process, so the pipe never fills up.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = lines.send(line);
            }
        });
        let mut server = Self {
            child,
            url: String::new(),
            data_dir: data_dir.to_path_buf(),
            log: log.to_path_buf(),
        };
        let line = match first_line.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => panic!("fmsd printed no address within 60 s\n{}", server.log_text()),
        };
        let url = line
            .strip_prefix("fmsd listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from fmsd: {line:?}"));
        server.url = url.trim().trim_end_matches('/').to_string();
        server
    }

    /// The `host:port` fmsd listens on.
    pub fn address(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// fmsd's stderr so far.
    pub fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        format!("--- fmsd log\n{text}")
    }

    /// Sends SIGTERM and waits (up to 60 s) for fmsd to exit.
    pub fn stop(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "fmsd did not stop within 60 s of SIGTERM\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Fmsd {
    /// Kills fmsd with SIGKILL, as a crash would: nothing is finished or flushed.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Fmsd {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Writes `size` pseudo-random bytes (xorshift64*, seeded) to `path`, a mebibyte at a time.
pub fn random_file(path: &Path, size: usize, seed: u64) {
    let mut state = seed | 1;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut block = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            word.copy_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
        }
        let n = left.min(block.len());
        file.write_all(&block[..n]).unwrap();
        left -= n;
    }
    file.flush().unwrap();
}

/// The SHA-256 of a file, lowercase hex.
pub fn sha256_of(path: &Path) -> String {
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut block).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    hex::encode(hasher.finalize())
}

/// Asserts that two files hold the same bytes, compared a mebibyte at a time.
pub fn assert_same_file(expected: &Path, actual: &Path) {
    let expected_len = std::fs::metadata(expected).unwrap().len();
    let actual_len = std::fs::metadata(actual).unwrap().len();
    assert_eq!(
        expected_len,
        actual_len,
        "{} has the wrong size",
        actual.display()
    );
    let mut expected_file = BufReader::new(std::fs::File::open(expected).unwrap());
    let mut actual_file = BufReader::new(std::fs::File::open(actual).unwrap());
    let mut expected_block = vec![0u8; 1 << 20];
    let mut actual_block = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    while offset < expected_len {
        let n = usize::try_from((expected_len - offset).min(1 << 20)).unwrap();
        expected_file.read_exact(&mut expected_block[..n]).unwrap();
        actual_file.read_exact(&mut actual_block[..n]).unwrap();
        assert!(
            expected_block[..n] == actual_block[..n],
            "{} differs from {} in the mebibyte at offset {offset}",
            actual.display(),
            expected.display()
        );
        offset += n as u64;
    }
}

/// Starts `fmsctl -v upload --parallel 1 FILE /` and kills it as soon as it reports its first
/// stored part, leaving an interrupted upload; `log` is shown if no part is stored in 60 s.
pub fn upload_and_interrupt_after_first_part(
    fmsctl: &Fmsctl,
    file: &Path,
    log: impl Fn() -> String,
) {
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
    let stderr = child.stderr.take().unwrap();
    let (lines, seen) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match seen.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains("part stored") => break,
            Ok(_) => {}
            Err(_) => panic!("fmsctl stored no part within 60 s\n{}", log()),
        }
    }
    child.kill().unwrap();
    assert!(
        !child.wait().unwrap().success(),
        "fmsctl finished before it could be interrupted"
    );
}
