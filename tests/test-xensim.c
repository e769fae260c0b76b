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

/* Self-checking tests of the simulated hypervisor (xensim/xensim.c).
 *
 * Usage: test-xensim DIR COMMAND [ARG...]
 *
 *   check-domain     domain files, page allocation
 *   check-gnttab     grant copy and map, with a child process playing the
 *                    granting guest (domain 1) and this process domain 0
 *   check-evtchn     event channels between this process (domain 0) and a
 *                    child playing domain 1
 *   check-reclaim    event-channel handles of dead processes
 *   create DOMID [PAGES], destroy DOMID
 *
 * A check prints "ok" and exits 0, or names the failed condition and exits
 * 1. */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command-line.h"
#include "util.h"
#include "xensim/xensim.h"

#define CHECK(COND)                                                     \
    do {                                                                \
        if (!(COND)) {                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n",                \
                    __FILE__, __LINE__, #COND);                         \
            exit(1);                                                    \
        }                                                               \
    } while (0)

#define CHECK_EQ(A, B)                                                  \
    do {                                                                \
        long long int a_ = (A), b_ = (B);                               \
        if (a_ != b_) {                                                 \
            fprintf(stderr, "%s:%d: check failed: %s == %s "            \
                    "(%lld != %lld)\n", __FILE__, __LINE__, #A, #B,     \
                    a_, b_);                                            \
            exit(1);                                                    \
        }                                                               \
    } while (0)

static const char *dir;

/* A pair of pipes between the parent and its child. */
struct channel {
    int to_child[2];
    int to_parent[2];
    bool is_child;
};

static void
channel_init(struct channel *c)
{
    CHECK(!pipe(c->to_child));
    CHECK(!pipe(c->to_parent));
}

static void
send_u32(struct channel *c, uint32_t v)
{
    int fd = c->is_child ? c->to_parent[1] : c->to_child[1];
    CHECK(write(fd, &v, sizeof v) == sizeof v);
}

static uint32_t
recv_u32(struct channel *c)
{
    int fd = c->is_child ? c->to_child[0] : c->to_parent[0];
    uint32_t v;

    CHECK(read(fd, &v, sizeof v) == sizeof v);
    return v;
}

/* Forks; in the child, runs 'fn' and exits with its status. */
static pid_t
fork_child(struct channel *c, void (*fn)(struct channel *))
{
    pid_t pid = fork();

    CHECK(pid >= 0);
    if (!pid) {
        c->is_child = true;
        fn(c);
        exit(0);
    }
    return pid;
}

static void
wait_child(pid_t pid)
{
    int status;

    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
}

/* Waits up to 'ms' milliseconds for 'fd' to become readable. */
static bool
readable(int fd, int ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    return poll(&pfd, 1, ms) == 1 && pfd.revents & POLLIN;
}

/* Reads and counts the doorbell datagrams queued on 'fd'. */
static int
count_datagrams(int fd)
{
    char c;
    int n = 0;

    while (recv(fd, &c, 1, MSG_DONTWAIT) >= 0) {
        n++;
    }
    return n;
}

static uint8_t
pattern(size_t i, uint8_t seed)
{
    return (i * 7 + seed) & 0xff;
}

static void
fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = pattern(i, seed);
    }
}

static bool
has_pattern(const uint8_t *p, size_t start, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != pattern(start + i, seed)) {
            return false;
        }
    }
    return true;
}

/* check-domain. */

