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

/* The xenstore side of xvif: backend discovery and the xenbus state machine.
 * See xvif-xenbus.h for the model.
 *
 * Everything here runs in ovs-vswitchd's main thread: the class run/wait
 * callbacks, and the netdev callbacks that call in (construct, destruct,
 * reconfigure, get_status).  One libxenstore connection serves all backends;
 * one watch on the backend/vif subtree discovers devices, and one watch per
 * frontend directory follows the guest.  Every event just marks the backend
 * dirty; backend_update() then reads the current state and acts on it, so
 * lost, duplicated or coalesced events do no harm.
 *
 * The state machine follows Linux's netback (drivers/net/xen-netback/
 * xenbus.c): frontend Initialised/Connected -> connect; Closing -> disconnect
 * and Closing; Closed -> Closed, and back to InitWait when the frontend
 * reinitializes while the toolstack still has the device online (driver
 * reload, kexec, Windows' close cycle before the first connect); toolstack
 * teardown (online=0, state=5) -> Closed; frontend gone -> Closed. */

#include <config.h>

#include "xvif-xenbus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "netdev-provider.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "hash.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"
#include "xvif-netback-check.h"
#include "xvif-private.h"

VLOG_DEFINE_THIS_MODULE(xvif_xenbus);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* One backend device directory. */
struct xvif_backend {
    struct hmap_node node;      /* In 'backends', by (domid, devid). */
    int domid;
    int devid;
    char *path;                 /* .../backend/vif/<domid>/<devid>. */
    char *fe_path;              /* The frontend directory, or NULL. */
    char *fe_token;             /* Watch token for 'fe_path'. */
    bool dirty;                 /* Must be looked at by backend_update(). */

    int state;                  /* Our state as we last wrote it. */
    int fe_state;               /* The frontend's, as last read. */
    bool fe_seen;               /* The frontend directory existed once. */
    bool online;                /* The toolstack's "online". */
    bool hotplug_wait;          /* The toolstack asked us to wait for */
    bool hotplug_ok;            /* hotplug-status=connected. */
    bool connect_pending;       /* Port connected; Connected not written
                                 * yet because of 'hotplug_wait'. */

    struct netdev_xvif *dev;    /* The attached port, or NULL. */
    const char *kernel_netback; /* Its status:kernel_netback, as last
                                 * reported. */

    /* Reconnect back-off (see backend_connect()). */
    long long int last_connect; /* When the port was last asked to connect. */
    unsigned int n_quick;       /* Connects in a row, each soon after the
                                 * last. */
    long long int backoff;      /* Current back-off, in ms (0: none). */
    long long int next_connect; /* No connect before this time. */
    bool deferred;              /* A connect waits for 'next_connect'. */
    uint64_t n_deferred;        /* Connects that had to wait. */
};

/* A guest may connect XVIF_RECONNECT_FREE times in a row, each within
 * XVIF_RECONNECT_QUICK_MS of the last, without delay (a reboot, a driver
 * reload, Windows' close cycle); beyond that each connect waits, 1 s at
 * first and twice as long each time, up to XVIF_RECONNECT_MAX_MS: every
 * connect and disconnect reconfigures the port, maps and unmaps its rings
 * and reloads the PMD threads that poll it, which a flapping or
 * fatal-looping guest would otherwise make as often as it likes. */
#define XVIF_RECONNECT_FREE 5
#define XVIF_RECONNECT_QUICK_MS 10000
#define XVIF_RECONNECT_MAX_MS 60000

/* The xenstore connection and all backends.  Main thread only. */
static struct xs_handle *xsh;
static char *vif_root;          /* /local/domain/<self>/backend/vif */
static struct hmap backends = HMAP_INITIALIZER(&backends);
static long long int next_open_attempt;
static bool rescan;
static long long int next_netback_check; /* See xenbus_recheck_netback(). */

#define BE_TOKEN "xvif-backends"
#define XS_LOCAL_DOMAIN "/local/domain/"

static void backend_update(struct xvif_backend *);
static void xenbus_recheck_netback(void);
static bool backend_disconnect(struct xvif_backend *);

/* Xenstore helpers. */

/* Reads 'dir'/'key' (or 'dir' if 'key' is NULL).  Returns a string the caller
 * must free(), or NULL if the node does not exist. */
static char *
xs_get(const char *dir, const char *key)
{
    char *path = key ? xasprintf("%s/%s", dir, key) : xstrdup(dir);
    unsigned int len;
    char *value = xs_read(xsh, XBT_NULL, path, &len);

    free(path);
    return value;
}

/* Reads 'dir'/'key' as an unsigned number no greater than 'max'.  Returns
 * 'def' if the node does not exist, and stores false in '*ok' (if nonnull)
 * if it exists and is not such a number. */
