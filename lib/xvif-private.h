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

#ifndef XVIF_PRIVATE_H
#define XVIF_PRIVATE_H 1

/* Structures shared by the files of the xvif provider (netdev-xvif.c and
 * lib/xvif-*.c).  Nothing outside lib/ includes this file.
 *
 * Where state lives:
 *
 *   - struct netdev_xvif, one per OVS port, owned by the main thread
 *     (construct, set_config, reconfigure, status, the xenbus state machine
 *     all run there).
 *
 *   - struct xvif_queue, one per netif queue pair, owned by the thread that
 *     polls it (guest TX, through rxq_recv) and by the senders (guest RX,
 *     through send, serialized by 'rx_lock' when OVS sends concurrently).
 *     Queues are created and destroyed only in reconfigure, when OVS
 *     guarantees that no data-path thread uses the device. */

#include <stdbool.h>
#include <stdint.h>
#include <xen/grant_table.h>

/* <xen/io/ring.h> leaves the memory barriers to the includer: with the
 * default interface version, xen_mb() and friends expand to mb(), rmb() and
 * wmb(). */
#include "ovs-atomic.h"
#define mb() atomic_thread_fence(memory_order_seq_cst)
#define rmb() atomic_thread_fence(memory_order_acquire)
#define wmb() atomic_thread_fence(memory_order_release)
#include <xen/io/netif.h>

#include "netdev-provider.h"
#include "ovs-rcu.h"
#include "openvswitch/thread.h"
#include "openvswitch/types.h"
#include "packets.h"
#include "xvif-xen.h"

struct dp_packet;
struct dp_packet_batch;
struct ds;
struct json;
struct smap;
struct sset;
struct xvif_hash_config;
struct xvif_backend;
struct xvif_ctrl;
struct xvif_policer;
struct xvif_static_grants;

#define XVIF_PAGE_SIZE 4096
#define XVIF_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, XVIF_PAGE_SIZE)
#define XVIF_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, XVIF_PAGE_SIZE)

/* Slots per packet, exactly as Linux's netback counts them
 * (xenvif_count_requests(): the first slot, then at most 18 more, more than
 * 18 more is dropped, more than 20 more fatal).  From the guest: up to
 * XVIF_TX_MAX_SLOTS (19) data slots are accepted, 20 and 21 are answered
 * with errors, a packet that needs a 22nd disables the vif.  To the guest:
 * at most XVIF_MAX_SLOTS (XEN_NETIF_NR_SLOTS_MIN, 18), what every frontend
 * must take. */
#define XVIF_MAX_SLOTS XEN_NETIF_NR_SLOTS_MIN
#define XVIF_TX_MAX_SLOTS (XEN_NETIF_NR_SLOTS_MIN + 1)
#define XVIF_FATAL_SLOTS (XVIF_TX_MAX_SLOTS + 2)
#define XVIF_MAX_QUEUES 8

/* Multicast groups a guest may subscribe to (Linux's netback's
 * XEN_NETBK_MCAST_MAX). */
#define XVIF_MCAST_MAX 64

/* The most RX headroom a frontend may ask for with "xdp-headroom": what is
 * left of a page still holds a 1500-byte frame. */
#define XVIF_MAX_XDP_HEADROOM 2048

/* XEN_NETIF_EXTRA_TYPE_XDP, which Linux's netif.h has and Xen's 4.17 does
 * not: an RX extra whose first 16 bits after type and flags are the
 * headroom. */
#define XVIF_NETIF_EXTRA_TYPE_XDP 5

/* Packets per rxq_recv() call (NETDEV_MAX_BURST) and the grant-copy segments
 * they may need. */
#define XVIF_BURST 32
#define XVIF_MAX_SEGS (XVIF_BURST * XVIF_TX_MAX_SLOTS)

/* A guest that posts no RX buffers for this long while packets wait for it
 * is stalled (Linux's rx_stall_timeout); options:rx-stall-timeout. */
#define XVIF_RX_STALL_TIMEOUT_MS 60000

/* Guest RX backlog: packets and how long they may wait for buffers. */
#define XVIF_RX_BACKLOG 512
/* ...and at most this many bytes, so that a guest that stops taking
 * packets holds a bounded amount of the switch's memory whatever their
 * size (8 queues of 64 KiB super-frames would otherwise hold 256 MiB). */
