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

#include <config.h>
#include "xensim.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "random.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(xensim);

/* Layout of a domain file "<dir>/dom<domid>".
 *
 *   offset 0           struct xensim_shared (one page)
 *   bitmap_ofs         page-allocation bitmap, one bit per frame
 *   grants_ofs         XENSIM_NR_GRANTS x struct grant_entry_v1 (guest's)
 *   gpriv_ofs          XENSIM_NR_GRANTS x struct xensim_gpriv (Xen's)
 *   ports_ofs          XENSIM_NR_PORTS x struct xensim_port
 *   handles_ofs        XENSIM_NR_HANDLES x struct xensim_handle_slot
 *   ram_ofs            nr_pages x XENSIM_PAGE_SIZE, page aligned
 *
 * Every field that more than one process may touch at once is accessed with
 * atomic operations.  The grant entries are declared as 64-bit atomics here
 * (struct grant_entry_v1 is 8 bytes, naturally aligned) so that the
 * hypervisor side reads an entry exactly once, as one value. */

#define XENSIM_MAGIC UINT64_C(0x31306d69736e6578)     /* "xensim01" */
#define XENSIM_VERSION 1
#define XENSIM_NR_HANDLES 4096      /* As many as ports: one per queue. */
#define XENSIM_MAX_PAGES (UINT32_C(1) << 22)         /* 16 GB. */
#define XENSIM_DOM0_PAGES 16

BUILD_ASSERT_DECL(sizeof(struct grant_entry_v1) == sizeof(uint64_t));

struct xensim_shared {
    uint64_t magic;
    uint32_t version;
    uint32_t domid;
    uint32_t nr_pages;
    uint32_t nr_grants;
    uint32_t nr_ports;
    uint32_t nr_handles;
    uint64_t generation;        /* Random, differs for every incarnation. */
    uint64_t bitmap_ofs;
    uint64_t grants_ofs;
    uint64_t gpriv_ofs;
    uint64_t ports_ofs;
    uint64_t handles_ofs;
    uint64_t ram_ofs;
    uint64_t size;
    atomic_uint32_t alive;      /* 1 until xensim_domain_destroy(). */
};

/* Hypervisor-private state of one grant entry. */
struct xensim_gpriv {
    atomic_uint32_t pin;        /* Mappings plus copies in progress. */
    atomic_uint32_t used;       /* Allocated by xensim_gnttab_grant(). */
};

/* One event-channel port.  'word' packs the state, the remote end and the
 * owning handle slot so that both ends can change with compare-and-swap. */
struct xensim_port {
    atomic_uint64_t word;
    atomic_uint32_t pending;
    atomic_uint32_t masked;
};

enum xensim_port_state {
    PS_FREE = 0,
    PS_RESERVED = 1,
    PS_UNBOUND = 2,
    PS_INTERDOMAIN = 3,
};

/* An event-channel handle slot: the process that owns it. */
struct xensim_handle_slot {
    atomic_uint32_t pid;
    uint32_t pad;
};

static inline uint64_t
port_word(enum xensim_port_state state, uint16_t rdom, uint32_t rport,
          uint32_t owner)
{
    return ((uint64_t) state
            | ((uint64_t) rdom << 8)
            | ((uint64_t) (rport & 0xffff) << 24)
            | ((uint64_t) (owner & 0xffff) << 40));
}

static inline enum xensim_port_state
pw_state(uint64_t w)
{
    return w & 0xff;
}

static inline uint16_t
pw_rdom(uint64_t w)
{
    return (w >> 8) & 0xffff;
}

static inline uint32_t
pw_rport(uint64_t w)
{
    return (w >> 24) & 0xffff;
}

static inline uint32_t
pw_owner(uint64_t w)
{
    return (w >> 40) & 0xffff;
}

/* A process's mapping of one domain file. */
struct xensim_domain {
    struct hmap_node node;      /* In a struct xensim_domcache, by domid. */
    struct ovs_refcount ref;
    uint16_t domid;
    dev_t dev;
    ino_t ino;
    uint64_t generation;
    void *base;
    size_t size;
    struct xensim_shared *hdr;
    atomic_uint64_t *bitmap;
    size_t n_words;
    atomic_uint64_t *grants;
    struct xensim_gpriv *gpriv;
    struct xensim_port *ports;
    struct xensim_handle_slot *handles;
    uint8_t *ram;
    uint32_t nr_pages;
    atomic_uint32_t alloc_hint; /* Next bitmap word to look at. */
    atomic_uint32_t grant_hint; /* Next grant reference to look at. */
};

struct xensim_layout {
    uint64_t bitmap_ofs;
    uint64_t grants_ofs;
    uint64_t gpriv_ofs;
    uint64_t ports_ofs;
    uint64_t handles_ofs;
    uint64_t ram_ofs;
    uint64_t size;
};

static void
compute_layout(uint32_t nr_pages, struct xensim_layout *l)
{
    uint64_t ofs = XENSIM_PAGE_SIZE;

    l->bitmap_ofs = ofs;
    ofs += DIV_ROUND_UP(nr_pages, 64) * sizeof(uint64_t);
    ofs = ROUND_UP(ofs, 64);
    l->grants_ofs = ofs;
    ofs += XENSIM_NR_GRANTS * sizeof(struct grant_entry_v1);
    l->gpriv_ofs = ofs;
    ofs += XENSIM_NR_GRANTS * sizeof(struct xensim_gpriv);
    l->ports_ofs = ofs;
    ofs += XENSIM_NR_PORTS * sizeof(struct xensim_port);
    l->handles_ofs = ofs;
    ofs += XENSIM_NR_HANDLES * sizeof(struct xensim_handle_slot);
    l->ram_ofs = ROUND_UP(ofs, XENSIM_PAGE_SIZE);
    l->size = l->ram_ofs + (uint64_t) nr_pages * XENSIM_PAGE_SIZE;
}

static char *
domain_path(const char *dir, uint16_t domid)
{
    return xasprintf("%s/dom%"PRIu16, dir, domid);
}

/* Returns 'base' + 'ofs'. */
static void *
at_ofs(void *base, uint64_t ofs)
{
    return (char *) base + ofs;
}

