//! Where the token pair lives between commands: the OS keyring, or a 0600 file when there is none.
//!
//! One [`Credentials`] record is kept per server URL. The keyring entry is service `fmsctl`,
//! user = the server URL, secret = the record as JSON. On a headless box or in CI the keyring is
//! often unreachable; [`CredentialStoreKind::Auto`] then falls back to
//! `$XDG_CONFIG_HOME/fmsctl/credentials.json` (a map server URL -> record, mode 0600) and says so
//! on stderr when `login` saves there (a silent token refresh saves without a word). Tests force
//! the file store with `FMSCTL_CREDENTIAL_STORE=file`.
//!
//! Tokens are secrets: [`Credentials`] never shows them in `Debug` output, and nothing here logs
//! them.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{bail, Context};
use chrono::{DateTime, Duration, Utc};
use common::api::TokenPair;
use serde::{Deserialize, Serialize};

/// The keyring service name every entry is filed under.
const KEYRING_SERVICE: &str = "fmsctl";

/// The file the fallback store writes, inside the `fmsctl` config folder.
const CREDENTIALS_FILE: &str = "credentials.json";

/// Beside the credentials file: held by the one fmsctl process that refreshes the pair.
const REFRESH_LOCK_FILE: &str = "credentials.lock";

/// Refresh this long before the access token runs out, so a request never races the expiry.
const EXPIRY_MARGIN_SECONDS: i64 = 30;

/// Makes sure the "no keyring" notice is printed once per process, not once per save.
static FALLBACK_NOTICE: Once = Once::new();

/// What `fmsctl` remembers after `login`, per server.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// The short-lived bearer token.
    pub access_token: String,
    /// The single-use token that buys the next pair.
    pub refresh_token: String,
    /// When `access_token` stops working.
    pub access_expires_at: DateTime<Utc>,
    /// Who logged in, for `logout` messages and a default `login --email`.
    pub email: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("access_expires_at", &self.access_expires_at)
            .field("email", &self.email)
            .finish()
    }
}

impl Credentials {
    /// The record for a fresh token pair, with the expiry counted from `now`.
    pub fn from_token_pair(pair: &TokenPair, email: &str, now: DateTime<Utc>) -> Self {
        let lifetime = i64::try_from(pair.expires_in).unwrap_or(i64::MAX / 2);
        Self {
            access_token: pair.access_token.clone(),
            refresh_token: pair.refresh_token.clone(),
            access_expires_at: now + Duration::seconds(lifetime.min(10 * 365 * 24 * 3600)),
            email: email.to_string(),
        }
    }

    /// Whether the access token is expired or about to be, as of `now`.
    pub fn access_expires_soon(&self, now: DateTime<Utc>) -> bool {
        self.access_expires_at <= now + Duration::seconds(EXPIRY_MARGIN_SECONDS)
    }
}

/// Which store holds the credentials (`FMSCTL_CREDENTIAL_STORE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CredentialStoreKind {
    /// The OS keyring, or the 0600 file when no keyring is reachable.
    #[default]
    Auto,
    /// The OS keyring only; an unreachable keyring is an error.
    Keyring,
    /// The 0600 file only (for tests and boxes without a keyring).
    File,
}

/// The right to refresh the pair, held until dropped (the file's lock ends when it closes,
/// also when the process dies).
#[derive(Debug)]
pub struct RefreshLock {
    /// The locked file; `None` where there is nowhere to keep one.
    _file: Option<fs::File>,
}

/// Loads, saves and deletes the [`Credentials`] of one server.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    /// Which backend to use.
    kind: CredentialStoreKind,
    /// The server URL, used as the keyring user and the file's map key.
    server_key: String,
    /// The fallback file, or `None` when neither `XDG_CONFIG_HOME` nor `HOME` is set.
    file_path: Option<PathBuf>,
    /// `-q`: no notice on stderr.
    quiet: bool,
}

impl CredentialStore {
    /// A store for the server `server_key`, with the fallback file inside `config_dir`.
    pub fn new(
        kind: CredentialStoreKind,
        server_key: &str,
        config_dir: Option<&Path>,
        quiet: bool,
    ) -> Self {
        Self {
            kind,
            server_key: server_key.to_string(),
            file_path: config_dir.map(|dir| dir.join(CREDENTIALS_FILE)),
            quiet,
        }
    }

