#!/usr/bin/env bash
# Creates or refreshes .venv-bench/, the Python environment of the bench's Python peers
# (the `mlserver` and `kserve` cases of bench/run.ts): the pinned packages of
# bench/requirements.txt. Idempotent: when nothing pinned changed since the last run it
# checks a stamp file and exits at once.
#
#   bash scripts/bench-venv.sh           # create / refresh
#   bash scripts/bench-venv.sh --check   # exit 1 (saying what to run) unless up to date
#
# Environment: PYTHON (default python3) creates the venv; BENCH_VENV (default
# <repo>/.venv-bench) is where it goes.
set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/.."
ROOT=$(pwd)

VENV=${BENCH_VENV:-$ROOT/.venv-bench}
PYTHON=${PYTHON:-python3}
REQUIREMENTS=bench/requirements.txt
STAMP=$VENV/.bench-stamp

say() { printf 'bench-venv: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

# What the stamp records: the requirements and this script as they are now.
wanted_stamp() {
  cat "$REQUIREMENTS" "$SELF" | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(wanted_stamp)" ]
}

if [ "${1:-}" = "--check" ]; then
  if up_to_date; then exit 0; fi
  if [ ! -x "$VENV/bin/python" ]; then
    fail "$VENV is missing: run \`bash scripts/bench-venv.sh\` (creates the Python environment of the mlserver and kserve bench cases)"
  fi
  fail "$VENV is not up to date with $REQUIREMENTS / scripts/bench-venv.sh: run \`bash scripts/bench-venv.sh\`"
elif [ $# -gt 0 ]; then
  fail "unknown argument $1 (expected none or --check)"
fi

if up_to_date; then
  say "$VENV is up to date"
  exit 0
fi
started=$(date +%s)

# the venv: reused when its python runs, else made anew
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  say "reusing $VENV"
else
  command -v "$PYTHON" >/dev/null 2>&1 || fail "$PYTHON not found: install Python 3 with venv (Debian: apt-get install python3 python3-venv) or set PYTHON"
  rm -rf "$VENV"
  say "creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV" || fail "$PYTHON -m venv failed; on Debian install python3-venv"
fi
rm -f "$STAMP"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS"

# each server in its own interpreter: they cannot share one (see bench/requirements.txt)
"$VENV/bin/python" -c 'import mlserver, mlserver.codecs, onnxruntime, numpy'
"$VENV/bin/python" -c 'import kserve, onnxruntime, numpy'

wanted_stamp >"$STAMP"
version() { "$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))"; }
say "ready in $(($(date +%s) - started)) s: $("$VENV/bin/python" --version), mlserver $(version mlserver), kserve $(version kserve), onnxruntime $(version onnxruntime)"
