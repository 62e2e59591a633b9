#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The figures of issue 17 (scale): many users' quota through the plugin's
read callback, side by side with `doveadm quota get -A`, in one run.

    python3 tests/bench/bench_scale.py [--build build] [--users 10000,50000,100001]
                                       [--reads 2] [--strace] [--per-user-max 10000]
                                       [--generation 2.3|2.4] [--collectd]
                                       [--slices 10]

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
  - the plugin's own heap: the peak of the bytes its code held at once
    during the reads, per user, and its allocation calls per quota row
    (bench_plugin's "heap" summary: malloc & co. linked with --wrap);
  - with --strace, the system calls of one read (strace -c -f): recvfrom,
    read, poll, sendto/write counts, and all system calls per quota row;
  - with --slices K (default 10; 0: none), K reads with QuotaInterval
    spreading the users over them (Interval 10 s, QuotaInterval 10K s,
    Timeout 8 s): the longest read against its Timeout, and the users read;
  - with --collectd, a real collectd's peak resident memory per user
    (tests/bench/bench_collectd.py), per-user series and QuotaSeries
    "domain".

--generation picks the fixture's Dovecot (2.4: a real 2.4.1 from a Debian
13 root, see tests/integration/dovecot_fixture.py). 2.4 has no server-side
scan for the plugin to use: `QuotaUsers "*"` is its all-user `quota get
-A`, streamed the same way.
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

from dovecot_fixture import DovecotError, DovecotServer, bulk_users  # noqa: E402

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


def bench_plugin(build, options, reads, prefix=(), quiet=True):
    exe = os.path.join(build, "tests", "bench", "bench_plugin")
    args = list(prefix) + [exe, "--reads", str(reads)] + (["--quiet"] if quiet else [])
    args += ["--sink"]
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
    s["reads"] = [float(ln.split("\t")[2]) for ln in r.stdout.splitlines()
                  if ln.startswith("read\t")]
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
    if "heap" in s:     # builds before the heap summary lack it
        heap, calls = int(s["heap"][0]), int(s["heap"][1])
        out("heap", "users=%d" % n, what, "plugin's own peak heap %.0f bytes per user"
            % (heap / n), "allocations %.3f per quota row (%d in %d reads)"
            % (calls / rows, calls, reads))
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
        "total calls %d" % sum(v[0] for v in c.values()),
        "%.3f system calls per quota row" % (sum(v[0] for v in c.values())
                                             / (ROWS_PER_USER * n)))


def run_slices(build, d, n, k):
    """k reads with QuotaInterval spreading the users: the longest read
    against its Timeout."""
    timeout = 8.0
    opts = options(d, Interval="10", QuotaInterval=str(10 * k), Timeout=str(timeout))
    s = bench_plugin(build, opts, k, quiet=False)
    reads = s["reads"]
    out("slices", "users=%d" % n, "%d reads, QuotaInterval %d s" % (k, 10 * k),
        "longest read %.3f s of Timeout %.1f s" % (max(reads), timeout),
        "reads %s s" % " ".join("%.2f" % x for x in reads),
        "quota users dispatched %d" % int(s["quota_users"][0]))


def run_collectd(n, generation):
    """A real collectd's peak memory (bench_collectd.py, its own server)."""
    env = dict(os.environ)
    if generation:
        env["DVA_DOVECOT_GENERATION"] = generation
    r = subprocess.run([sys.executable, os.path.join(HERE, "bench_collectd.py"), str(n)],
                       capture_output=True, text=True, timeout=3600, env=env)
    for line in r.stdout.splitlines():
        out(*line.split("\t"))
    if r.returncode != 0:
        out("collectd", "users=%d" % n, "failed", r.stderr[-300:].strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--users", default="10000,50000,100001")
    ap.add_argument("--reads", type=int, default=2)
    ap.add_argument("--strace", action="store_true")
    ap.add_argument("--per-user-max", type=int, default=10000)
    ap.add_argument("--before", help="another build (e.g. of the commit before "
                    "this work) to run beside --build against the same server")
    ap.add_argument("--generation", choices=("2.3", "2.4"),
                    help="the Dovecot to run (default: the fixture's)")
    ap.add_argument("--slices", type=int, default=10)
    ap.add_argument("--collectd", action="store_true")
    a = ap.parse_args()
    if a.generation:
        os.environ["DVA_DOVECOT_GENERATION"] = a.generation
    for n in [int(x) for x in a.users.split(",")]:
        try:
            run_size(a, n)
        except DovecotError as e:
            # A server of 100,000 users can outlast the fixture's stop
            # wait; the figures are printed already.
            out("server", "users=%d" % n, "stopped with: %s" % e)


def run_size(a, n):
    """The figures at n users, against a server of their own."""
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
        if a.slices > 1:
            run_slices(a.build, d, n, a.slices)
    if a.collectd:
        plugin = os.path.join(a.build, "plugin", "dovecot.so")
        os.environ["DVA_PLUGIN"] = plugin
        run_collectd(n, a.generation)


if __name__ == "__main__":
    main()
