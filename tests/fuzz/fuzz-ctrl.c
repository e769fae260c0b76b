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

/* libFuzzer target: the control ring and static grants (lib/xvif-ctrl.c).
 *
 * A guest's control ring (any indexes, any requests) and its grant-table
 * page (any entries) are served until the backend stops; then a burst of
 * copies goes through the static grants it got; then everything is torn
 * down.  Checked: no memory error (ASan/UBSan); every answer matches a
 * request (id, type); a queue never keeps more mappings than allowed,
 * counting those deleted and not yet unmapped; a
 * read-only mapping is never written; every page mapped is unmapped once,
 * after the teardown.
 *
 * The fake access layer maps every even grant reference (a fresh page),
 * refuses odd ones, and reads or writes the grant-table page at reference
 * 4.  Reference 2 is the ring.
 *
 * Input: u32 ring start index, u16 requests claimed (may exceed the ring),
 * u16 options:static-grants, u8 queues - 1 (1 or 2 queues, bit 0) and the
 * process-wide limit of static grants (bits 1-7; 0: the default), u16 table
 * length in bytes, the table page's bytes, then 16-byte requests written
 * from the start index on. */

#include <config.h>

#include <errno.h>

#include <stdlib.h>
#include <string.h>

#include "ovs-rcu.h"
#include "util.h"
#include "xvif-hash.h"
#include "xvif-private.h"

#define RING_REF 2
#define TABLE_REF 4

static uint8_t *ring_page;
static uint8_t table_page[XVIF_PAGE_SIZE];
static unsigned int n_maps, n_unmaps;

/* A mapping: where it is, and whether it may be written. */
struct fake_map {
    uint8_t *page;
    bool writable;
    uint8_t copy[XVIF_PAGE_SIZE];   /* Its content when mapped. */
};
static struct fake_map maps[2 * XVIF_STATIC_GRANTS_MAX + 8];

static int
fake_gnt_open(struct xvif_gnt **gntp)
{
    *gntp = (struct xvif_gnt *) &n_maps;
    return 0;
}

static void
fake_gnt_close(struct xvif_gnt *gnt OVS_UNUSED)
{
}

static int
fake_gnt_copy(struct xvif_gnt *gnt OVS_UNUSED, uint32_t count,
              xengnttab_grant_copy_segment_t *segs)
{
    for (uint32_t i = 0; i < count; i++) {
        xengnttab_grant_copy_segment_t *seg = &segs[i];
        bool from_guest = seg->flags & GNTCOPY_source_gref;
        uint32_t ref = (from_guest ? seg->source.foreign.ref
                                   : seg->dest.foreign.ref);
        uint16_t ofs = (from_guest ? seg->source.foreign.offset
                                   : seg->dest.foreign.offset);

        ovs_assert(seg->len > 0);
        ovs_assert(ofs + seg->len <= XVIF_PAGE_SIZE);
        if (ref != TABLE_REF) {
            seg->status = (ref & 1) ? GNTST_bad_gntref : GNTST_okay;
            continue;
        }
        if (from_guest) {
            memcpy(seg->dest.virt, table_page + ofs, seg->len);
        } else {
            memcpy(table_page + ofs, seg->source.virt, seg->len);
        }
        seg->status = GNTST_okay;
    }
    return 0;
}

static void *
fake_gnt_map(struct xvif_gnt *gnt OVS_UNUSED, uint16_t domid OVS_UNUSED,
             uint32_t ref, bool writable, int *error)
{
    struct fake_map *m;

    if (ref == RING_REF) {
        return ring_page;
    }
    if (ref & 1) {
        *error = EINVAL;
        return NULL;
    }
    ovs_assert(n_maps < ARRAY_SIZE(maps));
    m = &maps[n_maps++];
    m->page = xmalloc_pagealign(XVIF_PAGE_SIZE);
    memset(m->page, ref & 0xff, XVIF_PAGE_SIZE);
    memcpy(m->copy, m->page, XVIF_PAGE_SIZE);
    m->writable = writable;
    return m->page;
}

