#!/bin/bash
# tests/perf/run.sh -- xvif benchmark suite: xvif (event-driven and PMD)
# beside OVS tap ports, OVS-DPDK vhost-user, the machine's memory-copy limit
# and a bare veth pair, all measured in the same run.  See README.md here.
#
# Usage: tests/perf/run.sh [--quick] [--out DIR] [--runs N] [--idle N]
#                          [--no-dpdk] [--no-profile] [--only PARTS]
#
# PARTS: comma-separated among memcpy,tap,xvif,connect,profile,tcp,idle,dpdk
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
idle_big=100
do_dpdk=true
do_profile=true
only=memcpy,tap,xvif,connect,profile,tcp,idle,dpdk
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=true ;;
    --out) out=$2; shift ;;
    --out=*) out=${1#--out=} ;;
    --runs) runs=$2; shift ;;
    --runs=*) runs=${1#--runs=} ;;
    --idle) idle_big=$2; shift ;;
    --idle=*) idle_big=${1#--idle=} ;;
    --no-dpdk) do_dpdk=false ;;
    --no-profile) do_profile=false ;;
    --only) only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
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
    [ "$idle_big" = 100 ] && idle_big=10
    do_profile=false
else
    runs=${runs:-3}
    sizes="64 512 1514"
    queue_counts="1 2"
    warmup=2
    measure=3
    tcp_secs=4
    gso_modes="on off"
    idle_secs=10
