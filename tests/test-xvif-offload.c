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

/* Test driver for lib/xvif-offload.c: software checksum completion and TCP
 * segmentation of packets coming from a Xen guest.
 *
 * Usage: test-xvif-offload [csum|segment|malformed|bench] [SEED]
 *
 * The packets are built byte by byte here, and checked with a deliberately
 * naive checksum implementation, independent of the one under test. */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csum.h"
#include "dp-packet.h"
#include "random.h"
#include "util.h"
#include "xvif-offload.h"

#define CHECK(COND)                                                     \
    do {                                                                \
        if (!(COND)) {                                                  \
            fprintf(stderr, "%s:%d: check failed: %s (case %d)\n",      \
                    __FILE__, __LINE__, #COND, test_case);              \
            exit(EXIT_FAILURE);                                         \
        }                                                               \
    } while (0)

/* The number of the current test case, for failure messages. */
static int test_case;

/* What to build. */
struct spec {
    bool ipv6;
    int n_vlan;                 /* 0, 1 or 2 tags. */
    int ip_opt_len;             /* IPv4 options, multiple of 4, <= 40. */
    bool hbh, dstopts, routing; /* IPv6 extension headers to include. */
    int frag;                   /* 0: none, 1: first fragment (MF set),
                                 * 2: later fragment, 3: IPv6 atomic
                                 * fragment header. */
    uint8_t proto;              /* IPPROTO_TCP or IPPROTO_UDP. */
    int tcp_opt_len;            /* TCP options, multiple of 4, <= 40. */
    size_t payload_len;
    size_t pad;                 /* Trailing Ethernet padding. */
    uint16_t tcp_flags;
    uint32_t seq;
    uint16_t ip_id;
};

/* A built packet and where its parts are. */
struct built {
    uint8_t *buf;
    size_t size;
    size_t l3, l4, hdr_len, end;
    uint8_t src[16], final_dst[16];
};

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static uint16_t
get16(const uint8_t *p)
{
    return (p[0] << 8) | p[1];
}

static void
put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t) get16(p) << 16) | get16(p + 2);
}

/* The naive reference checksum: adds big-endian 16-bit words one at a
 * time. */
static uint32_t
ref_add(uint32_t s, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2) {
        s += (p[i] << 8) | p[i + 1];
    }
    if (n & 1) {
        s += p[n - 1] << 8;
    }
    return s;
}

static uint16_t
ref_fold(uint32_t s)
{
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return s;
}

/* Returns the sum of the pseudo-header of 'b' for an L4 length 'len'. */
static uint32_t
ref_pseudo(const struct built *b, bool ipv6, uint8_t proto, size_t len)
{
    uint8_t ph[40];

    memset(ph, 0, sizeof ph);
    if (ipv6) {
        memcpy(ph, b->src, 16);
        memcpy(ph + 16, b->final_dst, 16);
        put32(ph + 32, len);
        ph[39] = proto;
        return ref_add(0, ph, 40);
    } else {
        memcpy(ph, b->src, 4);
        memcpy(ph + 4, b->final_dst, 4);
        ph[9] = proto;
        put16(ph + 10, len);
        return ref_add(0, ph, 12);
    }
}

/* Returns true if the L4 checksum of the 'len' bytes at 'l4' verifies. */
static bool
ref_l4_ok(const struct built *b, bool ipv6, uint8_t proto,
          const uint8_t *l4, size_t len)
{
    if (proto == IPPROTO_UDP && !get16(l4 + 6)) {
        return false;           /* We always ask for a checksum. */
    }
    return ref_fold(ref_pseudo(b, ipv6, proto, len)
                    + ref_add(0, l4, len)) == 0xffff;
}

static void
random_fill(uint8_t *p, size_t n)
{
    random_bytes(p, n);
}

