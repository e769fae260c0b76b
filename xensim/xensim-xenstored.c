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

/* xensim-xenstored: a XenStore daemon for the simulated Xen host.
 *
 * It speaks the XenStore wire protocol (<xen/io/xs_wire.h>) on Unix sockets,
 * so that the stock libxenstore and xenstore-* tools work against it.
 * Connections to DIR/xenstored.sock are dom0 (privileged).  When dom0
 * introduces domain N (XS_INTRODUCE), DIR/xenstored.dN.sock appears, and
 * every connection accepted there acts as domain N (unprivileged), with
 * Xen's permission model enforced.  See Documentation/topics/xensim.rst. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

#include "command-line.h"
#include "daemon.h"
#include "fatal-signal.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "socket-util.h"
#include "stream-fd.h"
#include "stream.h"
#include "svec.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(xensim_xenstored);

/* Limits.  The per-domain ones follow Xen 4.17's default quotas; dom0
 * connections get more generous ones but are still bounded, so that no
 * client can exhaust the daemon. */
#define MAX_WATCHES_DOMU 128        /* Watches per domU connection. */
#define MAX_WATCHES_DOM0 4096       /* Watches per dom0 connection. */
#define MAX_TXNS_DOMU 10            /* Open transactions, domU connection. */
#define MAX_TXNS_DOM0 256           /* Open transactions, dom0 connection. */
#define MAX_NODES_PER_DOMU 1000     /* Nodes owned by one domU. */
#define MAX_NODES_TOTAL 200000      /* Nodes in the whole tree. */
#define MAX_VALUE_DOMU 2048         /* Bytes in a value written by a domU. */
#define MAX_PERMS_DOMU 5            /* Permission entries set by a domU. */
#define MAX_OUTPUT (1024 * 1024)    /* Unsent bytes before a client is cut. */
#define MAX_CONNS 1024              /* Simultaneous client connections. */
#define MAX_DOMID 0x7fef            /* Highest ordinary domain id. */

#define HDR_SIZE sizeof(struct xsd_sockmsg)
#define ROOT_PATH "/"
#define LOCAL_DOMAIN "/local/domain/"
#define IN_BUF_SIZE (2 * (HDR_SIZE + XENSTORE_PAYLOAD_MAX))

/* Access bits in a permission entry. */
#define PERM_NONE 0
#define PERM_READ 1
#define PERM_WRITE 2
#define PERM_OWNER 4                /* Never stored: computed for owners. */

/* One permission entry: the first of a node's entries names the owner and
 * the access of every domain not listed later. */
struct xs_perm {
    uint32_t domid;
    unsigned int access;            /* PERM_READ | PERM_WRITE. */
};

/* A node's permissions: 'n' >= 1 entries. */
struct xs_perms {
    struct xs_perm *p;
    size_t n;
};

/* A XenStore node.  Lives either in the global 'tree' or in a
 * transaction's overlay, where 'deleted' marks a node the transaction
 * removed. */
struct xs_node {
    struct hmap_node hmap_node;     /* By hash_string(path). */
    char *path;                     /* Absolute canonical path. */
    char *value;                    /* Always null-terminated after 'len'. */
    size_t len;
    struct xs_perms perms;
    struct svec children;           /* Child names, in creation order. */
    uint64_t gen;                   /* 'generation' at last change. */
    bool deleted;                   /* Tombstone (transaction overlay). */
};

/* A node the transaction looked at, as it was when first looked at. */
struct txn_access {
    struct hmap_node hmap_node;     /* By hash_string(path). */
    char *path;
    bool existed;
};

/* A watch event queued by a transaction, fired at commit. */
struct txn_event {
    struct ovs_list list_node;      /* In 'struct txn''s 'events'. */
    char *path;
    bool exact;
    struct xs_perms perms;          /* Perms to check, or n == 0. */
};

/* An open transaction. */
struct txn {
    struct hmap_node hmap_node;     /* In 'struct conn''s 'txns', by id. */
    uint32_t id;
    uint64_t start_gen;             /* 'generation' when it started. */
    struct hmap nodes;              /* Overlay: changed 'struct xs_node's. */
    struct hmap accessed;           /* 'struct txn_access'es. */
    struct ovs_list events;         /* 'struct txn_event's. */
    struct shash event_keys;        /* For deduplicating 'events'. */
    size_t n_created;               /* Nodes created (for quotas). */
};

/* A watch registered by a connection. */
struct watch {
    struct ovs_list list_node;      /* In 'struct conn''s 'watches'. */
    char *path;                     /* Canonical path or "@..." name. */
    char *token;
    char *prefix;                   /* Implicit path stripped, if relative. */
};

/* A client connection. */
struct conn {
    struct ovs_list list_node;      /* In 'conns'. */
    unsigned int serial;            /* For log messages and stats. */
    uint32_t domid;                 /* 0 means dom0, privileged. */
    struct stream *stream;
    bool dead;                      /* To be closed in the main loop. */

    char in[IN_BUF_SIZE];           /* Received, not yet processed bytes. */
    size_t in_used;

    struct ds out;                  /* Bytes to send from 'out_ofs' on. */
    size_t out_ofs;

    const struct xsd_sockmsg *req;  /* Request being processed, if any. */

    struct ovs_list watches;        /* 'struct watch'es. */
    size_t n_watches;
    struct hmap txns;               /* 'struct txn's. */
    uint32_t next_txn_id;
};

/* An introduced domain. */
struct domain {
    struct hmap_node hmap_node;     /* In 'domains', by domid. */
    uint32_t domid;
    int listen_fd;                  /* Listening on 'sock_path'... */
    char *sock_path;                /* ...DIR/xenstored.dN.sock. */
};

/* A request: header and payload, with a null byte after the payload. */
struct request {
    const struct xsd_sockmsg *hdr;
    char *data;
    size_t len;
};

/* Global state. */
static struct hmap tree = HMAP_INITIALIZER(&tree);
static struct hmap owner_counts = HMAP_INITIALIZER(&owner_counts);
static uint64_t generation = 1;
static struct ovs_list conns = OVS_LIST_INITIALIZER(&conns);
static size_t n_conns;
static unsigned int next_serial = 1;
static struct hmap domains = HMAP_INITIALIZER(&domains);
static struct pstream *dom0_listener;
static char *sim_dir;
static struct xs_perms introduce_perms, release_perms;

/* --unixctl: Name of unixctl socket, or null to use the default. */
static char *unixctl_path;

static void parse_options(int argc, char *argv[]);
OVS_NO_RETURN static void usage(void);

static void watch_fire(struct txn *, const char *path, bool exact,
                       const struct xs_perms *);
static void conn_kill(struct conn *);

/* Permissions. */

/* Initializes 'perms' with a single entry: owner 'domid', 'access' for
 * everyone else. */
static void
perms_init(struct xs_perms *perms, uint32_t domid, unsigned int access)
{
    perms->p = xmalloc(sizeof *perms->p);
    perms->p[0].domid = domid;
    perms->p[0].access = access;
    perms->n = 1;
}

/* Makes 'dst' a copy of 'src'. */
static void
perms_clone(struct xs_perms *dst, const struct xs_perms *src)
{
    dst->n = src->n;
    dst->p = xmemdup(src->p, src->n * sizeof *src->p);
}

static void
perms_destroy(struct xs_perms *perms)
{
    free(perms->p);
    perms->p = NULL;
    perms->n = 0;
}

/* Returns the access (PERM_* bits) that domain 'domid' has to a node with
 * 'perms', following Xen: dom0 and the owner have every right, then the
 * first entry naming 'domid' applies, and the owner entry's access applies
 * to everyone else. */
static unsigned int
perms_for_domain(const struct xs_perms *perms, uint32_t domid)
{
    if (!domid || perms->p[0].domid == domid) {
        return PERM_READ | PERM_WRITE | PERM_OWNER;
    }
    for (size_t i = 1; i < perms->n; i++) {
        if (perms->p[i].domid == domid) {
            return perms->p[i].access;
        }
    }
    return perms->p[0].access;
}

/* Appends the Xen text form of 'perm' ("r5") to 's'. */
static void
perm_format(const struct xs_perm *perm, struct ds *s)
{
    static const char letters[] = "nrwb";

    ds_put_format(s, "%c%"PRIu32, letters[perm->access & 3], perm->domid);
}

/* Parses 'text', a permission in Xen's form (a letter n, r, w or b, then a
 * domain id), into 'perm'.  Returns true if successful. */
static bool
perm_parse(const char *text, struct xs_perm *perm)
{
    unsigned int domid;

    switch (text[0]) {
    case 'n':
        perm->access = PERM_NONE;
        break;
    case 'r':
        perm->access = PERM_READ;
        break;
    case 'w':
        perm->access = PERM_WRITE;
        break;
    case 'b':
        perm->access = PERM_READ | PERM_WRITE;
        break;
    default:
        return false;
    }
    if (!str_to_uint(text + 1, 10, &domid) || domid > UINT16_MAX) {
        return false;
    }
    perm->domid = domid;
    return true;
}

