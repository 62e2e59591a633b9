#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The performance benchmark of issue 5: prints every figure and ratio.

    python3 tests/bench/bench_quota.py [--build build] [--users 2000,10000]
                                        [--reads 3] [--pairs 5]
                                        [--mem-reads 10000]

Needs root (a private Dovecot, tests/integration/dovecot_fixture.py) and the
built tests/bench/bench_plugin and bench_parse (scripts/bench.sh builds
them).  Figures, never pass/fail: the goals are printed next to them.

  1. all-user quota, QuotaUsers "*", through the plugin's read callback
     (tests/bench/bench_plugin: the real plugin code with collectd's API
     stubbed), against `doveadm quota get -A` run locally, same server,
     same run; for each user count.
  2. remote (TCP) per-user quota: users per second with 1, 2 and 4
     connections, interleaved runs (--pairs), the same from a minimal
     client, and the server's CPU per request with the ceiling it sets.
  3. a scan spread over reads (QuotaInterval): the longest read against
     Timeout, and whether every user was read within QuotaInterval.
  4. reply parsing MB/s on a synthetic reply of tens of MB; instructions
     per quota row (callgrind) and ns per row, excluding dispatch.
  5. resident memory across many reads; allocations per row.
"""

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import dovecot_fixture  # noqa: E402
from dovecot_fixture import DovecotServer, bulk_users  # noqa: E402
import doveadm_wire  # noqa: E402


def out(*parts):
    print("\t".join(str(p) for p in parts), flush=True)


def best_of(n, fn):
    return min(fn() for _ in range(n))


def time_doveadm_all(d):
    t0 = time.monotonic()
    r = d.doveadm_run("quota", "get", "-A", timeout=600)
    took = time.monotonic() - t0
    if r.returncode not in (0, 75):     # 75: some user's quota failed
        raise RuntimeError("doveadm quota get -A: %s" % r.stderr[-500:])
    return took


def run_plugin(build, options, reads=1, quiet=True, timeout=900):
    exe = os.path.join(build, "tests", "bench", "bench_plugin")
    args = [exe, "--reads", str(reads)] + (["--quiet"] if quiet else [])
    args += ["%s=%s" % kv for kv in options.items()]
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("bench_plugin failed: %s\n%s" % (r.stdout[-2000:],
                                                             r.stderr[-2000:]))
    summary, per_read = {}, []
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if f[0] == "summary":
            summary[f[1]] = f[2:]
        elif f[0] == "read":
            per_read.append((float(f[2]), int(f[3]), int(f[4])))
    summary["stderr"] = r.stderr
    summary["per_read"] = per_read
    return summary


def plugin_read_seconds(build, options, nusers, reads):
    s = run_plugin(build, options, reads=reads)
    got = int(s["quota_users"][0])
    if got != nusers:
        raise RuntimeError("the plugin reported %d users of %d; options %r; log:\n%s"
                           % (got, nusers, options, s["stderr"][-2000:]))
    return float(s["seconds"][0])


def base_options(d, **more):
    o = {"CollectStats": "false", "CollectWho": "false", "QuotaUsers": "*",
         "Interval": "600", "Timeout": "500"}
    o.update(more)
    return o


def socket_options(d, **more):
    return base_options(d, Socket=d.doveadm_socket, **more)


def tcp_options(d, **more):
    return base_options(d, Host="127.0.0.1", Port=str(d.doveadm_port),
                        Password=d.password, **more)


def supported(build, d, option, value):
    """True when this build of the plugin knows option (older builds: no)."""
    exe = os.path.join(build, "tests", "bench", "bench_plugin")
    r = subprocess.run([exe, "--reads", "1", "--quiet", "Socket=" + d.doveadm_socket,
                        "CollectStats=false", "CollectQuota=false",
                        "%s=%s" % (option, value)], capture_output=True, text=True,
                       timeout=60)
    return r.returncode == 0


def goal1_2(build, counts, reads, pairs, tcp_max, skip=()):
    for n in counts:
        with DovecotServer(users=bulk_users(n), metrics=False) as d:
            out("server", "users=%d" % n, d.version)
            d.doveadm_run("quota", "get", "-A", timeout=600)   # creates the maildirs
            if "1" not in skip:
                goal1(build, d, n, reads)
            if n > tcp_max or "2" in skip:
                continue
            goal2(build, d, n, pairs)


def goal1(build, d, n, reads):
    doveadm_s = best_of(reads, lambda: time_doveadm_all(d))
    out("goal1", "users=%d" % n, "doveadm quota get -A (local CLI)",
        "%.3f s" % doveadm_s)
    scan = supported(build, d, "QuotaScan", "true")
    variants = [("per-user, Connections 2, UNIX socket",
                 socket_options(d, Connections="2",
                                **({"QuotaScan": "false"} if scan else {})))]
    if scan:
        variants.insert(0, ("server-side scan, Connections 2, UNIX socket",
                            socket_options(d, Connections="2", QuotaScan="true")))
    for what, opts in variants:
        s = plugin_read_seconds(build, opts, n, reads)
        out("goal1", "users=%d" % n, "plugin read: " + what, "%.3f s" % s,
            "ratio %.2fx of doveadm -A" % (s / doveadm_s), "(goal <= 1.5x, aim 1.2x)")


def raw_client_seconds(d, nconns):
    """The same per-user requests from a minimal Python client (all sent at
    once, replies read and dropped): the server's own scaling, as a baseline
    for the plugin's."""
    users = sorted(d.users)
    def one(part):
        with doveadm_wire.DoveadmWire.tcp("127.0.0.1", d.doveadm_port, timeout=600) as c:
            c.login(d.password)
            c.send(b"".join(doveadm_wire.request("quota get", "-A", user=u)
                            for u in part))
            for _ in part:
                c.read_reply(timeout=600)
    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(users[i::nconns],))
               for i in range(nconns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0


def _cpu_ticks():
    """(all ticks, idle + iowait ticks, steal ticks) of every core, from
    /proc/stat. Steal is time the hypervisor gave to others: a run with
    much of it ran on a machine slower than the others."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v), v[3] + v[4], v[7]


def _own_cpu_s():
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def accounted(fn):
    """Runs fn() (which returns its wall time in s) and returns (wall s,
    fraction of the machine's cores left idle, CPU s of the client itself:
    this process and its children, fraction stolen by the hypervisor)."""
    t0, i0, s0 = _cpu_ticks()
    c0 = _own_cpu_s()
    wall = fn()
    t1, i1, s1 = _cpu_ticks()
    ticks = max(1, t1 - t0)
    return wall, (i1 - i0) / ticks, _own_cpu_s() - c0, (s1 - s0) / ticks


def median(xs):
    xs = sorted(xs)
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


MAX_STOLEN = 0.03


def goal2(build, d, n, pairs):
    """One request per user over TCP with 1, 2 and 4 connections, from the
    plugin and from a minimal client. The runs are interleaved (1, 2, 4, 1,
    2, 4, ...) so that a slow spell of the machine hits every variant, and
    each run is accounted: how much of the 2 cores stayed idle, and how much
    CPU the server used per request (the machine's busy time less the
    client's own)."""
    cores = os.cpu_count() or 1
    runs = {}   # (who, conns) -> [(wall, idle, client_cpu)]
    for i in range(pairs):
        for c in (1, 2):
            runs.setdefault(("raw", c), []).append(
                accounted(lambda: raw_client_seconds(d, c)))
        for c in (1, 2, 4):
            opts = tcp_options(d, Connections=str(c))
            runs.setdefault(("plugin", c), []).append(
                accounted(lambda: plugin_read_seconds(build, opts, n, 1)))
        p1, p2 = runs[("plugin", 1)][-1], runs[("plugin", 2)][-1]
        out("goal2", "users=%d" % n, "run %d of %d" % (i + 1, pairs),
            "plugin: 1 connection %.2f s (cores %.0f%% idle, %.0f%% stolen), "
            "2 connections %.2f s (%.0f%% idle, %.0f%% stolen), 4: %.2f s; 2/1 %.2fx"
            % (p1[0], 100 * p1[1], 100 * p1[3], p2[0], 100 * p2[1], 100 * p2[3],
               runs[("plugin", 4)][-1][0], p1[0] / p2[0]),
            "minimal client: 1 %.2f s, 2 %.2f s; 2/1 %.2fx"
            % (runs[("raw", 1)][-1][0], runs[("raw", 2)][-1][0],
               runs[("raw", 1)][-1][0] / runs[("raw", 2)][-1][0]))
    # A run in which the hypervisor stole CPU ran on a slower machine than
    # the others (seen: 28% stolen, one connection twice as slow): such
    # runs are printed above but left out of the medians, unless fewer
    # than 3 runs would be left.
    def kept(who):
        conns = (1, 2, 4) if who == "plugin" else (1, 2)
        clean = [i for i in range(pairs)
                 if all(runs[(who, c)][i][3] < MAX_STOLEN for c in conns)]
        return clean if len(clean) >= 3 else list(range(pairs))
    for who, label in (("raw", "baseline: minimal Python client"),
                       ("plugin", "plugin")):
        idx = kept(who)
        for c in (1, 2, 4) if who == "plugin" else (1, 2):
            walls = [runs[(who, c)][i][0] for i in idx]
            out("goal2", "users=%d" % n, "%s, %d connection(s)" % (label, c),
                "median %.3f s (%.0f users/s)" % (median(walls), n / median(walls)),
                "best %.3f s" % min(walls))
        r = [runs[(who, 1)][i][0] / runs[(who, 2)][i][0] for i in idx]
        which = ("%d of %d interleaved runs (the others: over %.0f%% stolen)"
                 % (len(idx), pairs, 100 * MAX_STOLEN) if len(idx) < pairs else
                 "%d interleaved runs" % pairs)
        out("goal2", "users=%d" % n, "%s: throughput 2 connections / 1" % label,
            "median %.2fx" % median(r), "range %.2f-%.2fx over %s" % (min(r), max(r), which),
            "(goal >= 1.7x on 2 cores)" if who == "plugin" else
            "(what the server itself gives)")
    # What the server spends per request, and what 2 cores could give at
    # best: a server kept fully busy on both cores would take
    # (CPU per request x users / cores). Stolen time is not the server's.
    idx = kept("plugin")
    one = [runs[("plugin", 1)][i] for i in idx]
    per_req = median([(w * (1 - idle - steal) * cores - client) / n
                      for w, idle, client, steal in one])
    ceiling = median([r[0] for r in one]) / (per_req * n / cores)
    two_idle = median([runs[("plugin", 2)][i][1] for i in idx])
    out("goal2", "users=%d" % n, "server CPU per request (all Dovecot processes)",
        "%.2f ms" % (per_req * 1000),
        "2 connections leave %.0f%% of the cores idle" % (100 * two_idle),
        "ceiling with both cores always busy: %.2fx" % ceiling)


def goal3(build, n=2000):
    with DovecotServer(users=bulk_users(n), metrics=False) as d:
        d.doveadm_run("quota", "get", "-A", timeout=600)
        if not supported(build, d, "QuotaInterval", "60"):
            out("goal3", "QuotaInterval", "not in this build")
            return
        # Timeout well under one whole TCP per-user scan: the scan must be
        # spread over reads.
        interval, timeout, quota_interval = 2.0, 1.5, 20.0
        reads = int(quota_interval / interval) + 1
        opts = tcp_options(d, Connections="2", Interval=str(interval),
                           Timeout=str(timeout), QuotaInterval=str(quota_interval))
        s = run_plugin(build, opts, reads=reads, quiet=False)
        longest = max(t for t, _, _ in s["per_read"])
        users = sum(u for _, _, u in s["per_read"][:-1])   # slices are disjoint
        out("goal3", "users=%d" % n, "TCP per-user, Timeout %.1f s, QuotaInterval %.0f s"
            % (timeout, quota_interval), "longest read %.3f s" % longest,
            "users read in %d reads: %d of %d" % (reads - 1, users, n),
            "(goal: every read <= Timeout, every user once per QuotaInterval)")


def callgrind_instr(exe, users, func):
    f = "/tmp/bench-callgrind.%d.%s" % (os.getpid(), func)
    r = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                        "--toggle-collect=" + func, "--callgrind-out-file=" + f,
                        exe, "rows", str(users)], capture_output=True, text=True,
                       timeout=600)
    try:
        m = re.search(r"Collected : (\d+)", r.stderr)
        if not m:
            raise RuntimeError("callgrind: %s" % r.stderr[-1000:])
        return int(m.group(1))
    finally:
        if os.path.exists(f):
            os.unlink(f)


