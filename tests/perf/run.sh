#!/bin/bash
# tests/perf/run.sh -- xvif benchmark suite: xvif (event-driven and PMD)
# beside OVS tap ports, OVS-DPDK vhost-user, the machine's memory-copy limit
# and a bare veth pair, all measured in the same run.  See README.md here.
#
# Usage: tests/perf/run.sh [--quick] [--out DIR] [--runs N] [--idle N[,N...]]
#                          [--sizes S,...] [--queues Q,...] [--no-dpdk]
#                          [--no-profile] [--only PARTS]
#
# PARTS: comma-separated among memcpy,tap,xvif,sg,both,connect,profile,tcp,
#        idle,dpdk
#
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
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
XVIF_BUILD=${XVIF_BUILD:-$top}
OVS_BUILD=${OVS_BUILD:-$(sed -n "s/^OVS_BUILDDIR = //p" "$XVIF_BUILD/Makefile" 2>/dev/null)}

quick=false
out=
runs=
idle_counts=
opt_sizes=
opt_queues=
do_dpdk=true
do_profile=true
only=memcpy,tap,xvif,sg,both,connect,profile,tcp,idle,dpdk
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=true ;;
    --out) out=$2; shift ;;
    --out=*) out=${1#--out=} ;;
    --runs) runs=$2; shift ;;
    --runs=*) runs=${1#--runs=} ;;
    --idle) idle_counts=$2; shift ;;
    --idle=*) idle_counts=${1#--idle=} ;;
    --sizes) opt_sizes=$2; shift ;;
    --sizes=*) opt_sizes=${1#--sizes=} ;;
    --queues) opt_queues=$2; shift ;;
    --queues=*) opt_queues=${1#--queues=} ;;
    --no-dpdk) do_dpdk=false ;;
    --no-profile) do_profile=false ;;
    --only) only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if $quick; then
    runs=${runs:-1}
    sizes="64 1514"
    queue_counts="1"
    warmup=1
    measure=1
    tcp_secs=2
    gso_modes="on"
    idle_secs=3
    idle_counts=${idle_counts:-1,10}
    do_profile=false
else
    runs=${runs:-3}
    sizes="64 512 1514"
    queue_counts="1 2 4"
    warmup=2
    measure=3
    tcp_secs=4
    gso_modes="on off"
    idle_secs=10
    idle_counts=${idle_counts:-1,100,1000}
fi
# --idle N alone means "1 and N", as it always did.
case $idle_counts in
*,*) ;;
1) ;;
*) idle_counts=1,$idle_counts ;;
esac
idle_counts=$(echo "$idle_counts" | tr ',' ' ')
[ -n "$opt_sizes" ] && sizes=$(echo "$opt_sizes" | tr ',' ' ')
[ -n "$opt_queues" ] && queue_counts=$(echo "$opt_queues" | tr ',' ' ')
for v in $runs $sizes $queue_counts $idle_counts; do
    case $v in
    ''|*[!0-9]*) echo "run.sh: $v: number expected" >&2; exit 2 ;;
    esac