/* Per-owner node counts (for the per-domain node quota). */

struct owner_count {
    struct hmap_node hmap_node;     /* In 'owner_counts', by domid. */
    uint32_t domid;
    size_t n;
};

static struct owner_count *
owner_count_find(uint32_t domid)
{
    struct owner_count *oc;

    HMAP_FOR_EACH_WITH_HASH (oc, hmap_node, hash_int(domid, 0),
                             &owner_counts) {
        if (oc->domid == domid) {
            return oc;
        }
    }
    return NULL;
}

static size_t
owner_count_get(uint32_t domid)
{
    struct owner_count *oc = owner_count_find(domid);
    return oc ? oc->n : 0;
}

static void
owner_count_add(uint32_t domid, int delta)
{
    struct owner_count *oc = owner_count_find(domid);

    if (!oc) {
        oc = xzalloc(sizeof *oc);
        oc->domid = domid;
        hmap_insert(&owner_counts, &oc->hmap_node, hash_int(domid, 0));
    }
    oc->n += delta;
    if (!oc->n) {
        hmap_remove(&owner_counts, &oc->hmap_node);
        free(oc);
    }
}

/* Nodes. */

/* Returns a new node for 'path', with no value, no children and a copy of
 * 'perms'. */
static struct xs_node *
node_new(const char *path, const struct xs_perms *perms)
{
    struct xs_node *node = xzalloc(sizeof *node);

    node->path = xstrdup(path);
    node->value = xstrdup("");
    perms_clone(&node->perms, perms);
    svec_init(&node->children);
    node->gen = ++generation;
    return node;
}

/* Returns a deep copy of 'src'. */
static struct xs_node *
node_clone(const struct xs_node *src)
{
    struct xs_node *node = xzalloc(sizeof *node);

    node->path = xstrdup(src->path);
    node->value = xmemdup0(src->value, src->len);
    node->len = src->len;
    perms_clone(&node->perms, &src->perms);
    svec_clone(&node->children, &src->children);
    node->gen = src->gen;
    node->deleted = src->deleted;
    return node;
}

static void
node_destroy(struct xs_node *node)
{
    if (node) {
        free(node->path);
        free(node->value);
        perms_destroy(&node->perms);
        svec_destroy(&node->children);
        free(node);
    }
}

static struct xs_node *
node_find(const struct hmap *nodes, const char *path)
{
    struct xs_node *node;

    HMAP_FOR_EACH_WITH_HASH (node, hmap_node, hash_string(path, 0), nodes) {
        if (!strcmp(node->path, path)) {
            return node;
        }
    }
    return NULL;
}

/* Replaces 'node''s value by the 'len' bytes at 'value'. */
static void
node_set_value(struct xs_node *node, const char *value, size_t len)
{
    free(node->value);
    node->value = xmemdup0(value, len);
    node->len = len;
}

/* Records that 'node' changed. */
static void
node_touch(struct xs_node *node)
{
    node->gen = ++generation;
}

/* Removes the child named 'name' from 'node''s children. */
static void
node_remove_child(struct xs_node *node, const char *name)
{
    struct svec *c = &node->children;

    for (size_t i = 0; i < c->n; i++) {
        if (!strcmp(c->names[i], name)) {
            free(c->names[i]);
            memmove(&c->names[i], &c->names[i + 1],
                    (c->n - i - 1) * sizeof *c->names);
            c->n--;
            return;
        }
    }
}

/* Appends 'node''s children list in wire form (each name followed by a null
 * byte) to 's'. */
static void
node_put_children(const struct xs_node *node, struct ds *s)
{
    for (size_t i = 0; i < node->children.n; i++) {
        const char *name = node->children.names[i];
        ds_put_buffer(s, name, strlen(name) + 1);
    }
}

/* Inserts 'node' into the global tree. */
static void
tree_insert(struct xs_node *node)
{
    hmap_insert(&tree, &node->hmap_node, hash_string(node->path, 0));
    owner_count_add(node->perms.p[0].domid, 1);
}

/* Removes 'node' from the global tree (without freeing it). */
static void
tree_remove(struct xs_node *node)
{
    hmap_remove(&tree, &node->hmap_node);
    owner_count_add(node->perms.p[0].domid, -1);
}

/* Returns the parent of absolute path 'path' (other than "/"), in newly
 * allocated memory. */
static char *
path_parent(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash == path ? xstrdup(ROOT_PATH) : xmemdup0(path, slash - path);
}

/* Returns the last component of absolute path 'path'. */
static const char *
path_basename(const char *path)
{
    return strrchr(path, '/') + 1;
}

/* Returns 'parent' joined with child name 'name', newly allocated. */
static char *
path_join(const char *parent, const char *name)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&s, parent);
    if (strcmp(parent, ROOT_PATH)) {
        ds_put_char(&s, '/');
    }
    ds_put_cstr(&s, name);
    return ds_steal_cstr(&s);
}

/* Returns true if 'child' is 'parent' or lies below it.  As in Xen, every
 * name (even "@..." ones) lies below "/". */
static bool
path_is_child(const char *child, const char *parent)
{
    size_t len = strlen(parent);

    if (!strcmp(parent, "/")) {
        return true;
    }
    return (!strncmp(child, parent, len)
            && (child[len] == '/' || child[len] == '\0'));
}

/* Transactions and views.
 *
 * Every operation sees the tree through an optional transaction: without
 * one, it reads and changes the global tree directly; with one, changes go
 * to the transaction's overlay and every node it looks at is recorded, so
 * that commit can detect conflicts. */

static void
txn_note_access(struct txn *txn, const char *path, bool existed)
{
    struct txn_access *a;
    uint32_t hash = hash_string(path, 0);

    HMAP_FOR_EACH_WITH_HASH (a, hmap_node, hash, &txn->accessed) {
        if (!strcmp(a->path, path)) {
            return;
        }
    }
    a = xmalloc(sizeof *a);
    a->path = xstrdup(path);
    a->existed = existed;
    hmap_insert(&txn->accessed, &a->hmap_node, hash);
}

/* Returns the node at 'path' as 'txn' (if nonnull) sees it, or NULL. */
static const struct xs_node *
view_get(struct txn *txn, const char *path)
{
    struct xs_node *node;

    if (txn) {
        node = node_find(&txn->nodes, path);
        if (node) {
            return node->deleted ? NULL : node;
        }
        node = node_find(&tree, path);
        txn_note_access(txn, path, node != NULL);
        return node;
    }
    return node_find(&tree, path);
}

/* Returns the node at 'path' as 'txn' sees it, ready to be changed (the
 * caller must call node_touch() after changing it), or NULL. */
static struct xs_node *
view_get_mutable(struct txn *txn, const char *path)
{
    struct xs_node *node, *global;

    if (!txn) {
        return node_find(&tree, path);
    }
    node = node_find(&txn->nodes, path);
    if (node) {
        return node->deleted ? NULL : node;
    }
    global = node_find(&tree, path);
    txn_note_access(txn, path, global != NULL);
    if (!global) {
        return NULL;
    }
    node = node_clone(global);
    hmap_insert(&txn->nodes, &node->hmap_node, hash_string(path, 0));
    return node;
}

/* Adds new 'node', whose path does not exist in 'txn''s view. */
static void
view_add(struct txn *txn, struct xs_node *node)
{
    struct xs_node *old;

    if (!txn) {
        tree_insert(node);
        return;
    }
    old = node_find(&txn->nodes, node->path);
    if (old) {
        hmap_remove(&txn->nodes, &old->hmap_node);
        node_destroy(old);
    } else {
        txn_note_access(txn, node->path,
                        node_find(&tree, node->path) != NULL);
    }
    hmap_insert(&txn->nodes, &node->hmap_node, hash_string(node->path, 0));
    txn->n_created++;
}

/* Deletes the node at 'path' (not its children) from 'txn''s view. */
static void
view_del(struct txn *txn, const char *path)
{
    struct xs_node *node;

    if (!txn) {
        node = node_find(&tree, path);
        if (node) {
            tree_remove(node);
            node_destroy(node);
        }
        return;
    }
    node = node_find(&txn->nodes, path);
    if (!node) {
        struct xs_node *global = node_find(&tree, path);

        txn_note_access(txn, path, global != NULL);
        if (!global) {
            return;
        }
        node = node_clone(global);
        hmap_insert(&txn->nodes, &node->hmap_node, hash_string(path, 0));
    }
    node->deleted = true;
    svec_clear(&node->children);
}

