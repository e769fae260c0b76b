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

(cd "$top" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$work/src"
cd "$work/src"
autoreconf -fi >/dev/null 2>&1 || { echo "asan: autoreconf failed"; exit 1; }
san="-fsanitize=address,undefined -fno-omit-frame-pointer"
./configure --with-ovs-source="$ovs" PYTHON3=/usr/bin/python3 \
    CFLAGS="-g -O1 $san" LDFLAGS="$san" >config.out 2>&1 \
    || { tail -20 config.out; exit 1; }
make -j"$(nproc)" >make.out 2>&1 || { tail -30 make.out; exit 1; }

# Reports go to files: the daemons' stderr is gone once they detach.  Leak
# checking is off because OVS's own daemons exit without freeing; bad
# accesses, use-after-free and undefined behaviour are what this is for.
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=0:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1"
rc=0
make check TESTSUITEFLAGS="-j$(nproc)" RECHECK=yes || rc=$?
if [ -n "$(ls -A "$logs")" ]; then
    echo "asan: sanitizer reports:"
    cat "$logs"/*
    rc=1
fi
echo "asan: $( [ $rc = 0 ] && echo PASS || echo FAIL ) (sanitizer reports: $(ls "$logs" | wc -l))"
exit $rc