static void
check_domain(void)
{
    struct xensim_domain *d;
    uint32_t frames[16], f;

    CHECK_EQ(xensim_domain_open(dir, 5, &d), ENOENT);
    CHECK_EQ(xensim_domain_destroy(dir, 5), ENOENT);
    CHECK_EQ(xensim_domain_create(dir, XENSIM_MAX_DOMID + 1, 16), EINVAL);
    CHECK_EQ(xensim_domain_create(dir, 5, 16), 0);
    CHECK_EQ(xensim_domain_create(dir, 5, 16), EEXIST);
    CHECK_EQ(xensim_domain_open(dir, 5, &d), 0);
    CHECK_EQ(xensim_domain_id(d), 5);
    CHECK_EQ(xensim_domain_nr_pages(d), 16);
    CHECK(xensim_domain_is_alive(d));

    /* Pages: all 16 can be allocated, then none, and a freed one again. */
    for (int i = 0; i < 16; i++) {
        CHECK_EQ(xensim_page_alloc(d, &frames[i]), 0);
        CHECK(frames[i] < 16);
        for (int j = 0; j < i; j++) {
            CHECK(frames[i] != frames[j]);
        }
        void *page = xensim_page(d, frames[i]);
        CHECK(page != NULL);
        CHECK_EQ((uintptr_t) page % XENSIM_PAGE_SIZE, 0);
    }
    CHECK_EQ(xensim_page_alloc(d, &f), ENOMEM);
    xensim_page_free(d, frames[7]);
    CHECK_EQ(xensim_page_alloc(d, &f), 0);
    CHECK_EQ(f, frames[7]);
    CHECK(xensim_page(d, 16) == NULL);

    /* Memory is shared between two openers. */
    struct xensim_domain *d2;
    CHECK_EQ(xensim_domain_open(dir, 5, &d2), 0);
    memset(xensim_page(d, 3), 0xab, XENSIM_PAGE_SIZE);
    CHECK_EQ(((uint8_t *) xensim_page(d2, 3))[4095], 0xab);

    /* Destruction is visible to every opener. */
    CHECK_EQ(xensim_domain_destroy(dir, 5), 0);
    CHECK(!xensim_domain_is_alive(d));
    CHECK(!xensim_domain_is_alive(d2));
    CHECK_EQ(xensim_domain_open(dir, 5, &d2 /* unused */), ENOENT);
    xensim_domain_close(d);

    /* A new incarnation with the same domid starts fresh. */
    CHECK_EQ(xensim_domain_create(dir, 5, 4), 0);
    CHECK_EQ(xensim_domain_open(dir, 5, &d), 0);
    CHECK_EQ(xensim_domain_nr_pages(d), 4);
    CHECK_EQ(((uint8_t *) xensim_page(d, 3))[4095], 0);
    xensim_domain_close(d);
    CHECK_EQ(xensim_domain_destroy(dir, 5), 0);

    /* Domain 0 is created on demand. */
    struct xensim_gnttab *gt;
    CHECK_EQ(xensim_gnttab_open(dir, 0, &gt), 0);
    CHECK_EQ(xensim_domain_open(dir, 0, &d), 0);
    xensim_domain_close(d);
    xensim_gnttab_close(gt);
}

/* check-gnttab. */

enum {
    G_END,                      /* End access to a grant: reply errno. */
    G_VERIFY,                   /* Check the rw frame's pattern: reply 0/1. */
    G_QUIT,
};

static void
gnttab_guest(struct channel *c)
{
    struct xensim_domain *d;
    uint32_t f_ro, f_rw, r_ro, r_rw, r_other, r_bad, r_np;

    CHECK_EQ(xensim_domain_open(dir, 1, &d), 0);
    CHECK_EQ(xensim_page_alloc(d, &f_ro), 0);
    CHECK_EQ(xensim_page_alloc(d, &f_rw), 0);
    fill_pattern(xensim_page(d, f_ro), XENSIM_PAGE_SIZE, 0x11);
    memset(xensim_page(d, f_rw), 0, XENSIM_PAGE_SIZE);

    CHECK_EQ(xensim_gnttab_grant(d, 0, f_ro, true, &r_ro), 0);
    CHECK_EQ(xensim_gnttab_grant(d, 0, f_rw, false, &r_rw), 0);
    CHECK_EQ(xensim_gnttab_grant(d, 2, f_ro, false, &r_other), 0);
    CHECK_EQ(xensim_gnttab_grant(d, 0, 1000000, false, &r_bad), EINVAL);
    CHECK_EQ(xensim_gnttab_grant(d, 0, f_ro, false, &r_bad), 0);
    CHECK_EQ(xensim_gnttab_grant(d, 0, f_ro, false, &r_np), 0);

    /* Play a hostile guest on two entries: a frame beyond its memory, and
     * an entry that is not GTF_permit_access. */
    xensim_gnttab_entry(d, r_bad)->frame = 1000000;
    xensim_gnttab_entry(d, r_np)->flags = GTF_accept_transfer;
    CHECK(xensim_gnttab_entry(d, XENSIM_NR_GRANTS) == NULL);

    send_u32(c, r_ro);
    send_u32(c, r_rw);
    send_u32(c, r_other);
    send_u32(c, r_bad);
    send_u32(c, r_np);

    for (;;) {
        uint32_t cmd = recv_u32(c);
        if (cmd == G_END) {
            send_u32(c, xensim_gnttab_end(d, recv_u32(c)));
        } else if (cmd == G_VERIFY) {
            uint32_t seed = recv_u32(c);
            send_u32(c, has_pattern(xensim_page(d, f_rw), 0,
                                    XENSIM_PAGE_SIZE, seed));
        } else {
            break;
        }
    }
    xensim_domain_close(d);
}

