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

/* xensim-netfront: a simulated Xen guest whose kernel runs a netfront that
 * behaves like Linux's xen-netfront.
 *
 * The program acts as domain N of the simulated host (xensim.h): it grants
 * its own pages to the backend domain, allocates event channels, and talks
 * to xenstore through the stock libxenstore connected to the simulated
 * xenstored as domain N.  Its network side is a tap device (usually moved
 * into a network namespace, so that the guest's IP stack is the kernel's),
 * a packet generator and sink for benchmarks, or pcap files for tests.
 *
 * See Documentation/topics/xensim.rst, section "xensim-netfront". */

#include <config.h>

/* <xen/io/ring.h> takes its memory barriers from the includer when the
 * interface version is recent enough. */
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif

#include "ovs-atomic.h"

#define xen_mb() atomic_thread_fence(memory_order_seq_cst)
#define xen_rmb() atomic_thread_fence(memory_order_acquire)
#define xen_wmb() atomic_thread_fence(memory_order_release)

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>
#include <xen/io/ring.h>
#include <xen/io/xenbus.h>

#include "command-line.h"
#include "csum.h"
#include "daemon.h"
#include "dp-packet.h"
#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "pcap-file.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "xensim.h"

VLOG_DEFINE_THIS_MODULE(xensim_netfront);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

extern char **environ;

#define NF_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, XENSIM_PAGE_SIZE)
#define NF_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, XENSIM_PAGE_SIZE)
BUILD_ASSERT_DECL(NF_TX_RING_SIZE == 256);
BUILD_ASSERT_DECL(NF_RX_RING_SIZE == 256);

#define NF_MAX_QUEUES 8
#define NF_MAX_FRAME 65535          /* XEN_NETIF_MAX_TX_SIZE. */
#define NF_RX_REFILL_BATCH 32       /* Post RX buffers in batches. */
#define NF_BUDGET 256               /* Packets per queue per iteration. */
#define NF_VNET_HDR_LEN (sizeof(struct virtio_net_hdr))

/* Linux's XEN_NETIF_EXTRA_TYPE_XDP (not in Xen's 4.17 netif.h): an RX
 * extra whose first 16 bits of data are the headroom. */
#define NF_EXTRA_TYPE_XDP 5

/* Per-queue counters. */
struct nf_stats {
    uint64_t tx_packets;            /* Packets put on the TX ring. */
    uint64_t tx_bytes;
    uint64_t tx_dropped;            /* Not sent: too big, bad offload... */
    uint64_t tx_gso;                /* Sent with a GSO extra. */
    uint64_t tx_csum_blank;         /* Sent with NETTXF_csum_blank. */
    uint64_t tx_responses;          /* Data-slot responses received. */
    uint64_t tx_error_responses;    /* ...of which with status < 0. */
    uint64_t tx_bad_responses;      /* Unknown or idle id. */
    uint64_t rx_packets;            /* Packets received from the ring. */
    uint64_t rx_bytes;
    uint64_t rx_errors;             /* Malformed responses, chains. */
    uint64_t rx_error_responses;    /* Responses with status < 0. */
    uint64_t rx_dropped;            /* Received but not delivered. */
    uint64_t rx_gso;                /* Received with a GSO extra. */
    uint64_t rx_csum_blank;         /* Received with NETRXF_csum_blank. */
    uint64_t rx_gro_merged;         /* Coalesced into the one before. */
    uint64_t notify_tx_sent;        /* Event-channel notifications sent. */
    uint64_t notify_rx_sent;
    uint64_t notify_tx_received;    /* ...and received. */
    uint64_t notify_rx_received;
    uint64_t rx_hash_ok;            /* Hash extra matching our own hash. */
    uint64_t rx_hash_bad;           /* ...not matching it. */
    uint64_t rx_hash_missing;       /* Hashable, RSS on, no extra. */
    uint64_t rx_hash_wrong_queue;   /* Not on the queue our table names. */
    uint64_t rx_xdp;                /* With an XDP extra. */
    uint64_t rx_offset_bad;         /* Data not at the headroom asked. */
    uint64_t mcast_ok;              /* MCAST_ADD/DEL answered OKAY. */
    uint64_t mcast_errors;          /* ...answered with an error. */
};

/* Receive coalescing state (see nf_gro_receive()). */
struct nf_gro {
    size_t len;                     /* Bytes in 'frame'; 0: empty. */
    size_t l3_ofs, l4_ofs, hdr_len;
    bool ipv6;
    uint16_t mss;                   /* Payload of the first segment. */
    uint16_t last;                  /* Payload of the last segment. */
    uint32_t next_seq;
    unsigned int segs;
    uint16_t vh_flags;              /* The first segment's, if alone. */
    uint8_t buf[NF_VNET_HDR_LEN + NF_MAX_FRAME];
};

/* One queue: a TX ring, an RX ring, one or two event channels. */
struct nf_queue {
    unsigned int index;

    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    uint32_t tx_ring_frame, rx_ring_frame;
    uint32_t tx_ring_ref, rx_ring_ref;
    uint32_t tx_port, rx_port;      /* Equal without split channels. */

    /* TX buffers: one page per request id, granted read-only. */
    uint32_t tx_frame[NF_TX_RING_SIZE];
    uint32_t tx_gref[NF_TX_RING_SIZE];
    uint8_t *tx_page[NF_TX_RING_SIZE];
    bool tx_busy[NF_TX_RING_SIZE];
    bool tx_filled[NF_TX_RING_SIZE];    /* Holds the generator's frame. */
    bool tx_mcast[NF_TX_RING_SIZE];     /* A multicast-control request. */
    uint16_t tx_free[NF_TX_RING_SIZE];  /* Stack of free ids. */
    unsigned int n_tx_free;

    /* RX buffers: one page per ring slot (id = slot), granted writable. */
    uint32_t rx_frame[NF_RX_RING_SIZE];
    uint32_t rx_gref[NF_RX_RING_SIZE];
    uint8_t *rx_page[NF_RX_RING_SIZE];

    bool broken;                    /* Backend broke the protocol. */
    int tap_fd;                     /* This queue's tap fd, or -1. */
    struct nf_gro *gro;             /* Tap mode, unless --no-gro. */
    struct nf_stats stats;
};

enum nf_mode {
    NF_MODE_NONE,
    NF_MODE_TAP,
    NF_MODE_GEN,
    NF_MODE_PCAP,
};

/* Command-line settings. */
static uint16_t domid;
static bool domid_set;
static uint16_t devid;
static char *sim_dir;
static unsigned int req_queues = 1;
static bool no_split;
static bool no_sg;
static bool no_gso;
static bool no_csum;
static bool no_rx_notify;
static bool no_gro;
static bool close_cycle;
static bool use_static_grants;
static bool use_rss;                /* --rss: hash like Windows' xenvif. */
static bool use_mcast;              /* --mcast: request-multicast-control. */
static unsigned int xdp_headroom;   /* --xdp-headroom, netfront/xdp. */
static char *unixctl_path;

/* Hostile mode (--hostile): protocol violations, see "Hostile guest"
 * below.  Connect-time attacks change what nf_connect() writes; data-path
 * attacks run once the backend is Connected, or on "netfront/attack". */
static struct sset hostile_attacks = SSET_INITIALIZER(&hostile_attacks);
static bool hostile_done;           /* The data-path attacks ran. */
static bool hostile_rx_stall;       /* Post no RX buffers. */
static bool hostile_rx_readonly;    /* Post read-only RX buffers. */
static uint32_t hostile_ro_frame, hostile_ro_gref;
static bool hostile_ro_granted;
static uint64_t hostile_attacks_run;
static enum nf_mode mode = NF_MODE_NONE;

static char *tap_name;
static char *tap_netns;
static char *tap_ip;
static int tap_mtu;

static size_t gen_size;
static uint64_t gen_count;          /* 0: unlimited. */
static uint64_t gen_rate;           /* Packets per second, 0: unlimited. */
static unsigned int gen_flows;      /* >1: vary source address and port. */
static struct eth_addr gen_dst = ETH_ADDR_C(ff, ff, ff, ff, ff, ff);
static bool sink;
static char *pcap_in_name;
static char *pcap_out_name;

/* The guest's state. */
static struct xs_handle *xs;
static struct xensim_domain *dom;
static struct xensim_evtchn *evtchn;
static char *fe_path;               /* /local/domain/N/device/vif/D */
static char *be_path;               /* From the frontend's "backend". */
static char *be_state_path;
static uint16_t be_domid;
static struct eth_addr mac;

static enum xenbus_state fe_state = XenbusStateInitialising;
static int be_state = -1;           /* -1: no backend state node. */
static bool want_connected = true;  /* False after netfront/close. */
static bool connected;              /* Rings and channels exist. */
static bool be_connected;           /* Backend reported Connected. */
static char *last_error;

/* Negotiated with the backend at connect time. */
static unsigned int n_queues;
static bool split_channels;
static bool be_sg, be_gso4, be_gso6, be_ipv6_csum;
static unsigned int be_max_queues;

static struct nf_queue *queues[NF_MAX_QUEUES];
static int tap_fds[NF_MAX_QUEUES];
static unsigned int n_tap_fds;

/* The control ring (feature-ctrl-ring), when the backend offers one and
 * --static-grants asks for it: requests are made one at a time and waited
 * for (netfront/ctrl, and the static-grant set-up after Connected). */
#define NF_GREF_TABLE_MAX (XENSIM_PAGE_SIZE / sizeof(struct xen_netif_gref))
static bool ctrl_on;
static xen_netif_ctrl_front_ring_t ctrl_ring;
static uint32_t ctrl_frame, ctrl_ref, ctrl_port;
static uint32_t ctrl_table_frame, ctrl_table_ref;
static struct xen_netif_gref *ctrl_table;   /* One page, granted writable. */
static uint32_t ctrl_table_n;
static uint16_t ctrl_next_id;
static uint64_t ctrl_requests, ctrl_failures;
static unsigned int static_grants[NF_MAX_QUEUES];   /* Mapped, per queue. */
static bool static_grants_done;     /* Set up for this connection. */

/* Receive-side scaling (--rss), set up over the control ring once the
 * backend is Connected, in the order Windows' xenvif does it.  The key and
 * table are ours, to check every hash extra and every queue choice of the
 * backend with our own Toeplitz implementation. */
static bool rss_done;               /* Set up for this connection. */
static bool rss_active;             /* ...successfully. */
static uint32_t rss_flags;          /* XEN_NETIF_CTRL_HASH_TYPE_*. */
static uint32_t rss_mapping_size;
static uint32_t rss_mapping[128];
static uint64_t rss_failures;

/* Microsoft's RSS verification key: what Windows uses by default. */
static const uint8_t rss_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
    0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
    0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* Multicast control (--mcast): the groups the guest's stack joined on the
 * tap (read from the namespace's /proc/net/dev_mcast), and those the
 * backend has been told about. */
#define NF_MCAST_MAX 256
static bool be_mcast, be_xdp;       /* Backend features. */
static int dev_mcast_fd = -1;
static long long int next_mcast_poll;
static struct sset mcast_told = SSET_INITIALIZER(&mcast_told);
static uint64_t mcast_add_sent, mcast_del_sent;

/* XDP headroom: the frontend's Reconfiguring cycle (netfront/xdp). */
static bool xdp_reconfiguring;
static uint64_t xdp_changes;

/* Statistics of torn-down connections, so counters survive reconnects. */
static struct nf_stats old_stats;
static uint64_t n_connects, n_disconnects, leaked_grants;

/* Generator. */
static uint8_t *gen_frame;
static uint64_t gen_sent;
static long long int gen_start;

/* pcap. */
static struct dp_packet **pcap_in_pkts;
static size_t n_pcap_in, pcap_in_next;
static struct pcap_file *pcap_out;

/* Scratch buffer for one frame with its virtio-net header. */
static uint8_t frame_buf[NF_VNET_HDR_LEN + NF_MAX_FRAME + 64];

static bool exiting;

static void parse_options(int argc, char *argv[]);
OVS_NO_RETURN static void usage(void);
static void nf_step(void);
static void nf_disconnect(void);
static bool nf_data_active(void);
static bool hostile_connect_keys(xs_transaction_t, const char *dir,
                                 struct nf_queue *);
static bool hostile_connect_top_keys(xs_transaction_t);
static void hostile_run(void);
static void mcast_open(const char *netns);
static void nf_unixctl_attack(struct unixctl_conn *, int argc,
                              const char *argv[], void *aux);

/* Returns the name of xenbus state 'state'.  (The backend has its own in
 * lib/xvif-xenbus.c: the simulated guest deliberately shares no code with
 * the backend it tests, so that the two cannot agree on a wrong reading of
 * the protocol.) */
static const char *
state_name(int state)
{
    switch (state) {
    case XenbusStateUnknown: return "Unknown";
    case XenbusStateInitialising: return "Initialising";
    case XenbusStateInitWait: return "InitWait";
    case XenbusStateInitialised: return "Initialised";
    case XenbusStateConnected: return "Connected";
    case XenbusStateClosing: return "Closing";
    case XenbusStateClosed: return "Closed";
    case XenbusStateReconfiguring: return "Reconfiguring";
    case XenbusStateReconfigured: return "Reconfigured";
    case -1: return "absent";
    default: return "invalid";
    }
}

/* Xenstore helpers. */

/* Reads 'dir'/'key' and returns it as a malloc'd string, or NULL. */
static char *
xs_read_key(const char *dir, const char *key)
{
    char *path = xasprintf("%s/%s", dir, key);
    unsigned int len;
    char *value = xs_read(xs, XBT_NULL, path, &len);
    free(path);
    return value;
}

/* Reads 'dir'/'key' as a nonnegative integer, 'dflt' if absent or bad. */
static int
xs_read_int(const char *dir, const char *key, int dflt)
{
    char *value = xs_read_key(dir, key);
    int result = dflt;

    if (value) {
        char *end;
        long n = strtol(value, &end, 10);
        if (end != value && *end == '\0' && n >= 0 && n <= INT_MAX) {
            result = n;
        }
        free(value);
    }
    return result;
}

/* Writes 'value' to 'dir'/'key' in transaction 't'. */
static bool
xs_write_key(xs_transaction_t t, const char *dir, const char *key,
             const char *value)
{
    char *path = xasprintf("%s/%s", dir, key);
    bool ok = xs_write(xs, t, path, value, strlen(value));
    if (!ok) {
        VLOG_WARN("%s: write failed (%s)", path, ovs_strerror(errno));
    }
    free(path);
    return ok;
}

/* Writes the unsigned integer 'value' to 'dir'/'key' in 't'. */
static bool
xs_write_uint(xs_transaction_t t, const char *dir, const char *key,
              unsigned int value)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%u", value);
    return xs_write_key(t, dir, key, buf);
}

/* Removes 'dir'/'key' in 't', if it exists. */
static void
xs_rm_key(xs_transaction_t t, const char *dir, const char *key)
{
    char *path = xasprintf("%s/%s", dir, key);
    xs_rm(xs, t, path);
    free(path);
}

/* Switches the frontend to 'state', as xenbus_switch_state() does.  Does
 * not recreate a frontend directory that the toolstack has removed. */
static void
nf_switch_state(enum xenbus_state state)
{
    char *old = xs_read_key(fe_path, "state");

    if (!old) {
        VLOG_INFO("%s: frontend directory gone, staying %s", fe_path,
                  state_name(fe_state));
        return;
    }
    free(old);
    VLOG_INFO("frontend state %s -> %s (backend %s)", state_name(fe_state),
              state_name(state), state_name(be_state));
    fe_state = state;
    xs_write_uint(XBT_NULL, fe_path, "state", state);
}

/* Sets the message shown by netfront/show for the last failure. */
static void
set_error(const char *msg)
{
    free(last_error);
    last_error = xstrdup(msg);
    VLOG_ERR("%s", msg);
}

/* Queues: allocation and teardown. */

/* Ends the grant 'ref' of 'frame' and frees the frame, unless the backend
 * still has it mapped (then the page is leaked, as Linux defers it). */
static void
nf_ungrant(uint32_t ref, uint32_t frame)
{
    int error = xensim_gnttab_end(dom, ref);
    if (error) {
        VLOG_WARN_RL(&rl, "grant %"PRIu32" still in use (%s): leaking "
                     "frame %"PRIu32, ref, ovs_strerror(error), frame);
        leaked_grants++;
        return;
    }
    xensim_page_free(dom, frame);
}

/* Allocates a page, zeroes it and grants it to the backend.  Returns the
 * page's address or NULL. */
static uint8_t *
nf_grant_page(bool readonly, uint32_t *frame, uint32_t *ref)
{
    int error = xensim_page_alloc(dom, frame);
    if (error) {
        VLOG_ERR("page allocation failed (%s)", ovs_strerror(error));
        return NULL;
    }
    uint8_t *page = xensim_page(dom, *frame);
    memset(page, 0, XENSIM_PAGE_SIZE);
    error = xensim_gnttab_grant(dom, be_domid, *frame, readonly, ref);
    if (error) {
        VLOG_ERR("grant failed (%s)", ovs_strerror(error));
        xensim_page_free(dom, *frame);
        return NULL;
    }
    return page;
}

/* Control ring. */

/* Sets up the control ring and the page for grant tables.  Returns true if
 * successful. */