static int
fake_gnt_unmap(struct xvif_gnt *gnt OVS_UNUSED, void *addr)
{
    if (addr == ring_page) {
        return 0;
    }
    for (unsigned int i = 0; i < n_maps; i++) {
        struct fake_map *m = &maps[i];

        if (m->page == addr) {
            /* A read-only mapping was never written. */
            ovs_assert(m->writable
                       || !memcmp(m->page, m->copy, XVIF_PAGE_SIZE));
            free_pagealign(m->page);
            m->page = NULL;
            n_unmaps++;
            return 0;
        }
    }
    OVS_NOT_REACHED();
}

static int
fake_evtchn_open(struct xvif_evtchn **xcep)
{
    *xcep = (struct xvif_evtchn *) &n_unmaps;
    return 0;
}

static void
fake_evtchn_close(struct xvif_evtchn *xce OVS_UNUSED)
{
}

static int
fake_evtchn_fd(const struct xvif_evtchn *xce OVS_UNUSED)
{
    return -1;
}

static int
fake_evtchn_bind(struct xvif_evtchn *xce OVS_UNUSED,
                 uint16_t domid OVS_UNUSED, uint32_t remote OVS_UNUSED,
                 uint32_t *local)
{
    *local = 7;
    return 0;
}

static int
fake_evtchn_port_op(struct xvif_evtchn *xce OVS_UNUSED,
                    uint32_t port OVS_UNUSED)
{
    return 0;
}

static int
fake_evtchn_pending(struct xvif_evtchn *xce OVS_UNUSED,
                    uint32_t *port OVS_UNUSED)
{
    return EAGAIN;
}

static const struct xvif_xen_ops fuzz_xen_ops = {
    .name = "fuzz",
    .gnt_open = fake_gnt_open,
    .gnt_close = fake_gnt_close,
    .gnt_copy = fake_gnt_copy,
    .gnt_map = fake_gnt_map,
    .gnt_unmap = fake_gnt_unmap,
    .evtchn_open = fake_evtchn_open,
    .evtchn_close = fake_evtchn_close,
    .evtchn_fd = fake_evtchn_fd,
    .evtchn_bind = fake_evtchn_bind,
    .evtchn_unbind = fake_evtchn_port_op,
    .evtchn_notify = fake_evtchn_port_op,
    .evtchn_pending = fake_evtchn_pending,
    .evtchn_unmask = fake_evtchn_port_op,
};
const struct xvif_xen_ops *xvif_xen_ops = &fuzz_xen_ops;

/* netdev-xvif.c's. */
void
netdev_xvif_disable(struct netdev_xvif *dev, const char *reason)
{
    if (!dev->disabled_reason) {
        dev->disabled_reason = xstrdup(reason);
    }
}

