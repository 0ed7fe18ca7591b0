//! OIDC tokens (compact JWS JWTs): reading them from where the user keeps them, decoding their
//! claims, verifying their signature against a JWKS, and explaining why STS would refuse one.
//!
//! Nothing here logs or returns a token's raw text or signature. Errors describe *where* the
//! token is broken, never *what* it contains; [`TokenProblem`]s quote only the non-secret
//! claims `iss`, `aud` and `sub`, and times.

use std::fmt;
use std::io::Read as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};
use zeroize::Zeroize as _;

use crate::jwks::{EcCurve, Jwk, Jwks, KeyMaterial, SUPPORTED_ALGS, truncate};

/// Tokens longer than this are refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// A token's text. Trimmed of surrounding whitespace; `Debug` shows only its length; there is
/// deliberately no `Display`. The text is zeroed when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn new(raw: impl Into<String>) -> SecretToken {
        let mut raw = raw.into();
        let trimmed = raw.trim().to_owned();
        raw.zeroize();
        SecretToken(trimmed)
    }

    /// The token text, for sending it where it belongs (STS) or decoding it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretToken(<redacted, {} bytes>)", self.0.len())
    }
}

impl Drop for SecretToken {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Where to read a token from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// A file holding the token (e.g. a projected service-account token).
    File(PathBuf),
    /// An environment variable holding the token.
    Env(String),
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::File(p) => write!(f, "file {}", p.display()),
            TokenSource::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

/// Which part of a compact JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPart {
    Header,
    Payload,
    Signature,
}

impl fmt::Display for TokenPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenPart::Header => "header",
            TokenPart::Payload => "payload",
            TokenPart::Signature => "signature",
        })
    }
}

/// Why a token could not be read, decoded or verified. Never contains the token's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is empty")]
    Empty,
    #[error("the token is {len} bytes long; at most {MAX_TOKEN_LEN} are accepted")]
    TooLarge { len: usize },
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    #[error("the token's {part} is not valid base64url")]
    Base64 { part: TokenPart },
    #[error("the token's {part} is not {detail}")]
    Json { part: TokenPart, detail: String },
    #[error("the token's {location} {problem}")]
    Field {
        location: &'static str,
        problem: &'static str,
    },
    #[error(
        "the token is signed with {alg:?}, which is not accepted (supported: RS256, RS384, \
         RS512, PS256, PS384, PS512, ES256, ES384)"
    )]
    UnsupportedAlgorithm { alg: String },
    #[error("{0}")]
    NoMatchingKey(String),
    #[error("the token's signature does not verify against {0}")]
    BadSignature(String),
    #[error("cannot read the token from {source_name}: {reason}")]
    Read { source_name: String, reason: String },
    #[error("the token from {source_name} is empty")]
    EmptySource { source_name: String },
}

/// The JOSE header fields that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
}

/// The registered claims STS looks at. Absent claims are `None`/empty so that
/// [`check_against_trust`] can say precisely what is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenClaims {
    pub iss: Option<String>,
    /// `aud` may be a string or an array of strings; both become a list.
    pub aud: Vec<String>,
    pub sub: Option<String>,
    /// NumericDate (seconds since the epoch); fractional values are truncated.
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
}

struct Parts<'a> {
    header_b64: &'a str,
    payload_b64: &'a str,
    signature_b64: &'a str,
}

fn split(token: &str) -> Result<Parts<'_>, TokenError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLarge { len: token.len() });
    }
    let pieces: Vec<&str> = token.split('.').collect();
    match pieces.as_slice() {
        [h, p, s] => Ok(Parts {
            header_b64: h,
            payload_b64: p,
            signature_b64: s,
        }),
        _ if pieces.len() == 5 => Err(TokenError::Malformed(
            "it has 5 dot-separated parts, i.e. it is an encrypted token (JWE); STS needs a \
             signed token (JWS)"
                .to_owned(),
        )),
        _ => Err(TokenError::Malformed(format!(
            "expected 3 dot-separated parts (header.payload.signature), found {}",
            pieces.len()
        ))),
    }
}

fn b64(part: TokenPart, text: &str) -> Result<Vec<u8>, TokenError> {
    // JWS uses unpadded base64url; tolerate padding some encoders add anyway.
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| TokenError::Base64 { part })
}

