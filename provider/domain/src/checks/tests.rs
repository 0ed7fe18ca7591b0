use std::time::Instant;

use serde_json::{Value, json};

use super::canonical::{canonical_policy, same_policy};
use super::*;
use crate::catalog;
use crate::permission_set::{PermissionSetSpec, render};
use crate::template::ConnectionParameters;

const ISSUER: &str = "https://oidc.localops.co";
const HOST: &str = "oidc.localops.co";
const ACCOUNT: &str = "111122223333";
const SUB: &str = "connection:acme-prod";
const AUD: &str = "sts.amazonaws.com";
const ROLE: &str = "LocalOps-acme-prod";
const PROVIDER: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.localops.co";
const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/LocalOps-acme-prod";
const ADMIN_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn params() -> ConnectionParameters {
    ConnectionParameters {
        issuer_url: ISSUER.to_owned(),
        audience: AUD.to_owned(),
        subject: SUB.to_owned(),
        role_name: ROLE.to_owned(),
        max_session_duration: 3600,
        existing_oidc_provider_arn: None,
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn bundle(spec: &PermissionSetSpec) -> PermissionSetBundle {
    let rendered = render(spec).expect("valid permission set");
    PermissionSetBundle::parse(&rendered.json).expect("bundle parses")
}

fn scoped_spec(
    optional: &[&str],
    regions: Option<&[&str]>,
    extra: Option<Value>,
) -> PermissionSetSpec {
    PermissionSetSpec {
        name: "acme-prod".to_owned(),
        administrator: false,
        optional_services: strings(optional),
        regions: regions.map(strings),
        extra_statements: extra.map(|v| v.to_string()),
    }
}

fn admin_input() -> StaticCheckInput {
    StaticCheckInput::for_connection(&params(), Some(ACCOUNT), None)
}

fn input_for(spec: &PermissionSetSpec) -> StaticCheckInput {
    StaticCheckInput::for_connection(&params(), Some(ACCOUNT), Some(&bundle(spec)))
}

fn summaries(findings: &[Finding]) -> Vec<String> {
    findings.iter().map(|f| f.summary.clone()).collect()
}

fn assert_clean(findings: &[Finding]) {
    assert!(
        findings.is_empty(),
        "unexpected findings:\n{}",
        findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The only finding, which must be an error.
fn only_error(findings: Vec<Finding>) -> Finding {
    assert_eq!(findings.len(), 1, "{:#?}", findings);
    let f = findings.into_iter().next().unwrap();
    assert_eq!(f.severity, Severity::Error, "{f}");
    f
}

fn trust_json(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn web_statement(condition: Value) -> Value {
    json!({
        "Sid": "LocalOpsWebIdentity",
        "Effect": "Allow",
        "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition
    })
}

fn named(name: &str, doc: Value) -> NamedDocument {
    NamedDocument::new(name, doc.to_string())
}

fn full_aws_access() -> NamedDocument {
    named(
        "FullAWSAccess",
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    )
}

// ---------------------------------------------------------------------------------------------
// Static: valid setups
// ---------------------------------------------------------------------------------------------

#[test]
fn admin_default_has_no_findings() {
    assert_clean(&check_static(&admin_input()));
    // Account unknown at plan time: the placeholder account is used throughout.
    let unknown = StaticCheckInput::for_connection(&params(), None, None);
    assert_eq!(
        unknown.oidc_provider_arn,
        "arn:aws:iam::000000000000:oidc-provider/oidc.localops.co"
    );
    assert_eq!(
        unknown.role_arn(),
        "arn:aws:iam::000000000000:role/LocalOps-acme-prod"
    );
    assert_clean(&check_static(&unknown));
}

#[test]
fn admin_trust_policy_is_the_templates() {
    let input = admin_input();
    assert_eq!(
        input.trust_policy,
        serde_json::to_string(&template::trust_policy(ISSUER, PROVIDER, AUD, SUB)).unwrap()
    );
    assert_eq!(input.oidc_client_ids, Some(strings(&[AUD])));
    assert!(input.creates_oidc_provider);
    assert_eq!(input.permissions.managed_policy_arns, [ADMIN_ARN]);
    assert!(
        input
            .permissions
            .required_actions
            .contains(&"eks:CreateCluster".to_owned())
    );
}

#[test]
fn admin_bundle_with_regions_has_no_findings() {
    let spec = PermissionSetSpec {
        name: "acme-prod".to_owned(),
        administrator: true,
        optional_services: strings(&["s3", "rds"]),
        regions: Some(strings(&["eu-west-1", "eu-central-1"])),
        extra_statements: None,
    };
    let input = input_for(&spec);
    assert_eq!(
        input.permissions.policy_documents.len(),
        1,
        "the region Deny"
    );
    assert_clean(&check_static(&input));
}

#[test]
fn scoped_default_has_no_findings() {
    assert_clean(&check_static(&input_for(&scoped_spec(&[], None, None))));
}

#[test]
fn scoped_with_all_optional_services_has_no_findings() {
    let all = ["s3", "rds", "elasticache", "sns", "sqs"];
    let input = input_for(&scoped_spec(&all, None, None));
    assert_eq!(
        input.permissions.policy_documents[0].name,
        "LocalOps-acme-prod-1"
    );
    assert_clean(&check_static(&input));
}

#[test]
fn scoped_with_regions_has_no_findings() {
    let all = ["s3", "rds", "elasticache", "sns", "sqs"];
    let input = input_for(&scoped_spec(
        &all,
        Some(&["us-east-1", "eu-west-1", "ap-south-1"]),
        None,
    ));
    assert_clean(&check_static(&input));
    let one = input_for(&scoped_spec(&["s3"], Some(&["eu-central-1"]), None));
    assert_clean(&check_static(&one));
}

#[test]
fn scoped_with_harmless_extra_statements_has_no_findings() {
    let extra = json!([
        {"Sid": "ReadLogs", "Effect": "Allow", "Action": "logs:GetLogEvents", "Resource": "*"},
        {"Sid": "NoProdBucket", "Effect": "Deny", "Action": "s3:DeleteBucket",
         "Resource": "arn:aws:s3:::acme-prod-data"}
    ]);
    let input = input_for(&scoped_spec(&["s3"], None, Some(extra)));
    // The Deny names one bucket: not a resource LocalOps creates, and not every bucket.
    let findings = check_static(&input);
    assert!(findings.iter().all(|f| !f.is_error()), "{findings:#?}");
}

#[test]
fn govcloud_partition_has_no_findings() {
    let input = input_for(&scoped_spec(&["s3"], Some(&["us-gov-west-1"]), None));
    assert_eq!(input.permissions.partition, "aws-us-gov");
    assert!(input.oidc_provider_arn.starts_with("arn:aws-us-gov:iam::"));
    assert_clean(&check_static(&input));
}

#[test]
fn existing_provider_with_unknown_client_ids_is_not_checked_for_audience() {
    let mut p = params();
    p.existing_oidc_provider_arn = Some(PROVIDER.to_owned());
    let input = StaticCheckInput::for_connection(&p, Some(ACCOUNT), None);
    assert!(!input.creates_oidc_provider);
    assert_eq!(input.oidc_client_ids, None);
    assert_clean(&check_static(&input));
}

// ---------------------------------------------------------------------------------------------
// Static: trust policy
// ---------------------------------------------------------------------------------------------

#[test]
fn trust_without_sub_is_an_error() {
    let mut input = admin_input();
    input.trust_policy = trust_json(json!([web_statement(
        json!({"StringEquals": {format!("{HOST}:aud"): AUD}})
    )]));
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::TrustPolicy);
    assert_eq!(
        f.summary,
        "the trust policy does not test the subject (oidc.localops.co:sub): any identity of the issuer can assume the role"
    );
    assert!(
        f.detail.contains("\"connection:acme-prod-other\""),
        "{}",
        f.detail
    );
    assert!(
        f.detail.contains("Sid \\\"LocalOpsWebIdentity\\\"")
            || f.detail.contains("Sid \"LocalOpsWebIdentity\""),
        "{}",
        f.detail
    );
}

#[test]
fn string_like_with_a_wildcard_sub_is_an_error() {
    let mut input = admin_input();
    input.trust_policy = trust_json(json!([web_statement(json!({
        "StringEquals": {format!("{HOST}:aud"): AUD},
        "StringLike": {format!("{HOST}:sub"): "connection:*"}
    }))]));
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::Subject);
    assert_eq!(
        f.summary,
        "the trust policy lets other subjects of the issuer assume the role"
    );
    assert!(f.detail.contains("StringLike"), "{}", f.detail);
    assert!(
        f.detail.contains("\"connection:someone-else\""),
        "{}",
        f.detail
    );
    // StringLike without a wildcard is as exact as StringEquals.
    input.trust_policy = trust_json(json!([web_statement(json!({
        "StringEquals": {format!("{HOST}:aud"): AUD},
        "StringLike": {format!("{HOST}:sub"): SUB}
    }))]));
    assert_clean(&check_static(&input));
}

#[test]
fn trust_without_aud_is_an_error() {
    let mut input = admin_input();
    input.trust_policy = trust_json(json!([web_statement(
        json!({"StringEquals": {format!("{HOST}:sub"): SUB}})
    )]));
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::Audience);
    assert_eq!(
        f.summary,
        "the trust policy does not test the audience (oidc.localops.co:aud)"
    );
}

#[test]
fn trust_for_another_subject_denies_localops() {
    let mut input = admin_input();
    input.trust_policy = serde_json::to_string(&template::trust_policy(
        ISSUER,
        PROVIDER,
        AUD,
        "connection:acme-staging",
    ))
    .unwrap();
    // The role is now another connection's: LocalOps cannot use it, and that other
    // connection's tokens can.
    let findings = check_static(&input);
    assert_eq!(
        summaries(&findings),
        [
            "LocalOps cannot assume the role: the trust policy does not allow its token",
            "the trust policy lets other subjects of the issuer assume the role",
        ]
    );
    let f = &findings[0];
    assert_eq!(f.field, CheckField::Subject);
    assert!(f.detail.contains("StringEquals"), "{}", f.detail);
    assert!(f.detail.contains("oidc.localops.co:sub"), "{}", f.detail);
    assert!(
        findings[1]
            .detail
            .contains("lists \"connection:acme-staging\"; only"),
        "{}",
        findings[1].detail
    );
}

#[test]
fn trust_naming_another_provider_denies_localops() {
    let mut input = admin_input();
    input.trust_policy = serde_json::to_string(&template::trust_policy(
        ISSUER,
        "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
        AUD,
        SUB,
    ))
    .unwrap();
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::OidcProvider);
    assert!(
        f.detail.contains("does not name this principal"),
        "{}",
        f.detail
    );
}

#[test]
fn explicit_deny_in_trust_is_reported() {
    let mut input = admin_input();
    input.trust_policy = trust_json(json!([
        web_statement(json!({"StringEquals": {format!("{HOST}:aud"): AUD, format!("{HOST}:sub"): SUB}})),
        {"Sid": "Nobody", "Effect": "Deny", "Principal": "*", "Action": "sts:*"}
    ]));
    let f = only_error(check_static(&input));
    assert_eq!(
        f.summary,
        "LocalOps cannot assume the role: the trust policy explicitly denies its token"
    );
    assert!(f.detail.contains("\"Sid\":\"Nobody\""), "{}", f.detail);
}

#[test]
fn trust_open_to_other_accounts_is_an_error() {
    let mut input = admin_input();
    let mut trust: Value = serde_json::from_str(&input.trust_policy).unwrap();
    trust["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}));
    input.trust_policy = trust.to_string();
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::TrustPolicy);
    assert_eq!(
        f.summary,
        "the trust policy lets principals of other AWS accounts assume the role"
    );
    // The customer's own account may be trusted.
    let mut trust: Value = serde_json::from_str(&admin_input().trust_policy).unwrap();
    trust["Statement"].as_array_mut().unwrap().push(json!({
        "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"
    }));
    input.trust_policy = trust.to_string();
    assert_clean(&check_static(&input));
}

#[test]
fn trust_open_to_any_federated_provider_is_an_error() {
    let mut input = admin_input();
    input.trust_policy = trust_json(json!([
        {"Effect": "Allow", "Principal": {"Federated": "*"}, "Action": "sts:AssumeRoleWithWebIdentity"}
    ]));
    let findings = check_static(&input);
    let s = summaries(&findings);
    assert_eq!(
        s,
        [
            "the trust policy does not test the subject (oidc.localops.co:sub): any identity of the issuer can assume the role",
            "the trust policy does not test the audience (oidc.localops.co:aud)",
            "the trust policy lets another identity provider's tokens assume the role",
        ]
    );
}

#[test]
fn oversize_trust_policy_is_an_error() {
    let mut input = admin_input();
    let intruders: Vec<String> = (0..120)
        .map(|i| format!("connection:intruder-{i:03}"))
        .collect();
    input.trust_policy = trust_json(json!([
        web_statement(json!({"StringEquals": {format!("{HOST}:aud"): AUD, format!("{HOST}:sub"): SUB}})),
        {"Sid": "Intruders", "Effect": "Deny", "Principal": {"Federated": PROVIDER},
         "Action": "sts:AssumeRoleWithWebIdentity",
         "Condition": {"StringEquals": {format!("{HOST}:sub"): intruders}}}
    ]));
    let n = iam_policy_chars(&input.trust_policy);
    assert!(n > 2048);
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::TrustPolicy);
    assert_eq!(
        f.summary,
        format!("the trust policy has {n} characters, more than IAM's limit of 2048")
    );
    // A raised quota.
    input.limits.max_trust_policy_chars = 4096;
    assert_clean(&check_static(&input));
}