/* Builds the packet described by 's' into 'b', with correct checksums. */
static void
build(const struct spec *s, struct built *b)
{
    size_t max = 14 + 8 + 60 + 80 + 60 + s->payload_len + s->pad;
    size_t l4_hlen = (s->proto == IPPROTO_TCP ? 20 + s->tcp_opt_len : 8);
    size_t l4_len = l4_hlen + s->payload_len;
    uint16_t type = s->ipv6 ? 0x86dd : 0x0800;
    uint8_t *p;
    size_t o;

    memset(b, 0, sizeof *b);
    b->buf = p = xmalloc(max);
    random_fill(p, 12);
    p[0] &= ~1;
    o = 12;
    for (int i = 0; i < s->n_vlan; i++) {
        put16(p + o, i == 0 && s->n_vlan == 2 ? 0x88a8 : 0x8100);
        put16(p + o + 2, random_uint16() & 0xefff);
        o += 4;
    }
    put16(p + o, type);
    o += 2;
    b->l3 = o;

    if (!s->ipv6) {
        size_t hlen = 20 + s->ip_opt_len;
        uint16_t frag = 0;

        p[o] = 0x40 | (hlen / 4);
        p[o + 1] = random_uint8();
        put16(p + o + 2, hlen + l4_len);
        put16(p + o + 4, s->ip_id);
        if (s->frag == 1) {
            frag = 0x2000;
        } else if (s->frag == 2) {
            frag = 0x2000 | (1 + random_range(100));
        } else {
            frag = random_range(2) ? 0x4000 : 0;
        }
        put16(p + o + 6, frag);
        p[o + 8] = 64;
        p[o + 9] = s->proto;
        put16(p + o + 10, 0);
        random_fill(p + o + 12, 8);
        memcpy(b->src, p + o + 12, 4);
        memcpy(b->final_dst, p + o + 16, 4);
        /* Options: a run of NOPs ended by an end-of-list, contents do not
         * matter to us. */
        memset(p + o + 20, 1, s->ip_opt_len);
        if (s->ip_opt_len) {
            p[o + hlen - 1] = 0;
        }
        put16(p + o + 10, ~ref_fold(ref_add(0, p + o, hlen)));
        o += hlen;
    } else {
        size_t ip6 = o;
        uint8_t *nxt = p + o + 6;

        put32(p + o, 0x60000000 | (random_uint32() & 0xfffff));
        p[o + 7] = 64;
        random_fill(p + o + 8, 32);
        memcpy(b->src, p + o + 8, 16);
        memcpy(b->final_dst, p + o + 24, 16);
        o += 40;
        if (s->hbh) {
            *nxt = 0;
            nxt = p + o;
            p[o + 1] = 0;
            p[o + 2] = 1;       /* PadN, 4 bytes of padding. */
            p[o + 3] = 4;
            memset(p + o + 4, 0, 4);
            o += 8;
        }
        if (s->dstopts) {
            *nxt = 60;
            nxt = p + o;
            p[o + 1] = 1;
            p[o + 2] = 1;       /* PadN, 12 bytes of padding. */
            p[o + 3] = 12;
            memset(p + o + 4, 0, 12);
            o += 16;
        }
        if (s->routing) {
            /* Type 2 (mobile IPv6 home address), one segment left: the
             * pseudo-header must use the address in it. */
            *nxt = 43;
            nxt = p + o;
            p[o + 1] = 2;
            p[o + 2] = 2;
            p[o + 3] = 1;
            memset(p + o + 4, 0, 4);
            random_fill(p + o + 8, 16);
            memcpy(b->final_dst, p + o + 8, 16);
            o += 24;
        }
        if (s->frag) {
            uint16_t offlg = (s->frag == 1 ? 1
                              : s->frag == 2 ? (1 + random_range(100)) << 3
                              : 0);

            *nxt = 44;
            nxt = p + o;
            p[o + 1] = 0;
            put16(p + o + 2, offlg);
            put32(p + o + 4, random_uint32());
            o += 8;
        }
        *nxt = s->proto;
        put16(p + ip6 + 4, o - ip6 - 40 + l4_len);
    }

    b->l4 = o;
    b->hdr_len = o + l4_hlen;
    b->end = b->hdr_len + s->payload_len;
    b->size = b->end + s->pad;
    ovs_assert(b->size <= max);
    random_fill(p + b->hdr_len, s->payload_len + s->pad);
    if (s->proto == IPPROTO_TCP) {
        random_fill(p + o, 4);
        put32(p + o + 4, s->seq);
        put32(p + o + 8, random_uint32());
        put16(p + o + 12, (l4_hlen / 4) << 12 | s->tcp_flags);
        put16(p + o + 14, random_uint16());
        put16(p + o + 16, 0);
        put16(p + o + 18, 0);
        memset(p + o + 20, 1, s->tcp_opt_len);
    } else {
        random_fill(p + o, 4);
        put16(p + o + 4, l4_len);
        put16(p + o + 6, 0);
    }
    if (s->frag != 2) {
        uint16_t c = ~ref_fold(ref_pseudo(b, s->ipv6, s->proto, l4_len)
                               + ref_add(0, p + o, l4_len));

        if (s->proto == IPPROTO_UDP && !c) {
            c = 0xffff;
        }
        put16(p + o + (s->proto == IPPROTO_TCP ? 16 : 6), c);
    }
}