    /// The stored credentials, or `None` when this server has none.
    pub fn load(&self) -> anyhow::Result<Option<Credentials>> {
        match self.kind {
            CredentialStoreKind::File => self.file_load(),
            CredentialStoreKind::Keyring => self.keyring_load().map_err(keyring_failure),
            CredentialStoreKind::Auto => match self.keyring_load() {
                Ok(Some(credentials)) => Ok(Some(credentials)),
                Ok(None) => self.file_load(),
                Err(error) => {
                    tracing::debug!(%error, "keyring unreachable; reading the credentials file");
                    self.file_load()
                }
            },
        }
    }

    /// Saves `credentials` after a login, replacing what was there. When the keyring is not
    /// reachable, says once that the file holds them.
    pub fn save(&self, credentials: &Credentials) -> anyhow::Result<()> {
        self.save_with_notice(credentials, true)
    }

    /// Saves a refreshed pair. Silent: a refresh happens behind any command and is no news.
    pub fn save_refreshed(&self, credentials: &Credentials) -> anyhow::Result<()> {
        self.save_with_notice(credentials, false)
    }

    fn save_with_notice(&self, credentials: &Credentials, notice: bool) -> anyhow::Result<()> {
        match self.kind {
            CredentialStoreKind::File => self.file_update(Some(credentials)),
            CredentialStoreKind::Keyring => self.keyring_save(credentials).map_err(keyring_failure),
            CredentialStoreKind::Auto => match self.keyring_save(credentials) {
                Ok(()) => {
                    // A record left in the file by an earlier fallback would now be stale.
                    if self.file_has_entry() {
                        self.file_update(None)?;
                    }
                    Ok(())
                }
                Err(error) => {
                    tracing::debug!(%error, "keyring unreachable; using the credentials file");
                    self.file_update(Some(credentials))?;
                    if notice {
                        self.notice_fallback();
                    }
                    Ok(())
                }
            },
        }
    }

    /// Waits until no other fmsctl process is refreshing, then holds that right until the
    /// returned lock is dropped: what refreshes the pair, saves it and lets the next process
    /// read it, so processes sharing one session never present one refresh token twice. No
    /// lock (and no waiting) where there is no config folder to keep the lock file in.
    pub fn lock_refresh(&self) -> anyhow::Result<RefreshLock> {
        let Some(path) = self
            .file_path
            .as_ref()
            .map(|file| file.with_file_name(REFRESH_LOCK_FILE))
        else {
            return Ok(RefreshLock { _file: None });
        };
        if let Some(dir) = path.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("failed to open {}", path.display()))?;
        file.lock()
            .with_context(|| format!("failed to lock {}", path.display()))?;
        Ok(RefreshLock { _file: Some(file) })
    }

    /// Forgets this server's credentials in every store that may hold them.
    pub fn delete(&self) -> anyhow::Result<()> {
        let keyring_result = match self.kind {
            CredentialStoreKind::File => Ok(()),
            _ => self.keyring_delete(),
        };
        if self.kind != CredentialStoreKind::Keyring && self.file_has_entry() {
            self.file_update(None)?;
        }
        match (self.kind, keyring_result) {
            (CredentialStoreKind::Keyring, Err(error)) => Err(keyring_failure(error)),
            _ => Ok(()),
        }
    }

    fn notice_fallback(&self) {
        if self.quiet {
            return;
        }
        if let Some(path) = &self.file_path {
            FALLBACK_NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "fmsctl: no keyring service reachable; credentials stored in {} (mode 0600)",
                    path.display()
                );
            });
        }
    }

    fn keyring_entry(&self) -> keyring::Result<keyring::Entry> {
        keyring::Entry::new(KEYRING_SERVICE, &self.server_key)
    }

    fn keyring_load(&self) -> keyring::Result<Option<Credentials>> {
        match self.keyring_entry()?.get_password() {
            Ok(secret) => match serde_json::from_str(&secret) {
                Ok(credentials) => Ok(Some(credentials)),
                // A record this version cannot read is as good as none: log in again.
                Err(_) => Ok(None),
            },
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn keyring_save(&self, credentials: &Credentials) -> keyring::Result<()> {
        let secret = serde_json::to_string(credentials)
            .map_err(|error| keyring::Error::PlatformFailure(Box::new(error)))?;
        self.keyring_entry()?.set_password(&secret)
    }

    fn keyring_delete(&self) -> keyring::Result<()> {
        match self.keyring_entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn require_file_path(&self) -> anyhow::Result<&Path> {
        match &self.file_path {
            Some(path) => Ok(path),
            None => {
                bail!("cannot find a folder for the credentials file: set XDG_CONFIG_HOME or HOME")
            }
        }
    }

    fn file_load(&self) -> anyhow::Result<Option<Credentials>> {
        let Some(path) = &self.file_path else {
            return Ok(None);
        };
        Ok(read_credentials_file(path)?.remove(&self.server_key))
    }

    fn file_has_entry(&self) -> bool {
        self.file_load().ok().flatten().is_some()
    }

    /// Sets (`Some`) or removes (`None`) this server's record in the file, keeping the others.
    fn file_update(&self, credentials: Option<&Credentials>) -> anyhow::Result<()> {
        let path = self.require_file_path()?;
        let mut all = read_credentials_file(path)?;
        match credentials {
            Some(credentials) => {
                all.insert(self.server_key.clone(), credentials.clone());
            }
            None => {
                all.remove(&self.server_key);
            }
        }
        write_credentials_file(path, &all)
    }
}

fn keyring_failure(error: keyring::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "the keyring is not reachable ({error}); set FMSCTL_CREDENTIAL_STORE=file to use a file"
    )
}

fn read_credentials_file(path: &Path) -> anyhow::Result<BTreeMap<String, Credentials>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => {
            return Err(error).with_context(|| format!("failed to read {}", path.display()))
        }
    };
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid credentials file; delete it and log in again",
            path.display()
        )
    })
}

