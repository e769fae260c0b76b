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

/* The xvif netdev classes: the glue between Open vSwitch and the Xen netif
 * backend.
 *
 * This file holds what OVS sees: construct/destruct, options, reconfigure
 * (where rings are mapped and unmapped), rxq_recv/send (which hand over to
 * xvif-tx.c and xvif-rx.c), statistics, status and appctl commands.  The
 * xenstore side is in xvif-xenbus.c, the Xen access layer in xvif-xen.c.
 * See Documentation/topics/design.rst.
 *
 * Naming: 'netdev' is a struct netdev, 'dev' a struct netdev_xvif, 'q' a
 * struct xvif_queue. */

#include <config.h>

#include "netdev-xvif.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "dp-packet.h"
#include "netdev-provider.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/token-bucket.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "userspace-tso.h"
#include "util.h"
#include "xvif-idle.h"
#include "xvif-private.h"
#include "xvif-xenbus.h"

VLOG_DEFINE_THIS_MODULE(netdev_xvif);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Every xvif port, for the class run callback and appctl.  Main thread. */
static struct ovs_mutex xvif_list_mutex = OVS_MUTEX_INITIALIZER;
static struct ovs_list xvif_list OVS_GUARDED_BY(xvif_list_mutex)
    = OVS_LIST_INITIALIZER(&xvif_list);

/* An xvif port's node in 'xvif_list'. */
struct xvif_list_node {
    struct ovs_list node;
    struct netdev_xvif *dev;
};

struct netdev_rxq_xvif {
    struct netdev_rxq up;
    struct xvif_idle_rxq idle;  /* Its polling thread's. */
};

/* Ingress policing.
 *
 * What the guest sends is policed as OVS polices ingress on other userspace
 * ports (vhost-user): a token bucket per port, in bits, dropping what exceeds
 * the Interface's ingress_policing_rate (kbit/s) and ingress_policing_burst
 * (kbit; 0 means 8000, OVS's default).  vif-xvif maps libxl's "rate" key to
 * it.  The bucket is replaced through RCU, so data-path threads never see it
 * freed. */
struct xvif_policer {
    struct ovs_spin lock;
    struct token_bucket tb OVS_GUARDED;
};

static void
xvif_policer_free(struct xvif_policer *p)
{
    if (p) {
        ovs_spin_destroy(&p->lock);
        free(p);
    }
}

static const struct netdev_class netdev_xvif_class;
static const struct netdev_class netdev_xvif_pmd_class;

static void xvif_disconnect(struct netdev_xvif *);

bool
netdev_xvif_is_xvif(const struct netdev *netdev)
{
    return (netdev_get_class(netdev) == &netdev_xvif_class
            || netdev_get_class(netdev) == &netdev_xvif_pmd_class);
}

static bool
is_event_driven(const struct netdev_xvif *dev)
{
    return netdev_get_class(&dev->up) == &netdev_xvif_class;
}

bool
netdev_xvif_is_event_driven(const struct netdev_xvif *dev)
{
    return is_event_driven(dev);
}

/* Adds the name of every xvif port to 'names'. */
void
netdev_xvif_get_names(struct sset *names)
{
    struct xvif_list_node *n;

    ovs_mutex_lock(&xvif_list_mutex);
    LIST_FOR_EACH (n, node, &xvif_list) {
        sset_add(names, netdev_get_name(&n->dev->up));
    }
    ovs_mutex_unlock(&xvif_list_mutex);
}

/* Class callbacks. */

/* Runs at registration, before ovs-vswitchd has parsed its options, so it
 * logs nothing; the access layer is chosen on first use. */
/* Raises the soft limit on open files to the hard limit, as ovs-ctl does
 * when it starts ovs-vswitchd: every guest queue holds event-channel and
 * grant-device descriptors (on a real dom0, two or three per queue), so a
 * host with a thousand guests needs thousands. */
static void
raise_nofile_limit(void)
{
    struct rlimit r;

    if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur < r.rlim_max) {
        rlim_t old = r.rlim_cur;

        r.rlim_cur = r.rlim_max;
        if (!setrlimit(RLIMIT_NOFILE, &r)) {
            VLOG_INFO("raised the open files limit from %llu to %llu",
                      (unsigned long long) old,
                      (unsigned long long) r.rlim_cur);
        }
    }
}

static int
netdev_xvif_init(void)
{
    raise_nofile_limit();
    xvif_appctl_register();
    return 0;
}

/* Disables 'dev' after a fatal protocol error from its guest, described by
 * 'reason', until the frontend reconnects.  Main thread. */
void
netdev_xvif_disable(struct netdev_xvif *dev, const char *reason)
{
    if (dev->disabled_reason) {
        return;
    }
    dev->disabled_reason = xstrdup(reason);
    dev->disabled_time = time_wall_msec();
    free(dev->last_fatal);
    dev->last_fatal = xstrdup(reason);
    dev->last_fatal_time = dev->disabled_time;
    VLOG_ERR("%s: fatal error from the guest (%s): device disabled until the "
             "frontend reconnects", netdev_get_name(&dev->up), reason);
    dev->want_connected = false;
    netdev_request_reconfigure(&dev->up);
}

