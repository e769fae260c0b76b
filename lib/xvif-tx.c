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

/* Guest TX: the packets a Xen guest transmits become the packets that the
 * xvif port receives (netdev_rxq_recv()).
 *
 * Xen names the rings from the guest's point of view, OVS from the port's:
 * this file serves rxq_recv, and its counters are OVS's "rx_*".
 *
 * For each burst: requests are copied out of the shared ring before they are
 * looked at (the guest may rewrite the ring under us), parsed into packets
 * (a first slot, extra-info slots, fragment slots), validated with Linux
 * netback's rules, and all the data of the burst is fetched with one batched
 * grant copy into freshly allocated dp_packets.  Every request gets exactly
 * one response, in ring order.  csum_blank and GSO packets are completed in
 * software (xvif-offload.c), since OVS 3.1 has no fallback for them.
 *
 * A frontend that breaks the protocol in a way Linux treats as fatal (an
 * impossible req_prod, a slot crossing its page, more than 20 slots, a bad
 * extra) gets its queue stopped and the device disabled by the main thread:
 * see xvif_tx_fatal(). */

#include <config.h>

#include <errno.h>
#include <string.h>

#include "dp-packet.h"
#include "dpif-netdev.h"
#include "openvswitch/vlog.h"
#include "userspace-tso.h"
#include "util.h"
#include "xvif-offload.h"
#include "xvif-private.h"

VLOG_DEFINE_THIS_MODULE(xvif_tx);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* At most this many extra-info slots follow a first slot: one per type. */
#define MAX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)

/* One packet being received from the guest. */
struct tx_pkt {
    RING_IDX first;             /* Ring index of its first slot. */
    unsigned int n_slots;       /* Slots consumed, extras included. */
    uint16_t ids[XVIF_FATAL_SLOTS];     /* Request ids of the data slots, */
    unsigned int n_data;                /* and how many there are. */
    unsigned int extra_pos;     /* Data slots before the extras (0 or 1). */
    unsigned int n_extras;
    uint16_t flags;             /* NETTXF_* of the first slot. */
    uint16_t size;              /* The whole packet's size. */
    uint16_t gso_size;          /* Nonzero for a GSO packet, */
    uint8_t gso_type;           /* with its XEN_NETIF_GSO_TYPE_*. */
    bool has_hash;              /* A usable hash extra: 'hash' is the */
    uint32_t hash;              /* guest's RSS hash of the packet. */
    uint8_t mcast_op;           /* XEN_NETIF_EXTRA_TYPE_MCAST_ADD or _DEL */
    uint8_t mcast_addr[6];      /* for a multicast-control request, or 0. */
    unsigned int seg_start;     /* Its grant-copy segments, */
    unsigned int n_segs;        /* in the queue's scratch array. */
    struct dp_packet *packet;   /* NULL if dropped before copying. */
    int16_t status;             /* NETIF_RSP_OKAY or NETIF_RSP_ERROR. */
};

enum tx_parse_result {
    TX_PARSE_OK,                /* A packet to copy. */
    TX_PARSE_DROP,              /* A bad packet: answer with errors. */
    TX_PARSE_INCOMPLETE,        /* The guest has not posted all of it. */
    TX_PARSE_FATAL,             /* A protocol violation: disable. */
};

/* Records a fatal protocol error on 'q': the queue stops, and the main
 * thread disables the device with 'reason' (a string literal) in its status,
 * as Linux's netback does ("fatal error; disabling device").  Safe from any
 * thread. */
void
xvif_tx_fatal(struct xvif_queue *q, const char *reason)
{
    bool was;

    atomic_read_relaxed(&q->fatal, &was);
    if (!was) {
        q->fatal_reason = reason;
        atomic_store_explicit(&q->fatal, true, memory_order_release);
        VLOG_WARN_RL(&rl, "%s: queue %u: %s: disabling the device",
                     netdev_get_name(&q->dev->up), q->id, reason);
    }
}

/* Parses the packet whose first slot is at 'q->tx.req_cons' + 'offset',
 * without consuming anything.  Only requests before 'rp' are looked at.  On
 * TX_PARSE_OK and TX_PARSE_DROP, fills in 'pkt' (n_slots, ids, ...) and
 * stores the data slots (copied out of the ring) in 'reqs'.  On
 * TX_PARSE_FATAL, '*reason' says why. */
