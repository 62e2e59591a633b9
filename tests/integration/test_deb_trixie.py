# SPDX-License-Identifier: MIT
"""The Debian package on Debian 13 (trixie), installed for real into a
clean Debian 13 root beside that root's own collectd-core, reading that
root's own Dovecot 2.4 through the shipped drop-in.

- The .deb is built inside the cached trixie build root
  (`scripts/debian-root.sh trixie build`): this tree bound read-only,
  cmake + `cpack -G DEB` there, so dpkg-shlibdeps computes Depends against
  Debian 13's libraries (libssl3t64, libconfuse2).
- It is installed with `apt-get install ./collectd-dovecot_*.deb` (as the
  README says) into a throwaway copy of the cached clean root
  (`scripts/debian-root.sh trixie server`: minbase + dovecot-core,
  dovecot-imapd and collectd-core, nothing of this project's build); apt
  pulls what that root lacks (libconfuse2) from the Debian mirror.
- In that copy a Dovecot 2.4 runs with a small configuration of its own
  (base_dir is the default /run/dovecot, so its doveadm socket is the one
  the drop-in reads), and the installed check tool and a real collectd
  (collectd-core's daemon, the csv writer, the drop-in included from
  /etc/collectd/collectd.conf.d as Debian's collectd.conf does) read it.
  First with the drop-in exactly as shipped (bool-up, who, stats), then
  with its `QuotaUsers "*"` line uncommented, as an administrator would
  (quota).

Every command in the roots runs through scripts/in-root.sh: a private
mount and PID namespace, so nothing stays mounted or running; the copy is
removed at the end. Needs root and the Debian mirror (the roots are built
once, cached in /var/cache/collectd-dovecot; apt fetches libconfuse2).
Label `system` like test_deb (DVA_SKIP_SYSTEM_TESTS=1 or `ctest -LE
system` skips it); it changes nothing on the host outside its temporary
directory and that cache.

    python3 -m unittest -v test_deb_trixie
"""

import glob
import imaplib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(_HERE, "..", ".."))
DEBIAN_ROOT = os.path.join(SOURCE, "scripts", "debian-root.sh")
IN_ROOT = os.path.join(SOURCE, "scripts", "in-root.sh")
SUITE = "trixie"
PACKAGE = "collectd-dovecot"
DROP_IN = "/etc/collectd/collectd.conf.d/dovecot.conf"
TOOL = "/usr/bin/dovecot-collectd-check"
HOSTNAME = "dva-trixie"
INSTANCE_DIR = "/var/lib/collectd/csv/%s/dovecot-local" % HOSTNAME
WAIT = 60.0        # seconds: bound of any wait for the daemons
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
from deb_copyright import check_deb_copyright  # noqa: E402

ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

ALICE = "alice@example.com"
BOB = "bob@example.com"
# user -> (password, passwd-file userdb extra fields)
USERS = {
    ALICE: ("alice-secret", "userdb_quota_storage_size=2M"),
    BOB: ("bob-secret", ""),
}


def _run(args, timeout=120, check=True, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d:\n%s%s" % (" ".join(args), r.returncode,
                                                      r.stdout[-3000:], r.stderr[-3000:]))
    return r


def _debian_root(profile):
    r = _run(["bash", DEBIAN_ROOT, SUITE, profile], timeout=1500)
    path = r.stdout.strip().splitlines()[-1]
    if not os.path.isdir(path):
        raise AssertionError("debian-root.sh %s %s printed %r" % (SUITE, profile, r.stdout))
    return path


def _skip_reason():
    if os.environ.get("DVA_SKIP_SYSTEM_TESTS"):
        return "DVA_SKIP_SYSTEM_TESTS is set"
    if os.geteuid() != 0:
        return "needs root (chroot, mount namespaces)"
    for tool in ("unshare", "nsenter", "chroot", "mount"):
        if not shutil.which(tool):
            return "%s not found" % tool
    return None


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _csv_last(path):
    """The last value of a one-value collectd csv file (epoch,value)."""
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("epoch")]
    return float(lines[-1].split(",")[1])


