//! JSON Web Key Sets (RFC 7517/7518): which keys in a set can verify OIDC tokens.
//!
//! A key is *usable* when it is an RSA key (`n`, `e`; modulus of at least 2048 bits) or an EC
//! key on P-256/P-384 (`crv`, `x`, `y`), is not marked for encryption (`use` absent or `sig`),
//! and its `alg`, when present, is a signature algorithm we can verify for that key type.
//! Keys without `kid` are usable (a token without `kid` can only be matched against them by
//! trying each), and are listed as `(no kid, #<index>)`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// Signature algorithms we verify (all through `ring`).
pub const SUPPORTED_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
];

/// Elliptic curves we verify on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcCurve {
    P256,
    P384,
}

impl EcCurve {
    fn coordinate_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
        }
    }
    pub(crate) fn alg(self) -> &'static str {
        match self {
            EcCurve::P256 => "ES256",
            EcCurve::P384 => "ES384",
        }
    }
}

/// Public key material of a usable key.
#[derive(Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// Big-endian modulus (leading zeros stripped) and exponent.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Uncompressed SEC1 point `04 || x || y`.
    Ec { curve: EcCurve, point: Vec<u8> },
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyMaterial::Rsa { n, .. } => write!(f, "Rsa({} bits)", modulus_bits(n)),
            KeyMaterial::Ec { curve, .. } => write!(f, "Ec({curve:?})"),
        }
    }
}

/// A usable signing key from a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    /// Position of the key in the served `keys` array.
    pub position: usize,
    pub kid: Option<String>,
    /// `RSA` or `EC`.
    pub kty: String,
    pub alg: Option<String>,
    pub key_use: Option<String>,
    pub material: KeyMaterial,
}

impl Jwk {
    /// Whether this key may verify a token signed with `alg`.
    pub fn accepts_alg(&self, alg: &str) -> bool {
        if let Some(a) = &self.alg
            && a != alg
        {
            return false;
        }
        match &self.material {
            KeyMaterial::Rsa { .. } => alg.starts_with("RS") || alg.starts_with("PS"),
            KeyMaterial::Ec { curve, .. } => alg == curve.alg(),
        }
    }
}

/// A parsed key set: the usable keys, and why the others were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
    /// One sentence per skipped key, naming it by `kid` or position.
    pub skipped: Vec<String>,
}

impl Jwks {
    /// Parses a JWKS document. Errors (not JSON, no `keys` array) are short sentences; keys that
    /// are not usable are recorded in [`Jwks::skipped`], never an error.
    pub fn from_slice(body: &[u8]) -> Result<Jwks, String> {
        let doc: Value = serde_json::from_slice(body).map_err(|e| {
            format!(
                "is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        let Some(obj) = doc.as_object() else {
            return Err("is not a JSON object".to_owned());
        };
        let Some(keys) = obj.get("keys") else {
            return Err("has no \"keys\" member".to_owned());
        };
        let Some(keys) = keys.as_array() else {
            return Err("has a \"keys\" member that is not an array".to_owned());
        };
        let mut set = Jwks::default();
        for (i, key) in keys.iter().enumerate() {
            match parse_key(key, i) {
                Ok(k) => set.keys.push(k),
                Err(why) => set.skipped.push(format!("{}: {why}", key_label(key, i))),
            }
        }
        Ok(set)
    }

    /// The usable keys' ids, `(no kid, #<position>)` for keys without one.
    pub fn key_ids(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| {
                k.kid
                    .clone()
                    .unwrap_or_else(|| format!("(no kid, #{})", k.position))
            })
            .collect()
    }
}

fn key_label(key: &Value, index: usize) -> String {
    match key.get("kid").and_then(Value::as_str) {
        Some(kid) => format!("key {:?}", truncate(kid, 100)),
        None => format!("key #{index}"),
    }
}

pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max_chars).collect();
        t.push('…');
        t
    }
}

fn str_member<'a>(key: &'a Value, name: &str) -> Result<Option<&'a str>, String> {
    match key.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("\"{name}\" is not a string")),
    }
}

