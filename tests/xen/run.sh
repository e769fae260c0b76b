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

# tests/xen/run.sh: the real-Xen end-to-end check of xvif.
#
# Boots Xen 4.17 + a Debian bookworm PV dom0 under QEMU (TCG), starts
# Debian's ovsdb-server and the project's ovs-vswitchd in dom0 (no kernel
# xen-netback), and runs Linux PV domUs -- created by plain `xl create` with
# `vif = ['mac=...,bridge=br0,script=vif-xvif']` -- against it with real
# traffic.  Prints one PASS/FAIL line per check and a verdict; exits 0 only if
# every check passed.  See tests/xen/README.md.
#
# Usage (root):  tests/xen/run.sh [options]
#   --build-dir DIR   build tree holding vswitchd/ovs-vswitchd (default: the
#                     source tree this script is in)
#   --make            run `make vswitchd/ovs-vswitchd utilities/xvif-ctl` in
#                     the build tree first
#   --cache DIR       image cache (default /var/cache/xvif/xen-qemu)
#   --logs DIR        where logs go (default $CACHE/logs, emptied first)
#   --scenarios LIST  space-separated subset of: hotplug flows mtu reconnect
#                     detach jumbo saverestore (the ping/create/destroy/
#                     re-create core always runs; default: all)
#   --debian-vswitchd harness self-test with Debian's ovs-vswitchd (no xvif
#                     class): checks boot, OVS and the hotplug script's error
#                     path only
#   --timeout SEC     QEMU wall-clock limit (default 480)
#   --rebuild         drop the cached images (not the debootstrap rootfs)

set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILDDIR=$SRCDIR
CACHE=/var/cache/xvif/xen-qemu
LOGS=
SCENARIOS=all
MODE=project
QEMU_TIMEOUT=480
DO_MAKE=no
REBUILD=no

die() {
    echo "run.sh: ERROR: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
        --build-dir) BUILDDIR=$(cd "$2" && pwd); shift ;;
        --make) DO_MAKE=yes ;;
        --cache) CACHE=$2; shift ;;
        --logs) LOGS=$2; shift ;;
        --scenarios) SCENARIOS=$2; shift ;;
        --debian-vswitchd) MODE=debian ;;
        --timeout) QEMU_TIMEOUT=$2; shift ;;
        --rebuild) REBUILD=yes ;;
        -h|--help) sed -n '16,40p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, QEMU)"
LOGS=${LOGS:-$CACHE/logs}
HERE=$SRCDIR/tests/xen

T0=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) - $T0" | bc; }
step() { printf '== [%6.1fs] %s\n' "$(elapsed)" "$*"; }

# ---------------------------------------------------------------- host tools
. "$HERE/lib-images.sh"
images_host_tools

# ---------------------------------------------------------------- binaries
if [ $MODE = project ]; then
    if [ $DO_MAKE = yes ]; then
        step "make in $BUILDDIR"
        (cd "$BUILDDIR" && make vswitchd/ovs-vswitchd) \
            || die "make vswitchd/ovs-vswitchd failed"
        (cd "$BUILDDIR" && make utilities/xvif-ctl) \
            || echo "note: utilities/xvif-ctl did not build (optional)"
    fi
    [ -x "$BUILDDIR/vswitchd/ovs-vswitchd" ] \
        || die "$BUILDDIR/vswitchd/ovs-vswitchd not built" \
               "(cd $BUILDDIR && make vswitchd/ovs-vswitchd, or --make)"
fi
[ -f "$SRCDIR/utilities/vif-xvif" ] || die "$SRCDIR/utilities/vif-xvif missing"

mkdir -p "$CACHE"
cd "$CACHE"
images_build

