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

/* Guest RX: the packets OVS sends on an xvif port (netdev_send()) are copied
 * into the buffers the guest posted on its RX ring.
 *
 * Xen names the rings from the guest's point of view, OVS from the port's:
 * this file serves send, and its counters are OVS's "tx_*".
 *
 * Every packet takes as many posted buffers as it needs (one page each; more
 * than one only when the guest has feature-sg), its data is copied into them
 * with one batched grant copy per burst, and one response per buffer tells
 * the guest where the data is (NETRXF_more_data chains the buffers of one
 * packet).
 *
 * When the guest has not posted enough buffers, packets wait in a bounded
 * per-queue backlog, as Linux's netback queues them: the backend asks the
 * guest for a notification when it posts buffers (req_event) and flushes the
 * backlog then, from the queue's polling thread.  A full backlog drops and
 * counts, and a guest that posts nothing for XVIF_RX_STALL_MS loses its
 * backlog, so a guest that does not read never holds up the switch, other
 * guests, or more than a bounded amount of memory. */

#include <config.h>

#include <errno.h>
#include <string.h>

#include "dp-packet.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "userspace-tso.h"
#include "util.h"
#include "xvif-hash.h"
#include "xvif-offload.h"
#include "xvif-private.h"

VLOG_DEFINE_THIS_MODULE(xvif_rx);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Packets per grant-copy burst. */
#define RX_BURST NETDEV_MAX_BURST

/* Extra-info slots a packet may take: GSO, hash, XDP headroom. */
#define RX_MAX_EXTRAS 3

/* One packet on its way to the guest. */
struct rx_pkt {
    struct dp_packet *packet;
    uint16_t flags;             /* NETRXF_* for its first response. */
    unsigned int n_extras;      /* Extra-info slots after the first */
    struct netif_extra_info extras[RX_MAX_EXTRAS];  /* response. */
    unsigned int first_seg;     /* Its segments in the queue's scratch. */
    unsigned int n_segs;
    uint16_t ids[XVIF_MAX_SLOTS];       /* Ids of the buffers it took. */
    uint16_t lens[XVIF_MAX_SLOTS];      /* Bytes in each. */
};

/* The RX headroom the guest of 'q' asked for (xdp-headroom): every data
 * slot starts there, so each buffer holds that much less. */
static unsigned int
rx_headroom(const struct xvif_queue *q)
{
    unsigned int headroom;

    atomic_read_relaxed(&q->dev->xdp_headroom, &headroom);
    return MIN(headroom, XVIF_MAX_XDP_HEADROOM);
}

/* Returns the number of buffers 'packet' needs, or 0 if the guest cannot
 * take it at all. */
static unsigned int
rx_slots_needed(const struct xvif_queue *q, const struct dp_packet *packet)
{
    uint32_t size = dp_packet_size(packet);
    unsigned int needed = DIV_ROUND_UP(size,
                                       XVIF_PAGE_SIZE - rx_headroom(q));

    if (!size || (needed > 1 && !q->dev->active.sg)
        || needed > XVIF_MAX_SLOTS) {
        return 0;
    }
    return needed;
}

/* Decides how 'packet', which may carry OVS offload requests (only with
 * userspace-tso-enable=true), reaches the guest: as a GSO super-frame
 * (nonzero '*gso_size') and/or with its L4 checksum left blank, as Linux's
 * netback passes local traffic, when the guest can take that.  Returns the
 * NETRXF_* flags for its first response. */
