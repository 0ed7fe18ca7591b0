//! The optional live proof that a connection works: `verify { token_file | token_env }`.
//!
//! With a token LocalOps would present, the provider calls `AssumeRoleWithWebIdentity` on the
//! connection's role and `GetCallerIdentity` with the session (through `localops-aws`, which
//! retries across IAM's propagation delay within [`ProviderSettings::verify_retry`] and never
//! lets the session keys out). The outcome is recorded in the computed `verified_at` (RFC 3339)
//! and `caller_arn`; the token is read at run time and never stored: state holds only where it
//! comes from (a path or a variable name).
//!
//! Before STS is called, the token's own claims are compared with the trust the connection
//! renders (`iss` = `oidc_issuer_url`, `aud` contains `oidc_audience`, `sub` = `subject`,
//! expiry), and its signature with the issuer's JWKS when the issuer check fetched it, so a
//! wrong token is explained (claim, token value, expected value), not just refused.
//!
//! Plan semantics: `verified_at` and `caller_arn` are planned as their prior values when the
//! plan changes nothing else, so a second plan stays empty; they are unknown when the apply
//! will run (create, update) and null without `verify`. At plan of an existing connection the
//! proof runs and reports problems as diagnostics without touching planned values.
//!
//! Severities: a token that does not fit the trust (issuer, audience, subject, signature) or a
//! role that STS refuses is an error: the connection does not work for that identity. A token
//! that is merely expired (or not valid yet) is a warning at plan: it proves nothing either
//! way about the connection, tokens are short-lived, and a stale token file must not block
//! unrelated changes; the proof is skipped. At apply, where the proof was asked for, it is an
//! error. Missing AWS credentials at plan skip the STS part with a warning (plans work offline).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use localops_aws::{CancellationToken, ErrorClass, StsError};
use localops_issuer::token::fmt_unix;
use localops_issuer::{
    Jwks, SecretToken, TokenClaims, TokenError, TokenProblem, TokenSource, check_against_trust,
    read_token, verify_signature,
};
use tfplugin::{
    ApplyOutcome, Attribute, AttributePath, Diagnostic, MaybeUnknown, ObjectNesting, ObjectReader,
    Plan, Type, Value,
};

use super::desired::Desired;
use super::issuer;
use crate::settings::Settings;

pub const VERIFY: &str = "verify";
pub const VERIFIED_AT: &str = "verified_at";
pub const CALLER_ARN: &str = "caller_arn";
const TOKEN_FILE: &str = "token_file";
const TOKEN_ENV: &str = "token_env";
const SESSION_NAME: &str = "localops-terraform-verify";
/// Cap on the plan-time proof's retries: an existing role needs no propagation wait.
const PLAN_RETRY_CAP: Duration = Duration::from_secs(15);

/// The schema's `verify`, `verified_at` and `caller_arn`.
pub fn schema_attributes() -> [Attribute; 3] {
    [
        Attribute::nested(
            VERIFY,
            ObjectNesting::Single,
            vec![
                Attribute::new(TOKEN_FILE, Type::String).optional().description(
                    "Path of a file holding a LocalOps web identity token (a JWT), read at each \
                     plan and apply. Exactly one of `token_file` and `token_env`.",
                ),
                Attribute::new(TOKEN_ENV, Type::String).optional().description(
                    "Name of an environment variable holding a LocalOps web identity token. \
                     Exactly one of `token_file` and `token_env`.",
                ),
            ],
        )
        .optional()
        .description(
            "Prove the connection works: after each create or update, and at each plan of an \
             existing connection, the provider checks the token's `iss`, `aud`, `sub`, expiry \
             and (when the issuer is reachable) signature against the connection's trust, then \
             calls `sts:AssumeRoleWithWebIdentity` on the role and `sts:GetCallerIdentity` with \
             the session, retrying across IAM's propagation delay (60 s; \
             `LOCALOPS_VERIFY_RETRY_SECONDS`). The token is a secret: it is never stored, only \
             where it comes from is; the session's credentials are never kept. A token that does \
             not fit, or a refusal by STS, is an error; an expired token is a warning at plan \
             and an error at apply.",
        ),
        Attribute::new(VERIFIED_AT, Type::String)
            .computed()
            .description(
                "When the `verify` proof last succeeded during an apply (RFC 3339, UTC). Null \
                 without `verify`.",
            ),
        Attribute::new(CALLER_ARN, Type::String)
            .computed()
            .description(
                "The identity STS reported for the `verify` session \
                 (`arn:aws:sts::<account>:assumed-role/<role>/<session>`). Null without \
                 `verify`.",
            ),
    ]
}

