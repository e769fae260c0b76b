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

#include <config.h>

#include "xvif-offload.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <string.h>

#include "csum.h"
#include "dp-packet.h"
#include "dpif-netdev.h"
#include "packets.h"
#include "util.h"

/* Where a packet stands with respect to IP fragmentation. */
enum xo_frag {
    XO_FRAG_NONE,               /* Not a fragment, no fragment header. */
    XO_FRAG_ATOMIC,             /* IPv6 fragment header, but the whole
                                 * datagram (offset 0, no more fragments). */
    XO_FRAG_FIRST,              /* First fragment of several. */
    XO_FRAG_LATER,              /* Any fragment but the first. */
};

/* The result of parsing a packet's L2 and L3 headers.  All offsets are from
 * the start of the packet data and have been checked against its size. */
struct xo_parse {
    size_t l3;                  /* Start of the IPv4 or IPv6 header. */
    size_t l4;                  /* Start of the L4 header. */
    size_t end;                 /* End of the IP datagram (before any
                                 * Ethernet padding). */
    const uint8_t *dst6;        /* IPv6: destination for the pseudo-header
                                 * (the final one if there is a routing
                                 * header). */
    enum xo_frag frag;
    uint8_t proto;              /* L4 protocol (meaningless if 'frag' is
                                 * XO_FRAG_LATER). */
    bool is_ipv6;
};

/* Most IPv6 extension headers that xo_parse() walks through before giving
 * up.  Each header is at least 8 bytes long so the walk is bounded anyway;
 * this only keeps a hostile guest from making it long. */
#define XO_MAX_IPV6_EXT 8

/* Adds the 'n' bytes at 'p' to the partial ones-complement sum 'partial',
 * in the representation used by OVS's csum_continue() (native-order 16-bit
 * words), and returns the new partial sum, folded to at most 17 bits so that
 * callers may keep adding to it.  This is csum_continue() for bulk data: it
 * adds 32-bit words into a 64-bit accumulator, which is several times faster
 * than adding one 16-bit word at a time.  Like csum_continue(), only the last
 * piece of a checksummed area may have an odd length. */
