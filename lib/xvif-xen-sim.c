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

/* The access layer's implementation for the simulated Xen host of xensim/:
 * the same operations, carried out by the simulated hypervisor in shared
 * memory, acting as domain 0.  Selected when XVIF_SIM_DIR is set.  See
 * xvif-xen.h, and xensim.h for what the simulation reproduces. */

#include <config.h>

#include <errno.h>

#include "openvswitch/vlog.h"
#include "util.h"
#include "xensim.h"
#include "xvif-xen.h"

VLOG_DEFINE_THIS_MODULE(xvif_xen_sim);

/* The backend's own domain: dom0. */
#define SIM_SELF 0

static int
sim_gnt_open(struct xvif_gnt **gntp)
{
    struct xensim_gnttab *g;
    int error = xensim_gnttab_open(xvif_xen_sim_dir(), SIM_SELF, &g);

    *gntp = error ? NULL : (struct xvif_gnt *) g;
    return error;
}

static void
sim_gnt_close(struct xvif_gnt *gnt)
{
    xensim_gnttab_close((struct xensim_gnttab *) gnt);
}

static int
sim_gnt_copy(struct xvif_gnt *gnt, uint32_t count,
             xengnttab_grant_copy_segment_t *segs)
{
    return xensim_gnttab_copy((struct xensim_gnttab *) gnt, count, segs);
}

static void *
sim_gnt_map(struct xvif_gnt *gnt, uint16_t domid, uint32_t ref,
            bool writable, int *error)
{
    int16_t status;
    void *p = xensim_gnttab_map((struct xensim_gnttab *) gnt, domid, ref,
                                writable, &status);

    /* Like the real gntdev, a refused map is EINVAL whatever the GNTST_*. */
    *error = p ? 0 : EINVAL;
    return p;
}

static int
sim_gnt_unmap(struct xvif_gnt *gnt, void *addr)
{
    return xensim_gnttab_unmap((struct xensim_gnttab *) gnt, addr);
}

static int
sim_evtchn_open(struct xvif_evtchn **xcep)
{
    struct xensim_evtchn *e;
    int error = xensim_evtchn_open(xvif_xen_sim_dir(), SIM_SELF, &e);

    *xcep = error ? NULL : (struct xvif_evtchn *) e;
    return error;
}

static void
sim_evtchn_close(struct xvif_evtchn *xce)
{
    xensim_evtchn_close((struct xensim_evtchn *) xce);
}

static int
sim_evtchn_fd(const struct xvif_evtchn *xce)
{
    return xensim_evtchn_fd((const struct xensim_evtchn *) xce);
}

static int
sim_evtchn_bind(struct xvif_evtchn *xce, uint16_t domid,
                uint32_t remote_port, uint32_t *local_port)
{
    return xensim_evtchn_bind_interdomain((struct xensim_evtchn *) xce,
                                          domid, remote_port, local_port);
}

static int
sim_evtchn_unbind(struct xvif_evtchn *xce, uint32_t port)
{
    return xensim_evtchn_unbind((struct xensim_evtchn *) xce, port);
}

static int
sim_evtchn_notify(struct xvif_evtchn *xce, uint32_t port)
{
    return xensim_evtchn_notify((struct xensim_evtchn *) xce, port);
}

static int
sim_evtchn_pending(struct xvif_evtchn *xce, uint32_t *port)
{
    return xensim_evtchn_pending((struct xensim_evtchn *) xce, port);
}

static int
sim_evtchn_unmask(struct xvif_evtchn *xce, uint32_t port)
{
    return xensim_evtchn_unmask((struct xensim_evtchn *) xce, port);
}

const struct xvif_xen_ops xvif_xen_sim_ops = {
    .name = "xensim",
    .gnt_open = sim_gnt_open,
    .gnt_close = sim_gnt_close,
    .gnt_copy = sim_gnt_copy,
    .gnt_map = sim_gnt_map,
    .gnt_unmap = sim_gnt_unmap,
    .evtchn_open = sim_evtchn_open,
    .evtchn_close = sim_evtchn_close,
    .evtchn_fd = sim_evtchn_fd,
    .evtchn_bind = sim_evtchn_bind,
    .evtchn_unbind = sim_evtchn_unbind,
    .evtchn_notify = sim_evtchn_notify,
    .evtchn_pending = sim_evtchn_pending,
    .evtchn_unmask = sim_evtchn_unmask,
};