/// Where the token comes from, with the attribute path to blame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenOrigin {
    pub source: TokenSource,
    pub path: AttributePath,
}

fn verify_path(name: &str) -> AttributePath {
    AttributePath::attr(VERIFY).attribute(name)
}

/// The `verify` argument: `Known(None)` when absent, `Unknown` when (partly) unknown.
pub fn read(config: &Value) -> Result<MaybeUnknown<Option<TokenOrigin>>, Vec<Diagnostic>> {
    let value = config.attribute(VERIFY).unwrap_or(&Value::Null);
    if value.is_null() {
        return Ok(MaybeUnknown::Known(None));
    }
    if value.is_unknown() {
        return Ok(MaybeUnknown::Unknown);
    }
    let object = ObjectReader::new(value)
        .map_err(|e| vec![Diagnostic::from(e).at(AttributePath::attr(VERIFY))])?;
    let get = |name: &str| -> Result<MaybeUnknown<Option<String>>, Diagnostic> {
        object
            .get::<MaybeUnknown<Option<String>>>(name)
            .map_err(|e| Diagnostic::from(e).at(verify_path(name)))
    };
    let (file, env) = match (get(TOKEN_FILE), get(TOKEN_ENV)) {
        (Ok(f), Ok(e)) => (f, e),
        (f, e) => {
            return Err([f.err(), e.err()].into_iter().flatten().collect());
        }
    };
    let (MaybeUnknown::Known(file), MaybeUnknown::Known(env)) = (file, env) else {
        return Ok(MaybeUnknown::Unknown);
    };
    match (file, env) {
        (Some(_), Some(_)) | (None, None) => Err(vec![
            Diagnostic::error(
                "Give exactly one token source",
                "`verify` needs exactly one of `token_file` (a path) and `token_env` (an \
                 environment variable name).",
            )
            .at(AttributePath::attr(VERIFY)),
        ]),
        (Some(file), None) if file.trim().is_empty() => Err(vec![
            Diagnostic::error("Empty token file path", "`token_file` is empty.")
                .at(verify_path(TOKEN_FILE)),
        ]),
        (None, Some(var)) if !valid_env_name(&var) => Err(vec![
            Diagnostic::error(
                "Invalid environment variable name",
                format!(
                    "{var:?} is not an environment variable name: use letters, digits and \
                     underscores, not starting with a digit (the name, not the token)."
                ),
            )
            .at(verify_path(TOKEN_ENV)),
        ]),
        (Some(file), None) => Ok(MaybeUnknown::Known(Some(TokenOrigin {
            source: TokenSource::File(PathBuf::from(file)),
            path: verify_path(TOKEN_FILE),
        }))),
        (None, Some(var)) => Ok(MaybeUnknown::Known(Some(TokenOrigin {
            source: TokenSource::Env(var),
            path: verify_path(TOKEN_ENV),
        }))),
    }
}

fn valid_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// ValidateResourceConfig: the shape of `verify`.
pub fn validate(config: &Value) -> Vec<Diagnostic> {
    read(config).err().unwrap_or_default()
}

