//! The `BlobStore` contract, written once and run against every blob store: the local folder
//! (its signed URLs served by a real fmsd on port 0) and, with the `s3` feature, garage and
//! s3s-fs (`blobs/on_s3.rs`). Every byte travels like a client's: a `PUT` of each part to its
//! URL and a `GET` of the download URL, over real HTTP with reqwest.
//!
//! What a store keeps to is checked from the outside too, through [`Inspect`]: the folder for
//! the local store, S3's own `HEAD` and `ListMultipartUploads` for the S3 servers.
//!
//! Isolation: the local store lives in a temporary data folder of its own; each S3 test uses a
//! key prefix no other test uses (`support::unique`), so tests share one bucket.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use fmsd::app::App;
use fmsd::error::Error;
use fmsd::files::adapters::local_fs::LocalBlobStore;
use fmsd::files::domain::{BlobKey, PartPlan, Sha256Hex, StagingId};
use fmsd::files::ports::BlobStore;
use fmsd::settings::Settings;
use fmsd::signing::UrlSigner;
use reqwest::header::{CONTENT_DISPOSITION, RANGE};
use reqwest::StatusCode;
use sha2::Digest;
use tokio_util::sync::CancellationToken;

mod checked;
#[cfg(feature = "s3")]
mod on_s3;
mod whole;

/// The part size: S3 refuses parts under 5 MiB (but the last), so the contract uses real ones.
const PART: u64 = 5 * 1024 * 1024;

/// What a store holds, seen from outside the store.
pub trait Inspect {
    /// Whether blob `key` exists.
    async fn object_exists(&self, key: &BlobKey) -> bool;
    /// Whether the staging (multipart upload) `staging` of `key` still exists and holds space.
    async fn staging_exists(&self, key: &BlobKey, staging: &StagingId) -> bool;
}

/// `n` bytes that are not all alike, so a misplaced part changes the checksum.
fn pattern(n: u64) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(7919) % 251) as u8).collect()
}

/// `PUT`s `bytes` to a part URL the way a client does; the answer's status, or `None` if the
/// server hung up before taking the whole body (how s3s-fs refuses an expired URL).
async fn try_put(http: &reqwest::Client, url: &str, bytes: &[u8]) -> Option<StatusCode> {
    match http.put(url).body(bytes.to_vec()).send().await {
        Ok(response) => Some(response.status()),
        Err(error) if error.is_request() => None,
        Err(error) => panic!("the part URL does not answer: {error}"),
    }
}

/// `PUT`s `bytes` to a part URL the way a client does; the answer's status.
async fn put(http: &reqwest::Client, url: &str, bytes: &[u8]) -> StatusCode {
    try_put(http, url, bytes)
        .await
        .expect("the part URL answers")
}

/// Uploads part `number` of `bytes` (cut as `plan` says) through a fresh part URL.
async fn upload_part(
    store: &dyn BlobStore,
    http: &reqwest::Client,
    key: &BlobKey,
    staging: &StagingId,
    plan: &PartPlan,
    bytes: &[u8],
    number: u32,
) {
    let (offset, size) = plan.part(number).expect("a part");
    let url = store
        .part_url(key, staging, number, Utc::now() + Duration::minutes(5))
        .await
        .expect("url");
    let status = put(
        http,
        &url,
        &bytes[offset as usize..(offset + size) as usize],
    )
    .await;
    assert!(status.is_success(), "part {number} was refused: {status}");
}

/// The numbers of the parts `staging` holds.
async fn stored_numbers(store: &dyn BlobStore, key: &BlobKey, staging: &StagingId) -> Vec<u32> {
    store
        .stored_parts(key, staging)
        .await
        .expect("parts")
        .iter()
        .map(|part| part.number)
        .collect()
}

