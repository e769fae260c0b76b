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

/* The access layer's implementation for a real Xen host: libxengnttab and
 * libxenevtchn, as on a dom0 or a driver domain.  See xvif-xen.h. */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "util.h"
#include "xvif-xen.h"

VLOG_DEFINE_THIS_MODULE(xvif_xen_real);

/* Converts the outcome of a libxen call that returned -1 into a positive
 * errno value. */
static int
real_errno(void)
{
    return errno ? errno : EIO;
}

static int
real_gnt_open(struct xvif_gnt **gntp)
{
    xengnttab_handle *xgt = xengnttab_open(NULL, 0);

    if (!xgt) {
        *gntp = NULL;
        return real_errno();
    }
    *gntp = (struct xvif_gnt *) xgt;
    return 0;
}

static void
real_gnt_close(struct xvif_gnt *gnt)
{
    xengnttab_close((xengnttab_handle *) gnt);
}

static int
real_gnt_copy(struct xvif_gnt *gnt, uint32_t count,
              xengnttab_grant_copy_segment_t *segs)
{
    if (xengnttab_grant_copy((xengnttab_handle *) gnt, count, segs)) {
        return real_errno();
    }
    return 0;
}

static void *
real_gnt_map(struct xvif_gnt *gnt, uint16_t domid, uint32_t ref,
             bool writable, int *error)
{
    void *p = xengnttab_map_grant_ref((xengnttab_handle *) gnt, domid, ref,
                                      writable ? PROT_READ | PROT_WRITE
                                               : PROT_READ);
    *error = p ? 0 : real_errno();
    return p;
}

static int
real_gnt_unmap(struct xvif_gnt *gnt, void *addr)
{
    return xengnttab_unmap((xengnttab_handle *) gnt, addr, 1)
           ? real_errno() : 0;
}

static int
real_evtchn_open(struct xvif_evtchn **xcep)
{
    xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
    int error;

    *xcep = NULL;
    if (!xce) {
        return real_errno();
    }
    /* xenevtchn_pending() reads the fd: it must never block OVS's main
     * loop or a PMD thread. */
    error = set_nonblocking(xenevtchn_fd(xce));
    if (error) {
        xenevtchn_close(xce);
        return error;
    }
    *xcep = (struct xvif_evtchn *) xce;
    return 0;
}

static void
real_evtchn_close(struct xvif_evtchn *xce)
{
    xenevtchn_close((xenevtchn_handle *) xce);
}

static int
real_evtchn_fd(const struct xvif_evtchn *xce)
{
    return xenevtchn_fd(CONST_CAST(xenevtchn_handle *,
                                   (const xenevtchn_handle *) xce));
}

static int
real_evtchn_bind(struct xvif_evtchn *xce, uint16_t domid,
                 uint32_t remote_port, uint32_t *local_port)
{
    xenevtchn_port_or_error_t port;

    port = xenevtchn_bind_interdomain((xenevtchn_handle *) xce, domid,
                                      remote_port);
    if (port < 0) {
        return real_errno();
    }
    *local_port = port;
    return 0;
}

static int
real_evtchn_unbind(struct xvif_evtchn *xce, uint32_t port)
{
    return xenevtchn_unbind((xenevtchn_handle *) xce, port)
           ? real_errno() : 0;
}

static int
real_evtchn_notify(struct xvif_evtchn *xce, uint32_t port)
{
    return xenevtchn_notify((xenevtchn_handle *) xce, port)
           ? real_errno() : 0;
}

static int
real_evtchn_pending(struct xvif_evtchn *xce, uint32_t *port)
{
    xenevtchn_port_or_error_t p = xenevtchn_pending((xenevtchn_handle *) xce);

    if (p < 0) {
        return errno == EWOULDBLOCK ? EAGAIN : real_errno();
    }
    *port = p;
    return 0;
}

static int
real_evtchn_unmask(struct xvif_evtchn *xce, uint32_t port)
{
    return xenevtchn_unmask((xenevtchn_handle *) xce, port)
           ? real_errno() : 0;
}

const struct xvif_xen_ops xvif_xen_real_ops = {
    .name = "xen",
    .gnt_open = real_gnt_open,
    .gnt_close = real_gnt_close,
    .gnt_copy = real_gnt_copy,
    .gnt_map = real_gnt_map,
    .gnt_unmap = real_gnt_unmap,
    .evtchn_open = real_evtchn_open,
    .evtchn_close = real_evtchn_close,
    .evtchn_fd = real_evtchn_fd,
    .evtchn_bind = real_evtchn_bind,
    .evtchn_unbind = real_evtchn_unbind,
    .evtchn_notify = real_evtchn_notify,
    .evtchn_pending = real_evtchn_pending,
    .evtchn_unmask = real_evtchn_unmask,
};
