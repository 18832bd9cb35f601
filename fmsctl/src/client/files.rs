//! The file endpoints: list, inspect, delete, make folders, move, upload, download, usage.
//!
//! Every call but `usage` takes a [`Tree`]: the caller's own files, or the inside of an item
//! shared with the caller, where paths (asked and answered) are relative to that item.

use common::api::{
    CompleteOneUpload, CompleteUploadRequest, CompleteUploadsRequest, CompletedUploads,
    CopyRequest, CreateUploadRequest, CreateUploadsRequest, CreatedUploads, Deleted, DownloadLink,
    Entry, Listing, MkdirRequest, MoveRequest, Overwrite, PartChecksum, PartUrls, PartUrlsRequest,
    UploadList, UploadSession, Usage,
};
use reqwest::StatusCode;
use uuid::Uuid;

use super::{Client, ClientError, Tree, API_TIMEOUT, COMPLETE_TIMEOUT};

impl Client {
    /// `GET /v1/files`: one page of a folder.
    pub async fn list(
        &self,
        tree: Tree,
        path: &str,
        cursor: Option<&str>,
    ) -> Result<Listing, ClientError> {
        // The largest page: a whole folder in the fewest round trips.
        let limit = common::api::MAX_PAGE.to_string();
        let mut query = vec![("path", path), ("limit", &limit)];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        self.get_json("/v1/files", tree, &query).await
    }

    /// `GET /v1/files/metadata`.
    pub async fn metadata(&self, tree: Tree, path: &str) -> Result<Entry, ClientError> {
        self.get_json("/v1/files/metadata", tree, &[("path", path)])
            .await
    }

    /// `DELETE /v1/files`: into the owner's trash, or for good with `permanent`.
    pub async fn delete(
        &self,
        tree: Tree,
        path: &str,
        recursive: bool,
        permanent: bool,
    ) -> Result<Deleted, ClientError> {
        let url = self.endpoint("/v1/files");
        let flag = |on: bool| if on { "true" } else { "false" };
        let tree_query = tree.query();
        let response = self
            .send_authed(|http| {
                http.delete(&url)
                    .query(&[
                        ("path", path),
                        ("recursive", flag(recursive)),
                        ("permanent", flag(permanent)),
                    ])
                    .query(&tree_query)
            })
            .await?;
        self.decode(response).await
    }

    /// `POST /v1/folders`.
    pub async fn mkdir(&self, tree: Tree, path: &str, parents: bool) -> Result<Entry, ClientError> {
        let body = MkdirRequest {
            path: path.to_string(),
            parents,
        };
        self.post_json("/v1/folders", tree, &body).await
    }

    /// `POST /v1/files/move`.
    pub async fn move_entry(&self, tree: Tree, from: &str, to: &str) -> Result<Entry, ClientError> {
        let body = MoveRequest {
            from: from.to_string(),
            to: to.to_string(),
        };
        self.post_json("/v1/files/move", tree, &body).await
    }

    /// `POST /v1/files/copy`.
    pub async fn copy_entry(
        &self,
        tree: Tree,
        from: &str,
        to: &str,
        overwrite: Overwrite,
    ) -> Result<Entry, ClientError> {
        let body = CopyRequest {
            from: from.to_string(),
            to: to.to_string(),
            overwrite,
        };
        self.post_json("/v1/files/copy", tree, &body).await
    }

    /// `GET /v1/usage`.
    pub async fn usage(&self) -> Result<Usage, ClientError> {
        self.get_json("/v1/usage", Tree::Own, &[]).await
    }

    /// `POST /v1/uploads`; the flag says whether the server resumed an unfinished session (200).
    pub async fn create_upload(
        &self,
        tree: Tree,
        request: &CreateUploadRequest,
    ) -> Result<(UploadSession, bool), ClientError> {
        let url = self.endpoint("/v1/uploads");
        let tree_query = tree.query();
        let response = self
            .send_authed(|http| {
                http.post(&url)
                    .query(&tree_query)
                    .json(request)
                    .timeout(API_TIMEOUT)
            })
            .await?;
        let resumed = response.status() == StatusCode::OK;
        Ok((self.decode(response).await?, resumed))
    }

