# SPDX-License-Identifier: MIT
"""End to end: the server-health values and notifications (`service
status`, `process status`, `indexer list`, `penalty`) and the stats
counters across a reload, through a real collectd 5.12 with the dovecot.so
under test ($DVA_PLUGIN) against a real private Dovecot (2.3 or 2.4:
$DVA_DOVECOT_GENERATION) whose imap service has process_limit 2.  What
collectd holds is compared with what the doveadm CLI of that Dovecot says.

    DVA_PLUGIN=build/plugin/dovecot.so python3 -m unittest -v test_e2e_health
"""

import imaplib
import os
import socket
import sys
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from collectd_fixture import dovecot_block, identifier  # noqa: E402
from dovecot_fixture import DovecotServer  # noqa: E402
from e2e_util import CollectdTestCase, built_plugin  # noqa: E402

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
WAIT = 20.0
LIMITED = "service imap {\n  process_limit = 2\n}\n"
# services whose process count moves under the test's own feet: the
# doveadm server answering the plugin (and the CLI), logins, workers
MOVING = {"doveadm", "imap-login", "auth-worker", "indexer-worker", "imap"}


def tab_rows(text):
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:]]


class TestHealthE2E(CollectdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.plugin = built_plugin()
        cls.d = DovecotServer(extra_config=LIMITED)
        cls.d.start()
        cls.gen = cls.d.generation

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def cli(self, *args):
        return tab_rows(self.d.doveadm("-f", "tab", *args))

    def poll(self, predicate, what, timeout=WAIT, c=None):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = predicate()
            if last is True:
                return
            if time.monotonic() >= deadline:
                self.fail("timed out waiting for %s (last: %r)%s"
                          % (what, last, "\n" + c.log_tail() if c else ""))
            time.sleep(0.1)

    def test_values_equal_cli(self):
        d = self.d
        for _ in range(2):      # a penalty for 127.0.0.1
            x = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=20)
            try:
                x.login(ALICE, "wrong password")
            except imaplib.IMAP4.error:
                pass
            x.shutdown()
        c = self.start_collectd(dovecot_block(
            "h", Socket=d.doveadm_socket, CollectStats=False, CollectWho=False,
            CollectServices=True, CollectProcesses=True, CollectIndexer=True,
            CollectPenalty=True))
        i = lambda t, ti="": identifier("h", t, ti)  # noqa: E731
        c.wait_values([i("vs_processes", "auth-limit"), i("vs_processes", "auth-idle"),
                       i("count", "penalty-ips")], timeout=WAIT)

        with self.subTest("service status"):
            def plugin_side():
                out = {}
                for row in self.cli("service", "status"):
                    s = row["name"]
                    out[s] = (c.value(i("vs_processes", s + "-limit")),
                              None if s in MOVING else c.value(i("vs_processes", s)),
                              None if s in MOVING else
                              c.value(i("vs_processes", s + "-available")))
                return out

            def cli_side():
                return {r["name"]: (float(r["process_limit"]),
                                    None if r["name"] in MOVING else float(r["process_count"]),
                                    None if r["name"] in MOVING else float(r["process_avail"]))
                        for r in self.cli("service", "status")}
            self.poll(lambda: plugin_side() == cli_side() or (plugin_side(), cli_side()),
                      "service status values to equal the CLI's", c=c)
            self.assertEqual(c.value(i("vs_processes", "imap-limit")), 2.0)
            # auth has one process: no pool use (it would always be 100 %)
            self.assertIsNone(c.value(i("percent", "auth-processes")))

        with self.subTest("process status"):
            def idle_cli():
                out = {}
                for r in self.cli("process", "status"):
                    # the 2.4.1 indexer left idle and came back between the
                    # plugin's read and the CLI's under load (seen), so it is
                    # not compared either
                    if r["name"] not in MOVING and r["name"] != "indexer":
                        out[r["name"]] = out.get(r["name"], 0) + (r["idle_start"] != "0")
                return out

            def idle_plugin():
                return {s: c.value(i("vs_processes", s + "-idle")) for s in idle_cli()}
            self.poll(lambda: idle_plugin() == {k: float(v) for k, v in idle_cli().items()}
                      or (idle_plugin(), idle_cli()), "idle processes to equal the CLI's",
                      c=c)

        with self.subTest("indexer list"):
            if self.gen == "2.3":
                # 2.3 has no `indexer list`: logged once, no value
                self.poll(lambda: any("indexer list is not read" in line
                                      for line in c.log_lines()), "the NOTICE", c=c)
                self.assertIsNone(c.value(i("queue_length", "indexer")))
            else:
                rows = self.cli("indexer", "list")
                self.assertEqual(c.value(i("queue_length", "indexer")), float(len(rows)))

        with self.subTest("penalty"):
            rows = self.cli("penalty")
            self.assertEqual(c.value(i("count", "penalty-ips")), float(len(rows)))
            self.assertEqual(c.value(i("count", "penalty-max")),
                             float(max([int(r["penalty"]) for r in rows] or [0])))
            self.assertGreaterEqual(len(rows), 1)

    def test_indexer_backlog(self):
        """2.4: a worker that never indexes keeps requests in the indexer;
        queue_length-indexer is the CLI's row count."""
        if self.gen != "2.4":
            self.skipTest("`indexer list` is a 2.4 command")
        stalled = "service indexer-worker {\n  executable = /bin/sleep 600\n}\n"
        with DovecotServer(extra_config=stalled) as d:
            for u in (ALICE, BOB, CAROL):
                d.doveadm("index", "-u", u, "-q", "INBOX")
            c = self.start_collectd(dovecot_block(
                "ix", Socket=d.doveadm_socket, CollectStats=False, CollectWho=False,
                CollectServices=False, CollectIndexer=True))
            ident = identifier("ix", "queue_length", "indexer")
            c.wait_values([ident], timeout=WAIT)
            rows = tab_rows(d.doveadm("-f", "tab", "indexer", "list"))
            self.assertEqual(len(rows), 3, rows)
            self.poll(lambda: c.value(ident) == float(len(rows)) or c.value(ident),
                      "queue_length-indexer == %d" % len(rows), c=c)

    def test_process_limit_warning_then_okay(self):
        d = self.d
        c = self.start_collectd(dovecot_block("lim", Socket=d.doveadm_socket,
                                              CollectStats=False, CollectWho=False,
                                              CollectProcesses=True))
        i = lambda t, ti="": identifier("lim", t, ti)  # noqa: E731
        c.wait_values([i("vs_processes", "imap")], timeout=WAIT)
        self.assertEqual(c.notifications(plugin="dovecot", severity="WARNING"), [])
        served0 = c.csv_last(i("total_requests", "imap-clients")) or 0.0
        s1 = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=20)
        s1.login(ALICE, d.users[ALICE])
        s2 = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=20)
        s2.login(BOB, d.users[BOB])
        # the third login waits for an imap process that cannot start
        s3 = socket.create_connection(("127.0.0.1", d.imap_port), timeout=20)
        s3.recv(1000)
        s3.sendall(b"a LOGIN %s %s\r\n" % (CAROL.encode(), d.users[CAROL].encode()))
        try:
            self.poll(lambda: bool(c.notifications(plugin="dovecot", severity="WARNING",
                                                   type="vs_processes",
                                                   type_instance="imap")),
                      "a WARNING for imap at its process limit", c=c)
            warn = c.notifications(plugin="dovecot", severity="WARNING")
            self.assertEqual(len(warn), 1, warn)
            self.assertIn("service imap is at its process limit (2 of 2", warn[0]["message"])
            # awaited, not read at once: once (2.4.1, CI under load) the value
            # right after the WARNING was 0 processes; the cause is not known
            def at_limit():
                got = (c.value(i("vs_processes", "imap")),
                       c.value(i("percent", "imap-processes")),
                       c.value(i("count", "imap-client_slots_free")))
                return got == (2.0, 100.0, 0.0) or got
            self.poll(at_limit, "imap at 2 of 2 processes, no free slot", c=c)
        finally:
            for s in (s1, s2):
                s.logout()
        # carol gets a process once one is free; then she logs out too
        s3.settimeout(20)
        got = b""
        while b"a OK" not in got and b"a NO" not in got:
            chunk = s3.recv(1000)
            if not chunk:
                break
            got += chunk
        s3.sendall(b"b LOGOUT\r\n")
        s3.close()
        self.poll(lambda: bool(c.notifications(plugin="dovecot", severity="OKAY",
                                               type="vs_processes", type_instance="imap")),
                  "an OKAY for imap", c=c)
        okay = c.notifications(plugin="dovecot", severity="OKAY", type="vs_processes")
        self.assertEqual(len(okay), 1, okay)
        self.assertIn("service imap has free client slots again", okay[0]["message"])
        # alice's and bob's sessions were seen by reads, and their
        # processes have gone (service_count 1); carol's may have come and
        # gone between two reads, which `process status` cannot see
        self.poll(lambda: (c.csv_last(i("total_requests", "imap-clients")) or 0) >=
                  served0 + 2 or c.csv_last(i("total_requests", "imap-clients")),
                  "clients served to grow by 2", c=c)
        self.poll(lambda: (c.csv_last(i("total_events", "imap-restarts")) or 0) >= 2
                  or c.csv_last(i("total_events", "imap-restarts")),
                  "2 imap processes gone", c=c)
        self.assertEqual(len(c.notifications(plugin="dovecot", severity="WARNING")), 1)

    def test_off_switch(self):
        d = self.d
        c = self.start_collectd(dovecot_block("off", Socket=d.doveadm_socket,
                                              CollectStats=False, CollectWho=False,
                                              ServiceNotifications=False))
        i = lambda t, ti="": identifier("off", t, ti)  # noqa: E731
        c.wait_values([i("vs_processes", "imap")], timeout=WAIT)
        s1 = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=20)
        s1.login(ALICE, d.users[ALICE])
        s2 = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=20)
        s2.login(BOB, d.users[BOB])
        try:
            self.poll(lambda: c.value(i("vs_processes", "imap")) == 2.0,
                      "imap at 2 processes", c=c)
            c.wait_reads(i("vs_processes", "imap"), 2)
        finally:
            s1.logout()
            s2.logout()
        self.assertEqual(c.notifications(plugin="dovecot", type="vs_processes"), [])

    def test_stats_reload(self):
        """A real `doveadm reload` restarts Dovecot's stats counters: the
        dispatched DERIVE stays monotone (csv: the raw series), collectd's
        rate never goes negative, and one INFO line tells."""
        d = self.d
        c = self.start_collectd(dovecot_block("st", Socket=d.doveadm_socket,
                                              CollectWho=False))
        ident = identifier("st", "derive", "imap_command")
        c.wait_values([ident], timeout=WAIT)
        c.wait_reads(ident, 2)
        before = c.csv_last(ident)
        self.assertGreater(before, 0)
        rates = []
        d.doveadm("reload")
        # Right after the reload an old imap-login may still accept and
        # answer "* BYE Server shutting down": connect until a new one does.
        s = None

        def imap_up():
            nonlocal s
            try:
                s = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=20)
                return True
            except (imaplib.IMAP4.error, OSError) as e:
                return repr(e)
        self.poll(imap_up, "an IMAP greeting after the reload", c=c)
        s.login(ALICE, d.users[ALICE])
        s.select("INBOX")
        s.noop()
        s.logout()
        self.poll(lambda: any("statistics restarted" in line for line in c.log_lines()),
                  "the INFO line about the reset", c=c)
        for _ in range(3):
            c.wait_reads(ident, 1)
            rates.append(c.value(ident))
        rows = [v[0] for _, v in c.csv_rows(ident)]
        self.assertEqual(rows, sorted(rows), "the dispatched counter went down")
        self.assertGreater(rows[-1], before, "the counts after the reload were lost")
        self.assertTrue(all(r >= 0 for r in rates), rates)
        self.assertEqual(len([line for line in c.log_lines()
                              if "statistics restarted" in line]), 1)


if __name__ == "__main__":
    unittest.main()
