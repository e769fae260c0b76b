#!/usr/bin/env python3
# Copyright (c) 2026 The xvif authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""tests/xen/bench-report.py OUTDIR: bench.md and bench.json from the
vcpus-*/bench.txt files that tests/xen/bench.sh collected.

Medians over the runs; every ratio is xvif (or netback + userspace OVS)
over netback + kernel OVS (configuration d) *of the same boot*.  CPU is dom0's
busy time (user + system + irq + softirq, all its CPUs) from /proc/stat:
ms per MB for TCP, us per packet for the floods."""

import glob
import json
import os
import statistics
import sys

CONFIGS = {
    "a": "xvif (type=xvif)",
    "b": "xvif-pmd",
    "c": "xvif + userspace-tso",
    "d": "netback + OVS kernel dp",
    "e": "netback + OVS netdev dp (tso)",
}
JIFFY_MS = 10.0


def parse(path):
    rows, notes = [], []
    for line in open(path, errors="replace"):
        words = line.split()
        if not words:
            continue
        if words[0] == "note":
            notes.append(line.strip()[5:])
            continue
        kv = {}
        for w in words:
            if "=" in w:
                k, v = w.split("=", 1)
                kv[k] = v
        if "test" in kv:
            rows.append(kv)
    return rows, notes


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(rows):
    """{(cfg, test, size): {metric: median, ...}}"""
    groups = {}
    for r in rows:
        groups.setdefault((r["cfg"], r["test"], r.get("size", "-")),
                          []).append(r)
    out = {}
    for key, rs in groups.items():
        cfg, test, size = key
        s = {"n": len(rs)}
        s["load0"] = med(num(r.get("load0")) for r in rs)
        s["loadhost"] = med(num(r.get("loadhost")) for r in rs)
        if test.startswith("tcp"):
            s["kBps"] = med(num(r.get("kBps")) for r in rs
                            if not r.get("fail"))
            s["kBps_all"] = [num(r.get("kBps")) for r in rs]
            s["runs"] = " ".join(
                "{}@{}".format("fail" if r.get("fail") else
                               "%.0f" % (num(r.get("kBps")) or 0),
                               r.get("loadhost", "-")) for r in rs)
            s["rx_kBps"] = med(num(r.get("rx_kBps")) for r in rs)
            mb = int(size) / 1e6
            s["failed"] = sum(1 for r in rs if r.get("fail"))
            s["elapsed"] = med(num(r.get("elapsed")) for r in rs)
            # dom0 CPU as Xen accounts it (xl list): /proc/stat inside a
            # PV dom0 misses most of it.
            s["cpu_ms_per_MB"] = med(num(r.get("cpu0")) * 1000 / mb
                                     for r in rs if num(r.get("cpu0"))
                                     and not r.get("fail"))
            s["procstat_ms_per_MB"] = med(num(r.get("busy")) * JIFFY_MS / mb
                                          for r in rs if num(r.get("busy"))
                                          and not r.get("fail"))
            s["softirq_ms_per_MB"] = med(num(r.get("sirq")) * JIFFY_MS / mb
                                         for r in rs
                                         if num(r.get("sirq")) is not None)
            s["vswitchd_ms_per_MB"] = med(num(r.get("vsw")) * JIFFY_MS / mb
                                          for r in rs
                                          if num(r.get("vsw")) is not None
                                          and not r.get("fail"))
            s["port_pkts"] = med(num(r.get("pkts")) for r in rs)
            s["domu_cpu_s"] = med((num(r.get("cpu1")) or 0)
                                  + (num(r.get("cpu2")) or 0) for r in rs)
        elif test in ("pingflood", "udp64"):
            pk = []
            for r in rs:
                if test == "pingflood":
                    p = num(r.get("recv"))
                    secs = num(r.get("wall"))
                else:
                    sent, lost = num(r.get("sent")), num(r.get("lost"))
                    p = sent - lost if sent is not None and lost is not None \
                        else None
                    secs = num(r.get("secs"))
                pps = p / secs if p and secs else None
                busy = num(r.get("cpu0"))
                pk.append((pps, busy * 1e6 / p
                           if p and busy else None))
            s["pps"] = med(x[0] for x in pk)
            s["cpu_us_per_pkt"] = med(x[1] for x in pk)
            if test == "pingflood":
                s["avg_ms"] = med(num(r.get("avg_ms")) for r in rs)
            else:
                s["lost"] = med(num(r.get("lost")) for r in rs)
                s["sent"] = med(num(r.get("sent")) for r in rs)
        else:
            s["avg_ms"] = med(num(r.get("avg_ms")) for r in rs)
        out[key] = s
    return out


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def size_label(size):
    n = int(size)
    return f"{n / 1048576:g} MiB" if n % 65536 == 0 else size


def fmt(v, nd=0):
    if v is None:
        return "-"
    return f"{v:.{nd}f}"


def main():
    outdir = sys.argv[1]
    machine = open(os.path.join(outdir, "machine.txt")).read()
    result = {"machine": machine.strip().splitlines(), "boots": {}}
    md = ["# xvif vs xen-netback on Xen 4.17 under QEMU/TCG", "",
          "```", machine.strip(), "```", "",
          "Medians of the runs; ratio = configuration / d (netback + OVS "
          "kernel datapath) in the same boot.  TCP throughput in KB/s "
          "(size / time of the iperf3 run, connection set-up included; "
          "failed = runs over the time limit, left out of the medians); "
          "dom0 CPU = dom0's CPU time as Xen accounts it (xl list, all its "
          "vCPUs) per MB moved or per packet; vswitchd = ovs-vswitchd's "
          "utime+stime; domU CPU = both guests' CPU seconds per transfer; "
          "load = host load average (median over the runs).", ""]
    for d in sorted(glob.glob(os.path.join(outdir, "vcpus-*"))):
        label = os.path.basename(d)
        path = os.path.join(d, "bench.txt")
        if not os.path.exists(path):
            md += [f"## {label}: no results", ""]
            continue
        rows, notes = parse(path)
        summ = summarize(rows)
        boot = {"notes": notes, "results": [], "qemu_rc":
                open(os.path.join(d, "qemu-rc")).read().strip()
                if os.path.exists(os.path.join(d, "qemu-rc")) else None}
        for (cfg, test, size), s in sorted(summ.items()):
            base = summ.get(("d", test, size))
            entry = {"cfg": cfg, "config": CONFIGS.get(cfg, cfg),
                     "test": test, "size": size, **s}
            if base and cfg != "d":
                for m in ("kBps", "cpu_ms_per_MB", "pps", "cpu_us_per_pkt",
                          "avg_ms"):
                    if m in s:
                        entry[f"ratio_{m}_vs_d"] = ratio(s[m], base.get(m))
            boot["results"].append(entry)
        result["boots"][label] = boot

        md += [f"## dom0 {label.replace('-', ' = ')} ({boot['qemu_rc']})", ""]
        md += ["### TCP", "",
               "| test | size | config | KB/s | ratio vs d | dom0 CPU ms/MB "
               "| ratio | vswitchd ms/MB | domU CPU s | port pkts "
               "| n (failed) | host load | each run: KB/s@host load |",
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for e in boot["results"]:
            if not e["test"].startswith("tcp"):
                continue
            md.append("| {} | {} | {} {} | {} | {} | {} | {} | {} | {} | {} "
                      "| {} ({}) | {} | {} |".format(
                          e["test"][4:], size_label(e["size"]),
                          e["cfg"], e["config"],
                          fmt(e["kBps"]),
                          fmt(e.get("ratio_kBps_vs_d"), 2),
                          fmt(e["cpu_ms_per_MB"]),
                          fmt(e.get("ratio_cpu_ms_per_MB_vs_d"), 2),
                          fmt(e["vswitchd_ms_per_MB"]),
                          fmt(e["domu_cpu_s"], 1), fmt(e["port_pkts"]),
                          e["n"], e["failed"], fmt(e["loadhost"], 1),
                          e["runs"]))
        md += ["", "### small packets and latency", "",
               "| test | config | pkt/s | ratio vs d | dom0 CPU us/pkt "
               "| ratio | RTT ms | ratio | n | host load |",
               "|---|---|---|---|---|---|---|---|---|---|"]
        for e in boot["results"]:
            if e["test"].startswith("tcp"):
                continue
            md.append("| {} | {} {} | {} | {} | {} | {} | {} | {} | {} | {} "
                      "|".format(e["test"], e["cfg"], e["config"],
                                 fmt(e.get("pps")),
                                 fmt(e.get("ratio_pps_vs_d"), 2),
                                 fmt(e.get("cpu_us_per_pkt")),
                                 fmt(e.get("ratio_cpu_us_per_pkt_vs_d"), 2),
                                 fmt(e.get("avg_ms"), 3),
                                 fmt(e.get("ratio_avg_ms_vs_d"), 2),
                                 e["n"], fmt(e["loadhost"], 1)))
        md += ["", "Notes from dom0:", ""]
        md += [f"* {n}" for n in notes]
        md.append("")
    with open(os.path.join(outdir, "bench.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    with open(os.path.join(outdir, "bench.md"), "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
