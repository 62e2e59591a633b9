#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A real collectd's memory at many users (issue 17): collectd with the
built dovecot.so and the test fixture's writers (csv, unixsock) reads a
private Dovecot with N users once (QuotaUsers "*"), with QuotaSeries "user"
and then "domain"; prints its peak resident memory (VmHWM) above its start
per user, 10 s after the read (the write queue drained).

    python3 tests/bench/bench_collectd.py N        (as root; from the tree)
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from collectd_fixture import CollectdDaemon, dovecot_block, identifier  # noqa: E402
from dovecot_fixture import DovecotServer, bulk_users  # noqa: E402

PLUGIN = os.environ.get("DVA_PLUGIN", os.path.join(ROOT, "build", "plugin", "dovecot.so"))


def hwm(pid):
    """(VmHWM, VmRSS) in KiB."""
    v = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                v[line.split(":")[0]] = int(line.split()[1])
    return v["VmHWM"], v["VmRSS"]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    with DovecotServer(users=bulk_users(n), metrics=False) as d:
        d.doveadm_run("quota", "get", "-A", timeout=1800)   # creates the maildirs
        for series in ("user", "domain"):
            blk = dovecot_block("m", Socket=d.doveadm_socket, QuotaUsers="*",
                                QuotaSeries=series, CollectStats=False,
                                CollectWho=False, Interval=600, Timeout=500)
            with CollectdDaemon(blk, plugin_path=PLUGIN, interval=600) as c:
                start = hwm(c.proc.pid)[0]
                t0 = time.monotonic()
                c.wait_values([identifier("m", "duration", "read")], timeout=600)
                took = time.monotonic() - t0
                time.sleep(10)
                peak, rss = hwm(c.proc.pid)
                print("collectd\tusers=%d\tQuotaSeries %s\tfirst read %.1f s\t"
                      "VmHWM %d KiB (start %d KiB, now resident %d KiB)\t"
                      "%.0f bytes per user above start"
                      % (n, series, took, peak, start, rss,
                         (peak - start) * 1024.0 / n), flush=True)


if __name__ == "__main__":
    main()
