# SPDX-License-Identifier: MIT
"""Runs a command where DNS never answers. Started as
`unshare -r -n -m python3 silent_dns_ns.py CMD ARGS...`, it brings up the
loopback of the new network namespace, points /etc/resolv.conf (bind-mounted
in the new mount namespace only) at 127.0.0.1, holds UDP and TCP port 53
there without ever answering, and execs CMD (same process: signals sent to
the caller's child reach CMD). A name lookup through the system resolver
then takes its full timeout (5 s x 2 attempts x A and AAAA here), as with a
dead DNS server. Nothing leaves the namespace. Exit status: CMD's, or 77
when the namespace could not be set up (the caller skips).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile

SETUP_FAILED = 77


def setup():
    """The silent DNS server's sockets, or None."""
    ip = shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")
    if ip is None or subprocess.run([ip, "link", "set", "lo", "up"]).returncode != 0:
        return None
    tmp = tempfile.mkdtemp()
    conf = os.path.join(tmp, "resolv.conf")
    with open(conf, "w") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:5 attempts:2\n")
    mounted = subprocess.run(["mount", "--bind", conf, "/etc/resolv.conf"]).returncode == 0
    os.unlink(conf)  # the mount keeps the file
    os.rmdir(tmp)
    if not mounted:
        return None
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        udp.bind(("127.0.0.1", 53))
        tcp.bind(("127.0.0.1", 53))
        tcp.listen(16)
    except OSError:
        return None
    # Bound before CMD starts, and kept open in it: its queries queue up
    # unanswered for as long as it runs.
    for s in (udp, tcp):
        s.set_inheritable(True)
    return udp, tcp


def main():
    if len(sys.argv) < 2:
        return SETUP_FAILED
    held = setup()
    if held is None:
        return SETUP_FAILED
    sys.stdout.flush()
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
