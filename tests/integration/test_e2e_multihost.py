# SPDX-License-Identifier: MIT
"""End to end: the documented recipes for many mail hosts and for alerts,
with real collectd 5.12 daemons and real private Dovecots on loopback.

- Many mail hosts: two "mail host" collectds, each with the dovecot.so under
  test ($DVA_PLUGIN) reading its own Dovecot, send through collectd's
  network plugin (signed and encrypted) to a central collectd that has no
  dovecot plugin and stores what arrives (csv, StoreRates false, and RRD).
  The central store must hold each host's Dovecot values under that host's
  name, equal to what the host stored locally and to what doveadm says; a
  sender with a wrong password must store nothing.
  Notifications travel too, and the central's threshold rules check the
  values it received.
- Alerts: collectd's threshold plugin raises a notification for bob's
  quota (over 90 % in the fixture) and for a server that does not answer.

Each Dovecot is of the fixture's generation ($DVA_DOVECOT_GENERATION).

The collectd configuration is conf.d/examples/*.conf itself, with only the
documented example addresses, secrets and paths replaced (each replacement
must match, so the recipe in the docs is the one tested).

    DVA_PLUGIN=build/plugin/dovecot.so python3 -m unittest -v test_e2e_multihost
"""

import os
import re
import shutil
import socket
import sys
import tempfile
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from collectd_fixture import (CollectdError, dovecot_block,  # noqa: E402
                              identifier, instance_block, valgrind_enabled)
from dovecot_fixture import DovecotServer  # noqa: E402
from e2e_util import (PLUGIN_SHARED_DIRS, CollectdTestCase, built_plugin,  # noqa: E402
                      plugin_path)

EXAMPLES = os.path.normpath(os.path.join(_HERE, "..", "..", "conf.d", "examples"))
ALICE = "alice@example.com"
BOB = "bob@example.com"
FRANK = "frank@example.net"
ROOT = "User_quota"
WAIT = 20.0                 # seconds: bound of any wait for values
# the central collectd has no dovecot.so, so it never runs under valgrind;
# its waits stretch with the mail hosts' (DVA_VALGRIND=1)
CENTRAL_WAIT = WAIT * (5.0 if valgrind_enabled() else 1.0)

# The second mail host's Dovecot has a user of its own, so a value stored
# under the wrong host name cannot go unnoticed.
HOST2_USERS = {
    FRANK: {"password": "frank-secret",
            "storage": "1M", "message_count": 100, "fields": {},
            "messages": [3000, 7000, 12000]},
}


def example(name, *replacements):
    """conf.d/examples/<name> with each (documented text, test text)
    replaced; every documented text must occur."""
    with open(os.path.join(EXAMPLES, name)) as f:
        text = f.read()
    for old, new in replacements:
        if old not in text:
            raise AssertionError("%s no longer contains %r: update the test with the recipe"
                                 % (name, old))
        text = text.replace(old, new)
    return text


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mailhost_config(port, username, password, security="Encrypt"):
    return example("network-mailhost.conf",
                   ('"collectd.example.com" "25826"', '"127.0.0.1" "%d"' % port),
                   ('Username "mail1"', 'Username "%s"' % username),
                   ('Password "change-this-secret"', 'Password "%s"' % password),
                   ("SecurityLevel Encrypt", "SecurityLevel %s" % security))


def central_config(port, auth_file, rrd_dir):
    return example("network-central.conf",
                   ('<Listen "0.0.0.0" "25826">', '<Listen "127.0.0.1" "%d">' % port),
                   ('AuthFile "/etc/collectd/network-auth"', 'AuthFile "%s"' % auth_file),
                   ('DataDir "/var/lib/collectd/rrd"', 'DataDir "%s"' % rrd_dir))


def _tab_rows(text):
    lines = [line for line in text.splitlines() if line.strip()]
    head = lines[0].split("\t") if lines else []
    return [dict(zip(head, line.split("\t"))) for line in lines[1:]]


def storage_used_bytes(d, user):
    """`doveadm quota get` storage value in bytes (it prints KiB)."""
    for row in _tab_rows(d.doveadm("-f", "tab", "quota", "get", "-u", user)):
        if row["Type"] == "STORAGE":
            return int(row["Value"]) * 1024.0
    raise AssertionError("no STORAGE row for %s" % user)


def storage_percent(d, user):
    """`doveadm quota get` storage percentage (bob: 93 on 2.3, where the
    maildir backend counts; 94 on 2.4's count backend, both seen)."""
    for row in _tab_rows(d.doveadm("-f", "tab", "quota", "get", "-u", user)):
        if row["Type"] == "STORAGE":
            return int(row["%"])
    raise AssertionError("no STORAGE row for %s" % user)


