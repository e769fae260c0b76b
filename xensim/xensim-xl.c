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

/* xensim-xl: the simulated host's toolstack.  It plays libxl's part towards
 * xenstore and the backend: it creates and destroys domains (the domain file
 * of xensim.c plus the xenstore entries libxl writes) and attaches and
 * detaches vifs with libxl's xenstore layout, permissions, waits and
 * hotplug-script invocation.  See Documentation/topics/xensim.rst. */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include "command-line.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "process.h"
#include "random.h"
#include "timeval.h"
#include "util.h"
#include "xensim/xensim.h"

VLOG_DEFINE_THIS_MODULE(xensim_xl);

#define LOCAL_DOMAIN "/local/domain"
#define VM_ROOT "/vm"
#define LIBXL_ROOT "/libxl"

/* libxl's limits: LIBXL_INIT_TIMEOUT and LIBXL_DESTROY_TIMEOUT for the
 * backend's state changes, LIBXL_HOTPLUG_TIMEOUT for the script. */
static int backend_timeout = 10;
static int hotplug_timeout = 40;

/* The simulation directory (--dir, else $XVIF_SIM_DIR). */
static const char *sim_dir;

/* Xenbus states. */
enum {
    XB_INITIALISING = 1,
    XB_INITWAIT = 2,
    XB_CONNECTED = 4,
    XB_CLOSING = 5,
    XB_CLOSED = 6,
};

static void usage(void) OVS_NO_RETURN;

static void
usage(void)
{
    printf("%s: the simulated Xen host's toolstack\n"
           "usage: %s [OPTIONS] COMMAND [ARG...]\n"
           "\nCommands:\n"
           "  create DOMID [--name=NAME] [--pages=N]\n"
           "  destroy DOMID\n"
           "  list\n"
           "  network-attach DOMID [devid=N] [mac=MAC] [bridge=BR] "
           "[script=PATH]\n"
           "                 [mtu=N] [rate=RATE] [ip=IP] [vifname=NAME]\n"
           "  network-detach DOMID DEVID\n"
           "  network-list DOMID\n"
           "\nOptions:\n"
           "  --dir=DIR          simulation directory "
           "(default: $XVIF_SIM_DIR)\n"
           "  --timeout=SECS     wait for the backend this long "
           "(default: 10)\n"
           "  -h, --help         display this help message\n"
           "\nxenstored is reached as by libxenstore (XENSTORED_PATH).\n",
           program_name, program_name);
    vlog_usage();
    exit(EXIT_SUCCESS);
}

static void
parse_options(int argc, char *argv[])
{
    enum {
        OPT_DIR = UCHAR_MAX + 1,
        OPT_TIMEOUT,
        VLOG_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        {"dir", required_argument, NULL, OPT_DIR},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, 'h'},
        VLOG_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char *tmp = ovs_cmdl_long_options_to_short_options(long_options);

    /* '+': stop at the first non-option, so that "create DOMID --name=X"
     * leaves the command's own options alone. */
    char *short_options = xasprintf("+%s", tmp);
    free(tmp);

    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_DIR:
            sim_dir = optarg;
            break;
        case OPT_TIMEOUT:
            backend_timeout = atoi(optarg);
            if (backend_timeout <= 0) {
                ovs_fatal(0, "--timeout: positive number of seconds expected");
            }
            break;
        case 'h':
            usage();
        VLOG_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            OVS_NOT_REACHED();
        }
    }
    free(short_options);

    if (!sim_dir) {
        sim_dir = getenv("XVIF_SIM_DIR");
    }
}

/* Helpers. */

static const char *
need_dir(void)
{
    if (!sim_dir || !sim_dir[0]) {
        ovs_fatal(0, "no simulation directory (set XVIF_SIM_DIR or use "
                  "--dir)");
    }
    return sim_dir;
}

static struct xs_handle *
xs_connect(void)
{
    struct xs_handle *h = xs_open(0);
    if (!h) {
        const char *path = getenv("XENSTORED_PATH");
        ovs_fatal(errno, "cannot connect to xenstored%s%s",
                  path ? " at " : "", path ? path : "");
    }
    return h;
}

static uint16_t
parse_domid(const char *s)
{
    unsigned int domid;
    int n;

    if (sscanf(s, "%u%n", &domid, &n) != 1 || s[n] || domid == 0
        || domid > XENSIM_MAX_DOMID) {
        ovs_fatal(0, "%s: invalid domain id (1 to %d expected)", s,
                  XENSIM_MAX_DOMID);
    }
    return domid;
}

