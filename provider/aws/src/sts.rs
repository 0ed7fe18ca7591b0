//! STS: who the provider is, and the live proof that LocalOps can assume the connection role.
//!
//! [`Sts::prove_web_identity`] calls `AssumeRoleWithWebIdentity` (an unsigned operation: the
//! caller's own credentials are not needed) and then `GetCallerIdentity` with the session
//! credentials it got back. Those credentials stay inside the function: they are handed to a
//! throw-away client and dropped; the returned [`WebIdentityProof`] carries the caller ARN,
//! the assumed role's ARN and id and the expiry, never a key. The web identity token is never
//! logged or put in an error.
//!
//! Right after the role or the OIDC provider was created, IAM changes take a while to reach
//! STS. Within the proof's retry budget (default [`DEFAULT_PROOF_RETRY_BUDGET`]) these
//! answers are retried with jittered backoff:
//!
//! * `AccessDenied` from `AssumeRoleWithWebIdentity` (the role's trust policy not visible yet);
//! * `InvalidIdentityToken` saying "No OpenIDConnect provider found" (provider not visible yet)
//!   or "Couldn't retrieve verification key" (STS could not fetch the issuer's keys yet);
//! * `IDPCommunicationError` (the issuer could not be reached; AWS documents it as retryable);
//! * `InvalidClientTokenId` from `GetCallerIdentity` (the new session not visible yet);
//! * throttling and server errors (a few rounds beyond the SDK's own attempts).
//!
//! Everything else (an expired token, a wrong audience, a malformed ARN...) fails at once.

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_sts::Client;
use aws_sdk_sts::config::Credentials;
use aws_sdk_sts::primitives::DateTimeFormat;
use tokio_util::sync::CancellationToken;

use crate::config::{validate_role_arn, validate_session_name};
use crate::error::{AwsError, ErrorClass};
use crate::iam::code_and_message;
use crate::retry::{self, Backoff, CallError, Decision, RetryError, RetryOn, RetryPolicy};
use crate::util::jwt_claims;

/// Default time allowed for IAM changes to reach STS during a proof.
pub const DEFAULT_PROOF_RETRY_BUDGET: Duration = Duration::from_secs(60);

/// Result of `GetCallerIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// What a successful web identity proof showed. Holds no credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct WebIdentityProof {
    /// The role that was assumed, as requested.
    pub role_arn: String,
    /// `GetCallerIdentity`'s ARN with the session credentials
    /// (`arn:aws:sts::<account>:assumed-role/<role>/<session>`).
    pub caller_arn: String,
    /// Account of the session.
    pub account: String,
    /// `AssumedRoleUser.Arn` from `AssumeRoleWithWebIdentity`.
    pub assumed_role_arn: String,
    /// `AssumedRoleUser.AssumedRoleId` (`<role id>:<session name>`).
    pub assumed_role_id: String,
    /// When the session credentials expire (RFC 3339).
    pub expires_at: Option<String>,
    /// `SubjectFromWebIdentityToken`, or the token's `sub` claim when STS did not return it.
    pub subject_from_token: Option<String>,
    /// `Audience`, or the token's `aud` claim when STS did not return it.
    pub audience: Option<String>,
    /// `Provider` (the issuer STS matched), or the token's `iss` claim.
    pub provider: Option<String>,
    /// Number of `AssumeRoleWithWebIdentity` attempts it took.
    pub attempts: u32,
}

impl fmt::Debug for WebIdentityProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebIdentityProof")
            .field("role_arn", &self.role_arn)
            .field("caller_arn", &self.caller_arn)
            .field("account", &self.account)
            .field("assumed_role_arn", &self.assumed_role_arn)
            .field("assumed_role_id", &self.assumed_role_id)
            .field("expires_at", &self.expires_at)
            .field("subject_from_token", &self.subject_from_token)
            .field("audience", &self.audience)
            .field("provider", &self.provider)
            .field("attempts", &self.attempts)
            .finish()
    }
}

/// Errors of STS calls.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    /// An AWS call failed (after `attempts` attempts). `message` is AWS's text.
    #[error("STS {operation} {resource}: {}{}", code_and_message(code, message), attempts_note(*attempts))]
    Aws {
        operation: &'static str,
        resource: String,
        code: Option<String>,
        message: String,
        class: ErrorClass,
        attempts: u32,
    },
    /// An argument was rejected before calling AWS.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Cancelled; `last_error` is the most recent failure, if any attempt had failed.
    #[error("interrupted during STS {operation} after {attempts} attempt(s){}", last_error.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default())]
    Interrupted {
        operation: &'static str,
        attempts: u32,
        last_error: Option<String>,
    },
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl StsError {
    fn from_aws(e: AwsError, attempts: u32) -> Self {
        StsError::Aws {
            operation: e.operation,
            resource: e.resource,
            code: e.code,
            message: e.message,
            class: e.class,
            attempts,
        }
    }

    /// The final failure of the retried `operation`.
    fn from_retry(operation: &'static str, e: RetryError<AwsError>) -> Self {
        match e {
            RetryError::Failed { attempts, error } => StsError::from_aws(error, attempts),
            RetryError::Interrupted { attempts, last } => StsError::Interrupted {
                operation,
                attempts,
                last_error: last.map(|e| e.to_string()),
            },
        }
    }

    /// The error class of an AWS failure.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            StsError::Aws { class, .. } => Some(*class),
            _ => None,
        }
    }
}

