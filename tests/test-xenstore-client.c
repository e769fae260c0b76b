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

/* A scriptable XenStore client for the xensim-xenstored tests.
 *
 * Usage: test-xenstore-client COMMAND... (each COMMAND is one argument,
 * words separated by spaces).  Raw wire-protocol commands run on the current
 * connection (connection 0 to $XENSTORED_PATH unless "conn" chose another)
 * and print the answer as "TYPE: STRING,STRING,..." (or the value for
 * READ):
 *
 *   conn N [SOCKET]       switch to connection N, opening it on SOCKET
 *                         (default $XENSTORED_PATH) on first use
 *   close                 close the current connection
 *   read PATH | write PATH VALUE | mkdir PATH | rm PATH | dir PATH
 *   dirpart PATH OFFSET | getperms PATH | setperms PATH PERM...
 *   watch PATH TOKEN | unwatch PATH TOKEN | reset-watches
 *   start                 start a transaction: later commands on this
 *                         connection use it until commit or abort
 *   commit | abort        end the transaction
 *   introduce DOMID | release DOMID | is-introduced DOMID | domain-path DOMID
 *   raw TYPE TXID HEX     send a message with the given payload (hex bytes)
 *   raw-len TYPE LEN      send a header announcing LEN bytes and no payload
 *   events N              wait (up to 10 s) for N watch events on this
 *                         connection and print them as "EVENT: PATH TOKEN"
 *   no-events             check that no watch event is pending (after 0.2 s)
 *   flood PATH N          send N reads of PATH without reading any answer
 *
 * And through the stock libxenstore (on $XENSTORED_PATH):
 *   xs-introduce DOMID | xs-release DOMID | xs-is-introduced DOMID
 *   xs-directory PATH     print the number of children (libxenstore falls
 *                         back to DIRECTORY_PART for big directories)
 *
 * Exits 1 if a connection fails. */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "openvswitch/dynamic-string.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

#define MAX_CONNS 8

/* A connection: socket, transaction in use, watch events received. */
struct client {
    int fd;
    uint32_t tx_id;
    struct svec events;
};

static struct client clients[MAX_CONNS];
static struct client *cur;
static uint32_t next_req_id = 1;

