# SPDX-License-Identifier: MIT
"""libdoveadm (through tests/tools/dva_query) against servers shaped like
Dovecot 2.2 and 2.4: tests/integration/fake_doveadm.py replays what those
versions send (its docstring names the Dovecot sources it follows). The
real Dovecot 2.3 is covered by test_lib.py and test_oldstats.py.

    DVA_QUERY=build/tests/integration/dva_query python3 -m unittest -v test_versions
"""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from fake_doveadm import FakeDoveadm  # noqa: E402
from e2e_util import dva_query_path  # noqa: E402

DVA_QUERY = dva_query_path()


class Out:
    def __init__(self, p):
        self.rc, self.stdout, self.stderr = p.returncode, p.stdout, p.stderr
        self.lines = [line.split("\t") for line in p.stdout.splitlines()]

    def rows(self, kind):
        return [line[1:] for line in self.lines if line[0] == kind]

    def __repr__(self):
        return "rc=%d\n%s\n%s" % (self.rc, self.stdout, self.stderr)


def query(fake, *args):
    return Out(subprocess.run([DVA_QUERY, "--socket", fake.socket, "--timeout-ms", "5000"]
                              + list(args), capture_output=True, text=True, timeout=30))


def oldstats(out, scope, key, column):
    for s, k, c, v in out.rows("oldstats"):
        if (s, k, c) == (scope, key, column):
            return int(v)
    return None


class Dovecot22(unittest.TestCase):
    def setUp(self):
        self.f = FakeDoveadm("2.2").start()
        self.addCleanup(self.f.stop)

    def test_pinned_22(self):
        """DovecotVersion 2.2: old stats with `stats dump <scope>` and the
        2.2 columns, no `stats dump -f`, numeric failure codes decoded."""
        o = query(self.f, "--generation", "2.2", "scrape", "--user", "alice@example.com",
                  "--oldstats", "user", "--oldstats", "domain", "--oldstats", "global")
        self.assertEqual(o.rows("unsupported")[0][0], "stats", o)
        self.assertIn("Dovecot 2.2", o.rows("unsupported")[0][1])
        # "0.012000" is 12000 us; num_cmds grows per read
        self.assertEqual(oldstats(o, "user", "alice@example.com", "user_cpu"), 12000)
        self.assertEqual(oldstats(o, "user", "bob@example.com", "sys_cpu"), 1000500)
        self.assertEqual(oldstats(o, "domain", "example.org", "num_logins"), 2)
        self.assertIsNone(oldstats(o, "user", "alice@example.com", "clock_time"))
        # 2.2.0 has no global scope: a numeric failure, decoded and named
        self.assertIn("'stats dump' failed", o.stderr)
        self.assertIn("TEMPFAIL 75", o.stderr)
        self.assertEqual(o.rows("quota")[0][:4],
                         ["alice@example.com", "User quota", "STORAGE", "120"])
        sent = [a for _, a in self.f.requests]
        self.assertIn(["stats dump", "user"], sent)
        self.assertFalse([a for a in sent if a[:2] == ["stats dump", "-f"]], sent)
        self.assertFalse([a for a in sent if a[0] == "oldstats dump"], sent)

    def test_auto_detects_22(self):
        """auto sends the 2.3 commands; `stats dump -f` answered -64 (a
        numeric code on a server-wide command) shows 2.2."""
        o = query(self.f, "scrape", "--oldstats", "user")
        self.assertEqual(o.rows("observed")[0][0], "2.2", o)
        self.assertIn("numeric", o.rows("observed")[0][1])

    def test_top_n(self):
        o = query(self.f, "--generation", "2.2", "--top", "1", "--sort", "num_cmds",
                  "scrape", "--no-stats", "--no-who", "--oldstats", "user")
        keys = {k for _, k, _, _ in o.rows("oldstats")}
        self.assertEqual(keys, {"carol@example.org"}, o)  # 3 x num_cmds

    def test_oldstats_reply_that_does_not_fit_names_server_and_command(self):
        """A `stats dump user` reply one column short of the 2.2 layout is
        refused as a whole, and the error says which server and which
        command, like a transport error does."""
        self.f._oldstats22 = lambda scope: FakeDoveadm._oldstats22(self.f, scope)[:-1]
        o = query(self.f, "--generation", "2.2", "scrape", "--no-stats", "--no-who",
                  "--oldstats", "user")
        self.assertEqual(o.rows("oldstats"), [], o)
        errors = [line for line in o.stderr.splitlines() if line.startswith("error\t")]
        self.assertEqual(len(errors), 1, o)
        self.assertIn("unix:" + self.f.socket, errors[0])
        self.assertIn("the reply to 'stats dump user'", errors[0])

    def test_numeric_nouser(self):
        o = query(self.f, "quota", "nobody@example.com")
        self.assertEqual(o.rc, 1)
        self.assertIn("NOUSER 67", o.stderr)


