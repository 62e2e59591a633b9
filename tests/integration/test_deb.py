# SPDX-License-Identifier: MIT
"""The Debian package, installed for real: `cpack -G DEB` in the build tree
($DVA_BUILD_DIR), `dpkg -i`, then the installed check tool and Debian's
stock collectd configuration read a private Dovecot through the installed
drop-in, and the values land where stock collectd writes them (rrdtool).
`dpkg --purge` afterwards.

This test changes the system (it installs a package): it needs root and is
labelled `system` (skip it with `ctest -LE system` or DVA_SKIP_SYSTEM_TESTS=1
on a machine you care about). scripts/test.sh runs it (CI: fresh, root).

Debian's stock configuration is /etc/collectd/collectd.conf of the
`collectd` package, which is byte for byte collectd-core's
/usr/share/doc/collectd-core/examples/collectd.conf (Debian 12; checked
when the `collectd` package is at hand). collectd-core alone, which the
package depends on, installs no collectd.conf, and installing `collectd`
would pull in dozens of libraries and start a system collectd; so the test
runs collectd with that example file, unmodified. It loads the syslog,
rrdtool and a dozen system plugins and includes
/etc/collectd/collectd.conf.d/*.conf, where the package put dovecot.conf.

The installed dovecot.conf is used unchanged: it reads
/run/dovecot/doveadm-server. collectd runs in a private mount namespace
(unshare --mount) where /run is a scratch directory whose
dovecot/doveadm-server is a symlink to the private Dovecot's socket, and
/var/lib/collectd (rrdtool's DataDir) is a scratch directory too. So the
system's own /run/dovecot (a real Dovecot, if any) and /var/lib/collectd
are neither used nor touched, and nothing is left behind.

    DVA_BUILD_DIR=build python3 -m unittest -v test_deb
"""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from deb_copyright import check_deb_copyright  # noqa: E402
from dovecot_fixture import DovecotServer  # noqa: E402

PACKAGE = "collectd-dovecot"
STOCK_CONF = "/usr/share/doc/collectd-core/examples/collectd.conf"
DROP_IN = "/etc/collectd/collectd.conf.d/dovecot.conf"
PLUGIN = "/usr/lib/collectd/dovecot.so"
MAN_PAGE = "/usr/share/man/man5/collectd-dovecot.5.gz"
TOOL = "/usr/bin/dovecot-collectd-check"
TOOL_MAN_PAGE = "/usr/share/man/man1/dovecot-collectd-check.1.gz"
COLLECTD = shutil.which("collectd", path="/usr/sbin:/usr/bin") or "/usr/sbin/collectd"
RRDTOOL = shutil.which("rrdtool") or "/usr/bin/rrdtool"
WAIT = 30.0   # seconds: bound of any wait
ALICE = "alice@example.com"


def _run(*args, timeout=60, check=True, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (" ".join(args), r.returncode,
                                                      r.stdout, r.stderr))
    return r


def _dpkg(*args, env=None):
    """dpkg ARGS, waiting (bounded) while another process holds dpkg's lock:
    the machine may be installing packages for something else."""
    deadline = time.monotonic() + 120
    while True:
        r = subprocess.run(["dpkg"] + list(args), capture_output=True, text=True,
                           timeout=120, env=env)
        if r.returncode == 0 or "lock" not in r.stderr or time.monotonic() > deadline:
            return r
        time.sleep(0.5)