def goal4(build):
    exe = os.path.join(build, "tests", "bench", "bench_parse")
    r = subprocess.run([exe, "mbps", "32"], capture_output=True, text=True, timeout=600)
    vals = dict(line.split("\t", 1) for line in r.stdout.splitlines())
    out("goal4", "synthetic quota reply %.1f MB, %s rows" % (int(vals["bytes"]) / 1e6,
                                                          vals["rows"]),
        "parse %s MB/s" % vals["parse_mbps"], "parse+decode %s MB/s" % vals["decode_mbps"])
    r = subprocess.run([exe, "rows", "20000"], capture_output=True, text=True, timeout=600)
    vals = dict(line.split("\t", 1) for line in r.stdout.splitlines())
    out("goal4", "40000 rows, one reply per user", "decode %s ns/row" % vals["decode_ns_per_row"],
        "submit %s ns/row" % vals["submit_ns_per_row"], "(dispatch excluded; goal < 1000 ns/row)")
    if shutil.which("valgrind") is None:
        out("goal4", "callgrind", "valgrind not installed")
        return vals
    small, large = 1000, 5000
    per_row = {}
    for func in ("measure_decode", "measure_submit"):
        a = callgrind_instr(exe, small, func)
        b = callgrind_instr(exe, large, func)
        k = 2 if func == "measure_submit" else 1   # submit runs twice
        per_row[func] = (b - a) / k / ((large - small) * 2)
    out("goal4", "callgrind instructions per quota row",
        "parse+decode %.0f" % per_row["measure_decode"],
        "submit %.0f" % per_row["measure_submit"],
        "total %.0f" % sum(per_row.values()))
    return vals