def _dovecot_conf(version, imap_port):
    """A small Dovecot 2.4 configuration (doc/PROTOCOL.md section 9). The
    default base_dir (/run/dovecot) holds doveadm-server, the socket the
    drop-in reads."""
    return """dovecot_config_version = %(v)s
dovecot_storage_version = %(v)s
protocols = imap
listen = 127.0.0.1
log_path = /var/log/dva-dovecot.log
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain
first_valid_uid = 8
mail_uid = mail
mail_gid = mail
mail_driver = maildir
mail_home = /srv/dva-mail/%%{user | domain}/%%{user | username}
mail_path = ~/Maildir
mail_plugins {
  quota = yes
}
passdb passwd-file {
  passwd_file_path = /etc/dva-dovecot/users
}
userdb passwd-file {
  passwd_file_path = /etc/dva-dovecot/users
}
quota_storage_size = 10M
quota_message_count = 50
quota "User quota" {
}
service imap-login {
  inet_listener imap {
    listen = 127.0.0.1
    port = %(port)d
  }
  inet_listener imaps {
    port = 0
  }
}
metric imap_command {
  filter = event=imap_command_finished
  group_by cmd_name {
  }
}
""" % {"v": version, "port": imap_port}


# Debian's collectd.conf in small: a log file instead of syslog, the csv
# writer instead of rrdtool (whose library collectd-core only recommends),
# and the same Include of collectd.conf.d as Debian's stock file.
COLLECTD_CONF = """Hostname "%s"
FQDNLookup false
Interval 2
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "/var/log/dva-collectd.log"
  Timestamp true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "/var/lib/collectd/csv"
  StoreRates false
</Plugin>
<Include "/etc/collectd/collectd.conf.d">
  Filter "*.conf"
</Include>
""" % HOSTNAME


