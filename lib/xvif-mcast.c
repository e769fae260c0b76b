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

/* Multicast control (xen/io/netif.h, "feature-multicast-control").
 *
 * A frontend that sets "request-multicast-control" asks the backend to
 * deliver it only the multicast groups it subscribed to; it subscribes and
 * unsubscribes with "dummy" TX requests that carry an
 * XEN_NETIF_EXTRA_TYPE_MCAST_ADD or _DEL extra (xvif-tx.c).  Broadcast and
 * unicast are never filtered.  With "feature-dynamic-multicast-control"
 * the frontend may switch the filter on and off while connected; the list
 * may be amended whether or not the filter is on.
 *
 * The list belongs to the connection (emptied when the guest connects), is
 * bounded (XVIF_MCAST_MAX, as Linux's netback; an ADD beyond it is
 * answered with an error) and lives in struct netdev_xvif as an array of
 * atomics: senders look addresses up without a lock, and the guest's TX
 * threads (one per queue, so possibly several) serialize their changes
 * with a spin lock. */

#include <config.h>

#include <string.h>

#include "connectivity.h"
#include "dp-packet.h"
#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "seq.h"
#include "xvif-private.h"

#define MCAST_VALID (UINT64_C(1) << 48)

static uint64_t
mcast_key(const uint8_t addr[6])
{
    uint64_t key = MCAST_VALID;

    for (int i = 0; i < 6; i++) {
        key |= (uint64_t) addr[i] << (40 - 8 * i);
    }
    return key;
}

static void
mcast_lock(struct netdev_xvif *dev)
{
    while (atomic_exchange_explicit(&dev->mcast_lock, true,
                                    memory_order_acquire)) {
        continue;
    }
}

static void
mcast_unlock(struct netdev_xvif *dev)
{
    atomic_store_explicit(&dev->mcast_lock, false, memory_order_release);
}

/* Returns the slot of 'key' in 'dev''s list, or -1. */
static int
mcast_find(const struct netdev_xvif *dev, uint64_t key)
{
    struct netdev_xvif *d = CONST_CAST(struct netdev_xvif *, dev);

    for (int i = 0; i < XVIF_MCAST_MAX; i++) {
        uint64_t entry;

        atomic_read_relaxed(&d->mcast_addrs[i], &entry);
        if (entry == key) {
            return i;
        }
    }
    return -1;
}

/* The list changed, from a guest-TX thread: the main thread updates the
 * port's status (netdev_change_seq_changed() is not for other threads). */
static void
mcast_changed(struct netdev_xvif *dev)
{
    atomic_store_relaxed(&dev->mcast_changed, true);
    seq_change(connectivity_seq_get());
}

/* Main thread: publishes a change of the list in the port's status. */
void
xvif_mcast_run(struct netdev_xvif *dev)
{
    bool changed;

    atomic_read_relaxed(&dev->mcast_changed, &changed);
    if (changed) {
        atomic_store_relaxed(&dev->mcast_changed, false);
        netdev_change_seq_changed(&dev->up);
    }
}

/* Subscribes the guest of 'dev' to multicast address 'addr'.  Returns
 * false (the guest gets an error response) if 'addr' is not a multicast
 * address or the list is full.  Any guest-TX thread. */
bool
xvif_mcast_add(struct netdev_xvif *dev, const uint8_t addr[6])
{
    uint64_t key = mcast_key(addr);
    bool ok = false;

    if (!(addr[0] & 1)) {
        return false;
    }
    mcast_lock(dev);
    if (mcast_find(dev, key) >= 0) {
        ok = true;
    } else {
        int free_slot = mcast_find(dev, 0);

        if (free_slot >= 0) {
            unsigned int orig;

            atomic_store_relaxed(&dev->mcast_addrs[free_slot], key);
            atomic_add_relaxed(&dev->mcast_count, 1, &orig);
            mcast_changed(dev);
            ok = true;
        }
    }
    mcast_unlock(dev);
    return ok;
}

/* Unsubscribes 'addr' (nothing happens if it was not subscribed, as with
 * Linux's netback). */
void
xvif_mcast_del(struct netdev_xvif *dev, const uint8_t addr[6])
{
    uint64_t key = mcast_key(addr);
    int slot;

    mcast_lock(dev);
    slot = mcast_find(dev, key);
    if (slot >= 0) {
        unsigned int orig;

        atomic_store_relaxed(&dev->mcast_addrs[slot], 0);
        atomic_sub_relaxed(&dev->mcast_count, 1, &orig);
        mcast_changed(dev);
    }
    mcast_unlock(dev);
}

/* Returns false if 'packet' must not reach the guest of 'dev': it asked
 * for multicast filtering and did not subscribe to the packet's multicast
 * (not broadcast) destination. */
bool
xvif_mcast_pass(const struct netdev_xvif *dev, const struct dp_packet *packet)
{
    struct netdev_xvif *d = CONST_CAST(struct netdev_xvif *, dev);
    const uint8_t *dst = dp_packet_data(packet);
    bool filter;

    if (dp_packet_size(packet) < ETH_ADDR_LEN || !(dst[0] & 1)) {
        return true;
    }
    atomic_read_relaxed(&d->mcast_filter, &filter);
    if (!filter) {
        return true;
    }
    if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", ETH_ADDR_LEN)) {
        return true;
    }
    return mcast_find(dev, mcast_key(dst)) >= 0;
}

/* Empties the list and sets whether the filter applies: a new connection.
 * Main thread, in reconfigure. */
void
xvif_mcast_reset(struct netdev_xvif *dev, bool filter)
{
    mcast_lock(dev);
    for (int i = 0; i < XVIF_MCAST_MAX; i++) {
        atomic_store_relaxed(&dev->mcast_addrs[i], 0);
    }
    atomic_store_relaxed(&dev->mcast_count, 0);
    mcast_unlock(dev);
    atomic_store_relaxed(&dev->mcast_filter, filter);
}

unsigned int
xvif_mcast_count(const struct netdev_xvif *dev)
{
    unsigned int n;

    atomic_read_relaxed(&CONST_CAST(struct netdev_xvif *, dev)->mcast_count,
                        &n);
    return n;
}

/* Appends the subscribed groups to 'ds', separated by spaces, or
 * "none". */
void
xvif_mcast_format(const struct netdev_xvif *dev, struct ds *ds)
{
    struct netdev_xvif *d = CONST_CAST(struct netdev_xvif *, dev);
    bool any = false;

    for (int i = 0; i < XVIF_MCAST_MAX; i++) {
        uint64_t e;

        atomic_read_relaxed(&d->mcast_addrs[i], &e);
        if (e) {
            ds_put_format(ds, "%s%02x:%02x:%02x:%02x:%02x:%02x",
                          any ? " " : "",
                          (unsigned int) (e >> 40) & 0xff,
                          (unsigned int) (e >> 32) & 0xff,
                          (unsigned int) (e >> 24) & 0xff,
                          (unsigned int) (e >> 16) & 0xff,
                          (unsigned int) (e >> 8) & 0xff,
                          (unsigned int) e & 0xff);
            any = true;
        }
    }
    if (!any) {
        ds_put_cstr(ds, "none");
    }
}
