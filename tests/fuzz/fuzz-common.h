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

#ifndef XVIF_FUZZ_COMMON_H
#define XVIF_FUZZ_COMMON_H 1

/* Shared by the libFuzzer targets for guest TX and guest RX: a fake Xen
 * access layer whose grant copy enforces what the hypervisor enforces (a
 * segment never crosses its page) and fails odd grant references, and a
 * queue wired to one ring page.  See tests/fuzz/README.md. */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dp-packet.h"
#include "util.h"
#include "xvif-hash.h"
#include "xvif-private.h"

/* Reads little-endian integers from the front of the fuzzer's input. */
struct fuzz_input {
    const uint8_t *p;
    size_t n;
};

static inline uint32_t
fuzz_take(struct fuzz_input *in, size_t bytes)
{
    uint32_t v = 0;

    for (size_t i = 0; i < bytes; i++) {
        v |= (uint32_t) (in->n ? (in->n--, *in->p++) : 0) << (8 * i);
    }
    return v;
}

/* Guest memory behind every even grant reference: a pattern. */
static uint8_t fuzz_guest_page[XVIF_PAGE_SIZE];

static int
fuzz_gnt_copy(struct xvif_gnt *gnt OVS_UNUSED, uint32_t count,
              xengnttab_grant_copy_segment_t *segs)
{
    for (uint32_t i = 0; i < count; i++) {
        xengnttab_grant_copy_segment_t *seg = &segs[i];
        bool from_guest = seg->flags & GNTCOPY_source_gref;
        uint32_t ref = (from_guest ? seg->source.foreign.ref
                                   : seg->dest.foreign.ref);
        uint16_t ofs = (from_guest ? seg->source.foreign.offset
                                   : seg->dest.foreign.offset);

        /* The backend validated the request: it never asks the hypervisor
         * for a copy that leaves the granted page. */
        ovs_assert(seg->len > 0);
        ovs_assert(ofs + seg->len <= XVIF_PAGE_SIZE);
        if (ref & 1) {
            seg->status = GNTST_bad_gntref;
        } else if (from_guest) {
            memcpy(seg->dest.virt, fuzz_guest_page + ofs, seg->len);
            seg->status = GNTST_okay;
        } else {
            memcpy(fuzz_guest_page + ofs, seg->source.virt, seg->len);
            seg->status = GNTST_okay;
        }
    }
    return 0;
}

static const struct xvif_xen_ops fuzz_xen_ops = {
    .name = "fuzz",
    .gnt_copy = fuzz_gnt_copy,
};
const struct xvif_xen_ops *xvif_xen_ops = &fuzz_xen_ops;

/* netdev-xvif.c's notification, which the rings ask for. */
void
xvif_queue_notify(struct xvif_queue *q OVS_UNUSED, uint32_t port OVS_UNUSED,
                  struct xvif_queue_stats *stats)
{
    stats->notify_sent++;
}

/* The guest's receive-side scaling (xvif-ctrl.c in ovs-vswitchd): on when
 * the input's flags (bit 3) say so, with Microsoft's key, every hash type
 * and a table of one queue. */
static struct xvif_hash_config fuzz_hash_cfg = {
    .algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ,
    .flags = XVIF_HASH_TYPES_ALL,
    .key_len = 40,
    .key = { 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67 },
    .mapping_size = 128,
};
static bool fuzz_hash_on;

const struct xvif_hash_config *
xvif_ctrl_hash_active(const struct netdev_xvif *dev OVS_UNUSED)
{
    return fuzz_hash_on ? &fuzz_hash_cfg : NULL;
}

/* netdev-xvif.c's ingress policing: these ports have none. */
bool
xvif_police_admit(struct xvif_queue *q OVS_UNUSED, size_t bytes OVS_UNUSED)
{
    return true;
}

/* netdev-xvif.c's burst copy, over the fake grant copy above: a failed
 * operation fails every segment, as there. */
void
xvif_queue_grant_copy(struct xvif_queue *q,
                      xengnttab_grant_copy_segment_t *segs, unsigned int n,
                      struct xvif_queue_stats *stats)
{
    stats->gnt_copy_calls++;
    stats->gnt_copy_segs += n;
    if (xvif_gnt_copy(q->gnt, n, segs)) {
        for (unsigned int i = 0; i < n; i++) {
            segs[i].status = GNTST_general_error;
        }
    }
}

/* Returns a queue of a port that has the features in 'flags' (bit 0: sg,
 * bit 1: gso-tcpv4, bit 2: gso-tcpv6, and see below). */
static struct xvif_queue *
fuzz_queue_create(uint8_t flags)
{
    struct netdev_xvif *dev = xzalloc(sizeof *dev);
    struct xvif_queue *q = xzalloc(sizeof *q);

    dev->up.name = CONST_CAST(char *, "fuzz0");
    dev->mtu = 1500;
    dev->active.sg = flags & 1;
    dev->active.gso_tcpv4 = flags & 2;
    dev->active.gso_tcpv6 = flags & 4;
    atomic_init(&dev->rx_stall_ms, XVIF_RX_STALL_TIMEOUT_MS);
    /* Bit 3: the guest hashes; bits 4-5: its RX headroom (0, 256, the
     * maximum, more than a page: capped). */
    fuzz_hash_on = flags & 8;
    atomic_init(&dev->xdp_headroom,
                ((const unsigned int[]) { 0, 256, XVIF_MAX_XDP_HEADROOM,
                                          65535 })[(flags >> 4) & 3]);
    q->dev = dev;
    ovs_mutex_init(&q->rx_lock);
    atomic_init(&q->fatal, false);
    atomic_init(&q->rx_backlog_count, 0);
    atomic_init(&q->rx_stalled, false);
    q->tx_segs = xmalloc(XVIF_MAX_SEGS * sizeof *q->tx_segs);
    q->rx_segs = xmalloc(XVIF_MAX_SEGS * sizeof *q->rx_segs);
    q->tx_page = xmalloc_pagealign(XVIF_PAGE_SIZE);
    q->rx_page = xmalloc_pagealign(XVIF_PAGE_SIZE);
    memset(q->tx_page, 0, XVIF_PAGE_SIZE);
    memset(q->rx_page, 0, XVIF_PAGE_SIZE);
    return q;
}

static void
fuzz_queue_destroy(struct xvif_queue *q)
{
    for (size_t i = q->gso_next; i < q->gso_n; i++) {
        dp_packet_delete(q->gso_segs[i]);
    }
    xvif_rx_destroy_backlog(q);
    free(q->tx_segs);
    free(q->rx_segs);
    free_pagealign(q->tx_page);
    free_pagealign(q->rx_page);
    ovs_mutex_destroy(&q->rx_lock);
    free(q->dev);
    free(q);
}

#endif /* fuzz-common.h */
