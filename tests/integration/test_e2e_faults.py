# SPDX-License-Identifier: MIT
"""End to end, faults a real Dovecot shows: a real collectd 5.12 with the
dovecot.so under test ($DVA_PLUGIN) reads a real private Dovecot (2.3 or
2.4: the fixture's generation, $DVA_DOVECOT_GENERATION) over
TCP with a password while the test restarts Dovecot between reads, or
stops it for several reads and starts it again (same socket, same ports,
same mail).  collectd must keep running, values must resume by themselves,
the log must say once per outage what went wrong, and the password must
appear nowhere.  The faults a real Dovecot cannot be made to show are in
tests/plugin/test_plugin_faults.c.

Nothing sleeps to synchronise: every wait polls a condition against a
deadline.  DVA_VALGRIND=1 runs collectd under valgrind (exit code 99 on
errors or definite leaks fails the test).

    DVA_PLUGIN=build/plugin/dovecot.so python3 -m unittest -v test_e2e_faults
"""

import os
import sys
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from collectd_fixture import dovecot_block, identifier  # noqa: E402
from dovecot_fixture import DEFAULT_USERS, DovecotServer  # noqa: E402
from e2e_util import CollectdTestCase, built_plugin  # noqa: E402

ALICE = "alice@example.com"
BOB = "bob@example.com"
ROOT = "User_quota"
WAIT = 20.0


