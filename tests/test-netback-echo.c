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

/* test-netback-echo: a minimal scripted netif backend (dom0) for testing
 * xensim-netfront's data path without ovs-vswitchd.
 *
 *   test-netback-echo mkdomain DOMID
 *       Creates simulated domain DOMID in $XVIF_SIM_DIR (for tests that run
 *       without the toolstack).
 *
 *   test-netback-echo echo --domid=N [--devid=D] [--max-queues=Q]
 *                          [--no-split] [--tx-error]
 *       Plays the backend of vif N.D: publishes features, goes InitWait,
 *       connects when the frontend is Connected, and sends every packet the
 *       guest transmits back to it on the same queue (with its GSO and
 *       checksum flags).  --tx-error answers every TX request with
 *       NETIF_RSP_ERROR and echoes nothing.  Follows the frontend through
 *       Closing/Closed and back to InitWait when it returns to
 *       Initialising.  Runs until killed. */

#include <config.h>

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif

#include "ovs-atomic.h"

#define xen_mb() atomic_thread_fence(memory_order_seq_cst)
#define xen_rmb() atomic_thread_fence(memory_order_acquire)
#define xen_wmb() atomic_thread_fence(memory_order_release)

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>
#include <xen/io/ring.h>
#include <xen/io/xenbus.h>

#include "command-line.h"
#include "util.h"
#include "xensim.h"

#define MAX_QUEUES 8
#define MAX_SLOTS (XEN_NETIF_NR_SLOTS_MIN + 4)

struct bq {
    netif_tx_back_ring_t tx;
    netif_rx_back_ring_t rx;
    void *tx_map, *rx_map;
    uint32_t tx_port, rx_port;
};

static const char *dir;
static uint16_t fe_domid, devid;
static unsigned int max_queues = 4;
static bool no_split, tx_error;
static struct xs_handle *xs;
static struct xensim_gnttab *gt;
static struct xensim_evtchn *ev;
static char *fe_path, *be_path;
static struct bq queues[MAX_QUEUES];
static unsigned int n_queues;
static bool connected;
static bool fe_sg, fe_gso4, fe_gso6;
static uint8_t pkt[65536];

/* Reads 'dirname'/'key' as an integer, 'dflt' if absent. */
static int
read_int(const char *dirname, const char *key, int dflt)
{
    char *path = xasprintf("%s/%s", dirname, key);
    unsigned int len;
    char *v = xs_read(xs, XBT_NULL, path, &len);
    int n = v ? atoi(v) : dflt;

    free(v);
    free(path);
    return n;
}

/* Writes 'value' to 'dirname'/'key'. */
static void
write_str(const char *dirname, const char *key, const char *value)
{
    char *path = xasprintf("%s/%s", dirname, key);

    if (!xs_write(xs, XBT_NULL, path, value, strlen(value))) {
        ovs_fatal(errno, "%s: write failed", path);
    }
    free(path);
}

/* Switches the backend to 'state'. */
static void
switch_state(int state)
{
    char buf[8];

    snprintf(buf, sizeof buf, "%d", state);
    write_str(be_path, "state", buf);
    fprintf(stderr, "backend state %d\n", state);
}

/* Unmaps rings and unbinds channels. */
static void
disconnect(void)
{
    for (unsigned int i = 0; connected && i < n_queues; i++) {
        struct bq *q = &queues[i];

        xensim_gnttab_unmap(gt, q->tx_map);
        xensim_gnttab_unmap(gt, q->rx_map);
        xensim_evtchn_unbind(ev, q->tx_port);
        if (q->rx_port != q->tx_port) {
            xensim_evtchn_unbind(ev, q->rx_port);
        }
    }
    connected = false;
}

/* Binds the remote port named 'key' in 'qdir'. */
static uint32_t
bind_port(const char *qdir, const char *key)
{
    int remote = read_int(qdir, key, -1);
    uint32_t local;
    int error;

    if (remote < 0) {
        ovs_fatal(0, "%s/%s missing", qdir, key);
    }
    error = xensim_evtchn_bind_interdomain(ev, fe_domid, remote, &local);
    if (error) {
        ovs_fatal(error, "bind %s/%s", qdir, key);
    }
    return local;
}

/* Maps the ring page named 'key' in 'qdir'. */
static void *
map_ring(const char *qdir, const char *key)
{
    int ref = read_int(qdir, key, -1);
    int16_t status;
    void *p;

    if (ref < 0) {
        ovs_fatal(0, "%s/%s missing", qdir, key);
    }
    p = xensim_gnttab_map(gt, fe_domid, ref, true, &status);
    if (!p) {
        ovs_fatal(0, "map %s/%s: status %d", qdir, key, status);
    }
    return p;
}

