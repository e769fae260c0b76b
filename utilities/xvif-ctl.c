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

/* xvif-ctl: the operator's view of ovs-vswitchd's xvif ports.
 *
 * A front end to the "xvif/..." unixctl commands of ovs-vswitchd (see
 * lib/xvif-appctl.c): it talks to the daemon as ovs-appctl does, renders
 * list and show as the daemon formats them, and computes the per-second
 * rates of "stats" and "watch" from two samples of "xvif/show-json".  See
 * xvif-ctl(8). */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command-line.h"
#include "daemon.h"
#include "dirs.h"
#include "jsonrpc.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

/* Command-line options. */
static const char *target = "ovs-vswitchd";
static unsigned int timeout;        /* Seconds per request, 0 for none. */
static bool format_json;
static double interval = 1.0;       /* Seconds, for stats and watch. */
static unsigned long long count;    /* Frames of watch, 0 for no limit. */

static struct jsonrpc *client;

/* Exit statuses. */
enum {
    EXIT_SERVER_ERROR = 2,          /* The daemon refused the request. */
};

OVS_NO_RETURN static void usage(void);

/* Connecting and talking to the daemon. */

/* Connects to 'target' as ovs-appctl does: a name is a daemon whose pidfile
 * is in the run directory, an absolute path is a control socket. */
static void
connect_to_target(void)
{
    char *socket_name;
    int error;

    if (target[0] != '/') {
        char *pidfile_name = xasprintf("%s/%s.pid", ovs_rundir(), target);
        pid_t pid = read_pidfile(pidfile_name);

        if (pid < 0) {
            ovs_error(-pid, "cannot read pidfile \"%s\"", pidfile_name);
            fprintf(stderr, "%s: is %s running? (use -t to choose another "
                    "daemon or control socket)\n", program_name, target);
            exit(EXIT_FAILURE);
        }
        free(pidfile_name);
        socket_name = xasprintf("%s/%s.%ld.ctl", ovs_rundir(), target,
                                (long int) pid);
    } else {
        socket_name = xstrdup(target);
    }

    error = unixctl_client_create(socket_name, &client);
    if (error) {
        ovs_error(error, "cannot connect to \"%s\"", socket_name);
        fprintf(stderr, "%s: is %s running?\n", program_name, target);
        exit(EXIT_FAILURE);
    }
    free(socket_name);
}

/* Runs unixctl command 'cmd' with up to one argument 'arg' and returns its
 * reply, which the caller must free.  Exits on any error. */
static char *
transact(const char *cmd, const char *arg)
{
    char *argv[1] = { CONST_CAST(char *, arg) };
    char *result, *error;
    int retval;

    if (!client) {
        connect_to_target();
    }
    if (timeout) {
        time_alarm(timeout);
    }
    retval = unixctl_client_transact(client, cmd, arg ? 1 : 0,
                                     arg ? argv : NULL, &result, &error);
    if (retval) {
        ovs_fatal(retval, "%s: transaction error", target);
    }
    if (error) {
        size_t len = strlen(error);

        while (len && error[len - 1] == '\n') {
            error[--len] = '\0';
        }
        fprintf(stderr, "%s: %s\n", program_name, error);
        if (strstr(error, "is not a valid command")) {
            fprintf(stderr, "%s: %s has no xvif commands: is it the "
                    "ovs-vswitchd built with the xvif provider?\n",
                    program_name, target);
        }
        exit(EXIT_SERVER_ERROR);
    }
    return result;
}

/* Returns the parsed reply of "xvif/show-json [port]". */
static struct json *
fetch(const char *port)
{
    char *reply = transact("xvif/show-json", port);
    struct json *json = json_from_string(reply);

    if (json->type != JSON_OBJECT) {
        ovs_fatal(0, "%s: bad reply to xvif/show-json: %s", target,
                  json->type == JSON_STRING ? json_string(json) : reply);
    }
    free(reply);
    return json;
}

/* JSON helpers. */

static const struct json *
get_member(const struct json *object, const char *name)
{
    return (object && object->type == JSON_OBJECT
            ? shash_find_data(json_object(object), name) : NULL);
}

static long long int
get_integer(const struct json *object, const char *name)
{
    const struct json *j = get_member(object, name);

    return j && j->type == JSON_INTEGER ? json_integer(j) : 0;
}

static const struct json_array *
get_ports(const struct json *sample)
{
    const struct json *ports = get_member(sample, "ports");

    if (!ports || ports->type != JSON_ARRAY) {
        ovs_fatal(0, "%s: reply to xvif/show-json lacks \"ports\"", target);
    }
    return json_array(ports);
}