static bool
nf_ctrl_create(void)
{
    uint8_t *page = nf_grant_page(false, &ctrl_frame, &ctrl_ref);
    int error;

    if (!page) {
        return false;
    }
    xen_netif_ctrl_sring_t *sring = ALIGNED_CAST(xen_netif_ctrl_sring_t *,
                                                 page);
    SHARED_RING_INIT(sring);
    FRONT_RING_INIT(&ctrl_ring, sring, XENSIM_PAGE_SIZE);
    page = nf_grant_page(false, &ctrl_table_frame, &ctrl_table_ref);
    if (!page) {
        nf_ungrant(ctrl_ref, ctrl_frame);
        return false;
    }
    ctrl_table = ALIGNED_CAST(struct xen_netif_gref *, page);
    ctrl_table_n = 0;
    error = xensim_evtchn_alloc_unbound(evtchn, be_domid, &ctrl_port);
    if (error) {
        VLOG_ERR("event channel allocation failed (%s)",
                 ovs_strerror(error));
        nf_ungrant(ctrl_ref, ctrl_frame);
        nf_ungrant(ctrl_table_ref, ctrl_table_frame);
        return false;
    }
    ctrl_on = true;
    static_grants_done = false;
    rss_done = false;
    memset(static_grants, 0, sizeof static_grants);
    return true;
}

static void
nf_ctrl_destroy(void)
{
    if (ctrl_on) {
        xensim_evtchn_unbind(evtchn, ctrl_port);
        nf_ungrant(ctrl_ref, ctrl_frame);
        nf_ungrant(ctrl_table_ref, ctrl_table_frame);
        ctrl_table = NULL;
        ctrl_on = false;
    }
}

/* Makes one control request and waits up to 2 s for its response.  Returns
 * the response's status and stores its data in '*data', or returns -1 if
 * there is no control ring or no answer. */
static int64_t
nf_ctrl_call(uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
             uint32_t *data)
{
    struct xen_netif_ctrl_request *req;
    uint16_t id = ctrl_next_id++;
    long long int deadline;
    bool notify;

    *data = 0;
    if (!ctrl_on || RING_FULL(&ctrl_ring)) {
        return -1;
    }
    req = RING_GET_REQUEST(&ctrl_ring, ctrl_ring.req_prod_pvt);
    req->id = id;
    req->type = type;
    req->data[0] = d0;
    req->data[1] = d1;
    req->data[2] = d2;
    ctrl_ring.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ctrl_ring, notify);
    if (notify) {
        xensim_evtchn_notify(evtchn, ctrl_port);
    }
    ctrl_requests++;

    deadline = time_msec() + 2000;
    while (time_msec() < deadline) {
        while (RING_HAS_UNCONSUMED_RESPONSES(&ctrl_ring)) {
            struct xen_netif_ctrl_response rsp;

            rsp = *RING_GET_RESPONSE(&ctrl_ring, ctrl_ring.rsp_cons);
            ctrl_ring.rsp_cons++;
            if (rsp.id == id && rsp.type == type) {
                *data = rsp.data;
                if (rsp.status != XEN_NETIF_CTRL_STATUS_SUCCESS) {
                    ctrl_failures++;
                }
                return rsp.status;
            }
            VLOG_WARN_RL(&rl, "control response %"PRIu16" (type %"PRIu16
                         ") answers no request", rsp.id, rsp.type);
        }
        xnanosleep(200 * 1000);
    }
    ctrl_failures++;
    VLOG_WARN_RL(&rl, "no answer to control request type %"PRIu16, type);
    return -1;
}

/* Appends the buffers of queue 'qi' to the grant table: its TX buffers
 * (read-only) if 'tx', else its RX buffers.  Returns false if they do not
 * fit. */
static bool
nf_ctrl_table_add_queue(unsigned int qi, bool tx)
{
    unsigned int n = tx ? NF_TX_RING_SIZE : NF_RX_RING_SIZE;

    if (qi >= n_queues || ctrl_table_n + n > NF_GREF_TABLE_MAX) {
        return false;
    }
    for (unsigned int i = 0; i < n; i++) {
        struct xen_netif_gref *e = &ctrl_table[ctrl_table_n++];

        e->ref = tx ? queues[qi]->tx_gref[i] : queues[qi]->rx_gref[i];
        e->flags = tx ? XEN_NETIF_CTRLF_GREF_readonly : 0;
        e->status = 0;
    }
    return true;
}

/* Asks the backend to keep the buffers of every queue mapped, as far as it
 * allows. */
static void
nf_ctrl_static_grants(void)
{
    static_grants_done = true;
    for (unsigned int i = 0; i < n_queues; i++) {
        uint32_t max;
        int64_t st;

        st = nf_ctrl_call(XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, i, 0, 0,
                          &max);
        if (st != XEN_NETIF_CTRL_STATUS_SUCCESS || !max) {
            VLOG_INFO("queue %u: backend keeps no static grants (status "
                      "%"PRId64", size %"PRIu32")", i, st, max);
            return;
        }
        ctrl_table_n = 0;
        nf_ctrl_table_add_queue(i, true);
        nf_ctrl_table_add_queue(i, false);
        ctrl_table_n = MIN(ctrl_table_n, max);
        st = nf_ctrl_call(XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, i,
                          ctrl_table_ref, ctrl_table_n, &max);
        if (st == XEN_NETIF_CTRL_STATUS_SUCCESS) {
            static_grants[i] = ctrl_table_n;
            VLOG_INFO("queue %u: backend keeps %"PRIu32" buffers mapped", i,
                      ctrl_table_n);
        } else {
            VLOG_WARN("queue %u: backend refused %"PRIu32" static grants "
                      "(status %"PRId64")", i, ctrl_table_n, st);
        }
    }
}

/* Receive-side scaling. */

/* Returns bit 'i' of the 'len'-byte big-endian bit string 'p' (0 beyond
 * it). */
static unsigned int
nf_bit(const uint8_t *p, size_t len, size_t i)
{
    return i / 8 < len ? (p[i / 8] >> (7 - i % 8)) & 1 : 0;
}

/* The Toeplitz hash as netif.h words it, bit by bit: for every set input
 * bit i, the 32 key bits starting at bit i are folded in.  (Deliberately
 * not the backend's formulation.) */
static uint32_t
nf_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in,
            size_t in_len)
{
    uint32_t hash = 0;

    for (size_t i = 0; i < in_len * 8; i++) {
        if (nf_bit(in, in_len, i)) {
            uint32_t window = 0;

            for (size_t j = 0; j < 32; j++) {
                window = (window << 1) | nf_bit(key, key_len, i + j);
            }
            hash ^= window;
        }
    }
    return hash;
}

/* Hashes the Ethernet frame 'p' of 'len' bytes as a backend must under
 * 'rss_flags'.  Returns false if the frame is of no type we asked for. */
static bool
nf_hash_frame(const uint8_t *p, size_t len, uint32_t *hash, uint8_t *htype)
{
    uint8_t in[36];
    size_t n;

    if (len >= ETH_HEADER_LEN + 20 && p[12] == 0x08 && p[13] == 0x00
        && (p[14] >> 4) == 4) {
        const uint8_t *ip = p + ETH_HEADER_LEN;
        size_t ihl = (ip[0] & 0xf) * 4;
        bool frag = ((ip[6] & 0x3f) << 8 | ip[7]) != 0;

        if (ihl < 20 || ETH_HEADER_LEN + ihl > len) {
            return false;
        }
        memcpy(in, ip + 12, 8);
        if (ip[9] == IPPROTO_TCP && !frag
            && ETH_HEADER_LEN + ihl + 4 <= len
            && rss_flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP) {
            memcpy(in + 8, ip + ihl, 4);
            n = 12;
            *htype = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
        } else if (rss_flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4) {
            n = 8;
            *htype = _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
        } else {
            return false;
        }
    } else if (len >= ETH_HEADER_LEN + 40 && p[12] == 0x86 && p[13] == 0xdd
               && (p[14] >> 4) == 6) {
        const uint8_t *ip = p + ETH_HEADER_LEN;

        memcpy(in, ip + 8, 32);
        if (ip[6] == IPPROTO_TCP && ETH_HEADER_LEN + 44 <= len
            && rss_flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP) {
            memcpy(in + 32, ip + 40, 4);
            n = 36;
            *htype = _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
        } else if (rss_flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6) {
            n = 32;
            *htype = _XEN_NETIF_CTRL_HASH_TYPE_IPV6;
        } else {
            return false;
        }
    } else {
        return false;
    }
    *hash = nf_toeplitz(rss_key, sizeof rss_key, in, n);
    return true;
}

/* Sets up receive-side scaling over the control ring as Windows' xenvif
 * does: algorithm, the flags the backend offers, the key, the table size
 * and a table spreading the queues round-robin. */
static void
nf_ctrl_rss(void)
{
    uint32_t data, size;
    int64_t st;

    rss_done = true;
    rss_active = false;
    st = nf_ctrl_call(XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
                      XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, &data);
    if (st != XEN_NETIF_CTRL_STATUS_SUCCESS) {
        goto fail;
    }
    st = nf_ctrl_call(XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &data);
    if (st != XEN_NETIF_CTRL_STATUS_SUCCESS) {
        goto fail;
    }
    rss_flags = data & (XEN_NETIF_CTRL_HASH_TYPE_IPV4
                        | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP
                        | XEN_NETIF_CTRL_HASH_TYPE_IPV6
                        | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
    memcpy(ctrl_table, rss_key, sizeof rss_key);
    st = nf_ctrl_call(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, ctrl_table_ref,
                      sizeof rss_key, 0, &data);
    if (st != XEN_NETIF_CTRL_STATUS_SUCCESS) {
        goto fail;
    }
    st = nf_ctrl_call(XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0,
                      &size);
    if (st != XEN_NETIF_CTRL_STATUS_SUCCESS) {
        goto fail;
    }
    size = MIN(size, ARRAY_SIZE(rss_mapping));
    if (size) {
        uint32_t *table = ALIGNED_CAST(uint32_t *, ctrl_table);

        st = nf_ctrl_call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, size,
                          0, 0, &data);
        if (st != XEN_NETIF_CTRL_STATUS_SUCCESS) {
            goto fail;
        }
        for (uint32_t i = 0; i < size; i++) {
            rss_mapping[i] = table[i] = i % n_queues;
        }
        st = nf_ctrl_call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING,
                          ctrl_table_ref, size, 0, &data);
        if (st != XEN_NETIF_CTRL_STATUS_SUCCESS) {
            goto fail;
        }
    }
    rss_mapping_size = size;
    /* The flags last: from now on the backend hashes. */
    st = nf_ctrl_call(XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, rss_flags, 0, 0,
                      &data);
    if (st != XEN_NETIF_CTRL_STATUS_SUCCESS) {
        goto fail;
    }
    rss_active = true;
    VLOG_INFO("receive-side scaling: flags %#"PRIx32", mapping of %"PRIu32
              " entries over %u queue(s)", rss_flags, size, n_queues);
    return;

fail:
    rss_failures++;
    VLOG_WARN("receive-side scaling refused by the backend (status %"PRId64
              ")", st);
}

/* Checks what the backend did with received frame 'frame' of 'len' bytes
 * on 'q' against receive-side scaling: 'hash' is its hash extra, if any. */
static void
nf_rx_check_hash(struct nf_queue *q, const uint8_t *frame, size_t len,
                 const struct netif_extra_info *hash)
{
    uint32_t want, got;
    uint8_t htype;

    if (!rss_active || !nf_hash_frame(frame, len, &want, &htype)) {
        if (hash) {
            q->stats.rx_hash_bad++;
        }
        return;
    }
    if (!hash) {
        q->stats.rx_hash_missing++;
        return;
    }
    memcpy(&got, hash->u.hash.value, sizeof got);
    if (got != want || hash->u.hash.type != htype
        || hash->u.hash.algorithm != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ) {
        VLOG_WARN_RL(&rl, "queue %u: hash extra %#"PRIx32" type %u, "
                     "expected %#"PRIx32" type %u", q->index, got,
                     hash->u.hash.type, want, htype);
        q->stats.rx_hash_bad++;
        return;
    }
    q->stats.rx_hash_ok++;
    if ((rss_mapping_size ? rss_mapping[want % rss_mapping_size]
         : want % n_queues) != q->index) {
        q->stats.rx_hash_wrong_queue++;
    }
}

/* Frees queue 'q' with everything it granted and allocated.  'n_tx' and
 * 'n_rx' say how many buffers were set up (for partial construction). */
static void
nf_queue_destroy(struct nf_queue *q, unsigned int n_tx, unsigned int n_rx,
                 bool rings, bool ports)
{
    if (ports) {
        xensim_evtchn_unbind(evtchn, q->tx_port);
        if (q->rx_port != q->tx_port) {
            xensim_evtchn_unbind(evtchn, q->rx_port);
        }
    }
    if (rings) {
        nf_ungrant(q->tx_ring_ref, q->tx_ring_frame);
        nf_ungrant(q->rx_ring_ref, q->rx_ring_frame);
    }
    for (unsigned int i = 0; i < n_tx; i++) {
        nf_ungrant(q->tx_gref[i], q->tx_frame[i]);
    }
    for (unsigned int i = 0; i < n_rx; i++) {
        nf_ungrant(q->rx_gref[i], q->rx_frame[i]);
    }
    free(q->gro);
    free(q);
}

/* Creates queue 'index': rings, buffers and event channels. */
static struct nf_queue *
nf_queue_create(unsigned int index)
{
    struct nf_queue *q = xzalloc(sizeof *q);
    unsigned int n_tx = 0, n_rx = 0;
    bool rings = false;
    uint8_t *page;
    int error;

    q->index = index;
    q->tap_fd = index < n_tap_fds ? tap_fds[index] : -1;
    if (q->tap_fd >= 0 && !no_gro) {
        q->gro = xzalloc(sizeof *q->gro);
    }

    page = nf_grant_page(false, &q->tx_ring_frame, &q->tx_ring_ref);
    if (!page) {
        goto error;
    }
    netif_tx_sring_t *txs = ALIGNED_CAST(netif_tx_sring_t *, page);
    SHARED_RING_INIT(txs);
    FRONT_RING_INIT(&q->tx, txs, XENSIM_PAGE_SIZE);

    page = nf_grant_page(false, &q->rx_ring_frame, &q->rx_ring_ref);
    if (!page) {
        nf_ungrant(q->tx_ring_ref, q->tx_ring_frame);
        goto error;
    }
    netif_rx_sring_t *rxs = ALIGNED_CAST(netif_rx_sring_t *, page);
    SHARED_RING_INIT(rxs);
    FRONT_RING_INIT(&q->rx, rxs, XENSIM_PAGE_SIZE);
    rings = true;

    for (; n_tx < NF_TX_RING_SIZE; n_tx++) {
        q->tx_page[n_tx] = nf_grant_page(true, &q->tx_frame[n_tx],
                                         &q->tx_gref[n_tx]);
        if (!q->tx_page[n_tx]) {
            goto error;
        }
        q->tx_free[n_tx] = NF_TX_RING_SIZE - 1 - n_tx;
    }
    q->n_tx_free = NF_TX_RING_SIZE;
    for (; n_rx < NF_RX_RING_SIZE; n_rx++) {
        q->rx_page[n_rx] = nf_grant_page(false, &q->rx_frame[n_rx],
                                         &q->rx_gref[n_rx]);
        if (!q->rx_page[n_rx]) {
            goto error;
        }
    }

    error = xensim_evtchn_alloc_unbound(evtchn, be_domid, &q->tx_port);
    if (error) {
        VLOG_ERR("event channel allocation failed (%s)",
                 ovs_strerror(error));
        goto error;
    }
    if (split_channels) {
        error = xensim_evtchn_alloc_unbound(evtchn, be_domid, &q->rx_port);
        if (error) {
            VLOG_ERR("event channel allocation failed (%s)",
                     ovs_strerror(error));
            xensim_evtchn_unbind(evtchn, q->tx_port);
            goto error;
        }
    } else {
        q->rx_port = q->tx_port;
    }
    return q;

error:
    if (rings) {
        nf_queue_destroy(q, n_tx, n_rx, true, false);
    } else {
        free(q);
    }
    return NULL;
}

/* Adds 'b' into 'a'. */
static void
nf_stats_add(struct nf_stats *a, const struct nf_stats *b)
{
    const uint64_t *src = (const uint64_t *) b;
    uint64_t *dst = (uint64_t *) a;

    for (size_t i = 0; i < sizeof *a / sizeof(uint64_t); i++) {
        dst[i] += src[i];
    }
}

/* Data path: RX buffers. */

/* Posts every free RX slot, when at least NF_RX_REFILL_BATCH are free or
 * 'force' is true, and notifies the backend if it asked for it. */
static void
nf_rx_refill(struct nf_queue *q, bool force)
{
    RING_IDX prod = q->rx.req_prod_pvt;
    RING_IDX posted = prod - q->rx.rsp_cons;
    unsigned int n_free;
    int notify;

    if (posted > RING_SIZE(&q->rx)) {
        /* Only the rx-prod-jump attack claims more buffers than the ring
         * holds.  "Free" would wrap to 2^32 and the loop below would spin
         * for seconds (minutes under a sanitizer) with the guest deaf to
         * its control socket; a ring in that state is refilled only after
         * a reconnect makes a new one. */
        return;
    }
    n_free = RING_SIZE(&q->rx) - posted;
    if (!n_free || (!force && n_free < NF_RX_REFILL_BATCH)
        || hostile_rx_stall) {
        return;
    }
    for (; n_free; n_free--, prod++) {
        unsigned int idx = prod & (NF_RX_RING_SIZE - 1);
        netif_rx_request_t *req = RING_GET_REQUEST(&q->rx, prod);

        req->id = idx;
        req->pad = 0;
        req->gref = (hostile_rx_readonly && hostile_ro_granted
                     ? hostile_ro_gref : q->rx_gref[idx]);
    }
    q->rx.req_prod_pvt = prod;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
    if (notify && !no_rx_notify) {
        xensim_evtchn_notify(evtchn, q->rx_port);
        q->stats.notify_rx_sent++;
    }
}

/* Offloads. */

/* Finds the L4 header of Ethernet frame 'p' ('len' bytes).  On success
 * returns true with its offset in '*l4_ofs', the IP header's in '*l3_ofs',
 * the protocol in '*proto' and the IP version in '*ipv6'. */
