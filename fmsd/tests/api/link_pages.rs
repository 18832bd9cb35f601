//! The web pages of links, as a browser asks for them (`Accept: text/html`): the file page and
//! its Download button, the error pages, the password form and its cookie, and the headers
//! every page carries. The same URLs still answer JSON to programs.

use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::json;

use crate::fixtures::upload;
use crate::helpers::{error_code, TestApp};
use crate::sharing_support::{create_link, register_named, send};

/// What Chromium sends when it opens a page.
pub const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// A request to `/s/{token}{rest}` as a browser sends it, not following redirects.
pub fn browser(app: &TestApp, method: Method, token: &str, rest: &str) -> RequestBuilder {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    client
        .request(method, format!("{}/s/{token}{rest}", app.address))
        .header(ACCEPT, BROWSER_ACCEPT)
}

/// Asserts the headers every page carries; returns the page's text.
pub async fn page(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let headers = response.headers();
    assert_eq!(headers[CONTENT_TYPE], "text/html; charset=utf-8");
    let policy = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'nonce-",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_file_link_is_a_page_for_a_browser_and_json_for_a_program() {
    let app = crate::helpers::spawn_app().await;
    let ann = register_named(&app, "Ann <b>Owner</b>").await;
    upload(&app, &ann.token, "/report.pdf", &vec![7u8; 3 * 1024 * 1024]).await;
    let created = create_link(
        &app,
        &ann,
        json!({"path": "/report.pdf", "max_downloads": 5}),
    )
    .await;

    let text = page(
        send(browser(&app, Method::GET, &created.token, "")).await,
        StatusCode::OK,
    )
    .await;
    for shown in [
        "<title>report.pdf · fms</title>",
        "<h1>report.pdf</h1>",
        "3.00 MiB",
        "Ann &lt;b&gt;Owner&lt;/b&gt;",
        "Downloads left",
        &format!("href=\"/s/{}/download\"", created.token),
        "href=\"/assets/page.css\"",
        "name=\"viewport\"",
    ] {
        assert!(text.contains(shown), "{shown} is not in {text}");
    }
    assert!(!text.contains("<b>Owner"), "{text}");

    let json = send(app.request(Method::GET, &format!("/s/{}", created.token), None)).await;
    assert_eq!(json.status(), StatusCode::OK);
    let link: common::api::PublicLink = json.json().await.unwrap();
    assert_eq!(link.name, "report.pdf");

    let css = app.get("/assets/page.css", None).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains(":focus-visible"));
}

#[tokio::test]
async fn the_download_button_counts_one_download_and_redirects_to_the_named_file() {
    let app = crate::helpers::spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    let bytes = crate::fixtures::sample_bytes(200_000, 3);
    upload(&app, &ann.token, "/résumé 2026.txt", &bytes).await;
    let created = create_link(
        &app,
        &ann,
        json!({"path": "/résumé 2026.txt", "max_downloads": 2}),
    )
    .await;

    // A HEAD checks the link and counts nothing.
    let head = send(browser(&app, Method::HEAD, &created.token, "/download")).await;
    assert_eq!(head.status(), StatusCode::NO_CONTENT);
    for left in ["1", "0"] {
        let redirect = send(browser(&app, Method::GET, &created.token, "/download")).await;
        assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
        assert_eq!(redirect.headers()["referrer-policy"], "no-referrer");
        let location = redirect.headers()[LOCATION].to_str().unwrap().to_owned();
        let file = app.client.get(&location).send().await.unwrap();
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(
            file.headers()["content-disposition"],
            "attachment; filename=\"r_sum_ 2026.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.txt"
        );
        assert_eq!(file.bytes().await.unwrap().as_ref(), bytes.as_slice());
        if left == "1" {
            let text = page(
                send(browser(&app, Method::GET, &created.token, "")).await,
                StatusCode::OK,
            )
            .await;
            assert!(text.contains("<dd>1</dd>"), "{text}");
        }
    }
    // Used up: the page and the button say so; a program still gets JSON.
    for rest in ["", "/download"] {
        let text = page(
            send(browser(&app, Method::GET, &created.token, rest)).await,
            StatusCode::GONE,
        )
        .await;
        assert!(text.contains("This link has ended"), "{text}");
        assert!(text.contains("no downloads left"), "{text}");
    }
    let (status, code, _) = error_code(
        send(app.request(Method::GET, &format!("/s/{}/download", created.token), None)).await,
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::GONE, "gone"));
}

