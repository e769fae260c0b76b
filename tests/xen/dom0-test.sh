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

# Runs in the test dom0 (started by /init from the host share): starts
# ovsdb-server (Debian's) and the project's ovs-vswitchd with a netdev bridge
# br0, installs the vif-xvif hotplug script and runs the scenarios with real
# Linux PV domUs.  Every check prints one "RESULT: PASS|FAIL <name> -- ..."
# line (also appended to /mnt/host/out/results); the host turns them into the
# verdict.
#
# Time: each scenario runs in its own process ("dom0-test.sh --scenario
# NAME") under its own budget, scaled by how fast this emulated machine is
# (SPEED, below).  A scenario that overruns is killed and reported as slow,
# its unreported checks fail as "cut at the budget", and the next scenario
# runs: one slow scenario never takes the others down.  Every wait inside a
# scenario is a condition polled against the same scaled clock.

SHARE=/mnt/host
OUT=$SHARE/out
RES=$OUT/results
CHECKS=$SHARE/checks
STATE=/run/xvif-test
VSWITCHD_MODE=$(cat $SHARE/vswitchd-mode 2>/dev/null || echo project)
SCENARIOS=$(cat $SHARE/scenarios 2>/dev/null || echo all)

export OVS_RUNDIR=/run/openvswitch OVS_LOGDIR=/var/log/openvswitch \
       OVS_DBDIR=/etc/openvswitch
DOM0_IP=10.99.0.1
IP1=10.99.0.2
IP2=10.99.0.3
MAC1=00:16:3e:00:00:01
MAC2=00:16:3e:00:00:02
CON=/var/log/xen/console

# SPEED: how much slower this emulation runs than the reference machine
# (the one the budgets below were set on), from the time dom0 took to get
# here: Xen's and the kernel's boot, the initramfs, module loading, xenstored
# and xen-init-dom0 -- kernel and user work alike, before any scenario.  On
# the reference machine that is BOOT_REF (run.sh).  Never below 1: a faster
# machine keeps the reference budgets.
BOOT_REF=${BOOT_REF:-$(cat $SHARE/boot-ref 2>/dev/null || echo 9)}
BOOT=$(cut -d' ' -f1 /proc/uptime)
# run.sh --budget-scale multiplies it further (a harness self-test with
# tiny budgets, or more room on a machine known to be slow).
SCALE=$(cat $SHARE/budget-scale 2>/dev/null || echo 1)
SPEED=$(awk -v b="$BOOT" -v r="$BOOT_REF" -v k="$SCALE" \
            'BEGIN { s = (r > 0) ? b / r : 1; if (s < 1) s = 1;
                     printf "%.2f", s * k }')

# sc SECONDS: SECONDS of the reference machine on this one (an integer).
sc() { awk -v t="$1" -v s="$SPEED" 'BEGIN { printf "%d", t * s + 0.999 }'; }

result() {
    local r=$1 name=$2
    shift 2
    if ! grep -q "^[a-z0-9]* *$name\( \|$\)" "$CHECKS" 2>/dev/null; then
        r=FAIL
        set -- "not listed in tests/xen/checks: $*"
    fi
    echo "RESULT: $r $name${*:+ -- $*}" | tee -a "$RES"
}

# check NAME DETAIL COMMAND...: PASS if COMMAND succeeds.
check() {
    local name=$1 detail=$2
    shift 2
    if "$@"; then
        result PASS "$name" "$detail"
        return 0
    else
        result FAIL "$name" "$detail"
        return 1
    fi
}

want() {
    case " $SCENARIOS " in
        *" all "*|*" $1 "*) return 0 ;;
    esac
    return 1
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.5 s until it succeeds or
# SECONDS (reference seconds, scaled; of uptime, not iterations: forks are
# slow under TCG, and every poll takes CPU from ovs-vswitchd) have passed.
wait_for() {
    local end
    end=$(awk -v t="$(sc "$1")" '{ print int($1 + t) }' /proc/uptime)
    shift
    while true; do
        "$@" && return 0
        [ "$(cut -d. -f1 /proc/uptime)" -ge "$end" ] && return 1
        sleep 0.5
    done
}

# Scenario state shared across the scenario processes.
state_set() { mkdir -p $STATE; echo "$2" > "$STATE/$1"; }
state_get() { cat "$STATE/$1" 2>/dev/null; }

