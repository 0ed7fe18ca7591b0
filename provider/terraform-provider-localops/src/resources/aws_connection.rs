//! `localops_aws_connection`: the `Ops-<name>` CloudFormation stack (an IAM OIDC provider
//! trusting LocalOps' issuer, the role LocalOps assumes, its permissions), created, read,
//! updated, imported and deleted through CloudFormation, with out-of-band drift of the role
//! made visible in plans and repaired on apply.
//!
//! Data flows one way: configuration → [`Args`] → [`desired::Desired`] (domain rendering) →
//! CloudFormation/IAM → [`live::Live`] → state. Design notes:
//!
//! - **Drift.** Read refreshes the arguments from the stack and the role (subject, role name,
//!   session duration, tags, termination protection) and records the role's live trust policy
//!   and attached policies in the computed `trust_policy` and `managed_policy_arns`. The plan
//!   computes what they must be (from the template's rules) and plans those values when the
//!   live ones differ, so the diff shows what changed. CloudFormation does not repair resources
//!   changed behind its back when its template is unchanged, so the apply, after UpdateStack,
//!   puts the trust policy, session duration and attachments back through IAM.
//! - **Checks and the rest of the drift.** Read also reads the role's inline policies, the
//!   documents of its managed policies and boundary, and the OIDC provider, compares them with
//!   the template (domain `checks::drift`, listed in the computed `drift`, planned empty) and
//!   runs the domain's live checks: what stops LocalOps now is a warning. The apply repairs
//!   every drift item it can (new default policy version, inline policies and boundary
//!   deleted, client IDs and the stack's own provider put back). Plans of a create or update
//!   run the static checks ([`plan_checks`]); an error there fails the plan.
//! - **Import** reads every argument back from the stack. The permission set string is
//!   recovered exactly from the template's metadata, where the provider records the bundle
//!   (without its policy documents, which are the template's policies); stacks made elsewhere
//!   give `null` for AdministratorAccess alone, or `null` with a warning otherwise.
//! - **Nothing is lost.** Once CreateStack accepted the stack, its id is in the state returned,
//!   also when waiting fails or is interrupted (Ctrl-C cancels the wait at once). A create that
//!   rolled back is deleted, so the next apply can create again.
//! - **Private state** is not used: everything the provider needs is visible state.

mod desired;
mod errors;
mod issuer;
mod live;
mod plan_checks;
mod policy_json;
mod verify;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use localops_aws::{CancellationToken, ErrorClass, StackError, StackSpec, UpdateOutcome};
use localops_domain::checks::DriftItem;
use localops_domain::template::{self, DEFAULT_MAX_SESSION_DURATION};
use tfplugin::{
    ApplyOutcome, Attribute, AttributePath, Block, Change, Context, Diagnostic, Diagnostics,
    ImportOutcome, IntoValue, MaybeUnknown, ObjectReader, Plan, ReadOutcome, Resource, Schema,
    Stored, Type, Value, ValueError, async_trait,
};

use self::desired::{Desired, merge_tags, parse_bundle, partition_of, template_diagnostic};
use self::live::{Arguments, Live};
use crate::settings::{Aws, Configured, ProviderSettings, Settings};

const TYPE_NAME: &str = "localops_aws_connection";

/// Arguments whose applied value is the configured one.
const ARGUMENTS: [&str; 8] = [
    "name",
    "subject",
    "permission_set",
    "role_name",
    "max_session_duration",
    "oidc_provider_arn",
    "tags",
    "termination_protection",
];

pub struct AwsConnectionResource {
    settings: Arc<Settings>,
}

impl AwsConnectionResource {
    pub fn new(settings: Arc<Settings>) -> Self {
        AwsConnectionResource { settings }
    }
}

/// The arguments as configured or planned; any may be unknown at plan time.
struct Args {
    name: MaybeUnknown<String>,
    subject: MaybeUnknown<String>,
    permission_set: MaybeUnknown<Option<String>>,
    role_name: MaybeUnknown<Option<String>>,
    max_session_duration: MaybeUnknown<Option<i64>>,
    oidc_provider_arn: MaybeUnknown<Option<String>>,
    tags: MaybeUnknown<Option<BTreeMap<String, String>>>,
    termination_protection: MaybeUnknown<Option<bool>>,
}

fn at(name: &str) -> AttributePath {
    AttributePath::attr(name)
}

impl Args {
    fn read(value: &Value) -> Result<Self, ValueError> {
        let o = ObjectReader::new(value)?;
        Ok(Args {
            name: o.get("name")?,
            subject: o.get("subject")?,
            permission_set: o.get("permission_set")?,
            role_name: o.get("role_name")?,
            max_session_duration: o.get("max_session_duration")?,
            oidc_provider_arn: o.get("oidc_provider_arn")?,
            tags: o.get("tags")?,
            termination_protection: o.get("termination_protection")?,
        })
    }

