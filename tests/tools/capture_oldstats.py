#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Capture `oldstats dump <scope>` replies from a real Dovecot 2.3 with the
old_stats plugin and service loaded.

    python3 tests/tools/capture_oldstats.py [--out DIR]

Starts tests/integration/dovecot_fixture.DovecotServer(old_stats=True),
opens IMAP sessions so every scope has rows, then for each scope opens a
fresh doveadm connection, sends `oldstats dump <scope>` and writes the
bytes the server sent to tests/data/captures/oldstats_<scope>.bin. Right
after, `doveadm oldstats dump <scope>` (the CLI, which prints the header
line the protocol does not carry) goes to oldstats_cli_reference.txt.
Values differ from run to run; the shapes do not. Separate from
capture_replies.py so the other captures stay untouched.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from dovecot_fixture import DovecotServer  # noqa: E402
from doveadm_wire import request as R  # noqa: E402

SCOPES = ("global", "domain", "user", "ip")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "captures"))
    args = ap.parse_args()
    with DovecotServer(old_stats=True) as d:
        a = d.imap_login("alice@example.com")
        a.select("INBOX")
        a.noop()
        b = d.imap_login("bob@example.com")
        b.select("INBOX")
        extra = []
        for scope in SCOPES:
            extra.insert(0, (R("oldstats dump", scope), "oldstats_%s.bin" % scope))
        for req, name in extra:
            with d.wire() as w:
                w.send(req)
                got = w.read_reply(timeout=15)
                more, _ = w.read_idle(idle=0.5, timeout=10)
            with open(os.path.join(args.out, name), "wb") as f:
                f.write(got + more)
            print("%s: %d bytes" % (name, len(got + more)))
        with open(os.path.join(args.out, "oldstats_cli_reference.txt"), "w") as f:
            f.write("# doveadm oldstats dump <scope> right after the captures "
                    "(Dovecot %s, old_stats plugin)\n" % d.version)
            for scope in SCOPES:
                f.write("$ doveadm oldstats dump %s\n" % scope)
                f.write(d.doveadm("oldstats", "dump", scope))
                f.write("\n")


if __name__ == "__main__":
    main()