xs() { timeout "$(sc 10)" xenstore-read "$1" 2>/dev/null; }
# xs_absent PATH: PATH does not exist, and xenstored answered (xenstore-exists
# fails alike for "absent" and for "no answer": a live read settles it).
xs_absent() {
    local rc
    timeout "$(sc 10)" xenstore-exists "$1" 2>/dev/null
    rc=$?
    [ $rc = 1 ] && [ -n "$(xs /local/domain/0/name)" ]
}
vsctl() { timeout "$(sc 30)" ovs-vsctl --timeout="$(sc 20)" "$@"; }
# br0_ports: the ports of br0 (fails if ovs-vsctl did not answer, so a
# negative check never passes on a dead or stuck tool).
br0_ports() { vsctl list-ports br0; }
ports() { br0_ports 2>&1 | tr '\n' ' '; }
has_port() { br0_ports 2>/dev/null | grep -qx "$1"; }
no_port() { local p; p=$(br0_ports) && ! grep -qx "$1" <<< "$p"; }
no_port_matching() { local p; p=$(br0_ports) && ! grep -q "$1" <<< "$p"; }
no_ports() { local p; p=$(br0_ports) && [ -z "$p" ]; }
domid() { timeout "$(sc 10)" xl domid "$1" 2>/dev/null; }
be_state() { xs /local/domain/0/backend/vif/$1/$2/state; }
be_state_is() { [ "$(be_state "$1" "$2")" = "$3" ]; }

# agent IP COMMANDS: runs COMMANDS by /bin/sh in the domU (TCP 7777).
agent() {
    local ip=$1
    shift
    local t
    t=$(sc "${AGENT_TIMEOUT:-40}")
    # nc -w: connect timeout and idle limit (a long command prints nothing
    # until it ends), so it is the whole budget.
    printf '%s\n' "$*" | timeout "$t" nc -N -w "$t" "$ip" 7777
}

# Console lines of guest NAME after line FROM.
console() {
    tail -n +"$(( ${2:-0} + 1 ))" "$CON/guest-$1.log" 2>/dev/null
}
console_lines() { wc -l < "$CON/guest-$1.log" 2>/dev/null || echo 0; }
console_has() { console "$1" "$2" | grep -q "$3"; }

snapshot() {
    local tag=$1
    {
        echo "== uptime $(up) =="
        timeout 10 xl list
        timeout 10 xenstore-ls -f /local/domain/0/backend
        echo "== frontends =="
        for d in $(timeout 10 xenstore-list /local/domain 2>/dev/null); do
            [ "$d" = 0 ] && continue
            timeout 10 xenstore-ls -f /local/domain/$d/device 2>/dev/null
        done
        echo "== /libxl =="
        timeout 10 xenstore-ls -f /libxl 2>/dev/null
    } > "$OUT/xenstore-$tag.txt" 2>&1
    {
        timeout 10 ovs-vsctl show
        timeout 10 ovs-vsctl --columns=name,type,ofport,error,status,external_ids,ingress_policing_rate,ingress_policing_burst,mtu,mtu_request list Interface
        timeout 10 ovs-ofctl dump-flows br0
        timeout 10 ovs-appctl dpif/show
        echo "== xvif/show =="
        timeout 10 ovs-appctl xvif/show 2>&1
    } > "$OUT/ovs-$tag.txt" 2>&1
}

# mkcfg NAME MAC IP VCPUS [VIF-EXTRA]
mkcfg() {
    cat > /root/$1.cfg <<EOC
name = "$1"
type = "pv"
kernel = "/root/vmlinuz"
ramdisk = "/root/domu.cpio.gz"
extra = "console=hvc0 xvif.ip=$3/24 xvif.peer=$DOM0_IP"
memory = 128
vcpus = $4
vif = [ 'mac=$2,bridge=br0,script=vif-xvif$5' ]
on_crash = "preserve"
EOC
}

# create NAME: xl create, then checks the port; sets $D (domid).
create() {
    local name=$1 t0 rc
    t0=$(up)
    timeout "$(sc 120)" xl -vvv create /root/$name.cfg \
        > "$OUT/xl-create-$name-$t0.log" 2>&1
    rc=$?
    D=$(domid "$name")
    mark "xl create $name rc=$rc domid=$D ($t0 -> $(up))"
    [ $rc = 0 ] && [ -n "$D" ]
}

# need_domain NAME: the scenario needs guest NAME running; otherwise its
# checks are reported as not run (with this reason) and it ends.
need_domain() {
    [ -n "$(domid "$1")" ] && return 0
    echo "needs $1, which is not running" > "$STATE/why"
    exit 3
}

# port_ok DOMID DEVID MAC: the port exists, hotplug-status is connected and
# the external ids are there.
port_ok() {
    local p=vif$1.$2 be=/local/domain/0/backend/vif/$1/$2
    has_port $p || { echo "no port $p (ports: $(ports))"; return 1; }
    [ "$(xs $be/hotplug-status)" = connected ] \
        || { echo "hotplug-status=$(xs $be/hotplug-status)"; return 1; }
    [ "$(vsctl get Interface $p type)" = xvif ] \
        || { echo "type=$(vsctl get Interface $p type)"; return 1; }
    vsctl get Interface $p external_ids:attached-mac | grep -qi "$3" \
        || { echo "attached-mac missing"; return 1; }
    [ -n "$(vsctl get Interface $p external_ids:xen-vm-uuid 2>/dev/null)" ] \
        || { echo "xen-vm-uuid missing"; return 1; }
    return 0
}

