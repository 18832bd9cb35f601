//! The share scope of a request, as an extractor: a handler that takes a [`ScopedFiles`] gets
//! the caller's files already resolved to their own tree or to the share named by `?share=`.
//!
//! This is the only place the gateway turns `share=` into a scope. The handle then resolves
//! every path, checks the role for writes and redacts every error itself, so a handler cannot
//! forget one of those steps.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::auth::Caller;
use super::error::{ApiError, QueryParams};
use super::AppState;
use crate::error::Error;
use crate::files::service::ScopedFiles;

/// `?share=`: work inside an item shared with the caller. The handler's own query type reads
/// the other parameters; serde ignores the ones it does not name.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShareQuery {
    /// A share's id: work inside the item shared with the caller, paths relative to it; the
    /// caller's own tree when absent.
    pub share: Option<Uuid>,
}

impl FromRequestParts<AppState> for ScopedFiles {
    type Rejection = ApiError;

    /// Who is calling (401 without a valid token), then in which share (400 for an id that is
    /// not a UUID, 404 for a share that is not theirs or whose owner deleted their account).
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let QueryParams(query) =
            QueryParams::<ShareQuery>::from_request_parts(parts, state).await?;
        let files = state
            .files
            .in_scope(caller.customer_id, query.share)
            .await?;
        // A deleted owner's shares end with the account, before the files service purges it.
        if let Some(share) = query
            .share
            .filter(|_| state.customers.is_deleted(files.scope().owner))
        {
            return Err(Error::NotFound(format!("there is no share {share} for you")).into());
        }
        Ok(files)
    }
}
