//! Limits password guessing: login attempts per client IP and per account, and wrong link
//! passwords per link and per client IP, so neither a single client nor a distributed guesser
//! can try passwords quickly. An exceeded limit is a 429 with `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::Error;

/// The two login limiters.
pub struct LoginLimiter {
    /// Attempts per client IP.
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Attempts per (normalised) e-mail address.
    per_account: DefaultKeyedRateLimiter<String>,
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter").finish_non_exhaustive()
    }
}

impl LoginLimiter {
    /// Allows `per_ip` and `per_account` attempts a minute (at least one each).
    pub fn new(per_ip: u32, per_account: u32) -> Self {
        let quota =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            per_ip: RateLimiter::keyed(quota(per_ip)),
            per_account: RateLimiter::keyed(quota(per_account)),
        }
    }

    /// Counts one attempt from `ip` for `email`; `RateLimited` when either limit is exceeded.
    pub fn check(&self, ip: IpAddr, email: &str) -> Result<(), Error> {
        let now = DefaultClock::default().now();
        self.per_ip
            .check_key(&ip)
            .and_then(|()| self.per_account.check_key(&email.trim().to_lowercase()))
            .map_err(|not_until| Error::RateLimited {
                retry_after: not_until.wait_time_from(now),
            })
    }
}

/// Wrong link passwords per link and per client IP. Only wrong guesses count, so a busy link
/// with a password keeps working for everyone who knows it; once a limit is exceeded, every
/// attempt on that link or from that IP waits out the limit before its password is even
/// checked (the slow argon2 check is not spent on a guesser).
pub struct LinkPasswordLimiter {
    /// Wrong guesses per link (keyed by the token's hash).
    per_link: DefaultKeyedRateLimiter<String>,
    /// Wrong guesses per client IP.
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Links and IPs over their limit, until when.
    blocked: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for LinkPasswordLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkPasswordLimiter")
            .finish_non_exhaustive()
    }
}

/// Blocked entries kept before expired ones are dropped.
const MAX_BLOCKED: usize = 10_000;

impl LinkPasswordLimiter {
    /// Allows `per_minute` wrong guesses a minute per link and per IP (at least one).
    pub fn new(per_minute: u32) -> Self {
        let quota =
            Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            per_link: RateLimiter::keyed(quota),
            per_ip: RateLimiter::keyed(quota),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// `RateLimited` while the link or the IP is over its limit.
    pub fn check(&self, link: &str, ip: IpAddr) -> Result<(), Error> {
        let now = Instant::now();
        let blocked = self
            .blocked
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let until = [format!("link:{link}"), format!("ip:{ip}")]
            .iter()
            .filter_map(|key| blocked.get(key))
            .filter(|until| **until > now)
            .max()
            .copied();
        match until {
            Some(until) => Err(Error::RateLimited {
                retry_after: until - now,
            }),
            None => Ok(()),
        }
    }

    /// Counts a wrong guess; `RateLimited` (and blocked for the wait) when it was one too many.
    pub fn failed(&self, link: &str, ip: IpAddr) -> Result<(), Error> {
        let clock = DefaultClock::default();
        let now = clock.now();
        let over = self
            .per_link
            .check_key(&link.to_owned())
            .and_then(|()| self.per_ip.check_key(&ip));
        let Err(not_until) = over else {
            return Ok(());
        };
        let wait = not_until.wait_time_from(now).max(Duration::from_secs(1));
        let until = Instant::now() + wait;
        let mut blocked = self
            .blocked
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if blocked.len() >= MAX_BLOCKED {
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
        }
        blocked.insert(format!("link:{link}"), until);
        blocked.insert(format!("ip:{ip}"), until);
        Err(Error::RateLimited { retry_after: wait })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_limit_applies_across_ips_and_the_ip_limit_across_accounts() {
        let limiter = LoginLimiter::new(2, 2);
        let (a, b) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        assert!(limiter.check(a, "x@example.com").is_ok());
        assert!(limiter.check(b, "X@example.com ").is_ok());
        assert!(matches!(
            limiter.check(b, "x@example.com"),
            Err(Error::RateLimited { .. })
        ));
        assert!(limiter.check(a, "y@example.com").is_ok());
        assert!(matches!(
            limiter.check(a, "z@example.com"),
            Err(Error::RateLimited { .. })
        ));
    }

    #[test]
    fn wrong_link_passwords_block_the_link_after_the_limit() {
        let limiter = LinkPasswordLimiter::new(2);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(limiter.check("l", ip).is_ok());
        assert!(limiter.failed("l", ip).is_ok());
        assert!(limiter.failed("l", ip).is_ok());
        assert!(matches!(
            limiter.failed("l", ip),
            Err(Error::RateLimited { .. })
        ));
        assert!(matches!(
            limiter.check("l", "127.0.0.2".parse().unwrap()),
            Err(Error::RateLimited { .. })
        ));
        assert!(limiter.check("other", "127.0.0.3".parse().unwrap()).is_ok());
    }
}