static struct txn *
txn_create(uint32_t id)
{
    struct txn *txn = xzalloc(sizeof *txn);

    txn->id = id;
    txn->start_gen = generation;
    hmap_init(&txn->nodes);
    hmap_init(&txn->accessed);
    ovs_list_init(&txn->events);
    shash_init(&txn->event_keys);
    return txn;
}

static void
txn_destroy(struct txn *txn)
{
    struct txn_access *a;
    struct txn_event *e;
    struct xs_node *node;

    HMAP_FOR_EACH_POP (node, hmap_node, &txn->nodes) {
        node_destroy(node);
    }
    hmap_destroy(&txn->nodes);
    HMAP_FOR_EACH_POP (a, hmap_node, &txn->accessed) {
        free(a->path);
        free(a);
    }
    hmap_destroy(&txn->accessed);
    LIST_FOR_EACH_POP (e, list_node, &txn->events) {
        free(e->path);
        perms_destroy(&e->perms);
        free(e);
    }
    shash_destroy(&txn->event_keys);
    free(txn);
}

/* Queues a watch event in 'txn', for firing at commit. */
static void
txn_queue_event(struct txn *txn, const char *path, bool exact,
                const struct xs_perms *perms)
{
    char *key = xasprintf("%c%s", exact ? 'E' : 'N', path);
    struct txn_event *e;

    if (shash_find(&txn->event_keys, key)) {
        free(key);
        return;
    }
    shash_add_nocopy(&txn->event_keys, key, NULL);

    e = xzalloc(sizeof *e);
    e->path = xstrdup(path);
    e->exact = exact;
    if (perms) {
        perms_clone(&e->perms, perms);
    }
    ovs_list_push_back(&txn->events, &e->list_node);
}

/* Commits 'txn' into the global tree, for domain 'domid'.  Returns 0 if
 * successful, EAGAIN if a node it looked at changed since it started, or
 * ENOSPC if it would exceed the domain's node quota. */
static int
txn_commit(struct txn *txn, uint32_t domid)
{
    struct txn_access *a;
    struct txn_event *e;
    struct xs_node *node;

    HMAP_FOR_EACH (a, hmap_node, &txn->accessed) {
        struct xs_node *global = node_find(&tree, a->path);

        if ((global != NULL) != a->existed
            || (global && global->gen > txn->start_gen)) {
            return EAGAIN;
        }
    }
    if (domid && txn->n_created
        && owner_count_get(domid) + txn->n_created > MAX_NODES_PER_DOMU) {
        return ENOSPC;
    }

    HMAP_FOR_EACH_POP (node, hmap_node, &txn->nodes) {
        struct xs_node *global = node_find(&tree, node->path);

        if (global) {
            tree_remove(global);
            node_destroy(global);
        }
        if (node->deleted) {
            node_destroy(node);
        } else {
            node_touch(node);
            tree_insert(node);
        }
    }

    LIST_FOR_EACH (e, list_node, &txn->events) {
        watch_fire(NULL, e->path, e->exact, e->perms.n ? &e->perms : NULL);
    }
    return 0;
}

/* Connections: output. */

/* Queues a message for 'conn'.  A client that lets too much output pile up
 * is disconnected. */
static void
conn_send(struct conn *conn, uint32_t type, uint32_t req_id, uint32_t tx_id,
          const void *data, size_t len)
{
    struct xsd_sockmsg hdr;

    if (conn->dead) {
        return;
    }
    if (conn->out.length - conn->out_ofs + HDR_SIZE + len > MAX_OUTPUT) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

        VLOG_WARN_RL(&rl, "connection %u (domain %"PRIu32"): more than %d "
                     "bytes of unread output, disconnecting",
                     conn->serial, conn->domid, MAX_OUTPUT);
        conn_kill(conn);
        return;
    }
    hdr.type = type;
    hdr.req_id = req_id;
    hdr.tx_id = tx_id;
    hdr.len = len;
    ds_put_buffer(&conn->out, (const char *) &hdr, sizeof hdr);
    ds_put_buffer(&conn->out, data, len);
}

/* Sends an error answer to the request being processed: type XS_ERROR and
 * the error's name, null-terminated, as Xen writes it. */
static void
conn_send_error(struct conn *conn, int error)
{
    const char *name = "EINVAL";

    for (size_t i = 0; i < ARRAY_SIZE(xsd_errors); i++) {
        if (xsd_errors[i].errnum == error) {
            name = xsd_errors[i].errstring;
            break;
        }
    }
    conn_send(conn, XS_ERROR, conn->req->req_id, conn->req->tx_id,
              name, strlen(name) + 1);
}

/* Sends a successful answer to the request being processed. */
static void
conn_reply(struct conn *conn, const void *data, size_t len)
{
    if (len > XENSTORE_PAYLOAD_MAX) {
        conn_send_error(conn, E2BIG);
    } else {
        conn_send(conn, conn->req->type, conn->req->req_id,
                  conn->req->tx_id, data, len);
    }
}

static void
conn_reply_string(struct conn *conn, const char *s)
{
    conn_reply(conn, s, strlen(s) + 1);
}

static void
conn_ack(struct conn *conn)
{
    conn_reply_string(conn, "OK");
}

/* Sends what can be sent of 'conn''s pending output. */
static void
conn_flush(struct conn *conn)
{
    while (!conn->dead && conn->out_ofs < conn->out.length) {
        int n = stream_send(conn->stream, conn->out.string + conn->out_ofs,
                            conn->out.length - conn->out_ofs);
        if (n > 0) {
            conn->out_ofs += n;
        } else if (n == -EAGAIN) {
            break;
        } else {
            VLOG_DBG("connection %u: send failed (%s)", conn->serial,
                     ovs_retval_to_string(-n));
            conn_kill(conn);
            return;
        }
    }
    if (conn->out_ofs == conn->out.length) {
        ds_clear(&conn->out);
        conn->out_ofs = 0;
    } else if (conn->out_ofs > 65536) {
        size_t left = conn->out.length - conn->out_ofs;

        memmove(conn->out.string, conn->out.string + conn->out_ofs, left);
        ds_truncate(&conn->out, left);
        conn->out_ofs = 0;
    }
}

/* Watches. */

static void
watch_destroy(struct watch *watch)
{
    free(watch->path);
    free(watch->token);
    free(watch->prefix);
    free(watch);
}

/* Sends a watch event for 'watch' and 'path' to 'conn'. */
static void
watch_send_event(struct conn *conn, const struct watch *watch,
                 const char *path)
{
    struct ds payload = DS_EMPTY_INITIALIZER;

    if (watch->prefix && !strncmp(path, watch->prefix,
                                  strlen(watch->prefix))) {
        path += strlen(watch->prefix);
        if (*path == '/') {
            path++;
        }
    }
    ds_put_buffer(&payload, path, strlen(path) + 1);
    ds_put_buffer(&payload, watch->token, strlen(watch->token) + 1);
    conn_send(conn, XS_WATCH_EVENT, 0, 0, payload.string, payload.length);
    ds_destroy(&payload);
}

/* Returns the permissions of special watch name 'name', or NULL. */
static struct xs_perms *
special_perms(const char *name)
{
    return (!strcmp(name, "@introduceDomain") ? &introduce_perms
            : !strcmp(name, "@releaseDomain") ? &release_perms
            : NULL);
}

/* Returns true if 'conn' may see a watch event for 'path', following Xen:
 * it must be able to read the node (with 'old' permissions, if given, or
 * its current ones) or the node's parent. */
static bool
watch_permitted(const struct conn *conn, const char *path,
                const struct xs_perms *old)
{
    const struct xs_node *node, *parent;
    const struct xs_perms *special;
    char *parent_path;

    if (path[0] == '@') {
        special = special_perms(path);
        return special && perms_for_domain(special, conn->domid) & PERM_READ;
    }
    if (old && perms_for_domain(old, conn->domid) & PERM_READ) {
        return true;
    }
    node = node_find(&tree, path);
    if (node) {
        if (perms_for_domain(&node->perms, conn->domid) & PERM_READ) {
            return true;
        }
    } else if (!old) {
        return false;
    }
    if (!strcmp(path, "/")) {
        return false;
    }
    parent_path = path_parent(path);
    parent = node_find(&tree, parent_path);
    free(parent_path);
    return parent && perms_for_domain(&parent->perms, conn->domid) & PERM_READ;
}

/* Fires the watches for a change of 'path': those set on 'path' itself if
 * 'exact', otherwise those on 'path' or any of its ancestors.  'perms', if
 * nonnull, are the node's permissions before the change.  Within a
 * transaction, the event waits for the commit. */