# dom0's ping is busybox's (minbase has no iputils).
ping_ok() {
    timeout "$(sc 20)" busybox ping -c 3 -W "$(sc 2)" "$@" > /dev/null 2>&1
}
ping_retry() {
    local i
    for i in 1 2 3; do
        ping_ok "$@" && return 0
        sleep 1
    done
    return 1
}

# (busybox 1.35's wget segfaults with -T: bounded by timeout instead.)
# fetch FROM-IP TO-IP PORT: the domU at FROM fetches /blob from TO over HTTP
# and prints the md5; "blob_md5 IP" prints the blob's md5 at the source.
# Prints "<md5> <bytes> wget-rc=<rc>": a truncated transfer (timeout) and a
# corrupted one are told apart.  Checks compare the first word.
fetch() {
    local t
    t=$(sc "${FETCH_TIMEOUT:-60}")
    AGENT_TIMEOUT=$((${FETCH_TIMEOUT:-60} + 20)) agent "$1" \
        "rm -f /tmp/got; timeout $t wget -q -O /tmp/got http://$2:$3/blob; r=\$?; echo \$(md5sum < /tmp/got | cut -d' ' -f1) \$(wc -c < /tmp/got) wget-rc=\$r; rm -f /tmp/got"
}
blob_md5() { agent "$1" "md5sum /www/blob | cut -d' ' -f1"; }

flow_packets() {
    timeout 10 ovs-ofctl dump-flows br0 "$1" 2>/dev/null \
        | sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' | head -n 1
}

############################################################ scenarios
# Each sc_NAME runs in its own process; the checks it reports are those of
# scenario NAME in tests/xen/checks.  A cleanup_NAME, if there is one, runs
# after it, also when it was cut at its budget.

# vswitchd_start BINARY: starts ovs-vswitchd from BINARY, as setup does.
vswitchd_start() {
    "$1" unix:$OVS_RUNDIR/db.sock --pidfile --detach \
        --log-file=$OVS_LOGDIR/ovs-vswitchd.log -vconsole:off -vfile:info
}

sc_setup() {
    cat > /etc/modprobe.d/xvif-no-netback.conf <<EOC
blacklist xen-netback
install xen-netback /bin/false
EOC
    timeout 10 modprobe -r xen-netback 2>/dev/null
    check setup.no-netback "xen-netback not loaded, backend/vif free" \
        test ! -e /sys/module/xen_netback

    mkdir -p $OVS_RUNDIR $OVS_LOGDIR $OVS_DBDIR /usr/local/sbin \
        /etc/xen/scripts
    install -m 755 $SHARE/bin/vif-xvif /etc/xen/scripts/vif-xvif
    if [ "$VSWITCHD_MODE" = debian ]; then
        VSWITCHD=/usr/lib/openvswitch-switch/ovs-vswitchd
    else
        install -m 755 $SHARE/bin/ovs-vswitchd /usr/local/sbin/ovs-vswitchd
        VSWITCHD=/usr/local/sbin/ovs-vswitchd
        [ -f $SHARE/bin/xvif-ctl ] \
            && install -m 755 $SHARE/bin/xvif-ctl /usr/local/bin/xvif-ctl
    fi
    local missing rc t0 types
    missing=$(ldd $VSWITCHD 2>&1 | grep 'not found')
    check setup.vswitchd-libs "$VSWITCHD shared libraries${missing:+: $missing}" \
        test -z "$missing"

    ovsdb-tool create $OVS_DBDIR/conf.db /usr/share/openvswitch/vswitch.ovsschema
    ovsdb-server --remote=punix:$OVS_RUNDIR/db.sock --pidfile --detach \
        --log-file=$OVS_LOGDIR/ovsdb-server.log
    timeout "$(sc 20)" ovs-vsctl --no-wait init
    t0=$(up)
    vswitchd_start $VSWITCHD
    rc=$?
    mark "ovs-vswitchd rc=$rc ($t0 -> $(up))"
    for m in $(timeout 10 ovs-appctl vlog/list 2>/dev/null | awk '/xvif/{print $1}'); do
        timeout 10 ovs-appctl vlog/set "$m:file:dbg" > /dev/null
    done
    timeout 10 ovs-appctl version > "$OUT/vswitchd-version.txt" 2>&1
    vsctl add-br br0 -- set bridge br0 datapath_type=netdev
    wait_for 10 test -e /sys/class/net/br0
    ip addr add $DOM0_IP/24 dev br0
    ip link set br0 up
    check setup.ovs "ovs-vswitchd running, br0 (netdev) holds $DOM0_IP" \
        test $rc = 0 -a -e /sys/class/net/br0
    types=$(vsctl get Open_vSwitch . iface_types)
    [ "$VSWITCHD_MODE" = debian ] \
        || check setup.iface-types "iface_types=$types" grep -qw xvif <<< "$types"
    busybox httpd -p 8080 -h /root
    head -c 4000000 /dev/urandom > /root/blob
    mkcfg domu1 $MAC1 $IP1 1
    mkcfg domu2 $MAC2 $IP2 2
}

