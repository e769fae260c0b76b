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

# Runs in the bench dom0 (tests/xen/bench.sh puts it in the share as
# dom0-test.sh, the name dom0-init runs).  For each configuration it starts a
# switch, creates the same two PV domUs, runs the same transfers and writes one
# "BENCH k=v ..." line per measurement to /mnt/host/out/bench.txt; the host
# turns them into tables.  Configurations:
#   a  xvif, type=xvif (event-driven: PMD threads that sleep when idle)
#   b  xvif, type=xvif-pmd (busy-polled by a PMD thread)
#   c  xvif, other_config:userspace-tso-enable=true
#   d  xen-netback + Debian's ovs-vswitchd, kernel datapath, vif-openvswitch
#   e  xen-netback + Debian's ovs-vswitchd, userspace (netdev) datapath,
#      userspace-tso-enable=true (without it TCP does not pass)
# Everything waits for conditions with limits in seconds of dom0 uptime.

SHARE=/mnt/host
OUT=$SHARE/out
B=$OUT/bench.txt
mkdir -p "$OUT"
: > "$B"
. $SHARE/bench.conf         # CONFIGS SIZES RUNS LOAD DIAG SMALL LABEL
TCP_LIMIT=${TCP_LIMIT:-60}

export OVS_RUNDIR=/run/openvswitch OVS_LOGDIR=/var/log/openvswitch \
       OVS_DBDIR=/etc/openvswitch
DOM0_IP=10.99.0.1
IP1=10.99.0.2
IP2=10.99.0.3
CON=/var/log/xen/console
OUR_VSWITCHD=/usr/local/sbin/ovs-vswitchd
DEB_VSWITCHD=/usr/lib/openvswitch-switch/ovs-vswitchd

now() { cut -d' ' -f1 /proc/uptime; }
hostload() { cut -d' ' -f1 $SHARE/host-load 2>/dev/null || echo -; }
note() { echo "BENCH-NOTE[$(now)] cfg=${CFG:--} $*"; echo "note cfg=${CFG:--} $*" >> "$B"; }

# emit KEY=VALUE...: one measurement line (also on the console).
emit() {
    local line="cfg=$CFG $* load0=$(cut -d' ' -f1 /proc/loadavg) loadhost=$(hostload)"
    echo "BENCH $line"
    echo "$line" >> "$B"
}

wait_for() {
    local end
    end=$(awk -v t="$1" '{ print int($1 + t) }' /proc/uptime)
    shift
    while true; do
        "$@" && return 0
        [ "$(cut -d. -f1 /proc/uptime)" -ge "$end" ] && return 1
        sleep 0.2
    done
}

vsctl() { timeout 30 ovs-vsctl --timeout=20 "$@"; }
agent() {
    local ip=$1 t=${AGENT_TIMEOUT:-40}
    shift
    printf '%s\n' "$*" | timeout "$t" nc -N -w "$t" "$ip" 7777
}
console_has() { grep -aq "$2" "$CON/guest-$1.log" 2>/dev/null; }
vswitchd_pid() { cat $OVS_RUNDIR/ovs-vswitchd.pid 2>/dev/null; }

# ---------------------------------------------------------------- counters
# cpu: "busy softirq" jiffies of dom0 (all CPUs).
cpu() { awk '/^cpu /{ print $2+$3+$4+$7+$8, $8 }' /proc/stat; }
# vsw: utime+stime jiffies of ovs-vswitchd (all threads).
vsw() {
    local p
    p=$(vswitchd_pid)
    [ -n "$p" ] && awk '{ print $14+$15 }' /proc/$p/stat 2>/dev/null || echo 0
}
# ports: "packets bytes" received on all of br0's ports (live counters).
ports() {
    timeout 10 ovs-ofctl dump-ports br0 2>/dev/null | awk '
        /rx pkts=/ { gsub(/[=,]/, " "); p += $5; b += $7 }
        END { print p + 0, b + 0 }'
}
# domcpu: "dom0 domu1 domu2" CPU seconds from xl list.
domcpu() {
    timeout 10 xl list 2>/dev/null | awk '
        $1 == "Domain-0" { d0 = $6 } $1 == "domu1" { d1 = $6 }
        $1 == "domu2" { d2 = $6 }
        END { print d0 + 0, d1 + 0, d2 + 0 }'
}
snap() { echo "$(now) $(cpu) $(vsw) $(ports) $(domcpu)"; }