static enum tx_parse_result
tx_parse(struct xvif_queue *q, RING_IDX idx, RING_IDX rp,
         struct tx_pkt *pkt, struct netif_tx_request *reqs,
         const char **reason)
{
    netif_tx_back_ring_t *tx = &q->tx;
    struct netif_tx_request first;
    uint32_t frags_size = 0;
    bool more;

    memset(pkt, 0, sizeof *pkt);
    pkt->first = idx;
    if (idx == rp) {
        return TX_PARSE_INCOMPLETE;
    }
    RING_COPY_REQUEST(tx, idx, &first);
    idx++;
    reqs[0] = first;
    pkt->ids[0] = first.id;
    pkt->n_data = 1;
    pkt->flags = first.flags;
    pkt->size = first.size;

    if (first.flags & NETTXF_extra_info) {
        uint8_t extra_flags;

        pkt->extra_pos = 1;
        do {
            struct netif_extra_info extra;
            struct netif_tx_request slot;

            if (idx == rp) {
                /* Frontends publish whole packets: Linux treats a missing
                 * extra as fatal ("Missing extra info"). */
                *reason = "incomplete packet (missing extra-info slot)";
                return TX_PARSE_FATAL;
            }
            if (pkt->n_extras >= MAX_EXTRAS) {
                *reason = "too many extra-info slots";
                return TX_PARSE_FATAL;
            }
            BUILD_ASSERT_DECL(sizeof extra <= sizeof(netif_tx_request_t));
            RING_COPY_REQUEST(tx, idx, &slot);
            memcpy(&extra, &slot, sizeof extra);
            idx++;
            pkt->n_extras++;

            switch (extra.type) {
            case XEN_NETIF_EXTRA_TYPE_GSO:
                if (!extra.u.gso.size) {
                    *reason = "GSO size 0";
                    return TX_PARSE_FATAL;
                }
                if (extra.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4
                    && extra.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6) {
                    *reason = "bad GSO type";
                    return TX_PARSE_FATAL;
                }
                pkt->gso_size = extra.u.gso.size;
                pkt->gso_type = extra.u.gso.type;
                break;

            case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
            case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
                /* Multicast control: the "packet" is a request, applied
                 * by xvif_tx_recv() and not forwarded. */
                pkt->mcast_op = extra.type;
                memcpy(pkt->mcast_addr, extra.u.mcast.addr,
                       sizeof pkt->mcast_addr);
                break;

            case XEN_NETIF_EXTRA_TYPE_HASH:
                /* The guest's RSS hash of the packet: a hint for OVS, kept
                 * when its type is one netif.h defines, as Linux does. */
                if (extra.u.hash.type <= _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP) {
                    pkt->has_hash = true;
                    memcpy(&pkt->hash, extra.u.hash.value, sizeof pkt->hash);
                }
                break;

            case XEN_NETIF_EXTRA_TYPE_NONE:
            default:
                *reason = "invalid extra-info type";
                return TX_PARSE_FATAL;
            }
            extra_flags = extra.flags;
        } while (extra_flags & XEN_NETIF_EXTRA_FLAG_MORE);
    }

    more = first.flags & NETTXF_more_data;
    while (more) {
        struct netif_tx_request frag;

        if (pkt->n_data >= XVIF_FATAL_SLOTS) {
            *reason = "too many slots";
            return TX_PARSE_FATAL;
        }
        if (idx == rp) {
            /* A more_data chain that does not end before req_prod: Linux
             * treats it as fatal too ("Asked for %d slots but exceeds this
             * limit"), since frontends publish whole packets. */
            *reason = "incomplete packet (unterminated more_data chain)";
            return TX_PARSE_FATAL;
        }
        RING_COPY_REQUEST(tx, idx, &frag);
        idx++;
        reqs[pkt->n_data] = frag;
        pkt->ids[pkt->n_data++] = frag.id;
        frags_size += frag.size;
        more = frag.flags & NETTXF_more_data;
    }
    pkt->n_slots = pkt->n_data + pkt->n_extras;

    /* The first slot's 'size' is the whole packet's; its own data is what
     * the fragments leave. */
    if (frags_size > first.size) {
        VLOG_WARN_RL(&rl, "%s: packet of %"PRIu16" bytes has %"PRIu32
                     " bytes of fragments", netdev_get_name(&q->dev->up),
                     first.size, frags_size);
        q->tx_stats.rx_bad_request++;
        return TX_PARSE_DROP;
    }
    reqs[0].size = first.size - frags_size;
    for (unsigned int i = 0; i < pkt->n_data; i++) {
        if (reqs[i].offset + reqs[i].size > XVIF_PAGE_SIZE) {
            *reason = "slot crosses a page boundary";
            return TX_PARSE_FATAL;
        }
    }
    if (pkt->n_data > XVIF_TX_MAX_SLOTS) {
        q->tx_stats.rx_too_many_slots++;
        return TX_PARSE_DROP;
    }
    if (pkt->mcast_op) {
        /* A multicast-control request carries no packet (its data slot
         * is usually empty). */
        return TX_PARSE_OK;
    }
    if (first.size < ETH_HEADER_LEN) {
        q->tx_stats.rx_bad_request++;
        return TX_PARSE_DROP;
    }
    return TX_PARSE_OK;
}