fn json_object(part: TokenPart, text: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = b64(part, text)?;
    // Only positions from serde_json's error, never its message (which can quote input).
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| TokenError::Json {
        part,
        detail: format!("valid JSON (line {}, column {})", e.line(), e.column()),
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(TokenError::Json {
            part,
            detail: "a JSON object".to_owned(),
        }),
    }
}

fn opt_string(
    map: &Map<String, Value>,
    name: &str,
    location: &'static str,
) -> Result<Option<String>, TokenError> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TokenError::Field {
            location,
            problem: "is not a string",
        }),
    }
}

fn opt_numeric_date(
    map: &Map<String, Value>,
    name: &str,
    location: &'static str,
) -> Result<Option<i64>, TokenError> {
    let bad = TokenError::Field {
        location,
        problem: "is not a NumericDate (seconds since 1970)",
    };
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else if let Some(u) = n.as_u64() {
                Ok(Some(i64::try_from(u).unwrap_or(i64::MAX)))
            } else {
                match n.as_f64() {
                    Some(f) if f.is_finite() => {
                        // `as` saturates for out-of-range floats.
                        Ok(Some(f.trunc() as i64))
                    }
                    _ => Err(bad),
                }
            }
        }
        Some(_) => Err(bad),
    }
}

/// Decodes a token's JOSE header without verifying anything.
pub fn decode_header(token: &str) -> Result<TokenHeader, TokenError> {
    let parts = split(token)?;
    header_of(&parts)
}

fn header_of(parts: &Parts<'_>) -> Result<TokenHeader, TokenError> {
    let header = json_object(TokenPart::Header, parts.header_b64)?;
    let alg = opt_string(&header, "alg", "header field \"alg\"")?.ok_or(TokenError::Field {
        location: "header",
        problem: "has no \"alg\"",
    })?;
    Ok(TokenHeader {
        alg: truncate(&alg, 32),
        kid: opt_string(&header, "kid", "header field \"kid\"")?,
        typ: opt_string(&header, "typ", "header field \"typ\"")?,
    })
}

impl TokenClaims {
    /// Decodes the claims of a compact JWS **without verifying its signature**: use it to
    /// explain a token, never to trust one (see [`verify_signature`]).
    pub fn decode_unverified(token: &str) -> Result<TokenClaims, TokenError> {
        let parts = split(token)?;
        // The header must at least be a JSON object naming an algorithm to be a JWS at all.
        header_of(&parts)?;
        let payload = json_object(TokenPart::Payload, parts.payload_b64)?;
        let aud = match payload.get("aud") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(TokenError::Field {
                    location: "claim \"aud\"",
                    problem: "is an array with non-string entries",
                })?,
            Some(_) => {
                return Err(TokenError::Field {
                    location: "claim \"aud\"",
                    problem: "is neither a string nor an array of strings",
                });
            }
        };
        Ok(TokenClaims {
            iss: opt_string(&payload, "iss", "claim \"iss\"")?,
            aud,
            sub: opt_string(&payload, "sub", "claim \"sub\"")?,
            exp: opt_numeric_date(&payload, "exp", "claim \"exp\"")?,
            iat: opt_numeric_date(&payload, "iat", "claim \"iat\"")?,
            nbf: opt_numeric_date(&payload, "nbf", "claim \"nbf\"")?,
        })
    }
}

/// Verifies the token's signature with a key of `jwks`: the key whose `kid` equals the
/// header's `kid`, or, when the header has none, any key fit for the header's `alg`.
/// `none`, HMAC and other algorithms are refused.
pub fn verify_signature(token: &str, jwks: &Jwks) -> Result<(), TokenError> {
    let parts = split(token)?;
    let header = header_of(&parts)?;
    if !SUPPORTED_ALGS.contains(&header.alg.as_str()) {
        return Err(TokenError::UnsupportedAlgorithm { alg: header.alg });
    }
    let signature = b64(TokenPart::Signature, parts.signature_b64)?;
    // The signing input is the encoded header and payload exactly as they appear in the token.
    let signing_input_len = parts.header_b64.len() + 1 + parts.payload_b64.len();
    let message = &token.trim().as_bytes()[..signing_input_len];

    let available = jwks.key_ids().join(", ");
    let candidates: Vec<&Jwk> = match &header.kid {
        Some(kid) => {
            let by_kid: Vec<&Jwk> = jwks
                .keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid.as_str()))
                .collect();
            if by_kid.is_empty() {
                return Err(TokenError::NoMatchingKey(format!(
                    "the token's key id {:?} is not among the JWKS's usable keys [{available}]",
                    truncate(kid, 100)
                )));
            }
            by_kid
        }
        None => jwks.keys.iter().collect(),
    };
    let fitting: Vec<&Jwk> = candidates
        .into_iter()
        .filter(|k| k.accepts_alg(&header.alg))
        .collect();
    if fitting.is_empty() {
        return Err(TokenError::NoMatchingKey(format!(
            "no usable JWKS key [{available}] accepts the token's algorithm {}{}",
            header.alg,
            header
                .kid
                .as_deref()
                .map(|k| format!(" with key id {:?}", truncate(k, 100)))
                .unwrap_or_default()
        )));
    }
    for key in &fitting {
        if verify_with(key, &header.alg, message, &signature) {
            return Ok(());
        }
    }
    let tried: Vec<String> = fitting
        .iter()
        .map(|k| {
            k.kid
                .clone()
                .unwrap_or_else(|| format!("(no kid, #{})", k.position))
        })
        .collect();
    Err(TokenError::BadSignature(format!(
        "key{} {}",
        if tried.len() == 1 { "" } else { "s" },
        tried.join(", ")
    )))
}

