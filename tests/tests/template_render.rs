//! Rendering properties checked from outside the crate: determinism, structure of each variant,
//! and agreement between the template's trust policy and `trust_policy`.

mod template_fixtures;

use localops_domain::template::{
    self, ConnectionParameters, logical_id, parameter, stack_parameters, trust_policy,
};
use serde_json::{Value, json};
use template_fixtures::{ISSUER, render, variants};

/// Resolves the intrinsic functions the role's trust policy uses, like CloudFormation would.
fn resolve(
    value: &Value,
    params: &[(String, String)],
    create_provider: bool,
    provider_arn: &str,
) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("Ref") => {
            let name = map["Ref"].as_str().unwrap();
            if name == logical_id::OIDC_PROVIDER {
                return json!(provider_arn);
            }
            let (_, v) = params.iter().find(|(k, _)| k == name).unwrap();
            json!(v)
        }
        Value::Object(map) if map.contains_key("Fn::If") => {
            let branches = map["Fn::If"].as_array().unwrap();
            let pick = if create_provider {
                &branches[1]
            } else {
                &branches[2]
            };
            resolve(pick, params, create_provider, provider_arn)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, params, create_provider, provider_arn)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve(v, params, create_provider, provider_arn))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn same_input_gives_byte_identical_output() {
    for (stem, input) in variants() {
        let a = render(&input).body;
        let b = render(&input.clone()).body;
        assert_eq!(a, b, "{stem}");
        assert!(serde_json::from_str::<Value>(&a).is_ok(), "{stem}");
    }
}

#[test]
fn trust_policy_matches_the_template_for_created_and_existing_providers() {
    let rendered =
        render(&localops_domain::template::ConnectionTemplateInput::administrator_access(ISSUER));
    let t: Value = serde_json::from_str(&rendered.body).unwrap();
    let doc = &t["Resources"]["Role"]["Properties"]["AssumeRolePolicyDocument"];
    let created_arn = template::oidc_provider_arn("123456789012", ISSUER).unwrap();
    let existing_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.localops.test/tenants/acme";
    for existing in [None, Some(existing_arn.to_string())] {
        let p = ConnectionParameters {
            issuer_url: ISSUER.into(),
            audience: "sts.amazonaws.com".into(),
            subject: "connection:acme".into(),
            role_name: template::default_role_name("acme"),
            max_session_duration: 3600,
            existing_oidc_provider_arn: existing.clone(),
        };
        assert!(template::validate_connection_parameters(&p).is_empty());
        let params = stack_parameters(&p);
        let arn = existing.clone().unwrap_or(created_arn.clone());
        let resolved = resolve(doc, &params, existing.is_none(), &created_arn);
        assert_eq!(
            resolved,
            trust_policy(ISSUER, &arn, "sts.amazonaws.com", "connection:acme")
        );
        let keys: Vec<&String> = resolved["Statement"][0]["Condition"]["StringEquals"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(
            keys,
            [
                "oidc.localops.test/tenants/acme:aud",
                "oidc.localops.test/tenants/acme:sub"
            ]
        );
    }
}

#[test]
fn variants_have_the_expected_shape() {
    for (stem, input) in variants() {
        let r = render(&input);
        let t: Value = serde_json::from_str(&r.body).unwrap();
        let resources = t["Resources"].as_object().unwrap();
        assert_eq!(
            resources.len(),
            2 + input.policy_documents.len(),
            "{stem}: provider, role, one managed policy per document"
        );
        assert_eq!(
            t["Resources"]["OidcProvider"]["Condition"],
            "CreateOidcProvider"
        );
        assert_eq!(
            t["Parameters"][parameter::OIDC_ISSUER_URL]["AllowedValues"],
            json!([input.issuer_url])
        );
        let arns = t["Resources"]["Role"]["Properties"]["ManagedPolicyArns"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(
            arns.len(),
            input.policy_documents.len() + input.managed_policy_arns.len(),
            "{stem}"
        );
        for (i, id) in r.permission_policy_ids.iter().enumerate() {
            assert_eq!(arns[i], json!({ "Ref": id }), "{stem}");
            assert_eq!(
                resources[id]["Properties"]["ManagedPolicyName"],
                json!({ "Fn::Sub": format!("${{RoleName}}-{}", i + 1) })
            );
        }
        assert_eq!(t["Outputs"].as_object().unwrap().len(), 2);
    }
}
