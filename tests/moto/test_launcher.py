"""Self-test of the patched moto server with the rendered connection template.

Run by `cargo test -p localops-tests --test moto_launcher`, which renders the templates and
starts the server. Inputs (environment):

  LOCALOPS_TEMPLATE_DIR     rendered templates: admin.json, admin-tagged.json, scoped-1.json,
                            scoped-2-tagged.json, thumbprints.json, malformed-policy.json
  LOCALOPS_ISSUER_URL       the issuer they were rendered with
  LOCALOPS_EXPECTED_TRUST   the trust policy localops_domain::template::trust_policy gives for
                            the created provider, audience sts.amazonaws.com and subject
                            connection:acme
  AWS_ENDPOINT_URL          a running launcher; without it this test starts its own
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import unittest
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
HERE = Path(__file__).resolve().parent

_server: subprocess.Popen | None = None


def setUpModule() -> None:
    global _server
    if os.environ.get("AWS_ENDPOINT_URL"):
        return
    _server = subprocess.Popen(
        [sys.executable, str(HERE / "launcher.py"), "--port", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert _server.stdout is not None
    line = _server.stdout.readline().strip()
    if not line.startswith("ready "):
        raise RuntimeError(f"launcher did not start: {line!r}")
    os.environ["AWS_ENDPOINT_URL"] = line.split(" ", 1)[1]


def tearDownModule() -> None:
    if _server is not None:
        assert _server.stdin is not None
        _server.stdin.close()
        _server.wait(timeout=10)


def template(name: str) -> str:
    directory = os.environ.get("LOCALOPS_TEMPLATE_DIR")
    if not directory:
        raise RuntimeError("LOCALOPS_TEMPLATE_DIR is not set: run this through cargo test")
    return (Path(directory) / f"{name}.json").read_text()


def params(
    role: str,
    subject: str = "connection:acme",
    audience: str = "sts.amazonaws.com",
    duration: int = 3600,
    existing: str = "",
    issuer: str | None = None,
) -> list[dict[str, str]]:
    values = {
        "OidcIssuerUrl": issuer or os.environ["LOCALOPS_ISSUER_URL"],
        "Audience": audience,
        "Subject": subject,
        "RoleName": role,
        "MaxSessionDuration": str(duration),
        "ExistingOidcProviderArn": existing,
    }
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


class ConnectionStackTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls) -> None:
        kw = dict(
            endpoint_url=os.environ["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        cls.cf = boto3.client("cloudformation", **kw)
        cls.iam = boto3.client("iam", **kw)
        issuer = os.environ["LOCALOPS_ISSUER_URL"]
        cls.host = issuer[len("https://") :]
        cls.provider_arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{cls.host}"

    def tearDown(self) -> None:
        # Every test leaves the account empty (the OIDC provider is account-wide).
        for stack in self.cf.describe_stacks()["Stacks"]:
            self.cf.delete_stack(StackName=stack["StackId"])
        for provider in self.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            self.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])
        self.assert_account_empty()

    # helpers ----------------------------------------------------------------------------------

    def stack(self, stack_id: str) -> dict:
        return self.cf.describe_stacks(StackName=stack_id)["Stacks"][0]

    def outputs(self, stack_id: str) -> dict[str, str]:
        return {o["OutputKey"]: o["OutputValue"] for o in self.stack(stack_id).get("Outputs", [])}

    def events(self, stack_id: str) -> list[tuple[str, str, str]]:
        return [
            (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason") or "")
            for e in self.cf.describe_stack_events(StackName=stack_id)["StackEvents"]
        ]

    def trust(self, role: str) -> dict:
        return self.iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]

    def expected_trust(self, federated: str, audience: str, subject: str) -> dict:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "LocalOpsWebIdentity",
                    "Effect": "Allow",
                    "Principal": {"Federated": federated},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{self.host}:aud": audience,
                            f"{self.host}:sub": subject,
                        }
                    },
                }
            ],
        }

    def attached(self, role: str) -> list[str]:
        return sorted(
            p["PolicyArn"]
            for p in self.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        )

    def default_document(self, arn: str) -> dict:
        policy = self.iam.get_policy(PolicyArn=arn)["Policy"]
        version = self.iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        return version["PolicyVersion"]["Document"]

    def tags(self, role: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.iam.get_role(RoleName=role)["Role"].get("Tags", [])}

    def local_policies(self) -> list[str]:
        return sorted(p["Arn"] for p in self.iam.list_policies(Scope="Local")["Policies"])

    def assert_account_empty(self) -> None:
        self.assertEqual(self.iam.list_roles()["Roles"], [])
        self.assertEqual(self.local_policies(), [])
        self.assertEqual(
            self.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"], []
        )

    def create(self, name: str, body: str, parameters: list[dict[str, str]]) -> str:
        return self.cf.create_stack(StackName=name, TemplateBody=body, Parameters=parameters)[
            "StackId"
        ]

    # tests ------------------------------------------------------------------------------------

    def test_create_update_delete(self) -> None:
        role = "LocalOps-acme"
        stack_id = self.create("Ops-acme", template("scoped-1"), params(role))
        self.assertEqual(self.stack(stack_id)["StackStatus"], "CREATE_COMPLETE")

        # The OIDC provider and the role, with exactly the trust policy Rust predicts.
        provider = self.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=self.provider_arn)
        self.assertEqual(provider["Url"], self.host)
        self.assertEqual(provider["ClientIDList"], ["sts.amazonaws.com"])
        expected = json.loads(Path(os.environ["LOCALOPS_EXPECTED_TRUST"]).read_text())
        self.assertEqual(self.trust(role), expected)
        self.assertEqual(
            self.trust(role), self.expected_trust(self.provider_arn, "sts.amazonaws.com", "connection:acme")
        )
        self.assertEqual(self.iam.get_role(RoleName=role)["Role"]["MaxSessionDuration"], 3600)
        policy1 = f"arn:aws:iam::{ACCOUNT}:policy/{role}-1"
        self.assertEqual(self.attached(role), [policy1])
        self.assertEqual(
            self.default_document(policy1)["Statement"][0]["Action"], ["s3:GetObject", "s3:ListBucket"]
        )
        self.assertEqual(
            self.outputs(stack_id),
            {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "OidcProviderArn": self.provider_arn},
        )
        resources = {
            r["LogicalResourceId"]: r["ResourceType"]
            for r in self.cf.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]
        }
        self.assertEqual(
            resources,
            {
                "OidcProvider": "AWS::IAM::OIDCProvider",
                "Role": "AWS::IAM::Role",
                "PermissionPolicy1": "AWS::IAM::ManagedPolicy",
            },
        )

        # Update: trust (subject and audience), session length, tags, a changed document and an
        # added one.
        self.cf.update_stack(
            StackName=stack_id,
            TemplateBody=template("scoped-2-tagged"),
            Parameters=params(role, subject="connection:acme-2", audience="localops", duration=7200),
        )
        self.assertEqual(self.stack(stack_id)["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(
            self.trust(role), self.expected_trust(self.provider_arn, "localops", "connection:acme-2")
        )
        provider = self.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=self.provider_arn)
        self.assertEqual(provider["ClientIDList"], ["localops"])
        self.assertEqual(self.iam.get_role(RoleName=role)["Role"]["MaxSessionDuration"], 7200)
        self.assertEqual(self.tags(role), {"environment": "test", "team": "platform ops"})
        policy2 = f"arn:aws:iam::{ACCOUNT}:policy/{role}-2"
        self.assertEqual(self.attached(role), [policy1, policy2])
        self.assertIn("s3:GetBucketLocation", self.default_document(policy1)["Statement"][0]["Action"])
        versions = self.iam.list_policy_versions(PolicyArn=policy1)["Versions"]
        self.assertEqual(len(versions), 2)
        self.assertEqual(self.iam.get_policy(PolicyArn=policy1)["Policy"]["DefaultVersionId"], "v2")
        self.assertEqual(self.default_document(policy2)["Statement"][0]["Action"], "sqs:*")

        # Update: back to one document (the second is detached and deleted), no tags.
        self.cf.update_stack(
            StackName=stack_id, TemplateBody=template("scoped-1"), Parameters=params(role)
        )
        self.assertEqual(self.stack(stack_id)["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(self.attached(role), [policy1])
        self.assertEqual(self.local_policies(), [policy1])
        self.assertEqual(self.tags(role), {})
        self.assertEqual(
            self.default_document(policy1)["Statement"][0]["Action"], ["s3:GetObject", "s3:ListBucket"]
        )

        # Update: to AdministratorAccess only.
        self.cf.update_stack(StackName=stack_id, TemplateBody=template("admin"), Parameters=params(role))
        self.assertEqual(self.attached(role), [ADMIN])
        self.assertEqual(self.local_policies(), [])

        # Nothing changed: CloudFormation refuses the update.
        with self.assertRaises(ClientError) as caught:
            self.cf.update_stack(
                StackName=stack_id, TemplateBody=template("admin"), Parameters=params(role)
            )
        self.assertIn("No updates are to be performed", str(caught.exception))

        # Delete: nothing remains, and the stack id still answers.
        self.cf.delete_stack(StackName="Ops-acme")
        self.assertEqual(self.stack(stack_id)["StackStatus"], "DELETE_COMPLETE")
        self.assertNotIn("Outputs", self.stack(stack_id))
        self.assert_account_empty()
        with self.assertRaises(ClientError):
            self.cf.describe_stacks(StackName="Ops-acme")

    def test_existing_provider_and_switching(self) -> None:
        issuer = os.environ["LOCALOPS_ISSUER_URL"]
        arn = self.iam.create_open_id_connect_provider(
            Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[]
        )["OpenIDConnectProviderArn"]
        self.assertEqual(arn, self.provider_arn)
        role = "LocalOps-existing"
        stack_id = self.create("Ops-existing", template("admin"), params(role, existing=arn))
        self.assertEqual(self.stack(stack_id)["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(self.trust(role), self.expected_trust(arn, "sts.amazonaws.com", "connection:acme"))
        self.assertEqual(self.outputs(stack_id)["OidcProviderArn"], arn)
        self.assertEqual(
            [r["LogicalResourceId"] for r in self.cf.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]],
            ["Role"],
        )

        # Switching to a stack-created provider while the other still exists fails like IAM
        # does, and the update rolls back.
        self.cf.update_stack(StackName=stack_id, TemplateBody=template("admin"), Parameters=params(role))
        stack = self.stack(stack_id)
        self.assertEqual(stack["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        failed = [e for e in self.events(stack_id) if e[1] == "UPDATE_FAILED" or e[1] == "CREATE_FAILED"]
        self.assertTrue(failed, self.events(stack_id))
        self.assertEqual(failed[0][0], "OidcProvider")
        self.assertIn("already exists", failed[0][2])
        self.assertEqual(self.trust(role), self.expected_trust(arn, "sts.amazonaws.com", "connection:acme"))

        # Deleting the stack leaves the provider it did not create.
        self.cf.delete_stack(StackName=stack_id)
        self.assertEqual(self.iam.list_roles()["Roles"], [])
        self.assertEqual(
            [p["Arn"] for p in self.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]],
            [arn],
        )
        self.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)

        # From created to existing: the stack's provider is deleted at cleanup.
        stack_id = self.create("Ops-switch", template("admin"), params(role))
        self.assertEqual(self.trust(role)["Statement"][0]["Principal"]["Federated"], self.provider_arn)
        other = self.iam.create_open_id_connect_provider(
            Url=issuer + "/other", ClientIDList=["sts.amazonaws.com"], ThumbprintList=[]
        )["OpenIDConnectProviderArn"]
        self.cf.update_stack(
            StackName=stack_id, TemplateBody=template("admin"), Parameters=params(role, existing=other)
        )
        self.assertEqual(self.stack(stack_id)["StackStatus"], "UPDATE_COMPLETE", self.events(stack_id))
        self.assertEqual(self.trust(role)["Statement"][0]["Principal"]["Federated"], other)
        self.assertEqual(
            [p["Arn"] for p in self.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]],
            [other],
        )

    def test_thumbprints_and_tags_on_the_provider(self) -> None:
        role = "LocalOps-thumbs"
        self.create("Ops-thumbs", template("thumbprints"), params(role))
        provider = self.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=self.provider_arn)
        self.assertEqual(
            provider["ThumbprintList"],
            ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280", "A031C46782E6E6C662C2C87C76DA9AA62CCABD8E"],
        )
        self.cf.update_stack(StackName="Ops-thumbs", TemplateBody=template("admin-tagged"), Parameters=params(role))
        provider = self.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=self.provider_arn)
        self.assertEqual(provider["ThumbprintList"], [])
        self.assertEqual(
            {t["Key"]: t["Value"] for t in provider["Tags"]}, {"environment": "test", "team": "platform ops"}
        )
        self.assertEqual(self.tags(role), {"environment": "test", "team": "platform ops"})

    def test_role_name_change_replaces_role_and_policies(self) -> None:
        stack_id = self.create("Ops-rename", template("scoped-1"), params("LocalOps-old"))
        self.cf.update_stack(StackName=stack_id, TemplateBody=template("scoped-1"), Parameters=params("LocalOps-new"))
        self.assertEqual(self.stack(stack_id)["StackStatus"], "UPDATE_COMPLETE", self.events(stack_id))
        self.assertEqual([r["RoleName"] for r in self.iam.list_roles()["Roles"]], ["LocalOps-new"])
        self.assertEqual(self.local_policies(), [f"arn:aws:iam::{ACCOUNT}:policy/LocalOps-new-1"])
        self.assertEqual(self.attached("LocalOps-new"), [f"arn:aws:iam::{ACCOUNT}:policy/LocalOps-new-1"])

    def test_malformed_policy_rolls_back(self) -> None:
        stack_id = self.create("Ops-malformed", template("malformed-policy"), params("LocalOps-malformed"))
        stack = self.stack(stack_id)
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE")
        self.assertIn("PermissionPolicy1", stack["StackStatusReason"])
        failed = [e for e in self.events(stack_id) if e[1] == "CREATE_FAILED"]
        self.assertEqual(len(failed), 1, self.events(stack_id))
        self.assertEqual(failed[0][0], "PermissionPolicy1")
        self.assertIn("Policy statement must contain resources.", failed[0][2])
        self.assertIn("HandlerErrorCode: InvalidRequest", failed[0][2])
        self.assertNotIn("Outputs", stack)
        self.assertEqual(self.cf.list_stack_resources(StackName=stack_id)["StackResourceSummaries"], [])
        self.assert_account_empty()
        with self.assertRaises(ClientError) as caught:
            self.cf.update_stack(StackName=stack_id, TemplateBody=template("admin"), Parameters=params("x"))
        self.assertIn("ROLLBACK_COMPLETE", str(caught.exception))

    def test_duplicate_role_name_rolls_back(self) -> None:
        self.iam.create_role(RoleName="LocalOps-taken", AssumeRolePolicyDocument="{}")
        stack_id = self.create("Ops-taken", template("admin"), params("LocalOps-taken"))
        self.assertEqual(self.stack(stack_id)["StackStatus"], "ROLLBACK_COMPLETE")
        failed = [e for e in self.events(stack_id) if e[1] == "CREATE_FAILED"]
        self.assertEqual(failed[0][0], "Role")
        self.assertIn("Role with name LocalOps-taken already exists.", failed[0][2])
        # The stack's OIDC provider was rolled back; the pre-existing role is untouched.
        self.assertEqual(self.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"], [])
        self.assertEqual([r["RoleName"] for r in self.iam.list_roles()["Roles"]], ["LocalOps-taken"])
        self.iam.delete_role(RoleName="LocalOps-taken")

    def test_parameter_constraints(self) -> None:
        cases = [
            (params("r", issuer="https://evil.example.com"), "Parameter 'OidcIssuerUrl' must be one of AllowedValues"),
            (params("r", subject="connection:*"), "Parameter 'Subject' failed to satisfy constraint"),
            (params("r", duration=60), "Parameter 'MaxSessionDuration' must be a number not less than 3600"),
            (params("bad/name"), "Parameter 'RoleName' failed to satisfy constraint"),
            (params("r", existing="arn:aws:iam::1:role/x"), "Parameter 'ExistingOidcProviderArn' failed"),
        ]
        for parameters, message in cases:
            with self.assertRaises(ClientError) as caught:
                self.create("Ops-constraints", template("admin"), parameters)
            self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationError")
            self.assertIn(message, str(caught.exception))
        self.assertEqual(self.cf.describe_stacks()["Stacks"], [])
        # On update too: the call fails and the stack is untouched.
        stack_id = self.create("Ops-constraints", template("admin"), params("LocalOps-c"))
        with self.assertRaises(ClientError) as caught:
            self.cf.update_stack(
                StackName=stack_id, TemplateBody=template("admin"), Parameters=params("LocalOps-c", duration=50000)
            )
        self.assertIn("must be a number not greater than 43200", str(caught.exception))
        self.assertEqual(self.stack(stack_id)["StackStatus"], "CREATE_COMPLETE")
        with self.assertRaises(ClientError) as caught:
            self.cf.update_stack(
                StackName=stack_id,
                TemplateBody=template("admin"),
                Parameters=[p for p in params("LocalOps-c") if p["ParameterKey"] != "Subject"],
            )
        self.assertIn("Parameters: [Subject] must have values", str(caught.exception))
        self.assertEqual(self.stack(stack_id)["StackStatus"], "CREATE_COMPLETE")


if __name__ == "__main__":
    started = time.monotonic()
    result = unittest.main(exit=False, verbosity=2).result
    print(f"{time.monotonic() - started:.1f}s", file=sys.stderr)
    sys.exit(0 if result.wasSuccessful() else 1)
