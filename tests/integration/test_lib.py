# SPDX-License-Identifier: MIT
"""libdoveadm against a real private Dovecot (2.3.19 or 2.4.1: the fixture's
generation, $DVA_DOVECOT_GENERATION), through tests/tools/dva_query.

Every answer the library decodes, over the UNIX socket and over TCP with
doveadm_password, is compared with what the doveadm CLI of the same Dovecot
prints at the same moment (`doveadm -c CONF -f tab ...`).  The hazards of
doc/PROTOCOL.md section 6 are shown twice: with a raw socket (doveadm_wire), to
prove the server really misbehaves (or, where 2.4 fixed one, that it no
longer does), and through the library, which must refuse the request
sequence that triggers them.  Against 2.4, dva_query builds its requests
for 2.4 (--generation 2.4); `scrape` is left to find out the generation.

One Dovecot for the whole class; IMAP sessions held open: alice x2, bob x1.
Run with ctest (sets DVA_QUERY), or: DVA_QUERY=build/.../dva_query
python3 -m unittest -v test_lib  (from tests/integration/, as root).
"""

import os
import secrets
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import doveadm_wire as W  # noqa: E402
from dovecot_fixture import DEFAULT_USERS, DovecotServer, free_port  # noqa: E402
from e2e_util import dva_query_path  # noqa: E402

DVA_QUERY = dva_query_path()
TRANSPORTS = ("unix", "tcp")
MB_FIELDS = "messages unseen vsize"
STATS_FIELDS = "count,sum,min,max,avg,median,stddev,%95"
HELD = {"alice@example.com": 2, "bob@example.com": 1}  # IMAP sessions kept open
EXAMPLE_COM = ["alice@example.com", "bob@example.com", "carol@example.com",
               "dave@example.com"]
# Users whose names need JSON escaping or are not ASCII in `user <mask>`
# (no mail; the server's auth_username_chars make them NOUSER for mail
# commands, CLI and protocol alike).
ODD_USERS = ['j\u00f6rg@example.net', 'o"brien@example.net', 'back\\slash@example.net',
             '\u65e5\u672c@example.net']
AWAIT_SECONDS = 10.0


def await_true(what, fn, timeout=AWAIT_SECONDS):
    """Poll fn() until it returns a true value (bounded); return that value."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


class Output:
    """What one dva_query run printed: rc, rows by kind, error lines."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.lines = [line.split("\t") for line in proc.stdout.splitlines()]
        self.errors = [line.split("\t", 2) for line in proc.stderr.splitlines()
                       if line.startswith("error\t")]
        self.warnings = [line for line in proc.stderr.splitlines()
                         if line.startswith("warning\t")]

    def rows(self, kind):
        return [line[1:] for line in self.lines if line[0] == kind]

    def error_codes(self):
        return [e[1] for e in self.errors]

    def __repr__(self):
        return "rc=%d\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.stdout, self.stderr)


def norm_who(user, service, conns, pids, ips):
    """A who row with its pid and ip lists as sorted tuples (their order in
    the parentheses is the server's hash order)."""
    return (user, service, int(conns), tuple(sorted(pids.strip("()").split())),
            tuple(sorted(ips.strip("()").split())))