static unsigned int
parse_uint(const char *name, const char *s, unsigned int max)
{
    unsigned int v;
    int n;

    if (sscanf(s, "%u%n", &v, &n) != 1 || s[n] || v > max) {
        ovs_fatal(0, "%s=%s: invalid value", name, s);
    }
    return v;
}

/* Reads 'path' into a malloc()ed string, or NULL. */
static char *
xs_get(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    unsigned int len;
    return xs_read(h, t, path, &len);
}

static bool
xs_exists(struct xs_handle *h, const char *path)
{
    char *v = xs_get(h, XBT_NULL, path);
    bool exists = v != NULL;
    free(v);
    return exists;
}

static void
xs_put(struct xs_handle *h, xs_transaction_t t, const char *path,
       const char *value)
{
    if (!xs_write(h, t, path, value, strlen(value))) {
        ovs_fatal(errno, "%s: write failed", path);
    }
}

static void
xs_putf(struct xs_handle *h, xs_transaction_t t, const char *dir,
        const char *key, const char *format, ...)
    OVS_PRINTF_FORMAT(5, 6);

static void
xs_putf(struct xs_handle *h, xs_transaction_t t, const char *dir,
        const char *key, const char *format, ...)
{
    char *path = xasprintf("%s/%s", dir, key);
    va_list args;

    va_start(args, format);
    char *value = xvasprintf(format, args);
    va_end(args);
    xs_put(h, t, path, value);
    free(value);
    free(path);
}

/* Creates node 'path' (removing anything there first) with owner 'owner'
 * and read access for 'reader' (none if 'reader' is negative). */
static void
xs_mknod(struct xs_handle *h, xs_transaction_t t, const char *path,
         unsigned int owner, int reader)
{
    struct xs_permissions perms[2] = {
        { .id = owner, .perms = XS_PERM_NONE },
        { .id = reader, .perms = XS_PERM_READ },
    };

    xs_rm(h, t, path);
    if (!xs_mkdir(h, t, path)
        || !xs_set_permissions(h, t, path, perms, reader >= 0 ? 2 : 1)) {
        ovs_fatal(errno, "%s: cannot create", path);
    }
}

static void
xs_mknodf(struct xs_handle *h, xs_transaction_t t, unsigned int owner,
          int reader, const char *format, ...)
    OVS_PRINTF_FORMAT(5, 6);

static void
xs_mknodf(struct xs_handle *h, xs_transaction_t t, unsigned int owner,
          int reader, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    char *path = xvasprintf(format, args);
    va_end(args);
    xs_mknod(h, t, path, owner, reader);
    free(path);
}

/* Ends transaction 't'.  Returns false if it must be retried. */
static bool
xs_commit(struct xs_handle *h, xs_transaction_t t, const char *what)
{
    if (xs_transaction_end(h, t, false)) {
        return true;
    } else if (errno == EAGAIN) {
        return false;
    }
    ovs_fatal(errno, "%s: xenstore transaction failed", what);
}

static xs_transaction_t
xs_begin(struct xs_handle *h)
{
    xs_transaction_t t = xs_transaction_start(h);
    if (t == XBT_NULL) {
        ovs_fatal(errno, "cannot start a xenstore transaction");
    }
    return t;
}

static int
xs_read_int(struct xs_handle *h, const char *path, int dflt)
{
    char *v = xs_get(h, XBT_NULL, path);
    int value = v ? atoi(v) : dflt;

    free(v);
    return value;
}

/* Waits up to 'timeout' seconds for the integer at 'path' to equal
 * 'wanted', using a xenstore watch.  Returns true if it did, false if the
 * time ran out; '*last' receives the last value seen (-1: none). */
static bool
wait_for_value(struct xs_handle *h, const char *path, int wanted,
               int timeout, int *last)
{
    long long int deadline = time_msec() + timeout * 1000LL;
    bool ok = false;

    if (!xs_watch(h, path, "xensim-xl")) {
        ovs_fatal(errno, "%s: cannot watch", path);
    }
    for (;;) {
        *last = xs_read_int(h, path, -1);
        if (*last == wanted) {
            ok = true;
            break;
        }

        long long int now = time_msec();
        if (now >= deadline) {
            break;
        }
        struct pollfd pfd = { .fd = xs_fileno(h), .events = POLLIN };
        poll(&pfd, 1, MIN(deadline - now, 1000));

        char **event;
        while ((event = xs_check_watch(h)) != NULL) {
            free(event);
        }
    }
    xs_unwatch(h, path, "xensim-xl");
    return ok;
}

/* Runs hotplug script 'script' with 'action' ("online" or "offline") for
 * vif 'domid'/'devid' with libxl's arguments and environment, and waits up
 * to 'hotplug_timeout' seconds for it.  Returns true if it exited with
 * status 0. */
