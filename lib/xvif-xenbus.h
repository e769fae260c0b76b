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

#ifndef XVIF_XENBUS_H
#define XVIF_XENBUS_H 1

/* The xenstore side of xvif: discovery of backend devices and the backend's
 * xenbus state machine, run by ovs-vswitchd's main thread.
 *
 * A backend (struct xvif_backend) exists for every
 * /local/domain/<self>/backend/vif/<domid>/<devid> directory the toolstack
 * writes, whether or not OVS has a port for it yet: it publishes the
 * backend's features and goes InitWait at once, because libxl waits only
 * 10 s for InitWait before it runs the hotplug script that creates the OVS
 * port.  When a port for the same (domid, devid) exists (attach), the backend
 * drives it: it asks for a connection when the frontend is Initialised or
 * Connected (and the hotplug script said "connected", when the toolstack asked
 * for that), and for a disconnection when the frontend closes or goes away or
 * the toolstack tears the device down.  The port carries the requests out in
 * its reconfigure callback and reports back with
 * xvif_xenbus_port_connected(). */

#include <stdbool.h>

struct netdev_xvif;
struct smap;
struct xvif_frontend;

void xvif_xenbus_run(void);
void xvif_xenbus_wait(void);

void xvif_xenbus_attach(struct netdev_xvif *);
void xvif_xenbus_detach(struct netdev_xvif *);
void xvif_xenbus_port_connected(struct netdev_xvif *, int error);
void xvif_xenbus_port_disconnected(struct netdev_xvif *);
void xvif_xenbus_get_status(const struct netdev_xvif *, struct smap *);
const char *xvif_xenbus_state_name(int state);

/* Parsers for values read from xenstore (guest-controlled: strict). */
bool xvif_xs_parse_uint(const char *s, unsigned long long max,
                        unsigned long long *value);
bool xvif_xs_parse_bool(const char *s, bool *value);
bool xvif_parse_vif_name(const char *name, int *domid, int *devid);

#endif /* xvif-xenbus.h */