# delta BEFORE AFTER: k=v of the differences.
delta() {
    echo "$1 $2" | awk '{
        printf "wall=%.2f busy=%d sirq=%d vsw=%d pkts=%d bytes=%d", \
            $10 - $1, $11 - $2, $12 - $3, $13 - $4, $14 - $5, $15 - $6
        if ($7 > 0 && $16 > 0) {
            printf " cpu0=%.2f cpu1=%.2f cpu2=%.2f", $16 - $7, $17 - $8, $18 - $9
        } else {
            printf " cpu0=- cpu1=- cpu2=-"      # xl list timed out
        }
    }'
}

# iperf_rate OUTPUT: "secs KB/s" of the receiver line of iperf3 -f K.
iperf_rate() {
    awk '/receiver/ {
        for (i = 1; i <= NF; i++) {
            if ($i == "sec") { split($(i - 1), t, "-"); s = t[2] }
            if ($i == "KBytes/sec") { r = $(i - 1) }
        }
        printf "%s %s", s, r; found = 1 }
        END { if (!found) printf "- -" }' <<< "$1"
}

# tcp WHAT SIZE RUN: one TCP transfer of SIZE bytes; WHAT is g2g (domu1 ->
# domu2), d2g (dom0 -> domu1) or g2d (domu1 -> dom0).  The rate is SIZE over
# the time iperf3 took from its start to its exit, measured where it runs
# (connection set-up included, as a copy of a file would see it); rx_kBps is
# iperf3's own receiver figure.  Each transfer is bounded by $TCP_LIMIT s.
tcp() {
    local what=$1 size=$2 run=$3 s0 s1 out lim=$TCP_LIMIT r el
    s0=$(snap)
    case $what in
        g2g) out=$(AGENT_TIMEOUT=$((lim + 10)) agent $IP1 \
                   "t0=\$(cut -d' ' -f1 /proc/uptime); timeout $lim /usr/bin/iperf3 -c $IP2 -n $size -f K 2>&1; echo rc=\$? ELAPSED \$t0 \$(cut -d' ' -f1 /proc/uptime)") ;;
        d2g|g2d)
            local t0 rflag=
            [ $what = g2d ] && rflag=-R
            t0=$(now)
            out=$(timeout $lim iperf3 -c $IP1 $rflag -n $size -f K 2>&1; \
                  echo rc=$? ELAPSED $t0 $(now)) ;;
    esac
    s1=$(snap)
    r=($(iperf_rate "$out"))
    el=$(awk '/ELAPSED/ { print $4 - $3 }' <<< "$out")
    if ! grep -q '^rc=0 ' <<< "$out"; then
        echo "$out" | tail -n 4 | sed "s/^/  iperf3 $what: /"
        emit "test=tcp_$what${LOADTAG:-} size=$size run=$run fail=1" \
             "$(grep -o 'rc=[0-9]*' <<< "$out" | tail -n 1) $(delta "$s0" "$s1")"
        return
    fi
    emit "test=tcp_$what${LOADTAG:-} size=$size run=$run elapsed=$el" \
         "kBps=$(awk -v s=$size -v e=$el 'BEGIN { printf "%.1f", (e > 0 ? s / 1024 / e : 0) }')" \
         "rx_secs=${r[0]} rx_kBps=${r[1]} $(delta "$s0" "$s1")"
}

# flood: ping -f from dom0 to domu1, N requests.
flood() {
    local n=$1 run=$2 s0 s1 out
    s0=$(snap)
    out=$(timeout 120 ping -f -q -c $n $IP1 2>&1)
    s1=$(snap)
    emit "test=pingflood${LOADTAG:-} size=$n run=$run" \
         "recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<< "$out")" \
         "avg_ms=$(sed -n 's|^rtt.* = [0-9.]*/\([0-9.]*\)/.*|\1|p' <<< "$out")" \
         "$(delta "$s0" "$s1")"
}

# udp: 64-byte UDP from domu1 to domu2, N datagrams as fast as possible.
udp() {
    local n=$1 run=$2 s0 s1 out
    s0=$(snap)
    out=$(AGENT_TIMEOUT=130 agent $IP1 \
          "timeout 120 /usr/bin/iperf3 -c $IP2 -u -l 64 -b 0 -k $n -f K 2>&1")
    s1=$(snap)
    # receiver line: ... sec  KBytes  KBytes/sec  jitter ms  lost/total (pct)
    emit "test=udp64 size=$n run=$run" "$(awk '/receiver/ {
        for (i = 1; i <= NF; i++) {
            if ($i == "sec") { split($(i - 1), t, "-"); s = t[2] }
            if ($i ~ /^[0-9]+\/[0-9]+$/) { split($i, l, "/") }
        }
        printf "secs=%s lost=%s sent=%s", s, l[1], l[2] }' <<< "$out")" \
         "$(delta "$s0" "$s1")"
}