static void
domain_set_pointers(struct xensim_domain *d)
{
    struct xensim_shared *h = d->base;

    d->hdr = h;
    d->domid = h->domid;
    d->generation = h->generation;
    d->nr_pages = h->nr_pages;
    d->bitmap = at_ofs(d->base, h->bitmap_ofs);
    d->n_words = DIV_ROUND_UP(h->nr_pages, 64);
    d->grants = at_ofs(d->base, h->grants_ofs);
    d->gpriv = at_ofs(d->base, h->gpriv_ofs);
    d->ports = at_ofs(d->base, h->ports_ofs);
    d->handles = at_ofs(d->base, h->handles_ofs);
    d->ram = at_ofs(d->base, h->ram_ofs);
}

/* Creates domain 'domid' in 'dir' with 'nr_pages' pages of RAM.  The file is
 * built under a temporary name and published with link(), so no process
 * ever sees a half-initialized domain and two creators cannot both win
 * (the loser gets EEXIST). */
int
xensim_domain_create(const char *dir, uint16_t domid, uint32_t nr_pages)
{
    struct xensim_layout l;
    int error = 0;

    if (domid > XENSIM_MAX_DOMID || nr_pages > XENSIM_MAX_PAGES) {
        return EINVAL;
    }
    compute_layout(nr_pages, &l);

    char *path = domain_path(dir, domid);
    char *tmp = xasprintf("%s/.dom%"PRIu16".%ld.%08"PRIx32".tmp", dir, domid,
                          (long) getpid(), random_uint32());
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
    if (fd < 0) {
        error = errno;
        goto out;
    }
    if (ftruncate(fd, l.size) < 0) {
        error = errno;
        goto out_unlink;
    }

    /* Only the tables need initializing: ftruncate() zero-fills, and zero is
     * "free" for pages, grants and ports. */
    size_t init_size = l.ram_ofs;
    void *base = mmap(NULL, init_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                         fd, 0);
    if (base == MAP_FAILED) {
        error = errno;
        goto out_unlink;
    }
    struct xensim_shared *h = base;
    h->magic = XENSIM_MAGIC;
    h->version = XENSIM_VERSION;
    h->domid = domid;
    h->nr_pages = nr_pages;
    h->nr_grants = XENSIM_NR_GRANTS;
    h->nr_ports = XENSIM_NR_PORTS;
    h->nr_handles = XENSIM_NR_HANDLES;
    h->generation = random_uint64() ^ (uint64_t) time(NULL);
    h->bitmap_ofs = l.bitmap_ofs;
    h->grants_ofs = l.grants_ofs;
    h->gpriv_ofs = l.gpriv_ofs;
    h->ports_ofs = l.ports_ofs;
    h->handles_ofs = l.handles_ofs;
    h->ram_ofs = l.ram_ofs;
    h->size = l.size;
    atomic_init(&h->alive, 1);

    /* Port 0 is never usable, as in Xen. */
    struct xensim_port *ports = at_ofs(base, l.ports_ofs);
    atomic_init(&ports[0].word, port_word(PS_RESERVED, 0, 0, 0));
    munmap(base, init_size);

    if (fsync(fd) < 0 && errno != EINVAL) {
        error = errno;
        goto out_unlink;
    }
    if (link(tmp, path) < 0) {
        error = errno;
    }

out_unlink:
    unlink(tmp);
    close(fd);
out:
    free(tmp);
    free(path);
    return error;
}

/* Opens an existing domain: ENOENT if there is none. */
int
xensim_domain_open(const char *dir, uint16_t domid,
                   struct xensim_domain **domp)
{
    struct stat st;
    int error = 0;

    *domp = NULL;
    char *path = domain_path(dir, domid);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    free(path);
    if (fd < 0) {
        return errno;
    }
    if (fstat(fd, &st) < 0) {
        error = errno;
        goto out;
    }
    if (st.st_size < XENSIM_PAGE_SIZE) {
        error = EPROTO;
        goto out;
    }
    void *base = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                      fd, 0);
    if (base == MAP_FAILED) {
        error = errno;
        goto out;
    }

    const struct xensim_shared *h = base;
    struct xensim_layout l;
    compute_layout(h->nr_pages, &l);
    if (h->magic != XENSIM_MAGIC || h->version != XENSIM_VERSION
        || h->domid != domid || h->nr_pages > XENSIM_MAX_PAGES
        || h->size != l.size || l.size != (uint64_t) st.st_size
        || h->ram_ofs != l.ram_ofs || h->ports_ofs != l.ports_ofs
        || h->grants_ofs != l.grants_ofs || h->gpriv_ofs != l.gpriv_ofs
        || h->bitmap_ofs != l.bitmap_ofs
        || h->handles_ofs != l.handles_ofs) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s/dom%"PRIu16": not a xensim domain file",
                     dir, domid);
        munmap(base, st.st_size);
        error = EPROTO;
        goto out;
    }

    struct xensim_domain *d = xzalloc(sizeof *d);
    ovs_refcount_init(&d->ref);
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    d->base = base;
    d->size = st.st_size;
    domain_set_pointers(d);
    atomic_init(&d->alloc_hint, 0);
    atomic_init(&d->grant_hint, GNTTAB_NR_RESERVED_ENTRIES);
    *domp = d;

out:
    close(fd);
    return error;
}

static struct xensim_domain *
domain_ref(struct xensim_domain *d)
{
    ovs_refcount_ref(&d->ref);
    return d;
}

/* Drops a reference to 'd' (a mapping stays until its last user is done). */
void
xensim_domain_close(struct xensim_domain *d)
{
    if (d && ovs_refcount_unref(&d->ref) == 1) {
        munmap(d->base, d->size);
        free(d);
    }
}

uint16_t
xensim_domain_id(const struct xensim_domain *d)
{
    return d->domid;
}

bool
xensim_domain_is_alive(const struct xensim_domain *d)
{
    uint32_t alive;

    atomic_read(&CONST_CAST(struct xensim_domain *, d)->hdr->alive, &alive);
    return alive != 0;
}

uint32_t
xensim_domain_nr_pages(const struct xensim_domain *d)
{
    return d->nr_pages;
}

/* Returns how many event-channel ports of 'd' are in use (unbound or
 * interdomain), for leak checks. */
unsigned int
xensim_domain_count_ports(const struct xensim_domain *d)
{
    unsigned int n = 0;

    for (uint32_t port = 1; port < XENSIM_NR_PORTS; port++) {
        uint64_t w;

        atomic_read(&d->ports[port].word, &w);
        if (pw_state(w) == PS_UNBOUND || pw_state(w) == PS_INTERDOMAIN) {
            n++;
        }
    }
    return n;
}

