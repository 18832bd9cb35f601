//! The contract every `BlobStore` adapter keeps, written once and run against each adapter:
//! the embedded one here; an S3 store adds one runner. (The `FileRepo` contract is in
//! `tests/contracts/files_repo.rs`.)

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{Duration, Utc};

use super::domain::{BlobKey, PartPlan, Sha256Hex};
use super::ports::BlobStore;
use crate::error::{Error, Result};

/// Sends `bytes` to a part URL the way a client would.
pub type PartUploader =
    Box<dyn Fn(String, Vec<u8>) -> Pin<Box<dyn Future<Output = Result<()>> + Send>> + Send + Sync>;

/// What every blob store does; `put` sends a part to its URL.
pub async fn blob_store_works(store: Arc<dyn BlobStore>, put: PartUploader) {
    let now = Utc::now();
    let bytes: Vec<u8> = (0..10u8).collect();
    let plan = PartPlan::new(10, 4).expect("a plan");
    let key = BlobKey::generate();
    let staging = store.start_upload(&key, &plan, now).await.expect("start");
    assert!(store
        .stored_parts(&key, &staging)
        .await
        .expect("parts")
        .is_empty());
    for number in [3, 1] {
        let (offset, size) = plan.part(number).expect("a part");
        let url = store
            .part_url(&key, &staging, number, now + Duration::minutes(5))
            .await
            .expect("url");
        put(
            url,
            bytes[offset as usize..(offset + size) as usize].to_vec(),
        )
        .await
        .expect("put");
    }
    let numbers: Vec<u32> = store
        .stored_parts(&key, &staging)
        .await
        .expect("parts")
        .iter()
        .map(|part| part.number)
        .collect();
    assert_eq!(numbers, [1, 3]);
    let url = store
        .part_url(&key, &staging, 2, now + Duration::minutes(5))
        .await
        .expect("url");
    put(url, bytes[4..8].to_vec()).await.expect("put");

    // A wrong checksum: nothing at the key, the parts forgotten.
    let wrong = Sha256Hex::from_digest(&[0; 32]);
    assert!(matches!(
        store.complete(&key, &staging, &plan, Some(&wrong)).await,
        Err(Error::Integrity(_))
    ));
    assert!(store
        .stored_parts(&key, &staging)
        .await
        .expect("parts")
        .is_empty());
    for number in 1..=3 {
        let (offset, size) = plan.part(number).expect("a part");
        let url = store
            .part_url(&key, &staging, number, now + Duration::minutes(5))
            .await
            .expect("url");
        put(
            url,
            bytes[offset as usize..(offset + size) as usize].to_vec(),
        )
        .await
        .expect("put");
    }
    let right = {
        use sha2::Digest;
        Sha256Hex::from_digest(&sha2::Sha256::digest(&bytes))
    };
    let assembled = store
        .complete(&key, &staging, &plan, Some(&right))
        .await
        .expect("complete");
    assert_eq!((assembled.size, assembled.sha256), (10, right));
    assert!(store
        .download_url(&key, now + Duration::minutes(5), "f")
        .await
        .is_ok());

    // Clean-ups are idempotent.
    store.delete(&key).await.expect("delete");
    store.delete(&key).await.expect("delete again");
    let other = store
        .start_upload(&BlobKey::generate(), &plan, now)
        .await
        .expect("start");
    store.abort(&key, &other).await.expect("abort");
    store.abort(&key, &other).await.expect("abort again");

    // The sweep drops stagings started before the cutoff only.
    let old = store
        .start_upload(&BlobKey::generate(), &plan, now - Duration::days(2))
        .await
        .expect("start");
    let fresh = store
        .start_upload(&BlobKey::generate(), &plan, now)
        .await
        .expect("start");
    assert_eq!(
        store.sweep(now - Duration::days(1)).await.expect("sweep"),
        1
    );
    assert!(store.stored_parts(&key, &old).await.is_err());
    assert!(store.stored_parts(&key, &fresh).await.is_ok());
}

mod embedded {
    use std::sync::Arc;

    use url::Url;

    use super::*;
    use crate::files::adapters::local_fs::LocalBlobStore;
    use crate::signing::UrlSigner;

    #[tokio::test]
    async fn the_local_store_keeps_the_contract() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let signer = UrlSigner::new(
            vec![1; 32],
            Url::parse("http://127.0.0.1:1").expect("a URL"),
        );
        let store = Arc::new(LocalBlobStore::open(dir.path(), signer).expect("open"));
        let target = store.clone();
        // No server here: check the signature and store the part as the PUT route would.
        let put: PartUploader = Box::new(move |url, bytes| {
            let store = target.clone();
            Box::pin(async move {
                let url = Url::parse(&url).map_err(Error::internal)?;
                let query: std::collections::HashMap<_, _> =
                    url.query_pairs().into_owned().collect();
                store.verify(
                    "PUT",
                    url.path(),
                    query.get("expires").map(String::as_str),
                    query.get("signature").map(String::as_str),
                    Utc::now(),
                )?;
                let mut segments = url.path().rsplit('/');
                let number = segments
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("a part number");
                let staging = segments.next().expect("a staging id").to_owned();
                let length = bytes.len() as u64;
                let body =
                    futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(bytes))]);
                store
                    .store_part(&staging, number, Some(length), body)
                    .await
                    .map(|_| ())
            })
        });
        blob_store_works(store, put).await;
    }
}
