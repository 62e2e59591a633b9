"""Reading many users' quota against a real private Dovecot 2.3.19: the fast
paths must give exactly the values of the slow path (one `quota get` per
user), and a read must end when its work is done, not at its Timeout.

One Dovecot for the class: the default users (alice .. erin, with dave's
broken quota backend) plus BULK users with no mail.  Run with ctest (sets
DVA_QUERY), or: DVA_QUERY=build/.../dva_query python3 -m unittest -v
test_scale  (from tests/integration/, as root).
"""

import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from dovecot_fixture import DEFAULT_USERS, DovecotServer, bulk_users  # noqa: E402

DVA_QUERY = os.environ.get("DVA_QUERY") or os.path.join(
    HERE, "..", "..", "build", "tests", "integration", "dva_query")
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
        cls.d = DovecotServer(users=users, metrics=False)
        cls.d.start()
        cls.all_users = sorted(users)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

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


if __name__ == "__main__":
    unittest.main()