/// Writes the whole map to a 0600 temporary file next to `path`, then renames it into place,
/// so a crash never leaves half a file and the secret is never readable by others.
fn write_credentials_file(path: &Path, all: &BTreeMap<String, Credentials>) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .context("the credentials file has no parent folder")?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("failed to create {}", dir.display()))?;
    let temporary = dir.join(format!(".{CREDENTIALS_FILE}.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&temporary);
    let json = serde_json::to_vec_pretty(all).context("failed to encode the credentials")?;
    let write = || -> std::io::Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        // The mode given to open() is filtered by the umask; make sure it is exactly 0600.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        file.write_all(&json)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    };
    write().map_err(|error| {
        let _ = fs::remove_file(&temporary);
        anyhow::Error::new(error).context(format!("failed to write {}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(token: &str) -> Credentials {
        Credentials {
            access_token: format!("access-{token}"),
            refresh_token: format!("refresh-{token}"),
            access_expires_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            email: "a@example.com".into(),
        }
    }

    #[test]
    fn debug_output_hides_the_tokens() {
        let shown = format!("{:?}", sample("secret"));
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("a@example.com"));
    }

    #[test]
    fn file_store_keeps_one_record_per_server_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let one = CredentialStore::new(
            CredentialStoreKind::File,
            "http://one",
            Some(dir.path()),
            true,
        );
        let two = CredentialStore::new(
            CredentialStoreKind::File,
            "http://two",
            Some(dir.path()),
            true,
        );
        assert_eq!(one.load().unwrap(), None);

        one.save(&sample("1")).unwrap();
        two.save(&sample("2")).unwrap();
        assert_eq!(one.load().unwrap(), Some(sample("1")));
        assert_eq!(two.load().unwrap(), Some(sample("2")));

        let mode = fs::metadata(dir.path().join(CREDENTIALS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        one.delete().unwrap();
        assert_eq!(one.load().unwrap(), None);
        assert_eq!(two.load().unwrap(), Some(sample("2")));
    }

    #[test]
    fn expiry_is_counted_from_now_with_a_margin() {
        let pair = TokenPair {
            access_token: "a".into(),
            token_type: "Bearer".into(),
            expires_in: 900,
            refresh_token: "r".into(),
        };
        let now = Utc::now();
        let credentials = Credentials::from_token_pair(&pair, "a@example.com", now);
        assert!(!credentials.access_expires_soon(now));
        assert!(credentials.access_expires_soon(now + Duration::seconds(880)));
    }
}
