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

# tests/xen/lib-images.sh: sourced by run.sh and bench.sh.  Installs the host
# tools, builds (and caches) the Xen + kernel + dom0 + domU images and boots
# them in QEMU/TCG.
#
# The caller sets, before sourcing:
#   CACHE      image cache directory
#   HERE       the tests/xen directory
#   REBUILD    yes: drop the cached images (not the debootstrap rootfs)
# and may set (the default is the check's image, run.sh):
#   IMG_VARIANT       "test" (xen-netback left out and blacklisted) or
#                     "bench" (xen-netback, openvswitch.ko and their
#                     dependencies included, nothing blacklisted)
#   EXTRA_DOM0_PKGS   more packages for the dom0 debootstrap
#   DOMU_BINS         programs copied with their shared libraries from the
#                     dom0 rootfs into the domU initramfs
# and must define die() and step().  Afterwards: $KV, $KERNEL, $IMG (holding
# xen, vmlinuz, dom0.cpio, domu.cpio.gz).

IMG_VARIANT=${IMG_VARIANT:-test}
EXTRA_DOM0_PKGS=${EXTRA_DOM0_PKGS:-}
DOMU_BINS=${DOMU_BINS:-}

# Packages installed into the dom0 rootfs.  Part of the cache key.
DOM0_PKGS="xen-utils-4.17 xenstore-utils openvswitch-switch iproute2 kmod"
DOM0_PKGS="$DOM0_PKGS procps netcat-openbsd tcpdump"
[ -n "$EXTRA_DOM0_PKGS" ] && DOM0_PKGS="$DOM0_PKGS $EXTRA_DOM0_PKGS"
HOST_PKGS="qemu-system-x86 busybox-static cpio debootstrap bc perl"

# Kernel modules in every dom0 image, and those of the bench image (their
# dependencies are added from modules.dep).
DOM0_MODS="drivers/xen/xen-evtchn drivers/xen/xen-gntdev
  drivers/xen/xen-gntalloc drivers/xen/xen-privcmd drivers/xen/xenfs/xenfs
  drivers/net/tun drivers/virtio/virtio_ring drivers/virtio/virtio
  drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev
  drivers/virtio/virtio_pci net/9p/9pnet net/9p/9pnet_virtio fs/netfs/netfs
  fs/fscache/fscache fs/9p/9p"
BENCH_MODS="drivers/net/xen-netback/xen-netback net/openvswitch/openvswitch
  crypto/crc32c_generic"

# images_host_tools: installs the host packages with apt-get if missing.
images_host_tools() {
    local need="" p t
    step "host packages"
    for p in $HOST_PKGS; do
        dpkg -s "$p" > /dev/null 2>&1 || need="$need $p"
    done
    if [ -n "$need" ]; then
        echo "installing:$need"
        timeout 900 apt-get -o DPkg::Lock::Timeout=600 update -qq \
            || die "apt-get update failed; cannot install$need"
        DEBIAN_FRONTEND=noninteractive timeout 1500 apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
            --no-install-recommends $need \
            || die "apt-get install$need failed"
    fi
    for t in qemu-system-x86_64 busybox cpio debootstrap bc perl; do
        command -v $t > /dev/null || die "$t missing after install"
    done
}

