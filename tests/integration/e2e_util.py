# SPDX-License-Identifier: MIT
"""Helpers the integration tests share: where the built artefacts are, a
password file for a fixture Dovecot, and the collectd-per-test case (start,
then stop with the exit code checked and remove at the end of the test).
"""

import os
import sys
import time
import unittest

from collectd_fixture import CollectdDaemon

_HERE = os.path.dirname(os.path.abspath(__file__))
_BUILD = os.path.join(_HERE, "..", "..", "build")

# Directories the plugin (or the check tool) and a Dovecot on the same
# machine must both see: the default QuotaScanDir (README: /run), where the
# server-side quota scan writes the user list whose path it sends to the
# server.  A fixture Dovecot in a Debian root gets them bind-mounted
# (DovecotServer(shared_dirs=...)).
PLUGIN_SHARED_DIRS = ("/run",)


def plugin_path():
    """The dovecot.so under test: $DVA_PLUGIN, else build/plugin/dovecot.so."""
    p = os.environ.get("DVA_PLUGIN") or os.path.join(_BUILD, "plugin", "dovecot.so")
    return os.path.abspath(p)


def built_plugin():
    """plugin_path(), or skip the tests when that file is not built."""
    p = plugin_path()
    if not os.path.isfile(p):
        raise unittest.SkipTest("plugin not built: %s" % p)
    return p


def dva_query_path():
    """tests/tools/dva_query: $DVA_QUERY, else its place in build/."""
    return os.environ.get("DVA_QUERY") or os.path.join(
        _BUILD, "tests", "integration", "dva_query")


def write_password_file(directory, password):
    """directory/doveadm.pass holding password, created mode 0600 (never
    readable by others, not even for a moment); returns its path."""
    path = os.path.join(directory, "doveadm.pass")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (password + "\n").encode())
    finally:
        os.close(fd)
    return path


class CollectdTestCase(unittest.TestCase):
    """Times each test ("test_x ... [3.1s] ok" under -v) and runs collectds
    with the plugin under test (self.plugin), each stopped with its exit code
    checked (99: valgrind found errors) and removed at the end of the test."""

    plugin = None

    def setUp(self):
        self._t0 = time.monotonic()

    def tearDown(self):
        sys.stderr.write("[%.1fs] " % (time.monotonic() - self._t0))

    def start_collectd(self, dovecot_config="", **kw):
        """A started CollectdDaemon (Interval 1 s), finished by the cleanup."""
        c = CollectdDaemon(dovecot_config, plugin_path=self.plugin, interval=1, **kw)
        self.addCleanup(self._finish, c)
        c.start()
        return c

    def _finish(self, c):
        try:
            if c.running():
                rc = c.stop()
                self.assertEqual(rc, 0, "collectd exit code %s (99: valgrind found errors)"
                                 "\n%s\n%s" % (rc, c.log_tail(), c.valgrind_text()[-4000:]))
        finally:
            c.cleanup()
