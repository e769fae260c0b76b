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

/* The netif control ring (feature-ctrl-ring) and static grants.
 *
 * A frontend that sees feature-ctrl-ring=1 may share one more ring page
 * ("ctrl-ring-ref", "event-channel-ctrl") for out-of-band requests
 * (xen/io/netif.h, "Control requests").  xvif answers:
 *
 *   - XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, ADD_GREF_MAPPING and
 *     DEL_GREF_MAPPING: "static grants".  The guest names a set of its
 *     granted pages (typically its TX and RX buffers, which a frontend that
 *     recycles buffers grants once); xvif maps them once and keeps them
 *     mapped, and the data path then copies packets to and from those pages
 *     with memcpy() instead of a grant-copy hypercall.  Linux's netback
 *     answers these NOT_SUPPORTED.
 *
 *   - The hash configuration (SET/GET_HASH_FLAGS, SET_HASH_ALGORITHM,
 *     SET_HASH_KEY, SET/GET_HASH_MAPPING_SIZE, SET_HASH_MAPPING): receive-
 *     side scaling, served by xvif-hash.c; packets to the guest are then
 *     steered to its queues by their Toeplitz hash (xvif-rx.c).
 *
 *   - Anything newer: NOT_SUPPORTED.
 *
 * Threads.  Requests are served by the main thread (netdev_xvif_run()), so
 * mapping, which may sleep in the hypervisor, never stalls a PMD.  The
 * mappings of a queue are a cmap keyed by grant reference: the main thread
 * is its only writer, the data-path threads read it under RCU.  A deleted
 * mapping is unmapped only after an RCU grace period, when no data-path
 * thread can still be copying through it; all of a queue's mappings go
 * when the queue does (reconfigure, when no data-path thread runs), before
 * the backend reports Closing or Closed, so the guest can end its grants.
 *
 * Safety.  A mapped page is the guest's and it may change under us: the
 * data path only ever memcpy()s packet bytes through it (copy before use,
 * as with grant copies; no header is parsed in place), within the page
 * (offset + length <= page size is checked for every segment before any
 * copy).  Read-only grants are mapped read-only and never written.  Each
 * queue keeps at most options:static-grants mappings.  The tables of
 * ADD/DEL requests are copied out of the guest before they are read. */

#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmap.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"
#include "xvif-hash.h"
#include "xvif-private.h"

VLOG_DEFINE_THIS_MODULE(xvif_ctrl);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

#define XVIF_CTRL_RING_SIZE __CONST_RING_SIZE(xen_netif_ctrl, XVIF_PAGE_SIZE)

/* Work done per call of xvif_ctrl_run(), in requests plus grants mapped or
 * unmapped: a guest that floods its control ring gets a share of the main
 * thread, not all of it.  One full ADD or DEL table always fits. */
#define XVIF_CTRL_BUDGET 512

/* Entries in one ADD/DEL table: the table is one page. */
#define XVIF_GREF_TABLE_MAX (XVIF_PAGE_SIZE / sizeof(struct xen_netif_gref))

/* One mapped static grant. */
struct static_grant {
    struct cmap_node node;          /* In xvif_static_grants's 'map'. */
    uint32_t ref;
    bool writable;
    uint8_t *page;
    struct xvif_static_grants *sg;  /* For the deferred unmap. */
};

/* The static grants of one queue. */
struct xvif_static_grants {
    struct cmap map;                /* Contains struct static_grant. */
    struct xvif_gnt *gnt;           /* Maps them; outlives the queue while
                                     * deferred unmaps are pending. */
    uint16_t domid;
    struct ovs_refcount refs;       /* The queue's, one per deferred unmap. */
    atomic_uint n_pending;          /* Deferred unmaps not yet done: still
                                     * mapped, so still counted. */
};