/* Copies one segment and returns its status. */
static int16_t
copy1(struct xensim_gnttab *gt, uint16_t flags,
      uint16_t sdom, uint32_t sref, uint16_t soff, void *sbuf,
      uint16_t ddom, uint32_t dref, uint16_t doff, void *dbuf, uint16_t len)
{
    xengnttab_grant_copy_segment_t seg;

    memset(&seg, 0, sizeof seg);
    seg.flags = flags;
    seg.len = len;
    seg.status = 12345;
    if (flags & GNTCOPY_source_gref) {
        seg.source.foreign.domid = sdom;
        seg.source.foreign.ref = sref;
        seg.source.foreign.offset = soff;
    } else {
        seg.source.virt = sbuf;
    }
    if (flags & GNTCOPY_dest_gref) {
        seg.dest.foreign.domid = ddom;
        seg.dest.foreign.ref = dref;
        seg.dest.foreign.offset = doff;
    } else {
        seg.dest.virt = dbuf;
    }
    CHECK_EQ(xensim_gnttab_copy(gt, 1, &seg), 0);
    return seg.status;
}

/* Reads 'len' bytes at 'off' of grant 'ref' of domain 'dom' into 'buf'. */
static int16_t
copy_from(struct xensim_gnttab *gt, uint16_t dom, uint32_t ref, uint16_t off,
          void *buf, uint16_t len)
{
    return copy1(gt, GNTCOPY_source_gref, dom, ref, off, NULL,
                 0, 0, 0, buf, len);
}

/* Writes 'len' bytes from 'buf' at 'off' of grant 'ref' of domain 'dom'. */
static int16_t
copy_to(struct xensim_gnttab *gt, uint16_t dom, uint32_t ref, uint16_t off,
        void *buf, uint16_t len)
{
    return copy1(gt, GNTCOPY_dest_gref, 0, 0, 0, buf, dom, ref, off, NULL,
                 len);
}

static uint32_t
guest_call(struct channel *c, uint32_t cmd, uint32_t arg)
{
    send_u32(c, cmd);
    send_u32(c, arg);
    return recv_u32(c);
}