static unsigned long long
xs_get_uint(const char *dir, const char *key, unsigned long long max,
            unsigned long long def, bool *ok)
{
    char *s = xs_get(dir, key);
    unsigned long long value = def;

    if (s) {
        if (!xvif_xs_parse_uint(s, max, &value)) {
            value = def;
            if (ok) {
                *ok = false;
            }
        }
        free(s);
    }
    return value;
}

static bool
xs_get_bool(const char *dir, const char *key)
{
    return xs_get_uint(dir, key, ULLONG_MAX, 0, NULL) != 0;
}

static bool
xs_put(xs_transaction_t t, const char *dir, const char *key,
       const char *value)
{
    char *path = xasprintf("%s/%s", dir, key);
    bool ok = xs_write(xsh, t, path, value, strlen(value));

    if (!ok) {
        VLOG_WARN_RL(&rl, "%s: write failed (%s)", path,
                     ovs_strerror(errno));
    }
    free(path);
    return ok;
}

/* Value parsers.  Xenstore values written by a guest are hostile input:
 * only plain decimal numbers are accepted. */

/* Parses 's' as a decimal number from 0 to 'max'.  Returns true and stores
 * the number in '*value' if successful. */
bool
xvif_xs_parse_uint(const char *s, unsigned long long max,
                   unsigned long long *value)
{
    unsigned long long v = 0;

    if (!s || !*s || strlen(s) > 20) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        if (v > (ULLONG_MAX - (*s - '0')) / 10) {
            return false;
        }
        v = v * 10 + (*s - '0');
    }
    if (v > max) {
        return false;
    }
    *value = v;
    return true;
}

/* Parses 's' as a xenstore boolean ("0" or "1"). */
bool
xvif_xs_parse_bool(const char *s, bool *value)
{
    unsigned long long v;

    if (!xvif_xs_parse_uint(s, 1, &v)) {
        return false;
    }
    *value = v;
    return true;
}

/* Parses a port name "vif<domid>.<devid>" as libxl names vifs.  Returns true
 * and stores the numbers if successful. */
bool
xvif_parse_vif_name(const char *name, int *domid, int *devid)
{
    unsigned long long d, n;
    const char *dot;
    char *s;
    bool ok;

    if (strncmp(name, "vif", 3)) {
        return false;
    }
    dot = strchr(name + 3, '.');
    if (!dot) {
        return false;
    }
    s = xmemdup0(name + 3, dot - (name + 3));
    ok = (xvif_xs_parse_uint(s, DOMID_FIRST_RESERVED - 1, &d)
          && xvif_xs_parse_uint(dot + 1, INT_MAX, &n));
    free(s);
    if (ok) {
        *domid = d;
        *devid = n;
    }
    return ok;
}

const char *
xvif_xenbus_state_name(int state)
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
    default: return "invalid";
    }
}

/* The connection. */

static uint32_t
backend_hash(int domid, int devid)
{
    return hash_2words(domid, devid);
}

static struct xvif_backend *
backend_find(int domid, int devid)
{
    struct xvif_backend *be;

    HMAP_FOR_EACH_WITH_HASH (be, node, backend_hash(domid, devid),
                             &backends) {
        if (be->domid == domid && be->devid == devid) {
            return be;
        }
    }
    return NULL;
}

static struct xvif_backend *
backend_create(int domid, int devid)
{
    struct xvif_backend *be = xzalloc(sizeof *be);

    be->domid = domid;
    be->devid = devid;
    be->path = xasprintf("%s/%d/%d", vif_root, domid, devid);
    be->state = XenbusStateUnknown;
    be->dirty = true;
    hmap_insert(&backends, &be->node, backend_hash(domid, devid));
    return be;
}

static void
backend_unwatch_frontend(struct xvif_backend *be)
{
    if (be->fe_token) {
        if (xsh) {
            xs_unwatch(xsh, be->fe_path, be->fe_token);
        }
        free(be->fe_token);
        be->fe_token = NULL;
    }
    free(be->fe_path);
    be->fe_path = NULL;
}

static void
backend_destroy(struct xvif_backend *be)
{
    backend_unwatch_frontend(be);
    hmap_remove(&backends, &be->node);
    free(be->path);
    free(be);
}

/* Opens the xenstore connection if it is not open, at most once a second.
 * Returns true if it is open. */
static bool
xenbus_open(void)
{
    char *self;

    if (xsh) {
        return true;
    }
    if (time_msec() < next_open_attempt) {
        return false;
    }
    next_open_attempt = time_msec() + 1000;

    xvif_xen_init();
    xvif_netback_check_startup();
    xsh = xs_open(0);
    if (!xsh) {
        VLOG_WARN_RL(&rl, "cannot connect to xenstore (%s): xvif ports "
                     "stay down until it is reachable", ovs_strerror(errno));
        return false;
    }

    /* Our own domain: 0 in dom0, something else in a driver domain. */
    self = xs_read(xsh, XBT_NULL, "domid", NULL);
    free(vif_root);
    vif_root = xasprintf(XS_LOCAL_DOMAIN "%s/backend/vif",
                         self && self[0] ? self : "0");
    free(self);

    if (!xs_watch(xsh, vif_root, BE_TOKEN)) {
        /* Part of connecting: a xenstored that is going away (killed, or
         * restarting) may still accept the connection and then drop it
         * before the first request is answered. */
        VLOG_WARN_RL(&rl, "cannot connect to xenstore (watching %s failed: "
                     "%s): xvif ports stay down until it is reachable",
                     vif_root, ovs_strerror(errno));
        xs_close(xsh);
        xsh = NULL;
        return false;
    }
    VLOG_INFO("connected to xenstore, watching %s", vif_root);
    rescan = true;
    return true;
}