/* Static grants mapped in the whole process (deferred unmaps included).
 * Every mapping is one of the kernel's memory areas, and once the process
 * has vm.max_map_count of them every mmap() fails, xmalloc() of large
 * blocks included: one guest must not be able to take the switch down for
 * everyone.  At most xvif_static_grants_limit (by default half of
 * vm.max_map_count, the other half left to the rest of ovs-vswitchd: ring
 * mappings, threads' stacks, libraries, the allocator). */
static atomic_uint64_t n_static_grants_total = ATOMIC_VAR_INIT(0);
#define MAX_MAP_COUNT_FILE "/proc/sys/vm/max_map_count"
unsigned int xvif_static_grants_limit;

static unsigned int
static_grants_limit(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        if (!xvif_static_grants_limit) {
            unsigned int max_map_count = 65530;   /* Linux's default. */
            FILE *f = fopen(MAX_MAP_COUNT_FILE, "r");

            if (f) {
                if (fscanf(f, "%u", &max_map_count) != 1) {
                    max_map_count = 65530;
                }
                fclose(f);
            }
            xvif_static_grants_limit = max_map_count / 2;
        }
        ovsthread_once_done(&once);
    }
    return xvif_static_grants_limit;
}

/* The control ring of one connection. */
struct xvif_ctrl {
    xen_netif_ctrl_back_ring_t ring;
    void *page;
    uint32_t guest_port;
    uint32_t port;
    struct xvif_gnt *gnt;           /* Maps the ring, copies the tables. */
    struct xvif_evtchn *xce;
    uint16_t domid;

    /* Receive-side scaling.  The senders read its configuration under
     * RCU through xvif_ctrl_hash_active(): 'dev->ctrl' changes only in
     * reconfigure, like 'dev->queues'. */
    struct xvif_hash hash;

    /* Notification storms: notifications in a row with no request, and
     * the port left masked until 'unmask_at' because of them. */
    unsigned int spurious;
    bool masked;
    long long int unmask_at;

    /* Statistics. */
    uint64_t n_deferred;            /* Calls that ran out of budget. */
    uint64_t n_throttled;           /* Notifications left masked. */
    uint64_t n_requests;
    uint64_t n_not_supported;
    uint64_t n_invalid;
    uint64_t n_added, n_deleted;    /* Static grants. */
    uint64_t n_refused_limit;       /* ADDs beyond the process's limit. */
};

/* Static grants. */

struct xvif_static_grants *
xvif_static_grants_create(uint16_t domid)
{
    struct xvif_static_grants *sg = xzalloc(sizeof *sg);
    int error = xvif_gnt_open(&sg->gnt);

    if (error) {
        VLOG_WARN_RL(&rl, "cannot open a grant handle for static grants "
                     "(%s)", ovs_strerror(error));
        free(sg);
        return NULL;
    }
    cmap_init(&sg->map);
    sg->domid = domid;
    ovs_refcount_init(&sg->refs);
    atomic_init(&sg->n_pending, 0);
    return sg;
}

static void
static_grants_unref(struct xvif_static_grants *sg)
{
    if (ovs_refcount_unref_relaxed(&sg->refs) == 1) {
        cmap_destroy(&sg->map);
        xvif_gnt_close(sg->gnt);
        free(sg);
    }
}

static void
static_grant_unmap(struct static_grant *g)
{
    int error = xvif_gnt_unmap(g->sg->gnt, g->page);
    uint64_t orig;

    atomic_sub_relaxed(&n_static_grants_total, 1, &orig);

    if (error) {
        VLOG_WARN_RL(&rl, "domain %"PRIu16": cannot unmap static grant "
                     "%"PRIu32" (%s)", g->sg->domid, g->ref,
                     ovs_strerror(error));
    }
}

/* RCU callback: no data-path thread can be copying through 'g' any more. */
static void
static_grant_unmap_deferred(struct static_grant *g)
{
    struct xvif_static_grants *sg = g->sg;
    unsigned int orig;

    static_grant_unmap(g);
    free(g);
    atomic_sub_relaxed(&sg->n_pending, 1, &orig);
    static_grants_unref(sg);
}