/* Closes the remote end of 'd''s interdomain port 'port', whose word is 'w':
 * the remote port reverts to unbound, allocated for 'd' again, as Xen's
 * evtchn_close() does.  'remote' may be NULL if it is not open yet. */
static void
revert_remote_end(const char *dir, struct xensim_domain *d, uint32_t port,
                  uint64_t w, struct xensim_domain *remote)
{
    uint16_t rdom = pw_rdom(w);
    uint32_t rport = pw_rport(w);
    struct xensim_domain *r = remote;

    if (!r) {
        if (rdom == d->domid) {
            r = domain_ref(d);
        } else if (xensim_domain_open(dir, rdom, &r)) {
            return;
        }
    }
    if (rport > 0 && rport < XENSIM_NR_PORTS) {
        struct xensim_port *rp = &r->ports[rport];
        uint64_t rw;

        atomic_read(&rp->word, &rw);
        while (pw_state(rw) == PS_INTERDOMAIN && pw_rdom(rw) == d->domid
               && pw_rport(rw) == port) {
            uint64_t nw = port_word(PS_UNBOUND, d->domid, 0, pw_owner(rw));
            if (atomic_compare_exchange_strong(&rp->word, &rw, nw)) {
                break;
            }
        }
    }
    if (!remote) {
        xensim_domain_close(r);
    }
}

/* Destroys a domain: its grants fail with GNTST_bad_domain from now on, its
 * interdomain event channels are closed (the peers' ports revert to
 * unbound) and its file disappears.  Processes that still map it (e.g. a
 * grantee that has not unmapped yet) keep their mapping until they let go,
 * like pages of a dying domain in Xen. */
int
xensim_domain_destroy(const char *dir, uint16_t domid)
{
    struct xensim_domain *d;
    int error = xensim_domain_open(dir, domid, &d);
    if (error) {
        return error;
    }

    uint32_t was_alive = 1;
    atomic_compare_exchange_strong(&d->hdr->alive, &was_alive, 0);

    for (uint32_t port = 1; port < XENSIM_NR_PORTS; port++) {
        uint64_t w;

        atomic_read(&d->ports[port].word, &w);
        if (pw_state(w) == PS_INTERDOMAIN && pw_rdom(w) != domid) {
            revert_remote_end(dir, d, port, w, NULL);
        }
    }

    /* Unlink only the file that was opened, not a successor. */
    char *path = domain_path(dir, domid);
    struct stat st;
    if (stat(path, &st) == 0 && st.st_dev == d->dev && st.st_ino == d->ino) {
        if (unlink(path) < 0) {
            error = errno;
        }
    } else if (!was_alive) {
        error = ENOENT;
    }
    free(path);
    xensim_domain_close(d);
    return error;
}

/* A domain's own memory. */

/* Returns the address of the domain's frame 'frame', or NULL if it is out of
 * range. */
void *
xensim_page(struct xensim_domain *d, uint32_t frame)
{
    return (frame < d->nr_pages
            ? d->ram + (size_t) frame * XENSIM_PAGE_SIZE
            : NULL);
}

/* Allocates a free frame of the domain's RAM into '*frame' (ENOMEM when
 * there is none).  Safe against concurrent allocators in any process. */
int
xensim_page_alloc(struct xensim_domain *d, uint32_t *frame)
{
    uint32_t hint;

    if (!d->n_words) {
        return ENOMEM;
    }
    atomic_read_relaxed(&d->alloc_hint, &hint);
    for (size_t i = 0; i < d->n_words; i++) {
        size_t w = (hint + i) % d->n_words;
        uint64_t bits;

        atomic_read(&d->bitmap[w], &bits);
        for (;;) {
            uint64_t free_bits = ~bits;
            if (!free_bits) {
                break;
            }
            int bit = raw_ctz(free_bits);
            uint64_t f = (uint64_t) w * 64 + bit;
            if (f >= d->nr_pages) {
                break;
            }
            uint64_t orig;
            atomic_or(&d->bitmap[w], UINT64_C(1) << bit, &orig);
            if (!(orig & (UINT64_C(1) << bit))) {
                atomic_store_relaxed(&d->alloc_hint, w);
                *frame = f;
                return 0;
            }
            bits = orig | (UINT64_C(1) << bit);
        }
    }
    return ENOMEM;
}

/* Frees a frame allocated with xensim_page_alloc(). */
void
xensim_page_free(struct xensim_domain *d, uint32_t frame)
{
    if (frame < d->nr_pages) {
        uint64_t orig;
        atomic_and(&d->bitmap[frame / 64], ~(UINT64_C(1) << (frame % 64)),
                   &orig);
    }
}

/* Grant entries. */

static inline uint64_t
grant_pack(const struct grant_entry_v1 *e)
{
    uint64_t v;

    memcpy(&v, e, sizeof v);
    return v;
}

static inline struct grant_entry_v1
grant_unpack(uint64_t v)
{
    struct grant_entry_v1 e;

    memcpy(&e, &v, sizeof e);
    return e;
}

/* Grants 'grantee' access to the domain's frame 'frame'.  The entry is
 * written with a single store, flags included, as a guest must make the
 * flags visible last. */
int
xensim_gnttab_grant(struct xensim_domain *d, uint16_t grantee,
                    uint32_t frame, bool readonly, uint32_t *ref)
{
    uint32_t hint;

    if (frame >= d->nr_pages) {
        return EINVAL;
    }
    atomic_read_relaxed(&d->grant_hint, &hint);
    if (hint < GNTTAB_NR_RESERVED_ENTRIES || hint >= XENSIM_NR_GRANTS) {
        hint = GNTTAB_NR_RESERVED_ENTRIES;
    }
    uint32_t n = XENSIM_NR_GRANTS - GNTTAB_NR_RESERVED_ENTRIES;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = GNTTAB_NR_RESERVED_ENTRIES
            + (hint - GNTTAB_NR_RESERVED_ENTRIES + i) % n;
        uint32_t expected = 0;

        if (atomic_compare_exchange_strong(&d->gpriv[r].used, &expected, 1)) {
            struct grant_entry_v1 e = {
                .flags = GTF_permit_access | (readonly ? GTF_readonly : 0),
                .domid = grantee,
                .frame = frame,
            };
            atomic_store(&d->grants[r], grant_pack(&e));
            atomic_store_relaxed(&d->grant_hint, r + 1);
            *ref = r;
            return 0;
        }
    }
    return ENOSPC;
}

