//! AWS failures as Terraform diagnostics: the operation, the resource and AWS's own message;
//! a failed stack names each failed logical resource with AWS's reason.

use localops_aws::{ErrorClass, IamError, StackError};
use tfplugin::Diagnostic;

fn access_hint(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::AccessDenied => {
            "\n\nThe credentials Terraform uses lack a permission; AWS's message above names the \
             action when AWS says it. Grant it (CloudFormation stack actions and the IAM actions \
             the stack needs: iam:CreateRole, iam:CreateOpenIDConnectProvider, iam:CreatePolicy, \
             iam:AttachRolePolicy, ...) and apply again."
        }
        ErrorClass::NoCredentials
        | ErrorClass::CredentialsProvider
        | ErrorClass::InvalidCredentials => {
            "\n\nCheck the AWS credentials Terraform runs with (environment, `profile`, \
             `assume_role`)."
        }
        _ => "",
    }
}

/// A stack operation's failure; `what` says what was being done ("creating", "updating"...).
pub fn stack_error(what: &str, stack: &str, e: &StackError) -> Diagnostic {
    match e {
        StackError::Aws { class, .. } => Diagnostic::error(
            format!("AWS error while {what} the connection stack {stack}"),
            format!("{e}{}", access_hint(*class)),
        ),
        StackError::Failed(failure) => {
            let mut detail = format!(
                "CloudFormation stack {} ended in {}",
                failure.stack_name, failure.status
            );
            if failure.reasons.is_empty() {
                if let Some(reason) = &failure.status_reason {
                    detail.push_str(&format!(": {reason}"));
                }
            } else {
                detail.push_str(". Failed resources:");
                for r in &failure.reasons {
                    detail.push_str(&format!(
                        "\n  - {} ({}) {}: {}",
                        r.logical_id, r.resource_type, r.status, r.reason
                    ));
                }
            }
            if let Some(events) = &failure.events_error {
                detail.push_str(&format!(
                    "\n(The stack's events could not be read: {events}.)"
                ));
            }
            Diagnostic::error(
                format!("The connection stack {stack} failed while {what}"),
                detail,
            )
        }
        StackError::Timeout { .. } => Diagnostic::error(
            format!("Timed out {what} the connection stack {stack}"),
            format!(
                "{e}. The stack id is kept in Terraform's state: the next plan reads the stack \
                 again and continues from where it is."
            ),
        ),
        StackError::Interrupted { .. } => Diagnostic::error(
            format!("Interrupted while {what} the connection stack {stack}"),
            format!(
                "{e}. Whatever CloudFormation already started continues in AWS; the stack id is \
                 kept in Terraform's state when it is known, so the next apply continues with \
                 that stack instead of creating another."
            ),
        ),
    }
}

pub fn iam_error(what: &str, e: &IamError) -> Diagnostic {
    let hint = e.class().map(access_hint).unwrap_or("");
    Diagnostic::error(format!("AWS error while {what}"), format!("{e}{hint}"))
}
