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

/* When a PMD thread serving type=xvif queues sleeps.
 *
 * Why: a class that is not a PMD class is polled by ovs-vswitchd's main
 * thread, once per main-loop iteration, after bridge, ofproto and OVSDB
 * work that costs far more than a packet.  On a real Xen dom0 that put every
 * ~2 guest packets behind a ~10 ms iteration (Documentation/topics/
 * xen-performance.rst).  So type=xvif is a PMD class too, served by the
 * same threads as xvif-pmd; what makes it "event-driven" is this file.
 *
 * How: OVS's PMD thread calls rxq_recv() of each of its rxqs in turn,
 * forever.  A *round* is one pass over the thread's xvif rxqs: it ends when
 * an rxq polled in it comes up again.  Each thread has an epoll set, in
 * which every queue it polls registers its event-channel descriptor,
 * edge-triggered, the first time the thread polls it.  When a round ends
 * and none of its rxqs had work, the thread blocks in epoll_wait() for at
 * most XVIF_IDLE_MAX_MS.  Before that, each queue's last poll asked its
 * guest for a notification (RING_FINAL_CHECK_FOR_REQUESTS), so a request
 * the guest makes afterwards is an edge that ends the wait at once.
 *
 * Notifications are not read while the thread is busy: each port stays
 * masked with one pending bit, so a busy thread makes no system call here.
 * After a wait that an event ended, the next two rounds read and unmask
 * every queue's pending notifications as they poll it (the round the wait
 * interrupted, and the following full one).
 *
 * Notification storms (the XSA-332 class): a guest that notifies without
 * making requests would wake the thread as often as it likes.  As Linux
 * delays the EOI of an event channel that keeps firing spuriously, a queue
 * whose last XVIF_SPURIOUS_LIMIT notifications brought no work leaves the
 * port masked for a while (1 ms, doubling with each further spurious one up
 * to XVIF_BACKOFF_MAX_MS; counter notify_throttled).  The queue is still
 * polled at every round and at every wait's end (at most XVIF_IDLE_MAX_MS
 * apart), so the guest loses at most that much latency and nothing else;
 * one notification that brings work ends the back-off.
 *
 * The thread never touches a queue outside that queue's own poll, so it
 * keeps no pointer across a reload of its rxqs; a queue's descriptor leaves
 * every epoll set by itself when the queue closes it.
 *
 * The bound on a wait is OVS's own for PMD sleeps (pmd-maxsleep, at most
 * 10 ms): the PMD loop reads its reload flag between iterations, so a
 * reload waits at most that long.  The thread is quiescent (RCU) while it
 * waits.
 *
 * Who may sleep: the thread also polls the rxqs of other PMD ports (DPDK,
 * vhost-user, AF_XDP) if there are any, and it cannot see them.  So the
 * main thread (xvif_idle_run()) looks at every userspace datapath's ports
 * once a second; if any PMD port is not an xvif port, no thread sleeps and
 * type=xvif queues are busy-polled as xvif-pmd queues are.  A thread that
 * polls an xvif-pmd queue never sleeps either.
 *
 * Threading: xvif_idle_before_poll() and xvif_idle_after_poll() run in the
 * thread that polls the rxq; xvif_idle_run() and xvif_idle_format() in the
 * main thread. */

#include <config.h>

#include "xvif-idle.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "coverage.h"
#include "dpif.h"
#include "netdev.h"
#include "netdev-xvif.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
#include "xvif-private.h"

VLOG_DEFINE_THIS_MODULE(xvif_idle);

COVERAGE_DEFINE(xvif_idle_sleep);
COVERAGE_DEFINE(xvif_idle_timeout);

/* Longest wait, in milliseconds. */
#define XVIF_IDLE_MAX_MS 10

/* A polling thread's state. */
struct idle_thread {
    uint64_t id;                /* Unique, never 0. */
    int epfd;                   /* Its epoll set, or -1. */
    uint64_t round;             /* Current round, 0 before the first. */
    bool busy;                  /* Some rxq of the round had work, or is
                                 * busy-polled. */
    unsigned int drain_rounds;  /* Rounds that still read notifications. */
    bool woke;                  /* This round follows a wait. */
};

static atomic_uint64_t next_id = ATOMIC_VAR_INIT(1);
static atomic_uint64_t next_round = ATOMIC_VAR_INIT(1);
static atomic_bool allowed = ATOMIC_VAR_INIT(false);

/* Totals over all threads, for xvif_idle_format(). */
static atomic_uint64_t n_sleeps = ATOMIC_VAR_INIT(0);
static atomic_uint64_t n_timeouts = ATOMIC_VAR_INIT(0);

/* Main thread: why sleeping is not allowed ("" when it is). */
static char *not_allowed_reason;

static pthread_key_t idle_key;

static void
idle_thread_free(void *t_)
{
    struct idle_thread *t = t_;

    if (t) {
        if (t->epfd >= 0) {
            close(t->epfd);
        }
        free(t);
    }
}