/* Ends access through grant 'ref' and frees the entry.  Fails with EBUSY,
 * leaving the grant in place, while the grantee has it mapped (or is in the
 * middle of a copy), like gnttab_end_foreign_access_ref() in Linux. */
int
xensim_gnttab_end(struct xensim_domain *d, uint32_t ref)
{
    uint32_t used, pin;

    if (ref >= XENSIM_NR_GRANTS) {
        return EINVAL;
    }
    atomic_read(&d->gpriv[ref].used, &used);
    if (!used) {
        return EINVAL;
    }
    atomic_read(&d->gpriv[ref].pin, &pin);
    if (pin) {
        return EBUSY;
    }

    /* A grantee pins first and reads the entry second; here the entry is
     * cleared first and the pin read second, so (with sequentially
     * consistent operations) at least one side sees the other. */
    uint64_t old = atomic_exchange(&d->grants[ref], 0);
    atomic_read(&d->gpriv[ref].pin, &pin);
    if (pin) {
        uint64_t zero = 0;
        atomic_compare_exchange_strong(&d->grants[ref], &zero, old);
        return EBUSY;
    }
    atomic_store(&d->gpriv[ref].used, 0);
    return 0;
}

/* Raw access to grant entry 'ref', for a guest (or a test playing a hostile
 * one) that writes its grant table directly.  NULL if out of range. */
struct grant_entry_v1 *
xensim_gnttab_entry(struct xensim_domain *d, uint32_t ref)
{
    return (ref < XENSIM_NR_GRANTS
            ? (struct grant_entry_v1 *) &d->grants[ref]
            : NULL);
}

/* Per-handle cache of mapped domains. */

struct xensim_domcache {
    char *dir;
    struct hmap map;            /* Contains struct xensim_domain by domid. */
};

static void
domcache_init(struct xensim_domcache *c, const char *dir)
{
    c->dir = xstrdup(dir);
    hmap_init(&c->map);
}

static void
domcache_destroy(struct xensim_domcache *c)
{
    struct xensim_domain *d;

    HMAP_FOR_EACH_POP (d, node, &c->map) {
        xensim_domain_close(d);
    }
    hmap_destroy(&c->map);
    free(c->dir);
}

/* Returns a new reference to live domain 'domid', or NULL if there is no such
 * live domain.  A cached mapping of a destroyed domain is replaced by the
 * domain's new incarnation, if one was created since. */
static struct xensim_domain *
domcache_get(struct xensim_domcache *c, uint16_t domid)
{
    uint32_t hash = hash_int(domid, 0);
    struct xensim_domain *d, *stale = NULL;

    HMAP_FOR_EACH_WITH_HASH (d, node, hash, &c->map) {
        if (d->domid == domid) {
            if (xensim_domain_is_alive(d)) {
                return domain_ref(d);
            }
            stale = d;
            break;
        }
    }

    struct xensim_domain *fresh;
    if (xensim_domain_open(c->dir, domid, &fresh)) {
        fresh = NULL;
    } else if (!xensim_domain_is_alive(fresh)
               || (stale && stale->generation == fresh->generation
                   && stale->ino == fresh->ino)) {
        xensim_domain_close(fresh);
        fresh = NULL;
    }
    if (stale && fresh) {
        hmap_remove(&c->map, &stale->node);
        xensim_domain_close(stale);
    }
    if (fresh) {
        hmap_insert(&c->map, &fresh->node, hash);
        return domain_ref(fresh);
    }
    return NULL;
}

/* Creates domain 0's file if it does not exist yet. */
static void
ensure_dom0(const char *dir)
{
    char *path = domain_path(dir, 0);
    struct stat st;

    if (stat(path, &st) < 0 && errno == ENOENT) {
        int error = xensim_domain_create(dir, 0, XENSIM_DOM0_PAGES);
        if (error && error != EEXIST) {
            VLOG_WARN("%s: cannot create domain 0 (%s)", dir,
                      ovs_strerror(error));
        }
    }
    free(path);
}

/* Grantee side. */

struct xensim_gnttab {
    struct ovs_mutex mutex;
    uint16_t self;
    struct xensim_domcache cache OVS_GUARDED;
    struct hmap maps OVS_GUARDED;   /* Contains struct xensim_map. */
};

struct xensim_map {
    struct hmap_node node;      /* In xensim_gnttab's 'maps', by address. */
    void *addr;
    struct xensim_domain *dom;
    uint32_t ref;
};

/* Opens a grant-table handle for domain 'self' (a backend's domain). */
int
xensim_gnttab_open(const char *dir, uint16_t self,
                   struct xensim_gnttab **gtp)
{
    struct xensim_gnttab *gt;

    if (self > XENSIM_MAX_DOMID) {
        *gtp = NULL;
        return EINVAL;
    }
    ensure_dom0(dir);
    gt = xzalloc(sizeof *gt);
    ovs_mutex_init(&gt->mutex);
    gt->self = self;
    domcache_init(&gt->cache, dir);
    hmap_init(&gt->maps);
    *gtp = gt;
    return 0;
}

/* Closes 'gt', unmapping (and so unpinning) whatever is still mapped. */
void
xensim_gnttab_close(struct xensim_gnttab *gt)
{
    if (!gt) {
        return;
    }

    struct xensim_map *m;
    HMAP_FOR_EACH_POP (m, node, &gt->maps) {
        uint32_t orig;
        atomic_sub(&m->dom->gpriv[m->ref].pin, 1, &orig);
        xensim_domain_close(m->dom);
        free(m);
    }
    hmap_destroy(&gt->maps);
    domcache_destroy(&gt->cache);
    ovs_mutex_destroy(&gt->mutex);
    free(gt);
}

/* Domains referenced during one xensim_gnttab_copy() call. */
struct xensim_domset {
    struct xensim_domain *doms[8];
    uint16_t domids[8];
    size_t n;
};

/* Returns a domain for 'domid' that stays valid until domset_release(), or
 * NULL if there is no such live domain.  When the set is full, an older
 * domain other than 'keep' (which the caller is still using) is dropped. */
