#!/usr/bin/env bash
# Dockerfile builds through the legacy builder protocol (`DOCKER_BUILDKIT=0 docker build`), Berth beside Debian's
# dockerd on the same machine, with the same docker CLI, base image and contexts:
#   - cold: FROM busybox, COPY of 1 MiB, 3 RUN steps, `--no-cache`;
#   - warm: the same build again, every step from the cache;
#   - ten: FROM busybox and 10 RUN steps (11 layers), `--no-cache`.
# Each R times (default 5) after one warm-up build; medians of the whole CLI command's wall time.
# Berth must already run (`./berth up`); see bench/lib/engines.sh for how dockerd is run. Needs root.
set -euo pipefail
R=${R:-5}
BENCH=build
source "$(dirname "${BASH_SOURCE[0]}")/../lib/engines.sh"

# Two contexts: the cold/warm one and the ten-RUN one.
mkdir -p "$work/ctx3" "$work/ctx10"
head -c 1048576 /dev/urandom >"$work/ctx3/blob"
printf 'FROM %s\nCOPY blob /data/blob\nRUN echo one > /one\nRUN echo two > /two\nRUN echo three > /three\nCMD ["sh"]\n' \
    "$IMG" >"$work/ctx3/Dockerfile"
{
    echo "FROM $IMG"
    for i in $(seq 1 10); do echo "RUN echo step$i > /step$i"; done
} >"$work/ctx10/Dockerfile"

remove_all() {
    docker rmi -f bench-build-3:1 bench-build-10:1 >/dev/null 2>&1 || true
    docker rmi -f "$IMG" >/dev/null 2>&1 || true
}

build() { # context tag [--no-cache]
    DOCKER_BUILDKIT=0 docker build -q "${@:3}" -t "$2" "$1" >/dev/null 2>"$work/build.err" \
        || { cat "$work/build.err" >&2; log "build of $1 failed"; exit 1; }
}

timed() { # name context tag [--no-cache]
    local name=$1 t0 t1
    shift
    : >"$work/times.$name"
    for _ in $(seq 1 "$R"); do
        t0=$(now); build "$@"; t1=$(now)
        echo $(( (t1 - t0) / 1000000 )) >>"$work/times.$name"
    done
    echo "$name $(median <"$work/times.$name")"
}

workload() {
    local engine=$1
    docker import "$work/rootfs.tar" "$IMG" >/dev/null
    build "$work/ctx3" bench-build-3:1 --no-cache
    {
        timed cold "$work/ctx3" bench-build-3:1 --no-cache
        timed warm "$work/ctx3" bench-build-3:1
        timed ten_run_layers "$work/ctx10" bench-build-10:1 --no-cache
    } >"$work/result.$engine"
    [ "$(docker run --rm bench-build-10:1 cat /step10)" = step10 ] || { log "$engine: the built image is wrong"; exit 1; }
    remove_all
}

run_engines
print_table "figure (ms, median of R=$R)" cold warm ten_run_layers