/* Disables devices whose queues saw a fatal protocol error.  Main thread. */
static void
xvif_check_fatal(struct netdev_xvif *dev)
{
    for (unsigned int i = 0; i < dev->n_queues; i++) {
        struct xvif_queue *q = &dev->queues[i];
        bool fatal;

        atomic_read_explicit(&q->fatal, &fatal, memory_order_acquire);
        if (fatal && !dev->disabled_reason) {
            char *reason = xasprintf("queue %u: %s", q->id, q->fatal_reason);

            netdev_xvif_disable(dev, reason);
            free(reason);
        }
    }
}

static void
netdev_xvif_run(const struct netdev_class *netdev_class OVS_UNUSED)
{
    struct xvif_list_node *n;
    static bool ran;
    bool idle_changed;

    /* Both classes share one run; let the first do the work. */
    if (netdev_class == &netdev_xvif_pmd_class && ran) {
        return;
    }
    ran = true;
    xvif_xenbus_run();
    idle_changed = xvif_idle_run();

    ovs_mutex_lock(&xvif_list_mutex);
    LIST_FOR_EACH (n, node, &xvif_list) {
        if (idle_changed && is_event_driven(n->dev)) {
            /* Its status shows how it waits. */
            netdev_change_seq_changed(&n->dev->up);
        }
        xvif_check_fatal(n->dev);
        xvif_ctrl_run(n->dev);
    }
    ovs_mutex_unlock(&xvif_list_mutex);
}

static void
netdev_xvif_wait(const struct netdev_class *netdev_class OVS_UNUSED)
{
    struct xvif_list_node *n;

    xvif_xenbus_wait();
    ovs_mutex_lock(&xvif_list_mutex);
    LIST_FOR_EACH (n, node, &xvif_list) {
        xvif_ctrl_wait(n->dev);
    }
    ovs_mutex_unlock(&xvif_list_mutex);
}

/* Construction. */

static struct netdev *
netdev_xvif_alloc(void)
{
    struct netdev_xvif *dev = xzalloc(sizeof *dev);
    return &dev->up;
}

static int
netdev_xvif_construct(struct netdev *netdev)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);
    struct xvif_list_node *n;

    xvif_xen_init();
    ovs_mutex_init(&dev->mutex);
    dev->domid = dev->devid = -1;
    xvif_parse_vif_name(netdev_get_name(netdev), &dev->domid, &dev->devid);
    dev->mtu = ETH_PAYLOAD_MAX;
    /* The port's own address, as Linux's netback gives its vif devices:
     * never a guest's. */
    dev->hwaddr = (struct eth_addr) ETH_ADDR_C(fe, ff, ff, ff, ff, ff);
    dev->requested_n_txq = 1;
    dev->max_static_grants = XVIF_STATIC_GRANTS_DEFAULT;
    atomic_init(&dev->rx_stall_ms, XVIF_RX_STALL_TIMEOUT_MS);
    netdev->n_rxq = 1;
    netdev->n_txq = 1;
    if (userspace_tso_enabled()) {
        /* Offloaded packets are passed to guests that can take them and
         * completed in software for those that cannot (xvif-rx.c). */
        netdev->ol_flags |= (NETDEV_TX_OFFLOAD_TCP_TSO
                             | NETDEV_TX_OFFLOAD_TCP_CKSUM
                             | NETDEV_TX_OFFLOAD_UDP_CKSUM
                             | NETDEV_TX_OFFLOAD_IPV4_CKSUM);
    }

    n = xmalloc(sizeof *n);
    n->dev = dev;
    ovs_mutex_lock(&xvif_list_mutex);
    ovs_list_push_back(&xvif_list, &n->node);
    ovs_mutex_unlock(&xvif_list_mutex);

    if (dev->domid >= 0) {
        xvif_xenbus_attach(dev);
    }
    return 0;
}

static void
netdev_xvif_destruct(struct netdev *netdev)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);
    struct xvif_list_node *n;

    ovs_mutex_lock(&xvif_list_mutex);
    LIST_FOR_EACH (n, node, &xvif_list) {
        if (n->dev == dev) {
            ovs_list_remove(&n->node);
            free(n);
            break;
        }
    }
    ovs_mutex_unlock(&xvif_list_mutex);

    /* The port is out of the datapath: no thread polls or sends on it. */
    xvif_disconnect(dev);
    xvif_xenbus_detach(dev);
    free(dev->disabled_reason);
    ovsrcu_postpone(xvif_policer_free,
                    ovsrcu_get_protected(struct xvif_policer *,
                                         &dev->policer));
    free(dev->last_error);
    free(dev->last_fatal);
    ovs_mutex_destroy(&dev->mutex);
}

static void
netdev_xvif_dealloc(struct netdev *netdev)
{
    free(netdev_xvif_cast(netdev));
}

/* Parses options:'key' as a number from 0 to 'max' into '*value'.  Returns
 * true if it is absent or valid; otherwise fills in '*errp'. */
static bool
parse_id_option(const struct netdev *netdev, const struct smap *args,
                const char *key, int max, int *value, char **errp)
{
    const char *s = smap_get(args, key);
    unsigned long long v;

    if (!s) {
        return true;
    }
    if (!xvif_xs_parse_uint(s, max, &v)) {
        VLOG_WARN_BUF(errp, "%s: options:%s=\"%s\" is not a number from 0 "
                      "to %d", netdev_get_name(netdev), key, s, max);
        return false;
    }
    *value = v;
    return true;
}

