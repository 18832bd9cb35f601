//! In-memory fakes of the notifications ports, for unit tests only: a repo that keeps
//! everything in maps, and a mailer that records what it sends or fails when told to.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::domain::{About, Digest, Mail, QueuedMail};
use super::ports::{Mailer, NotificationRepo};
use crate::error::{Error, Result};

/// What the fake repo holds; tests look into it.
#[derive(Debug, Default)]
pub struct State {
    pub handled: HashSet<String>,
    pub preferences: HashMap<Uuid, bool>,
    pub last_sent: HashMap<Uuid, DateTime<Utc>>,
    /// Queue order is the key.
    pub queue: BTreeMap<u64, QueuedMail>,
    pub next_seq: u64,
}

/// A repo in memory.
#[derive(Debug, Default)]
pub struct FakeRepo(Mutex<State>);

impl FakeRepo {
    /// Its contents.
    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }
}

#[async_trait]
impl NotificationRepo for FakeRepo {
    async fn already_handled(&self, event_id: &str) -> Result<bool> {
        Ok(self.state().handled.contains(event_id))
    }
    async fn remember_handled(&self, event_id: &str) -> Result<()> {
        self.state().handled.insert(event_id.to_owned());
        Ok(())
    }
    async fn activity_mail(&self, customer_id: Uuid) -> Result<Option<bool>> {
        Ok(self.state().preferences.get(&customer_id).copied())
    }
    async fn set_activity_mail(&self, customer_id: Uuid, wanted: bool) -> Result<()> {
        self.state().preferences.insert(customer_id, wanted);
        Ok(())
    }
    async fn forget_customer(&self, customer_id: Uuid) -> Result<()> {
        let mut state = self.state();
        state.preferences.remove(&customer_id);
        state.last_sent.remove(&customer_id);
        state
            .queue
            .retain(|_, item| item.recipient.customer_id != customer_id);
        Ok(())
    }
    async fn last_activity_mail_at(&self, customer_id: Uuid) -> Result<Option<DateTime<Utc>>> {
        Ok(self.state().last_sent.get(&customer_id).copied())
    }
    async fn record_activity_mail(
        &self,
        event_id: &str,
        customer_id: Uuid,
        sent_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut state = self.state();
        state.handled.insert(event_id.to_owned());
        state.last_sent.insert(customer_id, sent_at);
        Ok(())
    }
    async fn queue_activity_mail(&self, mail: &QueuedMail) -> Result<()> {
        let mut state = self.state();
        state.handled.insert(mail.event_id.clone());
        if state
            .queue
            .values()
            .all(|item| item.event_id != mail.event_id)
        {
            state.next_seq += 1;
            let seq = state.next_seq;
            state.queue.insert(seq, mail.clone());
        }
        Ok(())
    }
    async fn queued_activity_mail(&self, customer_id: Uuid) -> Result<Vec<QueuedMail>> {
        Ok(self
            .state()
            .queue
            .values()
            .filter(|item| item.recipient.customer_id == customer_id)
            .cloned()
            .collect())
    }
    async fn due_digests(&self, sent_before: DateTime<Utc>) -> Result<Vec<Digest>> {
        let state = self.state();
        let mut digests: Vec<Digest> = Vec::new();
        for item in state.queue.values() {
            let customer_id = item.recipient.customer_id;
            if state
                .last_sent
                .get(&customer_id)
                .is_some_and(|last| *last > sent_before)
            {
                continue;
            }
            match digests.iter_mut().find(|d| d.customer_id == customer_id) {
                Some(digest) => digest.items.push(item.clone()),
                None => digests.push(Digest {
                    customer_id,
                    items: vec![item.clone()],
                }),
            }
        }
        Ok(digests)
    }
    async fn drop_queued_about(&self, about: About) -> Result<u64> {
        let mut state = self.state();
        let before = state.queue.len();
        state.queue.retain(|_, item| item.about != Some(about));
        Ok((before - state.queue.len()) as u64)
    }
    async fn dequeue_activity_mail(
        &self,
        customer_id: Uuid,
        event_ids: &[String],
        sent_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let mut state = self.state();
        state.queue.retain(|_, item| {
            item.recipient.customer_id != customer_id || !event_ids.contains(&item.event_id)
        });
        if let Some(sent_at) = sent_at {
            state.last_sent.insert(customer_id, sent_at);
        }
        Ok(())
    }
}

/// Records what it sends; refuses or fails when told to.
#[derive(Debug, Default)]
pub struct FakeMailer {
    /// What it sent.
    sent: Mutex<Vec<Mail>>,
    /// `Some(true)`: refuse for good (`Invalid`); `Some(false)`: out of reach.
    failing: Mutex<Option<bool>>,
}

impl FakeMailer {
    /// What it sent, in order.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().unwrap().clone()
    }
    /// Fails from now on (`Some(true)`: refuses for good; `Some(false)`: out of reach) or
    /// works again (`None`).
    pub fn fail(&self, how: Option<bool>) {
        *self.failing.lock().unwrap() = how;
    }
}

#[async_trait]
impl Mailer for FakeMailer {
    async fn send(&self, mail: &Mail) -> Result<()> {
        match *self.failing.lock().unwrap() {
            Some(true) => Err(Error::Invalid("refused".into())),
            Some(false) => Err(Error::unavailable(anyhow::anyhow!("down"))),
            None => {
                self.sent.lock().unwrap().push(mail.clone());
                Ok(())
            }
        }
    }
}
