#!/usr/bin/env bash
# `npm run test:compat`: the Triton compatibility suite (test/compat, pytest) in .venv-compat.
# Creates or refreshes the venv first (scripts/compat-venv.sh: a no-op when it is current),
# and fails, rather than skipping, when that cannot be done: CI must run the suite.
# Arguments go to pytest, e.g. `npm run test:compat -- -k grpc -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/compat-venv.sh
# no __pycache__ in the working tree
export PYTHONDONTWRITEBYTECODE=1
exec "${COMPAT_VENV:-.venv-compat}/bin/python" -m pytest -q test/compat "$@"