fi
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
wait_connected() {
    local port i
    for port in "$@"; do
        for i in $(seq 200); do
            [ "$(ovs-vsctl get interface "$port" status:status 2>/dev/null)" \
              = connected ] && continue 2
            sleep 0.05
        done
        log "$port: not connected"
        return 1
    done
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
# Reads the xvif/show statistics of PORT.
xvif_show() { ovs-appctl xvif/show "$1" 2>/dev/null; }

# xvif_fwd TYPE SIZE QUEUES RUN: one guest -> OVS -> guest measurement.
xvif_fwd() {
    local type=$1 size=$2 q=$3 r=$4
    local a b pid t0 t1 rx0 rx1 c0 c1 sa0 sa1 sb0 sb1 g0 g1 s0 s1
    guest_add "$type" 1 || return 1
    a=$GUEST
    guest_add "$type" 2 || return 1
    b=$GUEST
    nf_start "$b" --queues="$q" --sink || return 1
    nf_start "$a" --queues="$q" --gen="$size:dst=$(mac_of "$b")" || return 1
    if ! wait_connected "vif$a.0" "vif$b.0"; then
        guest_del "$a" "$b"
        return 1
    fi
    sleep "$warmup"
    pid=$(vswitchd_pid)
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
    s1=$(nf_stats "$b"); g1=$(nf_stats "$a")
    sa1=$(xvif_show "vif$a.0"); sb1=$(xvif_show "vif$b.0")
    guest_del "$a" "$b"

    local dt pk d
    dt=$(calc "$t1 - $t0")
    pk=$(( $(stat_of rx_packets "$s1") - $(stat_of rx_packets "$s0") ))
    [ "$pk" -gt 0 ] || { log "xvif $type $size q$q: no packets"; return 1; }
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
{"kind":"fwd","port":"$type","size":$size,"queues":$q,"run":$r,
"seconds":$dt,"packets":$pk,
"mpps":$(calc "$pk / $dt / 1000000"),
"gbps":$(calc "$pk * $size * 8 / $dt / 1000000000"),
"cpu_s_per_mpkt":$(calc "($c1 - $c0) / $hz / ($pk / 1000000)"),
"vswitchd_cpu":$(calc "($c1 - $c0) / $hz / $dt"),
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

# Idle guests: wakeups/s of ovs-vswitchd and RSS per vif.
xvif_idle() {
    local n=$1 pid doms= d i w0 w1 t0 t1 rss0 rss1
    pid=$(vswitchd_pid)
    sleep 1
    rss0=$(rss_kib "$pid")
    # Both windows equally long: OVS's own timers fire every few seconds.
    w0=$(vol_switches "$pid"); t0=$(now)
    sleep "$idle_secs"
    w1=$(vol_switches "$pid"); t1=$(now)
    local base
    base=$(calc "($w1 - $w0) / ($t1 - $t0)")
    # Many guests at once: domains first, then one OVSDB transaction for
    # all the ports (one ovs-vsctl per port would reconfigure the bridge
    # N times), then the netfronts.
    local vsctl=
    for i in $(seq "$n"); do
        d=$next_dom
        next_dom=$((next_dom + 1))
        xensim-xl create "$d" >/dev/null || return 1
        xensim-xl network-attach "$d" "mac=$(mac_of "$d")" >/dev/null \
            || return 1
        doms="$doms $d"
        vsctl="$vsctl -- add-port br0 vif$d.0"
        vsctl="$vsctl -- set interface vif$d.0 type=xvif"
    done
    ovs-vsctl --timeout=300 $vsctl || return 1
    for d in $doms; do
        nf_start "$d" --sink || return 1
    done
    for d in $doms; do
        wait_connected "vif$d.0" || return 1
    done
    sleep 2
    rss1=$(rss_kib "$pid")
    # The idle guests' own CPU time too: an idle netfront should sleep.
    local g0=0 g1=0
    for d in $doms; do
        g0=$((g0 + $(cpu_ticks "$(cat "$OVS_RUNDIR/nf$d.pid")")))
    done
    w0=$(vol_switches "$pid"); t0=$(now)
    sleep "$idle_secs"
    w1=$(vol_switches "$pid"); t1=$(now)
    for d in $doms; do
        g1=$((g1 + $(cpu_ticks "$(cat "$OVS_RUNDIR/nf$d.pid")")))
    done
    result "$(printf '{"kind":"idle","vifs":%s,"wakeups_per_s_base":%s,"wakeups_per_s":%s,"rss_kib_per_vif":%s,"guest_cpu_per_vif":%s}' \
        "$n" "$base" "$(calc "($w1 - $w0) / ($t1 - $t0)")" \
        "$(calc "($rss1 - $rss0) / $n")" \
        "$(calc "($g1 - $g0) / $hz / ($t1 - $t0) / $n")")"
    guest_del $doms
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
}

port_tx() {
    ovs-ofctl dump-ports br0 "$1" | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p'
}

dpdk_run() {
    local testpmd=$1 size=$2 r=$3 pid c0 c1 t0 t1 p0 p1 tp dt i
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
    t0=$(now); c0=$(cpu_ticks "$pid"); p0=$(port_tx 2)
    sleep "$measure"
    t1=$(now); c1=$(cpu_ticks "$pid"); p1=$(port_tx 2)
    touch "$W/tp-stop"
    wait $tp
    cp "$W/testpmd.log" "$out/testpmd-$size-$r.log"
    dt=$(calc "$t1 - $t0")
    if [ -z "$p0" ] || [ -z "$p1" ] || [ $((p1 - p0)) -le 0 ]; then
        log "vhost-user $size run $r: no packets (see testpmd-$size-$r.log)"
        return 1
    fi
    local pk=$((p1 - p0))
    result "$(printf '{"kind":"fwd","port":"vhost-user","size":%s,"queues":1,"run":%s,"seconds":%s,"packets":%s,"mpps":%s,"gbps":%s,"cpu_s_per_mpkt":%s,"vswitchd_cpu":%s,"loadavg":"%s"}' \
        "$size" "$r" "$dt" "$pk" "$(calc "$pk / $dt / 1000000")" \
        "$(calc "$pk * $size * 8 / $dt / 1000000000")" \
        "$(calc "($c1 - $c0) / $hz / ($pk / 1000000)")" \
        "$(calc "($c1 - $c0) / $hz / $dt")" \
        "$(cut -d' ' -f1 /proc/loadavg)")"
}

# ---------------------------------------------------------------- main
want() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
start_time=$(date +%s)
machine_json > "$out/machine.json"
log "output in $out; work dir $W; load $(cut -d' ' -f1-3 /proc/loadavg)"
build_helpers || { log "cannot build the C helpers"; exit 1; }

if want memcpy; then
    log "memory-copy limit"
    bench_memcpy
fi

start_switch main "$W/bin/ovs-vswitchd" xen || { log "switch failed"; exit 1; }
main_dir=$W/main

if want tap; then
    log "OVS tap ports"
    ovs-vsctl add-port br0 ptap1 \
        -- set interface ptap1 type=tap ofport_request=1 \
        -- add-port br0 ptap2 -- set interface ptap2 type=tap ofport_request=2
    ns=$(cat "$OVS_RUNDIR/netns")
    for t in ptap1 ptap2; do
        ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$t.disable_ipv6=1"
        ip netns exec "$ns" ip link set "$t" up
    done
    for s in $sizes; do
        for r in $(seq "$runs"); do
            tap_fwd "$s" "$r"
        done
    done
    ovs-vsctl del-port ptap1 -- del-port ptap2
fi

want xvif && for type in xvif xvif-pmd; do
    for q in $queue_counts; do
        for s in $sizes; do
            for r in $(seq "$runs"); do
                log "xvif type=$type size=$s queues=$q run $r"
                xvif_fwd "$type" "$s" "$q" "$r"
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
    log "idle guests: 1 and $idle_big"
    xvif_idle 1
    xvif_idle "$idle_big"
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
