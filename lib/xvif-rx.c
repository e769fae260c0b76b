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
 * For each batch: every packet takes as many posted buffers as it needs (one
 * page each; more than one only when the guest has feature-sg), its data is
 * copied into them with one batched grant copy for the whole batch, and one
 * response per buffer tells the guest where the data is (NETRXF_more_data
 * chains the buffers of one packet).  A packet for which the guest has not
 * posted enough buffers is dropped and counted: a guest that does not read
 * never holds up the switch or other guests. */

#include <config.h>

#include <errno.h>
#include <string.h>

#include "dp-packet.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "xvif-private.h"

VLOG_DEFINE_THIS_MODULE(xvif_rx);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* The largest packet a guest can receive: 18 pages with feature-sg. */
#define RX_MAX_SLOTS XVIF_MAX_SLOTS

/* One packet on its way to the guest. */
struct rx_pkt {
    unsigned int first_seg;     /* Its segments in the queue's scratch. */
    unsigned int n_segs;
    uint16_t ids[RX_MAX_SLOTS];         /* Ids of the buffers it took. */
    uint16_t lens[RX_MAX_SLOTS];        /* Bytes in each. */
};

/* Sends the packets of 'batch' to the guest behind queue 'q' and frees them.
 * The caller holds 'q->rx_lock' if sends may be concurrent. */
void
xvif_rx_send(struct xvif_queue *q, struct dp_packet_batch *batch)
{
    netif_rx_back_ring_t *rx = &q->rx;
    const struct xvif_frontend *fe = &q->dev->active;
    struct rx_pkt pkts[NETDEV_MAX_BURST];
    unsigned int n_pkts = 0, n_segs = 0;
    struct dp_packet *packet;
    bool fatal, notify;
    RING_IDX rp;

    atomic_read_explicit(&q->fatal, &fatal, memory_order_acquire);
    if (fatal) {
        q->rx_stats.tx_dropped += dp_packet_batch_size(batch);
        q->rx_stats.tx_not_connected += dp_packet_batch_size(batch);
        dp_packet_delete_batch(batch, true);
        return;
    }

    rp = rx->sring->req_prod;
    xen_rmb();
    if (RING_REQUEST_PROD_OVERFLOW(rx, rp)) {
        xvif_tx_fatal(q, "impossible number of RX requests");
        q->rx_stats.tx_dropped += dp_packet_batch_size(batch);
        dp_packet_delete_batch(batch, true);
        return;
    }

    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        uint32_t size = dp_packet_size(packet);
        const char *data = dp_packet_data(packet);
        unsigned int needed = DIV_ROUND_UP(size, XVIF_PAGE_SIZE);
        struct rx_pkt *pkt;
        uint32_t pos = 0;

        if (!size || (needed > 1 && !fe->sg) || needed > RX_MAX_SLOTS) {
            q->rx_stats.tx_too_big++;
            q->rx_stats.tx_dropped++;
            continue;
        }
        if (rp - rx->req_cons < needed) {
            /* Ask for a notification when the guest posts enough buffers,
             * as Linux does; the packet is dropped meanwhile. */
            rx->sring->req_event = rx->req_cons + needed;
            q->rx_stats.tx_no_buffer++;
            q->rx_stats.tx_dropped++;
            continue;
        }

        pkt = &pkts[n_pkts++];
        pkt->first_seg = n_segs;
        pkt->n_segs = needed;
        for (unsigned int j = 0; j < needed; j++) {
            xengnttab_grant_copy_segment_t *seg = &q->rx_segs[n_segs++];
            struct netif_rx_request req;
            uint16_t len = MIN(size - pos, XVIF_PAGE_SIZE);

            RING_COPY_REQUEST(rx, rx->req_cons, &req);
            rx->req_cons++;
            pkt->ids[j] = req.id;
            pkt->lens[j] = len;

            seg->source.virt = CONST_CAST(char *, data + pos);
            seg->dest.foreign.ref = req.gref;
            seg->dest.foreign.offset = 0;
            seg->dest.foreign.domid = q->domid;
            seg->len = len;
            seg->flags = GNTCOPY_dest_gref;
            seg->status = GNTST_general_error;
            pos += len;
        }
    }

    if (n_segs) {
        int error = xvif_gnt_copy(q->gnt, n_segs, q->rx_segs);

        q->rx_stats.gnt_copy_calls++;
        q->rx_stats.gnt_copy_segs += n_segs;
        if (error) {
            VLOG_WARN_RL(&rl, "%s: grant copy failed (%s)",
                         netdev_get_name(&q->dev->up), ovs_strerror(error));
            for (unsigned int i = 0; i < n_segs; i++) {
                q->rx_segs[i].status = GNTST_general_error;
            }
        }
    }

    for (unsigned int i = 0; i < n_pkts; i++) {
        const struct rx_pkt *pkt = &pkts[i];
        bool ok = true;
        uint32_t bytes = 0;

        for (unsigned int j = 0; j < pkt->n_segs; j++) {
            if (q->rx_segs[pkt->first_seg + j].status != GNTST_okay) {
                ok = false;
            }
            bytes += pkt->lens[j];
        }
        for (unsigned int j = 0; j < pkt->n_segs; j++) {
            struct netif_rx_response *rsp;

            rsp = RING_GET_RESPONSE(rx, rx->rsp_prod_pvt);
            rx->rsp_prod_pvt++;
            rsp->id = pkt->ids[j];
            rsp->offset = 0;
            rsp->flags = j + 1 < pkt->n_segs ? NETRXF_more_data : 0;
            rsp->status = ok ? pkt->lens[j] : NETIF_RSP_ERROR;
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
    }
    if (n_pkts) {
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(rx, notify);
        if (notify) {
            xvif_queue_notify(q, q->rx_port, &q->rx_stats);
        }
    }
    dp_packet_delete_batch(batch, true);
}
