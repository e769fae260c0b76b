#! /bin/sh
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

# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,
# undefined) and runs each for a bounded time over its committed seed corpus.
# Usage: tests/fuzz/run.sh [--build-only] [SECONDS] [TARGET...]
#        tests/fuzz/run.sh --list      (the targets)
# Environment: OVS_BUILDDIR, OVS_SRCDIR (default: from the configured
# Makefile), CLANG (default clang), FUZZ_OUT (build and work directory,
# default tests/fuzz/out).  "make fuzz" calls this with FUZZ_SECONDS.
# Exit status: 0 if every target ran clean, 1 on a crash (the reproducer is
# in $FUZZ_OUT/TARGET/), 77 if clang with libFuzzer is not available.

set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
all_targets="tx rx xs ctrl"
if test "$1" = --list; then
    echo $all_targets
    exit 0
fi
build_only=false
if test "$1" = --build-only; then
    build_only=true
    shift
fi
secs=${1:-20}
test $# -gt 0 && shift
targets=${*:-$all_targets}

mkvar () {
    sed -n "s/^$1 = //p" "$top/Makefile" | head -1
}
OVS_BUILDDIR=${OVS_BUILDDIR:-$(mkvar OVS_BUILDDIR)}
OVS_SRCDIR=${OVS_SRCDIR:-$(mkvar OVS_SRCDIR)}
CLANG=${CLANG:-clang}
out=${FUZZ_OUT:-$top/tests/fuzz/out}

if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n)
           { return 0; }' > /tmp/xvif-fuzz-probe.$$.c ||
   ! $CLANG -fsanitize=fuzzer /tmp/xvif-fuzz-probe.$$.c \
        -o /tmp/xvif-fuzz-probe.$$ 2>/dev/null; then
    rm -f /tmp/xvif-fuzz-probe.$$*
    echo "$0: $CLANG with libFuzzer is needed (apt-get install clang)" >&2
    exit 77
fi
rm -f /tmp/xvif-fuzz-probe.$$*

cflags="-g -O1 -fsanitize=fuzzer,address,undefined
        -fno-sanitize-recover=undefined -fno-omit-frame-pointer
        -I$top/lib -I$top/tests/fuzz -I$OVS_BUILDDIR -I$OVS_SRCDIR
        -I$OVS_SRCDIR/include -I$OVS_BUILDDIR/include -I$OVS_SRCDIR/lib
        -I$OVS_BUILDDIR/lib -DXVIF_VERSION=\"fuzz\""
libs="$OVS_BUILDDIR/lib/.libs/libopenvswitch.a
      $OVS_BUILDDIR/lib/.libs/libopenvswitchavx512.a
      -lssl -lcrypto -lcap-ng -latomic -lm -lunbound -lpthread -lrt"

mkdir -p "$out"
status=0
for t in $targets; do
    case $t in
        tx|rx) srcs="$top/tests/fuzz/fuzz-$t.c $top/lib/xvif-tx.c
                     $top/lib/xvif-rx.c $top/lib/xvif-offload.c
                     $top/lib/xvif-hash.c $top/lib/xvif-mcast.c" ;;
        ctrl) srcs="$top/tests/fuzz/fuzz-ctrl.c $top/lib/xvif-ctrl.c
                    $top/lib/xvif-hash.c $top/lib/xvif-mcast.c" ;;
        xs) srcs="$top/tests/fuzz/fuzz-xs.c $top/lib/xvif-xenbus.c"
            extra=-lxenstore ;;
        *) echo "$0: unknown target $t" >&2; exit 1 ;;
    esac
    echo "== fuzz-$t: building"
    # shellcheck disable=SC2086
    $CLANG $cflags $srcs $libs ${extra:-} -o "$out/fuzz-$t"
    extra=
    $build_only && continue
    mkdir -p "$out/$t/corpus"
    echo "== fuzz-$t: running $secs s over tests/fuzz/corpus/$t"
    if ! (cd "$out/$t" &&
          "$out/fuzz-$t" -max_total_time="$secs" -max_len=4096 \
              -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
              corpus "$top/tests/fuzz/corpus/$t" > log 2>&1); then
        tail -40 "$out/$t/log"
        echo "== fuzz-$t: FAILED (reproducer in $out/$t/)"
        status=1
    else
        grep -E 'stat::number_of_executed_units|cov:' "$out/$t/log" |
            tail -2
        echo "== fuzz-$t: ok"
    fi
done
exit $status