static struct xensim_domain *
domset_get(struct xensim_gnttab *gt, struct xensim_domset *s, uint16_t domid,
           const struct xensim_domain *keep)
    OVS_EXCLUDED(gt->mutex)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->domids[i] == domid) {
            return s->doms[i];
        }
    }

    ovs_mutex_lock(&gt->mutex);
    struct xensim_domain *d = domcache_get(&gt->cache, domid);
    ovs_mutex_unlock(&gt->mutex);

    if (d) {
        if (s->n >= ARRAY_SIZE(s->doms)) {
            size_t victim = s->doms[0] == keep ? 1 : 0;

            xensim_domain_close(s->doms[victim]);
            s->doms[victim] = s->doms[s->n - 1];
            s->domids[victim] = s->domids[s->n - 1];
            s->n--;
        }
        s->doms[s->n] = d;
        s->domids[s->n] = domid;
        s->n++;
    }
    return d;
}

static void
domset_release(struct xensim_domset *s)
{
    for (size_t i = 0; i < s->n; i++) {
        xensim_domain_close(s->doms[i]);
    }
    s->n = 0;
}

/* Pins grant 'ref' of 'd' for access by 'self' and checks it as Xen does:
 * the reference is in range, the entry (read once) permits access to 'self',
 * it is not read-only if 'write', and its frame is within the domain's RAM.
 * On success returns GNTST_okay with the page in '*pagep' and the grant
 * pinned (the caller must unpin it); otherwise returns a GNTST_* error and
 * nothing is pinned. */
static int16_t
grant_acquire(struct xensim_domain *d, uint16_t self, uint32_t ref,
              bool write, uint8_t **pagep)
{
    uint32_t orig;
    uint64_t v;

    if (ref >= XENSIM_NR_GRANTS) {
        return GNTST_bad_gntref;
    }
    atomic_add(&d->gpriv[ref].pin, 1, &orig);
    atomic_read(&d->grants[ref], &v);

    struct grant_entry_v1 e = grant_unpack(v);
    int16_t status;
    if ((e.flags & GTF_type_mask) != GTF_permit_access || e.domid != self) {
        status = GNTST_permission_denied;
    } else if (write && e.flags & GTF_readonly) {
        status = GNTST_permission_denied;
    } else if (e.frame >= d->nr_pages) {
        status = GNTST_bad_page;
    } else {
        *pagep = d->ram + (size_t) e.frame * XENSIM_PAGE_SIZE;
        return GNTST_okay;
    }
    atomic_sub(&d->gpriv[ref].pin, 1, &orig);
    return status;
}

static void
grant_release(struct xensim_domain *d, uint32_t ref)
{
    uint32_t orig;

    atomic_sub(&d->gpriv[ref].pin, 1, &orig);
}

/* Resolves one side of a copy segment.  For a grant reference, acquires the
 * grant (see grant_acquire()) and stores the domain in '*domp' so that the
 * caller can release it; for a local address, '*domp' is NULL. */
static int16_t
copy_side(struct xensim_gnttab *gt, struct xensim_domset *s,
          const union xengnttab_copy_ptr *p, bool is_gref, bool write,
          const struct xensim_domain *keep,
          struct xensim_domain **domp, uint8_t **addrp)
{
    *domp = NULL;
    if (!is_gref) {
        *addrp = p->virt;
        return GNTST_okay;
    }

    struct xensim_domain *d = domset_get(gt, s, p->foreign.domid, keep);
    if (!d) {
        return GNTST_bad_domain;
    }

    uint8_t *page;
    int16_t status = grant_acquire(d, gt->self, p->foreign.ref, write, &page);
    if (status == GNTST_okay) {
        *domp = d;
        *addrp = page + p->foreign.offset;
    }
    return status;
}

/* Performs 'count' grant copies, setting each segment's status as
 * xengnttab_grant_copy() does.  Returns 0 even if segments failed (the
 * statuses say which), like the real call when the hypercall itself works.
 * The order of the checks is Xen's: domain, reference and access rights,
 * frame, then the copy's bounds. */
int
xensim_gnttab_copy(struct xensim_gnttab *gt, uint32_t count,
                   xengnttab_grant_copy_segment_t *segs)
{
    struct xensim_domset s = { .n = 0 };

    for (uint32_t i = 0; i < count; i++) {
        xengnttab_grant_copy_segment_t *seg = &segs[i];
        bool src_gref = (seg->flags & GNTCOPY_source_gref) != 0;
        bool dst_gref = (seg->flags & GNTCOPY_dest_gref) != 0;
        struct xensim_domain *sd, *dd = NULL;
        uint8_t *src, *dst;
        int16_t status;

        status = copy_side(gt, &s, &seg->source, src_gref, false, NULL,
                           &sd, &src);
        if (status == GNTST_okay) {
            status = copy_side(gt, &s, &seg->dest, dst_gref, true, sd,
                               &dd, &dst);
            if (status == GNTST_okay) {
                if ((src_gref && seg->source.foreign.offset + seg->len
                     > XENSIM_PAGE_SIZE)
                    || (dst_gref && seg->dest.foreign.offset + seg->len
                        > XENSIM_PAGE_SIZE)) {
                    status = GNTST_bad_copy_arg;
                } else {
                    memmove(dst, src, seg->len);
                }
            }
        }
        if (sd) {
            grant_release(sd, seg->source.foreign.ref);
        }
        if (dd) {
            grant_release(dd, seg->dest.foreign.ref);
        }
        seg->status = status;
    }
    domset_release(&s);
    return 0;
}

/* Maps grant 'ref' of domain 'domid' and returns the page's address (inside
 * the shared mapping of the domain), with '*status' GNTST_okay, or NULL with
 * '*status' the GNTST_* error.  The grant stays pinned until
 * xensim_gnttab_unmap().  A read-only mapping is read-only by contract only:
 * nothing stops the caller from writing. */
void *
xensim_gnttab_map(struct xensim_gnttab *gt, uint16_t domid, uint32_t ref,
                  bool writable, int16_t *status)
{
    ovs_mutex_lock(&gt->mutex);
    struct xensim_domain *d = domcache_get(&gt->cache, domid);
    ovs_mutex_unlock(&gt->mutex);
    if (!d) {
        *status = GNTST_bad_domain;
        return NULL;
    }

    uint8_t *page;
    *status = grant_acquire(d, gt->self, ref, writable, &page);
    if (*status != GNTST_okay) {
        xensim_domain_close(d);
        return NULL;
    }

    struct xensim_map *m = xmalloc(sizeof *m);
    m->addr = page;
    m->dom = d;
    m->ref = ref;
    ovs_mutex_lock(&gt->mutex);
    hmap_insert(&gt->maps, &m->node, hash_pointer(page, 0));
    ovs_mutex_unlock(&gt->mutex);
    return page;
}

