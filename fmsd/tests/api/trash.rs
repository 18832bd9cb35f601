//! The trash over HTTP: a delete moves an entry into the owner's trash (a folder whole), out of
//! listings, look-ups and downloads, its path free at once; `GET /v1/trash` lists it, a restore
//! brings it back byte for byte (beside a taken path as `name (2).ext`, or at a path asked
//! for), `DELETE /v1/trash/{id}` and `DELETE /v1/trash` delete for good, and the sweep purges
//! what is older than the retention. The usage counts the trash apart and the quota holds it.
//! The lifecycle runs on the embedded SQLite store and on PostgreSQL.

use chrono::Duration;
use common::api::{
    Deleted, DownloadLink, RestoredEntry, TrashEntry, TrashListing, TrashPurged, Usage,
};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::{json, Value};

mod through;

use crate::fixtures::{download_link, fetch, mkdir, names, sample_bytes, upload, url};
use crate::helpers::{error_code, eventually, spawn_app, spawn_app_with, TestApp, TestUser};
use crate::sharing_support::{status_and_text, wait_for_event};

/// `DELETE /v1/files` of `path` (recursively), into the trash or for good.
async fn delete(app: &TestApp, user: &TestUser, path: &str, permanent: bool) -> Deleted {
    let permanent = if permanent { "true" } else { "false" };
    let response = app
        .delete(
            &url(
                "/v1/files",
                &[
                    ("path", path),
                    ("recursive", "true"),
                    ("permanent", permanent),
                ],
            ),
            Some(&user.token),
            None,
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn trash(app: &TestApp, user: &TestUser) -> TrashListing {
    let response = app.get("/v1/trash", Some(&user.token)).await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn usage(app: &TestApp, user: &TestUser) -> Usage {
    app.get("/v1/usage", Some(&user.token))
        .await
        .json()
        .await
        .unwrap()
}

async fn restore(app: &TestApp, user: &TestUser, id: uuid::Uuid, body: Value) -> RestoredEntry {
    let response = app
        .post(&format!("/v1/trash/{id}/restore"), Some(&user.token), &body)
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn downloaded(app: &TestApp, user: &TestUser, path: &str) -> Vec<u8> {
    let response = download_link(app, &user.token, path).await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    let link: DownloadLink = serde_json::from_str(&text).unwrap();
    fetch(app, &link.url, None)
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

/// The whole lifecycle, on whichever store `app` runs.
async fn trash_lifecycle(app: &TestApp) {
    let ann = app.register_and_login().await;
    let token = Some(ann.token.as_str());
    let (a, b, top) = (
        sample_bytes(3000, 1),
        sample_bytes(200, 2),
        sample_bytes(50, 3),
    );
    mkdir(app, &ann.token, "/docs/deep", true).await;
    upload(app, &ann.token, "/docs/a.txt", &a).await;
    upload(app, &ann.token, "/docs/deep/b.bin", &b).await;
    upload(app, &ann.token, "/top.txt", &top).await;

    // Into the trash, the folder whole.
    let deleted = delete(app, &ann, "/docs", false).await;
    assert_eq!(
        (
            deleted.trashed,
            deleted.n_files,
            deleted.n_folders,
            deleted.bytes_freed,
            deleted.bytes_trashed
        ),
        (true, 2, 2, 0, 3200)
    );
    let trash_id = deleted.trash_id.expect("a trash id");
    // Gone from the tree: listings, look-ups, downloads.
    assert_eq!(names(app, &ann.token, "/").await, ["top.txt"]);
    for gone in ["/docs", "/docs/a.txt", "/docs/deep/b.bin"] {
        let metadata = app
            .get(&url("/v1/files/metadata", &[("path", gone)]), token)
            .await;
        assert_eq!(metadata.status(), StatusCode::NOT_FOUND, "{gone}");
    }
    assert_eq!(
        download_link(app, &ann.token, "/docs/a.txt").await.status(),
        StatusCode::NOT_FOUND
    );
    // The trash holds its bytes apart, and the quota counts them.
    let now = usage(app, &ann).await;
    assert_eq!(
        (now.used_bytes, now.trash_bytes, now.n_trashed, now.n_files),
        (50, 3200, 1, 1)
    );
    let listing = trash(app, &ann).await;
    assert_eq!(listing.items.len(), 1);
    let item: &TrashEntry = &listing.items[0];
    assert_eq!(
        (
            item.id,
            item.path.as_str(),
            item.name.as_str(),
            item.size,
            item.n_files,
            item.n_folders,
            item.trashed_by
        ),
        (trash_id, "/docs", "docs", 3200, 2, 2, ann.id)
    );
    assert_eq!(item.purge_at - item.trashed_at, Duration::days(30));
    assert_eq!(item.trashed_by_email, None);
    let shown: TrashEntry = app
        .get(&format!("/v1/trash/{trash_id}"), token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&shown, item);

    // The path is free at once; a restore then goes beside it, byte for byte.
    mkdir(app, &ann.token, "/docs", false).await;
    upload(app, &ann.token, "/docs/a.txt", b"new").await;
    let restored = restore(app, &ann, trash_id, json!({})).await;
    assert_eq!(
        (restored.from.as_str(), restored.entry.path.as_str()),
        ("/docs", "/docs (2)")
    );
    assert_eq!(downloaded(app, &ann, "/docs (2)/a.txt").await, a);
    assert_eq!(downloaded(app, &ann, "/docs (2)/deep/b.bin").await, b);
    assert_eq!(downloaded(app, &ann, "/docs/a.txt").await, b"new");
    assert!(trash(app, &ann).await.items.is_empty());
    let now = usage(app, &ann).await;
    assert_eq!((now.used_bytes, now.trash_bytes), (3253, 0));
    let again = app
        .post(&format!("/v1/trash/{trash_id}/restore"), token, &json!({}))
        .await;
    assert_eq!(error_code(again).await.0, StatusCode::NOT_FOUND);

    // A file beside a taken name keeps its extension; a path asked for must be free.
    let first = delete(app, &ann, "/top.txt", false).await.trash_id.unwrap();
    upload(app, &ann.token, "/top.txt", b"other").await;
    let taken = app
        .post(
            &format!("/v1/trash/{first}/restore"),
            token,
            &json!({"to": "/top.txt"}),
        )
        .await;
    let (status, code, message) = error_code(taken).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "conflict"),
        "{message}"
    );
    let elsewhere = restore(app, &ann, first, json!({"to": "/old/top.txt"})).await;
    assert_eq!(
        (elsewhere.entry.path.as_str(), elsewhere.n_parents_made),
        ("/old/top.txt", 1)
    );
    assert_eq!(downloaded(app, &ann, "/old/top.txt").await, top);
    let second = delete(app, &ann, "/old/top.txt", false)
        .await
        .trash_id
        .unwrap();
    upload(app, &ann.token, "/old/top.txt", b"x").await;
    // No body at all is the same as `{}`.
    let response = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/trash/{second}/restore"),
            token,
        )
        .send()
        .await
        .unwrap();
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let beside: RestoredEntry = serde_json::from_str(&text).unwrap();
    assert_eq!(beside.entry.path, "/old/top (2).txt");

    // A permanent delete skips the trash and frees the bytes.
    upload(app, &ann.token, "/perm.bin", &sample_bytes(700, 4)).await;
    let before = usage(app, &ann).await;
    let gone = delete(app, &ann, "/perm.bin", true).await;
    assert_eq!(
        (gone.trashed, gone.trash_id, gone.bytes_freed),
        (false, None, 700)
    );
    assert!(trash(app, &ann).await.items.is_empty());
    let after = usage(app, &ann).await;
    assert_eq!(after.used_bytes, before.used_bytes - 700);
    assert_eq!(after.trash_bytes, 0);

    // Delete one item for good, then empty the rest.
    let one = delete(app, &ann, "/docs (2)", false)
        .await
        .trash_id
        .unwrap();
    delete(app, &ann, "/old", false).await;
    delete(app, &ann, "/top.txt", false).await;
    assert_eq!(trash(app, &ann).await.items.len(), 3);
    let purged: TrashPurged = app
        .delete(&format!("/v1/trash/{one}"), token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (purged.n_items, purged.n_files, purged.bytes_freed),
        (1, 2, 3200)
    );
    let purged_again = app.delete(&format!("/v1/trash/{one}"), token, None).await;
    assert_eq!(error_code(purged_again).await.0, StatusCode::NOT_FOUND);
    let emptied: TrashPurged = app
        .delete("/v1/trash", token, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(emptied.n_items, 2);
    let now = usage(app, &ann).await;
    assert_eq!((now.trash_bytes, now.n_trashed), (0, 0));
    assert_eq!(names(app, &ann.token, "/").await, ["docs"]);
}

#[tokio::test]
async fn trash_lifecycle_on_sqlite() {
    let app = spawn_app().await;
    trash_lifecycle(&app).await;

    // Every step told the bus: trashed, restored, deleted from the trash (three items).
    wait_for_event(&app, "files.trashed", |e| e.payload["path"] == "/docs").await;
    wait_for_event(&app, "files.restored", |e| {
        e.payload["from"] == "/docs" && e.payload["path"] == "/docs (2)"
    })
    .await;
    let from_trash = eventually(|| {
        let n = app
            .bus_envelopes()
            .into_iter()
            .filter(|envelope| envelope.event_type == "files.deleted")
            .filter(|envelope| envelope.payload["from_trash"] == json!(true))
            .count();
        (n == 3).then_some(n)
    })
    .await;
    assert_eq!(from_trash, Some(3));
}

/// A database of its own on the test PostgreSQL server, for the files store.
fn postgres_database() -> String {
    let admin = std::env::var("FMS_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        let env = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/services/services.env");
        std::fs::read_to_string(&env)
            .ok()
            .and_then(|text| {
                text.lines().find_map(|line| {
                    let line = line.trim().trim_start_matches("export ");
                    let value = line.strip_prefix("FMS_TEST_POSTGRES_URL=")?;
                    Some(value.trim_matches(['"', '\'']).to_owned())
                })
            })
            .unwrap_or_else(|| {
                panic!(
                    "FMS_TEST_POSTGRES_URL is not set: start the real servers with \
                     `scripts/services.sh start`"
                )
            })
    });
    let name = format!("fms_test_{}", uuid::Uuid::new_v4().simple());
    let mut connection = PgConnection::establish(&admin)
        .unwrap_or_else(|error| panic!("PostgreSQL is not reachable: {error}"));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut connection)
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

#[tokio::test]
async fn trash_lifecycle_on_postgres() {
    let database = tokio::task::spawn_blocking(postgres_database)
        .await
        .unwrap();
    let app = spawn_app_with(|settings| settings.stores.files = database).await;
    trash_lifecycle(&app).await;
}

#[tokio::test]
async fn the_trash_counts_against_the_quota() {
    let app = spawn_app_with(|settings| settings.files.quota_bytes = 1000).await;
    let ann = app.register_and_login().await;
    upload(&app, &ann.token, "/a.bin", &sample_bytes(800, 1)).await;
    delete(&app, &ann, "/a.bin", false).await;
    // 800 bytes in the trash leave room for 200.
    let refused = app
        .post(
            "/v1/uploads",
            Some(&ann.token),
            &json!({"path": "/b.bin", "size": 300}),
        )
        .await;
    let (status, code, message) = error_code(refused).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded"),
        "{message}"
    );
    assert!(message.contains("trash"), "{message}");
    // Emptying the trash frees them.
    app.delete("/v1/trash", Some(&ann.token), None).await;
    upload(&app, &ann.token, "/b.bin", &sample_bytes(300, 2)).await;
}

