#!/usr/bin/env bash
# Builds kustomize into .tools/bin (ignored by git) from the Go module proxy, for machines
# without kubectl: test/deploy/k8s-manifests.test.ts renders deploy/k8s/ with one of them.
# The Go module and build caches stay in .tools/go too. About a minute on a new machine;
# nothing when .tools/bin/kustomize is there.
set -euo pipefail
cd "$(dirname "$0")/.."
KUSTOMIZE_VERSION=v5.5.0 # the kustomize kubectl 1.32 embeds
tools="$PWD/.tools"
if [ -x "$tools/bin/kustomize" ]; then exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "kustomize-install: needs Go (kustomize $KUSTOMIZE_VERSION builds with Go >= 1.22), or install kubectl" >&2
  exit 1
fi
mkdir -p "$tools/bin"
GOPATH="$tools/go" GOMODCACHE="$tools/go/mod" GOCACHE="$tools/go/cache" GOBIN="$tools/bin" GOFLAGS=-modcacherw \
  go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
"$tools/bin/kustomize" version >/dev/null