# vif-xvif run by hand against a synthetic backend directory (domid 99):
# bridge parsing, rate, vifname -> iface-id, error reporting, offline.
sc_hotplug() {
    local be=/local/domain/0/backend/vif/99/0 rc hs he desc
    xenstore-write $be/bridge br0.10:20:30 $be/mac 00:16:3e:99:99:99 \
        $be/rate 62500,50000 $be/vifname lport-99 $be/hotplug-status "" \
        /local/domain/99/vm /vm/00000000-0000-0000-0000-000000000099 \
        /local/domain/99/name fake99
    XENBUS_PATH=backend/vif/99/0 vif=vif99.0 timeout "$(sc 60)" \
        /etc/xen/scripts/vif-xvif online type_if=vif > "$OUT/hotplug-99.log" 2>&1
    rc=$?
    hs=$(xs $be/hotplug-status)
    he=$(xs $be/hotplug-error)
    if [ "$VSWITCHD_MODE" = debian ]; then
        # No xvif class: the script must report an error and remove the port.
        check hotplug.error-path "rc=$rc status=$hs error=$he" \
            test $rc != 0 -a "$hs" = error -a -n "$he"
        check hotplug.error-cleanup "ports: $(ports)" no_port vif99.0
    else
        desc="rc=$rc status=$hs error=$he"
        desc="$desc tag=$(vsctl get Port vif99.0 tag 2>&1)"
        desc="$desc trunks=$(vsctl get Port vif99.0 trunks 2>&1)"
        desc="$desc rate=$(vsctl get Interface vif99.0 ingress_policing_rate 2>&1)"
        desc="$desc burst=$(vsctl get Interface vif99.0 ingress_policing_burst 2>&1)"
        desc="$desc iface-id=$(vsctl get Interface vif99.0 external_ids:iface-id 2>&1)"
        desc="$desc vm=$(vsctl get Interface vif99.0 external_ids:xen-vm-name 2>&1)"
        check hotplug.online "$desc" \
            grep -Eq 'rc=0 status=connected error= tag=10 trunks=\[20, 30\] rate=10000 burst=500 iface-id="?lport-99"? vm="?fake99"?$' <<< "$desc"
    fi
    XENBUS_PATH=backend/vif/99/0 vif=vif99.0 timeout "$(sc 60)" \
        /etc/xen/scripts/vif-xvif offline type_if=vif >> "$OUT/hotplug-99.log" 2>&1
    rc=$?
    check hotplug.offline "rc=$rc ports: $(ports)" \
        eval 'test $rc = 0 && no_port vif99.0'
    XENBUS_PATH=backend/vif/99/0 vif=vif99.0 timeout "$(sc 60)" \
        /etc/xen/scripts/vif-xvif bogus >> "$OUT/hotplug-99.log" 2>&1
    check hotplug.bad-command "rc=$?" test $? != 0
    xenstore-rm /local/domain/0/backend/vif/99
    xenstore-rm /local/domain/99
}

# (a) The first guest: created by xl, its port, Connected, ping both ways.
sc_create() {
    local rc why
    cp /var/log/xen/xen-hotplug.log "$OUT/" 2>/dev/null
    create domu1
    rc=$?
    if [ $rc != 0 ] || [ -z "$D" ]; then
        result FAIL create.domu1 "xl create failed: $(tail -n 5 $OUT/xl-create-domu1-*.log | tr '\n' ' ')"
        return
    fi
    why=$(port_ok $D 0 $MAC1)
    check create.domu1 "domid $D, port vif$D.0 ${why:-ok}" test -z "$why"
    wait_for 40 be_state_is $D 0 4
    check connect.domu1 "backend state $(be_state $D 0) (4 = Connected)" \
        be_state_is $D 0 4
    snapshot domu1-created
    wait_for 60 console_has domu1 0 'DOMU-MARK.*PING-'
    check a.domu-pings-dom0 "$(console domu1 | grep -a 'PING-' | tail -n 1)" \
        console_has domu1 0 'PING-OK'
    check a.dom0-pings-domu "ping $IP1" ping_retry $IP1
}

# (mq) A 2-vcpu guest negotiates 2 queues.
sc_mq() {
    local why maxq nq
    if ! create domu2; then
        result FAIL create.domu2 "xl create failed"
        return
    fi
    why=$(port_ok $D 0 $MAC2)
    check create.domu2 "domid $D, port vif$D.0 ${why:-ok}" test -z "$why"
    wait_for 40 be_state_is $D 0 4
    wait_for 60 console_has domu2 0 'DOMU-MARK.*PING-'
    maxq=$(xs /local/domain/0/backend/vif/$D/0/multi-queue-max-queues)
    nq=$(xs /local/domain/$D/device/vif/0/multi-queue-num-queues)
    check mq.two-queues "backend max-queues=$maxq, frontend num-queues=$nq, state $(be_state $D 0)" \
        test "$nq" = 2
    check mq.traffic "ping $IP2 with $nq queue(s)" ping_retry $IP2
    snapshot domu2-created
}

