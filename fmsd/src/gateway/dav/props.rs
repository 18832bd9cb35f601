//! Dead properties (`PROPPATCH`), kept by the files service with the node they are set on.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use dav_server::fs::{DavProp, FsError, FsResult};
use http::StatusCode;
use uuid::Uuid;

use super::meta::fs_error;
use crate::files::domain::DeadProp;
use crate::files::service::FileService;

/// The dead properties of the nodes, through the files service, for one request.
#[derive(Clone)]
pub struct DeadProps {
    /// Where they are kept.
    files: Arc<FileService>,
    /// Which nodes of each owner met have any, read once: a `PROPFIND` asks for every entry.
    having: Arc<tokio::sync::Mutex<HashMap<Uuid, HashSet<Uuid>>>>,
}

impl DeadProps {
    /// The properties kept by `files`.
    pub fn new(files: Arc<FileService>) -> Self {
        Self {
            files,
            having: Arc::default(),
        }
    }

    /// Whether the node has any.
    pub async fn any(&self, owner: Uuid, node: Uuid) -> bool {
        let mut having = self.having.lock().await;
        if let Some(nodes) = having.get(&owner) {
            return nodes.contains(&node);
        }
        match self.files.nodes_with_dead_props(owner).await {
            Ok(nodes) => {
                let nodes: HashSet<Uuid> = nodes.into_iter().collect();
                let found = nodes.contains(&node);
                having.insert(owner, nodes);
                found
            }
            Err(_) => false,
        }
    }

    /// Applies `patch` (`true`: set, `false`: remove), all or nothing.
    pub async fn patch(
        &self,
        owner: Uuid,
        node: Uuid,
        patch: Vec<(bool, DavProp)>,
    ) -> FsResult<Vec<(StatusCode, DavProp)>> {
        let changes = patch
            .iter()
            .map(|(set, prop)| {
                let change = DeadProp {
                    namespace: prop.namespace.clone().unwrap_or_default(),
                    name: prop.name.clone(),
                    xml: prop.xml.clone().unwrap_or_default(),
                };
                (*set, change)
            })
            .collect();
        self.having.lock().await.remove(&owner);
        self.files
            .patch_dead_props(owner, node, changes)
            .await
            .map_err(|error| fs_error(&error))?;
        Ok(patch
            .into_iter()
            .map(|(_, prop)| (StatusCode::OK, without_value(prop)))
            .collect())
    }

    /// Every property of the node, with its value when `with_values`.
    pub async fn all(&self, owner: Uuid, node: Uuid, with_values: bool) -> FsResult<Vec<DavProp>> {
        let props = self
            .files
            .dead_props(owner, node)
            .await
            .map_err(|error| fs_error(&error))?;
        Ok(props
            .into_iter()
            .map(|prop| DavProp {
                name: prop.name,
                prefix: None,
                namespace: (!prop.namespace.is_empty()).then_some(prop.namespace),
                xml: with_values.then_some(prop.xml),
            })
            .collect())
    }

    /// The value of `wanted`, or not found.
    pub async fn one(&self, owner: Uuid, node: Uuid, wanted: &DavProp) -> FsResult<Vec<u8>> {
        let namespace = wanted.namespace.clone().unwrap_or_default();
        self.files
            .dead_props(owner, node)
            .await
            .map_err(|error| fs_error(&error))?
            .into_iter()
            .find(|prop| prop.name == wanted.name && prop.namespace == namespace)
            .map(|prop| prop.xml)
            .ok_or(FsError::NotFound)
    }
}

/// The property named in an answer, without its value.
fn without_value(prop: DavProp) -> DavProp {
    DavProp { xml: None, ..prop }
}
