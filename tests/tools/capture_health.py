#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Capture the replies of the server-health commands from a real Dovecot.

    python3 tests/tools/capture_health.py --generation 2.3|2.4 [--out DIR]

Starts tests/integration/dovecot_fixture.DovecotServer of that generation
(imap process_limit 2, so a service can be driven to its limit), and for
each capture opens a fresh doveadm connection over the UNIX socket, sends
one request as its first command (PROTOCOL.md 6.1) and writes every byte
the server sent back to DIR/<name>.bin (default
tests/data/captures/health/<generation>/).  Also writes README.md (the
requests) and cli_reference.txt (the doveadm CLI's answers right after).
Re-runnable: every run regenerates the files (pids and counts differ).
"""

import argparse
import datetime
import imaplib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from dovecot_fixture import DovecotServer  # noqa: E402
from doveadm_wire import request as R  # noqa: E402

EXTRA = {"2.3": "service imap {\n  process_limit = 2\n}\n",
         "2.4": "service imap {\n  process_limit = 2\n}\n"}


def show(data):
    return "".join("\\t" if c == 9 else "\\n" if c == 10 else "\\x7c" if c == 0x7C
                   else chr(c) if 0x20 <= c < 0x7F else "\\x%02x" % c for c in data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--generation", required=True, choices=["2.3", "2.4"])
    ap.add_argument("--out")
    a = ap.parse_args()
    out = a.out or os.path.join(REPO, "tests", "data", "captures", "health", a.generation)
    os.makedirs(out, exist_ok=True)
    rows = []
    with DovecotServer(generation=a.generation, extra_config=EXTRA) as d:
        def cap(name, req, what):
            w = d.wire("unix")
            try:
                w.send(req)
                got = w.read_reply(timeout=15)
                more, _ = w.read_idle(idle=0.5, timeout=5)
                got += more
            finally:
                w.close()
            with open(os.path.join(out, name), "wb") as f:
                f.write(got)
            rows.append((name, req, len(got), what))
            return got

        s1 = d.imap_login("alice@example.com")
        s1.select("INBOX")
        s2 = d.imap_login("bob@example.com")
        s2.select("INBOX")
        cap("service_status.bin", R("service status"),
            "`service status`: 13 values per service; imap has process_limit 2 "
            "and two sessions (at its limit)")
        cap("process_status.bin", R("process status"),
            "`process status`: 7 values per process")
        cap("indexer_list_empty.bin", R("indexer list"),
            "`indexer list` with nothing queued")
        cap("penalty_empty.bin", R("penalty"), "`penalty` with no penalised IP")
        # failed logins give 127.0.0.1 an auth penalty
        for _ in range(2):
            try:
                x = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=20)
                try:
                    x.login("alice@example.com", "wrong")
                except imaplib.IMAP4.error:
                    pass
                x.shutdown()
            except Exception as e:
                print("failed login:", e)
        cap("penalty.bin", R("penalty"), "`penalty` after two failed IMAP logins")
        d.doveadm("index", "-u", "alice@example.com", "-q", "INBOX", check=False)
        d.doveadm("index", "-u", "bob@example.com", "-q", "*", check=False)
        cap("indexer_list.bin", R("indexer list"),
            "`indexer list` right after two `doveadm index -q` (may be empty again)")
        ref = []
        for args in (["service", "status"], ["process", "status"], ["indexer", "list"],
                     ["penalty"]):
            r = d.doveadm_run("-f", "tab", *args)
            ref.append("$ doveadm -f tab %s  (exit %d)\n%s%s\n" % (
                " ".join(args), r.returncode, r.stdout, r.stderr))
        with open(os.path.join(out, "cli_reference.txt"), "w") as f:
            f.write("".join(ref).replace(d.root_dir, "<FIXTURE_DIR>"))
        version = d.version
    if a.generation == "2.4":
        # A queue that stays: the indexer's worker is a process that never
        # indexes, so the first request stays "working", the next "queued".
        stalled = "service indexer-worker {\n  executable = /bin/sleep 600\n}\n"
        with DovecotServer(generation="2.4", extra_config=stalled) as d:
            for u in ("alice@example.com", "bob@example.com"):
                d.doveadm("index", "-u", u, "-q", "INBOX")
            time.sleep(1)
            cap("indexer_list_queued.bin", R("indexer list"),
                "`indexer list` with two requests held (indexer-worker replaced by "
                "`/bin/sleep 600`): one working, one queued")
            r = d.doveadm_run("-f", "tab", "indexer", "list")
            with open(os.path.join(out, "cli_reference.txt"), "a") as f:
                f.write("$ doveadm -f tab indexer list  (stalled worker, exit %d)\n%s\n"
                        % (r.returncode, r.stdout))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("# Server-health replies of a real Dovecot %s\n\n" % version)
        f.write("Generated by `python3 tests/tools/capture_health.py --generation %s` "
                "on %s UTC; do not edit by hand. Each `.bin` holds every byte the "
                "server sent after the request (UNIX socket, handshake not "
                "included, fresh connection, the request its first command).\n\n"
                % (a.generation, datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")))
        f.write("| file | request | bytes | what |\n|---|---|---|---|\n")
        for name, req, n, what in rows:
            f.write("| `%s` | `%s` | %d | %s |\n" % (name, show(req), n, what))
    print("wrote %d captures to %s" % (len(rows), out))


if __name__ == "__main__":
    main()
