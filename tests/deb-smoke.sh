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

# deb-smoke.sh -- build the Debian package, install it, smoke-test the
# installed files, remove it.  Run as root on Debian 12:
#
#     bash tests/deb-smoke.sh [--worktree] [--keep]
#
# The package is built in a temporary directory from the committed HEAD
# (git archive), so an in-tree build is left alone; --worktree builds from
# the work tree's files instead (tracked plus untracked, not ignored ones).
# --keep leaves the package installed and the temporary directory in place.
#
# Installing pulls in openvswitch-switch if it is missing.  A policy-rc.d
# that forbids service starts is in place while apt runs, so no system
# Open vSwitch is started; the installed ovs-vswitchd is run by hand against
# a private ovsdb-server in the temporary directory.
set -euo pipefail

keep=false
worktree=false
for arg; do
    case $arg in
        --keep) keep=true ;;
        --worktree) worktree=true ;;
        *) echo "usage: $0 [--worktree] [--keep]" >&2; exit 1 ;;
    esac
done

top=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
work=$(mktemp -d /tmp/xvif-deb.XXXXXX)
run=$work/run
src=$work/xvif
export DEBIAN_FRONTEND=noninteractive

step() { printf '== deb-smoke (%ss): %s\n' $(($(date +%s) - start)) "$*"; }
die() { echo "deb-smoke: FAILED: $*" >&2; exit 1; }

policy_rc=/usr/sbin/policy-rc.d
own_policy=false
cleanup() {
    set +e
    if [ -f "$run/ovs-vswitchd.pid" ]; then
        kill "$(cat "$run/ovs-vswitchd.pid")" 2>/dev/null
    fi
    if [ -f "$run/ovsdb-server.pid" ]; then
        kill "$(cat "$run/ovsdb-server.pid")" 2>/dev/null
    fi
    if $own_policy; then
        rm -f "$policy_rc"
    fi
    if ! $keep; then
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# Daemons already running before we start (a system Open vSwitch, tests
# of other people): the check at the end looks only for new ones.
pids_before=$(pgrep -x ovs-vswitchd || true)

mkdir -p "$src" "$run"
if $worktree; then
    step "copying the work tree to $src"
    (cd "$top" && git ls-files -z -co --exclude-standard \
         | grep -zv '^debian/ovs-build/' \
         | tar --null -T - -cf -) | tar -xf - -C "$src"
else
    step "exporting HEAD ($(git -C "$top" rev-parse --short HEAD)) to $src"
    git -C "$top" archive HEAD | tar -xf - -C "$src"
fi

step "build dependencies"
if ! (cd "$src" && dpkg-checkbuilddeps) >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends debhelper >/dev/null
    apt-get -o DPkg::Lock::Timeout=600 build-dep -y -q "$src" >/dev/null
fi

step "dpkg-buildpackage -us -uc -b (log: $work/build.log)"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
    tail -40 "$work/build.log" >&2
    die "dpkg-buildpackage"
}
deb=$(ls "$work"/xvif_*.deb)
step "built $(basename "$deb")"
dpkg-deb --contents "$deb" | awk '{print $6}' > "$work/contents"
for f in ./usr/lib/xvif/ovs-vswitchd ./usr/bin/xvif-ctl \
         ./etc/xen/scripts/vif-xvif ./usr/share/man/man8/vif-xvif.8.gz \
         ./usr/share/doc/xvif/xen-dom0.rst \
         ./usr/share/man/man8/xvif-ctl.8.gz; do
    # (dh_compress gzips larger documents and every man page.)
    grep -qxE "$f(\.gz)?" "$work/contents" || die "$f not in the package"
done
dpkg-deb --field "$deb" Depends

