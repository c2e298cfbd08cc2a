"""The status page (docs/HTTP.md) in a real browser: headless Chromium,
driven over the DevTools protocol.  The page lists the programs, its Stop
button stops one (as safeexitctl status then shows), its Output button shows
the tail of a program's stdout log, and after a staged stop of several
programs in two stages its timeline shows each stage and program.

With SAFEEXITD_SCREENSHOT=PATH set, the page as the last test leaves it is
saved there as PNG (how docs/status-page.png is made).
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
QUICK = 0.2

websocket = pytest.importorskip("websocket")
pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason="chromium is not installed")


def free_port():
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Headless Chromium on a DevTools port of its own choosing."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="safeexitd-chromium-")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking",
             "--remote-debugging-port=0", "--remote-allow-origins=*",
             "--window-size=1200,900",
             "--user-data-dir=" + self.profile, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.ws = None
        self.next_id = 0
        try:
            port_file = os.path.join(self.profile, "DevToolsActivePort")
            wait_for(lambda: os.path.exists(port_file) and
                     open(port_file).read().count("\n") >= 1,
                     timeout=60, what="chromium's DevTools port")
            port = int(open(port_file).read().split("\n")[0])
            targets = json.load(urllib.request.urlopen(
                "http://127.0.0.1:%d/json/list" % port, timeout=30))
            page = [t for t in targets if t["type"] == "page"][0]
            self.ws = websocket.create_connection(
                page["webSocketDebuggerUrl"], timeout=60)
        except BaseException:
            self.close()
            raise

    def call(self, method, **params):
        """One DevTools command; its result."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                assert "error" not in msg, msg
                return msg["result"]

    def eval(self, expr):
        """The value of a JavaScript expression in the page."""
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True,
                      awaitPromise=True)
        assert "exceptionDetails" not in r, r
        return r["result"].get("value")

    def load(self, url):
        self.call("Page.navigate", url=url)
        wait_for(lambda: self.eval("document.readyState") == "complete" and
                 self.eval("!!document.getElementById('programs')"),
                 timeout=60, what="the page")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        if self.ws is not None:
            self.ws.close()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def start(daemon_factory, conf, workdir):
    """db; app, web and cache depend on it; web logs to a file, cache needs
    its kill signal."""
    port = free_port()
    d = daemon_factory(
        "[inet_http_server]\nport = 127.0.0.1:%d\n\n" % port +
        conf.program("db", start_secs=QUICK) +
        conf.program("app", "--exit-delay", "0.3", depends_on="db",
                     start_secs=QUICK) +
        conf.program("web", "--stdout", "hello-from-web", depends_on="db",
                     start_secs=QUICK,
                     stdout=str(workdir / "web.out")) +
        conf.program("cache", "--ignore", "TERM", depends_on="db",
                     stop_timeout=0.5, start_secs=QUICK))
    d.wait_ready()
    for name in ("db", "app", "web", "cache"):
        d.wait_state(name, "RUNNING")
    return d, "http://127.0.0.1:%d/" % port


def state_on_page(b, name):
    return b.eval("(function(){var r=document.querySelector("
                  "'tr[data-name=\"%s\"] .state');return r&&r.textContent})()"
                  % name)


def test_page_lists_programs_and_stops_one(daemon_factory, conf, workdir,
                                           browser):
    d, url = start(daemon_factory, conf, workdir)
    browser.load(url)
    for name in ("db", "app", "web"):
        assert state_on_page(browser, name) == "RUNNING"
    assert "4 programs" in browser.eval(
        "document.querySelector('header .summary').textContent")
    assert browser.eval("document.querySelector('#timeline').textContent"
                        ).find("No staged stop yet") >= 0
    browser.eval("document.querySelector('tr[data-name=\"app\"] "
                 "button[data-cmd=\"stop\"]').click()")
    wait_for(lambda: d.status()["app"]["state"] == "STOPPED", timeout=60,
             what="app stopped by the page's button")
    assert d.status()["db"]["state"] == "RUNNING"
    # The page refreshes itself once the reply is in.
    wait_for(lambda: state_on_page(browser, "app") == "STOPPED", timeout=60,
             what="the page showing app STOPPED")
    # The Start button brings it back.
    browser.eval("document.querySelector('tr[data-name=\"app\"] "
                 "button[data-cmd=\"start\"]').click()")
    wait_for(lambda: d.status()["app"]["state"] == "RUNNING", timeout=60,
             what="app started by the page's button")
    # The Output button shows what web wrote to its log file.
    wait_for(lambda: "hello-from-web" in (workdir / "web.out").read_text(),
             timeout=60, what="web's output in its log file")
    browser.eval("document.querySelector('tr[data-name=\"web\"] "
                 "button[data-cmd=\"tail\"]').click()")
    wait_for(lambda: "hello-from-web" in (browser.eval(
        "document.getElementById('tail-text').textContent") or ""),
        timeout=60, what="web's output on the page")


