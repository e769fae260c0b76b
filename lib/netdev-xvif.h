/*
 * Copyright (c) 2026 The xvif authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#ifndef NETDEV_XVIF_H
#define NETDEV_XVIF_H 1

/* The xvif netdev provider: Xen guest network interfaces as Open vSwitch
 * ports.
 *
 * netdev_xvif_register() registers two netdev classes with OVS:
 *
 *   - "xvif": event-driven.  The guest's event channel is in OVS's poll
 *     loop, so an idle guest costs nothing.
 *
 *   - "xvif-pmd": busy-polled by PMD threads (pmd-cpu-mask) for throughput.
 *
 * Both need a bridge with datapath_type=netdev.  The architecture is in
 * Documentation/topics/design.rst and the user-visible interface (options,
 * status keys, statistics, appctl commands) in Documentation/ref/xvif.7.rst.
 */

void netdev_xvif_register(void);

#endif /* netdev-xvif.h */
