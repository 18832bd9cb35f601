//! Who is calling, by address, and through which URL: the TCP peer — or, only when the peer is
//! one of `gateway.trusted_proxies`, the client that proxy names (`Forwarded: for=`, else
//! `X-Forwarded-For`) and the scheme and host it was reached at (`Forwarded: proto=`/`host=`,
//! else `X-Forwarded-Proto` and `X-Forwarded-Host`, else `Host`). What another peer sends in
//! those headers is ignored, so nobody picks the address their guesses are counted against.
//!
//! The rate limits and the access log use [`Client::ip`]; the URLs fmsd hands out (links,
//! signed part and download URLs) start with the URL the client reached, unless `public_url`
//! names one.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;
use url::Url;

/// Which peers are proxies whose forwarding headers are believed, and what URLs start with.
#[derive(Debug, Clone)]
pub struct Forwarding {
    /// The proxies' networks; empty: none is believed.
    trusted: Arc<Vec<IpNet>>,
    /// What the URLs fmsd makes start with: `public_url`, or the bound address.
    base: Url,
    /// Whether `public_url` was set: then it is used whatever a proxy says.
    base_is_fixed: bool,
}

/// The calling client, worked out once per request (see the module's doc).
#[derive(Debug, Clone)]
pub struct Client {
    /// Its address.
    pub ip: IpAddr,
    /// What URLs handed to it start with (`https://files.example.com`), when not the default.
    base: Option<Url>,
    /// The default that services put into URLs.
    default_base: Url,
}

impl Forwarding {
    /// Believes the headers of peers in `trusted`; URLs start with `base`, whatever proxies say
    /// if `base_is_fixed`.
    pub fn new(trusted: Vec<IpNet>, base: Url, base_is_fixed: bool) -> Self {
        Self {
            trusted: Arc::new(trusted),
            base,
            base_is_fixed,
        }
    }

    /// Whether `ip` is a trusted proxy.
    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> Client {
        let mut client = Client {
            ip: canonical(peer),
            base: None,
            default_base: self.base.clone(),
        };
        if !self.trusts(peer) {
            return client;
        }
        let forwarded = forwarded_elements(headers);
        let chain: Vec<IpAddr> = if forwarded.is_empty() {
            list(headers, "x-forwarded-for")
                .iter()
                .filter_map(|value| parse_ip(value))
                .collect()
        } else {
            forwarded
                .iter()
                .filter_map(|element| element.get("for").and_then(|value| parse_ip(value)))
                .collect()
        };
        // The nearest address no trusted proxy holds is the client; the farthest if all are.
        if let Some(ip) = chain
            .iter()
            .rev()
            .find(|ip| !self.trusts(**ip))
            .or(chain.first())
        {
            client.ip = canonical(*ip);
        }
        if !self.base_is_fixed {
            let first = forwarded.first();
            let proto = first
                .and_then(|element| element.get("proto").cloned())
                .or_else(|| list(headers, "x-forwarded-proto").first().cloned());
            let host = first
                .and_then(|element| element.get("host").cloned())
                .or_else(|| list(headers, "x-forwarded-host").first().cloned())
                .or_else(|| header(headers, "host"));
            client.base = match (proto.as_deref(), host) {
                (Some(proto @ ("http" | "https")), Some(host)) => {
                    Url::parse(&format!("{proto}://{host}")).ok()
                }
                (None, Some(host)) => Url::parse(&format!("{}://{host}", self.base.scheme())).ok(),
                _ => None,
            };
        }
        client
    }
}

