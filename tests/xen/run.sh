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
#   --scenarios LIST  space-separated subset of: hotplug flows mtu reconnect restart
#                     detach jumbo saverestore (the ping/create/destroy/
#                     re-create core always runs; default: all)
#   --debian-vswitchd harness self-test with Debian's ovs-vswitchd (no xvif
#                     class): checks boot, OVS and the hotplug script's error
#                     path only
#   --timeout SEC     QEMU wall-clock ceiling (default 3600); each scenario
#                     has its own budget inside dom0, scaled by the measured
#                     speed of the emulation (dom0-test.sh), and a watchdog
#                     stops QEMU when its console stays silent for longer
#                     than the longest scaled budget
#   --budget-scale F  multiply every scenario budget by F (default 1)
#   --rebuild         drop the cached images (not the debootstrap rootfs)
#   --list            print the names of the checks the run would report

# The whole script is one function, read by bash before it runs: editing
# this file while a run is under way cannot change what that run does.
main() {
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BUILDDIR=$SRCDIR
CACHE=/var/cache/xvif/xen-qemu
LOGS=
SCENARIOS=all
MODE=project
QEMU_TIMEOUT=3600
# The longest scenario budget in dom0-test.sh (reference seconds): dom0's
# console is never silent longer than that, times the speed factor, unless
# something hangs (the watchdog below).
MAX_BUDGET=300
# Seconds from dom0's boot to the start of dom0-test.sh (Xen, the kernel,
# the initramfs, modules, xenstored) on the machine the scenario budgets
# were set on: a 2-core Debian 12 host, idle.  dom0-test.sh divides what it
# sees by this to scale its budgets.
BOOT_REF=${BOOT_REF:-9}
# Scenarios that always run; the others are chosen by --scenarios.
CORE_SCENARIOS="setup create mq destroy recreate teardown"
DO_MAKE=no
REBUILD=no
LIST=no
BUDGET_SCALE=1

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
        --budget-scale) BUDGET_SCALE=$2; shift ;;
        --rebuild) REBUILD=yes ;;
        --list) LIST=yes ;;
        -h|--help) sed -n '16,40p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
HERE=$SRCDIR/tests/xen

# expected_checks: the names of the checks this run must report, from
# tests/xen/checks: those of the scenarios that run, in this mode.
expected_checks() {
    local run
    if [ "$MODE" = debian ]; then
        run="setup hotplug"
    elif [ "$SCENARIOS" = all ]; then
        run=$(awk '!/^#/ && NF { print $1 }' "$HERE/checks" | uniq)
    else
        run="$CORE_SCENARIOS $SCENARIOS"
    fi
    awk -v run=" $(echo $run) " -v m="$MODE" '
        !/^#/ && NF && index(run, " " $1 " ") && (NF < 3 || $3 == m) { print $2 }
        ' "$HERE/checks"
}
if [ $LIST = yes ]; then
    expected_checks
    exit 0
fi
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, QEMU)"
LOGS=${LOGS:-$CACHE/logs}

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
# One share per run, so that two runs on one cache do not mix their files.
SHARE=$(mktemp -d "$CACHE/share.XXXXXX")
trap 'rm -rf "$SHARE"' EXIT
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
install -m 644 "$HERE/checks" "$SHARE/checks"
echo "$BOOT_REF" > "$SHARE/boot-ref"
echo "$BUDGET_SCALE" > "$SHARE/budget-scale"
echo "$MODE" > "$SHARE/vswitchd-mode"
echo "$SCENARIOS" > "$SHARE/scenarios"
echo $((QEMU_TIMEOUT - 60)) > "$SHARE/dom0-timeout"

# ---------------------------------------------------------------- boot
rm -rf "$LOGS"
mkdir -p "$LOGS"
step "boot Xen + dom0 in QEMU/TCG (limit ${QEMU_TIMEOUT}s); console: $LOGS/qemu.log"
load=$(cut -d' ' -f1 /proc/loadavg)
if [ "$(echo "$load > $(nproc)" | bc)" = 1 ]; then
    echo "WARNING: host load average $load exceeds $(nproc) CPUs: QEMU/TCG will"
    echo "         be slow, guests may miss the scenario timeouts."