class Dovecot24(unittest.TestCase):
    """What a real 2.4.1 cannot show, or what only a recording server can:
    the requests the library sends. The rest of 2.4 (values, the all-user
    `quota get -A`, detection) is tested against a real 2.4.1 by
    test_lib.py and test_e2e_plugin.py with DVA_DOVECOT_GENERATION=2.4."""

    def setUp(self):
        self.f = FakeDoveadm("2.4").start()
        self.addCleanup(self.f.stop)

    def test_auto_asks_before_per_user_requests(self):
        """DovecotVersion auto: the generation probe (`oldstats dump
        global`) is answered before any per-user request is sent, and the
        per-user requests then go without -A (2.4 lists every user for
        -A); `QuotaUsers *` is one server-wide `quota get -A`."""
        o = query(self.f, "scrape", "--no-stats", "--no-who", "--user",
                  "alice@example.com", "--users-mask", "*", "--mailbox")
        self.assertEqual(o.rows("observed")[0][0], "2.4", o)
        sent = list(self.f.requests)
        self.assertEqual(sent[0], ("", ["oldstats dump", "global"]), sent)
        per_user = [(u, a) for u, a in sent if u != ""]
        self.assertTrue(per_user, sent)
        for _, argv in per_user:
            self.assertNotIn("-A", argv, sent)
        self.assertIn(("", ["quota get", "-A"]), sent)
        self.assertEqual(self.f.requests_named("user"), [])
        self.assertIn(["alice@example.com", "User quota", "STORAGE", "120", "10240", "1"],
                      o.rows("quota"))
        self.assertIn(["bob@example.com", "INBOX", "20", "10", "100000"],
                      o.rows("mailbox"))

    def test_all_user_quota_not_iterated(self):
        """A 2.4 that answers the all-user `quota get -A` as 2.3 does
        (-NOUSER; a real 2.4.1 iterates, so this is scripted): the same
        read lists the users with `user *` and asks each one, so every
        user's quota is still read."""
        f = FakeDoveadm("2.4", all_users_quota=False).start()
        self.addCleanup(f.stop)
        o = query(f, "--generation", "2.4", "scrape", "--no-stats", "--no-who",
                  "--users-mask", "*")
        self.assertEqual(sorted(u[0] for u in o.rows("users")),
                         ["alice@example.com", "bob@example.com", "carol@example.org"], o)
        self.assertIn(["bob@example.com", "User quota", "STORAGE", "95", "100", "95"],
                      o.rows("quota"))
        self.assertEqual(len(o.rows("quota")), 6, o)
        self.assertEqual(f.requests_named("user"), [("", ["user", "*"])])
        self.assertEqual(sorted(u for u, _ in f.requests_named("quota get")),
                         ["", "alice@example.com", "bob@example.com",
                          "carol@example.org"])

    def test_new_status_codes(self):
        o = query(self.f, "quota", "changed@example.com", "expired@example.com",
                  "moved@example.com", "alice@example.com")
        self.assertEqual(o.rc, 1)
        err = o.stderr
        self.assertIn("CHANGED (Dovecot 2.4: the data changed", err)
        self.assertIn("EXPIRED (Dovecot 2.4", err)
        self.assertIn("REFERRAL moved@backend2.example.com (Dovecot 2.4: another server",
                      err)
        # the pipelined request after the failures is still answered
        self.assertEqual(o.rows("quota")[0][0], "alice@example.com")

    def test_who_sessions_extra_columns(self):
        o = query(self.f, "--generation", "2.4", "who-sessions")
        self.assertEqual(o.rows("session"),
                         [["alice@example.com", "imap", "101", "127.0.0.1", "10.0.0.1", ""],
                          ["bob@example.com", "pop3", "103", "127.0.0.1", "10.0.0.1",
                           "admin"]], o)
        # read as 2.3 (4 columns) the same bytes are refused, not misread
        o = query(self.f, "who-sessions")
        self.assertEqual(o.rc, 1)
        self.assertEqual(o.rows("session"), [])


if __name__ == "__main__":
    unittest.main()