/* Writes the responses for 'pkt': one per slot, in ring order; extra-info
 * slots get NETIF_RSP_NULL. */
static void
tx_respond(struct xvif_queue *q, const struct tx_pkt *pkt)
{
    netif_tx_back_ring_t *tx = &q->tx;
    unsigned int data = 0;

    for (unsigned int i = 0; i < pkt->n_slots; i++) {
        struct netif_tx_response *rsp;

        rsp = RING_GET_RESPONSE(tx, tx->rsp_prod_pvt);
        tx->rsp_prod_pvt++;
        if (i >= pkt->extra_pos && i < pkt->extra_pos + pkt->n_extras) {
            rsp->id = 0;
            rsp->status = NETIF_RSP_NULL;
        } else {
            rsp->id = pkt->ids[data++];
            rsp->status = pkt->status;
        }
    }
}

/* Takes the offloads the guest asked for on 'pkt' and appends the resulting
 * packet(s) to 'batch', or to the queue's GSO stash when 'batch' is full.
 * Takes ownership of pkt->packet. */
/* Marks 'packet''s L4 checksum as known good: xvif computed it, or the
 * guest vouched for it (NETTXF_data_validated), as Linux's netback turns
 * these into CHECKSUM_UNNECESSARY.  Another guest then receives it with
 * NETRXF_data_validated (xvif-rx.c) and need not verify it again. */
static void
tx_csum_good(struct dp_packet *packet)
{
    *dp_packet_ol_flags_ptr(packet) |= DP_PACKET_OL_RX_L4_CKSUM_GOOD;
}

/* The longest headers, Ethernet to TCP options, of a guest's GSO
 * super-frame that OVS carries whole (Linux's MAX_TCP_HEADER is in this
 * range). */
#define XVIF_GSO_MAX_HDR_LEN 256

static void
tx_finish(struct xvif_queue *q, struct tx_pkt *pkt,
          struct dp_packet_batch *batch)
{
    struct dp_packet *packet = pkt->packet;
    int error;

    pkt->packet = NULL;
    if (pkt->has_hash) {
        dp_packet_set_rss_hash(packet, pkt->hash);
        q->tx_stats.rx_hash++;
    }
    if (pkt->gso_size && userspace_tso_enabled()) {
        bool is_ipv6 = pkt->gso_type == XEN_NETIF_GSO_TYPE_TCPV6;
        size_t l3_ofs, hdr_len;

        /* With userspace-tso-enable=true, OVS carries the super-frame whole
         * to ports that can take it (TSO-capable ports, and other guests,
         * which get it as GSO or segmented by xvif-rx.c).  It must really be
         * what the guest says it is: OVS's output code trusts the flags.
         * And its segments must fit the port's MTU with sane headers: OVS
         * computes the segment size as MTU minus headers in 16 bits, which
         * headers longer than the MTU would wrap (the XSA-423 class). */
        if (xvif_offload_check_tcp(packet, is_ipv6, &l3_ofs, &hdr_len)
            || hdr_len > XVIF_GSO_MAX_HDR_LEN
            || hdr_len - l3_ofs + pkt->gso_size > q->dev->mtu) {
            q->tx_stats.rx_gso_error++;
            q->tx_stats.rx_dropped++;
            dp_packet_delete(packet);
            return;
        }
        if (is_ipv6) {
            dp_packet_hwol_set_tx_ipv6(packet);
        } else {
            dp_packet_hwol_set_tx_ipv4(packet);
        }
        dp_packet_hwol_set_csum_tcp(packet);
        dp_packet_hwol_set_tcp_seg(packet);
        q->tx_stats.rx_gso_packets++;
        dp_packet_batch_add(batch, packet);
        return;
    } else if (pkt->gso_size) {
        size_t n;

        ovs_assert(!q->gso_n);
        error = xvif_offload_segment_tcp(
            packet, pkt->gso_size,
            pkt->gso_type == XEN_NETIF_GSO_TYPE_TCPV6,
            q->gso_segs, XVIF_MAX_GSO_SEGS, &n);
        dp_packet_delete(packet);
        if (error) {
            q->tx_stats.rx_gso_error++;
            q->tx_stats.rx_dropped++;
            return;
        }
        q->tx_stats.rx_gso_packets++;
        for (size_t i = 0; i < n; i++) {
            tx_csum_good(q->gso_segs[i]);
            if (pkt->has_hash) {
                /* Every segment is of the guest-hashed flow. */
                dp_packet_set_rss_hash(q->gso_segs[i], pkt->hash);
            }
        }
        q->gso_n = n;
        q->gso_next = 0;
        while (q->gso_next < q->gso_n && !dp_packet_batch_is_full(batch)) {
            dp_packet_batch_add(batch, q->gso_segs[q->gso_next++]);
        }
        if (q->gso_next == q->gso_n) {
            q->gso_n = q->gso_next = 0;
        }
        return;
    }

