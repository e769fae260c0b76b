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

DOC_SOURCE = \
	Documentation/topics/design.rst \
	Documentation/topics/xensim.rst \
	Documentation/topics/xen-performance.rst \
	Documentation/ref/xvif.7.rst \
	Documentation/ref/vif-xvif.8.rst \
	Documentation/ref/xvif-ctl.8.rst \
	Documentation/howto/xen-dom0.rst \
	Documentation/howto/ovn.rst
EXTRA_DIST += $(DOC_SOURCE)
