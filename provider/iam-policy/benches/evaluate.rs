//! Benchmarks: (1) a web-identity trust-policy check; (2) a 300-action permission check
//! against a realistic permission set of six policy documents.
//!
//! Run: `cargo bench -p iam-policy --bench evaluate -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, criterion_group, criterion_main};
use iam_policy::{Context, DecisionKind, EvaluationInput, NamedPolicy, Policy, Request, evaluate};
use serde_json::json;
use std::hint::black_box;

const OIDC: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com";
const ROLE: &str = "arn:aws:iam::111122223333:role/localops";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/localops/agent";

fn trust_policy() -> Policy {
    Policy::from_value(&json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AllowLocalOps", "Effect": "Allow", "Principal": {"Federated": OIDC},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {
                 "oidc.example.com:aud": "sts.amazonaws.com",
                 "oidc.example.com:sub": "system:serviceaccount:localops:agent"}}},
            {"Sid": "DenyOtherSubject", "Effect": "Deny", "Principal": {"Federated": OIDC},
             "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {"oidc.example.com:sub": "system:serviceaccount:default:default"}}}
        ]
    }))
    .expect("valid trust policy")
}

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// Six documents in the shape of a LocalOps permission set: service wildcards under a
/// regions condition, scoped IAM and S3 statements, and guard-rail denies.
fn permission_set() -> Vec<NamedPolicy> {
    let region = json!({"StringEquals": {"aws:RequestedRegion": REGIONS}});
    let docs = [
        (
            "network",
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "Ec2", "Effect": "Allow", "Action": ["ec2:*", "elasticloadbalancing:*", "autoscaling:*"], "Resource": "*", "Condition": region},
                {"Sid": "Dns", "Effect": "Allow", "Action": ["route53:Get*", "route53:List*", "route53:ChangeResourceRecordSets", "acm:*"], "Resource": "*"}
            ]}),
        ),
        (
            "compute",
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "Eks", "Effect": "Allow", "Action": ["eks:*", "ecr:*", "lambda:*"], "Resource": "*", "Condition": region},
                {"Sid": "Db", "Effect": "Allow", "Action": ["rds:*", "elasticache:*", "dynamodb:*"], "Resource": "*", "Condition": region}
            ]}),
        ),
        (
            "iam",
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "Read", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
                {"Sid": "Roles", "Effect": "Allow", "Action": ["iam:CreateRole", "iam:DeleteRole", "iam:PassRole", "iam:TagRole", "iam:*RolePolicy"],
                 "Resource": "arn:aws:iam::111122223333:role/localops-*"},
                {"Sid": "Profiles", "Effect": "Allow", "Action": "iam:*InstanceProfile*", "Resource": "arn:aws:iam::111122223333:instance-profile/localops-*"}
            ]}),
        ),
        (
            "storage",
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "Buckets", "Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::localops-*", "arn:aws:s3:::localops-*/*"]},
                {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "Resource": "*"}
            ]}),
        ),
        (
            "observability",
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:*", "cloudwatch:*", "sns:*", "sqs:*", "events:*"], "Resource": "*", "Condition": region},
                {"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:*", "ssm:Get*", "ssm:Describe*", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*", "Condition": region}
            ]}),
        ),
        (
            "guardrails",
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "NoUsers", "Effect": "Deny", "Action": ["iam:*User*", "iam:*AccessKey*", "organizations:*", "account:*"], "Resource": "*"},
                {"Sid": "RegionLock", "Effect": "Deny",
                 "NotAction": ["iam:*", "sts:*", "route53:*", "cloudfront:*", "s3:ListAllMyBuckets", "acm:*"],
                 "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": REGIONS}}},
                {"Sid": "TlsOnly", "Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": false}}}
            ]}),
        ),
    ];
    docs.iter()
        .map(|(name, doc)| NamedPolicy::new(*name, Policy::from_value(doc).expect("valid policy")))
        .collect()
}