# (b) OpenFlow rules steer the guests' traffic.
sc_flows() {
    local src got out n r
    need_domain domu1
    need_domain domu2
    timeout 10 ovs-ofctl del-flows br0
    timeout 10 ovs-ofctl add-flow br0 "priority=0,actions=NORMAL"
    timeout 10 ovs-ofctl add-flow br0 \
        "priority=100,icmp,nw_src=$IP1,nw_dst=$IP2,actions=drop"
    timeout 10 ovs-ofctl add-flow br0 "priority=100,tcp,tp_dst=8081,actions=drop"
    timeout 10 ovs-ofctl dump-flows br0 > "$OUT/flows-b.txt"
    src=$(blob_md5 $IP2)
    got=$(fetch $IP1 $IP2 8080)
    check b.tcp-domu2-to-domu1 "4 MB over TCP, md5 src=$src got=$got" \
        test -n "$src" -a "$src" = "${got%% *}"
    src=$(blob_md5 $IP1)
    got=$(fetch $IP2 $IP1 8080)
    check b.tcp-domu1-to-domu2 "4 MB over TCP, md5 src=$src got=$got" \
        test -n "$src" -a "$src" = "${got%% *}"
    out=$(agent $IP1 "ping -c 3 -W 1 $IP2 > /dev/null 2>&1; echo rc=\$?")
    n=$(flow_packets "icmp,nw_src=$IP1,nw_dst=$IP2")
    check b.icmp-drop "domu1 ping domu2 under drop rule: $out, rule n_packets=$n" \
        test "$out" = "rc=1" -a "${n:-0}" -gt 0
    out=$(AGENT_TIMEOUT=30 agent $IP1 "timeout $(sc 5) wget -q -O - http://$IP2:8081/blob | wc -c")
    n=$(flow_packets "tcp,tp_dst=8081")
    check b.tcp-port-drop "fetch from :8081 under drop rule got '${out}' bytes, rule n_packets=$n" \
        test "${out:-0}" -lt 1000 -a "${n:-0}" -gt 0
    timeout 10 ovs-ofctl del-flows br0 "icmp,nw_src=$IP1,nw_dst=$IP2"
    out=$(agent $IP1 "ping -c 3 -W 2 $IP2 > /dev/null 2>&1; echo rc=\$?")
    check b.icmp-after-rule-removed "domu1 ping domu2: $out" test "$out" = "rc=0"
    rm -f /tmp/got
    timeout "$(sc 60)" busybox wget -q -O /tmp/got http://$IP1:8080/blob
    r=$?
    got="$(md5sum < /tmp/got | cut -d' ' -f1) $(wc -c < /tmp/got) wget-rc=$r"
    src=$(blob_md5 $IP1)
    check b.tcp-domu1-to-dom0 "4 MB, md5 src=$src got=$got" \
        test -n "$src" -a "$src" = "${got%% *}"
    got=$(fetch $IP1 $DOM0_IP 8080)
    src=$(md5sum < /root/blob | cut -d' ' -f1)
    check b.tcp-dom0-to-domu1 "4 MB, md5 src=$src got=$got" \
        test "$src" = "${got%% *}"
}
# Run after sc_flows even when it was cut: its drop rules must not outlive it.
cleanup_flows() {
    timeout 10 ovs-ofctl del-flows br0
    timeout 10 ovs-ofctl add-flow br0 "priority=0,actions=NORMAL"
}

sc_mtu() {
    local out
    need_domain domu1
    check mtu.dom0-domu-1500 "ping -s 1472 $IP1 (1500-byte IP packets)" \
        ping_retry -s 1472 $IP1
    need_domain domu2
    out=$(agent $IP1 "ping -c 3 -W 2 -s 1472 $IP2 > /dev/null 2>&1; echo rc=\$?")
    check mtu.domu-domu-1500 "domu1 ping -s 1472 domu2: $out" test "$out" = "rc=0"
}