/* Returns a dp_packet holding exactly the first 'size' bytes of 'b' (so that
 * the address sanitizer catches any read past its end). */
static struct dp_packet *
to_packet(const struct built *b, size_t size)
{
    struct dp_packet *pkt = dp_packet_new_with_headroom(size, 0);

    dp_packet_put(pkt, b->buf, size);
    return pkt;
}

static void
random_spec(struct spec *s, size_t max_payload)
{
    memset(s, 0, sizeof *s);
    s->ipv6 = random_range(2);
    s->n_vlan = random_range(3);
    s->ip_opt_len = random_range(3) ? 0 : 4 * random_range(11);
    s->hbh = random_range(3) == 0;
    s->dstopts = random_range(3) == 0;
    s->routing = random_range(3) == 0;
    s->proto = random_range(2) ? IPPROTO_TCP : IPPROTO_UDP;
    s->tcp_opt_len = random_range(2) ? 0 : 4 * random_range(11);
    switch (random_range(4)) {
    case 0:
        s->payload_len = random_range(64);
        break;
    case 1:
        s->payload_len = random_range(1500);
        break;
    default:
        s->payload_len = random_range(max_payload + 1);
        break;
    }
    s->pad = random_range(4) ? 0 : random_range(40);
    s->tcp_flags = random_uint16() & 0x1ff;
    s->seq = random_uint32();
    s->ip_id = random_uint16();
}

/* Writes a blanked checksum into the L4 header of 'b': garbage, zero or the
 * pseudo-header sum a guest would leave there. */
static void
blank(struct built *b, const struct spec *s)
{
    uint8_t *c = b->buf + b->l4 + (s->proto == IPPROTO_TCP ? 16 : 6);

    switch (random_range(3)) {
    case 0:
        put16(c, random_uint16());
        break;
    case 1:
        put16(c, 0);
        break;
    default:
        put16(c, ref_fold(ref_pseudo(b, s->ipv6, s->proto,
                                     b->end - b->l4)));
        break;
    }
}

/* Checksum completion of random well-formed packets: the completed packet
 * must be byte for byte the one built with a correct checksum. */