/// 300 distinct (action, resource) pairs over the services of the permission set.
fn requests() -> Vec<Request> {
    let services = [
        "ec2",
        "elasticloadbalancing",
        "autoscaling",
        "route53",
        "acm",
        "eks",
        "ecr",
        "lambda",
        "rds",
        "elasticache",
        "dynamodb",
        "iam",
        "s3",
        "logs",
        "cloudwatch",
        "sns",
        "sqs",
        "events",
        "secretsmanager",
        "ssm",
        "kms",
        "organizations",
        "cloudtrail",
        "config",
    ];
    let verbs = [
        "Describe", "Get", "List", "Create", "Delete", "Update", "Put", "Tag", "Untag", "Modify",
    ];
    let nouns = [
        "Resource",
        "Policy",
        "Tags",
        "Role",
        "Configuration",
        "User",
        "Instance",
        "Group",
    ];
    let ctx = Context::new()
        .with("aws:RequestedRegion", "us-east-1")
        .with("aws:SecureTransport", "true")
        .with(
            "aws:PrincipalArn",
            "arn:aws:iam::111122223333:role/localops",
        );
    let mut out = Vec::with_capacity(300);
    'outer: for noun in nouns {
        for verb in verbs {
            for svc in services {
                let resource = match svc {
                    "s3" => "arn:aws:s3:::localops-artifacts/build/1".to_owned(),
                    "iam" => format!(
                        "arn:aws:iam::111122223333:role/localops-{}",
                        noun.to_lowercase()
                    ),
                    _ => "*".to_owned(),
                };
                out.push(
                    Request::new(SESSION, format!("{svc}:{verb}{noun}"), resource)
                        .with_context(ctx.clone()),
                );
                if out.len() == 300 {
                    break 'outer;
                }
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let trust = trust_policy();
    let allowed = Request::new(OIDC, "sts:AssumeRoleWithWebIdentity", ROLE).with_context(
        Context::new()
            .with("oidc.example.com:aud", "sts.amazonaws.com")
            .with(
                "oidc.example.com:sub",
                "system:serviceaccount:localops:agent",
            ),
    );
    assert_eq!(
        evaluate(&EvaluationInput::new(&allowed).trust_policy(&trust)).kind,
        DecisionKind::Allowed
    );
    c.bench_function("trust_policy_web_identity", |b| {
        b.iter(|| {
            evaluate(black_box(
                &EvaluationInput::new(&allowed).trust_policy(&trust),
            ))
            .kind
        })
    });
    let denied = Request::new(OIDC, "sts:AssumeRoleWithWebIdentity", ROLE).with_context(
        Context::new()
            .with("oidc.example.com:aud", "sts.amazonaws.com")
            .with("oidc.example.com:sub", "system:serviceaccount:other:sa"),
    );
    c.bench_function("trust_policy_web_identity_denied_with_explanation", |b| {
        b.iter(|| {
            let d = evaluate(black_box(
                &EvaluationInput::new(&denied).trust_policy(&trust),
            ));
            d.failed_conditions.len()
        })
    });

    let set = permission_set();
    let reqs = requests();
    let mut tally = [0usize; 3];
    for r in &reqs {
        tally[evaluate(&EvaluationInput::new(r).identity_policies(&set)).kind as usize] += 1;
    }
    eprintln!("300-action check: allowed/implicit/explicit = {tally:?}");
    c.bench_function("permission_set_300_actions", |b| {
        b.iter(|| {
            let mut allowed = 0usize;
            for r in &reqs {
                let d = evaluate(black_box(&EvaluationInput::new(r).identity_policies(&set)));
                allowed += usize::from(d.kind == DecisionKind::Allowed);
            }
            allowed
        })
    });
    c.bench_function("parse_permission_set_6_documents", |b| {
        b.iter(|| black_box(permission_set()).len())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
