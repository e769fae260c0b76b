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

#ifndef XVIF_OFFLOAD_H
#define XVIF_OFFLOAD_H 1

/* Software completion of the offloads a Xen guest may ask for on transmit.
 *
 * A netfront guest may send a packet with NETTXF_csum_blank (its TCP or UDP
 * checksum is not filled in) and with a GSO extra (a TCP "super-frame" of up
 * to 64 kB to be cut into segments of 'gso_size' bytes of payload).  The
 * userspace datapath of Open vSwitch 3.1 has no software fallback for either,
 * so the xvif backend completes them here before the packet enters the
 * switch.  This module knows nothing about Xen rings or netdevs: it works on
 * plain Ethernet frames held in dp_packets.
 *
 * Both functions treat the packet contents as hostile: every header length is
 * validated against dp_packet_size() before it is used.
 *
 * Offload flags: the results carry no dp_packet offload flags.  They are
 * complete, valid packets.  (OVS 3.1 could be told, through
 * DP_PACKET_OL_RX_IP_CKSUM_GOOD and DP_PACKET_OL_RX_L4_CKSUM_GOOD, that the
 * checksums are known good, which would let conntrack skip verifying them,
 * but 3.1 has no public setter for those flags and they are not needed for
 * correctness, so callers that want that optimization must set them
 * themselves.) */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dp_packet;

/* Parses the Ethernet frame in 'pkt' (with up to 2 VLAN tags, 802.1Q or
 * 802.1ad), its IPv4 header (options allowed) or IPv6 header (hop-by-hop,
 * routing and destination options extension headers skipped, at most 8
 * extension headers), and its TCP or UDP header, and writes the full L4
 * checksum, pseudo-header included, into the packet.  Nothing else in the
 * packet changes.  Ethernet padding after the IP datagram is not summed.
 *
 * For UDP the checksum covers the UDP length (which must lie between 8 and
 * the IP payload length); a computed zero is written as 0xffff, over IPv4
 * and IPv6 alike.  For IPv6 with a routing header that has segments left,
 * the pseudo-header uses the final destination (RFC 8200 section 8.1: the
 * last address of a type 0 or 2 header, the first of a type 4 segment
 * routing header).
 *
 * Fragments: a non-first fragment (IPv4 offset or IPv6 fragment header
 * offset not zero) has no L4 header and is left alone (returns 0); a first
 * fragment cannot be checksummed without the rest of the datagram (EINVAL);
 * an IPv6 "atomic" fragment (offset 0, no more fragments) is completed.
 *
 * Returns 0 or EINVAL (truncated, inconsistent lengths, not IP, not TCP or
 * UDP, IPv6 jumbogram, too many VLAN tags or extension headers).  On EINVAL
 * the packet is unchanged and should be dropped. */
int xvif_offload_complete_csum(struct dp_packet *);

/* Splits the TCP super-frame 'pkt' into segments of at most 'mss' bytes of
 * TCP payload.  Each segment is a new dp_packet allocated with
 * DP_NETDEV_HEADROOM bytes of headroom, holding a copy of the Ethernet, VLAN,
 * IP (options and IPv6 extension headers included) and TCP (options
 * included) headers with: the IPv4 total length, identification (the
 * original one plus the segment's index, wrapping) and header checksum
 * recomputed, or the IPv6 payload length; the TCP sequence number advanced;
 * FIN and PSH kept only on the last segment and CWR only on the first; and
 * the full TCP checksum.  The segments' L3 and L4 offsets are set; they
 * carry no offload flags.  Ethernet padding of the input is dropped.
 *
 * 'is_ipv6' is what the guest declared (XEN_NETIF_GSO_TYPE_TCPV6).  A frame
 * whose payload fits in one segment (including an empty one) comes back as
 * one segment, a copy with its checksums completed.  The input packet is
 * neither modified nor freed.
 *
 * Stores up to 'max' segments in 'segs' and their number in '*n', and
 * returns 0.  Otherwise stores 0 in '*n', allocates nothing and returns
 * EINVAL (malformed, not TCP, not of the declared family, any IP fragment
 * or IPv6 fragment header, 'mss' of 0) or E2BIG (more than 'max' segments
 * would be needed). */
/* Returns a new packet with room for 'size' bytes of data after
 * DP_NETDEV_HEADROOM bytes of headroom, in one allocation: the buffer
 * follows the struct dp_packet, as a DPBUF_STUB, so dp_packet_delete() frees
 * both with one free(), and a packet that OVS must grow (a pushed header)
 * moves to a malloc'd buffer as any stub does.  Half the allocator calls of
 * dp_packet_new_with_headroom(), which the data path pays per packet. */
struct dp_packet *xvif_offload_packet_new(size_t size);

int xvif_offload_check_tcp(const struct dp_packet *, bool is_ipv6,
                           size_t *l3_ofs, size_t *hdr_len);
int xvif_offload_segment_tcp(const struct dp_packet *, uint16_t mss,
                             bool is_ipv6, struct dp_packet **segs,
                             size_t max, size_t *n);

#endif /* xvif-offload.h */
