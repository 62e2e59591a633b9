# SPDX-License-Identifier: MIT
"""End to end: a real collectd 5.12 loads the dovecot.so under test
($DVA_PLUGIN) and reads a real private Dovecot (2.3 or 2.4: the fixture's
generation, $DVA_DOVECOT_GENERATION); what collectd holds is compared with
what the doveadm CLI of that Dovecot prints.

One Dovecot for the class (IMAP sessions held open: alice twice, bob once;
a little IMAP activity), one collectd per test (Interval 1 s).  Nothing
sleeps to synchronise: every wait polls a condition against a deadline.

    DVA_PLUGIN=build/plugin/dovecot.so python3 -m unittest -v test_e2e_plugin
"""

import os
import shutil
import sys
import tempfile
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from collectd_fixture import (CollectdDaemon, CollectdError, dovecot_block,  # noqa: E402
                              identifier, instance_block)
from dovecot_fixture import DovecotServer  # noqa: E402
from e2e_util import (PLUGIN_SHARED_DIRS, CollectdTestCase, built_plugin,  # noqa: E402
                      write_password_file)

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
DAVE = "dave@example.com"
ERIN = "erin@example.org"
ROOT = "User_quota"            # "User quota", sanitised
WAIT = 20.0                    # seconds: bound of any wait for values
DEFAULT_SOCKET = "/run/dovecot/doveadm-server"


def _tab_rows(text):
    """Rows of `doveadm -f tab` output as dicts (header line = keys)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:]]


class DovecotCLI:
    """What the doveadm CLI says, in the plugin's terms."""

    def __init__(self, d):
        self.d = d

    def who(self):
        """{service: (distinct users, sessions)} and the totals under None."""
        users, sessions = {}, {}
        for row in _tab_rows(self.d.doveadm("-f", "tab", "who")):
            # the header names the column "proto" on 2.3, "service" on 2.4
            svc = row["proto"] if "proto" in row else row["service"]
            users.setdefault(svc, set()).add(row["username"])
            users.setdefault(None, set()).add(row["username"])
            n = int(row["#"])
            sessions[svc] = sessions.get(svc, 0) + n
            sessions[None] = sessions.get(None, 0) + n
        return {k: (len(users[k]), sessions[k]) for k in users}

    def quota(self, user):
        """{"STORAGE"|"MESSAGE": (value, limit or None, percent)}."""
        out = {}
        for row in _tab_rows(self.d.doveadm("-f", "tab", "quota", "get", "-u", user)):
            limit = None if row["Limit"] == "-" else int(row["Limit"])
            out[row["Type"]] = (int(row["Value"]), limit, int(row["%"]))
        return out

    def stats(self):
        """{metric: (count, sum)} of the duration field."""
        out = {}
        for row in _tab_rows(self.d.doveadm("-f", "tab", "stats", "dump")):
            if row.get("field") == "duration":
                out[row["metric_name"]] = (int(row["count"]), int(row["sum"]))
        return out

    def mailbox(self, user, mailbox="INBOX"):
        rows = _tab_rows(self.d.doveadm("-f", "tab", "mailbox", "status", "-u", user,
                                        "messages unseen vsize", mailbox))
        r = rows[0]
        return int(r["messages"]), int(r["unseen"]), int(r["vsize"])


