# SPDX-License-Identifier: MIT
"""scripts/demo_graphs.py against RRD files made here with the rrdtool CLI,
named as collectd's rrdtool plugin names the dovecot plugin's values: which
graphs and lines it picks, and that it draws real PNGs.

    python3 -m unittest -v test_demo_graphs
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(_HERE, "..", "..", "scripts")))

import demo_graphs  # noqa: E402

T0 = 1_700_000_000          # a fixed start: every value is known exactly
STEPS = 20
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_rrd(path, ds_type, values):
    """A one-data-source ("value", as collectd's) RRD, step 1 s, with
    values at T0+1 .. T0+len(values)."""
    subprocess.run([demo_graphs.RRDTOOL, "create", path, "--start", str(T0), "--step", "1",
                    "DS:value:%s:2:0:U" % ds_type, "RRA:AVERAGE:0.5:1:100"],
                   check=True, capture_output=True)
    subprocess.run([demo_graphs.RRDTOOL, "update", path]
                   + ["%d:%s" % (T0 + 1 + i, v) for i, v in enumerate(values)],
                   check=True, capture_output=True)


@unittest.skipUnless(os.access(demo_graphs.RRDTOOL, os.X_OK), "rrdtool not installed")
class TestDemoGraphs(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dvtest-graphs-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.rrd = os.path.join(self.dir, "rrd")
        self.out = os.path.join(self.dir, "png")
        os.makedirs(self.rrd)
        self.start, self.end = str(T0 + 1), str(T0 + STEPS)

    def rrd_file(self, name, ds_type, values):
        make_rrd(os.path.join(self.rrd, name + ".rrd"), ds_type, values)

    def test_top_quota_users_by_mean_use(self):
        # seven users; u6 is at 95 % only since the middle of the window
        uses = {"u0": 10, "u1": 80, "u2": 50, "u3": 93, "u4": 5, "u5": 60}
        for u, pct in uses.items():
            self.rrd_file("percent-%s@example.com-User_quota-storage" % u, "GAUGE",
                          [pct] * STEPS)
        self.rrd_file("percent-u6@example.com-User_quota-storage", "GAUGE",
                      [0] * (STEPS // 2) + [95] * (STEPS // 2))
        # not storage: never a line of the quota graph
        self.rrd_file("percent-u9@example.com-User_quota-messages", "GAUGE", [99] * STEPS)
        files = demo_graphs._files(self.rrd, r"percent-(.+)-storage")
        self.assertEqual(len(files), 7)
        self.assertEqual(demo_graphs._top(files, 5, self.start, self.end),
                         ["u3@example.com-User_quota", "u1@example.com-User_quota",
                          "u5@example.com-User_quota", "u2@example.com-User_quota",
                          "u6@example.com-User_quota"])

    def test_stats_rates_leave_out_sums(self):
        self.rrd_file("derive-imap_command", "DERIVE", [i * 4 for i in range(STEPS)])
        self.rrd_file("derive-imap_command-sum_us", "DERIVE", [i * 999 for i in range(STEPS)])
        self.rrd_file("derive-auth_success", "DERIVE", [i for i in range(STEPS)])
        self.rrd_file("derive-mail_delivery-bytes-sum", "DERIVE",
                      [i * 500 for i in range(STEPS)])
        metrics = {k: p for k, p in demo_graphs._files(self.rrd, r"derive-(.+)").items()
                   if not k.endswith("-sum_us") and not k.endswith("-sum")}
        self.assertEqual(sorted(metrics), ["auth_success", "imap_command"])
        self.assertAlmostEqual(demo_graphs.mean(metrics["imap_command"], self.start,
                                                self.end), 4.0)
        self.assertEqual(demo_graphs._top(metrics, 8, self.start, self.end),
                         ["imap_command", "auth_success"])

    def test_render_draws_pngs_for_the_files_present(self):
        self.rrd_file("current_sessions-imap", "GAUGE", [3] * STEPS)
        self.rrd_file("current_sessions-pop3", "GAUGE", [1] * STEPS)
        self.rrd_file("users", "GAUGE", [2] * STEPS)
        self.rrd_file("derive-imap_command", "DERIVE", [i * 2 for i in range(STEPS)])
        paths = demo_graphs.render(self.rrd, self.out, self.start, self.end)
        # no percent-* file: no quota graph
        self.assertEqual([os.path.basename(p) for p in paths], ["sessions.png", "stats.png"])
        for p in paths:
            with open(p, "rb") as f:
                self.assertEqual(f.read(8), PNG_MAGIC, p)
            self.assertGreater(os.path.getsize(p), 1000, p)

    def test_unknown_values_draw_no_line(self):
        # a DERIVE read once has no rate: nothing to rank, no stats graph
        self.rrd_file("derive-imap_command", "DERIVE", [7])
        self.assertEqual(demo_graphs.render(self.rrd, self.out, self.start, self.end), [])

    def test_missing_directory_is_a_clear_error(self):
        with self.assertRaisesRegex(demo_graphs.GraphError, "rrdtool plugin"):
            demo_graphs.render(os.path.join(self.dir, "nope"), self.out)


if __name__ == "__main__":
    unittest.main()
