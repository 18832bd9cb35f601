//! Remote arguments resolved against the server: `shared:NAME/...` becomes a share id found in
//! `GET /v1/shares/incoming`, and a link URL is opened (asking for its password when the
//! server says it needs one).

use anyhow::Context;
use common::api::sharing::{LinkMode, PublicLink, Share};
use common::api::EntryKind;
use uuid::Uuid;

use crate::client::{AtPath, Client, LinkAccess, Origin, Tree};
use crate::error::{NotFoundError, UsageError};
use crate::password::{read_password, Confirm};
use crate::remote_path::{self, RemoteSpec, Shown};

/// A path in a tree the caller can reach with a login: their own, or inside a share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Own, or the share.
    pub tree: Tree,
    /// The path in that tree, normalized.
    pub path: String,
    /// How paths of this tree are shown.
    pub shown: Shown,
}

impl Located {
    /// A path of the caller's own tree.
    pub fn own(path: String) -> Self {
        Self {
            tree: Tree::Own,
            path,
            shown: Shown::Own,
        }
    }

    /// This path as people should read it.
    pub fn label(&self) -> String {
        self.shown.path(&self.path)
    }
}

/// Resolves a remote path argument of a command that works on files with a login (`mkdir`,
/// `mv`, `rm`, `download`, `upload`'s folder). A link is a usage error there.
pub async fn locate(client: &Client, input: &str) -> anyhow::Result<Located> {
    match remote_path::parse(input)? {
        RemoteSpec::Own(path) => Ok(Located::own(path)),
        RemoteSpec::Shared { name, path } => {
            let share = find_share(client, &name).await?;
            Ok(Located {
                tree: Tree::Shared(share.id),
                path,
                shown: Shown::Shared(name),
            })
        }
        RemoteSpec::Link { .. } => Err(UsageError(format!(
            "{input}: a link can be listed (`fmsctl ls URL`), downloaded (`fmsctl download URL`) \
             or, for a file request, uploaded to (`fmsctl upload FILE URL`); nothing else"
        ))
        .into()),
    }
}

/// The incoming share called `name` (the shared item's name), or whose id is `name`.
pub async fn find_share(client: &Client, name: &str) -> anyhow::Result<Share> {
    if name.is_empty() {
        return Err(UsageError(format!(
            "name the share: {}NAME/PATH, NAME as `fmsctl ls --shared` shows it",
            remote_path::SHARED_PREFIX
        ))
        .into());
    }
    let incoming = client
        .incoming_shares()
        .await
        .context("failed to look up the items shared with you")?;
    pick_share(incoming.shares, name)
}

/// The one share among `shares` that `name` names: by id, else by the item's name.
fn pick_share(shares: Vec<Share>, name: &str) -> anyhow::Result<Share> {
    if let Ok(id) = name.parse::<Uuid>() {
        if let Some(share) = shares.iter().find(|share| share.id == id) {
            return Ok(share.clone());
        }
    }
    let mut matching: Vec<Share> = shares
        .into_iter()
        .filter(|share| share.name == name)
        .collect();
    match matching.len() {
        0 => Err(NotFoundError(format!(
            "{}{name}: nothing of that name is shared with you; see `fmsctl ls --shared`",
            remote_path::SHARED_PREFIX
        ))
        .into()),
        1 => Ok(matching.remove(0)),
        _ => {
            let ids: Vec<String> = matching
                .iter()
                .map(|share| format!("{} (from {})", share.id, share.owner.email))
                .collect();
            Err(UsageError(format!(
                "{prefix}{name} is ambiguous: {n} items of that name are shared with you; use \
                 {prefix}<ID> with one of the ids {ids}",
                prefix = remote_path::SHARED_PREFIX,
                n = matching.len(),
                ids = ids.join(", ")
            ))
            .into())
        }
    }
}

