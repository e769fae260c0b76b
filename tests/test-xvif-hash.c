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

/* Test driver for lib/xvif-hash.c.
 *
 * Usage: test-xvif-hash [vectors|packets|ctrl]
 *
 *   vectors  the Toeplitz hash against Microsoft's published RSS
 *            verification suite ("Verifying the RSS Hash Calculation":
 *            its key, five IPv4 and three IPv6 flows, each hashed over the
 *            addresses alone and over addresses and ports).
 *   packets  the same flows as Ethernet frames through xvif_hash_packet():
 *            which fields each configuration selects, and what it leaves
 *            alone (fragments, VLAN tags, other protocols, short frames).
 *   ctrl     the control requests: every status netif.h defines, every
 *            bound (key length, mapping size, offsets, queue numbers, a
 *            failing grant copy), and that a refused request changes
 *            nothing. */

#include <config.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/netif.h>

#include "dp-packet.h"
#include "ovs-rcu.h"
#include "util.h"
#include "xvif-hash.h"

#define CHECK(COND)                                                     \
    do {                                                                \
        n_checks++;                                                     \
        if (!(COND)) {                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,      \
                    __LINE__, #COND);                                   \
            exit(1);                                                    \
        }                                                               \
    } while (0)

static unsigned int n_checks;

/* Microsoft's verification key. */
static const uint8_t ms_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
    0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
    0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* The suite's flows: source and destination, and the expected hashes over
 * the addresses and over addresses and ports. */
struct vector {
    const char *src, *dst;
    uint16_t sport, dport;
    uint32_t l3, l4;
};

static const struct vector v4[] = {
    { "66.9.149.187", "161.142.100.80", 2794, 1766,
      0x323e8fc2, 0x51ccc178 },
    { "199.92.111.2", "65.69.140.83", 14230, 4739,
      0xd718262a, 0xc626b0ea },
    { "24.19.198.95", "12.22.207.184", 12898, 38024,
      0xd2d0a5de, 0x5c2b394a },
    { "38.27.205.30", "209.142.163.6", 48228, 2217,
      0x82989176, 0xafc7327f },
    { "153.39.163.191", "202.188.127.2", 44251, 1303,
      0x5d1809c5, 0x10e828a2 },
};

static const struct vector v6[] = {
    { "3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 2794, 1766,
      0x2cc18cd5, 0x40207d3d },
    { "3ffe:501:8::260:97ff:fe40:efab", "ff02::1", 14230, 4739,
      0x0f0c461c, 0xdde51bbf },
    { "3ffe:1900:4545:3:200:f8ff:fe21:67cf", "fe80::200:f8ff:fe21:67cf",
      44251, 38024, 0x4b61e985, 0x02d1feef },
};

/* Writes the hash input of 'v' (addresses, then ports if 'ports') to
 * 'buf' and returns its length. */
static size_t
vector_input(const struct vector *v, bool ipv6, bool ports, uint8_t *buf)
{
    size_t alen = ipv6 ? 16 : 4;
    int af = ipv6 ? AF_INET6 : AF_INET;
    size_t n = 2 * alen;

    CHECK(inet_pton(af, v->src, buf) == 1);
    CHECK(inet_pton(af, v->dst, buf + alen) == 1);
    if (ports) {
        buf[n++] = v->sport >> 8;
        buf[n++] = v->sport;
        buf[n++] = v->dport >> 8;
        buf[n++] = v->dport;
    }
    return n;
}

static void
test_vectors(void)
{
    unsigned int n = 0;

    for (int ipv6 = 0; ipv6 < 2; ipv6++) {
        const struct vector *vs = ipv6 ? v6 : v4;
        size_t nv = ipv6 ? ARRAY_SIZE(v6) : ARRAY_SIZE(v4);

        for (size_t i = 0; i < nv; i++) {
            for (int ports = 0; ports < 2; ports++) {
                uint8_t buf[36];
                size_t len = vector_input(&vs[i], ipv6, ports, buf);
                uint32_t want = ports ? vs[i].l4 : vs[i].l3;
                uint32_t got = xvif_toeplitz(ms_key, sizeof ms_key, buf,
                                             len);

                if (got != want) {
                    fprintf(stderr, "%s %s -> %s%s: 0x%08"PRIx32", "
                            "expected 0x%08"PRIx32"\n",
                            ipv6 ? "IPv6" : "IPv4", vs[i].src, vs[i].dst,
                            ports ? " with ports" : "", got, want);
                    exit(1);
                }
                n++;
            }
        }
    }

    /* A key shorter than the input is padded with zeros; an empty key
     * hashes everything to 0. */
    {
        uint8_t buf[12], key[40];
        size_t len = vector_input(&v4[0], false, true, buf);

        memset(key, 0, sizeof key);
        memcpy(key, ms_key, 16);
        CHECK(xvif_toeplitz(ms_key, 16, buf, len)
              == xvif_toeplitz(key, sizeof key, buf, len));
        CHECK(xvif_toeplitz(NULL, 0, buf, len) == 0);
        n += 2;
    }
    printf("vectors: %u cases passed\n", n);
}