#define XVIF_RX_BACKLOG_BYTES (2 * 1024 * 1024)
#define XVIF_RX_STALL_MS 10000

/* Segments of a GSO packet from the guest that did not fit in the batch
 * that produced them: delivered by the next rxq_recv() calls. */
#define XVIF_MAX_GSO_SEGS 64

/* Counters, one set per queue, written only by the queue's thread (or under
 * 'rx_lock'), summed by readers.  The names are the custom statistics'
 * names (OVS's direction: "rx" = from the guest into the switch). */
#define XVIF_QUEUE_COUNTERS                                             \
    XVIF_COUNTER(rx_packets)                                            \
    XVIF_COUNTER(rx_bytes)                                              \
    XVIF_COUNTER(tx_packets)                                            \
    XVIF_COUNTER(tx_bytes)                                              \
    XVIF_COUNTER(rx_errors)                                             \
    XVIF_COUNTER(rx_dropped)                                            \
    XVIF_COUNTER(rx_policed)                                            \
    XVIF_COUNTER(tx_dropped)                                            \
    XVIF_COUNTER(rx_bad_request)                                        \
    XVIF_COUNTER(rx_too_many_slots)                                     \
    XVIF_COUNTER(rx_copy_error)                                         \
    XVIF_COUNTER(rx_csum_error)                                         \
    XVIF_COUNTER(rx_gso_error)                                          \
    XVIF_COUNTER(rx_gso_packets)                                        \
    XVIF_COUNTER(rx_csum_completed)                                     \
    XVIF_COUNTER(tx_no_buffer)                                          \
    XVIF_COUNTER(tx_too_big)                                            \
    XVIF_COUNTER(tx_copy_error)                                         \
    XVIF_COUNTER(tx_offload_error)                                      \
    XVIF_COUNTER(tx_not_connected)                                      \
    XVIF_COUNTER(notify_sent)                                           \
    XVIF_COUNTER(notify_received)                                       \
    XVIF_COUNTER(wakeups_no_work)                                       \
    XVIF_COUNTER(notify_throttled)                                      \
    XVIF_COUNTER(gnt_copy_calls)                                        \
    XVIF_COUNTER(gnt_copy_segs)                                         \
    XVIF_COUNTER(gnt_copy_failures)                                     \
    XVIF_COUNTER(static_grant_copies)                                   \
    XVIF_COUNTER(gntst_general_error)                                   \
    XVIF_COUNTER(gntst_bad_domain)                                      \
    XVIF_COUNTER(gntst_bad_gntref)                                      \
    XVIF_COUNTER(gntst_bad_page)                                        \
    XVIF_COUNTER(gntst_bad_copy_arg)                                    \
    XVIF_COUNTER(gntst_permission_denied)                               \
    XVIF_COUNTER(gntst_other)                                           \
    XVIF_COUNTER(rx_hash)                                               \
    XVIF_COUNTER(rx_mcast_add)                                          \
    XVIF_COUNTER(rx_mcast_del)                                          \
    XVIF_COUNTER(rx_mcast_refused)                                      \
    XVIF_COUNTER(tx_hash)                                               \
    XVIF_COUNTER(tx_mcast_filtered)

/* Notification storms (the XSA-332 class): after XVIF_SPURIOUS_LIMIT
 * notifications in a row that brought no work, an event channel stays masked
 * for xvif_backoff_ms() (1 ms, doubling with each further one up to
 * XVIF_BACKOFF_MAX_MS), as Linux delays the EOI of a spurious event.  Used
 * for the queues' channels (xvif-idle.c) and the control ring's
 * (xvif-ctrl.c). */
#define XVIF_SPURIOUS_LIMIT 16
#define XVIF_BACKOFF_MAX_MS 128

static inline long long int
xvif_backoff_ms(unsigned int spurious)
{
    unsigned int excess = spurious - XVIF_SPURIOUS_LIMIT;

    return excess >= 7 ? XVIF_BACKOFF_MAX_MS : 1LL << excess;
}

struct xvif_queue_stats {
#define XVIF_COUNTER(NAME) uint64_t NAME;
    XVIF_QUEUE_COUNTERS
#undef XVIF_COUNTER
};

/* Counts a failed grant-copy segment with status 'status' (a GNTST_*
 * value) in 's'.  Only the failure paths call it. */