static uint16_t
rx_offload_flags(const struct xvif_queue *q, const struct dp_packet *packet,
                 uint16_t *gso_size, uint8_t *gso_type)
{
    *gso_size = 0;
    *gso_type = XEN_NETIF_GSO_TYPE_NONE;
    if (dp_packet_hwol_is_tso(packet)) {
        bool is_ipv6 = !dp_packet_hwol_is_ipv4(packet);
        size_t l3_ofs, hdr_len;
        int mss;

        mss = q->dev->mtu;
        if (!xvif_offload_check_tcp(packet, is_ipv6, &l3_ofs, &hdr_len)
            && mss > (int) (hdr_len - l3_ofs)) {
            *gso_size = mss - (hdr_len - l3_ofs);
            *gso_type = (is_ipv6 ? XEN_NETIF_GSO_TYPE_TCPV6
                                 : XEN_NETIF_GSO_TYPE_TCPV4);
        }
        return NETRXF_csum_blank | NETRXF_data_validated;
    } else if (dp_packet_hwol_l4_mask(packet)) {
        return NETRXF_csum_blank | NETRXF_data_validated;
    } else if (dp_packet_l4_checksum_valid(packet)) {
        /* Verified or computed where it entered the switch (another
         * guest's xvif port, a NIC that checks checksums). */
        return NETRXF_data_validated;
    }
    return 0;
}

/* Returns true if 'packet' carries an offload request that the guest
 * behind 'q' cannot take, so that xvif must carry it out first. */
static bool
rx_needs_software(const struct xvif_queue *q, const struct dp_packet *packet)
{
    const struct xvif_frontend *fe = &q->dev->active;

    if (dp_packet_hwol_is_tso(packet)) {
        return !fe->sg || !(dp_packet_hwol_is_ipv4(packet)
                            ? fe->gso_tcpv4 : fe->gso_tcpv6);
    }
    return dp_packet_hwol_l4_mask(packet) && fe->no_csum;
}

/* Carries out in software the offloads that 'packet' asks for and the guest
 * cannot take, storing the resulting packets in 'out' (at most
 * XVIF_MAX_GSO_SEGS) and returning their number.  Frees 'packet'. */
static size_t
rx_software_offload(struct xvif_queue *q, struct dp_packet *packet,
                    struct dp_packet **out)
{
    size_t n = 0;
    int error;

    if (dp_packet_hwol_is_tso(packet)) {
        size_t l3_ofs, hdr_len;
        bool is_ipv6 = !dp_packet_hwol_is_ipv4(packet);
        int mss = q->dev->mtu;

        error = xvif_offload_check_tcp(packet, is_ipv6, &l3_ofs, &hdr_len);
        if (!error && mss > (int) (hdr_len - l3_ofs)) {
            error = xvif_offload_segment_tcp(packet,
                                             mss - (hdr_len - l3_ofs),
                                             is_ipv6, out,
                                             XVIF_MAX_GSO_SEGS, &n);
        } else {
            error = EINVAL;
        }
        dp_packet_delete(packet);
    } else {
        error = xvif_offload_complete_csum(packet);
        if (!error) {
            dp_packet_reset_offload(packet);
            out[n++] = packet;
        } else {
            dp_packet_delete(packet);
        }
    }
    if (error) {
        q->rx_stats.tx_dropped++;
        q->rx_stats.tx_offload_error++;
    }
    return n;
}

/* RX stall (Linux's "Guest Rx stalled"): a guest that has posted no RX
 * buffers for the port's rx-stall-timeout while packets wait for it gets
 * its carrier turned off, its backlog dropped, and packets for it dropped at
 * once, until it posts buffers again. */

/* The guest behind 'q' has buffers again, or took a packet: clears the stall
 * clock and, if 'q' was stalled, turns the carrier back on. */
static void
rx_unstall(struct xvif_queue *q)
    OVS_REQUIRES(q->rx_lock)
{
    bool stalled;

    q->rx_nobuf_since = 0;
    atomic_read_relaxed(&q->rx_stalled, &stalled);
    if (stalled) {
        atomic_store_relaxed(&q->rx_stalled, false);
        VLOG_INFO_RL(&rl, "%s: queue %u: guest RX resumed: carrier on",
                     netdev_get_name(&q->dev->up), q->id);
        netdev_change_seq_changed(&q->dev->up);
    }
}

/* Publishes the backlog's size, and how many slots its first packet needs,
 * for xvif_rx_backlog_ready(). */
