#!/usr/bin/env bash
# End to end: `./berth up` brings the whole platform up from the built jars, the real docker CLI talks to it, bad
# input gets Docker's answers, and `./berth down` leaves no process behind. Run by `./berth test` after the Maven
# suite; needs root (PostgreSQL runs as its own user, the node agent manages the kernel's resources).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export BERTH_HOME BERTH_RUN
BERTH_HOME="$(mktemp -d /var/tmp/berth-e2e.XXXXXX)"
BERTH_RUN="$BERTH_HOME/run"
chmod 755 "$BERTH_HOME"
PIDS=()

fail() { echo "e2e: FAIL: $*" >&2; ./berth status >&2 || true; exit 1; }
finish() {
  local rc=$?
  ./berth down >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && { echo "e2e: process $p still alive after down" >&2; kill -KILL "$p"; rc=1; }; done
  rm -rf "$BERTH_HOME"
  exit $rc
}
trap finish EXIT

out="$(./berth up)" || fail "berth up"
eval "$out"
[ "$DOCKER_HOST" = "tcp://127.0.0.1:${BERTH_API_PORT:-2375}" ] || fail "unexpected DOCKER_HOST $DOCKER_HOST"
for f in "$BERTH_RUN"/*.pid; do PIDS+=("$(cat "$f")"); done
echo "e2e: up, ${#PIDS[@]} components"

# Running `up` twice is harmless: same PIDs afterwards.
before="$(cat "$BERTH_RUN"/*.pid | sort | tr '\n' ' ')"
./berth up >/dev/null || fail "second berth up"
after="$(cat "$BERTH_RUN"/*.pid | sort | tr '\n' ' ')"
[ "$before" = "$after" ] || fail "second up changed the processes: $before -> $after"

# The real docker CLI against Berth.
docker version >"$BERTH_HOME/version.txt" 2>&1 || { cat "$BERTH_HOME/version.txt"; fail "docker version"; }
grep -q "Server:" "$BERTH_HOME/version.txt" || fail "docker version shows no server"
grep -q "berth" "$BERTH_HOME/version.txt" || fail "docker version does not show Berth's server"
ncpu="$(docker info --format '{{.NCPU}}')"
[ "$ncpu" = "$(nproc)" ] || fail "docker info NCPU $ncpu, host has $(nproc)"
mem="$(docker info --format '{{.MemTotal}}')"
host_mem=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) * 1024))
[ "$mem" = "$host_mem" ] || fail "docker info MemTotal $mem, host has $host_mem"
[ "$(docker info --format '{{.Driver}}')" = overlay2 ] || fail "storage driver"
[ "$(docker info --format '{{.KernelVersion}}')" = "$(uname -r)" ] || fail "kernel version"
echo "e2e: docker version/info show the real host ($ncpu CPUs, $mem bytes)"

# Every service is ready.
for port in 7100 7101 7102 7103 7104 7081; do
  curl -fsS "http://127.0.0.1:$port/q/health/ready" | grep -q '"UP"' || fail "health on $port"
done

# A write through the whole platform.
docker volume create e2e-vol >/dev/null || fail "volume create"
docker volume ls --format '{{.Name}}' | grep -qx e2e-vol || fail "volume not listed"
docker network create e2e-net >/dev/null || fail "network create"
docker network ls --format '{{.Name}}' | grep -qx e2e-net || fail "network not listed"
docker network rm e2e-net >/dev/null || fail "network rm"
docker volume rm e2e-vol >/dev/null || fail "volume rm"

# Bad input: Docker's status codes, a message naming what was wrong.
api="http://127.0.0.1:${BERTH_API_PORT:-2375}"
code() { curl -s -o "$BERTH_HOME/body" -w '%{http_code}' "$@"; }
[ "$(code "$api/v1.41/nonsense")" = 404 ] || fail "unknown route"
[ "$(code "$api/v1.52/version")" = 400 ] && grep -q "too new" "$BERTH_HOME/body" || fail "too-new API version"
[ "$(code "$api/v1.12/version")" = 400 ] && grep -q "too old" "$BERTH_HOME/body" || fail "too-old API version"
[ "$(code -X POST -H 'Content-Type: application/json' -d '{"Name": ' "$api/v1.41/volumes/create")" = 400 ] || fail "malformed JSON"
docker volume inspect no-such-volume >/dev/null 2>&1 && fail "inspect of a missing volume succeeded"
echo "e2e: bad input answered as Docker does"

sleep 5
./berth status | tee "$BERTH_HOME/status.txt"
total="$(awk '$1 == "TOTAL" {print $5}' "$BERTH_HOME/status.txt")"
echo "e2e: idle resident memory of the whole platform: ${total} MB"

./berth down >/dev/null
for p in "${PIDS[@]}"; do
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && fail "process $p still alive after down"
done
echo "e2e: down left no process behind"
echo "e2e: PASS"