/* Connects to the frontend's rings, as netback's connect(). */
static void
connect_fe(void)
{
    n_queues = read_int(fe_path, "multi-queue-num-queues", 1);
    if (!n_queues || n_queues > max_queues) {
        ovs_fatal(0, "bad multi-queue-num-queues %u", n_queues);
    }
    if (read_int(fe_path, "request-rx-copy", 0) != 1) {
        ovs_fatal(0, "frontend did not request rx-copy");
    }
    fe_sg = read_int(fe_path, "feature-sg", 0) == 1;
    fe_gso4 = read_int(fe_path, "feature-gso-tcpv4", 0) == 1;
    fe_gso6 = read_int(fe_path, "feature-gso-tcpv6", 0) == 1;
    for (unsigned int i = 0; i < n_queues; i++) {
        struct bq *q = &queues[i];
        char *qdir = (n_queues == 1 ? xstrdup(fe_path)
                      : xasprintf("%s/queue-%u", fe_path, i));
        char *evt = xasprintf("%s/event-channel", qdir);
        unsigned int len;
        char *shared = xs_read(xs, XBT_NULL, evt, &len);

        memset(q, 0, sizeof *q);
        q->tx_map = map_ring(qdir, "tx-ring-ref");
        q->rx_map = map_ring(qdir, "rx-ring-ref");
        BACK_RING_INIT(&q->tx, (netif_tx_sring_t *) q->tx_map,
                       XENSIM_PAGE_SIZE);
        BACK_RING_INIT(&q->rx, (netif_rx_sring_t *) q->rx_map,
                       XENSIM_PAGE_SIZE);
        if (shared) {
            q->tx_port = q->rx_port = bind_port(qdir, "event-channel");
        } else {
            q->tx_port = bind_port(qdir, "event-channel-tx");
            q->rx_port = bind_port(qdir, "event-channel-rx");
        }
        free(shared);
        free(evt);
        free(qdir);
    }
    connected = true;
    switch_state(XenbusStateConnected);
}

/* Reacts to a frontend state change. */
static void
fe_changed(void)
{
    int fe = read_int(fe_path, "state", -1);
    int be = read_int(be_path, "state", -1);

    if (fe == XenbusStateConnected && !connected
        && be == XenbusStateInitWait) {
        connect_fe();
    } else if (fe == XenbusStateClosing && be != XenbusStateClosing
               && be != XenbusStateClosed) {
        disconnect();
        switch_state(XenbusStateClosing);
    } else if (fe == XenbusStateClosed && be != XenbusStateClosed) {
        disconnect();
        switch_state(XenbusStateClosed);
    } else if (fe == XenbusStateInitialising && be == XenbusStateClosed) {
        switch_state(XenbusStateInitWait);
    }
}

/* Puts 'len' bytes of 'pkt' on the RX ring of 'q'. */
static void
rx_put(struct bq *q, size_t len, uint16_t txflags,
       const struct netif_extra_info *gso)
{
    xengnttab_grant_copy_segment_t segs[MAX_SLOTS];
    netif_rx_request_t reqs[MAX_SLOTS];
    unsigned int n_data = len ? DIV_ROUND_UP(len, XENSIM_PAGE_SIZE) : 1;
    unsigned int n = n_data + (gso ? 1 : 0);
    RING_IDX avail;
    int notify;

    xen_rmb();
    avail = q->rx.sring->req_prod - q->rx.req_cons;
    if (avail < n || (n_data > 1 && !fe_sg)) {
        return;
    }
    if (gso && !(gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4 ? fe_gso4
                 : fe_gso6)) {
        return;
    }
    for (unsigned int k = 0; k < n; k++) {
        RING_COPY_REQUEST(&q->rx, q->rx.req_cons + k, &reqs[k]);
    }

    /* Slot 0: first data chunk; slot 1: the GSO extra; then the rest. */
    unsigned int d = 0, n_segs = 0;
    for (unsigned int k = 0; k < n; k++) {
        if (gso && k == 1) {
            continue;
        }
        size_t ofs = (size_t) d * XENSIM_PAGE_SIZE;
        xengnttab_grant_copy_segment_t *s = &segs[n_segs++];

        memset(s, 0, sizeof *s);
        s->source.virt = pkt + ofs;
        s->dest.foreign.ref = reqs[k].gref;
        s->dest.foreign.offset = 0;
        s->dest.foreign.domid = fe_domid;
        s->len = MIN(len - ofs, XENSIM_PAGE_SIZE);
        s->flags = GNTCOPY_dest_gref;
        d++;
    }
    xensim_gnttab_copy(gt, n_segs, segs);

    d = 0;
    for (unsigned int k = 0; k < n; k++) {
        RING_IDX i = q->rx.rsp_prod_pvt++;

        if (gso && k == 1) {
            struct netif_extra_info *ex =
                (struct netif_extra_info *) RING_GET_RESPONSE(&q->rx, i);
            *ex = *gso;
            ex->flags = 0;
            continue;
        }
        netif_rx_response_t *rsp = RING_GET_RESPONSE(&q->rx, i);
        rsp->id = reqs[k].id;
        rsp->offset = 0;
        rsp->flags = 0;
        if (k == 0) {
            if (txflags & NETTXF_csum_blank) {
                rsp->flags |= NETRXF_csum_blank | NETRXF_data_validated;
            } else if (txflags & NETTXF_data_validated) {
                rsp->flags |= NETRXF_data_validated;
            }
            if (gso) {
                rsp->flags |= NETRXF_extra_info;
            }
        }
        if (d < n_data - 1) {
            rsp->flags |= NETRXF_more_data;
        }
        rsp->status = (segs[d].status == GNTST_okay ? segs[d].len
                       : NETIF_RSP_ERROR);
        d++;
    }
    q->rx.req_cons += n;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
    if (notify) {
        xensim_evtchn_notify(ev, q->rx_port);
    }
}

