#!/usr/bin/env bash
# Installs what the tests need that cargo does not: a venv with the pinned moto server and
# cfn-lint. Idempotent and quick when nothing changed (keyed on tests/requirements.txt).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/target/localops-venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$root/tests/requirements.txt" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/moto_server" ]; then
  exit 0
fi
command -v python3 >/dev/null || { echo "setup-env: python3 is required" >&2; exit 1; }
command -v terraform >/dev/null || { echo "setup-env: terraform (1.11 or later) must be on PATH" >&2; exit 1; }
mkdir -p "$root/target"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/requirements.txt"
echo "$want" > "$stamp"
moto_version="$("$venv/bin/python" -c 'import moto; print(moto.__version__)')"
echo "setup-env: installed moto $moto_version and $("$venv/bin/cfn-lint" --version)" >&2