# images_mods_closure KMODDIR MOD...: prints MOD... (paths under kernel/,
# without .ko) and every module they depend on, from modules.dep.
images_mods_closure() {
    local kmod=$1
    shift
    # The package carries no modules.dep: make one (in the cache).
    if [ ! -s "$kmod/modules.dep" ]; then
        depmod -b "${kmod%/lib/modules/*}" "$(basename "$kmod")" \
            || return 1
    fi
    perl -e '
        my ($dep, @want) = @ARGV;
        my %deps;
        open(my $f, "<", $dep) or die "$dep: $!";
        while (<$f>) {
            chomp;
            my ($m, $d) = split(/:\s*/, $_, 2);
            $deps{$m} = [split(" ", $d // "")];
        }
        my %seen;
        my @todo = map { "kernel/$_.ko" } @want;
        while (my $m = shift @todo) {
            next if $seen{$m}++;
            die "no module $m in $dep\n" unless exists $deps{$m};
            push @todo, @{$deps{$m}};
        }
        for (sort keys %seen) { s{^kernel/}{}; s{\.ko$}{}; print "$_\n"; }
    ' "$kmod/modules.dep" "$@"
}

# images_copy_with_libs ROOT DEST PROG...: copies PROG (a path inside ROOT)
# and the shared libraries it needs (as resolved inside ROOT) to DEST.
images_copy_with_libs() {
    local root=$1 dest=$2 prog lib
    shift 2
    for prog in "$@"; do
        [ -x "$root$prog" ] || die "$prog missing in $root"
        mkdir -p "$dest$(dirname "$prog")"
        cp -L "$root$prog" "$dest$prog"
        for lib in $(chroot "$root" ldd "$prog" \
                     | awk '$2 == "=>" && $3 ~ /^\// {print $3}
                            $1 ~ /^\// {print $1}'); do
            mkdir -p "$dest$(dirname "$lib")"
            cp -L "$root$lib" "$dest$lib"
        done
    done
}

# images_build: the kernel, Xen, the dom0 rootfs and both initramfs images,
# each cached under $CACHE.
images_build() {
    local d m mods r s imgkey rootkey

    mkdir -p "$CACHE"
    MIRROR=${MIRROR:-$(sed -n 's/^URIs: *//p' \
                       /etc/apt/sources.list.d/debian.sources 2>/dev/null \
                       | head -n 1)}
    [ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb"{print $2; exit}' \
                                  /etc/apt/sources.list 2>/dev/null)
    [ -n "$MIRROR" ] || die "no Debian mirror found in apt sources (set MIRROR=)"

    # Xen + kernel.
    KPKG=${KPKG:-$(apt-cache depends linux-image-amd64 2>/dev/null \
                   | awk '/Depends: linux-image-[0-9]/{print $2; exit}')}
    [ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 (apt-get update?)"
    KV=${KPKG#linux-image-}
    PKGDIR=$CACHE/pkgs-$KV
    step "kernel $KPKG + xen-hypervisor-4.17-amd64"
    if [ ! -e "$PKGDIR/.done" ]; then
        rm -rf "$PKGDIR"
        mkdir -p "$PKGDIR/x"
        (cd "$PKGDIR" && timeout 600 apt-get download "$KPKG" \
            xen-hypervisor-4.17-amd64) || die "apt-get download failed"
        for d in "$PKGDIR"/*.deb; do
            dpkg-deb -x "$d" "$PKGDIR/x"
        done
        touch "$PKGDIR/.done"
    fi
    KERNEL=$PKGDIR/x/boot/vmlinuz-$KV
    KMOD=$PKGDIR/x/lib/modules/$KV
    XENGZ=$(ls "$PKGDIR"/x/boot/xen-4.17*-amd64.gz 2>/dev/null | head -n 1)
    [ -f "$KERNEL" ] && [ -n "$XENGZ" ] || die "kernel or Xen missing in $PKGDIR"

    # dom0 rootfs.
    rootkey=$(echo "bookworm $DOM0_PKGS" | md5sum | cut -c1-8)
    ROOTFS=$CACHE/rootfs-$rootkey
    step "dom0 rootfs $ROOTFS"
    if [ ! -e "$ROOTFS/.done" ]; then
        rm -rf "$ROOTFS"
        timeout 1200 debootstrap --variant=minbase \
            --include="$(echo "$DOM0_PKGS" | tr ' ' ',')" \
            bookworm "$ROOTFS" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1 \
            || { tail -n 20 "$CACHE/debootstrap.log"; \
                 die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
        touch "$ROOTFS/.done"
    fi

    # Images.
    mods=$DOM0_MODS
    if [ "$IMG_VARIANT" = bench ]; then
        mods="$mods $(images_mods_closure "$KMOD" $BENCH_MODS)" \
            || die "module dependencies of $BENCH_MODS"
    fi
    local img_version=2     # bump when the image recipe below changes
    imgkey=$( (echo "$img_version $rootkey $KV $mods"
               [ "$IMG_VARIANT" = test ] \
                   || echo "$IMG_VARIANT $DOMU_BINS"
               cat "$HERE/dom0-init" "$HERE/domu-init" /bin/busybox) \
              | md5sum | cut -c1-8)
    IMG=$CACHE/img-$imgkey
    [ "$REBUILD" = yes ] && rm -rf "$CACHE"/img-*
    step "images $IMG"
    if [ ! -e "$IMG/.done" ]; then
        rm -rf "$CACHE"/img-* "$CACHE/stage" "$CACHE/domu-root"
        mkdir -p "$IMG"
        # domU: static busybox + Linux's own xen-netfront (+ DOMU_BINS).
        r=$CACHE/domu-root
        mkdir -p "$r"/{bin,proc,sys,dev,etc,tmp}
        cp /bin/busybox "$r/bin/busybox"
        for a in $(/bin/busybox --list); do
            [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
        done
        cp "$KMOD/kernel/drivers/net/xen-netfront.ko" "$r/"
        if [ -n "$DOMU_BINS" ]; then
            images_copy_with_libs "$ROOTFS" "$r" $DOMU_BINS
        fi
        install -m 755 "$HERE/domu-init" "$r/init"
        (cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) \
            > "$IMG/domu.cpio.gz"
        rm -rf "$r"
        # dom0: the rootfs, trimmed; uncompressed cpio (gzip would cost
        # seconds of TCG time at every boot).  The check's image has no
        # xen-netback (and blacklists it).
        s=$CACHE/stage
        cp -a "$ROOTFS" "$s"
        rm -rf "$s"/var/cache/apt/archives/*.deb "$s"/var/lib/apt/lists/* \
            "$s"/usr/share/doc "$s"/usr/share/locale "$s"/usr/share/man \
            "$s"/usr/share/info "$s"/usr/share/i18n \
            "$s"/usr/lib/x86_64-linux-gnu/gconv "$s"/usr/lib/python3* \
            "$s"/usr/lib/udev/hwdb.bin "$s"/usr/lib/udev/hwdb.d
        for m in $mods; do
            mkdir -p "$s/lib/modules/$KV/kernel/$(dirname $m)"
            cp "$KMOD/kernel/$m.ko" "$s/lib/modules/$KV/kernel/$m.ko"
        done
        cp "$KMOD"/modules.builtin "$KMOD"/modules.builtin.modinfo \
            "$KMOD"/modules.order "$s/lib/modules/$KV/"
        chroot "$s" depmod -a "$KV"
        mkdir -p "$s/etc/modprobe.d"
        if [ "$IMG_VARIANT" = test ]; then
            printf 'blacklist xen-netback\ninstall xen-netback /bin/false\n' \
                > "$s/etc/modprobe.d/xvif-no-netback.conf"
        fi
        cp /bin/busybox "$s/bin/busybox"
        cp "$KERNEL" "$s/root/vmlinuz"
        cp "$IMG/domu.cpio.gz" "$s/root/"
        install -m 755 "$HERE/dom0-init" "$s/init"
        (cd "$s" && find . | cpio -o -H newc --quiet) > "$IMG/dom0.cpio"
        rm -rf "$s"
        zcat "$XENGZ" > "$IMG/xen"
        cp "$KERNEL" "$IMG/vmlinuz"
        touch "$IMG/.done"
    fi
    ls -la "$IMG"
}

# images_boot TIMEOUT CPUS LOG [XEN-ARGS]: boots Xen + dom0 from $IMG with
# the share $SHARE, CPUS QEMU CPUs (multi-threaded TCG when more than one),
# the console with host timestamps into LOG; "RESULT" and "MARK" lines are
# echoed on stderr.  Returns QEMU's exit status (124: the time limit).
images_boot() {
    local limit=$1 cpus=$2 log=$3 xenargs=${4:-} accel=tcg rc
    [ "$cpus" -gt 1 ] && accel=tcg,thread=multi
    exec 3>&1
    set +e
    timeout --kill-after=10 "$limit" qemu-system-x86_64 -accel $accel \
        -cpu qemu64,+svm -m 3072 -smp "$cpus" -nographic -no-reboot \
        -monitor none \
        -virtfs local,path="$SHARE",mount_tag=host0,security_model=none,id=host0 \
        -kernel "$IMG/xen" \
        -append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M loglvl=all guest_loglvl=all $xenargs" \
        -initrd "$IMG/vmlinuz console=hvc0,$IMG/dom0.cpio" < /dev/null 2>&1 \
      | perl -MTime::HiRes=time -ne \
          'BEGIN{$|=1;$t0=time} printf("[%7.2f] %s", time-$t0, $_);
           if (/^(RESULT|MARK|BENCH)/) { s/\r//g; print STDERR "  dom0: $_"; }' \
          > "$log" 2>&3
    rc=${PIPESTATUS[0]}
    set -e
    exec 3>&-
    return $rc
}
