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

/* libFuzzer target: guest TX.  The input is a TX ring as a hostile guest
 * leaves it -- where the indices stand, how many requests it claims, and
 * the raw request and extra-info slots -- and the backend's xvif_tx_recv()
 * (copy-out, chain parsing and validation, grant copy, responses,
 * checksum completion and TCP segmentation) runs over it until it stops.
 * Checked: no memory error (ASan/UBSan), every grant copy stays within its
 * page (fuzz-common.h), the backend answers exactly the requests it
 * consumed and never more than the guest posted.
 *
 * Input: u32 ring start index, u16 requests claimed (may exceed the ring),
 * u8 features, u8 event-driven, u8 guest page fill byte, then slots of 12
 * bytes (struct netif_tx_request) written from the start index on. */

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
    bool event = fuzz_take(&in, 1) & 1;
    struct xvif_queue *q = fuzz_queue_create(flags);
    netif_tx_sring_t *s = q->tx_page;
    bool fatal = false;

    memset(fuzz_guest_page, fuzz_take(&in, 1), sizeof fuzz_guest_page);
    if (in.n >= ETH_HEADER_LEN + 40) {
        /* Let the frame start with real-looking headers from the input. */
        memcpy(fuzz_guest_page, in.p, ETH_HEADER_LEN + 40);
    }

    SHARED_RING_INIT(s);
    s->req_prod = start + n_reqs;
    s->rsp_prod = start;
    BACK_RING_ATTACH(&q->tx, s, start, XVIF_PAGE_SIZE);
    for (RING_IDX i = start; in.n; i++) {
        size_t k = MIN(in.n, sizeof(netif_tx_request_t));

        memcpy(RING_GET_REQUEST(&q->tx, i), in.p, k);
        in.p += k;
        in.n -= k;
        if (i - start >= XVIF_TX_RING_SIZE) {
            break;
        }
    }

    for (int round = 0; round < 64 && !fatal; round++) {
        struct dp_packet_batch batch;
        int error;

        dp_packet_batch_init(&batch);
        error = xvif_tx_recv(q, &batch, event);
        dp_packet_delete_batch(&batch, true);
        atomic_read_relaxed(&q->fatal, &fatal);
        if (error && !q->tx_more) {
            break;
        }
    }

    /* One response per consumed request, none for requests never posted. */
    ovs_assert(q->tx.rsp_prod_pvt == q->tx.req_cons);
    ovs_assert(s->rsp_prod == q->tx.rsp_prod_pvt);
    if (n_reqs <= XVIF_TX_RING_SIZE) {
        ovs_assert(q->tx.req_cons - start <= n_reqs);
    }
    /* Multicast-control requests never grow the list past its bound. */
    ovs_assert(xvif_mcast_count(q->dev) <= XVIF_MCAST_MAX);
    fuzz_queue_destroy(q);
    return 0;
}
