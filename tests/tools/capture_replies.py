#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Capture exact doveadm-server reply bytes from a real, private Dovecot.

    python3 tests/tools/capture_replies.py [--out DIR] [--keep]

Starts tests/integration/dovecot_fixture.DovecotServer, opens IMAP sessions
(alice twice, bob once, all kept open; carol logs in and out again), runs a
few IMAP commands so the stats have data, then for every capture opens a
fresh doveadm connection, sends the request bytes and writes what the
server sent back, byte for byte, to tests/data/captures/<name>.bin.  Also
writes tests/data/captures/README.md (the table of captures) and
cli_reference.txt (the doveadm CLI answers for the same queries, taken
right after the captures).  Dovecot is always stopped at the end.

Re-runnable: every run regenerates all files (pids, timings and stats
values differ from run to run; the shapes do not).
"""

import argparse
import datetime
import os
import re
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from dovecot_fixture import DovecotServer, DovecotError  # noqa: E402
import doveadm_wire as W  # noqa: E402
from doveadm_wire import request as R  # noqa: E402

DEFAULT_OUT = os.path.join(REPO, "tests", "data", "captures")
STATS_FIELDS = "count,sum,min,max,avg,median,stddev,%95"
MB_FIELDS = "messages unseen vsize"
IDLE = 0.5          # seconds of silence after the last expected status
HAZARD_IDLE = 1.5   # same, for hazard captures


def show(data):
    """Bytes as a C/Python-like escaped string for the README."""
    out = []
    for c in data:
        if c == 0x09:
            out.append("\\t")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x0D:
            out.append("\\r")
        elif c == 0x5C:
            out.append("\\\\")
        elif c == 0x7C:
            out.append("\\x7c")       # keep markdown tables intact
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def status_lines(data):
    """Every line of a capture that starts with + or - (a status line
    candidate), with its byte offset.  Data values never contain raw LF,
    so a status line is a line right after an LF."""
    res = []
    pos = 0
    for line in data.split(b"\n")[:-1]:
        if line[:1] in (b"+", b"-") and (pos == 0 or data[pos - 1:pos] == b"\n"):
            res.append((pos, line))
        pos += len(line) + 1
    return res


class Capturer:
    def __init__(self, d, out_dir):
        self.d = d
        self.out = out_dir
        self.rows = []      # README rows

    def _write(self, name, data):
        with open(os.path.join(self.out, name), "wb") as f:
            f.write(data)

    def _row(self, name, transport, requests, what, data, note):
        self.rows.append({"name": name, "transport": transport,
                          "requests": requests, "what": what,
                          "size": len(data), "note": note})

    def reply(self, name, requests, what, transport="unix", replies=None,
              until_eof=False, idle=IDLE):
        """Fresh connection (+ auth), send all `requests` in ONE write, then
        read `replies` complete replies (default: one per request) and
        whatever else arrives until EOF or `idle` seconds of silence.
        Writes every byte received after the request(s)."""
        if isinstance(requests, bytes):
            requests = [requests]
        w = self.d.wire(transport)
        try:
            w.send(b"".join(requests))
            got = b""
            n = len(requests) if replies is None else replies
            for _ in range(n):
                if w.eof and not w.buf:
                    break
                got += w.read_reply(timeout=15)
            if until_eof:
                more, eof = w.read_until_eof(timeout=10)
            else:
                more, eof = w.read_idle(idle=idle, timeout=10)
            got += more
        finally:
            w.close()
        self._write(name, got)
        sts = status_lines(got)
        note = "status lines: %s" % (", ".join("`%s`@%d" % (show(l), o) for o, l in sts)
                                     or "none")
        last = sts[-1][0] + len(sts[-1][1]) + 1 if sts else 0
        if sts and last < len(got):
            note += "; %d byte(s) after the last status line" % (len(got) - last)
        note += "; EOF seen" if eof else "; connection still open (idle %.1fs)" % idle
        self._row(name, transport, requests, what, got, note)
        return got

    def sequential(self, name, steps, what, transport="unix"):
        """Fresh connection; for each (request, expect_reply) send the
        request and read one reply; after the last step read until EOF
        (bounded).  The file holds every byte received after the first
        request."""
        w = self.d.wire(transport)
        got = b""
        try:
            for req, _ in steps:
                w.send(req)
                if w.eof:
                    break
                try:
                    got += w.read_reply(timeout=10)
                except W.WireError:
                    pass
            more, eof = w.read_until_eof(timeout=5)
            got += more
        finally:
            w.close()
        self._write(name, got)
        sts = status_lines(got)
        note = "status lines: %s" % (", ".join("`%s`@%d" % (show(l), o) for o, l in sts)
                                     or "none")
        note += "; EOF seen" if eof else "; no EOF within 5s"
        self._row(name, transport, [r for r, _ in steps], what, got, note)
        return got

    def handshake(self, name, transport, version_line, password, what):
        """Everything the server sends from connect on, while the client
        sends `version_line` and then (if not None) a PLAIN auth line,
        until the exchange ends or EOF."""
        if transport == "unix":
            w = W.DoveadmWire.unix(self.d.doveadm_socket)
        else:
            w = W.DoveadmWire.tcp("127.0.0.1", self.d.doveadm_port)
        sent = [version_line]
        try:
            w.send(version_line)
            try:
                got = w.read_line(timeout=5)
            except W.WireError:
                got = b""
            if password is not None and got == b"-\n":
                al = W.auth_line(password)
                sent.append(al)
                w.send(al)
                got += w.read_line(timeout=5)
            more, eof = w.read_idle(idle=IDLE, timeout=5)
            got += more
        finally:
            w.close()
        self._write(name, got)
        note = "EOF seen" if eof else "connection still open after %.1fs idle" % IDLE
        self._row(name, transport, sent, what, got, note)
        return got

    def write_readme(self, meta):
        lines = []
        a = lines.append
        a("# Captured doveadm-server replies (real Dovecot)")
        a("")
        a("Generated by `python3 tests/tools/capture_replies.py` (re-run to regenerate "
          "everything; do not edit by hand).")
        a("")
        a("- Dovecot: `%s` (`dovecot --version`)" % meta["version"])
        a("- Captured: %s" % meta["when"])
        a("- Server: private instance from `tests/integration/dovecot_fixture.py`, "
          "default users; IMAP sessions open during capture: alice@example.com x2, "
          "bob@example.com x1 (carol logged in and out before).")
        a("- Handshake for every capture: `VERSION\\tdoveadm-server\\t1\\t0\\n` "
          "(protocol 1.0, no multiplexing). `unix` = `$base_dir/doveadm-server` "
          "(mode 0600, server answers `+\\n`, no auth); `tcp` = 127.0.0.1 listener, "
          "server answers `-\\n`, client sends `PLAIN\\t<base64(\\0doveadm\\0pw)>\\n`, "
          "server `+\\n`. These handshake bytes are NOT in the `.bin` files except "
          "for `auth_*`/`version_bad*`.")
        a("- Each `.bin` holds every byte the server sent after the request line(s) "
          "(one fresh connection per file, all requests sent in one write), up to "
          "and including the final status line, plus anything that arrived until "
          "EOF or %.1f s of silence (%.1f s for hazards). Nothing is unescaped." % (IDLE, HAZARD_IDLE))
        a("- Requests are shown escaped: `\\t` TAB, `\\n` LF. Fields are tab-escaped "
          "per PROTOCOL.md section 5 (none of these requests needs it).")
        a("")
        a("| file | transport | request bytes sent | bytes | demonstrates | observed |")
        a("|---|---|---|---|---|---|")
        for r in self.rows:
            req = "<br>".join("`PLAIN\\t<base64(\\0doveadm\\0%s), one line>\\n`"
                              % ("wrong password" if "bad" in r["name"] else "password")
                              if x.startswith(b"PLAIN\t") else "`%s`" % show(x)
                              for x in r["requests"])
            a("| `%s` | %s | %s | %d | %s | %s |" % (r["name"], r["transport"], req,
                                                  r["size"], r["what"], r["note"]))
        a("")
        a("## Findings (this run, checked against /work/shared/PROTOCOL.md)")
        a("")
        for f in meta["findings"]:
            a("- " + f)
        a("")
        with open(os.path.join(self.out, "README.md"), "w") as f:
            f.write("\n".join(lines))


def wait_who(d, expect, timeout=10.0):
    """Poll `doveadm who` until the user->count map equals expect."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        out = d.doveadm("-f", "tab", "who", check=False)
        got = {}
        for line in out.splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) >= 2:
                got[cols[0]] = int(cols[1])
        if got == expect:
            return out
        last = got
        time.sleep(0.05)
    raise DovecotError("who never showed %r (last %r)" % (expect, last))


