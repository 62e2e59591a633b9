# SPDX-License-Identifier: MIT
"""TLS to a real Dovecot doveadm server (2.3.19 or 2.4.1: the fixture's
generation, $DVA_DOVECOT_GENERATION), through tests/tools/dva_query.

The fixture makes a CA and a server certificate with the openssl CLI (CN
and SAN localhost, SAN IP 127.0.0.1) plus a second CA that signed nothing,
sets `ssl = yes` (so the plain doveadm listener takes STARTTLS) and adds a
doveadm inet_listener with `ssl = yes` (TLS from the first byte); on 2.4
with its renamed settings (ssl_server_cert_file, ssl_server_key_file).

A relay between dva_query and Dovecot records what the client sends, to
show that with STARTTLS the password never crosses in clear (and that the
same relay does see it without TLS, so the check can fail).

    DVA_QUERY=build/tests/integration/dva_query python3 -m unittest -v test_tls
"""

import base64
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from dovecot_fixture import DovecotServer  # noqa: E402
from e2e_util import dva_query_path, write_password_file  # noqa: E402

DVA_QUERY = dva_query_path()
ALICE = "alice@example.com"
TIMEOUT_MS = 3000


class Output:
    def __init__(self, proc, seconds):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.seconds = seconds
        self.lines = [line.split("\t") for line in proc.stdout.splitlines()]
        self.errors = [line.split("\t", 2) for line in proc.stderr.splitlines()
                       if line.startswith("error\t")]

    def rows(self, kind):
        return [line[1:] for line in self.lines if line[0] == kind]

    def __repr__(self):
        return "rc=%d after %.2fs\nstdout:\n%s\nstderr:\n%s" % (
            self.rc, self.seconds, self.stdout, self.stderr)


