//! The contract of checked stagings (`BlobStore::start_checked`): parts sent through URLs that
//! sign each part's SHA-256. A store that checks them refuses a wrong part at its `PUT` and
//! completes on its own checks; one that does not takes the part and refuses the file at
//! complete, as for any upload. Either way the wrong bytes never become the blob.

use chrono::{Duration, Utc};
use fmsd::error::Error;
use fmsd::files::domain::{BlobKey, PartPlan, Sha256Hex};
use fmsd::files::ports::BlobStore;
use sha2::Digest;

use super::{pattern, Inspect, PART};

/// The SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> Sha256Hex {
    Sha256Hex::from_digest(&sha2::Sha256::digest(bytes))
}

/// What every store does with checked stagings; `checks` says whether it refuses a part that
/// does not match the SHA-256 its URL signs.
pub async fn checked_parts_work(store: &dyn BlobStore, inspect: &impl Inspect, checks: bool) {
    let http = reqwest::Client::new();
    let now = Utc::now();
    let bytes = pattern(PART + 10);
    let plan = PartPlan::new(PART + 10, PART).expect("a plan");
    let key = BlobKey::generate();
    let staging = store.start_checked(&key, &plan, now).await.expect("start");
    assert_eq!(
        store.checks_parts(&key, &staging).await.expect("asked"),
        checks
    );
    let part = |number: u32| {
        let (offset, size) = plan.part(number).expect("a part");
        &bytes[offset as usize..(offset + size) as usize]
    };
    let put = |url: String, headers: Vec<(String, String)>, body: Vec<u8>| {
        let request = headers
            .into_iter()
            .fold(http.put(url), |request, (name, value)| {
                request.header(name, value)
            });
        async move {
            request
                .body(body)
                .send()
                .await
                .expect("the part URL answers")
                .status()
        }
    };
    let (url, headers) = store
        .checked_part_url(
            &key,
            &staging,
            1,
            &sha256(part(1)),
            now + Duration::minutes(5),
        )
        .await
        .expect("a URL");
    assert_eq!(headers.is_empty(), !checks);
    assert!(put(url, headers, part(1).to_vec()).await.is_success());

    // Part 2 with one byte changed, sent to a URL signed for the right bytes.
    let (url, headers) = store
        .checked_part_url(
            &key,
            &staging,
            2,
            &sha256(part(2)),
            now + Duration::minutes(5),
        )
        .await
        .expect("a URL");
    let mut wrong = part(2).to_vec();
    wrong[3] ^= 0xff;
    let status = put(url.clone(), headers.clone(), wrong).await;
    let whole = sha256(&bytes);
    if checks {
        assert!(status.is_client_error(), "a wrong part was taken: {status}");
        let stored = store.stored_parts(&key, &staging).await.expect("parts");
        assert_eq!(stored.iter().map(|p| p.number).collect::<Vec<_>>(), [1]);
    } else {
        assert!(status.is_success(), "the part was refused: {status}");
        assert!(matches!(
            store.complete(&key, &staging, &plan, Some(&whole)).await,
            Err(Error::Integrity(_))
        ));
        assert!(!inspect.object_exists(&key).await);
        // The staging stays, its parts forgotten: part 1 goes again.
        let (url, headers) = store
            .checked_part_url(
                &key,
                &staging,
                1,
                &sha256(part(1)),
                now + Duration::minutes(5),
            )
            .await
            .expect("a URL");
        assert!(put(url, headers, part(1).to_vec()).await.is_success());
    }
    let (url, headers) = store
        .checked_part_url(
            &key,
            &staging,
            2,
            &sha256(part(2)),
            now + Duration::minutes(5),
        )
        .await
        .expect("a URL");
    assert!(put(url, headers, part(2).to_vec()).await.is_success());
    let blob = store
        .complete(&key, &staging, &plan, Some(&whole))
        .await
        .expect("complete");
    assert_eq!((blob.size, &blob.sha256), (PART + 10, &whole));
    assert!(inspect.object_exists(&key).await);
    assert!(!inspect.staging_exists(&key, &staging).await);
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
    assert!(
        body.as_ref() == bytes.as_slice(),
        "the blob is not the file"
    );
    store.delete(&key).await.expect("delete");
}
