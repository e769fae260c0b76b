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

/* pkt-sink: a baseline traffic sink for tests/perf/run.sh.
 *
 * Usage: pkt-sink IFACE WARMUP-SECONDS MEASURE-SECONDS
 *
 * Counts the frames that arrive on IFACE through an AF_PACKET receive ring
 * (TPACKET_V2, so a frame costs no system call), ignores the first
 * WARMUP-SECONDS, then counts for MEASURE-SECONDS and prints
 * "packets=N bytes=B seconds=S" and exits.  Frames sent out of IFACE (by a
 * pkt-gen on the same interface, for the both-ways runs) are not counted. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_SIZE 2048
#define BLOCK_SIZE (1 << 16)
#define N_BLOCKS 64

/* Returns the monotonic time in seconds. */
static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
    struct tpacket_req req;
    struct sockaddr_ll sll;
    int fd, version = TPACKET_V2;
    unsigned int n_frames, i = 0;
    uint64_t packets = 0, bytes = 0;
    double warmup, measure, start, t0 = 0;
    unsigned char *ring;

    if (argc != 4) {
        fprintf(stderr, "usage: %s IFACE WARMUP MEASURE\n", argv[0]);
        return 2;
    }
    warmup = atof(argv[2]);
    measure = atof(argv[3]);

    fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version);
#ifdef PACKET_IGNORE_OUTGOING
    {
        /* Linux 4.20+: outgoing frames do not even reach the ring; older
         * kernels' are skipped below by their packet type. */
        int one = 1;

        setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    }
#endif
    req.tp_block_size = BLOCK_SIZE;
    req.tp_block_nr = N_BLOCKS;
    req.tp_frame_size = FRAME_SIZE;
    req.tp_frame_nr = n_frames = BLOCK_SIZE / FRAME_SIZE * N_BLOCKS;
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req)) {
        perror("PACKET_RX_RING");
        return 1;
    }
    ring = mmap(NULL, (size_t) BLOCK_SIZE * N_BLOCKS,
                PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ring == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = if_nametoindex(argv[1]);
    if (!sll.sll_ifindex || bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        perror(argv[1]);
        return 1;
    }

    start = now();
    for (;;) {
        struct tpacket2_hdr *h = (void *) (ring + (size_t) i * FRAME_SIZE);
        double t;

        if (!(h->tp_status & TP_STATUS_USER)) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };

            poll(&pfd, 1, 10);
        } else {
            const struct sockaddr_ll *from
                = (const void *) ((unsigned char *) h
                                  + TPACKET_ALIGN(sizeof *h));

            if (t0 && from->sll_pkttype != PACKET_OUTGOING) {
                packets++;
                bytes += h->tp_len;
            }
            __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL,
                             __ATOMIC_RELEASE);
            i = (i + 1) % n_frames;
            if (packets & 63) {
                continue;
            }
        }
        t = now();
        if (!t0 && t - start >= warmup) {
            t0 = t;
            packets = bytes = 0;
        } else if (t0 && t - t0 >= measure) {
            printf("packets=%llu bytes=%llu seconds=%.6f\n",
                   (unsigned long long) packets, (unsigned long long) bytes,
                   t - t0);
            return 0;
        }
    }
}
