//! The events that tell an owner about their storage and links: a quota threshold crossed by
//! an upload, a link about to expire. Notifications turns them into mail.

use chrono::Duration;
use common::events::{LinkExpiring, Outgoing, QuotaThresholdReached};

use super::FileService;
use crate::error::Result;
use crate::files::domain::Upload;

/// The shares of the quota that are worth a mail, highest first.
const THRESHOLDS: [u8; 2] = [100, 80];
/// How long before a link expires its owner is told.
const EXPIRY_NOTICE: Duration = Duration::hours(24);
/// Links warned about per step.
const WARN_BATCH: u32 = 100;

impl FileService {
    /// The event for the highest threshold that completing `upload` (of `size` bytes, replacing
    /// a file of `replaced` bytes) takes its owner across, if any. Counted from the bytes stored
    /// before, less the replaced file.
    pub(super) async fn quota_events(
        &self,
        upload: &Upload,
        size: u64,
        replaced: u64,
    ) -> Result<Vec<Outgoing>> {
        let quota = self.settings.quota_bytes;
        if quota == 0 {
            return Ok(Vec::new());
        }
        let before = self
            .repo
            .usage(upload.owner, self.now())
            .await?
            .stored_bytes();
        let after = before.saturating_sub(replaced).saturating_add(size);
        self.quota_events_between(upload.owner, before, after).await
    }

    /// The event for the highest threshold that `owner`'s stored bytes cross going from
    /// `before` to `after`, if any: how a batch of uploads counts each file after those
    /// before it, so one mail goes for the threshold the batch crosses.
    pub(super) async fn quota_events_between(
        &self,
        owner: uuid::Uuid,
        before: u64,
        after: u64,
    ) -> Result<Vec<Outgoing>> {
        let quota = self.settings.quota_bytes;
        if quota == 0 {
            return Ok(Vec::new());
        }
        let reached = |used: u64, percent: u8| {
            u128::from(used) * 100 >= u128::from(quota) * u128::from(percent)
        };
        let Some(percent) = THRESHOLDS
            .into_iter()
            .find(|&percent| reached(after, percent) && !reached(before, percent))
        else {
            return Ok(Vec::new());
        };
        let Some(owner) = self.person_soon(owner).await? else {
            tracing::warn!("no directory entry for the owner; the quota mail is skipped");
            return Ok(Vec::new());
        };
        Ok(vec![Outgoing::new(&QuotaThresholdReached {
            owner_id: owner.id,
            owner_email: owner.email,
            owner_name: owner.name,
            percent,
            used_bytes: after,
            quota_bytes: quota,
        })])
    }

    /// Tells the owners of links that expire within a day, once per link.
    pub(super) async fn warn_expiring_links(&self) -> Result<()> {
        let now = self.now();
        loop {
            let links = self
                .sharing
                .links_expiring(now, now + EXPIRY_NOTICE, WARN_BATCH)
                .await?;
            let n = links.len();
            for link in links {
                let node = self.repo.get_by_id(link.owner, link.node_id).await?;
                let owner = self.sharing.person(link.owner).await?;
                // A link whose item or owner is gone leads nowhere: marked, nobody told.
                let events = match (node, owner) {
                    (Some(node), Some(owner)) => vec![Outgoing::new(&LinkExpiring {
                        link_id: link.id,
                        owner_id: owner.id,
                        owner_email: owner.email,
                        owner_name: owner.name,
                        item_name: node.path.name().to_owned(),
                        item_path: Some(node.path.to_string()),
                        expires_at: link.expires_at,
                    })],
                    _ => Vec::new(),
                };
                self.sharing.mark_link_warned(link.id, events).await?;
            }
            if n < WARN_BATCH as usize {
                return Ok(());
            }
        }
    }
}
