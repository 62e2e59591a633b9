# SPDX-License-Identifier: MIT
"""A scripted doveadm server replaying what Dovecot 2.2 and 2.4 send, for
the behaviour no real server of the tests can show: all of 2.2 (no 2.2 is
packaged for any Debian the tests run on), and of 2.4 only what a real
2.4.1 cannot be made to show here (the status codes CHANGED, EXPIRED and
REFERRAL, alternative username columns of `who -1`, a server that does not
iterate users). Everything else of 2.4 is tested against a real 2.4.1
(dovecot_fixture.py, generation "2.4").

    with FakeDoveadm("2.4") as f:
        ... f.socket ...            # a UNIX socket path (pre-authenticated)
        f.requests                  # [(user, [argv...]), ...] as received

Everything it sends follows Dovecot's sources (read with the search tool;
nothing copied):

Both generations
- Handshake: the client's VERSION line is answered "+\\n", as a 0600 UNIX
  socket does (PROTOCOL.md section 2).
- Replies: every value tab-escaped and followed by TAB, then "\\n" and one
  status line (PROTOCOL.md section 4). An unknown command is a bare "-"
  ("Client sent unknown command", doveadm/client-connection*.c).
- `who`: user, connection count, service, (pids), (ips)
  (doveadm/doveadm-who.c, who_print()).

2.2 (GEN22)
- Failure statuses of server-wide commands are numbers ("-64", "-75"):
  2.2's client-connection.c printed the exit code with "-%u" (see
  doveadm_mail_cmd_server_run() of that era and PROTOCOL.md section 4).
- `stats dump <scope>` is the old statistics (src/stats/client-export.c of
  2.2, client_export_iter_user() etc.): "<key> reset_timestamp last_update
  num_logins num_cmds" then the 17 fields of MAIL_STATS_HEADER, timevals
  "%ld.%06u". `stats dump -f ...` is a usage error (no -f, a scope is
  required): "-64" (EX_USAGE). 2.2.0 has no global scope: the fake answers
  "-75" for it (how a real 2.2 words that refusal is not known here).
- `oldstats dump` does not exist: bare "-".

2.4 (GEN24)
- `oldstats dump` was removed: bare "-".
- `stats dump -f F`: metric, field, then the requested fields, as 2.3
  (stats/client-reader.c).
- `who -1`: username, service, pid, ip, dest_ip, then one column per
  alternative username field (doveadm-who.c, cmd_who(): headers "dest_ip"
  and iter->alt_username_fields); this fake has one ("master_user").
- `quota get -A`, with or without a username: the server iterates every
  user and prints the username column first; `quota get` without -A: the
  request user's rows, 5 columns. `mailbox status` the same way. As a
  real 2.4.1 answers (doc/PROTOCOL.md section 9, checked by
  test_lib.py against the real 2.4).
- Status codes CHANGED, EXPIRED and "REFERRAL user@host" (doveadm-util.c
  exit_code_strings; client-connection-tcp.c doveadm_cmd_server_post()
  prints "\\n-REFERRAL %s\\n"): users "changed@...", "expired@..." and
  "moved@..." answer them.
"""

import os
import selectors
import shutil
import socket
import tempfile
import threading

USERS = {  # user -> (storage KiB used, limit, messages used, limit)
    "alice@example.com": (120, 10240, 6, 1000),
    "bob@example.com": (95, 100, 20, 1000),
    "carol@example.org": (14, 10240, 5, 1000),
}
SPECIAL_24 = {
    "changed@example.com": "-CHANGED",
    "expired@example.com": "-EXPIRED",
    "moved@example.com": "-REFERRAL moved@backend2.example.com",
}
GEN22_FIELDS = 17


def _escape(value):
    out = bytearray()
    for c in str(value).encode():
        out += {1: b"\x011", 9: b"\x01t", 10: b"\x01n", 13: b"\x01r", 0: b"\x010"}.get(
            c, bytes([c]))
    return bytes(out)


def _unescape(data):
    out, i = bytearray(), 0
    while i < len(data):
        if data[i] == 1 and i + 1 < len(data):
            out.append({ord("1"): 1, ord("t"): 9, ord("n"): 10, ord("r"): 13,
                        ord("0"): 0}.get(data[i + 1], data[i + 1]))
            i += 2
        else:
            out.append(data[i])
            i += 1
    return out.decode()


def reply(values, status=b"+"):
    return b"".join(_escape(v) + b"\t" for v in values) + b"\n" + status + b"\n"