static void
watch_fire(struct txn *txn, const char *path, bool exact,
           const struct xs_perms *perms)
{
    struct conn *conn;

    if (txn) {
        txn_queue_event(txn, path, exact, perms);
        return;
    }
    LIST_FOR_EACH (conn, list_node, &conns) {
        struct watch *watch;

        if (conn->dead || !conn->n_watches
            || !watch_permitted(conn, path, perms)) {
            continue;
        }
        LIST_FOR_EACH (watch, list_node, &conn->watches) {
            if (exact
                ? !strcmp(path, watch->path)
                : path_is_child(path, watch->path)) {
                watch_send_event(conn, watch, path);
            }
        }
    }
}

/* Request helpers. */

/* Returns the number of null bytes in 'req''s payload, that is, the number
 * of null-terminated strings in it. */
static size_t
req_count_strings(const struct request *req)
{
    size_t n = 0;

    for (size_t i = 0; i < req->len; i++) {
        n += !req->data[i];
    }
    return n;
}

/* Returns the payload of 'req' if it is exactly one null-terminated string,
 * otherwise NULL. */
static const char *
req_onearg(const struct request *req)
{
    return (req->len && memchr(req->data, '\0', req->len)
            == req->data + req->len - 1 ? req->data : NULL);
}

/* Returns the 'i'th null-terminated string of 'req''s payload; the caller
 * must have checked that it exists. */
static const char *
req_string(const struct request *req, size_t i)
{
    const char *s = req->data;

    while (i-- > 0) {
        s += strlen(s) + 1;
    }
    return s;
}

/* Returns true if 'path' contains two slashes in a row. */
static bool
has_double_slash(const char *path)
{
    for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
        if (p[1] == '/') {
            return true;
        }
    }
    return false;
}

/* Returns true if 'path' is a valid absolute node path, as Xen checks
 * it. */