def goal5(build, mem_reads, vals):
    out("goal5", "allocations per quota row", "parse+decode %s" % vals["decode_allocs_per_row"],
        "submit %s" % vals["submit_allocs_per_row"])
    with DovecotServer(users=bulk_users(20), metrics=True) as d:
        opts = socket_options(d, CollectStats="true", CollectWho="true",
                              Interval="10", Timeout="5")
        t0 = time.monotonic()
        s = run_plugin(build, opts, reads=mem_reads, timeout=3600)
        first, early, last = s["rss_kib"]
        out("goal5", "%d reads (stats, who, quota of 20 users, UNIX socket) in %.0f s"
            % (mem_reads, time.monotonic() - t0),
            "RSS KiB after read 1: %s, read %d: %s, read %d: %s" % (first, mem_reads // 10 + 1,
                                                                  early, mem_reads, last))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--users", default="2000,10000")
    ap.add_argument("--reads", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=5,
                    help="goal 2: interleaved runs of each connection count")
    ap.add_argument("--tcp-max-users", type=int, default=2000,
                    help="goal 2 (per-user over TCP) only up to this many users")
    ap.add_argument("--mem-reads", type=int, default=10000)
    ap.add_argument("--skip", default="", help="comma list of goals to skip, e.g. 5")
    a = ap.parse_args()
    skip = set(x for x in a.skip.split(",") if x)
    out("machine", "%d cores" % os.cpu_count(), os.uname().release,
        "load %.2f %.2f %.2f" % os.getloadavg())
    counts = [int(x) for x in a.users.split(",") if x]
    if not {"1", "2"} <= skip:
        goal1_2(a.build, counts, a.reads, a.pairs, a.tcp_max_users, skip)
    if "3" not in skip:
        goal3(a.build)
    vals = goal4(a.build) if not {"4", "5"} <= skip else None
    if "5" not in skip:
        goal5(a.build, a.mem_reads, vals)
    out("machine", "load after %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