static void
test_csum(void)
{
    const int n = 20000;

    for (test_case = 0; test_case < n; test_case++) {
        struct dp_packet *pkt;
        struct built b;
        struct spec s;

        random_spec(&s, 65535 - 200);
        build(&s, &b);
        pkt = to_packet(&b, b.size);
        blank(&b, &s);
        memcpy(dp_packet_data(pkt), b.buf, b.size);
        /* 'b.buf' now holds the blanked packet; rebuild the expectation
         * from the checksum check instead of the bytes. */
        CHECK(xvif_offload_complete_csum(pkt) == 0);
        CHECK(dp_packet_size(pkt) == b.size);
        CHECK(ref_l4_ok(&b, s.ipv6, s.proto,
                        (uint8_t *) dp_packet_data(pkt) + b.l4,
                        b.end - b.l4));
        /* Nothing but the checksum field may change. */
        {
            size_t c = b.l4 + (s.proto == IPPROTO_TCP ? 16 : 6);
            const uint8_t *d = dp_packet_data(pkt);

            CHECK(!memcmp(d, b.buf, c));
            CHECK(!memcmp(d + c + 2, b.buf + c + 2, b.size - c - 2));
        }
        dp_packet_delete(pkt);
        free(b.buf);
    }

    /* UDP whose checksum computes to zero must carry 0xffff. */
    for (int ipv6 = 0; ipv6 < 2; ipv6++, test_case++) {
        struct dp_packet *pkt;
        struct built b;
        struct spec s;
        uint32_t sum;
        uint8_t *last;

        memset(&s, 0, sizeof s);
        s.ipv6 = ipv6;
        s.proto = IPPROTO_UDP;
        s.payload_len = 100;
        build(&s, &b);
        last = b.buf + b.end - 2;
        put16(b.buf + b.l4 + 6, 0);
        put16(last, 0);
        sum = ref_fold(ref_pseudo(&b, s.ipv6, s.proto, b.end - b.l4)
                       + ref_add(0, b.buf + b.l4, b.end - b.l4));
        put16(last, 0xffff - sum);
        pkt = to_packet(&b, b.size);
        CHECK(xvif_offload_complete_csum(pkt) == 0);
        CHECK(get16((uint8_t *) dp_packet_data(pkt) + b.l4 + 6) == 0xffff);
        CHECK(ref_l4_ok(&b, s.ipv6, s.proto,
                        (uint8_t *) dp_packet_data(pkt) + b.l4,
                        b.end - b.l4));
        dp_packet_delete(pkt);
        free(b.buf);
    }

    /* Fragments: a later fragment is left alone, a first one cannot be
     * completed, an IPv6 atomic fragment can. */
    for (int i = 0; i < 200; i++, test_case++) {
        struct dp_packet *pkt;
        struct built b;
        struct spec s;
        int error;

        random_spec(&s, 3000);
        s.frag = 1 + random_range(s.ipv6 ? 3 : 2);
        build(&s, &b);
        blank(&b, &s);
        pkt = to_packet(&b, b.size);
        error = xvif_offload_complete_csum(pkt);
        if (s.frag == 1) {
            CHECK(error == EINVAL);
        } else if (s.frag == 2) {
            CHECK(error == 0);
            CHECK(!memcmp(dp_packet_data(pkt), b.buf, b.size));
        } else {
            CHECK(error == 0);
            CHECK(ref_l4_ok(&b, s.ipv6, s.proto,
                            (uint8_t *) dp_packet_data(pkt) + b.l4,
                            b.end - b.l4));
        }
        dp_packet_delete(pkt);
        free(b.buf);
    }
    printf("csum: %d cases passed\n", test_case);
}

/* Segments one random super-frame with 'mss' and checks every segment. */
static void
check_segment(const struct spec *s, uint16_t mss)
{
    struct dp_packet **segs;
    size_t payload = s->payload_len;
    size_t want = payload ? DIV_ROUND_UP(payload, mss) : 1;
    size_t n, ofs;
    struct dp_packet *pkt;
    struct built b;
    int error;

    build(s, &b);
    blank(&b, s);
    pkt = to_packet(&b, b.size);
    segs = xmalloc((want + 1) * sizeof *segs);

    /* One slot too few: refused, nothing allocated. */
    n = 12345;
    error = xvif_offload_segment_tcp(pkt, mss, s->ipv6, segs, want - 1, &n);
    CHECK(error == E2BIG);
    CHECK(n == 0);
    /* The wrong family: refused. */
    error = xvif_offload_segment_tcp(pkt, mss, !s->ipv6, segs, want, &n);
    CHECK(error == EINVAL);

    error = xvif_offload_segment_tcp(pkt, mss, s->ipv6, segs, want + 1, &n);
    CHECK(error == 0);
    CHECK(n == want);
    /* The input is untouched. */
    CHECK(dp_packet_size(pkt) == b.size);
    CHECK(!memcmp(dp_packet_data(pkt), b.buf, b.size));

    ofs = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *d = dp_packet_data(segs[i]);
        size_t chunk = MIN(mss, payload - ofs);
        size_t size = dp_packet_size(segs[i]);
        uint16_t flags, want_flags;

        CHECK(size == b.hdr_len + chunk);
        CHECK(dp_packet_headroom(segs[i]) >= 6);
        /* Ethernet and VLAN headers unchanged. */
        CHECK(!memcmp(d, b.buf, b.l3));
        if (!s->ipv6) {
            size_t hlen = (d[b.l3] & 15) * 4;

            CHECK(d[b.l3] == b.buf[b.l3]);
            CHECK(get16(d + b.l3 + 2) == b.hdr_len - b.l3 + chunk);
            CHECK(get16(d + b.l3 + 4) == (uint16_t) (s->ip_id + i));
            CHECK(!memcmp(d + b.l3 + 6, b.buf + b.l3 + 6, 4));
            CHECK(!memcmp(d + b.l3 + 12, b.buf + b.l3 + 12, hlen - 12));
            CHECK(ref_fold(ref_add(0, d + b.l3, hlen)) == 0xffff);
        } else {
            CHECK(!memcmp(d + b.l3, b.buf + b.l3, 4));
            CHECK(get16(d + b.l3 + 4) == b.hdr_len - b.l3 - 40 + chunk);
            CHECK(!memcmp(d + b.l3 + 6, b.buf + b.l3 + 6, b.l4 - b.l3 - 6));
        }
        /* TCP: ports, ack, window, urgent pointer and options kept. */
        CHECK(!memcmp(d + b.l4, b.buf + b.l4, 4));
        CHECK(get32(d + b.l4 + 4) == (uint32_t) (s->seq + ofs));
        CHECK(!memcmp(d + b.l4 + 8, b.buf + b.l4 + 8, 4));
        flags = get16(d + b.l4 + 12);
        want_flags = get16(b.buf + b.l4 + 12);
        if (i) {
            want_flags &= ~0x80;
        }
        if (i + 1 < n) {
            want_flags &= ~0x09;
        }
        CHECK(flags == want_flags);
        CHECK(!memcmp(d + b.l4 + 14, b.buf + b.l4 + 14, 2));
        CHECK(!memcmp(d + b.l4 + 18, b.buf + b.l4 + 18,
                      b.hdr_len - b.l4 - 18));
        CHECK(ref_l4_ok(&b, s->ipv6, IPPROTO_TCP, d + b.l4,
                        size - b.l4));
        /* The payload, in order. */
        CHECK(!memcmp(d + b.hdr_len, b.buf + b.hdr_len + ofs, chunk));
        ofs += chunk;
        dp_packet_delete(segs[i]);
    }
    CHECK(ofs == payload);

    free(segs);
    dp_packet_delete(pkt);
    free(b.buf);
}

