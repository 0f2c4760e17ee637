#!/usr/bin/env bash
# Container lifecycle through the Engine API, Berth beside Debian's dockerd on the same machine, with the same docker
# CLI and the same busybox image (a busybox-static rootfs `docker import`ed into each):
#   - `docker run --rm img true`: latency of N runs (median, p90) after 3 warm-up runs;
#   - M containers `docker run -d img sleep 300`, one after the other and P at a time (wall time), then `rm -f`.
# Berth must already run (`./berth up`); its address is BERTH_DOCKER_HOST, else DOCKER_HOST, else
# tcp://127.0.0.1:2375. dockerd is started here with its own data root, exec root, socket and pidfile under /var/tmp,
# `--iptables=false` (it would otherwise set the FORWARD policy to DROP and add chains under other tests' feet), and
# removed again with everything it made. Needs root and /bin/busybox (busybox-static); installs docker.io with
# apt-get when dockerd is missing (a comparison tool only, never a Berth dependency).
# N (default 20), M (default 20), P (default 4); ENGINES="berth dockerd" (default both).
set -euo pipefail
N=${N:-20}
M=${M:-20}
P=${P:-4}
ENGINES=${ENGINES:-"berth dockerd"}
BERTH_HOST=${BERTH_DOCKER_HOST:-${DOCKER_HOST:-tcp://127.0.0.1:2375}}
IMG=berth-bench-busybox:latest
work=$(mktemp -d /var/tmp/berth-bench-ctr.XXXXXX)
chmod 755 "$work"
dockerd_pid=
bridge_existed=$(ip link show docker0 >/dev/null 2>&1 && echo yes || echo no)

log() { echo "bench-containers: $*" >&2; }

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
        DOCKER_HOST="unix://$work/dockerd/docker.sock" remove_all || true
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

# Removes the containers this run started (their ids are in $work/ids.*) and the image.
remove_all() {
    local ids
    ids=$(cat "$work"/ids.* 2>/dev/null | sort -u || true)
    [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
    rm -f "$work"/ids.*
    docker rmi -f "$IMG" >/dev/null 2>&1 || true
}

# Runs the workload against $DOCKER_HOST; writes "name value" lines to $work/result.$1.
workload() {
    local engine=$1 out="$work/result.$1"
    docker import "$work/rootfs.tar" "$IMG" >/dev/null
    for _ in 1 2 3; do docker run --rm "$IMG" true; done
    : >"$work/times.$engine"
    for _ in $(seq 1 "$N"); do
        local t0 t1
        t0=$(now); docker run --rm "$IMG" true; t1=$(now)
        echo $(( (t1 - t0) / 1000 )) >>"$work/times.$engine"
    done
    {
        echo "run_rm_median $(median <"$work/times.$engine" | awk '{printf "%.1f", $1/1000}')"
        echo "run_rm_p90 $(p90 <"$work/times.$engine" | awk '{printf "%.1f", $1/1000}')"
    } >"$out"

    local t0 t1 n
    t0=$(now)
    for _ in $(seq 1 "$M"); do docker run -d "$IMG" sleep 300 >>"$work/ids.seq"; done
    t1=$(now)
    n=$(docker ps -q --no-trunc | grep -cFf "$work/ids.seq" || true)
    [ "$n" = "$M" ] || { log "$engine: $n of $M sequential containers running"; exit 1; }
    echo "start_${M}_sequential $(ms "$t0" "$t1")" >>"$out"
    t0=$(now); docker rm -f $(cat "$work/ids.seq") >/dev/null; t1=$(now)
    echo "rm_f_${M} $(ms "$t0" "$t1")" >>"$out"
    rm -f "$work/ids.seq"

    t0=$(now)
    seq 1 "$M" | xargs -P "$P" -I{} sh -c 'docker run -d "$0" sleep 300 >>"$1.$$"' "$IMG" "$work/ids.par"
    t1=$(now)
    n=$(docker ps -q --no-trunc | grep -cFf <(cat "$work"/ids.par.*) || true)
    [ "$n" = "$M" ] || { log "$engine: $n of $M parallel containers running"; exit 1; }
    echo "start_${M}_parallel_${P} $(ms "$t0" "$t1")" >>"$out"
    remove_all
    [ -z "$(docker ps -aq --no-trunc)" ] || log "$engine: containers other than this run's exist (left alone)"
}

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

# The table: one row per figure, Berth/dockerd when both ran.
printf '%-28s %12s %12s %14s\n' "figure (ms; N=$N, M=$M, P=$P)" berth dockerd berth/dockerd
for key in run_rm_median run_rm_p90 "start_${M}_sequential" "start_${M}_parallel_${P}" "rm_f_${M}"; do
    b=$(awk -v k="$key" '$1==k {print $2}' "$work/result.berth" 2>/dev/null || true)
    d=$(awk -v k="$key" '$1==k {print $2}' "$work/result.dockerd" 2>/dev/null || true)
    r=-
    [ -n "$b" ] && [ -n "$d" ] && r=$(awk -v b="$b" -v d="$d" 'BEGIN {printf "%.2f", b / d}')
    printf '%-28s %12s %12s %14s\n' "$key" "${b:--}" "${d:--}" "$r"
done