#[test]
fn invalid_trust_policy_is_an_error() {
    let mut input = admin_input();
    input.trust_policy = "{\"Statement\": [".to_owned();
    let f = only_error(check_static(&input));
    assert_eq!(f.summary, "the trust policy is not a valid IAM policy");
    input.trust_policy =
        trust_json(json!([{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity"}]));
    let f = only_error(check_static(&input));
    assert_eq!(f.summary, "the trust policy is not a valid IAM policy");
    assert!(f.detail.contains("Principal"), "{}", f.detail);
}

// ---------------------------------------------------------------------------------------------
// Static: provider, audience, session
// ---------------------------------------------------------------------------------------------

#[test]
fn audience_not_in_client_ids_is_an_error() {
    let mut input = admin_input();
    input.oidc_client_ids = Some(strings(&["localops"]));
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::Audience);
    assert_eq!(
        f.summary,
        "audience \"sts.amazonaws.com\" is not a client ID of the OIDC provider"
    );
    assert!(f.detail.contains("[\"localops\"]"), "{}", f.detail);
    input.oidc_client_ids = Some(Vec::new());
    assert!(
        only_error(check_static(&input))
            .detail
            .contains("no client ID")
    );
}

#[test]
fn provider_for_another_issuer_is_an_error() {
    let mut p = params();
    p.existing_oidc_provider_arn = Some(
        "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com".to_owned(),
    );
    let input = StaticCheckInput::for_connection(&p, Some(ACCOUNT), None);
    assert_eq!(input.web_identity_principal(), PROVIDER);
    let findings = check_static(&input);
    assert_eq!(
        summaries(&findings),
        [
            "the OIDC provider is for another issuer",
            "LocalOps cannot assume the role: the trust policy does not allow its token",
        ]
    );
    assert!(findings.iter().all(|f| f.field == CheckField::OidcProvider));
    assert!(
        findings[1].detail.contains("does not name this principal"),
        "{}",
        findings[1].detail
    );
}

#[test]
fn short_max_session_duration_is_an_error() {
    let mut input = admin_input();
    input.max_session_duration = 900;
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::MaxSessionDuration);
    assert_eq!(
        f.summary,
        "max_session_duration is 900 seconds, shorter than LocalOps' 1-hour sessions"
    );
    input.max_session_duration = 50_000;
    assert_eq!(
        only_error(check_static(&input)).summary,
        "max_session_duration is 50000 seconds, more than IAM's maximum of 43200"
    );
    for ok in [3600, 7200, 43_200] {
        input.max_session_duration = ok;
        assert_clean(&check_static(&input));
    }
    input.max_session_duration = i64::MIN;
    assert_eq!(check_static(&input).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Static: permissions
// ---------------------------------------------------------------------------------------------

fn policy_containing(input: &StaticCheckInput, needle: &str) -> String {
    input
        .permissions
        .policy_documents
        .iter()
        .find(|d| d.document.contains(needle))
        .map(|d| d.name.clone())
        .expect("a document contains the needle")
}

#[test]
fn extra_deny_on_create_cluster_names_the_statement() {
    let extra = json!([{"Sid": "NoClusters", "Effect": "Deny", "Action": "eks:CreateCluster", "Resource": "*"}]);
    let input = input_for(&scoped_spec(&[], None, Some(extra)));
    let policy = policy_containing(&input, "NoClusters");
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::PermissionSet);
    assert_eq!(
        f.summary,
        format!("eks:CreateCluster is denied by statement \"NoClusters\" of policy \"{policy}\"")
    );
    assert!(f.detail.contains("\"Sid\":\"NoClusters\""), "{}", f.detail);
    assert!(f.detail.contains("Amazon EKS"), "{}", f.detail);
    assert!(f.detail.contains("extra_statements"), "{}", f.detail);
}

#[test]
fn extra_deny_on_a_service_is_grouped() {
    let extra = json!([{"Sid": "NoEks", "Effect": "Deny", "Action": "eks:*", "Resource": "*"}]);
    let input = input_for(&scoped_spec(&[], None, Some(extra)));
    let policy = policy_containing(&input, "NoEks");
    let eks_actions = catalog::service("eks")
        .unwrap()
        .actions()
        .iter()
        .flat_map(|a| catalog::expand_wildcard(a))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let f = only_error(check_static(&input));
    assert_eq!(
        f.summary,
        format!(
            "eks:AssociateAccessPolicy and {} more actions are denied by statement \"NoEks\" of policy \"{policy}\"",
            eks_actions - 1
        )
    );
}

#[test]
fn extra_deny_on_cluster_arns_is_found() {
    let extra = json!([{"Sid": "NoClusterArns", "Effect": "Deny", "Action": "eks:CreateCluster",
                        "Resource": "arn:aws:eks:*:*:cluster/*"}]);
    let input = input_for(&scoped_spec(&[], None, Some(extra)));
    let policy = policy_containing(&input, "NoClusterArns");
    let f = only_error(check_static(&input));
    assert_eq!(
        f.summary,
        format!(
            "eks:CreateCluster is denied on arn:aws:eks:*:*:cluster/* by statement \"NoClusterArns\" of policy \"{policy}\""
        )
    );
    // A narrower pattern is a warning.
    let extra = json!([{"Sid": "NoProdClusters", "Effect": "Deny", "Action": "eks:DeleteCluster",
                        "Resource": "arn:aws:eks:*:*:cluster/prod-*"}]);
    let findings = check_static(&input_for(&scoped_spec(&[], None, Some(extra))));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(findings[0]
        .summary
        .starts_with("eks:DeleteCluster is denied on arn:aws:eks:*:*:cluster/prod-* by statement \"NoProdClusters\""));
}

#[test]
fn boundary_removing_put_parameter_is_an_error() {
    let mut input = input_for(&scoped_spec(&[], None, None));
    input.permissions_boundary = Some(named(
        "LocalOpsBoundary",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "NoWrites", "Effect": "Deny", "Action": "ssm:PutParameter", "Resource": "*"}
        ]}),
    ));
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::PermissionsBoundary);
    assert_eq!(
        f.summary,
        "ssm:PutParameter is denied by statement \"NoWrites\" of the permissions boundary \"LocalOpsBoundary\""
    );
    // A boundary that does not allow it.
    input.permissions_boundary = Some(named(
        "LocalOpsBoundary",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "NotAction": "ssm:PutParameter", "Resource": "*"}
        ]}),
    ));
    let f = only_error(check_static(&input));
    assert_eq!(
        f.summary,
        "ssm:PutParameter is not allowed by the permissions boundary \"LocalOpsBoundary\""
    );
    assert!(f.detail.contains("permissions boundary"), "{}", f.detail);
    // Same with AdministratorAccess.
    let mut admin = admin_input();
    admin.permissions_boundary = input.permissions_boundary.clone();
    assert_eq!(only_error(check_static(&admin)).summary, f.summary);
}

