#!/usr/bin/env bash
# Lays out the gateway image's /app in DEST: production node_modules (Linux x64 native binaries
# only), dist/, bin/, schema/, the example repository with everything examples/switchyard.yaml
# reads (models, features) plus the folder it writes request logs to (examples/logs), and the
# KServe runtime's config (config/kserve.yaml).
# The Dockerfile RUNs this, and test/deploy/image-layout.test.ts runs it into a temp folder and
# serves from it read-only, so the two cannot drift apart.
#
#   scripts/image-build.sh DEST
#
# Needs dist/ (npm run build) in the source tree. Environment:
#   ONNXRUNTIME_NODE_INSTALL  skip (default: CPU execution provider only) or cuda12 (onnxruntime-node's
#                             install script downloads the CUDA/TensorRT providers; needs its network)
#   NPM_CI_FLAGS              extra flags for npm ci (the test passes --prefer-offline)
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: scripts/image-build.sh DEST" >&2
  exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
dest=$(cd "$1" && pwd)
if [ "$dest" = "$src" ]; then
  echo "image-build: DEST must not be the source tree" >&2
  exit 2
fi
if [ ! -f "$src/dist/cli.js" ]; then
  echo "image-build: $src/dist is missing; run npm run build first" >&2
  exit 1
fi
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"

# production dependencies from the lock file. Install scripts are off for npm ci and then run
# for onnxruntime-node alone: its script is the one that matters (it picks the execution
# providers by ONNXRUNTIME_NODE_INSTALL); the others only build optional accelerators that
# ship prebuilt or fall back to JS.
cp "$src/package.json" "$src/package-lock.json" "$src/.npmrc" "$dest/"
# shellcheck disable=SC2086 # NPM_CI_FLAGS is a list of flags
(cd "$dest" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error ${NPM_CI_FLAGS:-} \
  && npm rebuild onnxruntime-node --no-audit --no-fund --loglevel=error)

# Native binaries of other platforms: onnxruntime-node ships macOS, Windows and Linux arm64
# builds, uWebSockets.js every platform × Node ABI (and an unused copy of the Linux ones in
# dist/). Only Linux x64 runs in the image; the other ABIs of it stay so that a BASE_IMAGE with
# another Node still finds its own.
nm="$dest/node_modules"
ort_bin="$nm/onnxruntime-node/bin"
if [ ! -d "$ort_bin" ]; then
  echo "image-build: $ort_bin is missing" >&2
  exit 1
fi
for napi in "$ort_bin"/napi-v*; do
  for platform_dir in "$napi"/*; do
    if [ "$(basename "$platform_dir")" != linux ]; then rm -rf "$platform_dir"; fi
  done
  for arch_dir in "$napi"/linux/*; do
    if [ "$(basename "$arch_dir")" != x64 ]; then rm -rf "$arch_dir"; fi
  done
done
uws="$nm/uWebSockets.js"
find "$uws/binaries" -name 'uws_*.node' ! -name 'uws_linux_x64_*.node' -delete
find "$uws/dist" -name '*.node' -delete
# the upstream build (uws-upstream, 20.57) the gateway loads on Node 22-25 with glibc >= 2.38
upstream="$nm/uws-upstream"
find "$upstream" -maxdepth 1 -name 'uws_*.node' ! -name 'uws_linux_x64_*.node' -delete
if ! ls "$uws"/binaries/uws_linux_x64_*.node "$upstream"/uws_linux_x64_*.node >/dev/null 2>&1 || ! ls "$ort_bin"/napi-v*/linux/x64/onnxruntime_binding.node >/dev/null 2>&1; then
  echo "image-build: a Linux x64 native binary is missing after stripping" >&2
  exit 1
fi
rm -f "$dest/.npmrc"

# the program and what the default command (serve --config examples/switchyard.yaml) reads
rm -rf "$dest/dist" "$dest/bin" "$dest/schema" "$dest/examples" "$dest/config"
cp -R "$src/dist" "$src/bin" "$src/schema" "$dest/"
mkdir -p "$dest/examples"
cp -R "$src/examples/models" "$src/examples/features" "$dest/examples/"
cp "$src/examples/switchyard.yaml" "$dest/examples/"
# the config the KServe runtime starts with (deploy/k8s/kserve/servingruntime.yaml)
mkdir -p "$dest/config"
cp "$src/deploy/k8s/kserve/switchyard-kserve.yaml" "$dest/config/kserve.yaml"
# request_log's file sink writes logs/requests.jsonl beside the config; the Dockerfile gives
# this folder to the node user and declares it a volume
mkdir -p "$dest/examples/logs"
# state_dir of examples/switchyard.yaml (routes and statistics without Redis): the node user's too
mkdir -p "$dest/examples/state"
