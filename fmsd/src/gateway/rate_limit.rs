//! Limits login attempts per client IP and per account, so neither a single client nor a
//! distributed guesser can try passwords quickly. An exceeded limit is a 429 with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;

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
}