static int
netdev_xvif_set_config(struct netdev *netdev, const struct smap *args,
                       char **errp)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);
    int domid = -1, devid = -1;

    xvif_parse_vif_name(netdev_get_name(netdev), &domid, &devid);
    if (!parse_id_option(netdev, args, "domid", DOMID_FIRST_RESERVED - 1,
                         &domid, errp)
        || !parse_id_option(netdev, args, "devid", INT_MAX, &devid, errp)) {
        return EINVAL;
    }
    if (domid < 0 || devid < 0) {
        VLOG_WARN_BUF(errp, "%s: cannot tell the Xen domain and device: "
                      "name the port vif<domid>.<devid> or set "
                      "options:domid and options:devid",
                      netdev_get_name(netdev));
        return EINVAL;
    }
    {
        const char *s = smap_get(args, "rx-stall-timeout");
        unsigned long long ms = XVIF_RX_STALL_TIMEOUT_MS;

        if (s && (!xvif_xs_parse_uint(s, INT_MAX, &ms) || !ms)) {
            VLOG_WARN_BUF(errp, "%s: options:rx-stall-timeout=\"%s\" is not "
                          "a number of milliseconds from 1 to %d",
                          netdev_get_name(netdev), s, INT_MAX);
            return EINVAL;
        }
        atomic_store_relaxed(&dev->rx_stall_ms, ms);
    }
    {
        const char *s = smap_get(args, "static-grants");
        unsigned long long n = XVIF_STATIC_GRANTS_DEFAULT;

        if (s && !xvif_xs_parse_uint(s, XVIF_STATIC_GRANTS_MAX, &n)) {
            VLOG_WARN_BUF(errp, "%s: options:static-grants=\"%s\" is not a "
                          "number from 0 to %d", netdev_get_name(netdev), s,
                          XVIF_STATIC_GRANTS_MAX);
            return EINVAL;
        }
        /* Applies to the guest's next requests; mapped grants stay. */
        dev->max_static_grants = n;
    }
    if (domid == dev->domid && devid == dev->devid && dev->be) {
        return 0;
    }

    /* A new identity: leave the old backend, take the new one. */
    if (dev->be) {
        xvif_disconnect(dev);
        xvif_xenbus_detach(dev);
    }
    dev->domid = domid;
    dev->devid = devid;
    xvif_xenbus_attach(dev);
    return 0;
}

static int
netdev_xvif_get_config(const struct netdev *netdev, struct smap *args)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);

    if (dev->domid >= 0) {
        smap_add_format(args, "domid", "%d", dev->domid);
        smap_add_format(args, "devid", "%d", dev->devid);
    }
    if (dev->max_static_grants != XVIF_STATIC_GRANTS_DEFAULT) {
        smap_add_format(args, "static-grants", "%u", dev->max_static_grants);
    }
    return 0;
}

/* Connection (called by xvif-xenbus.c, carried out in reconfigure). */

void
netdev_xvif_connect_request(struct netdev_xvif *dev,
                            const struct xvif_frontend *fe)
{
    dev->fe = *fe;
    dev->fe_seq++;
    dev->want_connected = true;
    free(dev->disabled_reason);
    dev->disabled_reason = NULL;
    netdev_request_reconfigure(&dev->up);
}

void
netdev_xvif_disconnect_request(struct netdev_xvif *dev)
{
    /* The frontend left Connected: a device disabled by a fatal protocol
     * error may connect again when it comes back. */
    free(dev->disabled_reason);
    dev->disabled_reason = NULL;
    if (dev->want_connected || dev->connected) {
        dev->want_connected = false;
        netdev_request_reconfigure(&dev->up);
    }
}

static void
grant_copy(struct xvif_queue *q, xengnttab_grant_copy_segment_t *segs,
           unsigned int n, struct xvif_queue_stats *stats)
{
    int error = xvif_gnt_copy(q->gnt, n, segs);

    stats->gnt_copy_calls++;
    stats->gnt_copy_segs += n;
    if (error) {
        VLOG_WARN_RL(&rl, "%s: grant copy failed (%s)",
                     netdev_get_name(&q->dev->up), ovs_strerror(error));
        for (unsigned int i = 0; i < n; i++) {
            segs[i].status = GNTST_general_error;
        }
    }
}

/* Carries out the 'n' grant copies in 'segs' for queue 'q' (one burst of
 * guest TX or guest RX), counting them in 'stats'.  Segments whose guest
 * page is one of the queue's static grants are copied directly; the others
 * go to the hypervisor, in as few grant-copy calls as their order allows.
 * If a grant-copy call as a whole fails, its segments are marked failed, so
 * callers only ever look at per-segment statuses. */
void
xvif_queue_grant_copy(struct xvif_queue *q,
                      xengnttab_grant_copy_segment_t *segs, unsigned int n,
                      struct xvif_queue_stats *stats)
{
    bool staged[XVIF_MAX_SEGS];
    unsigned int i, j;

    if (!xvif_static_grants_count(q->sg)) {
        grant_copy(q, segs, n, stats);
        return;
    }