class Relay:
    """127.0.0.1:port -> target, one connection at a time, recording the
    bytes the client sends.  Stops by itself when closed."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.sent = bytearray()
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _pipe(self, src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record:
                    with self.lock:
                        self.sent += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _run(self):
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            client.settimeout(10)
            server = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            pipes = [threading.Thread(target=self._pipe, args=(client, server, True)),
                     threading.Thread(target=self._pipe, args=(server, client, False))]
            for p in pipes:
                p.start()
            for p in pipes:
                p.join(15)
            client.close()
            server.close()

    def recorded(self):
        with self.lock:
            return bytes(self.sent)

    def close(self):
        self.stopping = True
        self.listener.close()
        self.thread.join(5)


class TestTLS(unittest.TestCase):
    dovecot = None

    @classmethod
    def setUpClass(cls):
        if not os.access(DVA_QUERY, os.X_OK):
            raise unittest.SkipTest("dva_query not built: %s" % DVA_QUERY)
        cls.dovecot = DovecotServer(tls=True, populate=False)
        cls.dovecot.start()
        cls.pwfile = write_password_file(cls.dovecot.root_dir, cls.dovecot.password)

    @classmethod
    def tearDownClass(cls):
        if cls.dovecot is not None:
            cls.dovecot.stop()

    def query(self, port, *args, host="127.0.0.1", password=True):
        cmd = [DVA_QUERY, "--host", host, "--port", str(port),
               "--timeout-ms", str(TIMEOUT_MS)]
        if self.dovecot.generation != "2.3" and "scrape" not in args:
            # requests as for 2.4 (scrape finds the generation out itself)
            cmd += ["--generation", self.dovecot.generation]
        if password:
            cmd += ["--password-file", self.pwfile]
        t0 = time.monotonic()
        proc = subprocess.run(cmd + list(args), capture_output=True, text=True,
                              timeout=30)
        out = Output(proc, time.monotonic() - t0)
        self.assertNotIn(self.dovecot.password, out.stdout + out.stderr)
        return out

    def assert_ok(self, out):
        self.assertEqual(out.rc, 0, out)
        self.assertEqual(out.errors, [], out)

    def assert_refused(self, out, *needles):
        self.assertEqual(out.rc, 2, out)
        self.assertTrue(out.errors, out)
        code, message = out.errors[0][1], out.errors[0][2]
        self.assertEqual(code, "tls", out)
        for n in needles:
            self.assertIn(n, message, out)
        self.assertEqual(out.rows("quota"), [], out)
        # refused promptly, not by running into the timeout
        self.assertLess(out.seconds, TIMEOUT_MS / 1000.0, out)

    def quota_get(self, port, *tls_args, host="127.0.0.1"):
        out = self.query(port, *tls_args, "quota", ALICE, host=host)
        self.assert_ok(out)
        types = sorted(r[2] for r in out.rows("quota") if r[0] == ALICE)
        self.assertEqual(types, ["MESSAGE", "STORAGE"], out)
        return out

    # -- success ---------------------------------------------------------------
    def test_tls_listener(self):
        d = self.dovecot
        self.quota_get(d.doveadm_tls_port, "--tls", "tls", "--ca-cert", d.pki["ca"])

    def test_starttls(self):
        d = self.dovecot
        self.quota_get(d.doveadm_port, "--tls", "starttls", "--ca-cert", d.pki["ca"])

    def test_server_name_by_dns_name(self):
        # "localhost" is checked as a DNS name (SAN DNS:localhost), 127.0.0.1
        # as an IP address (SAN IP): both must pass.
        d = self.dovecot
        self.quota_get(d.doveadm_tls_port, "--tls", "tls", "--ca-cert", d.pki["ca"],
                       host="localhost")
        self.quota_get(d.doveadm_port, "--tls", "starttls", "--ca-cert", d.pki["ca"],
                       "--server-name", "localhost")

    def test_scrape_over_tls(self):
        # Connections: stats, who, one for the mail requests; with the
        # generation left to the library, one more before them that asks it
        # (`oldstats dump global`, doc/PROTOCOL.md section 6.7).
        d = self.dovecot
        for port, mode in ((d.doveadm_tls_port, "tls"), (d.doveadm_port, "starttls")):
            for gen, conns in ((None, "4"), (d.generation, "3")):
                with self.subTest(mode=mode, generation=gen or "auto"):
                    out = self.query(port, *(["--generation", gen] if gen else []),
                                     "--tls", mode, "--ca-cert", d.pki["ca"],
                                     "scrape", "--user", ALICE)
                    self.assert_ok(out)
                    self.assertEqual(out.rows("scrape"), [["1", conns]], out)
                    self.assertEqual([r[0] for r in out.rows("observed")],
                                     [] if gen else [d.generation], out)
                    self.assertEqual(len([r for r in out.rows("quota") if r[0] == ALICE]),
                                     2, out)

    # -- refusals --------------------------------------------------------------
    def test_wrong_ca_refused(self):
        d = self.dovecot
        for port, mode in ((d.doveadm_tls_port, "tls"), (d.doveadm_port, "starttls")):
            out = self.query(port, "--tls", mode, "--ca-cert", d.pki["other_ca"],
                             "quota", ALICE)
            self.assert_refused(out, "certificate verify failed: unable to get local "
                                "issuer certificate", d.pki["other_ca"])

    def test_wrong_server_name_refused(self):
        d = self.dovecot
        for port, mode in ((d.doveadm_tls_port, "tls"), (d.doveadm_port, "starttls")):
            out = self.query(port, "--tls", mode, "--ca-cert", d.pki["ca"],
                             "--server-name", "mail.example.com", "quota", ALICE)
            self.assert_refused(out, "host name mismatch: expected mail.example.com")
        # an IP address the certificate does not carry
        out = self.query(d.doveadm_tls_port, "--tls", "tls", "--ca-cert", d.pki["ca"],
                         "--server-name", "127.0.0.2", "quota", ALICE)
        self.assert_refused(out, "host name mismatch: expected 127.0.0.2")

    def test_tls_asked_of_plain_listener_refused(self):
        d = self.dovecot
        out = self.query(d.doveadm_port, "--tls", "tls", "--ca-cert", d.pki["ca"],
                         "quota", ALICE)
        self.assert_refused(out, "server did not speak TLS (plain doveadm server?)",
                            "ssl = yes")

    def test_verify_peer_off_accepts_wrong_ca(self):
        d = self.dovecot
        self.quota_get(d.doveadm_tls_port, "--tls", "tls", "--ca-cert",
                       d.pki["other_ca"], "--verify-peer", "no")
        self.quota_get(d.doveadm_port, "--tls", "starttls", "--ca-cert",
                       d.pki["other_ca"], "--verify-peer", "no")

    def test_verify_host_off_accepts_wrong_name(self):
        d = self.dovecot
        self.quota_get(d.doveadm_tls_port, "--tls", "tls", "--ca-cert", d.pki["ca"],
                       "--server-name", "mail.example.com", "--verify-host", "no")

    # -- the password on the wire -----------------------------------------------
    def test_starttls_hides_the_password(self):
        d = self.dovecot
        plain = base64.b64encode(b"\0doveadm\0" + d.password.encode())
        relay = Relay(d.doveadm_port)
        self.addCleanup(relay.close)
        self.quota_get(relay.port, "--tls", "starttls", "--ca-cert", d.pki["ca"])
        sent = relay.recorded()
        self.assertTrue(sent.startswith(b"VERSION\tdoveadm-server\t1\t0\nSTARTTLS\n"),
                        sent[:80])
        self.assertEqual(sent[len(b"VERSION\tdoveadm-server\t1\t0\nSTARTTLS\n")], 0x16,
                         "a TLS handshake record follows STARTTLS")
        self.assertNotIn(plain, sent)
        self.assertNotIn(d.password.encode(), sent)
        self.assertNotIn(ALICE.encode(), sent)
        # the same relay without TLS does see it: the check above can fail
        relay2 = Relay(d.doveadm_port)
        self.addCleanup(relay2.close)
        self.quota_get(relay2.port)
        self.assertIn(plain, relay2.recorded())


class TestStartTLSWithoutSSL(unittest.TestCase):
    """STARTTLS to a Dovecot with `ssl = no`: it answers "-" in clear and
    closes; the client must say so, not hang or authenticate."""

    def test_refused(self):
        if not os.access(DVA_QUERY, os.X_OK):
            self.skipTest("dva_query not built: %s" % DVA_QUERY)
        with DovecotServer(populate=False) as d:
            pwfile = write_password_file(d.root_dir, d.password)
            proc = subprocess.run(
                [DVA_QUERY, "--host", "127.0.0.1", "--port", str(d.doveadm_port),
                 "--password-file", pwfile, "--timeout-ms", str(TIMEOUT_MS),
                 "--tls", "starttls", "who"],
                capture_output=True, text=True, timeout=30)
            self.assertEqual(proc.returncode, 2, proc)
            self.assertIn("error\ttls\t", proc.stderr)
            self.assertIn("server did not speak TLS (plain doveadm server?)", proc.stderr)
            self.assertIn("STARTTLS needs ssl = yes", proc.stderr)
            # Dovecot may write its log line after the client has seen the
            # close: await it (bounded) rather than read the log once.
            # 2.3 refuses STARTTLS as "SSL is disabled"; 2.4 tries and fails
            # in client_connection_tcp_init_ssl() (src/doveadm/
            # client-connection-tcp.c), seen on 2.4.1: "SSL init failed:
            # Couldn't initialize SSL server context: Can't load SSL
            # certificate (ssl_server_cert_file setting): The certificate is
            # empty".
            want = "SSL is disabled" if d.generation == "2.3" else "SSL init failed"
            deadline = time.monotonic() + 10
            while want not in d.log_tail() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn(want, d.log_tail())


if __name__ == "__main__":
    unittest.main()
