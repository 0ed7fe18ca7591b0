//! Shared by the `aws_connection*` end-to-end tests: a Terraform workspace wired to its own
//! moto server, and boto3 (from the test venv) to look at or change AWS behind Terraform's
//! back.

#![allow(dead_code)] // each test file uses its own subset

use std::process::Command;

use localops_tests::moto::{self, MotoServer};
use localops_tests::terraform::Workspace;
use serde_json::Value;

/// The issuer every test connection trusts (never contacted).
pub const ISSUER: &str = "https://oidc.localops.test/tenant";
/// moto's account.
pub const ACCOUNT: &str = "123456789012";

/// A moto server and a workspace whose provider talks to it.
pub struct Setup {
    pub moto: MotoServer,
    pub ws: Workspace,
}

impl Setup {
    #[track_caller]
    pub fn new(name: &str) -> Setup {
        let moto = MotoServer::start().expect("start moto");
        let ws = workspace(&moto, name);
        Setup { moto, ws }
    }

    /// Another workspace on the same moto server.
    pub fn workspace(&self, name: &str) -> Workspace {
        workspace(&self.moto, name)
    }

    /// `main.tf`: the provider block for this moto server, then `resources`.
    pub fn write(&self, resources: &str) {
        write(&self.moto, &self.ws, resources);
    }

    /// Runs a boto3 snippet (`cfn` and `iam` clients are defined; assign `result`) and
    /// returns `result` as JSON.
    #[track_caller]
    pub fn aws(&self, script: &str) -> Value {
        aws(&self.moto, script)
    }

    /// Names of the stacks that exist (not deleted).
    pub fn stacks(&self) -> Vec<String> {
        strings(&self.aws(
            "result = [s['StackName'] for s in cfn.list_stacks()['StackSummaries'] \
             if s['StackStatus'] != 'DELETE_COMPLETE']",
        ))
    }

    /// The role's trust policy (a JSON value) and attached policy ARNs, or None.
    pub fn role(&self, name: &str) -> Option<(Value, Vec<String>, i64)> {
        let v = self.aws(&format!(
            "try:\n    r = iam.get_role(RoleName={name:?})['Role']\n    \
             a = [p['PolicyArn'] for p in iam.list_attached_role_policies(RoleName={name:?})['AttachedPolicies']]\n    \
             result = [r['AssumeRolePolicyDocument'], sorted(a), r.get('MaxSessionDuration')]\n\
             except iam.exceptions.NoSuchEntityException:\n    result = None"
        ));
        if v.is_null() {
            return None;
        }
        Some((v[0].clone(), strings(&v[1]), v[2].as_i64().unwrap_or(0)))
    }

    pub fn role_names(&self) -> Vec<String> {
        strings(&self.aws("result = [r['RoleName'] for r in iam.list_roles()['Roles']]"))
    }

    pub fn customer_policies(&self) -> Vec<String> {
        strings(&self.aws(
            "result = [p['PolicyName'] for p in iam.list_policies(Scope='Local')['Policies']]",
        ))
    }

    pub fn oidc_providers(&self) -> Vec<String> {
        strings(&self.aws(
            "result = [p['Arn'] for p in iam.list_open_id_connect_providers()['OpenIDConnectProviderList']]",
        ))
    }
}

fn workspace(moto: &MotoServer, name: &str) -> Workspace {
    let mut ws = Workspace::new(name);
    for (key, value) in moto.client_env() {
        ws.set_env(&key, &value);
    }
    ws.set_env("LOCALOPS_POLL_INTERVAL_MS", "50");
    ws
}

/// The provider block for `moto`.
pub fn provider_block(moto: &MotoServer) -> String {
    let endpoint = moto.endpoint();
    format!(
        r#"provider "localops" {{
  oidc_issuer_url = "{ISSUER}"
  default_tags = {{
    managed_by = "terraform"
  }}
  endpoints {{
    cloudformation = "{endpoint}"
    iam            = "{endpoint}"
    sts            = "{endpoint}"
  }}
}}
"#
    )
}

pub fn write(moto: &MotoServer, ws: &Workspace, resources: &str) {
    ws.write_config(&format!("{}\n{resources}", provider_block(moto)));
}

const PRELUDE: &str = "import boto3, json, os\n\
ep = os.environ['AWS_ENDPOINT_URL']\n\
cfn = boto3.client('cloudformation', region_name='us-east-1', endpoint_url=ep)\n\
iam = boto3.client('iam', region_name='us-east-1', endpoint_url=ep)\n\
result = None\n";

#[track_caller]
pub fn aws(moto: &MotoServer, script: &str) -> Value {
    let python = moto::python().expect("the test venv's python");
    let mut command = Command::new(python);
    moto.configure(&mut command);
    let program = format!("{PRELUDE}{script}\nprint(json.dumps(result, default=str))\n");
    let output = command
        .arg("-c")
        .arg(&program)
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "boto3 script failed:\n{program}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The `StringEquals` conditions of a trust policy's first statement.
pub fn trust_conditions(trust: &Value) -> Value {
    let statement = match &trust["Statement"] {
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    statement["Condition"]["StringEquals"].clone()
}