    /// Checks every known argument on its own (no provider settings needed).
    fn check(&self) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        if let MaybeUnknown::Known(name) = &self.name
            && let Err(e) = template::validate_connection_name(name)
        {
            problems.push(template_diagnostic(e));
        }
        if let MaybeUnknown::Known(subject) = &self.subject
            && let Err(e) = template::validate_subject(subject)
        {
            problems.push(template_diagnostic(e));
        }
        if let MaybeUnknown::Known(Some(role_name)) = &self.role_name
            && let Err(e) = template::validate_role_name(role_name)
        {
            problems.push(template_diagnostic(e));
        }
        if let MaybeUnknown::Known(Some(seconds)) = &self.max_session_duration
            && let Err(d) = session_duration(*seconds)
        {
            problems.push(d);
        }
        if let MaybeUnknown::Known(Some(arn)) = &self.oidc_provider_arn
            && let Err(e) = template::validate_oidc_provider_arn(arn)
        {
            problems.push(template_diagnostic(e));
        }
        if let MaybeUnknown::Known(Some(tags)) = &self.tags {
            if tags.len() > template::MAX_TAGS {
                problems.push(
                    Diagnostic::error(
                        "Too many tags",
                        format!(
                            "{} tags; AWS allows at most {} on a stack and on an IAM role.",
                            tags.len(),
                            template::MAX_TAGS
                        ),
                    )
                    .at(at("tags")),
                );
            }
            for (key, value) in tags {
                if let Err(e) = template::validate_tag(key, value) {
                    problems.push(
                        Diagnostic::error(desired::capitalise(&e.summary), e.detail)
                            .at(at("tags").key(key.clone())),
                    );
                }
            }
        }
        if let MaybeUnknown::Known(Some(json)) = &self.permission_set
            && let Err(d) = parse_bundle(json)
        {
            problems.push(d);
        }
        problems
    }

    /// The role name: configured, or derived from the name.
    fn role_name(&self) -> MaybeUnknown<String> {
        match (&self.role_name, &self.name) {
            (MaybeUnknown::Known(Some(r)), _) => MaybeUnknown::Known(r.clone()),
            (MaybeUnknown::Known(None), MaybeUnknown::Known(name)) => {
                MaybeUnknown::Known(template::default_role_name(name))
            }
            _ => MaybeUnknown::Unknown,
        }
    }

    fn max_session_duration(&self) -> MaybeUnknown<i64> {
        self.max_session_duration
            .clone()
            .map(|d| d.unwrap_or(i64::from(DEFAULT_MAX_SESSION_DURATION)))
    }

    fn termination_protection(&self) -> MaybeUnknown<bool> {
        self.termination_protection
            .clone()
            .map(|t| t.unwrap_or(false))
    }

    /// Everything known and settings ready: the connection as it should be.
    fn desired(&self, settings: &ProviderSettings) -> Result<Option<Desired>, Vec<Diagnostic>> {
        let Some(issuer_url) = settings.issuer_url.clone() else {
            return Err(vec![Diagnostic::error(
                "LocalOps' OIDC issuer is not configured",
                format!(
                    "A connection's role trusts LocalOps' OIDC issuer, so the provider needs its \
                     URL: set `oidc_issuer_url` in the provider \"localops\" block, or the \
                     environment variable {}.",
                    crate::settings::ENV_ISSUER_URL
                ),
            )]);
        };
        let (
            MaybeUnknown::Known(name),
            MaybeUnknown::Known(subject),
            MaybeUnknown::Known(permission_set),
            MaybeUnknown::Known(role_name),
            MaybeUnknown::Known(max_session_duration),
            MaybeUnknown::Known(existing),
            MaybeUnknown::Known(tags),
            MaybeUnknown::Known(termination_protection),
        ) = (
            &self.name,
            &self.subject,
            &self.permission_set,
            self.role_name(),
            self.max_session_duration(),
            &self.oidc_provider_arn,
            &self.tags,
            self.termination_protection(),
        )
        else {
            return Ok(None);
        };
        let bundle = match permission_set {
            Some(json) => Some(parse_bundle(json).map_err(|d| vec![d])?),
            None => None,
        };
        let max_session_duration = session_duration(max_session_duration).map_err(|d| vec![d])?;
        Ok(Some(Desired {
            name: name.clone(),
            subject: subject.clone(),
            role_name,
            max_session_duration,
            existing_oidc_provider_arn: existing.clone().filter(|a| !a.is_empty()),
            permission_set: permission_set.clone(),
            bundle,
            tags_all: merge_tags(&settings.default_tags, tags.as_ref()),
            termination_protection,
            issuer_url,
            audience: settings.audience.clone(),
            partition: partition_of(&settings.aws.region),
        }))
    }
}

fn session_duration(seconds: i64) -> Result<u32, Diagnostic> {
    let in_range = u32::try_from(seconds).ok().filter(|s| {
        (template::MIN_MAX_SESSION_DURATION..=template::MAX_MAX_SESSION_DURATION).contains(s)
    });
    in_range.ok_or_else(|| {
        Diagnostic::error(
            "Maximum session duration out of range",
            format!(
                "{seconds} seconds is outside IAM's range for a role's maximum session duration: \
                 {} (1 hour) to {} (12 hours).",
                template::MIN_MAX_SESSION_DURATION,
                template::MAX_MAX_SESSION_DURATION
            ),
        )
        .at(at("max_session_duration"))
    })
}

/// What a state's arguments define, to compare the deployed connection with.
fn desired_of_state(state: &Value, settings: &ProviderSettings) -> Option<Desired> {
    Args::read(state).ok()?.desired(settings).ok().flatten()
}

/// Sets the `drift` attribute of a state read from `live` and returns the live findings as
/// warnings.
fn assess_into(
    state: &mut Value,
    live: &Live,
    basis: &Value,
    settings: &ProviderSettings,
) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    let Some(assessment) = desired_of_state(basis, settings).and_then(|d| live.assess(&d)) else {
        return diagnostics;
    };
    state.set_attribute("drift", strings(assessment.drift_strings()));
    let repairs = !assessment.drift.is_empty();
    for f in &assessment.findings {
        diagnostics.push(plan_checks::live_warning(f, repairs));
    }
    diagnostics
}

