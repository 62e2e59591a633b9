# SPDX-License-Identifier: MIT
"""End to end over TLS: a real collectd loads the dovecot.so under test
($DVA_PLUGIN) and reads a real Dovecot (2.3 or 2.4: the fixture's
generation) over a `ssl = yes` listener and
over STARTTLS, with a CA and certificates the fixture makes with openssl.
A wrong CA is reported (bool-up 0, one FAILURE naming the cause), and a
password to a non-loopback host without TLS stops collectd at start-up.

    DVA_PLUGIN=build/plugin/dovecot.so python3 -m unittest -v test_e2e_tls
"""

import os
import sys
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from collectd_fixture import (CollectdDaemon, dovecot_block, identifier,  # noqa: E402
                              instance_block, valgrind_enabled)
from dovecot_fixture import DovecotServer  # noqa: E402
from e2e_util import CollectdTestCase, built_plugin, write_password_file  # noqa: E402

ALICE = "alice@example.com"
ROOT = "User_quota"
WAIT = 20.0
# Under valgrind a TLS handshake takes seconds: read less often, wait longer.
# Otherwise 2.5 s: the wrong CA must be the first read's reason, and a fresh
# doveadm process's first TLS handshake took over 0.8 s (the default) on a
# loaded 2-core machine (seen with Debian 13's Dovecot 2.4.1).
READ = ({"Interval": 10, "Timeout": 8} if valgrind_enabled()
        else {"Interval": 3, "Timeout": 2.5})


class TestPluginTLS(CollectdTestCase):
    dovecot = None

    @classmethod
    def setUpClass(cls):
        cls.plugin = built_plugin()
        cls.dovecot = DovecotServer(tls=True, populate=False)
        cls.dovecot.start()
        cls.pwfile = write_password_file(cls.dovecot.root_dir, cls.dovecot.password)

    @classmethod
    def tearDownClass(cls):
        if cls.dovecot is not None:
            cls.dovecot.stop()

    def collectd(self, config):
        return self.start_collectd(config)

    def test_tls_and_starttls_values(self):
        d = self.dovecot
        block = dovecot_block(
            instance_block("tls", Host="127.0.0.1", Port=d.doveadm_tls_port, TLS="tls",
                           CACert=d.pki["ca"], PasswordFile=self.pwfile,
                           QuotaUser=ALICE, **READ),
            instance_block("starttls", Host="127.0.0.1", Port=d.doveadm_port,
                           TLS="starttls", CACert=d.pki["ca"], ServerName="localhost",
                           PasswordFile=self.pwfile, QuotaUser=ALICE, **READ),
            instance_block("wrongca", Host="127.0.0.1", Port=d.doveadm_tls_port,
                           TLS="tls", CACert=d.pki["other_ca"], PasswordFile=self.pwfile,
                           QuotaUser=ALICE, **READ))
        c = self.collectd(block)
        used = "%s-%s-used" % (ALICE, ROOT)
        idents = [identifier(i, t, ti) for i in ("tls", "starttls")
                  for t, ti in (("bool", "up"), ("bytes", used), ("users", ""))]
        c.wait_values(idents + [identifier("wrongca", "bool", "up")], timeout=WAIT)
        for inst in ("tls", "starttls"):
            self.assertEqual(c.value(identifier(inst, "bool", "up")), 1.0, c.log_tail())
            self.assertEqual(c.value(identifier(inst, "bytes", used)), 0.0)
        self.assertEqual(c.value(identifier("wrongca", "bool", "up")), 0.0)
        c.wait_for(lambda: c.notifications(plugin_instance="wrongca"), WAIT,
                   what="wrongca FAILURE")
        notes = c.notifications(plugin_instance="wrongca")
        self.assertEqual([n["severity"] for n in notes], ["FAILURE"])
        log = c.log_text()
        self.assertIn("certificate verify failed: unable to get local issuer certificate",
                      log)
        self.assertIn("over TLS", log)
        self.assertIn("with STARTTLS", log)
        self.assertNotIn(d.password, log)
        self.assertNotIn(d.password, c.csv_text())

    def test_cleartext_password_refused_at_start(self):
        secret = "cleartext-secret-9d2c"
        block = dovecot_block(instance_block("remote", Host="192.0.2.1",
                                             Password=secret, CollectWho=True))
        c = CollectdDaemon(block, plugin_path=self.plugin, interval=1)
        self.addCleanup(c.cleanup)
        t0 = time.monotonic()
        rc, out = c.run_until_exit(timeout=15)
        self.assertIsNotNone(rc, "collectd kept running:\n" + out)
        self.assertNotEqual(rc, 0, out)
        self.assertLess(time.monotonic() - t0, 10 * c.slow)
        lines = "\n".join(line for line in out.splitlines() if "dovecot plugin" in line)
        for needle in ('instance "remote"', 'TLS is "none"', 'Host "192.0.2.1"',
                       "unencrypted", "AllowCleartextPassword true"):
            self.assertIn(needle, lines, out)
        self.assertNotIn(secret, out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
