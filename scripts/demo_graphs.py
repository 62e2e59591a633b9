#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PNG graphs of the dovecot plugin's values, from the RRD files collectd's
rrdtool plugin writes (<DataDir>/<host>/dovecot-<instance>/), drawn with
the rrdtool CLI.  Which graphs and lines exist is derived from the file
names (identifiers in plugin/plugin_submit.h):

  sessions.png   current_sessions-<service> stacked, users (all services)
  quota.png      percent-<user>-<root>-storage of the top users by use,
                 with the 90 % / 98 % lines of the default QuotaWarning /
                 QuotaFailure
  stats.png      derive-<metric>: events per second of the busiest metrics

    python3 scripts/demo_graphs.py /var/lib/collectd/rrd/mail1/dovecot-local out/ \\
        --start -1d

scripts/demo.py calls render() when the demo ends.
"""

import argparse
import math
import os
import re
import subprocess
import sys

RRDTOOL = "/usr/bin/rrdtool"
COLORS = ("1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2",
          "7f7f7f", "bcbd22", "17becf")
SIZE = ("--width", "560", "--height", "160")
TOP = 5                 # users in quota.png
TOP_METRICS = 8         # metrics in stats.png


class GraphError(RuntimeError):
    pass


def _esc(text):
    """rrdtool graph arguments use ':' as separator."""
    return text.replace("\\", "\\\\").replace(":", "\\:")


def _rrdtool(*args, timeout=30):
    try:
        r = subprocess.run([RRDTOOL] + [str(a) for a in args], capture_output=True,
                           text=True, timeout=timeout)
    except FileNotFoundError:
        raise GraphError("%s not found: apt-get install rrdtool (scripts/install-deps.sh)"
                         % RRDTOOL) from None
    if r.returncode != 0:
        raise GraphError("rrdtool %s: %s" % (args[0], (r.stderr or r.stdout).strip()))
    return r.stdout


def mean(path, start, end):
    """The mean of the known values of the file's value data source in
    [start, end] (NaN when none is known: e.g. a DERIVE read once)."""
    out = _rrdtool("fetch", path, "AVERAGE", "--start", start, "--end", end)
    vals = []
    for line in out.splitlines():
        if ":" not in line:
            continue
        try:
            v = float(line.split(":", 1)[1].split()[0])
        except (ValueError, IndexError):
            continue
        if not math.isnan(v):
            vals.append(v)
    return sum(vals) / len(vals) if vals else float("nan")


def _files(rrd_dir, pattern):
    """{captured name: path} of the files matching pattern (a regex on the
    name without .rrd)."""
    out = {}
    for name in sorted(os.listdir(rrd_dir)):
        m = re.fullmatch(pattern, name[:-4]) if name.endswith(".rrd") else None
        if m:
            out[m.group(1)] = os.path.join(rrd_dir, name)
    return out


def _top(files, n, start, end):
    """The n names of files with the highest mean, highest first; names
    without a known value are left out."""
    means = {k: mean(p, start, end) for k, p in files.items()}
    known = [k for k, v in means.items() if not math.isnan(v)]
    return sorted(known, key=lambda k: (-means[k], k))[:n]


def _graph(out_path, title, vlabel, start, end, body, extra=()):
    _rrdtool("graph", out_path, "--imgformat", "PNG", "--start", start, "--end", end,
             "--title", title, "--vertical-label", vlabel, *SIZE, *extra, *body)
    return out_path


def _line(i, path, legend, fmt, kind="LINE2", stack=False):
    v = "v%d" % i
    color = COLORS[i % len(COLORS)] + ("b0" if kind == "AREA" else "")
    return ["DEF:%s=%s:value:AVERAGE" % (v, _esc(path)),
            "%s:%s#%s:%s%s" % (kind, v, color, _esc(legend.ljust(28)),
                               ":STACK" if stack else ""),
            "GPRINT:%s:LAST:%s\\l" % (v, _esc("last " + fmt))]


def sessions_graph(rrd_dir, out_dir, start, end):
    services = _files(rrd_dir, r"current_sessions-(.+)")
    if not services:
        return None
    body = []
    for i, (svc, path) in enumerate(services.items()):
        body += _line(i, path, "sessions " + svc, "%4.0lf", kind="AREA", stack=True)
    users = os.path.join(rrd_dir, "users.rrd")
    if os.path.isfile(users):
        body += _line(len(services), users, "users (all services)", "%4.0lf")
    return _graph(os.path.join(out_dir, "sessions.png"), "Dovecot sessions per service",
                  "sessions", start, end, body, ("--lower-limit", "0"))


def quota_graph(rrd_dir, out_dir, start, end):
    users = _files(rrd_dir, r"percent-(.+)-storage")
    top = _top(users, TOP, start, end)
    if not top:
        return None
    body = []
    for i, name in enumerate(top):
        body += _line(i, users[name], name, "%5.1lf %%")
    body += ["HRULE:90#e8a200:QuotaWarning 90 %", "HRULE:98#cc0000:QuotaFailure 98 %\\l"]
    return _graph(os.path.join(out_dir, "quota.png"),
                  "Quota: top %d users by storage use" % len(top), "percent", start, end,
                  body, ("--lower-limit", "0", "--upper-limit", "100", "--rigid"))


def stats_graph(rrd_dir, out_dir, start, end):
    metrics = {k: p for k, p in _files(rrd_dir, r"derive-(.+)").items()
               if not k.endswith("-sum_us") and not k.endswith("-sum")}
    top = _top(metrics, TOP_METRICS, start, end)
    if not top:
        return None
    body = []
    for i, name in enumerate(top):
        # the busiest (often a total, e.g. imap_command) as an area, so a
        # metric equal to it (imap_command_all) does not hide it
        body += _line(i, metrics[name], name, "%6.2lf/s", kind="AREA" if i == 0 else "LINE2")
    return _graph(os.path.join(out_dir, "stats.png"),
                  "Dovecot stats: events per second (busiest metrics)", "per second",
                  start, end, body, ("--lower-limit", "0"))


def render(rrd_dir, out_dir, start="-1h", end="now"):
    """Render every graph the files allow into out_dir; the paths written."""
    if not os.path.isdir(rrd_dir):
        raise GraphError("no RRD directory %s (is the rrdtool plugin loaded?)" % rrd_dir)
    os.makedirs(out_dir, exist_ok=True)
    done = []
    for f in (sessions_graph, quota_graph, stats_graph):
        p = f(rrd_dir, out_dir, str(start), str(end))
        if p:
            done.append(p)
    return done


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("rrd_dir", help="<DataDir>/<host>/dovecot-<instance>")
    p.add_argument("out_dir")
    p.add_argument("--start", default="-1h", help="rrdtool time (default -1h)")
    p.add_argument("--end", default="now")
    a = p.parse_args(argv)
    try:
        for path in render(a.rrd_dir, a.out_dir, a.start, a.end):
            print(path)
    except GraphError as e:
        sys.exit("demo_graphs.py: %s" % e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
