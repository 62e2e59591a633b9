#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The demo: a real private Dovecot with sample users and mail, a little
IMAP traffic, and a real collectd that reads it through dovecot.so; shows
what collectd holds (collectdctl getval), refreshed every --refresh
seconds, until Ctrl-C or --duration seconds.  collectd's rrdtool plugin
stores the values too; when the demo ends, PNG graphs are drawn from those
RRD files (scripts/demo_graphs.py) into a directory that is kept.  Run as
root (Dovecot's master must start as root); scripts/demo.sh builds first
and runs this.

Everything else lives in temporary directories and is stopped and removed
on exit.
"""

import argparse
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import textwrap
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from collectd_fixture import CollectdDaemon, CollectdError, dovecot_block  # noqa: E402
from dovecot_fixture import DovecotServer, make_message  # noqa: E402

import demo_graphs  # noqa: E402  (scripts/, the directory of this file)

INSTANCE = "demo"
HOST = "demo"
WIDTH = 79
QUOTA_ROOT = "User_quota"


# -- IMAP activity ------------------------------------------------------------
class Activity(threading.Thread):
    """A few IMAP commands a second from sessions of its own; now and then
    mail for carol and alice (and carol's oldest mail expunged), flags set
    and cleared, so quota, mailbox and stats values move."""

    def __init__(self, dovecot):
        super().__init__(name="imap-activity", daemon=True)
        self.d = dovecot
        self.stop_event = threading.Event()
        self.error = None
        self.rng = random.Random(2425)

    def stop(self, timeout=5.0):
        self.stop_event.set()
        self.join(timeout)

    def run(self):
        sessions = {}
        extra = []          # sessions that come and go (who, sessions graph)
        try:
            for user in ("alice@example.com", "carol@example.com", "erin@example.org"):
                s = self.d.imap_login(user, keep=False)
                s.select("INBOX")
                sessions[user] = s
            tick = 0
            while not self.stop_event.wait(self.rng.uniform(0.2, 0.8)):
                tick += 1
                user = self.rng.choice(sorted(sessions))
                s = sessions[user]
                what = self.rng.random()
                if what < 0.3:
                    s.noop()
                elif what < 0.5:
                    s.fetch("1:*", "(FLAGS RFC822.SIZE)")
                elif what < 0.65:
                    s.search(None, "UNSEEN")
                elif what < 0.8:
                    s.status("INBOX", "(MESSAGES UNSEEN)")
                else:
                    typ, data = s.search(None, "ALL")
                    ids = data[0].split() if typ == "OK" and data and data[0] else []
                    if ids:
                        flag = "+FLAGS" if self.rng.random() < 0.5 else "-FLAGS"
                        s.store(self.rng.choice(ids).decode(), flag, "\\Seen")
                if tick % 8 == 0:
                    self._deliver(sessions)
                if tick % 5 == 0:
                    self._churn(extra)
        except Exception as e:      # shown in the frame; the demo goes on
            if not self.stop_event.is_set():
                self.error = "%s: %s" % (type(e).__name__, e)
        finally:
            for s in list(sessions.values()) + extra:
                try:
                    s.logout()
                except Exception:
                    pass

    def _churn(self, extra):
        """One more session (up to four), or one fewer."""
        if len(extra) < 4 and (not extra or self.rng.random() < 0.55):
            user = self.rng.choice(["bob@example.com", "carol@example.com",
                                    "erin@example.org"])
            extra.append(self.d.imap_login(user, keep=False))
        else:
            extra.pop(self.rng.randrange(len(extra))).logout()

    def _deliver(self, sessions):
        user = self.rng.choice(["carol@example.com", "carol@example.com",
                                "alice@example.com"])
        s = sessions[user]
        msg = make_message(self.rng.randrange(1500, 6000), "demo mail", to=user)
        s.append("INBOX", None, None, msg)
        if user == "carol@example.com":
            typ, data = s.search(None, "ALL")
            ids = data[0].split() if typ == "OK" and data and data[0] else []
            if len(ids) > 12:
                s.store(b",".join(ids[:4]).decode(), "+FLAGS", "\\Deleted")
                s.expunge()


# -- formatting -----------------------------------------------------------------
def human(n):
    """Bytes in binary units: "512 B", "29.0 KiB", "10.0 MiB"."""
    if n is None:
        return "-"
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return "%d B" % n if unit == "B" else "%.1f %s" % (n, unit)
        n /= 1024.0


def num(v, fmt="%d"):
    if v is None:
        return "-"
    if v != v:          # NaN: a DERIVE's first read has no rate yet
        return "..."
    return fmt % v


def fit(line):
    return line if len(line) <= WIDTH else line[:WIDTH - 3] + "..."


class Frame:
    """Reads what collectd holds and renders one screen."""

    def __init__(self, collectd, dovecot, activity, args):
        self.c = collectd
        self.d = dovecot
        self.activity = activity
        self.args = args
        self.prefix = "%s/dovecot-%s/" % (HOST, INSTANCE)
        self.started = time.monotonic()

    def get(self, ti):
        v = self.c.getval(self.prefix + ti)
        return next(iter(v.values())) if v else None

    def render(self):
        now = time.strftime("%H:%M:%S")
        elapsed = time.monotonic() - self.started
        out = []
        a = out.append
        left = ""
        if self.args.duration:
            left = "  %ds left" % max(0, self.args.duration - elapsed)
        a(fit("collectd-dovecot demo  %s  up %ds%s  (Ctrl-C ends)" % (now, elapsed, left)))
        a(fit("Dovecot %s, socket %s" % (self.d.version.split()[0], self.d.doveadm_socket)))
        a(fit("collectd pid %d, Interval %g s; see for yourself:"
              % (self.c.pid, self.args.interval)))
        a(fit("  collectdctl -s %s listval" % self.c.socket_path))
        if self.args.graphs:
            a(fit("graphs: PNGs into %s when the demo ends" % self.args.graphs))
        try:
            ids = [x for x in self.c.listval() if x.startswith(self.prefix)]
        except CollectdError as e:
            a("")
            a(fit("collectd is not answering: %s" % e))
            return out
        names = [x[len(self.prefix):] for x in ids]
        a("=" * WIDTH)
        if not names:
            a("(waiting for the first read)")
            return out
        self._server(a, names)
        self._quota(a, names)
        self._stats(a, names)
        self._notifications(a)
        if self.activity.error:
            a(fit("IMAP activity stopped: %s" % self.activity.error))
        return out

    def _server(self, a, names):
        def cell(ti, fmt="%d"):
            name, val = "dovecot-demo/" + ti, num(self.get(ti), fmt)
            return name + " " * max(1, 38 - len(name) - len(val)) + val
        a(fit(cell("bool-up") + "   " + cell("duration-read", "%.3f")))
        services = sorted(n[len("users-"):] for n in names if n.startswith("users-"))
        for svc in [None] + services:
            suffix = "-" + svc if svc else ""
            a(fit(cell("users" + suffix) + "   " + cell("current_sessions" + suffix)))

    def _quota(self, a, names):
        users = set()
        for n in names:
            m = re.match(r"(?:bytes|email_count|percent|email_size)-([^-]+@[^-]+)-", n + "-")
            if m:
                users.add(m.group(1))
        a("")
        a("%-18s %-26s %-13s %13s" % ("quota (User quota)", "  storage used / limit   %",
                                      "   messages", "INBOX  unseen"))
        for user in sorted(users):
            q = "%s-%s-" % (user, QUOTA_ROOT)
            used = self.get("bytes-" + q + "used")
            inbox = "%6s %6s" % (num(self.get("email_count-%s-INBOX-messages" % user)),
                                 num(self.get("email_count-%s-INBOX-unseen" % user)))
            if used is None:
                a(fit("%-18s %-40s %s" % (user, "  (quota not readable: see below)", inbox)))
                continue
            pct = self.get("percent-" + q + "storage")
            mark = "!" if pct is not None and pct >= 90 else " "
            storage = "%9s / %9s %4s%s" % (human(used),
                                           human(self.get("bytes-" + q + "limit")),
                                           num(pct), mark)
            msgs = "%5s / %-5s" % (num(self.get("email_count-" + q + "used")),
                                   num(self.get("email_count-" + q + "limit")))
            a(fit("%-18s %-26s %-13s %s" % (user, storage, msgs, inbox)))

    def _stats(self, a, names):
        metrics = sorted(n[len("derive-"):] for n in names
                         if n.startswith("derive-") and not n.endswith("sum_us")
                         and not n.endswith("-sum"))
        a("")
        a("%-30s %8s %9s %11s %11s" % ("stats dump (derive-<metric>)", "total", "per s",
                                       "avg us", "p95 us"))
        rows = []
        for m in metrics:
            total = self.c.csv_last(self.prefix + "derive-" + m)
            rows.append((m, total))
        shown = rows[:self.args.max_stats]
        for m, total in shown:
            a(fit("%-30s %8s %9s %11s %11s" % (
                m, num(total), num(self.get("derive-" + m), "%.2f"),
                num(self.get("gauge-%s-avg_us" % m), "%.0f"),
                num(self.get("gauge-%s-p95_us" % m), "%.0f"))))
        if len(rows) > len(shown):
            a("  (%d more metrics: collectdctl listval)" % (len(rows) - len(shown)))

    def _notifications(self, a):
        notes = self.c.notifications(plugin="dovecot")
        a("")
        a("notifications (%d, newest last) and plugin warnings" % len(notes))
        items = []
        for n in notes:
            t = n.get("time", "")[-8:]
            items.append("%s %s %s: %s" % (t, n["severity"], n.get("type_instance", ""),
                                           n.get("message", "")))
        for line in self.c.log_lines():
            m = re.match(r"^\[[^\]]*?(\d\d:\d\d:\d\d)\] \[(warning|error)\] dovecot plugin: "
                         r"(?:instance \"[^\"]*\": )?(.*)$", line)
            if m:
                items.append("%s %s %s" % (m.group(1), m.group(2).upper(), m.group(3)))
        items.sort(key=lambda s: s[:8])
        if not items:
            a("  (none yet)")
        for item in items[-self.args.max_notes:]:
            lines = textwrap.wrap(item, WIDTH - 2, subsequent_indent="         ",
                                  break_on_hyphens=False)
            if len(lines) > 3:
                lines = lines[:3]
                lines[2] = lines[2][:WIDTH - 2 - 3] + "..."
            for line in lines:
                a("  " + line)


# -- main -----------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=0,
                   help="stop after SECONDS (default: until Ctrl-C)")
    p.add_argument("--interval", type=float, default=2.0,
                   help="collectd's Interval in seconds (default 2)")
    p.add_argument("--refresh", type=float, default=2.0,
                   help="seconds between two screens (default 2)")
    p.add_argument("--plugin", default=os.path.join(ROOT, "build", "plugin", "dovecot.so"),
                   help="the dovecot.so to load (default build/plugin/dovecot.so)")
    p.add_argument("--no-clear", action="store_true",
                   help="print screens one after the other instead of redrawing "
                        "(the default when stdout is not a terminal)")
    p.add_argument("--graphs", metavar="DIR",
                   help="where to draw the PNG graphs when the demo ends (default: a "
                        "new /tmp/collectd-dovecot-graphs-* directory, kept)")
    p.add_argument("--no-graphs", action="store_true",
                   help="no rrdtool plugin, no graphs")
    p.add_argument("--max-stats", type=int, default=10)
    p.add_argument("--max-notes", type=int, default=5)
    return p.parse_args(argv)


class Stop(Exception):
    pass


def draw_graphs(rrd_dir, args, start):
    """The PNGs of scripts/demo_graphs.py from this run's RRD files."""
    end = int(time.time())
    if end - start < 3 * args.interval:
        print("graphs: not drawn, the demo ran for less than 3 intervals")
        return
    try:
        paths = demo_graphs.render(os.path.join(rrd_dir, HOST, "dovecot-" + INSTANCE),
                                   args.graphs, start, end)
    except demo_graphs.GraphError as e:
        print("graphs: %s" % e)
        return
    print("graphs (%d s of values, rrdtool):" % (end - start))
    for p in paths:
        print("  " + p)


def main(argv=None):
    args = parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("demo.py: run as root (Dovecot's master starts as root); "
                 "scripts/demo.sh does that with sudo")
    if not os.path.isfile(args.plugin):
        sys.exit("demo.py: %s not found: build it first (scripts/demo.sh does)" % args.plugin)

    def on_term(signum, frame):
        raise Stop()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    clear = sys.stdout.isatty() and not args.no_clear
    dovecot = collectd = activity = rrd_dir = graph_start = None
    held = []
    code = 0
    try:
        print("starting a private Dovecot with sample users and mail ...", flush=True)
        dovecot = DovecotServer(tcp=False)
        dovecot.start()
        # sessions that stay logged in (they show in `who`)
        for user in ("alice@example.com", "alice@example.com", "bob@example.com"):
            held.append(dovecot.imap_login(user))
        held[0].select("INBOX")
        activity = Activity(dovecot)
        activity.start()

        block = dovecot_block(INSTANCE, Socket=dovecot.doveadm_socket, CollectStats=True,
                              CollectWho=True, CollectQuota=True, QuotaUsers="*",
                              CollectMailbox=True, Mailbox="INBOX", QuotaWarning=90)
        extra_plugins, extra_config = (), ""
        if not args.no_graphs:
            if not args.graphs:
                args.graphs = tempfile.mkdtemp(prefix="collectd-dovecot-graphs-")
            os.makedirs(args.graphs, exist_ok=True)
            os.chmod(args.graphs, 0o755)
            # the RRD files (~20 MB) go when the demo ends, the PNGs stay
            rrd_dir = tempfile.mkdtemp(prefix="collectd-dovecot-rrd-")
            extra_plugins = ("rrdtool",)
            extra_config = '<Plugin rrdtool>\n  DataDir "%s"\n</Plugin>' % rrd_dir
        print("starting collectd with %s ..." % args.plugin, flush=True)
        collectd = CollectdDaemon(block, plugin_path=args.plugin, interval=args.interval,
                                  hostname=HOST, new_session=True,
                                  extra_plugins=extra_plugins, extra_config=extra_config)
        collectd.start()
        graph_start = int(time.time())
        frame = Frame(collectd, dovecot, activity, args)
        end = time.monotonic() + args.duration if args.duration else None
        while True:
            t0 = time.monotonic()
            lines = frame.render()
            text = "\n".join(lines)
            if clear:
                sys.stdout.write("\033[H\033[2J" + text + "\n")
            else:
                sys.stdout.write(text + "\n" + "-" * WIDTH + "\n")
            sys.stdout.flush()
            if not collectd.running():
                print("collectd exited (%s); its log:\n%s"
                      % (collectd.proc.returncode if collectd.proc else "?",
                         collectd.log_tail()))
                code = 1
                break
            now = time.monotonic()
            if end is not None and now >= end:
                break
            pause = max(0.0, args.refresh - (now - t0))
            if end is not None:
                pause = min(pause, max(0.0, end - now))
            time.sleep(pause)      # the display's pace, not synchronisation
    except (KeyboardInterrupt, Stop):
        print("\ninterrupted")
    finally:
        # a second Ctrl-C must not leave anything running
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("stopping ...", flush=True)
        if activity is not None:
            activity.stop()
        if collectd is not None:
            try:
                rc = collectd.stop()
                print("collectd stopped (exit code %s)" % rc)
            except CollectdError as e:
                print("collectd: %s" % e)
                code = 1
            collectd.cleanup()
        if rrd_dir is not None:
            if graph_start is not None:       # collectd ran (and has stopped)
                draw_graphs(rrd_dir, args, graph_start)
            shutil.rmtree(rrd_dir, ignore_errors=True)
        for s in held:
            try:
                s.logout()
            except Exception:
                pass
        if dovecot is not None:
            dovecot.stop()
            print("Dovecot stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
