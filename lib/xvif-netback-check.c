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


/* Detection of the kernel's xen-netback: see xvif-netback-check.h. */

#include <config.h>

#include "xvif-netback-check.h"

#include <stdlib.h>
#include <unistd.h>

#include "openvswitch/vlog.h"
#include "util.h"
#include "xvif-xen.h"

VLOG_DEFINE_THIS_MODULE(xvif_netback_check);

/* Returns the sysfs root to look in, or NULL if there is none to look at. */
static const char *
sysfs_root(void)
{
    const char *root = getenv("XVIF_SYSFS_ROOT");

    if (root) {
        return root;
    }
    return xvif_xen_sim_dir() ? NULL : "/sys";
}

/* Returns true if 'root'/'rel' exists. */
static bool
sysfs_exists(const char *root, const char *rel)
{
    char *path = xasprintf("%s/%s", root, rel);
    bool exists = !access(path, F_OK);

    free(path);
    return exists;
}

/* Returns true if xen-netback is loaded (as a module) or registered as the
 * xen-backend bus's "vif" driver (built in). */
static bool
kernel_netback_loaded(const char *root)
{
    return (sysfs_exists(root, "module/xen_netback")
            || sysfs_exists(root, "bus/xen-backend/drivers/vif"));
}

/* Logs a warning, once per process, if the kernel's xen-netback is present.
 * Called when xvif first connects to xenstore. */
void
xvif_netback_check_startup(void)
{
    static bool done;
    const char *root = sysfs_root();

    if (done || !root) {
        return;
    }
    done = true;
    if (kernel_netback_loaded(root)) {
        VLOG_WARN("the kernel's xen-netback is loaded: it claims every vif "
                  "backend, so xvif ports will not work reliably.  Unload "
                  "it (modprobe -r xen-netback) and blacklist it (echo "
                  "\"blacklist xen-netback\" > /etc/modprobe.d/xvif.conf)");
    }
}

/* Returns the value for the "kernel_netback" status key of the port for
 * vif 'domid'/'devid': "bound" if the kernel's xen-netback has this very
 * device (its xen-backend device vif-<domid>-<devid> or its network device
 * vif<domid>.<devid> exists), "loaded" if xen-netback is merely present,
 * NULL if it is not. */
const char *
xvif_netback_check_vif(int domid, int devid)
{
    const char *root = sysfs_root();
    const char *value;

    if (!root || !kernel_netback_loaded(root)) {
        return NULL;
    }

    char *dev = xasprintf("bus/xen-backend/devices/vif-%d-%d", domid, devid);
    char *netdev = xasprintf("class/net/vif%d.%d", domid, devid);
    value = (sysfs_exists(root, dev) || sysfs_exists(root, netdev)
             ? "bound" : "loaded");
    free(netdev);
    free(dev);
    return value;
}