impl Client {
    /// `url` (made by fmsd, starting with the default base) as this client reaches it.
    pub fn url(&self, url: String) -> String {
        let Some(base) = &self.base else { return url };
        let default = self.default_base.as_str().trim_end_matches('/');
        match url.strip_prefix(default) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') => {
                format!("{}{rest}", base.as_str().trim_end_matches('/'))
            }
            _ => url,
        }
    }

    /// Whether the client reached fmsd over https (directly or as a trusted proxy says), so a
    /// cookie set for it may be `Secure`.
    pub fn is_https(&self) -> bool {
        self.base.as_ref().unwrap_or(&self.default_base).scheme() == "https"
    }

    /// What URLs handed to this client start with, without a final `/`.
    pub fn base(&self) -> String {
        self.base
            .as_ref()
            .unwrap_or(&self.default_base)
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(client) = parts.extensions.get::<Client>() {
            return Ok(client.clone());
        }
        // Outside the middleware (a unit test of a handler): the peer alone.
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |info| info.0.ip());
        Ok(Client {
            ip,
            base: None,
            default_base: Url::parse("http://127.0.0.1/").unwrap_or_else(|_| unreachable!()),
        })
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:a.b.c.d`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// A header's value as text.
fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The comma-separated values of every `name` header, in order.
fn list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

/// The elements of every `Forwarded` header (RFC 7239), each as its lowercase parameter names
/// and unquoted values, in order.
fn forwarded_elements(headers: &HeaderMap) -> Vec<std::collections::HashMap<String, String>> {
    list(headers, "forwarded")
        .iter()
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| {
                    let (name, value) = pair.split_once('=')?;
                    Some((
                        name.trim().to_ascii_lowercase(),
                        value.trim().trim_matches('"').to_owned(),
                    ))
                })
                .collect()
        })
        .collect()
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `[::1]`, `[::1]:5678`, `::1`.
fn parse_ip(value: &str) -> Option<IpAddr> {
    let value = value.trim();
    if let Ok(ip) = value.parse() {
        return Some(ip);
    }
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    value.parse::<SocketAddr>().ok().map(|socket| socket.ip())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarding(trusted: &[&str]) -> Forwarding {
        Forwarding::new(
            trusted.iter().map(|net| net.parse().unwrap()).collect(),
            Url::parse("http://127.0.0.1:8080/").unwrap(),
            false,
        )
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_proxy() {
        let proxies = forwarding(&["10.0.0.0/8"]);
        let sent = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("host", "files.example.com"),
        ]);
        let direct = proxies.client("198.51.100.7".parse().unwrap(), &sent);
        assert_eq!(direct.ip, "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(
            direct.url("http://127.0.0.1:8080/s/x".into()),
            "http://127.0.0.1:8080/s/x"
        );
        let proxied = proxies.client("10.1.2.3".parse().unwrap(), &sent);
        assert_eq!(proxied.ip, "203.0.113.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_client_is_the_nearest_address_no_trusted_proxy_holds() {
        let proxies = forwarding(&["10.0.0.0/8", "::1/128"]);
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.2")]);
        let client = proxies.client("::1".parse().unwrap(), &chain);
        // 1.1.1.1 was written by the client itself: not believed.
        assert_eq!(client.ip, "203.0.113.9".parse::<IpAddr>().unwrap());
        let forwarded = headers(&[(
            "forwarded",
            "for=\"[2001:db8::1]:4711\";proto=https;host=files.example.com, for=10.0.0.2",
        )]);
        let client = proxies.client("10.0.0.3".parse().unwrap(), &forwarded);
        assert_eq!(client.ip, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert!(client.base().starts_with("https://"));
        assert_eq!(
            client.url("http://127.0.0.1:8080/blobs/files/k?sig=1".into()),
            "https://files.example.com/blobs/files/k?sig=1"
        );
        // A URL that is not fmsd's own (S3's) is left alone.
        assert_eq!(
            client.url("http://127.0.0.1:3900/bucket/k".into()),
            "http://127.0.0.1:3900/bucket/k"
        );
    }

    #[test]
    fn a_fixed_public_url_wins_over_what_a_proxy_says() {
        let proxies = Forwarding::new(
            vec!["127.0.0.1/32".parse().unwrap()],
            Url::parse("https://files.example.com/").unwrap(),
            true,
        );
        let sent = headers(&[
            ("x-forwarded-proto", "http"),
            ("x-forwarded-host", "evil.example"),
        ]);
        let client = proxies.client("127.0.0.1".parse().unwrap(), &sent);
        assert_eq!(client.base(), "https://files.example.com");
        assert!(client.base().starts_with("https://"));
    }
}