static void
test_segment(void)
{
    static const uint16_t msses[] = { 1, 7, 88, 536, 1220, 1440, 1448,
                                      1460, 8948, 9000, 65535 };
    const int n = 3000;

    for (test_case = 0; test_case < n; test_case++) {
        struct spec s;
        uint16_t mss;

        random_spec(&s, 65535 - 200);
        s.proto = IPPROTO_TCP;
        if (random_range(4)) {
            mss = msses[random_range(ARRAY_SIZE(msses))];
        } else {
            mss = 1 + random_range(65535);
        }
        if (mss < 64) {
            /* Keep the number of segments reasonable. */
            s.payload_len %= 4000;
        }
        check_segment(&s, mss);
    }
    printf("segment: %d cases passed\n", test_case);
}

/* Expects 'error' from both functions for the first 'size' bytes of 'b'
 * ('error' < 0 means "anything, but no crash"). */
static void
expect(const struct built *b, size_t size, bool ipv6, int error)
{
    struct dp_packet *segs[64];
    struct dp_packet *pkt;
    int e1, e2;
    size_t n;

    pkt = to_packet(b, size);
    e1 = xvif_offload_segment_tcp(pkt, 1448, ipv6, segs, ARRAY_SIZE(segs),
                                  &n);
    if (!e1) {
        for (size_t i = 0; i < n; i++) {
            dp_packet_delete(segs[i]);
        }
    } else {
        CHECK(n == 0);
    }
    e2 = xvif_offload_complete_csum(pkt);
    if (error >= 0) {
        CHECK(e1 == error);
        CHECK(e2 == error);
    }
    dp_packet_delete(pkt);
}