static inline void
xvif_count_gntst(struct xvif_queue_stats *s, int16_t status)
{
    switch (status) {
    case GNTST_okay:
        break;
    case GNTST_general_error:
        s->gntst_general_error++;
        break;
    case GNTST_bad_domain:
        s->gntst_bad_domain++;
        break;
    case GNTST_bad_gntref:
        s->gntst_bad_gntref++;
        break;
    case GNTST_bad_page:
        s->gntst_bad_page++;
        break;
    case GNTST_bad_copy_arg:
        s->gntst_bad_copy_arg++;
        break;
    case GNTST_permission_denied:
        s->gntst_permission_denied++;
        break;
    default:
        s->gntst_other++;
        break;
    }
}

/* Connection parameters of one queue, read from the frontend's keys. */
struct xvif_queue_params {
    uint32_t tx_ring_ref;
    uint32_t rx_ring_ref;
    uint32_t evtchn_tx;         /* Frontend's port for TX (or both). */
    uint32_t evtchn_rx;         /* Frontend's port for RX (== evtchn_tx when
                                 * the channel is shared). */
};

/* What the frontend asked for, validated.  Filled in by the xenbus code,
 * applied by reconfigure. */
struct xvif_frontend {
    uint16_t domid;
    unsigned int n_queues;
    struct xvif_queue_params queues[XVIF_MAX_QUEUES];
    bool split_evtchn;
    bool rx_notify;             /* feature-rx-notify. */
    bool sg;                    /* feature-sg. */
    bool gso_tcpv4;             /* feature-gso-tcpv4. */
    bool gso_tcpv6;             /* feature-gso-tcpv6. */
    bool ipv6_csum;             /* feature-ipv6-csum-offload. */
    bool no_csum;               /* feature-no-csum-offload. */
    bool multicast;             /* request-multicast-control. */
    uint16_t xdp_headroom;      /* xdp-headroom (0: none). */
    bool ctrl_ring;             /* ctrl-ring-ref and event-channel-ctrl. */
    uint32_t ctrl_ring_ref;
    uint32_t ctrl_evtchn;
};

/* One netif queue: a TX and an RX ring and their event channels. */
struct xvif_queue {
    struct netdev_xvif *dev;
    unsigned int id;
    uint16_t domid;             /* The guest. */

    /* Guest TX: the guest's requests become our received packets. */
    netif_tx_back_ring_t tx;
    void *tx_page;              /* Mapped shared ring page. */
    uint32_t tx_port;           /* Local event-channel port. */
    bool tx_more;               /* Requests left after a full burst. */
    struct dp_packet *gso_segs[XVIF_MAX_GSO_SEGS];
    size_t gso_n, gso_next;     /* Segments waiting for the next batch. */

    /* Guest RX: our sent packets go into the guest's posted buffers.
     * 'rx_lock' protects the ring's back end and the backlog against
     * concurrent senders and the polling thread's flushes. */
    struct ovs_mutex rx_lock;
    netif_rx_back_ring_t rx;
    /* Packets waiting for the guest to post buffers (a ring of
     * XVIF_RX_BACKLOG), as Linux's netback queues them rather than dropping
     * on a momentarily full ring.  Dropped after XVIF_RX_STALL_MS. */
    struct dp_packet *rx_backlog[XVIF_RX_BACKLOG];
    unsigned int rx_backlog_head, rx_backlog_n;
    size_t rx_backlog_bytes;
    long long int rx_backlog_since;
    atomic_uint rx_backlog_count;   /* rx_backlog_n, for lock-free peeks. */
    atomic_uint rx_backlog_need;    /* Slots the backlog's first packet
                                     * needs, likewise. */
    atomic_uint64_t rx_backlog_size;    /* rx_backlog_bytes, likewise. */
    /* RX stall detection, as Linux's netback's "Guest Rx stalled": when the
     * guest last ran out of buffers with packets waiting for it (0: it has
     * buffers), under 'rx_lock'; and whether the queue is stalled (the
     * port's carrier is off and packets for it are dropped) until the guest
     * posts buffers again. */
    long long int rx_nobuf_since;
    atomic_bool rx_stalled;
    void *rx_page;
    uint32_t rx_port;           /* == tx_port unless split. */

    struct xvif_evtchn *xce;    /* This queue's event-channel handle. */
    struct xvif_gnt *gnt;       /* This queue's grant handle. */