static void
check_gnttab(void)
{
    static uint8_t buf[XENSIM_PAGE_SIZE], buf2[XENSIM_PAGE_SIZE];
    struct xensim_gnttab *gt, *gt2;
    struct channel c = { .is_child = false };
    int16_t st;

    CHECK_EQ(xensim_domain_create(dir, 1, 64), 0);
    CHECK_EQ(xensim_domain_create(dir, 2, 16), 0);
    channel_init(&c);
    pid_t pid = fork_child(&c, gnttab_guest);

    uint32_t r_ro = recv_u32(&c);
    uint32_t r_rw = recv_u32(&c);
    uint32_t r_other = recv_u32(&c);
    uint32_t r_bad = recv_u32(&c);
    uint32_t r_np = recv_u32(&c);

    CHECK_EQ(xensim_gnttab_open(dir, 0, &gt), 0);

    /* Reads and writes that are allowed. */
    memset(buf, 0, sizeof buf);
    CHECK_EQ(copy_from(gt, 1, r_ro, 100, buf, 200), GNTST_okay);
    CHECK(has_pattern(buf, 100, 200, 0x11));
    CHECK_EQ(copy_from(gt, 1, r_ro, 0, buf, 4096), GNTST_okay);
    CHECK(has_pattern(buf, 0, 4096, 0x11));
    fill_pattern(buf, sizeof buf, 0x22);
    CHECK_EQ(copy_to(gt, 1, r_rw, 0, buf, 4096), GNTST_okay);
    CHECK_EQ(guest_call(&c, G_VERIFY, 0x22), 1);

    /* Grant to grant: the read-only page into the writable one. */
    CHECK_EQ(copy1(gt, GNTCOPY_source_gref | GNTCOPY_dest_gref,
                   1, r_ro, 0, NULL, 1, r_rw, 0, NULL, 4096), GNTST_okay);
    CHECK_EQ(guest_call(&c, G_VERIFY, 0x11), 1);

    /* A read-only grant as a destination. */
    CHECK_EQ(copy_to(gt, 1, r_ro, 0, buf, 10), GNTST_permission_denied);
    CHECK_EQ(copy1(gt, GNTCOPY_source_gref | GNTCOPY_dest_gref,
                   1, r_rw, 0, NULL, 1, r_ro, 0, NULL, 10),
             GNTST_permission_denied);

    /* A grant to another domain: denied to us, fine for domain 2. */
    CHECK_EQ(copy_from(gt, 1, r_other, 0, buf, 10), GNTST_permission_denied);
    CHECK_EQ(xensim_gnttab_open(dir, 2, &gt2), 0);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(copy_from(gt2, 1, r_other, 0, buf, 10), GNTST_okay);
    CHECK(has_pattern(buf, 0, 10, 0x11));
    CHECK_EQ(copy_from(gt2, 1, r_ro, 0, buf, 10), GNTST_permission_denied);
    xensim_gnttab_close(gt2);

    /* An entry that is not GTF_permit_access. */
    CHECK_EQ(copy_from(gt, 1, r_np, 0, buf, 10), GNTST_permission_denied);

    /* A frame outside the domain's memory. */
    CHECK_EQ(copy_from(gt, 1, r_bad, 0, buf, 10), GNTST_bad_page);

    /* References out of range and unused ones. */
    CHECK_EQ(copy_from(gt, 1, XENSIM_NR_GRANTS, 0, buf, 10),
             GNTST_bad_gntref);
    CHECK_EQ(copy_from(gt, 1, UINT32_MAX, 0, buf, 10), GNTST_bad_gntref);
    CHECK_EQ(copy_from(gt, 1, 4000, 0, buf, 10), GNTST_permission_denied);

    /* Beyond the page. */
    CHECK_EQ(copy_from(gt, 1, r_ro, 4000, buf, 97), GNTST_bad_copy_arg);
    CHECK_EQ(copy_from(gt, 1, r_ro, 4000, buf, 96), GNTST_okay);
    CHECK_EQ(copy_to(gt, 1, r_rw, 1, buf, 4096), GNTST_bad_copy_arg);
    CHECK_EQ(copy_to(gt, 1, r_rw, 4096, buf, 1), GNTST_bad_copy_arg);

    /* Unknown domains. */
    CHECK_EQ(copy_from(gt, 77, r_ro, 0, buf, 10), GNTST_bad_domain);
    CHECK_EQ(copy_to(gt, 77, r_rw, 0, buf, 10), GNTST_bad_domain);

    /* A batch: each segment has its own status. */
    xengnttab_grant_copy_segment_t segs[4];
    memset(segs, 0, sizeof segs);
    for (int i = 0; i < 4; i++) {
        segs[i].flags = GNTCOPY_source_gref;
        segs[i].source.foreign.domid = 1;
        segs[i].source.foreign.ref = r_ro;
        segs[i].source.foreign.offset = i * 1000;
        segs[i].dest.virt = buf2 + i * 1000;
        segs[i].len = 1000;
    }
    segs[1].source.foreign.ref = r_other;
    segs[2].source.foreign.domid = 9;
    memset(buf2, 0, sizeof buf2);
    CHECK_EQ(xensim_gnttab_copy(gt, 4, segs), 0);
    CHECK_EQ(segs[0].status, GNTST_okay);
    CHECK_EQ(segs[1].status, GNTST_permission_denied);
    CHECK_EQ(segs[2].status, GNTST_bad_domain);
    CHECK_EQ(segs[3].status, GNTST_okay);
    CHECK(has_pattern(buf2, 0, 1000, 0x11));
    CHECK(has_pattern(buf2 + 3000, 3000, 1000, 0x11));
    CHECK_EQ(buf2[1000], 0);

    /* Mapping. */
    st = 0;
    CHECK(xensim_gnttab_map(gt, 1, r_ro, true, &st) == NULL);
    CHECK_EQ(st, GNTST_permission_denied);
    CHECK(xensim_gnttab_map(gt, 1, r_other, false, &st) == NULL);
    CHECK_EQ(st, GNTST_permission_denied);
    CHECK(xensim_gnttab_map(gt, 1, XENSIM_NR_GRANTS, false, &st) == NULL);
    CHECK_EQ(st, GNTST_bad_gntref);
    CHECK(xensim_gnttab_map(gt, 1, r_bad, false, &st) == NULL);
    CHECK_EQ(st, GNTST_bad_page);
    CHECK(xensim_gnttab_map(gt, 77, r_ro, false, &st) == NULL);
    CHECK_EQ(st, GNTST_bad_domain);

    uint8_t *ro = xensim_gnttab_map(gt, 1, r_ro, false, &st);
    CHECK(ro != NULL);
    CHECK_EQ(st, GNTST_okay);
    CHECK(has_pattern(ro, 0, 4096, 0x11));

    uint8_t *rw = xensim_gnttab_map(gt, 1, r_rw, true, &st);
    CHECK(rw != NULL);
    uint8_t *rw2 = xensim_gnttab_map(gt, 1, r_rw, true, &st);
    CHECK(rw2 == rw);
    fill_pattern(rw, 4096, 0x33);
    CHECK_EQ(guest_call(&c, G_VERIFY, 0x33), 1);

    /* The granter cannot end access while the grant is mapped (twice). */
    CHECK_EQ(guest_call(&c, G_END, r_rw), EBUSY);
    CHECK_EQ(xensim_gnttab_unmap(gt, rw), 0);
    CHECK_EQ(guest_call(&c, G_END, r_rw), EBUSY);
    CHECK_EQ(copy_to(gt, 1, r_rw, 0, buf, 10), GNTST_okay);
    CHECK_EQ(xensim_gnttab_unmap(gt, rw2), 0);
    CHECK_EQ(xensim_gnttab_unmap(gt, rw2), EINVAL);
    CHECK_EQ(guest_call(&c, G_END, r_rw), 0);
    CHECK_EQ(guest_call(&c, G_END, r_rw), EINVAL);

    /* Access ended: the entry no longer permits anything. */
    CHECK_EQ(copy_to(gt, 1, r_rw, 0, buf, 10), GNTST_permission_denied);
    CHECK(xensim_gnttab_map(gt, 1, r_rw, true, &st) == NULL);
    CHECK_EQ(st, GNTST_permission_denied);

    send_u32(&c, G_QUIT);
    wait_child(pid);

    /* A destroyed domain: bad_domain for the cached mapping too, while a
     * page mapped before stays readable until unmapped. */
    CHECK_EQ(xensim_domain_destroy(dir, 1), 0);
    CHECK_EQ(copy_from(gt, 1, r_ro, 0, buf, 10), GNTST_bad_domain);
    CHECK(xensim_gnttab_map(gt, 1, r_ro, false, &st) == NULL);
    CHECK_EQ(st, GNTST_bad_domain);
    CHECK(has_pattern(ro, 0, 4096, 0x11));
    CHECK_EQ(xensim_gnttab_unmap(gt, ro), 0);

    /* A new domain 1: the handle maps the new incarnation. */
    struct xensim_domain *d;
    uint32_t f, ref;
    CHECK_EQ(xensim_domain_create(dir, 1, 8), 0);
    CHECK_EQ(xensim_domain_open(dir, 1, &d), 0);
    CHECK_EQ(xensim_page_alloc(d, &f), 0);
    fill_pattern(xensim_page(d, f), 4096, 0x44);
    CHECK_EQ(xensim_gnttab_grant(d, 0, f, true, &ref), 0);
    CHECK_EQ(copy_from(gt, 1, ref, 0, buf, 4096), GNTST_okay);
    CHECK(has_pattern(buf, 0, 4096, 0x44));
    CHECK_EQ(xensim_gnttab_end(d, ref), 0);
    xensim_domain_close(d);

    /* One batch touching more domains than a handle keeps at hand during a
     * call: grant-to-grant copies from domain 10 + i to 10 + (i + 1) % 12
     * of a page that each domain filled with its own pattern. */
    enum { N_DOMS = 12 };
    uint32_t refs[N_DOMS][2];
    for (int i = 0; i < N_DOMS; i++) {
        struct xensim_domain *dd;
        uint32_t fsrc, fdst;

        CHECK_EQ(xensim_domain_create(dir, 10 + i, 2), 0);
        CHECK_EQ(xensim_domain_open(dir, 10 + i, &dd), 0);
        CHECK_EQ(xensim_page_alloc(dd, &fsrc), 0);
        CHECK_EQ(xensim_page_alloc(dd, &fdst), 0);
        fill_pattern(xensim_page(dd, fsrc), 4096, 0x50 + i);
        CHECK_EQ(xensim_gnttab_grant(dd, 0, fsrc, true, &refs[i][0]), 0);
        CHECK_EQ(xensim_gnttab_grant(dd, 0, fdst, false, &refs[i][1]), 0);
        xensim_domain_close(dd);
    }
    xengnttab_grant_copy_segment_t many[2 * N_DOMS];
    memset(many, 0, sizeof many);
    for (int i = 0; i < 2 * N_DOMS; i++) {
        int from = i % N_DOMS, to = (i + 1) % N_DOMS;
        many[i].flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
        many[i].source.foreign.domid = 10 + from;
        many[i].source.foreign.ref = refs[from][0];
        many[i].dest.foreign.domid = 10 + to;
        many[i].dest.foreign.ref = refs[to][1];
        many[i].len = 4096;
    }
    CHECK_EQ(xensim_gnttab_copy(gt, 2 * N_DOMS, many), 0);
    for (int i = 0; i < N_DOMS; i++) {
        int from = (i + N_DOMS - 1) % N_DOMS;
        CHECK_EQ(many[i].status, GNTST_okay);
        CHECK_EQ(many[N_DOMS + i].status, GNTST_okay);
        CHECK_EQ(copy_from(gt, 10 + i, refs[i][1], 0, buf, 4096),
                 GNTST_okay);
        CHECK(has_pattern(buf, 0, 4096, 0x50 + from));
        CHECK_EQ(xensim_domain_destroy(dir, 10 + i), 0);
    }

    xensim_gnttab_close(gt);
    CHECK_EQ(xensim_domain_destroy(dir, 1), 0);
    CHECK_EQ(xensim_domain_destroy(dir, 2), 0);
}