    ovs_assert(n <= XVIF_MAX_SEGS);
    stats->static_grant_copies += xvif_static_grants_copy(q->sg, segs, n,
                                                          staged);
    for (i = 0; i < n; i = j) {
        if (staged[i]) {
            j = i + 1;
            continue;
        }
        for (j = i + 1; j < n && !staged[j]; j++) {
            continue;
        }
        grant_copy(q, &segs[i], j - i, stats);
    }
}

/* Sends a notification on 'port' of 'q', counting it in 'stats'. */
void
xvif_queue_notify(struct xvif_queue *q, uint32_t port,
                  struct xvif_queue_stats *stats)
{
    int error = xvif_evtchn_notify(q->xce, port);

    if (error) {
        VLOG_WARN_RL(&rl, "%s: notify on event channel %"PRIu32" failed "
                     "(%s)", netdev_get_name(&q->dev->up), port,
                     ovs_strerror(error));
    } else {
        stats->notify_sent++;
    }
}

static void
queue_add_stats(struct xvif_queue_stats *dst,
                const struct xvif_queue_stats *src)
{
#define XVIF_COUNTER(NAME) dst->NAME += src->NAME;
    XVIF_QUEUE_COUNTERS
#undef XVIF_COUNTER
}

static void
queue_destroy(struct xvif_queue *q)
{
    struct netdev_xvif *dev = q->dev;

    if (q->xce) {
        if (q->tx_port) {
            xvif_evtchn_unbind(q->xce, q->tx_port);
        }
        if (q->rx_port && q->rx_port != q->tx_port) {
            xvif_evtchn_unbind(q->xce, q->rx_port);
        }
        xvif_evtchn_close(q->xce);
    }
    xvif_static_grants_destroy(q->sg);
    if (q->gnt) {
        xvif_gnt_unmap(q->gnt, q->tx_page);
        xvif_gnt_unmap(q->gnt, q->rx_page);
        xvif_gnt_close(q->gnt);
    }
    for (size_t i = q->gso_next; i < q->gso_n; i++) {
        dp_packet_delete(q->gso_segs[i]);
    }
    xvif_rx_destroy_backlog(q);
    free(q->tx_segs);
    free(q->rx_segs);
    queue_add_stats(&dev->old_stats, &q->tx_stats);
    queue_add_stats(&dev->old_stats, &q->rx_stats);
    queue_add_stats(&dev->old_base, &q->base);
    ovs_mutex_destroy(&q->rx_lock);
}

/* Maps queue 'q''s rings and binds its event channels, as 'qp' says.
 * Returns NULL if successful, otherwise an error message. */
static char *
queue_connect(struct xvif_queue *q, const struct xvif_queue_params *qp,
              bool split)
{
    RING_IDX rsp_prod, req_prod;
    int error;

    error = xvif_gnt_open(&q->gnt);
    if (error) {
        return xasprintf("cannot open the grant device (%s)",
                         ovs_strerror(error));
    }
    error = xvif_evtchn_open(&q->xce);
    if (error) {
        return xasprintf("cannot open the event channel device (%s)",
                         ovs_strerror(error));
    }

    q->tx_page = xvif_gnt_map(q->gnt, q->domid, qp->tx_ring_ref, true,
                              &error);
    if (!q->tx_page) {
        return xasprintf("queue %u: cannot map TX ring (grant %"PRIu32"): "
                         "%s", q->id, qp->tx_ring_ref, ovs_strerror(error));
    }
    q->rx_page = xvif_gnt_map(q->gnt, q->domid, qp->rx_ring_ref, true,
                              &error);
    if (!q->rx_page) {
        return xasprintf("queue %u: cannot map RX ring (grant %"PRIu32"): "
                         "%s", q->id, qp->rx_ring_ref, ovs_strerror(error));
    }

    /* Attach to the rings where the frontend stands: at 0 for a new
     * connection, elsewhere when ovs-vswitchd restarted under a connected
     * guest.  More outstanding requests than the ring holds is a lie. */
    {
        netif_tx_sring_t *s = q->tx_page;

        rsp_prod = s->rsp_prod;
        req_prod = s->req_prod;
        xen_rmb();
        if (req_prod - rsp_prod > XVIF_TX_RING_SIZE) {
            return xasprintf("queue %u: impossible TX ring indices "
                             "(req_prod %u, rsp_prod %u)", q->id,
                             req_prod, rsp_prod);
        }
        BACK_RING_ATTACH(&q->tx, s, rsp_prod, XVIF_PAGE_SIZE);
    }
    {
        netif_rx_sring_t *s = q->rx_page;

        rsp_prod = s->rsp_prod;
        req_prod = s->req_prod;
        xen_rmb();
        if (req_prod - rsp_prod > XVIF_RX_RING_SIZE) {
            return xasprintf("queue %u: impossible RX ring indices "
                             "(req_prod %u, rsp_prod %u)", q->id,
                             req_prod, rsp_prod);
        }
        BACK_RING_ATTACH(&q->rx, s, rsp_prod, XVIF_PAGE_SIZE);
    }

    error = xvif_evtchn_bind(q->xce, q->domid, qp->evtchn_tx, &q->tx_port);
    if (error) {
        return xasprintf("queue %u: cannot bind event channel %"PRIu32
                         " (%s)", q->id, qp->evtchn_tx, ovs_strerror(error));
    }
    if (split) {
        error = xvif_evtchn_bind(q->xce, q->domid, qp->evtchn_rx,
                                 &q->rx_port);
        if (error) {
            return xasprintf("queue %u: cannot bind event channel %"PRIu32
                             " (%s)", q->id, qp->evtchn_rx,
                             ovs_strerror(error));
        }
    } else {
        q->rx_port = q->tx_port;
    }
    return NULL;
}