/* Removes 'g' from its set; unmaps it after a grace period. */
static void
static_grant_remove(struct static_grant *g)
{
    unsigned int orig;

    cmap_remove(&g->sg->map, &g->node, hash_int(g->ref, 0));
    ovs_refcount_ref(&g->sg->refs);
    atomic_add_relaxed(&g->sg->n_pending, 1, &orig);
    ovsrcu_postpone(static_grant_unmap_deferred, g);
}

/* Unmaps all of 'sg' at once.  No data-path thread may be using it (the
 * queue is being destroyed in reconfigure). */
void
xvif_static_grants_destroy(struct xvif_static_grants *sg)
{
    struct static_grant *g;

    if (!sg) {
        return;
    }
    CMAP_FOR_EACH (g, node, &sg->map) {
        cmap_remove(&sg->map, &g->node, hash_int(g->ref, 0));
        static_grant_unmap(g);
        ovsrcu_postpone(free, g);
    }
    static_grants_unref(sg);
}

unsigned int
xvif_static_grants_count(const struct xvif_static_grants *sg)
{
    return sg ? cmap_count(&sg->map) : 0;
}

static struct static_grant *
static_grant_find(const struct xvif_static_grants *sg, uint32_t ref)
{
    struct static_grant *g;

    CMAP_FOR_EACH_WITH_HASH (g, node, hash_int(ref, 0), &sg->map) {
        if (g->ref == ref) {
            return g;
        }
    }
    return NULL;
}

/* Carries out, with memcpy(), those of the 'n' grant-copy segments in
 * 'segs' whose guest page is a static grant of 'sg' that allows the copy:
 * sets their status to GNTST_okay and their 'staged' element to true.  The
 * others get 'staged' false and are left for a grant copy (which reports
 * errors, e.g. for a write to a read-only grant, with Xen's statuses).
 * Returns the number of segments copied.  Any data-path thread, under
 * RCU. */
unsigned int
xvif_static_grants_copy(struct xvif_static_grants *sg,
                        xengnttab_grant_copy_segment_t *segs, unsigned int n,
                        bool *staged)
{
    unsigned int done = 0;

    for (unsigned int i = 0; i < n; i++) {
        xengnttab_grant_copy_segment_t *seg = &segs[i];
        bool to_guest = seg->flags & GNTCOPY_dest_gref;
        const struct static_grant *g;
        uint32_t ref, offset;

        staged[i] = false;
        if (to_guest) {
            ref = seg->dest.foreign.ref;
            offset = seg->dest.foreign.offset;
        } else {
            ref = seg->source.foreign.ref;
            offset = seg->source.foreign.offset;
        }
        if ((uint32_t) offset + seg->len > XVIF_PAGE_SIZE) {
            continue;
        }
        g = static_grant_find(sg, ref);
        if (!g || (to_guest && !g->writable)) {
            continue;
        }
        if (to_guest) {
            memcpy(g->page + offset, seg->source.virt, seg->len);
        } else {
            memcpy(seg->dest.virt, g->page + offset, seg->len);
        }
        seg->status = GNTST_okay;
        staged[i] = true;
        done++;
    }
    return done;
}

/* The control ring. */

/* Maps the control ring that 'dev->fe' describes and binds its event
 * channel.  Returns NULL and stores the ring in '*ctrlp', or returns an
 * error message. */