    /* Static grants the guest asked us to keep mapped (over the control
     * ring), or NULL without a control ring (xvif-ctrl.c). */
    struct xvif_static_grants *sg;

    /* Set by a data-path thread on a fatal protocol error; the main thread
     * then disables the device.  'fatal_reason' is a string literal. */
    atomic_bool fatal;
    const char *fatal_reason;

    /* Scratch space for one burst of grant copies in each direction. */
    xengnttab_grant_copy_segment_t *tx_segs;
    xengnttab_grant_copy_segment_t *rx_segs;

    /* Counters written by the guest-TX (polling) thread and by the senders
     * (guest RX), kept apart so that neither writes the other's cache
     * line.  Readers sum both. */
    struct xvif_queue_stats tx_stats OVS_ALIGNED_VAR(CACHE_LINE_SIZE);
    struct xvif_queue_stats rx_stats OVS_ALIGNED_VAR(CACHE_LINE_SIZE);

    /* The polling thread's (xvif-idle.c): whether a poll found work since
     * notifications were last read, for 'wakeups_no_work'; and the thread
     * whose epoll set holds the queue's event channel. */
    bool recv_work;
    uint64_t idle_thread;
    /* Notifications in a row that brought no work, and the ports left
     * masked because of them until 'unmask_at' (xvif-idle.c). */
    unsigned int spurious;
    bool tx_port_masked, rx_port_masked;
    long long int unmask_at;

    /* Main thread only, under the device's 'mutex' (xvif-appctl.c): the
     * counters' values at the last reset-stats, and notifications sent by
     * "kick". */
    struct xvif_queue_stats base;
    uint64_t n_kicks;
};

/* An xvif port. */
struct netdev_xvif {
    struct netdev up;

    /* Protects the members below that the data path reads ('queues',
     * 'n_queues', carrier) against appctl and status readers.  The data
     * path itself relies on OVS not calling it during reconfigure. */
    struct ovs_mutex mutex;

    /* Identity: the guest domain and its device number.  Come from the port
     * name "vif<domid>.<devid>" or options:domid/options:devid. */
    int domid;                  /* -1 if unknown. */
    int devid;

    /* The control ring of the active connection, or NULL (xvif-ctrl.c);
     * main thread only. */
    struct xvif_ctrl *ctrl;

    /* options:static-grants: how many static grants each queue may keep
     * mapped (0: none). */
    unsigned int max_static_grants;

    /* The backend (xenstore side), when the toolstack created one. */
    struct xvif_backend *be;

    /* Connection requested by the xenbus code, applied in reconfigure.
     * 'fe_seq' counts the requests. */
    bool want_connected;
    struct xvif_frontend fe;
    uint64_t fe_seq;

    /* Active connection, made for request 'active_seq'. */
    bool connected;
    struct xvif_frontend active;
    uint64_t active_seq;
    struct xvif_queue *queues;
    unsigned int n_queues;

    /* Why the device was disabled (a hostile or broken frontend), or NULL;
     * cleared when the frontend reconnects. */
    char *disabled_reason;
    long long int disabled_time;
    char *last_error;           /* Last connect error, for status. */

    int mtu;
    struct eth_addr hwaddr;     /* The port's own address. */
    struct eth_addr guest_mac;  /* From the backend's "mac" key. */
    unsigned int requested_n_txq;
    atomic_int rx_stall_ms;     /* options:rx-stall-timeout. */

    /* Multicast control (xvif-mcast.c): whether the guest asked for its
     * multicast to be filtered (request-multicast-control, re-read while
     * connected: feature-dynamic-multicast-control), and the groups it
     * subscribed to with MCAST_ADD extras.  Entries are Ethernet addresses
     * in the low 48 bits with bit 48 set, 0 when free; the data-path
     * threads read them without locks, the guest's TX threads change them
     * under 'mcast_lock' (a spin lock: a few instructions).  All zero
     * (xzalloc) is a valid empty state. */
    atomic_bool mcast_filter;
    atomic_bool mcast_lock;
    atomic_uint64_t mcast_addrs[XVIF_MCAST_MAX];
    atomic_uint mcast_count;
    atomic_bool mcast_changed;  /* For the main thread: status changed. */

    /* RX headroom the guest asked for (xdp-headroom), in bytes; read by
     * the senders, written by the main thread. */
    atomic_uint xdp_headroom;
    uint64_t n_xdp_changes;     /* Reconfiguring cycles served. */