static bool
run_hotplug(const char *script, const char *action, uint16_t domid,
            unsigned int devid, const char *vifname, const char *gatewaydev)
{
    char *xenbus_path = xasprintf("backend/vif/%"PRIu16"/%u", domid, devid);
    char *vif = (vifname && vifname[0]
                 ? xstrdup(vifname)
                 : xasprintf("vif%"PRIu16".%u", domid, devid));

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        ovs_fatal(errno, "fork");
    } else if (!pid) {
        setenv("script", script, 1);
        setenv("XENBUS_TYPE", "vif", 1);
        setenv("XENBUS_PATH", xenbus_path, 1);
        setenv("XENBUS_BASE_PATH", "backend", 1);
        setenv("netdev", gatewaydev ? gatewaydev : "", 1);
        setenv("vif", vif, 1);
        execl(script, script, action, "type_if=vif", (char *) NULL);
        fprintf(stderr, "%s: %s: exec failed (%s)\n", program_name, script,
                ovs_strerror(errno));
        _exit(127);
    }

    long long int deadline = time_msec() + hotplug_timeout * 1000LL;
    bool ok = false;
    for (;;) {
        int status;
        pid_t ret = waitpid(pid, &status, WNOHANG);
        if (ret == pid) {
            if (WIFEXITED(status) && !WEXITSTATUS(status)) {
                ok = true;
            } else {
                char *s = process_status_msg(status);
                VLOG_INFO("%s %s: %s", script, action, s);
                fprintf(stderr, "%s: hotplug script %s %s: %s\n",
                        program_name, script, action, s);
                free(s);
            }
            break;
        } else if (ret < 0 && errno != EINTR) {
            ovs_fatal(errno, "waitpid");
        }
        if (time_msec() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "%s: hotplug script %s %s: timed out after %d "
                    "s, killed\n", program_name, script, action,
                    hotplug_timeout);
            break;
        }
        xnanosleep(10 * 1000 * 1000);
    }
    free(vif);
    free(xenbus_path);
    return ok;
}

static char *
backend_path(uint16_t domid, unsigned int devid)
{
    return xasprintf(LOCAL_DOMAIN "/0/backend/vif/%"PRIu16"/%u", domid,
                     devid);
}

static char *
frontend_path(uint16_t domid, unsigned int devid)
{
    return xasprintf(LOCAL_DOMAIN "/%"PRIu16"/device/vif/%u", domid, devid);
}

/* Converts a rate in xl's syntax, "<N><unit>/s[@<interval>]" (units B, K, M,
 * G for bytes, b, Kb, Mb, Gb for bits; interval with us, ms or s, default
 * 50ms), into the backend's "<bytes per interval>,<interval in us>".  A rate
 * already in that form is kept. */
static char *
parse_rate(const char *s)
{
    if (strchr(s, ',')) {
        return xstrdup(s);
    }

    char *end;
    double amount = strtod(s, &end);
    if (end == s || amount <= 0) {
        ovs_fatal(0, "rate=%s: invalid rate", s);
    }

    double mult = 1;
    bool bits = false;
    if (*end == 'K' || *end == 'k') {
        mult = 1e3;
        end++;
    } else if (*end == 'M') {
        mult = 1e6;
        end++;
    } else if (*end == 'G') {
        mult = 1e9;
        end++;
    }
    if (*end == 'b') {
        bits = true;
        end++;
    } else if (*end == 'B') {
        end++;
    }
    if (strncmp(end, "/s", 2)) {
        ovs_fatal(0, "rate=%s: invalid rate (e.g. 10Mb/s@20ms)", s);
    }
    end += 2;

    double interval_us = 50000;
    if (*end == '@') {
        char *unit;
        double v = strtod(end + 1, &unit);
        if (!strcmp(unit, "us")) {
            interval_us = v;
        } else if (!strcmp(unit, "ms")) {
            interval_us = v * 1e3;
        } else if (!strcmp(unit, "s") || !*unit) {
            interval_us = v * 1e6;
        } else {
            ovs_fatal(0, "rate=%s: invalid interval", s);
        }
        if (interval_us < 1 || interval_us > UINT32_MAX) {
            ovs_fatal(0, "rate=%s: invalid interval", s);
        }
    } else if (*end) {
        ovs_fatal(0, "rate=%s: invalid rate", s);
    }

    double bytes_per_s = amount * mult / (bits ? 8 : 1);
    uint64_t bytes = bytes_per_s * interval_us / 1e6;
    if (!bytes) {
        ovs_fatal(0, "rate=%s: rate too low for the interval", s);
    }
    return xasprintf("%"PRIu64",%"PRIu32, bytes, (uint32_t) interval_us);
}