static void
rx_backlog_set_count(struct xvif_queue *q)
    OVS_REQUIRES(q->rx_lock)
{
    unsigned int need = 0;

    if (q->rx_backlog_n) {
        const struct dp_packet *first = q->rx_backlog[q->rx_backlog_head];
        const struct xvif_hash_config *cfg = xvif_ctrl_hash_active(q->dev);
        uint16_t gso_size;
        uint8_t gso_type, htype;

        rx_offload_flags(q, first, &gso_size, &gso_type);
        /* A packet too big for the guest is dropped by the next delivery
         * attempt, whatever the guest posted: one slot says "ready".  Its
         * extras (GSO, hash, XDP) take a slot each. */
        need = (MAX(rx_slots_needed(q, first), 1) + (gso_size != 0)
                + (rx_headroom(q) != 0)
                + (cfg && dp_packet_rss_valid(first)
                   && xvif_hash_packet_type(cfg, first, &htype)));
    }
    atomic_store_relaxed(&q->rx_backlog_need, need);
    atomic_store_relaxed(&q->rx_backlog_size, q->rx_backlog_bytes);
    atomic_store_relaxed(&q->rx_backlog_count, q->rx_backlog_n);
}

/* Marks 'q' stalled if the guest has had no buffers for too long. */
static void
rx_check_stall(struct xvif_queue *q)
    OVS_REQUIRES(q->rx_lock)
{
    bool stalled;
    int timeout;

    if (!q->rx_nobuf_since) {
        return;
    }
    atomic_read_relaxed(&q->rx_stalled, &stalled);
    atomic_read_relaxed(&q->dev->rx_stall_ms, &timeout);
    if (!stalled && time_msec() - q->rx_nobuf_since >= timeout) {
        atomic_store_relaxed(&q->rx_stalled, true);
        VLOG_WARN_RL(&rl, "%s: queue %u: guest RX stalled (no buffers for "
                     "%d ms): carrier off, dropping %u queued packets",
                     netdev_get_name(&q->dev->up), q->id, timeout,
                     q->rx_backlog_n);
        q->rx_stats.tx_no_buffer += q->rx_backlog_n;
        q->rx_stats.tx_dropped += q->rx_backlog_n;
        xvif_rx_destroy_backlog(q);
        rx_backlog_set_count(q);
        netdev_change_seq_changed(&q->dev->up);
    }
}

/* Returns true if any queue of 'dev' is stalled.  Main thread. */
bool
xvif_rx_stalled(const struct netdev_xvif *dev)
{
    for (unsigned int i = 0; i < dev->n_queues; i++) {
        bool stalled;

        atomic_read_relaxed(&dev->queues[i].rx_stalled, &stalled);
        if (stalled) {
            return true;
        }
    }
    return false;
}

/* Copies as many of the 'n' packets in 'packets' as the guest has buffers
 * for into the guest, in order, and returns how many it consumed (sent or
 * dropped as too big).  Packets it consumed are freed. */