/* Finds the backend directories of domain 'domid' under 'vif_root'. */
static void
xenbus_scan_domain(unsigned int domid)
{
    char *dir = xasprintf("%s/%u", vif_root, domid);
    unsigned int n_devids;
    char **devids;

    devids = xs_directory(xsh, XBT_NULL, dir, &n_devids);
    for (unsigned int j = 0; devids && j < n_devids; j++) {
        unsigned long long devid;
        struct xvif_backend *be;

        if (!xvif_xs_parse_uint(devids[j], INT_MAX, &devid)) {
            continue;
        }
        be = backend_find(domid, devid);
        if (!be) {
            be = backend_create(domid, devid);
        }
        be->dirty = true;
    }
    free(devids);
    free(dir);
}

/* Finds every backend directory under 'vif_root' (the initial scan, and
 * after events about the whole subtree). */
static void
xenbus_scan(void)
{
    unsigned int n_domids;
    char **domids;

    domids = xs_directory(xsh, XBT_NULL, vif_root, &n_domids);
    for (unsigned int i = 0; domids && i < n_domids; i++) {
        unsigned long long domid;

        if (xvif_xs_parse_uint(domids[i], DOMID_FIRST_RESERVED - 1,
                               &domid)) {
            xenbus_scan_domain(domid);
        }
    }
    free(domids);

    /* Backends whose directory went away are looked at too. */
    struct xvif_backend *be;
    HMAP_FOR_EACH (be, node, &backends) {
        be->dirty = true;
    }
}

/* Handles one watch event on 'path' with 'token'. */
static void
xenbus_event(const char *path, const char *token)
{
    if (!strcmp(token, BE_TOKEN)) {
        size_t root_len = strlen(vif_root);
        int domid, devid, n = 0;

        if (strncmp(path, vif_root, root_len)) {
            return;
        }
        if (sscanf(path + root_len, "/%d/%d%n", &domid, &devid, &n) >= 2
            && n > 0 && (path[root_len + n] == '\0'
                         || path[root_len + n] == '/')) {
            struct xvif_backend *be = backend_find(domid, devid);

            if (!be) {
                /* A new device, or an event under a dead one's path. */
                char *state = xs_get(path, NULL);

                if (!state) {
                    return;
                }
                free(state);
                be = backend_create(domid, devid);
            }
            be->dirty = true;
        } else if (sscanf(path + root_len, "/%d%n", &domid, &n) >= 1
                   && n > 0 && path[root_len + n] == '\0'
                   && domid >= 0 && domid < DOMID_FIRST_RESERVED) {
            /* A domain's directory: only its devices (a full rescan per
             * new domain would cost O(domains) xenstore requests each). */
            struct xvif_backend *be;

            xenbus_scan_domain(domid);
            HMAP_FOR_EACH (be, node, &backends) {
                if (be->domid == domid) {
                    be->dirty = true;
                }
            }
        } else {
            /* The root: rescan. */
            rescan = true;
        }
    } else {
        struct xvif_backend *be;

        HMAP_FOR_EACH (be, node, &backends) {
            if (be->fe_token && !strcmp(be->fe_token, token)) {
                be->dirty = true;
            }
        }
    }
}

/* Runs the xenbus side of every backend.  Called from the class run
 * callback. */
void
xvif_xenbus_run(void)
{
    struct xvif_backend *be;
    char **vec;

    if (!xenbus_open()) {
        return;
    }
    while ((vec = xs_check_watch(xsh)) != NULL) {
        xenbus_event(vec[XS_WATCH_PATH], vec[XS_WATCH_TOKEN]);
        free(vec);
    }
    if (errno != EAGAIN) {
        VLOG_WARN("lost the xenstore connection (%s): reconnecting",
                  ovs_strerror(errno));
        HMAP_FOR_EACH (be, node, &backends) {
            free(be->fe_token);
            be->fe_token = NULL;
            free(be->fe_path);
            be->fe_path = NULL;
        }
        xs_close(xsh);
        xsh = NULL;
        next_open_attempt = 0;
        return;
    }
    if (rescan) {
        rescan = false;
        xenbus_scan();
    }
    HMAP_FOR_EACH_SAFE (be, node, &backends) {
        if (be->deferred && time_msec() >= be->next_connect) {
            /* Time for the connect that waited, if still wanted. */
            be->deferred = false;
            be->dirty = true;
        }
        if (be->dirty) {
            be->dirty = false;
            backend_update(be);
        }
    }
    xenbus_recheck_netback();
}

