# SPDX-License-Identifier: MIT
"""Reading many users' quota against a real private Dovecot (2.3.19 or 2.4.1:
the fixture's generation): the fast paths must give exactly the values of
the slow path (one `quota get` per user), and a read must end when its work
is done, not at its Timeout.

One Dovecot for the class: the default users (alice .. erin, with dave's
broken quota backend) plus BULK users with no mail.  Run with ctest (sets
DVA_QUERY), or: DVA_QUERY=build/.../dva_query python3 -m unittest -v
test_scale  (from tests/integration/, as root).
"""

import os
import shutil
import subprocess
import tempfile
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from dovecot_fixture import DEFAULT_USERS, DovecotServer, bulk_users  # noqa: E402
from e2e_util import dva_query_path  # noqa: E402

DVA_QUERY = dva_query_path()
BULK = 300
TIMEOUT_MS = 30000


def scrape_quota(out_text):
    """user -> sorted quota rows (root, type, value, limit, percent) from a
    `dva_query scrape` output, and the set of users listed."""
    rows, listed = {}, []
    for line in out_text.splitlines():
        f = line.split("\t")
        if f[0] == "users":
            listed.append(f[1])
        elif f[0] == "quota":
            rows.setdefault(f[1], []).append(tuple(f[2:]))
    return {u: sorted(r) for u, r in rows.items()}, listed


class ScaleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        users = {u: dict(s) for u, s in DEFAULT_USERS.items()}
        users.update(bulk_users(BULK))
        # The scan's private directory, as the plugin makes it (mkdtemp).
        # The server reads the user list the client writes there at the
        # path the client sends: shared with a server in a Debian root.
        cls.scan_dir = tempfile.mkdtemp(prefix="dvtest-scan-")
        cls.d = DovecotServer(users=users, metrics=False, shared_dirs=[cls.scan_dir])
        try:
            cls.d.start()
        except BaseException:
            shutil.rmtree(cls.scan_dir, ignore_errors=True)
            raise
        cls.all_users = sorted(users)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.d.stop()
        finally:
            shutil.rmtree(cls.scan_dir, ignore_errors=True)

    def query(self, *args, timeout_ms=TIMEOUT_MS):
        cmd = [DVA_QUERY, "--socket", self.d.doveadm_socket, "--timeout-ms",
               str(timeout_ms)] + list(args)
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout_ms / 1000 + 30)
        return p, time.monotonic() - t0

    def test_mask_read_ends_when_its_work_is_done(self):
        # A read that resolved a mask into more users than fit the job table
        # at first used to read a moved table and then wait for its Timeout.
        p, took = self.query("scrape", "--no-stats", "--no-who", "--users-mask", "*")
        quota, listed = scrape_quota(p.stdout)
        self.assertEqual(sorted(listed), self.all_users, p.stderr)
        self.assertEqual(len(quota), len(self.all_users) - 1, p.stderr)  # dave: TEMPFAIL
        self.assertLess(took, TIMEOUT_MS / 1000 / 2, "the read waited for its Timeout")


    def slow_path(self):
        p, _ = self.query("scrape", "--no-stats", "--no-who", "--users-mask", "*")
        quota, listed = scrape_quota(p.stdout)
        self.assertNotIn("scan\t", p.stdout)
        return quota, sorted(listed), p

    def test_scan_gives_the_values_of_the_slow_path(self):
        slow, slow_users, _ = self.slow_path()
        for conns in ("1", "2", "3"):
            with self.subTest(connections=conns):
                p, _ = self.query("scrape", "--no-stats", "--no-who", "--users-mask", "*",
                                  "--scan-dir", self.scan_dir, "--connections", conns)
                quota, listed = scrape_quota(p.stdout)
                self.assertIn("scan\t%s\tok" % conns, p.stdout, p.stderr[-500:])
                self.assertIn("dave@example.com failed in the quota scan: TEMPFAIL",
                              p.stderr)
                self.assertEqual(sorted(listed), slow_users)
                self.assertEqual(quota, slow)
                self.assertIn("u00042@bulk.example", quota)
                # The file is gone once the read is over.
                self.assertEqual(os.listdir(self.scan_dir), [])

    def test_scan_with_configured_users_and_an_unknown_one(self):
        # nobody@ has no rows in the scan (Dovecot skips unknown users):
        # read alone, it fails like on the slow path; the others are scanned.
        users = ["alice@example.com", "nobody@example.com", "carol@example.com",
                 "u00007@bulk.example"]
        args = []
        for u in users:
            args += ["--user", u]
        slow = self.query("scrape", "--no-stats", "--no-who", *args)[0]
        fast = self.query("scrape", "--no-stats", "--no-who", *args,
                          "--scan-dir", self.scan_dir)[0]
        self.assertIn("scan\t2\tok", fast.stdout, fast.stderr)
        self.assertEqual(scrape_quota(fast.stdout), scrape_quota(slow.stdout))
        self.assertIn("nobody@example.com", fast.stderr)

    def test_scan_file_that_cannot_be_written_falls_back_to_the_slow_path(self):
        # (A scan the server fails is covered by the plugin tests with a
        # fake server: a root doveadm server reads any file we can write.)
        slow, slow_users, _ = self.slow_path()
        p, _ = self.query("scrape", "--no-stats", "--no-who", "--users-mask", "*",
                          "--scan-dir", "relative/dir")
        quota, listed = scrape_quota(p.stdout)
        self.assertRegex(p.stdout, r"\nscan\t\d+\tfailed\n", p.stderr)
        self.assertIn("absolute path", p.stderr)
        self.assertEqual(sorted(listed), slow_users)
        self.assertEqual(quota, slow)


    def test_streamed_reads_give_the_values_of_the_read_kept_whole(self):
        # on_user_quota (what the plugin uses): each user's rows are handed
        # over as they arrive and then forgotten: the scan's reply and
        # 2.4's all-user `quota get -A` are streamed, a user's own request
        # is handed over when answered. The same values as without it.
        slow, slow_users, _ = self.slow_path()
        variants = [("scan", [], ["--scan-dir", self.scan_dir, "--connections", "2"]),
                    ("per-user", [], [])]
        if self.d.generation == "2.4":
            variants.append(("all-user quota get -A", ["--generation", "2.4"], []))
        for name, glob, opts in variants:
            with self.subTest(variant=name):
                args = glob + ["scrape", "--no-stats", "--no-who", "--users-mask", "*"]
                whole = scrape_quota(self.query(*args, *opts)[0].stdout)
                p, _ = self.query(*args, *opts, "--stream")
                quota, listed = scrape_quota(p.stdout)
                self.assertEqual(sorted(listed), slow_users, p.stderr[-500:])
                self.assertEqual(quota, whole[0])
                if name != "all-user quota get -A":
                    self.assertEqual(quota, slow)
                self.assertIn("\nstreamed\t%d\n" % len(quota), p.stdout)
                self.assertIn("u00042@bulk.example", quota)

    def test_slices_read_every_user_exactly_once(self):
        # QuotaInterval spreads the users over reads: slice k of n keeps
        # the users whose name hashes to k, so n reads cover everyone once.
        slow, slow_users, _ = self.slow_path()
        n = 4
        seen, merged = [], {}
        for k in range(n):
            p, _ = self.query("scrape", "--no-stats", "--no-who", "--users-mask", "*",
                              "--scan-dir", self.scan_dir, "--slice", str(k), str(n))
            quota, listed = scrape_quota(p.stdout)
            self.assertGreater(len(listed), BULK // n // 2)
            self.assertLess(len(listed), BULK)
            seen += listed
            merged.update(quota)
        self.assertEqual(sorted(seen), slow_users)   # each exactly once
        self.assertEqual(merged, slow)

    def test_max_users_reads_every_user_once_over_its_parts(self):
        # MaxUsers: past the bound a read keeps one part of the listed
        # users (at most the bound), and the parts in turn cover everyone
        # once, with the scan and with one request per user.
        slow, slow_users, _ = self.slow_path()
        bound = 100
        for scan in (True, False):
            with self.subTest(scan=scan):
                more = ["--scan-dir", self.scan_dir] if scan else []
                p, _ = self.query("scrape", "--no-stats", "--no-who", "--users-mask",
                                  "*", "--max-users", str(bound), *more)
                parts = [ln.split("\t") for ln in p.stdout.splitlines()
                         if ln.startswith("parts\t")]
                self.assertEqual(len(parts), 1, p.stdout[-300:] + p.stderr[-300:])
                nparts = int(parts[0][2])
                self.assertEqual(int(parts[0][3]), len(slow_users))
                self.assertEqual(parts[0][4], "0")  # nobody dropped
                self.assertGreaterEqual(nparts, -(-len(slow_users) // bound))
                seen, merged = [], {}
                for k in range(nparts):
                    p, _ = self.query("scrape", "--no-stats", "--no-who",
                                      "--users-mask", "*", "--max-users", str(bound),
                                      "--read-count", str(k), *more)
                    quota, listed = scrape_quota(p.stdout)
                    self.assertIn("parts\t%d\t%d\t" % (k, nparts), p.stdout)
                    self.assertLessEqual(len(listed), bound)
                    self.assertGreater(len(listed), 0)
                    seen += listed
                    merged.update(quota)
                self.assertEqual(sorted(seen), slow_users)   # each exactly once
                self.assertEqual(merged, slow)

    def test_max_users_not_reached_reads_everyone(self):
        slow, slow_users, _ = self.slow_path()
        p, _ = self.query("scrape", "--no-stats", "--no-who", "--users-mask", "*",
                          "--max-users", str(len(slow_users)))
        quota, listed = scrape_quota(p.stdout)
        self.assertNotIn("parts\t", p.stdout)
        self.assertEqual(sorted(listed), slow_users)
        self.assertEqual(quota, slow)


if __name__ == "__main__":
    unittest.main()