/* Returns the port named 'name' in 'sample', or NULL. */
static const struct json *
find_port(const struct json *sample, const char *name)
{
    const struct json_array *ports = get_ports(sample);

    for (size_t i = 0; i < ports->n; i++) {
        const struct json *n = get_member(ports->elems[i], "name");

        if (n && n->type == JSON_STRING && !strcmp(json_string(n), name)) {
            return ports->elems[i];
        }
    }
    return NULL;
}

static void
print_json(const struct json *json, bool pretty)
{
    char *s = json_to_string(json, JSSF_SORT | (pretty ? JSSF_PRETTY : 0));

    puts(s);
    free(s);
}

/* Commands. */

static void
cmd_list(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    static const char *const keys[] = {
        "name", "type", "domid", "devid", "frontend_state", "backend_state",
        "carrier", "n_queues", "mtu", "mac",
    };
    struct json *sample, *out, *array;
    const struct json_array *ports;

    if (!format_json) {
        char *reply = transact("xvif/list", NULL);

        fputs(reply, stdout);
        free(reply);
        return;
    }

    sample = fetch(NULL);
    ports = get_ports(sample);
    out = json_object_create();
    array = json_array_create_empty();
    for (size_t i = 0; i < ports->n; i++) {
        struct json *port = json_object_create();

        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
            const struct json *v = get_member(ports->elems[i], keys[k]);

            json_object_put(port, keys[k],
                            v ? json_clone(v) : json_null_create());
        }
        json_array_add(array, port);
    }
    json_object_put(out, "ports", array);
    print_json(out, true);
    json_destroy(out);
    json_destroy(sample);
}

static void
cmd_show(int argc, char *argv[])
{
    const char *port = argc > 1 ? argv[1] : NULL;

    if (format_json) {
        struct json *sample = fetch(port);

        print_json(sample, true);
        json_destroy(sample);
    } else {
        char *reply = transact("xvif/show", port);

        fputs(reply, stdout);
        free(reply);
    }
}

/* Returns the per-second rate of counter 'name' of port 'now' since port
 * 'then', 'secs' seconds before, or NAN if unknown (no earlier sample, or
 * the counter went backwards: reset-stats). */
static double
rate(const struct json *now, const struct json *then, const char *name,
     double secs)
{
    long long int a, b;

    if (!then || secs <= 0) {
        return NAN;
    }
    a = get_integer(get_member(now, "stats"), name);
    b = get_integer(get_member(then, "stats"), name);
    return a >= b ? (a - b) / secs : NAN;
}

/* Counters that "stats" always shows, even when zero. */
static bool
always_shown(const char *name)
{
    return (!strcmp(name, "rx_packets") || !strcmp(name, "rx_bytes")
            || !strcmp(name, "tx_packets") || !strcmp(name, "tx_bytes")
            || !strcmp(name, "rx_dropped") || !strcmp(name, "tx_dropped")
            || !strcmp(name, "rx_errors"));
}

/* Prints the counters of 'now' with their rates since 'then' (NULL for
 * none). */
