//! Small decoding helpers with no dependencies: percent-decoding of IAM policy documents and
//! unverified reading of a JWT's claims.

/// Decodes an IAM policy document. IAM returns documents percent-encoded (RFC 3986; a `+`
/// stays a `+`). A document that already starts with `{` (some emulators return it raw) is
/// returned as is; invalid escapes are kept literally and invalid UTF-8 is replaced.
pub fn decode_policy_document(doc: &str) -> String {
    if doc.trim_start().starts_with('{') {
        return doc.to_owned();
    }
    percent_decode(doc)
}

/// Percent-decodes `input` (`%XX` only; `+` is not a space).
pub fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes unpadded or padded base64url (also accepts the standard alphabet).
pub fn base64url_decode(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4 + 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in input.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// Claims read from a JWT without verifying it (STS verifies; we only report).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnverifiedClaims {
    pub issuer: Option<String>,
    pub subject: Option<String>,
    /// `aud` (the first one when it is a list).
    pub audience: Option<String>,
}

/// Reads `iss`, `sub` and `aud` from a JWT's payload. `None` when the token is not a JWT.
pub fn jwt_claims(token: &str) -> Option<UnverifiedClaims> {
    let mut parts = token.split('.');
    let _header = parts.next()?;
    let payload = parts.next()?;
    let bytes = base64url_decode(payload)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let audience = match value.get("aud") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Array(items)) => {
            items.iter().find_map(|v| v.as_str()).map(str::to_owned)
        }
        _ => None,
    };
    Some(UnverifiedClaims {
        issuer: text("iss"),
        subject: text("sub"),
        audience,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_iam_documents() {
        let encoded =
            "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22a%2Bb%22%3A%20%22c%20d%25%22%7D";
        assert_eq!(
            decode_policy_document(encoded),
            r#"{"Version": "2012-10-17", "a+b": "c d%"}"#
        );
        // A literal '+' is not a space.
        assert_eq!(percent_decode("a+b"), "a+b");
        // Already-decoded JSON passes through, even with a stray '%'.
        assert_eq!(decode_policy_document(r#"{"a":"100%"}"#), r#"{"a":"100%"}"#);
        // Broken escapes are kept.
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%41"), "A");
        // Invalid UTF-8 does not panic.
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
        // Multi-byte UTF-8.
        assert_eq!(percent_decode("%C3%A9"), "é");
    }

    #[test]
    fn reads_jwt_claims() {
        // {"alg":"none"} . {"sub":"x","aud":"sts","iss":"https://i"}
        let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwiYXVkIjoic3RzIiwiaXNzIjoiaHR0cHM6Ly9pIn0.";
        let claims = jwt_claims(token).unwrap();
        assert_eq!(claims.subject.as_deref(), Some("x"));
        assert_eq!(claims.audience.as_deref(), Some("sts"));
        assert_eq!(claims.issuer.as_deref(), Some("https://i"));
        // {"aud":["a","b"]}
        let token = "e30.eyJhdWQiOlsiYSIsImIiXX0.sig";
        assert_eq!(jwt_claims(token).unwrap().audience.as_deref(), Some("a"));
        assert!(jwt_claims("not a jwt").is_none());
        assert!(jwt_claims("a.!!!.c").is_none());
        assert!(jwt_claims("").is_none());
    }

    #[test]
    fn base64url_round_trips_known_values() {
        assert_eq!(base64url_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64url_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64url_decode("-_-_").unwrap(), vec![0xfb, 0xff, 0xbf]);
        assert!(base64url_decode("a b").is_none());
    }
}