def cli_reference(d, path):
    cmds = [
        ["-f", "tab", "quota", "get", "-u", "alice@example.com"],
        ["-f", "tab", "quota", "get", "-u", "bob@example.com"],
        ["-f", "tab", "quota", "get", "-u", "carol@example.com"],
        ["-f", "tab", "quota", "get", "-u", "dave@example.com"],
        ["-f", "tab", "quota", "get", "-u", "nosuchuser@example.com"],
        ["-f", "tab", "quota", "get", "-A"],
        ["-f", "tab", "who"],
        ["-f", "tab", "who", "-1"],
        ["-f", "tab", "stats", "dump"],
        ["-f", "tab", "stats", "dump", "-f", STATS_FIELDS],
        ["-f", "tab", "stats", "dump", "-f", "count,p95"],
        ["-f", "tab", "mailbox", "status", "-u", "alice@example.com", MB_FIELDS, "*"],
        ["-f", "tab", "mailbox", "status", "-A", MB_FIELDS, "*"],
        ["-f", "tab", "user", "*"],
        ["user", "*"],
        ["-f", "flow", "who"],
    ]
    out = []
    out.append("# doveadm CLI answers at capture time (Dovecot %s)\n" % d.version)
    out.append("# Each block: command line, exit code, stdout verbatim, stderr.\n")
    out.append("# CONF = the fixture's generated dovecot.conf (temp dir).\n\n")
    for c in cmds:
        r = d.doveadm_run(*c)
        shown = " ".join(("'%s'" % x) if (" " in x or "*" in x or "%" in x) else x for x in c)
        out.append("$ doveadm -c CONF %s\n" % shown)
        out.append("# exit code: %d\n" % r.returncode)
        out.append(r.stdout)
        if not r.stdout.endswith("\n") and r.stdout:
            out.append("\n# (no newline at end of stdout)\n")
        if r.stderr.strip():
            out.append("# stderr:\n")
            out.extend("#   %s\n" % l for l in r.stderr.rstrip("\n").split("\n"))
        out.append("\n")
    text = "".join(out).replace(d.root_dir, "<FIXTURE_DIR>")
    with open(path, "w") as f:
        f.write(text)


