# SPDX-License-Identifier: MIT
"""End to end: collectd never waits on a DNS server that does not answer.

A real collectd 5.12 with the dovecot.so under test ($DVA_PLUGIN) runs in a
private user, network and mount namespace (silent_dns_ns.py) where every
name lookup takes ~20 s. Instance "remote" names its Host; instance "local"
reads a real private Dovecot over its UNIX socket (a path socket works
across network namespaces). Checked:

- every read of "remote" ends at its Timeout (0.5 s) with bool-up 0, once
  per Interval, and the log names the host that did not resolve;
- "local" is read as usual meanwhile;
- collectd stops at once (exit 0) while the lookup still runs.

    DVA_PLUGIN=build/plugin/dovecot.so python3 -m unittest -v test_e2e_dns
"""

import os
import shutil
import subprocess
import sys
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from collectd_fixture import dovecot_block, identifier, instance_block  # noqa: E402
from dovecot_fixture import DovecotServer  # noqa: E402
from e2e_util import CollectdTestCase, built_plugin, write_password_file  # noqa: E402

HELPER = os.path.join(_HERE, "silent_dns_ns.py")
NAME = "dovecot.dns-test.example"
WAIT = 20.0


def namespace_prefix():
    """The command prefix that runs a command where DNS never answers, or
    skip when this machine cannot make the namespaces."""
    unshare = shutil.which("unshare")
    if unshare is None:
        raise unittest.SkipTest("no unshare(1)")
    prefix = [unshare, "-r", "-n", "-m", sys.executable, HELPER]
    r = subprocess.run(prefix + ["true"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise unittest.SkipTest("cannot set up the namespace (%d): %s"
                                % (r.returncode, r.stderr))
    return prefix


class SilentDnsTest(CollectdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.plugin = built_plugin()
        cls.prefix = namespace_prefix()
        cls.dovecot = DovecotServer()
        cls.dovecot.start()

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()

    def test_reads_end_at_their_timeout_and_shutdown_does_not_wait(self):
        d = self.dovecot
        pwfile = write_password_file(d.root_dir, d.password)
        conf = dovecot_block(
            instance_block("remote", Host=NAME, Port="2425", PasswordFile=pwfile,
                           AllowCleartextPassword="true", Timeout="0.5"),
            instance_block("local", Socket=d.doveadm_socket))
        c = self.start_collectd(conf, command_prefix=self.prefix)
        remote_up = identifier("remote", "bool", "up")
        local_up = identifier("local", "bool", "up")

        want = 'resolving "%s" did not finish within the read\'s Timeout' % NAME
        c.wait_for(lambda: want in c.log_text(), WAIT, what="the log naming %s" % NAME)
        # One read per Interval (1 s): each ends at its Timeout. A read
        # that waited for the lookup would take ~20 s.
        t0 = time.monotonic()
        c.wait_reads(remote_up, 3, timeout=WAIT)
        self.assertLess(time.monotonic() - t0, 3 * (1 + 0.5) + 2)
        self.assertEqual(c.value(remote_up), 0)
        c.wait_reads(local_up, 2, timeout=WAIT)
        self.assertEqual(c.value(local_up), 1)

        # The first lookup (started ~5 s ago) is still running: the stop
        # must not wait for it.
        t0 = time.monotonic()
        self.assertEqual(c.stop(), 0, c.log_tail())
        self.assertLess(time.monotonic() - t0, 5 * c.slow)


if __name__ == "__main__":
    unittest.main()