/* While the kernel's xen-netback is present, looks once a second whether it
 * went (or claimed another vif), so that ports' status:kernel_netback
 * follows.  Costs nothing on a host without it: then it only looks when a
 * port is attached. */

static void
xenbus_recheck_netback(void)
{
    struct xvif_backend *be;
    bool present = false;

    if (time_msec() < next_netback_check) {
        return;
    }
    HMAP_FOR_EACH (be, node, &backends) {
        if (be->dev) {
            const char *k = xvif_netback_check_vif(be->domid, be->devid);

            if (k != be->kernel_netback) {
                be->kernel_netback = k;
                netdev_change_seq_changed(&be->dev->up);
            }
            present = present || k;
        }
    }
    next_netback_check = present ? time_msec() + 1000 : LLONG_MAX;
}

void
xvif_xenbus_wait(void)
{
    struct xvif_backend *be;

    HMAP_FOR_EACH (be, node, &backends) {
        if (be->deferred) {
            poll_timer_wait_until(be->next_connect);
        }
    }
    if (xsh) {
        poll_fd_wait(xs_fileno(xsh), POLLIN);
    } else {
        poll_timer_wait_until(next_open_attempt);
    }
    if (next_netback_check != LLONG_MAX) {
        poll_timer_wait_until(next_netback_check);
    }
}

/* The state machine. */

/* Writes our state 'state' to xenstore. */
static void
backend_set_state(struct xvif_backend *be, int state)
{
    char buf[16];

    if (be->state == state) {
        return;
    }
    VLOG_INFO("%s: backend %s -> %s", be->path,
              xvif_xenbus_state_name(be->state),
              xvif_xenbus_state_name(state));
    snprintf(buf, sizeof buf, "%d", state);
    if (xs_put(XBT_NULL, be->path, "state", buf)) {
        be->state = state;
        if (be->dev) {
            /* The Interface status column shows the state. */
            netdev_change_seq_changed(&be->dev->up);
        }
    }
}

/* Publishes the backend's features, in one transaction, as Linux's netback
 * does at probe time.  Returns true if successful. */
static bool
backend_publish_features(struct xvif_backend *be)
{
    static const char *const features[][2] = {
        { "feature-sg", "1" },
        { "feature-gso-tcpv4", "1" },
        { "feature-gso-tcpv6", "1" },
        { "feature-ipv6-csum-offload", "1" },
        { "feature-rx-copy", "1" },
        { "feature-rx-flip", "0" },
        { "feature-split-event-channels", "1" },
        { "feature-multicast-control", "1" },
        { "feature-dynamic-multicast-control", "1" },
        { "feature-ctrl-ring", "1" },
        { "feature-xdp-headroom", "1" },
    };

    for (int attempt = 0; attempt < 10; attempt++) {
        xs_transaction_t t = xs_transaction_start(xsh);
        char max_queues[16];
        bool ok = true;

        if (t == XBT_NULL) {
            return false;
        }
        for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
            ok = ok && xs_put(t, be->path, features[i][0], features[i][1]);
        }
        snprintf(max_queues, sizeof max_queues, "%d", XVIF_MAX_QUEUES);
        ok = ok && xs_put(t, be->path, "multi-queue-max-queues", max_queues);
        if (!ok) {
            xs_transaction_end(xsh, t, true);
            return false;
        }
        if (xs_transaction_end(xsh, t, false)) {
            return true;
        }
        if (errno != EAGAIN) {
            return false;
        }
    }
    return false;
}

/* Reads the frontend's "xdp-headroom" (absent or unparsable: 0) into
 * '*headroom'.  Returns false if it asks for more than xvif gives. */
static bool
backend_read_xdp_headroom(struct xvif_backend *be, uint16_t *headroom)
{
    bool ok = true;
    unsigned long long h = xs_get_uint(be->fe_path, "xdp-headroom",
                                       ULLONG_MAX, 0, &ok);

    *headroom = 0;
    if (!ok) {
        return true;
    }
    if (h > XVIF_MAX_XDP_HEADROOM) {
        return false;
    }
    *headroom = h;
    return true;
}

/* Applies what a connected frontend may change without reconnecting:
 * request-multicast-control (we offer feature-dynamic-multicast-control)
 * and, when it reconfigures (Linux's netfront attaching or detaching an
 * XDP program: frontend Reconfiguring, backend Reconfigured, frontend
 * Connected again), xdp-headroom. */
