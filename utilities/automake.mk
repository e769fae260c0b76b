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

bin_PROGRAMS += utilities/xvif-ctl
utilities_xvif_ctl_SOURCES = utilities/xvif-ctl.c
utilities_xvif_ctl_LDADD = $(OVS_LIBOPENVSWITCH)

dist_sbin_SCRIPTS += utilities/vif-xvif

# xvif-ctl(8), from its reStructuredText source (as debian/rules builds the
# pages of Documentation/ref).  Without rst2man (python3-docutils), a stub
# that points to the source is installed instead of failing the build.
man_MANS += utilities/xvif-ctl.8
CLEANFILES += utilities/xvif-ctl.8
utilities/xvif-ctl.8: Documentation/ref/xvif-ctl.8.rst
	$(AM_V_GEN)if command -v rst2man >/dev/null 2>&1; then \
	  rst2man --exit-status=2 $(srcdir)/Documentation/ref/xvif-ctl.8.rst \
	    > $@.tmp; \
	else \
	  printf '.TH XVIF-CTL 8\n.SH NAME\nxvif\\-ctl\n.SH DESCRIPTION\n%s\n' \
	    'See Documentation/ref/xvif-ctl.8.rst (rst2man was missing).' \
	    > $@.tmp; \
	fi && mv $@.tmp $@

# vif-xvif(8), the same way.
man_MANS += utilities/vif-xvif.8
CLEANFILES += utilities/vif-xvif.8
utilities/vif-xvif.8: Documentation/ref/vif-xvif.8.rst
	$(AM_V_GEN)if command -v rst2man >/dev/null 2>&1; then \
	  rst2man --exit-status=2 $(srcdir)/Documentation/ref/vif-xvif.8.rst \
	    > $@.tmp; \
	else \
	  printf '.TH VIF-XVIF 8\n.SH NAME\nvif\\-xvif\n.SH DESCRIPTION\n%s\n' \
	    'See Documentation/ref/vif-xvif.8.rst (rst2man was missing).' \
	    > $@.tmp; \
	fi && mv $@.tmp $@
