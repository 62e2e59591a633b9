# SPDX-License-Identifier: MIT
"""dovecot-collectd-check ($DVA_CHECK) against a real private Dovecot (2.3 or
2.4: the fixture's generation, $DVA_DOVECOT_GENERATION): the
table, PUTVAL and Nagios outputs, the exit status (0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN), configuration files in collectd syntax, and that
its identifiers are the ones a real collectd gets from the plugin
($DVA_PLUGIN) for the same Dovecot.

    DVA_CHECK=build/check/dovecot-collectd-check DVA_PLUGIN=build/plugin/dovecot.so \
        python3 -m unittest -v test_check_tool
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from collectd_fixture import CollectdDaemon, dovecot_block  # noqa: E402
from dovecot_fixture import DovecotServer  # noqa: E402
from e2e_util import PLUGIN_SHARED_DIRS, plugin_path, write_password_file  # noqa: E402

ALICE = "alice@example.com"
BOB = "bob@example.com"
DAVE = "dave@example.com"
WAIT = 20.0
PUTVAL_RE = re.compile(r'^PUTVAL "(?P<host>[^/"]+)/(?P<plugin>dovecot-[^/"]+)/(?P<ti>[^"]+)"'
                       r'(?: interval=\d+\.\d{3})? (?P<time>\d+\.\d{3}):(?P<value>-?[0-9.e+]+|U)$')


def _tool():
    p = os.environ.get("DVA_CHECK") or os.path.join(_HERE, "..", "..", "build", "check",
                                                     "dovecot-collectd-check")
    return os.path.abspath(p)


class CheckToolTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = DovecotServer(tcp=True, shared_dirs=PLUGIN_SHARED_DIRS)
        cls.d.start()
        cls.imap = cls.d.imap_login(ALICE)
        cls.pwfile = write_password_file(cls.d.root_dir, cls.d.password)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def run_tool(self, *args, timeout=30):
        t0 = time.monotonic()
        r = subprocess.run([_tool()] + list(args), capture_output=True, text=True,
                           timeout=timeout)
        r.seconds = time.monotonic() - t0
        return r

    def sock(self, *args):
        return self.run_tool("--socket", self.d.doveadm_socket, *args)

    def quota(self, user):
        """{(root, TYPE): (value, limit, percent)} from `doveadm quota get`."""
        out = self.d.doveadm("-f", "tab", "quota", "get", "-u", user)
        lines = out.splitlines()
        head = lines[0].split("\t")
        rows = [dict(zip(head, ln.split("\t"))) for ln in lines[1:] if ln]
        return {(r["Quota name"], r["Type"]): (r["Value"], r["Limit"], r["%"]) for r in rows}

    # -- table and status ----------------------------------------------------
    def test_ok_table_over_the_socket(self):
        r = self.sock("--user", ALICE, "--mailbox", "INBOX")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertRegex(lines[-1], r"^DOVECOT OK - .* answered in [0-9.]+ s; 1 user, "
                                    r"2 quotas checked$")
        values = dict(re.split(r"\s{2,}", ln.strip(), maxsplit=1) for ln in lines[1:-1]
                      if ln.startswith("  "))
        self.assertEqual(values["bool-up"], "1")
        self.assertEqual(values["users-imap"], "1")
        q = self.quota(ALICE)
        used_kib = q[("User quota", "STORAGE")][0]
        self.assertEqual(values["bytes-alice@example.com-User_quota-used"],
                         str(int(used_kib) * 1024))
        self.assertEqual(values["email_count-alice@example.com-INBOX-messages"],
                         q[("User quota", "MESSAGE")][0])

    def test_warning_and_critical_exit_codes(self):
        pct = int(self.quota(BOB)[("User quota", "STORAGE")][2])
        self.assertGreaterEqual(pct, 90)          # the fixture fills bob past 90 %
        r = self.sock("-u", BOB, "--format", "nagios")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count("\n"), 1)
        self.assertIn("DOVECOT WARNING - 1 quota at or above 90%%: %s (User quota, "
                      "storage) %d%%" % (BOB, pct), r.stdout)
        r = self.sock("-u", BOB, "-F", "nagios", "-w", str(pct - 10), "-c", str(pct))
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertTrue(r.stdout.startswith("DOVECOT CRITICAL - "), r.stdout)
        # The plugin's notification, as its first read would send it.
        r = self.sock("-u", BOB)
        self.assertIn("WARNING percent-%s-User_quota-storage: Quota of %s" % (BOB, BOB),
                      r.stdout)

    def test_unknown_when_a_user_cannot_be_read(self):
        r = self.sock("-u", DAVE, "-u", ALICE, "-F", "nagios")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("1 step failed: quota of %s" % DAVE, r.stdout)
        self.assertIn(DAVE, r.stderr)             # the plugin's log line

    def test_unknown_when_the_server_does_not_answer(self):
        missing = os.path.join(self.d.root_dir, "no-such-socket")
        r = self.run_tool("-s", missing, "-F", "nagios", "-t", "2")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertTrue(r.stdout.startswith("DOVECOT UNKNOWN - Dovecot at %s does not "
                                            "answer" % missing), r.stdout)
        self.assertLess(r.seconds, 2 + 5)

    def test_tcp_password_and_a_wrong_one(self):
        r = self.run_tool("-H", "127.0.0.1", "-p", str(self.d.doveadm_port),
                          "-P", self.pwfile, "-u", ALICE, "-F", "putval")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("/dovecot-local/bool-up", r.stdout)
        wrong = "wrong-" + self.d.password[:6]
        r = self.run_tool("-H", "127.0.0.1", "-p", str(self.d.doveadm_port),
                          "-o", "Password=" + wrong, "-F", "nagios")
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("rejected the password", r.stdout)
        for text in (r.stdout, r.stderr):
            self.assertNotIn(wrong, text)
            self.assertNotIn(self.d.password, text)

    def test_host_name_and_a_dns_server_that_never_answers(self):
        # A name: looked up in the resolver's thread (localhost: /etc/hosts).
        r = self.run_tool("-H", "localhost", "-p", str(self.d.doveadm_port),
                          "-P", self.pwfile, "-F", "nagios")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # A dead DNS server (its lookup alone takes ~20 s): the check still
        # ends at its Timeout, naming the host.
        unshare = shutil.which("unshare")
        if unshare is None or subprocess.run([unshare, "-r", "-n", "-m", "true"],
                                             capture_output=True).returncode != 0:
            self.skipTest("no unprivileged user and network namespaces here")
        helper = os.path.join(_HERE, "silent_dns_ns.py")
        t0 = time.monotonic()
        r = subprocess.run([unshare, "-r", "-n", "-m", sys.executable, helper, _tool(),
                            "-H", "dovecot.dns-test.example", "-p", "2425",
                            "-P", self.pwfile, "-o", "AllowCleartextPassword true",
                            "-t", "1", "-F", "nagios"],
                           capture_output=True, text=True, timeout=60)
        seconds = time.monotonic() - t0
        if r.returncode == 77:
            self.skipTest("cannot set up the namespace: " + r.stderr)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn('resolving "dovecot.dns-test.example" did not finish within the '
                      "read's Timeout", r.stdout)
        self.assertLess(seconds, 1 + 2)

    def test_bad_options_are_refused_by_the_schema(self):
        r = self.run_tool("-o", "Sockt=/x")
        self.assertEqual(r.returncode, 3)
        self.assertIn('unknown option "Sockt"; did you mean Socket?', r.stderr)
        r = self.run_tool("-H", "127.0.0.1")
        self.assertEqual(r.returncode, 3)
        self.assertIn("needs a password", r.stderr)
        r = self.run_tool("--list-options")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"(?m)^QuotaWarning +a percentage")

    # -- PUTVAL, configuration files, identity with the plugin ----------------
    def test_config_file_instance_and_putval(self):
        conf = os.path.join(self.d.root_dir, "check.conf")
        with open(conf, "w") as f:
            f.write("LoadPlugin dovecot\n<Plugin dovecot>\n"
                    '  <Instance "first">\n    Socket "/nonexistent"\n  </Instance>\n'
                    '  <Instance "second">\n    Socket "%s"\n    QuotaUser "%s"\n'
                    "    Interval 30\n  </Instance>\n</Plugin>\n"
                    % (self.d.doveadm_socket, ALICE))
        r = self.run_tool("-f", conf, "-i", "second", "-F", "putval")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(r.stderr.startswith("DOVECOT OK - "), r.stderr)
        lines = r.stdout.splitlines()
        self.assertGreater(len(lines), 10)
        for line in lines:
            m = PUTVAL_RE.match(line)
            self.assertIsNotNone(m, line)
            self.assertEqual(m.group("plugin"), "dovecot-second")
            self.assertIn(" interval=30.000 ", line)
            self.assertLess(abs(float(m.group("time")) - time.time()), 60)
        r = self.run_tool("-f", conf, "-F", "nagios")      # the first instance
        self.assertEqual(r.returncode, 3)
        self.assertIn("/nonexistent", r.stdout)

    def test_identifiers_equal_the_plugins_in_a_real_collectd(self):
        opts = dict(Socket=self.d.doveadm_socket, QuotaUser=[ALICE, BOB],
                    CollectMailbox=True, Mailbox="*")
        args = ["-s", self.d.doveadm_socket, "-u", ALICE, "-u", BOB, "-m", "*",
                "-F", "putval"]
        r = self.run_tool(*args)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)   # bob's WARNING
        tool = {PUTVAL_RE.match(ln).group("plugin") + "/" + PUTVAL_RE.match(ln).group("ti")
                for ln in r.stdout.splitlines()}
        with CollectdDaemon(dovecot_block("local", **opts), plugin_path=plugin_path(),
                            interval=1) as c:
            deadline = time.monotonic() + WAIT
            while True:
                plugin = {i.split("/", 1)[1] for i in c.listval() if "/dovecot-" in i}
                if tool <= plugin or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        self.assertEqual(sorted(tool - plugin), [])
        # Stats sub-metrics may appear between two reads; nothing else may differ.
        extra = {i for i in plugin - tool if not re.search(r"/(derive|gauge)-", i)}
        self.assertEqual(sorted(extra), [])


if __name__ == "__main__":
    unittest.main()