fn verify_with(key: &Jwk, alg: &str, message: &[u8], sig: &[u8]) -> bool {
    match &key.material {
        KeyMaterial::Rsa { n, e } => {
            let params: &signature::RsaParameters = match alg {
                "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
                "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
                _ => return false,
            };
            RsaPublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .verify(params, message, sig)
            .is_ok()
        }
        KeyMaterial::Ec { curve, point } => {
            let algorithm: &signature::EcdsaVerificationAlgorithm = match (curve, alg) {
                (EcCurve::P256, "ES256") => &signature::ECDSA_P256_SHA256_FIXED,
                (EcCurve::P384, "ES384") => &signature::ECDSA_P384_SHA384_FIXED,
                _ => return false,
            };
            UnparsedPublicKey::new(algorithm, point)
                .verify(message, sig)
                .is_ok()
        }
    }
}

/// Why STS would refuse a token for a given trust (provider URL, audience, subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenProblem {
    MissingIssuer {
        expected: String,
    },
    IssuerMismatch {
        token: String,
        expected: String,
    },
    MissingAudience {
        expected: String,
    },
    AudienceMismatch {
        token: Vec<String>,
        expected: String,
    },
    MissingSubject {
        expected: String,
    },
    SubjectMismatch {
        token: String,
        expected: String,
    },
    MissingExpiry,
    Expired {
        exp: i64,
        ago: Duration,
    },
    NotYetValid {
        nbf: i64,
        valid_in: Duration,
    },
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenProblem::MissingIssuer { expected } => write!(
                f,
                "the token has no \"iss\" claim; STS requires it to equal the OIDC provider URL \
                 {expected:?}"
            ),
            TokenProblem::IssuerMismatch { token, expected } => {
                write!(
                    f,
                    "the token's \"iss\" is {token:?} but the OIDC provider URL is {expected:?}; \
                     STS requires them to be equal"
                )?;
                if token.trim_end_matches('/') == expected.trim_end_matches('/') {
                    f.write_str(" (they differ only by a trailing slash)")?;
                }
                Ok(())
            }
            TokenProblem::MissingAudience { expected } => write!(
                f,
                "the token has no \"aud\" claim; it must contain the audience {expected:?}"
            ),
            TokenProblem::AudienceMismatch { token, expected } => write!(
                f,
                "the token's \"aud\" is {} which does not contain the audience {expected:?} \
                 (the OIDC provider's client ID the role trusts)",
                quote_list(token)
            ),
            TokenProblem::MissingSubject { expected } => write!(
                f,
                "the token has no \"sub\" claim; the role trusts only the subject {expected:?}"
            ),
            TokenProblem::SubjectMismatch { token, expected } => write!(
                f,
                "the token's \"sub\" is {token:?} but the role trusts only the subject \
                 {expected:?}"
            ),
            TokenProblem::MissingExpiry => f.write_str(
                "the token has no \"exp\" claim; STS only accepts tokens with an expiry",
            ),
            TokenProblem::Expired { exp, ago } => write!(
                f,
                "the token expired {} ago (exp {})",
                human_duration(*ago),
                fmt_unix(*exp)
            ),
            TokenProblem::NotYetValid { nbf, valid_in } => write!(
                f,
                "the token is not valid yet: it becomes valid in {} (nbf {})",
                human_duration(*valid_in),
                fmt_unix(*nbf)
            ),
        }
    }
}

