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

/* The "xvif/..." unixctl commands of ovs-vswitchd: what "ovs-appctl xvif/..."
 * and xvif-ctl(8) show and do.
 *
 *   xvif/list             one line per xvif port.
 *   xvif/show [PORT]      status, rings, event channels, counters.
 *   xvif/show-json [PORT] the same as one JSON object, for xvif-ctl and
 *                         monitoring.
 *   xvif/reset-stats [PORT]
 *   xvif/kick PORT        notifies the guest on every event channel.
 *
 * Every command runs in the main thread, as reconfigure does, so a port's
 * queues cannot come or go while a command looks at them; 'dev->mutex' is
 * held anyway, against the status readers.  The ring indexes and counters
 * are read while the data path runs: each value is a snapshot, and two
 * values need not be from the same instant.
 *
 * Counters reported here start from the last reset-stats: each queue keeps
 * a baseline ('base') that is subtracted.  The statistics that OVS itself
 * reads (get_stats, get_custom_stats) ignore the baseline and never go
 * backwards. */

#include <config.h>

#include <string.h>

#include "netdev-provider.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "ovs-thread.h"
#include "unixctl.h"
#include "util.h"
#include "xvif-idle.h"
#include "xvif-private.h"
#include "xvif-xenbus.h"

/* The features the backend offers (see backend_publish_features() in
 * xvif-xenbus.c). */
static const char *const backend_features[] = {
    "rx-copy", "sg", "gso-tcpv4", "gso-tcpv6", "ipv6-csum-offload",
    "split-event-channels", "multi-queue", "ctrl-ring", "multicast-control",
    "dynamic-multicast-control", "xdp-headroom", "rss-toeplitz",
};

static void
stats_add(struct xvif_queue_stats *dst, const struct xvif_queue_stats *src)
{
#define XVIF_COUNTER(NAME) dst->NAME += src->NAME;
    XVIF_QUEUE_COUNTERS
#undef XVIF_COUNTER
}

/* Stores in '*dst' the counters of 'a' minus those of 'b', or 0 where 'b'
 * is greater (a counter read while the data path updated it). */
static void
stats_sub(struct xvif_queue_stats *dst, const struct xvif_queue_stats *a,
          const struct xvif_queue_stats *b)
{
#define XVIF_COUNTER(NAME) \
    dst->NAME = a->NAME >= b->NAME ? a->NAME - b->NAME : 0;
    XVIF_QUEUE_COUNTERS
#undef XVIF_COUNTER
}

/* Both directions' counters of 'q', without the reset baseline. */
static void
queue_stats(const struct xvif_queue *q, struct xvif_queue_stats *s)
{
    struct xvif_queue_stats raw = q->tx_stats;

    stats_add(&raw, &q->rx_stats);
    stats_sub(s, &raw, &q->base);
}

/* The counters of 'dev', queues live and gone, since the last reset. */
static void
dev_stats(const struct netdev_xvif *dev, struct xvif_queue_stats *s)
{
    stats_sub(s, &dev->old_stats, &dev->old_base);
    for (unsigned int i = 0; i < dev->n_queues; i++) {
        struct xvif_queue_stats qs;

        queue_stats(&dev->queues[i], &qs);
        stats_add(s, &qs);
    }
}

/* Returns the xvif port named 'name', with a reference the caller must
 * release with netdev_close(), or replies to 'conn' with an error and
 * returns NULL. */
static struct netdev *
find_port(struct unixctl_conn *conn, const char *name)
{
    struct netdev *netdev = netdev_from_name(name);
    char *error;

    if (!netdev) {
        error = xasprintf("%s: no such port", name);
    } else if (!netdev_xvif_is_xvif(netdev)) {
        error = xasprintf("%s: not an xvif port (type %s)", name,
                          netdev_get_type(netdev));
        netdev_close(netdev);
        netdev = NULL;
    } else {
        return netdev;
    }
    unixctl_command_reply_error(conn, error);
    free(error);
    return NULL;
}

/* Returns references to the xvif ports that a command with arguments 'argc'
 * and 'argv' is about: argv[1] if present, otherwise all, sorted by name,
 * and stores their number in '*n'.  Returns NULL after replying with an
 * error. */
