//! Customers: registration, login and tokens, profile, account deletion.
//!
//! - [`domain`]: `Email`, `Password`, `DisplayName`, checked when built.
//! - [`ports`]: `CustomerRepo`, the store it needs.
//! - [`tokens`]: signs access tokens (Ed25519 JWTs) and makes refresh tokens.
//! - [`service`]: the use cases.
//! - [`revoked`]: accounts deleted while their access tokens may still be alive.
//! - [`consumers`]: the events it reacts to (none today).
//! - [`adapters`]: `sqlite` (the embedded default) and `mongo` (MongoDB).

pub mod adapters;
pub mod consumers;
pub mod domain;
pub mod ports;
pub mod revoked;
pub mod service;
pub mod tokens;