fi
# The watchdog: QEMU is stopped when its console says nothing for longer
# than the longest scenario budget scaled by the speed factor dom0 printed
# (10 minutes before dom0-test.sh starts): a hung hypervisor or dom0 costs
# minutes, not the whole ceiling.
watchdog() {
    local limit=600 f age
    while sleep 10; do
        pgrep -f "path=$SHARE," > /dev/null || return 0
        f=$(sed -n 's/.*speed factor \([0-9.]*\).*/\1/p' "$LOGS/qemu.log" \
            2>/dev/null | head -n 1)
        [ -z "$f" ] || limit=$(awk -v f="$f" -v m=$MAX_BUDGET \
                                   'BEGIN { printf "%d", f * (m + 60) }')
        age=$(( $(date +%s) - $(stat -c %Y "$LOGS/qemu.log") ))
        if [ $age -gt "$limit" ]; then
            echo "WATCHDOG: no console output for ${age}s (limit ${limit}s): stopping QEMU"
            pkill -f "path=$SHARE,"
            return 0
        fi
    done
}
: > "$LOGS/qemu.log"
watchdog &
qrc=0
images_boot "$QEMU_TIMEOUT" 1 "$LOGS/qemu.log" || qrc=$?
sleep 0.5
step "QEMU exited (rc $qrc)"
cp -r "$SHARE/out/." "$LOGS/" 2>/dev/null || true

# ---------------------------------------------------------------- verdict
# Every expected check (tests/xen/checks, for the scenarios run and this
# mode) gets one PASS or FAIL line; one that reported nothing failed.
rc=0
results=$LOGS/results
touch "$results"
expected=$(expected_checks)
if ! grep -q 'MARK.*dom0-test finished' "$LOGS/qemu.log"; then
    why="dom0 test script did not finish (QEMU rc $qrc; see $LOGS/qemu.log)"
    [ "$qrc" = 124 ] && why="QEMU hit the ${QEMU_TIMEOUT}s ceiling"
    echo "NOTE: $why"
else
    why="did not run"
fi
npass=0
nfail=0
for c in $expected; do
    line=$(grep -m 1 "^RESULT: [A-Z]* $c\( \|\$\)" "$results" | sed 's/^RESULT: //')
    [ -n "$line" ] || line="FAIL $c -- $why"
    echo "$line"
    case $line in
        PASS*) npass=$((npass + 1)) ;;
        *) nfail=$((nfail + 1)) ;;
    esac
done
# A result the list does not name is a failure of the harness itself.
while read -r r c rest; do
    grep -qx "$c" <<< "$expected" && continue
    echo "FAIL $c -- reported but not expected (tests/xen/checks): $r $rest"
    nfail=$((nfail + 1))
done < <(sed -n 's/^RESULT: //p' "$results")
[ "$nfail" = 0 ] || rc=1
if [ -s "$LOGS/scenarios" ]; then
    echo "scenarios (time, budget; speed factor $(cat "$LOGS/speed" 2>/dev/null):" \
         "dom0's boot vs ${BOOT_REF}s here):"
    sed 's/^/  /' "$LOGS/scenarios"
    grep -q 'rc=12[4]\|rc=137' "$LOGS/scenarios" \
        && echo "SLOW: $(awk '/rc=(124|137)/ { print $1 }' "$LOGS/scenarios" \
                         | tr '\n' ' ')cut at their budget"
fi
echo "logs: $LOGS (qemu.log = Xen + dom0 console, xen-logs/console = domU consoles,"
echo "      ovs-vswitchd.log, xenstore-*.txt, ovs-*.txt)"
if [ $rc = 0 ]; then
    step "VERDICT: PASS ($npass checks)"
else
    step "VERDICT: FAIL ($npass passed, $nfail failed)"
fi
exit $rc
}

main "$@"
