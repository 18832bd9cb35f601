//! [`GuessLimiter`]: which limits each kind of password attempt counts against, over whichever
//! [`RateLimitStore`] the app wired in, so its callers never know which one it is.
//!
//! - A login counts against its client IP and its account.
//! - A check of the current password (change password, delete the account) counts against the
//!   account too: the same budget as logins, so a stolen access token adds no guesses.
//! - A link password counts against the link and the client IP, but only when it is wrong: the
//!   attempt is reserved before the slow check and given back when the password was right, so
//!   any number of guesses sent at once still get at most the limit checked, while a link
//!   everyone knows the password of keeps working.
//!
//! - A mail with a code (password reset, address verification) counts against each address it
//!   goes to and, when a client asked for it without logging in, that client's IP: no one can
//!   flood an inbox, nor probe many addresses quickly.
//!
//! An exceeded limit is [`Error::RateLimited`] (429 with `Retry-After`). A store that cannot be
//! reached is [`Error::Unavailable`] (503): the limiter fails closed, so an outage of its
//! database never turns into unlimited guessing.

use std::net::IpAddr;
use std::sync::Arc;

use super::gcra::{Micros, Rate};
use super::ports::{Limit, LimitKey, RateLimitStore, Verdict};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::settings::{AuthSettings, FilesSettings};

/// The rates, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct GuessRates {
    /// Logins per client IP (`auth.login_attempts_per_minute_per_ip`).
    pub login_per_client: Rate,
    /// Password attempts per account, logins and checks together
    /// (`auth.login_attempts_per_minute_per_account`).
    pub per_account: Rate,
    /// Wrong link passwords per link and per client IP
    /// (`files.link_password_attempts_per_minute`).
    pub link: Rate,
    /// Mails with a code per address (`auth.mail_codes_per_hour_per_address`).
    pub mail_per_address: Rate,
    /// Mails with a code asked for per client IP (`auth.mail_codes_per_hour_per_ip`).
    pub mail_per_client: Rate,
}

impl GuessRates {
    /// The rates `auth` and `files` set.
    pub fn from_settings(auth: &AuthSettings, files: &FilesSettings) -> Self {
        Self {
            login_per_client: Rate::per_minute(auth.login_attempts_per_minute_per_ip),
            per_account: Rate::per_minute(auth.login_attempts_per_minute_per_account),
            link: Rate::per_minute(files.link_password_attempts_per_minute),
            mail_per_address: Rate::per_hour(auth.mail_codes_per_hour_per_address),
            mail_per_client: Rate::per_hour(auth.mail_codes_per_hour_per_ip),
        }
    }
}

/// Limits password guessing: logins, current-password checks and link passwords.
#[derive(Debug)]
pub struct GuessLimiter {
    /// Where the counts are kept: process memory, or a database every instance shares.
    store: Arc<dyn RateLimitStore>,
    /// The process clock (a manual one in tests); each instance counts with its own, so their
    /// clocks should agree to well under an interval (NTP does).
    clock: Arc<dyn Clock>,
    /// How many of each.
    rates: GuessRates,
}

impl GuessLimiter {
    /// A limiter over `store`.
    pub fn new(store: Arc<dyn RateLimitStore>, clock: Arc<dyn Clock>, rates: GuessRates) -> Self {
        Self {
            store,
            clock,
            rates,
        }
    }

    /// Counts a login from `client` for `email`; `RateLimited` when either limit is used up
    /// (and then neither is charged).
    pub async fn login(&self, client: IpAddr, email: &str) -> Result<()> {
        let acquired = self
            .acquire(vec![
                Limit {
                    key: LimitKey::login_client(client),
                    rate: self.rates.login_per_client,
                },
                self.account(email),
            ])
            .await;
        if matches!(acquired, Err(Error::RateLimited { .. })) {
            crate::metrics::login_rate_limited();
        }
        acquired
    }

    /// Counts a check of the current password of the account of `email`.
    pub async fn password_check(&self, email: &str) -> Result<()> {
        self.acquire(vec![self.account(email)]).await
    }

    /// Reserves a guess of the password of the link whose token hashes to `token_hash`, from
    /// `client`. Say how it went with [`Guess::wrong`] or [`Guess::right`].
    pub async fn link_password(&self, token_hash: &str, client: IpAddr) -> Result<Guess<'_>> {
        let limits = vec![
            Limit {
                key: LimitKey::link(token_hash),
                rate: self.rates.link,
            },
            Limit {
                key: LimitKey::link_client(client),
                rate: self.rates.link,
            },
        ];
        self.acquire(limits.clone()).await?;
        Ok(Guess {
            limiter: self,
            limits,
        })
    }

    /// Reserves a guess of an app token presented as a password (HTTP Basic on WebDAV) from
    /// `client`, counted against the client's login limit. Say how it went with
    /// [`Guess::wrong`] or [`Guess::right`].
    pub async fn token_guess(&self, client: IpAddr) -> Result<Guess<'_>> {
        let limits = vec![Limit {
            key: LimitKey::login_client(client),
            rate: self.rates.login_per_client,
        }];
        self.acquire(limits.clone()).await?;
        Ok(Guess {
            limiter: self,
            limits,
        })
    }

    /// Counts a mail with a code to each of `addresses`, asked for from `client` when the
    /// asker did not log in.
    pub async fn mail_code(&self, client: Option<IpAddr>, addresses: &[&str]) -> Result<()> {
        let mut limits: Vec<Limit> = addresses
            .iter()
            .map(|address| Limit {
                key: LimitKey::mail_to(address),
                rate: self.rates.mail_per_address,
            })
            .collect();
        limits.extend(client.map(|client| Limit {
            key: LimitKey::mail_client(client),
            rate: self.rates.mail_per_client,
        }));
        limits.sort_by(|a, b| a.key.cmp(&b.key));
        limits.dedup_by(|a, b| a.key == b.key);
        self.acquire(limits).await
    }

    fn account(&self, email: &str) -> Limit {
        Limit {
            key: LimitKey::account(email),
            rate: self.rates.per_account,
        }
    }

    async fn acquire(&self, limits: Vec<Limit>) -> Result<()> {
        match self.store.acquire(limits, self.now()).await? {
            Verdict::Admitted => Ok(()),
            Verdict::Refused { retry_after } => Err(Error::RateLimited { retry_after }),
        }
    }

    fn now(&self) -> Micros {
        self.clock.now().timestamp_micros()
    }
}

/// A guess (a link password, an app token as a password) that was let in; it counts as wrong unless [`Guess::right`] gives
/// it back.
#[must_use = "say whether the guess was right, or it counts as wrong"]
#[derive(Debug)]
pub struct Guess<'a> {
    /// Where to give it back.
    limiter: &'a GuessLimiter,
    /// What it was counted against.
    limits: Vec<Limit>,
}

impl Guess<'_> {
    /// The password was wrong: the guess stays counted.
    pub fn wrong(self) {}

    /// The password was right (or the link answered without checking it): the guess is given
    /// back. A store that fails now leaves it counted, which errs on the safe side; the answer
    /// the caller already has is not spoiled for it.
    pub async fn right(self) {
        if let Err(error) = self.limiter.store.give_back(self.limits).await {
            tracing::warn!(error = %error.report(), "failed to give back a right link password");
        }
    }
}
