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

/* pkt-gen: a baseline traffic source for tests/perf/run.sh.
 *
 * Usage: pkt-gen IFACE SIZE DST-MAC
 *
 * Sends UDP frames of SIZE bytes (Ethernet header included) to DST-MAC out
 * of IFACE through an AF_PACKET socket, in batches of 64 with sendmmsg(),
 * as fast as it can, until it is killed.  Built standalone with gcc by
 * run.sh: it needs nothing but libc. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64

/* Builds a UDP/IPv4 frame of 'size' bytes from 'src' to 'dst' in 'p'. */
static void
build_frame(unsigned char *p, size_t size, const unsigned char *dst,
            const unsigned char *src)
{
    size_t ip_len = size - 14;

    memset(p, 0, size);
    memcpy(p, dst, 6);
    memcpy(p + 6, src, 6);
    p[12] = 0x08;
    p[13] = 0x00;
    p[14] = 0x45;
    p[16] = ip_len >> 8;
    p[17] = ip_len & 0xff;
    p[22] = 64;
    p[23] = 17;
    memcpy(p + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    p[34] = 0x04;
    p[35] = 0xd2;
    p[36] = 0x16;
    p[37] = 0x2e;
    p[38] = (ip_len - 20) >> 8;
    p[39] = (ip_len - 20) & 0xff;

    /* IPv4 header checksum. */
    unsigned int sum = 0;
    for (int i = 14; i < 34; i += 2) {
        sum += (p[i] << 8) | p[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = ~sum & 0xffff;
    p[24] = sum >> 8;
    p[25] = sum & 0xff;
}

int
main(int argc, char *argv[])
{
    static const unsigned char src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    unsigned char dst[6];
    struct sockaddr_ll sll;
    struct mmsghdr msgs[BATCH];
    struct iovec iov;
    static unsigned char frame[9000];
    size_t size;
    int fd, one = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: %s IFACE SIZE DST-MAC\n", argv[0]);
        return 2;
    }
    size = atoi(argv[2]);
    if (size < 60 || size > 9000
        || sscanf(argv[3], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dst[0], &dst[1],
                  &dst[2], &dst[3], &dst[4], &dst[5]) != 6) {
        fprintf(stderr, "%s: bad size or MAC\n", argv[0]);
        return 2;
    }
    fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = if_nametoindex(argv[1]);
    sll.sll_protocol = 0;
    if (!sll.sll_ifindex || bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        perror(argv[1]);
        return 1;
    }

    build_frame(frame, size, dst, src);
    iov.iov_base = frame;
    iov.iov_len = size;
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (;;) {
        if (sendmmsg(fd, msgs, BATCH, 0) < 0 && errno != ENOBUFS
            && errno != EAGAIN && errno != EINTR) {
            perror("sendmmsg");
            return 1;
        }
    }
}