rtt() {
    local out
    out=$(timeout 30 ping -c 20 -i 0.2 -q $IP1 2>&1)
    emit "test=rtt_d2g run=1" \
         "avg_ms=$(sed -n 's|^rtt.* = [0-9.]*/\([0-9.]*\)/.*|\1|p' <<< "$out")"
    out=$(agent $IP1 "ping -c 10 -q $IP2 2>&1")
    emit "test=rtt_g2g run=1" \
         "avg_ms=$(sed -n 's|^round-trip.* = [0-9.]*/\([0-9.]*\)/.*|\1|p' <<< "$out")"
}

# ---------------------------------------------------------------- switches
# start_switch CFG KEEP: starts the switch of CFG.  KEEP=yes: the guests
# (and their ports in the database) stay from the previous configuration of
# the same backend: xvif re-attaches to connected guests, netback's vif
# devices become ports of the new datapath.
start_switch() {
    local cfg=$1 keep=$2 bin=$OUR_VSWITCHD dp=netdev tso=false t0 p type
    case $cfg in
        c|e) tso=true ;;
    esac
    case $cfg in
        d|e) bin=$DEB_VSWITCHD ;;
    esac
    [ $cfg = d ] && dp=system
    case $cfg in
        a|b|c) timeout 20 modprobe -r xen-netback 2>/dev/null
               test ! -e /sys/module/xen_netback \
                   || { note "xen-netback still loaded"; return 1; } ;;
        d|e) timeout 20 modprobe xen-netback \
                 || { note "modprobe xen-netback failed"; return 1; } ;;
    esac
    if [ $cfg = d ]; then
        timeout 20 modprobe crc32c_generic
        timeout 20 modprobe openvswitch \
            || { note "modprobe openvswitch failed"; return 1; }
    fi
    if [ $keep = yes ]; then
        vsctl --no-wait set bridge br0 datapath_type=$dp
        type=xvif
        [ $cfg = b ] && type=xvif-pmd
        for p in $(vsctl --no-wait list-ports br0); do
            case $cfg in
                a|b|c) vsctl --no-wait set Interface $p type=$type ;;
            esac
        done
    else
        vsctl --no-wait --if-exists del-br br0
    fi
    vsctl --no-wait set Open_vSwitch . other_config:userspace-tso-enable=$tso
    t0=$(now)
    $bin unix:$OVS_RUNDIR/db.sock --pidfile --detach \
        --log-file=$OVS_LOGDIR/ovs-vswitchd-$cfg.log -vconsole:off \
        -vfile:info || { note "ovs-vswitchd $bin failed"; return 1; }
    [ $keep = yes ] || vsctl add-br br0 -- set bridge br0 datapath_type=$dp
    wait_for 30 test -e /sys/class/net/br0
    ip addr add $DOM0_IP/24 dev br0
    ip link set br0 up
    note "switch up: $bin dp=$dp tso=$tso keep=$keep ($t0 -> $(now))"
}

# stop_switch [cleanup]: stops ovs-vswitchd; "cleanup" also removes the
# datapath (the ports stay in the database).
stop_switch() {
    local p
    p=$(vswitchd_pid)
    [ -n "$p" ] || return 0
    timeout 20 ovs-appctl -t ovs-vswitchd exit ${1:+--cleanup} > /dev/null 2>&1
    wait_for 20 test ! -e /proc/$p
    [ -e /proc/$p ] && kill -9 $p
    timeout 10 ovs-dpctl del-dp ovs-system > /dev/null 2>&1
    timeout 20 modprobe -r openvswitch 2>/dev/null
    ip link del br0 2>/dev/null
    rm -f $OVS_RUNDIR/ovs-vswitchd.pid
}

mkcfg() {
    cat > /root/$1.cfg <<EOF
name = "$1"
type = "pv"
kernel = "/root/vmlinuz"
ramdisk = "/root/domu.cpio.gz"
extra = "console=hvc0 xvif.ip=$3/24 xvif.peer=$DOM0_IP xvif.blob=0"
memory = 160
vcpus = 1
vif = [ 'mac=$2,bridge=br0,script=$4' ]
EOF
}

