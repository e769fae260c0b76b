# xvif-check-lib.sh -- the ledger of the check (sourced, not run).
#
# Every part of "tools/xvif-setup.sh check" records what it checked in one
# ledger file, one line per item or group of items:
#
#     STATUS COUNT PART DETAIL
#
# STATUS is PASS, FAIL, SKIP or FLAKY (failed, then passed when run again:
# counted as passed, but named in the summary because it is a bug to fix).
# check_summary prints the FAIL/FLAKY lines by name and the closing line
# "check: N passed, N failed, N skipped" that counts every part.
#
# XVIF_LEDGER names the file (tools/xvif-setup.sh sets it; the ASan run
# inherits it).

# ledger STATUS COUNT PART DETAIL...
ledger() {
    local status=$1 count=$2 part=$3
    shift 3
    [ "$count" -gt 0 ] 2>/dev/null || return 0
    printf '%s %s %s %s\n' "$status" "$count" "$part" "$*" >> "$XVIF_LEDGER"
    printf '== check: %s %s %s %s\n' "$status" "$count" "$part" "$*" >&2
}

# autotest_failed LOG: the numbers and titles of the tests that LOG (an
# autotest testsuite.log) lists as failed, one "NUM: TITLE" per line.
autotest_failed() {
    sed -n '/^## Summary of the failures/,/^## Detailed failed tests/{
        s/^ *\([0-9][0-9]*\): [^ ]*  *\(.*\)$/\1: \2/p }' "$1" 2>/dev/null
}

# autotest_count LOG WHAT: how many tests LOG says were run, not counting
# the skipped ones (WHAT=run), or
# skipped (WHAT=skipped).
autotest_count() {
    local n
    case $2 in
        run) n=$(sed -n 's/^\(ERROR: \)\{0,1\}\(All \)\{0,1\}\([0-9][0-9]*\) tests\{0,1\} \(were\|was\) \(run\|successful\).*/\3/p; s/^\([0-9][0-9]*\) tests\{0,1\} behaved as expected.*/\1/p' "$1" | head -n 1) ;;
        skipped) n=$(sed -n 's/^\([0-9][0-9]*\) tests\{0,1\} \(were\|was\) skipped.*/\1/p' "$1" | head -n 1) ;;
    esac
    echo "${n:-0}"
}

# autotest_part PART DIR [MAKE-ARGS...]: runs the autotest suite of the
# configured build tree DIR ("make check"), runs the failed tests once more
# (--recheck), and records every test under PART.  Returns 1 if a test
# failed both times or the suite did not run.
autotest_part() {
    local part=$1 dir=$2 log first again run skipped nfirst line num
    shift 2
    log=$dir/tests/testsuite.log
    rm -f "$log"
    make -C "$dir" check TESTSUITEFLAGS="-j$(nproc) ${TESTSUITEFLAGS:-}" "$@"
    if [ ! -f "$log" ]; then
        ledger FAIL 1 "$part" "the suite did not run (no $log)"
        return 1
    fi
    cp "$log" "$dir/tests/testsuite-first.log"
    run=$(autotest_count "$log" run)
    skipped=$(autotest_count "$log" skipped)
    first=$(autotest_failed "$log")
    nfirst=$(grep -c . <<< "$first")
    if [ "$run" = 0 ]; then
        ledger FAIL 1 "$part" "no test ran"
        return 1
    fi
    again=
    if [ -n "$first" ]; then
        echo "== rechecking $nfirst failed test(s)"
        make -C "$dir" check TESTSUITEFLAGS="-j$(nproc) --recheck" "$@"
        again=$(autotest_failed "$log")
        [ -f "$log" ] || again=$first
    fi
    # Autotest counts what ran without the skipped ones ("110 tests were
    # successful.  1 test was skipped." is 111 tests).
    ledger PASS $((run - nfirst)) "$part" "tests"
    ledger SKIP "$skipped" "$part" "tests (skipped: see $log)"
    while read -r line; do
        [ -n "$line" ] || continue
        num=${line%%:*}
        if grep -q "^$num:" <<< "$again"; then
            ledger FAIL 1 "$part" "$line"
        else
            ledger FLAKY 1 "$part" "$line (failed, then passed on recheck)"
        fi
    done <<< "$first"
    [ -z "$again" ]
}

# check_summary: the failures and flaky tests by name, then the closing
# line.  Returns 1 if anything failed.
check_summary() {
    local pass fail skip
    pass=$(awk '$1 == "PASS" || $1 == "FLAKY" { n += $2 } END { print n + 0 }' "$XVIF_LEDGER")
    fail=$(awk '$1 == "FAIL" { n += $2 } END { print n + 0 }' "$XVIF_LEDGER")
    skip=$(awk '$1 == "SKIP" { n += $2 } END { print n + 0 }' "$XVIF_LEDGER")
    echo
    echo "== check summary (ledger: $XVIF_LEDGER)"
    awk '{ parts[$3] = 1; if ($1 == "FAIL") f[$3] += $2; else if ($1 != "SKIP") p[$3] += $2; else s[$3] += $2 }
         END { for (k in parts) printf "   %-14s %4d passed, %d failed, %d skipped\n", k, p[k], f[k], s[k] }' \
        "$XVIF_LEDGER" | sort
    grep '^FAIL ' "$XVIF_LEDGER" | sed 's/^FAIL [0-9]* /   failed: /'
    grep '^FLAKY ' "$XVIF_LEDGER" | sed 's/^FLAKY [0-9]* /   flaky: /'
    echo "check: $pass passed, $fail failed, $skip skipped"
    [ "$fail" = 0 ]
}