static size_t
rx_deliver(struct xvif_queue *q, struct dp_packet **packets, size_t n)
    OVS_REQUIRES(q->rx_lock)
{
    netif_rx_back_ring_t *rx = &q->rx;
    const struct xvif_hash_config *hash_cfg;
    struct rx_pkt pkts[RX_BURST];
    unsigned int n_pkts = 0, n_segs = 0;
    unsigned int headroom;
    size_t consumed = 0;
    bool notify;
    RING_IDX rp;

    rp = rx->sring->req_prod;
    xen_rmb();
    if (RING_REQUEST_PROD_OVERFLOW(rx, rp)) {
        xvif_tx_fatal(q, "impossible number of RX requests");
        return 0;
    }

    headroom = rx_headroom(q);
    hash_cfg = xvif_ctrl_hash_active(q->dev);
    while (consumed < n && n_pkts < RX_BURST) {
        struct dp_packet *packet = packets[consumed];
        unsigned int data_slots = rx_slots_needed(q, packet);
        struct netif_extra_info extras[RX_MAX_EXTRAS];
        unsigned int n_extras = 0;
        uint16_t gso_size;
        uint8_t gso_type;
        uint16_t flags = rx_offload_flags(q, packet, &gso_size, &gso_type);
        const char *data = dp_packet_data(packet);
        uint32_t size = dp_packet_size(packet);
        unsigned int needed;
        struct rx_pkt *pkt;
        uint32_t pos = 0;
        uint32_t hash;
        uint8_t htype;

        /* Extras in the order of their types, as Linux's netback. */
        memset(extras, 0, sizeof extras);
        if (gso_size) {
            extras[n_extras].type = XEN_NETIF_EXTRA_TYPE_GSO;
            extras[n_extras].u.gso.size = gso_size;
            extras[n_extras].u.gso.type = gso_type;
            n_extras++;
        }
        if (hash_cfg && dp_packet_rss_valid(packet)
            && xvif_hash_packet_type(hash_cfg, packet, &htype)) {
            /* xvif_rx_send_dev() computed the hash that chose 'q'. */
            hash = dp_packet_get_rss_hash(packet);
            extras[n_extras].type = XEN_NETIF_EXTRA_TYPE_HASH;
            extras[n_extras].u.hash.type = htype;
            extras[n_extras].u.hash.algorithm
                = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
            memcpy(extras[n_extras].u.hash.value, &hash, sizeof hash);
            n_extras++;
        }
        if (headroom) {
            extras[n_extras].type = XVIF_NETIF_EXTRA_TYPE_XDP;
            extras[n_extras].u.pad[0] = headroom;
            n_extras++;
        }
        for (unsigned int e = 0; e + 1 < n_extras; e++) {
            extras[e].flags = XEN_NETIF_EXTRA_FLAG_MORE;
        }
        needed = data_slots + n_extras;

        if (!data_slots) {
            q->rx_stats.tx_too_big++;
            q->rx_stats.tx_dropped++;
            dp_packet_delete(packet);
            consumed++;
            continue;
        }
        if (rp - rx->req_cons < needed) {
            /* Ask for a notification when the guest posts enough buffers,
             * as Linux does. */
            rx->sring->req_event = rx->req_cons + needed;
            xen_mb();
            if (rx->sring->req_prod - rx->req_cons < needed) {
                if (!q->rx_nobuf_since) {
                    q->rx_nobuf_since = time_msec();
                }
                break;
            }
            rp = rx->sring->req_prod;
            xen_rmb();
            if (RING_REQUEST_PROD_OVERFLOW(rx, rp)) {
                /* The guest rewrote req_prod since the first read. */
                xvif_tx_fatal(q, "impossible number of RX requests");
                break;
            }
            continue;
        }

        pkt = &pkts[n_pkts++];
        pkt->packet = packet;
        pkt->flags = flags;
        pkt->n_extras = n_extras;
        memcpy(pkt->extras, extras, sizeof extras);
        pkt->first_seg = n_segs;
        pkt->n_segs = data_slots;
        for (unsigned int j = 0; j < data_slots; j++) {
            xengnttab_grant_copy_segment_t *seg = &q->rx_segs[n_segs++];
            struct netif_rx_request req;
            uint16_t len = MIN(size - pos, XVIF_PAGE_SIZE - headroom);

            RING_COPY_REQUEST(rx, rx->req_cons, &req);
            rx->req_cons++;
            pkt->ids[j] = req.id;
            pkt->lens[j] = len;

            seg->source.virt = CONST_CAST(char *, data + pos);
            seg->dest.foreign.ref = req.gref;
            seg->dest.foreign.offset = headroom;
            seg->dest.foreign.domid = q->domid;
            seg->len = len;
            seg->flags = GNTCOPY_dest_gref;
            seg->status = GNTST_general_error;
            pos += len;
            if (!j) {
                /* The extras take the slots after the first. */
                rx->req_cons += n_extras;
            }
        }
        consumed++;
    }

    if (n_segs) {
        xvif_queue_grant_copy(q, q->rx_segs, n_segs, &q->rx_stats);
    }

    for (unsigned int i = 0; i < n_pkts; i++) {
        const struct rx_pkt *pkt = &pkts[i];
        uint32_t bytes = 0;
        bool ok = true;

        for (unsigned int j = 0; j < pkt->n_segs; j++) {
            int16_t st = q->rx_segs[pkt->first_seg + j].status;

            if (st != GNTST_okay) {
                xvif_count_gntst(&q->rx_stats, st);
                ok = false;
            }
            bytes += pkt->lens[j];
        }
        for (unsigned int j = 0; j < pkt->n_segs; j++) {
            struct netif_rx_response *rsp;

            rsp = RING_GET_RESPONSE(rx, rx->rsp_prod_pvt);
            rx->rsp_prod_pvt++;
            rsp->id = pkt->ids[j];
            rsp->offset = headroom;
            rsp->flags = j + 1 < pkt->n_segs ? NETRXF_more_data : 0;
            rsp->status = ok ? pkt->lens[j] : NETIF_RSP_ERROR;
            if (!j) {
                rsp->flags |= pkt->flags;
                if (pkt->n_extras) {
                    rsp->flags |= NETRXF_extra_info;
                }
                for (unsigned int e = 0; e < pkt->n_extras; e++) {
                    struct netif_extra_info *extra;

                    extra = (struct netif_extra_info *)
                        RING_GET_RESPONSE(rx, rx->rsp_prod_pvt);
                    rx->rsp_prod_pvt++;
                    *extra = pkt->extras[e];
                    if (extra->type == XEN_NETIF_EXTRA_TYPE_HASH) {
                        q->rx_stats.tx_hash++;
                    }
                }
            }
        }
        if (ok) {
            q->rx_stats.tx_packets++;
            q->rx_stats.tx_bytes += bytes;
        } else {
            /* The guest posted a buffer we may not write (a bad or
             * read-only grant). */
            q->rx_stats.gnt_copy_failures++;
            q->rx_stats.tx_copy_error++;
            q->rx_stats.tx_dropped++;
        }
        dp_packet_delete(pkt->packet);
    }
    if (n_pkts) {
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(rx, notify);
        if (notify) {
            xvif_queue_notify(q, q->rx_port, &q->rx_stats);
        }
        rx_unstall(q);
    }
    return consumed;
}

