//! CloudFormation stack operations against moto (lifecycle) and a scripted fake endpoint
//! (failures moto cannot produce: failed stacks, access denied, throttling, hangs).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{FakeAws, MotoServer, Reply, timed};
use localops_aws::retry::Backoff;
use localops_aws::stack::classify_status;
use localops_aws::{
    CancellationToken, ErrorClass, RetryPolicy, StackError, StackFailure, StackSpec, StatusClass,
    UpdateOutcome, WaitConfig,
};

fn template(description: &str) -> String {
    serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Parameters": {
            "Env": { "Type": "String" },
            "Owner": { "Type": "String", "Default": "ops" }
        },
        "Resources": {
            "Policy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{ "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*" }]
                    }
                }
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": { "Fn::Sub": "localops-${Env}" },
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": { "Service": "ec2.amazonaws.com" },
                            "Action": "sts:AssumeRole"
                        }]
                    }
                }
            }
        },
        "Outputs": {
            "RoleArn": { "Value": { "Fn::GetAtt": ["Role", "Arn"] } },
            "PolicyArn": { "Value": { "Ref": "Policy" } }
        }
    })
    .to_string()
}

fn spec(name: &str, description: &str, owner: &str) -> StackSpec {
    StackSpec {
        name: name.into(),
        template_body: template(description),
        parameters: BTreeMap::from([
            ("Env".to_string(), "dev".to_string()),
            ("Owner".to_string(), owner.to_string()),
        ]),
        tags: BTreeMap::from([
            ("localops:connection".to_string(), "demo".to_string()),
            ("team".to_string(), "platform".to_string()),
        ]),
        termination_protection: false,
    }
}

fn fast_wait() -> WaitConfig {
    WaitConfig {
        timeout: Duration::from_secs(20),
        backoff: Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
            multiplier: 2.0,
        },
        max_event_pages: 10,
    }
}

#[tokio::test]
async fn lifecycle_create_describe_update_delete() {
    let moto = MotoServer::start();
    let stacks = moto.clients().await.stacks().with_wait(fast_wait());
    let cancel = CancellationToken::new();

    let first = spec("Ops-demo", "one", "ops");
    let id = stacks.create_stack(&first, &cancel).await.unwrap();
    assert!(id.starts_with("arn:aws:cloudformation:us-east-1:"), "{id}");

    let done = stacks.wait_for_terminal(&id, &cancel).await.unwrap();
    assert_eq!(done.status, "CREATE_COMPLETE");

    let info = stacks
        .describe_stack_with_template("Ops-demo", &cancel)
        .await
        .unwrap()
        .expect("stack exists");
    assert_eq!(info.id, id);
    assert_eq!(info.name, "Ops-demo");
    assert_eq!(info.status_class(), StatusClass::Complete);
    assert_eq!(
        info.outputs.get("RoleArn").map(String::as_str),
        Some("arn:aws:iam::123456789012:role/localops-dev")
    );
    assert!(info.outputs["PolicyArn"].starts_with("arn:aws:iam::123456789012:policy/"));
    assert_eq!(info.parameters, first.parameters);
    assert_eq!(info.tags, first.tags);
    assert!(!info.termination_protection);
    let body: serde_json::Value =
        serde_json::from_str(info.template_body.as_deref().expect("template")).unwrap();
    assert_eq!(body["Description"], "one");
    assert_eq!(
        stacks.get_template(&id, &cancel).await.unwrap(),
        first.template_body
    );

    // Same template and parameters: CloudFormation's "No updates are to be performed".
    let outcome = stacks.update_stack(&id, &first, &cancel).await.unwrap();
    assert_eq!(outcome, UpdateOutcome::NoChanges);

    // A real change.
    let second = spec("Ops-demo", "two", "security");
    let outcome = stacks.update_stack(&id, &second, &cancel).await.unwrap();
    assert_eq!(
        outcome,
        UpdateOutcome::Updating {
            stack_id: id.clone()
        }
    );
    let done = stacks.wait_for_terminal(&id, &cancel).await.unwrap();
    assert_eq!(done.status, "UPDATE_COMPLETE");
    assert_eq!(done.parameters["Owner"], "security");
    let body = stacks.get_template(&id, &cancel).await.unwrap();
    assert!(body.contains("\"two\""));

    // Delete, then the stack reads as gone by id and by name.
    stacks.delete_stack(&id, &cancel).await.unwrap();
    let done = stacks.wait_for_terminal(&id, &cancel).await.unwrap();
    assert_eq!(done.status, "DELETE_COMPLETE");
    assert!(done.is_deleted());
    assert_eq!(stacks.describe_stack(&id, &cancel).await.unwrap(), None);
    assert_eq!(
        stacks.describe_stack("Ops-demo", &cancel).await.unwrap(),
        None
    );
    assert_eq!(
        stacks
            .describe_stack_with_template(&id, &cancel)
            .await
            .unwrap(),
        None
    );
    // Waiting on a name that no longer exists reports it deleted.
    let gone = stacks.wait_for_terminal("Ops-demo", &cancel).await.unwrap();
    assert!(gone.is_deleted());
}