    /// `GET /v1/uploads`: every open session that holds part of my quota, whoever started it.
    pub async fn held_uploads(&self) -> Result<UploadList, ClientError> {
        self.get_json("/v1/uploads", Tree::Own, &[]).await
    }

    /// `DELETE /v1/uploads/{id}`: ends one of those sessions and gives its reservation back.
    pub async fn abort_upload(&self, upload_id: Uuid) -> Result<(), ClientError> {
        self.abort_upload_in(Tree::Own, upload_id).await
    }

    /// `DELETE /v1/uploads/{id}` in `tree`: ends a session started there (in a share, by me).
    pub async fn abort_upload_in(&self, tree: Tree, upload_id: Uuid) -> Result<(), ClientError> {
        let url = self.endpoint(&format!("/v1/uploads/{upload_id}"));
        let tree_query = tree.query();
        self.send_authed(|http| http.delete(&url).query(&tree_query).timeout(API_TIMEOUT))
            .await
            .map(drop)
    }

    /// `GET /v1/uploads/{id}`: the session with fresh part URLs.
    pub async fn upload_session(
        &self,
        tree: Tree,
        upload_id: Uuid,
    ) -> Result<UploadSession, ClientError> {
        self.get_json(&format!("/v1/uploads/{upload_id}"), tree, &[])
            .await
    }

    /// `POST /v1/uploads/{id}/complete`.
    pub async fn complete_upload(
        &self,
        tree: Tree,
        upload_id: Uuid,
        sha256: &str,
    ) -> Result<Entry, ClientError> {
        let url = self.endpoint(&format!("/v1/uploads/{upload_id}/complete"));
        let body = CompleteUploadRequest {
            sha256: Some(sha256.to_string()),
        };
        let tree_query = tree.query();
        let response = self
            .send_authed(|http| {
                http.post(&url)
                    .query(&tree_query)
                    .json(&body)
                    .timeout(COMPLETE_TIMEOUT)
            })
            .await?;
        self.decode(response).await
    }

    /// `POST /v1/uploads/{id}/parts`: URLs for parts whose SHA-256 the client computed.
    pub async fn part_urls(
        &self,
        tree: Tree,
        upload_id: Uuid,
        parts: Vec<PartChecksum>,
    ) -> Result<PartUrls, ClientError> {
        let url = self.endpoint(&format!("/v1/uploads/{upload_id}/parts"));
        let tree_query = tree.query();
        let body = PartUrlsRequest { parts };
        let response = self
            .send_authed(|http| {
                http.post(&url)
                    .query(&tree_query)
                    .json(&body)
                    .timeout(API_TIMEOUT)
            })
            .await?;
        self.decode(response).await
    }

    /// `POST /v1/uploads/batch`: up to 100 sessions at once, one result each, in order.
    pub async fn create_uploads(
        &self,
        tree: Tree,
        uploads: Vec<CreateUploadRequest>,
    ) -> Result<CreatedUploads, ClientError> {
        let url = self.endpoint("/v1/uploads/batch");
        let tree_query = tree.query();
        let body = CreateUploadsRequest { uploads };
        let response = self
            .send_authed(|http| {
                http.post(&url)
                    .query(&tree_query)
                    .json(&body)
                    .timeout(API_TIMEOUT)
            })
            .await?;
        self.decode(response).await
    }

    /// `POST /v1/uploads/batch/complete`: up to 100 sessions completed at once, one result
    /// each, in order.
    pub async fn complete_uploads(
        &self,
        tree: Tree,
        uploads: Vec<CompleteOneUpload>,
    ) -> Result<CompletedUploads, ClientError> {
        let url = self.endpoint("/v1/uploads/batch/complete");
        let tree_query = tree.query();
        let body = CompleteUploadsRequest { uploads };
        let response = self
            .send_authed(|http| {
                http.post(&url)
                    .query(&tree_query)
                    .json(&body)
                    .timeout(COMPLETE_TIMEOUT)
            })
            .await?;
        self.decode(response).await
    }

    /// `GET /v1/downloads`.
    pub async fn download_link(&self, tree: Tree, path: &str) -> Result<DownloadLink, ClientError> {
        self.get_json("/v1/downloads", tree, &[("path", path)])
            .await
    }
}