guests_up() {
    local script=$1 n
    for n in 1 2; do
        rm -f $CON/guest-domu$n.log
        mkcfg domu$n 00:16:3e:00:00:0$n 10.99.0.$((n + 1)) $script
        mark "xl create domu$n ($script)"
        timeout 300 xl create /root/domu$n.cfg > $OUT/xl-create-$CFG-$n.log 2>&1 \
            || { note "xl create domu$n failed"; return 1; }
    done
    for n in 1 2; do
        wait_for 300 console_has domu$n 'DOMU-MARK.*agent listening' \
            || { note "domu$n: no agent"; return 1; }
        mark "domu$n agent up"
        agent 10.99.0.$((n + 1)) "/usr/bin/iperf3 -s -D; echo started" > /dev/null
    done
    traffic_ready
}

# traffic_ready: both guests answer and a first transfer (ARP, flow set-up,
# not measured) went through.
traffic_ready() {
    wait_for 120 ping -c 1 -W 1 $IP1 > /dev/null \
        || { note "no ping to domu1"; return 1; }
    wait_for 120 ping -c 1 -W 1 $IP2 > /dev/null \
        || { note "no ping to domu2"; return 1; }
    wait_for 90 test "$(agent $IP1 \
        "timeout 30 /usr/bin/iperf3 -c $IP2 -n 65536 > /dev/null 2>&1 && echo ok")" \
        = ok || { note "warm-up g2g transfer failed"; return 1; }
    timeout 30 iperf3 -c $IP1 -n 65536 > /dev/null 2>&1
    mark "traffic ready"
    return 0
}

guests_down() {
    timeout 60 xl destroy domu1 > /dev/null 2>&1
    timeout 60 xl destroy domu2 > /dev/null 2>&1
    wait_for 30 test -z "$(timeout 10 xenstore-list /local/domain/0/backend/vif 2>/dev/null)"
}

