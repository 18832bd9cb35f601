//! fmsd's settings: built-in defaults, then a TOML file, then `FMSD_...` environment variables
//! (`__` nests: `FMSD_FILES__QUOTA_BYTES=1000`), then command-line flags. An unknown key in any
//! of them is an error, so a typo never goes unnoticed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use common::telemetry::LogFormat;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// Everything fmsd can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where the gateway listens; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where the embedded stores keep their data.
    pub data_dir: PathBuf,
    /// Where the signing keys are (made on first start); default `<data_dir>/keys`. Instances
    /// that share a stack share this folder, so a token or URL from one works on every one.
    pub keys_dir: Option<PathBuf>,
    /// The base URL clients reach fmsd at, used in signed URLs and named by every mail.
    /// Default: `http://<listen>`.
    pub public_url: Option<Url>,
    /// `pretty` or `json` log lines; anything else is a configuration error.
    pub log_format: LogFormat,
    /// Which log lines are written (`info`, `info,fmsd=debug`, ...); `RUST_LOG` wins when set.
    /// Changed by SIGHUP without a restart.
    pub log_filter: String,
    /// How long in-flight work may take to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Customers: tokens and login limits.
    pub auth: AuthSettings,
    /// Files: quota, uploads, signed URLs.
    pub files: FilesSettings,
    /// The HTTP front door.
    pub gateway: GatewaySettings,
    /// Outgoing mail.
    pub mail: MailSettings,
    /// The Prometheus endpoint.
    pub metrics: MetricsSettings,
    /// Which backend each port uses, by URL.
    pub stores: StoresSettings,
    /// The S3 blob store, when `stores.blobs` is `s3://`.
    pub s3: S3Settings,
    /// The Kafka bus, when `stores.bus` is `kafka://`.
    pub kafka: KafkaSettings,
    /// The SMTP mailer, when `stores.mail` is `smtp://`.
    pub smtp: SmtpSettings,
}

/// Which backend each port uses, picked by the URL's scheme. A relative path after `sqlite://`
/// or `file://` is inside `data_dir`; `sqlite:///abs/path.db` is absolute.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoresSettings {
    /// Customers: `sqlite://customers.db` or `mongodb://HOST:PORT/DATABASE`.
    pub customers: String,
    /// Files metadata: `sqlite://files.db` or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`.
    pub files: String,
    /// What notifications remembers: `sqlite://notifications.db` or `postgres://...`.
    pub notifications: String,
    /// File bytes: `file://blobs` or `s3://BUCKET` (see `[s3]`).
    pub blobs: String,
    /// The event bus: `sqlite://bus.db` (embedded) or `kafka://HOST:PORT[,HOST:PORT...]`.
    pub bus: String,
    /// Outgoing mail: `file://mail` (`.eml` files) or `smtp://HOST:PORT` (see `[smtp]`).
    pub mail: String,
    /// The password-guessing limits: `memory://` (this process only), `sqlite://...` or
    /// `postgres://...` (shared by every instance that names the same database). Unset: the
    /// files database when `files` is `postgres://` (instances of a real stack share their
    /// limits without a setting to forget), else `memory://` (the embedded default).
    pub limits: Option<String>,
}

/// The S3 blob store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// The S3 endpoint; empty means AWS itself for `region`.
    pub endpoint: Option<Url>,
    /// The region the signatures name.
    pub region: String,
    /// Path-style addressing (`ENDPOINT/BUCKET/KEY`), which most self-hosted servers need.
    pub path_style: bool,
    /// The access key id.
    pub access_key: Option<String>,
    /// Or a file holding it.
    pub access_key_file: Option<PathBuf>,
    /// The secret key.
    #[serde(skip_serializing)]
    pub secret_key: Option<SecretString>,
    /// Or a file holding it.
    pub secret_key_file: Option<PathBuf>,
    /// Prefix of every object key, to share a bucket.
    pub key_prefix: String,
}

