#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/)
from the real Dovecot replies in tests/data/captures/*.bin.

Each seed is the capture's bytes behind the argument bytes its target reads
first (see the header comment of tests/fuzz/fuzz_<target>.c). The config
target has no capture to start from: its seeds are the configurations of the
README. Re-run after the captures change; the output is deterministic and
the old corpus is replaced.

    python3 tests/fuzz/make_corpus.py
"""
import pathlib
import shutil

HERE = pathlib.Path(__file__).resolve().parent
CAPTURES = HERE.parent / "data" / "captures"
CORPUS = HERE / "corpus"

NO_USER = b"\xff"  # fuzz_take_user(): NULL, any user
SHAPE_OK = b"\x00"  # fuzz_take_ncols(): the command's own width


def user(name):
    raw = name.encode()
    assert len(raw) < 0xFF
    return bytes([len(raw)]) + raw


def capture(name):
    return (CAPTURES / name).read_bytes()


# Row width of the (first) reply in each capture, for the reply target.
NCOLS = {
    "stats_dump.bin": 10, "stats_dump_default.bin": 10,
    "stats_dump_badfield.bin": 4, "stats_dump_badopt.bin": 0,
    "who.bin": 5, "who_tcp.bin": 5, "who_1.bin": 4,
    "hazard_who_then_who1.bin": 5, "hazard_who_then_who1_then_who.bin": 5,
    "hazard_quota_then_who.bin": 6, "hazard_quota_then_stats.bin": 6,
    "pipelined_quota.bin": 6, "quota_alice_noA.bin": 5,
    "mailbox_status_alice.bin": 5, "mailbox_status_dave.bin": 5,
    "mailbox_status_split_fields.bin": 3,
    "user_list.bin": 1, "user_list_nomatch.bin": 1,
}


def reply_seeds():
    """fuzz_reply: ncols, limits (defaults), K chunk sizes, stream."""
    seeds = {}
    for path in sorted(CAPTURES.glob("*.bin")):
        data = path.read_bytes()
        if not data:
            continue
        ncols = NCOLS.get(path.name, 6 if path.name.startswith("quota_") else 0)
        stem = path.stem
        seeds[stem + "-bytewise"] = bytes([ncols, 0, 0]) + data
        seeds[stem + "-chunks"] = bytes([ncols, 0, 3, 6, 0, 63]) + data
    # Tiny limits (max_value_len 4, max_values 2, max_reply_len 4).
    seeds["quota_alice-limits"] = bytes([6, 0x93, 1, 15]) + capture("quota_alice.bin")
    return seeds



def stats_seeds():
    names = ["stats_dump", "stats_dump_default", "stats_dump_badfield",
             "stats_dump_badopt"]
    seeds = {n: SHAPE_OK + capture(n + ".bin") for n in names}
    seeds["stats_dump-uncut"] = b"\x80" + capture("stats_dump.bin")
    return seeds


def who_seeds():
    who, sessions = b"\x00", b"\x01"
    return {
        "who": who + SHAPE_OK + capture("who.bin"),
        "who_tcp": who + SHAPE_OK + capture("who_tcp.bin"),
        "who_1": sessions + SHAPE_OK + capture("who_1.bin"),
        "hazard_who_then_who1": who + SHAPE_OK + capture("hazard_who_then_who1.bin"),
        "who-as-sessions": sessions + SHAPE_OK + capture("who.bin"),
    }


def quota_seeds():
    seeds = {}
    for who in ["alice", "bob", "carol", "dave"]:
        seeds["quota_" + who] = (user(who + "@example.com") + SHAPE_OK
                                 + capture("quota_%s.bin" % who))
    seeds["quota_alice-anyuser"] = NO_USER + SHAPE_OK + capture("quota_alice.bin")
    seeds["quota_alice-otheruser"] = (user("bob@example.com") + SHAPE_OK
                                      + capture("quota_alice.bin"))
    seeds["quota_alice-case"] = (user("ALICE@Example.COM") + SHAPE_OK
                                 + capture("quota_alice.bin"))
    seeds["quota_nouser"] = (user("nosuchuser@example.com") + SHAPE_OK
                             + capture("quota_nouser.bin"))
    seeds["quota_alice_noA"] = (user("alice@example.com") + b"\x85"
                                + capture("quota_alice_noA.bin"))
    seeds["pipelined_quota"] = (user("alice@example.com") + SHAPE_OK
                                + capture("pipelined_quota.bin"))
    return seeds


def mailbox_seeds():
    alice = user("alice@example.com")
    return {
        "mailbox_status_alice": b"\x03" + alice + SHAPE_OK
        + capture("mailbox_status_alice.bin"),
        "mailbox_status_alice-anyuser": b"\x03" + NO_USER + SHAPE_OK
        + capture("mailbox_status_alice.bin"),
        "mailbox_status_dave": b"\x03" + user("dave@example.com") + SHAPE_OK
        + capture("mailbox_status_dave.bin"),
        "mailbox_status_split_fields": b"\x01" + alice + SHAPE_OK
        + capture("mailbox_status_split_fields.bin"),
    }


def oldstats_seeds():
    """fuzz_oldstats: generation 2.3 (2), scope, default fields (0), keep
    the top 3 by column 1, shape; the captures are from Dovecot 2.3."""
    scopes = ["global", "domain", "user", "ip"]
    return {"oldstats_" + name: bytes([2, i, 0, 1, 3]) + SHAPE_OK
            + capture("oldstats_%s.bin" % name) for i, name in enumerate(scopes)}


def userlist_seeds():
    seeds = {}
    for name in ["user_list", "user_list_nomatch"]:
        data = capture(name + ".bin")
        seeds[name + "-reply"] = b"\x00\x01" + data
        # The JSON text alone: the value before the end-of-data LF.
        seeds[name + "-json"] = b"\x00\x00" + data.split(b"\n", 1)[0]
    seeds["user_list-max2"] = b"\x02\x00" + capture("user_list.bin").split(b"\n", 1)[0]
    return seeds


def roundtrip_seeds():
    """fuzz_roundtrip: separator byte, values (the captures cut at TAB)."""
    return {path.stem: b"\t" + path.read_bytes()
            for path in sorted(CAPTURES.glob("*.bin")) if path.stat().st_size > 8}


def client_seeds():
    """fuzz_client: options byte, plan byte, the server's bytes."""
    unix, tcp = b"+\n", b"-\n+\n"
    no_pw, pw = b"\x00", b"\x01"
    who, stats = b"\x00", b"\x01"

    def quota(n, late=False):
        return bytes([2 | ((n - 1) << 4) | (4 | 8 if late else 0)])

    return {
        "who": no_pw + who + unix + capture("who.bin"),
        "who_tcp": pw + who + tcp + capture("who_tcp.bin"),
        "stats_dump": no_pw + stats + unix + capture("stats_dump.bin"),
        "quota_alice": no_pw + quota(1) + unix + capture("quota_alice.bin"),
        "quota_dave": no_pw + quota(1) + unix + capture("quota_dave.bin"),
        "pipelined_quota": no_pw + quota(3) + unix + capture("pipelined_quota.bin"),
        "pipelined_quota-late": no_pw + quota(3, True) + unix
        + capture("pipelined_quota.bin"),
        "pipelined_quota-chunks": bytes([0x80 | (3 << 4) | (1 << 1)]) + quota(3)
        + unix + capture("pipelined_quota.bin"),
        "hazard_quota_then_who": no_pw + quota(2) + unix
        + capture("hazard_quota_then_who.bin"),
        "auth_ok_tcp": pw + quota(1) + capture("auth_ok_tcp.bin")
        + capture("quota_bob.bin"),
        "auth_bad_tcp": pw + quota(1) + capture("auth_bad_tcp.bin"),
        "auth_needed": no_pw + quota(1) + capture("auth_bad_tcp.bin"),
        "version_bad": no_pw + quota(1) + capture("version_bad.bin"),
        "unknown_command": no_pw + quota(1) + unix + capture("unknown_command.bin"),
    }


def health_seeds():
    """fuzz_health: command byte, shape byte, the reply (real 2.3 and 2.4)."""
    seeds = {}
    for gen in ("2.3", "2.4"):
        for cmd, name in ((0, "service_status"), (1, "process_status"),
                          (2, "indexer_list_empty"), (3, "penalty"),
                          (3, "penalty_empty")):
            seeds["%s-%s" % (name, gen)] = bytes([cmd]) + SHAPE_OK + capture(
                "health/%s/%s.bin" % (gen, name))
    seeds["service_status-as-process"] = b"\x01" + SHAPE_OK + capture(
        "health/2.3/service_status.bin")
    return seeds


def config_seeds():
    """fuzz_config: instance name line, then Option=Value lines."""
    return {
        "default": b"local\n",
        "socket": b"local\nSocket=/run/dovecot/doveadm-server\nCollectQuota=true\n"
                  b"QuotaUsers=*\n",
        "tcp": b"mail1\nHost=mail1.example.com\nPort=2425\nPasswordFile=pw\n"
               b"Interval=60\n",
        "tcp-inline": b"mail1\nhost=::1\nPassword=secret\nTimeout=5\nInterval=10\n",
        "everything": b"all\nSocket=/tmp/doveadm\nCollectStats=false\nCollectWho=true\n"
                      b"CollectQuota=true\nQuotaUser=alice@example.com\n"
                      b"QuotaUser=bob@example.com\nQuotaWarning=80\nQuotaFailure=95\n"
                      b"CollectMailbox=true\nMailbox=INBOX\nMailbox=Sent\n"
                      b"ReportHost=mail\nConnections=4\n",
        "tls": b"mail1\nHost=mail1.example.com\nTLS=tls\nPasswordFile=pw\n"
               b"ServerName=mail.example.com\nVerifyHost=true\n",
        "starttls-noverify": b"mail1\nHost=192.0.2.1\nTLS=starttls\nCACert=pw\n"
                             b"VerifyPeer=false\nPassword=secret\n",
        "cleartext": b"mail1\nHost=192.0.2.1\nPassword=secret\n"
                     b"AllowCleartextPassword=true\n",
        "open-passwordfile": b"x\nHost=h\nPasswordFile=pw-open\n",
        "missing-value": b"x\nPort\n",
        "typo": b"x\nSockt=/run/dovecot/doveadm-server\n",
    }


TARGETS = {
    "reply": reply_seeds,
    "stats": stats_seeds,
    "who": who_seeds,
    "health": health_seeds,
    "quota": quota_seeds,
    "mailbox": mailbox_seeds,
    "userlist": userlist_seeds,
    "config": config_seeds,
    "client": client_seeds,
    "oldstats": oldstats_seeds,
    "roundtrip": roundtrip_seeds,
}


def main():
    for target, make in TARGETS.items():
        out = CORPUS / target
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        seeds = make()
        for name, data in sorted(seeds.items()):
            (out / name).write_bytes(data)
        print("%-9s %3d seeds" % (target, len(seeds)))


if __name__ == "__main__":
    main()