/* Builds an Ethernet frame of flow 'v' into 'p': TCP when 'proto' is
 * IPPROTO_TCP, else that protocol with 8 bytes of header. */
static void
build_frame(struct dp_packet *p, const struct vector *v, bool ipv6,
            uint8_t proto, bool fragment, bool vlan)
{
    uint8_t frame[128];
    size_t n = 0;

    memset(frame, 0, sizeof frame);
    memcpy(frame, "\x00\x16\x3e\x00\x00\x02\x00\x16\x3e\x00\x00\x01", 12);
    n = 12;
    if (vlan) {
        frame[n++] = 0x81;
        frame[n++] = 0x00;
        frame[n++] = 0x00;
        frame[n++] = 0x05;
    }
    if (!ipv6) {
        uint8_t *ip;

        frame[n++] = 0x08;
        frame[n++] = 0x00;
        ip = frame + n;
        ip[0] = 0x45;
        ip[3] = 20 + 20;
        if (fragment) {
            ip[6] = 0x20;       /* More fragments. */
        }
        ip[8] = 64;
        ip[9] = proto;
        CHECK(inet_pton(AF_INET, v->src, ip + 12) == 1);
        CHECK(inet_pton(AF_INET, v->dst, ip + 16) == 1);
        n += 20;
    } else {
        uint8_t *ip;

        frame[n++] = 0x86;
        frame[n++] = 0xdd;
        ip = frame + n;
        ip[0] = 0x60;
        ip[5] = 20;
        ip[6] = proto;
        ip[7] = 64;
        CHECK(inet_pton(AF_INET6, v->src, ip + 8) == 1);
        CHECK(inet_pton(AF_INET6, v->dst, ip + 24) == 1);
        n += 40;
    }
    frame[n] = v->sport >> 8;
    frame[n + 1] = v->sport;
    frame[n + 2] = v->dport >> 8;
    frame[n + 3] = v->dport;
    n += 20;
    dp_packet_clear(p);
    dp_packet_put(p, frame, n);
}

