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

/* libFuzzer target: the parsers of xenstore values that guests and
 * toolstacks write (lib/xvif-xenbus.c): xvif_xs_parse_uint(),
 * xvif_xs_parse_bool() and xvif_parse_vif_name().  Checked: no memory
 * error, and what they accept is what they claim: plain decimal digits
 * whose value is within the bound, booleans 0 or 1, names "vif<domid>.<devid>"
 * that print back the same (up to leading zeros).
 *
 * Input: u64 bound, then the value (any bytes; cut at the first NUL). */

#include <config.h>

#include <stdio.h>
#include <string.h>

#include "util.h"
#include "xvif-private.h"
#include "xvif-xenbus.h"
#include "xvif-netback-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What lib/xvif-xenbus.c calls in the rest of the provider. */
void
netdev_xvif_connect_request(struct netdev_xvif *dev OVS_UNUSED,
                            const struct xvif_frontend *fe OVS_UNUSED)
{
}

void
netdev_xvif_disconnect_request(struct netdev_xvif *dev OVS_UNUSED)
{
}

void
xvif_netback_check_startup(void)
{
}

const char *
xvif_netback_check_vif(int domid OVS_UNUSED, int devid OVS_UNUSED)
{
    return NULL;
}

int
xvif_xen_init(void)
{
    return 0;
}

const char *
xvif_xen_describe(void)
{
    return "fuzz";
}

/* Returns true if 's' is nonempty decimal digits. */
static bool
all_digits(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
    }
    return true;
}

/* Returns 's' without its leading zeros (but "0" stays). */
static const char *
skip_zeros(const char *s)
{
    while (s[0] == '0' && s[1]) {
        s++;
    }
    return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned long long max = 0, value = 0;
    char buf[64];
    char *s;
    bool b;
    int domid = -1, devid = -1;

    for (size_t i = 0; i < 8 && i < size; i++) {
        max |= (unsigned long long) data[i] << (8 * i);
    }
    s = xmemdup0((const char *) data + MIN(size, 8), size - MIN(size, 8));

    if (xvif_xs_parse_uint(s, max, &value)) {
        ovs_assert(value <= max);
        ovs_assert(all_digits(s));
        snprintf(buf, sizeof buf, "%llu", value);
        ovs_assert(!strcmp(buf, skip_zeros(s)));
    }
    if (xvif_xs_parse_bool(s, &b)) {
        ovs_assert(all_digits(s) && (b ? 1 : 0) == atoi(s));
    }
    if (xvif_parse_vif_name(s, &domid, &devid)) {
        const char *dot = strchr(s, '.');

        ovs_assert(domid >= 0 && domid < DOMID_FIRST_RESERVED);
        ovs_assert(devid >= 0);
        ovs_assert(!strncmp(s, "vif", 3) && dot);
        snprintf(buf, sizeof buf, "%d", devid);
        ovs_assert(!strcmp(buf, skip_zeros(dot + 1)));
    }
    free(s);
    return 0;
}