#[test]
fn scp_denying_a_region_is_an_error() {
    let mut input = input_for(&scoped_spec(
        &["s3"],
        Some(&["us-east-1", "eu-west-1"]),
        None,
    ));
    input.scps = vec![
        full_aws_access(),
        named(
            "RegionLock",
            json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "DenyEuWest1", "Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
            }]}),
        ),
    ];
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::Scp);
    assert!(
        f.summary
            .ends_with(" more actions are denied in eu-west-1 by statement \"DenyEuWest1\" of SCP \"RegionLock\""),
        "{}",
        f.summary
    );
    assert!(f.summary.starts_with("ec2:"), "{}", f.summary);
    // IAM (global endpoint in us-east-1) and S3's GetBucketLocation (a global statement) are
    // unaffected.
    assert!(!f.detail.contains("iam:"), "{}", f.detail);
    assert!(!f.detail.contains("s3:GetBucketLocation"), "{}", f.detail);
    assert!(f.detail.contains("Amazon S3"), "{}", f.detail);
}

#[test]
fn scps_without_an_allow_deny_everything() {
    let mut input = admin_input();
    input.scps = vec![named(
        "OnlyDenies",
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "organizations:*", "Resource": "*"}
        ]}),
    )];
    let f = only_error(check_static(&input));
    assert!(
        f.summary
            .ends_with("more actions are not allowed by the SCPs"),
        "{}",
        f.summary
    );
    assert!(f.detail.contains("FullAWSAccess"), "{}", f.detail);
}

