//! The few URL operations the issuer checks need: validating an issuer URL the way IAM does,
//! building the discovery URL, and splitting an https URL into what a TLS + HTTP/1.1 request
//! needs (host for SNI and DNS, port, `Host` header, request target).
//!
//! We parse with `http::Uri` (already in the tree through hyper) instead of pulling the `url`
//! crate and its IDNA tables.

use hyper::Uri;

/// The path OpenID Connect Discovery 1.0 puts under the issuer URL.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// `<issuer>/.well-known/openid-configuration`. One trailing slash of the issuer URL is dropped
/// first so that `https://example.com/` does not turn into `https://example.com//.well-known/…`.
pub fn discovery_url(issuer_url: &str) -> String {
    let base = issuer_url.strip_suffix('/').unwrap_or(issuer_url);
    format!("{base}{DISCOVERY_PATH}")
}

/// Problems with an issuer URL as IAM would see it, without touching the network. Empty when it
/// is acceptable. IAM requires `https://`, allows a path, and forbids query parameters; a
/// fragment or credentials in the URL can never match a token's `iss` either.
pub fn issuer_url_problems(issuer_url: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if issuer_url.is_empty() {
        problems.push("the issuer URL is empty".to_owned());
        return problems;
    }
    if issuer_url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        problems.push(format!(
            "the issuer URL {issuer_url:?} contains whitespace or control characters"
        ));
        return problems;
    }
    if !issuer_url.starts_with("https://") {
        problems.push(format!(
            "the issuer URL {issuer_url:?} must start with \"https://\" (AWS only accepts https OIDC issuers)"
        ));
        return problems;
    }
    if issuer_url.contains('#') {
        problems.push(format!(
            "the issuer URL {issuer_url:?} must not contain a fragment ('#')"
        ));
    }
    if issuer_url.contains('?') {
        problems.push(format!(
            "the issuer URL {issuer_url:?} must not contain query parameters (IAM rejects them)"
        ));
    }
    if !problems.is_empty() {
        return problems;
    }
    if let Err(e) = HttpsUrl::parse(issuer_url) {
        problems.push(format!("the issuer URL {issuer_url:?} is not usable: {e}"));
    }
    problems
}

/// An `https://` URL split for a direct TLS + HTTP/1.1 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsUrl {
    /// The URL as given.
    pub url: String,
    /// Host name or IP address, without IPv6 brackets: used for DNS and as TLS server name.
    pub host: String,
    /// Port, 443 when absent.
    pub port: u16,
    /// `host[:port]` as written in the URL: the `Host` header.
    pub authority: String,
    /// Path and query (origin-form request target), at least `/`.
    pub target: String,
}

impl HttpsUrl {
    /// Parses an absolute `https://` URL. Errors are short sentences fit for a report.
    pub fn parse(url: &str) -> Result<HttpsUrl, String> {
        let lower_scheme = url.get(..8).map(|s| s.eq_ignore_ascii_case("https://"));
        if lower_scheme != Some(true) {
            return Err("the URL must use https".to_owned());
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the URL contains whitespace or control characters".to_owned());
        }
        // Fragments are never sent to a server; drop one before handing the URL to the parser.
        let without_fragment = url.split('#').next().unwrap_or(url);
        let uri: Uri = without_fragment
            .parse()
            .map_err(|e| format!("the URL cannot be parsed ({e})"))?;
        let authority = uri
            .authority()
            .ok_or_else(|| "the URL has no host".to_owned())?;
        if authority.as_str().contains('@') {
            return Err("the URL must not contain credentials".to_owned());
        }
        let raw_host = authority.host();
        let host = raw_host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(raw_host);
        if host.is_empty() {
            return Err("the URL has no host".to_owned());
        }
        // `Authority::port` hides unparsable ports, so read what follows the host ourselves.
        let port_text = authority
            .as_str()
            .strip_prefix(raw_host)
            .and_then(|rest| rest.strip_prefix(':'))
            .unwrap_or("");
        let port = if port_text.is_empty() {
            443
        } else {
            match port_text.parse::<u16>() {
                Ok(p) if p != 0 => p,
                _ => return Err(format!("the port {port_text:?} is out of range")),
            }
        };
        let target = uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("/")
            .to_owned();
        Ok(HttpsUrl {
            url: url.to_owned(),
            host: host.to_owned(),
            port,
            authority: authority.as_str().to_owned(),
            target,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_joins_without_doubling_the_slash() {
        assert_eq!(
            discovery_url("https://issuer.example.com"),
            "https://issuer.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://issuer.example.com/"),
            "https://issuer.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://issuer.example.com/tenants/abc"),
            "https://issuer.example.com/tenants/abc/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://issuer.example.com/tenants/abc/"),
            "https://issuer.example.com/tenants/abc/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://localhost:8443"),
            "https://localhost:8443/.well-known/openid-configuration"
        );
    }

    #[test]
    fn issuer_url_rules() {
        assert!(issuer_url_problems("https://oidc.localops.co").is_empty());
        assert!(issuer_url_problems("https://oidc.localops.co/").is_empty());
        assert!(issuer_url_problems("https://oidc.localops.co/tenant/1").is_empty());
        assert!(issuer_url_problems("https://localhost:8443").is_empty());
        assert!(issuer_url_problems("https://[::1]:8443").is_empty());

        let p = issuer_url_problems("http://oidc.localops.co");
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("https://"), "{p:?}");
        assert!(!issuer_url_problems("").is_empty());
        assert!(!issuer_url_problems("oidc.localops.co").is_empty());
        assert!(!issuer_url_problems("https://oidc.localops.co?x=1").is_empty());
        assert!(!issuer_url_problems("https://oidc.localops.co#frag").is_empty());
        assert!(!issuer_url_problems("https://user:pw@oidc.localops.co").is_empty());
        assert!(!issuer_url_problems("https://").is_empty());
        assert!(!issuer_url_problems("https:// oidc.localops.co").is_empty());
        assert!(!issuer_url_problems("https://oidc.localops.co:0").is_empty());
        assert!(!issuer_url_problems("https://oidc.localops.co:99999").is_empty());
    }

    #[test]
    fn https_url_parts() {
        let u = HttpsUrl::parse("https://localhost:8443/jwks?x=1").unwrap();
        assert_eq!(u.host, "localhost");
        assert_eq!(u.port, 8443);
        assert_eq!(u.authority, "localhost:8443");
        assert_eq!(u.target, "/jwks?x=1");

        let u = HttpsUrl::parse("https://example.com").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("example.com", 443, "/")
        );

        let u = HttpsUrl::parse("https://[::1]:9000/keys").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 9000));
        assert_eq!(u.authority, "[::1]:9000");

        let u = HttpsUrl::parse("HTTPS://Example.com/a#b").unwrap();
        assert_eq!(u.target, "/a");

        assert!(HttpsUrl::parse("http://example.com").is_err());
        assert!(HttpsUrl::parse("ftp://example.com").is_err());
        assert!(HttpsUrl::parse("https:/x").is_err());
        assert!(HttpsUrl::parse("htt").is_err());
    }

    #[test]
    fn parse_never_panics_on_odd_input() {
        for s in [
            "https://",
            "https://:",
            "https://:443",
            "https://[",
            "https://[]",
            "https://[::1",
            "https://a:b",
            "https://a:-1",
            "https://a/%%",
            "https://\u{0}",
            "https://ü",
            "https://a b",
            "httpsé://a",
            "https",
            "",
        ] {
            let _ = HttpsUrl::parse(s);
            let _ = issuer_url_problems(s);
            let _ = discovery_url(s);
        }
    }
}
