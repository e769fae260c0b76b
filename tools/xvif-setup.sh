#!/bin/bash
# xvif-setup.sh -- set up a Debian 12 machine for xvif and run the demo or
# the test suite.  Idempotent: a second run only rebuilds what changed.
#
# Usage (as root):
#   bash tools/xvif-setup.sh demo     install, build, run the demo
#   bash tools/xvif-setup.sh check    install, build, run the whole test suite:
#                                     the autotest suite, then the real-Xen
#                                     check (tests/xen/run.sh; skipped only
#                                     if XVIF_SKIP_REAL_XEN is set) and the
#                                     Debian package (tests/deb-smoke.sh;
#                                     XVIF_SKIP_DEB), the suite again under
#                                     ASan+UBSan (XVIF_SKIP_ASAN) and a
#                                     bounded fuzzing run
#   bash tools/xvif-setup.sh build    install and build only
#
# What it does:
#   1. apt-get installs the Debian packages it needs (once).
#   2. Builds Open vSwitch 3.1.0 from Debian's openvswitch-source package into
#      a cache outside the tree (/var/cache/xvif; build-aux/ovs-build.sh).
#   3. Configures and builds xvif against it (in-tree build).
#   4. Runs tools/xvif-sandbox demo, or "make check" and tests/xen/run.sh.
#
# OVS's daemons and tools (ovsdb-server, ovs-vsctl, ovs-ofctl, ovs-appctl)
# come from that same OVS build, not from Debian's openvswitch-switch: the
# schema, the libraries and the test macros are then guaranteed to be the
# ones xvif was compiled against, and installing a package does not start a
# system Open vSwitch beside the tests.  (The Debian packaging installs xvif's
# ovs-vswitchd as an alternative next to Debian's openvswitch-switch.)
set -euo pipefail

action=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)

log() { printf '== xvif-setup: %s\n' "$*" >&2; }

# The check: every part records what it checked in the ledger
# (tools/xvif-check-lib.sh); the summary at the end counts every part in one
# closing line, "check: N passed, N failed, N skipped".
check_parts() {
    local rc=0 xen_out perf_out n t
    set +e
    log "make check (the autotest suite, on the simulated Xen)"
    autotest_part autotest "$top" || rc=1

    if [ -z "${XVIF_SKIP_REAL_XEN:-}" ]; then
        log "tests/xen/run.sh (a real Xen 4.17 and Linux netfront, in QEMU)"
        xen_out=$(mktemp /tmp/xvif-xen.XXXXXX)
        tests/xen/run.sh 2>&1 | tee "$xen_out" || rc=1
        n=$(grep -c '^PASS ' "$xen_out")
        ledger PASS "$n" real-xen "checks"
        grep '^FAIL ' "$xen_out" | while read -r _ t rest; do
            ledger FAIL 1 real-xen "$t $rest"
        done
        if [ "$n" = 0 ] && ! grep -q '^FAIL ' "$xen_out"; then
            # run.sh stopped before QEMU (images, packages): every check
            # it would have run failed.
            n=$(tests/xen/run.sh --list | wc -l)
            ledger FAIL "$n" real-xen "did not run: $(grep -m 1 ERROR "$xen_out")"
            rc=1
        fi
        rm -f "$xen_out"
    else
        log "XVIF_SKIP_REAL_XEN is set: the real-Xen check was not run"
    fi

    if [ -z "${XVIF_SKIP_ASAN:-}" ]; then
        log "the autotest suite again under ASan + UBSan"
        tools/xvif-asan-check.sh "$ovs" || rc=1
    fi

    if [ -z "${XVIF_SKIP_PERF:-}" ]; then
        # The benchmark suite's short run: checks that every part works
        # (the numbers of a CI machine are not judged).
        log "tests/perf/run.sh --quick (the benchmark suite works)"
        perf_out=$(mktemp -d /tmp/xvif-perf-quick.XXXXXX)
        if tests/perf/run.sh --quick --no-dpdk --out "$perf_out" \
           && grep -q '^| xvif-pmd | 64 | 1 |' "$perf_out/results.md" \
           && grep -q '^| xvif | 64 | 1 |' "$perf_out/results.md"; then
            ledger PASS 1 perf "the benchmark quick run"
        else
            ledger FAIL 1 perf "the benchmark quick run (output in $perf_out)"
            rc=1
        fi
    fi

    log "the libFuzzer targets (ASan + UBSan, bounded)"
    for t in $(tests/fuzz/run.sh --list); do
        if tests/fuzz/run.sh "${FUZZ_SECONDS:-15}" "$t"; then
            ledger PASS 1 fuzz "fuzz-$t"
        else
            ledger FAIL 1 fuzz "fuzz-$t (see tests/fuzz/out/$t/)"
            rc=1
        fi
    done

    if [ -z "${XVIF_SKIP_DEB:-}" ]; then
        log "tests/deb-smoke.sh (build, install and smoke-test the .deb)"
        if bash tests/deb-smoke.sh; then
            ledger PASS 1 deb "the package builds, installs, runs, purges"
        else
            ledger FAIL 1 deb "tests/deb-smoke.sh"
            rc=1
        fi
    else
        log "XVIF_SKIP_DEB is set: the Debian package was not checked"
    fi
    summary_done=yes
    check_summary || rc=1
    exit $rc
}

if [ "$action" = check ]; then
    . "$top/tools/xvif-check-lib.sh"
    export XVIF_LEDGER=$top/tests/check-ledger.txt
    : > "$XVIF_LEDGER"
    summary_done=no
    # A step that stops the script (set -e) before the parts ran is a
    # failure the closing line counts too.
    trap 'if [ $summary_done = no ]; then
              ledger FAIL 1 setup "install or build failed (see above)"
              check_summary
          fi' EXIT
fi

# 1. Packages.
pkgs="gcc make autoconf automake libtool pkg-config python3 libssl-dev
      libcap-ng-dev libunbound-dev libxen-dev xenstore-utils
      openvswitch-source iproute2 iputils-ping iperf3 arping procps
      netcat-openbsd python3-os-ken ovn-central ovn-host clang valgrind bc"
missing=
for p in $pkgs; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    log "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
fi

# 2. Open vSwitch.
ovs=$(build-aux/ovs-build.sh)
log "Open vSwitch build: $ovs"

# 3. xvif.
if [ ! -x configure ] || [ configure -ot configure.ac ] \
   || [ configure -ot m4/xvif.m4 ]; then
    log "autoreconf"
    autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
if [ ! -f Makefile ] || ! grep -q "^OVS_BUILDDIR = $ovs\$" Makefile; then
    log "configure"
    ./configure --with-ovs-source="$ovs" PYTHON3=/usr/bin/python3 \
        > config.out 2>&1 || { tail -30 config.out; exit 1; }
fi
log "make"
make -j"$jobs" >make.out 2>&1 || { grep -E 'error|Error' make.out | head -30; exit 1; }

# 4. What was asked.
case $action in
build) ;;
demo) exec tools/xvif-sandbox demo 3 ;;
check)
    check_parts
    ;;
*) echo "usage: $0 demo|check|build" >&2; exit 2 ;;
esac
