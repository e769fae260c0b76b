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

/* Choosing the Xen access layer's implementation.  See xvif-xen.h. */

#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "util.h"
#include "xvif-xen.h"

VLOG_DEFINE_THIS_MODULE(xvif_xen);

/* The implementation in use.  Set once, by xvif_xen_init(), before any
 * device exists; read-only afterward. */
const struct xvif_xen_ops *xvif_xen_ops = &xvif_xen_real_ops;

/* The simulation's directory, or NULL on a real Xen host. */
static char *sim_dir;

/* Picks the implementation: the simulated hypervisor if the environment
 * variable XVIF_SIM_DIR names its directory, otherwise the real one.  Safe to
 * call many times; only the first call decides.  Returns 0. */
int
xvif_xen_init(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        const char *dir = getenv("XVIF_SIM_DIR");

        if (dir && dir[0]) {
            sim_dir = xstrdup(dir);
            xvif_xen_ops = &xvif_xen_sim_ops;
            VLOG_INFO("using the simulated Xen host in %s "
                      "(XVIF_SIM_DIR)", sim_dir);
        } else {
            xvif_xen_ops = &xvif_xen_real_ops;
            VLOG_INFO("using the Xen hypervisor (libxengnttab, "
                      "libxenevtchn)");
        }
        ovsthread_once_done(&once);
    }
    return 0;
}

/* Returns a short description of the implementation in use, for status
 * output: "xen" or "xensim". */
const char *
xvif_xen_describe(void)
{
    return xvif_xen_ops->name;
}

/* Returns the simulation's directory, or NULL on a real Xen host. */
const char *
xvif_xen_sim_dir(void)
{
    return sim_dir;
}