/* Answers TX request 'req' with 'status'. */
static void
tx_respond(struct bq *q, uint16_t id, int16_t status)
{
    netif_tx_response_t *rsp = RING_GET_RESPONSE(&q->tx,
                                                 q->tx.rsp_prod_pvt++);
    rsp->id = id;
    rsp->status = status;
}

/* Consumes the TX ring of 'q', echoing every packet. */
static void
echo_queue(struct bq *q)
{
    int more, notify;

    do {
        RING_IDX rp = q->tx.sring->req_prod;

        xen_rmb();
        while (q->tx.req_cons != rp) {
            netif_tx_request_t reqs[MAX_SLOTS];
            struct netif_extra_info gso;
            bool have_gso = false, extra_slot[MAX_SLOTS];
            unsigned int n = 0;
            RING_IDX i = q->tx.req_cons;
            bool more_extra, more_data;

            memset(extra_slot, 0, sizeof extra_slot);
            RING_COPY_REQUEST(&q->tx, i, &reqs[n]);
            i++, n++;
            more_extra = reqs[0].flags & NETTXF_extra_info;
            while (more_extra && i != rp && n < MAX_SLOTS) {
                struct netif_extra_info ex;

                RING_COPY_REQUEST(&q->tx, i, &reqs[n]);
                memcpy(&ex, &reqs[n], sizeof ex);
                extra_slot[n] = true;
                if (ex.type == XEN_NETIF_EXTRA_TYPE_GSO) {
                    gso = ex;
                    have_gso = true;
                }
                more_extra = ex.flags & XEN_NETIF_EXTRA_FLAG_MORE;
                i++, n++;
            }
            more_data = reqs[0].flags & NETTXF_more_data;
            while (more_data && i != rp && n < MAX_SLOTS) {
                RING_COPY_REQUEST(&q->tx, i, &reqs[n]);
                more_data = reqs[n].flags & NETTXF_more_data;
                i++, n++;
            }
            if (more_extra || more_data) {
                if (n == MAX_SLOTS) {
                    ovs_fatal(0, "frontend sent too many slots");
                }
                break;          /* Incomplete: wait for the rest. */
            }

            /* Copy the data: the first slot holds size - sum(others). */
            xengnttab_grant_copy_segment_t segs[MAX_SLOTS];
            size_t others = 0, ofs = 0;
            unsigned int n_segs = 0;
            for (unsigned int k = 1; k < n; k++) {
                others += extra_slot[k] ? 0 : reqs[k].size;
            }
            bool bad = others > reqs[0].size;
            for (unsigned int k = 0; !bad && k < n; k++) {
                xengnttab_grant_copy_segment_t *s;
                size_t len;

                if (extra_slot[k]) {
                    continue;
                }
                len = k == 0 ? reqs[0].size - others : reqs[k].size;
                s = &segs[n_segs++];
                memset(s, 0, sizeof *s);
                s->source.foreign.ref = reqs[k].gref;
                s->source.foreign.offset = reqs[k].offset;
                s->source.foreign.domid = fe_domid;
                s->dest.virt = pkt + ofs;
                s->len = len;
                s->flags = GNTCOPY_source_gref;
                ofs += len;
            }
            if (!bad) {
                xensim_gnttab_copy(gt, n_segs, segs);
                for (unsigned int k = 0; k < n_segs; k++) {
                    bad |= segs[k].status != GNTST_okay;
                }
            }
            for (unsigned int k = 0; k < n; k++) {
                tx_respond(q, reqs[k].id,
                           extra_slot[k] ? NETIF_RSP_NULL
                           : bad || tx_error ? NETIF_RSP_ERROR
                           : NETIF_RSP_OKAY);
            }
            q->tx.req_cons = i;
            if (!bad && !tx_error) {
                rx_put(q, ofs, reqs[0].flags, have_gso ? &gso : NULL);
            }
        }
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify);
        if (notify) {
            xensim_evtchn_notify(ev, q->tx_port);
        }
        RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, more);
    } while (more);
}