static bool
is_mac(const char *s)
{
    unsigned int b[6];
    int n;

    return (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2],
                   &b[3], &b[4], &b[5], &n) == 6 && n == 17 && !s[n]);
}

/* create. */

static void
cmd_create(struct ovs_cmdl_context *ctx)
{
    const char *dir = need_dir();
    uint16_t domid = parse_domid(ctx->argv[1]);
    char *name = NULL;
    uint32_t pages = XENSIM_DEFAULT_PAGES;

    for (int i = 2; i < ctx->argc; i++) {
        const char *a = ctx->argv[i];
        if (!strncmp(a, "--name=", 7) || !strncmp(a, "name=", 5)) {
            name = xstrdup(strchr(a, '=') + 1);
        } else if (!strncmp(a, "--pages=", 8) || !strncmp(a, "pages=", 6)) {
            pages = parse_uint("pages", strchr(a, '=') + 1, 1 << 22);
        } else {
            ovs_fatal(0, "create: unknown argument \"%s\"", a);
        }
    }
    if (!name) {
        name = xasprintf("domu%"PRIu16, domid);
    }

    struct xs_handle *h = xs_connect();
    char *dom_path = xasprintf(LOCAL_DOMAIN "/%"PRIu16, domid);
    if (xs_exists(h, dom_path)) {
        ovs_fatal(0, "domain %"PRIu16" already exists in xenstore",
                  domid);
    }

    int error = xensim_domain_create(dir, domid, pages);
    if (error == EEXIST) {
        ovs_fatal(0, "domain %"PRIu16" already exists", domid);
    } else if (error) {
        ovs_fatal(error, "cannot create domain %"PRIu16, domid);
    }

    /* The same UUID for the same domid and name is good enough here. */
    uint32_t r1 = random_uint32(), r2 = random_uint32();
    char *uuid = xasprintf("%08"PRIx32"-%04"PRIx32"-4%03"PRIx32"-a%03"PRIx32
                           "-%04"PRIx16"%08"PRIx32, r1, r2 >> 16,
                           r2 & 0xfff, (r1 >> 4) & 0xfff, domid, r2);
    char *vm_path = xasprintf(VM_ROOT "/%s", uuid);
    char *libxl_path = xasprintf(LIBXL_ROOT "/%"PRIu16, domid);

    /* libxl__domain_make(): the domain's directory and /vm are owned by
     * dom0 and readable by the domain; the subdirectories the guest writes
     * are owned by it. */
    xs_transaction_t t;
    do {
        t = xs_begin(h);
        xs_mknod(h, t, dom_path, 0, domid);
        xs_mknod(h, t, vm_path, 0, domid);
        xs_mknod(h, t, libxl_path, 0, -1);
        xs_mknodf(h, t, 0, -1, "%s/device", libxl_path);
        xs_mknodf(h, t, 0, domid, "%s/device", dom_path);
        xs_mknodf(h, t, 0, domid, "%s/control", dom_path);
        static const char *const rw_dirs[] = {
            "control/shutdown", "control/feature-poweroff",
            "control/feature-reboot", "control/feature-suspend",
            "control/sysrq", "device/suspend/event-channel", "data",
            "drivers", "feature", "attr", "error",
        };
        for (size_t i = 0; i < ARRAY_SIZE(rw_dirs); i++) {
            xs_mknodf(h, t, domid, -1, "%s/%s", dom_path, rw_dirs[i]);
        }
        xs_putf(h, t, dom_path, "vm", "%s", vm_path);
        xs_putf(h, t, dom_path, "name", "%s", name);
        xs_putf(h, t, dom_path, "domid", "%"PRIu16, domid);
        xs_putf(h, t, dom_path, "memory/static-max", "%"PRIu32, pages * 4);
        xs_putf(h, t, dom_path, "memory/target", "%"PRIu32, pages * 4);
        xs_putf(h, t, dom_path, "control/platform-feature-multiprocessor-"
                "suspend", "1");
        xs_putf(h, t, dom_path, "control/platform-feature-xs_reset_watches",
                "1");
        xs_putf(h, t, vm_path, "uuid", "%s", uuid);
        xs_putf(h, t, vm_path, "name", "%s", name);
        xs_putf(h, t, libxl_path, "type", "pv");
    } while (!xs_commit(h, t, "create"));

    if (!xs_introduce_domain(h, domid, 0, 0)) {
        error = errno;
        xs_rm(h, XBT_NULL, dom_path);
        xs_rm(h, XBT_NULL, vm_path);
        xs_rm(h, XBT_NULL, libxl_path);
        xensim_domain_destroy(dir, domid);
        ovs_fatal(error, "domain %"PRIu16": xenstored refused to introduce "
                  "it", domid);
    }
    VLOG_INFO("created domain %"PRIu16" (%s), %"PRIu32" pages", domid, name,
              pages);

    free(libxl_path);
    free(vm_path);
    free(uuid);
    free(dom_path);
    free(name);
    xs_close(h);
}