static struct netdev **
get_ports(struct unixctl_conn *conn, int argc, const char *argv[],
          size_t *n)
{
    struct sset names = SSET_INITIALIZER(&names);
    struct netdev **ports;
    const char **sorted;

    *n = 0;
    if (argc > 1) {
        struct netdev *netdev = find_port(conn, argv[1]);

        if (!netdev) {
            return NULL;
        }
        ports = xmalloc(sizeof *ports);
        ports[(*n)++] = netdev;
        return ports;
    }

    netdev_xvif_get_names(&names);
    sorted = sset_sort(&names);
    ports = xmalloc((sset_count(&names) + 1) * sizeof *ports);
    for (size_t i = 0; i < sset_count(&names); i++) {
        struct netdev *netdev = netdev_from_name(sorted[i]);

        /* A port being destroyed is gone from the netdev table already. */
        if (netdev && netdev_xvif_is_xvif(netdev)) {
            ports[(*n)++] = netdev;
        } else if (netdev) {
            netdev_close(netdev);
        }
    }
    free(sorted);
    sset_destroy(&names);
    return ports;
}

static void
close_ports(struct netdev **ports, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        netdev_close(ports[i]);
    }
    free(ports);
}

/* Adds the features that frontend 'fe' negotiated to 'set'. */
static void
put_frontend_features(const struct xvif_frontend *fe, struct sset *set)
{
    sset_add(set, "rx-copy");
    if (fe->sg) {
        sset_add(set, "sg");
    }
    if (fe->gso_tcpv4) {
        sset_add(set, "gso-tcpv4");
    }
    if (fe->gso_tcpv6) {
        sset_add(set, "gso-tcpv6");
    }
    if (fe->ipv6_csum) {
        sset_add(set, "ipv6-csum-offload");
    }
    if (fe->no_csum) {
        sset_add(set, "no-csum-offload");
    }
    if (fe->rx_notify) {
        sset_add(set, "rx-notify");
    }
    if (fe->ctrl_ring) {
        sset_add(set, "ctrl-ring");
    }
    if (fe->split_evtchn) {
        sset_add(set, "split-event-channels");
    }
    if (fe->n_queues > 1) {
        sset_add(set, "multi-queue");
    }
    if (fe->multicast) {
        sset_add(set, "multicast-control");
    }
    if (fe->xdp_headroom) {
        sset_add(set, "xdp-headroom");
    }
}

/* Adds what frontend 'fe' asked for and xvif does not do to 'set' (nothing
 * today: xvif does all netif.h defines but staging grants). */
static void
put_refused_features(const struct xvif_frontend *fe OVS_UNUSED,
                     struct sset *set OVS_UNUSED)
{
}

/* Formats wall-clock time 'msec' as an ISO 8601 UTC time into 'buf'. */
static const char *
format_time(long long int msec, char buf[64])
{
    struct tm_msec tm;

    strftime_msec(buf, 64, "%Y-%m-%dT%H:%M:%S.###Z",
                  gmtime_msec(msec, &tm));
    return buf;
}

/* A snapshot of one ring's indexes. */
struct ring_view {
    unsigned int size;
    RING_IDX req_prod, req_cons, rsp_prod, rsp_prod_pvt;
    RING_IDX req_event, rsp_event;
};

#define RING_VIEW(R) ((struct ring_view) {                          \
        .size = RING_SIZE(R),                                       \
        .req_prod = (R)->sring->req_prod,                           \
        .req_cons = (R)->req_cons,                                  \
        .rsp_prod = (R)->sring->rsp_prod,                           \
        .rsp_prod_pvt = (R)->rsp_prod_pvt,                          \
        .req_event = (R)->sring->req_event,                         \
        .rsp_event = (R)->sring->rsp_event })

/* Slots the guest may still fill with requests. */
static unsigned int
ring_free(const struct ring_view *r)
{
    unsigned int used = r->req_prod - r->rsp_prod;

    return used <= r->size ? r->size - used : 0;
}

/* Requests the guest produced that xvif has not consumed: on the TX ring,
 * packets waiting; on the RX ring, buffers posted by the guest. */
