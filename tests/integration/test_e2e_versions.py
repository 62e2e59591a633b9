# SPDX-License-Identifier: MIT
"""End to end across Dovecot generations: ONE collectd configuration (the
same options in three instances, DovecotVersion left at "auto") reads
- v23: the REAL Dovecot 2.3.19 with the old_stats plugin and service;
- v24: the REAL Dovecot 2.4.1 (a Debian 13 root, dovecot_fixture.py);
- v22: a scripted server replaying Dovecot 2.2 (fake_doveadm.py; its
  docstring names the Dovecot sources it follows; no 2.2 is packaged for
  the Debian releases the tests run on).
Checked: each instance tells its generation before its first per-user
request (so its first read already has quota values) with one log line,
reports the values its server has (old statistics as DERIVE with top-N on
2.2 and 2.3, `stats dump -f` on 2.3 and 2.4, who and quota everywhere, the
quota equal to what the server's CLI says), and a command its server
lacks is logged once, not on every read.

    DVA_PLUGIN=build/plugin/dovecot.so python3 -m unittest -v test_e2e_versions
"""

import os
import sys
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from collectd_fixture import CollectdDaemon, dovecot_block, identifier, instance_block  # noqa: E402
from dovecot_fixture import DovecotServer  # noqa: E402
from e2e_util import built_plugin  # noqa: E402
from fake_doveadm import FakeDoveadm  # noqa: E402

WAIT = 20.0
SAME_OPTIONS = {"QuotaUser": "alice@example.com", "OldStats": ["global", "user"],
                "OldStatsTop": 2}


