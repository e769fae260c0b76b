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

int xvif_offload_complete_csum(struct dp_packet *);
int xvif_offload_segment_tcp(const struct dp_packet *, uint16_t mss,
                             bool is_ipv6, struct dp_packet **segs,
                             size_t max, size_t *n);

#endif /* xvif-offload.h */
