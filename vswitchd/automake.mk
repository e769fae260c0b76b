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

# The project's ovs-vswitchd: Open vSwitch's unmodified vswitchd sources plus
# a main() that registers the xvif netdev classes first.  The program must be
# called ovs-vswitchd: its pidfile and control socket names derive from it.
sbin_PROGRAMS += vswitchd/ovs-vswitchd
vswitchd_ovs_vswitchd_SOURCES = \
	vswitchd/xvif-vswitchd.c \
	vswitchd/ovs-bridge.c \
	vswitchd/ovs-system-stats.c
vswitchd_ovs_vswitchd_CPPFLAGS = $(AM_CPPFLAGS) -I $(OVS_SRCDIR)/vswitchd
vswitchd_ovs_vswitchd_LDADD = \
	lib/libxvif.la \
	$(OVS_LIBOFPROTO) \
	$(OVS_LIBSFLOW) \
	$(OVS_LIBOPENVSWITCH) \
	$(XEN_LIBS)

# OVS_VSWITCHD_START (OVS's tests/ofproto-macros.at) creates its database from
# $abs_top_srcdir/vswitchd/vswitch.ovsschema: the schema of the OVS tree we
# build against, copied.
ALL_LOCAL += vswitchd/vswitch.ovsschema
vswitchd/vswitch.ovsschema: $(OVS_SRCDIR)/vswitchd/vswitch.ovsschema
	$(AM_V_GEN)cp $(OVS_SRCDIR)/vswitchd/vswitch.ovsschema $@
DISTCLEANFILES += vswitchd/vswitch.ovsschema