/* Delivers 'n' packets, bursts at a time, until the guest runs out of
 * buffers.  Returns how many were consumed. */
static size_t
rx_deliver_all(struct xvif_queue *q, struct dp_packet **packets, size_t n)
    OVS_REQUIRES(q->rx_lock)
{
    size_t done = 0;

    while (done < n) {
        size_t k = rx_deliver(q, packets + done, n - done);

        if (!k) {
            break;
        }
        done += k;
    }
    return done;
}


/* Delivers what the backlog holds, as far as the guest has buffers, and
 * drops it all if the guest has posted nothing for too long. */
static void
rx_flush__(struct xvif_queue *q)
    OVS_REQUIRES(q->rx_lock)
{
    long long int now = 0;

    while (q->rx_backlog_n) {
        struct dp_packet *run[RX_BURST];
        size_t n = 0, done;

        size_t sizes[RX_BURST];

        for (unsigned int i = q->rx_backlog_head;
             n < MIN(q->rx_backlog_n, RX_BURST);
             i = (i + 1) % XVIF_RX_BACKLOG) {
            sizes[n] = dp_packet_size(q->rx_backlog[i]);
            run[n++] = q->rx_backlog[i];
        }
        done = rx_deliver_all(q, run, n);
        for (size_t i = 0; i < done; i++) {
            q->rx_backlog_bytes -= sizes[i];
        }
        q->rx_backlog_head = (q->rx_backlog_head + done) % XVIF_RX_BACKLOG;
        q->rx_backlog_n -= done;
        if (done) {
            /* The stall clock measures time without progress only. */
            now = now ? now : time_msec();
            q->rx_backlog_since = now;
        }
        if (done < n) {
            break;
        }
    }
    if (q->rx_backlog_n
        && (now ? now : time_msec()) - q->rx_backlog_since
           > XVIF_RX_STALL_MS) {
        VLOG_WARN_RL(&rl, "%s: queue %u: guest RX stalled: dropping %u "
                     "queued packets", netdev_get_name(&q->dev->up), q->id,
                     q->rx_backlog_n);
        q->rx_stats.tx_no_buffer += q->rx_backlog_n;
        q->rx_stats.tx_dropped += q->rx_backlog_n;
        xvif_rx_destroy_backlog(q);
    }
    rx_backlog_set_count(q);
}

