//! WebDAV locks (class 2) kept by the files service in its database, so every instance of a
//! stack sees and honours the same locks. A lock is on a path of the owner's tree: a share's
//! recipient and the owner see one another's locks. A lock asked for without a timeout, or
//! longer than [`MAX_TIMEOUT`], gets [`MAX_TIMEOUT`]: a client that vanished never holds a
//! path for ever.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use dav_server::davpath::DavPath;
use dav_server::ls::{DavLock, DavLockSystem, LsFuture};
use futures::FutureExt;
use uuid::Uuid;
use xmltree::Element;

use super::tree::{DavTree, Located};
use crate::files::domain::{DavLockRecord, RemotePath};
use crate::files::service::FileService;

/// The longest a lock lasts without a refresh.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The locks as one request's caller sees them.
#[derive(Clone)]
pub struct DbLocks {
    /// Where they are kept.
    files: Arc<FileService>,
    /// The caller's view, to place paths in their owners' trees.
    tree: DavTree,
    /// The locks of each owner met in this request, read once (a `PROPFIND` asks for each
    /// entry's); forgotten after anything that changes locks.
    seen: Arc<tokio::sync::Mutex<HashMap<Uuid, Vec<DavLockRecord>>>>,
}

impl std::fmt::Debug for DbLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbLocks").finish_non_exhaustive()
    }
}

impl DbLocks {
    /// The locks kept by `files`, seen through `tree`.
    pub fn new(files: Arc<FileService>, tree: DavTree) -> Self {
        Self {
            files,
            tree,
            seen: Arc::default(),
        }
    }

    /// The locks in force in the owner's tree of `at`.
    async fn held(&self, at: &Located) -> Vec<DavLockRecord> {
        let mut seen = self.seen.lock().await;
        if let Some(locks) = seen.get(&at.owner) {
            return locks.clone();
        }
        match self.files.dav_locks(at.owner).await {
            Ok(locks) => {
                seen.insert(at.owner, locks.clone());
                locks
            }
            Err(error) => {
                tracing::warn!(error = %error.report(), "failed to read the WebDAV locks");
                Vec::new()
            }
        }
    }

    /// Forgets the locks read so far, after a change.
    async fn changed(&self) {
        self.seen.lock().await.clear();
    }

    /// `record` as `dav-server` shows it, its path as the caller reaches it.
    fn to_dav(record: &DavLockRecord, at: &Located) -> DavLock {
        let relative = record
            .path
            .relative_to(&at.base)
            .unwrap_or_else(RemotePath::root);
        DavLock {
            token: record.token.clone(),
            path: Box::new(dav_path(&at.view, &relative)),
            principal: record.principal.clone(),
            owner: record
                .owner_xml
                .as_deref()
                .and_then(|xml| Element::parse(xml.as_bytes()).ok())
                .map(Box::new),
            timeout_at: record.expires_at.map(SystemTime::from),
            timeout: record.timeout_secs.map(Duration::from_secs),
            shared: record.shared,
            deep: record.deep,
        }
    }
}

/// The `DavPath` of `relative` under the view `view` (and `/dav`).
fn dav_path(view: &str, relative: &RemotePath) -> DavPath {
    let mut url = url::Url::parse("http://fmsd/").expect("a constant URL");
    let inner = if relative.is_root() {
        ""
    } else {
        relative.as_str()
    };
    url.set_path(&format!("{}{view}{inner}", super::PREFIX));
    let mut path = DavPath::new(url.path()).unwrap_or_else(|_| DavPath::new("/").expect("/"));
    let _ = path.set_prefix(super::PREFIX);
    path
}

/// The lock of `record` as the caller sees it, or a placeholder for one they cannot place.
fn answer(record: Option<&DavLockRecord>, at: &Located) -> DavLock {
    match record {
        Some(record) => DbLocks::to_dav(record, at),
        None => DavLock {
            token: String::new(),
            path: Box::new(dav_path(&at.view, &RemotePath::root())),
            principal: None,
            owner: None,
            timeout_at: None,
            timeout: None,
            shared: false,
            deep: false,
        },
    }
}

