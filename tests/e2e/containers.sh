#!/usr/bin/env bash
# End to end, containers: with `./berth up` running, the real docker CLI imports a busybox image and runs
# containers as a Docker user would; then Testcontainers drives the same platform; then the control plane and the
# node agent are killed with SIGKILL under load and the platform must agree with the processes on the node.
# Run by `./berth test` after platform.sh; needs root.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export BERTH_HOME BERTH_RUN
BERTH_HOME="$(mktemp -d /var/tmp/berth-e2e-ctr.XXXXXX)"
BERTH_RUN="$BERTH_HOME/run"
chmod 755 "$BERTH_HOME"
IMG=e2e-busybox:latest
WORK="$BERTH_HOME/work"
mkdir -p "$WORK"
PIDS=()
REGISTRY_PID=
FAILED=0

fail() {
  echo "e2e-containers: FAIL: $*" >&2
  FAILED=1
  exit 1
}
ok() { echo "e2e-containers: ok: $*"; }
finish() {
  local rc=$?
  [ "$FAILED" = 1 ] && { ./berth status >&2 || true; for l in "$BERTH_HOME"/logs/*.log; do echo "--- $l (tail)" >&2; tail -n 40 "$l" >&2; done; }
  docker rm -f $(docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  [ -n "$REGISTRY_PID" ] && { kill -TERM "$REGISTRY_PID" 2>/dev/null; wait "$REGISTRY_PID" 2>/dev/null; }
  ./berth down >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && { echo "e2e-containers: process $p still alive after down" >&2; kill -KILL "$p"; rc=1; }
  done
  rm -rf "$BERTH_HOME"
  exit $rc
}
trap finish EXIT

# Polls a command until it succeeds (at most $1 seconds).
eventually() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && return 1
    sleep 0.2
  done
}

out="$(./berth up)" || fail "berth up"
eval "$out"
for f in "$BERTH_RUN"/*.pid; do PIDS+=("$(cat "$f")"); done

# --- A busybox image, made locally (no registry is reachable).
rootfs="$WORK/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/www" "$rootfs/root"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
echo '<h1>served by berth</h1>' >"$rootfs/www/index.html"
tar -C "$rootfs" -cf "$WORK/rootfs.tar" .
docker import --change 'CMD ["sh"]' "$WORK/rootfs.tar" "$IMG" >/dev/null || fail "docker import"
docker images --format '{{.Repository}}:{{.Tag}}' | grep -qx "$IMG" || fail "imported image not listed"
ok "imported $IMG"
since="$(date +%s)"

# --- run --rm prints hello, and leaves no container.
before="$(docker ps -aq | wc -l)"
[ "$(docker run --rm "$IMG" echo hello)" = hello ] || fail "run --rm echo hello"
count_is() { [ "$(docker ps -aq | wc -l)" = "$1" ]; }
eventually 10 count_is "$before" || fail "--rm left a container"
ok "run --rm echo hello"

# --- Exit codes as Docker gives them.
docker run --rm "$IMG" sh -c 'exit 3'; rc=$?
[ $rc = 3 ] || fail "exit 3 gave $rc"
docker run --rm "$IMG" /etc/passwd 2>"$WORK/err"; rc=$?
[ $rc = 126 ] || { cat "$WORK/err"; fail "a non-executable command gave $rc, not 126"; }
docker run --rm "$IMG" no-such-command 2>"$WORK/err"; rc=$?
[ $rc = 127 ] || { cat "$WORK/err"; fail "a missing command gave $rc, not 127"; }
grep -q "executable file not found" "$WORK/err" || fail "127 without Docker's wording: $(cat "$WORK/err")"
docker run -d --name k9 "$IMG" sleep 300 >/dev/null || fail "run k9"
docker kill k9 >/dev/null || fail "kill k9"
[ "$(docker wait k9)" = 137 ] || fail "SIGKILL gave $(docker inspect -f '{{.State.ExitCode}}' k9), not 137"
docker rm k9 >/dev/null
ok "exit codes 3, 126, 127, 137"

# --- A published port serving a page.
docker run -d --name web -p 8080:80 "$IMG" httpd -f -p 80 -h /www >/dev/null || fail "run -d -p 8080:80"
eventually 10 curl -fsS http://127.0.0.1:8080/ || fail "page on 8080 not reachable"
curl -fsS http://127.0.0.1:8080/ | grep -q "served by berth" || fail "wrong page on 8080"
ok "run -d -p 8080:80 serves a page"

# --- ps and ps -a with Docker's columns.
docker ps >"$WORK/ps"
head -1 "$WORK/ps" | grep -Eq '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$' || fail "ps header: $(head -1 "$WORK/ps")"
grep -E ' web$' "$WORK/ps" | grep -q 'Up ' || fail "ps does not show web Up: $(cat "$WORK/ps")"
grep -E ' web$' "$WORK/ps" | grep -q '0.0.0.0:8080->80/tcp' || fail "ps does not show the port: $(cat "$WORK/ps")"
docker run --name done1 "$IMG" true || fail "run true"
docker ps --format '{{.Names}}' | grep -qx done1 && fail "ps shows an exited container"
docker ps -a --format '{{.Names}} {{.Status}}' | grep -Eq '^done1 Exited \(0\) ' || fail "ps -a: $(docker ps -a)"
ok "ps / ps -a"

# --- logs keep stdout and stderr apart.
docker run --name lg "$IMG" sh -c 'echo to-out; echo to-err >&2' >/dev/null 2>&1
[ "$(docker logs lg 2>/dev/null)" = to-out ] || fail "logs stdout"
[ "$(docker logs lg 2>&1 >/dev/null)" = to-err ] || fail "logs stderr"
ok "logs stdout/stderr apart"

# --- exec with -i, -u and its exit code.
[ "$(echo piped-in | docker exec -i web cat)" = piped-in ] || fail "exec -i"
[ "$(docker exec -u nobody web id -u)" = 65534 ] || fail "exec -u nobody"
docker exec web sh -c 'exit 5'; rc=$?
[ $rc = 5 ] || fail "exec exit code $rc, not 5"
ok "exec -i, -u, exit code"

# --- inspect.
[ "$(docker inspect -f '{{.State.Running}} {{.Name}} {{.Config.Image}}' web)" = "true /web $IMG" ] || fail "inspect: $(docker inspect -f '{{.State.Running}} {{.Name}} {{.Config.Image}}' web)"
[ "$(docker inspect -f '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}' web)" = 8080 ] || fail "inspect ports"
ok "inspect"

# --- stop, start, restart, kill, rm -f.
docker stop -t 1 web >/dev/null || fail "stop"
[ "$(docker inspect -f '{{.State.Status}}' web)" = exited ] || fail "state after stop"
docker start web >/dev/null || fail "start"
[ "$(docker inspect -f '{{.State.Status}}' web)" = running ] || fail "state after start"
eventually 10 curl -fsS http://127.0.0.1:8080/ || fail "page after start"
pid1="$(docker inspect -f '{{.State.Pid}}' web)"
docker restart -t 1 web >/dev/null || fail "restart"
pid2="$(docker inspect -f '{{.State.Pid}}' web)"
[ "$pid1" != "$pid2" ] && [ "$(docker inspect -f '{{.State.Running}}' web)" = true ] || fail "restart: pid $pid1 -> $pid2"
docker kill web >/dev/null || fail "kill"
[ "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' web)" = "exited 137" ] || fail "state after kill: $(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' web)"
docker kill web >/dev/null 2>&1 && fail "kill of a stopped container succeeded"
docker start web >/dev/null || fail "start after kill"
docker rm web >/dev/null 2>&1 && fail "rm of a running container succeeded"
docker rm -f web >/dev/null || fail "rm -f"
docker ps -a --format '{{.Names}}' | grep -qx web && fail "web still listed after rm -f"
kill -0 "$pid2" 2>/dev/null && fail "process of web still alive after rm -f"
ok "stop, start, restart, kill, rm -f"

# --- wait.
docker run -d --name wt "$IMG" sh -c 'sleep 1; exit 4' >/dev/null || fail "run w"
[ "$(docker wait wt)" = 4 ] || fail "wait"
ok "wait"

# --- top, stats.
docker run -d --name tp "$IMG" sleep 300 >/dev/null || fail "run tp"
docker top tp | grep -q 'sleep 300' || fail "top: $(docker top tp)"
docker stats --no-stream tp >"$WORK/stats" || fail "stats --no-stream"
head -1 "$WORK/stats" | grep -q 'CONTAINER ID' && grep -q ' tp ' "$WORK/stats" || fail "stats: $(cat "$WORK/stats")"
ok "top, stats --no-stream"

# --- cp both ways.
head -c 100000 /dev/urandom >"$WORK/blob"
docker cp "$WORK/blob" tp:/tmp/blob || fail "cp in"
docker cp tp:/tmp/blob "$WORK/blob.back" || fail "cp out"
cmp -s "$WORK/blob" "$WORK/blob.back" || fail "cp round trip changed the file"
docker rm -f tp >/dev/null
ok "cp both ways"

# --- diff: what a container changed in its filesystem.
docker run --name df "$IMG" sh -c 'echo x > /tmp/new; rm /www/index.html' || fail "run df"
docker diff df >"$WORK/diff" || fail "docker diff"
for line in "A /tmp/new" "C /tmp" "D /www/index.html"; do grep -qx "$line" "$WORK/diff" || fail "diff lacks '$line': $(tr '\n' ';' <"$WORK/diff")"; done
docker export df -o "$WORK/exported.tar" || fail "docker export"
tar -tf "$WORK/exported.tar" >"$WORK/exported" || fail "export is not a tar"
grep -qx "bin/busybox" "$WORK/exported" && grep -qx "tmp/new" "$WORK/exported" || fail "export lacks files: $(head -5 "$WORK/exported")"
grep -qx "www/index.html" "$WORK/exported" && fail "export holds a file the container deleted"
[ "$(tar -xOf "$WORK/exported.tar" tmp/new)" = x ] || fail "exported content"
docker rm df >/dev/null
ok "diff and export"

# --- Flags reach the runtime: env, workdir, user, hostname, labels, limits, binds, networks.
mkdir -p "$WORK/bind" && echo bound >"$WORK/bind/f"
out="$(docker run --rm -e A=one -w /tmp -u nobody --hostname hh -v "$WORK/bind:/data:ro" "$IMG" sh -c 'echo $A $(pwd) $(id -u) $(hostname) $(cat /data/f)')"
[ "$out" = "one /tmp 65534 hh bound" ] || fail "flags: $out"
docker run --rm -v "$WORK/made-by-run:/m" "$IMG" true || fail "-v with a missing host directory"
[ -d "$WORK/made-by-run" ] || fail "-v did not make the missing host directory, as Docker does"
docker run -d --name lim --label team=e2e --memory 64m --restart unless-stopped "$IMG" sleep 300 >/dev/null || fail "run with limits"
[ "$(docker inspect -f '{{.HostConfig.Memory}} {{index .Config.Labels "team"}} {{.HostConfig.RestartPolicy.Name}}' lim)" = "67108864 e2e unless-stopped" ] || fail "inspect limits"
docker ps --filter label=team=e2e --format '{{.Names}}' | grep -qx lim || fail "label filter"
docker rm -f lim >/dev/null
[ "$(docker run --rm --network none "$IMG" sh -c 'tail -n +3 /proc/net/dev | wc -l')" = 1 ] || fail "--network none has more than lo"
host_ifs="$(tail -n +3 /proc/net/dev | wc -l)"
[ "$(docker run --rm --network host "$IMG" sh -c 'tail -n +3 /proc/net/dev | wc -l')" = "$host_ifs" ] || fail "--network host does not see the host's interfaces"
ok "env, workdir, user, hostname, bind, labels, memory, restart policy, --network none|host"

# --- on-failure:2 ends with RestartCount 2.
docker run -d --name of --restart on-failure:2 "$IMG" sh -c 'exit 1' >/dev/null || fail "run on-failure"
state_is() { [ "$(docker inspect -f '{{.State.Status}} {{.RestartCount}}' "$1")" = "$2" ]; }
eventually 30 state_is of "exited 2" \
  || fail "on-failure:2: $(docker inspect -f '{{.State.Status}} {{.RestartCount}}' of)"
ok "on-failure:2 -> RestartCount 2"

# --- events: create, start, die, destroy of one container, replayed from history.
docker run --rm --name ev "$IMG" true || fail "run ev"
until_ts=$(($(date +%s) + 1))
sleep 1
docker events --since "$since" --until "$until_ts" --filter container=ev --format '{{.Action}}' >"$WORK/events" || fail "docker events"
for a in create start die destroy; do grep -qx "$a" "$WORK/events" || fail "events lack $a: $(tr '\n' ' ' <"$WORK/events")"; done
ok "events: $(tr '\n' ' ' <"$WORK/events")"

# --- An image pushed into Berth's registry by skopeo runs; its tag can be rolled back.
docker save "$IMG" -o "$WORK/saved.tar" || fail "docker save"
skopeo copy --quiet --dest-tls-verify=false "docker-archive:$WORK/saved.tar" "docker://127.0.0.1:${BERTH_API_PORT:-2375}/pushed/bb:1" \
  || fail "skopeo copy into Berth's /v2/"
[ "$(docker run --rm pushed/bb:1 echo pushed)" = pushed ] || fail "run of the pushed image"
first="$(docker inspect -f '{{.Id}}' pushed/bb:1)"
docker import --change 'CMD ["echo","second"]' "$WORK/rootfs.tar" pushed/bb:1 >/dev/null || fail "import over the tag"
second="$(docker inspect -f '{{.Id}}' pushed/bb:1)"
[ "$first" != "$second" ] || fail "the tag did not move"
api="http://127.0.0.1:${BERTH_API_PORT:-2375}"
curl -fsS -X POST "$api/_berth/tags/pushed/bb:1/rollback?to=$first" >/dev/null || fail "tag rollback"
[ "$(docker inspect -f '{{.Id}}' pushed/bb:1)" = "$first" ] || fail "rollback did not restore $first"
curl -fsS "$api/_berth/tags/pushed/bb:1/history" >"$WORK/history" || fail "tag history"
grep -q "$first" "$WORK/history" && grep -q "$second" "$WORK/history" || fail "history: $(cat "$WORK/history")"
ok "skopeo push into Berth, run, tag moved and rolled back"

# --- docker build (legacy builder): WORKDIR, COPY, RUN in a container on the node, CMD; cache; a failing RUN.
mkdir -p "$WORK/ctx"
printf 'FROM %s\nWORKDIR /app\nCOPY . .\nRUN echo built-by-run > /app/out && rm /app/gone.txt\nCMD ["cat", "/app/out"]\n' "$IMG" >"$WORK/ctx/Dockerfile"
echo hi >"$WORK/ctx/hi.txt"; echo bye >"$WORK/ctx/gone.txt"
DOCKER_BUILDKIT=0 docker build -t e2e-built:1 "$WORK/ctx" >"$WORK/build1" 2>&1 || { cat "$WORK/build1"; fail "docker build"; }
[ "$(docker run --rm e2e-built:1)" = built-by-run ] || fail "run of the built image"
[ "$(docker run --rm e2e-built:1 sh -c 'cat /app/hi.txt; ls /app/gone.txt 2>/dev/null | wc -l')" = "hi
0" ] || fail "built image content"
DOCKER_BUILDKIT=0 docker build -t e2e-built:1 "$WORK/ctx" >"$WORK/build2" 2>&1 || fail "warm rebuild"
[ "$(grep -c 'Using cache' "$WORK/build2")" = 4 ] || { cat "$WORK/build2"; fail "warm rebuild did not use the cache for every step"; }
printf 'FROM %s\nRUN exit 3\n' "$IMG" >"$WORK/ctx/Dockerfile"
DOCKER_BUILDKIT=0 docker build -t e2e-fails:1 "$WORK/ctx" >"$WORK/build3" 2>&1; rc=$?
[ $rc != 0 ] && grep -q "returned a non-zero code: 3" "$WORK/build3" || { cat "$WORK/build3"; fail "failing RUN: rc $rc"; }
docker image inspect e2e-fails:1 >/dev/null 2>&1 && fail "a failed build tagged its image"
ok "docker build: RUN on the node, cache on every step, failing RUN reported and nothing tagged"

# --- docker push to a real registry (Debian's docker-registry on loopback) and back: `run` pulls a missing image.
reg_port=55050
mkdir -p "$WORK/registry"
printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$WORK/registry/data" "$reg_port" >"$WORK/registry/config.yml"
docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/log" 2>&1 &
REGISTRY_PID=$!
eventually 30 curl -fsS "http://127.0.0.1:$reg_port/v2/" || { cat "$WORK/registry/log"; fail "docker-registry did not start"; }
reg="127.0.0.1:$reg_port"
built_id="$(docker inspect -f '{{.Id}}' e2e-built:1)"
docker tag e2e-built:1 "$reg/e2e/built:1" || fail "tag for the registry"
docker push "$reg/e2e/built:1" >"$WORK/push" 2>&1 || { cat "$WORK/push"; fail "docker push to $reg"; }
pushed_digest="$(sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' "$WORK/push")"
[ -n "$pushed_digest" ] || { cat "$WORK/push"; fail "push printed no digest"; }
[ "$(docker inspect -f '{{index .RepoDigests 0}}' "$reg/e2e/built:1")" = "$reg/e2e/built@$pushed_digest" ] \
  || fail "RepoDigests after push: $(docker inspect -f '{{.RepoDigests}}' "$reg/e2e/built:1")"
docker rmi "$reg/e2e/built:1" e2e-built:1 >/dev/null || fail "rmi of the pushed image"
docker image inspect "$built_id" >/dev/null 2>&1 && fail "the image outlived rmi of all its tags"
[ "$(docker run --rm "$reg/e2e/built:1" 2>"$WORK/pull-err")" = built-by-run ] || { cat "$WORK/pull-err"; fail "run of a missing image did not pull it"; }
grep -q "Unable to find image" "$WORK/pull-err" || fail "run did not say it pulls: $(cat "$WORK/pull-err")"
[ "$(docker inspect -f '{{.Id}}' "$reg/e2e/built:1")" = "$built_id" ] || fail "pulled image id differs from the pushed one"
# (into a file first: grep -q leaving early would break docker's pipe, and pipefail would count that)
docker pull "$reg/e2e/built:1" >"$WORK/pull2" 2>&1 || { cat "$WORK/pull2"; fail "second pull"; }
grep -q "Image is up to date" "$WORK/pull2" || { cat "$WORK/pull2"; fail "second pull not up to date"; }
docker pull "$reg/e2e/absent:1" >/dev/null 2>"$WORK/err" && fail "pull of an absent image succeeded"
grep -q "not found\|manifest unknown" "$WORK/err" || fail "pull of an absent image: $(cat "$WORK/err")"
kill -TERM "$REGISTRY_PID"; wait "$REGISTRY_PID" 2>/dev/null; REGISTRY_PID=
ok "docker push to a registry on loopback, rmi, run pulls it back with the same id"

# --- Bad input: Docker's exit codes and messages, nothing half-created.
count="$(docker ps -aq | wc -l)"
docker run --rm no-such-image:1 true 2>"$WORK/err"; rc=$?
[ $rc = 125 ] || fail "unknown image gave $rc"
docker run --name of "$IMG" true 2>"$WORK/err"; rc=$?
[ $rc = 125 ] && grep -q 'is already in use' "$WORK/err" || fail "name conflict: $rc $(cat "$WORK/err")"
docker run --rm --memory 1k "$IMG" true 2>"$WORK/err"; rc=$?
[ $rc = 125 ] || fail "bad memory value gave $rc: $(cat "$WORK/err")"
docker start no-such-container 2>"$WORK/err"; rc=$?
[ $rc != 0 ] && grep -q 'No such container' "$WORK/err" || fail "start of an unknown container: $(cat "$WORK/err")"
docker rmi "$(docker inspect -f '{{.Id}}' "$IMG")" 2>"$WORK/err" && fail "rmi of an image in use succeeded"
[ "$(docker ps -aq | wc -l)" = "$count" ] || fail "failed commands left containers: $(docker ps -a)"
ok "bad input"
docker rm -f $(docker ps -aq) >/dev/null

echo "e2e-containers: PASS (CLI)"

# --- Testcontainers against the same platform (tests/testcontainers, a project of its own).
if [ "${BERTH_SKIP_TESTCONTAINERS:-}" != 1 ]; then
  (cd tests/testcontainers && BERTH_TC_IMAGE="$IMG" TESTCONTAINERS_RYUK_DISABLED=true mvn -B -q test) >"$WORK/tc.log" 2>&1 \
    || { tail -n 80 "$WORK/tc.log"; fail "Testcontainers test"; }
  eventually 10 count_is 0 || fail "Testcontainers left containers: $(docker ps -a)"
  ok "Testcontainers: GenericContainer, log wait, execInContainer, copy in/out, stop"
fi

# --- Resilience: SIGKILL container-service, the gateway and the node agent during a stream of create/start/stop.
pid_of() { cat "$BERTH_RUN/$1.pid"; }
restart() { # kills a component with SIGKILL, lets `berth up` start it again
  local p; p="$(pid_of "$1")"
  kill -KILL "$p"
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  ./berth up >/dev/null 2>&1 || fail "berth up after killing $1"
  echo "e2e-containers: $1 killed (pid $p) and restarted (pid $(pid_of "$1"))"
}
docker run -d --name steady "$IMG" sleep 600 >/dev/null || fail "run steady"
steady_pid="$(docker inspect -f '{{.State.Pid}}' steady)"
acked="$WORK/acked"
: >"$acked"
(
  for i in $(seq 1 36); do
    docker run -d --name "rs$i" "$IMG" sleep 600 >/dev/null 2>&1 && echo "run rs$i" >>"$acked"
    if [ $((i % 3)) = 0 ]; then
      echo "stopping rs$((i - 1))" >>"$acked"
      docker stop -t 1 "rs$((i - 1))" >/dev/null 2>&1 && echo "stop rs$((i - 1))" >>"$acked"
    fi
  done
) &
load=$!
sleep 4; restart container-service
sleep 3; restart api-gateway
sleep 3; restart node-agent
wait "$load"
PIDS=(); for f in "$BERTH_RUN"/*.pid; do PIDS+=("$(cat "$f")"); done
echo "e2e-containers: $(grep -c '^run' "$acked") runs and $(grep -c '^stop' "$acked") stops acknowledged during the kills"

# Every acknowledged call holds: an acknowledged run is running unless a stop of it was tried (a stop cut off by
# a kill may still have happened), an acknowledged stop is not running.
consistent() {
  local verb name want
  while read -r verb name; do
    case "$verb" in
      run) grep -qx "stopping $name" "$acked" && continue; want=true ;;
      stop) want=false ;;
      *) continue ;;
    esac
    [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = "$want" ] || { echo "$name: expected running=$want"; return 1; }
  done <"$acked"
  # The platform's view equals the node's processes, both ways.
  local id running pid
  while read -r id running pid; do
    if [ "$running" = true ]; then
      kill -0 "$pid" 2>/dev/null && grep -q "$id" "/proc/$pid/cgroup" || { echo "$id listed running, pid $pid is not its process"; return 1; }
    else
      for d in /sys/fs/cgroup/pids/berth/"$id" /sys/fs/cgroup/berth/"$id"; do
        [ -s "$d/cgroup.procs" ] && { echo "$id listed not running but has processes"; return 1; }
      done
    fi
  done < <(docker inspect -f '{{.Id}} {{.State.Running}} {{.State.Pid}}' $(docker ps -aq))
  for d in /sys/fs/cgroup/pids/berth/*/ /sys/fs/cgroup/berth/*/; do
    [ -d "$d" ] && [ -s "$d/cgroup.procs" ] || continue
    id="$(basename "$d")"
    [ "$(docker inspect -f '{{.State.Running}}' "$id" 2>/dev/null)" = true ] || { echo "node runs $id, platform does not say running"; return 1; }
  done
}
end=$((SECONDS + 60))
until msg="$(consistent)"; do
  [ $SECONDS -ge $end ] && fail "after the kills: $msg"
  sleep 1
done
[ "$(docker inspect -f '{{.State.Running}} {{.State.Pid}}' steady)" = "true $steady_pid" ] || fail "steady container did not keep running"
kill -0 "$steady_pid" || fail "steady container's process is gone"
ok "resilience: acknowledged calls hold, docker ps -a equals the node's processes, running containers kept running"
docker rm -f $(docker ps -aq) >/dev/null

echo "e2e-containers: PASS"
