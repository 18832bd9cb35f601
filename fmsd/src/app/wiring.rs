//! Picks each port's adapter from its store URL (`[stores]`), so services never know which
//! backend they run on. Embedded adapters are always built; each real-stack adapter sits behind
//! a cargo feature, and a build without it says so in plain words.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::bus::adapters::embedded::EmbeddedBus;
use crate::bus::ports::{Outbox, Publisher, Subscriber};
use crate::customers::adapters::sqlite::SqliteCustomerRepo;
use crate::customers::ports::CustomerRepo;
use crate::files::adapters::local_fs::LocalBlobStore;
use crate::files::adapters::sql::SqlFileRepo;
use crate::files::ports::{BlobStore, DavRepo, FileRepo, SharingRepo, TrashRepo};
use crate::health::Probe;
use crate::limits::adapters::memory::MemoryRateLimitStore;
use crate::limits::adapters::sql::SqlRateLimitStore;
use crate::limits::RateLimitStore;
use crate::notifications::adapters::maildir::MaildirMailer;
use crate::notifications::adapters::sql::SqlNotificationRepo;
use crate::notifications::ports::{Mailer, NotificationRepo};
use crate::settings::Settings;
use crate::signing::UrlSigner;
use crate::space::DiskSpace;
use crate::store_url::{unsupported, StoreUrl};

/// A store with its outbox (for stores that keep one) and its readiness probe.
pub struct Wired<T: ?Sized> {
    /// The port.
    pub port: Arc<T>,
    /// The events it committed and has not published, for the relay.
    pub outbox: Option<Arc<dyn Outbox>>,
    /// What `/readyz` asks.
    pub probe: Arc<dyn Probe>,
}

/// The bus, both halves.
pub struct Bus {
    /// Publishes.
    pub publisher: Arc<dyn Publisher>,
    /// Subscribes.
    pub subscriber: Arc<dyn Subscriber>,
    /// What `/readyz` asks.
    pub probe: Arc<dyn Probe>,
}

fn store(settings: &Settings, what: &str, url: &str) -> anyhow::Result<StoreUrl> {
    StoreUrl::parse(what, url, &settings.data_dir)
}

/// The bus from `stores.bus`.
pub async fn bus(settings: &Settings) -> anyhow::Result<Bus> {
    match store(settings, "bus", &settings.stores.bus)? {
        StoreUrl::Sqlite(path) => {
            let bus = Arc::new(EmbeddedBus::open(&path)?);
            Ok(Bus {
                publisher: bus.clone(),
                subscriber: bus.clone(),
                probe: bus,
            })
        }
        #[cfg(feature = "kafka")]
        StoreUrl::Kafka(brokers) => {
            let bus = Arc::new(
                crate::bus::adapters::kafka::KafkaBus::connect(&brokers, &settings.kafka).await?,
            );
            Ok(Bus {
                publisher: bus.clone(),
                subscriber: bus.clone(),
                probe: bus,
            })
        }
        #[cfg(not(feature = "kafka"))]
        StoreUrl::Kafka(_) => Err(crate::store_url::not_built("bus", "kafka")),
        other => Err(unsupported("bus", &other, "sqlite:// or kafka://")),
    }
}

/// The customer store from `stores.customers`.
pub async fn customers(
    settings: &Settings,
    wake: Arc<Notify>,
) -> anyhow::Result<Wired<dyn CustomerRepo>> {
    match store(settings, "customers", &settings.stores.customers)? {
        StoreUrl::Sqlite(path) => {
            let repo = SqliteCustomerRepo::open(&path, wake)?;
            Ok(Wired {
                outbox: Some(Arc::new(repo.outbox())),
                probe: Arc::new(repo.db()),
                port: Arc::new(repo),
            })
        }
        #[cfg(feature = "mongodb")]
        StoreUrl::Mongodb(url) => {
            let repo = Arc::new(
                crate::customers::adapters::mongo::MongoCustomerRepo::connect(&url, wake).await?,
            );
            Ok(Wired {
                outbox: Some(repo.outbox()),
                probe: repo.clone(),
                port: repo,
            })
        }
        #[cfg(not(feature = "mongodb"))]
        StoreUrl::Mongodb(_) => Err(crate::store_url::not_built("customers", "mongodb")),
        other => Err(unsupported("customers", &other, "sqlite:// or mongodb://")),
    }
}

