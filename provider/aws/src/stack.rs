//! CloudFormation stack operations for a connection's `Ops-<name>` stack.
//!
//! Calls go through the SDK client (standard retry mode) and an outer retry loop for
//! throttling that outlasts the SDK's attempts ([`crate::retry`]). Waiting polls
//! `DescribeStacks` with jittered exponential backoff, bounded by [`WaitConfig::timeout`], and
//! returns within moments of cancellation. When a stack lands in a failed state, the failed
//! resource events of the current operation are collected into a [`StackFailure`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, Parameter, Stack, StackEvent, Tag, TemplateStage};
use tokio_util::sync::CancellationToken;

use crate::error::{AwsError, ErrorClass};
use crate::retry::{self, Backoff, CallError, RetryOn, RetryPolicy};

/// What CloudFormation answers when an update would change nothing.
const NO_UPDATES: &str = "No updates are to be performed";

/// Resource type of the stack's own events.
const STACK_RESOURCE_TYPE: &str = "AWS::CloudFormation::Stack";

/// What to create or update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackSpec {
    /// Stack name (`Ops-<name>`).
    pub name: String,
    /// Template body (JSON or YAML).
    pub template_body: String,
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// Used by [`Stacks::create_stack`]; updates change it with
    /// [`Stacks::update_termination_protection`].
    pub termination_protection: bool,
}

/// A stack as CloudFormation describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInfo {
    pub id: String,
    pub name: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub outputs: BTreeMap<String, String>,
    /// Parameter values (NoEcho parameters read back as `****`).
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub termination_protection: bool,
    /// Only filled by [`Stacks::describe_stack_with_template`].
    pub template_body: Option<String>,
}

impl StackInfo {
    /// Where the stack's status puts it.
    pub fn status_class(&self) -> StatusClass {
        classify_status(&self.status)
    }

    /// True once the stack has been deleted.
    pub fn is_deleted(&self) -> bool {
        self.status == "DELETE_COMPLETE"
    }
}

/// Coarse meaning of a stack status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// An operation is running (`*_IN_PROGRESS`).
    InProgress,
    /// The last operation succeeded (`CREATE_COMPLETE`, `UPDATE_COMPLETE`, `DELETE_COMPLETE`,
    /// `IMPORT_COMPLETE`).
    Complete,
    /// The last operation failed (`CREATE_FAILED`, `ROLLBACK_COMPLETE`, `ROLLBACK_FAILED`,
    /// `UPDATE_ROLLBACK_COMPLETE`, `DELETE_FAILED`, ...), or the stack waits for a change set
    /// (`REVIEW_IN_PROGRESS`), which no waiting will change.
    Failed,
}

/// Classifies a CloudFormation stack status.
pub fn classify_status(status: &str) -> StatusClass {
    match status {
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE" => {
            StatusClass::Complete
        }
        "REVIEW_IN_PROGRESS" => StatusClass::Failed,
        s if s.ends_with("_IN_PROGRESS") => StatusClass::InProgress,
        _ => StatusClass::Failed,
    }
}

/// Result of [`Stacks::update_stack`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The update started; wait for it with [`Stacks::wait_for_terminal`].
    Updating { stack_id: String },
    /// CloudFormation said "No updates are to be performed".
    NoChanges,
}

/// One failed resource of a failed stack operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedResource {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

/// A stack operation that ended in a failed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackFailure {
    pub stack_id: String,
    pub stack_name: String,
    pub status: String,
    pub status_reason: Option<String>,
    /// Failed resource events of the operation, root causes first.
    pub reasons: Vec<FailedResource>,
    /// Set when the events could not be read (the status is still reported).
    pub events_error: Option<String>,
}