def _installed(package):
    r = _run("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return r.returncode == 0 and "install ok installed" in r.stdout


def _skip_reason():
    if os.environ.get("DVA_SKIP_SYSTEM_TESTS"):
        return "DVA_SKIP_SYSTEM_TESTS is set"
    if os.geteuid() != 0:
        return "needs root (installs a package)"
    for tool in ("dpkg", "unshare", COLLECTD, RRDTOOL):
        if not shutil.which(tool):
            return "%s not found" % tool
    if not os.path.exists(STOCK_CONF):
        return "%s not found (collectd-core)" % STOCK_CONF
    if _installed(PACKAGE):
        return "%s is installed already: not touching it" % PACKAGE
    if os.path.exists(DROP_IN):
        return "%s exists (not from the package): not touching it" % DROP_IN
    return None


def _rrd_last(path):
    """The last value rrdtool holds in a one-source RRD file."""
    out = _run(RRDTOOL, "lastupdate", path).stdout
    lines = [ln for ln in out.splitlines() if ":" in ln]
    return float(lines[-1].split(":", 1)[1].split()[0])


class DebPackageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        reason = _skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        build = os.environ.get("DVA_BUILD_DIR") or os.path.join(_HERE, "..", "..", "build")
        cls.build = os.path.abspath(build)
        cls.tmp = tempfile.mkdtemp(prefix="dva-deb-")
        cpack = os.environ.get("DVA_CPACK") or shutil.which("cpack") or "cpack"
        t0 = time.monotonic()
        r = _run(cpack, "-G", "DEB", "-B", cls.tmp, cwd=cls.build, timeout=120, check=False)
        cls.cpack_seconds = time.monotonic() - t0
        debs = glob.glob(os.path.join(cls.tmp, PACKAGE + "_*.deb"))
        if r.returncode != 0 or len(debs) != 1:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("cpack -G DEB failed (%d):\n%s%s"
                                 % (r.returncode, r.stdout, r.stderr))
        cls.deb = debs[0]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            r = _dpkg("-i", cls.deb, env=env)
            if r.returncode != 0:
                raise AssertionError("dpkg -i %s exited %d:\n%s%s"
                                     % (cls.deb, r.returncode, r.stdout, r.stderr))
        except BaseException:
            cls._purge()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def _purge(cls):
        _dpkg("--purge", PACKAGE)

    @classmethod
    def tearDownClass(cls):
        cls._purge()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- what the package holds ----------------------------------------------
    def test_control_fields(self):
        fields = _run("dpkg-deb", "-f", self.deb, "Package", "Depends").stdout
        self.assertIn("Package: %s" % PACKAGE, fields)
        depends = fields.split("Depends:", 1)[1]
        for dep in ("collectd-core", "libconfuse2", "libc6"):
            self.assertIn(dep, depends)

    def test_copyright_file(self):
        check_deb_copyright(self, self.deb)

    def test_installed_files_and_conffile(self):
        files = _run("dpkg", "-L", PACKAGE).stdout.splitlines()
        for path in (PLUGIN, DROP_IN, MAN_PAGE, TOOL, TOOL_MAN_PAGE,
                     "/usr/share/doc/%s/README.md" % PACKAGE,
                     "/usr/share/doc/%s/copyright" % PACKAGE,
                     "/usr/share/doc/%s/conf.d/examples/prometheus.conf" % PACKAGE,
                     "/usr/share/doc/%s/contrib/grafana/dovecot.json" % PACKAGE):
            self.assertIn(path, files)
            self.assertTrue(os.path.isfile(path), path)
        conffiles = _run("dpkg-query", "-W", "-f=${Conffiles}", PACKAGE).stdout
        self.assertIn(DROP_IN, conffiles)

    def test_man_pages_render(self):
        env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat")
        r = _run("man", "-l", MAN_PAGE, env=env)
        for heading in ("OPTIONS", "VALUES", "NOTIFICATIONS", "TROUBLESHOOTING"):
            self.assertIn(heading, r.stdout)
        self.assertIn("QuotaWarning", r.stdout)
        r = _run("man", "-l", TOOL_MAN_PAGE, env=env)
        self.assertIn("EXIT STATUS", r.stdout)

    # -- stock collectd + the installed drop-in ------------------------------
    def test_stock_collectd_reads_dovecot_through_the_drop_in(self):
        run_dir = os.path.join(self.tmp, "run")
        data_dir = os.path.join(self.tmp, "var-lib-collectd")
        os.makedirs(data_dir)
        with DovecotServer(tcp=False) as d:
            imap = d.imap_login(ALICE)
            os.makedirs(os.path.join(run_dir, "dovecot"))
            os.symlink(d.doveadm_socket, os.path.join(run_dir, "dovecot", "doveadm-server"))
            # Only in collectd's namespace: /run and /var/lib/collectd are
            # the scratch directories; the stock configuration is unchanged.
            script = ('mount --bind "$1" /run && mount --bind "$2" /var/lib/collectd && '
                      'exec "$3" -f -C "$4"')
            # The installed tool, with the installed drop-in, as an
            # administrator would test access first.
            r = _run("unshare", "--mount", "--propagation", "private", "sh", "-c",
                     'mount --bind "$1" /run && exec "$2" -f "$3" -F nagios',
                     "sh", run_dir, TOOL, DROP_IN, check=False)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertTrue(r.stdout.startswith("DOVECOT OK - /run/dovecot/doveadm-server "
                                                "answered"), r.stdout)
            log = open(os.path.join(self.tmp, "collectd.out"), "w+")
            proc = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                 "sh", run_dir, data_dir, COLLECTD, STOCK_CONF],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                files = self._await_rrd(data_dir, proc, log,
                                        ["bool-up.rrd", "users-imap.rrd",
                                         "current_sessions-imap.rrd", "duration-read.rrd"])
            finally:
                self._stop(proc)
                log.close()
                imap.logout()
        # Stopped: rrdtool has flushed what it held.
        self.assertEqual(_rrd_last(files["bool-up.rrd"]), 1.0)
        self.assertEqual(_rrd_last(files["users-imap.rrd"]), 1.0)
        self.assertEqual(_rrd_last(files["current_sessions-imap.rrd"]), 1.0)
        host_dir = os.path.dirname(os.path.dirname(files["bool-up.rrd"]))
        # The stock system plugins wrote there too: it is the stock setup.
        self.assertTrue(os.path.isdir(os.path.join(host_dir, "load")), os.listdir(host_dir))

    def _await_rrd(self, data_dir, proc, log, names):
        """{name: path} once every name exists under rrd/<host>/dovecot-local/."""
        deadline = time.monotonic() + WAIT
        while True:
            found = {}
            for name in names:
                hits = glob.glob(os.path.join(data_dir, "rrd", "*", "dovecot-local", name))
                if hits:
                    found[name] = hits[0]
            if len(found) == len(names):
                return found
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                present = glob.glob(os.path.join(data_dir, "rrd", "*", "*"))
                self.fail("no %s after %.0f s (collectd %s); rrd dirs: %s; collectd said:\n%s"
                          % (sorted(set(names) - set(found)), WAIT,
                             "exited %s" % proc.returncode if proc.poll() is not None
                             else "running", present, log.read()[-3000:]))
            time.sleep(0.1)

    @staticmethod
    def _stop(proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
