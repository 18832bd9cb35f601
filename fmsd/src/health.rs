//! What `/readyz` asks: every store and the bus implement [`Probe`].

use async_trait::async_trait;

use crate::error::Result;

/// Something that can say whether it is reachable.
#[async_trait]
pub trait Probe: Send + Sync {
    /// `Ok` when it answers.
    async fn probe(&self) -> Result<()>;
}