static bool
nf_find_l4(const uint8_t *p, size_t len, size_t *l3_ofs, size_t *l4_ofs,
           uint8_t *proto, bool *ipv6)
{
    size_t ofs = 12;
    uint16_t type;

    if (len < ETH_HEADER_LEN) {
        return false;
    }
    type = (p[ofs] << 8) | p[ofs + 1];
    while (type == ETH_TYPE_VLAN_8021Q || type == ETH_TYPE_VLAN_8021AD) {
        ofs += 4;
        if (ofs + 2 > len) {
            return false;
        }
        type = (p[ofs] << 8) | p[ofs + 1];
    }
    ofs += 2;
    *l3_ofs = ofs;
    if (type == ETH_TYPE_IP) {
        if (ofs + 20 > len || (p[ofs] >> 4) != 4) {
            return false;
        }
        *proto = p[ofs + 9];
        *ipv6 = false;
        *l4_ofs = ofs + (p[ofs] & 0xf) * 4;
    } else if (type == ETH_TYPE_IPV6) {
        uint8_t next;

        if (ofs + 40 > len) {
            return false;
        }
        next = p[ofs + 6];
        ofs += 40;
        /* Skip hop-by-hop, routing, fragment and destination options. */
        while (next == 0 || next == 43 || next == 44 || next == 60) {
            if (ofs + 8 > len) {
                return false;
            }
            size_t hlen = next == 44 ? 8 : (p[ofs + 1] + 1) * 8;
            next = p[ofs];
            ofs += hlen;
        }
        *proto = next;
        *ipv6 = true;
        *l4_ofs = ofs;
    } else {
        return false;
    }
    return *l4_ofs <= len;
}

/* Returns the offset of the checksum field in an L4 header of 'proto', or 0
 * if the protocol has no checksum that can be offloaded. */
static size_t
nf_csum_offset(uint8_t proto)
{
    return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 0;
}

/* Completes a partial checksum in software: the field at 'start' +
 * 'offset' holds the pseudo-header sum. */
static bool
nf_csum_complete(uint8_t *p, size_t len, size_t start, size_t offset)
{
    ovs_be16 sum;

    if (start + offset + 2 > len) {
        return false;
    }
    sum = csum(p + start, len - start);
    if (!sum) {
        /* UDP sends a computed zero as all-ones; the same for TCP. */
        sum = htons(0xffff);
    }
    memcpy(p + start + offset, &sum, 2);
    return true;
}

/* Writes the pseudo-header sum (not complemented) of the L4 packet at
 * 'l4_ofs', whose IP header is at 'l3_ofs', into its checksum field, as
 * Linux's skb_checksum_setup() does for GSO packets that arrive without
 * csum_blank. */
static void
nf_set_pseudo_csum(uint8_t *p, size_t len, size_t l3_ofs, size_t l4_ofs,
                   uint8_t proto, bool ipv6)
{
    size_t field = l4_ofs + nf_csum_offset(proto);
    uint32_t partial = 0;
    ovs_be16 value;

    if (field + 2 > len) {
        return;
    }
    /* Source and destination addresses. */
    if (ipv6) {
        partial = csum_continue(partial, p + l3_ofs + 8, 32);
    } else {
        partial = csum_continue(partial, p + l3_ofs + 12, 8);
    }
    partial = csum_add16(partial, htons(proto));
    partial = csum_add32(partial, htonl(len - l4_ofs));
    value = ~csum_finish(partial);
    memcpy(p + field, &value, 2);
}

/* Data path: RX. */

/* Hands the received frame in frame_buf (after room for the virtio-net
 * header) to the guest's network side. */
/* Receive coalescing, as Linux's netfront gets from napi_gro_receive():
 * consecutive full-sized segments of one TCP flow, in order, received in one
 * poll of the ring, go to the tap as one GSO frame.  Only plain segments
 * whose checksum the backend vouched for (csum_blank or data_validated)
 * qualify, and only if their headers agree (addresses, ports, ACK, window,
 * TCP options, no flags beyond ACK and PSH); a PSH ends the frame. */

static void
nf_tap_write(struct nf_queue *q, uint8_t *buf, size_t len)
{
    if (write(q->tap_fd, buf, len) < 0) {
        VLOG_DBG_RL(&rl, "tap write failed (%s)", ovs_strerror(errno));
        q->stats.rx_dropped++;
    }
}

static void
nf_gro_flush(struct nf_queue *q)
{
    struct nf_gro *g = q->gro;
    struct virtio_net_hdr vh;
    uint8_t *frame;

    if (!g || !g->len) {
        return;
    }
    frame = g->buf + NF_VNET_HDR_LEN;
    memset(&vh, 0, sizeof vh);
    if (g->segs == 1) {
        vh.flags = g->vh_flags;
        if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
            vh.csum_start = g->l4_ofs;
            vh.csum_offset = 16;
        }
    } else {
        size_t l3_len = g->len - g->l3_ofs;

        if (g->ipv6) {
            ovs_be16 plen = htons(l3_len - 40);

            memcpy(frame + g->l3_ofs + 4, &plen, 2);
        } else {
            ovs_be16 tot = htons(l3_len), zero = 0, sum;

            memcpy(frame + g->l3_ofs + 2, &tot, 2);
            memcpy(frame + g->l3_ofs + 10, &zero, 2);
            sum = csum(frame + g->l3_ofs, g->l4_ofs - g->l3_ofs);
            memcpy(frame + g->l3_ofs + 10, &sum, 2);
        }
        nf_set_pseudo_csum(frame, g->len, g->l3_ofs, g->l4_ofs, IPPROTO_TCP,
                           g->ipv6);
        vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh.csum_start = g->l4_ofs;
        vh.csum_offset = 16;
        vh.gso_type = g->ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6
                              : VIRTIO_NET_HDR_GSO_TCPV4;
        vh.gso_size = g->mss;
        vh.hdr_len = g->hdr_len;
    }
    memcpy(g->buf, &vh, sizeof vh);
    nf_tap_write(q, g->buf, NF_VNET_HDR_LEN + g->len);
    g->len = 0;
}

/* Offers the 'len'-byte frame in 'frame_buf' to receive coalescing.
 * Returns true if it was taken (held or merged). */
static bool
nf_gro_receive(struct nf_queue *q, size_t len, uint16_t flags)
{
    const uint8_t *p = frame_buf + NF_VNET_HDR_LEN;
    struct nf_gro *g = q->gro;
    size_t l3_ofs, l4_ofs, thlen, payload;
    uint8_t proto, tflags;
    uint32_t seq;
    bool ipv6;

    if (!g || !(flags & (NETRXF_csum_blank | NETRXF_data_validated))
        || !nf_find_l4(p, len, &l3_ofs, &l4_ofs, &proto, &ipv6)
        || proto != IPPROTO_TCP || l4_ofs + 20 > len
        || (ipv6 ? l4_ofs != l3_ofs + 40 : l4_ofs != l3_ofs + 20)) {
        nf_gro_flush(q);
        return false;
    }
    if (!ipv6) {
        uint16_t frag = (p[l3_ofs + 6] << 8) | p[l3_ofs + 7];
        size_t tot = (p[l3_ofs + 2] << 8) | p[l3_ofs + 3];

        if (frag & 0x3fff || l3_ofs + tot != len) {
            nf_gro_flush(q);
            return false;
        }
    } else if (l3_ofs + 40 + ((p[l3_ofs + 4] << 8) | p[l3_ofs + 5]) != len) {
        nf_gro_flush(q);
        return false;
    }
    thlen = (p[l4_ofs + 12] >> 4) * 4;
    tflags = p[l4_ofs + 13];
    if (thlen < 20 || l4_ofs + thlen >= len
        || (tflags & ~(TCP_ACK | TCP_PSH)) || !(tflags & TCP_ACK)) {
        nf_gro_flush(q);
        return false;
    }
    payload = len - l4_ofs - thlen;
    seq = ((uint32_t) p[l4_ofs + 4] << 24) | (p[l4_ofs + 5] << 16)
          | (p[l4_ofs + 6] << 8) | p[l4_ofs + 7];

    if (g->len) {
        const uint8_t *h = g->buf + NF_VNET_HDR_LEN;

        /* Same flow and headers (TCP flags, checksum and sequence number
         * aside), in order, the previous one full-sized, room left. */
        if (g->l3_ofs == l3_ofs && g->l4_ofs == l4_ofs && g->ipv6 == ipv6
            && g->hdr_len == l4_ofs + thlen && seq == g->next_seq
            && g->last == g->mss && payload <= g->mss
            && g->len + payload <= NF_MAX_FRAME
            && !memcmp(h, p, l3_ofs)
            && !memcmp(h + l3_ofs + (ipv6 ? 8 : 12), p + l3_ofs
                       + (ipv6 ? 8 : 12), ipv6 ? 32 : 8)
            && !memcmp(h + l4_ofs, p + l4_ofs, 4)
            && !memcmp(h + l4_ofs + 8, p + l4_ofs + 8, 4)
            && !memcmp(h + l4_ofs + 14, p + l4_ofs + 14, 2)
            && !memcmp(h + l4_ofs + 20, p + l4_ofs + 20, thlen - 20)) {
            memcpy(g->buf + NF_VNET_HDR_LEN + g->len, p + l4_ofs + thlen,
                   payload);
            g->len += payload;
            g->next_seq += payload;
            g->last = payload;
            g->segs++;
            g->buf[NF_VNET_HDR_LEN + l4_ofs + 13] |= tflags & TCP_PSH;
            q->stats.rx_gro_merged++;
            if (tflags & TCP_PSH) {
                nf_gro_flush(q);
            }
            return true;
        }
        nf_gro_flush(q);
    }
    if (tflags & TCP_PSH) {
        return false;
    }
    memcpy(g->buf + NF_VNET_HDR_LEN, p, len);
    g->len = len;
    g->l3_ofs = l3_ofs;
    g->l4_ofs = l4_ofs;
    g->hdr_len = l4_ofs + thlen;
    g->ipv6 = ipv6;
    g->mss = g->last = payload;
    g->next_seq = seq + payload;
    g->segs = 1;
    g->vh_flags = (flags & NETRXF_csum_blank ? VIRTIO_NET_HDR_F_NEEDS_CSUM
                   : VIRTIO_NET_HDR_F_DATA_VALID);
    return true;
}

static void
nf_rx_deliver(struct nf_queue *q, size_t len, uint16_t flags,
              const struct netif_extra_info *gso)
{
    uint8_t *frame = frame_buf + NF_VNET_HDR_LEN;

    if (mode == NF_MODE_PCAP && pcap_out) {
        struct dp_packet pkt;

        dp_packet_use_const(&pkt, frame, len);
        ovs_pcap_write(pcap_out, &pkt);
        dp_packet_uninit(&pkt);
    } else if (mode == NF_MODE_TAP && q->tap_fd >= 0) {
        struct virtio_net_hdr vh;

        if (!gso && nf_gro_receive(q, len, flags)) {
            return;
        }
        nf_gro_flush(q);
        memset(&vh, 0, sizeof vh);
        if ((flags & NETRXF_csum_blank) || gso) {
            size_t l3_ofs, l4_ofs;
            uint8_t proto;
            bool ipv6;

            if (!nf_find_l4(frame, len, &l3_ofs, &l4_ofs, &proto, &ipv6)
                || !nf_csum_offset(proto)
                || (gso && proto != IPPROTO_TCP)) {
                VLOG_WARN_RL(&rl, "queue %u: cannot set up checksum of "
                             "received packet", q->index);
                q->stats.rx_errors++;
                return;
            }
            vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
            vh.csum_start = l4_ofs;
            vh.csum_offset = nf_csum_offset(proto);
            if (gso) {
                if (l4_ofs + 20 > len) {
                    q->stats.rx_errors++;
                    return;
                }
                if (!(flags & NETRXF_csum_blank)) {
                    nf_set_pseudo_csum(frame, len, l3_ofs, l4_ofs, proto,
                                       ipv6);
                }
                vh.gso_type = (gso->u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6
                               ? VIRTIO_NET_HDR_GSO_TCPV6
                               : VIRTIO_NET_HDR_GSO_TCPV4);
                vh.gso_size = gso->u.gso.size;
                vh.hdr_len = l4_ofs + (frame[l4_ofs + 12] >> 4) * 4;
            }
        } else if (flags & NETRXF_data_validated) {
            vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
        }
        memcpy(frame_buf, &vh, sizeof vh);
        nf_tap_write(q, frame_buf, NF_VNET_HDR_LEN + len);
    }
}

/* Processes the RX responses of 'q': up to NF_BUDGET packets.  Returns true
 * if the budget ran out with work left. */
static bool
nf_rx_poll__(struct nf_queue *q)
{
    unsigned int budget = NF_BUDGET;

    for (;;) {
        RING_IDX prod = q->rx.sring->rsp_prod;
        RING_IDX cons = q->rx.rsp_cons;
        bool incomplete = false;
        int more;

        xen_rmb();
        if (prod - cons > q->rx.req_prod_pvt - cons) {
            VLOG_ERR_RL(&rl, "queue %u: impossible RX rsp_prod %"PRIu32
                        " (rsp_cons %"PRIu32", req_prod %"PRIu32")",
                        q->index, prod, cons, q->rx.req_prod_pvt);
            q->broken = true;
            q->stats.rx_errors++;
            return false;
        }

        while (cons != prod && budget) {
            netif_rx_response_t first, rsp;
            struct netif_extra_info gso, hash;
            bool have_gso = false, have_hash = false, bad = false;
            int xdp = -1;           /* The XDP extra's headroom. */
            RING_IDX idx = cons;
            size_t len = 0;
            unsigned int n_frags = 0;

            first = *RING_GET_RESPONSE(&q->rx, idx);
            idx++;
            rsp = first;

            /* Extra-info slots follow the first response. */
            if (first.flags & NETRXF_extra_info) {
                struct netif_extra_info ex;
                do {
                    if (idx == prod) {
                        incomplete = true;
                        break;
                    }
                    memcpy(&ex, RING_GET_RESPONSE(&q->rx, idx), sizeof ex);
                    idx++;
                    if (ex.type == XEN_NETIF_EXTRA_TYPE_GSO) {
                        gso = ex;
                        have_gso = true;
                    } else if (ex.type == XEN_NETIF_EXTRA_TYPE_HASH) {
                        hash = ex;
                        have_hash = true;
                    } else if (ex.type == NF_EXTRA_TYPE_XDP && xdp_headroom) {
                        /* Linux's netfront knows it once it asked. */
                        xdp = ex.u.pad[0];
                    } else if (ex.type == XEN_NETIF_EXTRA_TYPE_NONE
                               || ex.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
                        bad = true;
                    }
                } while (ex.flags & XEN_NETIF_EXTRA_FLAG_MORE);
                if (incomplete) {
                    break;
                }
            }

            /* Data slots: the first one, then fragments while more_data. */
            RING_IDX slot = cons;
            for (;;) {
                unsigned int buf = slot & (NF_RX_RING_SIZE - 1);

                if (rsp.id != buf) {
                    bad = true;
                } else if (rsp.status < 0) {
                    q->stats.rx_error_responses++;
                    bad = true;
                } else if (rsp.offset + rsp.status > XENSIM_PAGE_SIZE
                           || len + rsp.status > NF_MAX_FRAME) {
                    bad = true;
                } else if (rsp.offset != (xdp >= 0 ? xdp : 0)) {
                    /* Linux's netfront reads the data at the headroom the
                     * XDP extra announces; without one, at 0. */
                    q->stats.rx_offset_bad++;
                    bad = true;
                } else if (!bad && (!sink || (rss_active && !len))) {
                    memcpy(frame_buf + NF_VNET_HDR_LEN + len,
                           q->rx_page[buf] + rsp.offset, rsp.status);
                }
                if (rsp.status > 0) {
                    len += rsp.status;
                }
                n_frags++;
                if (!(rsp.flags & NETRXF_more_data)) {
                    break;
                }
                if (idx == prod) {
                    incomplete = true;
                    break;
                }
                slot = idx;
                rsp = *RING_GET_RESPONSE(&q->rx, idx);
                idx++;
            }
            if (incomplete) {
                break;
            }
            if (n_frags > XEN_NETIF_NR_SLOTS_MIN) {
                bad = true;
            }

            cons = idx;
            budget--;
            if (bad) {
                q->stats.rx_errors++;
                continue;
            }
            q->stats.rx_packets++;
            q->stats.rx_bytes += len;
            if (have_gso) {
                q->stats.rx_gso++;
            }
            if (xdp >= 0) {
                q->stats.rx_xdp++;
            }
            if (use_rss) {
                nf_rx_check_hash(q, frame_buf + NF_VNET_HDR_LEN,
                                 sink ? MIN(len, first.status) : len,
                                 have_hash ? &hash : NULL);
            } else if (have_hash) {
                q->stats.rx_hash_bad++;     /* Never asked for. */
            }
            if (first.flags & NETRXF_csum_blank) {
                q->stats.rx_csum_blank++;
            }
            if (!sink) {
                nf_rx_deliver(q, len, first.flags, have_gso ? &gso : NULL);
            }
        }
        q->rx.rsp_cons = cons;
        nf_rx_refill(q, false);

        if (incomplete) {
            /* Wait for the rest of the packet. */
            q->rx.sring->rsp_event = prod + 1;
            xen_mb();
            if (q->rx.sring->rsp_prod == prod) {
                return false;
            }
            continue;
        }
        if (!budget) {
            return true;
        }
        RING_FINAL_CHECK_FOR_RESPONSES(&q->rx, more);
        if (!more) {
            return false;
        }
    }
}

/* Receives what the backend delivered on 'q' (up to a budget; returns true
 * if more is waiting), then hands what receive coalescing holds to the
 * tap, as Linux's netfront flushes GRO at the end of its NAPI poll. */
