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

# The xvif provider.  Everything that runs inside ovs-vswitchd is in
# libxvif.la, so test programs link the same code.
noinst_LTLIBRARIES += lib/libxvif.la
lib_libxvif_la_SOURCES = \
	lib/netdev-xvif.c \
	lib/netdev-xvif.h \
	lib/xvif-appctl.c \
	lib/xvif-ctrl.c \
	lib/xvif-hash.c \
	lib/xvif-hash.h \
	lib/xvif-idle.c \
	lib/xvif-idle.h \
	lib/xvif-mcast.c \
	lib/xvif-private.h \
	lib/xvif-rx.c \
	lib/xvif-tx.c \
	lib/xvif-xenbus.c \
	lib/xvif-xenbus.h \
	lib/xvif-netback-check.c \
	lib/xvif-netback-check.h \
	lib/xvif-xen.c \
	lib/xvif-xen.h \
	lib/xvif-xen-real.c \
	lib/xvif-xen-sim.c \
	lib/xvif-offload.c \
	lib/xvif-offload.h
lib_libxvif_la_LIBADD = xensim/libxensim.la $(XEN_LIBS)