class Trixie(object):
    """A session in a Debian root: scripts/in-root.sh runs `cat` there (its
    stdin our pipe) and commands join its namespaces with nsenter; closing
    the pipe ends the session, and the kernel ends whatever still runs in
    it."""

    def __init__(self, root):
        self.root = root
        self.errors = ""
        self.proc = subprocess.Popen([IN_ROOT, root, "sh", "-c", "echo ready; exec cat"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.init = None
        ready = self._readline(30)
        if ready == "ready":
            # The mounts are made: unshare's child is the namespace's PID 1.
            ours = os.readlink("/proc/self/ns/pid")
            for pid in self._children(self.proc.pid):
                try:
                    if os.readlink("/proc/%d/ns/pid" % pid) != ours:
                        self.init = pid
                except OSError:
                    pass
        if self.init is None:
            self.close()
            raise AssertionError("in-root.sh %s did not start (said %r, exit status %s): %s"
                                 % (root, ready, self.proc.returncode, self.errors))

    def _readline(self, timeout):
        """The first line of the session's stdout, or None after timeout."""
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(timeout):
                return None
        finally:
            sel.close()
        return self.proc.stdout.readline().decode(errors="replace").strip()

    @staticmethod
    def _children(pid):
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def argv(self, *cmd):
        # --root: the session's own root directory, which is not the mount
        # namespace's when the test itself runs in a chroot.
        return (["nsenter", "--target", str(self.init), "--mount", "--pid", "--root", "--",
                 "chroot", self.root, "env", "-i", "PATH=" + ROOT_PATH, "HOME=/root",
                 "LANG=C.UTF-8"] + list(cmd))

    def run(self, *cmd, timeout=120, check=True):
        return _run(self.argv(*cmd), timeout=timeout, check=check)

    def sh(self, script, timeout=120, check=True):
        return self.run("sh", "-c", script, timeout=timeout, check=check)

    def path(self, p):
        return self.root + p

    def close(self):
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGKILL)   # --kill-child ends the rest
                self.proc.wait(timeout=10)
        if not self.proc.stdout.closed:
            self.proc.stdout.close()
            self.errors = self.proc.stderr.read().decode(errors="replace")[-2000:]
            self.proc.stderr.close()


class DebOnTrixieTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        reason = _skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        cls.tmp = tempfile.mkdtemp(prefix="dva-deb-trixie-")
        cls.session = None
        try:
            cls._setup()
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def _setup(cls):
        t0 = time.monotonic()
        build_root = _debian_root("build")
        server_root = _debian_root("server")
        cls.roots_seconds = time.monotonic() - t0

        # The package, built in Debian 13.
        out = os.path.join(cls.tmp, "out")
        os.makedirs(out)
        t0 = time.monotonic()
        script = ('set -e; cmake -S /tmp/src -B /tmp/build -DDVA_WERROR=ON '
                  '-DDVA_BUILD_TESTS=OFF >/dev/null; '
                  'cmake --build /tmp/build -j"$(nproc)" >/dev/null; '
                  'cd /tmp/build && cpack -G DEB -B /tmp/out >/dev/null; '
                  'cat /etc/debian_version')
        r = _run([IN_ROOT, "--ro-bind", SOURCE + ":/tmp/src", "--bind", out + ":/tmp/out",
                  build_root, "env", "-i", "PATH=" + ROOT_PATH, "HOME=/root",
                  "LANG=C.UTF-8", "sh", "-c", script], timeout=900)
        cls.build_seconds = time.monotonic() - t0
        cls.build_release = r.stdout.strip()
        debs = glob.glob(os.path.join(out, PACKAGE + "_*.deb"))
        if len(debs) != 1:
            raise AssertionError("cpack in the trixie root made %s" % os.listdir(out))
        cls.deb = debs[0]

        # A throwaway copy of the clean root: the package goes in there.
        t0 = time.monotonic()
        cls.root = os.path.join(cls.tmp, "root")
        _run(["cp", "-a", "--reflink=auto", server_root, cls.root], timeout=300)
        cls.session = s = Trixie(cls.root)
        cls.before = s.run("dpkg-query", "-W", "-f=${Package} ${Status}\\n").stdout
        shutil.copy(cls.deb, s.path("/root/"))
        cls.apt_log = cls._apt_install("/root/" + os.path.basename(cls.deb))
        cls.install_seconds = time.monotonic() - t0

        # Dovecot 2.4 of that root, with a configuration of its own.
        cls.dovecot_version = s.run("dovecot", "--version").stdout.strip()
        version = cls.dovecot_version.split()[0].split("-")[0]
        cls.imap_port = _free_port()
        os.makedirs(s.path("/etc/dva-dovecot"))
        with open(s.path("/etc/dva-dovecot/dovecot.conf"), "w") as f:
            f.write(_dovecot_conf(version, cls.imap_port))
        with open(s.path("/etc/dva-dovecot/users"), "w") as f:
            for user, (password, extra) in USERS.items():
                f.write("%s:{PLAIN}%s::::::%s\n" % (user, password, extra))
        s.sh("chgrp dovecot /etc/dva-dovecot/users && chmod 640 /etc/dva-dovecot/users && "
             "install -d -o mail -g mail /srv/dva-mail")
        # The master keeps inherited descriptors open: give it a file.
        s.sh("dovecot -c /etc/dva-dovecot/dovecot.conf >/var/log/dva-dovecot.out 2>&1")
        cls._await_dovecot()

    @classmethod
    def _apt_install(cls, deb):
        """apt-get install ./the.deb in the copy; with fresh package lists
        when the cached ones are out of date."""
        env = ("DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
               "--no-install-recommends %s" % deb)
        r = cls.session.sh(env, timeout=600, check=False)
        if r.returncode != 0:
            cls.session.sh("apt-get update -q", timeout=600)
            r = cls.session.sh(env, timeout=600, check=False)
        if r.returncode != 0:
            raise AssertionError("apt-get install %s in the trixie root exited %d:\n%s%s"
                                 % (deb, r.returncode, r.stdout[-3000:], r.stderr[-3000:]))
        return r.stdout

    @classmethod
    def _await_dovecot(cls):
        s = cls.session
        deadline = time.monotonic() + WAIT
        while True:
            if os.path.exists(s.path("/run/dovecot/doveadm-server")):
                try:
                    socket.create_connection(("127.0.0.1", cls.imap_port), timeout=2).close()
                    return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise AssertionError("Dovecot 2.4 did not start in the root:\n%s\n%s"
                                     % (cls._tail("/var/log/dva-dovecot.out"),
                                        cls._tail("/var/log/dva-dovecot.log")))
            time.sleep(0.1)

    @classmethod
    def _tail(cls, path, n=3000):
        try:
            with open(cls.session.path(path), errors="replace") as f:
                return f.read()[-n:]
        except OSError as e:
            return "(%s)" % e

    @classmethod
    def _cleanup(cls):
        if cls.session is not None:
            cls.session.close()
            cls.session = None
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls._cleanup()

    # -- the package ------------------------------------------------------------
    def test_control_depends_from_debian_13(self):
        depends = _run(["dpkg-deb", "-f", self.deb, "Depends"]).stdout.strip()
        sys.stderr.write("\n  built in Debian %s root in %.0f s (roots ready in %.0f s); "
                         "Depends: %s\n" % (self.build_release, self.build_seconds,
                                            self.roots_seconds, depends))
        self.assertTrue(self.build_release.startswith("13."), self.build_release)
        names = [d.strip().split()[0] for dep in depends.split(",") for d in dep.split("|")]
        for dep in ("collectd-core", "libssl3t64", "libconfuse2", "libc6"):
            self.assertIn(dep, names, depends)
        # Debian 12's name of OpenSSL's library does not exist on 13.
        self.assertNotIn("libssl3", names, depends)

    def test_copyright_file(self):
        check_deb_copyright(self, self.deb)

    def test_installed_beside_the_roots_collectd_core(self):
        before = dict(ln.split(" ", 1) for ln in self.before.splitlines() if ln)
        self.assertIn("install ok installed", before.get("collectd-core", ""))
        self.assertNotIn(PACKAGE, before)
        status = self.session.run("dpkg-query", "-W", "-f=${Status}", PACKAGE).stdout
        self.assertEqual(status, "install ok installed")
        files = self.session.run("dpkg", "-L", PACKAGE).stdout.splitlines()
        for path in ("/usr/lib/collectd/dovecot.so", DROP_IN, TOOL):
            self.assertIn(path, files)
        conffiles = self.session.run("dpkg-query", "-W", "-f=${Conffiles}", PACKAGE).stdout
        self.assertIn(DROP_IN, conffiles)
        # what apt had to add to the clean root, for the record
        added = sorted(ln.split()[2] for ln in self.apt_log.splitlines()
                       if ln.startswith("Setting up "))
        sys.stderr.write("\n  apt-get install set up: %s (%.0f s with the copy)\n"
                         % (", ".join(added), self.install_seconds))
        self.session.run("dpkg-query", "-W", "libconfuse2", "libssl3t64")

    # -- the check tool and collectd against Dovecot 2.4 ------------------------
    def test_check_tool_and_collectd_read_dovecot_24(self):
        s = self.session
        self.assertTrue(self.dovecot_version.startswith("2.4"), self.dovecot_version)
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        try:
            imap.login(ALICE, USERS[ALICE][0])
            for i in range(3):
                msg = ("From: t@example.net\r\nTo: %s\r\nSubject: m%d\r\n\r\n%s\r\n"
                       % (ALICE, i, "x" * 20000)).encode()
                typ, _ = imap.append("INBOX", None, None, msg)
                self.assertEqual(typ, "OK")
            imap.select("INBOX")
            # the installed tool with the installed drop-in, as shipped
            r = s.run(TOOL, "-f", DROP_IN, "-F", "nagios", check=False)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertTrue(r.stdout.startswith("DOVECOT OK - /run/dovecot/doveadm-server "
                                                "answered"), r.stdout)

            # 1. the drop-in exactly as shipped
            values = self._collectd_values(["bool-up", "users-imap",
                                            "current_sessions-imap", "derive-imap_command"])
            self.assertEqual(values["bool-up"], 1.0)
            self.assertEqual(values["users-imap"], 1.0)
            self.assertEqual(values["current_sessions-imap"], 1.0)
            self.assertGreater(values["derive-imap_command"], 0)
            self.assertTrue(any(n.startswith("derive-imap_command_APPEND")
                                for n in values["_all"]), sorted(values["_all"]))

            # 2. QuotaUsers "*" uncommented, as an administrator would
            with open(s.path(DROP_IN)) as f:
                text = f.read()
            self.assertIn('#QuotaUsers "*"', text)
            with open(s.path(DROP_IN), "w") as f:
                f.write(text.replace('#QuotaUsers "*"', 'QuotaUsers "*"', 1))
            quota = ["bytes-%s-User_quota-used" % ALICE, "bytes-%s-User_quota-limit" % ALICE,
                     "email_count-%s-User_quota-used" % ALICE,
                     "percent-%s-User_quota-storage" % ALICE,
                     "bytes-%s-User_quota-limit" % BOB]
            values = self._collectd_values(["bool-up"] + quota, required=["bool-up"])
        finally:
            try:
                imap.logout()
            except Exception:
                pass
        self.assertEqual(values["bool-up"], 1.0)
        got = {n: values[n] for n in quota if n in values}
        sys.stderr.write("\n  Dovecot %s; quota values read: %s\n"
                         % (self.dovecot_version, got or "none"))
        if got:
            # alice: 2M from her userdb field, 3 messages of ~20 KB;
            # bob: the global 10M
            self.assertEqual(values["bytes-%s-User_quota-limit" % ALICE], 2 * 1024 * 1024)
            self.assertEqual(values["email_count-%s-User_quota-used" % ALICE], 3)
            self.assertGreater(values["bytes-%s-User_quota-used" % ALICE], 60000)
            self.assertEqual(values["bytes-%s-User_quota-limit" % BOB], 10 * 1024 * 1024)

    def _collectd_values(self, names, required=None):
        """Runs collectd in the root until every name (or every required
        one, the rest given two more reads) has a csv file; returns
        {name: last value} and "_all": every name collectd wrote."""
        s = self.session
        required = names if required is None else required
        shutil.rmtree(s.path("/var/lib/collectd/csv"), ignore_errors=True)
        with open(s.path("/etc/collectd/dva-collectd.conf"), "w") as f:
            f.write(COLLECTD_CONF)
        s.sh("rm -f /var/log/dva-collectd.log; "
             "collectd -C /etc/collectd/dva-collectd.conf -P /run/dva-collectd.pid")
        inst = s.path(INSTANCE_DIR)
        deadline = time.monotonic() + WAIT
        extra_until = None
        try:
            while True:
                files = {}
                for path in glob.glob(os.path.join(inst, "*")):
                    base = os.path.basename(path)
                    files[base[:-11] if base[-11:-10] == "-" else base] = path
                if all(n in files for n in required):
                    if all(n in files for n in names):
                        break
                    extra_until = extra_until or time.monotonic() + 4.5
                    if time.monotonic() > extra_until:
                        break
                if time.monotonic() > deadline:
                    self.fail("no %s after %.0f s; collectd wrote %s; its log:\n%s"
                              % (sorted(set(required) - set(files)), WAIT, sorted(files),
                                 self._tail("/var/log/dva-collectd.log")))
                time.sleep(0.2)
        finally:
            s.sh('kill "$(cat /run/dva-collectd.pid)"; i=0; '
                 'while kill -0 "$(cat /run/dva-collectd.pid)" 2>/dev/null && [ $i -lt 100 ]; '
                 'do sleep 0.1; i=$((i+1)); done', check=False)
        values = {n: _csv_last(p) for n, p in files.items()}
        values["_all"] = sorted(files)
        return values


if __name__ == "__main__":
    unittest.main()