#[test]
fn oversize_managed_policy_is_an_error() {
    let mut input = input_for(&scoped_spec(&[], None, None));
    let actions: Vec<String> = (0..400)
        .map(|i| format!("ec2:DescribeThing{i:04}"))
        .collect();
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]});
    input
        .permissions
        .policy_documents
        .push(named("LocalOps-acme-prod-9", doc.clone()));
    let n = iam_policy_chars(&doc.to_string());
    let f = only_error(check_static(&input));
    assert_eq!(
        f.summary,
        format!(
            "policy \"LocalOps-acme-prod-9\" has {n} characters, more than IAM's limit of 6144"
        )
    );
}

#[test]
fn eleven_managed_policies_is_an_error() {
    let mut input = admin_input();
    for i in 0..10 {
        input.permissions.policy_documents.push(named(
            &format!("{ROLE}-{}", i + 1),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}),
        ));
    }
    let f = only_error(check_static(&input));
    assert_eq!(f.field, CheckField::PermissionSet);
    assert_eq!(
        f.summary,
        "the role needs 11 managed policies, more than the 10 IAM allows per role"
    );
    input.limits.max_managed_policies_per_role = 20;
    assert_clean(&check_static(&input));
}

#[test]
fn unknown_managed_policy_gives_warnings_not_errors() {
    let mut input = admin_input();
    input.permissions.managed_policy_arns = strings(&["arn:aws:iam::aws:policy/PowerUserAccess"]);
    let findings = check_static(&input);
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|f| f.severity == Severity::Warning),
        "{findings:#?}"
    );
    assert!(
        findings[0]
            .summary
            .ends_with("not allowed by the role's known policies")
    );
    assert!(findings[0].detail.contains("PowerUserAccess"));
}