/* Unmaps a page mapped with xensim_gnttab_map(), unpinning its grant.
 * EINVAL if 'addr' is not mapped through 'gt'. */
int
xensim_gnttab_unmap(struct xensim_gnttab *gt, void *addr)
{
    struct xensim_map *m, *found = NULL;

    ovs_mutex_lock(&gt->mutex);
    HMAP_FOR_EACH_WITH_HASH (m, node, hash_pointer(addr, 0), &gt->maps) {
        if (m->addr == addr) {
            found = m;
            hmap_remove(&gt->maps, &m->node);
            break;
        }
    }
    ovs_mutex_unlock(&gt->mutex);

    if (!found) {
        return EINVAL;
    }
    grant_release(found->dom, found->ref);
    xensim_domain_close(found->dom);
    free(found);
    return 0;
}

/* Event channels. */

struct xensim_evtchn {
    struct ovs_mutex mutex;
    uint16_t self;
    struct xensim_domain *dom;  /* Own domain. */
    uint32_t slot;              /* Handle slot in own domain. */
    int fd;                     /* Doorbell. */
    char *dir;                          /* The simulation directory. */
    struct xensim_domcache cache OVS_GUARDED;
    uint32_t *ports OVS_GUARDED;        /* Ports bound through this handle. */
    size_t n_ports OVS_GUARDED;
    size_t allocated_ports OVS_GUARDED;
    size_t next OVS_GUARDED;            /* Round-robin index in 'ports'. */
};

/* The address of the doorbell of handle 'slot' of domain 'domid': a socket
 * in the simulation directory 'dir', so that processes in different network
 * namespaces (a guest's, a simulated host's) can ring each other.  Returns
 * 0 if 'dir' is too long for a socket name. */
static socklen_t
doorbell_addr(const char *dir, uint16_t domid, uint32_t slot,
              struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    int n = snprintf(sun->sun_path, sizeof sun->sun_path,
                     "%s/evtchn-d%"PRIu16"-h%"PRIu32, dir, domid, slot);
    if (n < 0 || n >= sizeof sun->sun_path) {
        return 0;
    }
    return offsetof(struct sockaddr_un, sun_path) + n + 1;
}

/* Rings the doorbell of handle 'slot' of domain 'domid'.  Losing the ring
 * because the receiver's queue is full is harmless: the receiver has not
 * drained it yet and scans its ports when it does. */
static void
ring_doorbell(const struct xensim_evtchn *e, uint16_t domid, uint32_t slot)
{
    struct sockaddr_un sun;
    socklen_t len = doorbell_addr(e->dir, domid, slot, &sun);
    char c = 0;

    if (sendto(e->fd, &c, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
               (struct sockaddr *) &sun, len) < 0
        && errno != EAGAIN && errno != ECONNREFUSED && errno != ENOENT) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "doorbell of d%"PRIu16"/h%"PRIu32": %s",
                     domid, slot, ovs_strerror(errno));
    }
}

static void
evtchn_add_port(struct xensim_evtchn *e, uint32_t port)
    OVS_REQUIRES(e->mutex)
{
    if (e->n_ports >= e->allocated_ports) {
        e->ports = x2nrealloc(e->ports, &e->allocated_ports,
                              sizeof *e->ports);
    }
    e->ports[e->n_ports++] = port;
}

static void
evtchn_remove_port(struct xensim_evtchn *e, uint32_t port)
    OVS_REQUIRES(e->mutex)
{
    for (size_t i = 0; i < e->n_ports; i++) {
        if (e->ports[i] == port) {
            e->ports[i] = e->ports[--e->n_ports];
            return;
        }
    }
}

/* Frees port 'port' of 'd' whose word is 'w', after closing its remote end
 * if it is interdomain. */
static void
port_close(const char *dir, struct xensim_domain *d, uint32_t port,
           uint64_t w, struct xensim_domain *remote)
{
    struct xensim_port *p = &d->ports[port];

    if (pw_state(w) == PS_INTERDOMAIN) {
        revert_remote_end(dir, d, port, w, remote);
    }
    atomic_store(&p->pending, 0);
    atomic_store(&p->masked, 0);
    atomic_store(&p->word, port_word(PS_FREE, 0, 0, 0));
}

/* Closes every port of 'd' still owned by handle 'slot' (whose process
 * died without closing it). */
static void
reclaim_slot_ports(const char *dir, struct xensim_domain *d, uint32_t slot)
{
    for (uint32_t port = 1; port < XENSIM_NR_PORTS; port++) {
        uint64_t w;

        atomic_read(&d->ports[port].word, &w);
        if ((pw_state(w) == PS_UNBOUND || pw_state(w) == PS_INTERDOMAIN)
            && pw_owner(w) == slot) {
            port_close(dir, d, port, w, NULL);
        }
    }
}

static bool
process_is_dead(uint32_t pid)
{
    return pid && kill(pid, 0) < 0 && errno == ESRCH;
}

/* Tries to take handle slot 'slot', whose owner is now 'expected', and to
 * bind its doorbell to 'fd'. */
static bool
try_slot(struct xensim_evtchn *e, const char *dir, uint32_t slot,
         uint32_t expected)
{
    struct xensim_handle_slot *hs = &e->dom->handles[slot];
    uint32_t pid = getpid();

    if (!atomic_compare_exchange_strong(&hs->pid, &expected, pid)) {
        return false;
    }
    if (expected) {
        reclaim_slot_ports(dir, e->dom, slot);
    }

    struct sockaddr_un sun;
    socklen_t len = doorbell_addr(e->dir, e->self, slot, &sun);
    /* The slot is ours: a socket left by a dead owner goes. */
    unlink(sun.sun_path);
    if (!len || bind(e->fd, (struct sockaddr *) &sun, len) < 0) {
        /* EADDRINUSE: a descendant of the slot's former owner still holds
         * the doorbell.  Leave the slot to it. */
        atomic_store(&hs->pid, expected);
        return false;
    }
    e->slot = slot;
    return true;
}

