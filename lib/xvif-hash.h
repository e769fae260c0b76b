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

#ifndef XVIF_HASH_H
#define XVIF_HASH_H 1

/* Receive-side scaling for Xen guests: the Toeplitz hash and the hash
 * configuration a frontend sets over the control ring (xen/io/netif.h,
 * "Hash types", "Hash algorithms", XEN_NETIF_CTRL_TYPE_*_HASH_*).
 *
 * A guest (Windows' xenvif does this for NDIS RSS) selects the Toeplitz
 * algorithm, the packet types to hash, a key and a table mapping hash
 * values to its queues; for each packet to the guest xvif then computes the
 * hash, steers the packet to the queue the table names and hands the value
 * to the guest in an XEN_NETIF_EXTRA_TYPE_HASH extra.
 *
 * The configuration is one immutable struct xvif_hash_config published
 * under RCU: the main thread (which serves the control ring) replaces it
 * whole, the senders read it without locks.  Nothing here touches guest
 * memory: the control-ring code passes a function that copies from a
 * grant. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ovs-rcu.h"

struct dp_packet;
struct ds;
struct json;
struct xen_netif_ctrl_request;

/* Linux's netback's limits, which frontends are written against. */
#define XVIF_HASH_KEY_MAX 40
#define XVIF_HASH_MAPPING_MAX 128

/* The hash types xvif computes (all four netif.h defines). */
#define XVIF_HASH_TYPES_ALL 0xf

/* The Toeplitz hash of the 'len' bytes at 'data' with the 'key_len'-byte
 * key 'key' (missing key bytes count as zeros), as netif.h defines it. */
uint32_t xvif_toeplitz(const uint8_t *key, size_t key_len,
                       const uint8_t *data, size_t len);

/* A guest's hash configuration.  Immutable once published. */
struct xvif_hash_config {
    uint32_t algorithm;         /* XEN_NETIF_CTRL_HASH_ALGORITHM_*. */
    uint32_t flags;             /* XEN_NETIF_CTRL_HASH_TYPE_* bits. */
    uint32_t key_len;           /* As the guest set it (0..40). */
    uint8_t key[XVIF_HASH_KEY_MAX];     /* Zero beyond 'key_len'. */
    uint32_t mapping_size;      /* 0: hash modulo the number of queues. */
    uint32_t mapping[XVIF_HASH_MAPPING_MAX];
};

/* One connection's hash state. */
struct xvif_hash {
    OVSRCU_TYPE(struct xvif_hash_config *) cfg;
    unsigned int n_queues;      /* The connection's, fixed. */
    uint64_t n_changes;         /* Successful SET requests. */
};

/* Copies 'len' bytes from the start of the guest's grant 'ref' to 'dst'.
 * Returns true if successful. */
typedef bool xvif_hash_copy_func(void *aux, uint32_t ref, void *dst,
                                 size_t len);

void xvif_hash_init(struct xvif_hash *, unsigned int n_queues);
void xvif_hash_destroy(struct xvif_hash *);

/* Serves one hash control request ('req->type' is one of the
 * XEN_NETIF_CTRL_TYPE_*_HASH_* types).  Returns an
 * XEN_NETIF_CTRL_STATUS_* and stores the response's data in '*data'. */
uint32_t xvif_hash_ctrl(struct xvif_hash *,
                        const struct xen_netif_ctrl_request *,
                        xvif_hash_copy_func *, void *aux, uint32_t *data);
bool xvif_hash_is_ctrl_type(uint16_t type);

/* The configuration in force if it hashes anything (Toeplitz with some
 * flags), otherwise NULL.  Any thread, under RCU. */
const struct xvif_hash_config *xvif_hash_active(const struct xvif_hash *);

/* Hashes 'packet' as 'cfg' says: returns true and stores the value in
 * '*hash' and the _XEN_NETIF_CTRL_HASH_TYPE_* number of the fields used in
 * '*htype' if the packet is of a type 'cfg' selects; false otherwise. */
bool xvif_hash_packet(const struct xvif_hash_config *,
                      const struct dp_packet *,
                      uint32_t *hash, uint8_t *htype);

/* Like xvif_hash_packet() without computing the hash. */
bool xvif_hash_packet_type(const struct xvif_hash_config *,
                           const struct dp_packet *, uint8_t *htype);

/* Returns the queue that 'cfg' maps 'hash' to, out of 'n_queues'. */
unsigned int xvif_hash_queue(const struct xvif_hash_config *, uint32_t hash,
                             unsigned int n_queues);

/* "toeplitz ipv4,ipv4-tcp key 40 mapping 128" or "off". */
void xvif_hash_describe(const struct xvif_hash *, struct ds *);
struct json *xvif_hash_to_json(const struct xvif_hash *);

#endif /* xvif-hash.h */