static struct idle_thread *
idle_thread_get(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;
    struct idle_thread *t;

    if (ovsthread_once_start(&once)) {
        xpthread_key_create(&idle_key, idle_thread_free);
        ovsthread_once_done(&once);
    }
    t = pthread_getspecific(idle_key);
    if (!t) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        t = xzalloc(sizeof *t);
        atomic_add_relaxed(&next_id, 1, &t->id);
        t->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (t->epfd < 0) {
            VLOG_WARN_RL(&rl, "epoll_create1 failed (%s): this thread "
                         "busy-polls its xvif queues", ovs_strerror(errno));
        }
        xpthread_setspecific(idle_key, t);
    }
    return t;
}

/* Adds 'q''s event-channel descriptor to 't''s epoll set.  Returns false if
 * that failed (then 't' must not sleep). */
static bool
idle_register(struct idle_thread *t, struct xvif_queue *q)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
    int fd = xvif_evtchn_fd(q->xce);

    if (t->epfd < 0) {
        return false;
    }
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev)
        && (errno != EEXIST || epoll_ctl(t->epfd, EPOLL_CTL_MOD, fd, &ev))) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        VLOG_WARN_RL(&rl, "%s: queue %u: epoll_ctl failed (%s)",
                     netdev_get_name(&q->dev->up), q->id,
                     ovs_strerror(errno));
        return false;
    }
    q->idle_thread = t->id;
    return true;
}

/* Unmasks 'port' of 'q' or, if 'q' is storming, leaves it masked. */
static void
queue_unmask(struct xvif_queue *q, uint32_t port)
{
    if (q->spurious < XVIF_SPURIOUS_LIMIT) {
        xvif_evtchn_unmask(q->xce, port);
        return;
    }
    q->unmask_at = time_msec() + xvif_backoff_ms(q->spurious);
    if (port == q->tx_port) {
        q->tx_port_masked = true;
    }
    if (port == q->rx_port) {
        q->rx_port_masked = true;
    }
    q->tx_stats.notify_throttled++;
}

/* Unmasks the ports of 'q' that a storm left masked, if it is time or if
 * 'now' is true. */
static void
queue_unthrottle(struct xvif_queue *q, bool now)
{
    if (!now && time_msec() < q->unmask_at) {
        return;
    }
    if (q->tx_port_masked) {
        q->tx_port_masked = false;
        xvif_evtchn_unmask(q->xce, q->tx_port);
    }
    if (q->rx_port_masked) {
        q->rx_port_masked = false;
        xvif_evtchn_unmask(q->xce, q->rx_port);
    }
}

/* Reads and unmasks 'q''s pending notifications. */
static void
queue_drain(struct xvif_queue *q)
{
    bool notified = false;
    uint32_t port;

    if (q->recv_work) {
        q->spurious = 0;
        if (q->tx_port_masked || q->rx_port_masked) {
            queue_unthrottle(q, true);
        }
    }
    while (!xvif_evtchn_pending(q->xce, &port)) {
        q->tx_stats.notify_received++;
        if (!q->recv_work) {
            q->spurious++;
        }
        notified = true;
        queue_unmask(q, port);
    }
    if (notified && !q->recv_work) {
        /* Notified, yet no poll since the last drain found work. */
        q->tx_stats.wakeups_no_work++;
    }
    q->recv_work = false;
}

/* Waits for an event on 't''s queues, for at most XVIF_IDLE_MAX_MS. */
static void
idle_sleep(struct idle_thread *t)
{
    struct epoll_event ev;
    int retval;

    COVERAGE_INC(xvif_idle_sleep);
    atomic_add_relaxed(&n_sleeps, 1, &(uint64_t) {0});
    /* Quiescent while asleep, so that RCU never waits for a sleeping
     * thread (nor for one that its timer woke but the CPU does not run
     * yet).  Safe here: OVS's PMD loop holds no RCU-protected pointer
     * across rxq_recv(), and ours take theirs after the sleep. */
    ovsrcu_quiesce_start();
    retval = epoll_wait(t->epfd, &ev, 1, XVIF_IDLE_MAX_MS);
    ovsrcu_quiesce_end();
    t->woke = true;
    if (!retval) {
        COVERAGE_INC(xvif_idle_timeout);
        atomic_add_relaxed(&n_timeouts, 1, &(uint64_t) {0});
    } else {
        /* This round (the rest of it) and the next read notifications. */
        t->drain_rounds = 2;
    }
}

/* Called by rxq_recv() before it polls 'q' (NULL if the rxq has no queue:
 * the guest is not connected) through the rxq whose state is 'rxq'.
 * 'event_driven' is false for a busy-polled queue.
 *
 * Returns true if the thread slept: the caller then returns EAGAIN without
 * polling, and the queue's work is found by the next round. */
