# -*- autoconf -*-
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

dnl XVIF_CHECK_OVS
dnl
dnl Finds the Open vSwitch tree to build against, as OVN does:
dnl --with-ovs-source=DIR must hold vswitchd/bridge.c; --with-ovs-build=DIR
dnl (default: the source dir) must hold the configured config.h and the
dnl built lib/libopenvswitch.la.  The provider interface (struct
dnl netdev_class) is not a stable ABI, so only OVS 3.1.x is accepted.
AC_DEFUN([XVIF_CHECK_OVS], [
  AC_ARG_WITH([ovs-source],
    [AS_HELP_STRING([--with-ovs-source=DIR],
                    [Open vSwitch 3.1 source tree (required)])],
    [OVS_SRCDIR=`cd "$withval" 2>/dev/null && pwd`],
    [OVS_SRCDIR=])
  AC_ARG_WITH([ovs-build],
    [AS_HELP_STRING([--with-ovs-build=DIR],
                    [Open vSwitch build tree (default: the source tree)])],
    [OVS_BUILDDIR=`cd "$withval" 2>/dev/null && pwd`],
    [OVS_BUILDDIR=$OVS_SRCDIR])

  AC_MSG_CHECKING([for the Open vSwitch source tree])
  if test -z "$OVS_SRCDIR" || test ! -f "$OVS_SRCDIR/vswitchd/bridge.c"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([--with-ovs-source=DIR must name an Open vSwitch 3.1 source
tree (DIR/vswitchd/bridge.c).  build-aux/ovs-build.sh makes one from
Debian's openvswitch-source package.])
  fi
  AC_MSG_RESULT([$OVS_SRCDIR])

  AC_MSG_CHECKING([for the Open vSwitch build tree])
  if test ! -f "$OVS_BUILDDIR/config.h"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([$OVS_BUILDDIR/config.h not found: configure Open vSwitch
first, or name its build tree with --with-ovs-build=DIR.])
  fi
  if test ! -f "$OVS_BUILDDIR/lib/libopenvswitch.la"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([$OVS_BUILDDIR/lib/libopenvswitch.la not found: build
Open vSwitch first (make in $OVS_BUILDDIR).])
  fi
  AC_MSG_RESULT([$OVS_BUILDDIR])

  AC_MSG_CHECKING([Open vSwitch version])
  OVSVERSION=`sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' \
              "$OVS_BUILDDIR/config.h"`
  AC_MSG_RESULT([$OVSVERSION])
  case $OVSVERSION in
    3.1.*) ;;
    *) AC_MSG_ERROR([xvif needs Open vSwitch 3.1.x, found "$OVSVERSION":
struct netdev_class is not a stable interface.]) ;;
  esac

  dnl OVS's own warning flags hold our code to OVS's standard.
  OVS_WARNING_FLAGS=`sed -n 's/^WARNING_FLAGS = //p' "$OVS_BUILDDIR/Makefile"`
  OVS_EXTRA_LIBS=`sed -n 's/^SSL_LIBS = //p; s/^CAPNG_LDADD = //p; s/^LIBS = //p' \
                  "$OVS_BUILDDIR/Makefile" | tr '\n' ' '`

  AC_SUBST([OVS_SRCDIR])
  AC_SUBST([OVS_BUILDDIR])
  AC_SUBST([OVSVERSION])
  AC_SUBST([OVS_WARNING_FLAGS])
  AC_SUBST([OVS_EXTRA_LIBS])
])

dnl XVIF_CHECK_XEN
dnl
dnl Finds libxenstore, libxengnttab and libxenevtchn (Debian: libxen-dev)
dnl through pkg-config.  They are required: the same ovs-vswitchd binary
dnl runs against a real hypervisor and against the simulated one.
AC_DEFUN([XVIF_CHECK_XEN], [
  PKG_CHECK_MODULES([XEN], [xenstore xengnttab xenevtchn], [],
    [AC_MSG_ERROR([the Xen libraries were not found ($XEN_PKG_ERRORS).
On Debian: apt-get install libxen-dev])])
  AC_CHECK_HEADER([xen/io/netif.h], [],
    [AC_MSG_ERROR([<xen/io/netif.h> not found (Debian: libxen-dev)])])
])