class LibAgainstDovecot(unittest.TestCase):
    d = None

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("the Dovecot fixture must run as root")
        if not os.access(DVA_QUERY, os.X_OK):
            raise unittest.SkipTest("dva_query not built (set DVA_QUERY): %s" % DVA_QUERY)
        cls.t0 = time.monotonic()
        users = dict(DEFAULT_USERS)
        users.update({u: {"password": "odd-secret", "fields": {}, "messages": []}
                      for u in ODD_USERS})
        cls.d = DovecotServer(users=users)
        cls.d.start()
        try:
            cls._prepare()
        except BaseException:
            cls.d.stop()
            raise

    @classmethod
    def _prepare(cls):
        d = cls.d
        cls.pw_file = os.path.join(d.root_dir, "doveadm.pw")
        with open(cls.pw_file, "w") as f:
            f.write(d.password + "\n")
        os.chmod(cls.pw_file, 0o600)
        # IMAP traffic for the stats; nothing that changes flags or sizes.
        a1, a2, b1 = (d.imap_login("alice@example.com"), d.imap_login("alice@example.com"),
                      d.imap_login("bob@example.com"))
        for imap, cmds in ((a1, ("select", "noop", "status")),
                           (a2, ("examine", "fetch", "noop")),
                           (b1, ("select", "noop"))):
            for cmd in cmds:
                if cmd == "select":
                    typ, _ = imap.select("INBOX")
                elif cmd == "examine":
                    typ, _ = imap.select("INBOX", readonly=True)
                elif cmd == "status":
                    typ, _ = imap.status("INBOX", "(MESSAGES UNSEEN)")
                elif cmd == "fetch":
                    typ, _ = imap.fetch("1:*", "(FLAGS RFC822.SIZE)")
                else:
                    typ, _ = imap.noop()
                assert typ == "OK", (cmd, typ)
        # alice's other mailboxes: a space, a non-ASCII name (UTF-8 over
        # doveadm, modified UTF-7 over IMAP) and one message outside INBOX.
        for name in ('"Sent Items"', '"Entw&APw-rfe"'):
            typ, data = a1.create(name)
            assert typ == "OK", (name, data)
        typ, data = a1.append('"Sent Items"', None, None,
                              b"Subject: sent\r\n\r\nhello\r\n")
        assert typ == "OK", data
        c = d.imap_login("carol@example.com", keep=False)
        c.logout()
        # Wait until `who` shows exactly the held sessions (carol and the
        # populating logins gone) and the stats count what was done.
        await_true("who to show only the held sessions",
                   lambda: cls._cli_who_counts() == HELD)
        await_true("stats to count the IMAP commands",
                   lambda: {"imap_command_SELECT", "imap_command_EXAMINE",
                            "imap_command_STATUS", "imap_command_NOOP"}
                   <= {k[0] for k, v in cls.cli_stats().items() if int(v[0]) > 0})

    @classmethod
    def tearDownClass(cls):
        if cls.d is not None:
            cls.d.stop()  # waits for every Dovecot process, raises if one is left
            pid = cls.d.master_pid
            if pid is not None and os.path.exists("/proc/%d" % pid):
                with open("/proc/%d/stat" % pid) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                assert state == "Z", "dovecot master %d still running" % pid
            sys.stderr.write("\n[test_lib] dovecot start %.2fs, stop %.2fs, class %.2fs\n"
                             % (cls.d.start_seconds or 0, cls.d.stop_seconds or 0,
                                time.monotonic() - cls.t0))

    # -- helpers --------------------------------------------------------------
    @classmethod
    def cli(cls, *args, tab=True):
        r = cls.d.doveadm_run(*((["-f", "tab"] if tab else []) + list(args)))
        return r.returncode, r.stdout.splitlines(), r.stderr

    @classmethod
    def cli_rows(cls, *args):
        """rc and rows of a tab CLI answer, without its header line."""
        rc, lines, _ = cls.cli(*args)
        return rc, [line.split("\t") for line in lines[1:]]

    @classmethod
    def _cli_who_counts(cls):
        _, rows = cls.cli_rows("who")
        return {r[0]: int(r[1]) for r in rows}

    @classmethod
    def cli_stats(cls):
        rc, rows = cls.cli_rows("stats", "dump", "-f", STATS_FIELDS)
        assert rc == 0, rc
        return {(r[0], r[1]): r[2:] for r in rows}

    def cli_who(self):
        rc, rows = self.cli_rows("who")
        self.assertEqual(rc, 0)
        return sorted(norm_who(r[0], r[2], r[1], r[3], r[4]) for r in rows)

    def cli_sessions(self):
        rc, rows = self.cli_rows("who", "-1")
        self.assertEqual(rc, 0)
        return sorted(tuple(r) for r in rows)

    def cli_users(self, mask):
        rc, lines, _ = self.cli("user", mask, tab=False)
        self.assertEqual(rc, 0)
        return sorted(line for line in lines if line)

    def query(self, *args, transport="unix", password=True, password_file=None,
              timeout_ms=None, socket_path=None, host="127.0.0.1", port=None):
        cmd = [DVA_QUERY]
        if self.d.generation != "2.3" and args and args[0] != "scrape":
            # requests as for 2.4 (scrape finds the generation out itself)
            cmd += ["--generation", self.d.generation]
        if transport == "unix":
            cmd += ["--socket", socket_path or self.d.doveadm_socket]
        else:
            cmd += ["--host", host, "--port", str(port or self.d.doveadm_port)]
        if password_file or password and transport == "tcp":
            cmd += ["--password-file", password_file or self.pw_file]
        if timeout_ms:
            cmd += ["--timeout-ms", str(timeout_ms)]
        proc = subprocess.run(cmd + list(args), capture_output=True, encoding="utf-8",
                              errors="surrogateescape", timeout=60)
        out = Output(proc)
        self.assertNotIn(self.d.password, proc.stdout + proc.stderr,
                         "dva_query printed the doveadm password")
        self.assertNotIn("AddressSanitizer", proc.stderr, out)
        self.assertNotIn("runtime error", proc.stderr, out)
        return out

    def stable(self, what, cli_fn, lib_fn):
        """(cli, lib) read at the same moment: CLI, library, CLI again, until
        both CLI readings agree (bounded)."""
        got = []

        def attempt():
            before = cli_fn()
            lib = lib_fn()
            after = cli_fn()
            got[:] = [before, lib]
            return before == after
        await_true("a stable reading of " + what, attempt)
        return got

    def assert_quota_like_cli(self, out, user, cli_rows):
        rows = out.rows("quota")
        for r in rows:
            self.assertEqual(r[0], user, out)
        self.assertEqual([r[1:] for r in rows], cli_rows, out)

    # -- quota ------------------------------------------------------------------
    def test_quota_matches_cli(self):
        for transport in TRANSPORTS:
            for user in ("alice@example.com", "bob@example.com", "carol@example.com",
                         "erin@example.org"):
                with self.subTest(transport=transport, user=user):
                    rc, cli_rows = self.cli_rows("quota", "get", "-u", user)
                    self.assertEqual(rc, 0)
                    self.assertEqual(len(cli_rows), 2)
                    out = self.query("quota", user, transport=transport)
                    self.assertEqual(out.rc, 0, out)
                    self.assertEqual(out.errors, [], out)
                    self.assert_quota_like_cli(out, user, cli_rows)

    def test_quota_bob_nearly_full(self):
        out = self.query("quota", "bob@example.com")
        storage = [r for r in out.rows("quota") if r[2] == "STORAGE"]
        self.assertEqual(len(storage), 1, out)
        value, limit, percent = (int(x) for x in storage[0][3:6])
        self.assertEqual(limit, 100)
        self.assertGreaterEqual(percent, 90)
        self.assertEqual(percent, value * 100 // limit)

    def test_quota_unlimited_is_dash_not_zero(self):
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                out = self.query("quota", "carol@example.com", transport=transport)
                self.assertEqual(out.rc, 0, out)
                rows = out.rows("quota")
                self.assertEqual(sorted(r[2] for r in rows), ["MESSAGE", "STORAGE"])
                for r in rows:
                    self.assertEqual(r[4], "-", out)    # limit
                    self.assertEqual(r[5], "0", out)    # percent
                    self.assertGreater(int(r[3]), 0)    # carol has 3 messages

    def test_quota_error_rows_and_tempfail(self):
        rc, cli_rows = self.cli_rows("quota", "get", "-u", "dave@example.com")
        self.assertEqual(rc, 75)  # EX_TEMPFAIL
        self.assertTrue(cli_rows and all(r[2:] == ["error"] * 3 for r in cli_rows))
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                out = self.query("quota", "dave@example.com", transport=transport)
                self.assertEqual(out.rc, 1, out)   # a command failure, not the connection
                self.assert_quota_like_cli(out, "dave@example.com", cli_rows)
                self.assertEqual(len(out.errors), 1, out)
                code, msg = out.errors[0][1:]
                self.assertEqual(code, "command")
                self.assertIn("TEMPFAIL", msg)
                self.assertIn("dave@example.com", msg)

    def test_quota_pipelined_equals_separate_cli_calls(self):
        users = ["alice@example.com", "bob@example.com", "carol@example.com"]
        expected = []
        for u in users:
            rc, rows = self.cli_rows("quota", "get", "-u", u)
            self.assertEqual(rc, 0)
            expected += [[u] + r for r in rows]
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                out = self.query("quota", *users, transport=transport)
                self.assertEqual(out.rc, 0, out)
                self.assertEqual(out.rows("quota"), expected)  # in request order

    def test_quota_pipeline_survives_a_failed_request(self):
        # A NOUSER in the middle must not shift the replies that follow.
        users = ["bob@example.com", "nosuchuser@example.com", "alice@example.com",
                 "dave@example.com", "carol@example.com"]
        out = self.query("quota", *users)
        self.assertEqual(out.rc, 1, out)
        self.assertEqual([r[0] for r in out.rows("quota")],
                         [u for u in users if not u.startswith("nosuch") for _ in (0, 1)])
        for u in ("bob@example.com", "alice@example.com", "carol@example.com"):
            _, rows = self.cli_rows("quota", "get", "-u", u)
            self.assertEqual([r[1:] for r in out.rows("quota") if r[0] == u], rows)
        self.assertEqual(out.error_codes(), ["command", "command"], out)
        self.assertIn("NOUSER", out.errors[0][2])
        self.assertIn("nosuchuser@example.com", out.errors[0][2])
        self.assertIn("TEMPFAIL", out.errors[1][2])

    def test_nonexistent_user_is_nouser(self):
        self.assertEqual(self.cli("quota", "get", "-u", "nosuchuser@example.com")[0], 67)
        for transport in TRANSPORTS:
            for args in (("quota", "nosuchuser@example.com"),
                         ("mailbox", "nosuchuser@example.com", "*")):
                with self.subTest(transport=transport, command=args[0]):
                    out = self.query(*args, transport=transport)
                    self.assertEqual(out.rc, 1, out)
                    self.assertEqual(out.lines, [], out)
                    self.assertEqual(out.error_codes(), ["command"], out)
                    self.assertEqual(out.errors[0][2].count("NOUSER"), 1, out)
                    self.assertIn("nosuchuser@example.com", out.errors[0][2])

    # -- who ----------------------------------------------------------------------
    def test_who_matches_cli(self):
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                outs = []

                def lib():
                    outs[:] = [self.query("who", transport=transport)]
                    return sorted(norm_who(*r) for r in outs[0].rows("who"))
                cli, got = self.stable("who", self.cli_who, lib)
                self.assertEqual(outs[0].rc, 0, outs[0])
                self.assertEqual(got, cli)
                self.assertEqual({r[0]: r[2] for r in got}, HELD)

    def test_who_summary(self):
        out = self.query("who")
        self.assertEqual(out.rc, 0, out)
        rows = out.rows("who")
        per_service = {}
        for user, service, conns, _, _ in rows:
            users, sessions = per_service.get(service, (set(), 0))
            users.add(user)
            per_service[service] = (users, sessions + int(conns))
        self.assertEqual(sorted(out.rows("summary")),
                         sorted([s, str(len(u)), str(n)] for s, (u, n) in per_service.items()))
        self.assertEqual(out.rows("total"),
                         [[str(len({r[0] for r in rows})), str(sum(HELD.values()))]])
        self.assertEqual(out.rows("summary"), [["imap", "2", "3"]])

    def test_who_sessions_matches_cli(self):
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                def lib():
                    out = self.query("who-sessions", transport=transport)
                    self.assertEqual(out.rc, 0, out)
                    return sorted(tuple(r) for r in out.rows("session"))
                cli, got = self.stable("who -1", self.cli_sessions, lib)
                self.assertEqual(got, cli)
                self.assertEqual(len(got), sum(HELD.values()))
                # who -1 and who agree on the pids
                who_pids = sorted(p for r in self.cli_who() for p in r[3])
                self.assertEqual(sorted(r[2] for r in got), who_pids)

    # -- users, mailbox ------------------------------------------------------------
    def test_users_matches_cli(self):
        for transport in TRANSPORTS:
            for mask in ("*", "*@example.com", "*@example.net", "*@nosuchdomain.example"):
                with self.subTest(transport=transport, mask=mask):
                    out = self.query("users", mask, transport=transport)
                    self.assertEqual(out.rc, 0, out)
                    self.assertEqual(sorted(r[0] for r in out.rows("users")),
                                     self.cli_users(mask))
        self.assertEqual(self.cli_users("*@example.com"), EXAMPLE_COM)
        self.assertEqual(self.cli_users("*@example.net"), sorted(ODD_USERS))

    def test_mailbox_status_matches_cli(self):
        for transport in TRANSPORTS:
            for user in ("alice@example.com", "bob@example.com", "carol@example.com",
                         "dave@example.com", "erin@example.org"):
                with self.subTest(transport=transport, user=user):
                    rc, cli_rows = self.cli_rows("mailbox", "status", "-u", user,
                                                 MB_FIELDS, "*")
                    self.assertEqual(rc, 0)
                    out = self.query("mailbox", user, "*", transport=transport)
                    self.assertEqual(out.rc, 0, out)
                    rows = out.rows("mailbox")
                    self.assertTrue(all(r[0] == user for r in rows), out)
                    self.assertEqual(sorted(r[1:] for r in rows), sorted(cli_rows))
                    if user == "alice@example.com":
                        self.assertEqual({r[1]: r[2] for r in rows},
                                         {"INBOX": "6", "Sent Items": "1",
                                          "Entw\u00fcrfe": "0"})
                    for mask, want in (("INBOX", ["INBOX"]), ("Sent*", ["Sent Items"]),
                                       ("Nothing*", [])):
                        if user != "alice@example.com":
                            break
                        out = self.query("mailbox", user, mask, transport=transport)
                        self.assertEqual(out.rc, 0, out)
                        self.assertEqual([r[1] for r in out.rows("mailbox")], want)

    # -- stats ------------------------------------------------------------------------
    def test_stats_matches_cli(self):
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                before = self.cli_stats()
                out = self.query("stats", transport=transport)
                after = self.cli_stats()
                self.assertEqual(out.rc, 0, out)
                lib = {(r[0], r[1]): r[2:] for r in out.rows("stats")}
                self.assertEqual(len(lib), len(out.rows("stats")), "duplicate rows")
                self.assertEqual(set(lib), set(before))
                self.assertEqual(set(lib), set(after))
                for key, vals in lib.items():
                    self.assertEqual(len(vals), 8, key)
                    for col in (0, 1):  # count, sum: counters only grow
                        self.assertLessEqual(int(before[key][col]), int(vals[col]), key)
                        self.assertLessEqual(int(vals[col]), int(after[key][col]), key)
                    if before[key] == after[key]:
                        # quiet metric: every column as the CLI prints it; no
                        # events yet means no distribution (printed "-")
                        want = before[key] if int(before[key][0]) else \
                            before[key][:2] + ["-"] * 6
                        self.assertEqual(vals, want, key)
                for metric in ("imap_command_SELECT", "imap_command_NOOP",
                               "imap_command_EXAMINE", "imap_command_STATUS"):
                    self.assertGreater(int(lib[(metric, "duration")][0]), 0, metric)
                self.assertEqual(lib[("auth_failure", "duration")][2:], ["-"] * 6)

    def test_oldstats_gone_in_24(self):
        """2.4 removed old-stats: a real 2.4.1 answers `oldstats dump` with a
        bare failure and no rows (2.3's are compared in test_oldstats.py)."""
        if self.d.generation == "2.3":
            self.skipTest("2.3 has old-stats: test_oldstats.py")
        for scope in ("global", "user"):
            with self.subTest(scope=scope), self.d.wire() as w:
                self.assertEqual(w.command("oldstats dump", scope), b"\n-\n")

    # -- connection-level failures --------------------------------------------------
    def test_wrong_password_is_auth_error(self):
        wrong = "wrong-" + secrets.token_hex(12)
        path = os.path.join(self.d.root_dir, "wrong.pw")
        with open(path, "w") as f:
            f.write(wrong + "\n")
        out = self.query("who", transport="tcp", password_file=path)
        self.assertEqual(out.rc, 2, out)
        self.assertEqual(out.lines, [], out)
        self.assertEqual(out.error_codes(), ["auth"], out)
        self.assertIn("doveadm_password", out.errors[0][2])
        self.assertNotIn(wrong, out.stdout + out.stderr)
        self.assertNotIn(wrong[6:], out.stdout + out.stderr)

    def test_tcp_without_password_is_noauth(self):
        out = self.query("who", transport="tcp", password=False)
        self.assertEqual(out.rc, 2, out)
        self.assertEqual(out.lines, [], out)
        self.assertEqual(out.error_codes(), ["noauth"], out)
        self.assertIn("doveadm_password", out.errors[0][2])

    def test_missing_socket_is_connect_error(self):
        path = os.path.join(self.d.root_dir, "no-such-dir", "doveadm-server")
        for args in (("who",), ("quota", "alice@example.com", "bob@example.com")):
            with self.subTest(command=args[0]):
                out = self.query(*args, socket_path=path)
                self.assertEqual(out.rc, 2, out)
                self.assertEqual(out.lines, [], out)
                # one connection failure, reported once for all its requests
                self.assertEqual(out.error_codes(), ["connect"], out)
                self.assertIn(path, out.errors[0][2])

    def test_silent_server_times_out(self):
        # Accepts TCP connections (kernel backlog) but never answers VERSION.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen(8)
            for args in (("who",), ("quota", "alice@example.com", "bob@example.com"),
                         ("scrape", "--users-mask", "*")):
                with self.subTest(command=args[0]):
                    t0 = time.monotonic()
                    out = self.query(*args, transport="tcp", port=srv.getsockname()[1],
                                     timeout_ms=300)
                    elapsed = time.monotonic() - t0
                    self.assertEqual(out.rc, 2, out)
                    self.assertEqual(out.error_codes(), ["timeout"], out)
                    self.assertIn("greeting", out.errors[0][2])
                    self.assertGreaterEqual(elapsed, 0.3)
                    self.assertLess(elapsed, 3.0)
                    if args[0] == "scrape":
                        self.assertEqual(out.lines, [["scrape", "0", "3"]], out)

    def test_tcp_refused_and_host_names(self):
        out = self.query("who", transport="tcp", port=free_port())
        self.assertEqual(out.rc, 2, out)
        self.assertEqual(out.error_codes(), ["connect"], out)
        self.assertIn("refused", out.errors[0][2])
        # "localhost" may resolve to ::1 first (Dovecot listens on 127.0.0.1
        # only): every resolved address is tried.
        for host in ("localhost", "[127.0.0.1]"):
            with self.subTest(host=host):
                out = self.query("quota", "alice@example.com", transport="tcp", host=host)
                self.assertEqual(out.rc, 0, out)
                _, rows = self.cli_rows("quota", "get", "-u", "alice@example.com")
                self.assert_quota_like_cli(out, "alice@example.com", rows)

    def test_unneeded_password_warns_once_over_unix(self):
        out = self.query("who", password_file=self.pw_file)
        self.assertEqual(out.rc, 0, out)
        self.assertEqual(out.errors, [], out)
        self.assertEqual(len(out.warnings), 1, out)
        self.assertIn("without authentication", out.warnings[0])
        self.assertEqual({r[0] for r in out.rows("who")}, set(HELD))

    # -- scrape -----------------------------------------------------------------------
    def test_scrape_resolves_users_server_side(self):
        for transport in TRANSPORTS:
            with self.subTest(transport=transport):
                out = self.query("scrape", "--users-mask", "*@example.com",
                                 transport=transport)
                self.assertEqual(out.rc, 1, out)  # dave's quota fails
                up, conns = out.lines[0][1:]
                self.assertEqual((out.lines[0][0], up), ("scrape", "1"), out)
                # stats, who, 1 user mask, 2 mail connections
                self.assertGreaterEqual(int(conns), 4)
                self.assertEqual([r[0] for r in out.rows("users")], EXAMPLE_COM)
                # every quota row names the user it was read for
                current = None
                for line in out.lines[1:]:
                    if line[0] == "users":
                        current = line[1]
                    elif line[0] == "quota":
                        self.assertEqual(line[1], current, out)
                for u in ("alice@example.com", "bob@example.com", "carol@example.com"):
                    _, rows = self.cli_rows("quota", "get", "-u", u)
                    self.assertEqual([r[1:] for r in out.rows("quota") if r[0] == u], rows)
                self.assertEqual([r for r in out.rows("quota")
                                  if r[0] == "dave@example.com"], [])
                self.assertEqual(out.error_codes(), ["command"], out)
                self.assertIn("dave@example.com", out.errors[0][2])
                self.assertIn("TEMPFAIL", out.errors[0][2])
                self.assertEqual({(r[0], r[1]) for r in out.rows("stats")},
                                 set(self.cli_stats()))
                self.assertEqual(sorted(norm_who(*r) for r in out.rows("who")),
                                 self.cli_who())
                self.assertEqual(out.rows("total"), [["2", "3"]])

    def test_scrape_users_deduplicated_and_mailboxes(self):
        out = self.query("scrape", "--no-stats", "--no-who", "--mailbox",
                         "--user", "erin@example.org", "--user", "alice@example.com",
                         "--users-mask", "*@example.com", "--users-mask", "a*")
        self.assertEqual(out.rc, 1, out)  # dave
        self.assertEqual(out.rows("stats") + out.rows("who"), [])
        names = [r[0] for r in out.rows("users")]
        self.assertEqual(sorted(names), sorted(set(EXAMPLE_COM) | {"erin@example.org"}))
        self.assertEqual(names[:2], ["erin@example.org", "alice@example.com"])
        for u in ("alice@example.com", "bob@example.com", "carol@example.com",
                  "erin@example.org"):
            _, rows = self.cli_rows("mailbox", "status", "-u", u, MB_FIELDS, "INBOX")
            self.assertEqual([r[1:] for r in out.rows("mailbox") if r[0] == u], rows, u)
            _, rows = self.cli_rows("quota", "get", "-u", u)
            self.assertEqual([r[1:] for r in out.rows("quota") if r[0] == u], rows, u)

    def test_scrape_server_down(self):
        path = os.path.join(self.d.root_dir, "no-such-dir", "doveadm-server")
        out = self.query("scrape", "--users-mask", "*", socket_path=path)
        self.assertEqual(out.rc, 2, out)
        self.assertEqual(out.lines[0][:2], ["scrape", "0"], out)
        self.assertIn("connect", out.error_codes())

    # -- doc/PROTOCOL.md section 6 hazards ----------------------------------------------
    def test_hazard_6_1_raw_rows_arrive_after_the_status_line(self):
        """`who` then `who -1` pipelined on one connection: part of `who -1`'s
        rows come AFTER its `\\n+\\n` (why the library allows a server-wide
        command only as the first and only request of a connection)."""
        nsessions = len(self.cli_sessions())
        # `who -1` columns as the CLI's header names them: 4 on 2.3; 2.4
        # adds dest_ip (src/doveadm/doveadm-who.c), so 5
        ncols = len(self.cli("who", "-1")[1][0].split("\t"))
        self.assertEqual(ncols, 4 if self.d.generation == "2.3" else 5)
        buf = bytearray()
        with self.d.wire() as w:
            w.send(W.request("who") + W.request("who", "-1"))

            def complete():
                buf.extend(w.read_idle(idle=0.05, timeout=0.2)[0])
                first = buf.find(b"\n+\n")
                rest = bytes(buf[first + 3:]) if first >= 0 else b""
                return (b"\n+\n" in rest and
                        rest.replace(b"\n+\n", b"").count(b"\t") == ncols * nsessions)
            await_true("both replies", complete)
        rest = bytes(buf[buf.find(b"\n+\n") + 3:])
        second, _, tail = rest.partition(b"\n+\n")
        self.assertNotEqual(tail, b"", "hazard 6.1 not reproduced: %r" % bytes(buf))
        # The tail would be glued to the next reply.  On 2.3 a reader that
        # trusts the status line also gets a row count that is not a
        # multiple of the columns; a real 2.4.1 cut at a row boundary
        # (`...\t\t\n+\nalice@example.com\timap\t9755\t127.0.0.1\t\t`),
        # so there only the tail shows it.
        if self.d.generation == "2.3":
            self.assertNotEqual(second.count(b"\t") % ncols, 0, bytes(buf))
        self.assertTrue(tail.endswith(b"\t"))

    def test_hazard_6_1_library_refuses_a_second_server_wide_command(self):
        for transport in TRANSPORTS:
            for first, second in (("who", "who-sessions"), ("stats", "who"),
                                  ("users", "stats")):
                with self.subTest(transport=transport, first=first, second=second):
                    args = [first] + (["*"] if first == "users" else [])
                    out = self.query("pipeline", *args, "--", second,
                                     transport=transport)
                    self.assertEqual(out.rc, 1, out)
                    self.assertEqual(out.error_codes(), ["usage"], out)
                    self.assertIn("new connection", out.errors[0][2])
                    kinds = {line[0] for line in out.lines}
                    # the first command was still answered, the second never sent
                    want = {"who": {"who", "summary", "total"}, "stats": {"stats"},
                            "users": {"users"}}[first]
                    self.assertEqual(kinds, want, out)
                    if first == "who":
                        self.assertEqual(sorted(norm_who(*r) for r in out.rows("who")),
                                         self.cli_who())

    def test_hazard_6_2_raw_server_dies_on_who_after_a_mail_command(self):
        # The per-user read of each generation: 2.3 tags the rows with -A;
        # on 2.4 -A reads every user, so without it.
        quota = ("quota get", "-A") if self.d.generation == "2.3" else ("quota get",)
        for second in (W.request("who"), W.request("stats dump", "-f", STATS_FIELDS)):
            with self.subTest(second=second), self.d.wire() as w:
                reply = w.command(*quota, user="alice@example.com")
                self.assertTrue(reply.endswith(b"\n+\n"), reply)
                w.send(second)
                if self.d.generation != "2.3":
                    # Fixed in 2.4: a real 2.4.1 answers `who` and `stats
                    # dump` after a mail command on the same connection.
                    # (The library keeps its rule: hazard 6.1 is still there.)
                    data = bytearray()

                    def answered():
                        chunk, eof = w.read_idle(idle=0.05, timeout=0.2)
                        data.extend(chunk)
                        self.assertFalse(eof and not data.endswith(b"\n+\n"),
                                         "2.4 server died: %r" % bytes(data))
                        return data.endswith(b"\n+\n")
                    await_true("the reply after a mail command", answered)
                    self.assertIn(b"\t", bytes(data))
                    continue
                data, eof = w.read_until_eof(timeout=10)
                self.assertTrue(eof, "server process did not die: %r" % data)
                self.assertNotIn(b"\n+\n", data)   # no status: the command was lost

    def test_hazard_6_2_library_refuses_server_wide_after_mail(self):
        for transport in TRANSPORTS:
            for second in ("who", "stats", "who-sessions"):
                with self.subTest(transport=transport, second=second):
                    out = self.query("pipeline", "quota", "alice@example.com", "--",
                                     second, transport=transport)
                    self.assertEqual(out.rc, 1, out)
                    self.assertEqual(out.error_codes(), ["usage"], out)
                    self.assertIn("first and only", out.errors[0][2])
                    _, rows = self.cli_rows("quota", "get", "-u", "alice@example.com")
                    self.assert_quota_like_cli(out, "alice@example.com", rows)
                    self.assertEqual({line[0] for line in out.lines}, {"quota"}, out)

    def test_hazard_6_3_mail_commands_pipeline_and_carry_their_user(self):
        # Raw: without -A nothing in a row says whose it is; with -A every row does.
        with self.d.wire() as w:
            plain = W.split_values(W.split_reply(
                w.command("quota get", user="bob@example.com"))[0])
            tagged = W.split_values(W.split_reply(
                w.command("quota get", "-A", user="bob@example.com"))[0])
        self.assertEqual(len(plain), 10)
        self.assertNotIn(b"bob@example.com", plain)
        if self.d.generation == "2.3":
            # 2.3: -A over the protocol only adds the username column
            self.assertEqual(tagged[0::6], [b"bob@example.com"] * 2)
        else:
            # 2.4: -A makes the server iterate its userdb whatever the
            # username field says (a real 2.4.1 answered every user's rows):
            # the rows of `doveadm quota get -A`, bob's among them equal to
            # his untagged ones
            _, every = self.cli_rows("quota", "get", "-A")
            self.assertEqual([[x.decode() for x in tagged[i:i + 6]]
                              for i in range(0, len(tagged), 6)], every)
            self.assertGreater(len({r[0] for r in every}), 1)
            self.assertEqual([x for i in range(0, len(tagged), 6)
                              if tagged[i] == b"bob@example.com"
                              for x in tagged[i + 1:i + 6]], plain)
        # Library: mail commands of different kinds and users on ONE
        # connection, each row credited to its own user, in request order.
        out = self.query("pipeline", "quota", "alice@example.com", "carol@example.com",
                         "--", "mailbox", "bob@example.com", "*",
                         "--", "quota", "erin@example.org", transport="tcp")
        self.assertEqual(out.rc, 0, out)
        self.assertEqual([line[:2] for line in out.lines],
                         [["quota", "alice@example.com"]] * 2
                         + [["quota", "carol@example.com"]] * 2
                         + [["mailbox", "bob@example.com"]]
                         + [["quota", "erin@example.org"]] * 2)
        _, rows = self.cli_rows("mailbox", "status", "-u", "bob@example.com", MB_FIELDS, "*")
        self.assertEqual([r[1:] for r in out.rows("mailbox")], rows)
        for u in ("alice@example.com", "carol@example.com", "erin@example.org"):
            _, rows = self.cli_rows("quota", "get", "-u", u)
            self.assertEqual([r[1:] for r in out.rows("quota") if r[0] == u], rows)


if __name__ == "__main__":
    unittest.main()