fn known_string(value: &Value, name: &str) -> Option<String> {
    match value.attribute(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn strings(items: Vec<String>) -> Value {
    Value::List(items.into_iter().map(Value::String).collect())
}

fn unknown_or<T: Into<Value>>(value: MaybeUnknown<T>) -> Value {
    match value {
        MaybeUnknown::Known(v) => v.into(),
        MaybeUnknown::Unknown => Value::Unknown,
    }
}

/// The planned state with unknowns nulled and the stack id recorded: what Terraform keeps when
/// an apply fails after CreateStack was accepted.
fn partial_state(planned: &Value, stack_id: &str, stack_name: &str, status: &str) -> Value {
    let mut state = null_unknowns(planned.clone());
    state.set_attribute("id", Value::String(stack_id.to_owned()));
    state.set_attribute("stack_name", Value::String(stack_name.to_owned()));
    state.set_attribute("status", Value::String(status.to_owned()));
    if let Some(account) = live::account_from_arn(stack_id) {
        state.set_attribute("account_id", Value::String(account));
    }
    state
}

fn null_unknowns(value: Value) -> Value {
    match value {
        Value::Unknown => Value::Null,
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, null_unknowns(v)))
                .collect(),
        ),
        Value::Map(fields) => Value::Map(
            fields
                .into_iter()
                .map(|(k, v)| (k, null_unknowns(v)))
                .collect(),
        ),
        Value::List(items) => Value::List(items.into_iter().map(null_unknowns).collect()),
        other => other,
    }
}

/// The state after an apply: live values, with the planned arguments as configured, and the
/// planned computed values where the live ones say the same.
fn applied_state(live: &Live, planned: &Value, settings: &ProviderSettings) -> Value {
    let mut state = live::state(live, Arguments::Refresh(planned), &settings.default_tags);
    for name in ARGUMENTS {
        if let Some(value) = planned.attribute(name)
            && !value.is_unknown()
            && !(name == "oidc_provider_arn" && value.is_null())
        {
            state.set_attribute(name, value.clone());
        }
    }
    if let (Some(Value::String(planned_trust)), Some(Value::String(live_trust))) = (
        planned.attribute("trust_policy"),
        state.attribute("trust_policy"),
    ) && policy_json::same_document(planned_trust, live_trust)
    {
        let planned_trust = planned_trust.clone();
        state.set_attribute("trust_policy", Value::String(planned_trust));
    }
    state
}

/// What is left of the drift after an apply, as a warning (the state keeps the planned empty
/// list; the next refresh shows it again).
fn remaining_drift(live: &Live, desired: &Desired) -> Option<Diagnostic> {
    let assessment = live.assess(desired)?;
    if assessment.drift.is_empty() {
        return None;
    }
    Some(Diagnostic::warning(
        "The connection still differs from its template",
        format!(
            "After the apply, IAM still shows:\n  - {}\nThe next plan shows this again.",
            assessment.drift_strings().join("\n  - ")
        ),
    ))
}

/// Reads back after an apply; on failure keeps `fallback` and reports why.
#[allow(clippy::too_many_arguments)]
async fn read_back(
    aws: &Aws,
    stack_id: &str,
    planned: &Value,
    settings: &ProviderSettings,
    repaired: Option<&Desired>,
    cancel: &CancellationToken,
    fallback: Value,
    mut diagnostics: Diagnostics,
) -> ApplyOutcome {
    match live::read(aws, stack_id, cancel, true).await {
        Ok(Some(live)) => {
            if let Some(d) = repaired.and_then(|desired| remaining_drift(&live, desired)) {
                diagnostics.push(d);
            }
            ApplyOutcome {
                new_state: applied_state(&live, planned, settings),
                private: Vec::new(),
                diagnostics,
            }
        }
        Ok(None) => {
            diagnostics.push(Diagnostic::error(
                "The connection stack disappeared",
                format!("Stack {stack_id} no longer exists right after it was changed; it was deleted outside Terraform."),
            ));
            ApplyOutcome {
                new_state: Value::Null,
                private: Vec::new(),
                diagnostics,
            }
        }
        Err(d) => {
            diagnostics.push(d);
            ApplyOutcome {
                new_state: fallback,
                private: Vec::new(),
                diagnostics,
            }
        }
    }
}

async fn delete_and_wait(
    aws: &Aws,
    stack_id: &str,
    cancel: &CancellationToken,
) -> Result<(), StackError> {
    aws.stacks.delete_stack(stack_id, cancel).await?;
    aws.stacks.wait_for_terminal(stack_id, cancel).await?;
    Ok(())
}

impl AwsConnectionResource {
    /// CreateStack; a leftover stack of the same name that rolled back is deleted first.
    async fn create_stack(
        &self,
        aws: &Aws,
        spec: &StackSpec,
        cancel: &CancellationToken,
    ) -> Result<String, Diagnostic> {
        let what = "creating";
        match aws.stacks.create_stack(spec, cancel).await {
            Ok(id) => Ok(id),
            Err(e) if e.class() == Some(ErrorClass::AlreadyExists) => {
                let existing = aws
                    .stacks
                    .describe_stack(&spec.name, cancel)
                    .await
                    .map_err(|e| errors::stack_error(what, &spec.name, &e))?;
                match existing {
                    Some(stack) if stack.status == "ROLLBACK_COMPLETE" => {
                        tracing::info!(stack = %stack.id, "deleting a rolled-back stack of the same name before creating");
                        delete_and_wait(aws, &stack.id, cancel)
                            .await
                            .map_err(|e| errors::stack_error("deleting", &spec.name, &e))?;
                        aws.stacks
                            .create_stack(spec, cancel)
                            .await
                            .map_err(|e| errors::stack_error(what, &spec.name, &e))
                    }
                    Some(stack) => Err(Diagnostic::error(
                        format!("The connection stack {} already exists", spec.name),
                        format!(
                            "CloudFormation already has a stack named {} (status {}, id {}), which \
                             Terraform's state does not know. If it is this connection, import it:\n\n  \
                             terraform import <resource address> {}\n\nor add an import block; \
                             otherwise choose another `name`.",
                            spec.name, stack.status, stack.id, spec.name
                        ),
                    )
                    .at(at("name"))),
                    None => Err(errors::stack_error(what, &spec.name, &e)),
                }
            }
            Err(e) => Err(errors::stack_error(what, &spec.name, &e)),
        }
    }

