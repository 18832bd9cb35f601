//! Download links: signed, expiring URLs that serve a file's bytes, with `Range` and `HEAD`.

use common::api::DownloadLink;
use reqwest::{Method, StatusCode};

use crate::fixtures::{download_link, fetch, mkdir, sample_bytes, sha256_hex, upload};
use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn a_download_link_serves_the_bytes_with_range_until_it_expires() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let bytes = sample_bytes(3 * 1024 * 1024 + 10, 7);
    upload(&app, &user.token, "/big file é.bin", &bytes).await;

    let response = download_link(&app, &user.token, "/big file é.bin").await;
    assert_eq!(response.status(), StatusCode::OK);
    let link: DownloadLink = response.json().await.expect("a JSON body");
    assert_eq!(
        (link.size, link.name.as_str()),
        (bytes.len() as u64, "big file é.bin")
    );
    assert_eq!(link.sha256, sha256_hex(&bytes));
    assert_eq!(
        link.expires_at,
        chrono::SubsecRound::trunc_subsecs(fmsd::clock::Clock::now(&app.clock), 6)
            + chrono::Duration::seconds(300)
    );

    let whole = fetch(&app, &link.url, None).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "application/octet-stream");
    assert!(whole.headers()["content-disposition"]
        .to_str()
        .expect("the test data is well formed")
        .contains("filename*=UTF-8''big%20file%20%C3%A9.bin"));
    assert_eq!(
        whole.bytes().await.expect("the body").as_ref(),
        bytes.as_slice()
    );

    let partial = fetch(&app, &link.url, Some("bytes=1048570-1048589")).await;
    assert_eq!(partial.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        partial.headers()["content-range"],
        format!("bytes 1048570-1048589/{}", bytes.len()).as_str()
    );
    assert_eq!(
        partial.bytes().await.expect("the body").as_ref(),
        &bytes[1_048_570..1_048_590]
    );
    let tail = fetch(&app, &link.url, Some("bytes=-5")).await;
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        tail.bytes().await.expect("the body").as_ref(),
        &bytes[bytes.len() - 5..]
    );
    let head = app
        .client
        .request(Method::HEAD, &link.url)
        .send()
        .await
        .expect("the request is sent");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["content-length"],
        bytes.len().to_string().as_str()
    );

    // A tampered URL, then the link once expired.
    let tampered = link.url.replace("signature=", "signature=00");
    let (status, code, _) = error_code(fetch(&app, &tampered, None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let unsigned = link
        .url
        .split('?')
        .next()
        .expect("the test data is well formed")
        .to_owned();
    assert_eq!(
        error_code(fetch(&app, &unsigned, None).await).await.0,
        StatusCode::FORBIDDEN
    );
    app.clock.advance(chrono::Duration::seconds(301));
    let (status, _, message) = error_code(fetch(&app, &link.url, None).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(message.contains("expired"), "{message}");

    // Folders and missing files have no link.
    mkdir(&app, &user.token, "/folder", false).await;
    assert_eq!(
        error_code(download_link(&app, &user.token, "/folder").await)
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        error_code(download_link(&app, &user.token, "/missing").await)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}
