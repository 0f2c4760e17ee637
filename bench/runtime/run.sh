#!/usr/bin/env bash
# Median time from a spec to /bin/true running and exited, Berth's runtime (its Java API, in one warm JVM) beside
# `runc run` of the same busybox rootfs (runc's own config from `runc spec`: new namespaces, cgroups).
# Needs root, /bin/busybox (busybox-static) and runc (apt-get install -y runc). N=iterations (default 50).
set -euo pipefail
N=${N:-50}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/berth-bench.XXXXXX)

cleanup() {
    for c in $(runc list -q 2>/dev/null | grep '^berth-bench-' || true); do runc delete -f "$c" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# The rootfs: static busybox and its applets.
mkdir -p "$work/rootfs"/{bin,etc,proc,sys,dev,tmp}
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in $(/bin/busybox --list-full); do
    [ "$a" = bin/busybox ] && continue
    mkdir -p "$work/rootfs/$(dirname "$a")"
    ln -sf /bin/busybox "$work/rootfs/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$work/rootfs/etc/passwd"
printf 'root:x:0:\n' > "$work/rootfs/etc/group"

# Berth: build the module (with the shim) into its own directory and run the bench main.
cd "$repo/node-agent"
mvn -q -B -Dstyle.color=never -Dberth.buildDir=target-bench compile dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null
berth=$(java -cp "target-bench/classes:$(cat "$work/cp.txt")" dev.berth.node.runtime.bench.RuntimeBench \
    "$work/rootfs" "$repo/node-agent/target-bench/native/berth-shim" "$work/lib" "$work/run" "$N" true | grep '^RESULT')
echo "berth: $berth"

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

if command -v runc >/dev/null; then
    mkdir -p "$work/runc"
    (cd "$work/runc" && runc spec)
    sed -i -e 's/"terminal": true/"terminal": false/' -e 's/^\(\s*\)"sh"$/\1"\/bin\/true"/' \
        -e "s|\"path\": \"rootfs\"|\"path\": \"$work/rootfs\"|" "$work/runc/config.json"
    warm=$(( N / 10 > 3 ? N / 10 : 3 ))
    : > "$work/runc.times"
    for i in $(seq 1 $((N + warm))); do
        t0=$(date +%s%N)
        runc run -b "$work/runc" "berth-bench-$i" > /dev/null
        t1=$(date +%s%N)
        [ "$i" -gt "$warm" ] && echo $(( (t1 - t0) / 1000 )) >> "$work/runc.times"
    done
    runc_ms=$(median < "$work/runc.times" | awk '{printf "%.2f", $1/1000}')
    exited_ms=$(echo "$berth" | sed -n 's/.*exited_ms=\([0-9.]*\).*/\1/p')
    running_ms=$(echo "$berth" | sed -n 's/.*running_ms=\([0-9.]*\).*/\1/p')
    echo "runc run (spec to exit, whole command): median ${runc_ms} ms over $N runs"
    awk -v b="$exited_ms" -v r="$runc_ms" -v s="$running_ms" 'BEGIN {
        printf "berth spec->running %.2f ms, spec->exited %.2f ms; runc run %.2f ms; ratio berth/runc (to exit) %.2f\n", s, b, r, b / r }'
else
    echo "runc not installed (apt-get install -y runc): no side-by-side figure"
fi
