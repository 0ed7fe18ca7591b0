//! OIDC issuer checks for LocalOps connections.
//!
//! LocalOps runs an OIDC issuer; the customer's AWS account gets an IAM OIDC identity provider
//! trusting it and a role LocalOps assumes with `sts:AssumeRoleWithWebIdentity`. This crate
//! answers, before anything is created or while diagnosing a failed connection:
//!
//! - [`IssuerClient::check_issuer`]: does the issuer serve a discovery document whose `issuer`
//!   equals the configured URL exactly, an https `jwks_uri` with at least one usable signing
//!   key, and what TLS thumbprint does IAM want for it (see [`thumbprint`] for AWS's rule)?
//!   Network failures are [`IssuerReport::Unreachable`] (a warning: plans must work offline),
//!   wrong answers are [`IssuerReport::Invalid`].
//! - [`token`]: decode a token's claims, verify its signature against a JWKS, and explain
//!   why STS would refuse it for a given provider URL, audience and subject.
//!
//! TLS is rustls with the `ring` provider; trust is the system store plus the Mozilla roots,
//! plus an optional extra CA bundle.

pub mod client;
pub mod discovery;
mod http;
pub mod jwks;
pub mod thumbprint;
pub mod token;
pub mod url;

pub use client::{
    DEFAULT_TIMEOUT, IssuerClient, IssuerClientError, IssuerClientOptions, IssuerReport,
};
pub use discovery::DiscoveryDocument;
pub use jwks::{Jwk, Jwks};
pub use thumbprint::{sha1_fingerprint_hex, thumbprint_of_chain};
pub use token::{
    SecretToken, TokenClaims, TokenError, TokenHeader, TokenProblem, TokenSource,
    check_against_trust, decode_header, read_token, verify_signature,
};
pub use url::discovery_url;