fn quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Compares decoded claims with what the IAM side trusts. `expected_issuer_url` is the IAM OIDC
/// provider URL (STS requires `iss` to be exactly that), `expected_audience` one of its client
/// IDs (default `sts.amazonaws.com`), `expected_subject` the subject the role's trust policy
/// allows. Returns every problem found; empty means the claims fit.
pub fn check_against_trust(
    claims: &TokenClaims,
    expected_issuer_url: &str,
    expected_audience: &str,
    expected_subject: &str,
    now: SystemTime,
) -> Vec<TokenProblem> {
    let mut problems = Vec::new();
    match &claims.iss {
        None => problems.push(TokenProblem::MissingIssuer {
            expected: expected_issuer_url.to_owned(),
        }),
        Some(iss) if iss != expected_issuer_url => problems.push(TokenProblem::IssuerMismatch {
            token: iss.clone(),
            expected: expected_issuer_url.to_owned(),
        }),
        Some(_) => {}
    }
    if claims.aud.is_empty() {
        problems.push(TokenProblem::MissingAudience {
            expected: expected_audience.to_owned(),
        });
    } else if !claims.aud.iter().any(|a| a == expected_audience) {
        problems.push(TokenProblem::AudienceMismatch {
            token: claims.aud.clone(),
            expected: expected_audience.to_owned(),
        });
    }
    match &claims.sub {
        None => problems.push(TokenProblem::MissingSubject {
            expected: expected_subject.to_owned(),
        }),
        Some(sub) if sub != expected_subject => problems.push(TokenProblem::SubjectMismatch {
            token: sub.clone(),
            expected: expected_subject.to_owned(),
        }),
        Some(_) => {}
    }
    let now = unix_seconds(now);
    match claims.exp {
        None => problems.push(TokenProblem::MissingExpiry),
        // RFC 7519: the token must not be accepted on or after `exp`.
        Some(exp) if exp <= now => problems.push(TokenProblem::Expired {
            exp,
            ago: Duration::from_secs(now.abs_diff(exp)),
        }),
        Some(_) => {}
    }
    if let Some(nbf) = claims.nbf
        && nbf > now
    {
        problems.push(TokenProblem::NotYetValid {
            nbf,
            valid_in: Duration::from_secs(nbf.abs_diff(now)),
        });
    }
    problems
}

/// Reads a token from a file or an environment variable, trimming whitespace and newlines.
pub fn read_token(source: TokenSource) -> Result<SecretToken, TokenError> {
    let source_name = source.to_string();
    let text = match &source {
        TokenSource::File(path) => {
            let file = std::fs::File::open(path).map_err(|e| TokenError::Read {
                source_name: source_name.clone(),
                reason: e.to_string(),
            })?;
            let mut bytes = Vec::new();
            let limit = u64::try_from(MAX_TOKEN_LEN).unwrap_or(u64::MAX) + 1024;
            file.take(limit)
                .read_to_end(&mut bytes)
                .map_err(|e| TokenError::Read {
                    source_name: source_name.clone(),
                    reason: e.to_string(),
                })?;
            String::from_utf8(bytes).map_err(|e| {
                let mut bytes = e.into_bytes();
                bytes.zeroize();
                TokenError::Read {
                    source_name: source_name.clone(),
                    reason: "the file is not UTF-8 text".to_owned(),
                }
            })?
        }
        TokenSource::Env(var) => match std::env::var(var) {
            Ok(v) => v,
            Err(std::env::VarError::NotPresent) => {
                return Err(TokenError::Read {
                    source_name,
                    reason: "it is not set".to_owned(),
                });
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(TokenError::Read {
                    source_name,
                    reason: "it is not valid UTF-8".to_owned(),
                });
            }
        },
    };
    let token = SecretToken::new(text);
    if token.is_empty() {
        return Err(TokenError::EmptySource { source_name });
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLarge { len: token.len() });
    }
    Ok(token)
}

/// `1h 2m 3s`, `4d 5h`, `0s`: coarse enough to read, precise enough to act on.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, minutes, seconds) = (s / 86_400, (s / 3600) % 24, (s / 60) % 60, s % 60);
    let mut out = Vec::new();
    if days > 0 {
        out.push(format!("{days}d"));
    }
    if hours > 0 {
        out.push(format!("{hours}h"));
    }
    if minutes > 0 && days == 0 {
        out.push(format!("{minutes}m"));
    }
    if (seconds > 0 || out.is_empty()) && days == 0 && hours == 0 {
        out.push(format!("{seconds}s"));
    }
    out.join(" ")
}