/* network-attach. */

static unsigned int
next_devid(struct xs_handle *h, uint16_t domid)
{
    char *path = xasprintf(LOCAL_DOMAIN "/%"PRIu16"/device/vif", domid);
    unsigned int n, next = 0;
    char **list = xs_directory(h, XBT_NULL, path, &n);

    for (unsigned int i = 0; list && i < n; i++) {
        unsigned int id = atoi(list[i]);
        next = MAX(next, id + 1);
    }
    free(list);
    free(path);
    return next;
}

static void
cmd_network_attach(struct ovs_cmdl_context *ctx)
{
    uint16_t domid = parse_domid(ctx->argv[1]);
    int devid = -1;
    char *mac = NULL, *rate = NULL;
    const char *bridge = "xenbr0", *script = NULL, *ip = NULL;
    const char *vifname = NULL;
    unsigned int mtu = 1500;
    bool has_mtu = false;

    for (int i = 2; i < ctx->argc; i++) {
        char *a = ctx->argv[i];
        char *eq = strchr(a, '=');
        if (!eq) {
            ovs_fatal(0, "network-attach: \"%s\": KEY=VALUE expected", a);
        }
        *eq = '\0';
        const char *key = a, *value = eq + 1;
        if (!strcmp(key, "devid")) {
            devid = parse_uint(key, value, 0xffff);
        } else if (!strcmp(key, "mac")) {
            if (!is_mac(value)) {
                ovs_fatal(0, "mac=%s: invalid MAC address", value);
            }
            mac = xstrdup(value);
        } else if (!strcmp(key, "bridge")) {
            bridge = value;
        } else if (!strcmp(key, "script")) {
            if (value[0] != '/') {
                ovs_fatal(0, "script=%s: absolute path expected", value);
            }
            script = value;
        } else if (!strcmp(key, "mtu")) {
            mtu = parse_uint(key, value, 65535);
            if (mtu < 68) {
                ovs_fatal(0, "mtu=%s: invalid MTU", value);
            }
            has_mtu = true;
        } else if (!strcmp(key, "rate")) {
            rate = parse_rate(value);
        } else if (!strcmp(key, "ip")) {
            ip = value;
        } else if (!strcmp(key, "vifname")) {
            vifname = value;
        } else {
            ovs_fatal(0, "network-attach: unknown key \"%s\"", key);
        }
    }

    struct xs_handle *h = xs_connect();
    char *dom_path = xasprintf(LOCAL_DOMAIN "/%"PRIu16, domid);
    if (!xs_exists(h, dom_path)) {
        ovs_fatal(0, "domain %"PRIu16" does not exist", domid);
    }
    if (devid < 0) {
        devid = next_devid(h, domid);
    }
    if (!mac) {
        uint32_t r = random_uint32();
        mac = xasprintf("00:16:3e:%02"PRIx32":%02"PRIx32":%02"PRIx32,
                        (r >> 16) & 0x7f, (r >> 8) & 0xff, r & 0xff);
    }

    char *be = backend_path(domid, devid);
    char *fe = frontend_path(domid, devid);
    char *libxl_path = xasprintf(LIBXL_ROOT "/%"PRIu16"/device/vif/%d", domid,
                                 devid);
    if (xs_exists(h, be) || xs_exists(h, fe)) {
        ovs_fatal(0, "vif %"PRIu16"/%d already exists", domid, devid);
    }

    /* libxl__device_generic_add(): both directories in one transaction.  The
     * frontend is the guest's, readable by the backend; the backend is
     * dom0's, readable by the guest; the frontend's mtu is dom0's,
     * read-only for the guest. */
    xs_transaction_t t;
    do {
        t = xs_begin(h);
        xs_mknod(h, t, libxl_path, 0, -1);
        xs_putf(h, t, libxl_path, "frontend", "%s", fe);
        xs_putf(h, t, libxl_path, "backend", "%s", be);

        xs_mknod(h, t, fe, domid, 0);
        xs_putf(h, t, fe, "backend", "%s", be);
        xs_putf(h, t, fe, "backend-id", "0");
        xs_putf(h, t, fe, "state", "%d", XB_INITIALISING);
        xs_putf(h, t, fe, "handle", "%d", devid);
        xs_putf(h, t, fe, "mac", "%s", mac);
        xs_putf(h, t, fe, "trusted", "1");
        char *mtu_path = xasprintf("%s/mtu", fe);
        struct xs_permissions ro[2] = {
            { .id = 0, .perms = XS_PERM_NONE },
            { .id = domid, .perms = XS_PERM_READ },
        };
        xs_putf(h, t, fe, "mtu", "%u", mtu);
        if (!xs_set_permissions(h, t, mtu_path, ro, 2)) {
            ovs_fatal(errno, "%s: cannot set permissions", mtu_path);
        }
        free(mtu_path);

        xs_mknod(h, t, be, 0, domid);
        xs_putf(h, t, be, "frontend", "%s", fe);
        xs_putf(h, t, be, "frontend-id", "%"PRIu16, domid);
        xs_putf(h, t, be, "online", "1");
        xs_putf(h, t, be, "state", "%d", XB_INITIALISING);
        if (script) {
            xs_putf(h, t, be, "script", "%s", script);
        }
        xs_putf(h, t, be, "mac", "%s", mac);
        if (ip) {
            xs_putf(h, t, be, "ip", "%s", ip);
        }
        xs_putf(h, t, be, "bridge", "%s", bridge);
        xs_putf(h, t, be, "handle", "%d", devid);
        xs_putf(h, t, be, "type", "vif");
        if (has_mtu && mtu != 1500) {
            xs_putf(h, t, be, "mtu", "%u", mtu);
        }
        if (vifname) {
            xs_putf(h, t, be, "vifname", "%s", vifname);
        }
        if (rate) {
            xs_putf(h, t, be, "rate", "%s", rate);
        }
        if (script) {
            xs_putf(h, t, be, "hotplug-status", "%s", "");
        }
    } while (!xs_commit(h, t, "network-attach"));

    /* Like libxl, wait for the backend to reach InitWait. */
    char *state_path = xasprintf("%s/state", be);
    int state;
    if (!wait_for_value(h, state_path, XB_INITWAIT, backend_timeout,
                        &state)) {
        ovs_fatal(0, "vif %"PRIu16"/%d: backend %s did not reach InitWait "
                  "(state 2) within %d s (state is %d); is a backend "
                  "(ovs-vswitchd with xvif) running?", domid, devid, be,
                  backend_timeout, state);
    }

    if (script) {
        bool ok = run_hotplug(script, "online", domid, devid, vifname, NULL);
        char *status_path = xasprintf("%s/hotplug-status", be);
        char *status = xs_get(h, XBT_NULL, status_path);
        if (status && !strcmp(status, "error")) {
            ok = false;
        }
        if (!ok) {
            char *err_path = xasprintf("%s/hotplug-error", be);
            char *err = xs_get(h, XBT_NULL, err_path);
            ovs_fatal(0, "vif %"PRIu16"/%d: hotplug script %s failed "
                      "(hotplug-status %s)%s%s", domid, devid, script,
                      status ? status : "missing",
                      err ? ": " : "", err ? err : "");
        }
        free(status);
        free(status_path);
    }
    VLOG_INFO("attached vif %"PRIu16"/%d, mac %s", domid, devid, mac);

    free(state_path);
    free(libxl_path);
    free(fe);
    free(be);
    free(mac);
    free(rate);
    free(dom_path);
    xs_close(h);
}