/// What the token has to fit.
#[derive(Clone, Debug)]
pub struct Trust {
    pub issuer_url: String,
    pub audience: String,
    pub subject: String,
}

impl Trust {
    pub fn of(desired: &Desired) -> Trust {
        Trust {
            issuer_url: desired.issuer_url.clone(),
            audience: desired.audience.clone(),
            subject: desired.subject.clone(),
        }
    }
}

/// Everything this module and [`issuer`] do at plan, after the planned values are set: the
/// issuer check on a create or update (or whenever `verify` needs its keys), then the
/// `verify` checks. Diagnostics go to the plan; planned values are left alone.
pub async fn run_at_plan(
    settings: &Settings,
    plan: &mut Plan,
    desired: Option<&Desired>,
    cancel: &CancellationToken,
) {
    let Some(desired) = desired else {
        return;
    };
    let configured = !plan
        .config
        .attribute(VERIFY)
        .unwrap_or(&Value::Null)
        .is_null();
    let changing = plan.prior_state.is_null()
        || comparable(&plan.planned) != comparable(&plan.prior_state)
        || !plan.requires_replace.is_empty();
    if !changing && !configured {
        return;
    }
    let issuer = issuer::check(settings).await;
    let issuer_failed = issuer.diagnostics.iter().any(Diagnostic::is_error);
    plan.diagnostics.extend(issuer.diagnostics);
    if issuer_failed {
        // Every token of the issuer is refused; the proof would only repeat that.
        return;
    }
    let trust = Trust::of(desired);
    let found = plan_check(settings, plan, Some(&trust), issuer.jwks.as_ref(), cancel).await;
    plan.diagnostics.extend(found);
}

/// Which phase asks: severities differ (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Plan,
    Apply,
}

fn is_timing(problem: &TokenProblem) -> bool {
    matches!(
        problem,
        TokenProblem::Expired { .. } | TokenProblem::NotYetValid { .. }
    )
}

fn token_error(origin: &TokenOrigin, e: &TokenError) -> Diagnostic {
    Diagnostic::error(
        "Cannot use the verify token",
        format!("The token from the {}: {e}.", origin.source),
    )
    .at(origin.path.clone())
}

/// Reads the token and checks it against the trust and the JWKS. `Ok(None)`: the proof is
/// skipped (a warning explains); `Err`: the token cannot work.
fn checked_token(
    origin: &TokenOrigin,
    trust: &Trust,
    jwks: Option<&Jwks>,
    phase: Phase,
    out: &mut Vec<Diagnostic>,
) -> Option<SecretToken> {
    let token = match read_token(origin.source.clone()) {
        Ok(t) => t,
        Err(e) => {
            out.push(token_error(origin, &e));
            return None;
        }
    };
    let claims = match TokenClaims::decode_unverified(token.expose()) {
        Ok(c) => c,
        Err(e) => {
            out.push(token_error(origin, &e));
            return None;
        }
    };
    let problems = check_against_trust(
        &claims,
        &trust.issuer_url,
        &trust.audience,
        &trust.subject,
        SystemTime::now(),
    );
    let (timing, identity): (Vec<_>, Vec<_>) = problems.into_iter().partition(is_timing);
    if !identity.is_empty() {
        out.push(
            Diagnostic::error(
                "The verify token does not fit the connection's trust",
                format!(
                    "STS would refuse the token from the {} for this connection:\n  - {}\n\nEither \
                     the token is not the one LocalOps presents for this connection, or the \
                     connection's `subject` (or the provider's `oidc_issuer_url` / \
                     `oidc_audience`) is not what LocalOps shows.",
                    origin.source,
                    identity
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n  - ")
                ),
            )
            .at(origin.path.clone()),
        );
        return None;
    }
    if let Some(jwks) = jwks
        && let Err(e) = verify_signature(token.expose(), jwks)
    {
        out.push(
            Diagnostic::error(
                "The verify token is not signed by LocalOps' issuer",
                format!(
                    "The token from the {} does not verify against the keys of {}: {e}. STS \
                     checks the same signature and would refuse it.",
                    origin.source, trust.issuer_url
                ),
            )
            .at(origin.path.clone()),
        );
        return None;
    }
    if !timing.is_empty() {
        let text = timing
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        let detail = format!(
            "The token from the {}: {text}. STS refuses such a token, so it cannot prove \
             anything about the connection; give a fresh token.",
            origin.source
        );
        out.push(match phase {
            Phase::Plan => {
                Diagnostic::warning("The verify token cannot be used now; proof skipped", detail)
                    .at(origin.path.clone())
            }
            Phase::Apply => Diagnostic::error("The verify token cannot be used now", detail)
                .at(origin.path.clone()),
        });
        return None;
    }
    Some(token)
}