/* Sends the packets of 'batch' to the guest behind queue 'q' and frees
 * them. */
void
xvif_rx_send(struct xvif_queue *q, struct dp_packet_batch *batch)
{
    struct dp_packet *expanded[NETDEV_MAX_BURST * XVIF_MAX_GSO_SEGS];
    struct dp_packet **packets = batch->packets;
    size_t n = dp_packet_batch_size(batch), done = 0;
    size_t n_filtered = 0;
    bool fatal, stalled;

    atomic_read_explicit(&q->fatal, &fatal, memory_order_acquire);
    if (fatal) {
        q->rx_stats.tx_dropped += n;
        q->rx_stats.tx_not_connected += n;
        dp_packet_delete_batch(batch, true);
        return;
    }
    atomic_read_relaxed(&q->rx_stalled, &stalled);
    if (stalled) {
        ovs_mutex_lock(&q->rx_lock);
        if (q->rx.sring->req_prod != q->rx.req_cons) {
            rx_unstall(q);
            stalled = false;
        } else {
            q->rx_stats.tx_no_buffer += n;
            q->rx_stats.tx_dropped += n;
        }
        ovs_mutex_unlock(&q->rx_lock);
        if (stalled) {
            dp_packet_delete_batch(batch, true);
            return;
        }
    }

    {
        /* Multicast the guest did not subscribe to (multicast control). */
        size_t n_pass = 0;

        for (size_t i = 0; i < n; i++) {
            if (xvif_mcast_pass(q->dev, packets[i])) {
                packets[n_pass++] = packets[i];
            } else {
                dp_packet_delete(packets[i]);
                n_filtered++;
            }
        }
        n = n_pass;
    }

    if (userspace_tso_enabled()) {
        /* Offloads the guest cannot take are carried out here. */
        size_t n_exp = 0;

        for (size_t i = 0; i < n; i++) {
            struct dp_packet *packet = packets[i];

            if (rx_needs_software(q, packet)) {
                n_exp += rx_software_offload(q, packet, &expanded[n_exp]);
            } else {
                expanded[n_exp++] = packet;
            }
        }
        packets = expanded;
        n = n_exp;
    }

    ovs_mutex_lock(&q->rx_lock);
    q->rx_stats.tx_mcast_filtered += n_filtered;
    if (q->rx_backlog_n) {
        rx_flush__(q);
    }
    if (!q->rx_backlog_n) {
        done = rx_deliver_all(q, packets, n);
    }
    for (; done < n; done++) {
        size_t size = dp_packet_size(packets[done]);

        if (q->rx_backlog_n < XVIF_RX_BACKLOG
            && q->rx_backlog_bytes + size <= XVIF_RX_BACKLOG_BYTES) {
            if (!q->rx_backlog_n) {
                q->rx_backlog_since = time_msec();
            }
            q->rx_backlog[(q->rx_backlog_head + q->rx_backlog_n)
                          % XVIF_RX_BACKLOG] = packets[done];
            q->rx_backlog_n++;
            q->rx_backlog_bytes += size;
        } else {
            q->rx_stats.tx_no_buffer++;
            q->rx_stats.tx_dropped++;
            dp_packet_delete(packets[done]);
        }
    }
    rx_check_stall(q);
    rx_backlog_set_count(q);
    ovs_mutex_unlock(&q->rx_lock);
    dp_packet_batch_init(batch);
}

