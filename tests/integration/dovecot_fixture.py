# SPDX-License-Identifier: MIT
"""A real, private Dovecot (2.3 or 2.4) for integration tests and reply capture.

Python 3 standard library only; run as root (Dovecot's master must start as
root to change to the login / mail users).  Nothing outside a temporary
directory is touched, and every listener is on 127.0.0.1.

    from dovecot_fixture import DovecotServer
    with DovecotServer() as d:               # start() ... stop()
        print(d.doveadm("who"))
        s = d.imap_login("alice@example.com")  # keep open: shows in `who`
        ...

Generations: DovecotServer(generation="2.3" or "2.4"), by default the
environment variable DVA_DOVECOT_GENERATION (else the host's own Dovecot's
generation, else "2.3").  The host's own
Dovecot is used when `dovecot --version` is of that generation; otherwise a
cached Debian root of the release that ships it (scripts/debian-root.sh:
2.3 bookworm, 2.4 trixie; DVA_DOVECOT_ROOT_ONLY=1 takes the root in any
case), where Dovecot runs under chroot in a private
mount namespace (its own /proc, plus each `shared_dirs` entry bind-mounted
at the same path).  The fixture's tree then lives under ROOT/tmp; every
attribute below is a HOST path (server_path() maps one into the root),
and doveadm()/doveadm_run() run the CLI of the same Dovecot.

Attributes after start(): conf_path, base_dir (Dovecot's base_dir, where the
sockets live), root_dir (the whole temp tree), doveadm_socket, doveadm_port
(None when tcp=False), imap_port, password (doveadm_password), users
(dict user -> password), log_path, version (what `dovecot --version` says),
generation ("2.3" or "2.4"), root (the Debian root, or None on the host).

See doc/PROTOCOL.md (section 8: the settings of each generation).
Default users (DEFAULT_USERS), the same on both generations:
  alice@example.com  10M storage, 1000 messages; 6 messages (~30 KiB)
  bob@example.com    100k storage, 1000 messages; filled to > 90 % storage
  carol@example.com  no limits at all: `quota get` limits are `-`
  dave@example.com   broken quota backend: `quota get` values are `error`,
                     status -TEMPFAIL (2.3: dict over a missing socket;
                     2.4: see _quota_fields_for)
  erin@example.org   second domain, default limits; 2 messages
"""

import errno
import grp
import imaplib
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import doveadm_wire  # noqa: E402