static bool
path_is_valid(const char *path)
{
    static const char valid[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "abcdefghijklmnopqrstuvwxyz"
                                "0123456789-/_@";
    size_t len = strlen(path);
    unsigned int domid;
    int local_ofs = 0;

    if (path[0] != '/'
        || (len > 1 && path[len - 1] == '/')
        || has_double_slash(path)
        || len > XENSTORE_ABS_PATH_MAX
        || strspn(path, valid) != len) {
        return false;
    }
    if (ovs_scan(path, LOCAL_DOMAIN "%5u/%n", &domid, &local_ofs)) {
        len -= local_ofs;
    }
    return len <= XENSTORE_REL_PATH_MAX;
}

/* Returns the canonical form of node path 'path' for 'conn' (relative paths
 * are relative to the domain's home, /local/domain/<domid>), newly
 * allocated, or NULL if 'path' is null or invalid.  Special "@..." names are
 * not nodes, so they are invalid here. */
static char *
path_canonicalize(const struct conn *conn, const char *path)
{
    char *canonical;

    if (!path) {
        return NULL;
    }
    canonical = (path[0] == '/' || path[0] == '@'
                 ? xstrdup(path)
                 : xasprintf(LOCAL_DOMAIN "%"PRIu32"/%s", conn->domid,
                             path));
    if (!path_is_valid(canonical)) {
        free(canonical);
        return NULL;
    }
    return canonical;
}

/* Looks up 'path' for 'conn', which needs 'perm' access to it.  Returns the
 * node, or NULL with '*errorp' set: EACCES if access is refused, and ENOENT
 * for a missing node only if 'conn' has 'perm' on the nearest existing
 * ancestor (otherwise EACCES, so as not to reveal anything). */
static const struct xs_node *
node_get(const struct conn *conn, struct txn *txn, const char *path,
         unsigned int perm, int *errorp)
{
    const struct xs_node *node = view_get(txn, path);
    char *p;

    if (node) {
        if ((perms_for_domain(&node->perms, conn->domid) & perm) != perm) {
            *errorp = EACCES;
            return NULL;
        }
        return node;
    }

    p = xstrdup(path);
    for (;;) {
        char *parent = path_parent(p);

        free(p);
        p = parent;
        node = view_get(txn, p);
        if (node || !strcmp(p, "/")) {
            break;
        }
    }
    free(p);
    *errorp = (node && perms_for_domain(&node->perms, conn->domid) & perm
               ? ENOENT : EACCES);
    return NULL;
}

/* Creates the node at 'path', which does not exist, with any missing
 * ancestors, for 'conn'.  New nodes inherit their parent's permissions, and
 * a domU owns what it creates.  Returns 0 and the new node in '*nodep', or
 * an errno value. */
static int
node_create(struct conn *conn, struct txn *txn, const char *path,
            struct xs_node **nodep)
{
    struct svec missing = SVEC_EMPTY_INITIALIZER;
    char *parent_path = xstrdup(path);
    size_t pending;

    /* Walk up to the nearest existing ancestor. */
    for (;;) {
        char *parent;

        svec_add(&missing, parent_path);
        parent = path_parent(parent_path);
        free(parent_path);
        parent_path = parent;
        if (view_get(txn, parent_path)) {
            break;
        }
    }

    pending = txn ? txn->n_created : 0;
    if ((conn->domid && (owner_count_get(conn->domid) + pending + missing.n
                         > MAX_NODES_PER_DOMU))
        || hmap_count(&tree) + pending + missing.n > MAX_NODES_TOTAL) {
        free(parent_path);
        svec_destroy(&missing);
        return ENOSPC;
    }

    /* Walk down, creating the missing nodes. */
    for (size_t i = missing.n; i > 0; i--) {
        const char *node_path = missing.names[i - 1];
        struct xs_node *parent = view_get_mutable(txn, parent_path);
        struct xs_node *node;

        svec_add(&parent->children, path_basename(node_path));
        node_touch(parent);

        node = node_new(node_path, &parent->perms);
        if (conn->domid) {
            node->perms.p[0].domid = conn->domid;
        }
        view_add(txn, node);
        *nodep = node;

        free(parent_path);
        parent_path = xstrdup(node_path);
    }
    free(parent_path);
    svec_destroy(&missing);
    return 0;
}

/* Removes the subtree at 'path' from 'txn''s view, firing watches as Xen
 * does: watches on each removed descendant (exact match), and watches on
 * the subtree's root or its ancestors ('is_root'). */
static void
node_remove_tree(struct txn *txn, const char *path, bool is_root)
{
    const struct xs_node *node = view_get(txn, path);
    struct xs_perms perms;
    struct svec children;

    if (!node) {
        return;
    }
    svec_clone(&children, &node->children);
    for (size_t i = 0; i < children.n; i++) {
        char *child = path_join(path, children.names[i]);
        node_remove_tree(txn, child, false);
        free(child);
    }
    svec_destroy(&children);

    node = view_get(txn, path);
    perms_clone(&perms, &node->perms);
    watch_fire(txn, path, !is_root, &perms);
    perms_destroy(&perms);
    view_del(txn, path);
}

/* Parses a domain id argument.  Returns true if successful. */
static bool
parse_domid(const char *s, uint32_t *domid)
{
    unsigned int id;

    if (!s || !str_to_uint(s, 10, &id) || id > UINT16_MAX) {
        return false;
    }
    *domid = id;
    return true;
}

/* Request handlers.  Each returns 0 after sending its answer, or an errno
 * value to answer with. */

static int
handle_read(struct conn *conn, const struct request *req, struct txn *txn)
{
    char *path = path_canonicalize(conn, req_onearg(req));
    const struct xs_node *node;
    int error = EINVAL;

    if (path) {
        node = node_get(conn, txn, path, PERM_READ, &error);
        if (node) {
            conn_reply(conn, node->value, node->len);
            error = 0;
        }
    }
    free(path);
    return error;
}

static int
handle_write(struct conn *conn, const struct request *req, struct txn *txn)
{
    const struct xs_node *node;
    struct xs_node *mutable;
    const char *value;
    size_t value_len;
    char *path;
    int error;

    if (!req_count_strings(req)) {
        return EINVAL;
    }
    value = req->data + strlen(req->data) + 1;
    value_len = req->len - (value - req->data);
    if (conn->domid && value_len > MAX_VALUE_DOMU) {
        return ENOSPC;
    }

    path = path_canonicalize(conn, req->data);
    if (!path) {
        return EINVAL;
    }
    node = node_get(conn, txn, path, PERM_WRITE, &error);
    if (node) {
        mutable = view_get_mutable(txn, path);
    } else if (error == ENOENT) {
        error = node_create(conn, txn, path, &mutable);
        if (error) {
            free(path);
            return error;
        }
    } else {
        free(path);
        return error;
    }
    node_set_value(mutable, value, value_len);
    node_touch(mutable);

    watch_fire(txn, path, false, NULL);
    conn_ack(conn);
    free(path);
    return 0;
}

static int
handle_mkdir(struct conn *conn, const struct request *req, struct txn *txn)
{
    char *path = path_canonicalize(conn, req_onearg(req));
    struct xs_node *node;
    int error;

    if (!path) {
        return EINVAL;
    }
    if (!node_get(conn, txn, path, PERM_WRITE, &error)) {
        if (error != ENOENT) {
            goto out;
        }
        error = node_create(conn, txn, path, &node);
        if (error) {
            goto out;
        }
        watch_fire(txn, path, false, NULL);
    }
    conn_ack(conn);
    error = 0;

out:
    free(path);
    return error;
}

static int
handle_rm(struct conn *conn, const struct request *req, struct txn *txn)
{
    char *path = path_canonicalize(conn, req_onearg(req));
    struct xs_node *parent;
    char *parent_path;
    int error;

    if (!path) {
        return EINVAL;
    }
    if (!node_get(conn, txn, path, PERM_WRITE, &error)) {
        if (error == ENOENT) {
            /* Removing a missing node is fine if its parent exists. */
            parent_path = path_parent(path);
            if (view_get(txn, parent_path)) {
                conn_ack(conn);
                error = 0;
            }
            free(parent_path);
        }
        free(path);
        return error;
    }
    if (!strcmp(path, "/")) {
        free(path);
        return EINVAL;
    }

    node_remove_tree(txn, path, true);
    parent_path = path_parent(path);
    parent = view_get_mutable(txn, parent_path);
    if (parent) {
        node_remove_child(parent, path_basename(path));
        node_touch(parent);
    }
    free(parent_path);
    free(path);
    conn_ack(conn);
    return 0;
}

static int
handle_directory(struct conn *conn, const struct request *req,
                 struct txn *txn)
{
    char *path = path_canonicalize(conn, req_onearg(req));
    const struct xs_node *node;
    int error = EINVAL;

    if (path) {
        node = node_get(conn, txn, path, PERM_READ, &error);
        if (node) {
            struct ds children = DS_EMPTY_INITIALIZER;

            node_put_children(node, &children);
            conn_reply(conn, children.string, children.length);
            ds_destroy(&children);
            error = 0;
        }
    }
    free(path);
    return error;
}

/* XS_DIRECTORY_PART: "path\0offset\0".  The answer is the node's generation
 * count, then as many whole child names from byte 'offset' of the children
 * list as fit, with an extra null byte when the list is complete, as in Xen
 * 4.17. */
static int
handle_directory_part(struct conn *conn, const struct request *req,
                      struct txn *txn)
{
    struct ds children = DS_EMPTY_INITIALIZER;
    struct ds reply = DS_EMPTY_INITIALIZER;
    const struct xs_node *node;
    size_t ofs, len, max;
    unsigned int offset;
    char *path;
    int error;

    if (req_count_strings(req) != 2) {
        return EINVAL;
    }
    path = path_canonicalize(conn, req->data);
    if (!path) {
        return EINVAL;
    }
    node = node_get(conn, txn, path, PERM_READ, &error);
    free(path);
    if (!node) {
        return error;
    }
    if (!str_to_uint(req_string(req, 1), 10, &offset)) {
        offset = 0;
    }

    node_put_children(node, &children);
    ds_put_format(&reply, "%"PRIu64, node->gen);
    ds_put_char(&reply, '\0');
    if (offset >= children.length) {
        ds_put_char(&reply, '\0');
    } else {
        max = XENSTORE_PAYLOAD_MAX - reply.length - 1;
        len = 0;
        ofs = offset;
        while (ofs < children.length) {
            size_t name_len = strlen(children.string + ofs) + 1;

            if (len + name_len > max) {
                break;
            }
            len += name_len;
            ofs += name_len;
        }
        ds_put_buffer(&reply, children.string + offset, len);
        if (ofs == children.length) {
            ds_put_char(&reply, '\0');
        }
    }
    conn_reply(conn, reply.string, reply.length);
    ds_destroy(&children);
    ds_destroy(&reply);
    return 0;
}

static int
handle_get_perms(struct conn *conn, const struct request *req,
                 struct txn *txn)
{
    char *path = path_canonicalize(conn, req_onearg(req));
    const struct xs_node *node;
    int error = EINVAL;

    if (path) {
        node = node_get(conn, txn, path, PERM_READ, &error);
        if (node) {
            struct ds s = DS_EMPTY_INITIALIZER;

            for (size_t i = 0; i < node->perms.n; i++) {
                perm_format(&node->perms.p[i], &s);
                ds_put_char(&s, '\0');
            }
            conn_reply(conn, s.string, s.length);
            ds_destroy(&s);
            error = 0;
        }
    }
    free(path);
    return error;
}

static int
handle_set_perms(struct conn *conn, const struct request *req,
                 struct txn *txn)
{
    size_t n = req_count_strings(req);
    struct xs_perms perms, old;
    const struct xs_node *node;
    struct xs_node *mutable;
    struct xs_perms *special;
    char *path;
    int error;

    if (n < 2) {
        return EINVAL;
    }
    n--;
    if (conn->domid && n > MAX_PERMS_DOMU) {
        return ENOSPC;
    }
    perms.n = n;
    perms.p = xcalloc(n, sizeof *perms.p);
    for (size_t i = 0; i < n; i++) {
        if (!perm_parse(req_string(req, i + 1), &perms.p[i])) {
            perms_destroy(&perms);
            return EINVAL;
        }
    }

    if (req->data[0] == '@') {
        special = special_perms(req->data);
        if (!special) {
            error = EINVAL;
        } else if ((perms_for_domain(special, conn->domid)
                    & (PERM_WRITE | PERM_OWNER))
                   != (PERM_WRITE | PERM_OWNER)) {
            error = EACCES;
        } else {
            perms_destroy(special);
            *special = perms;
            conn_ack(conn);
            return 0;
        }
        perms_destroy(&perms);
        return error;
    }

    path = path_canonicalize(conn, req->data);
    if (!path) {
        perms_destroy(&perms);
        return EINVAL;
    }
    node = node_get(conn, txn, path, PERM_WRITE | PERM_OWNER, &error);
    if (!node) {
        goto error;
    }
    if (conn->domid && perms.p[0].domid != node->perms.p[0].domid) {
        /* Unprivileged domains may not give their nodes away. */
        error = EPERM;
        goto error;
    }

    mutable = view_get_mutable(txn, path);
    old = mutable->perms;
    if (!txn) {
        owner_count_add(old.p[0].domid, -1);
        owner_count_add(perms.p[0].domid, 1);
    }
    mutable->perms = perms;
    node_touch(mutable);
    watch_fire(txn, path, false, &old);
    perms_destroy(&old);
    free(path);
    conn_ack(conn);
    return 0;

error:
    perms_destroy(&perms);
    free(path);
    return error;
}

static int
handle_watch(struct conn *conn, const struct request *req,
             struct txn *txn OVS_UNUSED)
{
    const char *token;
    struct watch *watch;
    bool relative;
    char *path;

    if (req_count_strings(req) != 2) {
        return EINVAL;
    }
    token = req_string(req, 1);
    if (req->data[0] == '@') {
        if (strlen(req->data) > XENSTORE_REL_PATH_MAX) {
            return EINVAL;
        }
        path = xstrdup(req->data);
        relative = false;
    } else {
        path = path_canonicalize(conn, req->data);
        if (!path) {
            return EINVAL;
        }
        relative = req->data[0] != '/';
    }

    LIST_FOR_EACH (watch, list_node, &conn->watches) {
        if (!strcmp(watch->path, path) && !strcmp(watch->token, token)) {
            free(path);
            return EEXIST;
        }
    }
    if (conn->n_watches >= (conn->domid ? MAX_WATCHES_DOMU
                            : MAX_WATCHES_DOM0)) {
        free(path);
        return E2BIG;
    }

    watch = xzalloc(sizeof *watch);
    watch->path = path;
    watch->token = xstrdup(token);
    watch->prefix = (relative
                     ? xasprintf(LOCAL_DOMAIN "%"PRIu32, conn->domid)
                     : NULL);
    ovs_list_push_back(&conn->watches, &watch->list_node);
    conn->n_watches++;

    conn_ack(conn);

    /* Xen fires every new watch once, right away. */
    watch_send_event(conn, watch, watch->path);
    return 0;
}

static int
handle_unwatch(struct conn *conn, const struct request *req,
               struct txn *txn OVS_UNUSED)
{
    struct watch *watch;
    const char *token;
    char *path;

    if (req_count_strings(req) != 2) {
        return EINVAL;
    }
    token = req_string(req, 1);
    path = (req->data[0] == '/' || req->data[0] == '@'
            ? xstrdup(req->data)
            : xasprintf(LOCAL_DOMAIN "%"PRIu32"/%s", conn->domid,
                        req->data));
    LIST_FOR_EACH (watch, list_node, &conn->watches) {
        if (!strcmp(watch->path, path) && !strcmp(watch->token, token)) {
            ovs_list_remove(&watch->list_node);
            conn->n_watches--;
            watch_destroy(watch);
            free(path);
            conn_ack(conn);
            return 0;
        }
    }
    free(path);
    return ENOENT;
}

static struct txn *
conn_find_txn(const struct conn *conn, uint32_t id)
{
    struct txn *txn;

    HMAP_FOR_EACH_WITH_HASH (txn, hmap_node, hash_int(id, 0), &conn->txns) {
        if (txn->id == id) {
            return txn;
        }
    }
    return NULL;
}

static int
handle_transaction_start(struct conn *conn,
                         const struct request *req OVS_UNUSED,
                         struct txn *txn)
{
    char id_str[16];
    uint32_t id;

    if (txn) {
        /* No nested transactions. */
        return EBUSY;
    }
    if (hmap_count(&conn->txns) >= (conn->domid ? MAX_TXNS_DOMU
                                    : MAX_TXNS_DOM0)) {
        return ENOSPC;
    }
    do {
        id = conn->next_txn_id++;
    } while (!id || conn_find_txn(conn, id));

    txn = txn_create(id);
    hmap_insert(&conn->txns, &txn->hmap_node, hash_int(id, 0));
    snprintf(id_str, sizeof id_str, "%"PRIu32, id);
    conn_reply_string(conn, id_str);
    return 0;
}

static int
handle_transaction_end(struct conn *conn, const struct request *req,
                       struct txn *txn)
{
    const char *arg = req_onearg(req);
    int error = 0;

    if (!arg || (strcmp(arg, "T") && strcmp(arg, "F"))) {
        return EINVAL;
    }
    if (!txn) {
        return ENOENT;
    }
    hmap_remove(&conn->txns, &txn->hmap_node);
    if (!strcmp(arg, "T")) {
        error = txn_commit(txn, conn->domid);
    }
    txn_destroy(txn);
    if (!error) {
        conn_ack(conn);
    }
    return error;
}

static struct domain *
domain_find(uint32_t domid)
{
    struct domain *d;

    HMAP_FOR_EACH_WITH_HASH (d, hmap_node, hash_int(domid, 0), &domains) {
        if (d->domid == domid) {
            return d;
        }
    }
    return NULL;
}

/* Introduces domain 'domid': creates its socket and fires
 * @introduceDomain.  Introducing a domain again is harmless.  Returns 0 or
 * an errno value. */
static int
domain_introduce(uint32_t domid)
{
    struct domain *d;
    char *path;
    int fd;

    if (!domid || domid > MAX_DOMID) {
        return EINVAL;
    }
    if (domain_find(domid)) {
        return 0;
    }
    /* A plain listening socket rather than a pstream: with a thousand
     * domains, the main loop must accept() only on sockets that poll()
     * says are ready (an accept() that fails with EAGAIN still costs the
     * kernel a socket file). */
    path = xasprintf("%s/xenstored.d%"PRIu32".sock", sim_dir, domid);
    fd = make_unix_socket(SOCK_STREAM, true, path, NULL);
    if (fd < 0 || listen(fd, 64) < 0) {
        VLOG_ERR("%s: listen failed (%s)", path, ovs_strerror(errno));
        if (fd >= 0) {
            close(fd);
            fatal_signal_unlink_file_now(path);
        }
        free(path);
        return EIO;
    }

    d = xzalloc(sizeof *d);
    d->domid = domid;
    d->listen_fd = fd;
    d->sock_path = path;
    hmap_insert(&domains, &d->hmap_node, hash_int(domid, 0));
    VLOG_INFO("domain %"PRIu32" introduced", domid);
    watch_fire(NULL, "@introduceDomain", false, NULL);
    return 0;
}

/* Releases domain 'domid': closes its connections, removes its socket and
 * fires @releaseDomain.  Returns 0 or an errno value. */
static int
domain_release(uint32_t domid)
{
    struct domain *d = domid ? domain_find(domid) : NULL;
    struct conn *conn;

    if (!domid) {
        return EINVAL;
    }
    if (!d) {
        return ENOENT;
    }
    LIST_FOR_EACH (conn, list_node, &conns) {
        if (conn->domid == domid) {
            conn_kill(conn);
        }
    }
    close(d->listen_fd);
    fatal_signal_unlink_file_now(d->sock_path);
    free(d->sock_path);
    hmap_remove(&domains, &d->hmap_node);
    free(d);
    VLOG_INFO("domain %"PRIu32" released", domid);
    watch_fire(NULL, "@releaseDomain", false, NULL);
    return 0;
}

/* XS_INTRODUCE: "domid\0mfn\0evtchn\0".  The ring page and event channel
 * mean nothing here: domain N talks over its own socket. */
static int
handle_introduce(struct conn *conn, const struct request *req,
                 struct txn *txn OVS_UNUSED)
{
    uint32_t domid;
    int error;

    if (req_count_strings(req) < 3 || !parse_domid(req->data, &domid)) {
        return EINVAL;
    }
    error = domain_introduce(domid);
    if (!error) {
        conn_ack(conn);
    }
    return error;
}

static int
handle_release(struct conn *conn, const struct request *req,
               struct txn *txn OVS_UNUSED)
{
    uint32_t domid;
    int error;

    if (!parse_domid(req_onearg(req), &domid)) {
        return EINVAL;
    }
    error = domain_release(domid);
    if (!error) {
        conn_ack(conn);
    }
    return error;
}

static int
handle_get_domain_path(struct conn *conn, const struct request *req,
                       struct txn *txn OVS_UNUSED)
{
    uint32_t domid;
    char *path;

    if (!parse_domid(req_onearg(req), &domid)) {
        return EINVAL;
    }
    path = xasprintf(LOCAL_DOMAIN "%"PRIu32, domid);
    conn_reply_string(conn, path);
    free(path);
    return 0;
}

static int
handle_is_domain_introduced(struct conn *conn, const struct request *req,
                            struct txn *txn OVS_UNUSED)
{
    uint32_t domid;

    if (!parse_domid(req_onearg(req), &domid)) {
        return EINVAL;
    }
    conn_reply_string(conn, !domid || domain_find(domid) ? "T" : "F");
    return 0;
}

static int
handle_resume(struct conn *conn, const struct request *req,
              struct txn *txn OVS_UNUSED)
{
    uint32_t domid;

    if (!parse_domid(req_onearg(req), &domid)) {
        return EINVAL;
    }
    if (!domain_find(domid)) {
        return ENOENT;
    }
    conn_ack(conn);
    return 0;
}

static void
conn_reset_watches(struct conn *conn)
{
    struct watch *watch;
    struct txn *txn;

    LIST_FOR_EACH_POP (watch, list_node, &conn->watches) {
        watch_destroy(watch);
    }
    conn->n_watches = 0;
    HMAP_FOR_EACH_POP (txn, hmap_node, &conn->txns) {
        txn_destroy(txn);
    }
}

static int
handle_reset_watches(struct conn *conn, const struct request *req OVS_UNUSED,
                     struct txn *txn OVS_UNUSED)
{
    conn_reset_watches(conn);
    conn_ack(conn);
    return 0;
}

/* XS_CONTROL: "print\0TEXT\0" logs TEXT; "help\0" lists the commands. */
static int
handle_control(struct conn *conn, const struct request *req,
               struct txn *txn OVS_UNUSED)
{
    if (!req_count_strings(req)) {
        return EINVAL;
    }
    if (!strcmp(req->data, "help")) {
        conn_reply_string(conn, "help\nprint <string>\n");
    } else if (!strcmp(req->data, "print") && req_count_strings(req) >= 2) {
        VLOG_INFO("control: %s", req_string(req, 1));
        conn_ack(conn);
    } else {
        return EINVAL;
    }
    return 0;
}

/* Handlers by message type. */
#define F_NOTID 1       /* Ignores the transaction id. */
#define F_PRIV 2        /* For dom0 only. */
static const struct {
    const char *name;
    int (*handler)(struct conn *, const struct request *, struct txn *);
    unsigned int flags;
} handlers[XS_TYPE_COUNT] = {
    [XS_CONTROL] = { "CONTROL", handle_control, F_PRIV },
    [XS_DIRECTORY] = { "DIRECTORY", handle_directory, 0 },
    [XS_READ] = { "READ", handle_read, 0 },
    [XS_GET_PERMS] = { "GET_PERMS", handle_get_perms, 0 },
    [XS_WATCH] = { "WATCH", handle_watch, F_NOTID },
    [XS_UNWATCH] = { "UNWATCH", handle_unwatch, F_NOTID },
    [XS_TRANSACTION_START] = { "TRANSACTION_START",
                               handle_transaction_start, 0 },
    [XS_TRANSACTION_END] = { "TRANSACTION_END", handle_transaction_end, 0 },
    [XS_INTRODUCE] = { "INTRODUCE", handle_introduce, F_PRIV },
    [XS_RELEASE] = { "RELEASE", handle_release, F_PRIV },
    [XS_GET_DOMAIN_PATH] = { "GET_DOMAIN_PATH", handle_get_domain_path, 0 },
    [XS_WRITE] = { "WRITE", handle_write, 0 },
    [XS_MKDIR] = { "MKDIR", handle_mkdir, 0 },
    [XS_RM] = { "RM", handle_rm, 0 },
    [XS_SET_PERMS] = { "SET_PERMS", handle_set_perms, 0 },
    [XS_IS_DOMAIN_INTRODUCED] = { "IS_DOMAIN_INTRODUCED",
                                  handle_is_domain_introduced, F_PRIV },
    [XS_RESUME] = { "RESUME", handle_resume, F_PRIV },
    [XS_RESET_WATCHES] = { "RESET_WATCHES", handle_reset_watches, 0 },
    [XS_DIRECTORY_PART] = { "DIRECTORY_PART", handle_directory_part, 0 },
};

/* Processes one complete request on 'conn'. */
static void
conn_process(struct conn *conn, const struct request *req)
{
    uint32_t type = req->hdr->type;
    struct txn *txn = NULL;
    int error;

    conn->req = req->hdr;
    if (type >= XS_TYPE_COUNT || !handlers[type].handler) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

        VLOG_WARN_RL(&rl, "connection %u: unknown message type %"PRIu32,
                     conn->serial, type);
        error = ENOSYS;
    } else if (handlers[type].flags & F_PRIV && conn->domid) {
        error = EACCES;
    } else if (!(handlers[type].flags & F_NOTID) && req->hdr->tx_id
               && !(txn = conn_find_txn(conn, req->hdr->tx_id))) {
        error = ENOENT;
    } else {
        VLOG_DBG("connection %u: %s tx %"PRIu32" (%"PRIuSIZE" bytes)",
                 conn->serial, handlers[type].name, req->hdr->tx_id,
                 req->len);
        error = handlers[type].handler(conn, req, txn);
    }
    if (error) {
        conn_send_error(conn, error);
    }
    conn->req = NULL;
}