    if (pkt->flags & NETTXF_csum_blank) {
        error = xvif_offload_complete_csum(packet);
        if (error) {
            q->tx_stats.rx_csum_error++;
            q->tx_stats.rx_dropped++;
            dp_packet_delete(packet);
            return;
        }
        q->tx_stats.rx_csum_completed++;
    }
    if (pkt->flags & (NETTXF_csum_blank | NETTXF_data_validated)) {
        tx_csum_good(packet);
    }
    dp_packet_batch_add(batch, packet);
}

/* Applies the multicast-control request 'pkt' (MCAST_ADD or _DEL) and
 * returns the status of its response. */
static int16_t
tx_mcast(struct xvif_queue *q, const struct tx_pkt *pkt)
{
    if (pkt->mcast_op == XEN_NETIF_EXTRA_TYPE_MCAST_DEL) {
        xvif_mcast_del(q->dev, pkt->mcast_addr);
        q->tx_stats.rx_mcast_del++;
    } else if (xvif_mcast_add(q->dev, pkt->mcast_addr)) {
        q->tx_stats.rx_mcast_add++;
    } else {
        /* Not a multicast address, or the list is full. */
        VLOG_WARN_RL(&rl, "%s: guest cannot subscribe to %02x:%02x:%02x:"
                     "%02x:%02x:%02x (%u of %d groups)",
                     netdev_get_name(&q->dev->up), pkt->mcast_addr[0],
                     pkt->mcast_addr[1], pkt->mcast_addr[2],
                     pkt->mcast_addr[3], pkt->mcast_addr[4],
                     pkt->mcast_addr[5], xvif_mcast_count(q->dev),
                     XVIF_MCAST_MAX);
        q->tx_stats.rx_mcast_refused++;
        return NETIF_RSP_ERROR;
    }
    return NETIF_RSP_OKAY;
}

/* Receives up to one batch of packets from guest TX queue 'q' into 'batch'.
 * 'event_driven' is true for the "xvif" class: then, when the ring is empty,
 * the guest is asked to notify on its next request.  Returns 0 if 'batch'
 * got packets, EAGAIN if none. */