done
# The full run measures 512-byte frames (the middle of the curve) at one
# queue only, both one way and both ways: more queues at 64 B (the packet
# rate) and 1514 B (the copy rate) tell as much, in less time.
one_queue_only_sizes=
$quick || [ -n "$opt_sizes$opt_queues" ] || one_queue_only_sizes=512
# point_wanted SIZE QUEUES: whether the forwarding point is measured.
point_wanted() {
    [ "$2" = 1 ] && return 0
    case " $one_queue_only_sizes " in *" $1 "*) return 1 ;; esac
    return 0
}
out=${out:-$here/results/$(date +%Y%m%d-%H%M%S)$($quick && echo -quick)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
raw=$out/raw.jsonl
: > "$raw"

[ -x "$XVIF_BUILD/vswitchd/ovs-vswitchd" ] || {
    echo "run.sh: $XVIF_BUILD is not built (run make)" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root" >&2; exit 1; }

# Every daemon started below inherits this.  With N idle guests,
# xensim-xenstored holds one connection per guest (and per running
# xensim-xl), ovs-vswitchd one event-channel socket per vif queue: 1000
# guests need more than the usual 1024 descriptors.
nofile=$(ulimit -Hn)
if [ "$nofile" = unlimited ] || [ "$nofile" -ge 65536 ]; then
    nofile=65536
elif ulimit -Hn 65536 2>/dev/null; then
    nofile=65536
fi
ulimit -Sn "$nofile" 2>/dev/null

# Everything this run creates lives in $W, on tmpfs; the binaries are copied
# there so that a rebuild of the tree during the run changes nothing.
W=$(mktemp -d /dev/shm/xvif-perf.XXXXXX)
tag=${W##*.}
mkdir -p "$W/bin"
cp "$XVIF_BUILD/vswitchd/ovs-vswitchd" "$XVIF_BUILD/xensim/xensim-netfront" \
   "$XVIF_BUILD/xensim/xensim-xl" "$XVIF_BUILD/xensim/xensim-xenstored" \
   "$W/bin/"
export PATH=$W/bin:$OVS_BUILD/utilities:$OVS_BUILD/ovsdb:$PATH
log() { printf '[%s] %s\n' "$(date +%T)" "$*" | tee -a "$out/run.log" >&2; }

# ---------------------------------------------------------------- cleanup
hugepages_before=
cleanup() {
    set +e
    for p in $(tac "$W/pids" 2>/dev/null); do
        kill "$p" 2>/dev/null
    done
    for f in "$W"/*/*.pid; do
        [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    sleep 0.5
    for p in $(cat "$W/pids" 2>/dev/null); do
        kill -9 "$p" 2>/dev/null
    done
    for ns in $(cat "$W/netns" 2>/dev/null); do
        ip netns del "$ns" 2>/dev/null
    done
    if mountpoint -q "$W/huge" 2>/dev/null; then
        umount "$W/huge"
    fi
    if [ -n "$hugepages_before" ]; then
        echo "$hugepages_before" > /proc/sys/vm/nr_hugepages
    fi
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

addns() {
    ip netns add "$1" && echo "$1" >> "$W/netns"
    ip netns exec "$1" ip link set lo up
}
bgpid() { echo "$1" >> "$W/pids"; }

# ---------------------------------------------------------------- helpers
# result JSON: appends one result object to $raw.
result() { echo "$1" >> "$raw"; }

# cpu_ticks PID: utime+stime of the whole process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# vol_switches PID: voluntary context switches summed over all threads.
vol_switches() {
    cat /proc/"$1"/task/*/status 2>/dev/null \
        | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s + 0}'
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
now() { date +%s.%N; }
# calc EXPR: bc -l, as a JSON number.
calc() {
    echo "$1" | bc -l | sed 's/^\./0./; s/^-\./-0./; s/^$/null/'
}
hz=$(getconf CLK_TCK)
# Debian's python3 has python3-matplotlib; a python3 earlier in PATH may not.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

# Environment for instance DIR (ovsdb-server + ovs-vswitchd [+ xenstored]).
use() {
    export XVIF_SIM_DIR=$1 XENSTORED_PATH=$1/xenstored.sock
    export OVS_RUNDIR=$1 OVS_LOGDIR=$1 OVS_DBDIR=$1 OVS_SYSCONFDIR=$1
}

# start_switch NAME VSWITCHD-BINARY [with-xen]: a private ovsdb-server and
# an ovs-vswitchd (pinned to core 0) in network namespace xvp$tag-NAME, with
# bridge br0 (datapath_type=netdev) and one OpenFlow rule 1 -> 2.
start_switch() {
    local name=$1 bin=$2 xen=${3:-}
    local d=$W/$name ns=xvp$tag-$name
    mkdir -p "$d"
    use "$d"
    (
        cd "$d" || exit 1
        if [ -n "$xen" ]; then
            xensim-xenstored --dir="$d" --detach --no-chdir --pidfile \
                --log-file || exit 1
        fi
        ovsdb-tool create conf.db "$OVS_BUILD/vswitchd/vswitch.ovsschema"
        ovsdb-server --remote=punix:"$d/db.sock" --detach --no-chdir \
            --pidfile --log-file || exit 1
        ovs-vsctl --no-wait init
    ) || return 1
    addns "$ns"
    echo "$ns" > "$d/netns"
    if [ -n "${SWITCH_TSO:-}" ]; then
        ovs-vsctl --no-wait set Open_vSwitch . \
            other_config:userspace-tso-enable=true
    fi
    if [ -n "${SWITCH_DPDK:-}" ]; then
        ovs-vsctl --no-wait set Open_vSwitch . \
            other_config:dpdk-init=true other_config:dpdk-socket-mem=1024 \
            other_config:dpdk-extra="--no-pci --file-prefix=ovs$tag --huge-dir=$W/huge"
    fi
    ovs-vsctl --no-wait set Open_vSwitch . other_config:pmd-cpu-mask=0x1
    (cd "$d" && ip netns exec "$ns" taskset -c 0 "$bin" --detach --no-chdir \
        --pidfile --log-file -vconsole:off) || return 1
    ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev \
        fail-mode=secure || return 1
    ovs-ofctl add-flow br0 in_port=1,actions=output:2
}
vswitchd_pid() { cat "$OVS_RUNDIR"/ovs-vswitchd*.pid; }

# stat_of KEY TEXT: value of the line "KEY=N" in TEXT (netfront/stats).
stat_of() {
    printf '%s\n' "$2" | sed -n "s/^$1=\([0-9]*\)\$/\1/p" | head -1 \
        | awk '{s += $1} END {print s + 0}'
}
# xstat_of KEY TEXT: value of "KEY: N" in the statistics section of
# xvif/show's TEXT (the port's totals over all its queues).
xstat_of() {
    printf '%s\n' "$2" \
        | sed -n "/^ *statistics:/,\$ s/^ *$1: \([0-9]*\)\$/\1/p" \
        | head -1 | awk '{s += $1} END {print s + 0}'
}
nf_stats() { ovs-appctl -t "$OVS_RUNDIR/nf$1.ctl" netfront/stats; }
nf_start() {
    local n=$1; shift
    (cd "$OVS_RUNDIR" && taskset -c 1 xensim-netfront --domid="$n" \
        --detach --no-chdir -vconsole:off --pidfile="nf$n.pid" \
        --log-file="nf$n.log" --unixctl="$OVS_RUNDIR/nf$n.ctl" "$@")
}
nf_stop() {
    local f=$OVS_RUNDIR/nf$1.pid
    [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null
    rm -f "$f"
}
# wait_connected PORT...: waits up to 10 s for every PORT to report
# status:status=connected.
wait_connected() { wait_all_connected 10 "$@"; }
# wait_all_connected SECONDS PORT...: the same, giving up when the number of
# connected ports has not grown for SECONDS, with one OVSDB query per round
# however many ports (1000 "ovs-vsctl get" take seconds).  Sets $CONNECTED.
# With PROGRESS_LOG=FILE and PROGRESS_SKIP=LINES, a new "connected to
# domain" line in FILE (ovs-vswitchd's log) after line LINES counts as
# progress too: with many guests, ovs-vswitchd can spend minutes in one
# main-loop iteration connecting backends before OVSDB hears of any; sets
# $LOGGED_CONNECTS to their number.
wait_all_connected() {
    local secs=$1 list=$W/wait-ports best=-1 since pause=0.05 t seen
    shift
    [ $# -gt 20 ] && pause=0.5
    printf '%s\n' "$@" > "$list"
    since=$(date +%s)
    LOGGED_CONNECTS=0
    for (( ; ; )); do
        CONNECTED=$(ovs-vsctl --bare --columns=name find Interface \
                  status:status=connected 2>/dev/null | grep -cxFf "$list")
        [ "$CONNECTED" -ge $# ] && return 0
        seen=$CONNECTED
        if [ -n "${PROGRESS_LOG:-}" ]; then
            LOGGED_CONNECTS=$(tail -n +"$((PROGRESS_SKIP + 1))" \
                "$PROGRESS_LOG" | grep -c 'connected to domain')
            seen=$((seen + LOGGED_CONNECTS))
        fi
        t=$(date +%s)
        if [ "$seen" -gt "$best" ]; then
            best=$seen
            since=$t
        elif [ $((t - since)) -ge "$secs" ]; then
            break
        fi
        sleep "$pause"
    done
    log "only $CONNECTED of $# ports connected, none more for $secs s"
    return 1
}
mac_of() { printf '00:16:3e:%02x:%02x:%02x' $(($1 >> 16 & 255)) \
               $(($1 >> 8 & 255)) $(($1 & 255)); }
next_dom=1
# guest_add TYPE OFPORT: creates a guest and its port; sets $GUEST to its
# domid.
guest_add() {
    local type=$1 ofport=$2 dom=$next_dom
    next_dom=$((next_dom + 1))
    xensim-xl create "$dom" >/dev/null || return 1
    xensim-xl network-attach "$dom" "mac=$(mac_of $dom)" >/dev/null \
        || return 1
    ovs-vsctl add-port br0 "vif$dom.0" -- set interface "vif$dom.0" \
        type="$type" ${ofport:+ofport_request=$ofport} || return 1
    GUEST=$dom
}
guest_del() {
    local dom
    for dom in "$@"; do
        nf_stop "$dom"
    done
    local vsctl=
    for dom in "$@"; do
        vsctl="$vsctl -- --if-exists del-port vif$dom.0"
    done
    ovs-vsctl --timeout=300 $vsctl
    for dom in "$@"; do
        xensim-xl destroy "$dom" >/dev/null 2>&1
    done
}

# ---------------------------------------------------------------- machine
machine_json() {
    local model cores kernel
    model=$(lscpu | sed -n 's/^Model name: *//p')
    cores=$(nproc)
    kernel=$(uname -r)
    printf '{"kind":"machine","cpu":"%s","cores":%s,"kernel":"%s",' \
        "$model" "$cores" "$kernel"
    printf '"loadavg_start":"%s","quick":%s,"runs":%s,' \
        "$(cut -d' ' -f1-3 /proc/loadavg)" "$quick" "$runs"
    printf '"warmup_s":%s,"measure_s":%s,"date":"%s","commit":"%s"}\n' \
        "$warmup" "$measure" "$(date -u +%FT%TZ)" \
        "$(git -C "$top" rev-parse --short HEAD 2>/dev/null)"
}

# ---------------------------------------------------------------- build
build_helpers() {
    local p
    for p in pkt-gen pkt-sink memcpy-bench; do
        gcc -O2 -Wall -o "$W/bin/$p" "$here/$p.c" || return 1
    done
}

# ---------------------------------------------------------------- memcpy
bench_memcpy() {
    local s r ns pool=1024 secs=1
    $quick && { pool=256; secs=0.3; }
    for s in $sizes; do
        for r in $(seq "$runs"); do
            ns=$(taskset -c 1 memcpy-bench "$s" "$pool" "$secs" \
                 | sed -n 's/^ns_per_copy=\([0-9.]*\).*/\1/p')
            result "$(printf '{"kind":"fwd","port":"copy-limit","size":%s,"queues":1,"run":%s,"ns_per_copy":%s,"mpps":%s}' \
                "$s" "$r" "$ns" "$(calc "1000 / (2 * $ns)")")"
        done
    done
}

# ---------------------------------------------------------------- xvif
# Datapath processing cycles per packet since the last pmd-stats-clear,
# over the PMD threads (OVS counts no cycles for the main thread, which
# polls the event-driven ports: null there): the switch's cost per packet,
# idle polling excluded.
# (The target is the running switch, ovs-vswitchd or ovs-vswitchd-dpdk.)
vswitchd_ctl() { ls "$OVS_RUNDIR"/ovs-vswitchd*.ctl | head -1; }
pmd_cycles_clear() {
    ovs-appctl -t "$(vswitchd_ctl)" dpif-netdev/pmd-stats-clear >/dev/null 2>&1
}
pmd_cycles_per_pkt() {
    ovs-appctl -t "$(vswitchd_ctl)" dpif-netdev/pmd-stats-show 2>/dev/null \
        | awk '
        /packets received:/ {p += $3}
        /^ *processing cycles:/ {c += $3}
        END {if (p > 0 && c > 0) printf "%.1f\n", c / p; else print "null"}'
}

# Reads the xvif/show statistics of PORT.
xvif_show() { ovs-appctl xvif/show "$1" 2>/dev/null; }

# xvif_fwd TYPE SIZE QUEUES RUN: one guest -> OVS -> guest measurement.
# TYPE "xvif-sg" or "xvif-pmd-sg": the same port type, with guests that
# ask for static grants over the control ring (--static-grants).
xvif_fwd() {
    local label=$1 size=$2 q=$3 r=$4 type=${1%-sg} sg=
    local a b pid t0 t1 rx0 rx1 c0 c1 sa0 sa1 sb0 sb1 g0 g1 s0 s1 cyc
    [ "$type" != "$label" ] && sg=--static-grants
    guest_add "$type" 1 || return 1
    a=$GUEST
    guest_add "$type" 2 || return 1
    b=$GUEST
    nf_start "$b" --queues="$q" --sink $sg || return 1
    nf_start "$a" --queues="$q" --gen="$size:dst=$(mac_of "$b")" $sg \
        || return 1
    if ! wait_connected "vif$a.0" "vif$b.0"; then
        guest_del "$a" "$b"
        return 1
    fi
    sleep "$warmup"
    check_queues "$q" "$a" "$b" || { guest_del "$a" "$b"; return 1; }
    pid=$(vswitchd_pid)
    pmd_cycles_clear
    t0=$(now); c0=$(cpu_ticks "$pid")
    s0=$(nf_stats "$b"); g0=$(nf_stats "$a")
    sa0=$(xvif_show "vif$a.0"); sb0=$(xvif_show "vif$b.0")
    if [ -n "${PROFILE_TO:-}" ]; then
        perf record -g --call-graph dwarf,16384 -F 999 -o "$PROFILE_TO.data" -p "$pid" -- sleep "$measure" \
            >/dev/null 2>&1
    else
        sleep "$measure"
    fi
    t1=$(now); c1=$(cpu_ticks "$pid")
    cyc=$(pmd_cycles_per_pkt)
    s1=$(nf_stats "$b"); g1=$(nf_stats "$a")
    sa1=$(xvif_show "vif$a.0"); sb1=$(xvif_show "vif$b.0")
    guest_del "$a" "$b"

    local dt pk d
    dt=$(calc "$t1 - $t0")
    pk=$(( $(stat_of rx_packets "$s1") - $(stat_of rx_packets "$s0") ))
    [ "$pk" -gt 0 ] || { log "xvif $label $size q$q: no packets"; return 1; }
    d() { echo $(( $(stat_of "$1" "$3") - $(stat_of "$1" "$2") )); }
    xd() { echo $(( $(xstat_of "$1" "$3") - $(xstat_of "$1" "$2") )); }
    # Guest A's port ("vif A") receives from the guest (guest TX ring);
    # guest B's port sends to the guest (guest RX ring).
    local txp rxp
    txp=$(xd rx_packets "$sa0" "$sa1")
    rxp=$(xd tx_packets "$sb0" "$sb1")
    [ "$txp" -gt 0 ] || txp=1
    [ "$rxp" -gt 0 ] || rxp=1
    result "$(cat <<EOF | tr -d '\n'
{"kind":"fwd","port":"$label","size":$size,"queues":$q,"run":$r,
"seconds":$dt,"packets":$pk,
"mpps":$(calc "$pk / $dt / 1000000"),
"gbps":$(calc "$pk * $size * 8 / $dt / 1000000000"),
"cpu_s_per_mpkt":$(calc "($c1 - $c0) / $hz / ($pk / 1000000)"),
"vswitchd_cpu":$(calc "($c1 - $c0) / $hz / $dt"),
"proc_cycles_per_pkt":$cyc,
"static_grant_copies_per_pkt":$(calc "($(xd static_grant_copies "$sa0" "$sa1") + $(xd static_grant_copies "$sb0" "$sb1")) / ($txp + $rxp)"),
"gen_sent":$(d gen_sent "$g0" "$g1"),
"offered_mpps":$(calc "$(d gen_sent "$g0" "$g1") / $dt / 1000000"),
"switch_in_mpps":$(calc "$txp / $dt / 1000000"),
"tx_notify_from_guest_per_pkt":$(calc "$(xd notify_received "$sa0" "$sa1") / $txp"),
"tx_notify_to_guest_per_pkt":$(calc "$(xd notify_sent "$sa0" "$sa1") / $txp"),
"rx_notify_to_guest_per_pkt":$(calc "$(xd notify_sent "$sb0" "$sb1") / $rxp"),
"rx_notify_from_guest_per_pkt":$(calc "$(xd notify_received "$sb0" "$sb1") / $rxp"),
"tx_gnt_copy_calls_per_pkt":$(calc "$(xd gnt_copy_calls "$sa0" "$sa1") / $txp"),
"tx_segs_per_call":$(calc "$(xd gnt_copy_segs "$sa0" "$sa1") / ($(xd gnt_copy_calls "$sa0" "$sa1") + 0.000001)"),
"rx_gnt_copy_calls_per_pkt":$(calc "$(xd gnt_copy_calls "$sb0" "$sb1") / $rxp"),
"rx_segs_per_call":$(calc "$(xd gnt_copy_segs "$sb0" "$sb1") / ($(xd gnt_copy_calls "$sb0" "$sb1") + 0.000001)"),
"gen_notify_sent_per_pkt":$(calc "$(d notify_tx_sent "$g0" "$g1") / $txp"),
"sink_notify_received_per_pkt":$(calc "$(d notify_rx_received "$s0" "$s1") / $rxp"),
"sink_rx_dropped":$(d rx_dropped "$s0" "$s1"),
"port_tx_dropped":$(xd tx_dropped "$sb0" "$sb1"),
"loadavg":"$(cut -d' ' -f1 /proc/loadavg)"}
EOF
)"
}

# xvif_both TYPE SIZE QUEUES RUN: guest A -> OVS -> guest B and B -> A at
# the same time (rules in_port=1,actions=output:2 and in_port=2,actions=
# output:1).  Each guest generates towards the other and counts what it
# receives (--gen with --sink: the netfront counts received frames without
# copying them anywhere, as the one-way sink does).
xvif_both() {
    local type=$1 size=$2 q=$3 r=$4
    local a b pid t0 t1 c0 c1 sa0 sa1 sb0 sb1 ga0 ga1 gb0 gb1
    ovs-ofctl add-flow br0 in_port=2,actions=output:1
    guest_add "$type" 1 || return 1
    a=$GUEST
    guest_add "$type" 2 || return 1
    b=$GUEST
    nf_start "$a" --queues="$q" --sink --gen="$size:dst=$(mac_of "$b")" \
        || return 1
    nf_start "$b" --queues="$q" --sink --gen="$size:dst=$(mac_of "$a")" \
        || return 1
    if ! wait_connected "vif$a.0" "vif$b.0"; then
        guest_del "$a" "$b"
        ovs-ofctl del-flows br0 --strict in_port=2
        return 1
    fi
    sleep "$warmup"
    if ! check_queues "$q" "$a" "$b"; then
        guest_del "$a" "$b"
        ovs-ofctl del-flows br0 --strict in_port=2
        return 1
    fi
    pid=$(vswitchd_pid)
    t0=$(now); c0=$(cpu_ticks "$pid")
    ga0=$(nf_stats "$a"); gb0=$(nf_stats "$b")
    sa0=$(xvif_show "vif$a.0"); sb0=$(xvif_show "vif$b.0")
    sleep "$measure"
    t1=$(now); c1=$(cpu_ticks "$pid")
    ga1=$(nf_stats "$a"); gb1=$(nf_stats "$b")
    sa1=$(xvif_show "vif$a.0"); sb1=$(xvif_show "vif$b.0")
    guest_del "$a" "$b"
    ovs-ofctl del-flows br0 --strict in_port=2

    local dt ab ba pk
    dt=$(calc "$t1 - $t0")
    d() { echo $(( $(stat_of "$1" "$3") - $(stat_of "$1" "$2") )); }
    xd() { echo $(( $(xstat_of "$1" "$3") - $(xstat_of "$1" "$2") )); }
    # dd KEY: netfront counter KEY summed over both guests.
    dd() { echo $(( $(d "$1" "$ga0" "$ga1") + $(d "$1" "$gb0" "$gb1") )); }
    # xx KEY: xvif/show counter KEY summed over both ports.
    xx() { echo $(( $(xd "$1" "$sa0" "$sa1") + $(xd "$1" "$sb0" "$sb1") )); }
    ab=$(d rx_packets "$gb0" "$gb1")
    ba=$(d rx_packets "$ga0" "$ga1")
    pk=$((ab + ba))
    if [ "$ab" -le 0 ] || [ "$ba" -le 0 ]; then
        log "xvif both ways $type $size q$q: A->B $ab, B->A $ba packets"
        return 1
    fi
    # Packets the switch took from the guests (their TX rings) and gave to
    # them (their RX rings), both ports together.
    local inp outp
    inp=$(xx rx_packets); outp=$(xx tx_packets)
    [ "$inp" -gt 0 ] || inp=1
    [ "$outp" -gt 0 ] || outp=1
    result "$(cat <<JSON | tr -d '\n'
{"kind":"both","port":"$type","size":$size,"queues":$q,"run":$r,
"seconds":$dt,"packets":$pk,"packets_ab":$ab,"packets_ba":$ba,
"mpps":$(calc "$pk / $dt / 1000000"),
"mpps_ab":$(calc "$ab / $dt / 1000000"),
"mpps_ba":$(calc "$ba / $dt / 1000000"),
"gbps":$(calc "$pk * $size * 8 / $dt / 1000000000"),
"cpu_s_per_mpkt":$(calc "($c1 - $c0) / $hz / ($pk / 1000000)"),
"vswitchd_cpu":$(calc "($c1 - $c0) / $hz / $dt"),
"offered_mpps":$(calc "$(dd gen_sent) / $dt / 1000000"),
"switch_in_mpps":$(calc "$inp / $dt / 1000000"),
"notify_sent_per_pkt":$(calc "$(xx notify_sent) / $pk"),
"notify_received_per_pkt":$(calc "$(xx notify_received) / $pk"),
"tx_notify_from_guest_per_pkt":$(calc "$(dd notify_tx_sent) / $inp"),
"tx_notify_to_guest_per_pkt":$(calc "$(dd notify_tx_received) / $inp"),
"rx_notify_to_guest_per_pkt":$(calc "$(dd notify_rx_received) / $outp"),
"rx_notify_from_guest_per_pkt":$(calc "$(dd notify_rx_sent) / $outp"),
"gnt_copy_calls_per_pkt":$(calc "$(xx gnt_copy_calls) / ($inp + $outp)"),
"segs_per_call":$(calc "$(xx gnt_copy_segs) / ($(xx gnt_copy_calls) + 0.000001)"),
"sink_rx_dropped":$(dd rx_dropped),
"port_tx_dropped":$(xx tx_dropped),
"loadavg":"$(cut -d' ' -f1 /proc/loadavg)"}
JSON
)"
}

# check_queues Q DOMID...: whether each guest got the Q queues it asked
# for (the backend offers multi-queue-max-queues; fewer would be measured
# as Q queues otherwise).
check_queues() {
    local q=$1 dom got
    shift
    for dom in "$@"; do
        got=$(stat_of queues "$(nf_stats "$dom")")
        if [ "$got" != "$q" ]; then
            log "guest $dom asked for $q queues and has $got" \
                "(backend multi-queue-max-queues: $(xenstore_read \
                    "/local/domain/0/backend/vif/$dom/0/multi-queue-max-queues"))"
            return 1
        fi
    done
}
xenstore_read() {
    ovs-appctl -t xensim-xenstored xenstored/dump "$1" \
        2>/dev/null | sed -n 's/^[^ ]* = "\(.*\)" (.*/\1/p' | head -1
}

# Time from the frontend's Connected to the first packet at the sink.
xvif_connect_latency() {
    local type=$1 r=$2 a b tc tf ms
    guest_add "$type" 2 || return 1
    b=$GUEST
    nf_start "$b" --sink || return 1
    wait_connected "vif$b.0" || return 1
    guest_add "$type" 1 || return 1
    a=$GUEST
    nf_start "$a" --gen="64:rate=10000:dst=$(mac_of "$b")" || return 1
    # Polls the sink; each poll costs a few ms, so this is an upper bound.
    for i in $(seq 1000); do
        if [ "$(stat_of rx_packets "$(nf_stats "$b")")" -gt 0 ]; then
            tf=$(now)
            break
        fi
    done
    # The guest logs (to the ms, UTC) when its frontend reaches Connected.
    tc=$(sed -n 's/^\([^|]*\)|.*frontend state .* -> Connected.*/\1/p' \
         "$OVS_RUNDIR/nf$a.log" | tail -1)
    guest_del "$a" "$b"
    [ -n "$tc" ] && [ -n "${tf:-}" ] || { log "connect latency: no data"; return 1; }
    ms=$(calc "($tf - $(date -d "$tc" +%s.%N)) * 1000")
    result "{\"kind\":\"connect\",\"port\":\"$type\",\"run\":$r,\"ms\":$ms}"
}

# TCP between two guests whose netfronts are taps in namespaces.
xvif_tcp() {
    local gso=$1 r=$2 a b nsa nsb opt=
    [ "$gso" = off ] && opt=--no-gso
    ovs-ofctl add-flow br0 in_port=2,actions=output:1
    nsa=xvp$tag-ga; nsb=xvp$tag-gb
    addns "$nsa"; addns "$nsb"
    guest_add xvif 1 || return 1
    a=$GUEST
    guest_add xvif 2 || return 1
    b=$GUEST
    nf_start "$a" $opt --tap="xvp${tag}a:netns=$nsa:ip=10.9.0.1/24" || return 1
    nf_start "$b" $opt --tap="xvp${tag}b:netns=$nsb:ip=10.9.0.2/24" || return 1
    wait_connected "vif$a.0" "vif$b.0" || return 1
    iperf_pair "$nsa" "$nsb" 10.9.0.2 "xvif-gso-$gso${TCP_LABEL:-}" "$r"
    guest_del "$a" "$b"
    ovs-ofctl del-flows br0 --strict in_port=2
    ip netns del "$nsa"; ip netns del "$nsb"
}

# iperf_pair NS-CLIENT NS-SERVER SERVER-IP LABEL RUN
iperf_pair() {
    local pid c0 c1 j gbps
    ip netns exec "$2" taskset -c 1 iperf3 -s -1 -B "$3" -p 5301 \
        > "$W/iperf-s.log" 2>&1 &
    bgpid $!
    sleep 0.3
    pid=$(vswitchd_pid 2>/dev/null)
    c0=$(cpu_ticks "$pid" 2>/dev/null || echo 0)
    j=$(ip netns exec "$1" taskset -c 1 iperf3 -c "$3" -p 5301 \
        -t "$tcp_secs" -O 1 -J 2>/dev/null)
    c1=$(cpu_ticks "$pid" 2>/dev/null || echo 0)
    wait 2>/dev/null
    gbps=$(printf '%s' "$j" | python3 -c 'import json,sys
try:
    print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9)
except Exception:
    print(0)')
    result "{\"kind\":\"tcp\",\"port\":\"$4\",\"run\":$5,\"gbps\":$gbps,\"vswitchd_cpu\":$(calc "($c1 - $c0) / $hz / $tcp_secs")}"
}

# Idle guests: wakeups/s of ovs-vswitchd and RSS per vif, at scale.

# idle_guest_up DOMID: what "xl create" of a guest with one vif does: the
# domain, then the vif (xensim-xl waits for the backend's InitWait).
idle_guest_up() {
    xensim-xl create "$1" >/dev/null \
        && xensim-xl network-attach "$1" "mac=$(mac_of "$1")" >/dev/null
}
idle_guest_down() { xensim-xl destroy "$1" >/dev/null 2>&1; }
# par JOBS FUNCTION ARG...: FUNCTION ARG for each ARG, JOBS at a time
# (xensim-xl spends most of its time waiting for xenstore and the
# backend); fails if one failed.
par() {
    local jobs=$1 f=$2
    shift 2
    export -f "$f" mac_of nf_start
    printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c "$f {}"
}
# sum_ticks PIDFILE...: utime+stime summed over the processes, one awk.
sum_ticks() {
    cat "$@" 2>/dev/null | sed 's|.*|/proc/&/stat|' \
        | xargs awk '{s += $14 + $15} END {print s + 0}' 2>/dev/null
}
sum_rss() {
    cat "$@" 2>/dev/null | sed 's|.*|/proc/&/status|' \
        | xargs awk '/^VmRSS/ {s += $2} END {print s + 0}' 2>/dev/null
}
# log_problems FILE SKIP: the WARN/ERR/EMER lines of FILE after line SKIP.
log_problems() {
    tail -n +"$(($2 + 1))" "$1" 2>/dev/null | grep -E '\|(WARN|ERR|EMER)\|'
}

# xvif_idle N: N guests, each with a connected xvif port and an idle
# netfront (--sink); ovs-vswitchd's and xenstored's wakeups/s before and
# after, RSS per vif, the guests' CPU, and how long setting up and tearing
# down the N guests takes, phase by phase.
xvif_idle() {
    local n=$1 pid xpid doms= d i w0 w1 x0 x1 t0 t1 rss0 rss1 xrss0 xrss1
    local jobs pidfiles= ports= vsctl= failed=
    jobs=$(idle_jobs "$n")
    pid=$(vswitchd_pid)
    xpid=$(cat "$OVS_RUNDIR/xensim-xenstored.pid")
    local vlog=$OVS_RUNDIR/ovs-vswitchd.log xlog=$OVS_RUNDIR/xensim-xenstored.log
    local vskip xskip
    vskip=$(wc -l < "$vlog"); xskip=$(wc -l < "$xlog")
    sleep 1
    rss0=$(rss_kib "$pid"); xrss0=$(rss_kib "$xpid")
    # Both windows equally long: OVS's own timers fire every few seconds.
    w0=$(vol_switches "$pid"); x0=$(vol_switches "$xpid"); t0=$(now)
    sleep "$idle_secs"
    w1=$(vol_switches "$pid"); x1=$(vol_switches "$xpid"); t1=$(now)
    local base xbase
    base=$(calc "($w1 - $w0) / ($t1 - $t0)")
    xbase=$(calc "($x1 - $x0) / ($t1 - $t0)")

    for i in $(seq "$n"); do
        d=$next_dom
        next_dom=$((next_dom + 1))
        doms="$doms $d"
        ports="$ports vif$d.0"
        pidfiles="$pidfiles $OVS_RUNDIR/nf$d.pid"
        vsctl="$vsctl -- add-port br0 vif$d.0"
        vsctl="$vsctl -- set interface vif$d.0 type=xvif"
    done
    # Set-up, phase by phase: domains and vifs first, then one OVSDB
    # transaction for all the ports (one ovs-vsctl per port would
    # reconfigure the bridge N times), then the netfronts, then one query
    # per round until every port is connected.
    local s0 s1 s2 s3 s4 c0 c1
    local xc0 xc1
    c0=$(cpu_ticks "$pid"); xc0=$(cpu_ticks "$xpid")
    s0=$(now)
    par "$jobs" idle_guest_up $doms || failed="xensim-xl create/network-attach"
    s1=$(now)
    if [ -z "$failed" ]; then
        ovs-vsctl --timeout=600 $vsctl || failed="ovs-vsctl add-port"
    fi
    s2=$(now)
    if [ -z "$failed" ]; then
        par "$jobs" "nf_start_sink" $doms || failed="xensim-netfront start"
    fi
    s3=$(now)
    CONNECTED=0 LOGGED_CONNECTS=0
    if [ -z "$failed" ]; then
        # ovs-vswitchd connects a batch of backends per main-loop
        # iteration, which takes long with many guests: "stalled" means
        # two minutes without one more port connected.
        PROGRESS_LOG=$vlog PROGRESS_SKIP=$vskip \
            wait_all_connected 120 $ports || failed="connect"
    fi
    s4=$(now)
    c1=$(cpu_ticks "$pid"); xc1=$(cpu_ticks "$xpid")
    log "idle $n: set-up $(calc "$s4 - $s0" | cut -c1-6) s" \
        "(xl $(calc "$s1 - $s0" | cut -c1-6), vsctl $(calc "$s2 - $s1" | cut -c1-6)," \
        "netfronts $(calc "$s3 - $s2" | cut -c1-6), connect $(calc "$s4 - $s3" | cut -c1-6))"
    local phases
    phases=$(printf '"setup_s":%s,"setup_xl_s":%s,"setup_vsctl_s":%s,"setup_netfront_s":%s,"setup_connect_s":%s,"setup_vswitchd_cpu_s":%s,"setup_xenstored_cpu_s":%s,"parallel_jobs":%s' \
        "$(calc "$s4 - $s0")" "$(calc "$s1 - $s0")" "$(calc "$s2 - $s1")" \
        "$(calc "$s3 - $s2")" "$(calc "$s4 - $s3")" \
        "$(calc "($c1 - $c0) / $hz")" "$(calc "($xc1 - $xc0) / $hz")" "$jobs")
    if [ -n "$failed" ]; then
        # Nothing idle to measure: what failed, how far it got, and what it
        # costs to clean up.
        # OVSDB's status lags when ovs-vswitchd is stuck in long
        # iterations: its log says how many backends really connected.
        local logged
        logged=$(tail -n +"$((vskip + 1))" "$vlog" \
                     | grep -c 'connected to domain')
        log "idle $n: $failed failed ($CONNECTED connected in OVSDB," \
            "$logged backend connections logged)"
        idle_evidence "$n" "$vlog" "$vskip" "$xlog" "$xskip" $ports
        local e0 e1
        e0=$(now)
        idle_teardown $doms
        e1=$(now)
        log "idle $n: teardown $(calc "$e1 - $e0" | cut -c1-6) s"
        result "$(printf '{"kind":"idle-failed","vifs":%s,"phase":"%s","connected":%s,"backend_connects_logged":%s,%s,"teardown_s":%s,"log_warnings":%s,"problems":"idle-%s-problems.log"}' \
            "$n" "$failed" "$CONNECTED" "$logged" "$phases" "$(calc "$e1 - $e0")" \
            "$(( $(log_problems "$vlog" "$vskip" | wc -l) + $(log_problems "$xlog" "$xskip" | wc -l) ))" \
            "$n")"
        return 1
    fi

    # Settled: ovs-vswitchd used (almost) no CPU for a second; at most 30 s.
    local k c
    for k in $(seq 30); do
        c=$(cpu_ticks "$pid")
        sleep 1
        [ $(( $(cpu_ticks "$pid") - c )) -le 1 ] && [ "$k" -ge 2 ] && break
    done
    rss1=$(rss_kib "$pid"); xrss1=$(rss_kib "$xpid")
    # The idle guests' own CPU time too: an idle netfront should sleep.
    local g0 g1 grss
    grss=$(sum_rss $pidfiles)
    g0=$(sum_ticks $pidfiles)
    w0=$(vol_switches "$pid"); x0=$(vol_switches "$xpid"); t0=$(now)
    sleep "$idle_secs"
    w1=$(vol_switches "$pid"); x1=$(vol_switches "$xpid"); t1=$(now)
    g1=$(sum_ticks $pidfiles)
    local idle_cpu
    idle_cpu=$(calc "($(cpu_ticks "$pid") - $c1) / $hz / ($(now) - $s4)")

    local e0 e1 rss2
    e0=$(now)
    idle_teardown $doms
    e1=$(now)
    sleep 1
    rss2=$(rss_kib "$pid")
    local nwarn
    nwarn=$(log_problems "$vlog" "$vskip" | wc -l)
    nwarn=$((nwarn + $(log_problems "$xlog" "$xskip" | wc -l)))
    [ "$nwarn" -gt 0 ] && idle_evidence "$n" "$vlog" "$vskip" "$xlog" "$xskip"
    result "$(cat <<JSON | tr -d '\n'
{"kind":"idle","vifs":$n,
"wakeups_per_s_base":$base,
"wakeups_per_s":$(calc "($w1 - $w0) / ($t1 - $t0)"),
"rss_kib_per_vif":$(calc "($rss1 - $rss0) / $n"),
"guest_cpu_per_vif":$(calc "($g1 - $g0) / $hz / ($t1 - $t0) / $n"),
"guest_rss_kib_per_vif":$(calc "$grss / $n"),
"vswitchd_cpu_idle":$idle_cpu,
"xenstored_wakeups_per_s_base":$xbase,
"xenstored_wakeups_per_s":$(calc "($x1 - $x0) / ($t1 - $t0)"),
"xenstored_rss_kib_per_vif":$(calc "($xrss1 - $xrss0) / $n"),
$phases,
"teardown_s":$(calc "$e1 - $e0"),
"rss_kib_left_after_teardown":$((rss2 - rss0)),
"log_warnings":$nwarn}
JSON
)"
}
nf_start_sink() { nf_start "$1" --sink; }
# idle_jobs N: how many toolstack commands or guest start-ups run at once.
idle_jobs() {
    if [ -n "${IDLE_JOBS:-}" ]; then
        echo "$IDLE_JOBS"
    elif [ "$1" -ge 20 ]; then
        echo 8
    else
        echo 1
    fi
}

# idle_teardown DOMID...: the guests go as they came, in bulk: every
# netfront at once, one OVSDB transaction, then the domains.
idle_teardown() {
    local d pids= vsctl= jobs
    jobs=$(idle_jobs $#)
    for d in "$@"; do
        [ -e "$OVS_RUNDIR/nf$d.pid" ] && pids="$pids $(cat "$OVS_RUNDIR/nf$d.pid")"
        vsctl="$vsctl -- --if-exists del-port vif$d.0"
    done
    [ -n "$pids" ] && kill $pids 2>/dev/null
    ovs-vsctl --timeout=600 $vsctl
    par "$jobs" idle_guest_down "$@"
    for d in "$@"; do
        rm -f "$OVS_RUNDIR/nf$d.pid"
    done
}

# idle_evidence N VSWITCHD-LOG SKIP XENSTORED-LOG SKIP [PORT...]: keeps
# what went wrong with N idle guests in $out/idle-N-problems.log.
idle_evidence() {
    local n=$1 f=$out/idle-$1-problems.log vlog=$2 xlog=$4
    {
        echo "## distinct WARN/ERR/EMER messages (numbers replaced by N), with counts"
        { log_problems "$2" "$3"; log_problems "$4" "$5"; } \
            | cut -d'|' -f3- | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c \
            | sort -rn | head -40
        echo "## ovs-vswitchd.log WARN/ERR/EMER lines"
        log_problems "$2" "$3" | head -200
        echo "## xensim-xenstored.log WARN/ERR/EMER lines"
        log_problems "$4" "$5" | head -200
        shift 5
        if [ $# -gt 0 ]; then
            echo "## status of the xvif ports (status, backend and frontend states, last_error), with counts"
            ovs-vsctl --columns=status find Interface type=xvif \
                | grep -o '\(status\|backend_state\|frontend_state\|last_error\)="\?[^",}]*' \
                | sort | uniq -c | sort -rn | head -40
            echo "## first ports not connected"
            ovs-vsctl --bare --columns=name find Interface \
                status:status=connected > "$W/connected"
            printf '%s\n' "$@" | grep -vxFf "$W/connected" | head -10 \
                | while read -r p; do
                echo "$p: $(ovs-vsctl get Interface "$p" status 2>&1)"
            done
        fi
    } > "$f"
    # The whole logs too, when something failed.
    if [ $# -gt 0 ]; then
        gzip -c "$vlog" > "$out/idle-$n-ovs-vswitchd.log.gz"
        gzip -c "$xlog" > "$out/idle-$n-xensim-xenstored.log.gz"
    fi
    log "idle $n: problems kept in $f"
}

# ---------------------------------------------------------------- tap
tap_fwd() {
    local size=$1 r=$2 ns pid c0 c1 t0 t1 line pk dt
    ns=$(cat "$OVS_RUNDIR/netns")
    ip netns exec "$ns" taskset -c 1 pkt-sink ptap2 "$warmup" "$measure" \
        > "$W/sink.out" 2>&1 &
    local sink=$!
    bgpid $sink
    ip netns exec "$ns" taskset -c 1 pkt-gen ptap1 "$size" \
        02:00:00:00:00:02 &
    local gen=$!
    bgpid $gen
    pid=$(vswitchd_pid)
    sleep "$warmup"
    t0=$(now); c0=$(cpu_ticks "$pid")
    wait $sink
    t1=$(now); c1=$(cpu_ticks "$pid")
    kill $gen; wait $gen 2>/dev/null
    line=$(cat "$W/sink.out")
    pk=$(printf '%s' "$line" | sed -n 's/.*packets=\([0-9]*\).*/\1/p')
    dt=$(printf '%s' "$line" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
    [ -n "$pk" ] && [ "$pk" -gt 0 ] || { log "tap $size: $line"; return 1; }
    result "$(printf '{"kind":"fwd","port":"tap","size":%s,"queues":1,"run":%s,"seconds":%s,"packets":%s,"mpps":%s,"gbps":%s,"cpu_s_per_mpkt":%s,"vswitchd_cpu":%s,"loadavg":"%s"}' \
        "$size" "$r" "$dt" "$pk" "$(calc "$pk / $dt / 1000000")" \
        "$(calc "$pk * $size * 8 / $dt / 1000000000")" \
        "$(calc "($c1 - $c0) / $hz / ($pk / 1000000)")" \
        "$(calc "($c1 - $c0) / $hz / ($t1 - $t0)")" \
        "$(cut -d' ' -f1 /proc/loadavg)")"
}

# tap_both SIZE RUN: both ways through the tap ports, as xvif_both: a pkt-gen
# and a pkt-sink on each tap's kernel side (four processes on core 1), rules
# 1 -> 2 and 2 -> 1.
tap_both() {
    local size=$1 r=$2 ns pid c0 c1 t0 t1 k pk1 pk2 dt1 dt2 line
    ns=$(cat "$OVS_RUNDIR/netns")
    ovs-ofctl add-flow br0 in_port=2,actions=output:1
    local pids=
    for k in 1 2; do
        ip netns exec "$ns" taskset -c 1 pkt-sink "ptap$k" "$warmup" \
            "$measure" > "$W/sink$k.out" 2>&1 &
        bgpid $!
        pids="$pids $!"
    done
    local gens=
    ip netns exec "$ns" taskset -c 1 pkt-gen ptap1 "$size" \
        02:00:00:00:00:02 &
    bgpid $!
    gens="$gens $!"
    ip netns exec "$ns" taskset -c 1 pkt-gen ptap2 "$size" \
        02:00:00:00:00:01 &
    bgpid $!
    gens="$gens $!"
    pid=$(vswitchd_pid)
    sleep "$warmup"
    t0=$(now); c0=$(cpu_ticks "$pid")
    wait $pids
    t1=$(now); c1=$(cpu_ticks "$pid")
    kill $gens; wait $gens 2>/dev/null
    ovs-ofctl del-flows br0 --strict in_port=2
    # ptap2's sink counts A -> B (in at ptap1), ptap1's B -> A.
    line=$(cat "$W/sink2.out")
    pk1=$(printf '%s' "$line" | sed -n 's/.*packets=\([0-9]*\).*/\1/p')
    dt1=$(printf '%s' "$line" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
    line="$line / $(cat "$W/sink1.out")"
    pk2=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' "$W/sink1.out")
    dt2=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$W/sink1.out")
    if [ -z "$pk1" ] || [ -z "$pk2" ] || [ "$pk1" -le 0 ] \
       || [ "$pk2" -le 0 ]; then
        log "tap both ways $size: $line"
        return 1
    fi
    local ab ba mpps dt
    ab=$(calc "$pk1 / $dt1 / 1000000")
    ba=$(calc "$pk2 / $dt2 / 1000000")
    mpps=$(calc "$ab + $ba")
    dt=$(calc "$t1 - $t0")
    result "$(printf '{"kind":"both","port":"tap","size":%s,"queues":1,"run":%s,"seconds":%s,"packets":%s,"packets_ab":%s,"packets_ba":%s,"mpps":%s,"mpps_ab":%s,"mpps_ba":%s,"gbps":%s,"cpu_s_per_mpkt":%s,"vswitchd_cpu":%s,"loadavg":"%s"}' \
        "$size" "$r" "$dt1" "$((pk1 + pk2))" "$pk1" "$pk2" "$mpps" "$ab" \
        "$ba" "$(calc "$mpps * $size * 8 / 1000")" \
        "$(calc "($c1 - $c0) / $hz / ($mpps * $dt)")" \
        "$(calc "($c1 - $c0) / $hz / $dt")" \
        "$(cut -d' ' -f1 /proc/loadavg)")"
}

veth_tcp() {
    local r=$1 na=xvp$tag-va nb=xvp$tag-vb
    addns "$na"; addns "$nb"
    ip link add "xvp${tag}va" netns "$na" type veth peer "xvp${tag}vb" \
        netns "$nb"
    ip -n "$na" addr add 10.9.1.1/24 dev "xvp${tag}va"
    ip -n "$nb" addr add 10.9.1.2/24 dev "xvp${tag}vb"
    ip -n "$na" link set "xvp${tag}va" up
    ip -n "$nb" link set "xvp${tag}vb" up
    sleep 0.5
    iperf_pair "$na" "$nb" 10.9.1.2 veth "$r"
    ip netns del "$na"; ip netns del "$nb"
}

# ---------------------------------------------------------------- dpdk
dpdk_skip() {
    log "vhost-user skipped: $1"
    result "{\"kind\":\"skip\",\"port\":\"vhost-user\",\"reason\":\"$1\"}"
}

# OVS-DPDK with two dpdkvhostuserclient ports and one dpdk-testpmd that
# owns both virtio-user ends: a closed loop (io forwarding, paired ports)
# seeded with 16 bursts; the rate is read from OpenFlow port 2's counters.
bench_dpdk() {
    local vsd=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
    local testpmd
    testpmd=$(command -v dpdk-testpmd)
    [ -x "$vsd" ] || { dpdk_skip "openvswitch-switch-dpdk not installed"; return; }
    [ -n "$testpmd" ] || { dpdk_skip "dpdk-testpmd (dpdk-dev) not installed"; return; }
    hugepages_before=$(cat /proc/sys/vm/nr_hugepages)
    local free need=1024
    free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
    if [ "$free" -lt "$need" ]; then
        echo $((hugepages_before + need - free)) > /proc/sys/vm/nr_hugepages
    fi
    free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
    [ "$free" -ge "$need" ] || { dpdk_skip "only $free free 2 MB hugepages"; return; }
    mkdir -p "$W/huge"
    mount -t hugetlbfs -o pagesize=2M none "$W/huge" \
        || { dpdk_skip "cannot mount hugetlbfs"; return; }

    SWITCH_DPDK=1 start_switch dpdk "$vsd" \
        || { dpdk_skip "ovs-vswitchd-dpdk did not start"; return; }
    sleep 1
    if ! ovs-vsctl get Open_vSwitch . dpdk_initialized | grep -q true; then
        dpdk_skip "DPDK did not initialise (see dpdk-vswitchd.log)"
        cp "$OVS_RUNDIR"/ovs-vswitchd*.log "$out/dpdk-vswitchd.log"
        return
    fi
    ovs-vsctl add-port br0 vhu1 -- set interface vhu1 \
        type=dpdkvhostuserclient options:vhost-server-path="$W/vhu1.sock" \
        ofport_request=1 \
        -- add-port br0 vhu2 -- set interface vhu2 type=dpdkvhostuserclient \
        options:vhost-server-path="$W/vhu2.sock" ofport_request=2 || {
        dpdk_skip "cannot add vhost-user ports"; return; }

    local size r
    for size in $sizes; do
        for r in $(seq "$runs"); do
            dpdk_run "$testpmd" "$size" "$r"
        done
    done
    want both || return 0
    # Both ways: with the second rule, what testpmd sends on port 1 (into
    # vhu2) goes to vhu1 and comes back too: two closed loops, one each
    # way, through the same PMD.
    log "OVS-DPDK vhost-user, both ways"
    ovs-ofctl add-flow br0 in_port=2,actions=output:1
    for size in $sizes; do
        for r in $(seq "$runs"); do
            dpdk_run "$testpmd" "$size" "$r" both
        done
    done
    ovs-ofctl del-flows br0 --strict in_port=2
}

port_tx() {
    ovs-ofctl dump-ports br0 "$1" | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p'
}

# dpdk_run TESTPMD SIZE RUN [both]: one closed-loop measurement.  testpmd's
# "start tx_first 16" sends 16 bursts of 32 on each port; io forwarding with
# paired ports returns what port 1 (vhu2) receives on port 0 (vhu1) and the
# other way round.  One way, only the loop through in_port=1 -> output:2
# survives (OVS drops what enters vhu2); both ways, both loops run.
dpdk_run() {
    local testpmd=$1 size=$2 r=$3 both=${4:-} pid c0 c1 t0 t1 p0 p1 tp dt i
    local q0 q1 name=$size-$r
    [ -n "$both" ] && name=both-$name
    rm -f "$W/tp-stop"
    {
        echo "set fwd io"
        sleep 1
        echo "start tx_first 16"
        while [ ! -e "$W/tp-stop" ]; do
            sleep 0.2
        done
        echo "stop"
        echo "quit"
    } | taskset -c 0,1 "$testpmd" -l 0,1 --main-lcore=0 --no-pci -m 512 \
        --single-file-segments \
        --file-prefix="tp$tag" --huge-dir="$W/huge" \
        --vdev="net_virtio_user0,path=$W/vhu1.sock,server=1,queue_size=1024" \
        --vdev="net_virtio_user1,path=$W/vhu2.sock,server=1,queue_size=1024" \
        -- -i --port-topology=paired --txpkts="$size" --nb-cores=1 \
        --total-num-mbufs=16384 > "$W/testpmd.log" 2>&1 &
    tp=$!
    bgpid $tp
    # Waits until the loop runs (testpmd's start-up takes seconds).
    p0=$(port_tx 2)
    for i in $(seq 150); do
        sleep 0.2
        p1=$(port_tx 2)
        [ -n "$p1" ] && [ "${p1:-0}" -gt "${p0:-0}" ] && break
    done
    sleep "$warmup"
    pid=$(vswitchd_pid)
    pmd_cycles_clear
    t0=$(now); c0=$(cpu_ticks "$pid"); p0=$(port_tx 2); q0=$(port_tx 1)
    sleep "$measure"
    t1=$(now); c1=$(cpu_ticks "$pid"); p1=$(port_tx 2); q1=$(port_tx 1)
    cyc=$(pmd_cycles_per_pkt)
    touch "$W/tp-stop"
    wait $tp
    cp "$W/testpmd.log" "$out/testpmd-$name.log"
    dt=$(calc "$t1 - $t0")
    if [ -z "$p0" ] || [ -z "$p1" ] || [ $((p1 - p0)) -le 0 ]; then
        log "vhost-user $size run $r${both:+ both ways}: no packets (see testpmd-$name.log)"
        return 1
    fi
    local pk=$((p1 - p0)) kind=fwd extra=
    if [ -n "$both" ]; then
        # Port 2's transmissions are A -> B (vhu1 -> vhu2), port 1's B -> A.
        local ba=$((${q1:-0} - ${q0:-0}))
        if [ "$ba" -le 0 ]; then
            log "vhost-user $size run $r both ways: nothing B -> A"
            return 1
        fi
        extra=$(printf ',"packets_ab":%s,"packets_ba":%s,"mpps_ab":%s,"mpps_ba":%s' \
            "$pk" "$ba" "$(calc "$pk / $dt / 1000000")" \
            "$(calc "$ba / $dt / 1000000")")
        pk=$((pk + ba))
        kind=both
    fi
    result "$(printf '{"kind":"%s","port":"vhost-user","size":%s,"queues":1,"run":%s,"seconds":%s,"packets":%s,"mpps":%s,"gbps":%s,"cpu_s_per_mpkt":%s,"vswitchd_cpu":%s,"proc_cycles_per_pkt":%s,"loadavg":"%s"%s}' \
        "$kind" "$size" "$r" "$dt" "$pk" "$(calc "$pk / $dt / 1000000")" \
        "$(calc "$pk * $size * 8 / $dt / 1000000000")" \
        "$(calc "($c1 - $c0) / $hz / ($pk / 1000000)")" \
        "$(calc "($c1 - $c0) / $hz / $dt")" "${cyc:-null}" \
        "$(cut -d' ' -f1 /proc/loadavg)" "$extra")"
}

# ---------------------------------------------------------------- main
want() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
start_time=$(date +%s)
machine_json > "$out/machine.json"
log "output in $out; work dir $W; load $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$(ulimit -Sn)" -ge 4096 ] || log "warning: only $(ulimit -Sn) file" \
    "descriptors per process (cannot raise the hard limit): many idle guests may fail"
build_helpers || { log "cannot build the C helpers"; exit 1; }

if want memcpy; then
    log "memory-copy limit"
    bench_memcpy
fi

start_switch main "$W/bin/ovs-vswitchd" xen || { log "switch failed"; exit 1; }
main_dir=$W/main

if want tap || want both; then
    log "OVS tap ports"
    ovs-vsctl add-port br0 ptap1 \
        -- set interface ptap1 type=tap ofport_request=1 \
        -- add-port br0 ptap2 -- set interface ptap2 type=tap ofport_request=2
    ns=$(cat "$OVS_RUNDIR/netns")
    for t in ptap1 ptap2; do
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$t.disable_ipv6=1"
        ip netns exec "$ns" ip link set "$t" up
    done
    want tap && for s in $sizes; do
        for r in $(seq "$runs"); do
            tap_fwd "$s" "$r"
        done
    done
    want both && for s in $sizes; do
        for r in $(seq "$runs"); do
            log "tap both ways size=$s run $r"
            tap_both "$s" "$r"
        done
    done
    ovs-vsctl del-port ptap1 -- del-port ptap2
fi

want xvif && for type in xvif xvif-pmd; do
    for q in $queue_counts; do
        for s in $sizes; do
            point_wanted "$s" "$q" || continue
            for r in $(seq "$runs"); do
                log "xvif type=$type size=$s queues=$q run $r"
                xvif_fwd "$type" "$s" "$q" "$r"
            done
        done
    done
done

# Static grants: the same one-way points with guests that ask for them
# (1 queue, smallest and largest size).
want sg && for type in xvif-sg xvif-pmd-sg; do
    for s in $sizes; do
        case $s in 64|1514) ;; *) continue ;; esac
        for r in $(seq "$runs"); do
            log "xvif static grants type=$type size=$s run $r"
            xvif_fwd "$type" "$s" 1 "$r"
        done
    done
done

want both && for type in xvif xvif-pmd; do
    for q in $queue_counts; do
        for s in $sizes; do
            point_wanted "$s" "$q" || continue
            for r in $(seq "$runs"); do
                log "xvif both ways type=$type size=$s queues=$q run $r"
                xvif_both "$type" "$s" "$q" "$r"
            done
        done
    done
done

want connect && for r in $(seq "$runs"); do
    xvif_connect_latency xvif "$r"
done

if $do_profile && want profile; then
    for type in xvif xvif-pmd; do
        log "profile: perf record -g, $type 64 B"
        PROFILE_TO=$out/perf-$type-64 xvif_fwd "$type" 64 1 0
        {
            echo "## by shared object"
            perf report -i "$out/perf-$type-64.data" --stdio --no-children \
                --sort dso --percent-limit 2 -g none 2>/dev/null
            echo "## self time by symbol"
            perf report -i "$out/perf-$type-64.data" --stdio --no-children \
                --percent-limit 1.5 -g none 2>/dev/null
            echo "## inclusive (children) by symbol"
            perf report -i "$out/perf-$type-64.data" --stdio --children \
                --percent-limit 8 -g none 2>/dev/null
        } | grep -v '^#' | grep -v '^$' > "$out/perf-$type-64.txt"
        rm -f "$out/perf-$type-64.data"
    done
fi

want tcp && log "TCP"
want tcp && for r in $(seq "$runs"); do
    for g in $gso_modes; do
        xvif_tcp "$g" "$r"
    done
    veth_tcp "$r"
done

# TCP once more with userspace-tso-enable=true (read by ovs-vswitchd at
# start only: a second switch): GSO packets then cross the switch whole.
if want tcp; then
    log "TCP with userspace-tso-enable=true"
    SWITCH_TSO=1 start_switch tso "$W/bin/ovs-vswitchd" xen \
        || log "TSO switch failed"
    for r in $(seq "$runs"); do
        TCP_LABEL=-tso xvif_tcp on "$r"
    done
    kill "$(cat "$OVS_RUNDIR/ovs-vswitchd.pid")" 2>/dev/null
    use "$main_dir"
fi

if want idle; then
    for n in $idle_counts; do
        log "idle guests: $n"
        xvif_idle "$n"
    done
fi

if ! want dpdk; then
    :
elif $do_dpdk; then
    log "OVS-DPDK vhost-user"
    bench_dpdk
else
    dpdk_skip "--no-dpdk given"
fi

use "$main_dir"
printf '{"kind":"end","loadavg_end":"%s","elapsed_s":%s}\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg)" $(( $(date +%s) - start_time )) \
    >> "$raw"
$py "$here/report.py" "$out" || exit 1
log "done in $(( $(date +%s) - start_time )) s: $out/results.md"