char *
xvif_ctrl_connect(struct netdev_xvif *dev, struct xvif_ctrl **ctrlp)
{
    const struct xvif_frontend *fe = &dev->fe;
    struct xvif_ctrl *c = xzalloc(sizeof *c);
    xen_netif_ctrl_sring_t *s;
    RING_IDX req_prod, rsp_prod;
    char *msg = NULL;
    int error;

    *ctrlp = NULL;
    c->guest_port = fe->ctrl_evtchn;
    c->domid = fe->domid;
    xvif_hash_init(&c->hash, fe->n_queues);
    error = xvif_gnt_open(&c->gnt);
    if (!error) {
        error = xvif_evtchn_open(&c->xce);
    }
    if (error) {
        msg = xasprintf("control ring: cannot open the grant or event "
                        "channel device (%s)", ovs_strerror(error));
        goto error;
    }
    c->page = xvif_gnt_map(c->gnt, fe->domid, fe->ctrl_ring_ref, true,
                           &error);
    if (!c->page) {
        msg = xasprintf("cannot map the control ring (grant %"PRIu32"): %s",
                        fe->ctrl_ring_ref, ovs_strerror(error));
        goto error;
    }
    s = c->page;
    rsp_prod = s->rsp_prod;
    req_prod = s->req_prod;
    xen_rmb();
    if (req_prod - rsp_prod > XVIF_CTRL_RING_SIZE) {
        msg = xasprintf("impossible control ring indices (req_prod %u, "
                        "rsp_prod %u)", req_prod, rsp_prod);
        goto error;
    }
    BACK_RING_ATTACH(&c->ring, s, rsp_prod, XVIF_PAGE_SIZE);
    error = xvif_evtchn_bind(c->xce, fe->domid, fe->ctrl_evtchn, &c->port);
    if (error) {
        msg = xasprintf("cannot bind control event channel %"PRIu32" (%s)",
                        fe->ctrl_evtchn, ovs_strerror(error));
        goto error;
    }
    *ctrlp = c;
    return NULL;

error:
    xvif_ctrl_destroy(c);
    return msg;
}

void
xvif_ctrl_destroy(struct xvif_ctrl *c)
{
    if (!c) {
        return;
    }
    xvif_hash_destroy(&c->hash);
    if (c->xce) {
        if (c->port) {
            xvif_evtchn_unbind(c->xce, c->port);
        }
        xvif_evtchn_close(c->xce);
    }
    if (c->gnt) {
        xvif_gnt_unmap(c->gnt, c->page);
        xvif_gnt_close(c->gnt);
    }
    free(c);
}

/* Copies 'n' entries of the table in the guest's grant 'ref' into 'table'
 * ('to_guest' false) or back ('to_guest' true).  Returns true if
 * successful. */
static bool
ctrl_copy_table(struct xvif_ctrl *c, uint16_t domid, uint32_t ref,
                struct xen_netif_gref *table, uint32_t n, bool to_guest)
{
    xengnttab_grant_copy_segment_t seg;

    memset(&seg, 0, sizeof seg);
    if (to_guest) {
        seg.source.virt = table;
        seg.dest.foreign.ref = ref;
        seg.dest.foreign.domid = domid;
        seg.flags = GNTCOPY_dest_gref;
    } else {
        seg.source.foreign.ref = ref;
        seg.source.foreign.domid = domid;
        seg.dest.virt = table;
        seg.flags = GNTCOPY_source_gref;
    }
    seg.len = n * sizeof *table;
    seg.status = GNTST_general_error;
    return !xvif_gnt_copy(c->gnt, 1, &seg) && seg.status == GNTST_okay;
}

/* xvif_hash_copy_func for the hash key and mapping: 'len' bytes from the
 * start of the guest's grant 'ref'. */
static bool
ctrl_copy_from_guest(void *c_, uint32_t ref, void *dst, size_t len)
{
    struct xvif_ctrl *c = c_;
    xengnttab_grant_copy_segment_t seg;

    if (len > XVIF_PAGE_SIZE) {
        return false;
    }
    memset(&seg, 0, sizeof seg);
    seg.source.foreign.ref = ref;
    seg.source.foreign.domid = c->domid;
    seg.dest.virt = dst;
    seg.flags = GNTCOPY_source_gref;
    seg.len = len;
    seg.status = GNTST_general_error;
    return !xvif_gnt_copy(c->gnt, 1, &seg) && seg.status == GNTST_okay;
}