/// The file-metadata store from `stores.files` (`sqlite://` or `postgres://`), which also keeps
/// sharing's records.
pub async fn files(
    settings: &Settings,
    wake: Arc<Notify>,
) -> anyhow::Result<(
    Wired<dyn FileRepo>,
    Arc<dyn SharingRepo>,
    Arc<dyn DavRepo>,
    Arc<dyn TrashRepo>,
)> {
    let url = store(settings, "files", &settings.stores.files)?;
    let repo = Arc::new(SqlFileRepo::open(&url, wake).await?);
    let wired: Wired<dyn FileRepo> = Wired {
        outbox: Some(Arc::new(repo.outbox())),
        probe: repo.clone(),
        port: repo.clone(),
    };
    Ok((wired, repo.clone(), repo.clone(), repo))
}

/// The blob store from `stores.blobs`.
pub async fn blobs(settings: &Settings, signer: UrlSigner) -> anyhow::Result<Wired<dyn BlobStore>> {
    match store(settings, "blobs", &settings.stores.blobs)? {
        StoreUrl::File(path) => {
            let blobs = Arc::new(LocalBlobStore::open(&path, signer)?.with_part_idle_timeout(
                Duration::from_secs(settings.files.part_idle_timeout_secs),
            ));
            Ok(Wired {
                port: blobs.clone(),
                outbox: None,
                probe: blobs,
            })
        }
        #[cfg(feature = "s3")]
        StoreUrl::S3(bucket) => {
            // S3 refuses parts under 5 MiB (all but the last), so say so now, not at the first upload.
            const S3_MIN_PART: u64 = 5 * 1024 * 1024;
            anyhow::ensure!(
                settings.files.part_size_bytes >= S3_MIN_PART,
                "files.part_size_bytes is {} but S3 needs parts of at least 5 MiB ({S3_MIN_PART} bytes)",
                settings.files.part_size_bytes
            );
            let blobs = Arc::new(
                crate::files::adapters::s3::S3BlobStore::connect(&bucket, &settings.s3).await?,
            );
            Ok(Wired {
                port: blobs.clone(),
                outbox: None,
                probe: blobs,
            })
        }
        #[cfg(not(feature = "s3"))]
        StoreUrl::S3(_) => Err(crate::store_url::not_built("blobs", "s3")),
        other => Err(unsupported("blobs", &other, "file:// or s3://")),
    }
}

/// The room on the local disks: the folder of every `sqlite://` and `file://` store is
/// watched, and the reserve sits beside the files database (or in the blob folder when only
/// that is local). Stores on servers are not measured.
pub fn disk_space(settings: &Settings) -> anyhow::Result<DiskSpace> {
    let stores = &settings.stores;
    // The limits' default is the files database or memory: nothing of its own on disk.
    let urls = [
        ("customers", Some(&stores.customers)),
        ("files", Some(&stores.files)),
        ("notifications", Some(&stores.notifications)),
        ("blobs", Some(&stores.blobs)),
        ("bus", Some(&stores.bus)),
        ("mail", Some(&stores.mail)),
        ("limits", stores.limits.as_ref()),
    ];
    let mut folders = Vec::new();
    let mut reserve_dir = None;
    for (what, url) in urls {
        let Some(url) = url else { continue };
        let folder = match store(settings, what, url)? {
            StoreUrl::Sqlite(path) => path.parent().map(std::path::Path::to_path_buf),
            StoreUrl::File(path) => Some(path),
            _ => None,
        };
        let Some(folder) = folder else { continue };
        if what == "files" || (what == "blobs" && reserve_dir.is_none()) {
            reserve_dir = Some(folder.clone());
        }
        if !folders.contains(&folder) {
            folders.push(folder);
        }
    }
    Ok(DiskSpace::new(
        folders,
        settings.files.min_free_bytes,
        reserve_dir.as_deref(),
        settings.files.reserve_bytes,
    ))
}

