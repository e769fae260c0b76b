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

# The simulated Xen host: see Documentation/topics/xensim.rst.
#
# libxensim.la is the simulated hypervisor (domains, grant tables, event
# channels in shared memory); ovs-vswitchd links it for its simulated access
# layer (lib/xvif-xen-sim.c), and the simulated guest and toolstack link it
# to play domU and the toolstack.
noinst_LTLIBRARIES += xensim/libxensim.la
xensim_libxensim_la_SOURCES = \
	xensim/xensim.c \
	xensim/xensim.h

bin_PROGRAMS += xensim/xensim-xenstored
xensim_xensim_xenstored_SOURCES = xensim/xensim-xenstored.c
xensim_xensim_xenstored_LDADD = $(OVS_LIBOPENVSWITCH)

bin_PROGRAMS += xensim/xensim-xl
xensim_xensim_xl_SOURCES = xensim/xensim-xl.c
xensim_xensim_xl_LDADD = xensim/libxensim.la $(OVS_LIBOPENVSWITCH) $(XEN_LIBS)

bin_PROGRAMS += xensim/xensim-netfront
xensim_xensim_netfront_SOURCES = xensim/xensim-netfront.c
xensim_xensim_netfront_LDADD = \
	xensim/libxensim.la $(OVS_LIBOPENVSWITCH) $(XEN_LIBS)