/* Processes the complete requests in 'conn''s input buffer.  A header
 * announcing more than XENSTORE_PAYLOAD_MAX bytes makes Xen drop the
 * client, and so do we. */
static void
conn_process_input(struct conn *conn)
{
    static char payload[XENSTORE_PAYLOAD_MAX + 1];
    size_t ofs = 0;

    while (!conn->dead && conn->in_used - ofs >= HDR_SIZE) {
        struct xsd_sockmsg hdr;
        struct request req;

        memcpy(&hdr, conn->in + ofs, HDR_SIZE);
        if (hdr.len > XENSTORE_PAYLOAD_MAX) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

            VLOG_WARN_RL(&rl, "connection %u (domain %"PRIu32"): message "
                         "of %"PRIu32" bytes exceeds the maximum, "
                         "disconnecting", conn->serial, conn->domid,
                         hdr.len);
            conn_kill(conn);
            return;
        }
        if (conn->in_used - ofs < HDR_SIZE + hdr.len) {
            break;
        }
        memcpy(payload, conn->in + ofs + HDR_SIZE, hdr.len);
        payload[hdr.len] = '\0';
        req.hdr = &hdr;
        req.data = payload;
        req.len = hdr.len;
        conn_process(conn, &req);
        ofs += HDR_SIZE + hdr.len;
    }
    if (ofs) {
        memmove(conn->in, conn->in + ofs, conn->in_used - ofs);
        conn->in_used -= ofs;
    }
}