/// The Kafka bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSettings {
    /// Partitions of each topic fmsd creates.
    pub partitions: i32,
    /// Replicas of each topic fmsd creates.
    pub replication_factor: i32,
    /// Prefix of every topic name, to share a cluster between deployments.
    pub topic_prefix: String,
    /// Prefix of every consumer group (`<prefix>fms-files`, ...).
    pub group_prefix: String,
}

/// The SMTP mailer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// `none`, `starttls` or `tls` (implicit TLS).
    pub tls: String,
    /// The login, if the server wants one.
    pub username: Option<String>,
    /// The password.
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    /// Or a file holding it.
    pub password_file: Option<PathBuf>,
}

impl Default for StoresSettings {
    fn default() -> Self {
        Self {
            customers: "sqlite://customers.db".into(),
            files: "sqlite://files.db".into(),
            notifications: "sqlite://notifications.db".into(),
            blobs: "file://blobs".into(),
            bus: "sqlite://bus.db".into(),
            mail: "file://mail".into(),
            limits: None,
        }
    }
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: "us-east-1".into(),
            path_style: true,
            access_key: None,
            access_key_file: None,
            secret_key: None,
            secret_key_file: None,
            key_prefix: String::new(),
        }
    }
}

impl Default for KafkaSettings {
    fn default() -> Self {
        Self {
            partitions: 3,
            replication_factor: 1,
            topic_prefix: String::new(),
            group_prefix: String::new(),
        }
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            tls: "starttls".into(),
            username: None,
            password: None,
            password_file: None,
        }
    }
}

/// A secret given inline or as a file (whose trailing newline is dropped); `None` if neither.
pub fn read_secret(
    inline: Option<&SecretString>,
    file: Option<&Path>,
) -> anyhow::Result<Option<SecretString>> {
    match (inline, file) {
        (Some(_), Some(path)) => {
            anyhow::bail!("give a secret inline or as {}, not both", path.display())
        }
        (Some(secret), None) => Ok(Some(secret.clone())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            Ok(Some(SecretString::from(
                text.trim_end_matches(['\n', '\r']).to_owned(),
            )))
        }
        (None, None) => Ok(None),
    }
}

/// Customers: tokens and login limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// Lifetime of an access token (a JWT nobody can revoke, so keep it short).
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh-token family from its login.
    pub refresh_token_ttl_days: u64,
    /// Login attempts allowed per client IP per minute.
    pub login_attempts_per_minute_per_ip: u32,
    /// Password attempts allowed per account (e-mail address) per minute: logins, and checks
    /// of the current password (change password, delete the account), counted together.
    pub login_attempts_per_minute_per_account: u32,
    /// Whether an account must prove its address before it shares, is shared with or makes
    /// links: `required` (a code is mailed at registration) or `off` (the operator vouches
    /// for every address; every account counts as verified).
    pub email_verification: EmailVerification,
    /// Mails with a code (password reset, verification) allowed per address per hour.
    pub mail_codes_per_hour_per_address: u32,
    /// Mails with a code asked for from one client IP per hour.
    pub mail_codes_per_hour_per_ip: u32,
}

/// `auth.email_verification`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailVerification {
    /// An address counts once the code mailed to it is confirmed.
    #[default]
    Required,
    /// Every address counts as proved: for closed installations.
    Off,
}