# What no kernel backend can do: ovs-vswitchd killed (-9) under connected
# guests and started again, then replaced by another binary (an upgrade:
# SIGTERM, and the new binary started): the guests' netfronts never leave
# Connected, traffic comes back, and the new process holds exactly what the
# old one did (grant mappings, event-channel and grant-device descriptors).
vswitchd_pid() { cat $OVS_RUNDIR/ovs-vswitchd.pid 2>/dev/null; }
# xen_resources PID: its grant mappings and Xen device descriptors.
xen_resources() {
    echo "maps=$(grep -c /dev/xen/gntdev /proc/$1/maps)" \
         "fds=$(ls -l /proc/$1/fd 2>/dev/null | grep -c /dev/xen/)"
}
# restart_to BINARY SIGNAL: stops ovs-vswitchd with SIGNAL, starts BINARY,
# gives br0 back its address; prints how long the port took to reconnect.
restart_to() {
    local pid t0
    pid=$(vswitchd_pid)
    t0=$(up)
    kill -"$2" "$pid"
    wait_for 20 sh -c "! kill -0 $pid 2>/dev/null"
    vswitchd_start "$1"
    wait_for 20 test -e /sys/class/net/br0
    ip addr add $DOM0_IP/24 dev br0 2>/dev/null
    ip link set br0 up
    wait_for 30 sh -c "ovs-vsctl get interface vif$3.0 status:status | grep -qx connected"
    awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'
}
sc_restart() {
    local d res0 res1 res2 states t1 t2 watch bin=/usr/local/sbin/ovs-vswitchd
    need_domain domu1
    d=$(domid domu1)
    ping_retry $IP1 > /dev/null
    res0=$(xen_resources "$(vswitchd_pid)")
    # The guest's frontend state, sampled all along.
    (while :; do xs /local/domain/$d/device/vif/0/state; sleep 0.2; done) \
        > $STATE/fe-states 2>&1 &
    watch=$!
    t1=$(restart_to $bin 9 $d)
    check restart.traffic "killed -9, restarted: port back in ${t1}s, ping $IP1" \
        ping_retry $IP1
    res1=$(xen_resources "$(vswitchd_pid)")
    # Another file, the same program name (its pidfile and control socket
    # keep their names, which ovs-appctl and the later scenarios use).
    mkdir -p /usr/local/lib/xvif-next
    cp $bin /usr/local/lib/xvif-next/ovs-vswitchd
    t2=$(restart_to /usr/local/lib/xvif-next/ovs-vswitchd TERM $d)
    check restart.upgrade-traffic "upgraded to /usr/local/lib/xvif-next/ovs-vswitchd: port back in ${t2}s, ping $IP1" \
        ping_retry $IP1
    res2=$(xen_resources "$(vswitchd_pid)")
    kill $watch
    states=$(sort -u $STATE/fe-states | tr '\n' ' ')
    check restart.frontend-connected "frontend states seen: $states" \
        test "$states" = "4 "
    check restart.no-leak "before: $res0; after the restart: $res1; after the upgrade: $res2" \
        test "$res0" = "$res1" -a "$res1" = "$res2"
}

# Netfront unbind/bind in the guest: backend 4 -> (5) -> 6 -> 2 -> 4 while
# online stays 1; the port stays.
sc_reconnect() {
    local d states="" last="" s end
    need_domain domu1
    d=$(domid domu1)
    agent $IP1 "(sleep 1; echo vif-0 > /sys/bus/xen/drivers/vif/unbind; sleep 2; echo vif-0 > /sys/bus/xen/drivers/vif/bind) < /dev/null > /dev/null 2>&1 &" > /dev/null
    end=$(awk -v t="$(sc 20)" '{ print int($1 + t) }' /proc/uptime)
    while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
        s=$(be_state $d 0)
        [ "$s" != "$last" ] && states="$states $s" && last=$s
        case "$states" in *6*4) break ;; esac
        sleep 0.1
    done
    check reconnect.states "backend states seen:$states" \
        grep -q '6.* 4$' <<< "$states"
    check reconnect.port-kept "ports: $(ports)" has_port vif$d.0
    check reconnect.traffic "ping $IP1 after rebind" ping_retry $IP1
    snapshot after-reconnect
}

sc_detach() {
    local d t0 rc dev why
    need_domain domu1
    d=$(domid domu1)
    t0=$(up)
    timeout "$(sc 60)" xl network-detach domu1 0 > "$OUT/xl-detach.log" 2>&1
    rc=$?
    wait_for 10 no_port vif$d.0
    check detach.port-removed "rc=$rc ($t0 -> $(up)), ports: $(ports)" \
        eval 'test $rc = 0 && no_port vif$d.0'
    check detach.xenstore-clean "backend/vif/$d/0 gone" \
        xs_absent /local/domain/0/backend/vif/$d/0
    timeout "$(sc 60)" xl network-attach domu1 mac=$MAC1 bridge=br0 \
        script=vif-xvif mtu=9000 > "$OUT/xl-attach.log" 2>&1
    rc=$?
    dev=$(timeout 10 xenstore-list /local/domain/0/backend/vif/$d 2>/dev/null | tail -n 1)
    why=$(port_ok $d "$dev" $MAC1)
    check attach.port "rc=$rc devid=$dev ${why:-ok}" test $rc = 0 -a -z "$why"
    wait_for 40 be_state_is $d "$dev" 4
    check attach.traffic "ping $IP1 over devid $dev (state $(be_state $d "$dev"))" \
        ping_retry $IP1
    snapshot after-attach
}

# (c) xl destroy removes the port and the backend directory.
sc_destroy() {
    local d t0 rc
    need_domain domu2
    d=$(domid domu2)
    state_set domu2-destroyed "$d"
    t0=$(up)
    timeout "$(sc 60)" xl destroy domu2 > "$OUT/xl-destroy-domu2.log" 2>&1
    rc=$?
    wait_for 10 no_port vif$d.0
    check c.destroy-port-removed "xl destroy rc=$rc ($t0 -> $(up)), ports: $(ports)" \
        eval 'test $rc = 0 && no_port vif$d.0'
    check c.destroy-xenstore-clean "nothing under backend/vif/$d" \
        xs_absent /local/domain/0/backend/vif/$d
    snapshot after-destroy
}