/// The notifications store from `stores.notifications` (`sqlite://` or `postgres://`).
pub async fn notifications(settings: &Settings) -> anyhow::Result<Wired<dyn NotificationRepo>> {
    let url = store(settings, "notifications", &settings.stores.notifications)?;
    let repo = Arc::new(SqlNotificationRepo::open(&url).await?);
    Ok(Wired {
        outbox: None,
        probe: repo.clone(),
        port: repo,
    })
}

/// The mailer from `stores.mail`; it answers `/readyz` as `mail`.
pub async fn mailer(settings: &Settings) -> anyhow::Result<Wired<dyn Mailer>> {
    match store(settings, "mail", &settings.stores.mail)? {
        StoreUrl::File(path) => {
            let mailer = Arc::new(MaildirMailer::open(&path, &settings.mail.from)?);
            Ok(Wired {
                port: mailer.clone(),
                outbox: None,
                probe: mailer,
            })
        }
        #[cfg(feature = "smtp")]
        StoreUrl::Smtp(host, port) => {
            let mailer = Arc::new(crate::notifications::adapters::smtp::SmtpMailer::new(
                &host,
                port,
                &settings.smtp,
                &settings.mail.from,
            )?);
            Ok(Wired {
                port: mailer.clone(),
                outbox: None,
                probe: mailer,
            })
        }
        #[cfg(not(feature = "smtp"))]
        StoreUrl::Smtp(..) => Err(crate::store_url::not_built("mail", "smtp")),
        other => Err(unsupported("mail", &other, "file:// or smtp://")),
    }
}

/// The rate-limit store: `stores.limits` when set; else the files database when `stores.files`
/// is PostgreSQL, since instances of a real stack must count together and a forgotten setting
/// would quietly give a guesser one limit per instance; else process memory (the embedded
/// default, one instance).
pub async fn limits(settings: &Settings) -> anyhow::Result<Wired<dyn RateLimitStore>> {
    let url = match &settings.stores.limits {
        Some(url) => store(settings, "limits", url)?,
        None => match store(settings, "files", &settings.stores.files)? {
            postgres @ StoreUrl::Postgres(_) => postgres,
            _ => StoreUrl::Memory,
        },
    };
    match url {
        StoreUrl::Memory => {
            let limits = Arc::new(MemoryRateLimitStore::new());
            Ok(Wired {
                port: limits.clone(),
                outbox: None,
                probe: limits,
            })
        }
        url @ (StoreUrl::Sqlite(_) | StoreUrl::Postgres(_)) => {
            let limits = Arc::new(SqlRateLimitStore::open(&url).await?);
            Ok(Wired {
                port: limits.clone(),
                outbox: None,
                probe: limits,
            })
        }
        other => Err(unsupported(
            "limits",
            &other,
            "memory://, sqlite:// or postgres://",
        )),
    }
}

/// Where browsers send part uploads besides fmsd itself, for the link pages' CSP
/// (`connect-src`): the S3 endpoint's origin when blobs are on S3 (any AWS S3 host without an
/// endpoint), nothing when fmsd stores them.
pub fn upload_origin(settings: &Settings) -> Option<String> {
    if !settings.stores.blobs.starts_with("s3://") {
        return None;
    }
    Some(match &settings.s3.endpoint {
        Some(endpoint) => endpoint.origin().ascii_serialization(),
        None => "https://*.amazonaws.com".to_owned(),
    })
}