DOVECOTS = []          # [host 1's Dovecot, host 2's], for the whole module


def setUpModule():
    built_plugin()
    try:
        d1 = DovecotServer(tcp=False, shared_dirs=PLUGIN_SHARED_DIRS)
        DOVECOTS.append(d1)
        d1.start()
        d2 = DovecotServer(tcp=False, users=HOST2_USERS, shared_dirs=PLUGIN_SHARED_DIRS)
        DOVECOTS.append(d2)
        d2.start()
        # held sessions: alice on host 1, frank twice on host 2
        d1.imap_login(ALICE)
        d2.imap_login(FRANK)
        d2.imap_login(FRANK)
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    while DOVECOTS:
        DOVECOTS.pop().stop()


class RecipeTestCase(CollectdTestCase):
    """collectds per test, stopped (exit code 0) and removed at the end of
    each; the module's two Dovecots."""

    @classmethod
    def setUpClass(cls):
        cls.plugin = plugin_path()
        cls.dovecot1, cls.dovecot2 = DOVECOTS

    def tempdir(self):
        d = tempfile.mkdtemp(prefix="dvtest-recipe-")
        os.chmod(d, 0o755)
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def collectd(self, dovecot_config="", **kw):
        return self.start_collectd(dovecot_config, **kw)


class TestManyMailHosts(RecipeTestCase):

    def central(self, users):
        """The central collectd of network-central.conf, plus the threshold
        rules of threshold-quota.conf, listening on a free loopback port;
        users = {username: password} for its AuthFile."""
        work = self.tempdir()
        auth_file = os.path.join(work, "network-auth")
        with open(auth_file, "w") as f:
            for user, password in users.items():
                f.write("%s: %s\n" % (user, password))
        os.chmod(auth_file, 0o600)
        self.rrd_dir = os.path.join(work, "rrd")
        port = free_udp_port()
        c = self.collectd(load_dovecot=False, hostname="central", valgrind=False,
                          plugin_files=("network", "rrdtool", "threshold"),
                          extra_config=central_config(port, auth_file, self.rrd_dir)
                          + "\n" + example("threshold-quota.conf"))
        return c, port

    def mailhost(self, name, port, username, password, dovecot, report_host=None,
                 security="Encrypt", **opts):
        """A mail host's collectd: the dovecot plugin reading `dovecot` plus
        network-mailhost.conf (with its SecurityLevel replaced by
        `security`).  Its host name is `name` (collectd's Hostname), or
        report_host through the instance's ReportHost."""
        block = dovecot_block("local", Socket=dovecot.doveadm_socket, ReportHost=report_host,
                              **opts)
        return self.collectd(block, hostname=name, plugin_files=("network",),
                             extra_config=mailhost_config(port, username, password, security))

    def wait_forwarded(self, central, local, idents, timeout=CENTRAL_WAIT):
        """Wait until, for every identifier, the central csv has rows and
        each is a row (same time, same raw values) the mail host stored
        locally (polled: the local and the remote write race)."""
        state = {}

        def same():
            for ident in idents:
                remote = central.csv_rows(ident)
                mine = set((t, tuple(v)) for t, v in local.csv_rows(ident))
                state["ident"], state["remote"] = ident, remote[-3:]
                if not remote or not all((t, tuple(v)) in mine for t, v in remote):
                    return False
            return True
        try:
            central.wait_for(same, timeout, what="central rows equal to local ones")
        except CollectdError as e:
            self.fail("%s\nlast: %s central rows %r\nmail host:\n%s"
                      % (e, state.get("ident"), state.get("remote"), local.log_tail()))

    def test_two_hosts_forward_encrypted(self):
        central, port = self.central({"mail1": "secret-one", "mail2": "secret-two"})
        # mail1 is named by collectd's Hostname, mail2 by the plugin's ReportHost
        mail1 = self.mailhost("mail1", port, "mail1", "secret-one", self.dovecot1,
                              QuotaUser=[ALICE, BOB])
        mail2 = self.mailhost("mx-b", port, "mail2", "secret-two", self.dovecot2,
                              report_host="mail2", QuotaUser=[FRANK])

        def ids(host, *pairs):
            return [identifier("local", t, ti, host=host) for t, ti in pairs]
        host1 = ids("mail1", ("bool", "up"), ("users", "imap"), ("current_sessions", "imap"),
                    ("bytes", "%s-%s-used" % (ALICE, ROOT)),
                    ("percent", "%s-%s-storage" % (BOB, ROOT)),
                    ("derive", "imap_command"), ("duration", "read"))
        host2 = ids("mail2", ("bool", "up"), ("users", "imap"), ("current_sessions", "imap"),
                    ("bytes", "%s-%s-used" % (FRANK, ROOT)),
                    ("bytes", "%s-%s-limit" % (FRANK, ROOT)))
        self.wait_forwarded(central, mail1, host1)
        self.wait_forwarded(central, mail2, host2)

        with self.subTest("values are Dovecot's"):
            self.assertEqual(central.csv_last(host1[1]), 1.0)    # users-imap: alice
            self.assertEqual(central.csv_last(host2[1]), 1.0)    # users-imap: frank
            self.assertEqual(central.csv_last(host2[2]), 2.0)    # frank's two sessions
            self.assertEqual(central.csv_last(host1[3]), storage_used_bytes(self.dovecot1, ALICE))
            self.assertEqual(central.csv_last(host2[3]), storage_used_bytes(self.dovecot2, FRANK))
            self.assertEqual(central.csv_last(host2[4]), 1024.0 * 1024.0)
            self.assertEqual(central.csv_last(host1[4]),
                             float(storage_percent(self.dovecot1, BOB)))

        with self.subTest("each value under its own host only"):
            hosts = sorted(os.listdir(central.csv_dir))
            self.assertIn("mail1", hosts)
            self.assertIn("mail2", hosts)
            self.assertNotIn("mx-b", os.listdir(central.csv_dir))  # ReportHost won
            # (mx-b's own values, e.g. none here, would be under mx-b)
            self.assertFalse(os.path.isdir(os.path.join(central.csv_dir, "central",
                                                        "dovecot-local")))
            self.assertEqual(central.csv_rows(identifier(
                "local", "bytes", "%s-%s-used" % (ALICE, ROOT), host="mail2")), [])
            self.assertEqual(central.csv_rows(identifier(
                "local", "bytes", "%s-%s-used" % (FRANK, ROOT), host="mail1")), [])

        with self.subTest("RRD files for graphs"):
            for host, ti in (("mail1", "bytes-%s-%s-used" % (ALICE, ROOT)),
                             ("mail2", "current_sessions-imap")):
                path = os.path.join(self.rrd_dir, host, "dovecot-local", ti + ".rrd")
                central.wait_for(lambda: os.path.isfile(path), CENTRAL_WAIT, what=path)

        with self.subTest("notifications travel; threshold checks received values"):
            def central_notes(prefix):
                return [n for n in central.notifications(
                    host="mail1", plugin="dovecot", plugin_instance="local",
                    type="percent", type_instance="%s-%s-storage" % (BOB, ROOT))
                    if n["severity"] == "WARNING" and n["message"].startswith(prefix)]
            # mail1's own QuotaWarning, sent through the network plugin
            bob_pct = storage_percent(self.dovecot1, BOB)
            central.wait_for(lambda: central_notes("Quota of %s (User quota, storage) is at %d%%"
                                                   % (BOB, bob_pct)),
                             CENTRAL_WAIT, what="mail1's quota WARNING at the central")
            # the central's threshold rule on the values it received
            central.wait_for(lambda: central_notes("Host mail1, plugin dovecot (instance local) "
                                                   "type percent"),
                             CENTRAL_WAIT, what="a threshold WARNING for mail1 at the central")

        with self.subTest("no secret in the central store or logs"):
            for c in (central, mail1, mail2):
                text = c.csv_text() + c.log_text()
                self.assertNotIn("secret-one", text)
                self.assertNotIn("secret-two", text)

    def assert_refused(self, password, security, log_text):
        """mail1 sends as the recipe says; mail2 with `password` and
        `security`: nothing of mail2 is stored, and the central's log has a
        line with log_text (the packets did arrive, and were dropped)."""
        central, port = self.central({"mail1": "secret-one", "mail2": "secret-two"})
        self.mailhost("mail1", port, "mail1", "secret-one", self.dovecot1, QuotaUser=[ALICE])
        bad = self.mailhost("mail2", port, "mail2", password, self.dovecot2,
                            security=security, QuotaUser=[FRANK])
        up1 = identifier("local", "bool", "up", host="mail1")
        up2 = identifier("local", "bool", "up", host="mail2")
        # the bad host has read (and sent) three times, and the good one's
        # values sent after that arrived: the bad packets had their chance
        bad.wait_for(lambda: len(bad.csv_rows(up2)) >= 3, WAIT, what="3 reads of %s" % up2)
        sent = bad.csv_rows(up2)[-1][0]
        central.wait_for(lambda: any(t > sent for t, _ in central.csv_rows(up1)), CENTRAL_WAIT,
                         what="a value of %s newer than %s" % (up1, sent))
        self.assertFalse(os.path.exists(os.path.join(central.csv_dir, "mail2")),
                         "values of mail2 (%s, %s) were stored" % (security, password))
        self.assertTrue(central.csv_rows(up1))
        self.assertTrue([line for line in central.log_lines()
                         if "network plugin" in line and log_text in line], central.log_tail())

    def test_wrong_password_stores_nothing(self):
        self.assert_refused("not-the-secret", "Encrypt", "Checksum mismatch. Username: mail2")

    def test_signed_only_sender_stores_nothing(self):
        # the right password, but not encrypted: the recipe's listener
        # accepts encrypted packets only
        self.assert_refused("secret-two", "Sign", "Unencrypted packet or part has been ignored")