    /* Counters of queues that were torn down, so statistics survive a
     * reconnect. */
    struct xvif_queue_stats old_stats;

    /* Ingress policing (Interface ingress_policing_rate), or NULL. */
    OVSRCU_TYPE(struct xvif_policer *) policer;
    struct xvif_queue_stats old_base;   /* The queues' 'base's, likewise. */

    /* The last fatal error ever seen on the port (unlike 'disabled_reason'
     * not cleared on reconnect), and its wall-clock time in ms. */
    char *last_fatal;
    long long int last_fatal_time;
};

static inline struct netdev_xvif *
netdev_xvif_cast(const struct netdev *netdev)
{
    return CONTAINER_OF(netdev, struct netdev_xvif, up);
}

/* netdev-xvif.c. */
bool netdev_xvif_is_xvif(const struct netdev *);
void netdev_xvif_connect_request(struct netdev_xvif *,
                                 const struct xvif_frontend *);
void netdev_xvif_disconnect_request(struct netdev_xvif *);

void netdev_xvif_get_names(struct sset *names);
bool netdev_xvif_is_event_driven(const struct netdev_xvif *);

void netdev_xvif_disable(struct netdev_xvif *, const char *reason);

/* xvif-ctrl.c: the control ring and static grants. */
#define XVIF_STATIC_GRANTS_DEFAULT 512
#define XVIF_STATIC_GRANTS_MAX 4096
char *xvif_ctrl_connect(struct netdev_xvif *, struct xvif_ctrl **);
void xvif_ctrl_destroy(struct xvif_ctrl *);
void xvif_ctrl_run(struct netdev_xvif *);
void xvif_ctrl_wait(struct netdev_xvif *);
void xvif_ctrl_format(const struct netdev_xvif *, struct ds *);
struct json *xvif_ctrl_to_json(const struct netdev_xvif *);
struct xvif_static_grants *xvif_static_grants_create(uint16_t domid);
void xvif_static_grants_destroy(struct xvif_static_grants *);
unsigned int xvif_static_grants_count(const struct xvif_static_grants *);
extern unsigned int xvif_static_grants_limit;
unsigned int xvif_static_grants_copy(struct xvif_static_grants *,
                                     xengnttab_grant_copy_segment_t *,
                                     unsigned int n, bool *staged);

const struct xvif_hash_config *xvif_ctrl_hash_active(
    const struct netdev_xvif *);
void xvif_netif_get_status(const struct netdev_xvif *, struct smap *);

/* xvif-mcast.c: multicast control. */
bool xvif_mcast_add(struct netdev_xvif *, const uint8_t addr[6]);
void xvif_mcast_del(struct netdev_xvif *, const uint8_t addr[6]);
bool xvif_mcast_pass(const struct netdev_xvif *, const struct dp_packet *);
void xvif_mcast_reset(struct netdev_xvif *, bool filter);
unsigned int xvif_mcast_count(const struct netdev_xvif *);
void xvif_mcast_format(const struct netdev_xvif *, struct ds *);
void xvif_mcast_run(struct netdev_xvif *);

/* xvif-appctl.c: "xvif/..." unixctl commands. */
void xvif_appctl_register(void);

/* xvif-tx.c: guest TX -> OVS. */
int xvif_tx_recv(struct xvif_queue *, struct dp_packet_batch *,
                 bool event_driven);
void xvif_tx_fatal(struct xvif_queue *, const char *reason);

/* xvif-rx.c: OVS -> guest RX. */
void xvif_rx_send(struct xvif_queue *, struct dp_packet_batch *);
void xvif_rx_send_dev(struct netdev_xvif *, int qid,
                      struct dp_packet_batch *);
bool xvif_rx_flush(struct xvif_queue *);
bool xvif_rx_backlog_ready(struct xvif_queue *);
void xvif_rx_destroy_backlog(struct xvif_queue *);
bool xvif_rx_stalled(const struct netdev_xvif *);

/* Queues (netdev-xvif.c). */
bool xvif_police_admit(struct xvif_queue *, size_t bytes);
void xvif_queue_grant_copy(struct xvif_queue *,
                           xengnttab_grant_copy_segment_t *, unsigned int n,
                           struct xvif_queue_stats *);
void xvif_queue_notify(struct xvif_queue *, uint32_t port,
                       struct xvif_queue_stats *);

#endif /* xvif-private.h */