static void
print_stats(const struct json *now, const struct json *then)
{
    const struct json_array *ports = get_ports(now);
    double secs = (then
                   ? (get_integer(now, "time_msec")
                      - get_integer(then, "time_msec")) / 1000.0
                   : 0);

    if (format_json) {
        struct json *out = json_object_create();
        struct json *array = json_array_create_empty();

        json_object_put(out, "time_msec",
                        json_integer_create(get_integer(now, "time_msec")));
        json_object_put(out, "interval",
                        secs > 0 ? json_real_create(secs)
                                 : json_null_create());
        for (size_t i = 0; i < ports->n; i++) {
            const struct json *port = ports->elems[i];
            const struct json *name = get_member(port, "name");
            const struct json *prev = then ? find_port(then,
                                                       json_string(name))
                                           : NULL;
            const struct json *stats = get_member(port, "stats");
            struct json *p = json_object_create();
            struct json *rates = json_object_create();
            struct shash_node *node;

            SHASH_FOR_EACH (node, json_object(stats)) {
                double r = rate(port, prev, node->name, secs);

                json_object_put(rates, node->name,
                                isnan(r) ? json_null_create()
                                         : json_real_create(r));
            }
            json_object_put(p, "name", json_clone(name));
            json_object_put(p, "stats", json_clone(stats));
            json_object_put(p, "rates", rates);
            json_array_add(array, p);
        }
        json_object_put(out, "ports", array);
        print_json(out, false);
        json_destroy(out);
        return;
    }

    if (!ports->n) {
        printf("no xvif ports\n");
    }
    for (size_t i = 0; i < ports->n; i++) {
        const struct json *port = ports->elems[i];
        const char *name = json_string(get_member(port, "name"));
        const struct json *prev = then ? find_port(then, name) : NULL;
        const struct json *stats = get_member(port, "stats");
        const struct shash_node **nodes = shash_sort(json_object(stats));
        const struct json *carrier = get_member(port, "carrier");

        printf("%s: %s, %lld queue%s", name,
               carrier && carrier->type == JSON_TRUE ? "up" : "down",
               get_integer(port, "n_queues"),
               get_integer(port, "n_queues") == 1 ? "" : "s");
        if (secs > 0) {
            printf(", rates over %.2f s", secs);
        }
        printf("\n  %-26s %20s %14s\n", "COUNTER", "TOTAL", "PER SECOND");
        for (size_t k = 0; k < shash_count(json_object(stats)); k++) {
            const struct json *v = nodes[k]->data;
            long long int value = v->type == JSON_INTEGER ? json_integer(v)
                                                          : 0;
            double r = rate(port, prev, nodes[k]->name, secs);

            if (!value && !always_shown(nodes[k]->name)) {
                continue;
            }
            printf("  %-26s %20lld ", nodes[k]->name, value);
            if (isnan(r)) {
                printf("%14s\n", "-");
            } else {
                printf("%14.1f\n", r);
            }
        }
        free(nodes);
    }
}

/* Sleeps for 'interval' seconds. */
static void
sleep_interval(void)
{
    if (interval > 0) {
        xnanosleep((long long int) (interval * 1e9));
    }
}

static void
cmd_stats(int argc, char *argv[])
{
    const char *port = argc > 1 ? argv[1] : NULL;
    struct json *then = NULL, *now;

    if (interval > 0) {
        then = fetch(port);
        sleep_interval();
    }
    now = fetch(port);
    print_stats(now, then);
    json_destroy(then);
    json_destroy(now);
}

static void
cmd_watch(int argc, char *argv[])
{
    const char *port = argc > 1 ? argv[1] : NULL;
    bool tty = isatty(STDOUT_FILENO) && !format_json;
    struct json *then = fetch(port);

    for (unsigned long long i = 0; !count || i < count; i++) {
        struct json *now;

        sleep_interval();
        now = fetch(port);
        if (tty) {
            /* Home and clear, like top. */
            fputs("\033[H\033[2J", stdout);
        } else if (i && !format_json) {
            putchar('\n');
        }
        if (!format_json) {
            char buf[64];
            struct tm_msec tm;

            strftime_msec(buf, sizeof buf, "%Y-%m-%d %H:%M:%S",
                          localtime_msec(get_integer(now, "wall_msec"),
                                         &tm));
            printf("xvif-ctl watch: %s, every %.2f s%s\n\n", buf, interval,
                   tty ? " (Ctrl-C to quit)" : "");
        }
        print_stats(now, then);
        fflush(stdout);
        json_destroy(then);
        then = now;
    }
    json_destroy(then);
}

static void
cmd_reset_stats(int argc, char *argv[])
{
    free(transact("xvif/reset-stats", argc > 1 ? argv[1] : NULL));
    if (format_json) {
        printf("{}\n");
    }
}

static void
cmd_kick(int argc OVS_UNUSED, char *argv[])
{
    char *reply = transact("xvif/kick", argv[1]);

    if (format_json) {
        struct json *out = json_object_create();
        int n = 0;

        ovs_scan(reply, "kicked %d", &n);
        json_object_put(out, "kicked_queues", json_integer_create(n));
        print_json(out, false);
        json_destroy(out);
    } else {
        fputs(reply, stdout);
    }
    free(reply);
}

static void
cmd_help(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    usage();
}

struct command {
    const char *name;
    int min_args, max_args;
    void (*handler)(int argc, char *argv[]);
};

static const struct command commands[] = {
    { "list", 0, 0, cmd_list },
    { "show", 0, 1, cmd_show },
    { "stats", 0, 1, cmd_stats },
    { "watch", 0, 1, cmd_watch },
    { "reset-stats", 0, 1, cmd_reset_stats },
    { "kick", 1, 1, cmd_kick },
    { "help", 0, 0, cmd_help },
};