#[tokio::test]
async fn termination_protection_and_missing_stacks() {
    let moto = MotoServer::start();
    let stacks = moto.clients().await.stacks().with_wait(fast_wait());
    let cancel = CancellationToken::new();
    let mut protected = spec("Ops-protected", "p", "ops");
    protected.termination_protection = true;
    let id = stacks.create_stack(&protected, &cancel).await.unwrap();
    stacks.wait_for_terminal(&id, &cancel).await.unwrap();
    let info = stacks.describe_stack(&id, &cancel).await.unwrap().unwrap();
    assert!(info.termination_protection);

    assert_eq!(
        stacks.describe_stack("Ops-nothing", &cancel).await.unwrap(),
        None
    );
    let err = stacks
        .update_stack("Ops-nothing", &protected, &cancel)
        .await
        .unwrap_err();
    match &err {
        StackError::Aws {
            operation, class, ..
        } => {
            assert_eq!(*operation, "UpdateStack");
            assert_eq!(*class, ErrorClass::NotFound);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("Ops-nothing"), "{err}");
}

/// moto rejects a malformed policy at CreateStack (real CloudFormation would accept the call
/// and fail the resource) and leaves the stack in CREATE_IN_PROGRESS forever, which is just
/// right for checking cancellation and the wait timeout.
#[tokio::test]
async fn rejected_create_and_a_stack_that_never_finishes() {
    let moto = MotoServer::start();
    let clients = moto.clients().await;
    let cancel = CancellationToken::new();
    let bad = StackSpec {
        name: "Ops-broken".into(),
        template_body: serde_json::json!({
            "Resources": {
                "Policy": {
                    "Type": "AWS::IAM::ManagedPolicy",
                    "Properties": {
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{ "Effect": "Maybe", "Action": "s3:*", "Resource": "*" }]
                        }
                    }
                }
            }
        })
        .to_string(),
        ..StackSpec::default()
    };
    let stacks = clients.stacks().with_wait(fast_wait());
    let err = stacks.create_stack(&bad, &cancel).await.unwrap_err();
    match &err {
        StackError::Aws {
            operation,
            resource,
            code,
            message,
            class,
        } => {
            assert_eq!(*operation, "CreateStack");
            assert_eq!(resource, "Ops-broken");
            assert_eq!(code.as_deref(), Some("MalformedPolicyDocument"));
            assert!(message.contains("Syntax errors in policy"), "{message}");
            assert_eq!(*class, ErrorClass::Validation);
        }
        other => panic!("unexpected {other:?}"),
    }

    let stuck = stacks
        .describe_stack("Ops-broken", &cancel)
        .await
        .unwrap()
        .expect("moto keeps the half-created stack");
    assert_eq!(classify_status(&stuck.status), StatusClass::InProgress);

    // Cancellation: returns promptly with the stack id and the last status.
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let slow = clients.stacks(); // default wait: 30 minutes
    let waiter = tokio::spawn({
        let id = stuck.id.clone();
        async move { timed(slow.wait_for_terminal(&id, &cancel)).await }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cancelled_at = std::time::Instant::now();
    trigger.cancel();
    let (result, _) = waiter.await.unwrap();
    assert!(
        cancelled_at.elapsed() < Duration::from_millis(1500),
        "took {:?} after cancel",
        cancelled_at.elapsed()
    );
    let err = result.unwrap_err();
    match &err {
        StackError::Interrupted {
            stack_id,
            last_status,
            ..
        } => {
            assert_eq!(stack_id.as_deref(), Some(stuck.id.as_str()));
            assert_eq!(last_status.as_deref(), Some("CREATE_IN_PROGRESS"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("interrupted"), "{err}");
    assert_eq!(err.stack_id(), Some(stuck.id.as_str()));

    // The overall wait bound.
    let bounded = clients.stacks().with_wait(WaitConfig {
        timeout: Duration::from_secs(2),
        ..fast_wait()
    });
    let (result, took) =
        timed(bounded.wait_for_terminal(&stuck.id, &CancellationToken::new())).await;
    match result.unwrap_err() {
        StackError::Timeout {
            stack_id,
            last_status,
            ..
        } => {
            assert_eq!(stack_id, stuck.id);
            assert_eq!(last_status.as_deref(), Some("CREATE_IN_PROGRESS"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(took < Duration::from_secs(5), "{took:?}");
}

const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/Ops-fail/1111";

fn describe_stacks_xml(status: &str, reason: Option<&str>) -> String {
    format!(
        r#"<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackId>{STACK_ID}</StackId><StackName>Ops-fail</StackName><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>{status}</StackStatus>{}<Parameters><member><ParameterKey>Env</ParameterKey><ParameterValue>dev</ParameterValue></member></Parameters><EnableTerminationProtection>true</EnableTerminationProtection></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>"#,
        reason
            .map(|r| format!("<StackStatusReason>{r}</StackStatusReason>"))
            .unwrap_or_default()
    )
}

fn event_xml(n: u32, logical: &str, ty: &str, status: &str, reason: Option<&str>) -> String {
    let physical = if ty == "AWS::CloudFormation::Stack" {
        STACK_ID.to_string()
    } else {
        format!("phys-{logical}")
    };
    format!(
        "<member><StackId>{STACK_ID}</StackId><EventId>e{n}</EventId><StackName>Ops-fail</StackName><LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{physical}</PhysicalResourceId><ResourceType>{ty}</ResourceType><Timestamp>2026-01-01T00:{:02}:00Z</Timestamp><ResourceStatus>{status}</ResourceStatus>{}</member>",
        60 - n.min(59),
        reason
            .map(|r| format!(
                "<ResourceStatusReason>{}</ResourceStatusReason>",
                common::xml_escape(r)
            ))
            .unwrap_or_default()
    )
}

fn events_page(events: &[String], next: Option<&str>) -> String {
    format!(
        r#"<DescribeStackEventsResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStackEventsResult><StackEvents>{}</StackEvents>{}</DescribeStackEventsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStackEventsResponse>"#,
        events.concat(),
        next.map(|t| format!("<NextToken>{t}</NextToken>"))
            .unwrap_or_default()
    )
}

/// Waits for [`STACK_ID`] on `fake`, which must end in [`StackError::Failed`]; returns the
/// failure and the error's text.
async fn wait_for_failure(fake: &FakeAws) -> (StackFailure, String) {
    let stacks = fake.clients().await.stacks().with_wait(fast_wait());
    let err = stacks
        .wait_for_terminal(STACK_ID, &CancellationToken::new())
        .await
        .unwrap_err();
    let StackError::Failed(failure) = &err else {
        panic!("unexpected {err:?}");
    };
    (failure.clone(), err.to_string())
}

#[tokio::test]
async fn failed_update_collects_only_this_operations_failures() {
    const STACK: &str = "AWS::CloudFormation::Stack";
    let fake = FakeAws::start(|req, n| match req.action() {
        "DescribeStacks" if n < 2 => Reply::ok(describe_stacks_xml("UPDATE_ROLLBACK_IN_PROGRESS", None)),
        "DescribeStacks" => Reply::ok(describe_stacks_xml(
            "UPDATE_ROLLBACK_COMPLETE",
            Some("The following resource(s) failed to update: [Role]."),
        )),
        "DescribeStackEvents" => match req.params.get("NextToken").map(String::as_str) {
            None => Reply::ok(events_page(
                &[
                    event_xml(1, "Ops-fail", STACK, "UPDATE_ROLLBACK_COMPLETE", None),
                    event_xml(2, "Role", "AWS::IAM::Role", "UPDATE_COMPLETE", None),
                    event_xml(3, "Ops-fail", STACK, "UPDATE_ROLLBACK_IN_PROGRESS", Some("The following resource(s) failed to update: [Role].")),
                    event_xml(4, "Policy", "AWS::IAM::ManagedPolicy", "UPDATE_FAILED", Some("Resource update cancelled")),
                ],
                Some("page-2"),
            )),
            Some("page-2") => Reply::ok(events_page(
                &[
                    event_xml(5, "Role", "AWS::IAM::Role", "UPDATE_FAILED", Some("User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:UpdateAssumeRolePolicy on resource: role localops-dev")),
                    event_xml(6, "Role", "AWS::IAM::Role", "UPDATE_IN_PROGRESS", None),
                    event_xml(7, "Ops-fail", STACK, "UPDATE_IN_PROGRESS", Some("User Initiated")),
                    // An earlier operation's failure: must not be reported.
                    event_xml(8, "Old", "AWS::IAM::Role", "CREATE_FAILED", Some("ancient history")),
                ],
                Some("page-3"),
            )),
            _ => Reply::ok(events_page(
                &[event_xml(9, "Older", "AWS::IAM::Role", "CREATE_FAILED", Some("older still"))],
                None,
            )),
        },
        other => Reply::error(400, "InvalidAction", &format!("unexpected {other}")),
    })
    .await;
    let (failure, text) = wait_for_failure(&fake).await;
    assert_eq!(failure.status, "UPDATE_ROLLBACK_COMPLETE");
    assert_eq!(failure.stack_id, STACK_ID);
    let ids: Vec<&str> = failure
        .reasons
        .iter()
        .map(|r| r.logical_id.as_str())
        .collect();
    assert_eq!(ids, ["Role", "Policy"]);
    assert_eq!(failure.reasons[0].resource_type, "AWS::IAM::Role");
    assert_eq!(failure.reasons[0].status, "UPDATE_FAILED");
    assert!(
        text.contains("Role (AWS::IAM::Role) UPDATE_FAILED"),
        "{text}"
    );
    assert!(text.contains("iam:UpdateAssumeRolePolicy"), "{text}");
    assert!(!text.contains("ancient history"), "{text}");
    // Reading stopped at the operation's start: page 3 was never requested.
    assert_eq!(fake.requests("DescribeStackEvents").len(), 2);
    assert_eq!(fake.requests("DescribeStacks").len(), 3);
}

#[tokio::test]
async fn failed_create_without_readable_events_still_reports_status() {
    let fake = FakeAws::start(|req, _| match req.action() {
        "DescribeStacks" => Reply::ok(describe_stacks_xml(
            "ROLLBACK_COMPLETE",
            Some("The following resource(s) failed to create: [Role]."),
        )),
        _ => Reply::error(
            403,
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:DescribeStackEvents",
        ),
    })
    .await;
    let (failure, text) = wait_for_failure(&fake).await;
    assert!(failure.reasons.is_empty());
    assert!(
        text.contains("ROLLBACK_COMPLETE: The following resource(s) failed to create: [Role]."),
        "{text}"
    );
    assert!(
        text.contains("cloudformation:DescribeStackEvents"),
        "{text}"
    );
}

#[tokio::test]
async fn access_denied_passes_awss_message_through() {
    let message = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:CreateStack on resource: arn:aws:cloudformation:us-east-1:123456789012:stack/Ops-demo/* because no identity-based policy allows the cloudformation:CreateStack action";
    let fake = FakeAws::start(move |_, _| Reply::error(403, "AccessDenied", message)).await;
    let stacks = fake.clients().await.stacks();
    let err = stacks
        .create_stack(&spec("Ops-demo", "x", "ops"), &CancellationToken::new())
        .await
        .unwrap_err();
    match &err {
        StackError::Aws {
            operation,
            resource,
            code,
            message: got,
            class,
        } => {
            assert_eq!(*operation, "CreateStack");
            assert_eq!(resource, "Ops-demo");
            assert_eq!(code.as_deref(), Some("AccessDenied"));
            assert_eq!(got, message);
            assert_eq!(*class, ErrorClass::AccessDenied);
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("CreateStack Ops-demo: AccessDenied: User:"),
        "{text}"
    );
    // Not retried.
    assert_eq!(fake.requests("CreateStack").len(), 1);
    // Test credentials never show up in errors.
    assert!(!text.contains("test-secret-key"));
}

#[tokio::test]
async fn throttling_is_retried_a_bounded_number_of_times() {
    let fake = FakeAws::start(|req, n| match req.action() {
        // Recovers after the SDK's three attempts were used up once.
        "DescribeStacks" if n < 4 => Reply::error(400, "Throttling", "Rate exceeded"),
        "DescribeStacks" => Reply::ok(describe_stacks_xml("CREATE_COMPLETE", None)),
        _ => Reply::error(400, "Throttling", "Rate exceeded"),
    })
    .await;
    let policy = RetryPolicy {
        backoff: Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(50),
            multiplier: 2.0,
        },
        budget: Duration::from_secs(20),
        max_attempts: 20,
        max_transient_rounds: 2,
    };
    let stacks = fake.clients().await.stacks().with_retry(policy);
    let cancel = CancellationToken::new();
    let info = stacks
        .describe_stack(STACK_ID, &cancel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.status, "CREATE_COMPLETE");
    assert_eq!(info.parameters["Env"], "dev");
    assert!(info.termination_protection);
    assert_eq!(fake.requests("DescribeStacks").len(), 5);

    // Always throttled: 3 SDK attempts per round, 1 + 2 rounds, then the error.
    let err = stacks.get_template(STACK_ID, &cancel).await.unwrap_err();
    assert_eq!(err.class(), Some(ErrorClass::Throttling));
    assert_eq!(fake.requests("GetTemplate").len(), 9);
}

#[tokio::test]
async fn retried_create_reuses_its_request_token() {
    let fake = FakeAws::start(|req, n| match req.action() {
        "CreateStack" if n == 0 => Reply::error(500, "InternalFailure", "try again"),
        "CreateStack" => Reply::ok(format!(
            "<CreateStackResponse><CreateStackResult><StackId>{STACK_ID}</StackId></CreateStackResult></CreateStackResponse>"
        )),
        _ => Reply::error(400, "InvalidAction", "unexpected"),
    })
    .await;
    let stacks = fake.clients().await.stacks();
    let id = stacks
        .create_stack(&spec("Ops-fail", "x", "ops"), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(id, STACK_ID);
    let seen = fake.requests("CreateStack");
    assert_eq!(seen.len(), 2);
    let token = seen[0]
        .params
        .get("ClientRequestToken")
        .expect("token sent");
    assert_eq!(seen[1].params.get("ClientRequestToken"), Some(token));
    assert_eq!(
        seen[0]
            .params
            .get("Capabilities.member.1")
            .map(String::as_str),
        Some("CAPABILITY_NAMED_IAM")
    );
    assert_eq!(
        seen[0].params.get("StackName").map(String::as_str),
        Some("Ops-fail")
    );
}

#[tokio::test]
async fn cancelling_a_hung_create_returns_promptly() {
    let fake = FakeAws::start(|_, _| Reply::hang()).await;
    let stacks = fake.clients().await.stacks();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let (result, took) = timed(stacks.create_stack(&spec("Ops-hung", "x", "ops"), &cancel)).await;
    assert!(took < Duration::from_millis(1800), "{took:?}");
    let err = result.unwrap_err();
    match &err {
        StackError::Interrupted {
            operation,
            resource,
            stack_id,
            ..
        } => {
            assert_eq!(*operation, "CreateStack");
            assert_eq!(resource, "Ops-hung");
            assert_eq!(*stack_id, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("may have been created"), "{err}");
}

#[tokio::test]
async fn termination_protection_updates_and_blocks_deletes() {
    // moto answers UpdateTerminationProtection with a 500 and ignores protection on delete,
    // so both are checked against the fake.
    let fake = FakeAws::start(|req, _| match req.action() {
        "UpdateTerminationProtection" => Reply::ok(format!(
            "<UpdateTerminationProtectionResponse><UpdateTerminationProtectionResult><StackId>{STACK_ID}</StackId></UpdateTerminationProtectionResult></UpdateTerminationProtectionResponse>"
        )),
        "DeleteStack" => Reply::error(
            400,
            "ValidationError",
            "Stack [Ops-fail] cannot be deleted while TerminationProtection is enabled",
        ),
        _ => Reply::error(400, "InvalidAction", "unexpected"),
    })
    .await;
    let stacks = fake.clients().await.stacks();
    let cancel = CancellationToken::new();
    stacks
        .update_termination_protection(STACK_ID, true, &cancel)
        .await
        .unwrap();
    stacks
        .update_termination_protection(STACK_ID, false, &cancel)
        .await
        .unwrap();
    let seen = fake.requests("UpdateTerminationProtection");
    let flags: Vec<&str> = seen
        .iter()
        .map(|r| r.params["EnableTerminationProtection"].as_str())
        .collect();
    assert_eq!(flags, ["true", "false"]);
    assert_eq!(seen[0].params["StackName"], STACK_ID);

    let err = stacks.delete_stack(STACK_ID, &cancel).await.unwrap_err();
    assert!(err.is_termination_protected(), "{err:?}");
    assert_eq!(err.class(), Some(ErrorClass::Validation));
    assert!(err.to_string().contains("DeleteStack"), "{err}");
    assert!(
        fake.requests("DeleteStack")[0]
            .params
            .contains_key("ClientRequestToken")
    );
}