/// Files: quota, uploads, signed URLs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesSettings {
    /// Bytes each user may store.
    pub quota_bytes: u64,
    /// Size of every upload part but the last.
    pub part_size_bytes: u64,
    /// How long an unfinished upload session lives before it is swept.
    pub upload_session_ttl_secs: u64,
    /// How long a part URL works.
    pub part_url_ttl_secs: u64,
    /// How long a download URL works.
    pub download_url_ttl_secs: u64,
    /// How often expired upload sessions are swept (and links about to expire looked for).
    pub sweep_interval_secs: u64,
    /// How long a download URL handed out through a share or a link works: short, so a revoked
    /// share or link stops working soon even for a URL already handed out.
    pub shared_download_url_ttl_secs: u64,
    /// Lifetime of a link when its creator names none.
    pub link_default_ttl_secs: u64,
    /// The longest lifetime a link may have.
    pub link_max_ttl_secs: u64,
    /// Wrong link passwords allowed per link (and per client IP) per minute; more get 429.
    pub link_password_attempts_per_minute: u32,
    /// Bytes kept free on every local disk fmsd writes to: an upload (at create, and each
    /// part) that would leave less is refused with 507, and `/readyz` reports `disk` as
    /// degraded below it. Room for the databases, the logs and the rest of the machine.
    pub min_free_bytes: u64,
    /// Size of the emergency reserve, a file beside the files database given back when the
    /// disk is full so that deleting still works; 0 keeps none.
    pub reserve_bytes: u64,
    /// A part upload to the local blob store that receives no byte for this long is cut off
    /// with 408 (parts may be slow, but not idle).
    pub part_idle_timeout_secs: u64,
    /// An upload session made through a share or a link that receives no part for this long
    /// is aborted by the sweep, giving the owner's quota back.
    pub idle_upload_timeout_secs: u64,
    /// Most upload sessions one link may have open at once, and most bytes they may reserve
    /// together; past either, the link's next upload gets 429 until one finishes or ends.
    pub link_pending_uploads: u32,
    /// See `link_pending_uploads`.
    pub link_pending_bytes: u64,
    /// Days a deleted entry stays in its owner's trash (counting against the quota) before the
    /// sweep deletes it for good; 0 purges it at the first sweep after the delete.
    pub trash_retention_days: u64,
}

/// The HTTP front door.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewaySettings {
    /// Largest JSON body accepted.
    pub json_body_limit_bytes: usize,
    /// Longest a connection may take to send a request's headers, counted from when it opens
    /// or from the end of its previous answer (so it also bounds an idle keep-alive
    /// connection); a connection that takes longer is closed.
    pub header_timeout_secs: u64,
    /// Longest a JSON body may take to arrive whole after its headers; slower gets 408.
    pub body_timeout_secs: u64,
    /// Most connections served at once. Past it, new connections wait in the kernel's queue
    /// until one ends; fmsd warns when it is reached. Lowered at start to what the process's
    /// open-files limit allows.
    pub max_connections: usize,
    /// Networks of the reverse proxies in front of fmsd (`["127.0.0.1/32", "10.0.0.0/8"]`):
    /// only from these peers are `Forwarded`, `X-Forwarded-For`, `-Proto` and `-Host` believed,
    /// for the rate limits, the logs and the URLs fmsd hands out. Empty: none is.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Outgoing mail.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    /// The `From:` of every mail.
    pub from: String,
    /// Activity mails to one customer within this many seconds of the last one are gathered
    /// into one digest, sent when the window has passed (security mail is never held back).
    pub digest_window_secs: u64,
}

/// The Prometheus endpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// Where `/metrics` is served, on a listener of its own so it stays off the public port;
    /// port 0 picks a free one (the bound address is logged). Unset: no metrics at all.
    pub listen: Option<SocketAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: default_data_dir(),
            keys_dir: None,
            public_url: None,
            log_format: LogFormat::Pretty,
            log_filter: "info".into(),
            shutdown_grace_secs: 30,
            auth: AuthSettings::default(),
            files: FilesSettings::default(),
            gateway: GatewaySettings::default(),
            mail: MailSettings::default(),
            metrics: MetricsSettings::default(),
            stores: StoresSettings::default(),
            s3: S3Settings::default(),
            kafka: KafkaSettings::default(),
            smtp: SmtpSettings::default(),
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            login_attempts_per_minute_per_ip: 30,
            login_attempts_per_minute_per_account: 10,
            email_verification: EmailVerification::Required,
            mail_codes_per_hour_per_address: 5,
            mail_codes_per_hour_per_ip: 20,
        }
    }
}