class FakeDoveadm:
    def __init__(self, generation, users=None, all_users_quota=True):
        """users: {user: (KiB used, KiB limit, messages, message limit)};
        default USERS. all_users_quota False: 2.4 answers `quota get -A`
        without a username as 2.3 does (-NOUSER), the case the plugin must
        survive if a 2.4 server does not iterate users for it."""
        if generation not in ("2.2", "2.4"):
            raise ValueError(generation)
        self.generation = generation
        self.all_users_quota = all_users_quota
        self.users = dict(USERS if users is None else users)
        self.dir = tempfile.mkdtemp(prefix="fake-doveadm-%s-" % generation)
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "doveadm-server")
        self.requests = []
        self.reads = 0  # `who` requests: one per scrape
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self.num_cmds = 10  # grows by read, so DERIVE rates are visible

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.socket)
        os.chmod(self.socket, 0o600)
        self._listener.listen(64)
        self._listener.setblocking(False)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._listener.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def requests_named(self, name):
        with self._lock:
            return [(u, a) for u, a in self.requests if a and a[0] == name]

    # -- the loop ------------------------------------------------------------
    def _run(self):
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ, None)
        conns = {}
        while not self._stop.is_set():
            for key, _ in sel.select(timeout=0.1):
                if key.data is None:
                    try:
                        c, _ = self._listener.accept()
                    except OSError:
                        continue
                    c.setblocking(True)
                    conns[c] = {"buf": b"", "greeted": False}
                    sel.register(c, selectors.EVENT_READ, c)
                    continue
                c = key.data
                try:
                    data = c.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(c)
                    c.close()
                    del conns[c]
                    continue
                st = conns[c]
                st["buf"] += data
                while b"\n" in st["buf"]:
                    line, st["buf"] = st["buf"].split(b"\n", 1)
                    try:
                        c.sendall(self._answer(st, line))
                    except OSError:
                        break
        for c in conns:
            c.close()
        sel.close()

    def _answer(self, st, line):
        if not st["greeted"]:
            st["greeted"] = True
            return b"+\n" if line.startswith(b"VERSION\tdoveadm-server\t1\t") else b""
        fields = [_unescape(f) for f in line.split(b"\t")]
        user, argv = fields[1], fields[2:]
        with self._lock:
            self.requests.append((user, argv))
        return self._command(user, argv)

    # -- commands ------------------------------------------------------------
    def _command(self, user, argv):
        name, args = argv[0], argv[1:]
        gen22 = self.generation == "2.2"
        if name == "who" and args == []:
            with self._lock:
                self.reads += 1
                self.num_cmds += 5
            return reply(["alice@example.com", 2, "imap", "(101 102)", "(127.0.0.1)",
                          "bob@example.com", 1, "pop3", "(103)", "(127.0.0.1)"])
        if name == "who" and args == ["-1"]:
            if gen22:
                return reply(["alice@example.com", "imap", 101, "127.0.0.1"])
            return reply(["alice@example.com", "imap", 101, "127.0.0.1", "10.0.0.1", "",
                          "bob@example.com", "pop3", 103, "127.0.0.1", "10.0.0.1",
                          "admin"])
        if name == "stats dump":
            if args[:1] == ["-f"]:
                if gen22:
                    return b"\n-64\n"
                return reply(["imap_command", "duration", self.num_cmds, 5000, 10, 900,
                              "50.00", 40, "12.50", 800])
            if gen22 and args in (["domain"], ["user"], ["ip"]):
                return reply(self._oldstats22(args[0]))
            return b"\n-75\n" if gen22 else b"\n-USAGE\n"
        if name == "quota get":
            return self._quota(user, args)
        if name == "mailbox status":
            return self._mailbox(user, args)
        if name == "user" and args == ["*"]:
            # The shape 2.3 sends (tests/data/captures/user_list.bin: one JSON
            # value, no trailing TAB); assumed the same on 2.2 and 2.4.
            names = ",".join('"%s"' % u for u in sorted(self.users))
            return ('{"userList":[%s]}\n+\n' % names).encode()
        return b"\n-\n"  # unknown command (oldstats dump on both)

    def _oldstats22(self, scope):
        keys = {"domain": ["example.com", "example.org"],
                "user": ["alice@example.com", "bob@example.com", "carol@example.org"],
                "ip": ["127.0.0.1"]}[scope]
        values = []
        for i, key in enumerate(keys):
            cmds = self.num_cmds * (i + 1)
            values += [key, 1796000000, "1796000123.000042", i + 1, cmds,
                       "0.012000", "1.000500"]
            values += [100 + i] * (GEN22_FIELDS - 2)
        return values

    def _users_for(self, user, all_users):
        """The users a mail command answers for, or a failure status."""
        gen22 = self.generation == "2.2"
        if not gen22 and user in SPECIAL_24:
            return b"\n" + SPECIAL_24[user].encode() + b"\n"
        if all_users and not gen22 and self.all_users_quota:
            return sorted(self.users)  # 2.4: -A iterates every user
        if user in self.users:
            return [user]
        return b"\n-67\n" if gen22 else b"\n-NOUSER\n"

    def _quota(self, user, args):
        if args not in ([], ["-A"]):
            return b"\n-USAGE\n"
        named = args == ["-A"]
        names = self._users_for(user, named)
        if isinstance(names, bytes):
            return names
        values = []
        for name in names:
            kib, klimit, msgs, mlimit = self.users[name]
            values += ([name] if named else []) + [
                "User quota", "STORAGE", kib, klimit, kib * 100 // klimit]
            values += ([name] if named else []) + [
                "User quota", "MESSAGE", msgs, mlimit, msgs * 100 // mlimit]
        return reply(values)

    def _mailbox(self, user, args):
        """`mailbox status [-A] "messages unseen vsize" INBOX` only."""
        named = args[:1] == ["-A"]
        if (args[1:] if named else args) != ["messages unseen vsize", "INBOX"]:
            return b"\n-USAGE\n"
        names = self._users_for(user, named)
        if isinstance(names, bytes):
            return names
        values = []
        for name in names:
            msgs = self.users[name][2]
            values += ([name] if named else []) + ["INBOX", msgs, msgs // 2, msgs * 5000]
        return reply(values)
