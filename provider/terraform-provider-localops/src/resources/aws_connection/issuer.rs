//! The issuer is part of assumability: at plan, LocalOps' OIDC issuer is fetched (discovery
//! document and JWKS, through `localops-issuer`, once per provider process: see
//! [`Settings::issuer_facts`]) and judged as IAM and STS would.
//!
//! - **Invalid** (the document's `issuer` differs from `oidc_issuer_url`, even by a trailing
//!   slash; `jwks_uri` serves no keys; malformed document): an error. STS would reject every
//!   token of the issuer, so the connection cannot work whatever the role says.
//! - **Unreachable** (DNS, connect, TLS, timeout, 5xx): a warning. Plans must work offline, and
//!   an issuer unreachable from the machine running Terraform may well be reachable from AWS.
//! - **Ok**: the TLS thumbprint is logged. It is *not* put into the template: since 2023 IAM
//!   trusts issuers whose chain ends at a public CA through its own root store and ignores
//!   thumbprints, and a template input that depends on the network would make the rendered
//!   stack (and so the plan) differ between online and offline runs. Issuers behind a private
//!   CA (`oidc_issuer_ca_*` configured) need it; that stays a follow-up (see the module docs of
//!   `desired`), the thumbprint is in the log at INFO meanwhile.

use localops_issuer::{IssuerReport, Jwks};
use tfplugin::Diagnostic;

use crate::settings::{IssuerFacts, Settings};

/// What the issuer check gives a plan.
#[derive(Default)]
pub struct IssuerOutcome {
    pub diagnostics: Vec<Diagnostic>,
    /// The issuer's keys, for checking a `verify` token's signature.
    pub jwks: Option<Jwks>,
}

/// Runs (or reuses) the issuer check. Nothing when the check is off, no issuer is configured
/// or the provider settings are not known yet.
pub async fn check(settings: &Settings) -> IssuerOutcome {
    match settings.issuer_facts().await {
        Some(facts) => IssuerOutcome {
            diagnostics: diagnostics(&facts),
            jwks: facts.jwks.clone(),
        },
        None => IssuerOutcome::default(),
    }
}

/// The check's findings as diagnostics (provider-level: they concern `oidc_issuer_url`).
pub fn diagnostics(facts: &IssuerFacts) -> Vec<Diagnostic> {
    let url = &facts.issuer_url;
    match &facts.report {
        IssuerReport::Ok {
            thumbprint,
            jwks_keys,
            ..
        } => {
            tracing::info!(
                issuer = %url,
                thumbprint = %thumbprint,
                keys = jwks_keys.len(),
                private_ca = facts.extra_ca,
                "LocalOps' OIDC issuer checked"
            );
            Vec::new()
        }
        IssuerReport::Unreachable { reason } => vec![Diagnostic::warning(
            "Could not reach LocalOps' OIDC issuer",
            format!(
                "Could not reach the issuer {url} to check its discovery document: {reason}. The \
                 plan continues offline, without the issuer check. If the issuer uses a private \
                 CA, give it in the provider setting `oidc_issuer_ca_file` (or \
                 `oidc_issuer_ca_bundle`); `check_oidc_issuer = false` turns the check off."
            ),
        )],
        IssuerReport::Invalid { problems } => vec![Diagnostic::error(
            "LocalOps' OIDC issuer is not usable by AWS",
            format!(
                "Checking the issuer {url} (provider setting `oidc_issuer_url`):\n  - {}\n\nSTS \
                 would reject every token of this issuer, so LocalOps could not assume the \
                 connection's role. Fix `oidc_issuer_url` (it must equal the discovery document's \
                 \"issuer\" exactly, trailing slash included) or the issuer; \
                 `check_oidc_issuer = false` skips this check.",
                problems.join("\n  - ")
            ),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(report: IssuerReport) -> IssuerFacts {
        IssuerFacts {
            issuer_url: "https://oidc.example.com/t".to_owned(),
            report,
            jwks: None,
            extra_ca: false,
        }
    }

    #[test]
    fn unreachable_is_a_warning_and_invalid_an_error() {
        let d = diagnostics(&facts(IssuerReport::Unreachable {
            reason: "connection refused".to_owned(),
        }));
        assert_eq!(d.len(), 1);
        assert!(!d[0].is_error());
        assert!(
            d[0].detail.contains("connection refused"),
            "{}",
            d[0].detail
        );
        let d = diagnostics(&facts(IssuerReport::Invalid {
            problems: vec!["served \"https://oidc.example.com/t/\"".to_owned()],
        }));
        assert_eq!(d.len(), 1);
        assert!(d[0].is_error());
        assert!(
            d[0].detail.contains("https://oidc.example.com/t/"),
            "{}",
            d[0].detail
        );
    }
}
