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

#ifndef XVIF_XEN_H
#define XVIF_XEN_H 1

/* The Xen access layer: the only code in ovs-vswitchd that copies or maps
 * grants or touches event channels.
 *
 * Two implementations sit behind it, chosen once, at run time, by
 * xvif_xen_init():
 *
 *   - the real one (xvif-xen-real.c): libxengnttab and libxenevtchn, as on a
 *     real dom0 or driver domain (the default);
 *
 *   - the simulated one (xvif-xen-sim.c): the simulated hypervisor of
 *     xensim/, selected when the environment variable XVIF_SIM_DIR names the
 *     simulation's directory.
 *
 * Xenstore is not here: it goes through the stock libxenstore in both cases
 * (the simulated xenstored is reached through XENSTORED_PATH).
 *
 * Grant copy segments are libxengnttab's own xengnttab_grant_copy_segment_t,
 * so the real implementation passes them through unchanged.  Every function
 * returns 0 or a positive errno value, as OVS code does; the real
 * implementation converts libxen's -1/errno at this boundary. */

#include <stdbool.h>
#include <stdint.h>
#include <xengnttab.h>

struct xvif_gnt;
struct xvif_evtchn;

/* One implementation of the access layer. */
struct xvif_xen_ops {
    const char *name;           /* "xen" or "xensim". */

    int (*gnt_open)(struct xvif_gnt **);
    void (*gnt_close)(struct xvif_gnt *);
    int (*gnt_copy)(struct xvif_gnt *, uint32_t count,
                    xengnttab_grant_copy_segment_t *);
    void *(*gnt_map)(struct xvif_gnt *, uint16_t domid, uint32_t ref,
                     bool writable, int *error);
    int (*gnt_unmap)(struct xvif_gnt *, void *addr);

    int (*evtchn_open)(struct xvif_evtchn **);
    void (*evtchn_close)(struct xvif_evtchn *);
    int (*evtchn_fd)(const struct xvif_evtchn *);
    int (*evtchn_bind)(struct xvif_evtchn *, uint16_t domid,
                       uint32_t remote_port, uint32_t *local_port);
    int (*evtchn_unbind)(struct xvif_evtchn *, uint32_t port);
    int (*evtchn_notify)(struct xvif_evtchn *, uint32_t port);
    int (*evtchn_pending)(struct xvif_evtchn *, uint32_t *port);
    int (*evtchn_unmask)(struct xvif_evtchn *, uint32_t port);
};

extern const struct xvif_xen_ops xvif_xen_real_ops;
extern const struct xvif_xen_ops xvif_xen_sim_ops;
extern const struct xvif_xen_ops *xvif_xen_ops;

int xvif_xen_init(void);
const char *xvif_xen_describe(void);
const char *xvif_xen_sim_dir(void);

/* Grant tables, as a grantee. */
static inline int
xvif_gnt_open(struct xvif_gnt **gntp)
{
    return xvif_xen_ops->gnt_open(gntp);
}

static inline void
xvif_gnt_close(struct xvif_gnt *gnt)
{
    if (gnt) {
        xvif_xen_ops->gnt_close(gnt);
    }
}

/* Performs 'count' grant copies.  Returns 0 if the operation as a whole was
 * carried out, in which case each segment's 'status' says how it went
 * (GNTST_okay or a GNTST_* error); otherwise a positive errno value, and no
 * segment may be trusted. */
static inline int
xvif_gnt_copy(struct xvif_gnt *gnt, uint32_t count,
              xengnttab_grant_copy_segment_t *segs)
{
    return xvif_xen_ops->gnt_copy(gnt, count, segs);
}

static inline void *
xvif_gnt_map(struct xvif_gnt *gnt, uint16_t domid, uint32_t ref,
             bool writable, int *error)
{
    return xvif_xen_ops->gnt_map(gnt, domid, ref, writable, error);
}

static inline int
xvif_gnt_unmap(struct xvif_gnt *gnt, void *addr)
{
    return addr ? xvif_xen_ops->gnt_unmap(gnt, addr) : 0;
}

/* Event channels. */
static inline int
xvif_evtchn_open(struct xvif_evtchn **xcep)
{
    return xvif_xen_ops->evtchn_open(xcep);
}

static inline void
xvif_evtchn_close(struct xvif_evtchn *xce)
{
    if (xce) {
        xvif_xen_ops->evtchn_close(xce);
    }
}

static inline int
xvif_evtchn_fd(const struct xvif_evtchn *xce)
{
    return xvif_xen_ops->evtchn_fd(xce);
}

static inline int
xvif_evtchn_bind(struct xvif_evtchn *xce, uint16_t domid,
                 uint32_t remote_port, uint32_t *local_port)
{
    return xvif_xen_ops->evtchn_bind(xce, domid, remote_port, local_port);
}

static inline int
xvif_evtchn_unbind(struct xvif_evtchn *xce, uint32_t port)
{
    return xvif_xen_ops->evtchn_unbind(xce, port);
}

static inline int
xvif_evtchn_notify(struct xvif_evtchn *xce, uint32_t port)
{
    return xvif_xen_ops->evtchn_notify(xce, port);
}

/* Stores in '*port' the next port with an event delivered to 'xce' and
 * returns 0, or returns EAGAIN if there is none.  The port stays masked
 * until xvif_evtchn_unmask(). */
static inline int
xvif_evtchn_pending(struct xvif_evtchn *xce, uint32_t *port)
{
    return xvif_xen_ops->evtchn_pending(xce, port);
}

static inline int
xvif_evtchn_unmask(struct xvif_evtchn *xce, uint32_t port)
{
    return xvif_xen_ops->evtchn_unmask(xce, port);
}

#endif /* xvif-xen.h */