/* Tears down the connection of 'dev', if any.  No data-path thread may be
 * using 'dev' (reconfigure or destruct). */
static void
xvif_disconnect(struct netdev_xvif *dev)
{
    struct xvif_queue *queues;
    struct xvif_ctrl *ctrl;
    unsigned int n;

    ovs_mutex_lock(&dev->mutex);
    ctrl = dev->ctrl;
    dev->ctrl = NULL;
    queues = dev->queues;
    n = dev->n_queues;
    dev->queues = NULL;
    dev->n_queues = 0;
    if (dev->connected) {
        dev->connected = false;
        netdev_change_seq_changed(&dev->up);
        VLOG_INFO("%s: disconnected from domain %d", netdev_get_name(
                      &dev->up), dev->domid);
    }
    ovs_mutex_unlock(&dev->mutex);

    xvif_ctrl_destroy(ctrl);
    for (unsigned int i = 0; i < n; i++) {
        queue_destroy(&queues[i]);
    }
    free(queues);
}

/* Connects 'dev' to the frontend described by 'dev->fe'.  Returns 0 or an
 * errno value; on error the reason is in 'dev->last_error'. */
static int
xvif_connect(struct netdev_xvif *dev)
{
    const struct xvif_frontend *fe = &dev->fe;
    struct xvif_queue *queues = xcalloc(fe->n_queues, sizeof *queues);
    struct xvif_ctrl *ctrl = NULL;
    char *error = NULL;
    unsigned int i;

    for (i = 0; i < fe->n_queues; i++) {
        struct xvif_queue *q = &queues[i];

        q->dev = dev;
        q->id = i;
        q->domid = fe->domid;
        ovs_mutex_init(&q->rx_lock);
        atomic_init(&q->fatal, false);
        atomic_init(&q->rx_backlog_count, 0);
        atomic_init(&q->rx_backlog_need, 0);
        atomic_init(&q->rx_backlog_size, 0);
        atomic_init(&q->rx_stalled, false);
        q->tx_segs = xmalloc(XVIF_MAX_SEGS * sizeof *q->tx_segs);
        q->rx_segs = xmalloc(XVIF_MAX_SEGS * sizeof *q->rx_segs);
        error = queue_connect(q, &fe->queues[i], fe->split_evtchn);
        if (error) {
            i++;
            break;
        }
        if (fe->ctrl_ring) {
            q->sg = xvif_static_grants_create(q->domid);
        }
    }
    if (!error && fe->ctrl_ring) {
        /* Like Linux's netback: a control ring that cannot be set up fails
         * the connection. */
        error = xvif_ctrl_connect(dev, &ctrl);
    }
    if (error) {
        VLOG_WARN_RL(&rl, "%s: cannot connect to domain %d: %s",
                     netdev_get_name(&dev->up), dev->domid, error);
        free(dev->last_error);
        dev->last_error = error;
        while (i-- > 0) {
            queue_destroy(&queues[i]);
        }
        free(queues);
        return EINVAL;
    }

    ovs_mutex_lock(&dev->mutex);
    dev->active = *fe;
    dev->active_seq = dev->fe_seq;
    xvif_mcast_reset(dev, fe->multicast);
    atomic_store_relaxed(&dev->xdp_headroom, fe->xdp_headroom);
    dev->ctrl = ctrl;
    dev->queues = queues;
    dev->n_queues = fe->n_queues;
    dev->connected = true;
    free(dev->last_error);
    dev->last_error = NULL;
    ovs_mutex_unlock(&dev->mutex);

    /* Kick the guest: after a restart of ovs-vswitchd it may be waiting for
     * responses or for room that our predecessor never announced. */
    for (i = 0; i < dev->n_queues; i++) {
        struct xvif_queue *q = &dev->queues[i];

        xvif_queue_notify(q, q->tx_port, &q->tx_stats);
        if (q->rx_port != q->tx_port) {
            xvif_queue_notify(q, q->rx_port, &q->rx_stats);
        }
    }
    VLOG_INFO("%s: connected to domain %d device %d: %u queue%s, %s event "
              "channels%s%s%s", netdev_get_name(&dev->up), dev->domid,
              dev->devid, dev->n_queues, dev->n_queues > 1 ? "s" : "",
              fe->split_evtchn ? "split" : "shared",
              fe->sg ? ", sg" : "",
              fe->gso_tcpv4 || fe->gso_tcpv6 ? ", gso" : "",
              ctrl ? ", control ring" : "");
    netdev_change_seq_changed(&dev->up);
    return 0;
}

