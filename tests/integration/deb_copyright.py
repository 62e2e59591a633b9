# SPDX-License-Identifier: MIT
"""The licence in a built .deb: /usr/share/doc/collectd-dovecot/copyright,
in Debian's machine-readable format (copyright-format 1.0), equal to
packaging/copyright, whose MIT text is the LICENSE file at the top.
test_deb and test_deb_trixie call check_deb_copyright on the package they
built (read with `dpkg-deb -c` and `dpkg-deb --fsys-tarfile`, not
installed).
"""

import os
import re
import subprocess
import tarfile

_TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
COPYRIGHT = "/usr/share/doc/collectd-dovecot/copyright"
FORMAT = "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"


def _read(path):
    with open(path) as f:
        return f.read()


def deb_file(deb, path):
    """The text of path inside the .deb (its data archive), or None."""
    p = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=p.stdout, mode="r|") as tar:
            for member in tar:
                if member.name.lstrip(".") == path and member.isfile():
                    return tar.extractfile(member).read().decode()
    finally:
        p.stdout.close()
        p.wait()
    return None


def paragraphs(text):
    """The copyright file as a list of {field: value} (continuation lines
    joined with newlines, the leading space removed)."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        fields, key = {}, None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key is not None:
                fields[key] += "\n" + line[1:]
            else:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        out.append(fields)
    return out


def check_deb_copyright(test, deb):
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True,
                             check=True).stdout
    names = [line.split()[-1].lstrip(".") for line in listing.splitlines() if line.strip()]
    test.assertIn(COPYRIGHT, names, listing)
    text = deb_file(deb, COPYRIGHT)
    test.assertEqual(text, _read(os.path.join(_TOP, "packaging", "copyright")))
    paras = paragraphs(text)
    header, files, licence = paras[0], paras[1], paras[-1]
    test.assertEqual(header["Format"], FORMAT)
    test.assertEqual(header["Upstream-Name"], "collectd-dovecot")
    test.assertEqual(files["Files"], "*")
    test.assertEqual(files["License"], "MIT")
    test.assertTrue(files["Copyright"])
    # The stand-alone License paragraph: its text is LICENSE's, from the
    # permission notice on (a "." line is an empty line, copyright-format 1.0).
    name, _, body = licence["License"].partition("\n")
    test.assertEqual(name, "MIT")
    body = "\n".join("" if line == "." else line for line in body.splitlines())
    licence_file = _read(os.path.join(_TOP, "LICENSE"))
    notice = licence_file[licence_file.index("Permission is hereby granted"):]
    test.assertEqual(" ".join(body.split()), " ".join(notice.split()))
    test.assertIn("Copyright (c) " + files["Copyright"], licence_file)