struct Proven {
    verified_at: String,
    caller_arn: String,
}

async fn prove(
    settings: &Settings,
    role_arn: &str,
    token: &SecretToken,
    budget: Duration,
    cancel: &CancellationToken,
    phase: Phase,
    out: &mut Vec<Diagnostic>,
) -> Option<Proven> {
    let aws = match settings.aws().await {
        Ok(aws) => aws,
        Err(d) => {
            out.push(d);
            return None;
        }
    };
    match aws
        .sts
        .prove_web_identity(
            role_arn,
            token.expose(),
            SESSION_NAME,
            Some(Duration::from_secs(900)),
            cancel,
            budget,
        )
        .await
    {
        Ok(proof) => {
            tracing::info!(role = %role_arn, caller = %proof.caller_arn, attempts = proof.attempts, "verify proof passed");
            Some(Proven {
                verified_at: now_rfc3339(),
                caller_arn: proof.caller_arn,
            })
        }
        Err(StsError::Aws {
            class: ErrorClass::NoCredentials | ErrorClass::CredentialsProvider,
            ..
        }) if phase == Phase::Plan => {
            tracing::debug!("no AWS credentials at plan; verify proof skipped");
            None
        }
        Err(e) => {
            out.push(
                Diagnostic::error(
                    "The connection's role could not be assumed with the verify token",
                    format!(
                        "AssumeRoleWithWebIdentity on {role_arn} then GetCallerIdentity failed: \
                         {e}. The token fits the trust the connection renders, so the role or the \
                         OIDC provider in AWS differs from it (or IAM has not propagated it yet \
                         within {}s).",
                        budget.as_secs()
                    ),
                )
                .at(AttributePath::attr(VERIFY)),
            );
            None
        }
    }
}

fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    fmt_unix(secs)
}

/// The planned state without what a plan computes on its own, to tell a no-op from a change.
fn comparable(value: &Value) -> Value {
    let mut v = value.clone();
    if !v.is_null() {
        for name in ["status", VERIFIED_AT, CALLER_ARN] {
            v.set_attribute(name, Value::Null);
        }
    }
    v
}

/// Plans `verified_at` and `caller_arn`: prior values on a no-op, unknown when the apply will
/// prove again, null without `verify`. Call before anything compares planned with prior.
pub fn plan_attributes(plan: &mut Plan) {
    let configured = !plan
        .config
        .attribute(VERIFY)
        .unwrap_or(&Value::Null)
        .is_null();
    let changing = plan.prior_state.is_null()
        || comparable(&plan.planned) != comparable(&plan.prior_state)
        || !plan.requires_replace.is_empty();
    for name in [VERIFIED_AT, CALLER_ARN] {
        let value = if !configured {
            Value::Null
        } else if changing {
            Value::Unknown
        } else {
            plan.prior_state
                .attribute(name)
                .cloned()
                .unwrap_or(Value::Null)
        };
        plan.set(name, value);
    }
}