class TestE2EFaults(CollectdTestCase):
    dovecot = None

    @classmethod
    def setUpClass(cls):
        cls.plugin = built_plugin()
        users = {u: DEFAULT_USERS[u] for u in (ALICE, BOB)}
        cls.dovecot = DovecotServer(users=users)
        cls.dovecot.start()

    @classmethod
    def tearDownClass(cls):
        if cls.dovecot is not None:
            cls.dovecot.stop()

    def setUp(self):
        super().setUp()
        self.dovecot.start()        # a test may leave it stopped when it fails

    # -- helpers --------------------------------------------------------------
    def collectd(self, name, **options):
        d = self.dovecot
        block = dovecot_block(name, Host="127.0.0.1", Port=d.doveadm_port,
                              Password=d.password, QuotaUser=[ALICE, BOB], **options)
        return self.start_collectd(block)

    def ids(self, name):
        i = lambda t, ti="": identifier(name, t, ti)  # noqa: E731
        return {"up": i("bool", "up"),
                "alice": i("bytes", "%s-%s-used" % (ALICE, ROOT)),
                "bob": i("bytes", "%s-%s-used" % (BOB, ROOT)),
                "bob_pct": i("percent", "%s-%s-storage" % (BOB, ROOT))}

    def quota_kib(self, user):
        out = self.dovecot.doveadm("-f", "tab", "quota", "get", "-u", user)
        for line in out.splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) > 3 and cols[1] == "STORAGE":
                return int(cols[2])
        raise AssertionError("no STORAGE row for %s: %r" % (user, out))

    def assert_values_resume(self, c, ids):
        """Every value is read again after the fault, each user's own."""
        t = max(c.value_time(ids["alice"]) or 0, c.value_time(ids["bob"]) or 0)
        c.wait_for(lambda: c.value(ids["up"]) == 1.0, WAIT, what="bool-up 1 again")
        c.wait_for(lambda: min(c.value_time(ids["alice"]) or 0,
                               c.value_time(ids["bob"]) or 0) > t, WAIT,
                   what="quota values read again")
        self.assertEqual(c.value(ids["alice"]), self.quota_kib(ALICE) * 1024.0)
        self.assertEqual(c.value(ids["bob"]), self.quota_kib(BOB) * 1024.0)
        self.assertNotEqual(c.value(ids["alice"]), c.value(ids["bob"]))

    def error_lines(self, c, name):
        return [line for line in c.log_lines() if 'instance "%s"' % name in line
                and "[error]" in line]

    @staticmethod
    def server_notes(c, name):
        """Severities of the server up/down notifications, oldest first."""
        return [n["severity"] for n in c.notifications(plugin_instance=name, type="bool")]

    def assert_no_password(self, c):
        log, csv = c.log_text(), c.csv_text()
        self.assertNotIn(self.dovecot.password, log, "the password is in the log")
        self.assertNotIn(self.dovecot.password, csv, "the password is in the csv files")

    # -- the faults -----------------------------------------------------------
    def test_restarted_between_reads(self):
        """Dovecot restarts right after a read: the next reads just work.
        If a read fell into the restart after all, that outage is logged
        once and ends with one OKAY."""
        d = self.dovecot
        c = self.collectd("rs", Interval=3, Timeout=2)
        ids = self.ids("rs")
        c.wait_values(list(ids.values()), timeout=WAIT)
        c.wait_for(lambda: c.value(ids["up"]) == 1.0, WAIT, what="bool-up 1")
        e0, n0 = len(self.error_lines(c, "rs")), len(self.server_notes(c, "rs"))
        before = c.wait_reads(ids["up"], 1, timeout=WAIT)   # a read just ended
        t0 = time.monotonic()
        d.stop(keep_files=True)
        d.start()
        restart = time.monotonic() - t0
        c.wait_for(lambda: (c.value_time(ids["up"]) or 0) > before, WAIT,
                   what="the read after the restart")
        self.assert_values_resume(c, ids)
        c.wait_reads(ids["up"], 1, timeout=WAIT)
        self.assertTrue(c.running(), "collectd must keep running")
        errors = self.error_lines(c, "rs")[e0:]
        failures = [n for n in self.server_notes(c, "rs")[n0:] if n == "FAILURE"]
        okays = [n for n in self.server_notes(c, "rs")[n0:] if n == "OKAY"]
        sys.stderr.write("[restart %.2fs, %d outage(s) seen] " % (restart, len(failures)))
        self.assertLessEqual(len(errors), 1, "\n".join(errors))
        self.assertEqual(len(errors), len(failures), c.log_tail())
        self.assertEqual(len(okays), len(failures), c.log_tail())
        self.assertEqual(c.value(ids["up"]), 1.0)
        self.assert_no_password(c)

    def test_stopped_for_several_reads(self):
        d = self.dovecot
        c = self.collectd("stop")
        ids = self.ids("stop")
        c.wait_values(list(ids.values()), timeout=WAIT)
        c.wait_for(lambda: c.value(ids["up"]) == 1.0, WAIT, what="bool-up 1")
        # Under valgrind the very first read may time out; count from here.
        e0, n0 = len(self.error_lines(c, "stop")), len(self.server_notes(c, "stop"))
        d.stop(keep_files=True)
        c.wait_for(lambda: c.value(ids["up"]) == 0.0, WAIT, what="bool-up 0")
        quota_time = c.value_time(ids["alice"])
        c.wait_reads(ids["up"], 3, timeout=WAIT)      # several reads of a stopped Dovecot
        self.assertTrue(c.running(), "collectd must keep running")
        self.assertEqual(c.value(ids["up"]), 0.0)
        # unchanged, or gone from collectd's cache (missed 2 intervals)
        self.assertIn(c.value_time(ids["alice"]), (quota_time, None),
                      "no quota value while Dovecot is stopped")
        errors = self.error_lines(c, "stop")[e0:]
        self.assertEqual(len(errors), 1, "one error line for the outage, not one per "
                         "read:\n%s" % "\n".join(errors))
        where = "127.0.0.1:%d" % d.doveadm_port
        self.assertIn(where, errors[0], "the log names the server")
        # The stop may fall into a read (a connection reset, closed or left
        # unanswered while Dovecot goes down) or between reads (refused).
        self.assertTrue(any(w in errors[0] for w in ("connect to", "reply to", "while")),
                        "the log names the step: " + errors[0])
        self.assertTrue(any(w in errors[0] for w in ("refused", "reset", "closed",
                                                     "timed out")),
                        "the log says what came instead: " + errors[0])
        self.assertEqual(self.server_notes(c, "stop")[n0:], ["FAILURE"])

        d.start()
        self.assert_values_resume(c, ids)
        c.wait_for(lambda: "OKAY" in self.server_notes(c, "stop")[n0:], WAIT,
                   what="the OKAY notification")
        c.wait_reads(ids["up"], 1, timeout=WAIT)
        self.assertTrue(c.running())
        self.assertEqual(self.server_notes(c, "stop")[n0:], ["FAILURE", "OKAY"])
        # bob's quota WARNING was sent once, before the outage, not again
        self.assertEqual([n["severity"] for n in c.notifications(plugin_instance="stop",
                                                                 type="percent")],
                         ["WARNING"])
        self.assertEqual(len(self.error_lines(c, "stop")[e0:]), 1)
        self.assert_no_password(c)


if __name__ == "__main__":
    unittest.main(verbosity=2)