/* Connections. */

static void
conn_create(struct stream *stream, uint32_t domid)
{
    struct conn *conn;

    if (n_conns >= MAX_CONNS) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

        VLOG_WARN_RL(&rl, "too many connections, refusing a new one");
        stream_close(stream);
        return;
    }
    conn = xzalloc(sizeof *conn);
    conn->serial = next_serial++;
    conn->domid = domid;
    conn->stream = stream;
    ds_init(&conn->out);
    ovs_list_init(&conn->watches);
    hmap_init(&conn->txns);
    conn->next_txn_id = 1;
    ovs_list_push_back(&conns, &conn->list_node);
    n_conns++;
    VLOG_DBG("connection %u: new, domain %"PRIu32, conn->serial, domid);
}

/* Marks 'conn' for closing: it receives nothing more and is freed by the
 * main loop (so that callers iterating over 'conns' stay safe). */
static void
conn_kill(struct conn *conn)
{
    conn->dead = true;
}

static void
conn_destroy(struct conn *conn)
{
    VLOG_DBG("connection %u: closed", conn->serial);
    ovs_list_remove(&conn->list_node);
    n_conns--;
    conn_reset_watches(conn);
    hmap_destroy(&conn->txns);
    ds_destroy(&conn->out);
    stream_close(conn->stream);
    free(conn);
}

static void
conn_run(struct conn *conn)
{
    stream_run(conn->stream);
    conn_flush(conn);
    for (int i = 0; i < 64 && !conn->dead; i++) {
        int n = stream_recv(conn->stream, conn->in + conn->in_used,
                            sizeof conn->in - conn->in_used);
        if (n == -EAGAIN) {
            break;
        } else if (n <= 0) {
            VLOG_DBG("connection %u: %s", conn->serial,
                     n ? ovs_strerror(-n) : "end of file");
            conn_kill(conn);
            break;
        }
        conn->in_used += n;
        conn_process_input(conn);
    }
    conn_flush(conn);
}

static void
conn_wait(struct conn *conn)
{
    if (conn->dead) {
        poll_immediate_wake();
        return;
    }
    stream_run_wait(conn->stream);
    stream_recv_wait(conn->stream);
    if (conn->out_ofs < conn->out.length) {
        stream_send_wait(conn->stream);
    }
}

/* Accepts new connections on 'listener', for domain 'domid'. */
static void
listener_run(struct pstream *listener, uint32_t domid)
{
    for (int i = 0; i < 16; i++) {
        struct stream *stream;
        int error = pstream_accept(listener, &stream);

        if (error) {
            if (error != EAGAIN) {
                VLOG_WARN("%s: accept failed (%s)",
                          pstream_get_name(listener), ovs_strerror(error));
            }
            break;
        }
        conn_create(stream, domid);
    }
}

/* Accepts new connections for every domain whose socket has one waiting:
 * one poll() over all of them, accept() only where it will succeed. */
static void
domain_listeners_run(void)
{
    size_t n = hmap_count(&domains), i = 0;
    struct pollfd *pfds;
    struct domain **doms;
    struct domain *d;

    if (!n) {
        return;
    }
    pfds = xmalloc(n * sizeof *pfds);
    doms = xmalloc(n * sizeof *doms);
    HMAP_FOR_EACH (d, hmap_node, &domains) {
        pfds[i].fd = d->listen_fd;
        pfds[i].events = POLLIN;
        pfds[i].revents = 0;
        doms[i++] = d;
    }
    if (poll(pfds, n, 0) > 0) {
        for (i = 0; i < n; i++) {
            for (int k = 0; k < 16 && pfds[i].revents & POLLIN; k++) {
                struct stream *stream;
                char *name;
                int fd = accept(pfds[i].fd, NULL, NULL);

                if (fd < 0) {
                    if (errno != EAGAIN && errno != EWOULDBLOCK) {
                        VLOG_WARN("%s: accept failed (%s)",
                                  doms[i]->sock_path, ovs_strerror(errno));
                    }
                    break;
                }
                set_nonblocking(fd);
                name = xasprintf("unix:%s", doms[i]->sock_path);
                if (!new_fd_stream(name, fd, 0, AF_UNIX, &stream)) {
                    conn_create(stream, doms[i]->domid);
                }
            }
        }
    }
    free(pfds);
    free(doms);
}

/* The initial tree: what xen-init-dom0 leaves on a real host. */
static void
tree_init(void)
{
    static const char *const dirs[] = {
        "/", "/local", "/local/domain", "/local/domain/0", "/tool",
    };
    struct xs_perms perms;
    struct xs_node *node;

    perms_init(&perms, 0, PERM_NONE);
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        node = node_new(dirs[i], &perms);
        if (i) {
            char *parent_path = path_parent(dirs[i]);
            struct xs_node *parent = node_find(&tree, parent_path);

            svec_add(&parent->children, path_basename(dirs[i]));
            free(parent_path);
        }
        tree_insert(node);
    }

    node = node_new(LOCAL_DOMAIN "0/name", &perms);
    node_set_value(node, "Domain-0", 8);
    tree_insert(node);
    node = node_new(LOCAL_DOMAIN "0/domid", &perms);
    node_set_value(node, "0", 1);
    tree_insert(node);
    node = node_find(&tree, LOCAL_DOMAIN "0");
    svec_add(&node->children, "name");
    svec_add(&node->children, "domid");
    perms_destroy(&perms);

    perms_init(&introduce_perms, 0, PERM_NONE);
    perms_init(&release_perms, 0, PERM_NONE);
}