/* Sends the packets of 'batch' to the guest of 'dev', which is connected,
 * and frees them.  OVS chose transmit queue 'qid'; a guest that configured
 * receive-side scaling (xvif-hash.c) gets each packet it hashes on the
 * queue its mapping names instead, with the hash kept in the packet for
 * the hash extra. */
void
xvif_rx_send_dev(struct netdev_xvif *dev, int qid,
                 struct dp_packet_batch *batch)
{
    const struct xvif_hash_config *cfg = xvif_ctrl_hash_active(dev);
    struct dp_packet_batch per_queue[XVIF_MAX_QUEUES];
    unsigned int dflt = qid % dev->n_queues;
    struct dp_packet *packet;

    if (!cfg) {
        xvif_rx_send(&dev->queues[dflt], batch);
        return;
    }
    for (unsigned int i = 0; i < dev->n_queues; i++) {
        dp_packet_batch_init(&per_queue[i]);
    }
    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        unsigned int q = dflt;
        uint32_t hash;
        uint8_t htype;

        if (xvif_hash_packet(cfg, packet, &hash, &htype)) {
            dp_packet_set_rss_hash(packet, hash);
            q = xvif_hash_queue(cfg, hash, dev->n_queues);
        }
        dp_packet_batch_add(&per_queue[q], packet);
    }
    dp_packet_batch_init(batch);
    for (unsigned int i = 0; i < dev->n_queues; i++) {
        if (!dp_packet_batch_is_empty(&per_queue[i])) {
            xvif_rx_send(&dev->queues[i], &per_queue[i]);
        }
    }
}

/* Called by the queue's polling thread: delivers the backlog if there is
 * one and nobody else is sending right now.  Returns true if it made
 * progress (the guest had posted buffers for it). */
bool
xvif_rx_flush(struct xvif_queue *q)
{
    unsigned int n, left = 0;
    bool progress = false;
    bool stalled;

    atomic_read_relaxed(&q->rx_stalled, &stalled);
    if (stalled && q->rx.sring->req_prod != q->rx.req_cons
        && !ovs_mutex_trylock(&q->rx_lock)) {
        /* The guest posted buffers: it is back. */
        if (q->rx.sring->req_prod != q->rx.req_cons) {
            rx_unstall(q);
            progress = true;
        }
        ovs_mutex_unlock(&q->rx_lock);
    }
    atomic_read_relaxed(&q->rx_backlog_count, &n);
    if (n && !ovs_mutex_trylock(&q->rx_lock)) {
        rx_flush__(q);
        ovs_mutex_unlock(&q->rx_lock);
        atomic_read_relaxed(&q->rx_backlog_count, &left);
        progress |= left < n;
    }
    return progress;
}

/* Returns true if the backlog of 'q' has packets and the guest has posted
 * enough buffers for the first of them (a reason not to sleep).  Fewer is
 * no reason: delivery would make no progress, and a guest that keeps one
 * buffer posted would keep the polling thread spinning; rx_deliver() has
 * asked for a notification when there are enough. */
bool
xvif_rx_backlog_ready(struct xvif_queue *q)
{
    unsigned int n, need;

    atomic_read_relaxed(&q->rx_backlog_count, &n);
    if (!n) {
        return false;
    }
    atomic_read_relaxed(&q->rx_backlog_need, &need);
    return q->rx.sring->req_prod - q->rx.req_cons >= need;
}

/* Frees the backlog of 'q'.  The caller holds 'q->rx_lock' or owns 'q'
 * exclusively. */
void
xvif_rx_destroy_backlog(struct xvif_queue *q)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    while (q->rx_backlog_n) {
        dp_packet_delete(q->rx_backlog[q->rx_backlog_head]);
        q->rx_backlog_head = (q->rx_backlog_head + 1) % XVIF_RX_BACKLOG;
        q->rx_backlog_n--;
    }
    q->rx_backlog_head = 0;
    q->rx_backlog_bytes = 0;
}
