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

/* Receive-side scaling for Xen guests: see xvif-hash.h.
 *
 * The control requests follow xen/io/netif.h; where it leaves a choice,
 * Linux's netback's answer (which the frontends were tested against):
 *
 *   SET_HASH_ALGORITHM      NONE or TOEPLITZ; anything else
 *                           INVALID_PARAMETER.
 *   GET_HASH_FLAGS          NOT_SUPPORTED until an algorithm is set, then
 *                           the four IPv4/IPv6 (+TCP) types.
 *   SET_HASH_FLAGS          INVALID_PARAMETER for unknown bits or without
 *                           an algorithm.
 *   SET_HASH_KEY            up to 40 bytes (more: BUFFER_OVERFLOW), read
 *                           from the start of the guest's grant; the rest
 *                           of the key is zero; 0 clears it.
 *   GET_HASH_MAPPING_SIZE   128.
 *   SET_HASH_MAPPING_SIZE   0..128 (more: INVALID_PARAMETER); the table
 *                           becomes all zeros (queue 0).
 *   SET_HASH_MAPPING        'len' entries at 'offset': more than 128
 *                           entries BUFFER_OVERFLOW, beyond the table's
 *                           size or naming a queue the guest does not have
 *                           INVALID_PARAMETER, and then nothing changes.
 *
 * Every request that changes something builds a new configuration and
 * publishes it whole: a sender never sees half a key or half a table. */

#include <config.h>

#include <string.h>

#include "xvif-hash.h"

/* Nothing here uses a ring, so <xen/io/ring.h>'s barriers are not needed. */
#include <xen/io/netif.h>

#include "dp-packet.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "packets.h"
#include "util.h"

BUILD_ASSERT_DECL(XVIF_HASH_TYPES_ALL
                  == (XEN_NETIF_CTRL_HASH_TYPE_IPV4
                      | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP
                      | XEN_NETIF_CTRL_HASH_TYPE_IPV6
                      | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP));

/* The grant page holds at most this many mapping entries. */
#define MAPPING_PER_PAGE (4096 / sizeof(uint32_t))
BUILD_ASSERT_DECL(XVIF_HASH_MAPPING_MAX <= MAPPING_PER_PAGE);

uint32_t
xvif_toeplitz(const uint8_t *key, size_t key_len,
              const uint8_t *data, size_t len)
{
    /* 'window' holds the 64 key bits starting at the current data bit:
     * its top 32 bits are the ones to fold in, the next 32 make sure the
     * following 8 shifts still have key bits to bring up. */
    uint64_t window = 0;
    size_t next = 0;            /* The next key byte to shift in. */
    uint32_t hash = 0;

    for (int i = 0; i < 8; i++) {
        window = (window << 8) | (next < key_len ? key[next] : 0);
        next++;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t byte = data[i];

        for (int bit = 7; bit >= 0; bit--) {
            if (byte & (1u << bit)) {
                hash ^= window >> 32;
            }
            window <<= 1;
        }
        window |= next < key_len ? key[next] : 0;
        next++;
    }
    return hash;
}

void
xvif_hash_init(struct xvif_hash *h, unsigned int n_queues)
{
    memset(h, 0, sizeof *h);
    h->n_queues = n_queues;
    ovsrcu_set_hidden(&h->cfg, xzalloc(sizeof(struct xvif_hash_config)));
}

void
xvif_hash_destroy(struct xvif_hash *h)
{
    if (h) {
        ovsrcu_postpone(free, ovsrcu_get_protected(struct xvif_hash_config *,
                                                   &h->cfg));
        ovsrcu_set_hidden(&h->cfg, NULL);
    }
}

bool
xvif_hash_is_ctrl_type(uint16_t type)
{
    switch (type) {
    case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
    case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
    case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY:
    case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING:
    case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
        return true;
    default:
        return false;
    }
}