#[test]
fn invalid_policy_document_is_an_error() {
    let mut input = admin_input();
    input
        .permissions
        .policy_documents
        .push(NamedDocument::new("Broken", "{\"Statement\": 3}"));
    let f = only_error(check_static(&input));
    assert_eq!(f.summary, "policy \"Broken\" is not a valid IAM policy");
}

// ---------------------------------------------------------------------------------------------
// Live
// ---------------------------------------------------------------------------------------------

fn provider() -> DeployedOidcProvider {
    DeployedOidcProvider {
        arn: PROVIDER.to_owned(),
        url: HOST.to_owned(),
        client_ids: strings(&[AUD]),
        thumbprints: Vec::new(),
    }
}

/// What the connection deploys for `input`, as IAM reports it (documents pretty-printed).
fn deployed_as_defined(input: &StaticCheckInput) -> DeployedConnection {
    let pretty = |doc: &str| {
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(doc).unwrap()).unwrap()
    };
    let mut attached: Vec<DeployedPolicy> = input
        .permissions
        .policy_documents
        .iter()
        .map(|d| DeployedPolicy {
            name: d.name.clone(),
            arn: format!("arn:aws:iam::{ACCOUNT}:policy/{}", d.name),
            document: Some(pretty(&d.document)),
        })
        .collect();
    attached.extend(
        input
            .permissions
            .managed_policy_arns
            .iter()
            .map(|arn| DeployedPolicy {
                name: arn.rsplit('/').next().unwrap().to_owned(),
                arn: arn.clone(),
                document: None,
            }),
    );
    DeployedConnection {
        role: Some(DeployedRole {
            arn: ROLE_ARN.to_owned(),
            trust_policy: pretty(&input.trust_policy),
            max_session_duration: Some(3600),
            permissions_boundary: None,
            attached_policies: attached,
            inline_policies: Vec::new(),
        }),
        oidc_provider: Some(provider()),
    }
}

fn role_mut(d: &mut DeployedConnection) -> &mut DeployedRole {
    d.role.as_mut().unwrap()
}

#[test]
fn live_as_defined_has_no_findings_and_no_drift() {
    for input in [
        admin_input(),
        input_for(&scoped_spec(&["s3", "sqs"], Some(&["eu-west-1"]), None)),
    ] {
        let deployed = deployed_as_defined(&input);
        assert_clean(&check_live(&input, &deployed));
        assert_eq!(drift(&input, &deployed), []);
    }
}

#[test]
fn live_hand_edited_trust_is_detected() {
    let input = admin_input();
    let mut deployed = deployed_as_defined(&input);
    role_mut(&mut deployed).trust_policy = serde_json::to_string(&template::trust_policy(
        ISSUER,
        PROVIDER,
        AUD,
        "connection:acme-staging",
    ))
    .unwrap();
    let findings = check_live(&input, &deployed);
    assert_eq!(
        summaries(&findings),
        [
            "LocalOps cannot assume the role: the deployed trust policy does not allow its token",
            "the deployed trust policy lets other subjects of the issuer assume the role",
        ]
    );
    let f = &findings[0];
    assert_eq!(f.field, CheckField::Subject);
    assert!(f.detail.contains("outside Terraform"), "{}", f.detail);
    let d = drift(&input, &deployed);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        matches!(&d[0], DriftItem::TrustPolicy { deployed, .. } if deployed.contains("acme-staging"))
    );

    // Widened by hand to every connection.
    role_mut(&mut deployed).trust_policy = trust_json(json!([web_statement(json!({
        "StringEquals": {format!("{HOST}:aud"): AUD},
        "StringLike": {format!("{HOST}:sub"): "connection:*"}
    }))]));
    let f = only_error(check_live(&input, &deployed));
    assert_eq!(
        f.summary,
        "the deployed trust policy lets other subjects of the issuer assume the role"
    );
}