static const char *const type_names[] = {
    [XS_CONTROL] = "CONTROL",
    [XS_DIRECTORY] = "DIRECTORY",
    [XS_READ] = "READ",
    [XS_GET_PERMS] = "GET_PERMS",
    [XS_WATCH] = "WATCH",
    [XS_UNWATCH] = "UNWATCH",
    [XS_TRANSACTION_START] = "TRANSACTION_START",
    [XS_TRANSACTION_END] = "TRANSACTION_END",
    [XS_INTRODUCE] = "INTRODUCE",
    [XS_RELEASE] = "RELEASE",
    [XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
    [XS_WRITE] = "WRITE",
    [XS_MKDIR] = "MKDIR",
    [XS_RM] = "RM",
    [XS_SET_PERMS] = "SET_PERMS",
    [XS_WATCH_EVENT] = "WATCH_EVENT",
    [XS_ERROR] = "ERROR",
    [XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
    [XS_RESUME] = "RESUME",
    [XS_SET_TARGET] = "SET_TARGET",
    [XS_RESET_WATCHES] = "RESET_WATCHES",
    [XS_DIRECTORY_PART] = "DIRECTORY_PART",
};

static int
open_socket(const char *path)
{
    struct sockaddr_un sun;
    int fd;

    if (strlen(path) >= sizeof sun.sun_path) {
        ovs_fatal(0, "%s: socket path too long", path);
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    ovs_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        ovs_fatal(errno, "%s: connect failed", path);
    }
    return fd;
}

/* Writes 'len' bytes, or returns false if the daemon closed the
 * connection. */
static bool
write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

/* Reads exactly 'len' bytes, or returns false at end of file. */
static bool
read_all(int fd, void *data, size_t len)
{
    char *p = data;

    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

/* Formats payload 'data' of 'len' bytes as strings separated by commas. */
static char *
format_strings(const char *data, size_t len)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < len; i++) {
        if (data[i]) {
            ds_put_char(&s, data[i]);
        } else if (i + 1 < len) {
            ds_put_char(&s, ',');
        }
    }
    return ds_steal_cstr(&s);
}

/* Receives one message on the current connection into 'hdr' and '*datap'
 * (null-terminated, to be freed).  Returns false at end of file. */
static bool
recv_msg(struct xsd_sockmsg *hdr, char **datap)
{
    char *data;

    if (!read_all(cur->fd, hdr, sizeof *hdr)) {
        return false;
    }
    data = xmalloc(hdr->len + 1);
    if (!read_all(cur->fd, data, hdr->len)) {
        free(data);
        return false;
    }
    data[hdr->len] = '\0';
    *datap = data;
    return true;
}

static void
note_event(const char *data, size_t len)
{
    char *s = format_strings(data, len);
    svec_add_nocopy(&cur->events, xasprintf("EVENT: %s", s));
    free(s);
}

/* Sends a request and prints its answer. */
static void
transact(uint32_t type, const void *payload, size_t len)
{
    struct xsd_sockmsg hdr = {
        .type = type, .req_id = next_req_id++, .tx_id = cur->tx_id,
        .len = len,
    };
    char *data;

    if (!write_all(cur->fd, &hdr, sizeof hdr)
        || !write_all(cur->fd, payload, len)) {
        printf("EOF\n");
        return;
    }
    for (;;) {
        struct xsd_sockmsg reply;

        if (!recv_msg(&reply, &data)) {
            printf("EOF\n");
            return;
        }
        if (reply.type == XS_WATCH_EVENT) {
            note_event(data, reply.len);
            free(data);
            continue;
        }
        if (reply.req_id != hdr.req_id) {
            printf("BAD REQ_ID %"PRIu32"\n", reply.req_id);
        }
        if (reply.type == XS_READ) {
            printf("READ: %s\n", data);
        } else {
            char *s = format_strings(data, reply.len);
            printf("%s: %s\n", (reply.type < ARRAY_SIZE(type_names)
                                && type_names[reply.type]
                                ? type_names[reply.type] : "UNKNOWN"), s);
            free(s);
        }
        if (type == XS_TRANSACTION_START && reply.type == type) {
            cur->tx_id = strtoul(data, NULL, 10);
        } else if (type == XS_TRANSACTION_END) {
            cur->tx_id = 0;
        }
        free(data);
        return;
    }
}

/* Sends a request whose payload is 'svec''s strings, each null-terminated
 * except the last if '!last_nul'. */
static void
transact_strings(uint32_t type, const struct svec *args, size_t start,
                 bool last_nul)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    for (size_t i = start; i < args->n; i++) {
        ds_put_buffer(&s, args->names[i], strlen(args->names[i]));
        if (last_nul || i + 1 < args->n) {
            ds_put_char(&s, '\0');
        }
    }
    transact(type, s.string, s.length);
    ds_destroy(&s);
}

/* Waits up to 'ms' milliseconds for watch events until 'n' are buffered. */
static void
wait_events(size_t n, int ms)
{
    long long int deadline = time_msec() + ms;

    while (cur->events.n < n) {
        struct pollfd pfd = { .fd = cur->fd, .events = POLLIN };
        long long int left = deadline - time_msec();
        struct xsd_sockmsg hdr;
        char *data;

        if (left <= 0 || poll(&pfd, 1, left) <= 0) {
            return;
        }
        if (!recv_msg(&hdr, &data)) {
            return;
        }
        if (hdr.type == XS_WATCH_EVENT) {
            note_event(data, hdr.len);
        } else {
            printf("UNEXPECTED MESSAGE TYPE %"PRIu32"\n", hdr.type);
        }
        free(data);
    }
}

static void
print_events(void)
{
    for (size_t i = 0; i < cur->events.n; i++) {
        printf("%s\n", cur->events.names[i]);
    }
    svec_clear(&cur->events);
}

