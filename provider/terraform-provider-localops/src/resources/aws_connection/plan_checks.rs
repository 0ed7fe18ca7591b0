//! Checks run while planning a connection, after its arguments are read and its planned
//! values computed. Each check reports errors and warnings with attribute paths through
//! [`PlanChecks`]; a check that needs AWS skips itself (with a debug log) when credentials are
//! not available, so plans still work offline.
//!
//! - **Static checks** ([`checks::check_static`]) on every plan of a create or update whose
//!   arguments are known: what the connection will deploy (trust policy, permission set,
//!   session length, IAM limits, the OIDC provider's client IDs) is evaluated with the IAM
//!   policy engine. Each finding is a diagnostic on its attribute (provider-level findings
//!   name the provider setting); an error fails the plan, so nothing is created. The account
//!   is the state's, else the caller's (STS GetCallerIdentity), else a placeholder.
//! - **A reused OIDC provider** (`oidc_provider_arn` set) is read through IAM and checked with
//!   [`checks::check_oidc_provider`] (it exists, it is the issuer's, the audience is a client ID).
//! - **Live checks** of a deployed connection run at refresh (Read), where the deployed role
//!   and provider are read anyway: see [`live_warning`].

use std::time::Duration;

use localops_aws::iam::match_provider_url;
use localops_aws::{CancellationToken, ErrorClass, RetryPolicy};
use localops_domain::checks::{self, CheckField, DeployedOidcProvider, Finding, Severity};
use localops_domain::template;
use tfplugin::{AttributePath, Context, Diagnostic, Diagnostics, Value};

use super::desired::Desired;
use crate::settings::{Aws, Configured, Settings};

/// Time allowed to the AWS calls of plan-time checks (retries included).
const CHECK_BUDGET: Duration = Duration::from_secs(10);

/// What a check can see.
pub struct PlanInput<'a> {
    /// The connection's arguments, when all are known.
    pub desired: Option<&'a Desired>,
    /// Null on create.
    pub prior_state: &'a Value,
    /// The planned state so far.
    pub planned: &'a Value,
}

impl PlanInput<'_> {
    pub fn is_create(&self) -> bool {
        self.prior_state.is_null()
    }
}

/// Where checks report.
#[derive(Default)]
pub struct PlanChecks {
    pub diagnostics: Diagnostics,
}

impl PlanChecks {
    pub fn error(&mut self, path: Option<AttributePath>, summary: &str, detail: String) {
        let d = Diagnostic::error(summary, detail);
        self.diagnostics.push(match path {
            Some(p) => d.at(p),
            None => d,
        });
    }

    pub fn warning(&mut self, path: Option<AttributePath>, summary: &str, detail: String) {
        let d = Diagnostic::warning(summary, detail);
        self.diagnostics.push(match path {
            Some(p) => d.at(p),
            None => d,
        });
    }
}

/// AWS for plan-time checks: budgeted retries, and given up on for the rest of the plan once
/// credentials turn out to be missing.
struct Reach {
    aws: Option<Aws>,
}

impl Reach {
    async fn new(settings: &Settings) -> Reach {
        if !matches!(settings.configured(), Configured::Ready(_)) {
            return Reach { aws: None };
        }
        let aws = settings.aws().await.ok().map(|aws| {
            let retry = RetryPolicy::default().with_budget(CHECK_BUDGET);
            Aws {
                stacks: aws.stacks.with_retry(retry),
                iam: aws.iam.with_retry(retry),
                sts: aws.sts.with_retry(retry),
            }
        });
        Reach { aws }
    }

    /// True (and AWS given up on) when `class` says there are no usable credentials.
    fn offline_if(&mut self, class: Option<ErrorClass>) -> bool {
        let offline = matches!(
            class,
            Some(
                ErrorClass::NoCredentials
                    | ErrorClass::CredentialsProvider
                    | ErrorClass::InvalidCredentials
            ) | None
        );
        if offline {
            self.aws = None;
        }
        offline
    }
}