/// How `AssumeRoleWithWebIdentity` failures are retried during a proof (see the module docs).
pub fn web_identity_decision(e: &AwsError) -> Decision {
    let code = e.code.as_deref().unwrap_or_default();
    match code {
        "IDPCommunicationError" => Decision::RetryConsistency,
        "AccessDenied" | "AccessDeniedException" => Decision::RetryConsistency,
        "InvalidIdentityToken" | "InvalidIdentityTokenException"
            if e.message.contains("Couldn't retrieve verification key")
                || e.message.contains("No OpenIDConnect provider found") =>
        {
            Decision::RetryConsistency
        }
        _ if e.class.is_transient() => Decision::RetryTransient,
        _ => Decision::Stop,
    }
}

/// How `GetCallerIdentity` failures with fresh session credentials are retried.
pub fn session_decision(e: &AwsError) -> Decision {
    match e.code.as_deref() {
        Some("InvalidClientTokenId") => Decision::RetryConsistency,
        _ if e.class.is_transient() => Decision::RetryTransient,
        _ => Decision::Stop,
    }
}

/// STS operations on one client.
/// `Debug` leaves the client out (the SDK's prints parsed profile files, secrets included).
#[derive(Clone)]
pub struct Sts {
    client: Client,
    retry: RetryPolicy,
    proof_backoff: Backoff,
}

impl std::fmt::Debug for Sts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sts")
            .field("retry", &self.retry)
            .field("proof_backoff", &self.proof_backoff)
            .finish_non_exhaustive()
    }
}