/// Plan-time proof: token checks always (when `verify` and the trust are known), the STS call
/// only on an existing connection whose trust the plan does not change.
pub async fn plan_check(
    settings: &Settings,
    plan: &Plan,
    trust: Option<&Trust>,
    jwks: Option<&Jwks>,
    cancel: &CancellationToken,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let origin = match read(&plan.config) {
        Ok(MaybeUnknown::Known(Some(origin))) => origin,
        Ok(_) => return out,
        Err(d) => return d,
    };
    let Some(trust) = trust else {
        return out;
    };
    let Some(token) = checked_token(&origin, trust, jwks, Phase::Plan, &mut out) else {
        return out;
    };
    let prior = &plan.prior_state;
    let same_subject =
        matches!(prior.attribute("subject"), Some(Value::String(s)) if *s == trust.subject);
    let role_arn = match prior.attribute("role_arn") {
        Some(Value::String(arn)) if !arn.is_empty() => arn.clone(),
        _ => return out,
    };
    if !same_subject || !plan.requires_replace.is_empty() {
        return out;
    }
    let Some(s) = settings.ready() else {
        return out;
    };
    let budget = s.verify_retry.min(PLAN_RETRY_CAP);
    prove(
        settings,
        &role_arn,
        &token,
        budget,
        cancel,
        Phase::Plan,
        &mut out,
    )
    .await;
    out
}

/// After a create or update: puts `verify` back into the new state (the read-back builds it
/// from AWS) and, when the apply succeeded and `verify` is set, runs the proof and records it.
pub async fn after_apply(
    settings: &Settings,
    config: &Value,
    desired: &Desired,
    cancel: &CancellationToken,
    mut outcome: ApplyOutcome,
) -> ApplyOutcome {
    if outcome.new_state.is_null() {
        return outcome;
    }
    let verify = config.attribute(VERIFY).cloned().unwrap_or(Value::Null);
    outcome.new_state.set_attribute(VERIFY, verify);
    outcome.new_state.set_attribute(VERIFIED_AT, Value::Null);
    outcome.new_state.set_attribute(CALLER_ARN, Value::Null);
    let origin = match read(config) {
        Ok(MaybeUnknown::Known(Some(origin))) => origin,
        Ok(_) => return outcome,
        Err(d) => {
            outcome.diagnostics.extend(d);
            return outcome;
        }
    };
    if outcome.diagnostics.has_errors() {
        return outcome;
    }
    let role_arn = match outcome.new_state.attribute("role_arn") {
        Some(Value::String(arn)) if !arn.is_empty() => arn.clone(),
        _ => {
            outcome.diagnostics.push(Diagnostic::error(
                "No role to verify",
                "The connection's stack reports no role ARN, so the verify proof could not run.",
            ));
            return outcome;
        }
    };
    let trust = Trust::of(desired);
    // The apply runs in its own provider process: one more issuer fetch, for the keys only
    // (the plan reported its findings).
    let jwks = issuer::check(settings).await.jwks;
    let jwks = jwks.as_ref();
    let trust = &trust;
    let mut out = Vec::new();
    let budget = settings
        .ready()
        .map_or(localops_aws::DEFAULT_PROOF_RETRY_BUDGET, |s| s.verify_retry);
    if let Some(token) = checked_token(&origin, trust, jwks, Phase::Apply, &mut out)
        && let Some(proven) = prove(
            settings,
            &role_arn,
            &token,
            budget,
            cancel,
            Phase::Apply,
            &mut out,
        )
        .await
    {
        outcome
            .new_state
            .set_attribute(VERIFIED_AT, Value::String(proven.verified_at));
        outcome
            .new_state
            .set_attribute(CALLER_ARN, Value::String(proven.caller_arn));
    }
    outcome.diagnostics.extend(out);
    outcome
}

