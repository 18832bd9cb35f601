//! The caller's trash: what their deletes (and their editors' deletes through shares) moved out
//! of their tree.

use common::api::{RestoreRequest, RestoredEntry, TrashListing, TrashPurged, MAX_PAGE};
use uuid::Uuid;

use super::{Client, ClientError, Tree, API_TIMEOUT, COMPLETE_TIMEOUT};

impl Client {
    /// `GET /v1/trash`, every page: the whole trash, newest first.
    pub async fn trash(&self) -> Result<TrashListing, ClientError> {
        let limit = MAX_PAGE.to_string();
        let mut all = TrashListing {
            items: Vec::new(),
            next_cursor: None,
        };
        let mut cursor: Option<Uuid> = None;
        loop {
            let after = cursor.map(|id| id.to_string());
            let mut query = vec![("limit", limit.as_str())];
            if let Some(after) = after.as_deref() {
                query.push(("cursor", after));
            }
            let page: TrashListing = self.get_json("/v1/trash", Tree::Own, &query).await?;
            all.items.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// `POST /v1/trash/{id}/restore`: back where it was (or beside it), or at `to`.
    pub async fn restore(&self, id: Uuid, to: Option<&str>) -> Result<RestoredEntry, ClientError> {
        let body = RestoreRequest {
            to: to.map(str::to_owned),
        };
        self.post_json(&format!("/v1/trash/{id}/restore"), Tree::Own, &body)
            .await
    }

    /// `DELETE /v1/trash/{id}`: that item, for good.
    pub async fn delete_from_trash(&self, id: Uuid) -> Result<TrashPurged, ClientError> {
        self.delete_json(&format!("/v1/trash/{id}"), API_TIMEOUT)
            .await
    }

    /// `DELETE /v1/trash`: everything in it, for good (a large trash takes a while).
    pub async fn empty_trash(&self) -> Result<TrashPurged, ClientError> {
        self.delete_json("/v1/trash", COMPLETE_TIMEOUT).await
    }

    /// An authenticated `DELETE` whose answer is a JSON body.
    async fn delete_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        timeout: std::time::Duration,
    ) -> Result<T, ClientError> {
        let url = self.endpoint(path);
        let response = self
            .send_authed(|http| http.delete(&url).timeout(timeout))
            .await?;
        self.decode(response).await
    }
}