# (d) The same guest again: new domid, rate and MTU from the vif spec.
sc_recreate() {
    local old n0 d why r src got t0
    old=$(state_get domu2-destroyed)
    if [ -n "$(domid domu2)" ]; then
        echo "domu2 was not destroyed" > "$STATE/why"
        exit 3
    fi
    n0=$(console_lines domu2)
    mkcfg domu2 $MAC2 $IP2 2 ",rate=100Mb/s,mtu=9000"
    if ! create domu2; then
        result FAIL d.recreate "xl create failed"
        return
    fi
    d=$D
    why=$(port_ok $d 0 $MAC2)
    check d.recreate "new domid $d (was ${old:-?}), port vif$d.0 ${why:-ok}" \
        test -z "$why" -a "$d" != "$old"
    r=$(vsctl get Interface vif$d.0 ingress_policing_rate)
    check d.rate "xl rate=100Mb/s -> ingress_policing_rate=$r (rate key $(xs /local/domain/0/backend/vif/$d/0/rate))" \
        test "$r" = 100000
    wait_for 40 be_state_is $d 0 4
    wait_for 60 console_has domu2 "$n0" 'DOMU-MARK.*PING-'
    check d.domu-pings-dom0 "$(console domu2 "$n0" | grep -a 'PING-' | tail -n 1)" \
        console_has domu2 "$n0" 'PING-OK'
    need_domain domu1
    src=$(blob_md5 $IP1)
    got=$(fetch $IP2 $IP1 8080)
    check d.tcp "4 MB domu1 -> domu2, md5 src=$src got=$got" \
        test -n "$src" -a "$src" = "${got%% *}"
    # The other direction leaves domu2 through its policer.
    src=$(blob_md5 $IP2)
    t0=$(up)
    got=$(FETCH_TIMEOUT=80 fetch $IP1 $IP2 8080)
    check d.tcp-policed "4 MB domu2 -> domu1 through the 100 Mbit/s ingress policer, $t0 -> $(up), md5 src=$src got=$got" \
        test -n "$src" -a "$src" = "${got%% *}"
}

# Both guests' vifs were configured with mtu=9000 (domu1's by the detach
# scenario's network-attach, domu2's by recreate: xl vif mtu=, backend key
# "mtu", vif-xvif -> mtu_request); the 6.1 netfront does not apply it, so
# the guests set it themselves.
sc_jumbo() {
    local d1 d2 dev1 m1 m2 out src got
    if ! want detach; then
        echo "needs the detach scenario (domu1's vif with mtu=9000)" > "$STATE/why"
        exit 3
    fi
    need_domain domu1
    need_domain domu2
    d1=$(domid domu1)
    d2=$(domid domu2)
    dev1=$(timeout 10 xenstore-list /local/domain/0/backend/vif/$d1 2>/dev/null | tail -n 1)
    m1=$(vsctl get Interface vif$d1.$dev1 mtu)
    m2=$(vsctl get Interface vif$d2.0 mtu)
    agent $IP1 "ip link set eth0 mtu 9000" > /dev/null
    agent $IP2 "ip link set eth0 mtu 9000" > /dev/null
    out=$(agent $IP1 "ping -c 3 -W 2 -s 8000 $IP2 > /dev/null 2>&1; echo rc=\$?")
    check jumbo.ping "port mtu vif$d1.$dev1=$m1 vif$d2.0=$m2, domu1 ping -s 8000 domu2: $out" \
        test "$out" = "rc=0"
    src=$(blob_md5 $IP1)
    got=$(fetch $IP2 $IP1 8080)
    check jumbo.tcp "4 MB domu1 -> domu2 at MTU 9000, md5 src=$src got=$got" \
        test -n "$src" -a "$src" = "${got%% *}"
}
cleanup_jumbo() {
    AGENT_TIMEOUT=10 agent $IP1 "ip link set eth0 mtu 1500" > /dev/null
    AGENT_TIMEOUT=10 agent $IP2 "ip link set eth0 mtu 1500" > /dev/null
}