int
xvif_tx_recv(struct xvif_queue *q, struct dp_packet_batch *batch,
             bool event_driven)
{
    netif_tx_back_ring_t *tx = &q->tx;
    struct netif_tx_request reqs[XVIF_FATAL_SLOTS];
    struct tx_pkt pkts[XVIF_BURST];
    unsigned int n_pkts = 0, n_segs = 0;
    const char *reason = NULL;
    bool fatal, notify;
    RING_IDX rp;

    atomic_read_explicit(&q->fatal, &fatal, memory_order_acquire);
    if (fatal) {
        return EAGAIN;
    }

    /* Segments of an earlier GSO packet go first. */
    while (q->gso_next < q->gso_n && !dp_packet_batch_is_full(batch)) {
        dp_packet_batch_add(batch, q->gso_segs[q->gso_next++]);
    }
    if (q->gso_next < q->gso_n) {
        q->tx_more = true;
        return 0;
    }
    q->gso_n = q->gso_next = 0;

    rp = tx->sring->req_prod;
    xen_rmb();
    if (RING_REQUEST_PROD_OVERFLOW(tx, rp)) {
        xvif_tx_fatal(q, "impossible number of requests");
        return dp_packet_batch_is_empty(batch) ? EAGAIN : 0;
    }

    /* Parse a burst.  A GSO packet may need the whole batch, so parsing
     * stops after one. */
    while (n_pkts < XVIF_BURST - dp_packet_batch_size(batch)) {
        struct tx_pkt *pkt = &pkts[n_pkts];
        enum tx_parse_result r;
        uint32_t pos = 0;

        r = tx_parse(q, tx->req_cons, rp, pkt, reqs, &reason);
        if (r == TX_PARSE_INCOMPLETE) {
            break;
        } else if (r == TX_PARSE_FATAL) {
            xvif_tx_fatal(q, reason);
            break;
        }
        tx->req_cons += pkt->n_slots;
        n_pkts++;
        if (r == TX_PARSE_DROP) {
            pkt->status = NETIF_RSP_ERROR;
            q->tx_stats.rx_errors++;
            continue;
        }
        if (pkt->mcast_op) {
            pkt->status = tx_mcast(q, pkt);
            continue;
        }

        pkt->status = NETIF_RSP_OKAY;
        if (!xvif_police_admit(q, pkt->size)) {
            /* Dropped before any copy, checksum or segmentation: a
             * rate-limited guest costs the switch its rate, not more. */
            continue;
        }
        pkt->packet = xvif_offload_packet_new(pkt->size);
        pkt->seg_start = n_segs;
        for (unsigned int i = 0; i < pkt->n_data; i++) {
            xengnttab_grant_copy_segment_t *seg;

            if (!reqs[i].size) {
                continue;
            }
            seg = &q->tx_segs[n_segs++];
            seg->source.foreign.ref = reqs[i].gref;
            seg->source.foreign.offset = reqs[i].offset;
            seg->source.foreign.domid = q->domid;
            seg->dest.virt = (char *) dp_packet_data(pkt->packet) + pos;
            seg->len = reqs[i].size;
            seg->flags = GNTCOPY_source_gref;
            seg->status = GNTST_general_error;
            pos += reqs[i].size;
        }
        dp_packet_set_size(pkt->packet, pos);
        pkt->n_segs = n_segs - pkt->seg_start;
        if (pkt->gso_size) {
            break;
        }
    }

    if (n_segs) {
        xvif_queue_grant_copy(q, q->tx_segs, n_segs, &q->tx_stats);
    }

    for (unsigned int i = 0; i < n_pkts; i++) {
        struct tx_pkt *pkt = &pkts[i];

        if (pkt->packet) {
            for (unsigned int j = 0; j < pkt->n_segs; j++) {
                int16_t st = q->tx_segs[pkt->seg_start + j].status;

                if (st != GNTST_okay) {
                    xvif_count_gntst(&q->tx_stats, st);
                    pkt->status = NETIF_RSP_ERROR;
                }
            }
            if (pkt->status != NETIF_RSP_OKAY) {
                q->tx_stats.gnt_copy_failures++;
                q->tx_stats.rx_copy_error++;
                q->tx_stats.rx_errors++;
                dp_packet_delete(pkt->packet);
                pkt->packet = NULL;
            } else {
                q->tx_stats.rx_packets++;
                q->tx_stats.rx_bytes += dp_packet_size(pkt->packet);
            }
        }
        tx_respond(q, pkt);
    }
    if (n_pkts) {
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(tx, notify);
        if (notify) {
            xvif_queue_notify(q, q->tx_port, &q->tx_stats);
        }
    }

    for (unsigned int i = 0; i < n_pkts; i++) {
        if (pkts[i].packet) {
            tx_finish(q, &pkts[i], batch);
        }
    }

    atomic_read_relaxed(&q->fatal, &fatal);
    if (fatal) {
        q->tx_more = false;
    } else if (q->gso_n || RING_HAS_UNCONSUMED_REQUESTS(tx)) {
        q->tx_more = true;
    } else if (event_driven) {
        int more;

        RING_FINAL_CHECK_FOR_REQUESTS(tx, more);
        q->tx_more = more;
    } else {
        q->tx_more = false;
    }
    return dp_packet_batch_is_empty(batch) ? EAGAIN : 0;
}