/// What every blob store does.
pub async fn blob_store_works(store: Arc<dyn BlobStore>, inspect: &impl Inspect) {
    let store = store.as_ref();
    let http = reqwest::Client::new();
    let now = Utc::now();
    let bytes = pattern(2 * PART + 10);
    let plan = PartPlan::new(2 * PART + 10, PART).expect("a plan");
    let key = BlobKey::generate();
    let staging = store.start_upload(&key, &plan, now).await.expect("start");
    assert!(store
        .stored_parts(&key, &staging)
        .await
        .expect("parts")
        .is_empty());
    assert!(inspect.staging_exists(&key, &staging).await);

    // Parts in any order; a resumed upload sees which are there.
    for number in [3, 1] {
        upload_part(store, &http, &key, &staging, &plan, &bytes, number).await;
    }
    let stored = store.stored_parts(&key, &staging).await.expect("parts");
    assert_eq!(
        stored
            .iter()
            .map(|part| (part.number, part.size))
            .collect::<Vec<_>>(),
        [(1, PART), (3, 10)]
    );
    // A part of the wrong size is refused and not listed.
    let url = store
        .part_url(&key, &staging, 2, now + Duration::minutes(5))
        .await
        .expect("url");
    assert!(!put(&http, &url, &bytes[..10]).await.is_success());
    assert_eq!(stored_numbers(store, &key, &staging).await, [1, 3]);
    upload_part(store, &http, &key, &staging, &plan, &bytes, 2).await;

    // A wrong checksum: nothing at the key, the parts forgotten, the staging still usable.
    let wrong = Sha256Hex::from_digest(&[0; 32]);
    assert!(matches!(
        store.complete(&key, &staging, &plan, Some(&wrong)).await,
        Err(Error::Integrity(_))
    ));
    assert!(!inspect.object_exists(&key).await);
    assert!(store
        .stored_parts(&key, &staging)
        .await
        .expect("parts")
        .is_empty());
    // Completing before every part is there is refused.
    upload_part(store, &http, &key, &staging, &plan, &bytes, 1).await;
    assert!(matches!(
        store.complete(&key, &staging, &plan, None).await,
        Err(Error::Conflict(_))
    ));
    for number in 2..=3 {
        upload_part(store, &http, &key, &staging, &plan, &bytes, number).await;
    }
    let right = Sha256Hex::from_digest(&sha2::Sha256::digest(&bytes));
    let assembled = store
        .complete(&key, &staging, &plan, Some(&right))
        .await
        .expect("complete");
    assert_eq!(
        (assembled.size, assembled.sha256),
        (bytes.len() as u64, right)
    );
    assert!(inspect.object_exists(&key).await);
    assert!(!inspect.staging_exists(&key, &staging).await);
    assert!(matches!(
        store.stored_parts(&key, &staging).await,
        Err(Error::NotFound(_))
    ));

    // The download URL serves the bytes, and a range of them.
    let url = store
        .download_url(&key, now + Duration::minutes(5), "f é.bin")
        .await
        .expect("url");
    let response = http.get(&url).send().await.expect("a download");
    assert_eq!(response.status(), StatusCode::OK);
    if let Some(disposition) = response.headers().get(CONTENT_DISPOSITION) {
        let disposition = disposition.to_str().expect("ASCII");
        assert!(
            disposition.contains("filename*=UTF-8''f%20%C3%A9.bin"),
            "{disposition}"
        );
    }
    assert!(response.bytes().await.expect("the body") == bytes);
    // And `read` streams the same bytes to fmsd itself, whole or from an offset.
    let key_ref = &key;
    let read = |offset: u64, len: u64| async move {
        let chunks: Vec<bytes::Bytes> = futures::TryStreamExt::try_collect(
            store.read(key_ref, offset, len).await.expect("read"),
        )
        .await
        .expect("every chunk");
        chunks.concat()
    };
    assert!(read(0, bytes.len() as u64).await == bytes);
    let at = PART as usize - 3;
    assert!(read(PART - 3, 10).await == bytes[at..at + 10]);
    let (first, last) = (PART - 5, PART + 4);
    let response = http
        .get(&url)
        .header(RANGE, format!("bytes={first}-{last}"))
        .send()
        .await
        .expect("a download");
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        response.bytes().await.expect("the body").as_ref(),
        &bytes[first as usize..=last as usize]
    );

    // Expired URLs are refused, for a download and for a part.
    let other_key = BlobKey::generate();
    let other = store
        .start_upload(&other_key, &plan, now)
        .await
        .expect("start");
    let soon = Utc::now() + Duration::seconds(1);
    let expiring_download = store.download_url(&key, soon, "f").await.expect("url");
    let expiring_part = store
        .part_url(&other_key, &other, 1, soon)
        .await
        .expect("url");
    tokio::time::sleep(StdDuration::from_millis(3500)).await;
    // AWS and fmsd answer 403; garage answers 400 ("Date is too old").
    let refused = [StatusCode::FORBIDDEN, StatusCode::BAD_REQUEST];
    let status = http
        .get(&expiring_download)
        .send()
        .await
        .expect("an answer")
        .status();
    assert!(
        refused.contains(&status),
        "an expired download got {status}"
    );
    let status = try_put(&http, &expiring_part, &bytes[..PART as usize]).await;
    assert!(
        status.is_none_or(|status| refused.contains(&status)),
        "an expired part URL got {status:?}"
    );
    assert!(stored_numbers(store, &other_key, &other).await.is_empty());

    // Delete frees the blob; clean-ups are idempotent.
    store.delete(&key).await.expect("delete");
    assert!(!inspect.object_exists(&key).await);
    let status = http.get(&url).send().await.expect("an answer").status();
    assert_eq!(status, StatusCode::NOT_FOUND);
    store.delete(&key).await.expect("delete again");
    assert!(matches!(
        store.read(&key, 0, 1).await,
        Err(Error::NotFound(_))
    ));
    upload_part(store, &http, &other_key, &other, &plan, &bytes, 1).await;
    store.abort(&other_key, &other).await.expect("abort");
    assert!(!inspect.staging_exists(&other_key, &other).await);
    assert!(matches!(
        store.stored_parts(&other_key, &other).await,
        Err(Error::NotFound(_))
    ));
    store.abort(&other_key, &other).await.expect("abort again");

    // The sweep drops stagings started before the cutoff only, with their parts.
    let (old_key, fresh_key) = (BlobKey::generate(), BlobKey::generate());
    let old = store
        .start_upload(&old_key, &plan, now - Duration::days(2))
        .await
        .expect("start");
    upload_part(store, &http, &old_key, &old, &plan, &bytes, 3).await;
    let fresh = store
        .start_upload(&fresh_key, &plan, now)
        .await
        .expect("start");
    assert!(inspect.staging_exists(&old_key, &old).await);
    assert_eq!(
        store.sweep(now - Duration::days(1)).await.expect("sweep"),
        1
    );
    assert!(!inspect.staging_exists(&old_key, &old).await);
    assert!(store.stored_parts(&old_key, &old).await.is_err());
    assert!(inspect.staging_exists(&fresh_key, &fresh).await);
    assert!(store.stored_parts(&fresh_key, &fresh).await.is_ok());
    store.abort(&fresh_key, &fresh).await.expect("abort");
    assert_eq!(
        store.sweep(now - Duration::days(1)).await.expect("sweep"),
        0
    );

    // An empty file has no part and completes as is.
    let empty_plan = PartPlan::new(0, PART).expect("a plan");
    let empty_key = BlobKey::generate();
    let empty = store
        .start_upload(&empty_key, &empty_plan, now)
        .await
        .expect("start");
    assert!(stored_numbers(store, &empty_key, &empty).await.is_empty());
    let nothing = Sha256Hex::from_digest(&sha2::Sha256::digest(b""));
    let assembled = store
        .complete(&empty_key, &empty, &empty_plan, Some(&nothing))
        .await
        .expect("complete");
    assert_eq!((assembled.size, assembled.sha256), (0, nothing));
    let url = store
        .download_url(&empty_key, now + Duration::minutes(5), "empty")
        .await
        .expect("url");
    let response = http.get(&url).send().await.expect("a download");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.bytes().await.expect("the body").is_empty());
    store.delete(&empty_key).await.expect("delete");
    assert!(!inspect.object_exists(&empty_key).await);
}

