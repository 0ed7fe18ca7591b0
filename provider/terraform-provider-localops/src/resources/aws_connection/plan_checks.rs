//! Checks run while planning a connection, after its arguments are read and its planned
//! values computed. Each check reports errors and warnings with attribute paths through
//! [`PlanChecks`]; a check that needs AWS skips itself (with a debug log) when credentials are
//! not available, so plans still work offline.
//!
//! This is the place for more checks (static analysis of the permission set with the IAM
//! policy engine, live checks of the account, an STS proof under a `verify` attribute): add
//! them to [`run`], reading what they need from [`PlanInput`].

use std::time::Duration;

use localops_aws::iam::match_provider_url;
use localops_aws::{CancellationToken, ErrorClass, RetryPolicy};
use localops_domain::template;
use tfplugin::{AttributePath, Context, Diagnostic, Diagnostics, Value};

use super::desired::Desired;
use crate::settings::{Configured, Settings};

/// Time allowed to the AWS calls of plan-time checks (retries included).
const CHECK_BUDGET: Duration = Duration::from_secs(10);

/// What a check can see.
pub struct PlanInput<'a> {
    /// The connection's arguments, when all are known.
    pub desired: Option<&'a Desired>,
    /// Null on create.
    pub prior_state: &'a Value,
    /// The planned state so far.
    #[allow(dead_code)] // for checks that compare with planned values
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

/// Runs every plan-time check.
pub async fn run(ctx: &Context, settings: &Settings, input: &PlanInput<'_>) -> Diagnostics {
    let mut checks = PlanChecks::default();
    existing_oidc_provider(ctx, settings, input, &mut checks).await;
    checks.diagnostics
}

/// On create, when the stack would create the OIDC provider: IAM allows one provider per
/// issuer URL, so an existing one would fail the stack. Say so at plan time, with its ARN.
async fn existing_oidc_provider(
    ctx: &Context,
    settings: &Settings,
    input: &PlanInput<'_>,
    checks: &mut PlanChecks,
) {
    let Some(desired) = input.desired else {
        return;
    };
    if !input.is_create() || desired.existing_oidc_provider_arn.is_some() {
        return;
    }
    if !matches!(settings.configured(), Configured::Ready(_)) {
        return;
    }
    let aws = match settings.aws().await {
        Ok(aws) => aws,
        Err(_) => return,
    };
    let cancel: &CancellationToken = ctx.cancellation_token();
    let retry = RetryPolicy::default().with_budget(CHECK_BUDGET);
    let iam = aws.iam.clone().with_retry(retry);
    let mut arns = match iam.list_oidc_providers(cancel).await {
        Ok(arns) => arns,
        Err(e) => {
            match e.class() {
                Some(
                    ErrorClass::NoCredentials
                    | ErrorClass::CredentialsProvider
                    | ErrorClass::InvalidCredentials,
                )
                | None => {
                    tracing::debug!(error = %e, "skipping the OIDC provider check: no usable credentials");
                }
                Some(_) => checks.warning(
                    None,
                    "Could not check for an existing OIDC provider",
                    format!(
                        "Listing the account's IAM OIDC providers failed, so the plan cannot tell \
                         whether one for {} already exists (the stack would then fail): {e}",
                        desired.issuer_url
                    ),
                ),
            }
            return;
        }
    };
    // A stack of the same name (a tainted one about to be replaced) owns its provider.
    let stacks = aws
        .stacks
        .clone()
        .with_retry(RetryPolicy::default().with_budget(CHECK_BUDGET));
    if let Ok(Some(stack)) = stacks
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