static struct xs_handle *
xs_handle(void)
{
    struct xs_handle *xs = xs_open(0);
    if (!xs) {
        ovs_fatal(errno, "xs_open failed");
    }
    return xs;
}

static void
switch_conn(const struct svec *args)
{
    unsigned int n = atoi(args->names[1]);
    const char *path = (args->n > 2 ? args->names[2]
                        : getenv("XENSTORED_PATH"));

    if (n >= MAX_CONNS) {
        ovs_fatal(0, "bad connection number %u", n);
    }
    cur = &clients[n];
    if (cur->fd < 0) {
        if (!path) {
            ovs_fatal(0, "XENSTORED_PATH not set");
        }
        cur->fd = open_socket(path);
    }
}

static void
run_command(const char *command)
{
    struct svec args = SVEC_EMPTY_INITIALIZER;
    const char *name;

    svec_parse_words(&args, command);
    if (!args.n) {
        ovs_fatal(0, "empty command");
    }
    name = args.names[0];
    if (!strcmp(name, "conn") && args.n >= 2) {
        switch_conn(&args);
        goto out;
    }
    if (!strncmp(name, "xs-", 3)) {
        struct xs_handle *xs = xs_handle();
        unsigned int domid = args.n > 1 ? atoi(args.names[1]) : 0;

        if (!strcmp(name, "xs-introduce")) {
            printf("%s\n", xs_introduce_domain(xs, domid, 0, 1)
                   ? "ok" : ovs_strerror(errno));
        } else if (!strcmp(name, "xs-release")) {
            printf("%s\n", xs_release_domain(xs, domid)
                   ? "ok" : ovs_strerror(errno));
        } else if (!strcmp(name, "xs-is-introduced")) {
            printf("%s\n", xs_is_domain_introduced(xs, domid)
                   ? "yes" : "no");
        } else if (!strcmp(name, "xs-directory") && args.n > 1) {
            unsigned int num;
            char **list = xs_directory(xs, XBT_NULL, args.names[1], &num);

            if (list) {
                printf("%u children\n", num);
                free(list);
            } else {
                printf("%s\n", ovs_strerror(errno));
            }
        } else {
            ovs_fatal(0, "%s: unknown command", command);
        }
        xs_close(xs);
        goto out;
    }

    if (!cur) {
        struct svec def = SVEC_EMPTY_INITIALIZER;

        svec_add(&def, "conn");
        svec_add(&def, "0");
        switch_conn(&def);
        svec_destroy(&def);
    }

    if (!strcmp(name, "close")) {
        close(cur->fd);
        cur->fd = -1;
        cur->tx_id = 0;
        svec_clear(&cur->events);
        cur = NULL;
    } else if (!strcmp(name, "read") && args.n == 2) {
        transact_strings(XS_READ, &args, 1, true);
    } else if (!strcmp(name, "write") && args.n == 3) {
        transact_strings(XS_WRITE, &args, 1, false);
    } else if (!strcmp(name, "mkdir") && args.n == 2) {
        transact_strings(XS_MKDIR, &args, 1, true);
    } else if (!strcmp(name, "rm") && args.n == 2) {
        transact_strings(XS_RM, &args, 1, true);
    } else if (!strcmp(name, "dir") && args.n == 2) {
        transact_strings(XS_DIRECTORY, &args, 1, true);
    } else if (!strcmp(name, "dirpart") && args.n == 3) {
        transact_strings(XS_DIRECTORY_PART, &args, 1, true);
    } else if (!strcmp(name, "getperms") && args.n == 2) {
        transact_strings(XS_GET_PERMS, &args, 1, true);
    } else if (!strcmp(name, "setperms") && args.n >= 3) {
        transact_strings(XS_SET_PERMS, &args, 1, true);
    } else if (!strcmp(name, "watch") && args.n == 3) {
        transact_strings(XS_WATCH, &args, 1, true);
    } else if (!strcmp(name, "unwatch") && args.n == 3) {
        transact_strings(XS_UNWATCH, &args, 1, true);
    } else if (!strcmp(name, "reset-watches")) {
        transact(XS_RESET_WATCHES, "", 0);
    } else if (!strcmp(name, "start")) {
        transact(XS_TRANSACTION_START, "", 1);
    } else if (!strcmp(name, "commit")) {
        transact(XS_TRANSACTION_END, "T", 2);
    } else if (!strcmp(name, "abort")) {
        transact(XS_TRANSACTION_END, "F", 2);
    } else if (!strcmp(name, "introduce") && args.n == 2) {
        svec_add(&args, "0");
        svec_add(&args, "1");
        transact_strings(XS_INTRODUCE, &args, 1, true);
    } else if (!strcmp(name, "release") && args.n == 2) {
        transact_strings(XS_RELEASE, &args, 1, true);
    } else if (!strcmp(name, "is-introduced") && args.n == 2) {
        transact_strings(XS_IS_DOMAIN_INTRODUCED, &args, 1, true);
    } else if (!strcmp(name, "domain-path") && args.n == 2) {
        transact_strings(XS_GET_DOMAIN_PATH, &args, 1, true);
    } else if (!strcmp(name, "raw") && args.n >= 3) {
        const char *hex = args.n > 3 ? args.names[3] : "";
        uint32_t saved_tx_id = cur->tx_id;
        struct ds payload = DS_EMPTY_INITIALIZER;

        for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
            bool ok;

            ds_put_char(&payload, hexits_value(&hex[i], 2, &ok));
            if (!ok) {
                ovs_fatal(0, "%s: bad hex payload", hex);
            }
        }
        cur->tx_id = strtoul(args.names[2], NULL, 0);
        transact(strtoul(args.names[1], NULL, 0), payload.string,
                 payload.length);
        cur->tx_id = saved_tx_id;
        ds_destroy(&payload);
    } else if (!strcmp(name, "raw-len") && args.n == 3) {
        struct xsd_sockmsg hdr = {
            .type = strtoul(args.names[1], NULL, 0),
            .req_id = next_req_id++,
            .len = strtoul(args.names[2], NULL, 0),
        };
        struct xsd_sockmsg reply;
        char *data;

        if (write_all(cur->fd, &hdr, sizeof hdr)
            && recv_msg(&reply, &data)) {
            printf("REPLY TYPE %"PRIu32"\n", reply.type);
            free(data);
        } else {
            printf("EOF\n");
        }
    } else if (!strcmp(name, "events") && args.n == 2) {
        wait_events(atoi(args.names[1]), 10000);
        print_events();
    } else if (!strcmp(name, "no-events")) {
        wait_events(1, 200);
        if (cur->events.n) {
            print_events();
        } else {
            printf("no events\n");
        }
    } else if (!strcmp(name, "flood") && args.n == 3) {
        struct ds msgs = DS_EMPTY_INITIALIZER;
        int n = atoi(args.names[2]);

        for (int i = 0; i < n; i++) {
            struct xsd_sockmsg hdr = {
                .type = XS_READ, .req_id = next_req_id++,
                .len = strlen(args.names[1]) + 1,
            };
            ds_put_buffer(&msgs, (const char *) &hdr, sizeof hdr);
            ds_put_buffer(&msgs, args.names[1], hdr.len);
        }
        /* The daemon must drop us rather than block: a failed write
         * (EPIPE, ECONNRESET) is fine here. */
        size_t ofs = 0;
        while (ofs < msgs.length) {
            ssize_t k = send(cur->fd, msgs.string + ofs, msgs.length - ofs,
                             MSG_NOSIGNAL);
            if (k <= 0) {
                break;
            }
            ofs += k;
        }
        ds_destroy(&msgs);
        printf("flooded\n");
    } else {
        ovs_fatal(0, "%s: unknown command or wrong arguments", command);
    }

out:
    fflush(stdout);
    svec_destroy(&args);
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < MAX_CONNS; i++) {
        clients[i].fd = -1;
        svec_init(&clients[i].events);
    }
    for (int i = 1; i < argc; i++) {
        run_command(argv[i]);
    }
    return 0;
}