/// The local store, seen through its folder (the layout `local_fs` documents).
struct LocalFolder(std::path::PathBuf);

impl Inspect for LocalFolder {
    async fn object_exists(&self, key: &BlobKey) -> bool {
        let key = key.as_str();
        self.0.join("objects").join(&key[..2]).join(key).is_file()
    }

    async fn staging_exists(&self, _key: &BlobKey, staging: &StagingId) -> bool {
        self.0.join("staging").join(staging.as_str()).is_dir()
    }
}

#[tokio::test]
async fn the_local_store_keeps_the_blob_store_contract() {
    // A real fmsd serves the store's signed URLs; the test drives a second handle on the same
    // folder, signing with the key fmsd made.
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("an address"),
        data_dir: dir.path().to_owned(),
        shutdown_grace_secs: 5,
        ..Settings::default()
    };
    // fmsd's own sweep must not race the contract's.
    settings.files.sweep_interval_secs = 24 * 3600;
    let app = App::build(settings).await.expect("the app builds");
    let signer = UrlSigner::load_or_create(
        &dir.path().join("keys/url-signing.key"),
        app.public_url().clone(),
    )
    .expect("the signing key");
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run(shutdown.clone()));
    let folder = dir.path().join("blobs");
    let store = Arc::new(LocalBlobStore::open(&folder, signer).expect("open"));
    blob_store_works(store.clone(), &LocalFolder(folder.clone())).await;
    // The local store takes any bytes at the PUT and checks them at complete.
    whole::whole_uploads_work(
        store.as_ref(),
        &LocalFolder(folder),
        whole::WrongBytes::RefusedAtComplete,
    )
    .await;
    // It checks no part at its PUT either, only the whole file at complete.
    checked::checked_parts_work(
        store.as_ref(),
        &LocalFolder(dir.path().join("blobs")),
        false,
    )
    .await;
    shutdown.cancel();
    running.await.expect("fmsd stops").expect("fmsd ran");
}