static int
netdev_xvif_reconfigure(struct netdev *netdev)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);
    int error = 0;

    /* OVS also reconfigures a port on its own initiative (a port added or
     * removed, PMD threads coming or going, the port's XPS mode flipping):
     * a connection that is still the one requested stays up, and the guest
     * never notices. */
    if (dev->connected && dev->want_connected && !dev->disabled_reason
        && dev->active_seq == dev->fe_seq) {
        goto out;
    }

    /* A new request means a new connection: tear down, then build up. */
    if (dev->connected) {
        xvif_disconnect(dev);
        xvif_xenbus_port_disconnected(dev);
    }
    if (dev->want_connected && !dev->disabled_reason) {
        error = xvif_connect(dev);
        if (error) {
            dev->want_connected = false;
        }
        xvif_xenbus_port_connected(dev, error);
    }
out:
    netdev->n_rxq = MAX(dev->n_queues, 1);
    netdev->n_txq = MAX(dev->n_queues, 1);
    return 0;
}

static int
netdev_xvif_set_tx_multiq(struct netdev *netdev, unsigned int n_txq)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);

    /* The guest decides the number of queues; OVS uses XPS over them when
     * it has more threads (concurrent_txq). */
    dev->requested_n_txq = n_txq;
    return 0;
}

/* Data path. */

static int
netdev_xvif_set_policing(struct netdev *netdev, uint32_t kbits_rate,
                         uint32_t kbits_burst, uint32_t kpkts_rate,
                         uint32_t kpkts_burst OVS_UNUSED)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);
    struct xvif_policer *old, *new = NULL;

    if (kpkts_rate) {
        return EOPNOTSUPP;
    }
    if (kbits_rate) {
        uint64_t burst = (uint64_t) (kbits_burst ? kbits_burst : 8000) * 1000;

        new = xmalloc(sizeof *new);
        ovs_spin_init(&new->lock);
        /* Tokens are bits; kbit/s is bits per millisecond. */
        token_bucket_init(&new->tb, kbits_rate, MIN(burst, UINT_MAX));
    }
    old = ovsrcu_get_protected(struct xvif_policer *, &dev->policer);
    ovsrcu_set(&dev->policer, new);
    if (old) {
        ovsrcu_postpone(xvif_policer_free, old);
    }
    return 0;
}

/* Returns true if a packet of 'bytes' from the guest of 'q' is within its
 * port's policing rate, false if it must be dropped (counted).  Called for
 * each request before any work is done for it. */
bool
xvif_police_admit(struct xvif_queue *q, size_t bytes)
{
    struct xvif_policer *p = ovsrcu_get(struct xvif_policer *,
                                        &q->dev->policer);
    bool admit;

    if (!p) {
        return true;
    }
    ovs_spin_lock(&p->lock);
    admit = token_bucket_withdraw(&p->tb, bytes * 8);
    ovs_spin_unlock(&p->lock);
    if (!admit) {
        q->tx_stats.rx_policed++;
        q->tx_stats.rx_dropped++;
    }
    return admit;
}

static struct netdev_rxq *
netdev_xvif_rxq_alloc(void)
{
    struct netdev_rxq_xvif *rx = xzalloc(sizeof *rx);
    return &rx->up;
}

static int
netdev_xvif_rxq_construct(struct netdev_rxq *rxq OVS_UNUSED)
{
    return 0;
}

static void
netdev_xvif_rxq_destruct(struct netdev_rxq *rxq OVS_UNUSED)
{
}

static void
netdev_xvif_rxq_dealloc(struct netdev_rxq *rxq)
{
    free(CONTAINER_OF(rxq, struct netdev_rxq_xvif, up));
}

static struct xvif_queue *
rxq_queue(const struct netdev_rxq *rxq)
{
    struct netdev_xvif *dev = netdev_xvif_cast(rxq->netdev);

    return (rxq->queue_id < dev->n_queues
            ? &dev->queues[rxq->queue_id] : NULL);
}

static int
netdev_xvif_rxq_recv(struct netdev_rxq *rxq_, struct dp_packet_batch *batch,
                     int *qfill)
{
    struct netdev_rxq_xvif *rxq = CONTAINER_OF(rxq_, struct netdev_rxq_xvif,
                                               up);
    struct xvif_queue *q = rxq_queue(rxq_);
    bool event_driven, rx_progress;
    int error;

    /* Event-driven queues ask the guest for notifications (and their
     * thread may sleep) unless another PMD port shares the threads. */
    event_driven = (is_event_driven(netdev_xvif_cast(rxq_->netdev))
                    && xvif_idle_allowed());
    if (xvif_idle_before_poll(&rxq->idle, q, event_driven) || !q) {
        return EAGAIN;
    }
    rx_progress = xvif_rx_flush(q);
    error = xvif_tx_recv(q, batch, event_driven);
    if (!error && dp_packet_batch_is_empty(batch)) {
        error = EAGAIN;
    }
    xvif_idle_after_poll(q, !error || rx_progress || q->tx_more
                            || xvif_rx_backlog_ready(q));
    if (qfill) {
        *qfill = q->tx_more ? -ENOTSUP : 0;
    }
    return error;
}

static bool
netdev_xvif_rxq_enabled(struct netdev_rxq *rxq)
{
    return rxq_queue(rxq) != NULL;
}