/* network-detach. */

/* Detaches vif 'domid'/'devid' as libxl does: online=0 and Closing, wait for
 * Closed (forcing the removal if the backend does not answer), the
 * "offline" hotplug script, then the directories go.  Returns false if the
 * script failed. */
static bool
detach_vif(struct xs_handle *h, uint16_t domid, unsigned int devid)
{
    char *be = backend_path(domid, devid);
    char *fe = frontend_path(domid, devid);
    char *libxl_path = xasprintf(LIBXL_ROOT "/%"PRIu16"/device/vif/%u", domid,
                                 devid);
    char *state_path = xasprintf("%s/state", be);
    char *online_path = xasprintf("%s/online", be);
    char *script_path = xasprintf("%s/script", be);
    char *vifname_path = xasprintf("%s/vifname", be);
    bool ok = true;

    xs_transaction_t t;
    do {
        t = xs_begin(h);
        char *state = xs_get(h, t, state_path);
        if (!state) {
            xs_transaction_end(h, t, true);
            ovs_fatal(0, "vif %"PRIu16"/%u does not exist", domid, devid);
        }
        xs_put(h, t, online_path, "0");
        if (atoi(state) != XB_CLOSED) {
            xs_put(h, t, state_path, "5");
        }
        free(state);
    } while (!xs_commit(h, t, "network-detach"));

    int state;
    if (!wait_for_value(h, state_path, XB_CLOSED, backend_timeout, &state)) {
        VLOG_INFO("vif %"PRIu16"/%u: backend still in state %d after %d s, "
                  "forcing the removal", domid, devid, state,
                  backend_timeout);
        fprintf(stderr, "%s: vif %"PRIu16"/%u: backend did not close "
                "within %d s (state %d), removing it anyway\n",
                program_name, domid, devid, backend_timeout, state);
    }

    char *script = xs_get(h, XBT_NULL, script_path);
    if (script && script[0]) {
        char *vifname = xs_get(h, XBT_NULL, vifname_path);
        ok = run_hotplug(script, "offline", domid, devid, vifname, NULL);
        free(vifname);
    }
    free(script);

    do {
        t = xs_begin(h);
        xs_rm(h, t, be);
        xs_rm(h, t, fe);
        xs_rm(h, t, libxl_path);
    } while (!xs_commit(h, t, "network-detach"));

    /* Remove the per-domain backend directory once it is empty, as libxl
     * does. */
    char *parent = xasprintf(LOCAL_DOMAIN "/0/backend/vif/%"PRIu16, domid);
    unsigned int n;
    char **list = xs_directory(h, XBT_NULL, parent, &n);
    if (list && !n) {
        xs_rm(h, XBT_NULL, parent);
    }
    free(list);
    free(parent);

    VLOG_INFO("detached vif %"PRIu16"/%u", domid, devid);
    free(vifname_path);
    free(script_path);
    free(online_path);
    free(state_path);
    free(libxl_path);
    free(fe);
    free(be);
    return ok;
}