uint32_t
xvif_hash_ctrl(struct xvif_hash *h, const struct xen_netif_ctrl_request *req,
               xvif_hash_copy_func *copy, void *aux, uint32_t *data)
{
    const struct xvif_hash_config *cur
        = ovsrcu_get_protected(struct xvif_hash_config *, &h->cfg);
    struct xvif_hash_config *new;

    *data = 0;
    switch (req->type) {
    case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
        if (cur->algorithm == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE) {
            return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
        }
        *data = XVIF_HASH_TYPES_ALL;
        return XEN_NETIF_CTRL_STATUS_SUCCESS;

    case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
        *data = XVIF_HASH_MAPPING_MAX;
        return XEN_NETIF_CTRL_STATUS_SUCCESS;

    case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
        if (req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE
            && req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ) {
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        }
        new = xmemdup(cur, sizeof *cur);
        new->algorithm = req->data[0];
        break;

    case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
        if (req->data[0] & ~XVIF_HASH_TYPES_ALL
            || cur->algorithm == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE) {
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        }
        new = xmemdup(cur, sizeof *cur);
        new->flags = req->data[0];
        break;

    case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY: {
        uint8_t key[XVIF_HASH_KEY_MAX];
        uint32_t len = req->data[1];

        if (len > XVIF_HASH_KEY_MAX) {
            return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
        }
        memset(key, 0, sizeof key);
        if (len && !copy(aux, req->data[0], key, len)) {
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        }
        new = xmemdup(cur, sizeof *cur);
        memcpy(new->key, key, sizeof key);
        new->key_len = len;
        break;
    }

    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
        if (req->data[0] > XVIF_HASH_MAPPING_MAX) {
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        }
        new = xmemdup(cur, sizeof *cur);
        new->mapping_size = req->data[0];
        memset(new->mapping, 0, sizeof new->mapping);
        break;

    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING: {
        uint32_t mapping[XVIF_HASH_MAPPING_MAX];
        uint32_t len = req->data[1];
        uint64_t ofs = req->data[2];

        if (len > XVIF_HASH_MAPPING_MAX) {
            return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
        }
        if (ofs + len > cur->mapping_size) {
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        }
        if (!len) {
            return XEN_NETIF_CTRL_STATUS_SUCCESS;
        }
        if (!copy(aux, req->data[0], mapping, len * sizeof *mapping)) {
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        }
        /* The copy is ours now: the guest cannot change an entry after it
         * was checked. */
        for (uint32_t i = 0; i < len; i++) {
            if (mapping[i] >= h->n_queues) {
                return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            }
        }
        new = xmemdup(cur, sizeof *cur);
        memcpy(&new->mapping[ofs], mapping, len * sizeof *mapping);
        break;
    }

    default:
        return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
    }

    ovsrcu_set(&h->cfg, new);
    ovsrcu_postpone(free, CONST_CAST(struct xvif_hash_config *, cur));
    h->n_changes++;
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

const struct xvif_hash_config *
xvif_hash_active(const struct xvif_hash *h)
{
    const struct xvif_hash_config *cfg;

    if (!h) {
        return NULL;
    }
    cfg = ovsrcu_get(struct xvif_hash_config *, &h->cfg);
    return (cfg && cfg->algorithm == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ
            && cfg->flags ? cfg : NULL);
}

/* Finds the fields of 'packet' that 'cfg' hashes: stores them in 'buf'
 * (at most 36 bytes), their length in '*n' and their hash type in
 * '*htype'.  Returns false if 'cfg' hashes no field of 'packet'. */
static bool
hash_input(const struct xvif_hash_config *cfg, const struct dp_packet *packet,
           uint8_t buf[36], size_t *n, uint8_t *htype)
{
    const uint8_t *p = dp_packet_data(packet);
    size_t len = dp_packet_size(packet);

    if (len < ETH_HEADER_LEN) {
        return false;
    }
    /* Untagged IPv4 and IPv6 only, as Linux's netback (a tagged frame's
     * protocol is 802.1Q). */
    if (p[12] == 0x08 && p[13] == 0x00
        && cfg->flags & (XEN_NETIF_CTRL_HASH_TYPE_IPV4
                         | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP)) {
        const uint8_t *ip = p + ETH_HEADER_LEN;
        size_t ip_len = len - ETH_HEADER_LEN;
        size_t ihl;
        bool frag;

        if (ip_len < IP_HEADER_LEN || (ip[0] >> 4) != 4) {
            return false;
        }
        ihl = (ip[0] & 0xf) * 4;
        if (ihl < IP_HEADER_LEN || ihl > ip_len) {
            return false;
        }
        frag = ((ip[6] << 8) | ip[7]) & 0x3fff;
        memcpy(buf, ip + 12, 8);
        if (ip[9] == IPPROTO_TCP && !frag && ip_len >= ihl + 4
            && cfg->flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP) {
            memcpy(buf + 8, ip + ihl, 4);
            *n = 12;
            *htype = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
        } else if (cfg->flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4) {
            *n = 8;
            *htype = _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
        } else {
            return false;
        }
    } else if (p[12] == 0x86 && p[13] == 0xdd
               && cfg->flags & (XEN_NETIF_CTRL_HASH_TYPE_IPV6
                                | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)) {
        const uint8_t *ip = p + ETH_HEADER_LEN;
        size_t ip_len = len - ETH_HEADER_LEN;

        if (ip_len < IPV6_HEADER_LEN || (ip[0] >> 4) != 6) {
            return false;
        }
        memcpy(buf, ip + 8, 32);
        /* Only a TCP header right after the fixed header: with extension
         * headers the addresses alone. */
        if (ip[6] == IPPROTO_TCP && ip_len >= IPV6_HEADER_LEN + 4
            && cfg->flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP) {
            memcpy(buf + 32, ip + IPV6_HEADER_LEN, 4);
            *n = 36;
            *htype = _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
        } else if (cfg->flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6) {
            *n = 32;
            *htype = _XEN_NETIF_CTRL_HASH_TYPE_IPV6;
        } else {
            return false;
        }
    } else {
        return false;
    }
    return true;
}

bool
xvif_hash_packet(const struct xvif_hash_config *cfg,
                 const struct dp_packet *packet,
                 uint32_t *hash, uint8_t *htype)
{
    uint8_t buf[36];
    size_t n;

    if (!hash_input(cfg, packet, buf, &n, htype)) {
        return false;
    }
    *hash = xvif_toeplitz(cfg->key, sizeof cfg->key, buf, n);
    return true;
}

bool
xvif_hash_packet_type(const struct xvif_hash_config *cfg,
                      const struct dp_packet *packet, uint8_t *htype)
{
    uint8_t buf[36];
    size_t n;

    return hash_input(cfg, packet, buf, &n, htype);
}

unsigned int
xvif_hash_queue(const struct xvif_hash_config *cfg, uint32_t hash,
                unsigned int n_queues)
{
    unsigned int q;

    if (!n_queues) {
        return 0;
    }
    q = (cfg->mapping_size
         ? cfg->mapping[hash % cfg->mapping_size]
         : hash % n_queues);
    /* The entries were checked against the connection's queues; this only
     * guards against a caller with another count. */
    return q < n_queues ? q : 0;
}

static void
put_types(struct ds *ds, uint32_t flags)
{
    static const char *const names[] = {
        [_XEN_NETIF_CTRL_HASH_TYPE_IPV4] = "ipv4",
        [_XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP] = "ipv4-tcp",
        [_XEN_NETIF_CTRL_HASH_TYPE_IPV6] = "ipv6",
        [_XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP] = "ipv6-tcp",
    };
    bool first = true;

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (flags & (1u << i)) {
            ds_put_format(ds, "%s%s", first ? "" : ",", names[i]);
            first = false;
        }
    }
    if (first) {
        ds_put_cstr(ds, "none");
    }
}