static bool
nf_rx_poll(struct nf_queue *q)
{
    bool more = nf_rx_poll__(q);

    nf_gro_flush(q);
    return more;
}

/* Data path: TX. */

/* Collects TX responses and frees their buffers.  Asks for a notification
 * when half of the requests still outstanding have been answered, so that a
 * busy ring generates few events. */
static void
nf_tx_gc(struct nf_queue *q)
{
    RING_IDX prod;

    do {
        prod = q->tx.sring->rsp_prod;
        xen_rmb();
        if (prod - q->tx.rsp_cons > q->tx.req_prod_pvt - q->tx.rsp_cons) {
            VLOG_ERR_RL(&rl, "queue %u: impossible TX rsp_prod %"PRIu32
                        " (rsp_cons %"PRIu32", req_prod %"PRIu32")",
                        q->index, prod, q->tx.rsp_cons, q->tx.req_prod_pvt);
            q->broken = true;
            return;
        }
        for (RING_IDX cons = q->tx.rsp_cons; cons != prod; cons++) {
            netif_tx_response_t rsp = *RING_GET_RESPONSE(&q->tx, cons);

            if (rsp.status == NETIF_RSP_NULL) {
                continue;
            }
            if (rsp.id >= NF_TX_RING_SIZE || !q->tx_busy[rsp.id]) {
                q->stats.tx_bad_responses++;
                continue;
            }
            q->tx_busy[rsp.id] = false;
            q->tx_free[q->n_tx_free++] = rsp.id;
            q->stats.tx_responses++;
            if (q->tx_mcast[rsp.id]) {
                q->tx_mcast[rsp.id] = false;
                if (rsp.status == NETIF_RSP_OKAY) {
                    q->stats.mcast_ok++;
                } else {
                    q->stats.mcast_errors++;
                }
            } else if (rsp.status != NETIF_RSP_OKAY) {
                q->stats.tx_error_responses++;
            }
        }
        q->tx.rsp_cons = prod;
        q->tx.sring->rsp_event =
            prod + ((q->tx.sring->req_prod - prod) >> 1) + 1;
        xen_mb();
    } while (q->tx.sring->rsp_prod != prod);
}

/* Returns true if 'q' has room for a packet of 'n_data' data slots and
 * 'n_extra' extra slots. */
static bool
nf_tx_room(const struct nf_queue *q, unsigned int n_data,
           unsigned int n_extra)
{
    return (RING_FREE_REQUESTS(&q->tx) >= n_data + n_extra
            && q->n_tx_free >= n_data);
}

/* Puts one packet ('len' bytes at 'data') on the TX ring of 'q' with TX
 * 'flags' and an optional GSO extra.  If 'constant' is true the data is the
 * generator's frame, already in buffers marked filled.  The caller has
 * checked nf_tx_room(). */
static void
nf_tx_queue(struct nf_queue *q, const uint8_t *data, size_t len,
            uint16_t flags, const struct netif_extra_info *gso,
            bool constant)
{
    unsigned int n_data = len ? DIV_ROUND_UP(len, XENSIM_PAGE_SIZE) : 1;
    RING_IDX prod = q->tx.req_prod_pvt;

    for (unsigned int i = 0; i < n_data; i++) {
        size_t ofs = (size_t) i * XENSIM_PAGE_SIZE;
        size_t chunk = MIN(len - ofs, XENSIM_PAGE_SIZE);
        uint16_t id = q->tx_free[--q->n_tx_free];
        netif_tx_request_t *req = RING_GET_REQUEST(&q->tx, prod);

        q->tx_busy[id] = true;
        if (!constant || !q->tx_filled[id]) {
            memcpy(q->tx_page[id], data + ofs, chunk);
            q->tx_filled[id] = constant;
        }
        req->gref = q->tx_gref[id];
        req->offset = 0;
        req->id = id;
        if (i == 0) {
            req->size = len;
            req->flags = flags | (n_data > 1 ? NETTXF_more_data : 0)
                         | (gso ? NETTXF_extra_info : 0);
        } else {
            req->size = chunk;
            req->flags = i < n_data - 1 ? NETTXF_more_data : 0;
        }
        prod++;
        if (i == 0 && gso) {
            struct netif_extra_info *ex =
                (struct netif_extra_info *) RING_GET_REQUEST(&q->tx, prod);
            *ex = *gso;
            prod++;
        }
    }
    q->tx.req_prod_pvt = prod;
    q->stats.tx_packets++;
    q->stats.tx_bytes += len;
    if (gso) {
        q->stats.tx_gso++;
    }
    if (flags & NETTXF_csum_blank) {
        q->stats.tx_csum_blank++;
    }
}

/* Publishes queued TX requests and notifies the backend if it asked. */
static void
nf_tx_push(struct nf_queue *q)
{
    int notify;

    if (q->tx.req_prod_pvt == q->tx.sring->req_prod) {
        return;
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, notify);
    if (notify) {
        xensim_evtchn_notify(evtchn, q->tx_port);
        q->stats.notify_tx_sent++;
    }
}

/* Multicast control. */

/* Puts a multicast-control request ('op' XEN_NETIF_EXTRA_TYPE_MCAST_ADD or
 * _DEL for 'addr') on 'q', as Windows' xenvif does: an empty data slot
 * followed by the extra.  Returns false if there is no room. */
static bool
nf_tx_mcast(struct nf_queue *q, uint8_t op, const struct eth_addr *addr)
{
    netif_tx_request_t *req;
    struct netif_extra_info *ex;
    uint16_t id;

    if (!nf_tx_room(q, 1, 1)) {
        return false;
    }
    id = q->tx_free[--q->n_tx_free];
    q->tx_busy[id] = true;
    q->tx_mcast[id] = true;
    req = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);
    req->gref = q->tx_gref[id];
    req->offset = 0;
    req->flags = NETTXF_extra_info;
    req->id = id;
    req->size = 0;
    q->tx.req_prod_pvt++;
    ex = (struct netif_extra_info *) RING_GET_REQUEST(&q->tx,
                                                      q->tx.req_prod_pvt);
    memset(ex, 0, sizeof *ex);
    ex->type = op;
    memcpy(ex->u.mcast.addr, addr->ea, ETH_ADDR_LEN);
    q->tx.req_prod_pvt++;
    if (op == XEN_NETIF_EXTRA_TYPE_MCAST_ADD) {
        mcast_add_sent++;
    } else {
        mcast_del_sent++;
    }
    return true;
}

/* Reads the link-layer groups the guest's stack joined on the tap (the
 * namespace's /proc/net/dev_mcast) into 'groups'.  Returns false if it
 * cannot. */
static bool
nf_mcast_read(struct sset *groups)
{
    char buf[16384];
    ssize_t n;

    if (dev_mcast_fd < 0 || lseek(dev_mcast_fd, 0, SEEK_SET) < 0) {
        return false;
    }
    n = read(dev_mcast_fd, buf, sizeof buf - 1);
    if (n < 0) {
        return false;
    }
    buf[n] = '\0';
    for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char name[IFNAMSIZ + 1], hex[13];
        int ifindex, users, global;

        /* "ifindex name users global 01005e000001" */
        if (sscanf(line, "%d %16s %d %d %12s", &ifindex, name, &users,
                   &global, hex) == 5 && !strcmp(name, tap_name)
            && strlen(hex) == 12) {
            char mac_s[ETH_ADDR_STRLEN + 1];

            snprintf(mac_s, sizeof mac_s, "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s",
                     hex, hex + 2, hex + 4, hex + 6, hex + 8, hex + 10);
            sset_add(groups, mac_s);
        }
    }
    return true;
}

/* Tells the backend about the groups the tap joined and left since the
 * last time (--mcast in tap mode), ten times a second. */
static void
nf_mcast_run(void)
{
    struct sset now = SSET_INITIALIZER(&now);
    struct nf_queue *q = n_queues ? queues[0] : NULL;
    const char *g;

    if (!use_mcast || !be_mcast || dev_mcast_fd < 0 || !q
        || time_msec() < next_mcast_poll) {
        return;
    }
    next_mcast_poll = time_msec() + 100;
    if (!nf_mcast_read(&now)) {
        sset_destroy(&now);
        return;
    }
    SSET_FOR_EACH (g, &now) {
        struct eth_addr ea;

        if (!sset_contains(&mcast_told, g) && eth_addr_from_string(g, &ea)
            && nf_tx_mcast(q, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, &ea)) {
            sset_add(&mcast_told, g);
        }
    }
    SSET_FOR_EACH_SAFE (g, &mcast_told) {
        struct eth_addr ea;

        if (!sset_contains(&now, g) && eth_addr_from_string(g, &ea)
            && nf_tx_mcast(q, XEN_NETIF_EXTRA_TYPE_MCAST_DEL, &ea)) {
            sset_find_and_delete(&mcast_told, g);
        }
    }
    nf_tx_push(q);
    sset_destroy(&now);
}

/* Hostile guest.
 *
 * Every attack breaks the netif protocol the way a buggy or malicious
 * frontend could, on queue 0, and notifies the backend so that it looks at
 * once.  What a backend should do about each is in xensim.rst ("Hostile
 * mode"); the tests in tests/xvif-hostile.at check that ovs-vswitchd does
 * it.  The buffers used are the queue's own TX pages, so their ids are taken
 * from the free stack like a normal packet's. */

/* Writes a small valid Ethernet frame (broadcast, from our MAC, a local
 * experimental EtherType) of 'len' bytes at 'p'. */
static void
hostile_fill(uint8_t *p, size_t len)
{
    memset(p, 0xa5, len);
    if (len >= ETH_HEADER_LEN) {
        memset(p, 0xff, ETH_ADDR_LEN);
        memcpy(p + ETH_ADDR_LEN, mac.ea, ETH_ADDR_LEN);
        p[12] = 0x88;
        p[13] = 0xb5;
    }
}

/* Takes a free TX buffer id of 'q' (marked busy, so that a response to it
 * frees it), or returns -1. */
static int
hostile_take_id(struct nf_queue *q)
{
    uint16_t id;

    if (!q->n_tx_free) {
        return -1;
    }
    id = q->tx_free[--q->n_tx_free];
    q->tx_busy[id] = true;
    q->tx_filled[id] = false;
    hostile_fill(q->tx_page[id], XENSIM_PAGE_SIZE);
    return id;
}

/* Appends one raw TX request to 'q'. */
static void
hostile_req(struct nf_queue *q, uint32_t gref, uint16_t offset,
            uint16_t flags, uint16_t id, uint16_t size)
{
    netif_tx_request_t *req = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);

    req->gref = gref;
    req->offset = offset;
    req->flags = flags;
    req->id = id;
    req->size = size;
    q->tx.req_prod_pvt++;
}

/* Appends one raw extra-info slot to 'q'. */
static void
hostile_extra(struct nf_queue *q, uint8_t type, uint8_t flags,
              uint16_t gso_size, uint8_t gso_type)
{
    struct netif_extra_info *ex = (struct netif_extra_info *)
        RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);

    memset(ex, 0, sizeof *ex);
    ex->type = type;
    ex->flags = flags;
    ex->u.gso.size = gso_size;
    ex->u.gso.type = gso_type;
    q->tx.req_prod_pvt++;
}

/* Appends a chain of 'n' data slots of 'each' bytes (the first slot's size
 * being 'first_size'), with 'last_flags' on the last slot. */
static bool
hostile_chain(struct nf_queue *q, unsigned int n, uint16_t first_size,
              uint16_t each, uint16_t last_flags)
{
    if (q->n_tx_free < n || RING_FREE_REQUESTS(&q->tx) < n) {
        return false;
    }
    for (unsigned int i = 0; i < n; i++) {
        int id = hostile_take_id(q);
        uint16_t flags = i + 1 < n ? NETTXF_more_data : last_flags;

        hostile_req(q, q->tx_gref[id], 0, flags, id, i ? each : first_size);
    }
    return true;
}

/* Appends an IPv6 TCP GSO super-frame whose headers include a 2 KB
 * hop-by-hop option header, so that no segment of an MTU-sized frame has
 * room for payload (a backend or switch that computes the segment size as
 * MTU minus headers in 16 bits wraps: the XSA-423 class).  Otherwise
 * valid: the lengths agree and the checksum is left to the backend. */
static bool
hostile_gso_big_headers(struct nf_queue *q)
{
    enum { HBH = 2048, PAYLOAD = 3000 };
    const size_t total = ETH_HEADER_LEN + IPV6_HEADER_LEN + HBH
                         + TCP_HEADER_LEN + PAYLOAD;
    uint8_t frame[ETH_HEADER_LEN + IPV6_HEADER_LEN + HBH + TCP_HEADER_LEN
                  + PAYLOAD];
    uint8_t *ip6 = frame + ETH_HEADER_LEN;
    uint8_t *hbh = ip6 + IPV6_HEADER_LEN;
    uint8_t *tcp = hbh + HBH;
    ovs_be16 be;
    size_t ofs;
    int id0, id1;

    if (q->n_tx_free < 2 || RING_FREE_REQUESTS(&q->tx) < 3) {
        return false;
    }
    memset(frame, 0, sizeof frame);
    memcpy(frame, gen_dst.ea, ETH_ADDR_LEN);
    memcpy(frame + ETH_ADDR_LEN, mac.ea, ETH_ADDR_LEN);
    be = htons(ETH_TYPE_IPV6);
    memcpy(frame + 2 * ETH_ADDR_LEN, &be, 2);
    /* IPv6: version 6, payload length, next header hop-by-hop, hop limit,
     * fe80::1 -> fe80::2. */
    ip6[0] = 0x60;
    be = htons(HBH + TCP_HEADER_LEN + PAYLOAD);
    memcpy(ip6 + 4, &be, 2);
    ip6[6] = IPPROTO_HOPOPTS;
    ip6[7] = 64;
    ip6[8] = ip6[24] = 0xfe;
    ip6[9] = ip6[25] = 0x80;
    ip6[23] = 1;
    ip6[39] = 2;
    /* Next header TCP, (255 + 1) * 8 bytes, filled with PadN options. */
    hbh[0] = IPPROTO_TCP;
    hbh[1] = HBH / 8 - 1;
    ofs = 2;
    while (ofs < HBH) {
        size_t len = MIN(HBH - ofs - 2, 255);

        hbh[ofs] = 1;           /* PadN. */
        hbh[ofs + 1] = len;
        ofs += 2 + len;
    }
    /* TCP: ports 40000 -> 5201, header of 20 bytes, ACK. */
    be = htons(40000);
    memcpy(tcp, &be, 2);
    be = htons(5201);
    memcpy(tcp + 2, &be, 2);
    tcp[12] = 5 << 4;
    tcp[13] = 0x10;
    tcp[15] = 0xff;

    id0 = hostile_take_id(q);
    id1 = hostile_take_id(q);
    memcpy(q->tx_page[id0], frame, XENSIM_PAGE_SIZE);
    memcpy(q->tx_page[id1], frame + XENSIM_PAGE_SIZE,
           total - XENSIM_PAGE_SIZE);
    hostile_req(q, q->tx_gref[id0], 0, NETTXF_more_data | NETTXF_extra_info
                | NETTXF_csum_blank | NETTXF_data_validated, id0, total);
    hostile_extra(q, XEN_NETIF_EXTRA_TYPE_GSO, 0, 1400,
                  XEN_NETIF_GSO_TYPE_TCPV6);
    hostile_req(q, q->tx_gref[id1], 0, 0, id1, total - XENSIM_PAGE_SIZE);
    return true;
}

/* Publishes what the attack wrote and notifies the backend on 'q' whether or
 * not it asked. */
static void
hostile_push(struct nf_queue *q)
{
    xen_wmb();
    q->tx.sring->req_prod = q->tx.req_prod_pvt;
    xen_mb();
    xensim_evtchn_notify(evtchn, q->tx_port);
    q->stats.notify_tx_sent++;
}

/* Rewrites the unanswered TX requests of 'q' at random for 'ms'
 * milliseconds, while the backend may be reading them (a time-of-check to
 * time-of-use attack on a backend that reads the ring twice). */
static void
hostile_flip(struct nf_queue *q, long long int ms)
{
    long long int deadline = time_msec() + ms;
    uint32_t seed = time_msec();

    while (time_msec() < deadline) {
        for (RING_IDX i = q->tx.sring->rsp_prod; i != q->tx.req_prod_pvt;
             i++) {
            netif_tx_request_t *req = RING_GET_REQUEST(&q->tx, i);

            seed = seed * 1103515245 + 12345;
            req->size = seed >> 16;
            req->offset = (seed >> 4) & 0xfff;
            req->flags = seed & (NETTXF_more_data | NETTXF_extra_info);
            req->gref = (seed & 0x100) ? req->gref : seed >> 19;
        }
        xensim_evtchn_notify(evtchn, q->tx_port);
    }
}

/* Grants the page that hostile_rx_readonly posts as every RX buffer, and
 * rewrites the RX buffers already posted and not yet used to it. */
static bool
hostile_ro_rx(struct nf_queue *q)
{
    if (!hostile_ro_granted) {
        if (!nf_grant_page(true, &hostile_ro_frame, &hostile_ro_gref)) {
            return false;
        }
        hostile_ro_granted = true;
    }
    hostile_rx_readonly = true;
    for (RING_IDX i = q->rx.sring->rsp_prod; i != q->rx.req_prod_pvt; i++) {
        RING_GET_REQUEST(&q->rx, i)->gref = hostile_ro_gref;
    }
    return true;
}

/* Runs data-path attack 'name' on queue 0.  Returns NULL if successful,
 * otherwise an error message (a string literal). */