/* check-evtchn. */

enum {
    E_NOTIFY,                   /* Notify N times: reply the last errno. */
    E_WAIT,                     /* Wait for an event: reply the port or 0. */
    E_IDLE,                     /* Reply 1 if the fd polls readable. */
    E_UNMASK,                   /* Unmask the port: reply errno. */
    E_CLOSE,                    /* Close the handle: reply 0. */
    E_QUIT,
};

static void
evtchn_guest(struct channel *c)
{
    struct xensim_evtchn *e;
    uint32_t port, other, unused;

    CHECK_EQ(xensim_evtchn_open(dir, 1, &e), 0);
    CHECK_EQ(xensim_evtchn_alloc_unbound(e, 0, &port), 0);
    CHECK_EQ(xensim_evtchn_alloc_unbound(e, 2, &other), 0);
    CHECK(port != other);
    CHECK_EQ(xensim_evtchn_alloc_unbound(e, 99, &unused), ESRCH);
    send_u32(c, port);
    send_u32(c, other);

    for (;;) {
        uint32_t cmd = recv_u32(c);
        uint32_t arg = recv_u32(c);
        uint32_t p;

        if (cmd == E_NOTIFY) {
            int error = 0;
            for (uint32_t i = 0; i < arg; i++) {
                error = e ? xensim_evtchn_notify(e, port) : EBADF;
            }
            send_u32(c, error);
        } else if (cmd == E_WAIT) {
            uint32_t got = 0;
            if (readable(xensim_evtchn_fd(e), 5000)
                && !xensim_evtchn_pending(e, &p)) {
                got = p;
                CHECK_EQ(xensim_evtchn_pending(e, &p), EAGAIN);
            }
            send_u32(c, got);
        } else if (cmd == E_IDLE) {
            send_u32(c, readable(xensim_evtchn_fd(e), 0));
        } else if (cmd == E_UNMASK) {
            send_u32(c, xensim_evtchn_unmask(e, port));
        } else if (cmd == E_CLOSE) {
            xensim_evtchn_close(e);
            e = NULL;
            send_u32(c, 0);
        } else {
            break;
        }
    }
    xensim_evtchn_close(e);
}