    /// Brings the connection back to the template where CloudFormation did not: the OIDC
    /// provider and its client IDs, trust policy, maximum session duration, attached policies
    /// and their documents, inline policies, permissions boundary.
    async fn repair(
        &self,
        aws: &Aws,
        desired: &Desired,
        live: &Live,
        cancel: &CancellationToken,
    ) -> Result<(), Diagnostic> {
        let Some(role) = &live.role else {
            return Err(Diagnostic::error(
                "The connection's role is missing",
                format!(
                    "The role {} of stack {} does not exist (deleted outside CloudFormation?). \
                     CloudFormation cannot repair that in place; replace the connection: \
                     terraform apply -replace=<resource address>.",
                    desired.role_name, live.stack.name
                ),
            ));
        };
        let iam = &aws.iam;
        let oidc_provider_arn = match &desired.existing_oidc_provider_arn {
            Some(arn) => arn.clone(),
            None => live.oidc_provider_arn(),
        };
        let drift = live.assess(desired).map(|a| a.drift).unwrap_or_default();
        self.repair_oidc_provider(aws, desired, live, &oidc_provider_arn, &drift, cancel)
            .await?;
        let trust = desired.trust_policy(&oidc_provider_arn);
        if !policy_json::same_document(&role.trust_policy, &trust) {
            tracing::info!(role = %role.name, "restoring the role's trust policy");
            iam.put_trust_policy(&role.name, &trust, cancel)
                .await
                .map_err(|e| {
                    errors::iam_error(&format!("restoring the trust policy of {}", role.name), &e)
                })?;
        }
        if role.max_session_duration != Some(desired.max_session_duration) {
            iam.update_max_session_duration(&role.name, desired.max_session_duration, cancel)
                .await
                .map_err(|e| {
                    errors::iam_error(
                        &format!("restoring the session duration of {}", role.name),
                        &e,
                    )
                })?;
        }
        let expected: BTreeSet<String> = desired
            .managed_policy_arns(&live.account_id())
            .into_iter()
            .collect();
        let attached: BTreeSet<String> = live.attached_policy_arns().into_iter().collect();
        for arn in expected.difference(&attached) {
            iam.attach_policy(&role.name, arn, cancel)
                .await
                .map_err(|e| errors::iam_error(&format!("attaching {arn} to {}", role.name), &e))?;
        }
        for arn in attached.difference(&expected) {
            iam.detach_policy(&role.name, arn, cancel)
                .await
                .map_err(|e| {
                    errors::iam_error(&format!("detaching {arn} from {}", role.name), &e)
                })?;
        }
        let documents = desired
            .check_input(Some(&live.account_id()))
            .permissions
            .policy_documents;
        for item in &drift {
            match item {
                DriftItem::ManagedPolicyDocument { name, arn } => {
                    let Some(document) = documents.iter().find(|d| &d.name == name) else {
                        continue;
                    };
                    iam.set_policy_document(arn, &document.document, cancel)
                        .await
                        .map_err(|e| {
                            errors::iam_error(&format!("restoring the document of {arn}"), &e)
                        })?;
                }
                DriftItem::InlinePolicy { name } => {
                    iam.delete_inline_policy(&role.name, name, cancel)
                        .await
                        .map_err(|e| {
                            errors::iam_error(
                                &format!("deleting the inline policy {name} of {}", role.name),
                                &e,
                            )
                        })?;
                }
                DriftItem::PermissionsBoundary { arn } => {
                    iam.delete_permissions_boundary(&role.name, cancel)
                        .await
                        .map_err(|e| {
                            errors::iam_error(
                                &format!(
                                    "removing the permissions boundary {arn} of {}",
                                    role.name
                                ),
                                &e,
                            )
                        })?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The OIDC provider part of [`Self::repair`]: client IDs put back (or removed, on the
    /// stack's own provider), the stack's own provider recreated when it was deleted
    /// (UpdateStack does not notice). A reused provider that is gone or for another URL is the
    /// user's to fix: an error says how.
    async fn repair_oidc_provider(
        &self,
        aws: &Aws,
        desired: &Desired,
        live: &Live,
        arn: &str,
        drift: &[DriftItem],
        cancel: &CancellationToken,
    ) -> Result<(), Diagnostic> {
        let iam = &aws.iam;
        for item in drift {
            match item {
                DriftItem::OidcProviderMissing { .. } if live.creates_oidc_provider() => {
                    tracing::info!(provider = %arn, "recreating the stack's OIDC provider");
                    let created = iam
                        .create_oidc_provider(
                            &desired.issuer_url,
                            std::slice::from_ref(&desired.audience),
                            &[],
                            &desired.tags_all,
                            cancel,
                        )
                        .await
                        .map_err(|e| {
                            errors::iam_error(
                                &format!("recreating the OIDC provider for {}", desired.issuer_url),
                                &e,
                            )
                        })?;
                    if created != arn {
                        tracing::warn!(expected = %arn, created = %created, "the recreated OIDC provider has another ARN");
                    }
                }
                DriftItem::OidcProviderMissing { arn } => {
                    return Err(Diagnostic::error(
                        "The OIDC provider the connection uses does not exist",
                        format!(
                            "{arn} (set in oidc_provider_arn) was deleted. The connection did not \
                             create it, so it does not recreate it: create an IAM OIDC provider \
                             for {} with the client ID {:?} again, or remove oidc_provider_arn so \
                             the connection creates its own, then apply.",
                            desired.issuer_url, desired.audience
                        ),
                    )
                    .at(at("oidc_provider_arn")));
                }
                DriftItem::OidcProviderUrl { expected, deployed } => {
                    return Err(Diagnostic::error(
                        "The OIDC provider is for another issuer",
                        format!(
                            "{arn} is a provider for {deployed:?}, not LocalOps' issuer \
                             {expected:?}. IAM cannot change a provider's URL: point \
                             oidc_provider_arn at the issuer's provider."
                        ),
                    )
                    .at(at("oidc_provider_arn")));
                }
                DriftItem::OidcClientIdMissing { client_id } => {
                    iam.add_oidc_client_id(arn, client_id, cancel)
                        .await
                        .map_err(|e| {
                            errors::iam_error(
                                &format!("adding the client ID {client_id:?} to {arn}"),
                                &e,
                            )
                        })?;
                }
                DriftItem::OidcClientIdExtra { client_id } => {
                    iam.remove_oidc_client_id(arn, client_id, cancel)
                        .await
                        .map_err(|e| {
                            errors::iam_error(
                                &format!("removing the client ID {client_id:?} from {arn}"),
                                &e,
                            )
                        })?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Settings and the connection as configured (everything is known at apply).
    fn prepare(&self, config: &Value) -> Result<(ProviderSettings, Desired), Diagnostics> {
        let settings = self.settings.require()?;
        let args = Args::read(config).map_err(|e| Diagnostics::from(Diagnostic::from(e)))?;
        match args.desired(&settings) {
            Ok(Some(desired)) => Ok((settings, desired)),
            Ok(None) => Err(Diagnostic::error(
                "Arguments not known at apply",
                "Terraform applied localops_aws_connection with arguments still unknown. This is \
                 a bug in the provider; please report it.",
            )
            .into()),
            Err(problems) => Err(problems.into()),
        }
    }
}

#[async_trait]
impl Resource for AwsConnectionResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, _ctx: &Context, config: &Value) -> Diagnostics {
        match Args::read(config) {
            Ok(args) => {
                let mut problems = args.check();
                problems.extend(verify::validate(config));
                problems.into()
            }
            Err(e) => Diagnostic::from(e).into(),
        }
    }

    async fn modify_plan(&self, ctx: &Context, plan: &mut Plan) {
        let args = match Args::read(&plan.config) {
            Ok(args) => args,
            Err(e) => {
                plan.diagnostics.push(e.into());
                return;
            }
        };
        let problems = args.check();
        if !problems.is_empty() {
            plan.diagnostics.extend(problems);
            return;
        }
        let settings = match self.settings.configured() {
            Configured::Ready(s) => Some(*s),
            _ => None,
        };
        let desired = match &settings {
            Some(s) => match args.desired(s) {
                Ok(d) => d,
                Err(problems) => {
                    plan.diagnostics.extend(problems);
                    return;
                }
            },
            None => None,
        };
        if let Some(d) = &desired {
            let problems = d.check();
            if !problems.is_empty() {
                plan.diagnostics.extend(problems);
                return;
            }
        }

        let prior = plan.prior_state.clone();
        let role_name = args.role_name();
        plan.set(
            "stack_name",
            unknown_or(args.name.clone().map(|n| template::stack_name(&n))),
        );
        plan.set("role_name", unknown_or(role_name.clone()));
        plan.set(
            "max_session_duration",
            unknown_or(args.max_session_duration()),
        );
        plan.set(
            "termination_protection",
            unknown_or(args.termination_protection()),
        );
        plan.set(
            "creates_oidc_provider",
            unknown_or(args.oidc_provider_arn.clone().map(|a| a.is_none())),
        );
        plan.set(
            "tags_all",
            match (&settings, &args.tags) {
                (Some(s), MaybeUnknown::Known(tags)) => {
                    merge_tags(&s.default_tags, tags.as_ref()).into_value()
                }
                _ => Value::Unknown,
            },
        );

        // Replacement: a new name or role name is a new stack.
        plan.requires_replace.clear();
        if !prior.is_null() {
            for name in ["name", "role_name"] {
                if plan.planned.attribute(name) != prior.attribute(name) {
                    plan.require_replace(at(name));
                }
            }
        }
        let replacing = !plan.requires_replace.is_empty();
        let account = if replacing {
            None
        } else {
            known_string(&prior, "account_id")
        };
        let keep = |name: &str| -> Value {
            if replacing {
                Value::Unknown
            } else {
                prior.attribute(name).cloned().unwrap_or(Value::Unknown)
            }
        };
        plan.set("id", keep("id"));
        plan.set("account_id", keep("account_id"));
        plan.set("role_arn", keep("role_arn"));

        let oidc_provider_arn = match (&args.oidc_provider_arn, &desired, &account) {
            (MaybeUnknown::Known(Some(arn)), _, _) => Some(arn.clone()),
            (_, Some(d), Some(account)) => d.oidc_provider_arn(account),
            _ => None,
        };
        plan.set(
            "oidc_provider_arn",
            oidc_provider_arn
                .clone()
                .map_or(Value::Unknown, Value::String),
        );
        let trust = match (&desired, &oidc_provider_arn) {
            (Some(d), Some(arn)) => {
                let expected = d.trust_policy(arn);
                match known_string(&prior, "trust_policy") {
                    Some(live) if !replacing && policy_json::same_document(&live, &expected) => {
                        Value::String(live)
                    }
                    _ => Value::String(expected),
                }
            }
            _ => Value::Unknown,
        };
        plan.set("trust_policy", trust);
        plan.set(
            "managed_policy_arns",
            match (&desired, &account) {
                (Some(d), Some(account)) => strings(d.managed_policy_arns(account)),
                _ => Value::Unknown,
            },
        );
        // Whatever drifted is put back by the apply.
        plan.set("drift", Value::List(Vec::new()));
        verify::plan_attributes(plan);
        // The status changes only when something does.
        plan.set(
            "status",
            prior.attribute("status").cloned().unwrap_or(Value::Null),
        );
        if prior.is_null() || plan.planned != prior {
            plan.set_unknown("status");
        }

        let input = plan_checks::PlanInput {
            desired: desired.as_ref(),
            prior_state: &plan.prior_state,
            planned: &plan.planned,
        };
        let diagnostics = plan_checks::run(ctx, &self.settings, &input).await;
        plan.diagnostics.extend(diagnostics);
        verify::run_at_plan(
            &self.settings,
            plan,
            desired.as_ref(),
            ctx.cancellation_token(),
        )
        .await;
    }

    async fn create(&self, ctx: &Context, change: Change) -> ApplyOutcome {
        let (settings, desired) = match self.prepare(&change.config) {
            Ok(p) => p,
            Err(diagnostics) => {
                return ApplyOutcome {
                    new_state: Value::Null,
                    private: Vec::new(),
                    diagnostics,
                };
            }
        };
        let aws = match self.settings.aws().await {
            Ok(aws) => aws,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let spec = match desired.stack_spec() {
            Ok(spec) => spec,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let cancel = ctx.cancellation_token();
        let stack_id = match self.create_stack(&aws, &spec, cancel).await {
            Ok(id) => id,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let partial =
            |status: &str| partial_state(&change.planned_state, &stack_id, &spec.name, status);
        match aws.stacks.wait_for_terminal(&stack_id, cancel).await {
            Ok(_) => {}
            Err(StackError::Failed(failure)) if failure.status == "ROLLBACK_COMPLETE" => {
                let mut diagnostics = Diagnostics::from(errors::stack_error(
                    "creating",
                    &spec.name,
                    &StackError::Failed(failure.clone()),
                ));
                // Nothing of it exists any more: delete the empty stack so the next apply can
                // create it again.
                return match delete_and_wait(&aws, &stack_id, cancel).await {
                    Ok(()) => ApplyOutcome {
                        new_state: Value::Null,
                        private: Vec::new(),
                        diagnostics,
                    },
                    Err(e) => {
                        diagnostics.push(errors::stack_error(
                            "deleting the failed",
                            &spec.name,
                            &e,
                        ));
                        ApplyOutcome {
                            new_state: partial(&failure.status),
                            private: Vec::new(),
                            diagnostics,
                        }
                    }
                };
            }
            Err(e) => {
                let status = match &e {
                    StackError::Failed(f) => f.status.clone(),
                    StackError::Timeout { last_status, .. }
                    | StackError::Interrupted { last_status, .. } => last_status
                        .clone()
                        .unwrap_or_else(|| "CREATE_IN_PROGRESS".to_owned()),
                    StackError::Aws { .. } => "CREATE_IN_PROGRESS".to_owned(),
                };
                return ApplyOutcome::failed(
                    partial(&status),
                    errors::stack_error("creating", &spec.name, &e),
                );
            }
        }
        let fallback = partial("CREATE_COMPLETE");
        let outcome = read_back(
            &aws,
            &stack_id,
            &change.planned_state,
            &settings,
            None,
            cancel,
            fallback,
            Diagnostics::new(),
        )
        .await;
        verify::after_apply(&self.settings, &change.config, &desired, cancel, outcome).await
    }

    async fn update(&self, ctx: &Context, change: Change) -> ApplyOutcome {
        let prior = change.prior_state.clone();
        let (settings, desired) = match self.prepare(&change.config) {
            Ok(p) => p,
            Err(diagnostics) => {
                return ApplyOutcome {
                    new_state: prior,
                    private: change.planned_private,
                    diagnostics,
                };
            }
        };
        let aws = match self.settings.aws().await {
            Ok(aws) => aws,
            Err(d) => return ApplyOutcome::failed(prior, d),
        };
        let spec = match desired.stack_spec() {
            Ok(spec) => spec,
            Err(d) => return ApplyOutcome::failed(prior, d),
        };
        let stack_id = known_string(&prior, "id").unwrap_or_else(|| spec.name.clone());
        let cancel = ctx.cancellation_token();
        let what = "updating";
        match aws.stacks.update_stack(&stack_id, &spec, cancel).await {
            Ok(UpdateOutcome::NoChanges) => {}
            Ok(UpdateOutcome::Updating { .. }) => {
                if let Err(e) = aws.stacks.wait_for_terminal(&stack_id, cancel).await {
                    let diagnostics = Diagnostics::from(errors::stack_error(what, &spec.name, &e));
                    return read_back(
                        &aws,
                        &stack_id,
                        &prior,
                        &settings,
                        None,
                        cancel,
                        prior.clone(),
                        diagnostics,
                    )
                    .await;
                }
            }
            Err(e) => {
                return ApplyOutcome::failed(prior, errors::stack_error(what, &spec.name, &e));
            }
        }
        let live = match live::read(&aws, &stack_id, cancel, true).await {
            Ok(Some(live)) => live,
            Ok(None) => {
                return ApplyOutcome::failed(
                    Value::Null,
                    Diagnostic::error(
                        "The connection stack disappeared",
                        format!(
                            "Stack {stack_id} was deleted outside Terraform during the update."
                        ),
                    ),
                );
            }
            Err(d) => return ApplyOutcome::failed(prior, d),
        };
        let mut diagnostics = Diagnostics::new();
        if live.stack.termination_protection != desired.termination_protection
            && let Err(e) = aws
                .stacks
                .update_termination_protection(&stack_id, desired.termination_protection, cancel)
                .await
        {
            diagnostics.push(errors::stack_error(
                "changing termination protection of",
                &spec.name,
                &e,
            ));
        }
        if let Err(d) = self.repair(&aws, &desired, &live, cancel).await {
            diagnostics.push(d);
        }
        let outcome = read_back(
            &aws,
            &stack_id,
            &change.planned_state,
            &settings,
            Some(&desired),
            cancel,
            prior,
            diagnostics,
        )
        .await;
        verify::after_apply(&self.settings, &change.config, &desired, cancel, outcome).await
    }

    async fn delete(&self, ctx: &Context, change: Change) -> Diagnostics {
        let prior = &change.prior_state;
        let aws = match self.settings.aws().await {
            Ok(aws) => aws,
            Err(d) => return d.into(),
        };
        let stack_name = known_string(prior, "stack_name").unwrap_or_default();
        let Some(stack_id) = known_string(prior, "id")
            .or_else(|| Some(stack_name.clone()).filter(|s| !s.is_empty()))
        else {
            return Diagnostics::new();
        };
        let cancel = ctx.cancellation_token();
        let stack = match aws.stacks.describe_stack(&stack_id, cancel).await {
            Ok(Some(stack)) => stack,
            Ok(None) => {
                tracing::info!(stack = %stack_id, "connection stack already gone");
                return Diagnostics::new();
            }
            Err(e) => return errors::stack_error("deleting", &stack_name, &e).into(),
        };
        // CloudFormation refuses to delete a protected stack; check first, so the answer is
        // the same with every CloudFormation implementation.
        if stack.termination_protection {
            return Diagnostic::error(
                "The connection stack has termination protection",
                format!(
                    "Stack {} ({}) has termination protection enabled, so it was not deleted and \
                     stays in Terraform's state. To delete it, set termination_protection = false, \
                     run terraform apply, then destroy again.",
                    stack.name, stack.id
                ),
            )
            .at(at("termination_protection"))
            .into();
        }
        match delete_and_wait(&aws, &stack.id, cancel).await {
            Ok(()) => Diagnostics::new(),
            Err(e) => errors::stack_error("deleting", &stack.name, &e).into(),
        }
    }

    async fn read(&self, ctx: &Context, current: Stored) -> ReadOutcome {
        let keep = |diagnostics: Diagnostics| ReadOutcome {
            state: Some(current.state.clone()),
            private: current.private.clone(),
            diagnostics,
        };
        let Some(settings) = self.settings.ready() else {
            // Provider configuration unknown yet: nothing can be read; keep what is known.
            return keep(Diagnostics::new());
        };
        let aws = match self.settings.aws().await {
            Ok(aws) => aws,
            Err(d) => return keep(d.into()),
        };
        let Some(stack_id) = known_string(&current.state, "id")
            .or_else(|| known_string(&current.state, "stack_name"))
        else {
            return ReadOutcome::default();
        };
        match live::read(&aws, &stack_id, ctx.cancellation_token(), false).await {
            Ok(Some(live)) if live::has_resources(&live.stack.status) => {
                let mut state = live::state(
                    &live,
                    Arguments::Refresh(&current.state),
                    &settings.default_tags,
                );
                verify::carry(&current.state, &mut state);
                let diagnostics = assess_into(&mut state, &live, &current.state, &settings);
                ReadOutcome {
                    state: Some(state),
                    private: current.private,
                    diagnostics,
                }
            }
            Ok(Some(live)) => {
                tracing::info!(stack = %stack_id, status = %live.stack.status, "connection stack holds nothing; planning to create it again");
                ReadOutcome::default()
            }
            Ok(None) => {
                tracing::info!(stack = %stack_id, "connection stack no longer exists; planning to create it again");
                ReadOutcome::default()
            }
            Err(d) => keep(d.into()),
        }
    }

    async fn import(&self, ctx: &Context, id: &str) -> ImportOutcome {
        let settings = match self.settings.require() {
            Ok(s) => s,
            Err(d) => return ImportOutcome::error(d),
        };
        let aws = match self.settings.aws().await {
            Ok(aws) => aws,
            Err(d) => return ImportOutcome::error(d),
        };
        let cancel = ctx.cancellation_token();
        let id = id.trim();
        let live = match live::read(&aws, id, cancel, false).await {
            Ok(Some(live)) => live,
            Ok(None) => {
                return ImportOutcome::error(Diagnostic::error(
                    "Connection stack not found",
                    format!(
                        "There is no CloudFormation stack {id:?} in {}. Import a connection by its \
                         stack name (Ops-<name>) or its stack id.",
                        settings.aws.region
                    ),
                ));
            }
            Err(d) => return ImportOutcome::error(d),
        };
        let stack = &live.stack;
        let is_connection = stack.name.starts_with(template::STACK_NAME_PREFIX)
            && stack.parameters.contains_key(template::parameter::SUBJECT)
            && stack
                .parameters
                .contains_key(template::parameter::ROLE_NAME);
        if !is_connection {
            return ImportOutcome::error(Diagnostic::error(
                "Not a LocalOps connection stack",
                format!(
                    "Stack {} is not a LocalOps connection: connection stacks are named \
                     {}<name> and have the Subject and RoleName parameters of LocalOps' template.",
                    stack.name,
                    template::STACK_NAME_PREFIX
                ),
            ));
        }
        if !live::has_resources(&stack.status) {
            return ImportOutcome::error(Diagnostic::error(
                "Connection stack is empty",
                format!(
                    "Stack {} is in {}: its creation failed and it holds nothing. Delete it and \
                     let Terraform create the connection.",
                    stack.name, stack.status
                ),
            ));
        }
        let mut diagnostics = Diagnostics::new();
        let permission_set = match aws.stacks.get_template(&stack.id, cancel).await {
            Ok(body) => match desired::permission_set_from_template(&body) {
                Ok(p) => p,
                Err(why) => {
                    diagnostics.push(
                        Diagnostic::warning(
                            "Permission set not recoverable",
                            format!(
                                "{why}. The imported connection has permission_set = null; if \
                                 your configuration sets one, the next plan shows it being set \
                                 and the apply updates the stack to exactly that permission set."
                            ),
                        )
                        .at(at("permission_set")),
                    );
                    None
                }
            },
            Err(e) => {
                return ImportOutcome::error(errors::stack_error("importing", &stack.name, &e));
            }
        };
        let mut state = live::state(
            &live,
            Arguments::Import(permission_set),
            &settings.default_tags,
        );
        let basis = state.clone();
        diagnostics.extend(assess_into(&mut state, &live, &basis, &settings));
        ImportOutcome {
            imported: vec![Stored {
                state,
                private: Vec::new(),
            }],
            diagnostics,
        }
    }
}

fn schema() -> Schema {
    let string_map = Type::map(Type::String);
    let [verify_attribute, verified_at, caller_arn] = verify::schema_attributes();
    Schema::new(
        Block::new()
            .description(
                "A LocalOps *connection* to an AWS account: the CloudFormation stack \
                 `Ops-<name>` holding the IAM role LocalOps assumes with \
                 `sts:AssumeRoleWithWebIdentity` (short-term credentials only), the role's \
                 permissions and, unless `oidc_provider_arn` names an existing one, an IAM OIDC \
                 identity provider that trusts LocalOps' issuer.\n\n\
                 The stack is rendered from the same template as LocalOps' console quick-create \
                 link. `terraform plan` proves the connection will work: it evaluates the trust \
                 and permission policies for LocalOps' identity, and, for a deployed connection, \
                 reads the live role and OIDC provider. Changes made outside CloudFormation (the \
                 trust policy, session duration, attached, inline or boundary policies, policy \
                 documents, the OIDC provider or its client IDs) show in the plan under `drift` \
                 and are undone by the next apply.",
            )
            .attribute(
                Attribute::new("name", Type::String)
                    .required()
                    .requires_replace()
                    .description(
                        "Name of the connection: 1 to 124 ASCII letters, digits and hyphens, \
                         starting with a letter or digit. The stack is named `Ops-<name>`. \
                         Changing it replaces the connection.",
                    ),
            )
            .attribute(Attribute::new("subject", Type::String).required().description(
                "The subject (`sub` claim) LocalOps' tokens carry for this connection, exactly \
                 as LocalOps shows it. The role trusts only tokens with this subject and the \
                 provider's audience (`StringEquals` on both).",
            ))
            .attribute(
                Attribute::new("permission_set", Type::String)
                    .optional()
                    .description(
                        "The role's permissions: the `json` attribute of a \
                         `localops_permission_set`. Omitted, the role gets the AWS managed \
                         policy `AdministratorAccess` (LocalOps' 1-click default).",
                    ),
            )
            .attribute(
                Attribute::new("role_name", Type::String)
                    .optional()
                    .computed()
                    .description(
                        "Name of the IAM role (1 to 64 letters, digits and `_+=,.@-`). Defaults \
                         to `LocalOps-<name>`. Changing it replaces the connection.",
                    ),
            )
            .attribute(
                Attribute::new("max_session_duration", Type::Number)
                    .optional()
                    .computed()
                    .description(
                        "Maximum length of a LocalOps session with the role, in seconds: `3600` \
                         (the default) to `43200`.",
                    ),
            )
            .attribute(
                Attribute::new("oidc_provider_arn", Type::String)
                    .optional()
                    .computed()
                    .description(
                        "ARN of an IAM OIDC provider for LocalOps' issuer that already exists in \
                         the account; the stack then creates none (IAM allows one provider per \
                         issuer URL). Defaults to the provider the stack creates, whose ARN \
                         this attribute then holds.",
                    ),
            )
            .attribute(
                Attribute::new("tags", string_map.clone())
                    .optional()
                    .description(
                        "Tags for the stack and its role and OIDC provider, on top of the \
                         provider's `default_tags` (these win on the same key).",
                    ),
            )
            .attribute(
                Attribute::new("termination_protection", Type::Bool)
                    .optional()
                    .computed()
                    .description(
                        "Termination protection of the stack. While on, `terraform destroy` \
                         fails and keeps the connection. Defaults to `false`.",
                    ),
            )
            .attribute(
                Attribute::new("id", Type::String)
                    .computed()
                    .description("The stack's id (its ARN)."),
            )
            .attribute(
                Attribute::new("stack_name", Type::String)
                    .computed()
                    .description(
                        "The CloudFormation stack's name: `Ops-` followed by `name`, in the \
                         provider's `region`.",
                    ),
            )
            .attribute(
                Attribute::new("account_id", Type::String)
                    .computed()
                    .description("The AWS account the connection is in."),
            )
            .attribute(
                Attribute::new("role_arn", Type::String)
                    .computed()
                    .description("ARN of the role LocalOps assumes; give it to LocalOps."),
            )
            .attribute(
                Attribute::new("status", Type::String)
                    .computed()
                    .description("The stack's status, e.g. `CREATE_COMPLETE`."),
            )
            .attribute(
                Attribute::new("trust_policy", Type::String)
                    .computed()
                    .description(
                        "The role's trust policy as it is in IAM (canonical JSON). A change made \
                         outside CloudFormation shows in the plan as a change back to the \
                         template's policy.",
                    ),
            )
            .attribute(
                Attribute::new("managed_policy_arns", Type::list(Type::String))
                    .computed()
                    .description(
                        "ARNs of the managed policies attached to the role in IAM, sorted. \
                         Policies attached or detached outside CloudFormation show in the plan.",
                    ),
            )
            .attribute(
                Attribute::new("drift", Type::list(Type::String))
                    .computed()
                    .description(
                        "How the deployed connection differs from its template, one line per \
                         difference, as found by the last refresh: trust policy, session \
                         duration, managed policies attached, detached or with another document, \
                         inline policies, a permissions boundary, the OIDC provider or its client \
                         IDs. Empty when none; a plan shows the lines going away when the apply \
                         repairs them.",
                    ),
            )
            .attribute(
                Attribute::new("tags_all", string_map)
                    .computed()
                    .description("All tags of the stack: `default_tags` merged with `tags`."),
            )
            .attribute(
                Attribute::new("creates_oidc_provider", Type::Bool)
                    .computed()
                    .description(
                        "Whether the stack creates the OIDC provider (`oidc_provider_arn` not \
                         set) or uses an existing one.",
                    ),
            )
            .attribute(verify_attribute)
            .attribute(verified_at)
            .attribute(caller_arn),
    )
}