impl fmt::Display for StackFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stack {} ended in {}", self.stack_name, self.status)?;
        if self.reasons.is_empty() {
            if let Some(reason) = &self.status_reason {
                write!(f, ": {reason}")?;
            }
        } else {
            for (i, r) in self.reasons.iter().enumerate() {
                f.write_str(if i == 0 { ": " } else { "; " })?;
                write!(
                    f,
                    "{} ({}) {}: {}",
                    r.logical_id, r.resource_type, r.status, r.reason
                )?;
            }
        }
        if let Some(e) = &self.events_error {
            write!(f, " (stack events unavailable: {e})")?;
        }
        Ok(())
    }
}

/// Errors of stack operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    /// An AWS call failed. `message` is AWS's text.
    #[error("{}", AwsDisplay { operation, resource, code, message })]
    Aws {
        operation: &'static str,
        resource: String,
        code: Option<String>,
        message: String,
        class: ErrorClass,
    },
    /// The stack reached a failed terminal state.
    #[error("{0}")]
    Failed(StackFailure),
    /// The stack was still changing when the wait's time ran out.
    #[error(
        "gave up after {}s waiting for stack {stack_id} (last status {}); the operation continues in AWS",
        waited.as_secs(),
        last_status.as_deref().unwrap_or("unknown")
    )]
    Timeout {
        stack_id: String,
        last_status: Option<String>,
        waited: Duration,
    },
    /// Cancelled. `stack_id` is set when it was known (the stack may exist even when it is not).
    #[error("{}", InterruptedDisplay { operation, resource, stack_id, last_status })]
    Interrupted {
        operation: &'static str,
        resource: String,
        stack_id: Option<String>,
        last_status: Option<String>,
    },
}

struct AwsDisplay<'a> {
    operation: &'a str,
    resource: &'a str,
    code: &'a Option<String>,
    message: &'a str,
}

impl fmt::Display for AwsDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloudFormation {} {}: ", self.operation, self.resource)?;
        match self.code {
            Some(code) if code != self.message => write!(f, "{code}: {}", self.message),
            _ => f.write_str(self.message),
        }
    }
}

struct InterruptedDisplay<'a> {
    operation: &'a str,
    resource: &'a str,
    stack_id: &'a Option<String>,
    last_status: &'a Option<String>,
}

impl fmt::Display for InterruptedDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "interrupted during {} of stack {}",
            self.operation, self.resource
        )?;
        match self.stack_id {
            Some(id) if id != self.resource => write!(f, " (stack id {id})")?,
            Some(_) => {}
            None if self.operation == "CreateStack" => {
                f.write_str("; the stack may have been created")?
            }
            None => {}
        }
        if let Some(status) = self.last_status {
            write!(f, "; last status {status}")?;
        }
        Ok(())
    }
}

impl StackError {
    fn from_aws(e: AwsError) -> Self {
        StackError::Aws {
            operation: e.operation,
            resource: e.resource,
            code: e.code,
            message: e.message,
            class: e.class,
        }
    }

    /// The error class of an AWS failure.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            StackError::Aws { class, .. } => Some(*class),
            _ => None,
        }
    }

    /// True when the call failed because termination protection is on.
    pub fn is_termination_protected(&self) -> bool {
        matches!(self, StackError::Aws { message, .. } if message.contains("TerminationProtection is enabled"))
    }

    /// The stack id carried by the error, when known.
    pub fn stack_id(&self) -> Option<&str> {
        match self {
            StackError::Failed(f) => Some(&f.stack_id),
            StackError::Timeout { stack_id, .. } => Some(stack_id),
            StackError::Interrupted { stack_id, .. } => stack_id.as_deref(),
            StackError::Aws { .. } => None,
        }
    }
}

/// Polling settings of [`Stacks::wait_for_terminal`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitConfig {
    /// Overall bound on one wait.
    pub timeout: Duration,
    /// Delays between polls (jittered, growing).
    pub backoff: Backoff,
    /// Upper bound on `DescribeStackEvents` pages read when collecting failures.
    pub max_event_pages: usize,
}

impl Default for WaitConfig {
    fn default() -> Self {
        WaitConfig {
            timeout: Duration::from_secs(30 * 60),
            backoff: Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(8),
                multiplier: 1.6,
            },
            max_event_pages: 20,
        }
    }
}

