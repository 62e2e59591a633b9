# SPDX-License-Identifier: MIT
"""A real, private collectd (5.12) for end-to-end tests of dovecot.so.

Python 3 standard library only.  Everything lives in a temporary directory:
the configuration, the PID file, the plugin directory (REAL COPIES of
collectd's csv.so, unixsock.so and logfile.so and of the dovecot.so under
test: collectd refuses symlinks there), the log, the csv files and the
unixsock socket.  collectd runs in the foreground (`collectd -f -C conf`) as
a child process, so stop() always knows what to wait for.

    from collectd_fixture import CollectdDaemon, dovecot_block
    block = dovecot_block("t", Socket=d.doveadm_socket, QuotaUser=["alice"])
    with CollectdDaemon(block) as c:              # start() ... stop()
        c.wait_values(["dvtest/dovecot-t/bool-up"], timeout=20)
        print(c.getval("dvtest/dovecot-t/bool-up"))    # {'value': 1.0}
        print(c.notifications())

Values are named host/plugin[-instance]/type[-type_instance]; the host is
HOSTNAME ("dvtest") unless the block sets ReportHost.

Lifecycle:
  start(wait=True)      run `collectd -f`; returns when unixsock answers
                        (CollectdError with the log if it exits first)
  stop()                SIGTERM, bounded wait (SIGKILL + CollectdError after
                        stop_timeout); returns the exit code (0 = clean,
                        99 = valgrind found errors)
  run_until_exit(t)     for configurations collectd must refuse: start
                        `collectd -f`, wait up to t s for it to exit;
                        (rc or None if still running, output)
  check_config()        `collectd -T` (read everything once, exit) on a
                        variant config without unixsock: (rc, output)
  cleanup()             remove the temp dir (the context manager does)

Reading values:
  listval()       identifiers (collectdctl listval), sorted
  getval(id)      via `collectdctl getval`: {ds: float}; gauges as they
                  are, DERIVE and COUNTER as RATES (NaN after the first
                  read: that is what unixsock returns); None if absent
  value(id)       getval's first data source, or None
  csv_rows(id)    every (time, [values]) the csv plugin wrote: raw values,
                  also for DERIVE (StoreRates false)
  csv_last(id)    the newest csv row's first value, or None
  csv_text()      all csv files (to look for leaked secrets)
  value_time(id)  the time of the cached value (unixsock LISTVAL), or None
  log_text(), log_lines(), log_tail()
  notifications(**match)  from the log (logfile prints each as "Notification:
                  severity = S, host = ..., message = M"), as dicts

Waiting (polls every 50 ms against a deadline, fails early if collectd
exited, errors carry the log tail):
  wait_for(predicate, timeout, what)   returns predicate's truthy result
  wait_values(ids, timeout)            until all are in listval
  wait_reads(id, n, timeout)           until id's value time advanced n times

Config text helpers: instance_block(name, **options), dovecot_block(...),
identifier(instance, type, type_instance).

Environment:
  DVA_PLUGIN          default path of the dovecot.so under test
  DVA_VALGRIND=1      run collectd under valgrind (memcheck; exit code 99
                      on errors or definite leaks); timeouts are stretched
  COLLECTD_FIXTURE_KEEP=1  keep the temp dir after the test
"""

import grp
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

COLLECTD = shutil.which("collectd", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/collectd"
COLLECTDCTL = shutil.which("collectdctl", path="/usr/bin:/usr/sbin:/bin:/sbin") \
    or "/usr/bin/collectdctl"
VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"
# known leaks of collectd's own plugins (network.so), never of dovecot.so
VALGRIND_SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "collectd-valgrind.supp")
SYSTEM_PLUGIN_DIR = "/usr/lib/collectd"
TYPES_DB = "/usr/share/collectd/types.db"
HOSTNAME = "dvtest"

# Plugins every daemon loads (logfile first: it must see the others' logs).
BASE_PLUGINS = ("logfile", "csv", "unixsock")

POLL = 0.05            # seconds between two looks at a condition


class CollectdError(RuntimeError):
    pass


def valgrind_enabled():
    return os.environ.get("DVA_VALGRIND", "") not in ("", "0")