static void
check_evtchn(void)
{
    struct channel c = { .is_child = false };
    struct xensim_evtchn *e, *e2;
    uint32_t port, lport, lport2, p;

    CHECK_EQ(xensim_domain_create(dir, 1, 16), 0);
    CHECK_EQ(xensim_domain_create(dir, 2, 16), 0);
    channel_init(&c);
    pid_t pid = fork_child(&c, evtchn_guest);
    uint32_t gport = recv_u32(&c);
    uint32_t gother = recv_u32(&c);

    CHECK_EQ(xensim_evtchn_open(dir, 0, &e), 0);
    int fd = xensim_evtchn_fd(e);
    CHECK(fd >= 0);
    CHECK_EQ(xensim_evtchn_pending(e, &p), EAGAIN);

    /* Binding only to a port that is unbound and allocated for us. */
    CHECK_EQ(xensim_evtchn_bind_interdomain(e, 1, gother, &lport), EINVAL);
    CHECK_EQ(xensim_evtchn_bind_interdomain(e, 1, gport + 100, &lport),
             EINVAL);
    CHECK_EQ(xensim_evtchn_bind_interdomain(e, 1, 0, &lport), EINVAL);
    CHECK_EQ(xensim_evtchn_bind_interdomain(e, 1, XENSIM_NR_PORTS, &lport),
             EINVAL);
    CHECK_EQ(xensim_evtchn_bind_interdomain(e, 99, gport, &lport), ESRCH);
    CHECK_EQ(xensim_evtchn_bind_interdomain(e, 1, gport, &lport), 0);
    CHECK(lport != 0);
    CHECK_EQ(xensim_evtchn_bind_interdomain(e, 1, gport, &lport2), EINVAL);

    /* Domain 2 cannot bind to the port allocated for domain 0 either. */
    CHECK_EQ(xensim_evtchn_open(dir, 2, &e2), 0);
    CHECK_EQ(xensim_evtchn_bind_interdomain(e2, 1, gport, &p), EINVAL);
    CHECK_EQ(xensim_evtchn_bind_interdomain(e2, 1, gother, &p), 0);
    xensim_evtchn_close(e2);

    /* As in Xen, a new binding starts with one (spurious) event. */
    CHECK(readable(fd, 1000));
    CHECK_EQ(xensim_evtchn_pending(e, &p), 0);
    CHECK_EQ(p, lport);
    CHECK_EQ(xensim_evtchn_pending(e, &p), EAGAIN);
    CHECK(!readable(fd, 0));
    CHECK_EQ(xensim_evtchn_unmask(e, lport), 0);
    CHECK(!readable(fd, 0));

    /* A notify wakes the peer's fd. */
    CHECK_EQ(guest_call(&c, E_NOTIFY, 1), 0);
    CHECK(readable(fd, 5000));
    CHECK_EQ(xensim_evtchn_pending(e, &p), 0);
    CHECK_EQ(p, lport);
    CHECK_EQ(xensim_evtchn_pending(e, &p), EAGAIN);
    CHECK_EQ(xensim_evtchn_unmask(e, lport), 0);
    CHECK(!readable(fd, 0));

    /* 100 notifies while pending: one wakeup, one event. */
    CHECK_EQ(guest_call(&c, E_NOTIFY, 100), 0);
    CHECK_EQ(count_datagrams(fd), 1);
    CHECK_EQ(xensim_evtchn_pending(e, &p), 0);
    CHECK_EQ(p, lport);
    CHECK_EQ(xensim_evtchn_pending(e, &p), EAGAIN);

    /* While masked (not unmasked yet), a notify does not wake us; unmasking
     * re-delivers it. */
    CHECK_EQ(guest_call(&c, E_NOTIFY, 3), 0);
    CHECK(!readable(fd, 100));
    CHECK_EQ(xensim_evtchn_pending(e, &p), EAGAIN);
    CHECK_EQ(xensim_evtchn_unmask(e, lport), 0);
    CHECK(readable(fd, 0));
    CHECK_EQ(xensim_evtchn_pending(e, &p), 0);
    CHECK_EQ(p, lport);
    CHECK_EQ(xensim_evtchn_unmask(e, lport), 0);
    CHECK(!readable(fd, 0));

    /* The other direction; the guest has no spurious event. */
    CHECK_EQ(guest_call(&c, E_IDLE, 0), 0);
    CHECK_EQ(xensim_evtchn_notify(e, lport), 0);
    CHECK_EQ(guest_call(&c, E_WAIT, 0), gport);
    CHECK_EQ(xensim_evtchn_notify(e, lport), 0);
    CHECK_EQ(guest_call(&c, E_IDLE, 0), 0);
    CHECK_EQ(guest_call(&c, E_UNMASK, 0), 0);
    CHECK_EQ(guest_call(&c, E_WAIT, 0), gport);
    CHECK_EQ(guest_call(&c, E_UNMASK, 0), 0);

    /* Ports not bound through this handle. */
    CHECK_EQ(xensim_evtchn_notify(e, lport + 1), ENOTCONN);
    CHECK_EQ(xensim_evtchn_notify(e, XENSIM_NR_PORTS), EINVAL);
    CHECK_EQ(xensim_evtchn_unmask(e, lport + 1), ENOTCONN);
    CHECK_EQ(xensim_evtchn_unbind(e, lport + 1), ENOTCONN);

    /* Unbind: the guest's port reverts to unbound for us, so we can bind it
     * again; a notify from the guest meanwhile goes nowhere. */
    CHECK_EQ(xensim_evtchn_unbind(e, lport), 0);
    CHECK_EQ(xensim_evtchn_unbind(e, lport), ENOTCONN);
    CHECK_EQ(xensim_evtchn_notify(e, lport), ENOTCONN);
    CHECK_EQ(guest_call(&c, E_NOTIFY, 1), 0);
    CHECK(!readable(fd, 100));
    CHECK_EQ(xensim_evtchn_bind_interdomain(e, 1, gport, &lport2), 0);
    CHECK_EQ(xensim_evtchn_pending(e, &p), 0);      /* The spurious one. */
    CHECK_EQ(p, lport2);
    CHECK_EQ(xensim_evtchn_unmask(e, lport2), 0);
    CHECK_EQ(guest_call(&c, E_NOTIFY, 1), 0);
    CHECK(readable(fd, 5000));
    CHECK_EQ(xensim_evtchn_pending(e, &p), 0);
    CHECK_EQ(p, lport2);
    CHECK_EQ(xensim_evtchn_unmask(e, lport2), 0);

    /* The guest closes its handle: its port is freed and ours reverts to
     * unbound, so notifying it is harmless and nobody can bind the freed
     * port. */
    CHECK_EQ(guest_call(&c, E_CLOSE, 0), 0);
    CHECK_EQ(guest_call(&c, E_NOTIFY, 1), EBADF);
    CHECK_EQ(xensim_evtchn_notify(e, lport2), 0);
    CHECK_EQ(xensim_evtchn_bind_interdomain(e, 1, gport, &port), EINVAL);
    send_u32(&c, E_QUIT);
    send_u32(&c, 0);
    wait_child(pid);

    /* Our unbound port is now allocated for domain 1: a new handle of
     * domain 1 can bind to it, and events flow again. */
    struct xensim_evtchn *g;
    uint32_t gp;
    CHECK_EQ(xensim_evtchn_open(dir, 1, &g), 0);
    CHECK_EQ(xensim_evtchn_bind_interdomain(g, 0, lport2, &gp), 0);
    CHECK_EQ(xensim_evtchn_notify(g, gp), 0);
    CHECK(readable(fd, 5000));
    CHECK_EQ(xensim_evtchn_pending(e, &p), 0);
    CHECK_EQ(p, lport2);
    CHECK_EQ(xensim_evtchn_unmask(e, lport2), 0);

    /* Destroying domain 1 closes its channels: ours reverts to unbound. */
    CHECK_EQ(xensim_domain_destroy(dir, 1), 0);
    CHECK_EQ(xensim_evtchn_notify(g, gp), 0);
    CHECK(!readable(fd, 100));
    xensim_evtchn_close(g);
    CHECK_EQ(xensim_evtchn_unbind(e, lport2), 0);

    xensim_evtchn_close(e);
    CHECK_EQ(xensim_domain_destroy(dir, 2), 0);
}