static void
backend_update_live(struct xvif_backend *be, bool reconfiguring)
{
    struct netdev_xvif *dev = be->dev;
    bool filter = xs_get_bool(be->fe_path, "request-multicast-control");
    bool old_filter;

    atomic_read_relaxed(&dev->mcast_filter, &old_filter);
    if (filter != old_filter) {
        VLOG_INFO("%s: guest turned multicast filtering %s",
                  netdev_get_name(&dev->up), filter ? "on" : "off");
        atomic_store_relaxed(&dev->mcast_filter, filter);
        netdev_change_seq_changed(&dev->up);
    }

    if (reconfiguring) {
        unsigned int old_headroom;
        uint16_t headroom;

        atomic_read_relaxed(&dev->xdp_headroom, &old_headroom);
        if (!backend_read_xdp_headroom(be, &headroom)) {
            VLOG_WARN_RL(&rl, "%s: guest asked for xdp-headroom above the "
                         "maximum %d: keeping %u", netdev_get_name(&dev->up),
                         XVIF_MAX_XDP_HEADROOM, old_headroom);
            headroom = old_headroom;
        }
        if (headroom != old_headroom) {
            VLOG_INFO("%s: RX headroom %u -> %"PRIu16" (xdp-headroom)",
                      netdev_get_name(&dev->up), old_headroom, headroom);
            atomic_store_relaxed(&dev->xdp_headroom, headroom);
            netdev_change_seq_changed(&dev->up);
        }
        dev->n_xdp_changes++;
    }
}

/* Reads and validates the frontend's connection keys into 'fe'.  Returns
 * NULL if successful, otherwise an error message the caller must free. */
static char *
backend_read_frontend(struct xvif_backend *be, struct xvif_frontend *fe)
{
    unsigned long long n_queues;
    bool ok = true;

    memset(fe, 0, sizeof *fe);
    fe->domid = be->domid;

    n_queues = xs_get_uint(be->fe_path, "multi-queue-num-queues",
                           ULLONG_MAX, 1, &ok);
    if (!ok || !n_queues) {
        return xstrdup("invalid multi-queue-num-queues");
    }
    if (n_queues > XVIF_MAX_QUEUES) {
        return xasprintf("multi-queue-num-queues %llu above the maximum %d "
                         "(buggy or malicious guest)", n_queues,
                         XVIF_MAX_QUEUES);
    }
    fe->n_queues = n_queues;

    if (!xs_get_bool(be->fe_path, "request-rx-copy")) {
        return xstrdup("frontend does not support rx-copy "
                       "(request-rx-copy)");
    }
    fe->rx_notify = xs_get_bool(be->fe_path, "feature-rx-notify");
    fe->sg = xs_get_bool(be->fe_path, "feature-sg");
    fe->gso_tcpv4 = xs_get_bool(be->fe_path, "feature-gso-tcpv4");
    fe->gso_tcpv6 = xs_get_bool(be->fe_path, "feature-gso-tcpv6");
    fe->ipv6_csum = xs_get_bool(be->fe_path, "feature-ipv6-csum-offload");
    fe->no_csum = xs_get_bool(be->fe_path, "feature-no-csum-offload");
    fe->multicast = xs_get_bool(be->fe_path, "request-multicast-control");
    if (!backend_read_xdp_headroom(be, &fe->xdp_headroom)) {
        return xasprintf("xdp-headroom above the maximum %d (buggy or "
                         "malicious guest)", XVIF_MAX_XDP_HEADROOM);
    }
    {
        /* The control ring is optional; as with Linux's netback, a
         * frontend that shares one must give both keys. */
        char *ref = xs_get(be->fe_path, "ctrl-ring-ref");

        if (ref) {
            unsigned long long r, port;
            char *evtchn = xs_get(be->fe_path, "event-channel-ctrl");
            bool valid = (evtchn
                          && xvif_xs_parse_uint(ref, UINT32_MAX - 1, &r)
                          && xvif_xs_parse_uint(evtchn, UINT32_MAX - 1,
                                                &port));

            free(ref);
            free(evtchn);
            if (!valid) {
                return xstrdup("invalid ctrl-ring-ref or missing or invalid "
                               "event-channel-ctrl");
            }
            fe->ctrl_ring = true;
            fe->ctrl_ring_ref = r;
            fe->ctrl_evtchn = port;
        }
    }

    for (unsigned int i = 0; i < fe->n_queues; i++) {
        struct xvif_queue_params *qp = &fe->queues[i];
        char *dir = (fe->n_queues == 1
                     ? xstrdup(be->fe_path)
                     : xasprintf("%s/queue-%u", be->fe_path, i));
        char *tx, *rx;

        ok = true;
        qp->tx_ring_ref = xs_get_uint(dir, "tx-ring-ref", UINT32_MAX,
                                      UINT64_MAX, &ok);
        qp->rx_ring_ref = xs_get_uint(dir, "rx-ring-ref", UINT32_MAX,
                                      UINT64_MAX, &ok);
        tx = xs_get(dir, "event-channel-tx");
        rx = xs_get(dir, "event-channel-rx");
        if (tx && rx) {
            unsigned long long a, b;

            fe->split_evtchn = true;
            if (!xvif_xs_parse_uint(tx, UINT32_MAX, &a)
                || !xvif_xs_parse_uint(rx, UINT32_MAX, &b)) {
                ok = false;
            } else {
                qp->evtchn_tx = a;
                qp->evtchn_rx = b;
            }
        } else {
            qp->evtchn_tx = xs_get_uint(dir, "event-channel", UINT32_MAX,
                                        UINT64_MAX, &ok);
            qp->evtchn_rx = qp->evtchn_tx;
        }
        free(tx);
        free(rx);

        if (!ok) {
            char *error = xasprintf("queue %u: invalid ring reference or "
                                    "event channel in %s", i, dir);
            free(dir);
            return error;
        }
        free(dir);
        if (qp->tx_ring_ref == UINT32_MAX || qp->rx_ring_ref == UINT32_MAX
            || qp->evtchn_tx == UINT32_MAX || qp->evtchn_rx == UINT32_MAX) {
            return xasprintf("queue %u: ring references or event channel "
                             "missing", i);
        }
    }
    return NULL;
}