static const char *
hostile_attack(const char *name)
{
    struct nf_queue *q = n_queues ? queues[0] : NULL;
    uint16_t csum = NETTXF_csum_blank | NETTXF_data_validated;
    int id;

    if (!q || !nf_data_active()) {
        return "not connected";
    }
    nf_tx_gc(q);
    if (RING_FREE_REQUESTS(&q->tx) < 32 || q->n_tx_free < 32) {
        return "TX ring busy";
    }

    if (!strcmp(name, "valid")) {
        /* One honest packet, to show that the vif still works. */
        hostile_chain(q, 1, 60, 0, 0);
    } else if (!strcmp(name, "bad-gref")) {
        /* A grant reference beyond the grant table. */
        id = hostile_take_id(q);
        hostile_req(q, XENSIM_NR_GRANTS + 7, 0, 0, id, 60);
    } else if (!strcmp(name, "foreign-gref")) {
        /* A grant for another domain than the backend's. */
        uint32_t frame, gref;
        uint8_t *page;

        page = xensim_page_alloc(dom, &frame) ? NULL
               : xensim_page(dom, frame);
        if (!page
            || xensim_gnttab_grant(dom, be_domid + 1000, frame, true,
                                   &gref)) {
            return "cannot grant a page";
        }
        hostile_fill(page, 60);
        id = hostile_take_id(q);
        hostile_req(q, gref, 0, 0, id, 60);
    } else if (!strcmp(name, "cross-page")) {
        id = hostile_take_id(q);
        hostile_req(q, q->tx_gref[id], XENSIM_PAGE_SIZE - 100, 0, id, 200);
    } else if (!strcmp(name, "size-0")) {
        id = hostile_take_id(q);
        hostile_req(q, q->tx_gref[id], 0, 0, id, 0);
    } else if (!strcmp(name, "frags-larger")) {
        /* The first slot's size (the whole packet's) is smaller than its
         * fragments. */
        hostile_chain(q, 3, 100, 200, 0);
    } else if (!strcmp(name, "frags-smaller")) {
        /* The first slot's size is larger than the fragments, so that the
         * first slot's own data would cross its page. */
        hostile_chain(q, 3, 9000, 100, 0);
    } else if (!strcmp(name, "slots-19")) {
        hostile_chain(q, 19, 19 * 100, 100, 0);
    } else if (!strcmp(name, "slots-20")) {
        hostile_chain(q, 20, 20 * 100, 100, 0);
    } else if (!strcmp(name, "slots-21")) {
        hostile_chain(q, 21, 21 * 100, 100, 0);
    } else if (!strcmp(name, "slots-22")) {
        hostile_chain(q, 22, 22 * 100, 100, 0);
    } else if (!strcmp(name, "unterminated")) {
        /* A chain whose last slot still says more_data. */
        hostile_chain(q, 5, 500, 100, NETTXF_more_data);
    } else if (!strcmp(name, "prod-jump")) {
        q->tx.req_prod_pvt += 1000;
    } else if (!strcmp(name, "ctrl-prod-jump")) {
        /* 1000 control requests claimed on a ring of 32. */
        if (!ctrl_on) {
            return "no control ring (use --static-grants)";
        }
        ctrl_ring.req_prod_pvt += 1000;
        xen_wmb();
        ctrl_ring.sring->req_prod = ctrl_ring.req_prod_pvt;
        xensim_evtchn_notify(evtchn, ctrl_port);
        hostile_attacks_run++;
        return NULL;
    } else if (!strcmp(name, "rx-prod-jump")) {
        /* 1000 RX buffers claimed on a ring of 256. */
        q->rx.req_prod_pvt += 1000;
        xen_wmb();
        q->rx.sring->req_prod = q->rx.req_prod_pvt;
        xensim_evtchn_notify(evtchn, q->rx_port);
        hostile_attacks_run++;
        return NULL;
    } else if (!strcmp(name, "prod-back")) {
        /* Valid packets first, so that the backend has answered some. */
        hostile_chain(q, 1, 60, 0, 0);
        hostile_chain(q, 1, 60, 0, 0);
        hostile_push(q);
        for (int i = 0; i < 200 && q->tx.sring->rsp_prod
                                   != q->tx.req_prod_pvt; i++) {
            xnanosleep(5 * 1000 * 1000);
        }
        nf_tx_gc(q);
        q->tx.req_prod_pvt -= 10;
    } else if (!strcmp(name, "flip")) {
        for (int i = 0; i < 16; i++) {
            hostile_chain(q, 1, 60, 0, 0);
        }
        hostile_push(q);
        hostile_flip(q, 200);
        return NULL;
    } else if (!strcmp(name, "extra-unknown")) {
        id = hostile_take_id(q);
        hostile_req(q, q->tx_gref[id], 0, NETTXF_extra_info, id, 60);
        hostile_extra(q, 9, 0, 0, 0);
    } else if (!strcmp(name, "extra-none")) {
        id = hostile_take_id(q);
        hostile_req(q, q->tx_gref[id], 0, NETTXF_extra_info, id, 60);
        hostile_extra(q, XEN_NETIF_EXTRA_TYPE_NONE, 0, 0, 0);
    } else if (!strcmp(name, "gso-size-0")) {
        id = hostile_take_id(q);
        hostile_req(q, q->tx_gref[id], 0, NETTXF_extra_info | csum, id, 60);
        hostile_extra(q, XEN_NETIF_EXTRA_TYPE_GSO, 0, 0,
                      XEN_NETIF_GSO_TYPE_TCPV4);
    } else if (!strcmp(name, "gso-bad-type")) {
        id = hostile_take_id(q);
        hostile_req(q, q->tx_gref[id], 0, NETTXF_extra_info | csum, id, 60);
        hostile_extra(q, XEN_NETIF_EXTRA_TYPE_GSO, 0, 1400, 7);
    } else if (!strcmp(name, "gso-big-headers")) {
        if (!hostile_gso_big_headers(q)) {
            return "no room on the TX ring";
        }
    } else if (!strcmp(name, "dup-id")) {
        /* Two valid packets with the same request id. */
        id = hostile_take_id(q);
        hostile_req(q, q->tx_gref[id], 0, 0, id, 60);
        hostile_req(q, q->tx_gref[id], 0, 0, id, 60);
    } else if (!strcmp(name, "storm") || !strncmp(name, "storm:", 6)
               || !strncmp(name, "ctrl-storm:", 11)) {
        /* Notifications with no request, as fast as we can, on the queue's
         * channels or the control ring's, for 2 seconds or as many as
         * given. */
        const char *colon = strchr(name, ':');
        int secs = colon ? atoi(colon + 1) : 2;
        bool ctrl = name[0] == 'c';
        long long int deadline;

        if (secs <= 0 || secs > 600) {
            return "bad storm duration";
        } else if (ctrl && !ctrl_port) {
            return "no control ring";
        }
        deadline = time_msec() + secs * 1000LL;
        while (time_msec() < deadline) {
            for (int i = 0; i < 1000; i++) {
                if (ctrl) {
                    xensim_evtchn_notify(evtchn, ctrl_port);
                    continue;
                }
                xensim_evtchn_notify(evtchn, q->tx_port);
                if (q->rx_port != q->tx_port) {
                    xensim_evtchn_notify(evtchn, q->rx_port);
                }
            }
            if (!ctrl) {
                q->stats.notify_tx_sent += 1000;
            }
        }
        return NULL;
    } else if (!strcmp(name, "rx-stall")) {
        hostile_rx_stall = true;
        return NULL;
    } else if (!strcmp(name, "rx-post-one")) {
        /* While stalled: one RX buffer, fewer than a jumbo frame needs. */
        RING_IDX prod = q->rx.req_prod_pvt;
        unsigned int idx = prod & (NF_RX_RING_SIZE - 1);
        netif_rx_request_t *req;

        if (prod - q->rx.rsp_cons >= RING_SIZE(&q->rx)) {
            return "the RX ring is full";
        }
        req = RING_GET_REQUEST(&q->rx, prod);
        req->id = idx;
        req->pad = 0;
        req->gref = q->rx_gref[idx];
        q->rx.req_prod_pvt = prod + 1;
        xen_wmb();
        q->rx.sring->req_prod = q->rx.req_prod_pvt;
        xensim_evtchn_notify(evtchn, q->rx_port);
        hostile_attacks_run++;
        return NULL;
    } else if (!strcmp(name, "rx-resume")) {
        hostile_rx_stall = false;
        for (unsigned int i = 0; i < n_queues; i++) {
            nf_rx_refill(queues[i], true);
            xensim_evtchn_notify(evtchn, queues[i]->rx_port);
        }
        return NULL;
    } else if (!strcmp(name, "ro-rx")) {
        if (!hostile_ro_rx(q)) {
            return "cannot grant a page";
        }
        xensim_evtchn_notify(evtchn, q->rx_port);
        return NULL;
    } else {
        return "unknown attack";
    }
    hostile_push(q);
    hostile_attacks_run++;
    return NULL;
}

/* Connect-time attacks, named in --hostile. */
static const char *const hostile_connect_attacks[] = {
    "bad-ring-ref", "bad-evtchn", "too-many-queues", "zero-queues",
    "garbage-features", "ring-lie", "ctrl-no-evtchn", "ctrl-bad-ring-ref",
};

static bool
hostile_is_connect_attack(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(hostile_connect_attacks); i++) {
        if (!strcmp(name, hostile_connect_attacks[i])) {
            return true;
        }
    }
    return false;
}

/* Runs the data-path attacks named in --hostile, once the backend is
 * Connected. */
static void
hostile_run(void)
{
    const char *name;

    if (hostile_done || !nf_data_active() || !be_connected) {
        return;
    }
    hostile_done = true;
    SSET_FOR_EACH (name, &hostile_attacks) {
        if (!hostile_is_connect_attack(name)) {
            const char *error = hostile_attack(name);

            VLOG_INFO("hostile: %s: %s", name, error ? error : "done");
        }
    }
}

/* Writes the connect-time attacks' keys for queue 'q' in directory 'dir'
 * in transaction 't', after the honest ones. */
static bool
hostile_connect_keys(xs_transaction_t t, const char *dir,
                     struct nf_queue *q)
{
    bool ok = true;

    if (sset_contains(&hostile_attacks, "bad-ring-ref")) {
        ok = ok && xs_write_uint(t, dir, "tx-ring-ref", XENSIM_NR_GRANTS + 3);
    }
    if (sset_contains(&hostile_attacks, "bad-evtchn")) {
        ok = ok && xs_write_uint(t, dir, split_channels ? "event-channel-tx"
                                                       : "event-channel",
                                 XENSIM_NR_PORTS - 1);
    }
    if (sset_contains(&hostile_attacks, "ring-lie")) {
        /* More requests outstanding than the ring holds. */
        q->tx.sring->req_prod = q->tx.sring->rsp_prod + 1000;
    }
    return ok;
}

/* Writes the connect-time attacks' top-level keys in 't'. */
static bool
hostile_connect_top_keys(xs_transaction_t t)
{
    bool ok = true;

    if (sset_contains(&hostile_attacks, "too-many-queues")) {
        ok = ok && xs_write_uint(t, fe_path, "multi-queue-num-queues",
                                 NF_MAX_QUEUES + 1);
    }
    if (sset_contains(&hostile_attacks, "zero-queues")) {
        ok = ok && xs_write_uint(t, fe_path, "multi-queue-num-queues", 0);
    }
    if (sset_contains(&hostile_attacks, "ctrl-no-evtchn")) {
        /* A control ring without its event channel. */
        ok = ok && xs_write_uint(t, fe_path, "ctrl-ring-ref", 8);
    }
    if (sset_contains(&hostile_attacks, "ctrl-bad-ring-ref")) {
        /* A grant never made, and a port that exists. */
        ok = (ok && xs_write_uint(t, fe_path, "ctrl-ring-ref",
                                  XENSIM_NR_GRANTS - 1)
              && xs_write_uint(t, fe_path, "event-channel-ctrl",
                               queues[0]->tx_port));
    }
    if (sset_contains(&hostile_attacks, "garbage-features")) {
        static const char *const garbage[][2] = {
            { "feature-sg", "yes" },
            { "feature-gso-tcpv4", "-1" },
            { "feature-gso-tcpv6", "0x1" },
            { "feature-rx-notify", "99999999999999999999999999" },
            { "feature-ipv6-csum-offload", "" },
            { "feature-no-csum-offload", " 1" },
            { "request-multicast-control", "1\n" },
            { "mac", "zz:zz:zz:zz:zz:zz" },
        };

        for (size_t i = 0; ok && i < ARRAY_SIZE(garbage); i++) {
            ok = xs_write_key(t, fe_path, garbage[i][0], garbage[i][1]);
        }
    }
    return ok;
}

/* "netfront/attack ATTACK": runs a data-path attack now. */
static void
nf_unixctl_attack(struct unixctl_conn *conn, int argc OVS_UNUSED,
                  const char *argv[], void *aux OVS_UNUSED)
{
    const char *error = hostile_attack(argv[1]);

    if (error) {
        unixctl_command_reply_error(conn, error);
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

/* Sends one frame read from the tap, with its virtio-net header, on 'q'. */
static void
nf_tx_from_tap(struct nf_queue *q, uint8_t *buf, size_t n)
{
    struct virtio_net_hdr vh;
    struct netif_extra_info gso;
    bool have_gso = false;
    uint16_t flags = 0;
    uint8_t *frame = buf + NF_VNET_HDR_LEN;
    size_t len;

    if (n < NF_VNET_HDR_LEN + ETH_HEADER_LEN) {
        q->stats.tx_dropped++;
        return;
    }
    memcpy(&vh, buf, sizeof vh);
    len = n - NF_VNET_HDR_LEN;
    if (len > NF_MAX_FRAME || (!be_sg && len > XENSIM_PAGE_SIZE)) {
        q->stats.tx_dropped++;
        return;
    }

    if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        size_t l3_ofs, l4_ofs;
        uint8_t proto;
        bool ipv6;
        bool offload = !no_csum;

        if (offload
            && nf_find_l4(frame, len, &l3_ofs, &l4_ofs, &proto, &ipv6)
            && ipv6 && !be_ipv6_csum) {
            offload = false;
        }
        if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
            offload = true;     /* GSO packets always go as csum_blank. */
        }
        if (offload) {
            flags = NETTXF_csum_blank | NETTXF_data_validated;
        } else if (!nf_csum_complete(frame, len, vh.csum_start,
                                     vh.csum_offset)) {
            q->stats.tx_dropped++;
            return;
        }
    } else if (vh.flags & VIRTIO_NET_HDR_F_DATA_VALID) {
        flags = NETTXF_data_validated;
    }

    if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        uint8_t type = vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

        memset(&gso, 0, sizeof gso);
        gso.type = XEN_NETIF_EXTRA_TYPE_GSO;
        gso.u.gso.size = vh.gso_size;
        if (type == VIRTIO_NET_HDR_GSO_TCPV4 && be_gso4) {
            gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
        } else if (type == VIRTIO_NET_HDR_GSO_TCPV6 && be_gso6) {
            gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
        } else {
            VLOG_WARN_RL(&rl, "dropping GSO packet of type %d", type);
            q->stats.tx_dropped++;
            return;
        }
        have_gso = true;
    }

    nf_tx_queue(q, frame, len, flags, have_gso ? &gso : NULL, false);
}

/* Reads frames from the tap of 'q' while the ring has room for the
 * largest packet.  Returns true if the budget ran out. */
static bool
nf_tx_tap(struct nf_queue *q)
{
    for (unsigned int i = 0; i < NF_BUDGET / 4; i++) {
        ssize_t n;

        if (!nf_tx_room(q, XEN_NETIF_NR_SLOTS_MIN, 1)) {
            return false;
        }
        n = read(q->tap_fd, frame_buf, sizeof frame_buf);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                VLOG_WARN_RL(&rl, "tap read failed (%s)",
                             ovs_strerror(errno));
            }
            return false;
        }
        nf_tx_from_tap(q, frame_buf, n);
    }
    return true;
}

/* Returns how many generator packets may be sent now. */
static uint64_t
nf_gen_allowance(void)
{
    uint64_t allowed = UINT64_MAX;

    if (gen_count) {
        allowed = gen_count - gen_sent;
    }
    if (gen_rate) {
        long long int elapsed = time_msec() - gen_start;
        uint64_t due = gen_rate * elapsed / 1000 + 1;
        allowed = MIN(allowed, due > gen_sent ? due - gen_sent : 0);
    }
    return allowed;
}

/* Fills the TX ring of 'q' with generator frames.  Returns true if it
 * stopped for lack of room rather than allowance. */
static void
nf_tx_gen(struct nf_queue *q)
{
    uint64_t allowed = MIN(nf_gen_allowance(), NF_BUDGET);
    unsigned int n_data = DIV_ROUND_UP(gen_size, XENSIM_PAGE_SIZE);

    while (allowed-- && nf_tx_room(q, n_data, 0)) {
        if (gen_flows > 1) {
            /* Flow f: source 10.1.f/256.f%256, source port 1024 + f. */
            unsigned int f = gen_sent % gen_flows;
            uint8_t *ip = gen_frame + ETH_HEADER_LEN;
            ovs_be16 sum;

            ip[12] = 10;
            ip[13] = 1;
            ip[14] = f >> 8;
            ip[15] = f;
            ip[10] = ip[11] = 0;
            sum = csum(ip, IP_HEADER_LEN);
            memcpy(ip + 10, &sum, 2);
            ip[IP_HEADER_LEN] = (1024 + f) >> 8;
            ip[IP_HEADER_LEN + 1] = 1024 + f;
        }
        nf_tx_queue(q, gen_frame, gen_size, 0, NULL,
                    n_data == 1 && gen_flows <= 1);
        gen_sent++;
    }
}

