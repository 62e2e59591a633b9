# SPDX-License-Identifier: MIT
"""End to end, for Prometheus: a real collectd 5.12 runs the recipe
conf.d/examples/prometheus.conf (the dovecot.so under test, $DVA_PLUGIN,
with IdentifierLayout "labels", and collectd's own write_prometheus) against
a real private Dovecot of the fixture's generation ($DVA_DOVECOT_GENERATION).
The test scrapes write_prometheus's HTTP endpoint like Prometheus would and
checks:

- the series the recipe documents (doc/recipes.md), with the value the
  doveadm CLI gives (`who`, `quota get -u USER`, `stats dump`): the user is
  the label `type` alone, the instance the label `dovecot`;
- contrib/grafana/dovecot.json: a Grafana dashboard (schemaVersion, panels,
  the datasource and instance variables) whose every query, with the
  variables set to this instance and quota root, selects series the scrape
  holds (each selector's metric name and label matchers, PromQL's
  semantics), and whose quota-root variable finds the root;
- the same queries in a real Prometheus (Debian's `prometheus`, private,
  scraping that endpoint every second): each is valid PromQL and returns
  data, and the variables' label_values list this instance and root.

The recipe is used as written, with only the socket, listen address and
port replaced (each replacement must match). Nothing sleeps to synchronise:
every wait polls a condition against a deadline.

    DVA_PLUGIN=build/plugin/dovecot.so python3 -m unittest -v test_e2e_prometheus
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from dovecot_fixture import DovecotServer  # noqa: E402
from e2e_util import PLUGIN_SHARED_DIRS, CollectdTestCase, built_plugin  # noqa: E402
from test_e2e_multihost import example  # noqa: E402
from test_e2e_plugin import DovecotCLI  # noqa: E402

TOP = os.path.normpath(os.path.join(_HERE, "..", ".."))
DASHBOARD = os.path.join(TOP, "contrib", "grafana", "dovecot.json")
INSTANCE = "local"            # the recipe's instance name
ROOT = "User_quota"           # "User quota", sanitised
ALICE = "alice@example.com"
BOB = "bob@example.com"
WAIT = 20.0                   # seconds: bound of any wait for values
WRITE_PROMETHEUS = "/usr/lib/collectd/write_prometheus.so"
PROMETHEUS = shutil.which("prometheus", path="/usr/bin:/usr/sbin:/bin") or "/usr/bin/prometheus"


def write_prometheus_missing():
    """Why collectd could not load its write_prometheus.so, or None: Debian's
    needs libmicrohttpd and libprotobuf-c, which collectd-core only suggests
    (scripts/install-deps.sh installs them)."""
    if not os.path.isfile(WRITE_PROMETHEUS):
        return "collectd's %s is not installed" % WRITE_PROMETHEUS
    r = subprocess.run(["ldd", WRITE_PROMETHEUS], capture_output=True, text=True)
    missing = [ln.split()[0] for ln in r.stdout.splitlines() if "not found" in ln]
    if missing:
        return ("%s needs %s (scripts/install-deps.sh installs them)"
                % (WRITE_PROMETHEUS, ", ".join(missing)))
    return None


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the text exposition format (what write_prometheus serves) ----------------
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def _unescape(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)


def parse_exposition(text):
    """([(name, {label: value}, float)], {name: TYPE})."""
    samples, types = [], {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line.strip() or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError("not the text format: %r" % line)
        labels = {k: _unescape(v) for k, v in _LABEL.findall(m.group(2) or "")}
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples, types


# -- PromQL selectors of the dashboard's queries --------------------------------
_SELECTOR = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}')
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')
_LABEL_VALUES = re.compile(r'^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?'
                           r'\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$')


def selectors(expr):
    """[(metric, [(label, op, value)])] of every `metric{...}` in expr."""
    out = []
    for name, body in _SELECTOR.findall(expr):
        matchers = _MATCHER.findall(body)
        if re.sub(_MATCHER, "", body).strip():
            raise AssertionError("cannot read the matchers of %r" % expr)
        out.append((name, [(k, op, _unescape(v)) for k, op, v in matchers]))
    return out


def matches(labels, matchers):
    """PromQL: an absent label is the empty string; regexes are anchored."""
    for k, op, v in matchers:
        have = labels.get(k, "")
        if op == "=" and have != v or op == "!=" and have == v:
            return False
        if op == "=~" and not re.fullmatch(v, have) or op == "!~" and re.fullmatch(v, have):
            return False
    return True


def expand(text, variables):
    for k, v in variables.items():
        text = text.replace("${%s}" % k, v).replace("$" + k, v)
    return text


class TestPrometheusRecipe(CollectdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.plugin = built_plugin()
        reason = write_prometheus_missing()
        if reason:
            raise unittest.SkipTest(reason)
        cls.dovecot = DovecotServer(shared_dirs=PLUGIN_SHARED_DIRS)
        cls.dovecot.start()
        try:
            d = cls.dovecot
            cls.cli = DovecotCLI(d)
            a1, a2, b1 = d.imap_login(ALICE), d.imap_login(ALICE), d.imap_login(BOB)
            a1.select("INBOX")
            a1.fetch("1:*", "(FLAGS)")
            b1.select("INBOX", readonly=True)
            cls.sessions = (a1, a2, b1)
            deadline = time.monotonic() + 15
            while cls.cli.who().get("imap") != (2, 3):
                if time.monotonic() >= deadline:
                    raise AssertionError("who never showed alice twice and bob once")
                time.sleep(0.05)
        except BaseException:
            cls.dovecot.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()

    def setUp(self):
        super().setUp()
        self.port = free_tcp_port()
        config = example("prometheus.conf",
                         ('Socket "/run/dovecot/doveadm-server"',
                          'Socket "%s"' % self.dovecot.doveadm_socket),
                         ('Host "0.0.0.0"', 'Host "127.0.0.1"'),
                         ('Port "9103"', 'Port "%d"' % self.port),
                         # the fixture loads the dovecot.so under test itself
                         ("LoadPlugin dovecot\n", ""))
        self.c = self.start_collectd("", plugin_files=("write_prometheus",),
                                     extra_config=config)

    def scrape(self):
        url = "http://127.0.0.1:%d/metrics" % self.port
        with urllib.request.urlopen(url, timeout=5) as r:
            self.assertTrue(r.headers.get("Content-Type", "").startswith("text/plain"))
            return parse_exposition(r.read().decode())

    def series(self, samples):
        """{(name, dovecot label, type label): value} of this instance."""
        out = {}
        for name, labels, value in samples:
            if labels.get("dovecot", "").startswith(INSTANCE):
                out[(name, labels["dovecot"], labels.get("type", ""))] = value
        return out

    def expected(self):
        """What the CLI says, as the series the recipe documents."""
        want = {("collectd_dovecot_bool", INSTANCE, "up"): 1.0}
        for svc, (users, sessions) in self.cli.who().items():
            want[("collectd_dovecot_users", INSTANCE, svc or "")] = float(users)
            want[("collectd_dovecot_current_sessions", INSTANCE, svc or "")] = float(sessions)
        for metric, (count, total) in self.cli.stats().items():
            want[("collectd_dovecot_derive_total", INSTANCE, metric)] = float(count)
            want[("collectd_dovecot_derive_total", INSTANCE, metric + "-sum_us")] = float(total)
        for user in sorted(self.dovecot.users):
            try:
                quota = self.cli.quota(user)
            except Exception:       # a broken quota backend (dave): no values
                continue
            for kind, (value, limit, pct) in quota.items():
                typ, scale, res = {"STORAGE": ("bytes", 1024, "storage"),
                                   "MESSAGE": ("email_count", 1, "messages")}[kind]
                name = "collectd_dovecot_" + typ
                want[(name, "%s-%s-used" % (INSTANCE, ROOT), user)] = float(value * scale)
                if limit is not None:
                    want[(name, "%s-%s-limit" % (INSTANCE, ROOT), user)] = float(limit * scale)
                    want[("collectd_dovecot_percent", "%s-%s-%s" % (INSTANCE, ROOT, res),
                          user)] = float(min(pct, 100))
        return want

    def wait_scrape_equal(self):
        """Scrape and CLI re-read until every expected series has the CLI's
        value; returns the last scrape."""
        last = {}
        deadline = time.monotonic() + WAIT * self.c.slow
        while True:
            try:
                samples, types = self.scrape()
            except OSError as e:        # not listening yet
                samples, types = [], {}
                last["error"] = e
            have, want = self.series(samples), self.expected()
            diff = {k: (have.get(k), v) for k, v in want.items() if have.get(k) != v}
            if not diff:
                return samples, types
            last["diff"] = diff
            if time.monotonic() >= deadline:
                error = " (%s)" % last["error"] if "error" in last else ""
                self.fail("scrape != doveadm after %.0f s: {series: (scrape, cli)} %r%s\n%s"
                          % (WAIT * self.c.slow, diff, error, self.c.log_tail()))
            time.sleep(0.1)

    def wait_dashboard_series(self, dash, samples):
        """Scrapes until every selector of the dashboard's panels selects a
        series (or WAIT ends; the test then names the one missing): some come
        from the second read on, e.g. the clients served, which grow from
        one read's `process status` to the next."""
        values = {"instance": INSTANCE, "root": ROOT}
        sels = [sel for p in dash["panels"] for t in p.get("targets", [])
                for sel in selectors(expand(t["expr"], values))]
        deadline = time.monotonic() + WAIT * self.c.slow
        while time.monotonic() < deadline:
            if all(any(n == name and matches(labels, m) for n, labels, _ in samples)
                   for name, m in sels):
                break
            time.sleep(0.2)
            samples, _ = self.scrape()
        return samples

    def test_scrape_has_the_cli_values(self):
        samples, types = self.wait_scrape_equal()
        self.assertEqual(types.get("collectd_dovecot_derive_total"), "counter")
        self.assertEqual(types.get("collectd_dovecot_percent"), "gauge")
        have = self.series(samples)
        # The user is a label of its own: aggregating by it needs no regex.
        users = {t for (n, pi, t) in have
                 if n == "collectd_dovecot_percent" and pi == "%s-%s-storage" % (INSTANCE, ROOT)}
        self.assertIn(ALICE, users)
        self.assertIn(BOB, users)
        # bob is filled past 90 % (the fixture), as doveadm said above
        self.assertGreaterEqual(have[("collectd_dovecot_percent",
                                      "%s-%s-storage" % (INSTANCE, ROOT), BOB)], 90.0)
        # no user in any other label, none split
        for (name, pi, ti) in have:
            self.assertNotIn("@", pi, name)
            if "@" in ti:
                self.assertRegex(ti, r"^[^-]+@[^-]+$")
        self.assertNotIn("secret", json.dumps(samples))
        # bob's quota WARNING (QuotaWarning 90 by default) is named as the
        # series it is about
        note = self.c.wait_for(lambda: self.c.notifications(plugin="dovecot",
                                                            severity="WARNING"),
                               WAIT, what="bob's quota WARNING")[0]
        self.assertEqual((note["plugin_instance"], note["type"], note["type_instance"]),
                         ("%s-%s-storage" % (INSTANCE, ROOT), "percent", BOB), note)

    def test_dashboard_queries_select_scraped_series(self):
        samples, _ = self.wait_scrape_equal()
        with open(DASHBOARD) as f:
            dash = json.load(f)
        samples = self.wait_dashboard_series(dash, samples)
        # a dashboard Grafana imports: schema, panels, the two variables
        self.assertIsInstance(dash["schemaVersion"], int)
        self.assertTrue(dash["title"] and dash["uid"])
        variables = {v["name"]: v for v in dash["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertEqual(variables["datasource"]["query"], "prometheus")
        panels = dash["panels"]
        ids = [p["id"] for p in panels]
        self.assertEqual(len(ids), len(set(ids)))
        titles = " / ".join(p["title"] for p in panels)
        for word in ("Up", "Sessions per service", "Users per service", "Events per second",
                     "Storage quota use, top 10 users", "Server health"):
            self.assertIn(word, titles)
        values = {"instance": INSTANCE, "root": ROOT}

        def check_selectors(expr, where):
            sels = selectors(expand(expr, values))
            self.assertTrue(sels, "%s: no selector in %r" % (where, expr))
            for name, matchers in sels:
                hits = [labels for n, labels, _ in samples
                        if n == name and matches(labels, matchers)]
                self.assertTrue(hits, "%s: %s{%s} selects no scraped series"
                                % (where, name, matchers))
                for label, _, value in matchers:
                    if value:       # an equality to "" also means "absent"
                        self.assertTrue(any(label in h for h in hits), (where, label))
            return sels

        # the instance variable lists this instance; the root one finds the root
        for name in ("instance", "root"):
            v = variables[name]
            self.assertEqual(v["datasource"]["uid"], "${datasource}")
            m = _LABEL_VALUES.match(v["query"]["query"])
            self.assertTrue(m, v["query"])
            metric, matcher, label = m.groups()
            check_selectors("%s%s" % (metric, matcher or "{}"), "variable " + name)
            found = {labels[label] for n, labels, _ in samples if n == metric and label in labels}
            if v.get("regex"):
                rx = expand(v["regex"], values).strip("/")
                found = {re.fullmatch(rx, x).group(1) for x in found if re.fullmatch(rx, x)}
            self.assertIn(values[name], found, name)

        nqueries = 0
        for p in panels:
            for t in p.get("targets", []):
                where = "panel %r %s" % (p["title"], t["refId"])
                self.assertEqual(t["datasource"]["uid"], "${datasource}", where)
                check_selectors(t["expr"], where)
                for label in re.findall(r"\{\{(\w+)\}\}", t.get("legendFormat", "")):
                    self.assertTrue(any(label in lb for _, lb, _ in samples), (where, label))
                nqueries += 1
        self.assertGreaterEqual(nqueries, 10)
        # The server-health row holds its panels.
        self.assertIn("Server health", [p["title"] for p in panels if p["type"] == "row"])
        self.assertIn("Pool use, top 10 services", [p["title"] for p in panels])


    # -- a real Prometheus --------------------------------------------------------
    def start_prometheus(self):
        """A private Prometheus scraping the collectd of this test every
        second; its base URL. Stopped and removed by the cleanup."""
        tmp = tempfile.mkdtemp(prefix="dva-prometheus-")
        self.addCleanup(shutil.rmtree, tmp, True)
        conf = os.path.join(tmp, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: collectd\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % self.port)
        web = free_tcp_port()
        log = open(os.path.join(tmp, "prometheus.log"), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen([PROMETHEUS, "--config.file=" + conf,
                                 "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % web],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

        def stop():
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.addCleanup(stop)
        self.prometheus_log = os.path.join(tmp, "prometheus.log")
        base = "http://127.0.0.1:%d" % web
        # Until its storage is open Prometheus answers 503 (seen): await /-/ready.
        deadline = time.monotonic() + WAIT * self.c.slow
        while True:
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=5) as r:
                    if r.status == 200:
                        return base
            except OSError:         # not listening yet, or 503
                pass
            if proc.poll() is not None or time.monotonic() >= deadline:
                with open(self.prometheus_log) as f:
                    self.fail("Prometheus not ready (exit status %s): %s"
                              % (proc.poll(), f.read()[-2000:]))
            time.sleep(0.1)

    def api(self, base, path, **params):
        url = "%s/api/v1/%s?%s" % (base, path, urllib.parse.urlencode(params, doseq=True))
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                reply = json.load(r)
        except urllib.error.HTTPError as e:     # a bad query: say which
            self.fail("Prometheus refused %s %r: %s %s"
                      % (path, params, e.code, e.read().decode(errors="replace")))
        self.assertEqual(reply["status"], "success", (path, params, reply))
        return reply["data"]

    def test_dashboard_queries_in_prometheus(self):
        if not os.access(PROMETHEUS, os.X_OK):
            self.skipTest("no %s (Debian's prometheus; scripts/install-deps.sh)" % PROMETHEUS)
        self.wait_scrape_equal()
        base = self.start_prometheus()
        with open(DASHBOARD) as f:
            dash = json.load(f)
        values = {"instance": INSTANCE, "root": ROOT}
        exprs = [(p["title"], expand(t["expr"], values))
                 for p in dash["panels"] for t in p.get("targets", [])]
        empty = {}
        deadline = time.monotonic() + WAIT * 2 * self.c.slow
        while True:
            try:
                # rate() needs two scrapes of a counter: poll until every
                # query has a result, or time is up
                empty = {(title, e): self.api(base, "query", query=e)["result"]
                         for title, e in exprs}
                empty = {k: v for k, v in empty.items() if not v}
            except OSError as e:        # not listening yet
                empty = {"not ready": str(e)}
            if not empty:
                break
            if time.monotonic() >= deadline:
                with open(self.prometheus_log) as f:
                    tail = f.read()[-3000:]
                self.fail("queries without data in Prometheus: %r\n%s" % (sorted(empty), tail))
            time.sleep(0.2)
        # what the variables list (Grafana's label_values(metric{...}, label))
        for name in ("instance", "root"):
            v = next(x for x in dash["templating"]["list"] if x["name"] == name)
            metric, matcher, label = _LABEL_VALUES.match(v["query"]["query"]).groups()
            found = self.api(base, "label/%s/values" % label,
                             **{"match[]": metric + (matcher or "")})
            if v.get("regex"):
                rx = expand(v["regex"], values).strip("/")
                found = [re.fullmatch(rx, x).group(1) for x in found if re.fullmatch(rx, x)]
            self.assertIn(values[name], found, name)
        # one value through PromQL, as Grafana shows it: bob's storage use
        r = self.api(base, "query", query='collectd_dovecot_percent{dovecot="%s-%s-storage",'
                                          'type="%s"}' % (INSTANCE, ROOT, BOB))["result"]
        self.assertEqual(len(r), 1, r)
        pct = self.cli.quota(BOB)["STORAGE"][2]
        self.assertEqual(float(r[0]["value"][1]), float(min(pct, 100)))


if __name__ == "__main__":
    unittest.main()