# ---------------------------------------------------------------- share
SHARE=$CACHE/share
rm -rf "$SHARE"
mkdir -p "$SHARE/bin" "$SHARE/out"
install -m 755 "$SRCDIR/utilities/vif-xvif" "$SHARE/bin/vif-xvif"
if [ $MODE = project ]; then
    # The build tree may be relinked under us (a concurrent make): take a
    # copy that is a complete ELF file and still equal to the source a
    # second later.
    ok=no
    for i in $(seq 1 60); do
        cp "$BUILDDIR/vswitchd/ovs-vswitchd" "$SHARE/bin/ovs-vswitchd" \
            2>/dev/null || true
        sleep 1
        if [ "$(head -c 4 "$SHARE/bin/ovs-vswitchd" 2>/dev/null | tail -c 3)" = ELF ] \
           && cmp -s "$BUILDDIR/vswitchd/ovs-vswitchd" "$SHARE/bin/ovs-vswitchd" \
           && (cd "$SHARE/bin" && ./ovs-vswitchd --version > /dev/null 2>&1); then
            ok=yes
            break
        fi
    done
    [ $ok = yes ] || die "$BUILDDIR/vswitchd/ovs-vswitchd is not a stable," \
                         "runnable binary (being rebuilt?)"
    chmod 755 "$SHARE/bin/ovs-vswitchd"
    if [ -x "$BUILDDIR/utilities/xvif-ctl" ]; then
        install -m 755 "$BUILDDIR/utilities/xvif-ctl" "$SHARE/bin/"
    fi
    echo "ovs-vswitchd: $(ls -la "$BUILDDIR/vswitchd/ovs-vswitchd")" \
         "md5 $(md5sum < "$SHARE/bin/ovs-vswitchd" | cut -c1-12)"
    (cd "$BUILDDIR" && git log -1 --format='commit %h %s' 2>/dev/null) || true
fi
install -m 644 "$HERE/dom0-test.sh" "$SHARE/dom0-test.sh"
echo "$MODE" > "$SHARE/vswitchd-mode"
echo "$SCENARIOS" > "$SHARE/scenarios"
echo $((QEMU_TIMEOUT - 40)) > "$SHARE/dom0-timeout"

# ---------------------------------------------------------------- boot
rm -rf "$LOGS"
mkdir -p "$LOGS"
step "boot Xen + dom0 in QEMU/TCG (limit ${QEMU_TIMEOUT}s); console: $LOGS/qemu.log"
load=$(cut -d' ' -f1 /proc/loadavg)
if [ "$(echo "$load > $(nproc)" | bc)" = 1 ]; then
    echo "WARNING: host load average $load exceeds $(nproc) CPUs: QEMU/TCG will"
    echo "         be slow, guests may miss the scenario timeouts."
fi
qrc=0
images_boot "$QEMU_TIMEOUT" 1 "$LOGS/qemu.log" || qrc=$?
sleep 0.5
step "QEMU exited (rc $qrc)"
cp -r "$SHARE/out/." "$LOGS/" 2>/dev/null || true

# ---------------------------------------------------------------- verdict
rc=0
results=$LOGS/results
[ -s "$results" ] || { echo "FAIL: no results from dom0"; rc=1; }
if ! grep -q 'MARK.*dom0-test finished' "$LOGS/qemu.log"; then
    echo "FAIL: dom0 test script did not finish (timeout or crash; see $LOGS/qemu.log)"
    rc=1
fi
[ $qrc = 124 ] && { echo "FAIL: QEMU hit the ${QEMU_TIMEOUT}s limit"; rc=1; }
if [ -s "$results" ]; then
    sed 's/^RESULT: //' "$results"
    npass=$(grep -c '^RESULT: PASS' "$results" || true)
    nfail=$(grep -c '^RESULT: FAIL' "$results" || true)
    [ "$nfail" = 0 ] || rc=1
else
    npass=0
    nfail=0
fi
echo "logs: $LOGS (qemu.log = Xen + dom0 console, xen-logs/console = domU consoles,"
echo "      ovs-vswitchd.log, xenstore-*.txt, ovs-*.txt)"
if [ $rc = 0 ]; then
    step "VERDICT: PASS ($npass checks)"
else
    step "VERDICT: FAIL ($npass passed, $nfail failed)"
fi
exit $rc
