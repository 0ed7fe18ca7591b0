//! Classification of AWS SDK errors.
//!
//! Every SDK failure is turned into an [`AwsError`]: the operation, the resource it was about,
//! AWS's error code and message (passed through verbatim, so an access-denied message still
//! names the missing action), and an [`ErrorClass`] the retry logic and the callers decide on.
//!
//! Messages never carry request parameters: the SDK's own error text does not include them,
//! and for failures that are not service errors we print the error's source chain, which names
//! the credential provider or the connection problem but never a key or token.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::RequestId;

use crate::config::MissingProfileCredentials;

/// Hint given when no credentials could be found anywhere in the default chain.
pub const NO_CREDENTIALS_HINT: &str = "no AWS credentials found: set AWS_PROFILE (or the provider's `profile`), \
     set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws sso login` for an SSO profile, \
     or run where web identity (AWS_WEB_IDENTITY_TOKEN_FILE), container or instance credentials are available";

/// What kind of failure an AWS call ended in. Decides what is retried and how callers react.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The service asked us to slow down (Throttling, ThrottlingException, RequestLimitExceeded,
    /// TooManyRequestsException, ...). Transient.
    Throttling,
    /// Server-side failure (HTTP 5xx, InternalError, ServiceUnavailable), a timeout or an I/O
    /// failure talking to the endpoint. Transient.
    Transient,
    /// IAM `ConcurrentModification`: another change to the same entity is in flight. Transient.
    ConcurrentModification,
    /// The entity does not exist (IAM `NoSuchEntity`, CloudFormation "Stack with id X does not exist").
    NotFound,
    /// The caller lacks a permission. AWS's message usually names the missing action.
    AccessDenied,
    /// No credentials were found in the default chain.
    NoCredentials,
    /// A credential provider was found but failed (bad profile, SSO session expired, assume-role denied...).
    CredentialsProvider,
    /// Credentials were sent but rejected (InvalidClientTokenId, SignatureDoesNotMatch, ExpiredToken...).
    InvalidCredentials,
    /// The request was rejected as invalid (ValidationError, InvalidInput, MalformedPolicyDocument...).
    Validation,
    /// The entity already exists (EntityAlreadyExists, AlreadyExistsException).
    AlreadyExists,
    /// A quota was hit (IAM LimitExceeded, CloudFormation LimitExceededException). Not transient.
    LimitExceeded,
    /// Anything else.
    Other,
}

impl ErrorClass {
    /// Throttling, server errors, timeouts and I/O failures: what AWS documents as safe to retry.
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorClass::Throttling | ErrorClass::Transient)
    }
}

/// A failed AWS call, with enough context to tell the user what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The API operation, e.g. `CreateStack`.
    pub operation: &'static str,
    /// What the call was about: a stack name or id, a role name, a provider ARN...
    pub resource: String,
    /// AWS's error code, when the service answered with one.
    pub code: Option<String>,
    /// AWS's error message verbatim, or a description of the client-side failure.
    pub message: String,
    /// How the failure is classified.
    pub class: ErrorClass,
    /// HTTP status of the response, when there was one.
    pub status: Option<u16>,
    /// AWS request id, for support cases.
    pub request_id: Option<String>,
}