/* Asks the attached port to connect to the frontend. */
static void
backend_connect(struct xvif_backend *be)
{
    struct netdev_xvif *dev = be->dev;
    struct xvif_frontend fe;
    char *error;

    long long int now = time_msec();

    if (!dev || dev->want_connected) {
        return;
    }
    if (dev->disabled_reason) {
        /* A fatal protocol error disabled the device: it stays down until
         * the frontend reconnects (leaves Connected), as with Linux's
         * netback, rather than reattaching to the same poisoned rings. */
        return;
    }
    if (now < be->next_connect) {
        if (!be->deferred) {
            be->deferred = true;
            be->n_deferred++;
            VLOG_WARN_RL(&rl, "%s: domain %d reconnects too often: "
                         "connecting in %lld ms", netdev_get_name(&dev->up),
                         be->domid, be->next_connect - now);
            netdev_change_seq_changed(&dev->up);
        }
        return;
    }
    be->deferred = false;
    if (be->last_connect && now - be->last_connect < XVIF_RECONNECT_QUICK_MS) {
        be->n_quick++;
    } else {
        be->n_quick = 0;
        be->backoff = 0;
    }
    if (be->n_quick >= XVIF_RECONNECT_FREE) {
        be->backoff = MIN(MAX(be->backoff * 2, 1000), XVIF_RECONNECT_MAX_MS);
        be->next_connect = now + be->backoff;
    }
    be->last_connect = now;
    error = backend_read_frontend(be, &fe);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: cannot connect to the frontend of domain "
                     "%d: %s", netdev_get_name(&dev->up), be->domid, error);
        free(dev->last_error);
        dev->last_error = error;
        backend_set_state(be, XenbusStateClosing);
        return;
    }
    netdev_xvif_connect_request(dev, &fe);
}

/* Asks the attached port to disconnect from the frontend.  Returns true
 * if the port still has the guest's rings mapped: then the caller must not
 * announce Closing or Closed yet (the frontend would end its grants under
 * us); xvif_xenbus_port_changed() brings us back once it is done. */
static bool
backend_disconnect(struct xvif_backend *be)
{
    be->connect_pending = false;
    if (be->dev) {
        netdev_xvif_disconnect_request(be->dev);
        return be->dev->connected;
    }
    return false;
}

/* Reads the toolstack's keys that matter to the port: MAC and MTU. */
static void
backend_read_port_keys(struct xvif_backend *be)
{
    struct netdev_xvif *dev = be->dev;
    char *mac = xs_get(be->path, "mac");
    unsigned long long mtu;
    bool ok = true;

    if (mac) {
        struct eth_addr ea;

        if (eth_addr_from_string(mac, &ea)
            && !eth_addr_equals(ea, dev->guest_mac)) {
            dev->guest_mac = ea;
            netdev_change_seq_changed(&dev->up);
        }
        free(mac);
    }
    mtu = xs_get_uint(be->path, "mtu", 65535, 0, &ok);
    if (ok && mtu >= 68 && mtu != (unsigned long long) dev->mtu
        && !dev->up.mtu_user_config) {
        dev->mtu = mtu;
        netdev_change_seq_changed(&dev->up);
    }
}

/* Looks at the backend directory 'be', its frontend and the attached port,
 * and moves the state machine. */