fn b64_member(key: &Value, name: &str) -> Result<Vec<u8>, String> {
    let s = str_member(key, name)?.ok_or_else(|| format!("\"{name}\" is missing"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| format!("\"{name}\" is not base64url"))?;
    if bytes.is_empty() {
        return Err(format!("\"{name}\" is empty"));
    }
    Ok(bytes)
}

fn parse_key(key: &Value, position: usize) -> Result<Jwk, String> {
    if !key.is_object() {
        return Err("is not a JSON object".to_owned());
    }
    let kid = str_member(key, "kid")?.map(str::to_owned);
    let kty = str_member(key, "kty")?.ok_or("\"kty\" is missing")?;
    let key_use = str_member(key, "use")?.map(str::to_owned);
    if let Some(u) = &key_use
        && u != "sig"
    {
        return Err(format!(
            "\"use\" is {:?}, not \"sig\": not a signing key",
            truncate(u, 20)
        ));
    }
    if let Some(ops) = key.get("key_ops").and_then(Value::as_array)
        && !ops.iter().any(|o| o.as_str() == Some("verify"))
    {
        return Err("\"key_ops\" does not include \"verify\"".to_owned());
    }
    let alg = str_member(key, "alg")?.map(str::to_owned);
    if let Some(a) = &alg
        && !SUPPORTED_ALGS.contains(&a.as_str())
    {
        return Err(format!(
            "\"alg\" {:?} is not a supported signature algorithm ({})",
            truncate(a, 20),
            SUPPORTED_ALGS.join(", ")
        ));
    }
    let material = match kty {
        "RSA" => {
            let n = strip_leading_zeros(b64_member(key, "n")?);
            let e = strip_leading_zeros(b64_member(key, "e")?);
            let bits = modulus_bits(&n);
            if bits < 2048 {
                return Err(format!(
                    "RSA modulus is {bits} bits; at least 2048 are required"
                ));
            }
            if bits > 8192 {
                return Err(format!(
                    "RSA modulus is {bits} bits; at most 8192 are supported"
                ));
            }
            if e.len() > 4 || e.is_empty() {
                return Err("RSA exponent \"e\" is out of range".to_owned());
            }
            if let Some(a) = &alg
                && !(a.starts_with("RS") || a.starts_with("PS"))
            {
                return Err(format!("\"alg\" {a} does not fit an RSA key"));
            }
            KeyMaterial::Rsa { n, e }
        }
        "EC" => {
            let crv = str_member(key, "crv")?.ok_or("\"crv\" is missing")?;
            let curve = match crv {
                "P-256" => EcCurve::P256,
                "P-384" => EcCurve::P384,
                other => {
                    return Err(format!(
                        "curve {:?} is not supported (P-256, P-384)",
                        truncate(other, 20)
                    ));
                }
            };
            let x = b64_member(key, "x")?;
            let y = b64_member(key, "y")?;
            let len = curve.coordinate_len();
            if x.len() != len || y.len() != len {
                return Err(format!(
                    "\"x\"/\"y\" are not {len}-byte coordinates for {crv}"
                ));
            }
            if let Some(a) = &alg
                && a != curve.alg()
            {
                return Err(format!("\"alg\" {a} does not fit a {crv} key"));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            KeyMaterial::Ec { curve, point }
        }
        other => {
            return Err(format!(
                "key type {:?} cannot sign OIDC tokens here (RSA or EC expected)",
                truncate(other, 20)
            ));
        }
    };
    Ok(Jwk {
        position,
        kid,
        kty: kty.to_owned(),
        alg,
        key_use,
        material,
    })
}

fn strip_leading_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros);
    v
}

fn modulus_bits(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(first) => (n.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn rsa_key(kid: &str, bits: usize) -> Value {
        let mut n = vec![0xc5u8; bits / 8];
        n[0] = 0x80 | 0x45;
        json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(&n), "e": "AQAB"})
    }

    #[test]
    fn usable_and_skipped_keys() {
        let doc = json!({"keys": [
            rsa_key("good", 2048),
            rsa_key("small", 1024),
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 32])},
            {"kty": "EC", "kid": "ec-bad", "crv": "P-256", "x": b64(&[1; 31]), "y": b64(&[2; 32])},
            {"kty": "RSA", "n": b64(&[0xff; 256]), "e": "AQAB"},
            "not an object",
            {"kid": "no-kty"},
        ]});
        let set = Jwks::from_slice(doc.to_string().as_bytes()).unwrap();
        assert_eq!(set.key_ids(), vec!["good", "ec", "(no kid, #6)"]);
        assert_eq!(set.skipped.len(), 6, "{:?}", set.skipped);
        assert!(set.skipped.iter().any(|s| s.contains("1024 bits")));
        assert!(set.skipped.iter().any(|s| s.contains("\"enc\"")));
        assert!(set.skipped.iter().any(|s| s.contains("\"oct\"")));
        assert!(set.skipped.iter().any(|s| s.starts_with("key #7")));
        assert!(set.keys[0].accepts_alg("RS256"));
        assert!(!set.keys[0].accepts_alg("RS384"));
        assert!(set.keys[1].accepts_alg("ES256"));
        assert!(!set.keys[1].accepts_alg("RS256"));
        assert!(set.keys[2].accepts_alg("PS512"));
    }

    #[test]
    fn leading_zero_in_modulus_is_tolerated() {
        let mut n = vec![0u8; 257];
        n[1] = 0xc0;
        let doc = json!({"keys": [{"kty": "RSA", "kid": "z", "n": b64(&n), "e": "AQAB"}]});
        let set = Jwks::from_slice(doc.to_string().as_bytes()).unwrap();
        assert_eq!(set.keys.len(), 1);
        assert_eq!(format!("{:?}", set.keys[0].material), "Rsa(2048 bits)");
    }

    #[test]
    fn document_level_errors() {
        assert!(
            Jwks::from_slice(b"")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(
            Jwks::from_slice(b"[]")
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(Jwks::from_slice(b"{}").unwrap_err().contains("no \"keys\""));
        assert!(
            Jwks::from_slice(br#"{"keys":{}}"#)
                .unwrap_err()
                .contains("not an array")
        );
        let empty = Jwks::from_slice(br#"{"keys":[]}"#).unwrap();
        assert!(empty.keys.is_empty() && empty.skipped.is_empty());
    }

    #[test]
    fn garbage_never_panics() {
        let samples: &[&[u8]] = &[
            b"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"\"}]}",
            b"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"!!!\",\"e\":\"AQAB\"}]}",
            b"{\"keys\":[{\"kty\":\"EC\",\"crv\":7}]}",
            b"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AAAA\",\"e\":\"AAAAAAAAAAAA\"}]}",
            b"{\"keys\":[null, 1, [], {\"kty\": null}]}",
            b"\xff\xfe",
        ];
        for s in samples {
            let _ = Jwks::from_slice(s);
        }
    }
}
