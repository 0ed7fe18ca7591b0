//! Cases from AWS's IAM documentation (policy evaluation logic, condition operators, policy
//! variables, Principal/NotPrincipal, permissions boundaries, SCPs), restated in our own
//! words. Each case names the documented rule it checks.

mod common;

use iam_policy::DecisionKind::{self, Allowed, ExplicitlyDenied, ImplicitlyDenied};
use serde_json::{Value, json};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const ROLE: &str = "arn:aws:iam::111122223333:role/target";

struct Case {
    /// The documented rule, in our words.
    rule: &'static str,
    input: Value,
    want: DecisionKind,
}

fn allow(action: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": action, "Resource": resource}})
}

fn allow_if(action: &str, resource: &str, condition: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": action, "Resource": resource, "Condition": condition}})
}

fn deny(action: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": action, "Resource": resource}})
}

fn deny_if(action: &str, resource: &str, condition: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": action, "Resource": resource, "Condition": condition}})
}

fn req(action: &str, resource: &str, context: Value) -> Value {
    json!({"principal": ALICE, "action": action, "resource": resource, "context": context})
}

fn cases() -> Vec<Case> {
    vec![
        // ---- Evaluation logic ----
        Case {
            rule: "evaluation logic: every request starts implicitly denied",
            input: json!({"request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "evaluation logic: an explicit allow in an identity-based policy overrides the default deny",
            input: json!({"identity": allow("s3:GetObject", "arn:aws:s3:::b/*"),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({}))}),
            want: Allowed,
        },
        Case {
            rule: "evaluation logic: an explicit deny in any policy overrides any allow",
            input: json!({"identity": [allow("s3:*", "*"), deny("s3:GetObject", "*")],
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({}))}),
            want: ExplicitlyDenied,
        },
        Case {
            rule: "evaluation logic: an allow applies only when action and resource both match",
            input: json!({"identity": allow("s3:GetObject", "arn:aws:s3:::other/*"),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "Action element: action names are not case-sensitive",
            input: json!({"identity": allow("S3:getobject", "*"),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({}))}),
            want: Allowed,
        },
        Case {
            rule: "NotAction with Allow: every action except the listed ones",
            input: json!({"identity": {"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}},
                          "request": req("iam:CreateUser", "*", json!({}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "NotResource with Deny: deny everywhere except the listed resources",
            input: json!({"identity": [allow("s3:*", "*"),
                                       {"Statement": {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}}],
                          "request": req("s3:GetObject", "arn:aws:s3:::other/k", json!({}))}),
            want: ExplicitlyDenied,
        },
        // ---- Permissions boundaries ----
        Case {
            rule: "boundaries: permissions are the intersection of identity policies and the boundary (boundary allows S3, CloudWatch, EC2; identity allows IAM user creation)",
            input: json!({"identity": allow("iam:CreateUser", "*"),
                          "boundary": {"Statement": {"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}},
                          "request": req("iam:CreateUser", "*", json!({}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "boundaries: a boundary alone grants nothing",
            input: json!({"boundary": allow("s3:*", "*"),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "boundaries: an action allowed by both is allowed",
            input: json!({"identity": allow("s3:*", "*"), "boundary": allow("s3:Get*", "*"),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({}))}),
            want: Allowed,
        },
        // ---- SCPs ----
        Case {
            rule: "SCPs: an identity allow is not enough when no SCP allows the action",
            input: json!({"identity": allow("*", "*"), "scps": allow("s3:*", "*"),
                          "request": req("ec2:RunInstances", "*", json!({}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "SCPs: a deny in an SCP overrides everything, including the identity allow",
            input: json!({"identity": allow("*", "*"),
                          "scps": [allow("*", "*"), {"Statement": {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}}],
                          "request": req("organizations:LeaveOrganization", "*", json!({}))}),
            want: ExplicitlyDenied,
        },
        Case {
            rule: "SCPs: an SCP grants nothing by itself",
            input: json!({"scps": allow("*", "*"), "request": req("s3:ListBucket", "arn:aws:s3:::b", json!({}))}),
            want: ImplicitlyDenied,
        },
        // ---- Resource-based policies within one account / role trust ----
        Case {
            rule: "resource-based policies, same account: a policy naming the IAM user's ARN allows even with no identity policy",
            input: json!({"trust": {"Statement": {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "sts:AssumeRole"}},
                          "request": {"principal": ALICE, "action": "sts:AssumeRole", "resource": ROLE}}),
            want: Allowed,
        },
        Case {
            rule: "resource-based policies, same account: naming the user's ARN is not limited by a boundary's implicit deny",
            input: json!({"trust": {"Statement": {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "sts:AssumeRole"}},
                          "boundary": allow("s3:*", "*"),
                          "request": {"principal": ALICE, "action": "sts:AssumeRole", "resource": ROLE}}),
            want: Allowed,
        },
        Case {
            rule: "resource-based policies, same account: naming a role session's ARN grants the session directly",
            input: json!({"trust": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:sts::111122223333:assumed-role/ops/s1"}, "Action": "sts:AssumeRole"}},
                          "boundary": allow("s3:*", "*"),
                          "request": {"principal": "arn:aws:sts::111122223333:assumed-role/ops/s1", "action": "sts:AssumeRole", "resource": ROLE}}),
            want: Allowed,
        },
        Case {
            rule: "resource-based policies, same account: naming the role ARN is limited by the role's permissions boundary",
            input: json!({"trust": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/ops"}, "Action": "sts:AssumeRole"}},
                          "boundary": allow("s3:*", "*"),
                          "request": {"principal": "arn:aws:sts::111122223333:assumed-role/ops/s1", "action": "sts:AssumeRole", "resource": ROLE}}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "role trust policies must allow explicitly: an identity allow alone cannot assume a role",
            input: json!({"identity": allow("sts:AssumeRole", ROLE),
                          "trust": {"Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}},
                          "request": {"principal": ALICE, "action": "sts:AssumeRole", "resource": ROLE}}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "role trust policy naming the account: the account delegates, so the identity policy must allow too",
            input: json!({"trust": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}},
                          "request": {"principal": ALICE, "action": "sts:AssumeRole", "resource": ROLE}}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "cross-account access: the resource policy and the identity policy must both allow",
            input: json!({"identity": allow("sts:AssumeRole", ROLE),
                          "trust": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"}},
                          "request": {"principal": "arn:aws:iam::444455556666:user/bob", "action": "sts:AssumeRole", "resource": ROLE}}),
            want: Allowed,
        },
        Case {
            rule: "cross-account access: a resource policy naming the user directly still needs the user's identity policy",
            input: json!({"trust": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:user/bob"}, "Action": "sts:AssumeRole"}},
                          "request": {"principal": "arn:aws:iam::444455556666:user/bob", "action": "sts:AssumeRole", "resource": ROLE}}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "web identity federation: the trust policy names the IAM OIDC provider as a Federated principal and checks aud and sub",
            input: json!({"trust": {"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                              "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.example.com"},
                              "Action": "sts:AssumeRoleWithWebIdentity",
                              "Condition": {"StringEquals": {"oidc.example.com:aud": "sts.amazonaws.com", "oidc.example.com:sub": "repo:org/app:ref:refs/heads/main"}}}},
                          "request": {"principal": "arn:aws:iam::111122223333:oidc-provider/oidc.example.com",
                                      "action": "sts:AssumeRoleWithWebIdentity", "resource": ROLE,
                                      "context": {"oidc.example.com:aud": "sts.amazonaws.com", "oidc.example.com:sub": "repo:org/app:ref:refs/heads/main"}}}),
            want: Allowed,
        },
        Case {
            rule: "Principal: \"*\" and {\"AWS\": \"*\"} are equivalent and name everyone",
            input: json!({"trust": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRoleWithWebIdentity"}},
                          "request": {"principal": "arn:aws:iam::111122223333:oidc-provider/oidc.example.com", "action": "sts:AssumeRoleWithWebIdentity", "resource": ROLE}}),
            want: Allowed,
        },
        Case {
            rule: "NotPrincipal with Deny: everyone except the listed user (listed together with its account) is denied",
            input: json!({"identity": allow("sts:AssumeRole", ROLE),
                          "trust": {"Statement": [
                              {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"},
                              {"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"]}, "Action": "sts:AssumeRole"}]},
                          "request": {"principal": "arn:aws:iam::444455556666:user/Bob", "action": "sts:AssumeRole", "resource": ROLE}}),
            want: Allowed,
        },
        Case {
            rule: "NotPrincipal with Deny: a principal not listed is denied",
            input: json!({"identity": allow("sts:AssumeRole", ROLE),
                          "trust": {"Statement": [
                              {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"},
                              {"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"]}, "Action": "sts:AssumeRole"}]},
                          "request": {"principal": "arn:aws:iam::444455556666:user/Carol", "action": "sts:AssumeRole", "resource": ROLE}}),
            want: ExplicitlyDenied,
        },
        Case {
            rule: "NotPrincipal with Deny: a session is spared only when its session, role and account are all listed",
            input: json!({"identity": allow("sts:AssumeRole", ROLE),
                          "trust": {"Statement": [
                              {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"},
                              {"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:sts::444455556666:assumed-role/audit/app"]}, "Action": "sts:AssumeRole"}]},
                          "request": {"principal": "arn:aws:sts::444455556666:assumed-role/audit/app", "action": "sts:AssumeRole", "resource": ROLE}}),
            want: ExplicitlyDenied,
        },
        // ---- Condition operators ----
        Case {
            rule: "conditions: a key absent from the request makes a positive operator false (principal tag missing)",
            input: json!({"identity": allow_if("iam:*AccessKey*", "arn:aws:iam::111122223333:user/*", json!({"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}})),
                          "request": req("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/bob", json!({}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "conditions: a negated operator is true when the key is absent",
            input: json!({"identity": [allow("s3:*", "*"), deny_if("s3:*", "*", json!({"StringNotLike": {"aws:PrincipalTag/team": "ops*"}}))],
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({}))}),
            want: ExplicitlyDenied,
        },
        Case {
            rule: "conditions: StringEquals is case-sensitive (johndoe does not match JohnDoe)",
            input: json!({"identity": allow_if("s3:*", "*", json!({"StringEquals": {"aws:username": "johndoe"}})),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({"aws:username": "JohnDoe"}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "conditions: StringEqualsIgnoreCase matches whatever the case",
            input: json!({"identity": allow_if("s3:*", "*", json!({"StringEqualsIgnoreCase": {"aws:username": "johndoe"}})),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({"aws:username": "JohnDoe"}))}),
            want: Allowed,
        },
        Case {
            rule: "conditions: context key names are not case-sensitive (aws:SourceIP is AWS:SourceIp)",
            input: json!({"identity": allow_if("s3:*", "*", json!({"IpAddress": {"aws:SourceIP": "203.0.113.0/24"}})),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({"AWS:SourceIp": "203.0.113.50"}))}),
            want: Allowed,
        },
        Case {
            rule: "conditions: several values for one key are ORed (cost center 12345 or 67890)",
            input: json!({"identity": allow_if("iam:*user*", "*", json!({"StringLike": {"iam:ResourceTag/costCenter": ["12345", "67890"]}})),
                          "request": req("iam:GetUser", "arn:aws:iam::111122223333:user/bob", json!({"iam:ResourceTag/costCenter": "67890"}))}),
            want: Allowed,
        },
        Case {
            rule: "conditions: several keys are ANDed (SNS endpoint pattern and protocol)",
            input: json!({"identity": allow_if("sns:*", "*", json!({"StringLike": {"sns:endpoint": "https://example.com/*"}, "StringEquals": {"sns:Protocol": "https"}})),
                          "request": req("sns:Subscribe", "arn:aws:sns:us-east-1:111122223333:t", json!({"sns:endpoint": "https://example.com/x", "sns:Protocol": "http"}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "Numeric operators: s3:max-keys less than or equal to 10",
            input: json!({"identity": allow_if("s3:ListBucket", "arn:aws:s3:::example_bucket", json!({"NumericLessThanEquals": {"s3:max-keys": "10"}})),
                          "request": req("s3:ListBucket", "arn:aws:s3:::example_bucket", json!({"s3:max-keys": "11"}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "Date operators: credentials issued after a date (ISO 8601 policy value, epoch request value)",
            input: json!({"identity": allow_if("iam:*AccessKey*", "*", json!({"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}})),
                          "request": req("iam:CreateAccessKey", "*", json!({"aws:TokenIssueTime": "1600000000"}))}),
            want: Allowed,
        },
        Case {
            rule: "Date operators: a key absent (long-term credentials carry no aws:TokenIssueTime) does not match",
            input: json!({"identity": allow_if("iam:*AccessKey*", "*", json!({"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}})),
                          "request": req("iam:CreateAccessKey", "*", json!({}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "Bool: deny S3 when aws:SecureTransport is false",
            input: json!({"identity": [allow("s3:*", "*"), deny_if("s3:*", "*", json!({"Bool": {"aws:SecureTransport": "false"}}))],
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({"aws:SecureTransport": "false"}))}),
            want: ExplicitlyDenied,
        },
        Case {
            rule: "BinaryEquals: compares the decoded bytes of the base64 value",
            input: json!({"identity": allow_if("s3:*", "*", json!({"BinaryEquals": {"k": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}})),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({"k": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}))}),
            want: Allowed,
        },
        Case {
            rule: "IP address operators: IPv4 and IPv6 ranges can be mixed in one condition",
            input: json!({"identity": allow_if("someservice:*", "*", json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}})),
                          "request": req("someservice:Do", "*", json!({"aws:SourceIp": "2001:db8:1234:5678::abcd"}))}),
            want: Allowed,
        },
        Case {
            rule: "IP address operators: an address without a prefix length means /32",
            input: json!({"identity": allow_if("s3:*", "*", json!({"IpAddress": {"aws:SourceIp": "203.0.113.7"}})),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({"aws:SourceIp": "203.0.113.8"}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "ARN operators: each of the six colon-separated parts is matched separately, so a `*` covers one part only (StringLike would match here)",
            input: json!({"identity": allow_if("s3:*", "*", json!({"ArnLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}})),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({"aws:SourceArn": "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "ARN operators: the same value with StringLike matches across colons",
            input: json!({"identity": allow_if("s3:*", "*", json!({"StringLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}})),
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({"aws:SourceArn": "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"}))}),
            want: Allowed,
        },
        Case {
            rule: "IfExists: StringLikeIfExists holds when the key is absent (resources without an instance type)",
            input: json!({"identity": allow_if("ec2:RunInstances", "*", json!({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}})),
                          "request": req("ec2:RunInstances", "arn:aws:ec2:us-east-1:111122223333:key-pair/k", json!({}))}),
            want: Allowed,
        },
        Case {
            rule: "IfExists: when the key is present it is checked as usual",
            input: json!({"identity": allow_if("ec2:RunInstances", "*", json!({"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}})),
                          "request": req("ec2:RunInstances", "arn:aws:ec2:us-east-1:111122223333:instance/*", json!({"ec2:InstanceType": "m5.large"}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "IfExists with Deny and a negated operator: still denies when the key is missing",
            input: json!({"identity": [allow("s3:*", "*"), deny_if("s3:*", "*", json!({"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "ops"}}))],
                          "request": req("s3:GetObject", "arn:aws:s3:::b/k", json!({}))}),
            want: ExplicitlyDenied,
        },
        Case {
            rule: "Null: \"true\" holds only when the key is absent (no temporary credentials)",
            input: json!({"identity": allow_if("ec2:*", "*", json!({"Null": {"aws:TokenIssueTime": "true"}})),
                          "request": req("ec2:DescribeInstances", "*", json!({"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "ForAllValues: every requested attribute must be in the allowed list",
            input: json!({"identity": allow_if("dynamodb:GetItem", "*", json!({"ForAllValues:StringLike": {"dynamodb:requestedAttributes": ["PostDateTime", "Message", "Tags"]}})),
                          "request": req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", json!({"dynamodb:requestedAttributes": ["PostDateTime", "UserName"]}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "ForAllValues: a subset of the allowed list is allowed",
            input: json!({"identity": allow_if("dynamodb:GetItem", "*", json!({"ForAllValues:StringLike": {"dynamodb:requestedAttributes": ["PostDateTime", "Message", "Tags"]}})),
                          "request": req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", json!({"dynamodb:requestedAttributes": ["PostDateTime", "Message"]}))}),
            want: Allowed,
        },
        Case {
            rule: "ForAllValues: an empty set of request values makes the condition true",
            input: json!({"identity": allow_if("dynamodb:GetItem", "*", json!({"ForAllValues:StringLike": {"dynamodb:requestedAttributes": ["PostDateTime"]}})),
                          "request": req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", json!({"dynamodb:requestedAttributes": []}))}),
            want: Allowed,
        },
        Case {
            rule: "ForAnyValue with Deny: any forbidden attribute in the request denies",
            input: json!({"identity": [allow("dynamodb:*", "*"), deny_if("dynamodb:PutItem", "*", json!({"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}}))],
                          "request": req("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", json!({"dynamodb:requestedAttributes": ["UserName", "Message", "PostDateTime"]}))}),
            want: ExplicitlyDenied,
        },
        Case {
            rule: "ForAnyValue with Deny: no forbidden attribute, no deny",
            input: json!({"identity": [allow("dynamodb:*", "*"), deny_if("dynamodb:PutItem", "*", json!({"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}}))],
                          "request": req("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", json!({"dynamodb:requestedAttributes": ["UserName"]}))}),
            want: Allowed,
        },
        Case {
            rule: "ForAnyValue: an empty set of request values makes the condition false",
            input: json!({"identity": allow_if("dynamodb:GetItem", "*", json!({"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["PostDateTime"]}})),
                          "request": req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", json!({"dynamodb:requestedAttributes": []}))}),
            want: ImplicitlyDenied,
        },
        // ---- Policy variables ----
        Case {
            rule: "policy variables: ${aws:username} in the resource part gives each user a home prefix",
            input: json!({"identity": allow("s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/*"),
                          "request": req("s3:GetObject", "arn:aws:s3:::mybucket/alice/notes.txt", json!({"aws:username": "alice"}))}),
            want: Allowed,
        },
        Case {
            rule: "policy variables: another user's prefix does not match",
            input: json!({"identity": allow("s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/*"),
                          "request": req("s3:GetObject", "arn:aws:s3:::mybucket/bob/notes.txt", json!({"aws:username": "alice"}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "policy variables: a key not present (aws:username of a role session) makes any match fail",
            input: json!({"identity": allow("s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}*"),
                          "request": req("s3:GetObject", "arn:aws:s3:::mybucket/anything", json!({}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "policy variables: in string conditions (s3:prefix home/${aws:username}/)",
            input: json!({"identity": allow_if("s3:ListBucket", "arn:aws:s3:::BUCKET-NAME", json!({"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}})),
                          "request": req("s3:ListBucket", "arn:aws:s3:::BUCKET-NAME", json!({"s3:prefix": "home/alice/", "aws:username": "alice"}))}),
            want: Allowed,
        },
        Case {
            rule: "policy variables: without Version 2012-10-17 variables are literal text",
            input: json!({"identity": {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::mybucket/${aws:username}/*"}},
                          "request": req("s3:GetObject", "arn:aws:s3:::mybucket/alice/notes.txt", json!({"aws:username": "alice"}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "policy variables: a default value is used when the key is absent",
            input: json!({"identity": allow_if("s3:*", "*", json!({"StringEquals": {"s3:prefix": "${aws:userid, 'anonymous'}"}})),
                          "request": req("s3:ListBucket", "arn:aws:s3:::b", json!({"s3:prefix": "anonymous"}))}),
            want: Allowed,
        },
        Case {
            rule: "policy variables: ${*} stands for a literal asterisk, not a wildcard",
            input: json!({"identity": allow_if("s3:*", "*", json!({"StringLike": {"s3:prefix": "a${*}"}})),
                          "request": req("s3:ListBucket", "arn:aws:s3:::b", json!({"s3:prefix": "abc"}))}),
            want: ImplicitlyDenied,
        },
        Case {
            rule: "policy variables: tags as variables (${aws:PrincipalTag/department} names the bucket)",
            input: json!({"identity": allow("s3:*", "arn:aws:s3:::bucket/${aws:PrincipalTag/department}"),
                          "request": req("s3:GetObject", "arn:aws:s3:::bucket/finance", json!({"aws:PrincipalTag/department": "finance"}))}),
            want: Allowed,
        },
        // ---- Service facts ----
        Case {
            rule: "STS: GetCallerIdentity needs no permission and cannot be denied",
            input: json!({"identity": {"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}},
                          "request": req("sts:GetCallerIdentity", "*", json!({}))}),
            want: Allowed,
        },
    ]
}

#[test]
fn documented_cases() {
    let mut failures = Vec::new();
    let all = cases();
    for case in &all {
        let d = common::eval(&case.input);
        if d.kind != case.want {
            failures.push(format!("{}\n    want {:?}, got {d}", case.rule, case.want));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
    assert!(all.len() >= 50);
}