/* check-reclaim. */

static void
reclaim_child(struct channel *c)
{
    struct xensim_evtchn *e;
    uint32_t port;

    CHECK_EQ(xensim_evtchn_open(dir, 3, &e), 0);
    CHECK_EQ(xensim_evtchn_alloc_unbound(e, 0, &port), 0);
    send_u32(c, port);

    /* Die without closing. */
    _exit(0);
}

static void
check_reclaim(void)
{
    struct channel c = { .is_child = false };
    enum { MAX_HANDLES = 8192 };
    struct xensim_evtchn **handles, *e0;
    struct rlimit r;
    size_t n = 0;
    uint32_t p;

    /* Every handle is a socket: the table (4096 handles) must run out
     * before the file descriptors do. */
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &r), 0);
    if (r.rlim_max < MAX_HANDLES + 64) {
        printf("skipped: the hard limit on open files (%llu) is below %d\n",
               (unsigned long long) r.rlim_max, MAX_HANDLES + 64);
        exit(77);
    }
    r.rlim_cur = r.rlim_max;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &r), 0);
    handles = xmalloc(MAX_HANDLES * sizeof *handles);

    CHECK_EQ(xensim_domain_create(dir, 3, 1), 0);
    channel_init(&c);
    pid_t pid = fork_child(&c, reclaim_child);
    uint32_t port = recv_u32(&c);
    wait_child(pid);

    /* Fill the handle table; the dead child's slot is taken last. */
    int error;
    while (!(error = xensim_evtchn_open(dir, 3, &handles[n]))) {
        n++;
        CHECK(n < MAX_HANDLES);
    }
    CHECK_EQ(error, EMFILE);
    CHECK(n >= 2);

    /* The reclaimed slot's port was freed: binding to it fails. */
    CHECK_EQ(xensim_evtchn_open(dir, 0, &e0), 0);
    CHECK_EQ(xensim_evtchn_bind_interdomain(e0, 3, port, &p), EINVAL);

    xensim_evtchn_close(handles[--n]);
    CHECK_EQ(xensim_evtchn_open(dir, 3, &handles[n]), 0);
    n++;
    while (n > 0) {
        xensim_evtchn_close(handles[--n]);
    }
    xensim_evtchn_close(e0);
    free(handles);
    CHECK_EQ(xensim_domain_destroy(dir, 3), 0);
}