static unsigned int
ring_pending(const struct ring_view *r)
{
    return r->req_prod - r->req_cons;
}

/* Human-readable output. */

static void
put_ring_text(struct ds *ds, const char *name, const struct ring_view *r,
              const char *pending_name)
{
    ds_put_format(ds, "    %s ring: size %u req_prod %u req_cons %u "
                  "rsp_prod %u rsp_prod_pvt %u req_event %u rsp_event %u "
                  "free %u %s %u\n", name, r->size, r->req_prod, r->req_cons,
                  r->rsp_prod, r->rsp_prod_pvt, r->req_event, r->rsp_event,
                  ring_free(r), pending_name, ring_pending(r));
}

/* Appends the non-zero counters of 's' to 'ds' as "name=value" words, a
 * few per line, each line indented by 'indent' spaces. */
static void
put_counters_compact(struct ds *ds, const struct xvif_queue_stats *s,
                     int indent)
{
    size_t line_start = ds->length;
    bool any = false;

    ds_put_char_multiple(ds, ' ', indent);
#define XVIF_COUNTER(NAME)                                              \
    if (s->NAME) {                                                      \
        if (ds->length - line_start > 60) {                             \
            ds_put_char(ds, '\n');                                      \
            line_start = ds->length;                                    \
            ds_put_char_multiple(ds, ' ', indent);                      \
        } else if (any) {                                               \
            ds_put_char(ds, ' ');                                       \
        }                                                               \
        ds_put_format(ds, "%s=%"PRIu64, #NAME, s->NAME);                \
        any = true;                                                     \
    }
    XVIF_QUEUE_COUNTERS
#undef XVIF_COUNTER
    if (!any) {
        ds_put_cstr(ds, "(all zero)");
    }
    ds_put_char(ds, '\n');
}

static void
put_sset_words(struct ds *ds, const struct sset *set)
{
    const char **words = sset_sort(set);

    for (size_t i = 0; i < sset_count(set); i++) {
        ds_put_format(ds, "%s%s", i ? " " : "", words[i]);
    }
    if (!sset_count(set)) {
        ds_put_cstr(ds, "none");
    }
    free(words);
}

/* Appends the "xvif/show" report of 'dev' to 'ds'. */
static void
show_text(struct netdev_xvif *dev, struct ds *ds)
{
    struct smap status = SMAP_INITIALIZER(&status);
    const struct smap_node **nodes;
    struct xvif_queue_stats s;

    netdev_get_status(&dev->up, &status);
    ds_put_format(ds, "%s:\n", netdev_get_name(&dev->up));
    nodes = smap_sort(&status);
    for (size_t i = 0; i < smap_count(&status); i++) {
        ds_put_format(ds, "  %s: %s\n", nodes[i]->key, nodes[i]->value);
    }
    free(nodes);
    smap_destroy(&status);

    ovs_mutex_lock(&dev->mutex);
    if (dev->last_fatal) {
        char buf[64];

        ds_put_format(ds, "  last_fatal_error: %s at %s\n", dev->last_fatal,
                      format_time(dev->last_fatal_time, buf));
    }
    if (dev->connected) {
        struct sset set = SSET_INITIALIZER(&set);

        ds_put_cstr(ds, "  features:\n    backend:");
        for (size_t i = 0; i < ARRAY_SIZE(backend_features); i++) {
            ds_put_format(ds, " %s", backend_features[i]);
        }
        ds_put_cstr(ds, "\n    frontend: ");
        put_frontend_features(&dev->active, &set);
        put_sset_words(ds, &set);
        sset_clear(&set);
        ds_put_cstr(ds, "\n    refused: ");
        put_refused_features(&dev->active, &set);
        put_sset_words(ds, &set);
        ds_put_char(ds, '\n');
        sset_destroy(&set);
        xvif_ctrl_format(dev, ds);
    }
    for (unsigned int i = 0; i < dev->n_queues; i++) {
        const struct xvif_queue *q = &dev->queues[i];
        const struct xvif_queue_params *qp = &dev->active.queues[i];
        struct ring_view tx = RING_VIEW(&q->tx);
        struct ring_view rx = RING_VIEW(&q->rx);
        struct xvif_queue_stats qs;
        unsigned int backlog;
        uint64_t backlog_bytes;

        atomic_read_relaxed(&CONST_CAST(struct xvif_queue *, q)
                            ->rx_backlog_count, &backlog);
        atomic_read_relaxed(&CONST_CAST(struct xvif_queue *, q)
                            ->rx_backlog_size, &backlog_bytes);
        queue_stats(q, &qs);
        ds_put_format(ds, "  queue %u:\n", i);
        put_ring_text(ds, "tx", &tx, "requests");
        put_ring_text(ds, "rx", &rx, "posted buffers");
        if (q->sg) {
            ds_put_format(ds, "    static grants: %u mapped, copies %"
                          PRIu64"\n", xvif_static_grants_count(q->sg),
                          qs.static_grant_copies);
        }
        if (q->rx_port != q->tx_port) {
            ds_put_format(ds, "    event channels: tx port %"PRIu32
                          " (guest %"PRIu32") rx port %"PRIu32
                          " (guest %"PRIu32")\n", q->tx_port, qp->evtchn_tx,
                          q->rx_port, qp->evtchn_rx);
        } else {
            ds_put_format(ds, "    event channels: tx port %"PRIu32
                          " rx port %"PRIu32" (shared, guest %"PRIu32")\n",
                          q->tx_port, q->rx_port, qp->evtchn_tx);
        }
        ds_put_format(ds, "    notifications: sent %"PRIu64" received %"
                      PRIu64" wakeups_no_work %"PRIu64" kicks %"PRIu64"\n",
                      qs.notify_sent, qs.notify_received,
                      qs.wakeups_no_work, q->n_kicks);
        ds_put_format(ds, "    grant copy: calls %"PRIu64" segments %"
                      PRIu64" (%.1f per call) failures %"PRIu64"\n",
                      qs.gnt_copy_calls, qs.gnt_copy_segs,
                      qs.gnt_copy_calls
                      ? (double) qs.gnt_copy_segs / qs.gnt_copy_calls : 0.0,
                      qs.gnt_copy_failures);
        ds_put_format(ds, "    rx backlog: %u packets, %"PRIu64" bytes\n",
                      backlog, backlog_bytes);
        ds_put_cstr(ds, "    counters:\n");
        put_counters_compact(ds, &qs, 6);
    }
    dev_stats(dev, &s);
    ovs_mutex_unlock(&dev->mutex);

    ds_put_cstr(ds, "  statistics:\n");
#define XVIF_COUNTER(NAME) \
    ds_put_format(ds, "    %s: %"PRIu64"\n", #NAME, s.NAME);
    XVIF_QUEUE_COUNTERS
#undef XVIF_COUNTER
}

static void
unixctl_show(struct unixctl_conn *conn, int argc, const char *argv[],
             void *aux OVS_UNUSED)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    size_t n;
    struct netdev **ports = get_ports(conn, argc, argv, &n);

    if (!ports) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        show_text(netdev_xvif_cast(ports[i]), &ds);
    }
    if (!n) {
        ds_put_cstr(&ds, "no xvif ports\n");
    } else {
        ds_put_cstr(&ds, "type=xvif threads when idle: ");
        xvif_idle_format(&ds, true);
        ds_put_char(&ds, '\n');
    }
    close_ports(ports, n);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
unixctl_list(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    size_t n;
    struct netdev **ports = get_ports(conn, 1, argv, &n);

    ds_put_format(&ds, "%-12s %-8s %5s %5s %-13s %-13s %-7s %6s %5s %s\n",
                  "PORT", "TYPE", "DOMID", "DEVID", "FRONTEND", "BACKEND",
                  "CARRIER", "QUEUES", "MTU", "MAC");
    for (size_t i = 0; i < n; i++) {
        struct netdev_xvif *dev = netdev_xvif_cast(ports[i]);
        struct smap status = SMAP_INITIALIZER(&status);
        const char *fe_state, *be_state;
        bool carrier;
        int mtu;

        netdev_get_status(&dev->up, &status);
        fe_state = smap_get_def(&status, "frontend_state", "-");
        be_state = smap_get_def(&status, "backend_state", "-");
        netdev_get_mtu(&dev->up, &mtu);
        carrier = netdev_get_carrier(&dev->up);
        ovs_mutex_lock(&dev->mutex);
        ds_put_format(&ds, "%-12s %-8s %5d %5d %-13s %-13s %-7s %6u %5d ",
                      netdev_get_name(&dev->up), netdev_get_type(&dev->up),
                      dev->domid, dev->devid, fe_state, be_state,
                      carrier ? "up" : "down", dev->n_queues, mtu);
        if (eth_addr_is_zero(dev->guest_mac)) {
            ds_put_cstr(&ds, "-\n");
        } else {
            ds_put_format(&ds, ETH_ADDR_FMT"\n",
                          ETH_ADDR_ARGS(dev->guest_mac));
        }
        ovs_mutex_unlock(&dev->mutex);
        smap_destroy(&status);
    }
    close_ports(ports, n);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* JSON output. */

static struct json *
stats_to_json(const struct xvif_queue_stats *s)
{
    struct json *json = json_object_create();

#define XVIF_COUNTER(NAME) \
    json_object_put(json, #NAME, json_integer_create(s->NAME));
    XVIF_QUEUE_COUNTERS
#undef XVIF_COUNTER
    return json;
}

static struct json *
sset_to_json(const struct sset *set)
{
    struct json *array = json_array_create_empty();
    const char **words = sset_sort(set);

    for (size_t i = 0; i < sset_count(set); i++) {
        json_array_add(array, json_string_create(words[i]));
    }
    free(words);
    return array;
}

static struct json *
ring_to_json(const struct ring_view *r, const char *pending_name)
{
    struct json *json = json_object_create();

    json_object_put(json, "size", json_integer_create(r->size));
    json_object_put(json, "req_prod", json_integer_create(r->req_prod));
    json_object_put(json, "req_cons", json_integer_create(r->req_cons));
    json_object_put(json, "rsp_prod", json_integer_create(r->rsp_prod));
    json_object_put(json, "rsp_prod_pvt",
                    json_integer_create(r->rsp_prod_pvt));
    json_object_put(json, "req_event", json_integer_create(r->req_event));
    json_object_put(json, "rsp_event", json_integer_create(r->rsp_event));
    json_object_put(json, "free", json_integer_create(ring_free(r)));
    json_object_put(json, pending_name,
                    json_integer_create(ring_pending(r)));
    return json;
}

static struct json *
queue_to_json(const struct netdev_xvif *dev, unsigned int i)
{
    const struct xvif_queue *q = &dev->queues[i];
    const struct xvif_queue_params *qp = &dev->active.queues[i];
    struct ring_view tx = RING_VIEW(&q->tx);
    struct ring_view rx = RING_VIEW(&q->rx);
    struct json *json = json_object_create();
    struct json *evtchn = json_object_create();
    struct xvif_queue_stats qs;
    unsigned int backlog;
    uint64_t backlog_bytes;

    atomic_read_relaxed(&CONST_CAST(struct xvif_queue *, q)->rx_backlog_count,
                        &backlog);
    atomic_read_relaxed(&CONST_CAST(struct xvif_queue *, q)->rx_backlog_size,
                        &backlog_bytes);
    queue_stats(q, &qs);
    json_object_put(json, "id", json_integer_create(i));
    json_object_put(json, "tx_ring", ring_to_json(&tx, "requests"));
    json_object_put(json, "rx_ring", ring_to_json(&rx, "posted_buffers"));
    json_object_put(json, "static_grants",
                    json_integer_create(xvif_static_grants_count(q->sg)));
    json_object_put(evtchn, "split",
                    json_boolean_create(q->rx_port != q->tx_port));
    json_object_put(evtchn, "tx_port", json_integer_create(q->tx_port));
    json_object_put(evtchn, "rx_port", json_integer_create(q->rx_port));
    json_object_put(evtchn, "guest_tx_port",
                    json_integer_create(qp->evtchn_tx));
    json_object_put(evtchn, "guest_rx_port",
                    json_integer_create(qp->evtchn_rx));
    json_object_put(evtchn, "notify_sent",
                    json_integer_create(qs.notify_sent));
    json_object_put(evtchn, "notify_received",
                    json_integer_create(qs.notify_received));
    json_object_put(evtchn, "wakeups_no_work",
                    json_integer_create(qs.wakeups_no_work));
    json_object_put(evtchn, "kicks", json_integer_create(q->n_kicks));
    json_object_put(json, "event_channels", evtchn);
    json_object_put(json, "rx_backlog", json_integer_create(backlog));
    json_object_put(json, "rx_backlog_bytes",
                    json_integer_create(backlog_bytes));
    json_object_put(json, "stats", stats_to_json(&qs));
    return json;
}

/* Returns the "xvif/show-json" object of 'dev'. */
static struct json *
show_json(struct netdev_xvif *dev)
{
    struct smap status = SMAP_INITIALIZER(&status);
    struct json *json = json_object_create();
    struct json *status_json = json_object_create();
    struct json *queues = json_array_create_empty();
    struct smap_node *node;
    struct xvif_queue_stats s;
    bool carrier;
    int mtu;

    netdev_get_status(&dev->up, &status);
    netdev_get_mtu(&dev->up, &mtu);
    carrier = netdev_get_carrier(&dev->up);

    json_object_put_string(json, "name", netdev_get_name(&dev->up));
    json_object_put_string(json, "type", netdev_get_type(&dev->up));
    json_object_put_string(json, "mode", netdev_xvif_is_event_driven(dev)
                                         ? "event" : "pmd");
    json_object_put(json, "domid", json_integer_create(dev->domid));
    json_object_put(json, "devid", json_integer_create(dev->devid));
    json_object_put_string(json, "frontend_state",
                           smap_get_def(&status, "frontend_state", "none"));
    json_object_put_string(json, "backend_state",
                           smap_get_def(&status, "backend_state", "none"));
    json_object_put(json, "carrier", json_boolean_create(carrier));
    json_object_put(json, "mtu", json_integer_create(mtu));
    SMAP_FOR_EACH (node, &status) {
        json_object_put_string(status_json, node->key, node->value);
    }
    json_object_put(json, "status", status_json);
    smap_destroy(&status);

    ovs_mutex_lock(&dev->mutex);
    json_object_put(json, "connected", json_boolean_create(dev->connected));
    json_object_put(json, "n_queues", json_integer_create(dev->n_queues));
    json_object_put_format(json, "mac", ETH_ADDR_FMT,
                           ETH_ADDR_ARGS(dev->guest_mac));
    json_object_put_format(json, "hwaddr", ETH_ADDR_FMT,
                           ETH_ADDR_ARGS(dev->hwaddr));
    if (dev->connected) {
        struct json *features = json_object_create();
        struct json *be = json_array_create_empty();
        struct sset set = SSET_INITIALIZER(&set);

        for (size_t i = 0; i < ARRAY_SIZE(backend_features); i++) {
            json_array_add(be, json_string_create(backend_features[i]));
        }
        json_object_put(features, "backend", be);
        put_frontend_features(&dev->active, &set);
        json_object_put(features, "frontend", sset_to_json(&set));
        sset_clear(&set);
        put_refused_features(&dev->active, &set);
        json_object_put(features, "refused", sset_to_json(&set));
        sset_destroy(&set);
        json_object_put(json, "features", features);
    } else {
        json_object_put(json, "features", json_null_create());
    }
    json_object_put(json, "ctrl_ring", xvif_ctrl_to_json(dev));
    json_object_put(json, "disabled", dev->disabled_reason
                    ? json_string_create(dev->disabled_reason)
                    : json_null_create());
    if (dev->last_fatal) {
        struct json *fatal = json_object_create();
        char buf[64];

        json_object_put_string(fatal, "reason", dev->last_fatal);
        json_object_put(fatal, "time_msec",
                        json_integer_create(dev->last_fatal_time));
        json_object_put_string(fatal, "time",
                               format_time(dev->last_fatal_time, buf));
        json_object_put(json, "last_fatal_error", fatal);
    } else {
        json_object_put(json, "last_fatal_error", json_null_create());
    }
    for (unsigned int i = 0; i < dev->n_queues; i++) {
        json_array_add(queues, queue_to_json(dev, i));
    }
    json_object_put(json, "queues", queues);
    dev_stats(dev, &s);
    ovs_mutex_unlock(&dev->mutex);

    json_object_put(json, "stats", stats_to_json(&s));
    return json;
}

static void
unixctl_show_json(struct unixctl_conn *conn, int argc, const char *argv[],
                  void *aux OVS_UNUSED)
{
    struct json *json = json_object_create();
    struct json *array = json_array_create_empty();
    size_t n;
    struct netdev **ports = get_ports(conn, argc, argv, &n);
    char *s;

    if (!ports) {
        json_destroy(json);
        json_destroy(array);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_array_add(array, show_json(netdev_xvif_cast(ports[i])));
    }
    close_ports(ports, n);

    /* A monotonic time, for rates, and the wall clock. */
    json_object_put(json, "time_msec", json_integer_create(time_msec()));
    json_object_put(json, "wall_msec", json_integer_create(time_wall_msec()));
    json_object_put(json, "ports", array);
    s = json_to_string(json, JSSF_SORT);
    unixctl_command_reply(conn, s);
    free(s);
    json_destroy(json);
}

/* Commands that act. */

static void
unixctl_reset_stats(struct unixctl_conn *conn, int argc, const char *argv[],
                    void *aux OVS_UNUSED)
{
    size_t n;
    struct netdev **ports = get_ports(conn, argc, argv, &n);

    if (!ports) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct netdev_xvif *dev = netdev_xvif_cast(ports[i]);

        ovs_mutex_lock(&dev->mutex);
        dev->old_base = dev->old_stats;
        for (unsigned int j = 0; j < dev->n_queues; j++) {
            struct xvif_queue *q = &dev->queues[j];

            q->base = q->tx_stats;
            stats_add(&q->base, &q->rx_stats);
            q->n_kicks = 0;
        }
        ovs_mutex_unlock(&dev->mutex);
    }
    close_ports(ports, n);
    unixctl_command_reply(conn, NULL);
}

/* Notifies the guest on every event channel of the port, as Linux's netback
 * debugfs "kick" does: the way out of a hang on a lost notification. */
static void
unixctl_kick(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[], void *aux OVS_UNUSED)
{
    struct netdev *netdev = find_port(conn, argv[1]);
    struct netdev_xvif *dev;
    char *error = NULL;
    int n_sent = 0;

    if (!netdev) {
        return;
    }
    dev = netdev_xvif_cast(netdev);
    ovs_mutex_lock(&dev->mutex);
    if (!dev->n_queues) {
        error = xasprintf("%s: not connected", argv[1]);
    }
    for (unsigned int i = 0; i < dev->n_queues; i++) {
        struct xvif_queue *q = &dev->queues[i];
        int err = xvif_evtchn_notify(q->xce, q->tx_port);

        if (!err && q->rx_port != q->tx_port) {
            err = xvif_evtchn_notify(q->xce, q->rx_port);
        }
        if (err) {
            free(error);
            error = xasprintf("%s: queue %u: notify failed (%s)", argv[1],
                              i, ovs_strerror(err));
        } else {
            q->n_kicks++;
            n_sent++;
        }
    }
    ovs_mutex_unlock(&dev->mutex);
    netdev_close(netdev);

    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
    } else {
        char *reply = xasprintf("kicked %d queue%s\n", n_sent,
                                n_sent == 1 ? "" : "s");

        unixctl_command_reply(conn, reply);
        free(reply);
    }
}

/* Registers the commands.  Called once per process. */
void
xvif_appctl_register(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        unixctl_command_register("xvif/list", "", 0, 0, unixctl_list, NULL);
        unixctl_command_register("xvif/show", "[port]", 0, 1,
                                 unixctl_show, NULL);
        unixctl_command_register("xvif/show-json", "[port]", 0, 1,
                                 unixctl_show_json, NULL);
        unixctl_command_register("xvif/reset-stats", "[port]", 0, 1,
                                 unixctl_reset_stats, NULL);
        unixctl_command_register("xvif/kick", "port", 1, 1,
                                 unixctl_kick, NULL);
        ovsthread_once_done(&once);
    }
}