static void
test_malformed(void)
{
    struct built b;
    struct spec s;

    test_case = 0;

    /* Random truncation inside the IP datagram. */
    for (int i = 0; i < 5000; i++, test_case++) {
        random_spec(&s, 2000);
        s.proto = IPPROTO_TCP;
        build(&s, &b);
        expect(&b, random_range(b.end), s.ipv6, EINVAL);
        free(b.buf);
    }

    /* Bogus IPv4 header lengths and total lengths. */
    for (int i = 0; i < 2000; i++, test_case++) {
        size_t hlen;

        random_spec(&s, 2000);
        s.ipv6 = false;
        s.proto = IPPROTO_TCP;
        build(&s, &b);
        hlen = (b.buf[b.l3] & 15) * 4;
        switch (random_range(4)) {
        case 0:
            b.buf[b.l3] = 0x40 | random_range(5);
            break;
        case 1:
            put16(b.buf + b.l3 + 2, random_range(hlen));
            break;
        case 2:
            put16(b.buf + b.l3 + 2,
                  b.size - b.l3 + 1 + random_range(65535 - (b.size - b.l3)));
            break;
        default:
            b.buf[b.l3] = (random_range(15) + 1 + 4) % 16 << 4
                          | (b.buf[b.l3] & 15);
            break;
        }
        expect(&b, b.size, false, EINVAL);
        free(b.buf);
    }

    /* Bogus IPv6 payload lengths. */
    for (int i = 0; i < 2000; i++, test_case++) {
        random_spec(&s, 2000);
        s.ipv6 = true;
        s.proto = IPPROTO_TCP;
        build(&s, &b);
        if (random_range(4)) {
            put16(b.buf + b.l3 + 4,
                  b.size - b.l3 - 40 + 1
                  + random_range(65535 - (b.size - b.l3 - 40)));
        } else if (random_range(2)) {
            put16(b.buf + b.l3 + 4, 0);
        } else {
            /* Too short for the extension and TCP headers. */
            put16(b.buf + b.l3 + 4, random_range(b.hdr_len - b.l3 - 40));
        }
        expect(&b, b.size, true, EINVAL);
        free(b.buf);
    }

    /* Bogus TCP data offsets and UDP lengths. */
    for (int i = 0; i < 2000; i++, test_case++) {
        uint8_t *l4;

        random_spec(&s, 30);
        build(&s, &b);
        l4 = b.buf + b.l4;
        if (s.proto == IPPROTO_TCP) {
            int doff = random_range(2) ? random_range(5)
                : (b.end - b.l4) / 4 + 1;

            if (doff > 15) {
                doff = random_range(5);
            }
            l4[12] = (l4[12] & 0x0f) | doff << 4;
            expect(&b, b.size, s.ipv6, EINVAL);
        } else {
            put16(l4 + 4, random_range(2) ? random_range(8)
                  : b.end - b.l4 + 1 + random_range(100));
            expect(&b, b.size, s.ipv6, EINVAL);
        }
        free(b.buf);
    }

    /* Not TCP or UDP, not IP, three VLAN tags, unknown IPv6 extension. */
    for (int i = 0; i < 400; i++, test_case++) {
        random_spec(&s, 100);
        s.proto = IPPROTO_TCP;
        s.frag = 0;
        if (i % 4 == 2) {
            s.n_vlan = 2;
        }
        build(&s, &b);
        switch (i % 4) {
        case 0:
            if (s.ipv6) {
                b.buf[b.l4 - (s.routing ? 24 : s.dstopts ? 16
                              : s.hbh ? 8 : 34)] = 1;
            } else {
                b.buf[b.l3 + 9] = 1;
            }
            break;
        case 1:
            put16(b.buf + b.l3 - 2, 0x0806);
            break;
        case 2: {
            /* A third tag in front of a packet that is otherwise fine. */
            uint8_t *buf = xmalloc(b.size + 4);

            memcpy(buf, b.buf, 12);
            put16(buf + 12, 0x8100);
            put16(buf + 14, random_uint16() & 0xefff);
            memcpy(buf + 16, b.buf + 12, b.size - 12);
            free(b.buf);
            b.buf = buf;
            b.size += 4;
            break;
        }
        default:
            if (s.ipv6) {
                b.buf[b.l4 - (s.routing ? 24 : s.dstopts ? 16
                              : s.hbh ? 8 : 34)] = 51;  /* AH. */
            } else {
                b.buf[b.l3 + 9] = 51;
            }
            break;
        }
        expect(&b, b.size, s.ipv6, EINVAL);
        free(b.buf);
    }

    /* Segmentation refusals: UDP, fragments, mss 0. */
    for (int i = 0; i < 300; i++, test_case++) {
        struct dp_packet *segs[4];
        struct dp_packet *pkt;
        size_t n;

        random_spec(&s, 100);
        if (i % 3 == 0) {
            s.proto = IPPROTO_UDP;
        } else if (i % 3 == 1) {
            s.proto = IPPROTO_TCP;
            s.frag = 1 + random_range(s.ipv6 ? 3 : 2);
        } else {
            s.proto = IPPROTO_TCP;
        }
        build(&s, &b);
        pkt = to_packet(&b, b.size);
        CHECK(xvif_offload_segment_tcp(pkt, i % 3 == 2 ? 0 : 1448, s.ipv6,
                                       segs, 4, &n) == EINVAL);
        CHECK(n == 0);
        dp_packet_delete(pkt);
        free(b.buf);
    }

    /* Random byte corruption: anything may come back, but no crash, and
     * whatever is accepted is consistent. */
    for (int i = 0; i < 20000; i++, test_case++) {
        random_spec(&s, 200);
        build(&s, &b);
        for (int j = random_range(4) + 1; j > 0; j--) {
            b.buf[random_range(MIN(b.size, b.hdr_len + 4))]
                = random_uint8();
        }
        expect(&b, b.size, s.ipv6, -1);
        expect(&b, random_range(b.size + 1), s.ipv6, -1);
        free(b.buf);
    }
    printf("malformed: %d cases passed\n", test_case);
}

