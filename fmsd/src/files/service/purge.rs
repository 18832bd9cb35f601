//! What happens to a deleted customer's files: everything they stored goes, in one transaction
//! that also records the event as handled, so a redelivered event has no second effect.

use common::events::{Outgoing, OwnerPurged};
use uuid::Uuid;

use super::FileService;
use crate::error::Result;
use crate::files::domain::Removal;

impl FileService {
    /// Removes every file, folder, upload session and blob of `owner` and refuses the owner from
    /// now on; `consumer` and `event_id` make it idempotent. Returns what was removed, or
    /// `None` if this event was handled before.
    #[tracing::instrument(skip(self))]
    pub async fn purge_owner(
        &self,
        owner: Uuid,
        consumer: &str,
        event_id: &str,
    ) -> Result<Option<Removal>> {
        let events = || {
            Box::new(move |removal: &Removal| {
                vec![Outgoing::new(&OwnerPurged {
                    owner_id: owner,
                    n_files: removal.n_files,
                    bytes_freed: removal.bytes_freed,
                })]
            }) as _
        };
        let now = self.now();
        let removal = self
            .space
            .freeing(|| {
                self.repo
                    .purge_owner(owner, consumer, event_id, now, events())
            })
            .await?;
        if let Some(removal) = &removal {
            self.dispose(&removal.garbage).await;
            tracing::info!(
                n_files = removal.n_files,
                bytes_freed = removal.bytes_freed,
                "purged a deleted owner"
            );
        }
        Ok(removal)
    }
}