static void
cmd_network_detach(struct ovs_cmdl_context *ctx)
{
    uint16_t domid = parse_domid(ctx->argv[1]);
    unsigned int devid = parse_uint("devid", ctx->argv[2], 0xffff);
    struct xs_handle *h = xs_connect();

    bool ok = detach_vif(h, domid, devid);
    xs_close(h);
    if (!ok) {
        exit(EXIT_FAILURE);
    }
}

static void
cmd_network_list(struct ovs_cmdl_context *ctx)
{
    uint16_t domid = parse_domid(ctx->argv[1]);
    struct xs_handle *h = xs_connect();
    char *path = xasprintf(LOCAL_DOMAIN "/0/backend/vif/%"PRIu16, domid);
    unsigned int n;
    char **list = xs_directory(h, XBT_NULL, path, &n);

    printf("Idx BE Mac Addr.         state online hotplug-status\n");
    for (unsigned int i = 0; list && i < n; i++) {
        char *be = xasprintf("%s/%s", path, list[i]);
        char *p_mac = xasprintf("%s/mac", be);
        char *p_hs = xasprintf("%s/hotplug-status", be);
        char *p_state = xasprintf("%s/state", be);
        char *p_online = xasprintf("%s/online", be);
        char *mac = xs_get(h, XBT_NULL, p_mac);
        char *hs = xs_get(h, XBT_NULL, p_hs);
        char *state = xs_get(h, XBT_NULL, p_state);
        char *online = xs_get(h, XBT_NULL, p_online);

        printf("%-3s 0  %-17s %-5s %-6s %s\n", list[i], mac ? mac : "-",
               state ? state : "-", online ? online : "-",
               hs ? hs : "-");
        free(online);
        free(state);
        free(hs);
        free(mac);
        free(p_online);
        free(p_state);
        free(p_hs);
        free(p_mac);
        free(be);
    }
    free(list);
    free(path);
    xs_close(h);
}

/* destroy. */

static void
cmd_destroy(struct ovs_cmdl_context *ctx)
{
    const char *dir = need_dir();
    uint16_t domid = parse_domid(ctx->argv[1]);
    struct xs_handle *h = xs_connect();
    char *dom_path = xasprintf(LOCAL_DOMAIN "/%"PRIu16, domid);
    char *be_dir = xasprintf(LOCAL_DOMAIN "/0/backend/vif/%"PRIu16, domid);
    bool ok = true;

    struct xensim_domain *d;
    int error = xensim_domain_open(dir, domid, &d);
    if (error == ENOENT && !xs_exists(h, dom_path)) {
        ovs_fatal(0, "domain %"PRIu16" does not exist", domid);
    }
    if (!error) {
        xensim_domain_close(d);
    }

    unsigned int n;
    char **list = xs_directory(h, XBT_NULL, be_dir, &n);
    for (unsigned int i = 0; list && i < n; i++) {
        ok = detach_vif(h, domid, atoi(list[i])) && ok;
    }
    free(list);

    char *vm_path_key = xasprintf("%s/vm", dom_path);
    char *vm_path = xs_get(h, XBT_NULL, vm_path_key);
    char *libxl_path = xasprintf(LIBXL_ROOT "/%"PRIu16, domid);
    xs_transaction_t t;
    do {
        t = xs_begin(h);
        xs_rm(h, t, dom_path);
        xs_rm(h, t, libxl_path);
        xs_rm(h, t, be_dir);
        if (vm_path && !strncmp(vm_path, "/vm/", 4)) {
            xs_rm(h, t, vm_path);
        }
    } while (!xs_commit(h, t, "destroy"));

    /* Xen would tell xenstored through VIRQ_DOM_EXC; the simulation has no
     * virtual IRQs, so the toolstack does it. */
    if (!xs_release_domain(h, domid) && errno != ENOENT) {
        VLOG_WARN("domain %"PRIu16": xenstored release failed (%s)", domid,
                  ovs_strerror(errno));
    }

    error = xensim_domain_destroy(dir, domid);
    if (error && error != ENOENT) {
        ovs_fatal(error, "domain %"PRIu16": cannot destroy", domid);
    }
    VLOG_INFO("destroyed domain %"PRIu16, domid);

    free(libxl_path);
    free(vm_path);
    free(vm_path_key);
    free(be_dir);
    free(dom_path);
    xs_close(h);
    if (!ok) {
        exit(EXIT_FAILURE);
    }
}