def default_plugin_path():
    """The dovecot.so under test: $DVA_PLUGIN or build/plugin/dovecot.so."""
    p = os.environ.get("DVA_PLUGIN")
    if p:
        return p
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "build", "plugin", "dovecot.so"))


def _quote(value):
    """A collectd config value: numbers and booleans bare, text quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    s = str(value)
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def instance_block(name, **options):
    """The text of one <Instance "name"> block.  An option given a list or
    tuple is written once per element (QuotaUser=["a", "b"])."""
    lines = ['  <Instance %s>' % _quote(name)]
    for key, value in options.items():
        if value is None:
            continue
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            lines.append("    %s %s" % (key, _quote(v)))
    lines.append("  </Instance>")
    return "\n".join(lines)


def dovecot_block(*instances, **options):
    """A <Plugin dovecot> block.  Either dovecot_block("name", Opt=v, ...)
    for one instance, or dovecot_block(instance_block(...), ...) texts."""
    if len(instances) == 1 and not instances[0].lstrip().startswith("<"):
        instances = (instance_block(instances[0], **options),)
    elif options:
        raise TypeError("options only with a single instance name")
    return "<Plugin dovecot>\n%s\n</Plugin>" % "\n".join(instances)


def identifier(instance, type_, type_instance="", host=HOSTNAME, plugin="dovecot"):
    """host/plugin-instance/type[-type_instance]."""
    pi = "%s-%s" % (plugin, instance) if instance else plugin
    ti = "%s-%s" % (type_, type_instance) if type_instance else type_
    return "%s/%s/%s" % (host, pi, ti)


# "Notification: severity = WARNING, host = h, plugin = p, ..., message = m"
_NOTIF_RE = re.compile(r"Notification: severity = (?P<severity>[A-Z]+)(?P<rest>.*)$")
_NOTIF_KEYS = ("host", "plugin", "plugin_instance", "type", "type_instance")
_LOG_LINE_RE = re.compile(r"^\[(?P<time>[^\]]*)\] (?:\[(?P<level>[a-z]+)\] )?(?P<text>.*)$")


def parse_notification(text):
    """A dict (severity, host, plugin, plugin_instance, type, type_instance,
    message; empty fields missing) from logfile's notification line, or
    None.  The fields before the message never contain ", " (collectd
    names), the message is everything after ", message = "."""
    m = _NOTIF_RE.search(text)
    if not m:
        return None
    n = {"severity": m.group("severity")}
    rest = m.group("rest")
    idx = rest.find(", message = ")
    if idx >= 0:
        n["message"] = rest[idx + len(", message = "):]
        rest = rest[:idx]
    for part in rest.split(", "):
        if " = " in part:
            k, v = part.split(" = ", 1)
            if k in _NOTIF_KEYS:
                n[k] = v
    return n


class CollectdDaemon:
    """A private collectd in a temp dir; see the module docstring."""

    def __init__(self, dovecot_config="", plugin_path=None, interval=1.0,
                 load_dovecot=True, extra_plugins=(), extra_config="",
                 hostname=HOSTNAME, valgrind=None, base_dir=None, keep_dir=None,
                 start_timeout=20.0, stop_timeout=15.0, read_threads=5,
                 new_session=False, plugin_files=(), command_prefix=()):
        """
        dovecot_config  the <Plugin dovecot> ... </Plugin> text (see
                        dovecot_block()); "" for none.  Text that does not
                        start with "<Plugin" is wrapped in one.
        plugin_path     the dovecot.so to copy (default: default_plugin_path())
        interval        the global Interval in seconds (1 for tests)
        load_dovecot    write `LoadPlugin dovecot` (and copy the .so)
        extra_plugins   more of collectd's own plugins to copy and load
                        (e.g. ("load",))
        extra_config    text appended to collectd.conf
        plugin_files    more of collectd's own plugins to copy WITHOUT a
                        LoadPlugin line: extra_config loads them (a
                        documented conf file used as it is)
        valgrind        run under valgrind (default: env DVA_VALGRIND)
        keep_dir        keep the temp dir (default: env COLLECTD_FIXTURE_KEEP)
        new_session     run collectd in a session of its own, so a Ctrl-C on
                        the terminal reaches only the caller, who then
                        stops collectd in order (the demo)
        command_prefix  a command that sets up and execs the rest (e.g.
                        unshare ... into a namespace), signals reaching
                        collectd as without it
        """
        text = (dovecot_config or "").strip()
        if text and not text.startswith("<Plugin"):
            text = "<Plugin dovecot>\n%s\n</Plugin>" % text
        self.dovecot_config = text
        self.plugin_path = plugin_path or default_plugin_path()
        self.valgrind = valgrind_enabled() if valgrind is None else valgrind
        # Under valgrind the first reads run code valgrind is still
        # translating: at Interval 1 (Timeout 0.8 s) they could time out,
        # and a test would see a FAILURE/OKAY pair that is valgrind's.
        self.interval = interval * 2 if self.valgrind else interval
        self.load_dovecot = load_dovecot
        self.extra_plugins = tuple(extra_plugins)
        self.extra_config = extra_config
        self.plugin_files = tuple(plugin_files)
        self.hostname = hostname
        # valgrind makes everything ~20-50x slower
        self.slow = 5.0 if self.valgrind else 1.0
        self.start_timeout = start_timeout * self.slow
        self.stop_timeout = stop_timeout * self.slow
        self.read_threads = read_threads
        self.new_session = new_session
        self.command_prefix = list(command_prefix)
        self._own_dir = base_dir is None
        self.dir = os.path.abspath(base_dir) if base_dir else None
        if keep_dir is None:
            keep_dir = bool(os.environ.get("COLLECTD_FIXTURE_KEEP"))
        self.keep_dir = keep_dir
        self.proc = None
        self.returncode = None
        self._prepared = False
        self.conf_path = self.log_path = self.socket_path = None
        self.csv_dir = self.plugin_dir = self.stdout_path = None
        self.valgrind_log = None

    # -- context manager ------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self.cleanup()

    # -- files ----------------------------------------------------------------
    def prepare(self):
        """Create the temp dir, copy the plugins, write collectd.conf (and
        the check variant).  start() and check_config() call it."""
        if self._prepared:
            return self
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="collectd-fixture-")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.plugin_dir = os.path.join(self.dir, "plugins")
        self.csv_dir = os.path.join(self.dir, "csv")
        self.conf_path = os.path.join(self.dir, "collectd.conf")
        self.check_conf_path = os.path.join(self.dir, "collectd-check.conf")
        self.log_path = os.path.join(self.dir, "collectd.log")
        self.check_log_path = os.path.join(self.dir, "collectd-check.log")
        self.stdout_path = os.path.join(self.dir, "collectd.out")
        self.socket_path = os.path.join(self.dir, "collectd.sock")
        self.pid_path = os.path.join(self.dir, "collectd.pid")
        self.valgrind_log = os.path.join(self.dir, "valgrind.log")
        if len(self.socket_path) > 100:
            raise CollectdError("temp dir path too long for a UNIX socket: %s" % self.dir)
        os.makedirs(self.plugin_dir, exist_ok=True)
        os.makedirs(self.csv_dir, exist_ok=True)
        for name in BASE_PLUGINS + self.extra_plugins + self.plugin_files:
            shutil.copyfile(os.path.join(SYSTEM_PLUGIN_DIR, name + ".so"),
                            os.path.join(self.plugin_dir, name + ".so"))
        if self.load_dovecot:
            if not os.path.isfile(self.plugin_path):
                raise CollectdError("plugin not found: %s (set DVA_PLUGIN or build it)"
                                    % self.plugin_path)
            # a real copy: collectd does not load plugins through symlinks
            shutil.copyfile(self.plugin_path, os.path.join(self.plugin_dir, "dovecot.so"))
        with open(self.conf_path, "w") as f:
            f.write(self.config_text())
        with open(self.check_conf_path, "w") as f:
            f.write(self.config_text(check=True))
        self._prepared = True
        return self

    def config_text(self, check=False):
        """collectd.conf; with check, the variant for `collectd -T`: no
        unixsock (it would replace a running daemon's socket), its own log
        and csv dir."""
        log = self.check_log_path if check else self.log_path
        csv = self.csv_dir + ("-check" if check else "")
        c = []
        a = c.append
        a("# generated by tests/integration/collectd_fixture.py -- private test instance")
        a('Hostname %s' % _quote(self.hostname))
        a("FQDNLookup false")
        a("BaseDir %s" % _quote(self.dir))
        a("PIDFile %s" % _quote(self.pid_path + ("-check" if check else "")))
        a("PluginDir %s" % _quote(self.plugin_dir))
        a("TypesDB %s" % _quote(TYPES_DB))
        a("Interval %s" % _quote(self.interval))
        a("ReadThreads %d" % self.read_threads)
        a("WriteThreads 1")
        a("")
        a("LoadPlugin logfile")
        a("<Plugin logfile>")
        a("  LogLevel info")
        a("  File %s" % _quote(log))
        a("  Timestamp true")
        a("  PrintSeverity true")
        a("</Plugin>")
        a("LoadPlugin csv")
        a("<Plugin csv>")
        a("  DataDir %s" % _quote(csv))
        a("  StoreRates false")
        a("</Plugin>")
        if not check:
            a("LoadPlugin unixsock")
            a("<Plugin unixsock>")
            a("  SocketFile %s" % _quote(self.socket_path))
            a("  SocketGroup %s" % _quote(grp.getgrgid(os.getgid()).gr_name))
            a('  SocketPerms "0600"')
            a("  DeleteSocket true")
            a("</Plugin>")
        for name in self.extra_plugins:
            a("LoadPlugin %s" % name)
        if self.load_dovecot:
            a("LoadPlugin dovecot")
        if self.dovecot_config:
            a("")
            a(self.dovecot_config)
        if self.extra_config:
            a("")
            a(self.extra_config)
        return "\n".join(c) + "\n"

    def _command(self, *args, valgrind_log=None):
        cmd = [COLLECTD] + list(args)
        if self.valgrind:
            cmd = [VALGRIND, "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                   "--num-callers=30", "--suppressions=%s" % VALGRIND_SUPPRESSIONS,
                   "--log-file=%s" % (valgrind_log or self.valgrind_log)] + cmd
        return self.command_prefix + cmd

    # -- lifecycle ------------------------------------------------------------
    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait=True):
        """Start `collectd -f -C conf`.  With wait, return once the unixsock
        socket answers; raise CollectdError (with the log) if collectd exits
        first or is not ready in time."""
        if self.proc is not None:
            return self
        self.prepare()
        self._out = open(self.stdout_path, "ab")
        try:
            self.proc = subprocess.Popen(self._command("-f", "-C", self.conf_path),
                                         stdin=subprocess.DEVNULL, stdout=self._out,
                                         stderr=subprocess.STDOUT, cwd=self.dir,
                                         start_new_session=self.new_session)
        except BaseException:
            self._out.close()
            raise
        self.returncode = None
        if wait:
            try:
                self.wait_for(self._ready, self.start_timeout, what="collectd ready",
                              fail_if_exited=True)
            except BaseException:
                self.stop()
                raise
        return self

    def _ready(self):
        if not os.path.exists(self.socket_path):
            return False
        try:
            self._unixsock("LISTVAL", timeout=2)
            return True
        except (OSError, CollectdError):
            return False

    def wait_exit(self, timeout):
        """Wait (bounded) for collectd to exit by itself; its exit code, or
        None if it is still running."""
        if self.proc is None:
            return self.returncode
        try:
            self.returncode = self.proc.wait(timeout=timeout * self.slow)
        except subprocess.TimeoutExpired:
            return None
        self._close_out()
        return self.returncode

    def stop(self):
        """SIGTERM, wait (bounded; SIGKILL after stop_timeout) and return the
        exit code (None if it never started).  Idempotent."""
        if self.proc is None:
            return self.returncode
        p = self.proc
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except OSError:
                pass
            try:
                p.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
                self.returncode = p.returncode
                self.proc = None
                self._close_out()
                raise CollectdError("collectd did not stop within %.1fs of SIGTERM; killed"
                                    % self.stop_timeout)
        self.returncode = p.returncode
        self.proc = None
        self._close_out()
        return self.returncode

    def _close_out(self):
        out = getattr(self, "_out", None)
        if out is not None:
            out.close()
            self._out = None

    def cleanup(self):
        """Remove the temp dir (unless kept or given by the caller)."""
        if self._own_dir and not self.keep_dir and self.dir and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)

    def run_until_exit(self, timeout=20.0):
        """Start `collectd -f` and wait (bounded) for it to exit by itself,
        for configurations it must refuse.  Returns (rc, output) where
        output is its stdout/stderr and log; rc is None if it was still
        running after timeout (then it is stopped)."""
        self.start(wait=False)
        rc = self.wait_exit(timeout)
        if rc is None:
            self.stop()
        return rc, self.output()

    def check_config(self, timeout=30.0):
        """Run `collectd -T -C conf` once: read every plugin once and exit
        (no unixsock; a log of its own).  Returns (rc, output), output =
        stdout/stderr + the log of that run."""
        self.prepare()
        r = subprocess.run(self._command("-T", "-C", self.check_conf_path,
                                         valgrind_log=self.valgrind_log + "-check"),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           errors="replace", timeout=timeout * self.slow, cwd=self.dir)
        return r.returncode, r.stdout + r.stderr + _read(self.check_log_path)

    # -- reading --------------------------------------------------------------
    def _ctl(self, *args, timeout=10):
        r = subprocess.run([COLLECTDCTL, "-s", self.socket_path] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise CollectdError("collectdctl %s failed (%d): %s"
                                % (" ".join(args), r.returncode,
                                   (r.stderr or r.stdout).strip()))
        return r.stdout

    def listval(self):
        """The identifiers collectd holds (collectdctl listval), sorted."""
        return sorted(line.strip() for line in self._ctl("listval").splitlines()
                      if line.strip())

    def getval(self, ident):
        """{ds_name: float} of the cached value (collectdctl getval); DERIVE
        and COUNTER are rates.  None if collectd has no such value."""
        r = subprocess.run([COLLECTDCTL, "-s", self.socket_path, "getval", ident],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            if "No such value" in r.stderr + r.stdout:
                return None
            raise CollectdError("collectdctl getval %s failed (%d): %s"
                                % (ident, r.returncode, (r.stderr or r.stdout).strip()))
        out = {}
        for line in r.stdout.splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                out[k.strip()] = float(v)
        return out

    def value(self, ident):
        """The first data source of getval(ident), or None."""
        v = self.getval(ident)
        if not v:
            return None
        return next(iter(v.values()))

    def _unixsock(self, command, timeout=5):
        """One command over the unixsock protocol; the lines after the
        status line ("N message")."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.socket_path)
            f = s.makefile("rwb")
            f.write(command.encode() + b"\n")
            f.flush()
            status = f.readline().decode(errors="replace").rstrip("\n")
            try:
                n = int(status.split(" ", 1)[0])
            except ValueError:
                raise CollectdError("unixsock %s: bad status %r" % (command, status))
            if n < 0:
                raise CollectdError("unixsock %s: %s" % (command, status))
            return [f.readline().decode(errors="replace").rstrip("\n") for _ in range(n)]

    def listval_times(self):
        """{identifier: time of the cached value} (unixsock LISTVAL)."""
        out = {}
        for line in self._unixsock("LISTVAL"):
            t, ident = line.split(" ", 1)
            out[ident] = float(t)
        return out

    def value_time(self, ident):
        return self.listval_times().get(ident)

    def _csv_files(self, ident):
        host, pi, ti = ident.split("/")
        d = os.path.join(self.csv_dir, host, pi)
        pat = re.compile(re.escape(ti) + r"-\d{4}-\d{2}-\d{2}$")
        try:
            names = sorted(n for n in os.listdir(d) if pat.match(n))
        except OSError:
            return []
        return [os.path.join(d, n) for n in names]

    def csv_rows(self, ident):
        """[(time, [values...])] the csv plugin wrote for ident, oldest
        first; raw values (DERIVE as the counter, not a rate)."""
        rows = []
        for path in self._csv_files(ident):
            for line in _read(path).splitlines():
                if not line or line.startswith("epoch"):
                    continue
                parts = line.split(",")
                try:
                    rows.append((float(parts[0]), [float(x) for x in parts[1:]]))
                except ValueError:
                    continue       # a line being written right now
        return rows

    def csv_last(self, ident):
        rows = self.csv_rows(ident)
        return rows[-1][1][0] if rows else None

    def csv_text(self):
        """Everything the csv plugin wrote (to look for leaked secrets)."""
        chunks = []
        for root, _dirs, files in os.walk(self.csv_dir):
            for n in sorted(files):
                chunks.append(_read(os.path.join(root, n)))
        return "".join(chunks)

    def log_text(self):
        """The log file plus collectd's own stdout/stderr."""
        return _read(self.log_path) + _read(self.stdout_path or "")

    output = log_text

    def log_lines(self):
        return _read(self.log_path).splitlines()

    def notifications(self, **match):
        """Notifications from the log, oldest first, as dicts (see
        parse_notification); keyword arguments filter on fields, e.g.
        notifications(plugin="dovecot", severity="WARNING").  Each also has
        "time": the timestamp text of its log line."""
        out = []
        for line in self.log_lines():
            n = parse_notification(line)
            if n is None:
                continue
            m = _LOG_LINE_RE.match(line)
            if m:
                n["time"] = m.group("time")     # the log's timestamp text
            if all(n.get(k) == v for k, v in match.items()):
                out.append(n)
        return out

    def valgrind_text(self):
        return _read(self.valgrind_log or "")

    # -- waiting ----------------------------------------------------------------
    def wait_for(self, predicate, timeout, what=None, poll=POLL, fail_if_exited=True):
        """Poll predicate() every `poll` seconds until it returns something
        true (returned) or timeout seconds pass (CollectdError with the log
        tail).  Fails early if collectd exited."""
        deadline = time.monotonic() + timeout * self.slow
        last_exc = None
        while True:
            try:
                r = predicate()
                if r:
                    return r
                last_exc = None
            except (OSError, CollectdError, subprocess.SubprocessError) as e:
                last_exc = e
            if fail_if_exited and self.proc is not None and self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise CollectdError("collectd exited (%s) while waiting for %s\n%s"
                                    % (self.returncode, what or predicate,
                                       self.log_tail()))
            if time.monotonic() >= deadline:
                raise CollectdError("timed out after %.1fs waiting for %s%s\n%s"
                                    % (timeout * self.slow, what or predicate,
                                       " (last error: %s)" % last_exc if last_exc else "",
                                       self.log_tail()))
            time.sleep(poll)

    def wait_values(self, identifiers, timeout=20.0):
        """Wait until every identifier is in listval; returns the listval."""
        want = set(identifiers)

        def have():
            got = self.listval()
            return got if want.issubset(got) else None
        try:
            return self.wait_for(have, timeout, what="values %s" % sorted(want))
        except CollectdError as e:
            try:
                got = set(self.listval())
                missing = sorted(want - got)
            except Exception:
                missing = sorted(want)
            raise CollectdError("%s\nmissing: %s" % (e, missing)) from None

    def wait_reads(self, ident, n, timeout=20.0):
        """Wait until ident's cached time advanced n times (n more reads);
        returns the last time seen."""
        times = [self.wait_for(lambda: self.value_time(ident), timeout,
                               what="a first value of %s" % ident)]

        def advanced():
            t = self.value_time(ident)
            if t is not None and t > times[-1]:
                times.append(t)
            return len(times) > n
        self.wait_for(advanced, timeout, what="%d more reads of %s" % (n, ident))
        return times[-1]

    def log_tail(self, n=40):
        lines = self.log_text().splitlines()
        return "--- collectd log tail (%s) ---\n%s" % (self.dir, "\n".join(lines[-n:]))


def _read(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


if __name__ == "__main__":
    # Smoke test with collectd's own `load` plugin: python3 collectd_fixture.py
    with CollectdDaemon(load_dovecot=False, extra_plugins=("load",)) as c:
        ident = "%s/load/load" % HOSTNAME
        c.wait_values([ident], timeout=10)
        print(c.listval())
        print(ident, c.getval(ident), c.csv_last(ident))
        print(c.wait_reads(ident, 2, timeout=10))
        print("rc", c.stop())