#[test]
fn live_detached_policy_is_detected() {
    let input = admin_input();
    let mut deployed = deployed_as_defined(&input);
    role_mut(&mut deployed).attached_policies.clear();
    let f = only_error(check_live(&input, &deployed));
    assert_eq!(f.field, CheckField::PermissionSet);
    assert!(
        f.summary
            .ends_with(" more actions are not allowed by the deployed role's policies"),
        "{}",
        f.summary
    );
    assert!(f.detail.contains("detached"), "{}", f.detail);
    assert_eq!(
        drift(&input, &deployed),
        [DriftItem::ManagedPolicyMissing {
            name: "AdministratorAccess".to_owned(),
            arn: Some(ADMIN_ARN.to_owned())
        }]
    );
}

#[test]
fn live_detached_scoped_policy_is_detected() {
    let input = input_for(&scoped_spec(
        &["s3", "rds", "elasticache", "sns", "sqs"],
        None,
        None,
    ));
    assert!(input.permissions.policy_documents.len() >= 2);
    let mut deployed = deployed_as_defined(&input);
    let removed = role_mut(&mut deployed).attached_policies.remove(0);
    let findings = check_live(&input, &deployed);
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f.is_error()));
    assert!(
        findings[0]
            .summary
            .contains("not allowed by the deployed role's policies")
    );
    assert_eq!(
        drift(&input, &deployed),
        [DriftItem::ManagedPolicyMissing {
            name: removed.name,
            arn: None
        }]
    );
}

#[test]
fn live_deleted_provider_is_detected() {
    let input = admin_input();
    let mut deployed = deployed_as_defined(&input);
    deployed.oidc_provider = None;
    let f = only_error(check_live(&input, &deployed));
    assert_eq!(f.field, CheckField::OidcProvider);
    assert_eq!(
        f.summary,
        "the OIDC provider arn:aws:iam::111122223333:oidc-provider/oidc.localops.co does not exist"
    );
    assert_eq!(
        drift(&input, &deployed),
        [DriftItem::OidcProviderMissing {
            arn: PROVIDER.to_owned()
        }]
    );
}

#[test]
fn live_audience_removed_is_detected() {
    let input = admin_input();
    let mut deployed = deployed_as_defined(&input);
    deployed.oidc_provider.as_mut().unwrap().client_ids = strings(&["something-else"]);
    let f = only_error(check_live(&input, &deployed));
    assert_eq!(f.field, CheckField::Audience);
    assert_eq!(
        f.summary,
        "audience \"sts.amazonaws.com\" is not a client ID of the OIDC provider now"
    );
    assert_eq!(
        drift(&input, &deployed),
        [
            DriftItem::OidcClientIdMissing {
                client_id: AUD.to_owned()
            },
            DriftItem::OidcClientIdExtra {
                client_id: "something-else".to_owned()
            }
        ]
    );
}

#[test]
fn live_lowered_session_and_added_boundary_are_detected() {
    let input = admin_input();
    let mut deployed = deployed_as_defined(&input);
    let role = role_mut(&mut deployed);
    role.max_session_duration = Some(900);
    role.permissions_boundary = Some(DeployedPolicy {
        name: "Guardrail".to_owned(),
        arn: format!("arn:aws:iam::{ACCOUNT}:policy/Guardrail"),
        document: Some(
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Sid": "NoParams", "Effect": "Deny", "Action": "ssm:PutParameter", "Resource": "*"}
            ]})
            .to_string(),
        ),
    });
    let findings = check_live(&input, &deployed);
    assert_eq!(
        summaries(&findings),
        [
            "the role's maximum session duration is 900 seconds, shorter than LocalOps' 1-hour sessions",
            "ssm:PutParameter is denied by statement \"NoParams\" of the permissions boundary \"Guardrail\"",
        ]
    );
    assert_eq!(
        drift(&input, &deployed),
        [
            DriftItem::MaxSessionDuration {
                expected: 3600,
                deployed: Some(900)
            },
            DriftItem::PermissionsBoundary {
                arn: format!("arn:aws:iam::{ACCOUNT}:policy/Guardrail")
            }
        ]
    );
    // A boundary whose document is unknown is a warning.
    role_mut(&mut deployed)
        .permissions_boundary
        .as_mut()
        .unwrap()
        .document = None;
    let findings = check_live(&input, &deployed);
    assert_eq!(findings.last().unwrap().severity, Severity::Warning);
    assert_eq!(
        findings.last().unwrap().summary,
        format!(
            "the role has the permissions boundary arn:aws:iam::{ACCOUNT}:policy/Guardrail and its document is unknown"
        )
    );
}

#[test]
fn live_inline_deny_and_extra_policy_are_detected() {
    let input = admin_input();
    let mut deployed = deployed_as_defined(&input);
    let role = role_mut(&mut deployed);
    role.inline_policies.push(named(
        "HandMade",
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "NoEks", "Effect": "Deny", "Action": "eks:CreateCluster", "Resource": "*"}]}),
    ));
    role.attached_policies.push(DeployedPolicy {
        name: "ReadOnlyAccess".to_owned(),
        arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned(),
        document: None,
    });
    let f = only_error(check_live(&input, &deployed));
    assert_eq!(
        f.summary,
        "eks:CreateCluster is denied by statement \"NoEks\" of policy \"HandMade\""
    );
    assert_eq!(
        drift(&input, &deployed),
        [
            DriftItem::ManagedPolicyExtra {
                name: "ReadOnlyAccess".to_owned(),
                arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()
            },
            DriftItem::InlinePolicy {
                name: "HandMade".to_owned()
            }
        ]
    );
}