class E2ETestCase(CollectdTestCase):
    dovecot = None

    @classmethod
    def setUpClass(cls):
        cls.plugin = built_plugin()
        cls.t0 = time.monotonic()
        cls.dovecot = DovecotServer(shared_dirs=PLUGIN_SHARED_DIRS)
        cls.dovecot.start()
        try:
            d = cls.dovecot
            cls.cli = DovecotCLI(d)
            a1 = d.imap_login(ALICE)
            a2 = d.imap_login(ALICE)
            b1 = d.imap_login(BOB)
            # some IMAP activity for the stats (imap_command_*); \Seen on one
            # of alice's messages makes `unseen` differ from `messages`
            a1.select("INBOX")
            a1.fetch("1:*", "(FLAGS RFC822.SIZE)")
            a1.search(None, "ALL")
            a1.store("1", "+FLAGS", "\\Seen")
            a2.noop()
            a2.status("INBOX", "(MESSAGES UNSEEN)")
            b1.select("INBOX", readonly=True)
            b1.noop()
            cls.sessions = (a1, a2, b1)
            # the populate logins have gone from `who` before any test reads
            cls._poll(lambda: cls.cli.who().get("imap") == (2, 3), 15,
                      "who to show alice twice and bob once")
        except BaseException:
            cls.dovecot.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.dovecot is not None:
            cls.dovecot.stop()

    @staticmethod
    def _poll(predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise AssertionError("timed out waiting for %s" % what)
            time.sleep(0.05)

    # -- helpers --------------------------------------------------------------
    def collectd(self, dovecot_config, **kw):
        return self.start_collectd(dovecot_config, **kw)

    def assert_eventually_equal(self, get_actual, get_expected, what, timeout=WAIT,
                                c=None):
        """Both sides re-read until equal (the CLI and collectd read at
        different moments); fail with the last pair."""
        last = {}

        def same():
            last["actual"], last["expected"] = get_actual(), get_expected()
            return last["actual"] == last["expected"]
        deadline = time.monotonic() + timeout
        while not same():
            if time.monotonic() >= deadline:
                self.fail("%s: collectd has %r, doveadm says %r%s"
                          % (what, last.get("actual"), last.get("expected"),
                             "\n" + c.log_tail() if c else ""))
            time.sleep(0.1)

    def wait_value(self, c, ident, want, timeout=WAIT):
        """Wait until getval(ident) == want."""
        try:
            c.wait_for(lambda: c.value(ident) == want, timeout,
                       what="%s == %r (now %r)" % (ident, want, _safe(c.value, ident)))
        except CollectdError as e:
            self.fail("%s\nnow: %r" % (e, _safe(c.value, ident)))

    def lines_with(self, c, *needles):
        return [line for line in c.log_lines() if all(n in line for n in needles)
                and "Notification:" not in line]


def _safe(f, *a):
    try:
        return f(*a)
    except Exception as e:          # only for messages
        return "<%s>" % e


class TestPluginE2E(E2ETestCase):

    # -- UNIX socket: every kind of value against the CLI ------------------------
    def test_unix_socket_values(self):
        d = self.dovecot
        c = self.collectd(dovecot_block("unix", Socket=d.doveadm_socket,
                                        QuotaUser=[ALICE, BOB, CAROL],
                                        CollectMailbox=True, QuotaWarning=90))
        i = lambda t, ti="": identifier("unix", t, ti)  # noqa: E731
        c.wait_values([i("bool", "up"), i("users", "imap"), i("current_sessions", "imap"),
                       i("users"), i("current_sessions"),
                       i("bytes", "%s-%s-used" % (ALICE, ROOT)),
                       i("bytes", "%s-%s-used" % (BOB, ROOT)),
                       i("bytes", "%s-%s-used" % (CAROL, ROOT)),
                       i("derive", "imap_command"),
                       i("email_count", "%s-INBOX-messages" % ALICE)], timeout=WAIT)

        with self.subTest("up"):
            self.assertEqual(c.value(i("bool", "up")), 1.0)

        with self.subTest("who"):
            def who_plugin():
                return {"imap": (c.value(i("users", "imap")),
                                 c.value(i("current_sessions", "imap"))),
                        None: (c.value(i("users")), c.value(i("current_sessions")))}

            def who_cli():
                w = self.cli.who()
                return {k: (float(w[k][0]), float(w[k][1])) for k in ("imap", None)}
            self.assert_eventually_equal(who_plugin, who_cli, "who", c=c)
            self.assertEqual(who_plugin()["imap"], (2.0, 3.0))

        with self.subTest("quota"):
            for user in (ALICE, BOB, CAROL):
                q = self.cli.quota(user)
                st_used, st_limit, st_pct = q["STORAGE"]
                msg_used, msg_limit, msg_pct = q["MESSAGE"]
                base = "%s-%s-" % (user, ROOT)
                self.assertEqual(c.value(i("bytes", base + "used")), st_used * 1024.0, user)
                self.assertEqual(c.value(i("email_count", base + "used")), float(msg_used),
                                 user)
                if st_limit is None:
                    continue
                self.assertEqual(c.value(i("bytes", base + "limit")), st_limit * 1024.0,
                                 user)
                self.assertEqual(c.value(i("email_count", base + "limit")),
                                 float(msg_limit), user)
                self.assertEqual(c.value(i("percent", base + "storage")),
                                 float(min(st_pct, 100)), user)
                self.assertEqual(c.value(i("percent", base + "messages")),
                                 float(min(msg_pct, 100)), user)
            bob_pct = self.cli.quota(BOB)["STORAGE"][2]
            self.assertGreaterEqual(bob_pct, 90)    # the fixture fills bob past 90 %
            self.assertEqual(c.value(i("percent", "%s-%s-storage" % (BOB, ROOT))),
                             float(bob_pct))
            self.assertEqual(c.value(i("bytes", "%s-%s-limit" % (ALICE, ROOT))),
                             10 * 1024 * 1024.0)

        with self.subTest("unlimited carol: used, but no limit and no percent"):
            self.assertEqual(self.cli.quota(CAROL)["STORAGE"][1], None)
            have = c.listval()
            carol = [x for x in have if CAROL in x]
            self.assertIn(i("bytes", "%s-%s-used" % (CAROL, ROOT)), carol)
            self.assertIn(i("email_count", "%s-%s-used" % (CAROL, ROOT)), carol)
            self.assertEqual([x for x in carol if x.endswith("-limit") or "/percent-" in x],
                             [], carol)

        with self.subTest("stats"):
            cli = self.cli.stats()
            self.assertIn("imap_command", cli)
            self.assertGreater(cli["imap_command"][0], 0)
            for metric in ("imap_command", "imap_command_SELECT", "imap_command_all",
                           "auth_success"):
                self.assertIn(metric, cli, "doveadm stats dump: %s" % sorted(cli))
                self.assertIn(i("derive", metric), c.listval())
                # DERIVE: csv holds the raw counter (getval gives a rate);
                # nothing new happens on IMAP, so they settle to equal
                self.assert_eventually_equal(
                    lambda m=metric: (c.csv_last(i("derive", m)),
                                      c.csv_last(i("derive", m + "-sum_us"))),
                    lambda m=metric: tuple(float(x) for x in self.cli.stats()[m]),
                    "stats %s (count, sum)" % metric, c=c)
            # getval of a DERIVE is a rate (NaN until a second read): then
            # present and not negative
            c.wait_reads(i("derive", "imap_command"), 1, timeout=WAIT)
            self.assertGreaterEqual(c.value(i("derive", "imap_command")), 0.0)
            for g in ("min_us", "max_us", "avg_us", "median_us", "stddev_us", "p95_us"):
                self.assertIn(i("gauge", "imap_command-" + g), c.listval())

        with self.subTest("mailbox"):
            messages, unseen, vsize = self.cli.mailbox(ALICE, "INBOX")
            self.assertEqual((messages, unseen), (6, 5))
            self.assertEqual(c.value(i("email_count", "%s-INBOX-messages" % ALICE)),
                             float(messages))
            self.assertEqual(c.value(i("email_count", "%s-INBOX-unseen" % ALICE)),
                             float(unseen))
            self.assertEqual(c.value(i("email_size", "%s-INBOX" % ALICE)), float(vsize))

        with self.subTest("no notification but bob's warning"):
            c.wait_for(lambda: c.notifications(plugin="dovecot"), WAIT,
                       what="bob's quota warning")
            notes = c.notifications(plugin="dovecot")
            self.assertEqual([(n["severity"], n.get("type_instance")) for n in notes],
                             [("WARNING", "%s-%s-storage" % (BOB, ROOT))])

    # -- TCP with a password ---------------------------------------------------
    def test_tcp_password_file(self):
        d = self.dovecot
        tmp = tempfile.mkdtemp(prefix="dva-e2e-pw-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pwfile = write_password_file(tmp, d.password)
        wrong = "wrong-pw-" + d.password[::-1]
        block = dovecot_block(
            instance_block("tcpfile", Host="127.0.0.1", Port=d.doveadm_port,
                           PasswordFile=pwfile, QuotaUser=ALICE, CollectMailbox=True),
            instance_block("tcpinline", Host="127.0.0.1", Port=d.doveadm_port,
                           Password=d.password, QuotaUser=BOB),
            instance_block("tcpwrong", Host="127.0.0.1", Port=d.doveadm_port,
                           Password=wrong, QuotaUser=BOB))
        c = self.collectd(block)
        f = lambda t, ti="": identifier("tcpfile", t, ti)  # noqa: E731
        n = lambda t, ti="": identifier("tcpinline", t, ti)  # noqa: E731
        w = lambda t, ti="": identifier("tcpwrong", t, ti)  # noqa: E731
        c.wait_values([f("bool", "up"), f("users", "imap"), f("derive", "imap_command"),
                       f("bytes", "%s-%s-used" % (ALICE, ROOT)),
                       f("email_count", "%s-INBOX-messages" % ALICE),
                       n("bool", "up"), n("bytes", "%s-%s-used" % (BOB, ROOT)),
                       w("bool", "up")], timeout=WAIT)
        self.assertEqual(c.value(f("bool", "up")), 1.0)
        self.assertEqual(c.value(n("bool", "up")), 1.0)
        self.assertEqual(c.value(w("bool", "up")), 0.0, "a wrong password must not be up")

        q = self.cli.quota(ALICE)["STORAGE"]
        self.assertEqual(c.value(f("bytes", "%s-%s-used" % (ALICE, ROOT))), q[0] * 1024.0)
        self.assertEqual(c.value(f("bytes", "%s-%s-limit" % (ALICE, ROOT))), q[1] * 1024.0)
        qb = self.cli.quota(BOB)["STORAGE"]
        self.assertEqual(c.value(n("bytes", "%s-%s-used" % (BOB, ROOT))), qb[0] * 1024.0)
        self.assertEqual(c.value(f("email_count", "%s-INBOX-messages" % ALICE)),
                         float(self.cli.mailbox(ALICE)[0]))
        self.assert_eventually_equal(
            lambda: (c.value(f("users", "imap")), c.value(f("current_sessions", "imap"))),
            lambda: tuple(float(x) for x in self.cli.who()["imap"]), "who over TCP", c=c)
        self.assert_eventually_equal(
            lambda: c.csv_last(f("derive", "imap_command")),
            lambda: float(self.cli.stats()["imap_command"][0]), "imap_command over TCP",
            c=c)

        # the wrong password: one FAILURE, a log line with the reason
        c.wait_for(lambda: c.notifications(plugin_instance="tcpwrong"), WAIT,
                   what="tcpwrong FAILURE")
        c.wait_reads(f("bool", "up"), 2, timeout=WAIT)
        self.assertEqual([x["severity"] for x in c.notifications(plugin_instance="tcpwrong")],
                         ["FAILURE"])
        self.assertEqual(c.notifications(plugin_instance="tcpfile"), [])
        self.assertEqual(c.notifications(plugin_instance="tcpinline",
                                         type="bool"), [])

        log, csv = c.log_text(), c.csv_text()
        self.assertIn("tcpwrong", log)
        for secret in (d.password, wrong):
            self.assertNotIn(secret, log, "a password is in the collectd log")
            self.assertNotIn(secret, csv, "a password is in the csv files")

    # -- QuotaUsers: a mask resolved on the server ------------------------------
    def test_quota_users_mask(self):
        d = self.dovecot
        c = self.collectd(dovecot_block("mask", Socket=d.doveadm_socket,
                                        QuotaUsers="*@example.com",
                                        CollectStats=False, CollectWho=False))
        i = lambda t, ti="": identifier("mask", t, ti)  # noqa: E731
        want = [i("bytes", "%s-%s-used" % (u, ROOT)) for u in (ALICE, BOB, CAROL)]
        c.wait_values(want + [i("bool", "up")], timeout=WAIT)
        c.wait_for(lambda: self.lines_with(c, DAVE), WAIT, what="a log line naming dave")
        # several more reads: dave stays broken, logged once, others reported
        c.wait_reads(i("bool", "up"), 3, timeout=WAIT)
        have = c.listval()

        dave_lines = self.lines_with(c, DAVE)
        self.assertEqual(len(dave_lines), 1, "dave's broken quota must be logged once:\n%s"
                         % "\n".join(dave_lines))
        self.assertIn("quota", dave_lines[0].lower())
        self.assertEqual([x for x in have if DAVE in x and "User_quota" in x], [],
                         "no quota values for dave (his quota cannot be read)")
        for user in (ALICE, BOB, CAROL):
            q = self.cli.quota(user)
            self.assertEqual(c.value(i("bytes", "%s-%s-used" % (user, ROOT))),
                             q["STORAGE"][0] * 1024.0, user)
            self.assertEqual(c.value(i("email_count", "%s-%s-used" % (user, ROOT))),
                             float(q["MESSAGE"][0]), user)
        self.assertEqual([x for x in have if ERIN in x or "example.org" in x], [])
        self.assertEqual([x for x in have if "/users" in x or "/derive-" in x], [],
                         "CollectStats/CollectWho false")
        self.assertEqual(c.value(i("bool", "up")), 1.0)

    # -- QuotaUsers "*": every user, the default drop-in's choice -------------
    def test_quota_all_users(self):
        """Every user's quota and INBOX equal what `doveadm quota get -A`
        and `mailbox status -A` say (2.3: `user *` then one request per
        user, or scans; 2.4: one server-wide `quota get -A`), from the
        first read; DovecotVersion left at auto; dave (broken) logged
        once, and no row credited to anyone else."""
        d = self.dovecot
        c = self.collectd(dovecot_block("all", Socket=d.doveadm_socket, QuotaUsers="*",
                                        CollectMailbox=True, CollectStats=False,
                                        CollectWho=False))
        i = lambda t, ti="": identifier("all", t, ti)  # noqa: E731
        users = (ALICE, BOB, CAROL, ERIN)
        want = [i("bytes", "%s-%s-used" % (u, ROOT)) for u in users]
        c.wait_values(want + [i("email_count", "%s-INBOX-messages" % u) for u in users],
                      timeout=WAIT)
        for user in users:
            # the very first value stored is already right (the generation
            # was known before the per-user requests)
            rows = c.csv_rows(i("bytes", "%s-%s-used" % (user, ROOT)))
            q = self.cli.quota(user)
            self.assertEqual(rows[0][1][0], q["STORAGE"][0] * 1024.0, user)
            self.assertEqual(c.value(i("email_count", "%s-%s-used" % (user, ROOT))),
                             float(q["MESSAGE"][0]), user)
            limit = q["STORAGE"][1]
            got = c.value(i("bytes", "%s-%s-limit" % (user, ROOT)))
            self.assertEqual(got, None if limit is None else limit * 1024.0, user)
            messages, unseen, vsize = self.cli.mailbox(user)
            self.assertEqual(c.value(i("email_count", "%s-INBOX-messages" % user)),
                             float(messages), user)
            self.assertEqual(c.value(i("email_size", "%s-INBOX" % user)), float(vsize),
                             user)
        have = c.listval()
        self.assertEqual([x for x in have if DAVE in x and "User_quota" in x], [])
        self.assertEqual(self.lines_with(c, "refusing to credit"), [])
        quota_users = {x.split("/")[-1].split("-")[1] for x in have
                       if "/bytes-" in x and x.endswith("-used")}
        self.assertEqual(quota_users, set(users))

    # -- QuotaSeries: summaries per domain, a top N, none ----------------------
    def test_quota_series(self):
        """QuotaSeries "domain" sums what `doveadm quota get` says of each
        user per domain; "top 1" keeps only the user of highest percent;
        "none" sends no quota value; bob's WARNING is sent in each mode."""
        d = self.dovecot
        blocks = [instance_block(name, Socket=d.doveadm_socket, QuotaUsers="*",
                                 QuotaSeries=series, QuotaWarning=90,
                                 CollectStats=False, CollectWho=False)
                  for name, series in (("dom", "domain"), ("top", "top 1"),
                                       ("none", "none"))]
        c = self.collectd(dovecot_block(*blocks))
        users = (ALICE, BOB, CAROL, ERIN)   # dave's quota cannot be read
        q = {u: self.cli.quota(u) for u in users}
        want = {}
        for u in users:
            dom = "@" + u.split("@")[1]
            for typ, res, vtype, scale in (("STORAGE", "storage", "bytes", 1024.0),
                                           ("MESSAGE", "messages", "email_count", 1.0)):
                value, limit, pct = q[u][typ]
                w = want.setdefault((dom, res, vtype), [0, 0, 0.0, 0.0, None, 0])
                w[0] += 1
                w[2] += value * scale
                if limit is not None:
                    w[1] += pct >= 90
                    w[3] += limit * scale
                    w[4] = max(w[4] or 0, min(pct, 100))
                    w[5] += 1
        i = lambda t, ti: identifier("dom", t, ti)  # noqa: E731
        # Every value awaited, not only the first of a read: the cache gets a
        # read's values one by one (slowly under valgrind).
        expected = [identifier("top", "percent", "%s-%s-storage" % (BOB, ROOT)),
                    identifier("top", "bool", "up"), identifier("none", "bool", "up")]
        for (dom, res, vtype), (n, warn, used, limit, pct, limited) in want.items():
            pre = "%s-%s-" % (dom, ROOT)
            expected += [i("count", pre + res + "_users"), i("count", pre + res + "_warning"),
                         i(vtype, pre + "used")]
            expected += [i(vtype, pre + "limit")] if limited else []
            expected += [i("percent", pre + res)] if pct is not None else []
        c.wait_values(expected, timeout=WAIT)
        for (dom, res, vtype), (n, warn, used, limit, pct, limited) in want.items():
            pre = "%s-%s-" % (dom, ROOT)
            self.assertEqual(c.value(i("count", pre + res + "_users")), float(n))
            self.assertEqual(c.value(i("count", pre + res + "_warning")), float(warn))
            self.assertEqual(c.value(i(vtype, pre + "used")), used, (dom, res))
            self.assertEqual(c.value(i(vtype, pre + "limit")),
                             limit if limited else None, (dom, res))
            self.assertEqual(c.value(i("percent", pre + res)),
                             None if pct is None else float(pct), (dom, res))
        have = c.listval()
        per_user = [x for x in have if "/dovecot-dom/" in x and "@" in x.split("/")[-1]
                    and not x.split("/")[-1].split("-", 1)[1].startswith("@")]
        self.assertEqual(per_user, [])
        # top 1: bob (93%) has the highest percent of all
        top = {x.split("/")[-1].split("-")[1] for x in have if "/dovecot-top/" in x
               and "-%s-" % ROOT in x}
        self.assertEqual(top, {BOB})
        self.assertEqual([x for x in have if "/dovecot-none/" in x
                          and ROOT in x], [])
        c.wait_for(lambda: len([n for n in c.notifications(plugin="dovecot")
                                if BOB in n.get("type_instance", "")]) == 3, WAIT,
                   what="bob's WARNING from each instance")
        notes = [n for n in c.notifications(plugin="dovecot")
                 if BOB in n.get("type_instance", "")]
        self.assertEqual(sorted(n["plugin_instance"] for n in notes),
                         ["dom", "none", "top"])
        self.assertEqual({n["severity"] for n in notes}, {"WARNING"})

    # -- quota notifications: once per crossing -----------------------------
    def test_quota_warning_once(self):
        d = self.dovecot
        c = self.collectd(dovecot_block("warn", Socket=d.doveadm_socket,
                                        QuotaUser=[ALICE, BOB], QuotaWarning=90,
                                        CollectStats=False, CollectWho=False))
        up = identifier("warn", "bool", "up")
        c.wait_values([up, identifier("warn", "percent", "%s-%s-storage" % (BOB, ROOT))],
                      timeout=WAIT)
        c.wait_reads(up, 3, timeout=WAIT)        # at least 4 reads in all
        notes = c.notifications(plugin="dovecot")
        bob = [n for n in notes if BOB in n.get("type_instance", "")]
        self.assertEqual([(n["severity"], n["type"], n["type_instance"]) for n in bob],
                         [("WARNING", "percent", "%s-%s-storage" % (BOB, ROOT))],
                         "exactly one WARNING for bob: %r" % notes)
        self.assertIn(BOB, bob[0]["message"])
        self.assertIn("%d%%" % self.cli.quota(BOB)["STORAGE"][2], bob[0]["message"])
        self.assertEqual(bob[0]["plugin_instance"], "warn")
        self.assertEqual([n for n in notes if ALICE in n.get("type_instance", "")
                          or ALICE in n.get("message", "")], [])
        self.assertEqual(len(notes), 1, notes)

    # -- server down ---------------------------------------------------------
    def test_server_down(self):
        tmp = tempfile.mkdtemp(prefix="dva-e2e-down-")
        self.addCleanup(shutil.rmtree, tmp, True)
        missing = os.path.join(tmp, "no-such-doveadm-server")
        c = self.collectd(dovecot_block("down", Socket=missing, QuotaUser=ALICE))
        up = identifier("down", "bool", "up")
        c.wait_values([up], timeout=WAIT)
        self.assertEqual(c.value(up), 0.0)
        c.wait_reads(up, 3, timeout=WAIT)
        self.assertTrue(c.running(), "collectd must keep running")
        self.assertEqual(c.value(up), 0.0)
        notes = c.notifications(plugin="dovecot")
        self.assertEqual([(n["severity"], n["plugin_instance"], n["type"]) for n in notes],
                         [("FAILURE", "down", "bool")], notes)
        self.assertIn("down", notes[0]["message"])
        errors = self.lines_with(c, 'instance "down"', "[error]")
        self.assertEqual(len(errors), 1, "one error line, not one per read:\n%s"
                         % "\n".join(errors))
        self.assertIn(missing, errors[0], "the log names the socket")
        self.assertEqual([x for x in c.listval() if "/dovecot-down/" in x
                          and not x.endswith(("/bool-up", "/duration-read"))], [])

    def test_server_restart_okay(self):
        tmp = tempfile.mkdtemp(prefix="dva-e2e-rs-")
        self.addCleanup(shutil.rmtree, tmp, True)
        users = {"zed@example.com": {"password": "zed-secret", "fields": {},
                                     "messages": []}}
        d2 = DovecotServer(base_dir=tmp, tcp=False, populate=False, users=users,
                           shared_dirs=PLUGIN_SHARED_DIRS)
        self.addCleanup(d2.stop)
        d2.start()
        c = self.collectd(dovecot_block("restart", Socket=d2.doveadm_socket,
                                        CollectStats=True, CollectWho=True))
        up = identifier("restart", "bool", "up")
        c.wait_values([up], timeout=WAIT)
        self.wait_value(c, up, 1.0)
        d2.stop()
        self.wait_value(c, up, 0.0)
        c.wait_for(lambda: c.notifications(plugin_instance="restart", severity="FAILURE"),
                   WAIT, what="FAILURE notification")
        c.wait_reads(up, 2, timeout=WAIT)
        d2.start()
        self.wait_value(c, up, 1.0)
        c.wait_for(lambda: c.notifications(plugin_instance="restart", severity="OKAY"),
                   WAIT, what="OKAY notification")
        c.wait_reads(up, 2, timeout=WAIT)
        self.assertEqual([n["severity"] for n in c.notifications(plugin_instance="restart")],
                         ["FAILURE", "OKAY"])
        self.assertEqual(c.value(up), 1.0)

    # -- configurations collectd must refuse ----------------------------------
    def test_config_refusal(self):
        secret = "refusal-secret-4e1f"
        cases = [
            ("unknown option", instance_block("bad1", Sockt="/tmp/x", Password=secret),
             ["Sockt"]),
            ("Socket with Host", instance_block("bad2", Socket="/tmp/x", Host="127.0.0.1",
                                                Password=secret), ["Socket", "Host"]),
            ("Host without a password", instance_block("bad3", Host="127.0.0.1"),
             ["Host", "password"]),
            ("bad value", instance_block("bad4", Socket="/tmp/x", Password=secret,
                                         Port="notaport"), ["Port"]),
            # a misspelt Password: its value is the secret
            ("misspelt Password", instance_block("bad5", Host="127.0.0.1", Pasword=secret),
             ["Pasword"]),
        ]
        for what, block, names in cases:
            with self.subTest(what):
                c = CollectdDaemon(dovecot_block(block), plugin_path=self.plugin, interval=1)
                self.addCleanup(c.cleanup)
                t0 = time.monotonic()
                rc, out = c.run_until_exit(timeout=15)
                self.assertIsNotNone(rc, "collectd kept running with a bad config:\n" + out)
                self.assertNotEqual(rc, 0, out)
                self.assertLess(time.monotonic() - t0, 10 * c.slow)
                lines = [line for line in out.splitlines() if "dovecot plugin" in line]
                self.assertTrue(lines, out)
                text = "\n".join(lines)
                for name in names:
                    self.assertIn(name.lower(), text.lower(), out)
                self.assertNotIn(secret, out)
                # `collectd -T` refuses it as well
                rc2, out2 = c.check_config()
                self.assertNotEqual(rc2, 0, out2)
                self.assertNotIn(secret, out2)
                if c.valgrind:      # rc 99 would hide among the refusals
                    self.assertIn("ERROR SUMMARY: 0 errors", c.valgrind_text())

    # -- LoadPlugin dovecot alone -------------------------------------------------
    def test_load_plugin_without_block(self):
        if os.path.exists(DEFAULT_SOCKET):
            self.skipTest("%s exists here" % DEFAULT_SOCKET)
        c = self.collectd("")
        up = identifier("local", "bool", "up")
        c.wait_values([up], timeout=WAIT)
        self.assertEqual(c.value(up), 0.0)
        c.wait_reads(up, 2, timeout=WAIT)
        self.assertTrue(c.running())
        self.assertEqual([n["severity"] for n in c.notifications(plugin="dovecot")],
                         ["FAILURE"])
        self.assertIn(DEFAULT_SOCKET, c.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