impl AwsError {
    /// Classifies an SDK error from operation `operation` on `resource`.
    pub fn from_sdk<E>(operation: &'static str, resource: &str, err: &SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let request_id = err.request_id().map(str::to_owned);
        let (code, message, class) = match err {
            SdkError::ServiceError(service) => {
                let inner = service.err();
                let code = inner.code().map(str::to_owned);
                let message = inner
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| match &code {
                        Some(code) => code.clone(),
                        None => error_chain(inner),
                    });
                let class = classify_code(code.as_deref(), &message, status);
                (code, message, class)
            }
            SdkError::TimeoutError(_) => (
                None,
                format!("request timed out: {}", error_chain(err)),
                ErrorClass::Transient,
            ),
            SdkError::DispatchFailure(dispatch) => {
                if let Some(cred) = find_credentials_error(err) {
                    credentials_failure(cred)
                } else {
                    let class = if dispatch.is_user() {
                        ErrorClass::Other
                    } else {
                        ErrorClass::Transient
                    };
                    (
                        None,
                        format!("could not reach AWS: {}", error_chain(err)),
                        class,
                    )
                }
            }
            SdkError::ResponseError(_) => {
                let class = match status {
                    Some(s) if s >= 500 => ErrorClass::Transient,
                    Some(429) => ErrorClass::Throttling,
                    _ => ErrorClass::Other,
                };
                (
                    None,
                    format!("unreadable response from AWS: {}", error_chain(err)),
                    class,
                )
            }
            SdkError::ConstructionFailure(_) => match find_credentials_error(err) {
                Some(cred) => credentials_failure(cred),
                None => (
                    None,
                    format!("could not build the request: {}", error_chain(err)),
                    ErrorClass::Other,
                ),
            },
            _ => (None, error_chain(err), ErrorClass::Other),
        };
        AwsError {
            operation,
            resource: resource.to_owned(),
            code,
            message,
            class,
            status,
            request_id,
        }
    }

    /// True when AWS said the entity does not exist.
    pub fn is_not_found(&self) -> bool {
        self.class == ErrorClass::NotFound
    }

    /// True for access-denied answers.
    pub fn is_access_denied(&self) -> bool {
        self.class == ErrorClass::AccessDenied
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.operation, self.resource)?;
        match &self.code {
            Some(code) if code != &self.message => write!(f, "{code}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl StdError for AwsError {}

/// Classifies an AWS error code (and, for a few codes, the message).
pub fn classify_code(code: Option<&str>, message: &str, status: Option<u16>) -> ErrorClass {
    let Some(code) = code else {
        return match status {
            Some(429) => ErrorClass::Throttling,
            Some(s) if s >= 500 => ErrorClass::Transient,
            Some(403) => ErrorClass::AccessDenied,
            Some(404) => ErrorClass::NotFound,
            _ => ErrorClass::Other,
        };
    };
    match code {
        // Throttling codes, as the AWS SDKs' standard retry strategy lists them.
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestThrottledException"
        | "TooManyRequestsException"
        | "ProvisionedThroughputExceededException"
        | "TransactionInProgressException"
        | "RequestLimitExceeded"
        | "BandwidthLimitExceeded"
        | "RequestThrottled"
        | "SlowDown"
        | "PriorRequestNotComplete"
        | "EC2ThrottledException" => ErrorClass::Throttling,
        // Transient server-side codes.
        "RequestTimeout"
        | "RequestTimeoutException"
        | "InternalError"
        | "InternalFailure"
        | "InternalServiceError"
        | "InternalServerError"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "ServiceFailure"
        | "IDPCommunicationError" => ErrorClass::Transient,
        "ConcurrentModification" | "ConcurrentModificationException" => {
            ErrorClass::ConcurrentModification
        }
        "NoSuchEntity"
        | "NoSuchEntityException"
        | "ResourceNotFoundException"
        | "NotFound"
        | "StackNotFoundException" => ErrorClass::NotFound,
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnauthorizedAccess" => ErrorClass::AccessDenied,
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "UnrecognizedClientException"
        | "InvalidAccessKeyId"
        | "AuthFailure"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "InvalidSignatureException" => ErrorClass::InvalidCredentials,
        "EntityAlreadyExists" | "AlreadyExistsException" | "EntityAlreadyExistsException" => {
            ErrorClass::AlreadyExists
        }
        "LimitExceeded" | "LimitExceededException" => ErrorClass::LimitExceeded,
        "ValidationError" | "ValidationException" => {
            // CloudFormation reports a missing stack as a ValidationError.
            if message.contains("does not exist") {
                ErrorClass::NotFound
            } else {
                ErrorClass::Validation
            }
        }
        "InvalidInput"
        | "MalformedPolicyDocument"
        | "MalformedPolicyDocumentException"
        | "InvalidParameterValue"
        | "InvalidParameterCombination"
        | "MissingParameter"
        | "UnmodifiableEntity"
        | "DeleteConflict"
        | "InsufficientCapabilitiesException"
        | "TokenAlreadyExistsException"
        | "PackedPolicyTooLarge"
        | "RegionDisabledException"
        | "InvalidIdentityToken"
        | "InvalidIdentityTokenException" => ErrorClass::Validation,
        _ => match status {
            Some(429) => ErrorClass::Throttling,
            Some(s) if s >= 500 => ErrorClass::Transient,
            _ => ErrorClass::Other,
        },
    }
}

fn credentials_failure(cred: &CredentialsError) -> (Option<String>, String, ErrorClass) {
    match cred {
        CredentialsError::CredentialsNotLoaded(_) => {
            let message = match find_in_chain::<MissingProfileCredentials>(cred) {
                Some(missing) => format!(
                    "{missing} ({})",
                    missing.source().map(error_chain).unwrap_or_default()
                ),
                None => format!("{NO_CREDENTIALS_HINT} ({})", error_chain(cred)),
            };
            (None, message, ErrorClass::NoCredentials)
        }
        _ => (
            None,
            format!("could not obtain AWS credentials: {}", error_chain(cred)),
            ErrorClass::CredentialsProvider,
        ),
    }
}

fn find_credentials_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a CredentialsError> {
    find_in_chain::<CredentialsError>(err)
}

fn find_in_chain<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    let mut depth = 0;
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        depth += 1;
        if depth > 32 {
            break;
        }
        current = e.source();
    }
    None
}