static long long int
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
bench(void)
{
    struct dp_packet *segs[64];
    struct dp_packet *pkt;
    struct built b;
    struct spec s;
    long long int start;
    const int n_csum = 200000, n_seg = 3000;
    volatile uint32_t sink = 0;
    size_t n;

    memset(&s, 0, sizeof s);
    s.proto = IPPROTO_TCP;
    s.tcp_opt_len = 12;
    s.payload_len = 1514 - 14 - 20 - 32;
    build(&s, &b);
    pkt = to_packet(&b, b.size);
    start = now_ns();
    for (int i = 0; i < n_csum; i++) {
        ovs_assert(!xvif_offload_complete_csum(pkt));
    }
    printf("csum completion, %"PRIuSIZE"-byte IPv4/TCP: %.0f ns/packet\n",
           b.size, (double) (now_ns() - start) / n_csum);
    start = now_ns();
    for (int i = 0; i < n_csum; i++) {
        sink += csum((uint8_t *) dp_packet_data(pkt) + b.l4, b.end - b.l4);
    }
    printf("(for comparison, OVS csum() over the same L4 bytes: "
           "%.0f ns)\n", (double) (now_ns() - start) / n_csum);
    dp_packet_delete(pkt);
    free(b.buf);

    for (int ipv6 = 0; ipv6 < 2; ipv6++) {
        s.ipv6 = ipv6;
        s.payload_len = 65535 - 20 - 32 - (ipv6 ? 0 : 20);
        build(&s, &b);
        pkt = to_packet(&b, b.size);
        start = now_ns();
        for (int i = 0; i < n_seg; i++) {
            ovs_assert(!xvif_offload_segment_tcp(pkt, 1448, ipv6, segs,
                                                 ARRAY_SIZE(segs), &n));
            for (size_t j = 0; j < n; j++) {
                dp_packet_delete(segs[j]);
            }
        }
        printf("segmentation, %"PRIuSIZE"-byte IPv%d/TCP frame, mss 1448 "
               "(%"PRIuSIZE" segments): %.0f ns/frame\n", b.size,
               ipv6 ? 6 : 4, n, (double) (now_ns() - start) / n_seg);
        dp_packet_delete(pkt);
        free(b.buf);
    }
}

int
main(int argc, char *argv[])
{
    const char *cmd = argc > 1 ? argv[1] : "all";
    bool all = !strcmp(cmd, "all");

    set_program_name(argv[0]);
    random_set_seed(argc > 2 ? strtoul(argv[2], NULL, 0) : 0x5eed);

    if (all || !strcmp(cmd, "csum")) {
        test_csum();
    }
    if (all || !strcmp(cmd, "segment")) {
        test_segment();
    }
    if (all || !strcmp(cmd, "malformed")) {
        test_malformed();
    }
    if (!strcmp(cmd, "bench")) {
        bench();
    } else if (!all && strcmp(cmd, "csum") && strcmp(cmd, "segment")
               && strcmp(cmd, "malformed")) {
        ovs_fatal(0, "unknown command \"%s\"", cmd);
    }
    return 0;
}
