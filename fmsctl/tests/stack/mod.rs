//! The real stack for end-to-end tests: where the servers are (`FMS_TEST_*` variables, else
//! `target/services/services.env` written by `scripts/services.sh start`), an fmsd
//! configuration isolated per test (its own databases, topic and group prefixes, key prefix),
//! and independent clients to look at what fms did: `aws` for S3, Python's confluent-kafka
//! for Kafka, maildev's HTTP API for mail, `psql` for PostgreSQL.

#![allow(dead_code, clippy::unwrap_used)]

pub mod private;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The settings `scripts/services.sh start` wrote.
fn services_env() -> &'static HashMap<String, String> {
    static ENV: OnceLock<HashMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/services/services.env");
        let Ok(text) = std::fs::read_to_string(path) else {
            return HashMap::new();
        };
        text.lines()
            .filter_map(|line| line.trim().trim_start_matches("export ").split_once('='))
            .map(|(key, value)| {
                (
                    key.trim().to_owned(),
                    value.trim().trim_matches(['"', '\'']).to_owned(),
                )
            })
            .collect()
    })
}

/// A real-server setting; a missing one fails the test with directions.
pub fn require(name: &str) -> String {
    std::env::var(name).ok().or_else(|| services_env().get(name).cloned()).unwrap_or_else(|| {
        panic!("{name} is not set: start the real servers with `scripts/services.sh start` (scripts/test.sh does)")
    })
}

/// One isolated tenancy on the shared servers.
pub struct Stack {
    /// A unique tag for names.
    pub tag: String,
    /// The fmsd settings, as `FMSD_*` variables.
    pub fmsd_env: Vec<(String, String)>,
    /// The S3 key prefix of this test.
    pub key_prefix: String,
    /// The Kafka topic prefix of this test.
    pub topic_prefix: String,
}