/* Sends the frames of --pcap-in that are left, on queue 0. */
static void
nf_tx_pcap(struct nf_queue *q)
{
    while (pcap_in_next < n_pcap_in) {
        struct dp_packet *pkt = pcap_in_pkts[pcap_in_next];
        size_t len = dp_packet_size(pkt);
        unsigned int n_data = len ? DIV_ROUND_UP(len, XENSIM_PAGE_SIZE) : 1;

        if (len > NF_MAX_FRAME || (!be_sg && n_data > 1)) {
            q->stats.tx_dropped++;
        } else if (!nf_tx_room(q, n_data, 0)) {
            return;
        } else {
            nf_tx_queue(q, dp_packet_data(pkt), len, 0, NULL, false);
        }
        pcap_in_next++;
    }
}

/* Returns true if the data path runs: both ends Connected. */
static bool
nf_data_active(void)
{
    return (connected && fe_state == XenbusStateConnected
            && be_state == XenbusStateConnected);
}

/* Event channels: drains pending ports and counts them. */
static void
nf_evtchn_run(void)
{
    uint32_t port;

    if (!evtchn) {
        return;
    }
    while (!xensim_evtchn_pending(evtchn, &port)) {
        for (unsigned int i = 0; connected && i < n_queues; i++) {
            struct nf_queue *q = queues[i];
            if (port == q->tx_port) {
                q->stats.notify_tx_received++;
                break;
            } else if (port == q->rx_port) {
                q->stats.notify_rx_received++;
                break;
            }
        }
        xensim_evtchn_unmask(evtchn, port);
    }
}

/* Runs the data path of every queue once.  Returns true if more work is
 * left right now. */
static bool
nf_data_run(void)
{
    bool busy = false;

    if (mode == NF_MODE_GEN && !gen_start) {
        gen_start = time_msec();
    }
    for (unsigned int i = 0; i < n_queues; i++) {
        struct nf_queue *q = queues[i];

        if (q->broken) {
            continue;
        }
        nf_tx_gc(q);
        if (nf_rx_poll(q)) {
            busy = true;
        }
        if (q->broken) {
            continue;
        }
        switch (mode) {
        case NF_MODE_TAP:
            if (q->tap_fd >= 0 && nf_tx_tap(q)) {
                busy = true;
            }
            break;
        case NF_MODE_GEN:
            if (gen_frame) {
                nf_tx_gen(q);
            }
            break;
        case NF_MODE_PCAP:
            if (i == 0) {
                nf_tx_pcap(q);
            }
            break;
        case NF_MODE_NONE:
        default:
            break;
        }
        nf_tx_push(q);
        nf_tx_gc(q);
    }
    return busy;
}

/* Arranges for the poll loop to wake for data-path work. */
static void
nf_data_wait(void)
{
    for (unsigned int i = 0; i < n_queues; i++) {
        struct nf_queue *q = queues[i];

        if (q->broken) {
            continue;
        }
        if (mode == NF_MODE_TAP && q->tap_fd >= 0
            && nf_tx_room(q, XEN_NETIF_NR_SLOTS_MIN, 1)) {
            poll_fd_wait(q->tap_fd, POLLIN);
        } else if (mode == NF_MODE_GEN && gen_frame) {
            unsigned int n_data = DIV_ROUND_UP(gen_size, XENSIM_PAGE_SIZE);
            if (nf_tx_room(q, n_data, 0)) {
                if (nf_gen_allowance()) {
                    poll_immediate_wake();
                } else if (gen_rate && (!gen_count || gen_sent < gen_count)) {
                    poll_timer_wait(1);
                }
            }
        } else if (mode == NF_MODE_PCAP && i == 0
                   && pcap_in_next < n_pcap_in
                   && nf_tx_room(q, XEN_NETIF_NR_SLOTS_MIN, 0)) {
            poll_immediate_wake();
        }
    }
}

/* Control plane. */

/* Connects to the backend, as Linux's talk_to_netback(): reads the
 * backend's features, sets up the queues and writes the frontend's keys in
 * one transaction, then switches to Connected. */
static void
nf_connect(void)
{
    char *value;
    unsigned int i;

    value = xs_read_key(fe_path, "backend-id");
    if (!value) {
        set_error("frontend has no backend-id");
        return;
    }
    be_domid = atoi(value);
    free(value);

    if (xs_read_int(be_path, "feature-rx-copy", 0) != 1) {
        set_error("backend does not support copying receive path "
                  "(feature-rx-copy), refusing to connect");
        return;
    }
    be_sg = !no_sg && xs_read_int(be_path, "feature-sg", 0) == 1;
    be_gso4 = be_sg && !no_gso
              && xs_read_int(be_path, "feature-gso-tcpv4", 0) == 1;
    be_gso6 = be_sg && !no_gso
              && xs_read_int(be_path, "feature-gso-tcpv6", 0) == 1;
    be_ipv6_csum = !no_csum
                   && xs_read_int(be_path, "feature-ipv6-csum-offload",
                                  0) == 1;
    split_channels = !no_split
                     && xs_read_int(be_path, "feature-split-event-channels",
                                    0) == 1;
    be_max_queues = xs_read_int(be_path, "multi-queue-max-queues", 1);
    be_mcast = xs_read_int(be_path, "feature-multicast-control", 0) == 1;
    be_xdp = xs_read_int(be_path, "feature-xdp-headroom", 0) == 1;
    n_queues = MAX(1, MIN(req_queues, be_max_queues));
    if (mode == NF_MODE_TAP) {
        n_queues = MIN(n_queues, n_tap_fds);
    }

    for (i = 0; i < n_queues; i++) {
        queues[i] = nf_queue_create(i);
        if (!queues[i]) {
            while (i-- > 0) {
                nf_queue_destroy(queues[i], NF_TX_RING_SIZE, NF_RX_RING_SIZE,
                                 true, true);
                queues[i] = NULL;
            }
            set_error("cannot set up queues");
            return;
        }
    }

    if ((use_static_grants || use_rss)
        && xs_read_int(be_path, "feature-ctrl-ring", 0) == 1
        && !nf_ctrl_create()) {
        set_error("cannot set up the control ring");
        goto error;
    }

    for (;;) {
        xs_transaction_t t = xs_transaction_start(xs);
        bool ok = true;

        if (t == XBT_NULL) {
            set_error("cannot start xenstore transaction");
            goto error;
        }

        /* Forget the keys of an earlier connection. */
        static const char *const keys[] = {
            "tx-ring-ref", "rx-ring-ref", "event-channel",
            "event-channel-tx", "event-channel-rx", "ctrl-ring-ref",
            "event-channel-ctrl", "request-multicast-control",
            "xdp-headroom",
        };
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
            xs_rm_key(t, fe_path, keys[k]);
        }
        for (unsigned int k = 0; k < NF_MAX_QUEUES; k++) {
            char *name = xasprintf("queue-%u", k);
            xs_rm_key(t, fe_path, name);
            free(name);
        }

        for (i = 0; ok && i < n_queues; i++) {
            struct nf_queue *q = queues[i];
            char *dir = (n_queues == 1
                         ? xstrdup(fe_path)
                         : xasprintf("%s/queue-%u", fe_path, i));

            ok = (xs_write_uint(t, dir, "tx-ring-ref", q->tx_ring_ref)
                  && xs_write_uint(t, dir, "rx-ring-ref", q->rx_ring_ref));
            if (ok && split_channels) {
                ok = (xs_write_uint(t, dir, "event-channel-tx", q->tx_port)
                      && xs_write_uint(t, dir, "event-channel-rx",
                                       q->rx_port));
            } else if (ok) {
                ok = xs_write_uint(t, dir, "event-channel", q->tx_port);
            }
            ok = ok && hostile_connect_keys(t, dir, q);
            free(dir);
        }
        ok = (ok
              && xs_write_uint(t, fe_path, "multi-queue-num-queues",
                               n_queues)
              && xs_write_key(t, fe_path, "request-rx-copy", "1"));
        if (ok && !no_rx_notify) {
            ok = xs_write_key(t, fe_path, "feature-rx-notify", "1");
        }
        if (ok && !no_sg) {
            ok = xs_write_key(t, fe_path, "feature-sg", "1");
        }
        if (ok && !no_sg && !no_gso) {
            ok = (xs_write_key(t, fe_path, "feature-gso-tcpv4", "1")
                  && xs_write_key(t, fe_path, "feature-gso-tcpv6", "1"));
        }
        if (ok && !no_csum) {
            ok = xs_write_key(t, fe_path, "feature-ipv6-csum-offload", "1");
        } else if (ok) {
            ok = xs_write_key(t, fe_path, "feature-no-csum-offload", "1");
        }
        if (ok && ctrl_on) {
            ok = (xs_write_uint(t, fe_path, "ctrl-ring-ref", ctrl_ref)
                  && xs_write_uint(t, fe_path, "event-channel-ctrl",
                                   ctrl_port));
        }
        if (ok && use_mcast && be_mcast) {
            ok = xs_write_key(t, fe_path, "request-multicast-control", "1");
        }
        if (ok && xdp_headroom && be_xdp) {
            ok = xs_write_uint(t, fe_path, "xdp-headroom", xdp_headroom);
        }
        ok = ok && hostile_connect_top_keys(t);

        if (!ok) {
            xs_transaction_end(xs, t, true);
            set_error("writing the frontend's keys failed");
            goto error;
        }
        if (xs_transaction_end(xs, t, false)) {
            break;
        } else if (errno != EAGAIN) {
            set_error("committing the frontend's keys failed");
            goto error;
        }
    }

    for (i = 0; i < n_queues; i++) {
        nf_rx_refill(queues[i], true);
    }
    connected = true;
    be_connected = false;
    rss_done = rss_active = false;
    sset_clear(&mcast_told);    /* A new connection has an empty list. */
    next_mcast_poll = 0;
    n_connects++;
    free(last_error);
    last_error = NULL;
    VLOG_INFO("connecting to %s: %u queue(s), %s event channels, sg=%d "
              "gso-tcpv4=%d gso-tcpv6=%d ipv6-csum=%d", be_path, n_queues,
              split_channels ? "split" : "shared", be_sg, be_gso4, be_gso6,
              be_ipv6_csum);
    nf_switch_state(XenbusStateConnected);
    return;

error:
    nf_ctrl_destroy();
    for (i = 0; i < n_queues; i++) {
        nf_queue_destroy(queues[i], NF_TX_RING_SIZE, NF_RX_RING_SIZE,
                         true, true);
        queues[i] = NULL;
    }
    n_queues = 0;
}

/* Tears down the rings and event channels, keeping the counters. */
static void
nf_disconnect(void)
{
    if (!connected) {
        return;
    }
    nf_ctrl_destroy();
    for (unsigned int i = 0; i < n_queues; i++) {
        nf_stats_add(&old_stats, &queues[i]->stats);
        nf_queue_destroy(queues[i], NF_TX_RING_SIZE, NF_RX_RING_SIZE,
                         true, true);
        queues[i] = NULL;
    }
    n_queues = 0;
    connected = false;
    be_connected = false;
    n_disconnects++;
    VLOG_INFO("disconnected from %s", be_path);
}

/* Re-reads the backend path from the frontend and watches its state. */
static void
nf_watch_backend(void)
{
    char *path = xs_read_key(fe_path, "backend");

    if (!path) {
        return;
    }
    if (be_path && !strcmp(path, be_path)) {
        free(path);
        return;
    }
    if (be_state_path) {
        xs_unwatch(xs, be_state_path, "backend");
    }
    free(be_path);
    free(be_state_path);
    be_path = path;
    be_state_path = xasprintf("%s/state", be_path);
    if (!xs_watch(xs, be_state_path, "backend")) {
        VLOG_ERR("cannot watch %s (%s)", be_state_path,
                 ovs_strerror(errno));
    }
}

/* Reads the backend's state; -1 if it has none. */
static int
nf_read_be_state(void)
{
    return be_path ? xs_read_int(be_path, "state", -1) : -1;
}

/* The frontend's state machine: one step per backend state change.  Returns
 * true if it changed something and should run again. */
static bool
nf_step__(void)
{
    be_state = nf_read_be_state();

    switch (fe_state) {
    case XenbusStateInitialising:
    case XenbusStateInitWait:
    case XenbusStateInitialised:
        if (!want_connected) {
            return false;
        }
        if (be_state == XenbusStateInitWait) {
            nf_connect();
            return false;
        } else if (be_state == XenbusStateClosing) {
            /* Linux: xenbus_frontend_closed(). */
            nf_switch_state(XenbusStateClosed);
            return true;
        }
        return false;

    case XenbusStateConnected:
        if (be_state == XenbusStateConnected) {
            if (!be_connected) {
                VLOG_INFO("backend connected");
                be_connected = true;
            }
            if (ctrl_on && use_static_grants && !static_grants_done) {
                nf_ctrl_static_grants();
            }
            if (ctrl_on && use_rss && !rss_done) {
                nf_ctrl_rss();
            }
            return false;
        } else if (be_state == XenbusStateClosing
                   || be_state == XenbusStateClosed
                   || be_state == XenbusStateUnknown || be_state < 0) {
            nf_disconnect();
            nf_switch_state(XenbusStateClosed);
            return true;
        }
        return false;

    case XenbusStateClosing:
        if (be_state == XenbusStateClosing || be_state == XenbusStateClosed
            || be_state == XenbusStateUnknown || be_state < 0) {
            nf_disconnect();
            nf_switch_state(XenbusStateClosed);
            return true;
        }
        return false;

    case XenbusStateClosed:
        if (!want_connected || be_state < 0) {
            return false;
        }
        if (be_state == XenbusStateInitWait
            || (be_state == XenbusStateClosed
                && xs_read_int(be_path, "online", 1) != 0)) {
            /* Like a driver (re)probe: back to Initialising. */
            nf_switch_state(XenbusStateInitialising);
            return fe_state == XenbusStateInitialising;
        }
        return false;

    case XenbusStateReconfiguring:
        /* netfront/xdp: as Linux's netfront when an XDP program comes or
         * goes, wait for the backend to have read xdp-headroom. */
        if (be_state == XenbusStateReconfigured) {
            xdp_reconfiguring = false;
            xdp_changes++;
            nf_switch_state(XenbusStateConnected);
            return true;
        } else if (be_state == XenbusStateClosing
                   || be_state == XenbusStateClosed || be_state < 0) {
            nf_disconnect();
            nf_switch_state(XenbusStateClosed);
            return true;
        }
        return false;

    case XenbusStateUnknown:
    case XenbusStateReconfigured:
    default:
        return false;
    }
}

/* Runs the state machine until it settles. */
static void
nf_step(void)
{
    for (int i = 0; i < 8 && nf_step__(); i++) {
        continue;
    }
}

/* Unixctl commands. */

/* Returns the sum of the counters of all connections. */
static struct nf_stats
nf_total_stats(void)
{
    struct nf_stats total = old_stats;

    for (unsigned int i = 0; i < n_queues; i++) {
        nf_stats_add(&total, &queues[i]->stats);
    }
    return total;
}

