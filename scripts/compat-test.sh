#!/usr/bin/env bash
# `npm run test:compat`: the Triton compatibility suite (test/compat, pytest) in .venv-compat.
# Fails, rather than skipping, when the venv is missing or stale: CI must run the suite.
# Arguments go to pytest, e.g. `npm run test:compat -- -k grpc -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/compat-venv.sh --check
# no __pycache__ in the working tree
export PYTHONDONTWRITEBYTECODE=1
exec "${COMPAT_VENV:-.venv-compat}/bin/python" -m pytest -q test/compat "$@"
