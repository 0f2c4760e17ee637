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
BENCH=containers
source "$(dirname "${BASH_SOURCE[0]}")/../lib/engines.sh"

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

run_engines
print_table "figure (ms; N=$N, M=$M, P=$P)" run_rm_median run_rm_p90 "start_${M}_sequential" "start_${M}_parallel_${P}" "rm_f_${M}"
