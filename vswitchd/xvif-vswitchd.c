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


/* The project's ovs-vswitchd.
 *
 * Open vSwitch's own vswitchd/ovs-vswitchd.c, compiled unmodified with its
 * main() renamed, behind a main() that first registers the xvif netdev
 * classes.  Debian's ovs-vswitchd links libopenvswitch statically and exports
 * nothing, so a provider cannot be loaded into it: this binary replaces it
 * and otherwise behaves exactly like it (same options, pidfile, control
 * socket, database). */

#include <config.h>

#include "netdev-xvif.h"

int ovs_vswitchd_main(int argc, char *argv[]);

#define main ovs_vswitchd_main
#include "ovs-vswitchd.c"
#undef main

int
main(int argc, char *argv[])
{
    netdev_xvif_register();
    return ovs_vswitchd_main(argc, argv);
}
