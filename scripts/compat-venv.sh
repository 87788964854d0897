#!/usr/bin/env bash
# Creates or refreshes .venv-compat/, the Python environment of the Triton compatibility
# suite (test/compat): the pinned packages of test/compat/requirements.txt plus Triton's
# perf_analyzer program. Idempotent: when nothing pinned changed since the last run it
# checks a stamp file and exits at once.
#
#   bash scripts/compat-venv.sh           # create / refresh
#   bash scripts/compat-venv.sh --check   # exit 1 (saying what to run) unless up to date
#
# perf_analyzer: PyPI's perf-analyzer package is an empty placeholder, and tritonclient
# wheels after 2.60.0 no longer carry the binary. Those from 2.52.0 to 2.60.0 do, but are
# built against glibc 2.38 (Ubuntu 24.04) and do not start on Debian 12 (glibc 2.36); 2.51.0
# is the newest whose binary runs here. It links libb64.so.0d (Debian package libb64-0d,
# installed with apt-get when missing and running as root) and libcudart.so.12 (PyPI
# nvidia-cuda-runtime-cu12, pinned in requirements.txt). bin/perf_analyzer is a wrapper that
# sets LD_LIBRARY_PATH and runs the extracted binary, libexec/perf_analyzer.
#
# Environment: PYTHON (default python3) creates the venv; COMPAT_VENV (default
# <repo>/.venv-compat) is where it goes.
set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/.."
ROOT=$(pwd)

VENV=${COMPAT_VENV:-$ROOT/.venv-compat}
PYTHON=${PYTHON:-python3}
REQUIREMENTS=test/compat/requirements.txt
STAMP=$VENV/.compat-stamp
# the wheel the perf_analyzer binary is taken from, and its sha256 (pip checks it)
PERF_ANALYZER_WHEEL_VERSION=2.51.0
PERF_ANALYZER_WHEEL_SHA256=c485bb0123bdf310f90bc8b03d3489b28df2ffed55b30c7eee0b795b48113d52