class SameConfigThreeGenerations(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        plugin = built_plugin()
        cls.d = DovecotServer(generation="2.3", old_stats=True, tcp=False)
        cls.d24 = DovecotServer(generation="2.4", tcp=False)
        cls.f22 = FakeDoveadm("2.2")
        cls.c = None
        try:
            for d in (cls.d, cls.d24):
                d.start()
                a = d.imap_login("alice@example.com")
                a.select("INBOX")
                a.noop()
            cls.f22.start()
            block = dovecot_block(
                instance_block("v23", Socket=cls.d.doveadm_socket, **SAME_OPTIONS),
                instance_block("v22", Socket=cls.f22.socket, **SAME_OPTIONS),
                instance_block("v24", Socket=cls.d24.doveadm_socket, **SAME_OPTIONS))
            cls.c = CollectdDaemon(block, plugin_path=plugin, interval=1)
            cls.c.start()
            # Every instance past detection and a few reads beyond it.
            for inst in ("v22", "v23", "v24"):
                cls.c.wait_reads(identifier(inst, "bool", "up"), 4, timeout=WAIT)
        except BaseException:
            cls._teardown()
            raise

    @classmethod
    def _teardown(cls):
        rc = 0
        try:
            if cls.c is not None:
                rc = cls.c.stop()
                valgrind = cls.c.valgrind_text()[-4000:]
                cls.c.cleanup()
                # 99: valgrind found errors (DVA_VALGRIND=1)
                if rc != 0:
                    raise AssertionError("collectd exit code %s\n%s" % (rc, valgrind))
        finally:
            cls.f22.stop()
            cls.d24.stop()
            cls.d.stop()

    @classmethod
    def tearDownClass(cls):
        cls._teardown()

    def lines(self, inst, *needles):
        tag = 'instance "%s"' % inst
        return [line for line in self.c.log_lines()
                if tag in line and all(n in line for n in needles)]

    def value(self, inst, type_, ti):
        return self.c.value(identifier(inst, type_, ti))

    def raw(self, inst, type_, ti):
        """The value as stored (csv, StoreRates false): a DERIVE's counter."""
        return self.c.csv_last(identifier(inst, type_, ti))

    def values_of(self, inst):
        return [v for v in self.c.listval() if "/dovecot-%s/" % inst in v]

    def test_detected_once_each(self):
        for inst, gen in (("v22", "2.2"), ("v23", "2.3"), ("v24", "2.4")):
            self.assertEqual(len(self.lines(inst, "answers like Dovecot %s" % gen)), 1,
                             self.c.log_tail())
            self.assertEqual(len(self.lines(inst, "answers like Dovecot")), 1)

    def test_v23_real_old_stats(self):
        """Old stats of the real 2.3: global counters as DERIVE, at most
        OldStatsTop users; new stats and quota as usual."""
        cli = self.d.doveadm("oldstats", "dump", "global").splitlines()
        row = dict(zip(cli[0].split("\t"), cli[1].split("\t")))
        got = self.raw("v23", "derive", "old_global-num_logins")
        self.assertIsNotNone(got)
        self.assertLessEqual(got, int(row["num_logins"]))  # it only grows
        self.assertGreaterEqual(got, 1)
        users = {v.split("/")[-1] for v in self.values_of("v23")
                 if v.split("/")[-1].startswith("derive-old_user-")
                 and v.endswith("-num_cmds")}
        self.assertTrue(1 <= len(users) <= 2, users)
        self.assertIsNotNone(self.value("v23", "gauge", "old_global-num_connected_sessions"))
        self.assertIsNotNone(self.value("v23", "derive", "old_global-user_cpu_us"))
        self.assertIsNotNone(self.value("v23", "bytes", "alice@example.com-User_quota-used"))
        self.assertEqual(self.lines("v23", "is not read"), [])

    def test_v22(self):
        """2.2: old stats through `stats dump <scope>` with the 2.2 columns,
        top 2 users by num_cmds (carol and bob; alice has fewest); no new
        stats (one NOTICE); the global scope 2.2.0 lacks: one warning."""
        self.assertEqual(self.raw("v22", "derive", "old_user-carol@example.org-user_cpu_us"),
                         12000)
        # num_cmds grows by 15 a read for carol (the fake): a positive rate
        self.assertGreater(self.value("v22", "derive", "old_user-carol@example.org-num_cmds"),
                           0)
        names = {v.split("/")[-1] for v in self.values_of("v22")}
        self.assertIn("derive-old_user-bob@example.com-num_cmds", names)
        self.assertNotIn("derive-old_user-alice@example.com-num_cmds", names)
        self.assertFalse([n for n in names if n.startswith("derive-imap_command")], names)
        self.assertEqual(self.value("v22", "bytes", "alice@example.com-User_quota-used"),
                         120 * 1024)
        self.assertEqual(self.value("v22", "users", "imap"), 1)
        self.assertEqual(len(self.lines("v22", "stats dump is not read")), 1)
        self.assertEqual(len(self.lines("v22", "old statistics (scope global) cannot be "
                                               "read", "TEMPFAIL 75")), 1,
                         self.c.log_tail())
        sent = [a for _, a in self.f22.requests]
        self.assertEqual(len([a for a in sent if a[:2] == ["stats dump", "-f"]]), 1,
                         "stats dump -f only in the read that detected 2.2")

    def quota_cli(self, d, user):
        """{(type, column): value} of `doveadm quota get -u USER` (KiB)."""
        lines = d.doveadm("-f", "tab", "quota", "get", "-u", user).splitlines()
        head = lines[0].split("\t")
        out = {}
        for line in lines[1:]:
            row = dict(zip(head, line.split("\t")))
            out[row["Type"]] = row
        return out

    def first_value(self, inst, type_, ti):
        """The first value collectd stored (csv), read or not since."""
        rows = self.c.csv_rows(identifier(inst, type_, ti))
        return rows[0][1][0] if rows else None

    def test_v24_real(self):
        """The real 2.4.1: new stats, no old stats (one NOTICE per scope),
        who, and alice's quota equal to the 2.4 CLI's from the FIRST read
        (auto asked for the generation before the per-user request)."""
        self.assertIsNotNone(self.value("v24", "derive", "imap_command"))
        names = {v.split("/")[-1] for v in self.values_of("v24")}
        self.assertFalse([n for n in names if "old_" in n], names)
        self.assertIsNotNone(self.value("v24", "users", "imap"))
        cli = self.quota_cli(self.d24, "alice@example.com")
        used = int(cli["STORAGE"]["Value"]) * 1024
        self.assertEqual(self.first_value("v24", "bytes", "alice@example.com-User_quota-used"),
                         used)
        self.assertEqual(self.value("v24", "bytes", "alice@example.com-User_quota-limit"),
                         int(cli["STORAGE"]["Limit"]) * 1024)
        self.assertEqual(self.value("v24", "email_count", "alice@example.com-User_quota-used"),
                         int(cli["MESSAGE"]["Value"]))
        for scope in ("global", "user"):
            self.assertEqual(len(self.lines("v24", "old statistics (scope %s) is not read"
                                            % scope, "Dovecot 2.4 has no")), 1)
        self.assertEqual(self.lines("v24", "refusing to credit"), [])
        self.assertEqual(self.lines("v24", "could not be read"), [])

if __name__ == "__main__":
    unittest.main()
