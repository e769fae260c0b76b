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

# The test suite: OVS's autotest, with OVS's own macro files
# (ovs-macros.at, ovsdb-macros.at, ofproto-macros.at) read straight from the
# OVS source tree, as OVN does.
EXTRA_DIST += \
	$(TESTSUITE_AT) \
	$(TESTSUITE) \
	tests/atlocal.in \
	$(srcdir)/package.m4
TESTSUITE_AT = \
	tests/testsuite.at \
	tests/xvif-macros.at \
	tests/checkpatch.at \
	tests/xensim.at \
	tests/xenstored.at \
	tests/netfront.at \
	tests/netdev-xvif.at \
	tests/xvif-traffic.at \
	tests/xvif-valgrind.at \
	tests/xvif-perf.at \
	tests/xvif-controller.at \
	tests/xvif-ovn.at \
	tests/xvif-offload.at \
	tests/xvif-netif.at \
	tests/xvif-hostile.at \
	tests/xvif-restart.at \
	tests/xvif-ctl.at \
	tests/xvif-static-grants.at \
	tests/xvif-toolstack.at \
	tests/xvif-operations.at
TESTSUITE = $(srcdir)/tests/testsuite
TESTSUITE_DIR = $(abs_top_builddir)/tests/testsuite.dir
DISTCLEANFILES += tests/atconfig tests/atlocal

# The OpenFlow controller applications of tests/xvif-controller.at.
EXTRA_DIST += \
	tests/xvif-os-ken-l2.py \
	tests/xvif-os-ken-steer.py

# Our programs come first, so "ovs-vswitchd" is ours; then OVS's own
# (ovsdb-server, ovs-vsctl, ovs-ofctl, ovs-appctl, ovstest...) from the very
# build whose schema and libraries we use.
AUTOTEST_PATH = vswitchd:utilities:xensim:tests:$(OVS_BUILDDIR)/utilities:$(OVS_BUILDDIR)/ovsdb:$(OVS_BUILDDIR)/tests

# RECHECK=yes reruns failed tests once, as OVS's own CI does; the rerun is
# shown in the output.
check-local: tests/atconfig tests/atlocal $(TESTSUITE) $(ALL_LOCAL)
	$(SHELL) '$(TESTSUITE)' -C tests AUTOTEST_PATH='$(AUTOTEST_PATH)' \
		$(TESTSUITEFLAGS) || \
	(test X'$(RECHECK)' = Xyes && echo "== rechecking failed tests" && \
	 $(SHELL) '$(TESTSUITE)' -C tests AUTOTEST_PATH='$(AUTOTEST_PATH)' \
		--recheck)

clean-local:
	test ! -f '$(TESTSUITE)' || $(SHELL) '$(TESTSUITE)' -C tests --clean

AUTOTEST = $(AUTOM4TE) -l autotest
$(TESTSUITE): package.m4 $(TESTSUITE_AT)
	$(AM_V_GEN)$(AUTOTEST) -I '$(srcdir)' -I '$(OVS_SRCDIR)' \
		-o $@.tmp $@.at
	$(AM_V_at)mv $@.tmp $@

$(srcdir)/package.m4: $(top_srcdir)/configure.ac
	$(AM_V_GEN):;{ \
	  echo '# Signature of the current package.' && \
	  echo 'm4_define([AT_PACKAGE_NAME],      [$(PACKAGE_NAME)])' && \
	  echo 'm4_define([AT_PACKAGE_TARNAME],   [$(PACKAGE_TARNAME)])' && \
	  echo 'm4_define([AT_PACKAGE_VERSION],   [$(PACKAGE_VERSION)])' && \
	  echo 'm4_define([AT_PACKAGE_STRING],    [$(PACKAGE_STRING)])' && \
	  echo 'm4_define([AT_PACKAGE_BUGREPORT], [$(PACKAGE_BUGREPORT)])'; \
	} >'$(srcdir)/package.m4'

# Style: OVS's checkpatch.py over every C file of the project (run by the
# "checkpatch" test in tests/checkpatch.at, so a style regression fails the
# suite).

# Test drivers for the simulated hypervisor's semantics.
noinst_PROGRAMS += tests/test-xensim
tests_test_xensim_SOURCES = tests/test-xensim.c
tests_test_xensim_LDADD = xensim/libxensim.la $(OVS_LIBOPENVSWITCH) $(XEN_LIBS)

# Test driver for the software checksum and TCP segmentation offloads.
noinst_PROGRAMS += tests/test-xvif-offload
# lib/xvif-offload.c is self-contained, so the driver compiles it directly
# rather than linking all of lib/libxvif.la.
tests_test_xvif_offload_SOURCES = \
	tests/test-xvif-offload.c \
	lib/xvif-offload.c \
	lib/xvif-offload.h
tests_test_xvif_offload_CFLAGS = $(AM_CFLAGS)
tests_test_xvif_offload_LDADD = $(OVS_LIBOPENVSWITCH)

# Test driver for the Toeplitz hash and the hash control requests.
noinst_PROGRAMS += tests/test-xvif-hash
tests_test_xvif_hash_SOURCES = \
	tests/test-xvif-hash.c \
	lib/xvif-hash.c \
	lib/xvif-hash.h
tests_test_xvif_hash_CFLAGS = $(AM_CFLAGS)
tests_test_xvif_hash_LDADD = $(OVS_LIBOPENVSWITCH)

# Scriptable XenStore client for the xensim-xenstored tests.
noinst_PROGRAMS += tests/test-xenstore-client
tests_test_xenstore_client_SOURCES = tests/test-xenstore-client.c
tests_test_xenstore_client_LDADD = $(OVS_LIBOPENVSWITCH) $(XEN_LIBS)

# libFuzzer targets for what guests write (clang): "make fuzz" runs each for
# FUZZ_SECONDS over its seed corpus; see tests/fuzz/README.md.
FUZZ_SECONDS = 20
EXTRA_DIST += \
	tests/fuzz/README.md \
	tests/fuzz/run.sh \
	tests/fuzz/fuzz-common.h \
	tests/fuzz/fuzz-tx.c \
	tests/fuzz/fuzz-rx.c \
	tests/fuzz/fuzz-xs.c
fuzz:
	OVS_BUILDDIR='$(OVS_BUILDDIR)' OVS_SRCDIR='$(OVS_SRCDIR)' \
		$(SHELL) $(srcdir)/tests/fuzz/run.sh $(FUZZ_SECONDS)
.PHONY: fuzz

# A scripted netif backend that echoes a guest's packets, for testing
# xensim-netfront's data path without ovs-vswitchd.
noinst_PROGRAMS += tests/test-netback-echo
tests_test_netback_echo_SOURCES = tests/test-netback-echo.c
tests_test_netback_echo_LDADD = \
	xensim/libxensim.la $(OVS_LIBOPENVSWITCH) $(XEN_LIBS)