static int
compare_refs(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_;
    uint32_t b = *(const uint32_t *) b_;

    return a < b ? -1 : a > b;
}

/* XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING: all of the table or nothing. */
static uint32_t
ctrl_add_grefs(struct netdev_xvif *dev, struct xvif_ctrl *c,
               struct xvif_static_grants *sg, uint32_t table_ref, uint32_t n)
{
    struct xen_netif_gref table[XVIF_GREF_TABLE_MAX];
    uint32_t refs[XVIF_GREF_TABLE_MAX];
    struct static_grant *mapped[XVIF_GREF_TABLE_MAX];
    const char *name = netdev_get_name(&dev->up);
    uint32_t i;

    unsigned int pending;
    uint64_t total;

    atomic_read_relaxed(&sg->n_pending, &pending);
    if (!n || n > XVIF_GREF_TABLE_MAX
        || cmap_count(&sg->map) + pending + n > dev->max_static_grants) {
        VLOG_WARN_RL(&rl, "%s: guest asked to map %"PRIu32" static grants "
                     "with %"PRIuSIZE" mapped and %u being unmapped (at most "
                     "%u, and %"PRIuSIZE" per request)", name, n,
                     cmap_count(&sg->map), pending, dev->max_static_grants,
                     XVIF_GREF_TABLE_MAX);
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    }
    atomic_read_relaxed(&n_static_grants_total, &total);
    if (total + n > static_grants_limit()) {
        VLOG_WARN_RL(&rl, "%s: guest asked to map %"PRIu32" static grants, "
                     "but all guests together have %"PRIu64" of the %u this "
                     "process allows", name, n, total, static_grants_limit());
        c->n_refused_limit++;
        return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
    }
    if (!ctrl_copy_table(c, sg->domid, table_ref, table, n, false)) {
        VLOG_WARN_RL(&rl, "%s: cannot read the static grant table (grant "
                     "%"PRIu32")", name, table_ref);
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    }

    /* No reference twice, in the table or beside what is mapped. */
    for (i = 0; i < n; i++) {
        refs[i] = table[i].ref;
        if (static_grant_find(sg, refs[i])) {
            VLOG_WARN_RL(&rl, "%s: static grant %"PRIu32" is already "
                         "mapped", name, refs[i]);
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        }
    }
    qsort(refs, n, sizeof *refs, compare_refs);
    for (i = 1; i < n; i++) {
        if (refs[i] == refs[i - 1]) {
            VLOG_WARN_RL(&rl, "%s: static grant %"PRIu32" appears twice in "
                         "one request", name, refs[i]);
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        }
    }