/* Plays the backend until killed. */
static void
run_echo(void)
{
    char buf[16];

    xs = xs_open(0);
    if (!xs) {
        ovs_fatal(errno, "xs_open");
    }
    if (xensim_gnttab_open(dir, 0, &gt) || xensim_evtchn_open(dir, 0, &ev)) {
        ovs_fatal(0, "cannot open the simulated hypervisor in %s", dir);
    }
    fe_path = xasprintf("%s/%d/device/vif/%d", "/local/domain", fe_domid,
                        devid);
    be_path = xasprintf("%s/0/backend/vif/%d/%d", "/local/domain", fe_domid,
                        devid);
    write_str(be_path, "feature-rx-copy", "1");
    write_str(be_path, "feature-sg", "1");
    write_str(be_path, "feature-gso-tcpv4", "1");
    write_str(be_path, "feature-gso-tcpv6", "1");
    write_str(be_path, "feature-ipv6-csum-offload", "1");
    if (!no_split) {
        write_str(be_path, "feature-split-event-channels", "1");
    }
    snprintf(buf, sizeof buf, "%u", max_queues);
    write_str(be_path, "multi-queue-max-queues", buf);
    switch_state(XenbusStateInitWait);

    char *fe_state = xasprintf("%s/state", fe_path);
    if (!xs_watch(xs, fe_state, "fe")) {
        ovs_fatal(errno, "watch %s", fe_state);
    }
    for (;;) {
        struct pollfd pfds[2] = {
            { .fd = xs_fileno(xs), .events = POLLIN },
            { .fd = xensim_evtchn_fd(ev), .events = POLLIN },
        };
        char **vec;
        uint32_t port;

        poll(pfds, 2, 100);
        while ((vec = xs_check_watch(xs)) != NULL) {
            free(vec);
            fe_changed();
        }
        while (!xensim_evtchn_pending(ev, &port)) {
            xensim_evtchn_unmask(ev, port);
        }
        for (unsigned int i = 0; connected && i < n_queues; i++) {
            echo_queue(&queues[i]);
        }
    }
}

int
main(int argc, char *argv[])
{
    static const struct option long_options[] = {
        {"domid", required_argument, NULL, 'd'},
        {"devid", required_argument, NULL, 'D'},
        {"max-queues", required_argument, NULL, 'q'},
        {"no-split", no_argument, NULL, 's'},
        {"tx-error", no_argument, NULL, 'e'},
        {NULL, 0, NULL, 0},
    };

    set_program_name(argv[0]);
    dir = getenv("XVIF_SIM_DIR");
    if (!dir) {
        ovs_fatal(0, "XVIF_SIM_DIR must be set");
    }
    if (argc == 3 && !strcmp(argv[1], "mkdomain")) {
        int error = xensim_domain_create(dir, atoi(argv[2]),
                                         XENSIM_DEFAULT_PAGES);
        if (error) {
            ovs_fatal(error, "cannot create domain %s", argv[2]);
        }
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "echo")) {
        ovs_fatal(0, "usage: %s mkdomain DOMID | echo --domid=N [...]",
                  program_name);
    }
    optind = 2;
    for (;;) {
        int c = getopt_long(argc, argv, "", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case 'd':
            fe_domid = atoi(optarg);
            break;
        case 'D':
            devid = atoi(optarg);
            break;
        case 'q':
            max_queues = MIN(atoi(optarg), MAX_QUEUES);
            break;
        case 's':
            no_split = true;
            break;
        case 'e':
            tx_error = true;
            break;
        default:
            exit(EXIT_FAILURE);
        }
    }
    if (!fe_domid) {
        ovs_fatal(0, "--domid is required");
    }
    run_echo();
    return 0;
}