#[test]
fn live_missing_role_is_detected() {
    let input = admin_input();
    let mut deployed = deployed_as_defined(&input);
    deployed.role = None;
    let f = only_error(check_live(&input, &deployed));
    assert_eq!(f.field, CheckField::RoleName);
    assert_eq!(f.summary, "the role \"LocalOps-acme-prod\" does not exist");
    assert_eq!(
        drift(&input, &deployed),
        [DriftItem::RoleMissing {
            role_name: ROLE.to_owned()
        }]
    );
}

#[test]
fn live_edited_customer_policy_document_is_drift() {
    let input = input_for(&scoped_spec(&[], None, None));
    let mut deployed = deployed_as_defined(&input);
    let p = &mut role_mut(&mut deployed).attached_policies[0];
    let mut doc: Value = serde_json::from_str(p.document.as_deref().unwrap()).unwrap();
    doc["Statement"].as_array_mut().unwrap().remove(0);
    p.document = Some(doc.to_string());
    let name = p.name.clone();
    let arn = p.arn.clone();
    assert!(check_live(&input, &deployed).iter().all(Finding::is_error));
    assert_eq!(
        drift(&input, &deployed),
        [DriftItem::ManagedPolicyDocument { name, arn }]
    );
}

#[test]
fn reused_provider_is_checked() {
    let mut p = params();
    p.existing_oidc_provider_arn = Some(PROVIDER.to_owned());
    let input = StaticCheckInput::for_connection(&p, Some(ACCOUNT), None);
    assert_clean(&check_oidc_provider(&input, Some(&provider())));
    let mut other = provider();
    other.url = "oidc.other.example".to_owned();
    let f = only_error(check_oidc_provider(&input, Some(&other)));
    assert_eq!(
        f.summary,
        "the OIDC provider's URL \"oidc.other.example\" does not match the issuer \"oidc.localops.co\""
    );
    let mut loose = provider();
    loose.url = "OIDC.localops.co/".to_owned();
    let findings = check_oidc_provider(&input, Some(&loose));
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Warning);
    let f = only_error(check_oidc_provider(&input, None));
    assert!(f.detail.contains("unset oidc_provider_arn"), "{}", f.detail);
    // Extra client IDs of a provider the connection does not own are not drift.
    let mut shared = provider();
    shared.client_ids.push("another-app".to_owned());
    let mut deployed = deployed_as_defined(&input);
    deployed.oidc_provider = Some(shared);
    assert_eq!(drift(&input, &deployed), []);
}

// ---------------------------------------------------------------------------------------------
// Drift and canonical JSON
// ---------------------------------------------------------------------------------------------

#[test]
fn drift_ignores_key_order_whitespace_and_array_forms() {
    let input = admin_input();
    let mut deployed = deployed_as_defined(&input);
    role_mut(&mut deployed).trust_policy = format!(
        r#"{{
            "Statement": {{
                "Condition": {{"StringEquals": {{"{HOST}:sub": ["{SUB}"], "{HOST}:aud": "{AUD}"}}}},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Principal": {{"Federated": ["{PROVIDER}"]}},
                "Effect": "Allow",
                "Sid": "LocalOpsWebIdentity"
            }},
            "Version": "2012-10-17"
        }}"#
    );
    assert_eq!(drift(&input, &deployed), []);
    assert_clean(&check_live(&input, &deployed));
}

#[test]
fn drift_lists_exactly_the_differences() {
    let input = input_for(&scoped_spec(&["s3"], None, None));
    let mut deployed = deployed_as_defined(&input);
    deployed.oidc_provider.as_mut().unwrap().url = "oidc.localops.co/".to_owned();
    let role = role_mut(&mut deployed);
    role.max_session_duration = Some(7200);
    role.inline_policies.push(NamedDocument::new("b", "{}"));
    role.inline_policies.push(NamedDocument::new("a", "{}"));
    let items = drift(&input, &deployed);
    assert_eq!(
        items,
        [
            DriftItem::OidcProviderUrl {
                expected: HOST.to_owned(),
                deployed: "oidc.localops.co/".to_owned()
            },
            DriftItem::MaxSessionDuration {
                expected: 3600,
                deployed: Some(7200)
            },
            DriftItem::InlinePolicy {
                name: "b".to_owned()
            },
            DriftItem::InlinePolicy {
                name: "a".to_owned()
            },
        ]
    );
    assert_eq!(
        items[1].to_string(),
        "maximum session duration is 7200, expected 3600"
    );
}

#[test]
fn canonical_policies() {
    let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:B","s3:A"],"Resource":"*"},{"Effect":"Deny","Action":"x:Y","Resource":"*"}]}"#;
    let b = r#"{ "Statement": [ {"Resource": ["*"], "Action": "x:Y", "Effect": "Deny"},
                {"Action": ["s3:A", "s3:B", "s3:A"], "Resource": "*", "Effect": "Allow"} ],
                "Version": "2012-10-17" }"#;
    assert!(same_policy(a, b));
    assert!(!same_policy(a, &a.replace("s3:B", "s3:C")));
    assert!(same_policy(
        r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":true}}}}"#,
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#,
    ));
    assert_eq!(canonical_policy("not json"), None);
    assert!(same_policy(" x ", "x"));
}

// ---------------------------------------------------------------------------------------------
// Helpers, robustness, speed
// ---------------------------------------------------------------------------------------------

