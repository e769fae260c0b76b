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

#ifndef XENSIM_H
#define XENSIM_H 1

/* The simulated hypervisor: domains, their memory, grant tables and event
 * channels.
 *
 * There is no hypervisor process.  Each simulated domain is one file,
 * "<dir>/dom<domid>", that every process taking part maps MAP_SHARED: its
 * header, its v1 grant table, its event-channel port table and its "RAM"
 * (nr_pages pages of 4 kB).  The processes are the simulated domains' kernels
 * (the netfront guest, acting as domid N) and dom0's backend (ovs-vswitchd,
 * acting as domid 0).  "dir" should be on tmpfs (e.g. /dev/shm/...): the
 * memory is hot and must not be written back to a disk.
 *
 * What is reproduced from Xen:
 *
 *   - Grant table v1 (struct grant_entry_v1 from xen/grant_table.h): a
 *     granting domain writes entries (GTF_permit_access, GTF_readonly, the
 *     grantee domid, the frame) into its own table.  A grantee may copy to or
 *     from a granted frame, or map it, only through the calls below, which
 *     check everything Xen checks: the granting domain exists, the reference
 *     is in range and permits access, the grantee is the caller, a write does
 *     not target a read-only grant, offset + length stays within the page,
 *     and the frame is within the domain's memory.  Statuses are Xen's
 *     GNTST_* values, per segment, as xengnttab_grant_copy() reports them.
 *     A mapped grant is pinned: the granter cannot end access to it until the
 *     grantee unmaps it (gnttab_end_foreign_access fails with EBUSY).
 *
 *   - Event channels (2-level ABI semantics): alloc_unbound for a remote
 *     domain, bind_interdomain (only to a port allocated for the caller's
 *     domain), notify, unbind (the remote end reverts to unbound), and a
 *     per-handle pollable fd like /dev/xen/evtchn's.  Delivery masks the port
 *     until the handle unmasks it, and notifications coalesce while a port
 *     is pending, so a burst of notify() calls wakes the receiver once.
 *
 *   - Domain lifetime: a destroyed domain's grants fail with
 *     GNTST_bad_domain, and its event channels stop delivering.
 *
 * What is left out: grant table v2, transitive grants, grant-transfer
 * ("flipping"), GTF_reading/GTF_writing bookkeeping visible to the granter,
 * virtual IRQs, FIFO event-channel ABI priorities, and any isolation: a
 * process can map a domain file whole.  The isolation the backend relies on is
 * that the backend only ever touches guest memory through xensim_gnttab_*
 * (in ovs-vswitchd, through lib/xvif-xen.h), which enforces the grants.
 *
 * Errors: functions return 0 or a positive errno value, in OVS's style. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xengnttab.h>

#define XENSIM_PAGE_SIZE 4096
#define XENSIM_NR_GRANTS 8192       /* Grant entries per domain. */
#define XENSIM_NR_PORTS 4096        /* Event-channel ports per domain. */
#define XENSIM_DEFAULT_PAGES 16384  /* 64 MB of simulated RAM. */
#define XENSIM_MAX_DOMID 0x7fef     /* DOMID_FIRST_RESERVED - 1. */

struct xensim_domain;
struct xensim_gnttab;
struct xensim_evtchn;

/* Domains: the toolstack's and the hypervisor's part. */

int xensim_domain_create(const char *dir, uint16_t domid, uint32_t nr_pages);
int xensim_domain_destroy(const char *dir, uint16_t domid);
int xensim_domain_open(const char *dir, uint16_t domid,
                       struct xensim_domain **);
void xensim_domain_close(struct xensim_domain *);
uint16_t xensim_domain_id(const struct xensim_domain *);
bool xensim_domain_is_alive(const struct xensim_domain *);
uint32_t xensim_domain_nr_pages(const struct xensim_domain *);
unsigned int xensim_domain_count_ports(const struct xensim_domain *);

/* A domain's own memory, as its kernel sees it. */
void *xensim_page(struct xensim_domain *, uint32_t frame);
int xensim_page_alloc(struct xensim_domain *, uint32_t *frame);
void xensim_page_free(struct xensim_domain *, uint32_t frame);

/* The granting side: a domain's kernel grants its own frames.
 * xensim_gnttab_grant() fills a free entry and returns its reference in
 * '*ref' (ENOSPC when the table is full).  xensim_gnttab_end() withdraws
 * access (EBUSY while the grantee has it mapped).  xensim_gnttab_entry()
 * gives raw access to an entry, for tests that play a hostile guest. */
int xensim_gnttab_grant(struct xensim_domain *, uint16_t grantee,
                        uint32_t frame, bool readonly, uint32_t *ref);
int xensim_gnttab_end(struct xensim_domain *, uint32_t ref);
struct grant_entry_v1 *xensim_gnttab_entry(struct xensim_domain *,
                                           uint32_t ref);

/* The grantee side, as libxengnttab offers it to a backend in 'self'. */
int xensim_gnttab_open(const char *dir, uint16_t self,
                       struct xensim_gnttab **);
void xensim_gnttab_close(struct xensim_gnttab *);
int xensim_gnttab_copy(struct xensim_gnttab *, uint32_t count,
                       xengnttab_grant_copy_segment_t *segs);
void *xensim_gnttab_map(struct xensim_gnttab *, uint16_t domid, uint32_t ref,
                        bool writable, int16_t *status);
int xensim_gnttab_unmap(struct xensim_gnttab *, void *addr);

/* Event channels, as libxenevtchn offers them to a domain 'self'. */
int xensim_evtchn_open(const char *dir, uint16_t self,
                       struct xensim_evtchn **);
void xensim_evtchn_close(struct xensim_evtchn *);
int xensim_evtchn_fd(const struct xensim_evtchn *);
int xensim_evtchn_alloc_unbound(struct xensim_evtchn *, uint16_t remote,
                                uint32_t *port);
int xensim_evtchn_bind_interdomain(struct xensim_evtchn *, uint16_t remote,
                                   uint32_t remote_port,
                                   uint32_t *local_port);
int xensim_evtchn_unbind(struct xensim_evtchn *, uint32_t port);
int xensim_evtchn_notify(struct xensim_evtchn *, uint32_t port);
int xensim_evtchn_pending(struct xensim_evtchn *, uint32_t *port);
int xensim_evtchn_unmask(struct xensim_evtchn *, uint32_t port);

#endif /* xensim.h */
