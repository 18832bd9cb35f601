//! fmsd's settings: built-in defaults, then a TOML file, then `FMSD_...` environment variables
//! (`__` nests: `FMSD_FILES__QUOTA_BYTES=1000`), then command-line flags. An unknown key in any
//! of them is an error, so a typo never goes unnoticed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
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
    /// The base URL clients reach fmsd at, used in signed URLs. Default: `http://<listen>`.
    pub public_url: Option<Url>,
    /// `pretty` or `json` log lines.
    pub log_format: String,
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
    /// Login attempts allowed per e-mail address per minute.
    pub login_attempts_per_minute_per_account: u32,
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
    /// How often expired upload sessions are swept.
    pub sweep_interval_secs: u64,
}

/// The HTTP front door.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewaySettings {
    /// Largest JSON body accepted.
    pub json_body_limit_bytes: usize,
}

/// Outgoing mail.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    /// The `From:` of every mail.
    pub from: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: default_data_dir(),
            public_url: None,
            log_format: "pretty".into(),
            shutdown_grace_secs: 30,
            auth: AuthSettings::default(),
            files: FilesSettings::default(),
            gateway: GatewaySettings::default(),
            mail: MailSettings::default(),
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
        }
    }
}

impl Default for GatewaySettings {
    fn default() -> Self {
        Self {
            json_body_limit_bytes: 64 * 1024,
        }
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            from: "fms <no-reply@fms.localhost>".into(),
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