/// Runs every plan-time check.
pub async fn run(ctx: &Context, settings: &Settings, input: &PlanInput<'_>) -> Diagnostics {
    let mut checks = PlanChecks::default();
    let mut reach = Reach::new(settings).await;
    existing_oidc_provider(ctx, &mut reach, input, &mut checks).await;
    static_checks(ctx, &mut reach, input, &mut checks).await;
    checks.diagnostics
}

/// A finding as a diagnostic: on its resource attribute, or naming the provider setting it is
/// about. `severity` overrides the finding's (live findings are warnings).
pub fn finding_diagnostic(f: &Finding, severity: Severity, detail_suffix: &str) -> Diagnostic {
    let detail = format!("{}{detail_suffix}", f.detail);
    let summary = match f.field.provider_setting() {
        Some(setting) => format!("{} (provider setting `{setting}`)", f.summary),
        None => f.summary.clone(),
    };
    let d = match severity {
        Severity::Error => Diagnostic::error(summary, detail),
        Severity::Warning => Diagnostic::warning(summary, detail),
    };
    match f.field.attribute() {
        Some(name) if f.field.provider_setting().is_none() => d.at(AttributePath::attr(name)),
        _ => d,
    }
}

/// A live finding (what stops LocalOps now) as a warning; `repairs` when the next apply puts
/// the connection back to its template.
pub fn live_warning(f: &Finding, repairs: bool) -> Diagnostic {
    let suffix = if repairs {
        "\n\nThe deployed connection differs from its template (see `drift`); the next \
         terraform apply puts it back."
    } else {
        ""
    };
    finding_diagnostic(f, Severity::Warning, suffix)
}