def run(out_dir, keep):
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(out_dir):
        if name.endswith(".bin"):
            os.unlink(os.path.join(out_dir, name))
    findings = []
    with DovecotServer(keep_dir=keep) as d:
        print("dovecot %s started in %.2fs in %s" % (d.version, d.start_seconds, d.root_dir))
        # --- sessions and IMAP activity so `who` and stats have data -------
        a1 = d.imap_login("alice@example.com")
        a1.select("INBOX")
        a1.fetch("1:*", "(FLAGS RFC822.SIZE)")
        a1.noop()
        a2 = d.imap_login("alice@example.com")
        a2.select("INBOX", readonly=True)
        a2.noop()
        b1 = d.imap_login("bob@example.com")
        b1.select("INBOX")
        b1.fetch("1", "(BODY.PEEK[HEADER])")
        b1.noop()
        c1 = d.imap_login("carol@example.com", keep=False)
        c1.select("INBOX")
        c1.noop()
        c1.logout()
        wait_who(d, {"alice@example.com": 2, "bob@example.com": 1})

        c = Capturer(d, out_dir)
        alice, bob, carol, dave = ("alice@example.com", "bob@example.com",
                                   "carol@example.com", "dave@example.com")

        # --- server-wide commands, each the first on a fresh connection -----
        c.reply("stats_dump.bin", R("stats dump", "-f", STATS_FIELDS),
                "`stats dump` with pinned columns: metric_name, field, then the 8 "
                "requested fields = 10 values per row, every value followed by TAB")
        c.reply("stats_dump_default.bin", R("stats dump"),
                "`stats dump` without -f: default fields (same 10 columns as above)")
        c.reply("who.bin", R("who"),
                "`who`: 5 values per row (user, count, service, (pids), (ips))")
        c.reply("who_1.bin", R("who", "-1"),
                "`who -1`: 4 values per row (user, service, pid, ip), one row per connection")
        c.reply("user_list.bin", R("user", "*"),
                "`user *`: one JSON value `{\"userList\":[...]}` then `\\n+\\n`")
        c.reply("unknown_command.bin", R("nosuchcommand"),
                "unknown command: bare `-` status")

        # --- mail commands -------------------------------------------------
        c.reply("quota_alice.bin", R("quota get", "-A", user=alice),
                "`quota get -A`: 6 values per row (username + root, type, value, "
                "limit, percent); STORAGE in KiB; 10M limit")
        c.reply("quota_bob.bin", R("quota get", "-A", user=bob),
                "bob: 100k storage limit filled to > 90 %")
        c.reply("quota_carol.bin", R("quota get", "-A", user=carol),
                "carol: no limits: limit `-`, percent `0`")
        c.reply("quota_dave.bin", R("quota get", "-A", user=dave),
                "dave: broken quota backend (dict over a missing proxy socket): "
                "rows with `error` in value, limit, percent, AND a failure status "
                "`-TEMPFAIL` (data before a failure status)")
        c.reply("quota_nouser.bin", R("quota get", "-A", user="nosuchuser@example.com"),
                "user that does not exist: empty failure `\\n-NOUSER\\n`")
        c.reply("mailbox_status_alice.bin",
                R("mailbox status", "-A", MB_FIELDS, "*", user=alice),
                "`mailbox status -A`: the field names are ONE argument "
                "(space separated); values: username, mailbox, messages, unseen, vsize")
        c.reply("pipelined_quota.bin",
                [R("quota get", "-A", user=alice), R("quota get", "-A", user=bob),
                 R("quota get", "-A", user=carol)],
                "three `quota get -A` pipelined in one write on one connection: "
                "three complete replies, in order")

        # --- handshakes ----------------------------------------------------
        if d.doveadm_port:
            c.handshake("auth_ok_tcp.bin", "tcp", W.VERSION_LINE, d.password,
                        "TCP handshake + correct PLAIN auth: server sends `-\\n` after "
                        "VERSION, then `+\\n` after PLAIN")
            c.handshake("auth_bad_tcp.bin", "tcp", W.VERSION_LINE, "wrong-" + d.password,
                        "wrong password: `-\\n` then `-\\n`, then the server closes")
            c.handshake("version_bad.bin", "tcp", b"VERSION\tdoveadm-server\t9\t0\n", None,
                        "wrong major version: the server closes without sending anything")
        c.handshake("version_bad_unix.bin", "unix", b"VERSION\tdoveadm-server\t9\t0\n", None,
                    "same over the UNIX socket: nothing, then EOF (the `+` greeting "
                    "is only sent after a valid VERSION line)")

        # --- hazards -------------------------------------------------------
        hz1 = c.reply("hazard_who_then_who1.bin", [R("who"), R("who", "-1")],
                      "PROTOCOL 6.1: `who` then `who -1` pipelined on one connection: "
                      "part of `who -1`'s rows arrives AFTER its `\\n+\\n`",
                      replies=2, idle=HAZARD_IDLE)
        hz1b = c.reply("hazard_who_then_who1_then_who.bin",
                       [R("who"), R("who", "-1"), R("who")],
                       "6.1 continued: the leftover row tail is glued to the FRONT of "
                       "the next reply (a naive reader mis-cuts the third reply)",
                       replies=3, idle=HAZARD_IDLE)
        hz2 = c.sequential("hazard_quota_then_who.bin",
                           [(R("quota get", "-A", user=alice), True), (R("who"), False)],
                           "PROTOCOL 6.2: a mail command then `who` on one connection "
                           "(request 2 sent after reply 1): the server process dies "
                           "(anvil socket permission denied): EOF, no status for `who`")
        hz3 = c.sequential("hazard_quota_then_stats.bin",
                           [(R("quota get", "-A", user=alice), True),
                            (R("stats dump", "-f", STATS_FIELDS), False)],
                           "6.2 with `stats dump` (stats-reader socket): same, EOF "
                           "without status")

        # --- extras ---------------------------------------------------------
        c.reply("quota_alice_noA.bin", R("quota get", user=alice),
                "extra: `quota get` without -A: 5 values per row, no username column")
        c.reply("quota_empty_user_A.bin", R("quota get", "-A"),
                "extra: empty username with -A: `-NOUSER` (2.3 does not iterate users)")
        c.reply("mailbox_status_split_fields.bin",
                R("mailbox status", "-A", "messages", "unseen", "vsize", "*", user=alice),
                "extra: WRONG shape, field names as separate arguments: only "
                "`messages` is a field, the rest are taken as mailbox masks")
        c.reply("mailbox_status_dave.bin",
                R("mailbox status", "-A", MB_FIELDS, "*", user=dave),
                "extra: dave has no mail directory yet: `*` matches nothing, empty "
                "success `\\n+\\n`")
        c.reply("stats_dump_badfield.bin", R("stats dump", "-f", "count,p95"),
                "extra: `-f` does not validate names: unknown `p95` gives an "
                "EMPTY value (still followed by TAB), status `+`")
        c.reply("stats_dump_badopt.bin", R("stats dump", "-x"),
                "extra: unknown option: `\\n-USAGE\\n`")
        c.reply("user_list_nomatch.bin", R("user", "*@nosuchdomain.example"),
                "extra: `user` mask matching nobody")
        c.reply("bad_flag.bin", R("who", flags="x"),
                "extra: unknown flag: server closes, no reply", until_eof=True)
        c.reply("too_few_fields.bin", [b"\twho\n"],
                "extra: fewer than 3 fields: server closes, no reply", until_eof=True)
        if d.doveadm_port:
            c.reply("who_tcp.bin", R("who"),
                    "extra: `who` over TCP (after PLAIN auth): same bytes as over UNIX",
                    transport="tcp")

        cli_reference(d, os.path.join(out_dir, "cli_reference.txt"))

        # --- findings, computed from the bytes -----------------------------
        def rd(n):
            with open(os.path.join(out_dir, n), "rb") as f:
                return f.read()

        def cols(data):
            body = data.split(b"\n", 1)[0]
            return body.count(b"\t")

        ul = rd("user_list.bin")
        findings.append("`user_list.bin`: JSON value %s followed by TAB (`%s`)."
                        % ("IS" if ul.split(b"\n")[0].endswith(b"}\t") else "is NOT",
                           show(ul[-12:])))
        first = hz1.find(b"\n+\n")
        second = hz1.find(b"\n+\n", first + 3)
        tail = hz1[second + 3:] if second >= 0 else b""
        findings.append("Hazard 6.1 %s: bytes after the second `\\n+\\n` of "
                        "`hazard_who_then_who1.bin`: `%s` (%d values)."
                        % ("REPRODUCED" if tail else "not reproduced", show(tail),
                           tail.count(b"\t")))
        findings.append("Hazard 6.2 %s: `hazard_quota_then_who.bin` = `%s`."
                        % ("REPRODUCED (EOF, no status after the quota reply)"
                           if hz2.count(b"\n+\n") == 1 and len(status_lines(hz2)) == 1
                           else "NOT as described", show(hz2)))
        findings.append("Same with `stats dump` after `quota get`: %d status line(s) "
                        "in `hazard_quota_then_stats.bin`." % len(status_lines(hz3)))
        nu = rd("quota_nouser.bin")
        findings.append("Double status line: %s (`quota_nouser.bin` = `%s`; 2.3.19 "
                        "sends one status)." % ("SEEN" if len(status_lines(nu)) > 1
                                                else "not produced", show(nu)))
        findings.append("Value counts (TABs before the end-of-data LF): stats_dump %d, "
                        "who %d, who_1 %d, quota_alice %d, quota_dave %d, "
                        "mailbox_status_alice %d."
                        % tuple(cols(rd(n)) for n in (
                            "stats_dump.bin", "who.bin", "who_1.bin", "quota_alice.bin",
                            "quota_dave.bin", "mailbox_status_alice.bin")))
        findings.append("`stats dump -f` spelling accepted: `%s` (comma separated, no "
                        "spaces needed; `%%95` is a percentile field; the CLI header "
                        "echoes the names). Unknown names are NOT rejected, they give "
                        "empty values (see `stats_dump_badfield.bin`)." % STATS_FIELDS)
        findings.append("`mailbox status` shape that works: `mailbox status` as one "
                        "field, `-A`, then ONE field holding `%s`, then the mask `*`."
                        % MB_FIELDS)
        dv = rd("quota_dave.bin")
        findings.append("dave's broken quota: %d `error` values, status line `%s` "
                        "(rows come BEFORE a failure status; the CLI exits 75 = "
                        "EX_TEMPFAIL)." % (dv.split(b"\n")[0].split(b"\t").count(b"error"),
                                           show(status_lines(dv)[-1][1]) if status_lines(dv)
                                           else "none"))
        errs = []
        with open(d.log_path, errors="replace") as f:
            for line in f:
                if ": Error: " in line or ": Fatal: " in line or ": Panic: " in line:
                    # drop the syslog-style timestamp, anonymise pids
                    msg = re.sub(r"^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d ", "", line.strip())
                    msg = re.sub(r"\(\d+\)", "(PID)", msg)
                    msg = re.sub(r"<\d+><[^>]*>", "<PID><SESSION>", msg).replace(d.root_dir, "<FIXTURE_DIR>")
                    if msg not in errs:
                        errs.append(msg)
        findings.append("Server log errors during the capture run (process name/pid "
                        "anonymised):" + "".join("\n  - `%s`" % e.replace("`", "'")
                                                  for e in errs))
        meta = {"version": d.version,
                "when": datetime.datetime.now(datetime.timezone.utc)
                .strftime("%Y-%m-%d %H:%M:%S UTC"),
                "findings": findings}
        c.write_readme(meta)
        print("wrote %d captures to %s" % (len(c.rows), out_dir))
    print("dovecot stopped in %.2fs" % d.stop_seconds)
    for f in findings:
        print(" -", f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--keep", action="store_true", help="keep the Dovecot temp dir")
    args = ap.parse_args()
    try:
        run(args.out, args.keep)
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