static void
backend_update(struct xvif_backend *be)
{
    unsigned long long xs_state;
    char *fe_path, *hotplug, *state_s;
    bool ok = true;

    state_s = xs_get(be->path, "state");
    if (!state_s) {
        /* The toolstack removed the device. */
        if (be->state != XenbusStateUnknown) {
            VLOG_INFO("%s: removed", be->path);
        }
        backend_disconnect(be);
        if (be->dev) {
            be->state = XenbusStateUnknown;
            backend_unwatch_frontend(be);
            /* The next device here is a new one (the toolstack destroyed
             * and re-created the guest): no back-off carries over. */
            be->last_connect = be->backoff = be->next_connect = 0;
            be->n_quick = 0;
            be->deferred = false;
        } else {
            backend_destroy(be);
        }
        return;
    }
    if (!xvif_xs_parse_uint(state_s, XenbusStateReconfigured, &xs_state)) {
        xs_state = XenbusStateUnknown;
    }
    free(state_s);

    be->online = xs_get_uint(be->path, "online", 1, 0, &ok) == 1;
    hotplug = xs_get(be->path, "hotplug-status");
    be->hotplug_wait = hotplug != NULL;
    be->hotplug_ok = hotplug && !strcmp(hotplug, "connected");
    free(hotplug);

    /* A state we did not write: the toolstack's (1 for a new device, 5 for
     * teardown), or our own from before a restart of ovs-vswitchd. */
    if (xs_state != (unsigned long long) be->state) {
        if (be->state == XenbusStateUnknown
            && xs_state == XenbusStateConnected) {
            /* ovs-vswitchd restarted while the guest was connected: take
             * over, and reconnect below when the port exists. */
            be->state = XenbusStateInitWait;
        } else if (xs_state == XenbusStateClosing && !be->online) {
            /* Toolstack teardown (xl destroy, network-detach). */
            if (be->state != XenbusStateClosing) {
                VLOG_INFO("%s: toolstack teardown", be->path);
            }
            be->state = XenbusStateClosing;
            if (!backend_disconnect(be)) {
                backend_set_state(be, XenbusStateClosed);
            }
            return;
        } else {
            be->state = xs_state;
        }
    } else if (xs_state == XenbusStateClosing && !be->online) {
        /* Toolstack teardown, and the port has now let go of the rings (we
         * are called again by xvif_xenbus_port_disconnected()): Closed,
         * whatever the frontend does.  A guest that died (or hangs) never
         * leaves Connected, and the toolstack would wait for us in vain. */
        if (!backend_disconnect(be)) {
            backend_set_state(be, XenbusStateClosed);
        }
        return;
    }
    if (be->state == XenbusStateUnknown
        || be->state == XenbusStateInitialising) {
        if (backend_publish_features(be)) {
            backend_set_state(be, XenbusStateInitWait);
        }
    }

    /* Follow the frontend directory named by the toolstack. */
    fe_path = xs_get(be->path, "frontend");
    if (!fe_path || !be->fe_path || strcmp(fe_path, be->fe_path)) {
        backend_unwatch_frontend(be);
        if (fe_path) {
            be->fe_path = fe_path;
            be->fe_token = xasprintf("xvif-fe:%d:%d", be->domid, be->devid);
            if (!xs_watch(xsh, be->fe_path, be->fe_token)) {
                VLOG_WARN_RL(&rl, "%s: cannot watch (%s)", be->fe_path,
                             ovs_strerror(errno));
            }
            fe_path = NULL;
        }
    }
    free(fe_path);

    if (be->dev) {
        backend_read_port_keys(be);
    }

    if (be->fe_path) {
        char *s = xs_get(be->fe_path, "state");
        unsigned long long fe_state;

        if (!s || !xvif_xs_parse_uint(s, XenbusStateReconfigured,
                                      &fe_state)) {
            fe_state = XenbusStateUnknown;
        } else {
            be->fe_seen = true;
        }
        free(s);
        if ((int) fe_state != be->fe_state) {
            VLOG_INFO("%s: frontend %s -> %s", be->path,
                      xvif_xenbus_state_name(be->fe_state),
                      xvif_xenbus_state_name(fe_state));
            be->fe_state = fe_state;
            if (be->dev) {
                netdev_change_seq_changed(&be->dev->up);
            }
        }
    }

    switch (be->fe_state) {
    case XenbusStateInitialising:
        if (be->state == XenbusStateClosed && be->online) {
            /* The frontend reinitializes: offer the device again. */
            if (backend_publish_features(be)) {
                backend_set_state(be, XenbusStateInitWait);
            }
        } else if (be->state == XenbusStateConnected) {
            if (!backend_disconnect(be)) {
                backend_set_state(be, XenbusStateInitWait);
            }
        }
        break;

    case XenbusStateReconfiguring:
        /* Linux's netfront around an XDP program change. */
        if (be->dev && be->dev->connected
            && (be->state == XenbusStateConnected
                || be->state == XenbusStateReconfigured)) {
            backend_update_live(be, true);
            backend_set_state(be, XenbusStateReconfigured);
        }
        break;

    case XenbusStateInitialised:
    case XenbusStateConnected:
        if (be->state == XenbusStateClosing) {
            break;
        }
        if (be->state == XenbusStateReconfigured) {
            /* The frontend is done reconfiguring.  Its xdp-headroom may
             * have been written after it announced Reconfiguring. */
            if (be->dev && be->dev->connected) {
                backend_update_live(be, true);
            }
            backend_set_state(be, XenbusStateConnected);
            break;
        }
        if (be->dev && be->dev->connected
            && be->state == XenbusStateConnected) {
            backend_update_live(be, false);
        }
        if (be->state == XenbusStateClosed) {
            if (!be->online) {
                break;
            }
            backend_set_state(be, XenbusStateInitWait);
        }
        if (be->dev && !be->dev->connected) {
            backend_connect(be);
        } else if (be->dev && be->connect_pending && be->hotplug_ok) {
            be->connect_pending = false;
            backend_set_state(be, XenbusStateConnected);
        }
        break;

    case XenbusStateClosing:
        if (!backend_disconnect(be)) {
            backend_set_state(be, XenbusStateClosing);
        }
        break;

    case XenbusStateClosed:
        if (!backend_disconnect(be)) {
            backend_set_state(be, XenbusStateClosed);
        }
        break;

    case XenbusStateUnknown:
    default:
        if (be->fe_seen) {
            /* The guest went away. */
            if (!backend_disconnect(be)
                && be->state != XenbusStateInitialising
                && be->state != XenbusStateUnknown) {
                backend_set_state(be, XenbusStateClosed);
            }
        }
        break;
    }
}