bool
xvif_idle_before_poll(struct xvif_idle_rxq *rxq, struct xvif_queue *q,
                      bool event_driven)
{
    struct idle_thread *t = idle_thread_get();
    bool slept = false;

    if (!t->round || rxq->round == t->round) {
        /* A round is complete (or this is the first). */
        if (t->round && !t->busy && t->epfd >= 0) {
            idle_sleep(t);
            slept = true;
        }
        if (t->drain_rounds) {
            t->drain_rounds--;
        }
        atomic_add_relaxed(&next_round, 1, &t->round);
        /* After a sleep the next round polls every queue first. */
        t->busy = slept;
        if (!slept) {
            t->woke = false;
        }
    }
    rxq->round = t->round;

    if (!event_driven) {
        t->busy = true;
    } else if (q) {
        if (q->idle_thread != t->id) {
            if (!idle_register(t, q)) {
                t->busy = true;
            }
            queue_drain(q);
        } else if (t->drain_rounds) {
            queue_drain(q);
        }
        if (t->woke && (q->tx_port_masked || q->rx_port_masked)) {
            queue_unthrottle(q, false);
        }
    }
    return slept;
}

/* Called by rxq_recv() after it polled 'q': 'work' says whether it found
 * packets or left work for the next poll. */
void
xvif_idle_after_poll(struct xvif_queue *q, bool work)
{
    if (work) {
        idle_thread_get()->busy = true;
        q->recv_work = true;
    }
}

/* Whether threads may sleep: no PMD port but xvif ports exists. */
bool
xvif_idle_allowed(void)
{
    bool a;

    atomic_read_relaxed(&allowed, &a);
    return a;
}

/* Returns a description of a PMD port that is not an xvif port, or NULL if
 * there is none.  The caller frees it. */
static char *
find_foreign_pmd_port(void)
{
    struct sset types = SSET_INITIALIZER(&types);
    const char *type;
    char *reason = NULL;

    /* Every userspace datapath: "netdev", and "dummy" in tests.  The
     * kernel's has no PMD ports. */
    dp_enumerate_types(&types);
    SSET_FOR_EACH (type, &types) {
        struct sset names = SSET_INITIALIZER(&names);
        const char *name;

        if (!strcmp(type, "system")) {
            continue;
        }
        dp_enumerate_names(type, &names);
        SSET_FOR_EACH (name, &names) {
            struct dpif_port_dump dump;
            struct dpif_port port;
            struct dpif *dpif;

            if (reason || dpif_open(name, type, &dpif)) {
                continue;
            }
            DPIF_PORT_FOR_EACH (&port, &dump, dpif) {
                struct netdev *netdev;

                if (reason) {
                    continue;
                }
                netdev = netdev_from_name(port.name);
                if (netdev) {
                    if (netdev_is_pmd(netdev)
                        && !netdev_xvif_is_xvif(netdev)) {
                        reason = xasprintf("port %s of type %s is polled by "
                                           "the same threads", port.name,
                                           port.type);
                    }
                    netdev_close(netdev);
                }
            }
            dpif_close(dpif);
        }
        sset_destroy(&names);
    }
    sset_destroy(&types);
    return reason;
}

/* Main thread: decides, once a second, whether threads may sleep.  Returns
 * true if that changed. */
bool
xvif_idle_run(void)
{
    static long long int next;
    long long int now = time_msec();
    bool changed = false;
    char *reason;

    if (now < next) {
        return false;
    }
    next = now + 1000;

    reason = find_foreign_pmd_port();
    if (!not_allowed_reason
        || strcmp(not_allowed_reason, reason ? reason : "")) {
        if (reason) {
            VLOG_INFO("type=xvif queues are busy-polled: %s", reason);
        } else if (not_allowed_reason) {
            VLOG_INFO("type=xvif queues sleep when idle");
        }
        free(not_allowed_reason);
        not_allowed_reason = xstrdup(reason ? reason : "");
        atomic_store_relaxed(&allowed, !reason);
        changed = true;
    }
    free(reason);
    return changed;
}

/* Main thread: appends to 'ds' how type=xvif queues wait when idle and,
 * if 'counters', how often threads slept. */
void
xvif_idle_format(struct ds *ds, bool counters)
{
    uint64_t sleeps, timeouts;

    if (!xvif_idle_allowed()) {
        ds_put_format(ds, "busy-poll: %s",
                      not_allowed_reason && *not_allowed_reason
                      ? not_allowed_reason : "not decided yet");
        return;
    }
    ds_put_cstr(ds, "sleep");
    if (counters) {
        /* A sleep is counted before its timeout. */
        atomic_read_relaxed(&n_timeouts, &timeouts);
        atomic_read_relaxed(&n_sleeps, &sleeps);
        ds_put_format(ds, " (all threads: %"PRIu64" sleeps, %"PRIu64
                      " ended by a guest)", sleeps, sleeps - timeouts);
    }
}
