//! The OpenID Connect discovery document (`/.well-known/openid-configuration`): the fields
//! that matter to IAM/STS, parsed leniently so every problem can be reported at once.

use serde::Serialize;
use serde_json::Value;

use crate::jwks::truncate;

/// The parts of a discovery document the checks use. List fields are empty when absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveryDocument {
    /// Must equal the IAM provider URL (and every token's `iss`) exactly.
    pub issuer: String,
    /// Where STS fetches the signing keys; must be https.
    pub jwks_uri: String,
    pub response_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub claims_supported: Vec<String>,
}

impl DiscoveryDocument {
    /// Parses a discovery document. On failure returns every structural problem found
    /// (each phrased to follow "the discovery document at <url> ...").
    pub fn from_slice(body: &[u8]) -> Result<DiscoveryDocument, Vec<String>> {
        let doc: Value = serde_json::from_slice(body).map_err(|e| {
            vec![format!(
                "is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            )]
        })?;
        let Some(obj) = doc.as_object() else {
            return Err(vec!["is not a JSON object".to_owned()]);
        };
        let mut problems = Vec::new();
        let mut required = |name: &str| match obj.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::String(_)) => {
                problems.push(format!("has an empty \"{name}\""));
                None
            }
            Some(_) => {
                problems.push(format!("has a \"{name}\" that is not a string"));
                None
            }
            None => {
                problems.push(format!("has no \"{name}\""));
                None
            }
        };
        let issuer = required("issuer");
        let jwks_uri = required("jwks_uri");
        let (Some(issuer), Some(jwks_uri)) = (issuer, jwks_uri) else {
            return Err(problems);
        };
        let list = |name: &str| -> Vec<String> {
            obj.get(name)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|s| truncate(s, 200))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(DiscoveryDocument {
            issuer,
            jwks_uri,
            response_types_supported: list("response_types_supported"),
            subject_types_supported: list("subject_types_supported"),
            id_token_signing_alg_values_supported: list("id_token_signing_alg_values_supported"),
            claims_supported: list("claims_supported"),
        })
    }
}

/// Explains an `issuer` mismatch, quoting both values, with a hint for the common near-misses.
pub fn issuer_mismatch_problem(served: &str, configured: &str) -> String {
    let mut text = format!(
        "the discovery document says \"issuer\": {served:?}, but the configured issuer URL is \
         {configured:?}; IAM and STS compare these exactly, so tokens from this issuer would be \
         rejected"
    );
    let hint = if served.trim_end_matches('/') == configured.trim_end_matches('/') {
        Some("they differ only by a trailing slash")
    } else if served.eq_ignore_ascii_case(configured) {
        Some("they differ only by letter case")
    } else if served.strip_prefix("http://") == configured.strip_prefix("https://") {
        Some("the document advertises http:// instead of https://")
    } else {
        None
    };
    if let Some(hint) = hint {
        text.push_str(" (");
        text.push_str(hint);
        text.push(')');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_typical_document() {
        let body = br#"{
            "issuer": "https://oidc.example.com",
            "jwks_uri": "https://oidc.example.com/jwks",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", 5],
            "extra": {"ignored": true}
        }"#;
        let d = DiscoveryDocument::from_slice(body).unwrap();
        assert_eq!(d.issuer, "https://oidc.example.com");
        assert_eq!(d.jwks_uri, "https://oidc.example.com/jwks");
        assert_eq!(d.id_token_signing_alg_values_supported, vec!["RS256"]);
        assert!(d.claims_supported.is_empty());
    }

    #[test]
    fn reports_every_structural_problem() {
        let p = DiscoveryDocument::from_slice(br#"{"issuer": 3}"#).unwrap_err();
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("\"issuer\" that is not a string"));
        assert!(p[1].contains("no \"jwks_uri\""));
        let p = DiscoveryDocument::from_slice(br#"{"issuer": "", "jwks_uri": "x"}"#).unwrap_err();
        assert_eq!(p, vec!["has an empty \"issuer\""]);
        let p = DiscoveryDocument::from_slice(b"<html>").unwrap_err();
        assert!(p[0].starts_with("is not valid JSON"));
        let p = DiscoveryDocument::from_slice(b"[1]").unwrap_err();
        assert_eq!(p, vec!["is not a JSON object"]);
    }

    #[test]
    fn mismatch_quotes_both_and_hints() {
        let t = issuer_mismatch_problem("https://a.example/", "https://a.example");
        assert!(t.contains("\"https://a.example/\""), "{t}");
        assert!(t.contains("\"https://a.example\""), "{t}");
        assert!(t.contains("trailing slash"), "{t}");
        let t = issuer_mismatch_problem("http://a.example", "https://a.example");
        assert!(t.contains("http:// instead of https://"), "{t}");
        let t = issuer_mismatch_problem("https://b.example", "https://a.example");
        assert!(!t.contains('('), "{t}");
    }
}
