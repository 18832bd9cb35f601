//! A limits store that cannot be reached fails closed: the SQL store reaches the real
//! PostgreSQL through a TCP relay of the test's own, the relay is cut, and every attempt is
//! then refused as `Unavailable` (the gateway's 503), never let through.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use fmsd::clock::SystemClock;
use fmsd::error::Error;
use fmsd::limits::adapters::sql::SqlRateLimitStore;
use fmsd::limits::gcra::Rate;
use fmsd::limits::ports::{RateLimitStore, Verdict};
use fmsd::limits::{GuessLimiter, GuessRates};
use fmsd::store_url::StoreUrl;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::{limit, NOW};
use crate::support::TestDatabase;

/// Forwards TCP connections to a server until cut; cut, it closes every connection and
/// refuses new ones, as a server that went away does.
struct Relay {
    /// Where it listens.
    address: SocketAddr,
    /// Cancelled to cut.
    cut: CancellationToken,
}

impl Relay {
    /// A relay to `target`.
    async fn to(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let cut = CancellationToken::new();
        let stop = cut.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = stop.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut client, _)) = accepted else {
                    continue;
                };
                let stop = stop.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        () = stop.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    }
                });
            }
        });
        Self { address, cut }
    }

    /// `url` with its host and port replaced by the relay's.
    fn in_front_of(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).unwrap();
        url.set_host(Some(&self.address.ip().to_string())).unwrap();
        url.set_port(Some(self.address.port())).unwrap();
        url.to_string()
    }
}

/// The address the PostgreSQL URL `url` names.
async fn server_of(url: &str) -> SocketAddr {
    let url = url::Url::parse(url).unwrap();
    let host = url.host_str().unwrap().to_owned();
    let port = url.port().unwrap_or(5432);
    tokio::net::lookup_host((host, port))
        .await
        .unwrap()
        .next()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_store_that_cannot_be_reached_refuses_every_attempt_as_unavailable() {
    let database = TestDatabase::create().await;
    let relay = Relay::to(server_of(&database.url).await).await;
    let url = StoreUrl::Postgres(relay.in_front_of(&database.url));
    let store = Arc::new(SqlRateLimitStore::open(&url).await.unwrap());
    let key = limit(Rate::per_minute(5));
    assert_eq!(
        store.acquire(vec![key.clone()], NOW).await.unwrap(),
        Verdict::Admitted
    );

    relay.cut.cancel();
    let started = Instant::now();
    let refused = store.acquire(vec![key.clone()], NOW).await;
    assert!(matches!(refused, Err(Error::Unavailable(_))), "{refused:?}");
    println!(
        "an attempt on an unreachable store was refused after {:?}",
        started.elapsed()
    );

    // What the gateway calls for a login, refused the same way.
    let limiter = GuessLimiter::new(
        store.clone(),
        Arc::new(SystemClock),
        GuessRates {
            login_per_client: Rate::per_minute(30),
            per_account: Rate::per_minute(10),
            link: Rate::per_minute(5),
            mail_per_address: Rate::per_hour(5),
            mail_per_client: Rate::per_hour(20),
        },
    );
    let login = limiter
        .login("192.0.2.1".parse().unwrap(), "ann@example.com")
        .await;
    assert!(matches!(login, Err(Error::Unavailable(_))), "{login:?}");
}