/// Opens the link at `url`: what it leads to, and the access (with the password, if it needs
/// one) for the calls that follow. With `password_stdin` the password is read from stdin
/// first; otherwise it is asked for on the terminal when the server answers 401.
pub async fn open_link(
    client: &Client,
    url: &str,
    password_stdin: bool,
) -> anyhow::Result<(LinkAccess, PublicLink)> {
    let mut access = LinkAccess::new(url);
    if password_stdin {
        access.password = Some(read_password(true, Confirm::Once)?);
    }
    match client.link_info(&access).await {
        Ok(info) => return Ok((access, info)),
        Err(error) if error.status() == Some(401) && access.password.is_none() => {}
        Err(error) if error.status() == Some(401) => {
            return Err(error).context("the link's password was not accepted")
        }
        Err(error) => return Err(error).at_path("the link"),
    }
    access.password =
        Some(read_password(false, Confirm::Once).context("the link asks for a password")?);
    match client.link_info(&access).await {
        Ok(info) => Ok((access, info)),
        Err(error) if error.status() == Some(401) => {
            Err(error).context("the link's password was not accepted")
        }
        Err(error) => Err(error).at_path("the link"),
    }
}

/// A path to read from: in a tree a login reaches, or inside a folder link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The tree, or the link (with its password).
    pub origin: Origin,
    /// The path there, normalized; inside a link `/` is the linked folder.
    pub path: String,
    /// How paths there are shown.
    pub shown: Shown,
}

impl Place {
    /// This path as people should read it.
    pub fn label(&self) -> String {
        self.shown.path(&self.path)
    }
}

impl Place {
    /// The `path` inside the folder link `access` opens.
    pub fn in_link(access: LinkAccess, path: &str) -> Self {
        Self {
            origin: Origin::Link(access),
            path: path.to_owned(),
            shown: Shown::Link,
        }
    }
}

impl From<Located> for Place {
    fn from(located: Located) -> Self {
        Self {
            origin: located.tree.into(),
            path: located.path,
            shown: located.shown,
        }
    }
}

/// Opens the link at `url` for the `path` inside it ([`Place::in_link`]), refusing a path
/// into anything but a folder one may download from: a link to a file holds no paths (usage error), and a file
/// request shows nothing (the server's 403, which `ls` reports as it always did).
pub async fn open_in_link(
    client: &Client,
    url: &str,
    path: &str,
    password_stdin: bool,
) -> anyhow::Result<(LinkAccess, PublicLink)> {
    let (access, info) = open_link(client, url, password_stdin).await?;
    if path != "/" && info.kind == EntryKind::File {
        return Err(UsageError(format!(
            "{url} is a link to the file {}, not to a folder: there is no {path} inside it \
             (`fmsctl download {url}` fetches the file)",
            info.name
        ))
        .into());
    }
    if path != "/" && info.mode == LinkMode::Upload {
        return Err(UsageError(format!(
            "{url} is a file request: it takes files (`fmsctl upload FILE {url}`) and shows none"
        ))
        .into());
    }
    Ok((access, info))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use common::api::sharing::{Person, ShareRole};
    use common::api::EntryKind;

    fn share(name: &str, owner: &str) -> Share {
        let person = |email: &str| Person {
            email: email.into(),
            name: "N".into(),
        };
        Share {
            id: Uuid::new_v4(),
            owner: person(owner),
            recipient: person("me@example.com"),
            name: name.into(),
            kind: EntryKind::Folder,
            size: 0,
            path: None,
            role: ShareRole::Viewer,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn shares_are_found_by_name_or_id() {
        let docs = share("docs", "a@example.com");
        let other = share("docs", "b@example.com");
        let photos = share("photos", "a@example.com");
        let all = vec![docs.clone(), other.clone(), photos.clone()];
        assert_eq!(pick_share(all.clone(), "photos").unwrap(), photos);
        assert_eq!(
            pick_share(all.clone(), &other.id.to_string()).unwrap(),
            other
        );

        let ambiguous = pick_share(all.clone(), "docs").unwrap_err();
        assert!(ambiguous.downcast_ref::<UsageError>().is_some());
        let message = ambiguous.to_string();
        assert!(message.contains(&docs.id.to_string()) && message.contains(&other.id.to_string()));

        let missing = pick_share(all, "nope").unwrap_err();
        assert!(missing.downcast_ref::<NotFoundError>().is_some());
    }
}
