#!/bin/bash
# Copyright (c) 2026 The xvif authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# tests/xen/bench.sh: xvif against the kernel's xen-netback on a real Xen.
#
# Boots Xen 4.17 + a Debian bookworm PV dom0 under QEMU (TCG) once per dom0
# CPU count and, in each boot, runs the same two Linux PV domUs and the same
# transfers through each configuration (tests/xen/dom0-bench.sh):
#   a xvif   b xvif-pmd   c xvif + userspace-tso-enable=true
#   d xen-netback + OVS kernel datapath (vif-openvswitch)
#   e xen-netback + OVS userspace datapath (userspace-tso-enable=true)
# Writes bench.md and bench.json (medians, xvif/netback ratios within each
# boot) and the raw logs into the output directory.  Not part of the CI.
#
# Usage (root):  tests/xen/bench.sh [options]
#   --build-dir DIR  build tree holding vswitchd/ovs-vswitchd (default: the
#                    source tree)
#   --cache DIR      image cache (default /var/cache/xvif/xen-bench)
#   --out DIR        results (default $CACHE/bench-<date>)
#   --vcpus LIST     dom0 (and QEMU) CPU counts, one boot each (default "2 1")
#   --configs LIST   subset of "a b c d e" (default all)
#   --sizes LIST     TCP transfer sizes in bytes (default "1048576 4194304")
#   --runs N         runs of each measurement (default 3)
#   --small N        ping -f requests / 64-byte UDP datagrams (default 2000)
#   --no-load        leave out the runs under three ping floods
#   --diag LIST      configurations that also get the diagnosis (xvif/show,
#                    strace -c, perf) (default "a d")
#   --timeout SEC    QEMU wall-clock limit per boot (default: from the matrix)
#   --rebuild        rebuild the images

set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILDDIR=$SRCDIR
CACHE=/var/cache/xvif/xen-bench
OUTDIR=
VCPUS="2 1"
CONFIGS="a b c d e"
SIZES="1048576 4194304"
RUNS=3
SMALL=2000
LOAD=yes
DIAG="a d"
QEMU_TIMEOUT=
REBUILD=no

die() {
    echo "bench.sh: ERROR: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
        --build-dir) BUILDDIR=$(cd "$2" && pwd); shift ;;
        --cache) CACHE=$2; shift ;;
        --out) OUTDIR=$2; shift ;;
        --vcpus) VCPUS=$2; shift ;;
        --configs) CONFIGS=$2; shift ;;
        --sizes) SIZES=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --small) SMALL=$2; shift ;;
        --no-load) LOAD=no ;;
        --diag) DIAG=$2; shift ;;
        --timeout) QEMU_TIMEOUT=$2; shift ;;
        --rebuild) REBUILD=yes ;;
        -h|--help) sed -n '16,42p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, QEMU)"
HERE=$SRCDIR/tests/xen
OUTDIR=${OUTDIR:-$CACHE/bench-$(date +%Y%m%d-%H%M)}

T0=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) - $T0" | bc; }
step() { printf '== [%6.1fs] %s\n' "$(elapsed)" "$*"; }

IMG_VARIANT=bench
EXTRA_DOM0_PKGS="iperf3 strace iputils-ping linux-perf"
DOMU_BINS="/usr/bin/iperf3"
. "$HERE/lib-images.sh"
images_host_tools
[ -x "$BUILDDIR/vswitchd/ovs-vswitchd" ] \
    || die "$BUILDDIR/vswitchd/ovs-vswitchd not built"
images_build

# The QEMU limit: generous for a slow emulation (50 KB/s and 30 s per guest
# start), since every step inside is bounded by its own limit anyway.
if [ -z "$QEMU_TIMEOUT" ]; then
    bytes=0
    for s in $SIZES; do
        bytes=$((bytes + s))
    done
    per_cfg=$((600 + RUNS * (3 * bytes + 4 * ${SIZES%% *}) / 50000 + RUNS * 60))
    [ -n "$DIAG" ] && per_cfg=$((per_cfg + 300))
    QEMU_TIMEOUT=$((300 + $(echo $CONFIGS | wc -w) * per_cfg))
fi

mkdir -p "$OUTDIR"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host: $(uname -srm), $(nproc) CPUs:" \
         "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
    echo "xen: $(basename "$XENGZ"), dom0/domU kernel $KV"
    echo "xvif: $(cd "$SRCDIR" && git log -1 --format='%h %s' 2>/dev/null)"
    echo "matrix: vcpus=$VCPUS configs=$CONFIGS sizes=$SIZES runs=$RUNS" \
         "small=$SMALL load=$LOAD diag=$DIAG timeout=$QEMU_TIMEOUT"
} | tee -a "$OUTDIR/machine.txt"

for n in $VCPUS; do
    SHARE=$CACHE/share
    rm -rf "$SHARE"
    mkdir -p "$SHARE/bin" "$SHARE/out"
    install -m 755 "$SRCDIR/utilities/vif-xvif" "$SHARE/bin/vif-xvif"
    cp "$BUILDDIR/vswitchd/ovs-vswitchd" "$SHARE/bin/ovs-vswitchd"
    (cd "$SHARE/bin" && ./ovs-vswitchd --version > /dev/null) \
        || die "$BUILDDIR/vswitchd/ovs-vswitchd does not run"
    # dom0-init runs the share's dom0-test.sh.
    install -m 644 "$HERE/dom0-bench.sh" "$SHARE/dom0-test.sh"
    cat > "$SHARE/bench.conf" <<EOF
CONFIGS="$CONFIGS"
SIZES="$SIZES"
RUNS=$RUNS
SMALL=$SMALL
LOAD=$LOAD
DIAG="$DIAG"
LABEL="vcpus=$n"
EOF
    echo $((QEMU_TIMEOUT - 40)) > "$SHARE/dom0-timeout"
    # The host's load average, for dom0 to record with each result.
    ( while [ -d "$SHARE" ]; do
          cp /proc/loadavg "$SHARE/host-load" 2>/dev/null || true
          sleep 5
      done ) &
    sampler=$!
    logs=$OUTDIR/vcpus-$n
    rm -rf "$logs"
    mkdir -p "$logs"
    step "boot with $n CPU(s) (limit ${QEMU_TIMEOUT}s, host load" \
         "$(cut -d' ' -f1-3 /proc/loadavg)); console: $logs/qemu.log"
    qrc=0
    images_boot "$QEMU_TIMEOUT" "$n" "$logs/qemu.log" "dom0_max_vcpus=$n" \
        || qrc=$?
    kill $sampler 2>/dev/null || true
    wait $sampler 2>/dev/null || true
    step "QEMU exited (rc $qrc)"
    cp -r "$SHARE/out/." "$logs/" 2>/dev/null || true
    echo "qemu_rc=$qrc" > "$logs/qemu-rc"
done

python3 "$HERE/bench-report.py" "$OUTDIR" \
    || die "bench-report.py failed"
step "results: $OUTDIR/bench.md $OUTDIR/bench.json"
cat "$OUTDIR/bench.md"