#[test]
fn representative_resources() {
    use super::permissions::{concretize, covers_whole_type};
    assert_eq!(concretize("*", "aws", "eu-west-1", ACCOUNT), "*");
    assert_eq!(
        concretize(
            "arn:{partition}:eks:*:*:addon/*/coredns/*",
            "aws",
            "eu-west-1",
            ACCOUNT
        ),
        "arn:aws:eks:eu-west-1:111122223333:addon/localops/coredns/localops"
    );
    assert_eq!(
        concretize(
            "arn:{partition}:iam::*:role/aws-service-role/*",
            "aws-cn",
            "cn-north-1",
            ACCOUNT
        ),
        "arn:aws-cn:iam::111122223333:role/aws-service-role/localops"
    );
    assert_eq!(
        concretize("arn:aws:s3:::*/*", "aws", "us-east-1", ACCOUNT),
        "arn:aws:s3:::localops/localops"
    );
    assert_eq!(
        concretize(
            "arn:aws:ssm:us-*:*:parameter/*",
            "aws",
            "eu-west-1",
            ACCOUNT
        ),
        "arn:aws:ssm:us-localops:111122223333:parameter/localops"
    );
    assert!(covers_whole_type("arn:aws:eks:*:*:cluster/*"));
    assert!(covers_whole_type("arn:aws:s3:::*"));
    assert!(!covers_whole_type("arn:aws:s3:::prod-*"));
    assert!(!covers_whole_type("arn:aws:eks:*:*:cluster/prod-*"));
    assert!(!covers_whole_type("arn:aws:eks:*:*:addon/*/coredns/*"));
}

#[test]
fn garbage_input_does_not_panic() {
    let mut input = admin_input();
    for text in [
        "",
        "null",
        "[]",
        "{\"Statement\":[]}",
        "{\"Statement\":[{}]}",
        "\u{0}",
        "{\"a\":1,\"a\":2}",
    ] {
        input.trust_policy = text.to_owned();
        input.permissions.policy_documents = vec![NamedDocument::new("x", text)];
        input.permissions_boundary = Some(NamedDocument::new("b", text));
        input.scps = vec![NamedDocument::new("s", text)];
        input.issuer_url = text.to_owned();
        input.oidc_provider_arn = text.to_owned();
        input.permissions.required_actions = vec![text.to_owned(), "*".to_owned()];
        let findings = check_static(&input);
        assert!(findings.iter().any(Finding::is_error), "{text:?}");
        let mut deployed = deployed_as_defined(&admin_input());
        role_mut(&mut deployed).trust_policy = text.to_owned();
        role_mut(&mut deployed).arn = text.to_owned();
        deployed.oidc_provider.as_mut().unwrap().url = text.to_owned();
        let _ = check_live(&input, &deployed);
        let _ = drift(&input, &deployed);
    }
}

#[test]
fn findings_are_deterministic() {
    let extra = json!([{"Sid": "NoEks", "Effect": "Deny", "Action": "eks:*", "Resource": "*"}]);
    let mut input = input_for(&scoped_spec(
        &["s3"],
        Some(&["us-east-1", "eu-west-1"]),
        Some(extra),
    ));
    input.max_session_duration = 900;
    input.oidc_client_ids = Some(Vec::new());
    let a = check_static(&input);
    let b = check_static(&input);
    assert_eq!(a, b);
    assert!(a.len() >= 3);
    // Errors come before warnings.
    let first_warning = a
        .iter()
        .position(|f| f.severity == Severity::Warning)
        .unwrap_or(a.len());
    assert!(
        a[first_warning..]
            .iter()
            .all(|f| f.severity == Severity::Warning)
    );
}

#[test]
fn timing_of_a_full_check() {
    // Not a timed assertion: prints the time for the report (run with --nocapture).
    let all = ["s3", "rds", "elasticache", "sns", "sqs"];
    let mut input = input_for(&scoped_spec(
        &all,
        Some(&["us-east-1", "eu-west-1", "ap-south-1"]),
        None,
    ));
    input.scps = vec![full_aws_access()];
    input.permissions_boundary = Some(full_aws_access());
    let actions: usize = input
        .permissions
        .required_actions
        .iter()
        .map(|a| catalog::expand_wildcard(a).len())
        .sum();
    let _ = check_static(&input); // catalogs parsed once
    let runs = 5;
    let start = Instant::now();
    for _ in 0..runs {
        assert_clean(&check_static(&input));
    }
    let per_run = start.elapsed() / runs;
    let admin = admin_input();
    let start = Instant::now();
    for _ in 0..runs {
        assert_clean(&check_static(&admin));
    }
    let admin_run = start.elapsed() / runs;
    eprintln!(
        "check_static: scoped, all optional services, 3 regions, boundary + SCP, {actions} actions: {per_run:?} per run; admin default: {admin_run:?} per run"
    );
}

#[test]
fn trust_listing_another_connections_subject_is_an_error() {
    let mut input = admin_input();
    input.trust_policy = trust_json(json!([web_statement(json!({
        "StringEquals": {
            format!("{HOST}:aud"): AUD,
            format!("{HOST}:sub"): [SUB, "connection:globex-prod"]
        }
    }))]));
    let f = only_error(check_static(&input));
    assert_eq!(
        f.summary,
        "the trust policy lets other subjects of the issuer assume the role"
    );
    assert!(
        f.detail.contains("also lists \"connection:globex-prod\""),
        "{}",
        f.detail
    );
}

#[test]
fn trust_without_sub_that_also_denies_localops_still_reports_the_missing_sub() {
    let mut input = admin_input();
    input.trust_policy = trust_json(json!([web_statement(
        json!({"StringEquals": {format!("{HOST}:aud"): "another-audience"}})
    )]));
    let findings = check_static(&input);
    assert_eq!(
        summaries(&findings),
        [
            "LocalOps cannot assume the role: the trust policy does not allow its token",
            "the trust policy does not test the subject (oidc.localops.co:sub): any identity of the issuer can assume the role",
        ]
    );
    assert_eq!(findings[0].field, CheckField::Audience);
}
