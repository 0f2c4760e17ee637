# Shared by the benchmarks that run one workload against Berth and against Debian's dockerd side by side.
# The caller sets BENCH (a name for logs and the work directory) and defines `workload <engine>` (run with
# DOCKER_HOST set, writing "figure value" lines to $work/result.<engine>) and optionally `remove_all` (cleanup of
# what its workload made, run against dockerd before it stops); then calls run_engines and print_table.
# dockerd gets its own data root, exec root, socket and pidfile under /var/tmp, `--iptables=false`,
# `--ip-forward=false` and its own bridge block, and is stopped by its PID with everything it made removed.
ENGINES=${ENGINES:-"berth dockerd"}
BERTH_HOST=${BERTH_DOCKER_HOST:-${DOCKER_HOST:-tcp://127.0.0.1:2375}}
IMG=berth-bench-busybox:latest
work=$(mktemp -d "/var/tmp/berth-bench-$BENCH.XXXXXX")
chmod 755 "$work"
dockerd_pid=
bridge_existed=$(ip link show docker0 >/dev/null 2>&1 && echo yes || echo no)

log() { echo "bench-$BENCH: $*" >&2; }

stop_dockerd() {
    [ -n "$dockerd_pid" ] || return 0
    local containerd_pid=
    [ -f "$work/dockerd/exec/containerd/containerd.pid" ] && containerd_pid=$(cat "$work/dockerd/exec/containerd/containerd.pid")
    if kill -0 "$dockerd_pid" 2>/dev/null; then
        kill -TERM "$dockerd_pid"
        for _ in $(seq 1 150); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$dockerd_pid" 2>/dev/null && { log "dockerd $dockerd_pid ignored SIGTERM: SIGKILL"; kill -KILL "$dockerd_pid"; }
    fi
    wait "$dockerd_pid" 2>/dev/null || true
    # dockerd stops the containerd it started; make sure, by the PID it recorded
    if [ -n "$containerd_pid" ] && kill -0 "$containerd_pid" 2>/dev/null; then
        kill -TERM "$containerd_pid"; sleep 1
        kill -0 "$containerd_pid" 2>/dev/null && kill -KILL "$containerd_pid"
    fi
    dockerd_pid=
}

cleanup() {
    local rc=$?
    if [ -n "$dockerd_pid" ]; then
        declare -F remove_all >/dev/null && { DOCKER_HOST="unix://$work/dockerd/docker.sock" remove_all || true; }
        stop_dockerd
    fi
    # mounts dockerd may have left under its roots (overlay, netns, shm), deepest first
    awk -v w="$work" '$5 ~ "^" w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" || true; done
    [ "$bridge_existed" = no ] && ip link show docker0 >/dev/null 2>&1 && ip link del docker0
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT

# The image: static busybox and its applets, as tests/e2e builds it.
rootfs="$work/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
tar -C "$rootfs" -cf "$work/rootfs.tar" .

ms() { echo $(( ($2 - $1) / 1000000 )); }
now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
p90() { sort -n | awk '{a[NR]=$1} END {i=int(NR*0.9); if (i<NR*0.9) i++; if (i<1) i=1; print a[i]}'; }

run_engines() {
    for engine in $ENGINES; do
        case $engine in
        berth)
            if ! DOCKER_HOST="$BERTH_HOST" docker version >/dev/null 2>&1; then
                log "Berth does not answer at $BERTH_HOST (start it with ./berth up): skipped"
                continue
            fi
            log "berth at $BERTH_HOST"
            DOCKER_HOST="$BERTH_HOST" workload berth
            ;;
        dockerd)
            if ! command -v dockerd >/dev/null; then
                log "installing docker.io (comparison only)"
                DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io >/dev/null
            fi
            mkdir -p "$work/dockerd/data" "$work/dockerd/exec"
            # --bip: a block of its own, so its bridge never collides with Berth's 172.17.0.0/16 on berth0;
            # --ip-forward=false: leave the host's sysctl as it is (the workload needs no forwarding).
            dockerd --data-root "$work/dockerd/data" --exec-root "$work/dockerd/exec" \
                --pidfile "$work/dockerd/docker.pid" -H "unix://$work/dockerd/docker.sock" \
                --iptables=false --ip-forward=false --bip 10.231.0.1/24 --log-level warn \
                >"$work/dockerd.log" 2>&1 &
            dockerd_pid=$!
            export_host="unix://$work/dockerd/docker.sock"
            for _ in $(seq 1 300); do DOCKER_HOST="$export_host" docker version >/dev/null 2>&1 && break; sleep 0.2; done
            DOCKER_HOST="$export_host" docker version >/dev/null 2>&1 || { tail -n 30 "$work/dockerd.log" >&2; log "dockerd did not come up"; exit 1; }
            log "dockerd $(DOCKER_HOST="$export_host" docker version --format '{{.Server.Version}}') (pid $dockerd_pid, storage $(DOCKER_HOST="$export_host" docker info --format '{{.Driver}}'))"
            DOCKER_HOST="$export_host" workload dockerd
            stop_dockerd
            ;;
        *) log "unknown engine $engine"; exit 2 ;;
        esac
    done
}

# print_table "<title>" figure...: one row per figure, Berth/dockerd when both ran.
print_table() {
    local title=$1 key b d r
    shift
    printf '%-32s %12s %12s %14s\n' "$title" berth dockerd berth/dockerd
    for key in "$@"; do
        b=$(awk -v k="$key" '$1==k {print $2}' "$work/result.berth" 2>/dev/null || true)
        d=$(awk -v k="$key" '$1==k {print $2}' "$work/result.dockerd" 2>/dev/null || true)
        r=-
        [ -n "$b" ] && [ -n "$d" ] && r=$(awk -v b="$b" -v d="$d" 'BEGIN {printf "%.2f", b / d}')
        printf '%-32s %12s %12s %14s\n' "$key" "${b:--}" "${d:--}" "$r"
    done
}