/* Opens an event-channel handle for domain 'self'. */
int
xensim_evtchn_open(const char *dir, uint16_t self, struct xensim_evtchn **ep)
{
    struct stat st;
    int error;

    *ep = NULL;
    if (self > XENSIM_MAX_DOMID) {
        return EINVAL;
    }
    if (stat(dir, &st) < 0) {
        return errno;
    }
    ensure_dom0(dir);

    struct xensim_evtchn *e = xzalloc(sizeof *e);
    e->self = self;
    e->dir = xstrdup(dir);
    error = xensim_domain_open(dir, self, &e->dom);
    if (error) {
        free(e->dir);
        free(e);
        return error;
    }
    e->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (e->fd < 0) {
        error = errno;
        xensim_domain_close(e->dom);
        free(e->dir);
        free(e);
        return error;
    }

    bool ok = false;
    for (uint32_t slot = 0; !ok && slot < XENSIM_NR_HANDLES; slot++) {
        ok = try_slot(e, dir, slot, 0);
    }
    for (uint32_t slot = 0; !ok && slot < XENSIM_NR_HANDLES; slot++) {
        uint32_t pid;

        atomic_read(&e->dom->handles[slot].pid, &pid);
        if (process_is_dead(pid)) {
            ok = try_slot(e, dir, slot, pid);
        }
    }
    if (!ok) {
        close(e->fd);
        xensim_domain_close(e->dom);
        free(e->dir);
        free(e);
        return EMFILE;
    }

    ovs_mutex_init(&e->mutex);
    domcache_init(&e->cache, dir);
    *ep = e;
    return 0;
}

/* Closes 'e', unbinding every port bound through it. */
void
xensim_evtchn_close(struct xensim_evtchn *e)
{
    if (!e) {
        return;
    }

    ovs_mutex_lock(&e->mutex);
    for (size_t i = 0; i < e->n_ports; i++) {
        uint32_t port = e->ports[i];
        uint64_t w;

        atomic_read(&e->dom->ports[port].word, &w);
        if (pw_owner(w) == e->slot
            && (pw_state(w) == PS_UNBOUND
                || pw_state(w) == PS_INTERDOMAIN)) {
            port_close(e->cache.dir, e->dom, port, w, NULL);
        }
    }
    free(e->ports);
    domcache_destroy(&e->cache);
    ovs_mutex_unlock(&e->mutex);

    struct sockaddr_un sun;
    if (doorbell_addr(e->dir, e->self, e->slot, &sun)) {
        unlink(sun.sun_path);
    }
    close(e->fd);
    atomic_store(&e->dom->handles[e->slot].pid, 0);
    xensim_domain_close(e->dom);
    ovs_mutex_destroy(&e->mutex);
    free(e->dir);
    free(e);
}

/* The pollable fd: readable when a port of this handle may be pending. */
int
xensim_evtchn_fd(const struct xensim_evtchn *e)
{
    return e->fd;
}

/* Claims a free port of own domain with word 'w' (whose owner is set to
 * this handle).  Returns the port, or 0 if there is none free. */
static uint32_t
claim_port(struct xensim_evtchn *e, uint64_t w)
{
    for (uint32_t port = 1; port < XENSIM_NR_PORTS; port++) {
        struct xensim_port *p = &e->dom->ports[port];
        uint64_t expected = port_word(PS_FREE, 0, 0, 0);

        if (atomic_compare_exchange_strong(&p->word, &expected, w)) {
            return port;
        }
    }
    return 0;
}

/* Allocates a port of own domain, unbound, for 'remote' to bind to. */
int
xensim_evtchn_alloc_unbound(struct xensim_evtchn *e, uint16_t remote,
                            uint32_t *port)
{
    int error = 0;

    *port = 0;
    if (remote > XENSIM_MAX_DOMID) {
        return EINVAL;
    }

    ovs_mutex_lock(&e->mutex);
    struct xensim_domain *r = domcache_get(&e->cache, remote);
    if (!r) {
        error = ESRCH;
        goto out;
    }
    xensim_domain_close(r);

    uint32_t p = claim_port(e, port_word(PS_UNBOUND, remote, 0, e->slot));
    if (!p) {
        error = ENOSPC;
        goto out;
    }
    evtchn_add_port(e, p);
    *port = p;

out:
    ovs_mutex_unlock(&e->mutex);
    return error;
}

/* Port 'rw' (the word of port 'remote_port' of 'r') is bound to a port of
 * our own domain.  If that port's handle belongs to a process that is gone,
 * closes it, which reverts the remote port to unbound. */
static void
reclaim_dead_peer(struct xensim_evtchn *e, struct xensim_domain *r,
                  uint32_t remote_port, uint64_t rw)
    OVS_REQUIRES(e->mutex)
{
    uint32_t lport = pw_rport(rw);
    uint64_t lw;
    uint32_t pid;

    if (!lport || lport >= XENSIM_NR_PORTS) {
        return;
    }
    atomic_read(&e->dom->ports[lport].word, &lw);
    if (pw_state(lw) != PS_INTERDOMAIN || pw_rdom(lw) != r->domid
        || pw_rport(lw) != remote_port
        || pw_owner(lw) >= XENSIM_NR_HANDLES) {
        return;
    }
    atomic_read(&e->dom->handles[pw_owner(lw)].pid, &pid);
    if (!pid || process_is_dead(pid)) {
        port_close(e->cache.dir, e->dom, lport, lw, r);
    }
}

/* Binds a new local port to 'remote''s port 'remote_port', which must be
 * unbound and allocated for this domain (else EINVAL).  Both ends become
 * interdomain atomically.  As Xen does, the new local port starts pending,
 * in case the remote end notified before the bind. */