/// A NumericDate as `YYYY-MM-DDTHH:MM:SSZ` (or the raw number outside years 0..=9999).
pub fn fmt_unix(ts: i64) -> String {
    const MIN: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if !(MIN..=MAX).contains(&ts) {
        return ts.to_string();
    }
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's public-domain algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    fn unsigned(header: &Value, payload: &Value) -> String {
        format!("{}.{}.c2ln", enc(header), enc(payload))
    }

    const NOW: i64 = 1_700_000_000;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW as u64)
    }

    #[test]
    fn decodes_claims_with_string_or_array_aud() {
        let t = unsigned(
            &json!({"alg": "RS256", "kid": "k1"}),
            &json!({"iss": "https://i", "aud": "sts.amazonaws.com", "sub": "s", "exp": NOW + 60,
                    "iat": NOW, "nbf": 1.7e9}),
        );
        let c = TokenClaims::decode_unverified(&t).unwrap();
        assert_eq!(c.iss.as_deref(), Some("https://i"));
        assert_eq!(c.aud, vec!["sts.amazonaws.com"]);
        assert_eq!(c.exp, Some(NOW + 60));
        assert_eq!(c.nbf, Some(1_700_000_000));
        let t = unsigned(&json!({"alg": "ES256"}), &json!({"aud": ["a", "b"]}));
        let c = TokenClaims::decode_unverified(&format!("  {t}\n")).unwrap();
        assert_eq!(c.aud, vec!["a", "b"]);
        assert_eq!(c.iss, None);
        let h = decode_header(&t).unwrap();
        assert_eq!((h.alg.as_str(), h.kid), ("ES256", None));
    }

    #[test]
    fn malformed_tokens_are_explained_without_echoing() {
        let secret = "eyJzZWNyZXQiOiJodW50ZXIyIn0";
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty"),
            ("   \n".into(), "empty"),
            (format!("{secret}.{secret}"), "found 2"),
            (format!("{secret}.a.b.c.d"), "encrypted token"),
            (format!("!!!.{secret}.x"), "header is not valid base64url"),
            (
                format!("{}.{secret}.x", URL_SAFE_NO_PAD.encode("nojson")),
                "header is not valid JSON",
            ),
            (
                format!("{}.{secret}.x", URL_SAFE_NO_PAD.encode("[1]")),
                "header is not a JSON object",
            ),
            (
                format!("{}.{secret}.x", enc(&json!({"typ": "JWT"}))),
                "no \"alg\"",
            ),
            (
                format!("{}.!!!.x", enc(&json!({"alg": "RS256"}))),
                "payload is not valid base64url",
            ),
            (
                unsigned(&json!({"alg": "RS256"}), &json!({"aud": 5})),
                "neither a string",
            ),
            (
                unsigned(&json!({"alg": "RS256"}), &json!({"aud": ["a", 1]})),
                "non-string",
            ),
            (
                unsigned(&json!({"alg": "RS256"}), &json!({"exp": "soon"})),
                "NumericDate",
            ),
            (
                unsigned(&json!({"alg": "RS256"}), &json!({"sub": {"x": 1}})),
                "\"sub\" is not a string",
            ),
            ("a".repeat(MAX_TOKEN_LEN + 1), "bytes long"),
        ];
        for (token, want) in cases {
            let err = TokenClaims::decode_unverified(&token)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
            assert!(!err.contains(secret), "{err:?} echoes the token");
            assert!(!err.contains("hunter2"), "{err:?} echoes the token");
        }
    }

    /// Tiny deterministic generator: no dependency, reproducible failures.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn garbage_never_panics() {
        let alphabet: Vec<char> = "abcXYZ019-_.=+/ \n{}[]\":,é\u{0}\u{7f}€".chars().collect();
        let fragments = [
            "eyJhbGciOiJSUzI1NiJ9", // {"alg":"RS256"}
            "eyJhbGciOiJub25lIn0",  // {"alg":"none"}
            "e30",                  // {}
            "W10",                  // []
            "bnVsbA",               // null
            "eyJleHAiOjFlMzA4fQ",   // {"exp":1e308}
            "eyJleHAiOi0xZTMwOH0",  // {"exp":-1e308}
            "eyJhdWQiOltudWxsXX0",  // {"aud":[null]}
            ".",
            "",
            "====",
        ];
        let jwks = Jwks::from_slice(
            json!({"keys": [{"kty": "EC", "kid": "k", "crv": "P-256",
                   "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])}]})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..4000 {
            let mut s = String::new();
            for _ in 0..rng.below(8) {
                if rng.below(2) == 0 {
                    s.push_str(fragments[rng.below(fragments.len())]);
                } else {
                    for _ in 0..rng.below(12) {
                        s.push(alphabet[rng.below(alphabet.len())]);
                    }
                }
                if rng.below(3) == 0 {
                    s.push('.');
                }
            }
            if let Ok(c) = TokenClaims::decode_unverified(&s) {
                let _ = check_against_trust(&c, "https://i", "a", "s", now());
                for p in check_against_trust(&c, "https://i", "a", "s", now()) {
                    let _ = p.to_string();
                }
            }
            let _ = decode_header(&s);
            let _ = verify_signature(&s, &jwks);
        }
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let claims = TokenClaims {
            iss: Some("https://i".into()),
            aud: vec!["a".into()],
            sub: Some("s".into()),
            exp: Some(i64::MIN),
            iat: Some(i64::MAX),
            nbf: Some(i64::MAX),
        };
        let problems = check_against_trust(&claims, "https://i", "a", "s", now());
        assert_eq!(problems.len(), 2);
        for p in &problems {
            let _ = p.to_string();
        }
        let _ = check_against_trust(
            &claims,
            "https://i",
            "a",
            "s",
            UNIX_EPOCH - Duration::from_secs(5),
        );
        let _ = check_against_trust(
            &claims,
            "https://i",
            "a",
            "s",
            SystemTime::UNIX_EPOCH + Duration::from_secs(u64::MAX / 4),
        );
    }

    #[test]
    fn trust_problems_are_precise() {
        let claims = TokenClaims {
            iss: Some("https://oidc.localops.co/".into()),
            aud: vec!["other".into(), "x".into()],
            sub: Some("localops:conn-2".into()),
            exp: Some(NOW - 330),
            iat: Some(NOW - 930),
            nbf: None,
        };
        let problems = check_against_trust(
            &claims,
            "https://oidc.localops.co",
            "sts.amazonaws.com",
            "localops:conn-1",
            now(),
        );
        let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(texts.len(), 4, "{texts:#?}");
        assert!(texts[0].contains("\"https://oidc.localops.co/\""));
        assert!(texts[0].contains("\"https://oidc.localops.co\""));
        assert!(texts[0].contains("trailing slash"));
        assert!(texts[1].contains("[\"other\", \"x\"]"));
        assert!(texts[1].contains("\"sts.amazonaws.com\""));
        assert!(texts[2].contains("\"localops:conn-2\""));
        assert!(texts[2].contains("\"localops:conn-1\""));
        assert_eq!(
            texts[3],
            "the token expired 5m 30s ago (exp 2023-11-14T22:07:50Z)"
        );

        let ok = TokenClaims {
            iss: Some("https://i".into()),
            aud: vec!["a".into()],
            sub: Some("s".into()),
            exp: Some(NOW + 1),
            iat: Some(NOW),
            nbf: Some(NOW),
        };
        assert!(check_against_trust(&ok, "https://i", "a", "s", now()).is_empty());
        let early = TokenClaims {
            nbf: Some(NOW + 7200),
            ..ok.clone()
        };
        let p = check_against_trust(&early, "https://i", "a", "s", now());
        assert_eq!(p.len(), 1);
        assert!(p[0].to_string().contains("becomes valid in 2h"), "{}", p[0]);
        let at_exp = TokenClaims {
            exp: Some(NOW),
            ..ok.clone()
        };
        assert!(matches!(
            check_against_trust(&at_exp, "https://i", "a", "s", now())[..],
            [TokenProblem::Expired { .. }]
        ));
        let empty = TokenClaims::default();
        let p = check_against_trust(&empty, "https://i", "a", "s", now());
        assert_eq!(p.len(), 4);
        assert!(p.contains(&TokenProblem::MissingExpiry));
    }

    #[test]
    fn formatting_helpers() {
        assert_eq!(fmt_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(fmt_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(fmt_unix(-1), "1969-12-31T23:59:59Z");
        assert_eq!(fmt_unix(i64::MAX), i64::MAX.to_string());
        assert_eq!(human_duration(Duration::ZERO), "0s");
        assert_eq!(human_duration(Duration::from_secs(59)), "59s");
        assert_eq!(human_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(human_duration(Duration::from_secs(3725)), "1h 2m");
        assert_eq!(human_duration(Duration::from_secs(90_000)), "1d 1h");
    }

    #[test]
    fn secret_token_redacts_and_trims() {
        let t = SecretToken::new("  abc.def.ghi\r\n");
        assert_eq!(t.expose(), "abc.def.ghi");
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("abc"), "{dbg}");
        assert!(dbg.contains("11 bytes"), "{dbg}");
    }

    #[test]
    fn read_token_from_file_and_env() {
        let dir =
            std::env::temp_dir().join(format!("localops-issuer-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "a.b.c\n").unwrap();
        let t = read_token(TokenSource::File(path.clone())).unwrap();
        assert_eq!(t.expose(), "a.b.c");
        std::fs::write(&path, " \n").unwrap();
        let err = read_token(TokenSource::File(path.clone())).unwrap_err();
        assert!(matches!(err, TokenError::EmptySource { .. }), "{err}");
        std::fs::write(&path, [0xffu8, 0xfe, b'x']).unwrap();
        let err = read_token(TokenSource::File(path.clone())).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
        let err = read_token(TokenSource::File(dir.join("missing"))).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();

        // PATH is always set; an unlikely name is never set. (No env mutation: tests run in
        // parallel and `set_var` is unsafe in edition 2024.)
        assert!(read_token(TokenSource::Env("PATH".into())).is_ok());
        let err =
            read_token(TokenSource::Env("LOCALOPS_SURELY_UNSET_TOKEN_VAR".into())).unwrap_err();
        assert!(err.to_string().contains("not set"), "{err}");
    }

    fn es256_fixture() -> (ring::signature::EcdsaKeyPair, Jwks) {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = kp.public_key().as_ref();
        let jwks = json!({"keys": [{"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256",
            "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65])}]});
        (kp, Jwks::from_slice(jwks.to_string().as_bytes()).unwrap())
    }

    fn sign_es256(kp: &ring::signature::EcdsaKeyPair, header: &Value, payload: &Value) -> String {
        let input = format!("{}.{}", enc(header), enc(payload));
        let sig = kp
            .sign(&ring::rand::SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    #[test]
    fn es256_signatures_verify_and_tampering_fails() {
        let (kp, jwks) = es256_fixture();
        let payload = json!({"iss": "https://i", "sub": "s", "aud": "a", "exp": NOW});
        let good = sign_es256(&kp, &json!({"alg": "ES256", "kid": "ec-1"}), &payload);
        verify_signature(&good, &jwks).unwrap();
        let no_kid = sign_es256(&kp, &json!({"alg": "ES256"}), &payload);
        verify_signature(&no_kid, &jwks).unwrap();

        let other_kid = sign_es256(&kp, &json!({"alg": "ES256", "kid": "nope"}), &payload);
        let err = verify_signature(&other_kid, &jwks).unwrap_err().to_string();
        assert!(err.contains("\"nope\"") && err.contains("ec-1"), "{err}");

        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        parts[1] = enc(&json!({"iss": "https://i", "sub": "admin", "aud": "a", "exp": NOW}));
        let tampered = parts.join(".");
        let err = verify_signature(&tampered, &jwks).unwrap_err();
        assert_eq!(err, TokenError::BadSignature("key ec-1".into()));

        let none = format!("{}.{}.", enc(&json!({"alg": "none"})), enc(&payload));
        assert!(matches!(
            verify_signature(&none, &jwks),
            Err(TokenError::UnsupportedAlgorithm { .. })
        ));
        let hs = format!(
            "{}.{}.AAAA",
            enc(&json!({"alg": "HS256", "kid": "ec-1"})),
            enc(&payload)
        );
        assert!(matches!(
            verify_signature(&hs, &jwks),
            Err(TokenError::UnsupportedAlgorithm { .. })
        ));
        let wrong_alg = format!(
            "{}.{}.AAAA",
            enc(&json!({"alg": "RS256", "kid": "ec-1"})),
            enc(&payload)
        );
        let err = verify_signature(&wrong_alg, &jwks).unwrap_err().to_string();
        assert!(err.contains("RS256"), "{err}");
    }
}