    for (i = 0; i < n; i++) {
        struct static_grant *g = xzalloc(sizeof *g);
        int error;

        g->ref = table[i].ref;
        g->writable = !(table[i].flags & XEN_NETIF_CTRLF_GREF_readonly);
        g->sg = sg;
        g->page = xvif_gnt_map(sg->gnt, sg->domid, g->ref, g->writable,
                               &error);
        if (!g->page) {
            VLOG_WARN_RL(&rl, "%s: cannot map static grant %"PRIu32" (%s%s)",
                         name, g->ref, ovs_strerror(error),
                         g->writable ? ", writable" : "");
            free(g);
            while (i-- > 0) {
                static_grant_unmap(mapped[i]);
                free(mapped[i]);
            }
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        }
        atomic_add_relaxed(&n_static_grants_total, 1, &total);
        mapped[i] = g;
    }
    for (i = 0; i < n; i++) {
        cmap_insert(&sg->map, &mapped[i]->node, hash_int(mapped[i]->ref, 0));
    }
    c->n_added += n;
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

/* XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING: per-entry statuses, written back
 * into the guest's table; '*n_deleted' is the response's data. */
static uint32_t
ctrl_del_grefs(struct netdev_xvif *dev, struct xvif_ctrl *c,
               struct xvif_static_grants *sg, uint32_t table_ref, uint32_t n,
               uint32_t *n_deleted)
{
    struct xen_netif_gref table[XVIF_GREF_TABLE_MAX];

    *n_deleted = 0;
    if (!n || n > XVIF_GREF_TABLE_MAX
        || !ctrl_copy_table(c, sg->domid, table_ref, table, n, false)) {
        VLOG_WARN_RL(&rl, "%s: bad static grant table to delete (grant "
                     "%"PRIu32", %"PRIu32" entries)",
                     netdev_get_name(&dev->up), table_ref, n);
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct static_grant *g = static_grant_find(sg, table[i].ref);

        if (g) {
            static_grant_remove(g);
            table[i].status = XEN_NETIF_CTRL_STATUS_SUCCESS;
            (*n_deleted)++;
        } else {
            table[i].status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        }
    }
    c->n_deleted += *n_deleted;
    if (!ctrl_copy_table(c, sg->domid, table_ref, table, n, true)) {
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    }
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

/* Serves one request, copied out of the ring, into 'rsp'. */
static void
ctrl_serve(struct netdev_xvif *dev, struct xvif_ctrl *c,
           const struct xen_netif_ctrl_request *req,
           struct xen_netif_ctrl_response *rsp)
{
    struct xvif_static_grants *sg = NULL;
    uint32_t status, data = 0;

    rsp->id = req->id;
    rsp->type = req->type;
    switch (req->type) {
    case XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE:
    case XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING:
    case XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING:
        if (!dev->max_static_grants) {
            status = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
            break;
        }
        if (req->data[0] < dev->n_queues) {
            sg = dev->queues[req->data[0]].sg;
        }
        if (!sg) {
            status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        } else if (req->type == XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE) {
            status = XEN_NETIF_CTRL_STATUS_SUCCESS;
            data = dev->max_static_grants;
        } else if (req->type == XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING) {
            status = ctrl_add_grefs(dev, c, sg, req->data[1], req->data[2]);
        } else {
            status = ctrl_del_grefs(dev, c, sg, req->data[1], req->data[2],
                                    &data);
        }
        break;

    default:
        if (xvif_hash_is_ctrl_type(req->type)) {
            status = xvif_hash_ctrl(&c->hash, req, ctrl_copy_from_guest, c,
                                    &data);
            if (status == XEN_NETIF_CTRL_STATUS_SUCCESS
                && req->type != XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS
                && req->type != XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE) {
                /* status:rss_hash changed. */
                netdev_change_seq_changed(&dev->up);
            } else if (status != XEN_NETIF_CTRL_STATUS_SUCCESS
                       && status != XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED) {
                VLOG_WARN_RL(&rl, "%s: hash request %"PRIu16" (%"PRIu32", "
                             "%"PRIu32", %"PRIu32") refused with status "
                             "%"PRIu32, netdev_get_name(&dev->up),
                             req->type, req->data[0], req->data[1],
                             req->data[2], status);
            }
        } else {
            status = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
        }
        break;
    }
    c->n_requests++;
    if (data && req->type == XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING) {
        /* status:static_grants changed. */
        netdev_change_seq_changed(&dev->up);
    } else if (status == XEN_NETIF_CTRL_STATUS_SUCCESS
               && req->type == XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING) {
        netdev_change_seq_changed(&dev->up);
    }
    if (status == XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED) {
        c->n_not_supported++;
    } else if (status != XEN_NETIF_CTRL_STATUS_SUCCESS) {
        c->n_invalid++;
    }
    rsp->status = status;
    rsp->data = data;
}

/* The work of serving 'req', against XVIF_CTRL_BUDGET. */
static unsigned int
ctrl_cost(const struct xen_netif_ctrl_request *req)
{
    bool table = (req->type == XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING
                  || req->type == XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING);

    return 1 + (table ? MIN(req->data[2], XVIF_GREF_TABLE_MAX) : 0);
}

/* Reads the control ring's pending notifications, leaving the port masked
 * if they keep coming with no request (see XVIF_SPURIOUS_LIMIT). */
static void
ctrl_drain(struct xvif_ctrl *c)
{
    uint32_t port;

    if (c->masked && time_msec() >= c->unmask_at) {
        c->masked = false;
        xvif_evtchn_unmask(c->xce, c->port);
    }
    while (!xvif_evtchn_pending(c->xce, &port)) {
        if (RING_HAS_UNCONSUMED_REQUESTS(&c->ring)) {
            c->spurious = 0;
        } else {
            c->spurious++;
        }
        if (c->spurious < XVIF_SPURIOUS_LIMIT) {
            xvif_evtchn_unmask(c->xce, port);
        } else {
            c->masked = true;
            c->unmask_at = time_msec() + xvif_backoff_ms(c->spurious);
            c->n_throttled++;
        }
    }
}

/* Serves the control ring of 'dev', if any.  Main thread. */
void
xvif_ctrl_run(struct netdev_xvif *dev)
{
    struct xvif_ctrl *c = dev->ctrl;
    unsigned int budget = XVIF_CTRL_BUDGET;
    RING_IDX rp;
    bool notify;
    int more;

    /* Not the control ring's, but the main thread's per-port work. */
    xvif_mcast_run(dev);

    if (!c || dev->disabled_reason) {
        return;
    }
    ctrl_drain(c);

    do {
        rp = c->ring.sring->req_prod;
        xen_rmb();
        if (RING_REQUEST_PROD_OVERFLOW(&c->ring, rp)) {
            netdev_xvif_disable(dev, "control ring: impossible number of "
                                "requests");
            return;
        }
        while (c->ring.req_cons != rp && budget) {
            struct xen_netif_ctrl_request req;
            struct xen_netif_ctrl_response *rsp;

            RING_COPY_REQUEST(&c->ring, c->ring.req_cons, &req);
            c->ring.req_cons++;
            rsp = RING_GET_RESPONSE(&c->ring, c->ring.rsp_prod_pvt);
            ctrl_serve(dev, c, &req, rsp);
            c->ring.rsp_prod_pvt++;
            budget -= MIN(budget, ctrl_cost(&req));
            c->spurious = 0;
            if (c->masked) {
                c->masked = false;
                xvif_evtchn_unmask(c->xce, c->port);
            }
        }
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&c->ring, notify);
        if (notify) {
            xvif_evtchn_notify(c->xce, c->port);
        }
        if (!budget) {
            /* More next time round the main loop. */
            c->n_deferred++;
            poll_immediate_wake();
            return;
        }
        RING_FINAL_CHECK_FOR_REQUESTS(&c->ring, more);
    } while (more);
}

void
xvif_ctrl_wait(struct netdev_xvif *dev)
{
    const struct xvif_ctrl *c = dev->ctrl;

    if (c && !dev->disabled_reason) {
        if (c->masked) {
            poll_timer_wait_until(c->unmask_at);
        } else {
            poll_fd_wait(xvif_evtchn_fd(c->xce), POLLIN);
        }
    }
}

/* Adds the control ring's state to 'ds', for xvif/show. */
void
xvif_ctrl_format(const struct netdev_xvif *dev, struct ds *ds)
{
    const struct xvif_ctrl *c = dev->ctrl;

    if (!c) {
        ds_put_cstr(ds, "  ctrl ring: none\n");
        return;
    }
    ds_put_format(ds, "  ctrl ring: req_prod %u req_cons %u rsp_prod %u "
                  "port %"PRIu32" (guest %"PRIu32")\n",
                  c->ring.sring->req_prod, c->ring.req_cons,
                  c->ring.sring->rsp_prod, c->port, c->guest_port);
    ds_put_format(ds, "    requests %"PRIu64" not_supported %"PRIu64
                  " invalid %"PRIu64" deferred %"PRIu64" throttled %"PRIu64
                  "\n", c->n_requests, c->n_not_supported, c->n_invalid,
                  c->n_deferred, c->n_throttled);
    ds_put_format(ds, "    static grants: max %u per queue, added %"PRIu64
                  " deleted %"PRIu64" refused_limit %"PRIu64"\n",
                  dev->max_static_grants, c->n_added, c->n_deleted,
                  c->n_refused_limit);
    ds_put_cstr(ds, "    rss hash: ");
    xvif_hash_describe(&c->hash, ds);
    ds_put_format(ds, ", %"PRIu64" changes\n", c->hash.n_changes);
}

struct json *
xvif_ctrl_to_json(const struct netdev_xvif *dev)
{
    const struct xvif_ctrl *c = dev->ctrl;
    struct json *json;

    if (!c) {
        return json_null_create();
    }
    json = json_object_create();
    json_object_put(json, "req_prod",
                    json_integer_create(c->ring.sring->req_prod));
    json_object_put(json, "req_cons", json_integer_create(c->ring.req_cons));
    json_object_put(json, "rsp_prod",
                    json_integer_create(c->ring.sring->rsp_prod));
    json_object_put(json, "port", json_integer_create(c->port));
    json_object_put(json, "guest_port", json_integer_create(c->guest_port));
    json_object_put(json, "requests", json_integer_create(c->n_requests));
    json_object_put(json, "not_supported",
                    json_integer_create(c->n_not_supported));
    json_object_put(json, "invalid", json_integer_create(c->n_invalid));
    json_object_put(json, "deferred", json_integer_create(c->n_deferred));
    json_object_put(json, "throttled", json_integer_create(c->n_throttled));
    json_object_put(json, "max_static_grants",
                    json_integer_create(dev->max_static_grants));
    json_object_put(json, "static_grants_added",
                    json_integer_create(c->n_added));
    json_object_put(json, "static_grants_deleted",
                    json_integer_create(c->n_deleted));
    json_object_put(json, "static_grants_refused_limit",
                    json_integer_create(c->n_refused_limit));
    json_object_put(json, "rss_hash", xvif_hash_to_json(&c->hash));
    return json;
}

/* The hash configuration that steers packets to 'dev''s guest, or NULL.
 * Any thread, under RCU, while 'dev' is connected. */
const struct xvif_hash_config *
xvif_ctrl_hash_active(const struct netdev_xvif *dev)
{
    return dev->ctrl ? xvif_hash_active(&dev->ctrl->hash) : NULL;
}

/* Adds the state of the optional netif features to 'dev''s status: each
 * says "off" when the guest did not ask for it. */
void
xvif_netif_get_status(const struct netdev_xvif *dev, struct smap *smap)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    unsigned int headroom;
    bool filter;

    xvif_hash_describe(dev->ctrl ? &dev->ctrl->hash : NULL, &ds);
    smap_add(smap, "rss_hash", ds_cstr(&ds));
    ds_clear(&ds);

    atomic_read_relaxed(&CONST_CAST(struct netdev_xvif *, dev)
                        ->mcast_filter, &filter);
    if (filter) {
        ds_put_format(&ds, "on, %u group%s", xvif_mcast_count(dev),
                      xvif_mcast_count(dev) == 1 ? "" : "s");
    } else {
        ds_put_cstr(&ds, "off");
    }
    smap_add(smap, "multicast_control", ds_cstr(&ds));
    ds_clear(&ds);
    if (xvif_mcast_count(dev)) {
        xvif_mcast_format(dev, &ds);
        smap_add(smap, "multicast_groups", ds_cstr(&ds));
    }
    ds_destroy(&ds);

    atomic_read_relaxed(&CONST_CAST(struct netdev_xvif *, dev)
                        ->xdp_headroom, &headroom);
    smap_add_format(smap, "xdp_headroom", "%u", headroom);
}