say() { printf 'compat-venv: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

# What the stamp records: the requirements and this script (its pins) as they are now.
wanted_stamp() {
  cat "$REQUIREMENTS" "$SELF" | sha256sum | cut -d' ' -f1
}

have_libb64() {
  ldconfig -p 2>/dev/null | grep -q 'libb64\.so\.0d' || [ -e /usr/lib/x86_64-linux-gnu/libb64.so.0d ] || [ -e /usr/lib/aarch64-linux-gnu/libb64.so.0d ]
}

up_to_date() {
  [ -x "$VENV/bin/python" ] && [ -x "$VENV/bin/perf_analyzer" ] && [ -x "$VENV/libexec/perf_analyzer" ] &&
    [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(wanted_stamp)" ] && have_libb64
}

if [ "${1:-}" = "--check" ]; then
  if up_to_date; then exit 0; fi
  if [ ! -x "$VENV/bin/python" ]; then
    fail "$VENV is missing: run \`bash scripts/compat-venv.sh\` (creates the Python environment of test/compat)"
  fi
  fail "$VENV is not up to date with $REQUIREMENTS / scripts/compat-venv.sh (or libb64-0d is missing): run \`bash scripts/compat-venv.sh\`"
elif [ $# -gt 0 ]; then
  fail "unknown argument $1 (expected none or --check)"
fi

if up_to_date; then
  say "$VENV is up to date"
  exit 0
fi
started=$(date +%s)

# libb64.so.0d for perf_analyzer
if ! have_libb64; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing libb64-0d (perf_analyzer needs libb64.so.0d)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends libb64-0d
  else
    fail "perf_analyzer needs libb64.so.0d: install the Debian package libb64-0d (apt-get install libb64-0d) and run this again"
  fi
fi

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

# perf_analyzer out of the pinned tritonclient wheel (only the binary; the wheel is deleted),
# unless the binary of that version is there already
cudart_dir() {
  "$VENV/bin/python" -c 'import nvidia.cuda_runtime, os; print(os.path.join(list(nvidia.cuda_runtime.__path__)[0], "lib"))'
}
extract_perf_analyzer() {
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: tmp is local
  trap "rm -rf '$tmp'" EXIT
  printf 'tritonclient==%s --hash=sha256:%s\n' "$PERF_ANALYZER_WHEEL_VERSION" "$PERF_ANALYZER_WHEEL_SHA256" >"$tmp/perf-analyzer-wheel.txt"
  say "downloading the tritonclient $PERF_ANALYZER_WHEEL_VERSION wheel for its perf_analyzer binary"
  "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$tmp/perf-analyzer-wheel.txt" -d "$tmp"
  mkdir -p "$VENV/libexec"
  "$VENV/bin/python" - "$tmp" "$PERF_ANALYZER_WHEEL_VERSION" "$VENV/libexec/perf_analyzer" <<'EOF'
import glob, os, shutil, sys, zipfile
folder, version, dest = sys.argv[1:]
wheels = glob.glob(os.path.join(folder, f"tritonclient-{version}-*.whl"))
if len(wheels) != 1:
    sys.exit(f"compat-venv: expected one tritonclient {version} wheel in {folder}, found {wheels}")
member = f"tritonclient-{version}.data/data/bin/perf_analyzer"
with zipfile.ZipFile(wheels[0]) as z:
    if member not in z.namelist():
        sys.exit(f"compat-venv: {os.path.basename(wheels[0])} has no {member} (no perf_analyzer for this platform?)")
    with z.open(member) as src, open(dest + ".part", "wb") as out:
        shutil.copyfileobj(src, out)
os.chmod(dest + ".part", 0o755)
os.replace(dest + ".part", dest)
EOF
  rm -rf "$tmp"
  trap - EXIT
}
have_version=$([ -x "$VENV/libexec/perf_analyzer" ] && LD_LIBRARY_PATH="$(cudart_dir)" "$VENV/libexec/perf_analyzer" --version 2>&1 || true)
case "$have_version" in
  *"Version $PERF_ANALYZER_WHEEL_VERSION "*) say "perf_analyzer $PERF_ANALYZER_WHEEL_VERSION is there already" ;;
  *) extract_perf_analyzer ;;
esac

# the wrapper: LD_LIBRARY_PATH gets the venv's libcudart.so.12, found relative to the wrapper
cudart=$(cudart_dir)
[ -e "$cudart/libcudart.so.12" ] || fail "nvidia-cuda-runtime-cu12 did not install libcudart.so.12 under $cudart"
cudart_rel=${cudart#"$VENV"/}
cat >"$VENV/bin/perf_analyzer.part" <<EOF
#!/bin/sh
# Triton's perf_analyzer $PERF_ANALYZER_WHEEL_VERSION (from the tritonclient wheel), written by scripts/compat-venv.sh.
venv=\$(CDPATH= cd -- "\$(dirname -- "\$0")/.." && pwd)
LD_LIBRARY_PATH="\$venv/$cudart_rel\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$venv/libexec/perf_analyzer" "\$@"
EOF
chmod 755 "$VENV/bin/perf_analyzer.part"
mv "$VENV/bin/perf_analyzer.part" "$VENV/bin/perf_analyzer"

# perf_analyzer has no --help (it prints its usage and exits 99); --version exits 0
if ! version=$("$VENV/bin/perf_analyzer" --version 2>&1); then
  fail "perf_analyzer does not run: $version"
fi
case "$version" in
  *"$PERF_ANALYZER_WHEEL_VERSION"*) ;;
  *) fail "perf_analyzer --version said '$version', expected version $PERF_ANALYZER_WHEEL_VERSION" ;;
esac
"$VENV/bin/python" -c 'import tritonclient.http, tritonclient.grpc, tritonclient.http.aio, tritonclient.grpc.aio, pytest'

wanted_stamp >"$STAMP"
say "ready in $(($(date +%s) - started)) s: $("$VENV/bin/python" --version), tritonclient $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("tritonclient"))'), $version"