impl DavLockSystem for DbLocks {
    fn lock(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        owner: Option<&Element>,
        timeout: Option<Duration>,
        shared: bool,
        deep: bool,
    ) -> LsFuture<'_, Result<DavLock, DavLock>> {
        let path = path.clone();
        let principal = principal.map(str::to_owned);
        let owner_xml = owner.and_then(owner_to_xml);
        async move {
            let at = self
                .tree
                .locate(&path)
                .await
                .map_err(|_| answer(None, &fallback()))?;
            let timeout = timeout.unwrap_or(MAX_TIMEOUT).min(MAX_TIMEOUT).as_secs();
            let record = DavLockRecord {
                token: Uuid::new_v4().urn().to_string(),
                owner: at.owner,
                path: at.path.clone(),
                principal,
                owner_xml,
                expires_at: self.files.lock_end(Some(timeout)),
                timeout_secs: Some(timeout),
                shared,
                deep,
            };
            self.changed().await;
            match self.files.add_dav_lock(record.clone()).await {
                Ok(None) => Ok(Self::to_dav(&record, &at)),
                Ok(Some(conflict)) => Err(Self::to_dav(&conflict, &at)),
                Err(error) => {
                    tracing::warn!(error = %error.report(), "failed to take a WebDAV lock");
                    Err(answer(None, &at))
                }
            }
        }
        .boxed()
    }

    fn unlock(&self, path: &DavPath, token: &str) -> LsFuture<'_, Result<(), ()>> {
        let (path, token) = (path.clone(), token.to_owned());
        async move {
            let at = self.tree.locate(&path).await.map_err(drop)?;
            let held = self.held(&at).await;
            let covering = held
                .iter()
                .any(|lock| lock.token == token && lock.covers(&at.path));
            if !covering {
                return Err(());
            }
            self.changed().await;
            match self.files.remove_dav_lock(at.owner, &token).await {
                Ok(true) => Ok(()),
                _ => Err(()),
            }
        }
        .boxed()
    }

    fn refresh(
        &self,
        path: &DavPath,
        token: &str,
        timeout: Option<Duration>,
    ) -> LsFuture<'_, Result<DavLock, ()>> {
        let (path, token) = (path.clone(), token.to_owned());
        async move {
            let at = self.tree.locate(&path).await.map_err(drop)?;
            let timeout = timeout.unwrap_or(MAX_TIMEOUT).min(MAX_TIMEOUT).as_secs();
            self.changed().await;
            match self
                .files
                .refresh_dav_lock(at.owner, &token, Some(timeout))
                .await
            {
                Ok(Some(record)) if record.covers(&at.path) => Ok(Self::to_dav(&record, &at)),
                _ => Err(()),
            }
        }
        .boxed()
    }

    fn check(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        ignore_principal: bool,
        deep: bool,
        submitted_tokens: &[String],
    ) -> LsFuture<'_, Result<(), DavLock>> {
        let path = path.clone();
        let principal = principal.map(str::to_owned);
        let submitted = submitted_tokens.to_vec();
        async move {
            let Ok(at) = self.tree.locate(&path).await else {
                return Ok(());
            };
            let held = self.held(&at).await;
            let mut holds = false;
            let mut first_shared = None;
            let relevant = held
                .iter()
                .filter(|lock| lock.covers(&at.path) || (deep && lock.path.starts_with(&at.path)));
            for lock in relevant {
                let presented = submitted.contains(&lock.token)
                    && (ignore_principal || principal == lock.principal);
                if presented {
                    holds = true;
                } else if !lock.shared {
                    return Err(Self::to_dav(lock, &at));
                } else {
                    first_shared.get_or_insert(lock);
                }
            }
            match first_shared.filter(|_| !holds) {
                Some(lock) => Err(Self::to_dav(lock, &at)),
                None => Ok(()),
            }
        }
        .boxed()
    }

    fn discover(&self, path: &DavPath) -> LsFuture<'_, Vec<DavLock>> {
        let path = path.clone();
        async move {
            let Ok(at) = self.tree.locate(&path).await else {
                return Vec::new();
            };
            self.held(&at)
                .await
                .iter()
                .filter(|lock| lock.covers(&at.path))
                .map(|lock| Self::to_dav(lock, &at))
                .collect()
        }
        .boxed()
    }

    fn delete(&self, path: &DavPath) -> LsFuture<'_, Result<(), ()>> {
        let path = path.clone();
        async move {
            let at = self.tree.locate(&path).await.map_err(drop)?;
            self.changed().await;
            self.files
                .remove_dav_locks_under(at.owner, at.path.as_str())
                .await
                .map_err(drop)
        }
        .boxed()
    }
}

/// The client's `<owner>` element as text. `dav-server` hands it over with the `D` prefix but
/// without the declaration of that prefix, which writing it needs.
fn owner_to_xml(element: &Element) -> Option<String> {
    let mut element = element.clone();
    let mut namespaces = element
        .namespaces
        .clone()
        .unwrap_or_else(xmltree::Namespace::empty);
    namespaces.put("D", "DAV:");
    element.namespaces = Some(namespaces);
    let mut xml = Vec::new();
    let config = xmltree::EmitterConfig::new().write_document_declaration(false);
    element.write_with_config(&mut xml, config).ok()?;
    String::from_utf8(xml).ok()
}

/// Where a lock that could not be placed is said to be.
fn fallback() -> Located {
    Located {
        owner: Uuid::nil(),
        path: RemotePath::root(),
        view: String::new(),
        base: RemotePath::root(),
    }
}