/// Renders an error and its sources as `a: b: c`, skipping repeated text.
pub(crate) fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut current = err.source();
    let mut depth = 0;
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        depth += 1;
        if depth > 16 {
            break;
        }
        current = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_codes_are_transient() {
        for code in [
            "Throttling",
            "ThrottlingException",
            "RequestLimitExceeded",
            "TooManyRequestsException",
        ] {
            let class = classify_code(Some(code), "Rate exceeded", Some(400));
            assert_eq!(class, ErrorClass::Throttling, "{code}");
            assert!(class.is_transient());
        }
    }

    #[test]
    fn server_errors_are_transient() {
        assert_eq!(
            classify_code(Some("InternalFailure"), "", Some(500)),
            ErrorClass::Transient
        );
        assert_eq!(
            classify_code(Some("SomethingNew"), "", Some(503)),
            ErrorClass::Transient
        );
        assert_eq!(classify_code(None, "", Some(502)), ErrorClass::Transient);
        assert_eq!(classify_code(None, "", Some(429)), ErrorClass::Throttling);
        assert_eq!(
            classify_code(Some("ServiceFailure"), "", Some(500)),
            ErrorClass::Transient
        );
    }

    #[test]
    fn iam_codes() {
        assert_eq!(
            classify_code(Some("NoSuchEntity"), "Role x not found", Some(404)),
            ErrorClass::NotFound
        );
        assert_eq!(
            classify_code(Some("ConcurrentModification"), "", Some(409)),
            ErrorClass::ConcurrentModification
        );
        // IAM's LimitExceeded is a quota, not throttling: never retried.
        let quota = classify_code(Some("LimitExceeded"), "Cannot exceed quota", Some(409));
        assert_eq!(quota, ErrorClass::LimitExceeded);
        assert!(!quota.is_transient());
        assert_eq!(
            classify_code(Some("EntityAlreadyExists"), "", Some(409)),
            ErrorClass::AlreadyExists
        );
    }

    #[test]
    fn cloudformation_missing_stack_is_not_found() {
        assert_eq!(
            classify_code(
                Some("ValidationError"),
                "Stack with id Ops-x does not exist",
                Some(400)
            ),
            ErrorClass::NotFound
        );
        assert_eq!(
            classify_code(
                Some("ValidationError"),
                "No updates are to be performed.",
                Some(400)
            ),
            ErrorClass::Validation
        );
    }

    #[test]
    fn access_denied_and_credentials() {
        assert_eq!(
            classify_code(Some("AccessDenied"), "User: x is not authorized", Some(403)),
            ErrorClass::AccessDenied
        );
        assert_eq!(
            classify_code(Some("InvalidClientTokenId"), "", Some(403)),
            ErrorClass::InvalidCredentials
        );
        assert_eq!(
            classify_code(Some("ExpiredToken"), "", Some(400)),
            ErrorClass::InvalidCredentials
        );
        assert!(!ErrorClass::AccessDenied.is_transient());
        assert!(!ErrorClass::NoCredentials.is_transient());
    }

    #[test]
    fn unknown_client_errors_are_other() {
        assert_eq!(
            classify_code(Some("Weird"), "", Some(400)),
            ErrorClass::Other
        );
        assert_eq!(classify_code(None, "", None), ErrorClass::Other);
    }

    #[test]
    fn display_keeps_operation_resource_code_and_message() {
        let err = AwsError {
            operation: "CreateStack",
            resource: "Ops-demo".into(),
            code: Some("AccessDenied".into()),
            message: "User: arn:aws:iam::1:user/x is not authorized to perform: cloudformation:CreateStack"
                .into(),
            class: ErrorClass::AccessDenied,
            status: Some(403),
            request_id: None,
        };
        let text = err.to_string();
        assert!(text.starts_with("CreateStack Ops-demo: AccessDenied: User:"));
        assert!(text.contains("cloudformation:CreateStack"));
    }
}