/* Appends the counters 's' to 'ds' as key=value lines with 'prefix'. */
static void
nf_format_stats(struct ds *ds, const char *prefix, const struct nf_stats *s)
{
#define NF_STAT(NAME) \
    ds_put_format(ds, "%s"#NAME"=%"PRIu64"\n", prefix, s->NAME);
    NF_STAT(tx_packets);
    NF_STAT(tx_bytes);
    NF_STAT(tx_dropped);
    NF_STAT(tx_gso);
    NF_STAT(tx_csum_blank);
    NF_STAT(tx_responses);
    NF_STAT(tx_error_responses);
    NF_STAT(tx_bad_responses);
    NF_STAT(rx_packets);
    NF_STAT(rx_bytes);
    NF_STAT(rx_errors);
    NF_STAT(rx_error_responses);
    NF_STAT(rx_dropped);
    NF_STAT(rx_gso);
    NF_STAT(rx_csum_blank);
    NF_STAT(rx_gro_merged);
    NF_STAT(notify_tx_sent);
    NF_STAT(notify_rx_sent);
    NF_STAT(notify_tx_received);
    NF_STAT(notify_rx_received);
    NF_STAT(rx_hash_ok);
    NF_STAT(rx_hash_bad);
    NF_STAT(rx_hash_missing);
    NF_STAT(rx_hash_wrong_queue);
    NF_STAT(rx_xdp);
    NF_STAT(rx_offset_bad);
    NF_STAT(mcast_ok);
    NF_STAT(mcast_errors);
#undef NF_STAT
}

/* "netfront/stats": totals as key=value lines. */
static void
nf_unixctl_stats(struct unixctl_conn *conn, int argc OVS_UNUSED,
                 const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct nf_stats total = nf_total_stats();
    struct ds ds = DS_EMPTY_INITIALIZER;

    ds_put_format(&ds, "state=%d\nbackend_state=%d\nqueues=%u\n",
                  fe_state, be_state, n_queues);
    nf_format_stats(&ds, "", &total);
    ds_put_format(&ds, "connects=%"PRIu64"\ndisconnects=%"PRIu64"\n"
                  "leaked_grants=%"PRIu64"\nhostile_attacks=%"PRIu64"\n",
                  n_connects, n_disconnects, leaked_grants,
                  hostile_attacks_run);
    {
        unsigned int n = 0;

        for (unsigned int i = 0; ctrl_on && i < n_queues; i++) {
            n += static_grants[i];
        }
        ds_put_format(&ds, "ctrl_ring=%d\nctrl_requests=%"PRIu64"\n"
                      "ctrl_failures=%"PRIu64"\nstatic_grants=%u\n",
                      ctrl_on, ctrl_requests, ctrl_failures, n);
    }
    ds_put_format(&ds, "rss=%d\nrss_failures=%"PRIu64"\n"
                  "mcast_add_sent=%"PRIu64"\nmcast_del_sent=%"PRIu64"\n"
                  "mcast_groups=%"PRIuSIZE"\nxdp_headroom=%u\n"
                  "xdp_changes=%"PRIu64"\n", rss_active, rss_failures,
                  mcast_add_sent, mcast_del_sent, sset_count(&mcast_told),
                  xdp_headroom, xdp_changes);
    for (unsigned int i = 0; i < n_queues; i++) {
        ds_put_format(&ds, "queue%u_rx_packets=%"PRIu64"\n", i,
                      queues[i]->stats.rx_packets);
    }
    if (mode == NF_MODE_GEN) {
        ds_put_format(&ds, "gen_sent=%"PRIu64"\n", gen_sent);
    } else if (mode == NF_MODE_PCAP) {
        ds_put_format(&ds, "pcap_in_sent=%"PRIuSIZE"\npcap_in_total=%"
                      PRIuSIZE"\n", pcap_in_next, n_pcap_in);
    }
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* Appends a description of front ring indices to 'ds'. */
#define NF_FORMAT_RING(DS, NAME, R)                                        \
    ds_put_format(DS, "  %s: req_prod_pvt=%"PRIu32" rsp_cons=%"PRIu32     \
                  " req_prod=%"PRIu32" rsp_prod=%"PRIu32" req_event=%"    \
                  PRIu32" rsp_event=%"PRIu32"\n", NAME, (R)->req_prod_pvt, \
                  (R)->rsp_cons, (R)->sring->req_prod, (R)->sring->rsp_prod,\
                  (R)->sring->req_event, (R)->sring->rsp_event)

/* "netfront/show": a readable report. */
static void
nf_unixctl_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
                const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct nf_stats total = nf_total_stats();
    struct ds ds = DS_EMPTY_INITIALIZER;

    ds_put_format(&ds, "frontend %s: state %s, backend %s state %s\n",
                  fe_path, state_name(fe_state), be_path ? be_path : "-",
                  state_name(be_state));
    ds_put_format(&ds, "mac "ETH_ADDR_FMT", backend-id %"PRIu16", %u "
                  "queue(s), %s event channels\n", ETH_ADDR_ARGS(mac),
                  be_domid, n_queues, split_channels ? "split" : "shared");
    if (connected) {
        ds_put_format(&ds, "features: sg=%d gso-tcpv4=%d gso-tcpv6=%d "
                      "ipv6-csum-offload=%d max-queues=%u\n", be_sg,
                      be_gso4, be_gso6, be_ipv6_csum, be_max_queues);
    }
    if (last_error) {
        ds_put_format(&ds, "error: %s\n", last_error);
    }
    nf_format_stats(&ds, "", &total);
    for (unsigned int i = 0; i < n_queues; i++) {
        struct nf_queue *q = queues[i];

        ds_put_format(&ds, "queue %u: tx-ring-ref=%"PRIu32" rx-ring-ref=%"
                      PRIu32" event-channel-tx=%"PRIu32" event-channel-rx=%"
                      PRIu32" tx-free-ids=%u%s\n", i, q->tx_ring_ref,
                      q->rx_ring_ref, q->tx_port, q->rx_port, q->n_tx_free,
                      q->broken ? " BROKEN" : "");
        NF_FORMAT_RING(&ds, "tx", &q->tx);
        NF_FORMAT_RING(&ds, "rx", &q->rx);
    }
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* "netfront/ctrl TYPE [DATA0 [DATA1 [DATA2]]]": one raw control request;
 * a DATA "table" stands for the grant of the table page. */
static void
nf_unixctl_ctrl(struct unixctl_conn *conn, int argc, const char *argv[],
                void *aux OVS_UNUSED)
{
    uint32_t d[3] = { 0, 0, 0 };
    uint32_t data;
    int64_t status;
    char *reply;

    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "table")) {
            d[i - 2] = ctrl_table_ref;
        } else {
            d[i - 2] = strtoul(argv[i], NULL, 0);
        }
    }
    status = nf_ctrl_call(strtoul(argv[1], NULL, 0), d[0], d[1], d[2],
                          &data);
    if (status < 0) {
        unixctl_command_reply_error(conn, ctrl_on ? "no answer"
                                    : "no control ring");
        return;
    }
    reply = xasprintf("status=%"PRId64" data=%"PRIu32"\n", status, data);
    unixctl_command_reply(conn, reply);
    free(reply);
}

/* "netfront/ctrl-table [ENTRY...]": fills the table page for ADD/DEL
 * requests with ENTRYs: "tx:Q" (queue Q's TX buffers, read-only), "rx:Q"
 * (its RX buffers), "REF" or "REF:ro".  Without arguments, shows the
 * entries' statuses (after a DEL). */
static void
nf_unixctl_ctrl_table(struct unixctl_conn *conn, int argc,
                      const char *argv[], void *aux OVS_UNUSED)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    if (!ctrl_on) {
        unixctl_command_reply_error(conn, "no control ring");
        return;
    }
    if (argc > 1) {
        ctrl_table_n = 0;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool ok;

        if (!strncmp(a, "tx:", 3) || !strncmp(a, "rx:", 3)) {
            ok = nf_ctrl_table_add_queue(atoi(a + 3), a[0] == 't');
        } else if (ctrl_table_n < NF_GREF_TABLE_MAX) {
            struct xen_netif_gref *e = &ctrl_table[ctrl_table_n++];

            e->ref = strtoul(a, NULL, 0);
            e->flags = strstr(a, ":ro") ? XEN_NETIF_CTRLF_GREF_readonly : 0;
            e->status = 0;
            ok = true;
        } else {
            ok = false;
        }
        if (!ok) {
            unixctl_command_reply_error(conn, "table entry does not fit");
            return;
        }
    }
    ds_put_format(&ds, "entries=%"PRIu32, ctrl_table_n);
    if (argc == 1) {
        unsigned int ok = 0;

        for (uint32_t i = 0; i < ctrl_table_n; i++) {
            ok += ctrl_table[i].status == XEN_NETIF_CTRL_STATUS_SUCCESS;
        }
        ds_put_format(&ds, " success=%u other=%u", ok, ctrl_table_n - ok);
    }
    ds_put_char(&ds, '\n');
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* "netfront/ctrl-words WORD...": fills the table page with 32-bit words
 * (hash keys and mapping tables for netfront/ctrl). */
static void
nf_unixctl_ctrl_words(struct unixctl_conn *conn, int argc,
                      const char *argv[], void *aux OVS_UNUSED)
{
    uint32_t *words = ctrl_table ? ALIGNED_CAST(uint32_t *, ctrl_table)
                                 : NULL;
    char *reply;

    if (!ctrl_on || !words) {
        unixctl_command_reply_error(conn, "no control ring");
        return;
    }
    for (int i = 1; i < argc; i++) {
        words[i - 1] = strtoul(argv[i], NULL, 0);
    }
    reply = xasprintf("words=%d\n", argc - 1);
    unixctl_command_reply(conn, reply);
    free(reply);
}

/* "netfront/xdp HEADROOM": what Linux's netfront does when an XDP program
 * is attached (256) or detached (0): Reconfiguring, xdp-headroom, wait for
 * the backend's Reconfigured, Connected. */
static void
nf_unixctl_xdp(struct unixctl_conn *conn, int argc OVS_UNUSED,
               const char *argv[], void *aux OVS_UNUSED)
{
    if (!nf_data_active()) {
        unixctl_command_reply_error(conn, "not connected");
        return;
    }
    if (!be_xdp) {
        unixctl_command_reply_error(conn, "backend has no "
                                    "feature-xdp-headroom");
        return;
    }
    xdp_headroom = strtoul(argv[1], NULL, 0);
    xdp_reconfiguring = true;
    nf_switch_state(XenbusStateReconfiguring);
    /* Linux writes the key after the state: the backend must cope. */
    xs_write_uint(XBT_NULL, fe_path, "xdp-headroom", xdp_headroom);
    nf_step();
    unixctl_command_reply(conn, NULL);
}

/* "netfront/mcast add|del MAC": one multicast-control request;
 * "netfront/mcast request 0|1": request-multicast-control (dynamic). */
static void
nf_unixctl_mcast(struct unixctl_conn *conn, int argc OVS_UNUSED,
                 const char *argv[], void *aux OVS_UNUSED)
{
    struct eth_addr ea;

    if (!nf_data_active()) {
        unixctl_command_reply_error(conn, "not connected");
        return;
    }
    if (!strcmp(argv[1], "request")) {
        xs_write_key(XBT_NULL, fe_path, "request-multicast-control",
                     argv[2]);
    } else if (!eth_addr_from_string(argv[2], &ea)) {
        unixctl_command_reply_error(conn, "bad MAC");
        return;
    } else if (!nf_tx_mcast(queues[0], !strcmp(argv[1], "add")
                            ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD
                            : XEN_NETIF_EXTRA_TYPE_MCAST_DEL, &ea)) {
        unixctl_command_reply_error(conn, "TX ring full");
        return;
    } else {
        nf_tx_push(queues[0]);
    }
    unixctl_command_reply(conn, NULL);
}

/* "netfront/close": orderly close, Closing then Closed. */
static void
nf_unixctl_close(struct unixctl_conn *conn, int argc OVS_UNUSED,
                 const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    if (fe_state == XenbusStateClosed || fe_state == XenbusStateClosing) {
        want_connected = false;
        unixctl_command_reply_error(conn, "already closed or closing");
        return;
    }
    want_connected = false;
    nf_switch_state(XenbusStateClosing);
    nf_step();
    unixctl_command_reply(conn, NULL);
}

/* "netfront/connect": reconnect after a close, like a driver reload. */
static void
nf_unixctl_connect(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    if (want_connected) {
        unixctl_command_reply_error(conn, "already connected or connecting");
        return;
    }
    want_connected = true;
    if (fe_state == XenbusStateClosed) {
        nf_switch_state(XenbusStateInitialising);
    }
    nf_step();
    unixctl_command_reply(conn, NULL);
}

/* "exit". */
static void
nf_unixctl_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
                const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    exiting = true;
    unixctl_command_reply(conn, NULL);
}

/* Setup. */

/* Runs the program 'argv' and waits for it.  Returns true on success. */
static bool
run_cmd(char *const argv[])
{
    struct ds cmd = DS_EMPTY_INITIALIZER;
    pid_t pid;
    int status;
    int error;

    for (size_t i = 0; argv[i]; i++) {
        ds_put_format(&cmd, "%s%s", i ? " " : "", argv[i]);
    }
    VLOG_DBG("running: %s", ds_cstr(&cmd));
    error = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (error) {
        VLOG_ERR("%s: %s", ds_cstr(&cmd), ovs_strerror(error));
        ds_destroy(&cmd);
        return false;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        continue;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        VLOG_ERR("%s: failed", ds_cstr(&cmd));
        ds_destroy(&cmd);
        return false;
    }
    ds_destroy(&cmd);
    return true;
}

static const char tun_dev[] = "/dev/net/tun";
static const char local_domain[] = "/local/domain";

/* Creates the tap device (one fd per queue), moves it into the namespace
 * and configures it. */
static void
tap_setup(void)
{
    char mac_s[ETH_ADDR_STRLEN + 1];
    char mtu_s[16];
    unsigned int n = MIN(req_queues, NF_MAX_QUEUES);

    for (unsigned int i = 0; i < n; i++) {
        struct ifreq ifr;
        int fd = open(tun_dev, O_RDWR);

        if (fd < 0) {
            ovs_fatal(errno, "%s", tun_dev);
        }
        memset(&ifr, 0, sizeof ifr);
        ovs_strzcpy(ifr.ifr_name, tap_name, sizeof ifr.ifr_name);
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        if (n > 1) {
            ifr.ifr_flags |= IFF_MULTI_QUEUE;
        }
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
            ovs_fatal(errno, "%s: TUNSETIFF", tap_name);
        }
        /* Let the guest's stack hand over partial checksums and TSO
         * frames; they are filtered against the backend's features. */
        unsigned int offload = 0;
        if (!no_csum) {
            offload |= TUN_F_CSUM;
            if (!no_sg && !no_gso) {
                offload |= TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
            }
        }
        if (ioctl(fd, TUNSETOFFLOAD, offload) < 0) {
            VLOG_WARN("%s: TUNSETOFFLOAD failed (%s)", tap_name,
                      ovs_strerror(errno));
        }
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            ovs_fatal(errno, "%s: fcntl", tap_name);
        }
        tap_fds[n_tap_fds++] = fd;
    }

    snprintf(mac_s, sizeof mac_s, ETH_ADDR_FMT, ETH_ADDR_ARGS(mac));
    snprintf(mtu_s, sizeof mtu_s, "%d", tap_mtu);
    if (tap_netns) {
        char *mv[] = { "ip", "link", "set", "dev", tap_name, "netns",
                       tap_netns, NULL };
        if (!run_cmd(mv)) {
            ovs_fatal(0, "%s: cannot move to netns %s", tap_name, tap_netns);
        }
    }
    /* "ip -n NS ..." inside the namespace, plain "ip ..." without. */
    char *ns = tap_netns ? tap_netns : "";
    char *set[] = { "ip", "-n", ns, "link", "set", "dev", tap_name,
                    "address", mac_s, "mtu", mtu_s, "up", NULL };
    char *addr[] = { "ip", "-n", ns, "addr", "add", tap_ip, "dev", tap_name,
                     NULL };
    int skip = tap_netns ? 0 : 2;

    set[skip] = "ip";
    addr[skip] = "ip";
    if (!run_cmd(set + skip)) {
        ovs_fatal(0, "%s: cannot configure", tap_name);
    }
    if (tap_ip && !run_cmd(addr + skip)) {
        ovs_fatal(0, "%s: cannot add address %s", tap_name, tap_ip);
    }
    if (use_mcast) {
        mcast_open(tap_netns);
    }
}

/* Paths in macros: checkpatch reads the slashes of a string literal in a
 * statement as operators. */
#define NETNS_DIR "/run/netns"
#define SELF_NETNS "/proc/self/ns/net"
#define DEV_MCAST "/proc/self/net/dev_mcast"

/* Opens /proc/net/dev_mcast of network namespace 'netns' (or ours), where
 * the groups the guest's stack joins on the tap appear. */
static void
mcast_open(const char *netns)
{
    int self = -1;

    if (netns) {
        char *path = xasprintf("%s/%s", NETNS_DIR, netns);
        int fd = open(path, O_RDONLY);

        free(path);
        self = open(SELF_NETNS, O_RDONLY);
        if (fd < 0 || self < 0 || setns(fd, CLONE_NEWNET) < 0) {
            VLOG_WARN("cannot enter netns %s (%s): no multicast control",
                      netns, ovs_strerror(errno));
            if (fd >= 0) {
                close(fd);
            }
            if (self >= 0) {
                close(self);
            }
            return;
        }
        close(fd);
    }
    dev_mcast_fd = open(DEV_MCAST, O_RDONLY);
    if (dev_mcast_fd < 0) {
        VLOG_WARN("%s: %s", DEV_MCAST, ovs_strerror(errno));
    }
    if (self >= 0) {
        if (setns(self, CLONE_NEWNET) < 0) {
            ovs_fatal(errno, "cannot return to our network namespace");
        }
        close(self);
    }
}

/* Builds the generator's UDP frame of 'gen_size' bytes. */
static void
gen_setup(void)
{
    uint8_t *p = xzalloc(gen_size);
    size_t ip_len = gen_size - ETH_HEADER_LEN;
    size_t udp_len = ip_len - IP_HEADER_LEN;
    ovs_be16 sum;

    memcpy(p, gen_dst.ea, ETH_ADDR_LEN);
    memcpy(p + 6, mac.ea, ETH_ADDR_LEN);
    p[12] = 0x08;
    p[13] = 0x00;

    uint8_t *ip = p + ETH_HEADER_LEN;
    ip[0] = 0x45;
    ip[2] = ip_len >> 8;
    ip[3] = ip_len;
    ip[6] = 0x40;               /* Don't fragment. */
    ip[8] = 64;
    ip[9] = IPPROTO_UDP;
    memcpy(ip + 12, (uint8_t[]) { 10, 0, 0, 1 }, 4);
    memcpy(ip + 16, (uint8_t[]) { 10, 0, 0, 2 }, 4);
    sum = csum(ip, IP_HEADER_LEN);
    memcpy(ip + 10, &sum, 2);

    uint8_t *udp = ip + IP_HEADER_LEN;
    udp[0] = 0x04;              /* Ports 1024 -> 9 (discard). */
    udp[1] = 0x00;
    udp[3] = 9;
    udp[4] = udp_len >> 8;
    udp[5] = udp_len;
    for (size_t i = 8; i < udp_len; i++) {
        udp[i] = i;
    }
    /* UDP checksum 0: none, which is valid over IPv4. */
    gen_frame = p;
}

/* Reads every frame of --pcap-in. */
static void
pcap_setup(void)
{
    if (pcap_in_name) {
        struct pcap_file *f = ovs_pcap_open(pcap_in_name, "rb");
        size_t allocated = 0;

        if (!f) {
            ovs_fatal(errno, "%s: cannot open", pcap_in_name);
        }
        for (;;) {
            struct dp_packet *pkt;
            int error = ovs_pcap_read(f, &pkt, NULL);

            if (error) {
                if (error != EOF) {
                    ovs_fatal(error, "%s: read failed", pcap_in_name);
                }
                break;
            }
            if (n_pcap_in >= allocated) {
                pcap_in_pkts = x2nrealloc(pcap_in_pkts, &allocated,
                                          sizeof *pcap_in_pkts);
            }
            pcap_in_pkts[n_pcap_in++] = pkt;
        }
        ovs_pcap_close(f);
    }
    if (pcap_out_name) {
        pcap_out = ovs_pcap_open(pcap_out_name, "wb");
        if (!pcap_out) {
            ovs_fatal(errno, "%s: cannot open", pcap_out_name);
        }
    }
}

/* Connects to xenstore as this domain, waiting up to 'secs' seconds for the
 * simulated xenstored to introduce it. */
