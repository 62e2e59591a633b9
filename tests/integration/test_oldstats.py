# SPDX-License-Identifier: MIT
"""Old statistics against a REAL Dovecot 2.3.19 with the old_stats plugin and
the old-stats service loaded (dovecot_fixture.DovecotServer(old_stats=True)).

For each scope (global, domain, user, ip) what libdoveadm decodes from
`oldstats dump <scope>` over the doveadm protocol (through
tests/tools/dva_query) is compared, value for value, with what the doveadm
CLI prints for the same scope. The CLI prints the header line the protocol
does not carry, so this also checks the built-in 2.3 column set
(lib/src/oldstats.c, after Dovecot's src/old-stats/client-export.c) against
the real server. Times: the CLI prints "<seconds>.<microseconds>" with the
microseconds not zero-padded in the stats fields (lib-stats/stats-parser.c),
the library reports microseconds.

Always against 2.3, whatever $DVA_DOVECOT_GENERATION says: Dovecot 2.4
removed the old_stats plugin and the old-stats service (`oldstats dump`
answers a bare `-` there), so there is nothing to compare on 2.4; the
library's 2.4 answer to old-stats requests is covered with the scripted
2.4 (test_versions.py).

Run with ctest (sets DVA_QUERY), or DVA_QUERY=... python3 -m unittest -v
test_oldstats from tests/integration/ as root.
"""

import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from dovecot_fixture import DovecotError, DovecotServer  # noqa: E402
from e2e_util import dva_query_path  # noqa: E402

DVA_QUERY = dva_query_path()
GENERATION = "2.3"       # old-stats exist in 2.3 only (see above)
SCOPES = ("global", "domain", "user", "ip")
TIME_COLUMNS = {"last_update", "user_cpu", "sys_cpu", "clock_time"}
ATTEMPTS = 5  # the server's numbers move while sessions are open


def micro(text):
    secs, _, frac = text.partition(".")
    return int(secs) * 1000000 + (int(frac) if frac else 0)


def cli_values(d, scope):
    """{(key, column): int} from `doveadm oldstats dump <scope>`."""
    lines = d.doveadm("oldstats", "dump", scope).splitlines()
    header = lines[0].split("\t")
    out = {}
    for line in lines[1:]:
        cells = line.split("\t")
        assert len(cells) == len(header), (header, cells)
        keyed = scope != "global"
        key = cells[0] if keyed else "-"
        for name, cell in list(zip(header, cells))[1 if keyed else 0:]:
            out[(key, name)] = micro(cell) if name in TIME_COLUMNS else int(cell)
    return header, out


def query(d, *args):
    p = subprocess.run([DVA_QUERY, "--socket", d.doveadm_socket] + list(args),
                       capture_output=True, text=True, timeout=30)
    return p


def lib_values(d, scope, *opts):
    p = query(d, *opts, "oldstats", scope)
    if p.returncode != 0:
        raise AssertionError("dva_query failed: %s" % p.stderr)
    out = {}
    for line in p.stdout.splitlines():
        kind, sc, key, column, value = line.split("\t")
        assert kind == "oldstats" and sc == scope, line
        out[(key, column)] = int(value)
    return out


class OldStatsAgainstDovecot23(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = DovecotServer(old_stats=True, tcp=False, generation=GENERATION)
        cls.d.start()
        try:
            a = cls.d.imap_login("alice@example.com")
            a.select("INBOX")
            a.noop()
            b = cls.d.imap_login("bob@example.com")
            b.select("INBOX")
        except BaseException:
            cls.d.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def compare(self, scope):
        """The library's values equal the CLI's, read back to back (retried
        while the server's numbers move between the two reads)."""
        for attempt in range(ATTEMPTS):
            header, before = cli_values(self.d, scope)
            lib = lib_values(self.d, scope)
            _, after = cli_values(self.d, scope)
            if before == after:
                break
            time.sleep(0.2 * (attempt + 1))
        self.assertEqual(before, after, "the server's numbers kept moving")
        self.assertEqual(lib, before)
        return header, lib

    def test_global(self):
        header, lib = self.compare("global")
        self.assertEqual(len(header), 29)
        self.assertGreaterEqual(lib[("-", "num_logins")], 2)
        self.assertGreaterEqual(lib[("-", "num_connected_sessions")], 2)

    def test_domain(self):
        header, lib = self.compare("domain")
        self.assertEqual(header[0], "domain")
        self.assertIn(("example.com", "num_cmds"), lib)

    def test_user(self):
        header, lib = self.compare("user")
        self.assertNotIn("num_connected_sessions", header)
        users = {k for k, _ in lib}
        self.assertTrue({"alice@example.com", "bob@example.com"} <= users, users)

    def test_ip(self):
        _, lib = self.compare("ip")
        self.assertIn(("127.0.0.1", "num_logins"), lib)

    def test_top_n(self):
        """--top 1 keeps only the user with most commands, as the CLI sees it."""
        for attempt in range(ATTEMPTS):
            _, before = cli_values(self.d, "user")
            lib = lib_values(self.d, "user", "--top", "1", "--sort", "num_cmds")
            _, after = cli_values(self.d, "user")
            if before == after:
                break
            time.sleep(0.2 * (attempt + 1))
        cmds = {k: v for (k, c), v in before.items() if c == "num_cmds"}
        best = sorted(cmds, key=lambda u: (-cmds[u], u))[0]
        self.assertEqual({k for k, _ in lib}, {best})
        self.assertGreater(len(cmds), 1)

    def test_22_command_on_23_is_a_clear_error(self):
        """`stats dump user` (the 2.2 name) on 2.3 is the new stats' dump:
        -USAGE, reported as a failed command, not misread rows."""
        p = query(self.d, "--generation", "2.2", "oldstats", "user")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("error\tcommand\t'stats dump' failed", p.stderr)
        self.assertIn("USAGE", p.stderr)
        self.assertEqual(p.stdout, "")



class OldStatsWithoutThePlugin(unittest.TestCase):
    """The same real 2.3 without the old_stats mail plugin: the old-stats
    service still runs (Dovecot's default configuration has it), so
    `oldstats dump` answers: one global row, and no rows for the keyed
    scopes (doveadm logs "no statistics available"). The library reports
    that as it is, not as an error, and detection sees 2.3."""

    def test_answers_without_the_plugin(self):
        with DovecotServer(tcp=False, populate=False, generation=GENERATION) as d:
            p = query(d, "oldstats", "global")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("oldstats\tglobal\t-\tnum_logins\t", p.stdout)
            p = query(d, "oldstats", "user")
            self.assertEqual((p.returncode, p.stdout), (0, ""), p.stderr)
            p = query(d, "scrape", "--no-stats", "--no-who", "--oldstats", "user")
            self.assertEqual(p.stdout.splitlines()[1:], ["observed\t2.3\toldstats dump"],
                             p.stdout + p.stderr)
            self.assertIn("no statistics available", d.log_tail(10))


class OldStatsRefusedFor24(unittest.TestCase):
    def test_fixture_refuses_old_stats_on_24(self):
        with self.assertRaisesRegex(DovecotError, "2.4 has no old-stats"):
            DovecotServer(old_stats=True, generation="2.4")


if __name__ == "__main__":
    unittest.main()
