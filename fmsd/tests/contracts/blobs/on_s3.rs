//! The blob-store contract on the real S3 servers: garage (strict signatures, the production
//! one) and s3s-fs (a second implementation). Each test gets a key prefix of its own.
//!
//! The inspector talks to S3 itself with rust-s3: `HEAD` for a blob; for a staging,
//! `ListMultipartUploads` of its key. s3s-fs has no `ListMultipartUploads` (it answers 501), so
//! there a staging exists when S3 still accepts a part for its upload id.

use std::collections::HashMap;
use std::sync::Arc;

use fmsd::files::adapters::s3::S3BlobStore;
use fmsd::files::domain::{BlobKey, StagingId};
use fmsd::settings::S3Settings;
use s3::creds::Credentials;
use s3::error::S3Error;
use s3::{Bucket, Region};
use secrecy::SecretString;

use super::{blob_store_works, Inspect};
use crate::support::{require, unique};

/// One S3 server, from the `FMS_TEST_<server>_*` variables.
struct Server {
    endpoint: String,
    region: String,
    access_key: String,
    secret_key: String,
    bucket: String,
}

impl Server {
    /// garage (`FMS_TEST_S3_*`) or s3s-fs (`FMS_TEST_S3FS_*`).
    fn from_env(name: &str) -> Self {
        Self {
            endpoint: require(&format!("FMS_TEST_{name}_ENDPOINT")),
            region: std::env::var(format!("FMS_TEST_{name}_REGION"))
                .ok()
                .or_else(|| std::env::var("FMS_TEST_S3_REGION").ok())
                .unwrap_or_else(|| "us-east-1".into()),
            access_key: require(&format!("FMS_TEST_{name}_ACCESS_KEY")),
            secret_key: require(&format!("FMS_TEST_{name}_SECRET_KEY")),
            bucket: require(&format!("FMS_TEST_{name}_BUCKET")),
        }
    }

    /// The adapter's settings, with `prefix`.
    fn settings(&self, prefix: &str) -> S3Settings {
        S3Settings {
            endpoint: Some(self.endpoint.parse().expect("an endpoint URL")),
            region: self.region.clone(),
            path_style: true,
            access_key: Some(self.access_key.clone()),
            secret_key: Some(SecretString::from(self.secret_key.clone())),
            key_prefix: prefix.to_owned(),
            ..S3Settings::default()
        }
    }

    /// A rust-s3 handle of the test's own, to look at the bucket independently.
    fn bucket(&self) -> Box<Bucket> {
        let credentials = Credentials::new(
            Some(&self.access_key),
            Some(&self.secret_key),
            None,
            None,
            None,
        )
        .expect("credentials");
        let region = Region::Custom {
            region: self.region.clone(),
            endpoint: self.endpoint.trim_end_matches('/').to_owned(),
        };
        Bucket::new(&self.bucket, region, credentials)
            .expect("a bucket")
            .with_path_style()
    }
}

/// The bucket under one prefix, seen through S3 itself.
struct S3Inspector {
    bucket: Box<Bucket>,
    prefix: String,
}

/// Whether S3 answered with status `status`.
fn answered(error: &S3Error, status: u16) -> bool {
    matches!(error, S3Error::HttpFailWithBody(code, _) if *code == status)
}

impl Inspect for S3Inspector {
    async fn object_exists(&self, key: &BlobKey) -> bool {
        match self
            .bucket
            .head_object(format!("{}{}", self.prefix, key.as_str()))
            .await
        {
            Ok((_, status)) => status == 200,
            Err(error) if answered(&error, 404) => false,
            Err(error) => panic!("HEAD failed: {error}"),
        }
    }

    async fn staging_exists(&self, key: &BlobKey, staging: &StagingId) -> bool {
        let path = format!("{}{}", self.prefix, key.as_str());
        match self.bucket.list_multiparts_uploads(Some(&path), None).await {
            // Any upload of the key: a staging may have moved to a replacement upload.
            Ok(pages) => pages
                .iter()
                .flat_map(|page| page.uploads.iter())
                .any(|upload| upload.key == path),
            Err(error) if answered(&error, 501) => {
                // No listing here: try a part (number 10000, which no test uses).
                let query = HashMap::from([
                    ("partNumber".to_owned(), "10000".to_owned()),
                    ("uploadId".to_owned(), staging.as_str().to_owned()),
                ]);
                let url = self
                    .bucket
                    .presign_put(&path, 60, None, Some(query))
                    .await
                    .expect("a presigned part URL");
                let status = reqwest::Client::new()
                    .put(url)
                    .body(vec![0u8])
                    .send()
                    .await
                    .expect("s3s-fs answers")
                    .status();
                status.is_success()
            }
            Err(error) => panic!("ListMultipartUploads failed: {error}"),
        }
    }
}

/// Runs the contract on `server` under a fresh prefix.
async fn contract_on(server: Server) {
    let prefix = format!("{}/", unique("test-"));
    let store = S3BlobStore::connect(&server.bucket, &server.settings(&prefix))
        .await
        .expect("the S3 store connects");
    let inspector = S3Inspector {
        bucket: server.bucket(),
        prefix,
    };
    blob_store_works(Arc::new(store), &inspector).await;
}

#[tokio::test]
async fn garage_keeps_the_blob_store_contract() {
    contract_on(Server::from_env("S3")).await;
}

#[tokio::test]
async fn s3s_fs_keeps_the_blob_store_contract() {
    contract_on(Server::from_env("S3FS")).await;
}

#[tokio::test]
async fn connect_fails_clearly_when_the_bucket_does_not_answer() {
    let server = Server::from_env("S3");
    let mut settings = server.settings("x/");
    let error = S3BlobStore::connect("no-such-bucket-fms", &settings)
        .await
        .expect_err("no such bucket");
    let message = format!("{error:#}");
    assert!(message.contains("'no-such-bucket-fms'"), "{message}");
    assert!(!message.contains(&server.secret_key), "{message}");
    settings.secret_key = Some(SecretString::from("wrong".to_owned()));
    let error = S3BlobStore::connect(&server.bucket, &settings)
        .await
        .expect_err("wrong keys");
    assert!(format!("{error:#}").contains("does not answer"));
}