#[tokio::test]
async fn an_expired_link_is_a_410_page_and_a_revoked_one_looks_like_an_unknown_one() {
    let app = crate::helpers::spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    upload(&app, &ann.token, "/a.txt", b"a").await;
    let expiring = create_link(&app, &ann, json!({"path": "/a.txt", "expires_in_secs": 60})).await;
    let revoked = create_link(&app, &ann, json!({"path": "/a.txt"})).await;
    let response = app
        .delete(
            &format!("/v1/links/{}", revoked.link.id),
            Some(&ann.token),
            None,
        )
        .await;
    assert!(response.status().is_success());
    app.clock.advance(chrono::Duration::seconds(61));

    let text = page(
        send(browser(&app, Method::GET, &expiring.token, "")).await,
        StatusCode::GONE,
    )
    .await;
    assert!(text.contains("This link expired at"), "{text}");

    let unknown = "A".repeat(43);
    let mut bodies = Vec::new();
    for token in [revoked.token.as_str(), unknown.as_str(), "short"] {
        for rest in ["", "/download"] {
            let text = page(
                send(browser(&app, Method::GET, token, rest)).await,
                StatusCode::NOT_FOUND,
            )
            .await;
            bodies.push(text);
        }
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
    assert!(bodies[0].contains("This link does not work"));
}

#[tokio::test]
async fn a_file_name_that_looks_like_markup_shows_as_text() {
    let app = crate::helpers::spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    let name = "<img src=x onerror=alert(1)>.html";
    upload(
        &app,
        &ann.token,
        &format!("/{name}"),
        b"<script>alert(2)</script>",
    )
    .await;
    let created = create_link(&app, &ann, json!({"path": format!("/{name}")})).await;
    let text = page(
        send(browser(&app, Method::GET, &created.token, "")).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        text.contains("&lt;img src=x onerror=alert(1)&gt;.html"),
        "{text}"
    );
    assert!(!text.contains("<img"), "{text}");
}

#[tokio::test]
async fn a_password_link_shows_its_form_and_a_right_password_sets_a_cookie_for_the_link() {
    let app = crate::helpers::spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    let bytes = b"secret plans".to_vec();
    upload(&app, &ann.token, "/plans.txt", &bytes).await;
    let created = create_link(
        &app,
        &ann,
        json!({"path": "/plans.txt", "password": "open sesame"}),
    )
    .await;
    let token = created.token.as_str();

    let form = page(
        send(browser(&app, Method::GET, token, "")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(form.contains(&format!("action=\"/s/{token}\"")), "{form}");
    assert!(form.contains("<label for=\"password\">"), "{form}");
    assert!(!form.contains("plans.txt"), "{form}");

    let wrong = send(
        browser(&app, Method::POST, token, "")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("password=guess"),
    )
    .await;
    assert!(wrong.headers().get(SET_COOKIE).is_none());
    let text = page(wrong, StatusCode::UNAUTHORIZED).await;
    assert!(text.contains("That password is not right"), "{text}");

    let right = send(
        browser(&app, Method::POST, token, "")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("password=open+sesame"),
    )
    .await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert_eq!(right.headers()[LOCATION], format!("/s/{token}"));
    let cookie = right.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in [
        &format!("Path=/s/{token}"),
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=1800",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    // Over plain http (no proxy saying https) the cookie cannot be `Secure`.
    assert!(!cookie.contains("Secure"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();

    let text = page(
        send(browser(&app, Method::GET, token, "").header(COOKIE, &pair)).await,
        StatusCode::OK,
    )
    .await;
    assert!(text.contains("<h1>plans.txt</h1>"), "{text}");
    let redirect = send(browser(&app, Method::GET, token, "/download").header(COOKIE, &pair)).await;
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);

    // The cookie is for this link only, and for a while only.
    upload(&app, &ann.token, "/other.txt", b"other").await;
    let other = create_link(
        &app,
        &ann,
        json!({"path": "/other.txt", "password": "open sesame"}),
    )
    .await;
    let text = page(
        send(browser(&app, Method::GET, &other.token, "").header(COOKIE, &pair)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(text.contains("needs a password"), "{text}");
    app.clock.advance(chrono::Duration::seconds(1801));
    page(
        send(browser(&app, Method::GET, token, "").header(COOKIE, &pair)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // The header still works for programs, and a forged cookie opens nothing.
    let json = send(
        app.request(Method::GET, &format!("/s/{token}"), None)
            .header(common::api::LINK_PASSWORD_HEADER, "open sesame"),
    )
    .await;
    assert_eq!(json.status(), StatusCode::OK);
    let forged = send(
        app.request(Method::GET, &format!("/s/{token}"), None)
            .header(COOKIE, "fms_link=99999999999.00ff"),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn too_many_wrong_passwords_are_a_429_page_with_retry_after() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.files.link_password_attempts_per_minute = 2;
    })
    .await;
    let ann = register_named(&app, "Ann").await;
    upload(&app, &ann.token, "/a.txt", b"a").await;
    let created = create_link(
        &app,
        &ann,
        json!({"path": "/a.txt", "password": "open sesame"}),
    )
    .await;
    let mut last = None;
    for _ in 0..4 {
        let response = send(
            browser(&app, Method::POST, &created.token, "")
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("password=guess"),
        )
        .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            last = Some(response);
            break;
        }
    }
    let limited = last.expect("the guesses were limited");
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let text = page(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(text.contains("Too many wrong passwords"), "{text}");
    assert!(text.contains("try again"), "{text}");
}

/// The files of `zip` by path, each with its bytes (the CRC checked as it is read).
// `mem` reads a zip held in memory, which is what a test has; its successor (`read1`) is new.
#[allow(deprecated)]
pub async fn unzip(zip: Vec<u8>) -> std::collections::BTreeMap<String, Vec<u8>> {
    let reader = async_zip::base::read::mem::ZipFileReader::new(zip)
        .await
        .expect("a whole zip");
    let mut files = std::collections::BTreeMap::new();
    for index in 0..reader.file().entries().len() {
        let mut entry = reader.reader_with_entry(index).await.unwrap();
        let name = entry.entry().filename().as_str().unwrap().to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end_checked(&mut bytes).await.unwrap();
        files.insert(name, bytes);
    }
    files
}

#[tokio::test]
async fn a_folder_link_browses_down_downloads_each_file_and_zips_the_folder() {
    let app = crate::helpers::spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    let files = [
        ("/work/proj/a.txt", b"alpha".to_vec()),
        (
            "/work/proj/sub/b.bin",
            crate::fixtures::sample_bytes(1_500_000, 9),
        ),
        ("/work/proj/sub/deep/c <i>.txt", b"gamma".to_vec()),
    ];
    crate::fixtures::mkdir(&app, &ann.token, "/work/proj/sub/deep", true).await;
    for (path, bytes) in &files {
        upload(&app, &ann.token, path, bytes).await;
    }
    let created = create_link(&app, &ann, json!({"path": "/work/proj"})).await;
    let token = created.token.as_str();

    let root = page(
        send(browser(&app, Method::GET, token, "")).await,
        StatusCode::OK,
    )
    .await;
    for shown in [
        "<h1>proj</h1>",
        ">a.txt<",
        "sub/",
        "Download all as .zip",
        "5 B",
    ] {
        assert!(root.contains(shown), "{shown} is not in {root}");
    }
    assert!(!root.contains("/work"), "{root}");
    let sub = page(
        send(browser(&app, Method::GET, token, "/browse?path=%2Fsub")).await,
        StatusCode::OK,
    )
    .await;
    for shown in [
        "<h1>sub</h1>",
        "b.bin",
        "1.43 MiB",
        "deep/",
        "aria-current=\"page\"",
    ] {
        assert!(sub.contains(shown), "{shown} is not in {sub}");
    }
    let deep = page(
        send(browser(
            &app,
            Method::GET,
            token,
            "/browse?path=%2Fsub%2Fdeep",
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(deep.contains("c &lt;i&gt;.txt"), "{deep}");
    // Nothing above the shared folder.
    for above in [
        "/browse?path=%2F..",
        "/browse?path=..%2F..",
        "/browse?path=%2Fnope",
    ] {
        let response = send(browser(&app, Method::GET, token, above)).await;
        let status = response.status();
        assert!(status.is_client_error(), "{above}: {status}");
        let text = page(response, status).await;
        assert!(!text.contains("/work"), "{text}");
    }

    let redirect = send(browser(
        &app,
        Method::GET,
        token,
        "/download?path=%2Fsub%2Fb.bin",
    ))
    .await;
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    let location = redirect.headers()[LOCATION].to_str().unwrap().to_owned();
    let file = app.client.get(&location).send().await.unwrap();
    assert_eq!(file.bytes().await.unwrap().as_ref(), files[1].1.as_slice());

    let head = send(browser(&app, Method::HEAD, token, "/zip?path=%2F")).await;
    assert_eq!(head.status(), StatusCode::NO_CONTENT);
    let zip = send(browser(&app, Method::GET, token, "/zip?path=%2F")).await;
    assert_eq!(zip.status(), StatusCode::OK);
    assert_eq!(zip.headers()[CONTENT_TYPE], "application/zip");
    assert_eq!(
        zip.headers()["content-disposition"],
        "attachment; filename=\"proj.zip\"; filename*=UTF-8''proj.zip"
    );
    let unzipped = unzip(zip.bytes().await.unwrap().to_vec()).await;
    let expected: std::collections::BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(path, bytes)| {
            (
                path.trim_start_matches("/work/proj/").to_owned(),
                bytes.clone(),
            )
        })
        .collect();
    assert_eq!(unzipped, expected);

    let zip = send(browser(&app, Method::GET, token, "/zip?path=%2Fsub")).await;
    let names: Vec<String> = unzip(zip.bytes().await.unwrap().to_vec())
        .await
        .into_keys()
        .collect();
    assert_eq!(names, ["b.bin", "deep/c <i>.txt"]);
}

#[tokio::test]
async fn a_file_request_page_loads_only_its_own_scripts_and_shows_no_file_of_the_folder() {
    let app = crate::helpers::spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    crate::fixtures::mkdir(&app, &ann.token, "/inbox", false).await;
    upload(&app, &ann.token, "/inbox/secret-earlier.txt", b"earlier").await;
    let created = create_link(
        &app,
        &ann,
        json!({"path": "/inbox", "upload_only": true, "password": "open sesame"}),
    )
    .await;
    let token = created.token.as_str();
    let unlocked = send(
        browser(&app, Method::POST, token, "")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("password=open+sesame"),
    )
    .await;
    let cookie = unlocked.headers()[SET_COOKIE].to_str().unwrap();
    let pair = cookie.split(';').next().unwrap().to_owned();

    let response = send(browser(&app, Method::GET, token, "").header(COOKIE, &pair)).await;
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let text = page(response, StatusCode::OK).await;
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    for script in ["/assets/sha256.js", "/assets/upload.js"] {
        assert!(
            text.contains(&format!(
                "<script src=\"{script}\" nonce=\"{nonce}\" defer>"
            )),
            "{script} with the nonce is not in {text}"
        );
        let served = app.get(script, None).await;
        assert_eq!(served.status(), StatusCode::OK);
        assert_eq!(
            served.headers()[CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
    }
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(text.contains("type=\"file\""), "{text}");
    assert!(text.contains("multiple"), "{text}");
    assert!(!text.contains("secret-earlier"), "{text}");
    // Another answer, another nonce.
    let again = send(browser(&app, Method::GET, token, "").header(COOKIE, &pair)).await;
    assert_ne!(again.headers()["content-security-policy"], policy.as_str());

    // The page's script reaches the upload API with the cookie alone.
    let started = send(
        app.request(Method::POST, &format!("/s/{token}/uploads"), None)
            .header(COOKIE, &pair)
            .json(&json!({"name": "new.txt", "size": 3})),
    )
    .await;
    assert_eq!(started.status(), StatusCode::CREATED);
    let listing = send(
        app.request(Method::GET, &format!("/s/{token}/files"), None)
            .header(COOKIE, &pair),
    )
    .await;
    assert_eq!(listing.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_unlock_cookie_is_secure_when_a_trusted_proxy_says_https() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.gateway.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let ann = register_named(&app, "Ann").await;
    upload(&app, &ann.token, "/a.txt", b"a").await;
    let created = create_link(
        &app,
        &ann,
        json!({"path": "/a.txt", "password": "open sesame"}),
    )
    .await;
    let unlock = |proto: &'static str| {
        browser(&app, Method::POST, &created.token, "")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-forwarded-proto", proto)
            .header("x-forwarded-host", "files.example.com")
            .body("password=open+sesame")
    };
    let over_https = send(unlock("https")).await;
    assert_eq!(over_https.status(), StatusCode::SEE_OTHER);
    let cookie = over_https.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    let over_http = send(unlock("http")).await;
    let cookie = over_http.headers()[SET_COOKIE].to_str().unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");
}
