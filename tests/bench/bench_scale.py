#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The figures of issue 17 (scale): many users' quota through the plugin's
read callback, side by side with `doveadm quota get -A`, in one run.

    python3 tests/bench/bench_scale.py [--build build] [--users 10000,50000,100001]
                                       [--reads 2] [--strace] [--per-user-max 10000]

Needs root (a private Dovecot with N users in a passwd-file,
tests/integration/dovecot_fixture.py) and the built tests/bench/bench_plugin.
For each user count it prints (figures only, never pass/fail):

  - `doveadm quota get -A` run locally: wall seconds, CPU (user, system);
  - the plugin's read (QuotaUsers "*", the server-side scan, UNIX socket;
    then QuotaSeries "domain"; then one request per user up to
    --per-user-max users): wall seconds and the ratio to the CLI, the
    users whose quota was dispatched, the plugin process's CPU per quota
    row (user + system, the whole process: socket to dispatch), and its
    peak resident memory above its start per user (bench_plugin --sink:
    the stub of collectd keeps no value, so the peak is the plugin's own);
  - with --strace, the system calls of one read (strace -c -f): recvfrom,
    read, poll, sendto/write counts and bytes per receive call.
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from dovecot_fixture import DovecotServer, bulk_users  # noqa: E402

ROWS_PER_USER = 2   # bulk users: STORAGE and MESSAGE


def out(*parts):
    print("\t".join(str(p) for p in parts), flush=True)


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime, ru.ru_stime


def doveadm_all(d):
    u0, s0 = children_cpu()
    t0 = time.monotonic()
    r = d.doveadm_run("quota", "get", "-A", timeout=1800)
    took = time.monotonic() - t0
    u1, s1 = children_cpu()
    if r.returncode not in (0, 75):
        raise RuntimeError("doveadm quota get -A: %s" % r.stderr[-500:])
    rows = sum(1 for line in r.stdout.splitlines()[1:] if line.strip())
    return took, u1 - u0, s1 - s0, rows


def bench_plugin(build, options, reads, prefix=()):
    exe = os.path.join(build, "tests", "bench", "bench_plugin")
    args = list(prefix) + [exe, "--reads", str(reads), "--quiet", "--sink"]
    args += ["%s=%s" % kv for kv in options.items()]
    r = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError("bench_plugin failed: %s\n%s" % (r.stdout[-2000:],
                                                             r.stderr[-2000:]))
    s = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if f[0] == "summary":
            s[f[1]] = f[2:]
    s["stderr"] = r.stderr
    return s


def options(d, **more):
    o = {"Socket": d.doveadm_socket, "CollectStats": "false", "CollectWho": "false",
         "QuotaUsers": "*", "Interval": "3000", "Timeout": "2400"}
    o.update(more)
    return o


def strace_counts(path):
    """{syscall: (calls, errors)} from strace -c output."""
    counts = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d+)?\s*(\w+)\s*$", line)
            if m and m.group(3) != "total":     # strace's own sum line
                counts[m.group(3)] = (int(m.group(1)), int(m.group(2) or 0))
    return counts


def run_variant(build, d, n, what, opts, reads, cli, use_strace):
    s = bench_plugin(build, opts, reads)
    took = float(s["seconds"][0])          # best of the reads
    users = int(s["quota_users"][0])
    peak, start = int(s["peak_kib"][0]), int(s["peak_kib"][1])
    cpu_u, cpu_s = float(s["cpu_s"][0]), float(s["cpu_s"][1])
    rows = ROWS_PER_USER * n * reads
    out("plugin", "users=%d" % n, what, "read %.3f s" % took,
        "%.2fx of doveadm -A (%.3f s)" % (took / cli[0], cli[0]),
        "quota users dispatched %d" % users,
        "CPU per quota row %.2f us (user %.2f + system %.2f)"
        % ((cpu_u + cpu_s) / rows * 1e6, cpu_u / rows * 1e6, cpu_s / rows * 1e6),
        "peak %d KiB above start %d KiB: %.0f bytes per user"
        % (peak - start, start, (peak - start) * 1024.0 / n))
    if "dropped" in s["stderr"] or "MaxUsers" in s["stderr"]:
        out("plugin", "users=%d" % n, what, "log", s["stderr"][-300:].strip())
    if not use_strace:
        return
    with tempfile.NamedTemporaryFile(prefix="bench-strace-", delete=False) as tf:
        path = tf.name
    try:
        bench_plugin(build, opts, 1, prefix=["strace", "-f", "-c", "-o", path])
        c = strace_counts(path)
    finally:
        os.unlink(path)
    recv = sum(c.get(k, (0, 0))[0] for k in ("recvfrom", "read", "recvmsg"))
    again = sum(c.get(k, (0, 0))[1] for k in ("recvfrom", "read", "recvmsg"))
    out("strace", "users=%d" % n, what, "recvfrom+read %d (%d errors, EAGAIN)" % (
        recv, again), "poll %d" % c.get("poll", (0, 0))[0],
        "sendto+write %d" % sum(c.get(k, (0, 0))[0] for k in ("sendto", "write")),
        "pauses %d" % c.get("clock_nanosleep", c.get("nanosleep", (0, 0)))[0],
        "total calls %d" % sum(v[0] for v in c.values()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--users", default="10000,50000,100001")
    ap.add_argument("--reads", type=int, default=2)
    ap.add_argument("--strace", action="store_true")
    ap.add_argument("--per-user-max", type=int, default=10000)
    ap.add_argument("--before", help="another build (e.g. of the commit before "
                    "this work) to run beside --build against the same server")
    a = ap.parse_args()
    for n in [int(x) for x in a.users.split(",")]:
        t0 = time.monotonic()
        with DovecotServer(users=bulk_users(n), metrics=False) as d:
            out("server", "users=%d" % n, d.version,
                "started in %.1f s" % (time.monotonic() - t0))
            doveadm_all(d)                      # creates the maildirs
            cli = min((doveadm_all(d) for _ in range(a.reads)), key=lambda x: x[0])
            out("doveadm", "users=%d" % n, "quota get -A", "%.3f s" % cli[0],
                "CPU %.2f us per row (user %.2f + system %.2f), %d rows"
                % ((cli[1] + cli[2]) / cli[3] * 1e6, cli[1] / cli[3] * 1e6,
                   cli[2] / cli[3] * 1e6, cli[3]))
            builds = [("before: ", a.before)] if a.before else []
            builds.append(("", a.build))
            for tag, build in builds:
                run_variant(build, d, n, tag + "scan", options(d), a.reads, cli,
                            a.strace)
                if not tag:
                    run_variant(build, d, n, "scan, QuotaSeries domain",
                                options(d, QuotaSeries="domain"), a.reads, cli, False)
                if n <= a.per_user_max:
                    run_variant(build, d, n, tag + "per-user requests",
                                options(d, QuotaScan="false"), 1, cli, a.strace)


if __name__ == "__main__":
    main()