step "apt-get install $(basename "$deb")"
if [ ! -e "$policy_rc" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy_rc"
    chmod 755 "$policy_rc"
    own_policy=true
fi
apt-get -o DPkg::Lock::Timeout=600 install -y -q "$deb" >"$work/install.log" 2>&1 || {
    tail -30 "$work/install.log" >&2
    die "apt-get install"
}
dpkg -s xvif | grep -q '^Status: install ok installed' || die "not installed"

step "update-alternatives"
update-alternatives --display ovs-vswitchd
update-alternatives --query ovs-vswitchd \
    | grep -qx 'Alternative: /usr/lib/xvif/ovs-vswitchd' \
    || die "/usr/lib/xvif/ovs-vswitchd is not an ovs-vswitchd alternative"
update-alternatives --query ovs-vswitchd | grep -A1 -x \
    'Alternative: /usr/lib/xvif/ovs-vswitchd' | grep -qx 'Priority: 50' \
    || die "wrong priority"
[ "$(readlink -f /usr/sbin/ovs-vswitchd)" != /usr/lib/xvif/ovs-vswitchd ] \
    || die "xvif's ovs-vswitchd was selected without being asked for"

step "installed files"
/usr/lib/xvif/ovs-vswitchd --version | tee "$work/version"
grep -q 'Open vSwitch) 3\.1\.0' "$work/version" || die "--version"
[ -x /etc/xen/scripts/vif-xvif ] || die "vif-xvif"
sh -n /etc/xen/scripts/vif-xvif || die "vif-xvif syntax"
[ -x /usr/bin/xvif-ctl ] || die "xvif-ctl"
man -w vif-xvif >/dev/null || die "man vif-xvif"

step "ovs-vswitchd against a private ovsdb-server"
export OVS_RUNDIR=$run OVS_LOGDIR=$run OVS_DBDIR=$run OVS_SYSCONFDIR=$run
ovsdb-tool create "$run/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$run/conf.db" --remote=punix:"$run/db.sock" --detach \
    --no-chdir --pidfile="$run/ovsdb-server.pid" \
    --log-file="$run/ovsdb-server.log"
ovs-vsctl --db=unix:"$run/db.sock" --no-wait init
/usr/lib/xvif/ovs-vswitchd unix:"$run/db.sock" --detach --no-chdir \
    --pidfile="$run/ovs-vswitchd.pid" --log-file="$run/ovs-vswitchd.log" \
    -vconsole:off
types=
for i in $(seq 100); do
    types=$(ovs-vsctl --db=unix:"$run/db.sock" get Open_vSwitch . \
                iface_types)
    case $types in *xvif*) break ;; esac
    sleep 0.1
done
echo "iface_types: $types"
case $types in
    *'xvif-pmd'*) ;;
    *) die "iface_types does not list xvif/xvif-pmd" ;;
esac
echo "$types" | tr -d '[]' | tr ',' '\n' | tr -d ' ' | grep -qx xvif \
    || die "iface_types does not list xvif"
ovs-appctl -t "$run/ovs-vswitchd.$(cat "$run/ovs-vswitchd.pid").ctl" exit
ovs-appctl -t "$run/ovsdb-server.$(cat "$run/ovsdb-server.pid").ctl" exit
rm -f "$run/ovs-vswitchd.pid" "$run/ovsdb-server.pid"

if $keep; then
    step "done, package left installed, files in $work"
    exit 0
fi

step "apt-get purge xvif"
apt-get -o DPkg::Lock::Timeout=600 purge -y -q xvif >"$work/remove.log" 2>&1 || {
    tail -20 "$work/remove.log" >&2
    die "apt-get purge"
}
! update-alternatives --query ovs-vswitchd 2>/dev/null \
    | grep -q /usr/lib/xvif/ || die "the alternative is still registered"
[ ! -e /usr/lib/xvif/ovs-vswitchd ] || die "ovs-vswitchd left behind"
[ ! -e /etc/xen/scripts/vif-xvif ] || die "vif-xvif left behind"

# No ovs-vswitchd started by the package installation may remain.
sleep 1
for pid in $(pgrep -x ovs-vswitchd || true); do
    case " $(echo $pids_before) " in
        *" $pid "*) ;;
        *) die "an ovs-vswitchd (pid $pid) was left running:" \
               "$(tr '\0' ' ' < /proc/$pid/cmdline)" ;;
    esac
done

step "PASSED"