/// Stack operations on one CloudFormation client.
/// `Debug` leaves the client out (the SDK's prints parsed profile files, secrets included).
#[derive(Clone)]
pub struct Stacks {
    client: Client,
    retry: RetryPolicy,
    wait: WaitConfig,
}

impl std::fmt::Debug for Stacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stacks")
            .field("retry", &self.retry)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl Stacks {
    pub fn new(client: Client) -> Self {
        Stacks {
            client,
            retry: RetryPolicy::default(),
            wait: WaitConfig::default(),
        }
    }

    /// Replaces the retry policy of single calls.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the wait settings.
    pub fn with_wait(mut self, wait: WaitConfig) -> Self {
        self.wait = wait;
        self
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn call<T, E, F, Fut>(
        &self,
        operation: &'static str,
        resource: &str,
        cancel: &CancellationToken,
        f: F,
    ) -> Result<T, StackError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, aws_sdk_cloudformation::error::SdkError<E>>>,
        E: aws_sdk_cloudformation::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        match retry::call_aws(
            &self.retry,
            cancel,
            operation,
            resource,
            RetryOn::TRANSIENT,
            f,
        )
        .await
        {
            Ok(v) => Ok(v),
            Err(CallError::Aws(e)) => Err(StackError::from_aws(e)),
            Err(CallError::Interrupted) => Err(StackError::Interrupted {
                operation,
                resource: resource.to_owned(),
                stack_id: None,
                last_status: None,
            }),
        }
    }

    /// Starts creating a stack with `CAPABILITY_NAMED_IAM`; returns its id. Retries reuse one
    /// client request token, so a retried create cannot create a second stack.
    pub async fn create_stack(
        &self,
        spec: &StackSpec,
        cancel: &CancellationToken,
    ) -> Result<String, StackError> {
        let token = request_token();
        let out = self
            .call("CreateStack", &spec.name, cancel, || {
                self.client
                    .create_stack()
                    .stack_name(&spec.name)
                    .template_body(&spec.template_body)
                    .set_parameters(Some(to_parameters(&spec.parameters)))
                    .set_tags(Some(to_tags(&spec.tags)))
                    .enable_termination_protection(spec.termination_protection)
                    .capabilities(Capability::CapabilityNamedIam)
                    .client_request_token(&token)
                    .send()
            })
            .await?;
        let id = out.stack_id().unwrap_or(&spec.name).to_owned();
        tracing::info!(stack = %spec.name, stack_id = %id, "CloudFormation stack creation started");
        Ok(id)
    }

    /// Starts updating `name_or_id` to `spec` (template, parameters, tags). "No updates are to
    /// be performed" is [`UpdateOutcome::NoChanges`].
    pub async fn update_stack(
        &self,
        name_or_id: &str,
        spec: &StackSpec,
        cancel: &CancellationToken,
    ) -> Result<UpdateOutcome, StackError> {
        let token = request_token();
        let result = self
            .call("UpdateStack", name_or_id, cancel, || {
                self.client
                    .update_stack()
                    .stack_name(name_or_id)
                    .template_body(&spec.template_body)
                    .set_parameters(Some(to_parameters(&spec.parameters)))
                    .set_tags(Some(to_tags(&spec.tags)))
                    .capabilities(Capability::CapabilityNamedIam)
                    .client_request_token(&token)
                    .send()
            })
            .await;
        match result {
            Ok(out) => {
                let stack_id = out.stack_id().unwrap_or(name_or_id).to_owned();
                tracing::info!(stack = %name_or_id, "CloudFormation stack update started");
                Ok(UpdateOutcome::Updating { stack_id })
            }
            Err(StackError::Aws { message, .. }) if message.contains(NO_UPDATES) => {
                tracing::debug!(stack = %name_or_id, "CloudFormation stack already up to date");
                Ok(UpdateOutcome::NoChanges)
            }
            Err(e) => Err(e),
        }
    }

    /// Turns termination protection on or off.
    pub async fn update_termination_protection(
        &self,
        name_or_id: &str,
        enabled: bool,
        cancel: &CancellationToken,
    ) -> Result<(), StackError> {
        self.call("UpdateTerminationProtection", name_or_id, cancel, || {
            self.client
                .update_termination_protection()
                .stack_name(name_or_id)
                .enable_termination_protection(enabled)
                .send()
        })
        .await?;
        Ok(())
    }

    /// Starts deleting a stack (by id, preferably). Deleting a deleted stack succeeds.
    pub async fn delete_stack(
        &self,
        stack_id: &str,
        cancel: &CancellationToken,
    ) -> Result<(), StackError> {
        let token = request_token();
        self.call("DeleteStack", stack_id, cancel, || {
            self.client
                .delete_stack()
                .stack_name(stack_id)
                .client_request_token(&token)
                .send()
        })
        .await?;
        tracing::info!(stack = %stack_id, "CloudFormation stack deletion started");
        Ok(())
    }

    /// Describes a stack by name or id. `None` when it does not exist or was deleted
    /// (a stack described by id in `DELETE_COMPLETE`).
    pub async fn describe_stack(
        &self,
        name_or_id: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<StackInfo>, StackError> {
        Ok(self
            .describe_raw(name_or_id, cancel)
            .await?
            .filter(|s| !s.is_deleted()))
    }

    /// Like [`Stacks::describe_stack`], with the template body from `GetTemplate`.
    pub async fn describe_stack_with_template(
        &self,
        name_or_id: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<StackInfo>, StackError> {
        let Some(mut info) = self.describe_stack(name_or_id, cancel).await? else {
            return Ok(None);
        };
        match self.get_template(&info.id, cancel).await {
            Ok(body) => info.template_body = Some(body),
            // Deleted between the two calls.
            Err(StackError::Aws {
                class: ErrorClass::NotFound,
                ..
            }) => return Ok(None),
            Err(e) => return Err(e),
        }
        Ok(Some(info))
    }

    /// The stack's template as submitted (`TemplateStage::Original`).
    pub async fn get_template(
        &self,
        name_or_id: &str,
        cancel: &CancellationToken,
    ) -> Result<String, StackError> {
        let out = self
            .call("GetTemplate", name_or_id, cancel, || {
                self.client
                    .get_template()
                    .stack_name(name_or_id)
                    .template_stage(TemplateStage::Original)
                    .send()
            })
            .await?;
        Ok(out.template_body().unwrap_or_default().to_owned())
    }

    /// Describes including deleted stacks. `None` when CloudFormation says it does not exist.
    async fn describe_raw(
        &self,
        name_or_id: &str,
        cancel: &CancellationToken,
    ) -> Result<Option<StackInfo>, StackError> {
        let result = self
            .call("DescribeStacks", name_or_id, cancel, || {
                self.client.describe_stacks().stack_name(name_or_id).send()
            })
            .await;
        match result {
            Ok(out) => Ok(out.stacks().first().map(|s| stack_info(s, name_or_id))),
            Err(StackError::Aws {
                class: ErrorClass::NotFound,
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Polls until the stack reaches a terminal status. Success statuses return the stack;
    /// failed ones return [`StackError::Failed`] with the operation's failed resources. A stack
    /// that disappears (described by name after deletion) is reported as `DELETE_COMPLETE`.
    /// Bounded by [`WaitConfig::timeout`]; returns [`StackError::Interrupted`] with the stack id
    /// and last status promptly after `cancel` fires.
    pub async fn wait_for_terminal(
        &self,
        stack_id: &str,
        cancel: &CancellationToken,
    ) -> Result<StackInfo, StackError> {
        let started = Instant::now();
        let deadline = started + self.wait.timeout;
        let mut last_status: Option<String> = None;
        let mut polls: u32 = 0;
        let interrupted = |last_status: Option<String>| StackError::Interrupted {
            operation: "wait",
            resource: stack_id.to_owned(),
            stack_id: Some(stack_id.to_owned()),
            last_status,
        };
        loop {
            let described = match self.describe_raw(stack_id, cancel).await {
                Ok(d) => d,
                Err(StackError::Interrupted { .. }) => return Err(interrupted(last_status)),
                Err(e) => return Err(e),
            };
            let Some(info) = described else {
                tracing::debug!(stack = %stack_id, "stack no longer exists");
                return Ok(StackInfo {
                    id: stack_id.to_owned(),
                    name: stack_id.to_owned(),
                    status: "DELETE_COMPLETE".to_owned(),
                    status_reason: None,
                    outputs: BTreeMap::new(),
                    parameters: BTreeMap::new(),
                    tags: BTreeMap::new(),
                    termination_protection: false,
                    template_body: None,
                });
            };
            if last_status.as_deref() != Some(info.status.as_str()) {
                tracing::debug!(stack = %info.name, status = %info.status, "stack status");
            }
            match info.status_class() {
                StatusClass::Complete => return Ok(info),
                StatusClass::Failed => {
                    let failure = self.collect_failure(&info, cancel).await;
                    return Err(StackError::Failed(failure));
                }
                StatusClass::InProgress => last_status = Some(info.status),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StackError::Timeout {
                    stack_id: stack_id.to_owned(),
                    last_status,
                    waited: now - started,
                });
            }
            let delay = self.wait.backoff.delay(polls).min(deadline - now);
            polls = polls.saturating_add(1);
            if retry::sleep_or_cancel(delay, cancel).await.is_err() {
                return Err(interrupted(last_status));
            }
        }
    }

    async fn collect_failure(&self, info: &StackInfo, cancel: &CancellationToken) -> StackFailure {
        let (reasons, events_error) = match self.failed_events(info, cancel).await {
            Ok(r) => (r, None),
            Err(e) => {
                tracing::warn!(stack = %info.name, error = %e, "could not read stack events");
                (Vec::new(), Some(e.to_string()))
            }
        };
        StackFailure {
            stack_id: info.id.clone(),
            stack_name: info.name.clone(),
            status: info.status.clone(),
            status_reason: info.status_reason.clone(),
            reasons,
            events_error,
        }
    }

    /// Failed resource events of the stack's latest operation: events are read newest first
    /// and collection stops at the stack's own event that started the operation.
    async fn failed_events(
        &self,
        info: &StackInfo,
        cancel: &CancellationToken,
    ) -> Result<Vec<FailedResource>, StackError> {
        let mut events: Vec<StackEvent> = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..self.wait.max_event_pages.max(1) {
            let token = next.clone();
            let out = self
                .call("DescribeStackEvents", &info.id, cancel, || {
                    self.client
                        .describe_stack_events()
                        .stack_name(&info.id)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            let page = out.stack_events();
            let mut reached_start = false;
            for e in page {
                if is_operation_start(e, info) {
                    reached_start = true;
                    break;
                }
                events.push(e.clone());
            }
            next = out.next_token().map(str::to_owned);
            if reached_start || next.is_none() {
                break;
            }
        }
        Ok(failed_resources(&events, info))
    }
}

/// The stack's own `*_IN_PROGRESS` event that starts a user operation.
fn is_operation_start(e: &StackEvent, info: &StackInfo) -> bool {
    let status = e.resource_status().map(|s| s.as_str()).unwrap_or_default();
    is_own_event(e, info)
        && matches!(
            status,
            "CREATE_IN_PROGRESS"
                | "UPDATE_IN_PROGRESS"
                | "DELETE_IN_PROGRESS"
                | "IMPORT_IN_PROGRESS"
        )
}

/// An event of the stack itself (not of one of its resources).
fn is_own_event(e: &StackEvent, info: &StackInfo) -> bool {
    e.resource_type() == Some(STACK_RESOURCE_TYPE)
        && (e.physical_resource_id() == Some(info.id.as_str())
            || e.logical_resource_id() == Some(info.name.as_str()))
}

/// Failed events (newest first in `events`) turned into reasons, root causes first:
/// CloudFormation marks resources it gave up on as "Resource creation cancelled", which says
/// nothing about the cause, so those go last; the oldest failure is usually the root cause.
fn failed_resources(events: &[StackEvent], info: &StackInfo) -> Vec<FailedResource> {
    let mut causes = Vec::new();
    let mut cancelled = Vec::new();
    for e in events.iter().rev() {
        let status = e.resource_status().map(|s| s.as_str()).unwrap_or_default();
        if !status.ends_with("_FAILED") {
            continue;
        }
        if is_own_event(e, info) {
            continue;
        }
        let reason = e
            .resource_status_reason()
            .unwrap_or("no reason given")
            .to_owned();
        let item = FailedResource {
            logical_id: e.logical_resource_id().unwrap_or("?").to_owned(),
            resource_type: e.resource_type().unwrap_or("?").to_owned(),
            status: status.to_owned(),
            reason,
        };
        if item.reason.contains("Resource creation cancelled")
            || item.reason.contains("Resource update cancelled")
        {
            cancelled.push(item);
        } else {
            causes.push(item);
        }
    }
    causes.extend(cancelled);
    causes
}

fn stack_info(s: &Stack, fallback_name: &str) -> StackInfo {
    let name = s.stack_name().unwrap_or(fallback_name).to_owned();
    StackInfo {
        id: s.stack_id().unwrap_or(&name).to_owned(),
        status: s
            .stack_status()
            .map(|st| st.as_str().to_owned())
            .unwrap_or_default(),
        status_reason: s.stack_status_reason().map(str::to_owned),
        outputs: key_values(s.outputs(), |o| (o.output_key(), o.output_value())),
        parameters: key_values(s.parameters(), |p| (p.parameter_key(), p.parameter_value())),
        tags: key_values(s.tags(), |t| (t.key(), t.value())),
        termination_protection: s.enable_termination_protection().unwrap_or(false),
        template_body: None,
        name,
    }
}

/// Key/value pairs as a map: items without a key are skipped, a missing value is empty.
fn key_values<T>(
    items: &[T],
    key_value: impl Fn(&T) -> (Option<&str>, Option<&str>),
) -> BTreeMap<String, String> {
    items
        .iter()
        .filter_map(|item| {
            let (key, value) = key_value(item);
            Some((key?.to_owned(), value.unwrap_or_default().to_owned()))
        })
        .collect()
}

fn to_parameters(params: &BTreeMap<String, String>) -> Vec<Parameter> {
    params
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect()
}

fn to_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// A fresh idempotency token (`[a-zA-Z][-a-zA-Z0-9]*`, at most 128 characters).
fn request_token() -> String {
    let mut rng = fastrand::Rng::new();
    let mut token = String::from("localops-");
    for _ in 0..32 {
        let n = rng.u8(0..16);
        token.push(char::from_digit(u32::from(n), 16).unwrap_or('0'));
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::types::ResourceStatus;

    #[test]
    fn status_classes() {
        for s in [
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "DELETE_COMPLETE",
            "IMPORT_COMPLETE",
        ] {
            assert_eq!(classify_status(s), StatusClass::Complete, "{s}");
        }
        for s in [
            "CREATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "ROLLBACK_IN_PROGRESS",
            "DELETE_IN_PROGRESS",
        ] {
            assert_eq!(classify_status(s), StatusClass::InProgress, "{s}");
        }
        for s in [
            "CREATE_FAILED",
            "ROLLBACK_COMPLETE",
            "ROLLBACK_FAILED",
            "UPDATE_ROLLBACK_COMPLETE",
            "UPDATE_ROLLBACK_FAILED",
            "DELETE_FAILED",
            "UPDATE_FAILED",
            "IMPORT_ROLLBACK_COMPLETE",
            "REVIEW_IN_PROGRESS",
            "",
        ] {
            assert_eq!(classify_status(s), StatusClass::Failed, "{s}");
        }
    }

    fn info() -> StackInfo {
        StackInfo {
            id: "arn:aws:cloudformation:us-east-1:1:stack/Ops-x/abc".into(),
            name: "Ops-x".into(),
            status: "ROLLBACK_COMPLETE".into(),
            status_reason: None,
            outputs: BTreeMap::new(),
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
            termination_protection: false,
            template_body: None,
        }
    }

    fn event(logical: &str, ty: &str, status: &str, reason: Option<&str>) -> StackEvent {
        let mut b = StackEvent::builder()
            .logical_resource_id(logical)
            .resource_type(ty)
            .resource_status(ResourceStatus::from(status));
        if let Some(r) = reason {
            b = b.resource_status_reason(r);
        }
        b.build()
    }

    #[test]
    fn failure_reasons_put_causes_first() {
        let events = vec![
            event("Ops-x", STACK_RESOURCE_TYPE, "ROLLBACK_COMPLETE", None),
            event("Policy", "AWS::IAM::ManagedPolicy", "DELETE_COMPLETE", None),
            event(
                "Ops-x",
                STACK_RESOURCE_TYPE,
                "ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to create: [Role]."),
            ),
            event(
                "Policy",
                "AWS::IAM::ManagedPolicy",
                "CREATE_FAILED",
                Some("Resource creation cancelled"),
            ),
            event(
                "Role",
                "AWS::IAM::Role",
                "CREATE_FAILED",
                Some("User is not authorized to perform: iam:CreateRole"),
            ),
        ];
        let reasons = failed_resources(&events, &info());
        assert_eq!(reasons.len(), 2);
        assert_eq!(reasons[0].logical_id, "Role");
        assert!(reasons[0].reason.contains("iam:CreateRole"));
        assert_eq!(reasons[1].logical_id, "Policy");
        let failure = StackFailure {
            stack_id: info().id,
            stack_name: "Ops-x".into(),
            status: "ROLLBACK_COMPLETE".into(),
            status_reason: None,
            reasons,
            events_error: None,
        };
        let text = failure.to_string();
        assert!(text.starts_with("stack Ops-x ended in ROLLBACK_COMPLETE: Role (AWS::IAM::Role) CREATE_FAILED: User is not authorized"), "{text}");
    }

    #[test]
    fn operation_start_is_the_stacks_own_in_progress_event() {
        let i = info();
        assert!(is_operation_start(
            &event(
                "Ops-x",
                STACK_RESOURCE_TYPE,
                "UPDATE_IN_PROGRESS",
                Some("User Initiated")
            ),
            &i
        ));
        assert!(!is_operation_start(
            &event(
                "Ops-x",
                STACK_RESOURCE_TYPE,
                "UPDATE_ROLLBACK_IN_PROGRESS",
                None
            ),
            &i
        ));
        assert!(!is_operation_start(
            &event("Role", "AWS::IAM::Role", "CREATE_IN_PROGRESS", None),
            &i
        ));
    }

    #[test]
    fn request_tokens_are_valid_and_distinct() {
        let a = request_token();
        let b = request_token();
        assert_ne!(a, b);
        assert!(a.len() <= 128);
        assert!(a.starts_with(|c: char| c.is_ascii_alphabetic()));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn interrupted_create_says_the_stack_may_exist() {
        let e = StackError::Interrupted {
            operation: "CreateStack",
            resource: "Ops-x".into(),
            stack_id: None,
            last_status: None,
        };
        assert!(e.to_string().contains("may have been created"));
        let e = StackError::Interrupted {
            operation: "wait",
            resource: "arn:x".into(),
            stack_id: Some("arn:x".into()),
            last_status: Some("CREATE_IN_PROGRESS".into()),
        };
        assert_eq!(e.stack_id(), Some("arn:x"));
        assert!(e.to_string().contains("CREATE_IN_PROGRESS"));
    }
}
