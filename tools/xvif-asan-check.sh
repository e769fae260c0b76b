#!/bin/bash
# xvif-asan-check.sh -- the whole autotest suite again, with the project's
# programs (ovs-vswitchd with xvif, the simulated Xen) built with
# AddressSanitizer and UndefinedBehaviorSanitizer.  Any report fails it.
#
# Usage: tools/xvif-asan-check.sh OVS_TREE
# Builds a copy of the tracked files in a temporary directory, so the
# regular build is left alone.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ovs=${1:?usage: $0 OVS_TREE}
work=$(mktemp -d /tmp/xvif-asan.XXXXXX)
logs=$work/sanitizer-logs
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$logs"
# Alone, it keeps its own ledger; in the check, the check's.
export XVIF_LEDGER=${XVIF_LEDGER:-$work/ledger}
. "$top/tools/xvif-check-lib.sh"
# die WHAT: the sanitized build failed; the check counts it.
die() {
    echo "asan: $1 failed"
    ledger FAIL 1 asan-autotest "the sanitized build: $1 failed"
    exit 1
}

(cd "$top" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$work/src"
cd "$work/src"
autoreconf -fi >/dev/null 2>&1 || die autoreconf
san="-fsanitize=address,undefined -fno-omit-frame-pointer"
./configure --with-ovs-source="$ovs" PYTHON3=/usr/bin/python3 \
    CFLAGS="-g -O1 $san" LDFLAGS="$san" >config.out 2>&1 \
    || { tail -20 config.out; die configure; }
make -j"$(nproc)" >make.out 2>&1 || { tail -30 make.out; die make; }

# Reports go to files: the daemons' stderr is gone once they detach.  Leak
# checking is off because OVS's own daemons exit without freeing; bad
# accesses, use-after-free and undefined behaviour are what this is for.
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=0:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1"
rc=0
autotest_part asan-autotest "$work/src" || rc=1
n=$(ls "$logs" | wc -l)
if [ "$n" != 0 ]; then
    echo "asan: sanitizer reports:"
    cat "$logs"/*
    rc=1
fi
if [ "$n" = 0 ]; then
    ledger PASS 1 asan-autotest "no sanitizer report"
else
    ledger FAIL 1 asan-autotest "$n sanitizer report(s), printed above"
fi
echo "asan: $( [ $rc = 0 ] && echo PASS || echo FAIL ) (sanitizer reports: $n)"
exit $rc