def test_page_refuses_posts_without_its_token(daemon_factory, conf, workdir):
    d, url = start(daemon_factory, conf, workdir)
    html = urllib.request.urlopen(url, timeout=30).read().decode()
    assert 'name="csrf-token"' in html
    req = urllib.request.Request(url + "api", method="POST",
                                 data=b'{"cmd":"stop","args":["db"]}',
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(req, timeout=30)
    assert d.status()["db"]["state"] == "RUNNING"


def test_page_timeline_of_a_staged_stop(daemon_factory, conf, workdir,
                                        browser):
    d, url = start(daemon_factory, conf, workdir)
    # db is depended on by the others: they stop in stage 1, db in stage 2.
    r = d.ctl("stop", "db")
    assert r.returncode == 0, r.stderr
    for name in ("db", "app", "web", "cache"):
        d.wait_state(name, "STOPPED")
    browser.load(url)
    stages = browser.eval("Array.from(document.querySelectorAll("
                          "'#timeline .tl-stage')).map(e => e.dataset.stage)")
    assert stages == ["1", "2"]
    rows = browser.eval(
        "Array.from(document.querySelectorAll('#timeline .tl-row')).map("
        "e => [e.dataset.program, e.querySelector('.tl-bar') !== null,"
        " e.querySelector('.tl-how').textContent])")
    by_name = {name: (bar, how) for name, bar, how in rows}
    assert set(by_name) == {"db", "app", "web", "cache"}
    assert all(bar for bar, _ in by_name.values())
    assert all("after" in how for _, how in by_name.values())
    assert "signal KILL" in by_name["cache"][1]
    assert "killed" in by_name["cache"][1]
    # cache needed its kill signal, marked, and held stage 1 up.
    cache = "document.querySelector('.tl-row[data-program=\"cache\"] %s')"
    assert browser.eval(cache % ".tl-bar" + ".classList.contains('killed')")
    assert browser.eval(cache % ".tl-bar" + ".classList.contains('holdup')")
    assert browser.eval("!!" + cache % ".tl-kill")
    assert not browser.eval("document.querySelector('.tl-row[data-program="
                            "\"app\"] .tl-bar').classList.contains('killed')")
    order = [name for name, _, _ in rows]
    assert order.index("db") > order.index("app")
    assert order.index("db") > order.index("web")
    timeline = json.load(urllib.request.urlopen(url + "timeline.json",
                                                timeout=30))
    assert timeline["finished"] and len(timeline["stages"]) == 2
    shot = os.environ.get("SAFEEXITD_SCREENSHOT")
    if shot:
        # Running again (cache left stopped), with web's output open.
        mark = d.mark()
        assert d.ctl("start", "app", "web").returncode == 0
        for name in ("db", "app", "web"):
            d.wait_state(name, "RUNNING", since=mark)
        browser.load(url)
        browser.eval("document.querySelector('tr[data-name=\"web\"] "
                     "button[data-cmd=\"tail\"]').click()")
        wait_for(lambda: "hello-from-web" in (browser.eval(
            "document.getElementById('tail-text').textContent") or ""),
            timeout=60, what="web's output on the page")
        browser.screenshot(shot)


def test_tail_answers_only_what_it_should(daemon_factory, conf, workdir):
    """/tail: a program whose stdout goes to a file; a bad query, an unknown
    program or one without a log file is refused, and nothing blocks."""
    d, url = start(daemon_factory, conf, workdir)
    wait_for(lambda: "hello-from-web" in (workdir / "web.out").read_text(),
             timeout=60, what="web's output in its log file")

    def get(query):
        try:
            with urllib.request.urlopen(url + "tail" + query, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    status, text = get("?program=web")
    assert status == 200 and "hello-from-web" in text
    assert get("?program=w%65b")[0] == 200
    assert get("")[0] == 400
    assert get("?program=%6")[0] == 400
    assert get("?program=%zz")[0] == 400
    assert get("?program=nosuch")[0] == 404
    assert get("?program=db")[0] == 404      # its stdout is the daemon's log
    # A log file of more than a KiB: the last KiB, from a whole line on.
    with open(workdir / "web.out", "a") as f:
        for i in range(200):
            f.write("line %03d\n" % i)
    status, text = get("?program=web")
    assert status == 200 and len(text.encode()) <= 1024
    assert text.endswith("line 199\n") and text.startswith("line ")
    assert d.status()["web"]["state"] == "RUNNING"