impl Default for FilesSettings {
    fn default() -> Self {
        Self {
            quota_bytes: 10 * 1024 * 1024 * 1024,
            part_size_bytes: 16 * 1024 * 1024,
            upload_session_ttl_secs: 24 * 3600,
            part_url_ttl_secs: 3600,
            download_url_ttl_secs: 300,
            sweep_interval_secs: 600,
            min_free_bytes: 512 * 1024 * 1024,
            reserve_bytes: 32 * 1024 * 1024,
            part_idle_timeout_secs: 60,
            idle_upload_timeout_secs: 15 * 60,
            link_pending_uploads: 16,
            link_pending_bytes: 10 * 1024 * 1024 * 1024,
            shared_download_url_ttl_secs: 60,
            link_default_ttl_secs: 7 * 24 * 3600,
            link_max_ttl_secs: 90 * 24 * 3600,
            link_password_attempts_per_minute: 5,
            trash_retention_days: 30,
        }
    }
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            json_body_limit_bytes: 64 * 1024,
            header_timeout_secs: 30,
            body_timeout_secs: 30,
            max_connections: 10_000,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            from: "fms <no-reply@fms.localhost>".into(),
            digest_window_secs: 300,
        }
    }
}

/// `$XDG_DATA_HOME/fms`, else `~/.local/share/fms`, else `./fms-data`.
fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("fms");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/fms"),
        None => PathBuf::from("fms-data"),
    }
}

/// Values given on the command line; they win over everything else.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

impl Settings {
    /// Defaults, then `config_file` (if any), then `FMSD_*` variables, then `overrides`.
    pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = config_file {
            anyhow::ensure!(
                path.is_file(),
                "config file {} does not exist",
                path.display()
            );
            figment = figment.merge(Toml::file_exact(path));
        }
        figment
            .merge(Env::prefixed("FMSD_").split("__").ignore(&["config"]))
            .merge(Serialized::defaults(overrides))
            .extract()
            .context("failed to read the settings")
    }

    /// The base of signed URLs.
    pub fn public_url_for(&self, bound: SocketAddr) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://{bound}"))
                .unwrap_or_else(|_| unreachable!("a socket address is a valid host"))
        })
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment's large error.
mod tests {
    use super::*;

    #[test]
    fn an_unknown_key_in_the_file_is_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "fmsd.toml",
                "listen = \"127.0.0.1:9\"\n[files]\nquota = 5\n",
            )?;
            let error =
                Settings::load(Some(Path::new("fmsd.toml")), &Overrides::default()).unwrap_err();
            assert!(format!("{error:#}").contains("quota"), "{error:#}");
            Ok(())
        });
    }

    #[test]
    fn an_unknown_log_format_is_an_error_that_names_the_ones_there_are() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("fmsd.toml", "log_format = \"xml\"\n")?;
            let error =
                Settings::load(Some(Path::new("fmsd.toml")), &Overrides::default()).unwrap_err();
            let text = format!("{error:#}");
            assert!(
                text.contains("xml") && text.contains("pretty") && text.contains("json"),
                "{text}"
            );
            Ok(())
        });
    }

    #[test]
    fn the_shipped_config_files_load_and_leave_the_limits_store_to_its_default() {
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        for file in ["fmsd.toml", "production.example.toml"] {
            let settings = Settings::load(Some(&config.join(file)), &Overrides::default())
                .unwrap_or_else(|error| panic!("{file}: {error:#}"));
            assert_eq!(settings.stores.limits, None, "{file}");
        }
    }

    #[test]
    fn env_wins_over_the_file_and_flags_win_over_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "fmsd.toml",
                "[files]\nquota_bytes = 5\npart_size_bytes = 7\n",
            )?;
            jail.set_env("FMSD_FILES__QUOTA_BYTES", "6");
            jail.set_env("FMSD_LISTEN", "127.0.0.1:1");
            let overrides = Overrides {
                listen: Some("127.0.0.1:2".parse().unwrap()),
                data_dir: None,
            };
            let settings = Settings::load(Some(Path::new("fmsd.toml")), &overrides).unwrap();
            assert_eq!(settings.files.quota_bytes, 6);
            assert_eq!(settings.files.part_size_bytes, 7);
            assert_eq!(settings.listen.port(), 2);
            Ok(())
        });
    }
}