static void
usage(void)
{
    printf("%s: test driver for the simulated hypervisor\n"
           "usage: %s DIR COMMAND [ARG...]\n"
           "  check-domain | check-gnttab | check-evtchn | check-reclaim\n"
           "  create DOMID [PAGES]\n"
           "  destroy DOMID\n"
           "  ports DOMID            (event-channel ports in use)\n",
           program_name, program_name);
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    signal(SIGPIPE, SIG_IGN);
    if (argc < 3) {
        usage();
        return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 1;
    }
    dir = argv[1];

    const char *cmd = argv[2];
    if (!strcmp(cmd, "check-domain")) {
        check_domain();
    } else if (!strcmp(cmd, "check-gnttab")) {
        check_gnttab();
    } else if (!strcmp(cmd, "check-evtchn")) {
        check_evtchn();
    } else if (!strcmp(cmd, "check-reclaim")) {
        check_reclaim();
    } else if (!strcmp(cmd, "create") && argc >= 4) {
        int error = xensim_domain_create(dir, atoi(argv[3]),
                                         argc >= 5 ? atoi(argv[4])
                                         : XENSIM_DEFAULT_PAGES);
        if (error) {
            ovs_fatal(error, "create");
        }
        return 0;
    } else if (!strcmp(cmd, "ports") && argc >= 4) {
        struct xensim_domain *d;
        int error = xensim_domain_open(dir, atoi(argv[3]), &d);
        if (error) {
            ovs_fatal(error, "open");
        }
        printf("%u\n", xensim_domain_count_ports(d));
        xensim_domain_close(d);
        return 0;
    } else if (!strcmp(cmd, "destroy") && argc >= 4) {
        int error = xensim_domain_destroy(dir, atoi(argv[3]));
        if (error) {
            ovs_fatal(error, "destroy");
        }
        return 0;
    } else {
        usage();
        return 1;
    }
    printf("ok\n");
    return 0;
}
