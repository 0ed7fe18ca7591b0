#!/usr/bin/env bash
# The main job on the embedded default: starts the moto AWS emulator on 127.0.0.1 (never real
# AWS), builds the provider, `terraform apply`s a scoped connection (examples/demo/main.tf),
# prints the role ARN and its trust policy, then destroys everything again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

bash "$root/tests/setup-env.sh"
cargo build --quiet -p terraform-provider-localops --manifest-path "$root/Cargo.toml"

work="$(mktemp -d)"
moto_pid=""
cleanup() {
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null && wait "$moto_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The emulator prints `ready http://127.0.0.1:PORT` once it serves.
mkfifo "$work/moto.out"
"$root/target/localops-venv/bin/python" "$root/tests/moto/launcher.py" --port 0 --ignore-stdin \
  > "$work/moto.out" 2> "$work/moto.log" &
moto_pid=$!
read -r -t 30 status endpoint < "$work/moto.out" || { echo "demo: the emulator did not start:" >&2; cat "$work/moto.log" >&2; exit 1; }
[ "$status" = "ready" ] || { echo "demo: unexpected emulator output: $status $endpoint" >&2; exit 1; }
echo "demo: AWS emulator (moto) at $endpoint"

cat > "$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/localops/localops" = "$target_dir/debug"
  }
  direct {}
}
CFG
cp "$root/examples/demo/main.tf" "$work/main.tf"

export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true TF_VAR_aws_endpoint="$endpoint"
unset AWS_PROFILE AWS_SESSION_TOKEN

cd "$work"
echo "== terraform apply (full log: kept only on failure)"
if ! terraform apply -auto-approve -input=false -no-color > apply.log 2>&1; then
  cat apply.log >&2
  exit 1
fi
grep -E '^(localops_|Apply complete)' apply.log
echo
echo "== role ARN"
terraform output -raw role_arn
echo
echo "== trust policy"
terraform output -json trust_policy | python3 -m json.tool
echo "== managed policies"
terraform output -json managed_policy_arns | python3 -m json.tool
echo "== the permission set's policy documents"
terraform output -json policy_documents | python3 -c '
import json, sys
for i, doc in enumerate(json.load(sys.stdin), 1):
    text = json.loads(doc)
    print(f"-- document {i} ({len(doc)} characters, IAM limit 6144)")
    print(json.dumps(text, indent=2))
'
echo "== second plan"
if terraform plan -detailed-exitcode -input=false -no-color > plan.txt; then
  echo "no changes: the deployed connection matches the configuration"
else
  cat plan.txt
  echo "demo: the second plan was not empty" >&2
  exit 1
fi
echo "== destroy"
terraform destroy -auto-approve -input=false -no-color | tail -n 1
