//! The resolved settings: flags (and their `FMSCTL_...` variables) first, then
//! `$XDG_CONFIG_HOME/fmsctl/config.toml`, then defaults.
//!
//! The config file knows two keys, `server` and `credential_store`; any other key is an error,
//! so a typo does not go unnoticed. Tokens never live here (see [`crate::credentials`]).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;
use url::Url;

use crate::cli::GlobalArgs;
use crate::credentials::CredentialStoreKind;
use crate::error::UsageError;
use crate::output::Output;

/// The server used when neither a flag, the environment nor the config file names one.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Everything a command needs to know about how it was asked to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The server's base URL, without a trailing slash (`http://host:8080` or `https://host/fms`).
    pub server: String,
    /// How results and messages are printed.
    pub output: Output,
    /// `-v` count: 0 none, 1 fmsctl's own debug lines, 2 everything.
    pub verbose: u8,
    /// Where tokens are kept.
    pub credential_store: CredentialStoreKind,
    /// `$XDG_CONFIG_HOME/fmsctl` (or `~/.config/fmsctl`); `None` when neither variable is set.
    pub config_dir: Option<PathBuf>,
    /// `FMSCTL_TOKEN`: an app token every call uses instead of the stored session, with no
    /// login and nothing stored.
    pub app_token: Option<String>,
}

/// The variable that carries an app token.
pub const TOKEN_VARIABLE: &str = "FMSCTL_TOKEN";

/// The keys `config.toml` may hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// The server to use when no flag or variable names one.
    server: Option<String>,
    /// The credential store to use when no flag or variable names one.
    credential_store: Option<CredentialStoreKind>,
}

impl Config {
    /// Resolves the global flags against the config file and the defaults.
    pub fn resolve(global: &GlobalArgs) -> anyhow::Result<Self> {
        let config_dir = crate::dirs::fmsctl_dir("XDG_CONFIG_HOME", ".config");
        let file = match &config_dir {
            Some(dir) => read_config_file(&dir.join("config.toml"))?,
            None => ConfigFile::default(),
        };
        let server = match (&global.server, &file.server) {
            (Some(flag), _) => normalize_server(flag).map_err(|reason| {
                UsageError(format!(
                    "invalid --server (or FMSCTL_SERVER) '{flag}': {reason}"
                ))
            })?,
            (None, Some(from_file)) => normalize_server(from_file).map_err(|reason| {
                anyhow::anyhow!("invalid server '{from_file}' in config.toml: {reason}")
            })?,
            (None, None) => DEFAULT_SERVER.to_string(),
        };
        Ok(Self {
            server,
            output: Output {
                json: global.json,
                quiet: global.quiet,
            },
            verbose: global.verbose,
            credential_store: global
                .credential_store
                .or(file.credential_store)
                .unwrap_or_default(),
            config_dir,
            app_token: std::env::var(TOKEN_VARIABLE)
                .ok()
                .map(|token| token.trim().to_owned())
                .filter(|token| !token.is_empty()),
        })
    }
}

fn read_config_file(path: &Path) -> anyhow::Result<ConfigFile> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("{} is not a valid config file", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
        Err(error) => Err(error).with_context(|| format!("failed to read {}", path.display())),
    }
}

/// Checks that `raw` is an http(s) URL and returns it without a trailing slash, so
/// `http://host:8080/` and `http://host:8080` share one set of stored credentials.
fn normalize_server(raw: &str) -> Result<String, String> {
    let url = Url::parse(raw.trim()).map_err(|error| error.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the scheme must be http or https".into());
    }
    if url.host_str().is_none() {
        return Err("the URL has no host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the URL must not have a query or a fragment".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_normalized() {
        assert_eq!(
            normalize_server("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_server("https://Files.Example.com/fms/").unwrap(),
            "https://files.example.com/fms"
        );
        assert!(normalize_server("ftp://host").is_err());
        assert!(normalize_server("not a url").is_err());
        assert!(normalize_server("http://host/?a=b").is_err());
    }

    #[test]
    fn the_config_file_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "server = \"http://h:1\"\ncredential_store = \"file\"\n",
        )
        .unwrap();
        let file = read_config_file(&path).unwrap();
        assert_eq!(file.server.as_deref(), Some("http://h:1"));
        assert_eq!(file.credential_store, Some(CredentialStoreKind::File));

        std::fs::write(&path, "sever = \"http://h:1\"\n").unwrap();
        assert!(read_config_file(&path).is_err());
        assert!(read_config_file(&dir.path().join("absent.toml")).is_ok());
    }
}