/* unixctl commands. */

/* Appends 'len' bytes at 'value' to 's', quoted, with unprintable bytes,
 * quotes and backslashes escaped. */
static void
put_quoted(struct ds *s, const char *value, size_t len)
{
    ds_put_char(s, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = value[i];

        if (c == '"' || c == '\\') {
            ds_put_format(s, "\\%c", c);
        } else if (c < 32 || c >= 127) {
            ds_put_format(s, "\\x%02x", c);
        } else {
            ds_put_char(s, c);
        }
    }
    ds_put_char(s, '"');
}

static void
dump_node(const struct xs_node *node, struct ds *s)
{
    ds_put_format(s, "%s = ", node->path);
    put_quoted(s, node->value, node->len);
    ds_put_cstr(s, " (");
    for (size_t i = 0; i < node->perms.n; i++) {
        if (i) {
            ds_put_char(s, ' ');
        }
        perm_format(&node->perms.p[i], s);
    }
    ds_put_cstr(s, ")\n");

    for (size_t i = 0; i < node->children.n; i++) {
        char *child_path = path_join(node->path, node->children.names[i]);
        const struct xs_node *child = node_find(&tree, child_path);

        if (child) {
            dump_node(child, s);
        } else {
            ds_put_format(s, "%s: missing child node\n", child_path);
        }
        free(child_path);
    }
}

static void
unixctl_dump(struct unixctl_conn *uconn, int argc, const char *argv[],
             void *aux OVS_UNUSED)
{
    const char *path = argc > 1 ? argv[1] : "/";
    const struct xs_node *node = node_find(&tree, path);
    struct ds s = DS_EMPTY_INITIALIZER;

    if (!node) {
        unixctl_command_reply_error(uconn, "no such node");
        return;
    }
    dump_node(node, &s);
    unixctl_command_reply(uconn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
unixctl_stats(struct unixctl_conn *uconn, int argc OVS_UNUSED,
              const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    size_t n_watches = 0, n_txns = 0, n_dom0 = 0;
    const struct domain *d;
    struct conn *conn;
    struct svec ids;

    LIST_FOR_EACH (conn, list_node, &conns) {
        n_watches += conn->n_watches;
        n_txns += hmap_count(&conn->txns);
        n_dom0 += !conn->domid;
    }
    ds_put_format(&s, "nodes: %"PRIuSIZE"\n", hmap_count(&tree));
    ds_put_format(&s, "connections: %"PRIuSIZE" (dom0: %"PRIuSIZE")\n",
                  n_conns, n_dom0);
    ds_put_format(&s, "watches: %"PRIuSIZE"\n", n_watches);
    ds_put_format(&s, "transactions: %"PRIuSIZE"\n", n_txns);

    svec_init(&ids);
    HMAP_FOR_EACH (d, hmap_node, &domains) {
        svec_add_nocopy(&ids, xasprintf("%"PRIu32, d->domid));
    }
    svec_sort(&ids);
    ds_put_cstr(&s, "domains:");
    for (size_t i = 0; i < ids.n; i++) {
        ds_put_format(&s, " %s", ids.names[i]);
    }
    ds_put_char(&s, '\n');
    svec_destroy(&ids);

    LIST_FOR_EACH (conn, list_node, &conns) {
        ds_put_format(&s, "connection %u: domain %"PRIu32", watches "
                      "%"PRIuSIZE", transactions %"PRIuSIZE", output "
                      "%"PRIuSIZE"\n", conn->serial, conn->domid,
                      conn->n_watches, hmap_count(&conn->txns),
                      conn->out.length - conn->out_ofs);
    }
    unixctl_command_reply(uconn, ds_cstr(&s));
    ds_destroy(&s);
}

/* "xenstored/introduce DOMID" and "xenstored/release DOMID": 'op_' is
 * domain_introduce() or domain_release(). */
static void
unixctl_domain_op(struct unixctl_conn *uconn, int argc OVS_UNUSED,
                  const char *argv[], void *op_)
{
    int (*op)(uint32_t) = op_;
    uint32_t domid;
    int error;

    error = parse_domid(argv[1], &domid) ? op(domid) : EINVAL;
    if (error) {
        unixctl_command_reply_error(uconn, ovs_strerror(error));
    } else {
        unixctl_command_reply(uconn, NULL);
    }
}

static void
unixctl_exit(struct unixctl_conn *uconn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *exiting_)
{
    bool *exiting = exiting_;

    *exiting = true;
    unixctl_command_reply(uconn, NULL);
}

int
main(int argc, char *argv[])
{
    struct unixctl_server *unixctl;
    bool exiting = false;
    char *name;
    int error;

    ovs_cmdl_proctitle_init(argc, argv);
    set_program_name(argv[0]);
    service_start(&argc, &argv);
    parse_options(argc, argv);
    fatal_ignore_sigpipe();

    if (!sim_dir) {
        ovs_fatal(0, "--dir is required (use --help for help)");
    }

    daemonize_start(false);

    name = xasprintf("punix:%s/xenstored.sock", sim_dir);
    error = pstream_open(name, &dom0_listener, 0);
    if (error) {
        ovs_fatal(error, "%s: listen failed", name);
    }
    free(name);

    error = unixctl_server_create(unixctl_path, &unixctl);
    if (error) {
        exit(EXIT_FAILURE);
    }
    unixctl_command_register("exit", "", 0, 0, unixctl_exit, &exiting);
    unixctl_command_register("xenstored/dump", "[PATH]", 0, 1,
                             unixctl_dump, NULL);
    unixctl_command_register("xenstored/stats", "", 0, 0,
                             unixctl_stats, NULL);
    unixctl_command_register("xenstored/introduce", "DOMID", 1, 1,
                             unixctl_domain_op, domain_introduce);
    unixctl_command_register("xenstored/release", "DOMID", 1, 1,
                             unixctl_domain_op, domain_release);

    tree_init();

    daemonize_complete();

    while (!exiting) {
        struct conn *conn;
        struct domain *d;

        listener_run(dom0_listener, 0);
        domain_listeners_run();
        LIST_FOR_EACH (conn, list_node, &conns) {
            if (!conn->dead) {
                conn_run(conn);
            }
        }
        LIST_FOR_EACH_SAFE (conn, list_node, &conns) {
            if (conn->dead) {
                conn_destroy(conn);
            } else {
                /* Output queued by other connections' requests. */
                conn_flush(conn);
            }
        }
        unixctl_server_run(unixctl);
        if (exiting) {
            break;
        }

        pstream_wait(dom0_listener);
        HMAP_FOR_EACH (d, hmap_node, &domains) {
            poll_fd_wait(d->listen_fd, POLLIN);
        }
        LIST_FOR_EACH (conn, list_node, &conns) {
            conn_wait(conn);
        }
        unixctl_server_wait(unixctl);
        poll_block();
    }

    unixctl_server_destroy(unixctl);
    pstream_close(dom0_listener);
    return 0;
}

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_DIR = UCHAR_MAX + 1,
        OPT_UNIXCTL,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"dir", required_argument, NULL, OPT_DIR},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }

        switch (c) {
        case OPT_DIR:
            free(sim_dir);
            sim_dir = abs_file_name(NULL, optarg);
            break;

        case OPT_UNIXCTL:
            unixctl_path = optarg;
            break;

        case 'h':
            usage();

        case 'V':
            ovs_print_version(0, 0);
            exit(EXIT_SUCCESS);

        VLOG_OPTION_HANDLERS
        DAEMON_OPTION_HANDLERS

        case '?':
            exit(EXIT_FAILURE);

        default:
            OVS_NOT_REACHED();
        }
    }
    free(short_options);

    if (optind < argc) {
        ovs_fatal(0, "non-option arguments not accepted "
                  "(use --help for help)");
    }
}

static void
usage(void)
{
    printf("%s: XenStore daemon for the simulated Xen host\n"
           "usage: %s --dir=DIR [OPTIONS]\n"
           "\nListens on DIR/xenstored.sock (dom0) and, for each introduced "
           "domain N,\non DIR/xenstored.dN.sock.\n",
           program_name, program_name);
    daemon_usage();
    vlog_usage();
    printf("\nOther options:\n"
           "  --dir=DIR               directory for the sockets (required)\n"
           "  --unixctl=SOCKET        override default control socket name\n"
           "  -h, --help              display this help message\n"
           "  -V, --version           display version information\n");
    exit(EXIT_SUCCESS);
}