impl Stack {
    /// Creates this test's databases and returns the fmsd settings that use them.
    pub fn new() -> Self {
        let tag = format!("e2e{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let admin = require("FMS_TEST_POSTGRES_URL");
        let files_db = format!("{tag}_files");
        let notifications_db = format!("{tag}_notifications");
        for db in [&files_db, &notifications_db] {
            psql(&admin, &format!("CREATE DATABASE {db}"));
        }
        let key_prefix = format!("{tag}/");
        let topic_prefix = format!("{tag}.");
        let fmsd_env = [
            (
                "FMSD_STORES__CUSTOMERS",
                format!(
                    "{}/{tag}",
                    require("FMS_TEST_MONGODB_URL").trim_end_matches('/')
                ),
            ),
            ("FMSD_STORES__FILES", with_database(&admin, &files_db)),
            (
                "FMSD_STORES__NOTIFICATIONS",
                with_database(&admin, &notifications_db),
            ),
            (
                "FMSD_STORES__BLOBS",
                format!("s3://{}", require("FMS_TEST_S3_BUCKET")),
            ),
            ("FMSD_S3__ENDPOINT", require("FMS_TEST_S3_ENDPOINT")),
            ("FMSD_S3__REGION", require("FMS_TEST_S3_REGION")),
            ("FMSD_S3__ACCESS_KEY", require("FMS_TEST_S3_ACCESS_KEY")),
            ("FMSD_S3__SECRET_KEY", require("FMS_TEST_S3_SECRET_KEY")),
            ("FMSD_S3__KEY_PREFIX", key_prefix.clone()),
            (
                "FMSD_STORES__BUS",
                format!("kafka://{}", require("FMS_TEST_KAFKA_BROKERS")),
            ),
            ("FMSD_KAFKA__TOPIC_PREFIX", topic_prefix.clone()),
            ("FMSD_KAFKA__GROUP_PREFIX", format!("{tag}-")),
            ("FMSD_KAFKA__PARTITIONS", "3".to_owned()),
            (
                "FMSD_STORES__MAIL",
                format!(
                    "smtp://{}:{}",
                    require("FMS_TEST_SMTP_HOST"),
                    require("FMS_TEST_SMTP_PORT")
                ),
            ),
            ("FMSD_SMTP__TLS", "none".to_owned()),
            // S3's smallest part is 5 MiB; small parts make an upload long enough to interrupt.
            ("FMSD_FILES__PART_SIZE_BYTES", (5 * 1024 * 1024).to_string()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
        Self {
            tag,
            fmsd_env,
            key_prefix,
            topic_prefix,
        }
    }

    /// Replaces (or adds) the fmsd setting `key`, e.g. to use a server of the test's own.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.fmsd_env.retain(|(existing, _)| existing != key);
        self.fmsd_env.push((key.to_owned(), value.into()));
    }

    /// The settings as `(&str, &str)` pairs for `Fmsd::start_with`.
    pub fn env(&self) -> Vec<(&str, &str)> {
        self.fmsd_env
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect()
    }

    /// The objects under this test's key prefix, as `(key, size)`, listed by `aws s3api`.
    pub fn s3_objects(&self) -> Vec<(String, u64)> {
        let output = self.aws(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            &require("FMS_TEST_S3_BUCKET"),
            "--prefix",
            &self.key_prefix,
            "--output",
            "json",
        ]);
        if output.trim().is_empty() {
            return Vec::new();
        }
        let listing: serde_json::Value = serde_json::from_str(&output).unwrap();
        listing["Contents"]
            .as_array()
            .map(|objects| {
                objects
                    .iter()
                    .map(|object| {
                        (
                            object["Key"].as_str().unwrap().to_owned(),
                            object["Size"].as_u64().unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Runs the AWS CLI against the test S3 server.
    pub fn aws(&self, args: &[&str]) -> String {
        let mut command = Command::new(require("FMS_TEST_AWS"));
        if let Some(config) = std::env::var("FMS_TEST_AWS_CONFIG_FILE")
            .ok()
            .or_else(|| services_env().get("FMS_TEST_AWS_CONFIG_FILE").cloned())
        {
            command.env("AWS_CONFIG_FILE", config);
        }
        let output = command
            .args([
                "--endpoint-url",
                &require("FMS_TEST_S3_ENDPOINT"),
                "--region",
                &require("FMS_TEST_S3_REGION"),
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", require("FMS_TEST_S3_ACCESS_KEY"))
            .env("AWS_SECRET_ACCESS_KEY", require("FMS_TEST_S3_SECRET_KEY"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "aws {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Every envelope on this test's `topic` (logical name), read from the beginning by Python's
    /// confluent-kafka with a throwaway group, waiting up to 15 s for at least `at_least`.
    pub fn kafka_envelopes(&self, topic: &str, at_least: usize) -> Vec<serde_json::Value> {
        self.kafka_envelopes_on(&require("FMS_TEST_KAFKA_BROKERS"), topic, at_least)
    }

    /// [`Stack::kafka_envelopes`] on the broker at `brokers`.
    pub fn kafka_envelopes_on(
        &self,
        brokers: &str,
        topic: &str,
        at_least: usize,
    ) -> Vec<serde_json::Value> {
        let script = r#"
import json, sys, time
from confluent_kafka import Consumer
brokers, topic, at_least = sys.argv[1], sys.argv[2], int(sys.argv[3])
consumer = Consumer({"bootstrap.servers": brokers, "group.id": "reader-" + str(time.time()),
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
consumer.subscribe([topic])
seen, deadline = [], time.time() + 15
while time.time() < deadline and len(seen) < at_least:
    message = consumer.poll(0.5)
    if message is None or message.error():
        continue
    seen.append(json.loads(message.value()))
consumer.close()
print(json.dumps(seen))
"#;
        let output = Command::new(require("FMS_TEST_PYTHON"))
            .args([
                "-c",
                script,
                brokers,
                &format!("{}{topic}", self.topic_prefix),
            ])
            .arg(at_least.to_string())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "the Kafka reader failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

/// Mails the shared maildev received for `to`, through its HTTP API.
pub fn mails_to(to: &str) -> Vec<serde_json::Value> {
    mails_at(&require("FMS_TEST_MAILDEV_URL"), to)
}

/// Mails the maildev whose API is at `api` received for `to`.
pub fn mails_at(api: &str, to: &str) -> Vec<serde_json::Value> {
    let output = Command::new("curl")
        .args(["-sS", "-f", &format!("{api}/email")])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "maildev's API failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let all: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    all.into_iter()
        .filter(|mail| {
            mail["to"]
                .as_array()
                .is_some_and(|list| list.iter().any(|r| r["address"].as_str() == Some(to)))
        })
        .collect()
}

/// Polls `check` every 200 ms until it holds or `timeout` passes.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn psql(url: &str, sql: &str) {
    let output = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "psql {sql:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `url` with its database (the path) replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_path(&format!("/{database}"));
    url.to_string()
}