/* list. */

static int
compare_domids(const void *a_, const void *b_)
{
    const unsigned int *a = a_, *b = b_;
    return *a < *b ? -1 : *a > *b;
}

static void
cmd_list(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    const char *dir = need_dir();
    DIR *dp = opendir(dir);
    if (!dp) {
        ovs_fatal(errno, "%s", dir);
    }

    unsigned int *ids = NULL;
    size_t n = 0, allocated = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        unsigned int id;
        int len;
        if (sscanf(de->d_name, "dom%u%n", &id, &len) == 1 && !de->d_name[len]
            && id <= XENSIM_MAX_DOMID) {
            if (n >= allocated) {
                ids = x2nrealloc(ids, &allocated, sizeof *ids);
            }
            ids[n++] = id;
        }
    }
    closedir(dp);
    qsort(ids, n, sizeof *ids, compare_domids);

    struct xs_handle *h = xs_open(0);
    printf("%-32s %5s %8s %-6s %s\n", "Name", "ID", "Mem(MB)", "State",
           "vifs");
    for (size_t i = 0; i < n; i++) {
        struct xensim_domain *d;
        if (xensim_domain_open(dir, ids[i], &d)) {
            continue;
        }

        char *name = NULL;
        unsigned int n_vifs = 0;
        if (h) {
            char *p = xasprintf(LOCAL_DOMAIN "/%u/name", ids[i]);
            name = xs_get(h, XBT_NULL, p);
            free(p);

            p = xasprintf(LOCAL_DOMAIN "/0/backend/vif/%u", ids[i]);
            free(xs_directory(h, XBT_NULL, p, &n_vifs));
            free(p);
        }
        if (!name) {
            name = xstrdup(ids[i] ? "-" : "Domain-0");
        }
        printf("%-32s %5u %8u %-6s %u\n", name, ids[i],
               xensim_domain_nr_pages(d) / 256,
               xensim_domain_is_alive(d) ? "r" : "dying", n_vifs);
        free(name);
        xensim_domain_close(d);
    }
    if (h) {
        xs_close(h);
    }
    free(ids);
}

static void
cmd_help(struct ovs_cmdl_context *ctx OVS_UNUSED)
{
    usage();
}

static const struct ovs_cmdl_command commands[] = {
    { "create", "DOMID [--name=NAME] [--pages=N]", 1, 3, cmd_create,
      OVS_RW },
    { "destroy", "DOMID", 1, 1, cmd_destroy, OVS_RW },
    { "list", "", 0, 0, cmd_list, OVS_RO },
    { "network-attach", "DOMID [KEY=VALUE]...", 1, INT_MAX,
      cmd_network_attach, OVS_RW },
    { "network-detach", "DOMID DEVID", 2, 2, cmd_network_detach, OVS_RW },
    { "network-list", "DOMID", 1, 1, cmd_network_list, OVS_RO },
    { "help", "", 0, 0, cmd_help, OVS_RO },
    { NULL, NULL, 0, 0, NULL, OVS_RO },
};

int
main(int argc, char *argv[])
{
    struct ovs_cmdl_context ctx = { .argc = 0, };

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    signal(SIGPIPE, SIG_IGN);

    parse_options(argc, argv);

    ctx.argc = argc - optind;
    ctx.argv = argv + optind;
    if (ctx.argc < 1) {
        ovs_fatal(0, "missing command name; use --help for help");
    }
    ovs_cmdl_run_command(&ctx, commands);
    return 0;
}