/// Read: the refreshed state is built from AWS; `verify` and the last proof come from the
/// state read.
pub fn carry(from: &Value, to: &mut Value) {
    if to.is_null() {
        return;
    }
    for name in [VERIFY, VERIFIED_AT, CALLER_ARN] {
        to.set_attribute(name, from.attribute(name).cloned().unwrap_or(Value::Null));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(verify: Value) -> Value {
        Value::object([("name", Value::from("x")), (VERIFY, verify)])
    }

    fn verify(file: Value, env: Value) -> Value {
        Value::object([(TOKEN_FILE, file), (TOKEN_ENV, env)])
    }

    #[test]
    fn exactly_one_source() {
        assert_eq!(read(&config(Value::Null)), Ok(MaybeUnknown::Known(None)));
        let both = read(&config(verify("/t".into(), "T".into()))).unwrap_err();
        assert_eq!(both[0].attribute, Some(AttributePath::attr(VERIFY)));
        assert!(read(&config(verify(Value::Null, Value::Null))).is_err());
        let bad = read(&config(verify(Value::Null, "eyJhbGciOi.x".into()))).unwrap_err();
        assert_eq!(bad[0].attribute, Some(verify_path(TOKEN_ENV)));
        assert_eq!(
            read(&config(verify(Value::Unknown, Value::Null))),
            Ok(MaybeUnknown::Unknown)
        );
        match read(&config(verify("/run/token".into(), Value::Null))) {
            Ok(MaybeUnknown::Known(Some(o))) => {
                assert_eq!(o.source, TokenSource::File("/run/token".into()))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn carry_keeps_the_proof() {
        let from = Value::object([
            (VERIFY, verify("/t".into(), Value::Null)),
            (VERIFIED_AT, "2025-01-01T00:00:00Z".into()),
            (CALLER_ARN, "arn:aws:sts::1:assumed-role/r/s".into()),
        ]);
        let mut to = Value::object([("name", Value::from("x"))]);
        carry(&from, &mut to);
        assert_eq!(to.attribute(VERIFIED_AT), from.attribute(VERIFIED_AT));
        assert_eq!(to.attribute(VERIFY), from.attribute(VERIFY));
    }

    #[test]
    fn token_checks_explain() {
        let dir = std::env::temp_dir().join(format!("localops-verify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        // Unsigned token with the wrong subject and an old expiry.
        let b64 = |s: &str| {
            use std::fmt::Write;
            // base64url without padding, enough for ASCII JSON.
            const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let bytes = s.as_bytes();
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b))
                    << (8 * (3 - chunk.len()));
                for i in 0..=chunk.len() {
                    let _ = write!(out, "{}", A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        };
        let token = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"RS256","typ":"JWT"}"#),
            b64(
                r#"{"iss":"https://i.example.com","aud":"sts.amazonaws.com","sub":"wrong","exp":1000}"#
            )
        );
        std::fs::write(&path, &token).unwrap();
        let origin = TokenOrigin {
            source: TokenSource::File(path.clone()),
            path: verify_path(TOKEN_FILE),
        };
        let trust = Trust {
            issuer_url: "https://i.example.com".into(),
            audience: "sts.amazonaws.com".into(),
            subject: "right".into(),
        };
        let mut out = Vec::new();
        assert!(checked_token(&origin, &trust, None, Phase::Plan, &mut out).is_none());
        assert_eq!(out.len(), 1);
        assert!(out[0].is_error());
        assert!(out[0].detail.contains("\"wrong\"") && out[0].detail.contains("\"right\""));
        assert!(!out[0].detail.contains(&token));

        // Right subject, expired: a warning at plan, an error at apply.
        let trust = Trust {
            subject: "wrong".into(),
            ..trust
        };
        let mut out = Vec::new();
        assert!(checked_token(&origin, &trust, None, Phase::Plan, &mut out).is_none());
        assert!(
            !out[0].is_error() && out[0].detail.contains("expired"),
            "{:?}",
            out
        );
        let mut out = Vec::new();
        assert!(checked_token(&origin, &trust, None, Phase::Apply, &mut out).is_none());
        assert!(out[0].is_error());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