static void
test_packets(void)
{
    struct xvif_hash_config cfg;
    struct dp_packet *p = dp_packet_new(256);
    unsigned int n = 0;

    memset(&cfg, 0, sizeof cfg);
    cfg.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
    memcpy(cfg.key, ms_key, sizeof ms_key);
    cfg.key_len = sizeof ms_key;

    for (uint32_t flags = 0; flags <= XVIF_HASH_TYPES_ALL; flags++) {
        cfg.flags = flags;
        for (int ipv6 = 0; ipv6 < 2; ipv6++) {
            const struct vector *vs = ipv6 ? v6 : v4;
            size_t nv = ipv6 ? ARRAY_SIZE(v6) : ARRAY_SIZE(v4);
            uint32_t l3 = (ipv6 ? XEN_NETIF_CTRL_HASH_TYPE_IPV6
                                : XEN_NETIF_CTRL_HASH_TYPE_IPV4);
            uint32_t l4 = (ipv6 ? XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP
                                : XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);

            for (size_t i = 0; i < nv; i++) {
                for (int kind = 0; kind < 5; kind++) {
                    /* 0 TCP, 1 UDP, 2 TCP fragment (IPv4), 3 TCP tagged,
                     * 4 TCP truncated after the IP header. */
                    uint8_t proto = kind == 1 ? IPPROTO_UDP : IPPROTO_TCP;
                    bool ok, want_ok;
                    uint32_t hash = 0, want_hash = 0;
                    uint8_t htype = 0xff, want_htype = 0xff;

                    if (kind == 2 && ipv6) {
                        continue;
                    }
                    build_frame(p, &vs[i], ipv6, proto, kind == 2,
                                kind == 3);
                    if (kind == 4) {
                        dp_packet_set_size(p, 14 + (ipv6 ? 40 : 20) + 2);
                    }
                    ok = xvif_hash_packet(&cfg, p, &hash, &htype);

                    if (kind == 3) {
                        want_ok = false;
                    } else if (kind == 0 && flags & l4) {
                        want_ok = true;
                        want_hash = vs[i].l4;
                        want_htype = (ipv6 ? _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP
                                      : _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
                    } else if (flags & l3) {
                        want_ok = true;
                        want_hash = vs[i].l3;
                        want_htype = (ipv6 ? _XEN_NETIF_CTRL_HASH_TYPE_IPV6
                                      : _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
                    } else {
                        want_ok = false;
                    }
                    if (ok != want_ok || (ok && (hash != want_hash
                                                 || htype != want_htype))) {
                        fprintf(stderr, "flags %#"PRIx32" %s %s kind %d: "
                                "ok %d hash 0x%08"PRIx32" type %u, "
                                "expected ok %d hash 0x%08"PRIx32" type "
                                "%u\n", flags, ipv6 ? "IPv6" : "IPv4",
                                vs[i].src, kind, ok, hash, htype, want_ok,
                                want_hash, want_htype);
                        exit(1);
                    }
                    n++;
                }
            }
        }
    }

    /* Frames that are not IP, or too short to be, are never hashed. */
    cfg.flags = XVIF_HASH_TYPES_ALL;
    for (size_t len = 0; len < 14 + 20; len++) {
        uint32_t hash;
        uint8_t htype;

        build_frame(p, &v4[0], false, IPPROTO_TCP, false, false);
        dp_packet_set_size(p, len);
        CHECK(!xvif_hash_packet(&cfg, p, &hash, &htype));
        n++;
    }
    build_frame(p, &v4[0], false, IPPROTO_TCP, false, false);
    ((uint8_t *) dp_packet_data(p))[12] = 0x08;
    ((uint8_t *) dp_packet_data(p))[13] = 0x06;     /* ARP. */
    {
        uint32_t hash;
        uint8_t htype;

        CHECK(!xvif_hash_packet(&cfg, p, &hash, &htype));
        n++;
        /* A bad IHL. */
        build_frame(p, &v4[0], false, IPPROTO_TCP, false, false);
        ((uint8_t *) dp_packet_data(p))[14] = 0x4f;
        CHECK(!xvif_hash_packet(&cfg, p, &hash, &htype));
        ((uint8_t *) dp_packet_data(p))[14] = 0x44;
        CHECK(!xvif_hash_packet(&cfg, p, &hash, &htype));
        n += 2;
    }

    /* Queue selection: modulo without a table, through it with one. */
    cfg.mapping_size = 0;
    CHECK(xvif_hash_queue(&cfg, 13, 4) == 1);
    CHECK(xvif_hash_queue(&cfg, 13, 0) == 0);
    cfg.mapping_size = 8;
    for (int i = 0; i < 8; i++) {
        cfg.mapping[i] = 7 - i;
    }
    CHECK(xvif_hash_queue(&cfg, 13, 8) == 2);
    CHECK(xvif_hash_queue(&cfg, 8, 8) == 7);
    CHECK(xvif_hash_queue(&cfg, 8, 4) == 0);    /* Beyond the queues. */
    n += 5;

    dp_packet_delete(p);
    printf("packets: %u cases passed\n", n);
}

/* The fake guest: grant 7 holds 'guest_page'; every other grant fails. */
static uint32_t guest_page_words[1024];
static uint8_t *const guest_page = (uint8_t *) guest_page_words;

static bool
fake_copy(void *aux, uint32_t ref, void *dst, size_t len)
{
    unsigned int *n_copies = aux;

    (*n_copies)++;
    if (ref != 7 || len > sizeof guest_page_words) {
        return false;
    }
    memcpy(dst, guest_page, len);
    return true;
}

static uint32_t
req(struct xvif_hash *h, uint16_t type, uint32_t d0, uint32_t d1,
    uint32_t d2, uint32_t *data)
{
    struct xen_netif_ctrl_request r = {
        .id = 1, .type = type, .data = { d0, d1, d2 },
    };
    unsigned int n_copies = 0;

    CHECK(xvif_hash_is_ctrl_type(type));
    return xvif_hash_ctrl(h, &r, fake_copy, &n_copies, data);
}

static const struct xvif_hash_config *
cfg_of(const struct xvif_hash *h)
{
    return ovsrcu_get(struct xvif_hash_config *, &h->cfg);
}

static void
test_ctrl(void)
{
    struct xvif_hash_config before;
    struct xvif_hash h;
    uint32_t data;
    uint32_t *entries = guest_page_words;

    xvif_hash_init(&h, 4);
    CHECK(!xvif_hash_active(&h));

    /* Without an algorithm: no flags. */
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 1, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 2, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 1, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS && data == XVIF_HASH_TYPES_ALL);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0x10, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    CHECK(!xvif_hash_active(&h));       /* No flags yet. */
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0xf, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);
    CHECK(xvif_hash_active(&h));

    /* Keys: up to 40 bytes from the grant; more is an overflow; a bad
     * grant is refused; 0 clears. */
    memcpy(guest_page, ms_key, sizeof ms_key);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 7, 41, 0, &data)
          == XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 7, UINT32_MAX, 0, &data)
          == XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 8, 40, 0, &data)
          == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    CHECK(cfg_of(&h)->key_len == 0);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 7, 40, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);
    CHECK(!memcmp(cfg_of(&h)->key, ms_key, 40));
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 7, 10, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);
    CHECK(!memcmp(cfg_of(&h)->key, ms_key, 10) && !cfg_of(&h)->key[10]
          && cfg_of(&h)->key_len == 10);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 99, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);
    CHECK(!cfg_of(&h)->key[0] && !cfg_of(&h)->key_len);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 7, 40, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);

    /* Mapping size. */
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS
          && data == XVIF_HASH_MAPPING_MAX);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 129, 0, 0,
              &data) == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, UINT32_MAX, 0,
              0, &data) == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 128, 0, 0,
              &data) == XEN_NETIF_CTRL_STATUS_SUCCESS);
    CHECK(cfg_of(&h)->mapping_size == 128);

    /* Mapping: entries are queue numbers below 4. */
    for (int i = 0; i < 128; i++) {
        entries[i] = i % 4;
    }
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 7, 128, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);
    CHECK(cfg_of(&h)->mapping[5] == 1 && cfg_of(&h)->mapping[127] == 3);
    /* A sub-table leaves the rest alone. */
    entries[0] = 3;
    entries[1] = 3;
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 7, 2, 4, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);
    CHECK(cfg_of(&h)->mapping[3] == 3 && cfg_of(&h)->mapping[4] == 3
          && cfg_of(&h)->mapping[5] == 3 && cfg_of(&h)->mapping[6] == 2);

    /* Refusals change nothing. */
    before = *cfg_of(&h);
    entries[0] = 4;                     /* Beyond the queues. */
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 7, 2, 0, &data)
          == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    entries[0] = 0;
    entries[1] = UINT32_MAX;
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 7, 2, 0, &data)
          == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    entries[1] = 0;
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 7, 2, 127, &data)
          == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 7, 1, UINT32_MAX,
              &data) == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 7, 129, 0, &data)
          == XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 7, UINT32_MAX, 1,
              &data) == XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 8, 2, 0, &data)
          == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    CHECK(!memcmp(&before, cfg_of(&h), sizeof before));
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 7, 0, 128, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);

    /* A new size clears the table; then nothing fits beyond it. */
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 2, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);
    CHECK(cfg_of(&h)->mapping[0] == 0 && cfg_of(&h)->mapping[4] == 0);
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 7, 3, 0, &data)
          == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);

    /* Algorithm NONE turns hashing off. */
    CHECK(req(&h, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 0, 0, 0, &data)
          == XEN_NETIF_CTRL_STATUS_SUCCESS);
    CHECK(!xvif_hash_active(&h));
    CHECK(!xvif_hash_is_ctrl_type(XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING));
    CHECK(!xvif_hash_is_ctrl_type(XEN_NETIF_CTRL_TYPE_INVALID));

    xvif_hash_destroy(&h);
    printf("ctrl: %u cases passed\n", n_checks);
}

int
main(int argc, char *argv[])
{
    const char *what = argc > 1 ? argv[1] : "all";
    bool all = !strcmp(what, "all");

    set_program_name(argv[0]);
    if (all || !strcmp(what, "vectors")) {
        test_vectors();
    }
    if (all || !strcmp(what, "packets")) {
        test_packets();
    }
    if (all || !strcmp(what, "ctrl")) {
        n_checks = 0;
        test_ctrl();
    }
    return 0;
}
