#!/bin/bash
# ovs-build.sh -- unpack and build OVS 3.1 from Debian's openvswitch-source,
# once, in a cache directory outside the source tree.
#
# Usage: build-aux/ovs-build.sh [CACHE_DIR]
#
# Prints nothing but progress on stderr; on success the last line on stdout
# is the OVS tree ("source and build in one directory"), which configure
# takes as --with-ovs-source.  A tree that already built is reused: the
# marker file .xvif-built is written only after a complete build, so an
# interrupted build is redone from scratch.
set -euo pipefail

CACHE=${1:-${XVIF_CACHE:-/var/cache/xvif}}
TARBALL=/usr/src/openvswitch/openvswitch.tar.gz
[ -r "$TARBALL" ] || {
    echo "ovs-build: $TARBALL missing (apt-get install openvswitch-source)" >&2
    exit 1
}
# The cache key is the tarball's checksum: a Debian security update of
# openvswitch-source triggers a rebuild.
key=$(md5sum "$TARBALL" | cut -c1-12)
OVS=$CACHE/ovs-$key
if [ -e "$OVS/.xvif-built" ]; then
    echo "$OVS"
    exit 0
fi

echo "ovs-build: building OVS in $OVS (about 2 minutes on 2 cores)" >&2
rm -rf "$OVS"
mkdir -p "$OVS"
tar -xzf "$TARBALL" -C "$OVS" --strip-components=1
cd "$OVS"
# Configured as Debian configures it, so the binaries agree with Debian's
# ovsdb-server/ovs-vsctl on paths (/var/run/openvswitch, /etc/openvswitch).
./configure --prefix=/usr --localstatedir=/var --sysconfdir=/etc \
    PYTHON3=/usr/bin/python3 --enable-silent-rules >config.out 2>&1 || {
    tail -30 config.out >&2
    exit 1
}
make -j"$(nproc)" >make.out 2>&1 || {
    tail -40 make.out >&2
    exit 1
}
touch "$OVS/.xvif-built"
echo "$OVS"