void
xvif_hash_describe(const struct xvif_hash *h, struct ds *ds)
{
    const struct xvif_hash_config *cfg
        = h ? ovsrcu_get(struct xvif_hash_config *, &h->cfg) : NULL;

    if (!cfg || cfg->algorithm != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ) {
        ds_put_cstr(ds, "off");
        return;
    }
    ds_put_cstr(ds, "toeplitz ");
    put_types(ds, cfg->flags);
    ds_put_format(ds, " key %"PRIu32" mapping %"PRIu32, cfg->key_len,
                  cfg->mapping_size);
}

struct json *
xvif_hash_to_json(const struct xvif_hash *h)
{
    const struct xvif_hash_config *cfg
        = h ? ovsrcu_get(struct xvif_hash_config *, &h->cfg) : NULL;
    struct json *json, *mapping;
    struct ds ds = DS_EMPTY_INITIALIZER;

    if (!cfg) {
        return json_null_create();
    }
    json = json_object_create();
    json_object_put_string(json, "algorithm",
                           cfg->algorithm
                           == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ
                           ? "toeplitz" : "none");
    put_types(&ds, cfg->flags);
    json_object_put_string(json, "types", ds_cstr(&ds));
    ds_destroy(&ds);
    json_object_put(json, "key_len", json_integer_create(cfg->key_len));
    json_object_put(json, "changes", json_integer_create(h->n_changes));
    mapping = json_array_create_empty();
    for (uint32_t i = 0; i < cfg->mapping_size; i++) {
        json_array_add(mapping, json_integer_create(cfg->mapping[i]));
    }
    json_object_put(json, "mapping", mapping);
    return json;
}
