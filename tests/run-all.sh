#!/usr/bin/env bash
# Runs every test of the project on a fresh machine of this kind: installs the test tools,
# builds the binaries once (all end-to-end tests share them), then runs the whole workspace's tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tests/setup-env.sh
cargo build --workspace --bins
cargo test --workspace --no-fail-fast
