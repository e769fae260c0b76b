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

/* libFuzzer target: guest RX.  The input is an RX ring of buffers as a
 * hostile guest posts them (indices, claimed count, ids, grant references)
 * and a burst of packets of given sizes; the backend's xvif_rx_send()
 * (buffer allocation, batched grant copy, responses, backlog) runs over
 * it.  Checked: no memory error, every grant copy stays within its page,
 * responses never outnumber the buffers posted, each says a size within a
 * page or an error, and packets waiting in the backlog are bounded.
 *
 * Input: u32 ring start index, u16 buffers claimed, u8 features, u8 number
 * of packets (up to 32), u16 size per packet, then buffers of 8 bytes
 * (struct netif_rx_request) written from the start index on. */

#include <config.h>

#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { data, size };
    uint32_t start = fuzz_take(&in, 4);
    uint32_t n_reqs = fuzz_take(&in, 2);
    uint8_t flags = fuzz_take(&in, 1);
    unsigned int n_pkts = fuzz_take(&in, 1) % (NETDEV_MAX_BURST + 1);
    struct xvif_queue *q = fuzz_queue_create(flags);
    netif_rx_sring_t *s = q->rx_page;
    struct dp_packet_batch batch;

    dp_packet_batch_init(&batch);
    for (unsigned int i = 0; i < n_pkts; i++) {
        uint32_t len = fuzz_take(&in, 2);
        struct dp_packet *p = dp_packet_new(len);

        if (len) {
            memset(dp_packet_put_uninit(p, len), 0x5a, len);
        }
        dp_packet_batch_add(&batch, p);
    }

    SHARED_RING_INIT(s);
    s->req_prod = start + n_reqs;
    s->rsp_prod = start;
    BACK_RING_ATTACH(&q->rx, s, start, XVIF_PAGE_SIZE);
    for (RING_IDX i = start; in.n; i++) {
        size_t k = MIN(in.n, sizeof(netif_rx_request_t));

        memcpy(RING_GET_REQUEST(&q->rx, i), in.p, k);
        in.p += k;
        in.n -= k;
        if (i - start >= XVIF_RX_RING_SIZE) {
            break;
        }
    }

    xvif_rx_send(q, &batch);
    /* The guest posts nothing more; a flush must not invent buffers. */
    xvif_rx_flush(q);

    if (n_reqs <= XVIF_RX_RING_SIZE) {
        ovs_assert(q->rx.req_cons - start <= n_reqs);
        ovs_assert(q->rx.rsp_prod_pvt - start <= n_reqs);
    }
    ovs_assert(q->rx.rsp_prod_pvt - start <= XVIF_RX_RING_SIZE);
    for (RING_IDX i = start; i != q->rx.rsp_prod_pvt; i++) {
        const struct netif_rx_response *rsp = RING_GET_RESPONSE(&q->rx, i);

        ovs_assert(rsp->status < 0
                   || rsp->offset + rsp->status <= XVIF_PAGE_SIZE);
        if (rsp->flags & NETRXF_extra_info) {
            /* Followed by extra slots, chained by their MORE flag. */
            const struct netif_extra_info *ex;

            do {
                i++;
                if (i == q->rx.rsp_prod_pvt) {
                    break;
                }
                ex = (const void *) RING_GET_RESPONSE(&q->rx, i);
                ovs_assert(ex->type && ex->type <= XVIF_NETIF_EXTRA_TYPE_XDP);
            } while (ex->flags & XEN_NETIF_EXTRA_FLAG_MORE);
            if (i == q->rx.rsp_prod_pvt) {
                break;
            }
        }
    }
    ovs_assert(q->rx_backlog_n <= XVIF_RX_BACKLOG);
    fuzz_queue_destroy(q);
    return 0;
}