# xl save + restore: the guest comes back with a new domid, libxl runs the
# hotplug script for the new backend, netfront reconnects on resume.
sc_saverestore() {
    local d dr t0 t1 rc dev why
    need_domain domu1
    d=$(domid domu1)
    t0=$(up)
    timeout "$(sc 120)" xl save domu1 /tmp/domu1.save > "$OUT/xl-save.log" 2>&1
    rc=$?
    t1=$(up)
    wait_for 10 no_port_matching "^vif$d\."
    check save.port-removed "xl save rc=$rc ($t0 -> $t1), ports: $(ports)" \
        eval 'test $rc = 0 && no_port_matching "^vif$d\."'
    timeout "$(sc 120)" xl restore /tmp/domu1.save > "$OUT/xl-restore.log" 2>&1
    rc=$?
    dr=$(domid domu1)
    rm -f /tmp/domu1.save
    dev=$(timeout 10 xenstore-list /local/domain/0/backend/vif/$dr 2>/dev/null | tail -n 1)
    why=$(port_ok "$dr" "$dev" $MAC1)
    check restore.port "xl restore rc=$rc ($t1 -> $(up)), domid $d -> $dr, ${why:-ok}" \
        test $rc = 0 -a -z "$why"
    wait_for 40 be_state_is "$dr" "$dev" 4
    check restore.traffic "ping $IP1 after restore (backend state $(be_state "$dr" "$dev"))" \
        ping_retry $IP1
    snapshot after-restore
}

sc_teardown() {
    local left rc
    timeout "$(sc 60)" xl destroy domu1 > /dev/null 2>&1
    timeout "$(sc 60)" xl destroy domu2 > /dev/null 2>&1
    wait_for 10 no_ports
    check teardown.no-ports "ports left: $(ports)" no_ports
    left=$(timeout "$(sc 10)" xenstore-list /local/domain/0/backend/vif 2>/dev/null)
    rc=$?
    # xenstore-list fails for a directory that no longer exists: that is
    # clean only if xenstored still answers.
    [ $rc != 0 ] && xs_absent /local/domain/0/backend/vif && rc=0 left=
    check teardown.xenstore-clean "backend/vif entries left: $(echo $left) (rc $rc)" \
        test $rc = 0 -a -z "$left"
    check teardown.vswitchd-alive "ovs-vswitchd still running" \
        pgrep -x ovs-vswitchd
}

############################################################ runner
# One process per scenario.
case ${1:-} in
    --scenario) sc_$2; exit 0 ;;
    --cleanup) cleanup_$2; exit 0 ;;
esac

# run SCENARIO BUDGET: runs SCENARIO in its own process for at most BUDGET
# reference seconds (scaled), then reports every check of it that did not
# report: "cut at the budget" if it was killed, otherwise the reason it gave
# (need_domain) or "did not run".
run() {
    local name=$1 budget t0 t rc why c
    budget=$(sc "$2")
    rm -f "$STATE/why"
    t0=$(up)
    mark "scenario $name start (budget ${budget}s)"
    timeout -k 5 "$budget" bash "$0" --scenario "$name"
    rc=$?
    # What the scenario changed for the next ones is undone even if it
    # was cut (cleanup_NAME, bounded too).
    if declare -F "cleanup_$name" > /dev/null; then
        timeout -k 5 "$(sc 30)" bash "$0" --cleanup "$name"
    fi
    t=$(awk -v a="$t0" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }')
    case $rc in
        124|137) why="scenario $name cut at its ${budget}s budget (SLOW)" ;;
        *) why=$(cat "$STATE/why" 2>/dev/null)
           why=${why:-"did not run (scenario $name ended, rc $rc)"} ;;
    esac
    for c in $(awk -v s="$name" -v m="$VSWITCHD_MODE" \
                   '$1 == s && (NF < 3 || $3 == m) { print $2 }' "$CHECKS"); do
        grep -q "^RESULT: [A-Z]* $c\( \|$\)" "$RES" || result FAIL "$c" "$why"
    done
    echo "$name ${t}s budget=${budget}s rc=$rc" >> "$OUT/scenarios"
    # The logs so far reach the host even if QEMU is stopped later.
    cp /var/log/openvswitch/*.log "$OUT/" 2>/dev/null
    mark "scenario $name end rc=$rc (${t}s of ${budget}s)"
}

finish() {
    snapshot final
    cp /var/log/openvswitch/*.log "$OUT/" 2>/dev/null
    cp -r /var/log/xen "$OUT/xen-logs" 2>/dev/null
    dmesg > "$OUT/dom0-dmesg.txt"
    mark "dom0-test finished: $(grep -c '^RESULT: PASS' "$RES") passed," \
         "$(grep -c '^RESULT: FAIL' "$RES") failed"
    exit 0
}

mkdir -p "$OUT" $STATE
: > "$RES"
: > "$OUT/scenarios"
mark "dom0-test start (vswitchd=$VSWITCHD_MODE, scenarios=$SCENARIOS," \
     "boot ${BOOT}s vs ${BOOT_REF}s: speed factor $SPEED)"
echo "$SPEED" > "$OUT/speed"

# Budgets in seconds of the reference machine: two to four times what each
# scenario took in a passing run (tests/xen/README.md); the longest is
# run.sh's MAX_BUDGET.
run setup 60
want hotplug && run hotplug 60
[ "$VSWITCHD_MODE" = debian ] && finish
run create 150
run mq 150
want flows && run flows 300
want mtu && run mtu 60
want reconnect && run reconnect 60
want restart && run restart 150
want detach && run detach 120
run destroy 60
run recreate 300
want jumbo && run jumbo 120
want saverestore && run saverestore 150
run teardown 90
finish
