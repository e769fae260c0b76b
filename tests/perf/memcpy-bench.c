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

/* memcpy-bench: the memory-copy limit of the machine for tests/perf/run.sh.
 *
 * Usage: memcpy-bench SIZE [POOL-MiB] [SECONDS]
 *
 * Copies SIZE bytes from a random place in a POOL-MiB (default 1024) buffer
 * (cold in the caches, like a guest's packet) into a small cache-hot ring,
 * as a backend copies a packet out of guest memory, for SECONDS (default 1),
 * and prints "ns_per_copy=X".  A forwarded packet is copied twice (guest A
 * to the switch, switch to guest B), so one core forwards at most
 * 1000 / (2 * X) Mpps. */

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define RING_SLOTS 256

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
    size_t size, pool, slot;
    double seconds, start, t;
    unsigned char *src, *ring;
    uint64_t n = 0, x = 88172645463325252ULL;
    unsigned int sum = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s SIZE [POOL-MiB] [SECONDS]\n", argv[0]);
        return 2;
    }
    size = atoi(argv[1]);
    pool = (size_t) (argc > 2 ? atoi(argv[2]) : 1024) << 20;
    seconds = argc > 3 ? atof(argv[3]) : 1.0;
    slot = (size + 63) & ~(size_t) 63;

    src = mmap(NULL, pool, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (src == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memset(src, 0x5a, pool);
    ring = aligned_alloc(64, slot * RING_SLOTS);
    memset(ring, 0, slot * RING_SLOTS);

    start = now();
    do {
        for (int i = 0; i < 4096; i++) {
            size_t off;

            /* xorshift64: a random, 64-byte aligned source. */
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            off = (x % (pool - slot)) & ~(size_t) 63;
            memcpy(ring + (n % RING_SLOTS) * slot, src + off, size);
            sum += ring[(n % RING_SLOTS) * slot];
            n++;
        }
        t = now();
    } while (t - start < seconds);
    printf("ns_per_copy=%.2f copies=%llu check=%u\n", (t - start) * 1e9 / n,
           (unsigned long long) n, sum & 1);
    return 0;
}