static int
netdev_xvif_send(struct netdev *netdev, int qid,
                 struct dp_packet_batch *batch,
                 bool concurrent_txq OVS_UNUSED)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);

    if (!dev->n_queues) {
        dp_packet_delete_batch(batch, true);
        return 0;
    }
    /* xvif_rx_send() serializes concurrent senders itself; a guest that
     * configured receive-side scaling gets each packet on the queue its
     * hash selects. */
    xvif_rx_send_dev(dev, qid, batch);
    return 0;
}

/* Attributes. */

static int
netdev_xvif_get_etheraddr(const struct netdev *netdev, struct eth_addr *mac)
{
    *mac = netdev_xvif_cast(netdev)->hwaddr;
    return 0;
}

static int
netdev_xvif_set_etheraddr(struct netdev *netdev, const struct eth_addr mac)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);

    if (!eth_addr_equals(dev->hwaddr, mac)) {
        dev->hwaddr = mac;
        netdev_change_seq_changed(netdev);
    }
    return 0;
}

static int
netdev_xvif_get_mtu(const struct netdev *netdev, int *mtup)
{
    *mtup = netdev_xvif_cast(netdev)->mtu;
    return 0;
}

static int
netdev_xvif_set_mtu(struct netdev *netdev, int mtu)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);

    /* 18 pages of scatter-gather carry a 65535-byte frame; a guest without
     * feature-sg is limited to one page by the RX path itself. */
    if (mtu < 68 || mtu > 65535 - ETH_HEADER_LEN - VLAN_HEADER_LEN) {
        return EINVAL;
    }
    if (dev->mtu != mtu) {
        dev->mtu = mtu;
        netdev_change_seq_changed(netdev);
    }
    return 0;
}

static int
netdev_xvif_get_carrier(const struct netdev *netdev, bool *carrier)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);

    *carrier = (dev->connected && !dev->disabled_reason
                && !xvif_rx_stalled(dev));
    return 0;
}

static int
netdev_xvif_update_flags(struct netdev *netdev OVS_UNUSED,
                         enum netdev_flags off, enum netdev_flags on,
                         enum netdev_flags *old_flagsp)
{
    if ((off | on) & ~(NETDEV_UP | NETDEV_PROMISC)) {
        return EINVAL;
    }
    *old_flagsp = NETDEV_UP | NETDEV_PROMISC;
    return 0;
}

static int
netdev_xvif_get_numa_id(const struct netdev *netdev OVS_UNUSED)
{
    return 0;
}

/* Sums the counters of 'dev''s queues, live and gone, into '*s'. */
static void
xvif_sum_stats(const struct netdev_xvif *dev, struct xvif_queue_stats *s)
{
    *s = dev->old_stats;
    for (unsigned int i = 0; i < dev->n_queues; i++) {
        queue_add_stats(s, &dev->queues[i].tx_stats);
        queue_add_stats(s, &dev->queues[i].rx_stats);
    }
}

static int
netdev_xvif_get_stats(const struct netdev *netdev, struct netdev_stats *stats)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);
    struct xvif_queue_stats s;

    ovs_mutex_lock(&dev->mutex);
    xvif_sum_stats(dev, &s);
    ovs_mutex_unlock(&dev->mutex);

    stats->rx_packets = s.rx_packets;
    stats->rx_bytes = s.rx_bytes;
    stats->tx_packets = s.tx_packets;
    stats->tx_bytes = s.tx_bytes;
    stats->rx_errors = s.rx_errors;
    stats->rx_dropped = s.rx_dropped;
    stats->tx_dropped = s.tx_dropped;
    stats->tx_errors = s.tx_copy_error;
    return 0;
}

static int
netdev_xvif_get_custom_stats(const struct netdev *netdev,
                             struct netdev_custom_stats *custom)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);
    struct xvif_queue_stats s;
    size_t i = 0;

    ovs_mutex_lock(&dev->mutex);
    xvif_sum_stats(dev, &s);
    ovs_mutex_unlock(&dev->mutex);

#define XVIF_COUNTER(NAME) + 1
    custom->size = 0 XVIF_QUEUE_COUNTERS;
#undef XVIF_COUNTER
    custom->counters = xcalloc(custom->size, sizeof *custom->counters);
#define XVIF_COUNTER(NAME)                                              \
    ovs_strlcpy(custom->counters[i].name, "xvif_" #NAME,                \
                NETDEV_CUSTOM_STATS_NAME_SIZE);                         \
    custom->counters[i++].value = s.NAME;
    XVIF_QUEUE_COUNTERS
#undef XVIF_COUNTER
    return 0;
}