static uint32_t
xo_sum(uint32_t partial, const uint8_t *p, size_t n)
{
    uint64_t acc = partial;

    while (n >= 16) {
        uint32_t w[4];

        memcpy(w, p, sizeof w);
        acc += (uint64_t) w[0] + w[1] + w[2] + w[3];
        p += 16;
        n -= 16;
    }
    while (n >= 4) {
        uint32_t w;

        memcpy(&w, p, sizeof w);
        acc += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        uint16_t h;

        memcpy(&h, p, sizeof h);
        acc += h;
        p += 2;
        n -= 2;
    }
    if (n) {
#ifdef WORDS_BIGENDIAN
        acc += (uint32_t) *p << 8;
#else
        acc += *p;
#endif
    }

    acc = (acc & 0xffffffff) + (acc >> 32);
    acc = (acc & 0xffffffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    return acc;
}

/* Reads a big-endian 16-bit value at 'p', which need not be aligned. */
static uint16_t
xo_get16(const uint8_t *p)
{
    return (p[0] << 8) | p[1];
}

/* Stores 'v' (already in network byte order) at 'p', which need not be
 * aligned. */
static void
xo_put_be16(uint8_t *p, ovs_be16 v)
{
    memcpy(p, &v, sizeof v);
}

/* Walks the IPv6 extension headers of the IPv6 datagram whose fixed header
 * is at 'data + p->l3' and whose end is 'p->end', filling in 'p->l4',
 * 'p->proto', 'p->frag' and 'p->dst6'.  Returns 0 or EINVAL. */
static int
xo_parse_ipv6_ext(const uint8_t *data, struct xo_parse *p, uint8_t nxt)
{
    size_t ofs = p->l3 + IPV6_HEADER_LEN;

    for (int i = 0; i <= XO_MAX_IPV6_EXT; i++) {
        const uint8_t *h = data + ofs;
        size_t len;

        if (nxt == IPPROTO_TCP || nxt == IPPROTO_UDP) {
            p->l4 = ofs;
            p->proto = nxt;
            return 0;
        }
        if (p->frag == XO_FRAG_LATER || i == XO_MAX_IPV6_EXT) {
            break;
        }
        if (p->end - ofs < 8) {
            return EINVAL;
        }

        switch (nxt) {
        case IPPROTO_HOPOPTS:
        case IPPROTO_DSTOPTS:
        case IPPROTO_ROUTING:
            len = (h[1] + 1) * 8;
            if (p->end - ofs < len) {
                return EINVAL;
            }
            if (nxt == IPPROTO_ROUTING && h[3] /* Segments left. */) {
                /* RFC 8200 section 8.1: the originator uses the final
                 * destination in the pseudo-header.  Types 0 and 2 list
                 * addresses in order, so the last one is final; for a
                 * segment routing header (type 4) it is the first one.
                 * Other types keep the header's destination. */
                if ((h[2] == 0 || h[2] == 2) && h[1] >= 2) {
                    p->dst6 = h + 8 + 16 * (h[1] / 2 - 1);
                } else if (h[2] == 4 && h[1] >= 2) {
                    p->dst6 = h + 8;
                }
            }
            break;

        case IPPROTO_FRAGMENT: {
            uint16_t offlg = xo_get16(h + 2);

            len = 8;
            if (offlg & 0xfff8) {
                p->frag = XO_FRAG_LATER;
            } else if (offlg & 1) {
                p->frag = XO_FRAG_FIRST;
            } else if (p->frag == XO_FRAG_NONE) {
                p->frag = XO_FRAG_ATOMIC;
            }
            break;
        }

        default:
            return EINVAL;
        }
        nxt = h[0];
        ofs += len;
    }

    if (p->frag == XO_FRAG_LATER) {
        p->l4 = ofs;
        p->proto = nxt;
        return 0;
    }
    return EINVAL;
}

/* Parses the Ethernet, VLAN and IP headers of the 'size' bytes at 'data'
 * into 'p'.  Returns 0 if they are well formed and consistent with 'size',
 * and the L4 protocol is TCP or UDP (or the packet is a non-first fragment),
 * otherwise EINVAL. */
static int
xo_parse(const uint8_t *data, size_t size, struct xo_parse *p)
{
    const struct eth_header *eth = (const void *) data;
    size_t ofs = ETH_HEADER_LEN;
    ovs_be16 type;

    memset(p, 0, sizeof *p);
    if (size < ETH_HEADER_LEN) {
        return EINVAL;
    }
    type = eth->eth_type;
    for (int i = 0; i < 2 && (type == htons(ETH_TYPE_VLAN_8021Q)
                              || type == htons(ETH_TYPE_VLAN_8021AD)); i++) {
        const struct vlan_header *vlan = (const void *) (data + ofs);

        if (size - ofs < VLAN_HEADER_LEN) {
            return EINVAL;
        }
        type = vlan->vlan_next_type;
        ofs += VLAN_HEADER_LEN;
    }
    p->l3 = ofs;

    if (type == htons(ETH_TYPE_IP)) {
        const struct ip_header *ip = (const void *) (data + ofs);
        size_t hlen, tot_len;
        uint16_t frag_off;

        if (size - ofs < IP_HEADER_LEN || IP_VER(ip->ip_ihl_ver) != 4) {
            return EINVAL;
        }
        hlen = IP_IHL(ip->ip_ihl_ver) * 4;
        tot_len = ntohs(ip->ip_tot_len);
        if (hlen < IP_HEADER_LEN || tot_len < hlen || size - ofs < tot_len) {
            return EINVAL;
        }
        p->l4 = ofs + hlen;
        p->end = ofs + tot_len;
        p->proto = ip->ip_proto;

        frag_off = ntohs(ip->ip_frag_off);
        if (frag_off & IP_FRAG_OFF_MASK) {
            p->frag = XO_FRAG_LATER;
            return 0;
        } else if (frag_off & IP_MORE_FRAGMENTS) {
            p->frag = XO_FRAG_FIRST;
        }
    } else if (type == htons(ETH_TYPE_IPV6)) {
        const struct ovs_16aligned_ip6_hdr *ip6 = (const void *) (data + ofs);
        size_t plen;

        if (size - ofs < IPV6_HEADER_LEN
            || (ip6->ip6_vfc >> 4) != 6) {
            return EINVAL;
        }
        plen = ntohs(ip6->ip6_plen);
        if (!plen || size - ofs - IPV6_HEADER_LEN < plen) {
            /* A zero length means a jumbogram, which we do not support. */
            return EINVAL;
        }
        p->is_ipv6 = true;
        p->end = ofs + IPV6_HEADER_LEN + plen;
        p->dst6 = (const uint8_t *) &ip6->ip6_dst;
        return xo_parse_ipv6_ext(data, p, ip6->ip6_nxt);
    } else {
        return EINVAL;
    }

    return (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP ? 0 : EINVAL);
}

/* Returns the partial checksum of the pseudo-header for an L4 segment of
 * 'l4_len' bytes of the datagram parsed into 'p' whose data is at 'data'. */
static uint32_t
xo_pseudo(const uint8_t *data, const struct xo_parse *p, size_t l4_len)
{
    uint32_t partial;

    if (p->is_ipv6) {
        const struct ovs_16aligned_ip6_hdr *ip6
            = (const void *) (data + p->l3);

        partial = csum_continue(0, &ip6->ip6_src, sizeof ip6->ip6_src);
        partial = csum_continue(partial, p->dst6, 16);
    } else {
        const struct ip_header *ip = (const void *) (data + p->l3);

        partial = csum_add32(0, get_16aligned_be32(&ip->ip_src));
        partial = csum_add32(partial, get_16aligned_be32(&ip->ip_dst));
    }
    partial = csum_add16(partial, htons(p->proto));
    return csum_add16(partial, htons(l4_len));
}

/* Checks the TCP header at 'data + p->l4' against the datagram's end and
 * returns its length in bytes, or 0 if it is malformed. */
static size_t
xo_tcp_hlen(const uint8_t *data, const struct xo_parse *p)
{
    const struct tcp_header *tcp = (const void *) (data + p->l4);
    size_t l4_len = p->end - p->l4;
    size_t hlen;

    if (l4_len < TCP_HEADER_LEN) {
        return 0;
    }
    hlen = TCP_OFFSET(tcp->tcp_ctl) * 4;
    return (hlen >= TCP_HEADER_LEN && hlen <= l4_len ? hlen : 0);
}

/* Checks that 'pkt' is an unfragmented TCP segment over IPv6 (if 'is_ipv6')
 * or IPv4, with consistent lengths, as a GSO super-frame must be before OVS
 * may carry it whole.  Stores the offset of its IP header in '*l3_ofs' and
 * the length of all its headers (Ethernet to TCP options) in '*hdr_len'.
 * Returns 0 or EINVAL. */
int
xvif_offload_check_tcp(const struct dp_packet *pkt, bool is_ipv6,
                       size_t *l3_ofs, size_t *hdr_len)
{
    const uint8_t *data = dp_packet_data(pkt);
    struct xo_parse p;
    size_t tcp_hlen;

    if (xo_parse(data, dp_packet_size(pkt), &p)
        || p.proto != IPPROTO_TCP || p.is_ipv6 != is_ipv6
        || p.frag != XO_FRAG_NONE) {
        return EINVAL;
    }
    tcp_hlen = xo_tcp_hlen(data, &p);
    if (!tcp_hlen) {
        return EINVAL;
    }
    *l3_ofs = p.l3;
    *hdr_len = p.l4 + tcp_hlen;
    return 0;
}

struct dp_packet *
xvif_offload_packet_new(size_t size)
{
    size_t allocated = DP_NETDEV_HEADROOM + size;
    struct dp_packet *b = xmalloc(sizeof *b + allocated);

    dp_packet_use_stub(b, b + 1, allocated);
    dp_packet_reserve(b, DP_NETDEV_HEADROOM);
    return b;
}

/* Computes the full L4 checksum of 'pkt' (see xvif-offload.h). */
int
xvif_offload_complete_csum(struct dp_packet *pkt)
{
    uint8_t *data = dp_packet_data(pkt);
    size_t size = dp_packet_size(pkt);
    struct xo_parse p;
    size_t l4_len, csum_ofs;
    uint32_t partial;
    ovs_be16 sum;
    int error;

    error = xo_parse(data, size, &p);
    if (error) {
        return error;
    }
    if (p.frag == XO_FRAG_LATER) {
        /* No L4 header here: nothing to complete. */
        return 0;
    } else if (p.frag == XO_FRAG_FIRST) {
        /* The checksum covers data we do not have. */
        return EINVAL;
    }

    l4_len = p.end - p.l4;
    if (p.proto == IPPROTO_TCP) {
        if (!xo_tcp_hlen(data, &p)) {
            return EINVAL;
        }
        csum_ofs = p.l4 + offsetof(struct tcp_header, tcp_csum);
    } else {
        const struct udp_header *udp = (const void *) (data + p.l4);
        size_t udp_len;

        if (l4_len < UDP_HEADER_LEN) {
            return EINVAL;
        }
        udp_len = ntohs(udp->udp_len);
        if (udp_len < UDP_HEADER_LEN || udp_len > l4_len) {
            return EINVAL;
        }
        l4_len = udp_len;
        csum_ofs = p.l4 + offsetof(struct udp_header, udp_csum);
    }

    xo_put_be16(data + csum_ofs, 0);
    partial = xo_pseudo(data, &p, l4_len);
    partial = xo_sum(partial, data + p.l4, l4_len);
    sum = csum_finish(partial);
    if (p.proto == IPPROTO_UDP && !sum) {
        /* Zero means "no checksum" for UDP (and is not allowed over
         * IPv6): send the equivalent all-ones instead. */
        sum = htons(0xffff);
    }
    xo_put_be16(data + csum_ofs, sum);
    return 0;
}

/* Cuts a TCP super-frame into segments (see xvif-offload.h). */
int
xvif_offload_segment_tcp(const struct dp_packet *pkt, uint16_t mss,
                         bool is_ipv6, struct dp_packet **segs, size_t max,
                         size_t *n)
{
    const uint8_t *data = dp_packet_data(pkt);
    size_t size = dp_packet_size(pkt);
    const struct tcp_header *tcp;
    size_t tcp_hlen, hdr_len, payload_len, nsegs, ofs;
    uint16_t ip_id = 0;
    uint16_t flags;
    uint32_t seq;
    struct xo_parse p;
    int error;

    *n = 0;
    error = xo_parse(data, size, &p);
    if (error) {
        return error;
    }
    if (p.proto != IPPROTO_TCP || p.is_ipv6 != is_ipv6
        || p.frag != XO_FRAG_NONE || !mss) {
        return EINVAL;
    }
    tcp_hlen = xo_tcp_hlen(data, &p);
    if (!tcp_hlen) {
        return EINVAL;
    }

    hdr_len = p.l4 + tcp_hlen;
    payload_len = p.end - hdr_len;
    nsegs = payload_len ? DIV_ROUND_UP(payload_len, mss) : 1;
    if (nsegs > max) {
        return E2BIG;
    }

    tcp = (const void *) (data + p.l4);
    seq = ntohl(get_16aligned_be32(&tcp->tcp_seq));
    flags = ntohs(tcp->tcp_ctl);
    if (!is_ipv6) {
        const struct ip_header *ip = (const void *) (data + p.l3);

        ip_id = ntohs(ip->ip_id);
    }

    ofs = 0;
    for (size_t i = 0; i < nsegs; i++) {
        size_t chunk = MIN(mss, payload_len - ofs);
        size_t l3_len = hdr_len - p.l3 + chunk;
        struct dp_packet *seg;
        struct tcp_header *stcp;
        uint16_t sflags = flags;
        uint32_t partial;
        uint8_t *s;

        seg = xvif_offload_packet_new(hdr_len + chunk);
        s = dp_packet_put_uninit(seg, hdr_len + chunk);
        memcpy(s, data, hdr_len);
        memcpy(s + hdr_len, data + hdr_len + ofs, chunk);

        if (is_ipv6) {
            struct ovs_16aligned_ip6_hdr *ip6 = (void *) (s + p.l3);

            ip6->ip6_plen = htons(l3_len - IPV6_HEADER_LEN);
        } else {
            struct ip_header *ip = (void *) (s + p.l3);

            ip->ip_tot_len = htons(l3_len);
            ip->ip_id = htons((uint16_t) (ip_id + i));
            ip->ip_csum = 0;
            ip->ip_csum = csum(ip, p.l4 - p.l3);
        }

        stcp = (void *) (s + p.l4);
        put_16aligned_be32(&stcp->tcp_seq, htonl(seq + (uint32_t) ofs));
        if (i) {
            sflags &= ~TCP_CWR;
        }
        if (i + 1 < nsegs) {
            sflags &= ~(TCP_FIN | TCP_PSH);
        }
        stcp->tcp_ctl = htons(sflags);
        stcp->tcp_csum = 0;

        partial = xo_pseudo(s, &p, tcp_hlen + chunk);
        partial = csum_continue(partial, stcp, tcp_hlen);
        partial = xo_sum(partial, s + hdr_len, chunk);
        stcp->tcp_csum = csum_finish(partial);

        dp_packet_set_l3(seg, s + p.l3);
        dp_packet_set_l4(seg, s + p.l4);
        segs[i] = seg;
        ofs += chunk;
    }
    *n = nsegs;
    return 0;
}
