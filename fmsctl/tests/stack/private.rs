//! Servers of a test's own, started from the binaries `scripts/services.sh` installed, so that a
//! test can pause (SIGSTOP), resume (SIGCONT), restart or kill one without disturbing the other
//! tests, which share the servers of `services.sh`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::require;

/// A server process of this test's own; killed when dropped.
pub struct Private {
    /// What it is, for messages.
    pub name: &'static str,
    /// The process (the server itself, not a wrapper, so signals reach it).
    child: Option<Child>,
    /// The port it listens on.
    pub port: u16,
    /// Its folder: data and log.
    pub dir: tempfile::TempDir,
}

/// A free port on 127.0.0.1 (bound and released; the server binds it a moment later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `port`.
fn wait_for_port(name: &str, port: u16, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{name} did not listen on {port} within 60 s\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Private {
    /// Starts `command` (which gets `port`), its output in its folder, and waits for the port.
    fn launch(
        name: &'static str,
        port: u16,
        dir: tempfile::TempDir,
        command: &mut Command,
    ) -> Self {
        let log = dir.path().join("server.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|error| panic!("failed to start {name}: {error}"));
        let server = Self {
            name,
            child: Some(child),
            port,
            dir,
        };
        wait_for_port(name, port, &log);
        server
    }

    /// A tansu broker (Kafka) of its own, keeping its topics in memory.
    pub fn tansu() -> Self {
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        Self::launch(
            "tansu",
            port,
            tempfile::tempdir().unwrap(),
            Command::new(require("FMS_TEST_TANSU"))
                .args([
                    "broker",
                    "--listener-url",
                    &url,
                    "--advertised-listener-url",
                    &url,
                ])
                .args(["--storage-engine", "memory://tansu/"]),
        )
    }

    /// A maildev of its own; `self.port` is its SMTP port, [`Private::maildev_url`] its API.
    pub fn maildev() -> (Self, String) {
        let (smtp, web) = (free_port(), free_port());
        let dir = tempfile::tempdir().unwrap();
        let mail = dir.path().join("mail");
        let server = Self::launch(
            "maildev",
            smtp,
            dir,
            Command::new(require("FMS_TEST_MAILDEV"))
                .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1"])
                .args(["-s", &smtp.to_string(), "-w", &web.to_string()])
                .arg("--mail-directory")
                .arg(mail),
        );
        wait_for_port("maildev's API", web, &server.log_path());
        (server, format!("http://127.0.0.1:{web}"))
    }

    /// A MongoDB (nx-27017) of its own, in memory.
    pub fn mongodb() -> Self {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        // Its own pid file: by default every nx-27017 shares one and refuses to start twice.
        let (pid_file, log_file) = (dir.path().join("nx.pid"), dir.path().join("nx.log"));
        Self::launch(
            "nx-27017",
            port,
            dir,
            Command::new(require("FMS_TEST_NX27017"))
                .args(["--host", "127.0.0.1", "-p", &port.to_string()])
                .args(["--data-dir", "memory"])
                .arg("--pid-file")
                .arg(pid_file)
                .arg("--log-file")
                .arg(log_file),
        )
    }

    /// An S3 server (s3s-fs) of its own with the bucket `bucket`, credentials as
    /// `FMS_TEST_S3FS_*` say.
    pub fn s3s_fs(bucket: &str) -> Self {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join(bucket)).unwrap();
        Self::launch(
            "s3s-fs",
            port,
            dir,
            Command::new(require("FMS_TEST_S3FS"))
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", &require("FMS_TEST_S3FS_ACCESS_KEY")])
                .args(["--secret-key", &require("FMS_TEST_S3FS_SECRET_KEY")])
                .arg(data),
        )
    }

    /// The server's own log so far.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends `signal` (`STOP`, `CONT`, `KILL`) to the server.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {} failed", self.name);
    }

    /// Freezes the server: its port still accepts connections (the kernel does), nothing answers.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a paused server run again.
    pub fn resume(&self) {
        self.signal("CONT");
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A PostgreSQL cluster of this test's own, run by `pg_ctl` as the `postgres` user, so that it
/// can be restarted; stopped when dropped.
pub struct PrivatePostgres {
    /// The port it listens on.
    pub port: u16,
    /// Its data directory, owned by `postgres`.
    dir: tempfile::TempDir,
}

impl PrivatePostgres {
    /// `initdb`, then start; superuser `postgres` with password `postgres`.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, "postgres\n").unwrap();
        for path in [dir.path(), &password_file] {
            let status = Command::new("chown")
                .arg("postgres:postgres")
                .arg(path)
                .status()
                .unwrap();
            assert!(status.success(), "chown {} failed", path.display());
        }
        let cluster = Self {
            port: free_port(),
            dir,
        };
        let data = cluster.data().to_str().unwrap().to_owned();
        cluster.run_as_postgres(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                "--pwfile",
                password_file.to_str().unwrap(),
            ],
        );
        cluster.ctl("start");
        cluster
    }

    /// `postgres://postgres:postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres:postgres@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// Restarts the server (fast shutdown: open connections are cut).
    pub fn restart(&self) {
        self.ctl("restart");
    }

    /// Stops the server.
    pub fn stop(&self) {
        self.ctl("stop");
    }

    /// Starts it again after [`PrivatePostgres::stop`].
    pub fn start_again(&self) {
        self.ctl("start");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `pg_ctl ACTION` with this cluster's port, waiting for it to finish.
    fn ctl(&self, action: &str) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.run_as_postgres(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-m",
                "fast",
                "-w",
                action,
            ],
        );
    }

    /// Runs a PostgreSQL program as the `postgres` user.
    fn run_as_postgres(&self, program: &str, args: &[&str]) {
        let binary = Path::new(&require("FMS_TEST_PG_BINDIR")).join(program);
        let output = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&binary)
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let binary = Path::new(&require("FMS_TEST_PG_BINDIR")).join("pg_ctl");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(binary)
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}