# ---------------------------------------------------------------- diagnosis
# Per-thread schedstat of ovs-vswitchd: "run_ns wait_ns slices" per thread.
schedstat() {
    local p t
    p=$(vswitchd_pid)
    for t in /proc/$p/task/*; do
        echo "$(cat $t/comm) $(cat $t/schedstat)"
    done
}

diag() {
    local d=$OUT/diag-$CFG p s0 s1
    mkdir -p $d
    p=$(vswitchd_pid)
    # 1. Counters around one 2 MiB guest -> guest transfer.
    timeout 10 ovs-appctl xvif/show > $d/xvif-show-before.txt 2>&1
    schedstat > $d/schedstat-before.txt
    timeout 10 ovs-appctl coverage/show > $d/coverage-before.txt 2>&1
    LOADTAG=_diag tcp g2g 1048576 1
    timeout 10 ovs-appctl xvif/show > $d/xvif-show-after.txt 2>&1
    schedstat > $d/schedstat-after.txt
    timeout 10 ovs-appctl coverage/show > $d/coverage-after.txt 2>&1
    timeout 10 ovs-appctl dpif-netdev/pmd-stats-show > $d/pmd-stats.txt 2>&1
    # 2. Syscalls of ovs-vswitchd during the same transfer.
    if command -v strace > /dev/null && [ -n "$p" ]; then
        timeout 200 strace -c -f -p $p -o $d/strace-c.txt &
        s0=$!
        sleep 1
        LOADTAG=_strace tcp g2g 1048576 1
        kill -INT $s0 2>/dev/null
        wait $s0
    fi
    # 3. A system-wide profile of dom0 during the same transfer.
    if command -v perf > /dev/null; then
        timeout 200 perf record -a -g -e cpu-clock -F 499 -o $d/perf.data \
            > $d/perf-record.log 2>&1 &
        s0=$!
        sleep 2
        LOADTAG=_perf tcp g2g 1048576 1
        kill -INT $s0 2>/dev/null
        wait $s0
        timeout 120 perf report -i $d/perf.data --stdio --no-children \
            --sort comm,dso --percent-limit 1 -g none \
            > $d/perf-comm-dso.txt 2>&1
        timeout 120 perf report -i $d/perf.data --stdio --no-children \
            --sort sym --percent-limit 0.7 -g none \
            > $d/perf-sym.txt 2>&1
        rm -f $d/perf.data
    fi
}

# ---------------------------------------------------------------- main
mark "dom0-bench start: $LABEL configs=$CONFIGS sizes=$SIZES runs=$RUNS load=$LOAD diag=$DIAG"
note "dom0 cpus=$(nproc) kernel=$(uname -r) $(grep -m1 'model name' /proc/cpuinfo)"
mkdir -p $OVS_RUNDIR $OVS_LOGDIR $OVS_DBDIR /usr/local/sbin /etc/xen/scripts
rm -f /etc/modprobe.d/xvif-no-netback.conf
install -m 755 $SHARE/bin/ovs-vswitchd $OUR_VSWITCHD
install -m 755 $SHARE/bin/vif-xvif /etc/xen/scripts/vif-xvif
sed 's/type=xvif$/type=xvif-pmd/' $SHARE/bin/vif-xvif \
    > /etc/xen/scripts/vif-xvif-pmd
chmod 755 /etc/xen/scripts/vif-xvif-pmd
ovsdb-tool create $OVS_DBDIR/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server --remote=punix:$OVS_RUNDIR/db.sock --pidfile --detach \
    --log-file=$OVS_LOGDIR/ovsdb-server.log
timeout 20 ovs-vsctl --no-wait init
echo 0 > /proc/sys/kernel/kptr_restrict
echo -1 > /proc/sys/kernel/perf_event_paranoid

# Guests are created once per backend and kept across its configurations
# (a, b, c: ovs-vswitchd restarted under connected xvif guests; d, e:
# netback's vif devices moved to the other datapath).
GUESTS=none
for CFG in $CONFIGS; do
    case $CFG in
        a|c) script=vif-xvif; want=xvif ;;
        b) script=vif-xvif-pmd; want=xvif ;;
        d|e) script=vif-openvswitch; want=netback ;;
        *) note "unknown configuration"; continue ;;
    esac
    mark "config $CFG start"
    ok=no
    if [ $GUESTS = $want ]; then
        stop_switch $([ $want = netback ] && echo cleanup)
        start_switch $CFG yes && traffic_ready && ok=yes
    else
        guests_down
        for n in 1 2; do
            cp $CON/guest-domu$n.log $OUT/console-$GUESTS-$CFG-domu$n.log \
                2>/dev/null
        done
        stop_switch cleanup
        GUESTS=none
        start_switch $CFG no && guests_up $script && ok=yes && GUESTS=$want
    fi
    if [ $ok = yes ]; then
        note "ports: $(vsctl list-ports br0 | tr '\n' ' ')" \
             "types: $(vsctl --columns=type --bare list Interface | tr '\n' ' ')"
        # The diagnosis first: it matters more than a third run.
        case " $DIAG " in
            *" $CFG "*) diag ;;
        esac
        for run in $(seq 1 $RUNS); do
            # Guest -> guest at every size, dom0 <-> guest at the first.
            for size in $SIZES; do
                tcp g2g $size $run
            done
            tcp d2g ${SIZES%% *} $run
            tcp g2d ${SIZES%% *} $run
        done
        rtt
        for run in $(seq 1 $RUNS); do
            flood $SMALL $run
            udp $SMALL $run
        done
        if [ "$LOAD" = yes ]; then
            # Three ping floods at domu2 from dom0 while dom0 -> domu1 and
            # domu1 -> domu2 TCP run.
            pids=
            for i in 1 2 3; do
                timeout 600 ping -f -q $IP2 > /dev/null 2>&1 &
                pids="$pids $!"
            done
            for run in $(seq 1 $RUNS); do
                LOADTAG=_load tcp d2g ${SIZES%% *} $run
                LOADTAG=_load tcp g2g ${SIZES%% *} $run
            done
            kill $pids 2>/dev/null
            wait $pids 2>/dev/null
        fi
        timeout 10 ovs-appctl dpif/show > $OUT/dpif-$CFG.txt 2>&1
        note "long-poll warnings=$(grep -c 'Unreasonably long' $OVS_LOGDIR/ovs-vswitchd-$CFG.log)" \
             "quiesce-waits=$(grep -c 'waiting for main to quiesce' $OVS_LOGDIR/ovs-vswitchd-$CFG.log)"
    else
        note "configuration failed"
    fi
    cp $OVS_LOGDIR/ovs-vswitchd-$CFG.log $OUT/ 2>/dev/null
    mark "config $CFG done"
done
guests_down
for n in 1 2; do
    cp $CON/guest-domu$n.log $OUT/console-$GUESTS-domu$n.log 2>/dev/null
done
stop_switch cleanup
cp /var/log/xen/xen-hotplug.log $OUT/ 2>/dev/null
mark "dom0-test finished: bench"
exit 0