fn known_string(value: &Value, name: &str) -> Option<String> {
    match value.attribute(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The account for the checks' ARNs: planned or prior, else the caller's.
async fn account(ctx: &Context, reach: &mut Reach, input: &PlanInput<'_>) -> Option<String> {
    if let Some(account) = known_string(input.planned, "account_id")
        .or_else(|| known_string(input.prior_state, "account_id"))
    {
        return Some(account);
    }
    let aws = reach.aws.as_ref()?;
    match aws.sts.caller_identity(ctx.cancellation_token()).await {
        Ok(identity) if !identity.account.is_empty() => Some(identity.account),
        Ok(_) => None,
        Err(e) => {
            reach.offline_if(e.class());
            tracing::debug!(error = %e, "static checks use a placeholder account: GetCallerIdentity failed");
            None
        }
    }
}

/// [`checks::check_static`] (and, for a reused OIDC provider, [`checks::check_oidc_provider`])
/// as diagnostics.
async fn static_checks(
    ctx: &Context,
    reach: &mut Reach,
    input: &PlanInput<'_>,
    checks: &mut PlanChecks,
) {
    let Some(desired) = input.desired else {
        return;
    };
    let account = account(ctx, reach, input).await;
    let mut expected = desired.check_input(account.as_deref());
    let mut provider_findings = Vec::new();
    if let Some(arn) = &desired.existing_oidc_provider_arn
        && let Some(aws) = &reach.aws
    {
        match aws
            .iam
            .get_oidc_provider(arn, ctx.cancellation_token())
            .await
        {
            Ok(found) => {
                let deployed = found.map(|p| DeployedOidcProvider {
                    arn: p.arn,
                    url: p.url,
                    client_ids: p.client_ids,
                    thumbprints: p.thumbprints,
                });
                if let Some(p) = &deployed {
                    expected.oidc_client_ids = Some(p.client_ids.clone());
                }
                provider_findings = checks::check_oidc_provider(&expected, deployed.as_ref());
            }
            Err(e) => {
                if !reach.offline_if(e.class()) {
                    checks.warning(
                        Some(AttributePath::attr("oidc_provider_arn")),
                        "Could not read the OIDC provider",
                        format!(
                            "Reading {arn} through IAM failed, so the plan cannot tell whether \
                             it is LocalOps' issuer's provider with the audience as a client ID: \
                             {e}"
                        ),
                    );
                }
            }
        }
    }
    let mut findings = checks::check_static(&expected);
    // check_static already checks the audience against the client IDs read; keep what only
    // the provider check says (the provider is missing, or its URL is not the issuer's).
    for f in provider_findings {
        if f.field != CheckField::Audience && !findings.iter().any(|g| g.summary == f.summary) {
            findings.push(f);
        }
    }
    findings.sort_by_key(|f| f.severity);
    for f in &findings {
        checks
            .diagnostics
            .push(finding_diagnostic(f, f.severity, ""));
    }
}

/// On create, when the stack would create the OIDC provider: IAM allows one provider per
/// issuer URL, so an existing one would fail the stack. Say so at plan time, with its ARN.
async fn existing_oidc_provider(
    ctx: &Context,
    reach: &mut Reach,
    input: &PlanInput<'_>,
    checks: &mut PlanChecks,
) {
    let Some(desired) = input.desired else {
        return;
    };
    if !input.is_create() || desired.existing_oidc_provider_arn.is_some() {
        return;
    }
    let Some(aws) = reach.aws.clone() else {
        return;
    };
    let cancel: &CancellationToken = ctx.cancellation_token();
    let mut arns = match aws.iam.list_oidc_providers(cancel).await {
        Ok(arns) => arns,
        Err(e) => {
            if reach.offline_if(e.class()) {
                tracing::debug!(error = %e, "skipping the OIDC provider check: no usable credentials");
            } else {
                checks.warning(
                    None,
                    "Could not check for an existing OIDC provider",
                    format!(
                        "Listing the account's IAM OIDC providers failed, so the plan cannot tell \
                         whether one for {} already exists (the stack would then fail): {e}",
                        desired.issuer_url
                    ),
                );
            }
            return;
        }
    };
    // A stack of the same name (a tainted one about to be replaced) owns its provider.
    if let Ok(Some(stack)) = aws
        .stacks
        .describe_stack(&template::stack_name(&desired.name), cancel)
        .await
        && let Some(own) = stack.outputs.get(template::output::OIDC_PROVIDER_ARN)
    {
        arns.retain(|a| a != own);
    }
    if let Some(arn) = match_provider_url(&arns, &desired.issuer_url) {
        checks.error(
            Some(AttributePath::attr("oidc_provider_arn")),
            "An OIDC provider for the issuer already exists",
            format!(
                "The account already has an IAM OIDC provider for {issuer}: {arn}\nIAM allows only \
                 one provider per issuer URL, so the connection's stack cannot create another. Use \
                 the existing one:\n\n  oidc_provider_arn = \"{arn}\"\n\nThe stack then creates \
                 only the role and its permissions, and leaves that provider alone.",
                issuer = desired.issuer_url
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(field: CheckField, severity: Severity) -> Finding {
        Finding {
            severity,
            field,
            summary: "something is wrong".into(),
            detail: "because of statement \"X\"".into(),
        }
    }

    #[test]
    fn findings_point_at_attributes_or_name_the_provider_setting() {
        let d = finding_diagnostic(
            &finding(CheckField::PermissionSet, Severity::Error),
            Severity::Error,
            "",
        );
        assert_eq!(d.summary, "something is wrong");
        assert_eq!(d.detail, "because of statement \"X\"");
        assert_eq!(
            d.attribute.as_ref().map(ToString::to_string).as_deref(),
            Some("permission_set")
        );

        let d = finding_diagnostic(
            &finding(CheckField::Audience, Severity::Error),
            Severity::Error,
            "",
        );
        assert_eq!(
            d.summary,
            "something is wrong (provider setting `oidc_audience`)"
        );
        assert!(d.attribute.is_none());

        let d = live_warning(&finding(CheckField::TrustPolicy, Severity::Error), true);
        assert!(d.detail.ends_with("the next terraform apply puts it back."));
        assert_eq!(
            d.attribute.as_ref().map(ToString::to_string).as_deref(),
            Some("trust_policy")
        );
    }
}
