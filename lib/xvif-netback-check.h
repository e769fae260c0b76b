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


#ifndef XVIF_NETBACK_CHECK_H
#define XVIF_NETBACK_CHECK_H 1

/* Coexistence with the kernel's netif backend.
 *
 * Linux's xen-netback claims every backend/vif directory of its domain, the
 * same directories xvif serves, so the two cannot run side by side: the
 * guest would see two backends writing one directory.  These functions look
 * for xen-netback in sysfs so that ovs-vswitchd can say so (a warning at
 * start-up, a "kernel_netback" key in the Interface status) instead of
 * leaving the administrator with half-working guests.
 *
 * sysfs is looked for at $XVIF_SYSFS_ROOT if that is set (tests), else at
 * /sys on a real Xen host; under the simulation (XVIF_SIM_DIR) without
 * XVIF_SYSFS_ROOT there is no kernel backend to look for. */

void xvif_netback_check_startup(void);
const char *xvif_netback_check_vif(int domid, int devid);

#endif /* xvif-netback-check.h */