static void
xs_setup(int secs)
{
    char *sock = xasprintf("%s/xenstored.d%"PRIu16".sock", sim_dir, domid);
    long long int deadline = time_msec() + secs * 1000LL;
    struct stat st;

    while (stat(sock, &st) && time_msec() < deadline) {
        xsleep(0);
        usleep(50 * 1000);
    }
    setenv("XENSTORED_PATH", sock, 1);
    xs = xs_open(0);
    if (!xs) {
        ovs_fatal(errno, "%s: cannot connect to xenstore", sock);
    }
    free(sock);

    /* Wait for the toolstack's frontend directory. */
    for (;;) {
        char *backend = xs_read_key(fe_path, "backend");
        if (backend) {
            free(backend);
            break;
        }
        if (time_msec() >= deadline) {
            ovs_fatal(0, "%s/backend: not found", fe_path);
        }
        usleep(50 * 1000);
    }

    char *mac_s = xs_read_key(fe_path, "mac");
    if (!mac_s || !eth_addr_from_string(mac_s, &mac)) {
        VLOG_WARN("%s/mac missing or invalid, using 00:16:3e:00:00:01",
                  fe_path);
        mac = (struct eth_addr) ETH_ADDR_C(00, 16, 3e, 00, 00, 01);
    }
    free(mac_s);
    if (!tap_mtu) {
        tap_mtu = xs_read_int(fe_path, "mtu", 1500);
    }
}

int
main(int argc, char *argv[])
{
    struct unixctl_server *unixctl;
    int error;

    set_program_name(argv[0]);
    fatal_ignore_sigpipe();
    parse_options(argc, argv);

    daemonize_start(false);

    error = unixctl_server_create(unixctl_path, &unixctl);
    if (error) {
        ovs_fatal(error, "failed to create unixctl server");
    }
    unixctl_command_register("netfront/show", "", 0, 0, nf_unixctl_show,
                             NULL);
    unixctl_command_register("netfront/stats", "", 0, 0, nf_unixctl_stats,
                             NULL);
    unixctl_command_register("netfront/close", "", 0, 0, nf_unixctl_close,
                             NULL);
    unixctl_command_register("netfront/connect", "", 0, 0,
                             nf_unixctl_connect, NULL);
    unixctl_command_register("netfront/attack", "ATTACK", 1, 1,
                             nf_unixctl_attack, NULL);
    unixctl_command_register("netfront/ctrl", "TYPE [DATA0 [DATA1 [DATA2]]]",
                             1, 4, nf_unixctl_ctrl, NULL);
    unixctl_command_register("netfront/ctrl-table", "[ENTRY...]", 0, 600,
                             nf_unixctl_ctrl_table, NULL);
    unixctl_command_register("netfront/ctrl-words", "[WORD...]", 0, 1024,
                             nf_unixctl_ctrl_words, NULL);
    unixctl_command_register("netfront/xdp", "HEADROOM", 1, 1,
                             nf_unixctl_xdp, NULL);
    unixctl_command_register("netfront/mcast", "add|del|request MAC|0|1",
                             2, 2, nf_unixctl_mcast, NULL);
    unixctl_command_register("exit", "", 0, 0, nf_unixctl_exit, NULL);

    fe_path = xasprintf("%s/%d/device/vif/%d", local_domain, domid, devid);
    error = xensim_domain_open(sim_dir, domid, &dom);
    if (error) {
        ovs_fatal(error, "%s: cannot open domain %"PRIu16, sim_dir, domid);
    }
    error = xensim_evtchn_open(sim_dir, domid, &evtchn);
    if (error) {
        ovs_fatal(error, "cannot open event channels");
    }
    xs_setup(30);

    switch (mode) {
    case NF_MODE_TAP:
        tap_setup();
        break;
    case NF_MODE_GEN:
        if (gen_size) {
            gen_setup();
        }
        break;
    case NF_MODE_PCAP:
        pcap_setup();
        break;
    case NF_MODE_NONE:
    default:
        break;
    }

    nf_watch_backend();
    if (close_cycle) {
        /* Like Windows frontends: a close cycle before the first connect. */
        nf_switch_state(XenbusStateClosing);
    } else {
        char *state = xs_read_key(fe_path, "state");
        fe_state = state ? atoi(state) : XenbusStateInitialising;
        free(state);
        if (fe_state != XenbusStateInitialising) {
            nf_switch_state(XenbusStateInitialising);
        }
    }
    nf_step();

    daemonize_complete();

    while (!exiting) {
        bool changed = false;
        char **vec;

        unixctl_server_run(unixctl);
        while ((vec = xs_check_watch(xs)) != NULL) {
            free(vec);
            changed = true;
        }
        if (changed) {
            nf_watch_backend();
            nf_step();
        }
        nf_evtchn_run();
        hostile_run();
        if (nf_data_active()) {
            nf_mcast_run();
        }

        bool busy = nf_data_active() && nf_data_run();

        unixctl_server_wait(unixctl);
        poll_fd_wait(xs_fileno(xs), POLLIN);
        poll_fd_wait(xensim_evtchn_fd(evtchn), POLLIN);
        if (busy) {
            poll_immediate_wake();
        }
        if (nf_data_active()) {
            nf_data_wait();
            if (use_mcast && dev_mcast_fd >= 0) {
                poll_timer_wait_until(next_mcast_poll);
            }
        }
        if (exiting) {
            poll_immediate_wake();
        }
        poll_block();
    }

    nf_disconnect();
    unixctl_server_destroy(unixctl);
    if (pcap_out) {
        ovs_pcap_close(pcap_out);
    }
    xs_close(xs);
    xensim_evtchn_close(evtchn);
    xensim_domain_close(dom);
    return 0;
}

/* Command line. */

/* Splits "FIRST:key=value:key=value" into 'first' and 'opts'.  A ':' that
 * is not followed by "key=" belongs to the previous value, so MAC and IPv6
 * addresses survive. */
static char *
parse_suboptions(const char *arg, struct smap *opts)
{
    char *copy = xstrdup(arg);
    char *first = NULL;
    char *key = NULL;
    struct ds value = DS_EMPTY_INITIALIZER;
    char *save = NULL;

    for (char *tok = strtok_r(copy, ":", &save); tok;
         tok = strtok_r(NULL, ":", &save)) {
        char *eq = strchr(tok, '=');
        bool is_key = eq && eq > tok && strspn(tok, "abcdefghijklmnopqrstuv"
                                               "wxyz-_") == eq - tok;
        if (!first) {
            first = xstrdup(tok);
        } else if (is_key) {
            if (key) {
                smap_replace(opts, key, ds_cstr(&value));
                free(key);
            }
            key = xmemdup0(tok, eq - tok);
            ds_clear(&value);
            ds_put_cstr(&value, eq + 1);
        } else if (key) {
            ds_put_format(&value, ":%s", tok);
        } else {
            ovs_fatal(0, "%s: cannot parse \"%s\"", arg, tok);
        }
    }
    if (key) {
        smap_replace(opts, key, ds_cstr(&value));
        free(key);
    }
    ds_destroy(&value);
    free(copy);
    return first ? first : xstrdup("");
}

/* Parses --tap's argument. */
static void
parse_tap(const char *arg)
{
    struct smap opts = SMAP_INITIALIZER(&opts);
    struct smap_node *node;

    tap_name = parse_suboptions(arg, &opts);
    if (!tap_name[0] || strlen(tap_name) >= IFNAMSIZ) {
        ovs_fatal(0, "--tap: invalid device name \"%s\"", tap_name);
    }
    SMAP_FOR_EACH (node, &opts) {
        if (!strcmp(node->key, "netns")) {
            tap_netns = xstrdup(node->value);
        } else if (!strcmp(node->key, "ip")) {
            tap_ip = xstrdup(node->value);
        } else if (!strcmp(node->key, "mtu")) {
            tap_mtu = atoi(node->value);
            if (tap_mtu < 68 || tap_mtu > 65535) {
                ovs_fatal(0, "--tap: invalid mtu %s", node->value);
            }
        } else {
            ovs_fatal(0, "--tap: unknown option \"%s\"", node->key);
        }
    }
    smap_destroy(&opts);
    mode = NF_MODE_TAP;
}

/* Parses --gen's argument. */
static void
parse_gen(const char *arg)
{
    struct smap opts = SMAP_INITIALIZER(&opts);
    struct smap_node *node;
    char *size = parse_suboptions(arg, &opts);

    gen_size = atoi(size);
    free(size);
    if (gen_size < 60 || gen_size > NF_MAX_FRAME) {
        ovs_fatal(0, "--gen: size must be between 60 and %d", NF_MAX_FRAME);
    }
    SMAP_FOR_EACH (node, &opts) {
        if (!strcmp(node->key, "count")) {
            gen_count = strtoull(node->value, NULL, 10);
        } else if (!strcmp(node->key, "rate")) {
            gen_rate = strtoull(node->value, NULL, 10);
        } else if (!strcmp(node->key, "flows")) {
            gen_flows = strtoul(node->value, NULL, 10);
            if (gen_flows > 65536) {
                ovs_fatal(0, "--gen: at most 65536 flows");
            }
        } else if (!strcmp(node->key, "dst")) {
            if (!eth_addr_from_string(node->value, &gen_dst)) {
                ovs_fatal(0, "--gen: invalid dst %s", node->value);
            }
        } else {
            ovs_fatal(0, "--gen: unknown option \"%s\"", node->key);
        }
    }
    smap_destroy(&opts);
    mode = NF_MODE_GEN;
}

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_DOMID = UCHAR_MAX + 1,
        OPT_DEVID,
        OPT_DIR,
        OPT_QUEUES,
        OPT_NO_SPLIT,
        OPT_NO_SG,
        OPT_NO_GSO,
        OPT_NO_CSUM,
        OPT_NO_RX_NOTIFY,
        OPT_NO_GRO,
        OPT_CLOSE_CYCLE,
        OPT_STATIC_GRANTS,
        OPT_RSS,
        OPT_MCAST,
        OPT_XDP_HEADROOM,
        OPT_TAP,
        OPT_GEN,
        OPT_SINK,
        OPT_PCAP_IN,
        OPT_PCAP_OUT,
        OPT_UNIXCTL,
        OPT_HOSTILE,
        DAEMON_OPTION_ENUMS,
        VLOG_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"domid", required_argument, NULL, OPT_DOMID},
        {"devid", required_argument, NULL, OPT_DEVID},
        {"dir", required_argument, NULL, OPT_DIR},
        {"queues", required_argument, NULL, OPT_QUEUES},
        {"no-split-event-channels", no_argument, NULL, OPT_NO_SPLIT},
        {"no-sg", no_argument, NULL, OPT_NO_SG},
        {"no-gso", no_argument, NULL, OPT_NO_GSO},
        {"no-csum-offload", no_argument, NULL, OPT_NO_CSUM},
        {"no-rx-notify", no_argument, NULL, OPT_NO_RX_NOTIFY},
        {"no-gro", no_argument, NULL, OPT_NO_GRO},
        {"close-cycle", no_argument, NULL, OPT_CLOSE_CYCLE},
        {"static-grants", no_argument, NULL, OPT_STATIC_GRANTS},
        {"rss", no_argument, NULL, OPT_RSS},
        {"mcast", no_argument, NULL, OPT_MCAST},
        {"xdp-headroom", required_argument, NULL, OPT_XDP_HEADROOM},
        {"tap", required_argument, NULL, OPT_TAP},
        {"gen", required_argument, NULL, OPT_GEN},
        {"sink", no_argument, NULL, OPT_SINK},
        {"pcap-in", required_argument, NULL, OPT_PCAP_IN},
        {"pcap-out", required_argument, NULL, OPT_PCAP_OUT},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"hostile", required_argument, NULL, OPT_HOSTILE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        unsigned long n;

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_DOMID:
            n = strtoul(optarg, NULL, 10);
            if (!n || n > XENSIM_MAX_DOMID) {
                ovs_fatal(0, "--domid: invalid domain id %s", optarg);
            }
            domid = n;
            domid_set = true;
            break;
        case OPT_DEVID:
            devid = strtoul(optarg, NULL, 10);
            break;
        case OPT_DIR:
            free(sim_dir);
            sim_dir = xstrdup(optarg);
            break;
        case OPT_QUEUES:
            n = strtoul(optarg, NULL, 10);
            if (!n || n > NF_MAX_QUEUES) {
                ovs_fatal(0, "--queues: must be between 1 and %d",
                          NF_MAX_QUEUES);
            }
            req_queues = n;
            break;
        case OPT_NO_SPLIT:
            no_split = true;
            break;
        case OPT_NO_SG:
            no_sg = true;
            break;
        case OPT_NO_GSO:
            no_gso = true;
            break;
        case OPT_NO_CSUM:
            no_csum = true;
            break;
        case OPT_NO_RX_NOTIFY:
            no_rx_notify = true;
            break;
        case OPT_NO_GRO:
            no_gro = true;
            break;
        case OPT_CLOSE_CYCLE:
            close_cycle = true;
            break;
        case OPT_STATIC_GRANTS:
            use_static_grants = true;
            break;
        case OPT_RSS:
            use_rss = true;
            break;
        case OPT_MCAST:
            use_mcast = true;
            break;
        case OPT_XDP_HEADROOM:
            xdp_headroom = strtoul(optarg, NULL, 0);
            break;
        case OPT_TAP:
            parse_tap(optarg);
            break;
        case OPT_GEN:
            parse_gen(optarg);
            break;
        case OPT_SINK:
            sink = true;
            if (mode == NF_MODE_NONE) {
                mode = NF_MODE_GEN;
            }
            break;
        case OPT_PCAP_IN:
            pcap_in_name = xstrdup(optarg);
            mode = NF_MODE_PCAP;
            break;
        case OPT_PCAP_OUT:
            pcap_out_name = xstrdup(optarg);
            mode = NF_MODE_PCAP;
            break;
        case OPT_UNIXCTL:
            unixctl_path = xstrdup(optarg);
            break;
        case OPT_HOSTILE: {
            char *list = xstrdup(optarg), *save = NULL;

            for (char *a = strtok_r(list, ",", &save); a;
                 a = strtok_r(NULL, ",", &save)) {
                sset_add(&hostile_attacks, a);
            }
            free(list);
            break;
        }
        case 'h':
            usage();
        case 'V':
            ovs_print_version(0, 0);
            exit(EXIT_SUCCESS);
        DAEMON_OPTION_HANDLERS
        VLOG_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            OVS_NOT_REACHED();
        }
    }
    free(short_options);

    if (optind != argc) {
        ovs_fatal(0, "unexpected argument \"%s\"", argv[optind]);
    }
    if (!domid_set) {
        ovs_fatal(0, "--domid is required (try --help)");
    }
    if (!sim_dir) {
        const char *env = getenv("XVIF_SIM_DIR");
        if (!env || !env[0]) {
            ovs_fatal(0, "--dir or XVIF_SIM_DIR is required");
        }
        sim_dir = xstrdup(env);
    }
    if (mode == NF_MODE_GEN && !gen_size && !sink) {
        ovs_fatal(0, "--gen needs a size");
    }
    if (mode == NF_MODE_TAP && (sink || gen_size || pcap_in_name
                                || pcap_out_name)) {
        ovs_fatal(0, "--tap cannot be combined with another mode");
    }
    if (gen_size && (pcap_in_name || pcap_out_name)) {
        ovs_fatal(0, "--gen cannot be combined with --pcap-in/--pcap-out");
    }
    if (mode == NF_MODE_PCAP && sink) {
        ovs_fatal(0, "--sink cannot be combined with --pcap-in/--pcap-out");
    }
}

static void
usage(void)
{
    printf("%s: a simulated Xen guest running a netfront\n"
           "usage: %s --domid=N [OPTIONS] MODE\n"
           "\nGuest options:\n"
           "  --domid=N               act as domain N (required)\n"
           "  --devid=D               vif device id (default 0)\n"
           "  --dir=DIR               simulation directory "
           "(default $XVIF_SIM_DIR)\n"
           "  --queues=Q              ask for up to Q queues (default 1)\n"
           "  --no-split-event-channels  one event channel per queue\n"
           "  --no-sg                 no scatter-gather (and no GSO)\n"
           "  --no-gso                no TCP segmentation offload\n"
           "  --no-csum-offload       no checksum offload\n"
           "  --no-rx-notify          do not advertise feature-rx-notify\n"
           "  --no-gro                no receive coalescing (tap mode)\n"
           "  --close-cycle           Closing/Closed before the first "
           "connect\n"
           "  --static-grants         set up a control ring and ask the "
           "backend to keep\n"
           "                          the buffers mapped (static grants)\n"
           "  --rss                   set up receive-side scaling over the "
           "control ring\n"
           "                          as Windows' xenvif (and check every "
           "hash)\n"
           "  --mcast                 request multicast control; in tap "
           "mode, tell the\n"
           "                          backend the groups the stack joins\n"
           "  --xdp-headroom=N        ask for N bytes of RX headroom "
           "(xdp-headroom)\n"
           "\nModes:\n"
           "  --tap=NAME[:netns=NS][:ip=ADDR/PREFIX][:mtu=M]\n"
           "                          a tap device, moved into netns NS\n"
           "  --gen=SIZE[:count=N][:dst=MAC][:rate=PPS][:flows=F]\n"
           "                          send UDP frames of SIZE bytes\n"
           "  --sink                  count and drop received frames\n"
           "  --pcap-in=FILE          send the frames in FILE\n"
           "  --pcap-out=FILE         write received frames to FILE\n"
           "  --unixctl=SOCKET        override the control socket name\n"
           "\nHostile mode (see xensim.rst):\n"
           "  --hostile=ATTACK[,ATTACK...]  break the protocol: at connect\n"
           "                          (bad-ring-ref, bad-evtchn, ring-lie,\n"
           "                          too-many-queues, zero-queues,\n"
           "                          garbage-features) or once Connected\n"
           "                          (any netfront/attack ATTACK)\n",
           program_name, program_name);
    daemon_usage();
    vlog_usage();
    exit(EXIT_SUCCESS);
}