class TestAlerts(RecipeTestCase):

    def test_threshold_quota_and_down(self):
        # the plugin's own quota notifications off: these come from threshold
        block = dovecot_block(
            instance_block("local", Socket=self.dovecot1.doveadm_socket,
                           QuotaUser=[ALICE, BOB], CollectStats=False,
                           QuotaWarning=0, QuotaFailure=0),
            instance_block("gone", Socket=os.path.join(self.tempdir(), "no-such-socket"),
                           CollectQuota=False))
        c = self.collectd(block, plugin_files=("threshold",),
                          extra_config=example("threshold-quota.conf"))
        bob = "%s-%s-storage" % (BOB, ROOT)

        def threshold_notes(**match):
            # threshold's messages start "Host <host>, plugin <plugin> ..."
            return [n for n in c.notifications(plugin="dovecot", **match)
                    if n.get("message", "").startswith("Host dvtest, plugin dovecot ")]
        warn = c.wait_for(lambda: [n for n in threshold_notes(type="percent",
                                                                type_instance=bob)
                                   if n["severity"] != "OKAY"],
                          WAIT, what="a threshold notification for %s" % bob)
        self.assertEqual(warn[0]["severity"], "WARNING", warn)
        self.assertEqual(warn[0]["plugin_instance"], "local")
        self.assertIn("is currently %d.0" % storage_percent(self.dovecot1, BOB),
                      warn[0]["message"])
        self.assertIn("above the warning threshold of 90.0", warn[0]["message"])
        down = c.wait_for(lambda: threshold_notes(type="bool", plugin_instance="gone"),
                          WAIT, what="a threshold notification for gone/bool-up")
        self.assertEqual(down[0]["severity"], "FAILURE", down)
        self.assertIn("below the failure threshold of 1.0", down[0]["message"])
        # two more reads: no alert repeats, and nothing else is out of range
        # (alice at 0 %, the answering instance up).  collectd 5.12's
        # threshold plugin also sends one OKAY per value when it first sees
        # it in range: the README says so, this checks it stays one.
        c.wait_reads(identifier("local", "percent", bob), 2, timeout=WAIT)
        notes = threshold_notes()
        alerts = sorted((n["plugin_instance"], n["type"], n["severity"])
                        for n in notes if n["severity"] != "OKAY")
        self.assertEqual(alerts, [("gone", "bool", "FAILURE"), ("local", "percent", "WARNING")],
                         notes)
        okays = [(n["type"], n.get("type_instance")) for n in notes
                 if n["severity"] == "OKAY"]
        self.assertEqual(len(okays), len(set(okays)), okays)
        self.assertIn(("percent", "%s-%s-storage" % (ALICE, ROOT)), okays)
        self.assertNotIn(("percent", bob), okays)