static int
netdev_xvif_get_status(const struct netdev *netdev, struct smap *smap)
{
    struct netdev_xvif *dev = netdev_xvif_cast(netdev);

    if (dev->domid >= 0) {
        smap_add_format(smap, "domid", "%d", dev->domid);
        smap_add_format(smap, "devid", "%d", dev->devid);
    }
    xvif_xenbus_get_status(dev, smap);
    smap_add(smap, "mode", is_event_driven(dev) ? "event" : "pmd");
    if (is_event_driven(dev)) {
        struct ds idle = DS_EMPTY_INITIALIZER;

        xvif_idle_format(&idle, false);
        smap_add(smap, "idle", ds_cstr(&idle));
        ds_destroy(&idle);
    }

    ovs_mutex_lock(&dev->mutex);
    smap_add(smap, "status", dev->connected ? "connected" : "disconnected");
    if (!eth_addr_is_zero(dev->guest_mac)) {
        smap_add_format(smap, "guest_mac", ETH_ADDR_FMT,
                        ETH_ADDR_ARGS(dev->guest_mac));
    }
    if (dev->connected) {
        const struct xvif_frontend *fe = &dev->active;
        struct ds features = DS_EMPTY_INITIALIZER;

        smap_add_format(smap, "queues", "%u", dev->n_queues);
        smap_add_format(smap, "ring_size", "%d", (int) XVIF_TX_RING_SIZE);
        smap_add(smap, "event_channels", fe->split_evtchn ? "split"
                                                          : "shared");
        ds_put_cstr(&features, "rx-copy");
        if (fe->sg) {
            ds_put_cstr(&features, " sg");
        }
        if (fe->gso_tcpv4) {
            ds_put_cstr(&features, " gso-tcpv4");
        }
        if (fe->gso_tcpv6) {
            ds_put_cstr(&features, " gso-tcpv6");
        }
        if (fe->ipv6_csum) {
            ds_put_cstr(&features, " ipv6-csum-offload");
        }
        if (fe->rx_notify) {
            ds_put_cstr(&features, " rx-notify");
        }
        if (fe->ctrl_ring) {
            ds_put_cstr(&features, " ctrl-ring");
        }
        smap_add(smap, "frontend_features", ds_cstr(&features));
        ds_destroy(&features);
        xvif_netif_get_status(dev, smap);
        if (dev->ctrl) {
            unsigned int n = 0;

            for (unsigned int i = 0; i < dev->n_queues; i++) {
                n += xvif_static_grants_count(dev->queues[i].sg);
            }
            smap_add_format(smap, "static_grants", "%u", n);
        }
        for (unsigned int i = 0; i < dev->n_queues; i++) {
            const struct xvif_queue *q = &dev->queues[i];
            char key[32];

            snprintf(key, sizeof key, "queue%u_evtchn", i);
            if (q->rx_port != q->tx_port) {
                smap_add_format(smap, key, "tx %"PRIu32"->%"PRIu32
                                ", rx %"PRIu32"->%"PRIu32,
                                fe->queues[i].evtchn_tx, q->tx_port,
                                fe->queues[i].evtchn_rx, q->rx_port);
            } else {
                smap_add_format(smap, key, "%"PRIu32"->%"PRIu32,
                                fe->queues[i].evtchn_tx, q->tx_port);
            }
        }
    }
    if (dev->disabled_reason) {
        smap_add(smap, "disabled", dev->disabled_reason);
    }
    if (xvif_rx_stalled(dev)) {
        smap_add(smap, "rx_stalled", "true");
    }
    if (dev->last_error) {
        smap_add(smap, "last_error", dev->last_error);
    }
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

/* The classes. */

#define NETDEV_XVIF_CLASS_COMMON                            \
    .init = netdev_xvif_init,                               \
    .run = netdev_xvif_run,                                 \
    .wait = netdev_xvif_wait,                               \
    .alloc = netdev_xvif_alloc,                             \
    .construct = netdev_xvif_construct,                     \
    .destruct = netdev_xvif_destruct,                       \
    .dealloc = netdev_xvif_dealloc,                         \
    .get_config = netdev_xvif_get_config,                   \
    .set_config = netdev_xvif_set_config,                   \
    .set_tx_multiq = netdev_xvif_set_tx_multiq,             \
    .send = netdev_xvif_send,                               \
    .get_etheraddr = netdev_xvif_get_etheraddr,             \
    .set_etheraddr = netdev_xvif_set_etheraddr,             \
    .get_mtu = netdev_xvif_get_mtu,                         \
    .set_mtu = netdev_xvif_set_mtu,                         \
    .get_carrier = netdev_xvif_get_carrier,                 \
    .get_stats = netdev_xvif_get_stats,                     \
    .get_custom_stats = netdev_xvif_get_custom_stats,       \
    .get_status = netdev_xvif_get_status,                   \
    .get_numa_id = netdev_xvif_get_numa_id,                 \
    .set_policing = netdev_xvif_set_policing,               \
    .update_flags = netdev_xvif_update_flags,               \
    .reconfigure = netdev_xvif_reconfigure,                 \
    .rxq_alloc = netdev_xvif_rxq_alloc,                     \
    .rxq_construct = netdev_xvif_rxq_construct,             \
    .rxq_destruct = netdev_xvif_rxq_destruct,               \
    .rxq_dealloc = netdev_xvif_rxq_dealloc,                 \
    .rxq_recv = netdev_xvif_rxq_recv,                       \
    .rxq_enabled = netdev_xvif_rxq_enabled

static const struct netdev_class netdev_xvif_class = {
    .type = "xvif",
    .is_pmd = true,
    NETDEV_XVIF_CLASS_COMMON,
};

static const struct netdev_class netdev_xvif_pmd_class = {
    .type = "xvif-pmd",
    .is_pmd = true,
    NETDEV_XVIF_CLASS_COMMON,
};

/* Registers the xvif netdev classes with OVS.  Call once, before the bridge
 * starts. */
void
netdev_xvif_register(void)
{
    netdev_register_provider(&netdev_xvif_class);
    netdev_register_provider(&netdev_xvif_pmd_class);
}
