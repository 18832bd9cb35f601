//! Store URLs: which backend a port uses is picked by the scheme of its URL in `[stores]`.
//!
//! `sqlite://` and `file://` take a path, relative to the data dir unless it starts with `/`
//! (`sqlite:///var/lib/fms/files.db`); the other schemes are handed to their adapter whole.

use std::path::{Path, PathBuf};

use anyhow::bail;

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite://PATH`: an embedded SQLite database.
    Sqlite(PathBuf),
    /// `file://PATH`: a local folder.
    File(PathBuf),
    /// `postgres://...` (or `postgresql://`): the whole URL.
    Postgres(String),
    /// `mongodb://...`: the whole URL.
    Mongodb(String),
    /// `kafka://HOST:PORT[,HOST:PORT]`: the bootstrap servers.
    Kafka(String),
    /// `s3://BUCKET`: the bucket.
    S3(String),
    /// `smtp://HOST:PORT`: host and port (default 25).
    Smtp(String, u16),
    /// `memory://`: kept in the process only, gone at exit (the rate limits' default).
    Memory,
}

impl StoreUrl {
    /// Parses the URL of the store `what` (for messages), resolving paths against `data_dir`.
    pub fn parse(what: &str, url: &str, data_dir: &Path) -> anyhow::Result<Self> {
        let Some((scheme, rest)) = url.split_once("://") else {
            bail!("stores.{what} = {url:?} is not a URL: it needs a scheme such as sqlite://, postgres:// or s3://");
        };
        let path = |rest: &str| {
            if rest.is_empty() {
                bail!("stores.{what} = {url:?} needs a path after {scheme}://");
            }
            Ok(data_dir.join(rest))
        };
        Ok(match scheme {
            "sqlite" => Self::Sqlite(path(rest)?),
            "file" => Self::File(path(rest)?),
            "postgres" | "postgresql" => Self::Postgres(url.to_owned()),
            "memory" if rest.trim_end_matches('/').is_empty() => Self::Memory,
            "mongodb" => Self::Mongodb(url.to_owned()),
            "kafka" if !rest.is_empty() => Self::Kafka(rest.trim_end_matches('/').to_owned()),
            "s3" if !rest.is_empty() => Self::S3(rest.trim_end_matches('/').to_owned()),
            "smtp" => {
                let authority = rest.trim_end_matches('/');
                let (host, port) = match authority.rsplit_once(':') {
                    Some((host, port)) => (
                        host,
                        port.parse()
                            .map_err(|_| anyhow::anyhow!("stores.{what} = {url:?}: bad port"))?,
                    ),
                    None => (authority, 25),
                };
                if host.is_empty() {
                    bail!("stores.{what} = {url:?} needs a host");
                }
                Self::Smtp(host.to_owned(), port)
            }
            _ => bail!(
                "stores.{what} = {url:?}: unknown or incomplete store URL (scheme {scheme}://)"
            ),
        })
    }

    /// The scheme, for messages.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::File(_) => "file",
            Self::Postgres(_) => "postgres",
            Self::Mongodb(_) => "mongodb",
            Self::Kafka(_) => "kafka",
            Self::S3(_) => "s3",
            Self::Smtp(..) => "smtp",
            Self::Memory => "memory",
        }
    }
}

/// The error for a scheme a port does not take.
pub fn unsupported(what: &str, url: &StoreUrl, supported: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "stores.{what} cannot be a {}:// URL; it takes {supported}",
        url.scheme()
    )
}

/// The error for a real-stack scheme whose adapter was left out of this build.
pub fn not_built(what: &str, feature: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "stores.{what} needs the `{feature}` adapter, but this fmsd was built without it; \
         rebuild with `cargo build -p fmsd --features {feature}` (it is on by default)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        let dir = Path::new("/data");
        let parse = |url: &str| StoreUrl::parse("x", url, dir);
        assert_eq!(
            parse("sqlite://files.db").unwrap(),
            StoreUrl::Sqlite("/data/files.db".into())
        );
        assert_eq!(
            parse("sqlite:///abs/files.db").unwrap(),
            StoreUrl::Sqlite("/abs/files.db".into())
        );
        assert_eq!(
            parse("file://blobs").unwrap(),
            StoreUrl::File("/data/blobs".into())
        );
        assert_eq!(
            parse("kafka://a:9092,b:9092").unwrap(),
            StoreUrl::Kafka("a:9092,b:9092".into())
        );
        assert_eq!(parse("s3://fms").unwrap(), StoreUrl::S3("fms".into()));
        assert_eq!(
            parse("smtp://127.0.0.1:1025").unwrap(),
            StoreUrl::Smtp("127.0.0.1".into(), 1025)
        );
        assert_eq!(
            parse("smtp://mail.example.com").unwrap(),
            StoreUrl::Smtp("mail.example.com".into(), 25)
        );
        assert_eq!(parse("memory://").unwrap(), StoreUrl::Memory);
        assert!(matches!(
            parse("postgres://u:p@h/db").unwrap(),
            StoreUrl::Postgres(_)
        ));
        for bad in [
            "files.db",
            "ftp://x",
            "kafka://",
            "s3://",
            "sqlite://",
            "smtp://:25",
            "smtp://h:port",
            "memory://x",
        ] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