impl Sts {
    pub fn new(client: Client) -> Self {
        Sts {
            client,
            retry: RetryPolicy::default(),
            proof_backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(8),
                multiplier: 2.0,
            },
        }
    }

    /// Replaces the retry policy of single calls.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the backoff used between proof attempts.
    pub fn with_proof_backoff(mut self, backoff: Backoff) -> Self {
        self.proof_backoff = backoff;
        self
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Who the configured credentials belong to.
    pub async fn caller_identity(
        &self,
        cancel: &CancellationToken,
    ) -> Result<CallerIdentity, StsError> {
        let out = retry::call_aws(
            &self.retry,
            cancel,
            "GetCallerIdentity",
            "caller",
            RetryOn::TRANSIENT,
            || self.client.get_caller_identity().send(),
        )
        .await
        .map_err(|e| match e {
            CallError::Aws(e) => StsError::from_aws(e, 1),
            CallError::Interrupted => StsError::Interrupted {
                operation: "GetCallerIdentity",
                attempts: 1,
                last_error: None,
            },
        })?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
            user_id: out.user_id().unwrap_or_default().to_owned(),
        })
    }

    /// Assumes `role_arn` with the web identity `token` and proves the session works by calling
    /// `GetCallerIdentity` with it. `token` is a secret: it is never logged or returned.
    /// `duration` must be 900..=43200 seconds when given. Retries IAM propagation delays within
    /// `retry_budget` (see the module docs); returns promptly when `cancel` fires.
    pub async fn prove_web_identity(
        &self,
        role_arn: &str,
        token: &str,
        session_name: &str,
        duration: Option<Duration>,
        cancel: &CancellationToken,
        retry_budget: Duration,
    ) -> Result<WebIdentityProof, StsError> {
        let invalid = |e: crate::config::ConfigError| StsError::Invalid {
            field: e.field,
            reason: e.reason,
        };
        validate_role_arn("role_arn", role_arn).map_err(invalid)?;
        validate_session_name("session_name", session_name).map_err(invalid)?;
        if token.trim().is_empty() {
            return Err(StsError::Invalid {
                field: "token",
                reason: "the web identity token is empty".into(),
            });
        }
        let duration_seconds = match duration {
            None => None,
            Some(d) if (900..=43200).contains(&d.as_secs()) => i32::try_from(d.as_secs()).ok(),
            Some(d) => {
                return Err(StsError::Invalid {
                    field: "duration",
                    reason: format!("{}s is outside 900..=43200 seconds", d.as_secs()),
                });
            }
        };

        let started = Instant::now();
        let policy = RetryPolicy {
            backoff: self.proof_backoff,
            budget: retry_budget,
            max_attempts: 1000,
            max_transient_rounds: 3,
        };
        let assumed = retry::retry(
            &policy,
            cancel,
            "AssumeRoleWithWebIdentity",
            |attempt| {
                tracing::debug!(role_arn, attempt, "assuming role with web identity");
                let fut = self
                    .client
                    .assume_role_with_web_identity()
                    .role_arn(role_arn)
                    .role_session_name(session_name)
                    .web_identity_token(token)
                    .set_duration_seconds(duration_seconds)
                    .send();
                async move {
                    fut.await
                        .map(|out| (attempt, out))
                        .map_err(|e| AwsError::from_sdk("AssumeRoleWithWebIdentity", role_arn, &e))
                }
            },
            web_identity_decision,
        )
        .await;
        let (attempts, out) =
            assumed.map_err(|e| StsError::from_retry("AssumeRoleWithWebIdentity", e))?;

        let (Some(creds), Some(user)) = (out.credentials(), out.assumed_role_user()) else {
            return Err(StsError::Aws {
                operation: "AssumeRoleWithWebIdentity",
                resource: role_arn.to_owned(),
                code: None,
                message: "the response carried no credentials or assumed role user".into(),
                class: ErrorClass::Other,
                attempts,
            });
        };
        let expiry = SystemTime::try_from(*creds.expiration()).ok();
        let expires_at = creds.expiration().fmt(DateTimeFormat::DateTime).ok();
        let claims = jwt_claims(token).unwrap_or_default();
        let assumed_role_arn = user.arn().to_owned();
        let assumed_role_id = user.assumed_role_id().to_owned();
        let subject_from_token = out
            .subject_from_web_identity_token()
            .map(str::to_owned)
            .or(claims.subject);
        let audience = out.audience().map(str::to_owned).or(claims.audience);
        let provider = out.provider().map(str::to_owned).or(claims.issuer);

        // The session credentials live only in this throw-away client.
        let session_client = {
            let session = Credentials::new(
                creds.access_key_id(),
                creds.secret_access_key(),
                Some(creds.session_token().to_owned()),
                expiry,
                "localops-web-identity-proof",
            );
            let conf = self
                .client
                .config()
                .to_builder()
                .credentials_provider(session)
                .identity_cache(aws_sdk_sts::config::IdentityCache::no_cache())
                .build();
            Client::from_conf(conf)
        };
        drop(out);

        let remaining = retry_budget
            .saturating_sub(started.elapsed())
            .max(Duration::from_secs(10));
        let identity = retry::retry(
            &policy.with_budget(remaining),
            cancel,
            "GetCallerIdentity",
            |_| {
                let fut = session_client.get_caller_identity().send();
                let resource = assumed_role_arn.as_str();
                async move {
                    fut.await
                        .map_err(|e| AwsError::from_sdk("GetCallerIdentity", resource, &e))
                }
            },
            session_decision,
        )
        .await
        .map_err(|e| StsError::from_retry("GetCallerIdentity", e))?;
        let proof = WebIdentityProof {
            role_arn: role_arn.to_owned(),
            caller_arn: identity.arn().unwrap_or_default().to_owned(),
            account: identity.account().unwrap_or_default().to_owned(),
            assumed_role_arn,
            assumed_role_id,
            expires_at,
            subject_from_token,
            audience,
            provider,
            attempts,
        };
        tracing::info!(
            role_arn,
            caller_arn = %proof.caller_arn,
            attempts,
            "web identity proof succeeded"
        );
        Ok(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, message: &str, class: ErrorClass) -> AwsError {
        AwsError {
            operation: "AssumeRoleWithWebIdentity",
            resource: "arn:aws:iam::123456789012:role/x".into(),
            code: Some(code.into()),
            message: message.into(),
            class,
            status: Some(400),
            request_id: None,
        }
    }

    #[test]
    fn propagation_errors_are_retried() {
        let cases = [
            (
                "InvalidIdentityToken",
                "Couldn't retrieve verification key from your identity provider",
            ),
            (
                "InvalidIdentityToken",
                "No OpenIDConnect provider found in your account for https://oidc.localops.co",
            ),
            (
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            ),
            ("IDPCommunicationError", "could not reach the IdP"),
        ];
        for (code, message) in cases {
            let class = crate::error::classify_code(Some(code), message, Some(400));
            assert_eq!(
                web_identity_decision(&err(code, message, class)),
                Decision::RetryConsistency,
                "{code}: {message}"
            );
        }
    }

    #[test]
    fn permanent_errors_stop() {
        let cases = [
            ("InvalidIdentityToken", "Incorrect token audience"),
            (
                "ExpiredTokenException",
                "Token expired: current date/time 2 must be before the expiration date/time 1",
            ),
            ("ValidationError", "1 validation error detected"),
            (
                "RegionDisabledException",
                "STS is not activated in this region",
            ),
        ];
        for (code, message) in cases {
            let class = crate::error::classify_code(Some(code), message, Some(400));
            assert_eq!(
                web_identity_decision(&err(code, message, class)),
                Decision::Stop,
                "{code}"
            );
        }
        assert_eq!(
            web_identity_decision(&err("Throttling", "Rate exceeded", ErrorClass::Throttling)),
            Decision::RetryTransient
        );
    }

    #[test]
    fn session_errors() {
        assert_eq!(
            session_decision(&err(
                "InvalidClientTokenId",
                "The security token included in the request is invalid",
                ErrorClass::InvalidCredentials
            )),
            Decision::RetryConsistency
        );
        assert_eq!(
            session_decision(&err("AccessDenied", "no", ErrorClass::AccessDenied)),
            Decision::Stop
        );
    }
}