static void
usage(void)
{
    static const char *const lines[] = {
        "",
        "Commands:",
        "  list                 every xvif port: domain, device, xenbus",
        "                       states, carrier, queues, MTU, MAC",
        "  show [PORT]          rings, event channels, grant copies,",
        "                       features, errors and counters, per queue",
        "  stats [PORT]         counters and per-second rates over --interval",
        "  watch [PORT]         stats, refreshed every --interval, like top",
        "  reset-stats [PORT]   start the counters shown here from zero",
        "  kick PORT            notify the guest on every event channel",
        "",
        "Options:",
        "  -t, --target=TARGET  daemon name or control socket (default:",
        "                       ovs-vswitchd)",
        "  -T, --timeout=SECS   give up after SECS seconds per request",
        "  -f, --format=FORMAT  text (default) or json",
        "  -i, --interval=SECS  sampling interval of stats and watch",
        "                       (default 1)",
        "  -n, --count=N        stop watch after N refreshes",
        "  -h, --help           display this help message",
        "  -V, --version        display version information",
        "",
        "Exit status: 0 on success, 1 if the daemon cannot be reached or",
        "the command line is wrong, 2 if the daemon refused the request",
        "(for example an unknown port).",
    };

    printf("%s: the xvif ports of ovs-vswitchd (Xen netif backends)\n"
           "usage: %s [OPTIONS] COMMAND [ARG...]\n",
           program_name, program_name);
    for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
        puts(lines[i]);
    }
    exit(EXIT_SUCCESS);
}

static void
parse_options(int argc, char *argv[])
{
    static const struct option long_options[] = {
        {"target", required_argument, NULL, 't'},
        {"timeout", required_argument, NULL, 'T'},
        {"format", required_argument, NULL, 'f'},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(
        long_options);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        char *end;

        if (c == -1) {
            break;
        }
        switch (c) {
        case 't':
            target = optarg;
            break;

        case 'T':
            if (!str_to_uint(optarg, 10, &timeout) || !timeout) {
                ovs_fatal(0, "value %s on -T or --timeout is invalid",
                          optarg);
            }
            break;

        case 'f':
            if (!strcmp(optarg, "json")) {
                format_json = true;
            } else if (!strcmp(optarg, "text")) {
                format_json = false;
            } else {
                ovs_fatal(0, "unknown format \"%s\" (use text or json)",
                          optarg);
            }
            break;

        case 'i':
            errno = 0;
            interval = strtod(optarg, &end);
            if (errno || *end || !(interval >= 0) || interval > 86400) {
                ovs_fatal(0, "value %s on -i or --interval is invalid",
                          optarg);
            }
            break;

        case 'n':
            if (!str_to_ullong(optarg, 10, &count) || !count) {
                ovs_fatal(0, "value %s on -n or --count is invalid", optarg);
            }
            break;

        case 'h':
            usage();

        case 'V':
            printf("%s (xvif) %s, Open vSwitch %s\n", program_name,
                   XVIF_VERSION, VERSION);
            exit(EXIT_SUCCESS);

        case '?':
            exit(EXIT_FAILURE);

        default:
            OVS_NOT_REACHED();
        }
    }
    free(short_options);
    if (!timeout) {
        /* OVS_CTL_TIMEOUT, as for the other OVS control utilities. */
        const char *env = getenv("OVS_CTL_TIMEOUT");

        if (env && env[0]) {
            str_to_uint(env, 10, &timeout);
        }
    }
}

int
main(int argc, char *argv[])
{
    const struct command *cmd = NULL;
    int n_args;

    set_program_name(argv[0]);
    /* The library logs failures (a missing pidfile, a refused connection)
     * that the messages of this program explain better. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    parse_options(argc, argv);

    if (optind >= argc) {
        ovs_fatal(0, "missing command name (use --help for help)");
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].name, argv[optind])) {
            cmd = &commands[i];
        }
    }
    if (!cmd) {
        ovs_fatal(0, "unknown command \"%s\" (use --help for help)",
                  argv[optind]);
    }
    n_args = argc - optind - 1;
    if (n_args < cmd->min_args || n_args > cmd->max_args) {
        ovs_fatal(0, "\"%s\" takes %s%d argument%s", cmd->name,
                  cmd->min_args == cmd->max_args ? "" : "at most ",
                  cmd->max_args, cmd->max_args == 1 ? "" : "s");
    }
    cmd->handler(argc - optind, argv + optind);
    if (client) {
        jsonrpc_close(client);
    }
    return 0;
}
