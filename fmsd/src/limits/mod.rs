//! Password-guessing limits, shared by every instance of a stack: logins per client IP and per
//! account, current-password checks per account, wrong link passwords per link and per client
//! IP. An exceeded limit is a 429 with `Retry-After`.
//!
//! - [`guesses`]: [`GuessLimiter`], which limits each kind of attempt counts against; the
//!   gateway and the customers service call it.
//! - [`ports`]: [`RateLimitStore`], where the counts are kept, and the keys ([`LimitKey`]),
//!   which never hold a secret in clear.
//! - [`gcra`]: the arithmetic, one integer per key, run the same way by every store.
//! - [`adapters`]: process memory (one instance on its own) and a SQL table (every instance
//!   pointing at one database counts together).
//!
//! Which store: `stores.limits` when set (`memory://`, `sqlite://`, `postgres://`); when not,
//! the files database if `stores.files` is PostgreSQL (a real stack, where several instances
//! may run, so the limits cannot be left per instance by forgetting a setting), else process
//! memory (the embedded default: one instance, no server). See `app/wiring.rs`.
//!
//! **Invariant:** `limits` knows no service, no port but its own, and no HTTP; an unreachable
//! store refuses the attempt (`Unavailable`) rather than letting it through.

pub mod adapters;
pub mod gcra;
pub mod guesses;
pub mod ports;

pub use guesses::{Guess, GuessLimiter, GuessRates};
pub use ports::{LimitKey, RateLimitStore};
