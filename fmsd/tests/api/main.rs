//! fmsd's HTTP tests: each test starts the real app on a free port with its own data dir and
//! talks to it over HTTP, as a client would.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod access_tokens;
mod account_deletion;
mod activity_mail;
mod activity_withdrawn;
mod app_tokens;
mod authorization;
mod bad_file_requests;
mod browser;
mod copies;
mod customers;
mod daemon;
mod dav;
mod downloads;
mod events;
mod file_modes;
mod file_requests;
mod fixtures;
mod full_disk;
mod gateway;
mod headers;
mod held_uploads;
mod helpers;
mod idle_connections;
mod limits;
mod link_pages;
mod link_transfers;
mod links;
mod logs;
mod mail_parts;
mod methods;
mod metrics;
mod moves_and_deletes;
mod names;
mod openapi;
mod process;
mod proxy;
mod recovery;
mod share_boundaries;
mod shared_access;
mod shares;
mod sharing_support;
mod stack_config;
mod trash;
mod tree;
mod upload_batches;
mod upload_lifecycle;
mod uploads;