def _config_lines(text):
    """Lines of collectd config text without comments and indentation."""
    out = []
    for line in text.splitlines():
        line = re.sub(r'\s#[^"]*$|^\s*#.*$', "", line).strip()
        if line:
            out.append(line)
    return out


class TestReadmeShowsTheTestedFiles(unittest.TestCase):
    """Each block of doc/recipes.md after a link to conf.d/examples/X shows
    lines of X (trimmed, never changed): the documented recipe is the
    tested one."""

    def test_blocks_are_lines_of_the_files(self):
        with open(os.path.join(EXAMPLES, "..", "..", "doc", "recipes.md")) as f:
            readme = f.read()
        pairs = re.findall(r"\(\.\./conf\.d/examples/([\w.-]+)\)\):?\n+```\n(.*?)```",
                           readme, re.S)
        self.assertEqual(sorted(name for name, _ in pairs),
                         ["network-central.conf", "network-mailhost.conf",
                          "prometheus.conf", "threshold-quota.conf"])
        for name, block in pairs:
            with open(os.path.join(EXAMPLES, name)) as f:
                file_lines = _config_lines(f.read())
            for line in _config_lines(block):
                self.assertIn(line, file_lines, "doc/recipes.md block of %s" % name)


if __name__ == "__main__":
    unittest.main()