/* Ports. */

/* Binds port 'dev' to the backend for its (domid, devid), creating the
 * backend if the toolstack has not written its directory yet (a port added
 * before its guest exists waits for it). */
void
xvif_xenbus_attach(struct netdev_xvif *dev)
{
    struct xvif_backend *be;

    ovs_assert(!dev->be);
    if (!xenbus_open()) {
        return;
    }
    be = backend_find(dev->domid, dev->devid);
    if (!be) {
        be = backend_create(dev->domid, dev->devid);
    }
    if (be->dev) {
        VLOG_WARN("%s: domain %d device %d is already port %s",
                  netdev_get_name(&dev->up), dev->domid, dev->devid,
                  netdev_get_name(&be->dev->up));
        return;
    }
    be->dev = dev;
    dev->be = be;
    be->dirty = true;
    next_netback_check = 0;
    backend_update(be);
}

/* Unbinds port 'dev' from its backend.  The backend stays (a port deleted and
 * added again finds it). */
void
xvif_xenbus_detach(struct netdev_xvif *dev)
{
    struct xvif_backend *be = dev->be;

    if (!be) {
        return;
    }
    be->dev = NULL;
    dev->be = NULL;
    be->connect_pending = false;
    if (xsh) {
        be->dirty = true;
    }
}

/* Called by the port after it disconnected from the frontend in its
 * reconfigure callback: the backend may now announce what it held back. */
void
xvif_xenbus_port_disconnected(struct netdev_xvif *dev)
{
    if (dev->be) {
        dev->be->dirty = true;
        poll_immediate_wake();
    }
}

/* Called by the port after it connected to (or failed to connect to) the
 * frontend in its reconfigure callback. */
void
xvif_xenbus_port_connected(struct netdev_xvif *dev, int error)
{
    struct xvif_backend *be = dev->be;

    if (!be || !xsh) {
        return;
    }
    if (error) {
        backend_set_state(be, XenbusStateClosing);
        return;
    }
    if (be->hotplug_wait && !be->hotplug_ok) {
        be->connect_pending = true;
    } else {
        backend_set_state(be, XenbusStateConnected);
    }
}

/* Adds the xenbus part of port 'dev''s status. */
void
xvif_xenbus_get_status(const struct netdev_xvif *dev, struct smap *smap)
{
    const struct xvif_backend *be = dev->be;

    smap_add(smap, "xen", xvif_xen_describe());
    const char *kernel = xvif_netback_check_vif(dev->domid, dev->devid);
    if (kernel) {
        smap_add(smap, "kernel_netback", kernel);
    }
    if (!xsh) {
        smap_add(smap, "xenstore", "unreachable");
    }
    if (!be) {
        smap_add(smap, "backend_state", "none");
        return;
    }
    smap_add(smap, "backend_path", be->path);
    smap_add(smap, "backend_state", xvif_xenbus_state_name(be->state));
    smap_add(smap, "frontend_state", xvif_xenbus_state_name(be->fe_state));
    if (be->fe_path) {
        smap_add(smap, "frontend_path", be->fe_path);
    }
    smap_add(smap, "online", be->online ? "true" : "false");
    if (be->deferred) {
        smap_add_format(smap, "reconnect_backoff", "%lld ms", be->backoff);
    }
    if (be->n_deferred) {
        smap_add_format(smap, "reconnects_deferred", "%"PRIu64,
                        be->n_deferred);
    }
    if (be->hotplug_wait) {
        smap_add(smap, "hotplug_status",
                 be->hotplug_ok ? "connected" : "waiting");
    }
}