int
xensim_evtchn_bind_interdomain(struct xensim_evtchn *e, uint16_t remote,
                               uint32_t remote_port, uint32_t *local_port)
{
    int error = 0;

    *local_port = 0;
    if (remote > XENSIM_MAX_DOMID || !remote_port
        || remote_port >= XENSIM_NR_PORTS) {
        return EINVAL;
    }

    ovs_mutex_lock(&e->mutex);
    struct xensim_domain *r = domcache_get(&e->cache, remote);
    if (!r) {
        error = ESRCH;
        goto out;
    }

    struct xensim_port *rp = &r->ports[remote_port];
    uint64_t rw;
    atomic_read(&rp->word, &rw);
    if (pw_state(rw) == PS_INTERDOMAIN && pw_rdom(rw) == e->self) {
        /* The remote port is still bound to one of our ports.  If the
         * process whose handle owns that port died without closing it, Xen
         * would have closed it when the process's /dev/xen/evtchn fd went
         * away (the remote end reverting to unbound): do it now. */
        reclaim_dead_peer(e, r, remote_port, rw);
        atomic_read(&rp->word, &rw);
    }
    if (pw_state(rw) != PS_UNBOUND || pw_rdom(rw) != e->self) {
        error = EINVAL;
        goto out_close;
    }

    uint32_t lport = claim_port(e, port_word(PS_INTERDOMAIN, remote,
                                             remote_port, e->slot));
    if (!lport) {
        error = ENOSPC;
        goto out_close;
    }
    struct xensim_port *lp = &e->dom->ports[lport];
    atomic_store(&lp->pending, 0);
    atomic_store(&lp->masked, 0);

    uint64_t nrw = port_word(PS_INTERDOMAIN, e->self, lport, pw_owner(rw));
    if (!atomic_compare_exchange_strong(&rp->word, &rw, nrw)) {
        /* Someone else bound it, or its owner closed it, meanwhile. */
        atomic_store(&lp->word, port_word(PS_FREE, 0, 0, 0));
        error = EINVAL;
        goto out_close;
    }

    evtchn_add_port(e, lport);
    atomic_store(&lp->pending, 1);
    ring_doorbell(e, e->self, e->slot);
    *local_port = lport;

out_close:
    xensim_domain_close(r);
out:
    ovs_mutex_unlock(&e->mutex);
    return error;
}

/* Returns the word of own port 'port' if it is bound through 'e', in
 * '*wp'.  EINVAL for a port out of range, ENOTCONN for a port not bound
 * through this handle (as Linux's evtchn driver says). */
static int
own_port(struct xensim_evtchn *e, uint32_t port, uint64_t *wp)
{
    if (!port || port >= XENSIM_NR_PORTS) {
        return EINVAL;
    }

    uint64_t w;
    atomic_read(&e->dom->ports[port].word, &w);
    if ((pw_state(w) != PS_UNBOUND && pw_state(w) != PS_INTERDOMAIN)
        || pw_owner(w) != e->slot) {
        return ENOTCONN;
    }
    *wp = w;
    return 0;
}

/* Closes own port 'port'.  If it was interdomain, the remote end reverts to
 * unbound (allocated for this domain), as in Xen. */
int
xensim_evtchn_unbind(struct xensim_evtchn *e, uint32_t port)
{
    uint64_t w;

    ovs_mutex_lock(&e->mutex);
    int error = own_port(e, port, &w);
    if (!error) {
        struct xensim_domain *r = NULL;
        if (pw_state(w) == PS_INTERDOMAIN) {
            r = domcache_get(&e->cache, pw_rdom(w));
        }
        if (r || pw_state(w) == PS_UNBOUND) {
            port_close(e->cache.dir, e->dom, port, w, r);
        } else {
            /* The remote domain is gone: nothing to revert there. */
            port_close(e->cache.dir, e->dom, port,
                       port_word(PS_UNBOUND, 0, 0, 0), NULL);
        }
        xensim_domain_close(r);
        evtchn_remove_port(e, port);
    }
    ovs_mutex_unlock(&e->mutex);
    return error;
}

/* Notifies the remote end of own port 'port'.  Notifications coalesce: only
 * a 0-to-1 transition of the remote port's pending flag, on an unmasked
 * port, rings the remote handle's doorbell.  Notifying an unbound port, or
 * one whose remote domain is gone, does nothing, as in Xen. */
int
xensim_evtchn_notify(struct xensim_evtchn *e, uint32_t port)
{
    uint64_t w;

    ovs_mutex_lock(&e->mutex);
    int error = own_port(e, port, &w);
    if (error || pw_state(w) != PS_INTERDOMAIN) {
        goto out;
    }

    struct xensim_domain *r = domcache_get(&e->cache, pw_rdom(w));
    if (!r) {
        goto out;
    }

    uint32_t rport = pw_rport(w);
    if (rport && rport < XENSIM_NR_PORTS) {
        struct xensim_port *rp = &r->ports[rport];
        uint64_t rw;

        atomic_read(&rp->word, &rw);
        if (pw_state(rw) == PS_INTERDOMAIN && pw_rdom(rw) == e->self
            && pw_rport(rw) == port
            && !atomic_exchange(&rp->pending, 1)) {
            uint32_t masked;

            atomic_read(&rp->masked, &masked);
            if (!masked) {
                ring_doorbell(e, r->domid, pw_owner(rw));
            }
        }
    }
    xensim_domain_close(r);

out:
    ovs_mutex_unlock(&e->mutex);
    return error;
}

/* Returns in '*port' a port bound through 'e' that is pending and not
 * masked, masking it and clearing its pending flag (like the upcall of
 * Linux's evtchn driver), or EAGAIN if there is none.  Drains the doorbell
 * first, so that after EAGAIN the fd polls readable only for new events. */
int
xensim_evtchn_pending(struct xensim_evtchn *e, uint32_t *port)
{
    char buf[64];

    while (recv(e->fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) {
        continue;
    }

    int error = EAGAIN;
    ovs_mutex_lock(&e->mutex);
    for (size_t i = 0; i < e->n_ports; i++) {
        size_t idx = (e->next + i) % e->n_ports;
        struct xensim_port *p = &e->dom->ports[e->ports[idx]];
        uint32_t masked;

        atomic_read(&p->masked, &masked);
        if (!masked && atomic_exchange(&p->pending, 0)) {
            atomic_store(&p->masked, 1);
            *port = e->ports[idx];
            e->next = idx + 1;
            error = 0;
            break;
        }
    }
    ovs_mutex_unlock(&e->mutex);
    return error;
}

/* Unmasks own port 'port'.  If an event arrived while it was masked, rings
 * the own doorbell so that the fd polls readable again. */
int
xensim_evtchn_unmask(struct xensim_evtchn *e, uint32_t port)
{
    uint64_t w;

    ovs_mutex_lock(&e->mutex);
    int error = own_port(e, port, &w);
    if (!error) {
        struct xensim_port *p = &e->dom->ports[port];
        uint32_t pending;

        atomic_store(&p->masked, 0);
        atomic_read(&p->pending, &pending);
        if (pending) {
            ring_doorbell(e, e->self, e->slot);
        }
    }
    ovs_mutex_unlock(&e->mutex);
    return error;
}
