//! The contract of whole stagings (`BlobStore::start_whole`): a file of one part whose SHA-256
//! is known up front, sent in one `PUT` with the headers the store names. Bytes that are not
//! the announced file never become the blob: a store that checks the checksum at the `PUT`
//! (S3) refuses them there, and complete refuses them on every store.

use chrono::{Duration, Utc};
use fmsd::error::Error;
use fmsd::files::domain::{BlobKey, PartPlan, Sha256Hex};
use fmsd::files::ports::BlobStore;
use reqwest::StatusCode;
use sha2::Digest;

use super::{pattern, Inspect, PART};

/// How a store meets bytes that are not the file announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrongBytes {
    /// The `PUT` is refused (S3 checks the signed `x-amz-checksum-sha256`).
    RefusedAtPut,
    /// The `PUT` is taken; complete refuses them.
    RefusedAtComplete,
}

/// `PUT`s `bytes` to `url` with `headers`; the status.
async fn put_with(
    http: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    bytes: &[u8],
) -> StatusCode {
    let request = headers
        .iter()
        .fold(http.put(url), |request, (name, value)| {
            request.header(name, value)
        });
    request
        .body(bytes.to_vec())
        .send()
        .await
        .expect("the part URL answers")
        .status()
}

/// What every store does with whole stagings; `wrong` says where it refuses wrong bytes.
pub async fn whole_uploads_work(store: &dyn BlobStore, inspect: &impl Inspect, wrong: WrongBytes) {
    let http = reqwest::Client::new();
    let now = Utc::now();
    let bytes = pattern(4096);
    let sha256 = Sha256Hex::from_digest(&sha2::Sha256::digest(&bytes));
    let plan = PartPlan::new(4096, PART).expect("a plan");
    let key = BlobKey::generate();
    let staging = store
        .start_whole(&key, &plan, &sha256, now)
        .await
        .expect("start");
    assert!(store
        .stored_parts(&key, &staging)
        .await
        .expect("parts")
        .is_empty());
    let url = store
        .part_url(&key, &staging, 1, now + Duration::minutes(5))
        .await
        .expect("a URL");
    let headers = store.part_headers(&staging, 1);

    // Same length, other bytes.
    let mut other = bytes.clone();
    other[100] ^= 0xff;
    let status = put_with(&http, &url, &headers, &other).await;
    match wrong {
        WrongBytes::RefusedAtPut => {
            assert!(status.is_client_error(), "wrong bytes were taken: {status}");
            assert!(!inspect.object_exists(&key).await);
        }
        WrongBytes::RefusedAtComplete => {
            // Taken, or refused but kept (s3s-fs): complete refuses them either way.
            let _ = status;
            assert!(matches!(
                store.complete(&key, &staging, &plan, Some(&sha256)).await,
                Err(Error::Integrity(_))
            ));
            assert!(!inspect.object_exists(&key).await);
        }
    }
    // Without its headers a PUT is refused by a store that signs them.
    if !headers.is_empty() {
        let status = put_with(&http, &url, &[], &bytes).await;
        assert!(
            status.is_client_error(),
            "a PUT without the headers: {status}"
        );
    }

    let status = put_with(&http, &url, &headers, &bytes).await;
    assert!(status.is_success(), "the right part was refused: {status}");
    let stored = store.stored_parts(&key, &staging).await.expect("parts");
    assert_eq!(
        stored
            .iter()
            .map(|p| (p.number, p.size))
            .collect::<Vec<_>>(),
        [(1, 4096)]
    );
    let blob = store
        .complete(&key, &staging, &plan, Some(&sha256))
        .await
        .expect("complete");
    assert_eq!((blob.size, &blob.sha256), (4096, &sha256));
    assert!(inspect.object_exists(&key).await);
    let url = store
        .download_url(&key, now + Duration::minutes(5), "a.bin")
        .await
        .expect("a download URL");
    let body = http
        .get(url)
        .send()
        .await
        .expect("GET")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(body.as_ref(), bytes.as_slice());
    store.delete(&key).await.expect("delete");
    assert!(!inspect.object_exists(&key).await);

    // An empty file has no part; complete makes the empty blob.
    let empty = Sha256Hex::from_digest(&sha2::Sha256::digest(b""));
    let plan = PartPlan::new(0, PART).expect("a plan");
    let key = BlobKey::generate();
    let staging = store
        .start_whole(&key, &plan, &empty, now)
        .await
        .expect("start");
    let blob = store
        .complete(&key, &staging, &plan, None)
        .await
        .expect("complete");
    assert_eq!((blob.size, &blob.sha256), (0, &empty));
    assert!(inspect.object_exists(&key).await);

    // Aborted after its PUT: the staging and the bytes go (abort, then the blob's delete).
    let plan = PartPlan::new(4096, PART).expect("a plan");
    let key = BlobKey::generate();
    let staging = store
        .start_whole(&key, &plan, &sha256, now)
        .await
        .expect("start");
    let url = store
        .part_url(&key, &staging, 1, now + Duration::minutes(5))
        .await
        .expect("a URL");
    let status = put_with(&http, &url, &store.part_headers(&staging, 1), &bytes).await;
    assert!(status.is_success());
    store.abort(&key, &staging).await.expect("abort");
    store.delete(&key).await.expect("delete");
    assert!(!inspect.object_exists(&key).await);
    assert!(!inspect.staging_exists(&key, &staging).await);
}