#[tokio::test]
async fn bad_trash_requests_are_4xx_with_the_error_body() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let token = Some(ann.token.as_str());
    upload(&app, &ann.token, "/a.txt", b"a").await;
    let id = delete(&app, &ann, "/a.txt", false).await.trash_id.unwrap();
    let restore_url = format!("/v1/trash/{id}/restore");
    let cases = [
        app.get("/v1/trash?cursor=nope", token).await,
        app.get("/v1/trash?limit=0", token).await,
        app.get("/v1/trash?limit=100000", token).await,
        app.get("/v1/trash/not-an-id", token).await,
        app.delete("/v1/trash/not-an-id", token, None).await,
        app.post("/v1/trash/not-an-id/restore", token, &json!({}))
            .await,
        app.post(&restore_url, token, &json!({"to": "relative"}))
            .await,
        app.post(&restore_url, token, &json!({"to": "/"})).await,
        app.post(&restore_url, token, &json!({"to": "/a/../b"}))
            .await,
        app.post(&restore_url, token, &json!({"bogus": 1})).await,
        app.post(&restore_url, token, &json!([])).await,
        app.post(&restore_url, token, &json!({"to": 5})).await,
    ];
    for response in cases {
        let (status, code, message) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{message}"
        );
    }
    // A restore under a file is a conflict; no login is 401; nothing moved meanwhile.
    upload(&app, &ann.token, "/file", b"f").await;
    let under_file = app
        .post(&restore_url, token, &json!({"to": "/file/a.txt"}))
        .await;
    assert_eq!(error_code(under_file).await.0, StatusCode::CONFLICT);
    let anonymous = app.get("/v1/trash", None).await;
    assert_eq!(error_code(anonymous).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(trash(&app, &ann).await.items.len(), 1);
    assert_eq!(names(&app, &ann.token, "/").await, ["file"]);
    // The root cannot be deleted into the trash either.
    let root = app
        .delete(
            &url("/v1/files", &[("path", "/"), ("recursive", "true")]),
            token,
            None,
        )
        .await;
    assert_eq!(error_code(root).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_sweep_purges_the_trash_past_its_retention() {
    let app = spawn_app_with(|settings| {
        settings.files.sweep_interval_secs = 1;
        settings.files.trash_retention_days = 7;
    })
    .await;
    let mut ann = app.register_and_login().await;
    upload(&app, &ann.token, "/old.bin", &sample_bytes(100, 1)).await;
    delete(&app, &ann, "/old.bin", false).await;
    app.clock.advance(Duration::days(6));
    // Days later the access token has long expired: log in again.
    ann.token = app.login(&ann.email, &ann.password).await.access_token;
    upload(&app, &ann.token, "/new.bin", &sample_bytes(10, 2)).await;
    delete(&app, &ann, "/new.bin", false).await;
    assert_eq!(
        crate::fixtures::count_files(&app.data_dir.join("blobs/objects")),
        2
    );
    app.clock.advance(Duration::days(2));
    // The first is 8 days old, the second 2: only the first goes, its blob with it.
    let swept = eventually(|| {
        let objects = crate::fixtures::count_files(&app.data_dir.join("blobs/objects"));
        (objects == 1).then_some(())
    })
    .await;
    assert!(swept.is_some(), "the old item's blob is still there");
    ann.token = app.login(&ann.email, &ann.password).await.access_token;
    let listing = trash(&app, &ann).await;
    assert_eq!(
        listing
            .items
            .iter()
            .map(|item| item.path.as_str())
            .collect::<Vec<_>>(),
        ["/new.bin"]
    );
    assert_eq!(usage(&app, &ann).await.trash_bytes, 10);
}

#[tokio::test]
async fn pages_of_the_trash_are_newest_first() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    for n in 0..5 {
        let at = format!("/f{n}");
        upload(&app, &ann.token, &at, at.as_bytes()).await;
        delete(&app, &ann, &at, false).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<uuid::Uuid> = None;
    loop {
        let mut pairs = vec![("limit", "2".to_owned())];
        if let Some(cursor) = cursor {
            pairs.push(("cursor", cursor.to_string()));
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page: TrashListing = app
            .get(&url("/v1/trash", &pairs), Some(&ann.token))
            .await
            .json()
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|item| item.path));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["/f4", "/f3", "/f2", "/f1", "/f0"]);
}