static uint32_t
take(const uint8_t **p, size_t *n, size_t bytes)
{
    uint32_t v = 0;

    for (size_t i = 0; i < bytes; i++) {
        v |= (uint32_t) (*n ? ((*n)--, *(*p)++) : 0) << (8 * i);
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    uint32_t start = take(&p, &n, 4);
    uint32_t n_reqs = take(&p, &n, 2);
    uint32_t max = take(&p, &n, 2) % (XVIF_STATIC_GRANTS_MAX + 1);
    unsigned int queues_byte = take(&p, &n, 1);
    unsigned int n_queues = 1 + (queues_byte & 1);
    /* The process-wide limit, or 0 for the default (half of the machine's
     * vm.max_map_count). */
    unsigned int limit = queues_byte >> 1;
    size_t table_len = take(&p, &n, 2) % (XVIF_PAGE_SIZE + 1);
    struct netdev_xvif *dev = xzalloc(sizeof *dev);
    xen_netif_ctrl_sring_t *s;
    char *error;

    table_len = MIN(table_len, n);
    n_maps = n_unmaps = 0;
    xvif_static_grants_limit = limit ? limit : 32765;
    memset(table_page, 0, sizeof table_page);
    memcpy(table_page, p, table_len);
    p += table_len;
    n -= table_len;

    ring_page = xmalloc_pagealign(XVIF_PAGE_SIZE);
    memset(ring_page, 0, XVIF_PAGE_SIZE);
    s = (xen_netif_ctrl_sring_t *) ring_page;
    SHARED_RING_INIT(s);
    s->req_prod = start + n_reqs;
    s->rsp_prod = start;

    /* The requests, from the start index on, wrapping around the ring. */
    {
        xen_netif_ctrl_back_ring_t view;

        BACK_RING_ATTACH(&view, s, start, XVIF_PAGE_SIZE);
        for (RING_IDX i = start; n; i++) {
            struct xen_netif_ctrl_request *req = RING_GET_REQUEST(&view, i);
            size_t k = MIN(n, sizeof *req);

            memcpy(req, p, k);
            p += k;
            n -= k;
        }
    }

    dev->up.name = CONST_CAST(char *, "fuzz0");
    dev->max_static_grants = max;
    dev->n_queues = n_queues;
    dev->queues = xcalloc(n_queues, sizeof *dev->queues);
    for (unsigned int i = 0; i < n_queues; i++) {
        dev->queues[i].sg = xvif_static_grants_create(1);
    }
    dev->fe.domid = 1;
    dev->fe.ctrl_ring = true;
    dev->fe.ctrl_ring_ref = RING_REF;
    dev->fe.ctrl_evtchn = 3;

    error = xvif_ctrl_connect(dev, &dev->ctrl);
    if (!error) {
        for (int i = 0; i < 16 && !dev->disabled_reason; i++) {
            RING_IDX before = s->rsp_prod;

            xvif_ctrl_run(dev);
            /* Answers only to what was asked, each to its request. */
            ovs_assert(s->rsp_prod - start <= n_reqs
                       || dev->disabled_reason);
            if (s->rsp_prod == before) {
                break;
            }
        }
        for (unsigned int i = 0; i < n_queues; i++) {
            ovs_assert(xvif_static_grants_count(dev->queues[i].sg) <= max);
        }
        /* Mappings deleted but not yet unmapped (after a grace period)
         * count too: ADD/DEL churn must not map more than allowed. */
        ovs_assert(n_maps - n_unmaps <= max * n_queues);
        ovs_assert(n_maps - n_unmaps <= xvif_static_grants_limit);

        /* Whatever hash requests came, the configuration in force stays
         * within bounds: every table entry names a queue the guest has. */
        {
            const struct xvif_hash_config *cfg = xvif_ctrl_hash_active(dev);

            if (cfg) {
                ovs_assert(cfg->key_len <= XVIF_HASH_KEY_MAX);
                ovs_assert(cfg->mapping_size <= XVIF_HASH_MAPPING_MAX);
                for (uint32_t i = 0; i < cfg->mapping_size; i++) {
                    ovs_assert(cfg->mapping[i] < n_queues);
                }
            }
        }

        /* A burst through whatever got mapped: every table entry once,
         * both ways. */
        {
            const struct xen_netif_gref *t = (void *) table_page;
            xengnttab_grant_copy_segment_t segs[64];
            uint8_t buf[64][64];
            bool staged[64];
            unsigned int k = 0;

            for (unsigned int i = 0; i < 32; i++) {
                for (int dir = 0; dir < 2; dir++, k++) {
                    xengnttab_grant_copy_segment_t *seg = &segs[k];

                    memset(seg, 0, sizeof *seg);
                    seg->len = sizeof buf[k];
                    if (dir) {
                        seg->source.virt = buf[k];
                        seg->dest.foreign.ref = t[i].ref;
                        seg->dest.foreign.offset = (i * 97) % 4096;
                        seg->flags = GNTCOPY_dest_gref;
                    } else {
                        seg->dest.virt = buf[k];
                        seg->source.foreign.ref = t[i].ref;
                        seg->source.foreign.offset = (i * 89) % 4096;
                        seg->flags = GNTCOPY_source_gref;
                    }
                    seg->status = GNTST_general_error;
                }
            }
            xvif_static_grants_copy(dev->queues[0].sg, segs, k, staged);
            for (unsigned int i = 0; i < k; i++) {
                ovs_assert(staged[i] == (segs[i].status == GNTST_okay));
            }
        }
    } else {
        free(error);
    }

    xvif_ctrl_destroy(dev->ctrl);
    for (unsigned int i = 0; i < n_queues; i++) {
        xvif_static_grants_destroy(dev->queues[i].sg);
    }
    ovsrcu_quiesce();
    ovsrcu_quiesce();
    ovs_assert(n_maps == n_unmaps);
    free(dev->queues);
    free(dev->disabled_reason);
    free(dev);
    free_pagealign(ring_page);
    return 0;
}