DOVECOT = shutil.which("dovecot", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm", path="/usr/bin:/usr/sbin:/bin:/sbin") or "/usr/bin/doveadm"
DEBIAN_ROOT_SCRIPT = os.path.normpath(os.path.join(_HERE, "..", "..", "scripts",
                                                   "debian-root.sh"))

# The Dovecot generations the fixture can run, and the Debian release that
# ships each (a root of it is used when the host's Dovecot is of the other).
GENERATIONS = ("2.3", "2.4")
DEBIAN_SUITE = {"2.3": "bookworm", "2.4": "trixie"}
GENERATION_ENV = "DVA_DOVECOT_GENERATION"
# Set (to anything): a Debian root even when the host's Dovecot is of the
# generation asked for (what a host of the other Debian release does).
ROOT_ONLY_ENV = "DVA_DOVECOT_ROOT_ONLY"

# The quota root every default user has (doc/PROTOCOL.md section 7 example).
QUOTA_ROOT = "User quota"

# user -> spec.  Spec keys:
#   password     cleartext password ({PLAIN} in the passwd-file)
#   storage      storage limit ("10M", "100k"; "unlimited"), None: the
#                global default (10M)
#   message_count  message limit (an int; "unlimited"), None: the global
#                default (1000).  Both are written in each generation's
#                form (see _limit_fields_for).
#   fields       more userdb extra fields (name -> value, no spaces in
#                values), the same on every generation
#   quota        None: the global quota backend; "broken": a quota backend
#                that fails (see _quota_fields_for)
#   messages     list of message sizes in bytes, APPENDed to INBOX by IMAP
#   fill_storage_percent  instead of `messages`: APPEND messages of
#                fill_message_size bytes until storage use reaches this
#                percentage of fill_storage_limit bytes (stays below 100)
DEFAULT_USERS = {
    "alice@example.com": {
        "password": "alice-secret",
        "storage": "10M", "message_count": 1000,
        "fields": {},
        "messages": [2000, 3500, 4000, 5000, 6000, 9000],
    },
    "bob@example.com": {
        "password": "bob-secret",
        "storage": "100k", "message_count": 1000,
        "fields": {},
        "fill_storage_percent": 95,
        "fill_storage_limit": 100 * 1024,
        "fill_message_size": 4800,
    },
    "carol@example.com": {
        "password": "carol-secret",
        # neither resource is limited
        "storage": "unlimited", "message_count": "unlimited",
        "fields": {},
        "messages": [1500, 2500, 3000],
    },
    "dave@example.com": {
        "password": "dave-secret",
        "storage": "10M", "message_count": 1000,
        "fields": {},
        "quota": "broken",
        "messages": [],
    },
    "erin@example.org": {
        "password": "erin-secret",
        "fields": {},
        "messages": [1200, 2400],
    },
}


def bulk_users(n, domain="bulk.example", prefix="u"):
    """n users with no messages and the default quota rules (for benchmarks
    and scale tests): prefixNNNNN@domain -> spec.  Writing them is one line
    each in the passwd-file, so 10,000 users start in about a second."""
    return {"%s%05d@%s" % (prefix, i, domain): {"password": "bulk-%d" % i,
                                               "fields": {}, "messages": []}
            for i in range(n)}


class DovecotError(RuntimeError):
    pass


def _openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        raise DovecotError("openssl %s failed: %s" % (" ".join(args), r.stderr.strip()))


def make_test_pki(directory):
    """A test CA, a server certificate it signs (CN localhost; SAN DNS
    localhost and IP 127.0.0.1), and a second CA that signs nothing (the
    "wrong CA").  EC P-256 keys: generated in milliseconds.  Returns a dict
    of paths: ca, server_cert, server_key, other_ca."""
    os.makedirs(directory, mode=0o755, exist_ok=True)
    p = {k: os.path.join(directory, f) for k, f in (
        ("ca", "ca.pem"), ("ca_key", "ca.key"), ("server_cert", "server.pem"),
        ("server_key", "server.key"), ("csr", "server.csr"), ("ext", "server.ext"),
        ("other_ca", "other-ca.pem"), ("other_ca_key", "other-ca.key"))}
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    _openssl("req", "-x509", *ec, "-keyout", p["ca_key"], "-out", p["ca"], "-days", "2",
             "-subj", "/CN=collectd-dovecot test CA", *ca_ext)
    _openssl("req", "-x509", *ec, "-keyout", p["other_ca_key"], "-out", p["other_ca"],
             "-days", "2", "-subj", "/CN=collectd-dovecot other CA", *ca_ext)
    _openssl("req", *ec, "-keyout", p["server_key"], "-out", p["csr"],
             "-subj", "/CN=localhost")
    with open(p["ext"], "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", p["csr"], "-CA", p["ca"], "-CAkey", p["ca_key"],
             "-CAcreateserial", "-out", p["server_cert"], "-days", "2",
             "-extfile", p["ext"])
    for k in ("ca", "other_ca", "server_cert"):
        os.chmod(p[k], 0o644)
    return p


def free_port():
    """A currently free TCP port on 127.0.0.1 (bind port 0)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def make_message(size, subject, sender="tester@example.net", to="x@example.com"):
    """An RFC 5322 message of exactly `size` bytes (CRLF line ends)."""
    head = ("From: %s\r\nTo: %s\r\nSubject: %s\r\n"
            "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n"
            "Message-ID: <%s@fixture.invalid>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
            "\r\n" % (sender, to, subject, secrets.token_hex(8))).encode()
    body = bytearray()
    line_no = 0
    alphabet = (string.ascii_letters + string.digits).encode()
    while len(head) + len(body) < size:
        line_no += 1
        line = b"line %05d " % line_no + bytes(alphabet[(line_no + i) % len(alphabet)]
                                              for i in range(60)) + b"\r\n"
        body += line
    msg = head + bytes(body)
    if len(msg) > size and size > len(head) + 2:
        msg = msg[:size - 2] + b"\r\n"
    return msg


def _proc_children_map():
    """pid -> ppid for every process, from /proc."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # comm may contain spaces/parens: ppid is after the last ')'
        rest = stat[stat.rfind(b")") + 2:].split()
        try:
            out[int(name)] = int(rest[1])
        except (IndexError, ValueError):
            continue
    return out


def _proc_starttime(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return None
    rest = stat[stat.rfind(b")") + 2:].split()
    try:
        return int(rest[19])
    except (IndexError, ValueError):
        return None


def _descendants(root_pid):
    """(pid, starttime) of root_pid and all its descendants."""
    ppids = _proc_children_map()
    result = []
    todo = [root_pid]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        st = _proc_starttime(pid)
        if st is not None:
            result.append((pid, st))
        todo.extend(p for p, pp in ppids.items() if pp == pid)
    return result


def _alive(pid, starttime):
    st = _proc_starttime(pid)
    if st is None or st != starttime:
        return False
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
        state = stat[stat.rfind(b")") + 2:].split()[0]
        return state != b"Z"
    except OSError:
        return False


def default_generation():
    """$DVA_DOVECOT_GENERATION, else the host's own Dovecot's generation (so
    the demo runs Debian 13's 2.4 there), else "2.3"."""
    host = version_generation(host_dovecot_version())
    gen = os.environ.get(GENERATION_ENV) or (host if host in GENERATIONS else "2.3")
    if gen not in GENERATIONS:
        raise DovecotError("%s=%r: not one of %s" % (GENERATION_ENV, gen,
                                                     ", ".join(GENERATIONS)))
    return gen


def version_generation(version):
    """"2.3" of "2.3.19.1 (9b53102964)", "2.4" of "2.4.1-4 (7d8c0e5759)"."""
    parts = (version or "").split(" ", 1)[0].split(".")
    return "%s.%s" % (parts[0], parts[1]) if len(parts) >= 2 else None


_HOST_VERSION = []


def host_dovecot_version():
    """What the host's `dovecot --version` prints, or None (not installed)."""
    if not _HOST_VERSION:
        v = None
        if os.access(DOVECOT, os.X_OK):
            r = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True,
                               timeout=30)
            v = r.stdout.strip() if r.returncode == 0 else None
        _HOST_VERSION.append(v)
    return _HOST_VERSION[0]


_ROOTS = {}


def debian_root(suite):
    """The cached Debian root of `suite` with Dovecot installed (built once,
    by scripts/debian-root.sh, on the first call on this machine)."""
    if suite not in _ROOTS:
        r = subprocess.run(["bash", DEBIAN_ROOT_SCRIPT, suite], capture_output=True,
                           text=True, timeout=1800)
        path = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        if r.returncode != 0 or not os.path.isdir(path):
            raise DovecotError("%s %s failed (%d): %s" % (DEBIAN_ROOT_SCRIPT, suite,
                                                          r.returncode, r.stderr[-2000:]))
        _ROOTS[suite] = os.path.realpath(path)
    return _ROOTS[suite]


def _id_file(path, name):
    """Fields of `name`'s line in a passwd or group file, or None."""
    try:
        with open(path) as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if fields[0] == name and len(fields) >= 3:
                    return fields
    except OSError:
        pass
    return None


class DovecotRuntime:
    """Where one generation's Dovecot runs: the host's own, or the one of a
    Debian root, run under chroot in a private mount namespace (its own
    /proc, and the shared directories bind-mounted at their host paths)."""

    _cache = {}

    @classmethod
    def for_generation(cls, generation):
        if generation not in GENERATIONS:
            raise DovecotError("generation %r: not one of %s" % (generation,
                                                                 ", ".join(GENERATIONS)))
        if generation not in cls._cache:
            cls._cache[generation] = cls(generation)
        return cls._cache[generation]

    def __init__(self, generation):
        self.generation = generation
        host = host_dovecot_version()
        if host and version_generation(host) == generation and \
                not os.environ.get(ROOT_ONLY_ENV):
            self.root, self.suite, self.version = None, None, host
            return
        self.suite = DEBIAN_SUITE[generation]
        self.root = debian_root(self.suite)
        r = subprocess.run(["chroot", self.root, "dovecot", "--version"],
                           capture_output=True, text=True, timeout=30)
        self.version = r.stdout.strip()
        if r.returncode != 0 or version_generation(self.version) != generation:
            raise DovecotError("the Debian %s root %s has Dovecot %r (%s), not %s"
                               % (self.suite, self.root, self.version, r.stderr.strip(),
                                  generation))

    def __repr__(self):
        return "Dovecot %s (%s)" % (self.version, "Debian %s root %s" % (
            self.suite, self.root) if self.root else "the host's")

    # -- users and groups as the server sees them ------------------------------
    def uid_gid(self, user):
        """(uid, gid) of a system user of the server's /etc/passwd."""
        if self.root is None:
            pw = pwd.getpwnam(user)
            return pw.pw_uid, pw.pw_gid
        f = _id_file(os.path.join(self.root, "etc", "passwd"), user)
        if f is None:
            raise KeyError(user)
        return int(f[2]), int(f[3])

    def gid(self, group):
        if self.root is None:
            return grp.getgrnam(group).gr_gid
        f = _id_file(os.path.join(self.root, "etc", "group"), group)
        if f is None:
            raise KeyError(group)
        return int(f[2])

    # -- paths ------------------------------------------------------------------
    def server_path(self, host_path):
        """The path inside the root of a host path below the root."""
        if self.root is None:
            return host_path
        host_path = os.path.abspath(host_path)
        if host_path != self.root and not host_path.startswith(self.root + os.sep):
            raise DovecotError("%s is not inside the Debian root %s" % (host_path, self.root))
        return host_path[len(self.root):] or "/"

    def host_path(self, server_path):
        """The host path of a path inside the root."""
        if self.root is None:
            return server_path
        return self.root + os.path.abspath(server_path)

    # -- commands ---------------------------------------------------------------
    def dovecot_command(self, conf, shared_dirs=()):
        """argv starting the master with server-side config path `conf`."""
        if self.root is None:
            return [DOVECOT, "-c", conf]
        script = ('set -e; r=$1; c=$2; shift 2; mount -t proc proc "$r/proc"; '
                  'for d in "$@"; do mount --bind "$d" "$r$d"; done; '
                  'exec chroot "$r" dovecot -c "$c"')
        return (["unshare", "--mount", "--propagation", "private", "--fork",
                 "sh", "-c", script, "sh", self.root, conf] + list(shared_dirs))

    def doveadm_command(self, conf):
        """argv prefix of the doveadm CLI of this Dovecot with config `conf`
        (server-side path)."""
        if self.root is None:
            return [DOVEADM, "-c", conf]
        return ["chroot", self.root, "doveadm", "-c", conf]


class DovecotServer:
    """A private Dovecot instance in a temp dir.  See module docstring."""

    def __init__(self, base_dir=None, tcp=True, password=None, metrics=True,
                 old_stats=False, users=None, mail_user=None, populate=True,
                 start_timeout=30.0, stop_timeout=15.0, keep_dir=None,
                 extra_config="", tls=False, generation=None, shared_dirs=()):
        """
        base_dir      root of the temp tree (created if missing); default:
                      a fresh tempfile.mkdtemp().  Removed by stop() only if
                      the fixture created it and keep_dir is false.  With a
                      Debian root the tree is made at ROOT/base_dir (and
                      removed by stop() unless keep_dir).
        tcp           add a doveadm inet_listener on 127.0.0.1:<free port>
        password      doveadm_password (default: random)
        metrics       add `metric` blocks (imap_command grouped by cmd_name,
                      imap_command_all, auth_success, auth_failure)
        old_stats     also load the 2.3 old_stats plugins/service (2.3 only:
                      Dovecot 2.4 has no old-stats)
        users         dict user -> spec (see DEFAULT_USERS); default a copy
                      of DEFAULT_USERS
        mail_user     system user for mail_uid/mail_gid (default: `mail`,
                      which exists on every Debian; then `dovecot`)
        populate      APPEND the users' messages after start()
        keep_dir      keep the temp tree after stop() (default: env
                      DOVECOT_FIXTURE_KEEP set)
        extra_config  text appended to dovecot.conf, or a dict generation ->
                      text (each generation has its own syntax; a generation
                      missing from the dict gets none)
        tls           make a test CA and server certificate (make_test_pki),
                      set `ssl = yes` (so the plain doveadm listener takes
                      STARTTLS) and add a doveadm inet_listener with
                      `ssl = yes` on doveadm_tls_port; pki holds the paths
        generation    "2.3" or "2.4" (default: default_generation())
        shared_dirs   host directories the server must see at the same path
                      (e.g. a QuotaScanDir: the client writes a file there
                      and sends its path).  With a Debian root each is
                      bind-mounted at ROOT/<dir> in the server's namespace;
                      on the host nothing is needed.
        """
        self.generation = generation or default_generation()
        if old_stats and self.generation != "2.3":
            raise DovecotError("old_stats: Dovecot %s has no old-stats (the old_stats "
                               "plugin and service were removed in 2.4); it is 2.3 only"
                               % self.generation)
        self.runtime = DovecotRuntime.for_generation(self.generation)
        self.root = self.runtime.root
        self._own_dir = base_dir is None
        self._made_tree = None      # an in-root tree this fixture created
        self.root_dir = None
        if base_dir:
            self.root_dir = os.path.abspath(base_dir)
            if self.root and not self.root_dir.startswith(self.root + os.sep):
                self.root_dir = self.runtime.host_path(self.root_dir)
        self.shared_dirs = [os.path.abspath(x) for x in shared_dirs]
        for x in self.shared_dirs:
            if self.root and (x + os.sep).startswith(self.root + os.sep):
                raise DovecotError("shared dir %s is inside the Debian root" % x)
        self._mountpoints = []      # mount points this fixture made in the root
        self.tcp = tcp
        self.password = password or "pw-" + secrets.token_urlsafe(18)
        self.metrics = metrics
        self.old_stats = old_stats
        self.user_specs = {u: dict(s) for u, s in (users or DEFAULT_USERS).items()}
        self.users = {u: s["password"] for u, s in self.user_specs.items()}
        self.mail_user = mail_user or self._default_mail_user()
        self.populate = populate
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        if keep_dir is None:
            keep_dir = bool(os.environ.get("DOVECOT_FIXTURE_KEEP"))
        self.keep_dir = keep_dir
        if isinstance(extra_config, dict):
            extra_config = extra_config.get(self.generation, "")
        self.extra_config = extra_config
        self.tls = tls
        self.pki = None
        self.doveadm_tls_port = None
        self.instance_name = "dvtest-%d-%s" % (os.getpid(), secrets.token_hex(4))

        self.base_dir = self.conf_path = self.log_path = None
        self.doveadm_socket = None
        self.imap_port = self.doveadm_port = None
        self.version = self.runtime.version
        self.master_pid = None
        self._procs = []            # (pid, starttime) snapshot for stop()
        self._imap_sessions = []
        self._started = False
        self._populated = False
        self.start_seconds = self.stop_seconds = None

    def server_path(self, host_path):
        """The path the server sees for a host path (the same on the host;
        inside a Debian root, the part below the root)."""
        return self.runtime.server_path(host_path)

    # -- context manager ------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- setup --------------------------------------------------------------
    def _default_mail_user(self):
        for name in ("mail", "dovecot"):
            try:
                self.runtime.uid_gid(name)
                return name
            except KeyError:
                pass
        raise DovecotError("no usable system user for mail_uid")

    def _quota_fields_for(self, spec):
        """userdb fields that replace the quota backend, or {}."""
        if spec.get("quota") != "broken":
            return {}
        if self.generation == "2.3":
            # The plugin setting is `quota = %{userdb:quota_driver:maildir}:User
            # quota%{userdb:quota_args}` so a user can switch the backend while
            # the root keeps its name (a space cannot go into a passwd-file
            # extra field).  dict backend over a dict-proxy socket that does
            # not exist: every quota lookup fails -> `error` values.
            return {"userdb_quota_driver": "dict",
                    "userdb_quota_args": "::proxy:%s:quota"
                    % self.server_path(os.path.join(self.root_dir, "no-such-dict-socket"))}
        # 2.4 has no dict quota backend (quota drivers: count, fs, imapc,
        # maildir).  A userdb field overrides the global quota_driver of the
        # root: the fs driver on a mount point that does not exist fails
        # every lookup, and with the message limit on it answers both
        # resources as 2.3's broken dict does (seen on 2.4.1: `User quota
        # STORAGE error error error` and MESSAGE alike, then -TEMPFAIL;
        # "quota-fs: Mount point unknown for path ..." in the log).
        return {"userdb_quota_driver": "fs",
                "userdb_quota_fs_mount_path": "/nonexistent-quota-mount",
                "userdb_quota_fs_message_limit": "yes"}

    def _limit_fields_for(self, user, spec):
        """userdb fields for the spec's storage / message_count limits."""
        out = {}
        fields = spec.get("fields") or {}
        if self.generation != "2.3" and any(k.startswith("userdb_quota_rule") for k in fields):
            raise DovecotError("user %s: userdb_quota_rule is 2.3 syntax; give the limits as "
                               "spec keys storage / message_count" % user)
        storage, count = spec.get("storage"), spec.get("message_count")
        if self.generation == "2.3":
            # quota_rule: 0 is no limit
            if storage is not None:
                out["userdb_quota_rule"] = "*:storage=%s" % (
                    0 if storage == "unlimited" else storage)
            if count is not None:
                out["userdb_quota_rule2"] = "*:messages=%s" % (
                    0 if count == "unlimited" else count)
        else:
            # 2.4: a userdb field overrides the GLOBAL quota_storage_size /
            # quota_message_count ("unlimited" is a valid value)
            if storage is not None:
                out["userdb_quota_storage_size"] = str(storage)
            if count is not None:
                out["userdb_quota_message_count"] = str(count)
        return out

    def _write_files(self):
        rt = self.runtime
        if self.root_dir is None:
            tmp = os.path.join(self.root, "tmp") if self.root else None
            self.root_dir = tempfile.mkdtemp(prefix="dovecot-fixture-", dir=tmp)
            if self.root:
                self._made_tree = self.root_dir
        if not os.path.isdir(self.root_dir):
            os.makedirs(self.root_dir)
            if self.root and self._made_tree is None:
                self._made_tree = self.root_dir
        # Dovecot's unprivileged processes (auth as `dovecot`, mail processes
        # as the mail user) must be able to traverse the tree.
        os.chmod(self.root_dir, 0o755)
        # ids as the server's /etc/passwd and /etc/group say (a Debian root
        # has its own: its `dovecot` is not the host's)
        self.mail_uid, self.mail_gid = rt.uid_gid(self.mail_user)
        dovecot_gid = rt.gid("dovecot")

        self.base_dir = os.path.join(self.root_dir, "run")
        self.state_dir = os.path.join(self.root_dir, "state")
        self.home_root = os.path.join(self.root_dir, "home")
        self.conf_path = os.path.join(self.root_dir, "dovecot.conf")
        self.log_path = os.path.join(self.root_dir, "dovecot.log")
        self.users_path = os.path.join(self.root_dir, "users.passwd")
        self.doveadm_socket = os.path.join(self.base_dir, "doveadm-server")
        if len(self.doveadm_socket) > 100:
            raise DovecotError("base dir path too long for UNIX sockets: %s"
                               % self.base_dir)
        for d in (self.state_dir,):
            os.makedirs(d, mode=0o755, exist_ok=True)
        os.makedirs(self.home_root, mode=0o755, exist_ok=True)
        os.chown(self.home_root, self.mail_uid, self.mail_gid)
        for user in self.user_specs:
            domain = user.split("@", 1)[1] if "@" in user else "_nodomain"
            d = os.path.join(self.home_root, domain)
            os.makedirs(d, mode=0o755, exist_ok=True)
            os.chown(d, self.mail_uid, self.mail_gid)

        lines = []
        for user, spec in self.user_specs.items():
            fields = self._limit_fields_for(user, spec)
            fields.update(spec.get("fields") or {})
            fields.update(self._quota_fields_for(spec))
            for k, v in fields.items():
                if any(ch in str(k) + str(v) for ch in " \t\n"):
                    raise DovecotError("passwd-file field %s=%r has a space" % (k, v))
            extra = " ".join("%s=%s" % kv for kv in fields.items())
            for ch in ":\n":
                if ch in spec["password"]:
                    raise DovecotError("bad password for %s" % user)
            lines.append("%s:{PLAIN}%s::::::%s\n" % (user, spec["password"], extra))
        with open(self.users_path, "w") as f:
            f.writelines(lines)
        os.chown(self.users_path, 0, dovecot_gid)
        os.chmod(self.users_path, 0o640)

        # A restart (start() after stop(keep_files=True)) keeps the ports,
        # as a restarted system Dovecot would.
        if self.imap_port is None:
            self.imap_port = free_port()
        if self.tcp and self.doveadm_port is None:
            self.doveadm_port = free_port()
            while self.doveadm_port == self.imap_port:
                self.doveadm_port = free_port()
        if self.tls:
            if self.pki is None:
                self.pki = make_test_pki(os.path.join(self.root_dir, "pki"))
            if self.doveadm_tls_port is None:
                self.doveadm_tls_port = free_port()
                while self.doveadm_tls_port in (self.imap_port, self.doveadm_port):
                    self.doveadm_tls_port = free_port()

        # The shared directories' mount points inside the root.
        if self.root:
            for x in self.shared_dirs:
                if not os.path.isdir(x):
                    raise DovecotError("shared dir %s does not exist" % x)
                made, mp = [], rt.host_path(x)
                while not os.path.isdir(mp):
                    made.append(mp)
                    mp = os.path.dirname(mp)
                for mp in reversed(made):
                    os.mkdir(mp, 0o755)
                self._mountpoints = made + self._mountpoints   # leaf first

        with open(self.conf_path, "w") as f:
            f.write(self._config_text())
        os.chmod(self.conf_path, 0o644)

    def _config_text(self):
        if self.generation == "2.3":
            return self._config_text_23()
        return self._config_text_24()

    def _config_text_23(self):
        """dovecot.conf in 2.3 syntax (doc/PROTOCOL.md section 8)."""
        sp = self.server_path
        c = []
        a = c.append
        a("# generated by tests/integration/dovecot_fixture.py -- private test instance")
        a("base_dir = %s" % sp(self.base_dir))
        a("state_dir = %s" % sp(self.state_dir))
        a("instance_name = %s" % self.instance_name)
        a("log_path = %s" % sp(self.log_path))
        a("protocols = imap")
        a("listen = 127.0.0.1")
        if self.tls:
            # 2.3 syntax: "<" reads the file at config time (as root).
            a("ssl = yes")
            a("ssl_cert = <%s" % sp(self.pki["server_cert"]))
            a("ssl_key = <%s" % sp(self.pki["server_key"]))
        else:
            a("ssl = no")
        a("disable_plaintext_auth = no")
        a("auth_mechanisms = plain login")
        a("verbose_proctitle = yes")
        a("first_valid_uid = %d" % min(self.mail_uid, 500))
        a("first_valid_gid = %d" % min(self.mail_gid, 1))
        a("mail_uid = %d" % self.mail_uid)
        a("mail_gid = %d" % self.mail_gid)
        a("mail_location = maildir:~/Maildir")
        plugins = "quota"
        if self.old_stats:
            plugins += " old_stats"
        a("mail_plugins = %s" % plugins)
        a("doveadm_password = %s" % self.password)
        a("")
        a("passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%%u %s\n}"
          % sp(self.users_path))
        a("userdb {\n  driver = passwd-file\n  args = username_format=%%u %s\n"
          "  default_fields = home=%s/%%d/%%n\n}" % (sp(self.users_path), sp(self.home_root)))
        a("")
        # %{userdb:quota_driver:maildir} + %{userdb:quota_args} let one user
        # (dave) swap the backend while the root name stays "User quota".
        a("plugin {")
        a("  quota = %%{userdb:quota_driver:maildir}:%s%%{userdb:quota_args}" % QUOTA_ROOT)
        a("  quota_rule = *:storage=10M")
        a("  quota_rule2 = *:messages=1000")
        if self.old_stats:
            a("  old_stats_refresh = 5 secs")
            a("  old_stats_track_cmds = yes")
        a("}")
        imap_plugins = "$mail_plugins imap_quota"
        if self.old_stats:
            imap_plugins += " imap_old_stats"
        a("protocol imap {\n  mail_plugins = %s\n}" % imap_plugins)
        a("")
        a("service imap-login {")
        a("  inet_listener imap {\n    address = 127.0.0.1\n    port = %d\n  }" % self.imap_port)
        a("  inet_listener imaps {\n    port = 0\n  }")
        a("}")
        a("service doveadm {")
        a("  unix_listener doveadm-server {\n    mode = 0600\n  }")
        if self.tcp:
            a("  inet_listener {\n    address = 127.0.0.1\n    port = %d\n  }"
              % self.doveadm_port)
        if self.tls:
            a("  inet_listener doveadm-tls {\n    address = 127.0.0.1\n    port = %d\n"
              "    ssl = yes\n  }" % self.doveadm_tls_port)
        a("}")
        if self.old_stats:
            a("service old-stats {")
            a("  fifo_listener old-stats-mail {\n    mode = 0600\n    user = %s\n  }"
              % self.mail_user)
            a("  fifo_listener old-stats-user {\n    mode = 0600\n    user = %s\n  }"
              % self.mail_user)
            a("  unix_listener old-stats {\n    mode = 0600\n  }")
            a("}")
        if self.metrics:
            a("")
            a("metric imap_command {\n  filter = event=imap_command_finished\n"
              "  group_by = cmd_name\n}")
            a("metric imap_command_all {\n  filter = event=imap_command_finished\n}")
            a("metric auth_success {\n  filter = event=auth_request_finished AND success=yes\n}")
            a("metric auth_failure {\n  filter = event=auth_request_finished AND NOT success=yes\n}")
        if self.extra_config:
            a("")
            a(self.extra_config)
        return "\n".join(c) + "\n"

    def _config_text_24(self):
        """dovecot.conf in 2.4 syntax (doc/PROTOCOL.md section 8): the same
        instance as _config_text_23 with 2.4's setting names."""
        sp = self.server_path
        c = []
        a = c.append
        # 2.4 refuses a file whose first setting is not dovecot_config_version
        a("dovecot_config_version = 2.4.1")
        a("dovecot_storage_version = 2.4.1")
        a("# generated by tests/integration/dovecot_fixture.py -- private test instance")
        a("base_dir = %s" % sp(self.base_dir))
        a("state_dir = %s" % sp(self.state_dir))
        a("instance_name = %s" % self.instance_name)
        a("log_path = %s" % sp(self.log_path))
        a("protocols = imap")
        a("listen = 127.0.0.1")
        if self.tls:
            # 2.4 names: ssl_server_cert_file / ssl_server_key_file take a
            # path (2.3's ssl_cert = <path is gone)
            a("ssl = yes")
            a("ssl_server_cert_file = %s" % sp(self.pki["server_cert"]))
            a("ssl_server_key_file = %s" % sp(self.pki["server_key"]))
        else:
            a("ssl = no")
        a("auth_allow_cleartext = yes")
        a("auth_mechanisms = plain login")
        a("verbose_proctitle = yes")
        a("first_valid_uid = %d" % min(self.mail_uid, 500))
        a("first_valid_gid = %d" % min(self.mail_gid, 1))
        a("mail_uid = %d" % self.mail_uid)
        a("mail_gid = %d" % self.mail_gid)
        a("mail_driver = maildir")
        # 2.3's home=<home_root>/%d/%n
        a("mail_home = %s/%%{user | domain}/%%{user | username}" % sp(self.home_root))
        a("mail_path = ~/Maildir")
        a("mail_plugins {\n  quota = yes\n}")
        a("doveadm_password = %s" % self.password)
        a("")
        a("passdb passwd-file {\n  passwd_file_path = %s\n}" % sp(self.users_path))
        a("userdb passwd-file {\n  passwd_file_path = %s\n}" % sp(self.users_path))
        a("")
        # Global limits, so a userdb field (userdb_quota_storage_size=...)
        # can override them per user: it overrides a global setting, not
        # one inside the quota block.  The driver is 2.4's default (count);
        # dave's userdb fields swap it (see _quota_fields_for).
        a("quota_storage_size = 10M")
        a("quota_message_count = 1000")
        a('quota "%s" {\n}' % QUOTA_ROOT)
        a("protocol imap {\n  mail_plugins {\n    imap_quota = yes\n  }\n}")
        a("")
        a("service imap-login {")
        a("  inet_listener imap {\n    listen = 127.0.0.1\n    port = %d\n  }" % self.imap_port)
        a("  inet_listener imaps {\n    port = 0\n  }")
        a("}")
        a("service doveadm {")
        a("  unix_listener doveadm-server {\n    mode = 0600\n  }")
        if self.tcp:
            a("  inet_listener doveadm {\n    listen = 127.0.0.1\n    port = %d\n  }"
              % self.doveadm_port)
        if self.tls:
            a("  inet_listener doveadm-tls {\n    listen = 127.0.0.1\n    port = %d\n"
              "    ssl = yes\n  }" % self.doveadm_tls_port)
        a("}")
        if self.metrics:
            a("")
            a("metric imap_command {\n  filter = event=imap_command_finished\n"
              "  group_by cmd_name {\n  }\n}")
            a("metric imap_command_all {\n  filter = event=imap_command_finished\n}")
            a("metric auth_success {\n  filter = event=auth_request_finished AND success=yes\n}")
            a("metric auth_failure {\n  filter = event=auth_request_finished AND NOT success=yes\n}")
        if self.extra_config:
            a("")
            a(self.extra_config)
        return "\n".join(c) + "\n"

    # -- lifecycle ------------------------------------------------------------
    def log_tail(self, n=40):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except (OSError, TypeError):
            return "(no log)"

    def start(self):
        if self._started:
            return self
        t0 = time.monotonic()
        # A restart must not take the previous (dead) master for this one's:
        # _wait_ready() would report "master exited during start".
        self.master_pid = None
        try:
            self._write_files()
            # The master daemonizes and keeps inherited fds open: send its
            # output to a file, not a pipe, or run() would wait forever.
            out_path = os.path.join(self.root_dir, "dovecot-start.out")
            self._started = True     # from here on stop() must clean up
            cmd = self.runtime.dovecot_command(self.server_path(self.conf_path),
                                               self.shared_dirs)
            with open(out_path, "wb") as out:
                try:
                    r = subprocess.run(cmd,
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                       timeout=self.start_timeout)
                except subprocess.TimeoutExpired:
                    raise DovecotError("dovecot -c %s did not return within %.1fs\n"
                                       "--- log tail ---\n%s"
                                       % (self.conf_path, self.start_timeout,
                                          self.log_tail())) from None
            if r.returncode != 0:
                with open(out_path, "r", errors="replace") as f:
                    output = f.read()
                raise DovecotError("dovecot -c %s failed (%d): %s\n--- log tail ---\n%s"
                                   % (self.conf_path, r.returncode, output, self.log_tail()))
            self._wait_ready(t0 + self.start_timeout)
            self._procs = _descendants(self.master_pid)
            if self.populate and not self._populated:
                self._populate()
                self._populated = True
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        return self

    def _read_master_pid(self):
        try:
            with open(os.path.join(self.base_dir, "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def _wait_ready(self, deadline):
        """Poll (no fixed sleep) until master.pid, IMAP greeting, doveadm
        UNIX handshake (+) and, with tcp, doveadm TCP handshake (-) work."""
        pending = ["pid", "imap", "doveadm-unix"] + (["doveadm-tcp"] if self.tcp else [])
        pending += ["doveadm-tls"] if self.tls else []
        last_err = {}
        delay = 0.01
        while pending:
            for what in list(pending):
                try:
                    if what == "pid":
                        pid = self._read_master_pid()
                        if pid is None or _proc_starttime(pid) is None:
                            raise DovecotError("no master.pid yet")
                        self.master_pid = pid
                    elif what == "imap":
                        with socket.create_connection(("127.0.0.1", self.imap_port),
                                                      timeout=2) as s:
                            greet = s.recv(200)
                            if not greet.startswith(b"* OK"):
                                raise DovecotError("IMAP greeting %r" % greet)
                    elif what == "doveadm-unix":
                        with doveadm_wire.DoveadmWire.unix(self.doveadm_socket, 2) as w:
                            ans = w.handshake(timeout=2)
                            if ans != b"+\n":
                                raise DovecotError("doveadm UNIX handshake %r" % ans)
                    elif what == "doveadm-tcp":
                        with doveadm_wire.DoveadmWire.tcp("127.0.0.1", self.doveadm_port,
                                                          2) as w:
                            ans = w.handshake(timeout=2)
                            if ans != b"-\n":
                                raise DovecotError("doveadm TCP handshake %r" % ans)
                    elif what == "doveadm-tls":
                        self._check_tls_listener()
                    pending.remove(what)
                except (OSError, DovecotError, doveadm_wire.WireError) as e:
                    last_err[what] = e
            if not pending:
                break
            if self.master_pid is not None and _proc_starttime(self.master_pid) is None:
                raise DovecotError("dovecot master exited during start\n--- log tail ---\n%s"
                                   % self.log_tail())
            if time.monotonic() >= deadline:
                raise DovecotError(
                    "dovecot not ready after %.1fs; waiting for %s (%s)\n--- log tail ---\n%s"
                    % (self.start_timeout, ", ".join(pending),
                       "; ".join("%s: %s" % (k, last_err.get(k)) for k in pending),
                       self.log_tail()))
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def _check_tls_listener(self):
        """VERSION over TLS (verified against the test CA) is answered "-"."""
        ctx = ssl.create_default_context(cafile=self.pki["ca"])
        with socket.create_connection(("127.0.0.1", self.doveadm_tls_port),
                                      timeout=2) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(doveadm_wire.VERSION_LINE)
                ans = s.recv(16)
                if ans != b"-\n":
                    raise DovecotError("doveadm TLS handshake %r" % ans)

    def _populate(self):
        for user, spec in self.user_specs.items():
            sizes = list(spec.get("messages") or [])
            if spec.get("fill_storage_percent"):
                limit = spec["fill_storage_limit"]
                size = spec.get("fill_message_size", 4800)
                target = limit * spec["fill_storage_percent"] / 100.0
                n = int(target // size)
                sizes = [size] * n
            if not sizes:
                continue
            imap = self.imap_login(user, keep=False)
            try:
                for i, size in enumerate(sizes):
                    msg = make_message(size, "fixture message %d for %s" % (i + 1, user),
                                       to=user)
                    typ, data = imap.append("INBOX", None, None, msg)
                    if typ != "OK":
                        raise DovecotError("APPEND for %s failed: %r" % (user, data))
            finally:
                try:
                    imap.logout()
                except Exception:
                    pass

    def stop(self, keep_files=False):
        """Stop Dovecot and wait (bounded) until all its processes are gone.
        With keep_files, the tree (mail, config, ports) stays, so start()
        brings the same Dovecot back on the same socket and ports (a
        restart); a later stop() without it removes the tree."""
        t0 = time.monotonic()
        try:
            self._stop_processes()
        finally:
            self.stop_seconds = time.monotonic() - t0
            if not keep_files:
                self._remove_files()

    def _stop_processes(self):
        for s in self._imap_sessions:
            try:
                s.shutdown()
            except Exception:
                pass
        self._imap_sessions = []
        if self._started:
            self._started = False
            pid = self.master_pid or self._read_master_pid()
            if pid is None and self.base_dir:
                # start() failed early: the master may still be writing it
                deadline = time.monotonic() + 2.0
                while pid is None and time.monotonic() < deadline:
                    time.sleep(0.02)
                    pid = self._read_master_pid()
            procs = _descendants(pid) if pid else []
            procs = list({p for p in procs + self._procs})
            # SIGTERM to master.pid is what `doveadm stop` does, but doveadm
            # then waits ~2.5 s; signalling directly and polling takes ~1 s.
            stopped = False
            if pid and _proc_starttime(pid) is not None:
                try:
                    os.kill(pid, signal.SIGTERM)
                    stopped = True
                except OSError:
                    pass
            if not stopped and self.conf_path and os.path.exists(self.conf_path):
                subprocess.run(self.runtime.doveadm_command(self.server_path(self.conf_path))
                               + ["stop"],
                               capture_output=True, text=True, timeout=self.stop_timeout)
            deadline = time.monotonic() + self.stop_timeout
            while time.monotonic() < deadline:
                if pid:
                    procs = list({p for p in procs + _descendants(pid)})
                if not any(_alive(p, st) for p, st in procs):
                    break
                time.sleep(0.02)
            left = [(p, st) for p, st in procs if _alive(p, st)]
            if left:
                for p, st in left:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
                raise DovecotError("dovecot processes still running after %.1fs, killed: %s"
                                   % (self.stop_timeout, [p for p, _ in left]))

    def _remove_files(self):
        # The shared dirs' mount points in the root (the mounts themselves
        # went with the server's mount namespace).
        for mp in self._mountpoints:
            try:
                os.rmdir(mp)
            except OSError:
                pass
        self._mountpoints = []
        if (self._own_dir or self._made_tree == self.root_dir) and not self.keep_dir \
                and self.root_dir and os.path.isdir(self.root_dir):
            shutil.rmtree(self.root_dir, ignore_errors=True)
            self.pki = None          # its files went with the tree

    # -- helpers ----------------------------------------------------------------
    def doveadm_run(self, *args, timeout=30):
        """Run `doveadm -c CONF args...` (the CLI of this Dovecot: inside
        its Debian root, if it runs in one); return the CompletedProcess."""
        cmd = self.runtime.doveadm_command(self.server_path(self.conf_path))
        return subprocess.run(cmd + [str(x) for x in args],
                              capture_output=True, text=True, timeout=timeout)

    def doveadm(self, *args, check=True, timeout=30):
        """Run `doveadm -c CONF args...`; return stdout (text).  With
        check, a non-zero exit raises DovecotError with stderr."""
        r = self.doveadm_run(*args, timeout=timeout)
        if check and r.returncode != 0:
            raise DovecotError("doveadm %s exited %d: %s" % (" ".join(map(str, args)),
                                                             r.returncode, r.stderr.strip()))
        return r.stdout

    def imap_login(self, user, keep=True):
        """A logged-in imaplib.IMAP4 to 127.0.0.1:imap_port.  The caller
        keeps it open (it shows in `who`); stop() closes leftovers."""
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        try:
            imap.login(user, self.users[user])
        except Exception:
            imap.shutdown()
            raise
        if keep:
            self._imap_sessions.append(imap)
        return imap

    def wire(self, transport="unix", authenticate=True, timeout=10.0):
        """A doveadm_wire.DoveadmWire connected over 'unix' or 'tcp'; with
        authenticate, VERSION (+ PLAIN over TCP) is already done."""
        if transport == "unix":
            w = doveadm_wire.DoveadmWire.unix(self.doveadm_socket, timeout)
        elif transport == "tcp":
            if not self.doveadm_port:
                raise DovecotError("started with tcp=False")
            w = doveadm_wire.DoveadmWire.tcp("127.0.0.1", self.doveadm_port, timeout)
        else:
            raise ValueError(transport)
        if authenticate:
            try:
                w.login(self.password)
            except Exception:
                w.close()
                raise
        return w


if __name__ == "__main__":
    # Smoke test: python3 tests/integration/dovecot_fixture.py
    with DovecotServer() as d:
        print("Dovecot %s started in %.2fs: %s" % (d.version, d.start_seconds, d.root_dir))
        s = d.imap_login("alice@example.com")
        print(d.doveadm("-f", "tab", "who"))
        for u in d.users:
            print(d.doveadm("-f", "tab", "quota", "get", "-u", u, check=False))
    print("stopped in %.2fs" % d.stop_seconds)
