# SPDX-License-Identifier: MIT
"""Tiny raw client for Dovecot's doveadm server protocol (Python 3 stdlib).

Used to capture real reply bytes and, later, by fake-server tests.  It does
no decoding beyond finding where a reply ends; callers get raw bytes.
See doc/PROTOCOL.md for the protocol (sections 2-5 in particular).

    from doveadm_wire import DoveadmWire, request
    with DoveadmWire.unix("/path/run/doveadm-server") as w:
        w.handshake()                      # b"+\\n" on a 0600 UNIX socket
        w.send(request("who"))
        raw = w.read_reply()               # b"...\\t\\n+\\n"

    with DoveadmWire.tcp("127.0.0.1", port) as w:
        w.login(password)                  # VERSION, then PLAIN if "-"
"""

import base64
import select
import socket
import time

VERSION_LINE = b"VERSION\tdoveadm-server\t1\t0\n"

_ESCAPES = {
    0x01: b"\x011",
    0x09: b"\x01t",
    0x0D: b"\x01r",
    0x0A: b"\x01n",
    0x00: b"\x010",
}
_UNESCAPES = {ord("1"): 0x01, ord("t"): 0x09, ord("r"): 0x0D,
              ord("n"): 0x0A, ord("0"): 0x00}


def _b(value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    return str(value).encode("utf-8")


def escape(value):
    """Tab-escape one field (PROTOCOL.md section 5). Returns bytes."""
    out = bytearray()
    for c in _b(value):
        esc = _ESCAPES.get(c)
        if esc is None:
            out.append(c)
        else:
            out += esc
    return bytes(out)


def unescape(value):
    """Undo tab-escaping: 0x01 X -> mapped byte, or X itself if unknown;
    a lone 0x01 at the end is dropped."""
    data = _b(value)
    out = bytearray()
    i = 0
    while i < len(data):
        c = data[i]
        if c == 0x01:
            if i + 1 >= len(data):
                break
            nxt = data[i + 1]
            out.append(_UNESCAPES.get(nxt, nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def request(command, *args, user="", flags=""):
    """Build one request line: flags TAB user TAB command [TAB arg]... LF.
    Every field is tab-escaped."""
    fields = [flags, user, command] + list(args)
    return b"\t".join(escape(f) for f in fields) + b"\n"


def auth_line(password, user="doveadm"):
    """PLAIN auth line; base64 on one line (no wrapping)."""
    raw = b"\0" + _b(user) + b"\0" + _b(password)
    return b"PLAIN\t" + base64.b64encode(raw) + b"\n"


def split_reply(raw):
    """Split one complete reply into (data, status_line).

    data is everything before the LF that ends the data part (still
    escaped, values each followed by TAB); status_line is without its LF
    (e.g. b"+", b"-NOUSER").  Raises ValueError if raw is incomplete."""
    first = raw.find(b"\n")
    if first < 0:
        raise ValueError("no end-of-data LF")
    second = raw.find(b"\n", first + 1)
    if second < 0:
        raise ValueError("no status line")
    return raw[:first], raw[first + 1:second]


def split_values(data):
    """Cut a data part into unescaped values (each value ends with TAB)."""
    if not data:
        return []
    parts = data.split(b"\t")
    if parts and parts[-1] == b"":
        parts.pop()
    return [unescape(p) for p in parts]


class WireError(Exception):
    pass


class DoveadmWire:
    """One doveadm-server connection, raw bytes in and out."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.timeout = timeout
        self.buf = b""          # received but not yet returned
        self.eof = False
        self.sock.setblocking(False)

    # -- construction -----------------------------------------------------
    @classmethod
    def unix(cls, path, timeout=10.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
        except Exception:
            s.close()
            raise
        return cls(s, timeout)

    @classmethod
    def tcp(cls, host, port, timeout=10.0):
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("tests only talk to loopback")
        s = socket.create_connection((host, port), timeout=timeout)
        return cls(s, timeout)

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- low level ----------------------------------------------------------
    def send(self, data):
        data = _b(data)
        self.sock.setblocking(True)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _recv_some(self, deadline):
        """Read whatever is available before deadline into self.buf.
        Returns number of bytes read; 0 on EOF or timeout."""
        if self.eof:
            return 0
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return 0
        r, _, _ = select.select([self.sock], [], [], remaining)
        if not r:
            return 0
        try:
            chunk = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return 0
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return 0
        self.buf += chunk
        return len(chunk)

    def _take(self, n):
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_line(self, timeout=None):
        """Read one LF-terminated line (returned with its LF).  On EOF
        before a full line, returns what was received (maybe b"")."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\n" not in self.buf:
            if self.eof or time.monotonic() >= deadline:
                if self.eof:
                    return self._take(len(self.buf))
                raise WireError("timeout waiting for a line; got %r" % self.buf)
            self._recv_some(deadline)
        return self._take(self.buf.index(b"\n") + 1)

    def read_reply(self, timeout=None):
        """Read one reply: data up to its LF, then the status line.
        Returns the raw bytes including the status line's LF.  On EOF
        before that, returns what was received (caller checks the end)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            first = self.buf.find(b"\n")
            if first >= 0:
                second = self.buf.find(b"\n", first + 1)
                if second >= 0:
                    return self._take(second + 1)
            if self.eof:
                return self._take(len(self.buf))
            if time.monotonic() >= deadline:
                raise WireError("timeout waiting for a reply; got %r" % self.buf)
            self._recv_some(deadline)

    def read_until_eof(self, timeout=None):
        """Everything until the server closes, bounded by timeout.
        Returns (bytes, eof_seen)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.eof and time.monotonic() < deadline:
            self._recv_some(deadline)
        return self._take(len(self.buf)), self.eof

    def read_idle(self, idle=0.5, timeout=None):
        """Everything until EOF, or until no byte arrived for `idle`
        seconds, bounded by timeout.  Returns (bytes, eof_seen)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.eof:
            now = time.monotonic()
            if now >= deadline:
                break
            if self._recv_some(min(deadline, now + idle)) == 0 and not self.eof:
                break
        return self._take(len(self.buf)), self.eof

    # -- protocol -------------------------------------------------------------
    def handshake(self, version_line=VERSION_LINE, timeout=None):
        """Send the VERSION line; return the server's answer line
        (b"+\\n" pre-authenticated, b"-\\n" must authenticate, b"" EOF)."""
        self.send(version_line)
        return self.read_line(timeout)

    def authenticate(self, password, user="doveadm", timeout=None):
        """Send PLAIN auth; return the answer line (b"+\\n" or b"-\\n")."""
        self.send(auth_line(password, user))
        return self.read_line(timeout)

    def login(self, password=None, timeout=None):
        """Handshake and, when asked to, authenticate.  Returns the raw
        bytes the server sent during the exchange."""
        got = self.handshake(timeout=timeout)
        if got == b"+\n":
            return got
        if got != b"-\n":
            raise WireError("unexpected handshake answer %r" % got)
        if password is None:
            raise WireError("server wants authentication, no password")
        ans = self.authenticate(password, timeout=timeout)
        if ans != b"+\n":
            raise WireError("authentication failed: %r" % ans)
        return got + ans

    def command(self, command, *args, user="", flags="", timeout=None):
        """Send one request and read its reply (raw bytes)."""
        self.send(request(command, *args, user=user, flags=flags))
        return self.read_reply(timeout)
