"""The built book's widgets in a real browser with no network.

The explore page and a chapter with a figure switcher are opened in headless Chromium
(served from 127.0.0.1 and read straight from the folder as file://). Every host name
resolves to nothing and every other connection goes to a proxy port that refuses it, so
the page has only the book's own files. The widgets must render from the saved widget
state, show their first figure, and show another figure when another entry is chosen.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``),
so no driver beyond the browser is needed. Without a Chromium the tests are skipped
(``.ci/run`` installs Debian's ``chromium``); set ``CHROMIUM`` to use another binary.
"""
from __future__ import annotations

import fcntl
import functools
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test here reads the built book, which may need building

# A chapter whose page has a static_figure_switcher (besides the explore page).
SWITCHER_CHAPTER = "architectures"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
MATHJAX = re.compile(r"https://cdn\.jsdelivr\.net/npm/mathjax@[^\"'\s]+")
WINDOW = (1280, 1000)  # px: a laptop's browser window, the layout the page checks assume
LOCAL_SCHEMES = ("data:", "blob:", "about:", "file:", "chrome:", "devtools:")


def find_chromium():
    exe = os.environ.get("CHROMIUM")
    if exe:
        return exe
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (apt-get install chromium, "
                                    "or set CHROMIUM to a Chromium or Chrome binary)")


TRAMPOLINE = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
              "os.execv(sys.argv[3], sys.argv[3:])")


class Browser:
    """Headless Chromium driven over the DevTools protocol on fds 3 (commands) and 4 (replies)."""

    def __init__(self, exe: str, refused_port: int, profile_dir: str, log_path: Path):
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        cmd_r, res_w = (self._high(fd) for fd in (cmd_r, res_w))
        args = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--remote-debugging-pipe", f"--user-data-dir={profile_dir}",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--mute-audio", f"--window-size={WINDOW[0]},{WINDOW[1]}",
            # The network block: no name resolves, and every connection that is not to the
            # loopback address goes to a local port that refuses it.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            f"--proxy-server=http://127.0.0.1:{refused_port}",
        ]
        self._log = open(log_path, "wb")
        # A small trampoline puts the two pipe ends on fds 3 and 4, where Chromium expects them.
        self.proc = subprocess.Popen(
            [sys.executable, "-c", TRAMPOLINE, str(cmd_r), str(res_w), exe, *args],
            pass_fds=(cmd_r, res_w), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        os.close(cmd_r)
        os.close(res_w)
        self._cond = threading.Condition()
        self._replies: dict = {}
        self.events: list = []
        self._next = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @staticmethod
    def _high(fd: int) -> int:
        """The same pipe end on a descriptor above 4, so that moving it to 3 or 4 clobbers nothing."""
        new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return new

    def _read(self):
        buf = b""
        while True:
            chunk = os.read(self._res_r, 1 << 16)
            if not chunk:
                break
            buf += chunk
            *msgs, buf = buf.split(b"\0")
            with self._cond:
                for raw in msgs:
                    msg = json.loads(raw)
                    if "id" in msg:
                        self._replies[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60):
        with self._cond:
            self._next += 1
            ident = self._next
        msg = {"id": ident, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self._cmd_w, data):]
        deadline = time.monotonic() + timeout
        with self._cond:
            while ident not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise TimeoutError(f"no reply to {method} (Chromium log: {self._log.name})")
                self._cond.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def wait_event(self, method: str, session: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ev in self.events:
                    if ev["method"] == method and ev.get("sessionId") == session:
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {method} event")
                self._cond.wait(left)

    def events_of(self, session: str, *methods: str):
        with self._cond:
            return [ev for ev in self.events if ev.get("sessionId") == session and ev["method"] in methods]

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        self._reader.join(timeout=5)
        os.close(self._res_r)
        self._log.close()


class Page:
    def __init__(self, browser: Browser, url: str):
        self.b, self.url = browser, url
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Page", "Runtime"):
            browser.send(f"{domain}.enable", session=self.session)
        browser.send("Page.navigate", {"url": url}, session=self.session)
        browser.wait_event("Page.loadEventFired", self.session)

    def js(self, expression: str):
        r = self.b.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, session=self.session)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression[:80]}...: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30, what: str = ""):
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"{self.url}: timed out waiting for {what or expression}\n{self.report()}")
            time.sleep(0.2)

    def requests(self):
        return [ev["params"]["request"]["url"] for ev in self.b.events_of(self.session, "Network.requestWillBeSent")]

    def failures(self):
        """Local loads that failed (the favicon Chromium asks for on its own excepted)."""
        bad = [f"{ev['params']['response']['url']} -> {ev['params']['response']['status']}"
               for ev in self.b.events_of(self.session, "Network.responseReceived")
               if ev["params"]["response"]["status"] >= 400]
        ids = {ev["params"]["requestId"]: ev["params"]["request"]["url"]
               for ev in self.b.events_of(self.session, "Network.requestWillBeSent")}
        bad += [f"{ids.get(ev['params']['requestId'], '?')} -> {ev['params']['errorText']}"
                for ev in self.b.events_of(self.session, "Network.loadingFailed")]
        return [b for b in bad if not b.split(" -> ")[0].endswith("/favicon.ico")]

    def errors(self, source: str = ""):
        """Uncaught exceptions and console errors, only those raised in a script whose URL
        contains ``source`` when given (the theme's own scripts are not under test)."""
        def where(details):
            frames = (details.get("stackTrace") or {}).get("callFrames", [])
            return " ".join([details.get("url", "")] + [f.get("url", "") for f in frames])
        out = []
        for ev in self.b.events_of(self.session, "Runtime.exceptionThrown"):
            d = ev["params"]["exceptionDetails"]
            if source in where(d):
                out.append(d.get("exception", {}).get("description") or d.get("text"))
        for ev in self.b.events_of(self.session, "Runtime.consoleAPICalled"):
            p = ev["params"]
            if p["type"] in ("error", "assert") and source in where(p):
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        return out

    def report(self) -> str:
        return f"errors: {self.errors()}\nfailed loads: {self.failures()}"


@pytest.fixture(scope="module")
def site(built_book):
    """The built book served from 127.0.0.1; yields its base URL."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(built_book)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("no Chromium")
    refused = socket.socket()  # bound, never listening: connections to it are refused
    refused.bind(("127.0.0.1", 0))
    tmp = tmp_path_factory.mktemp("chromium")
    b = Browser(CHROMIUM, refused.getsockname()[1], str(tmp / "profile"), tmp / "chromium.log")
    try:
        b.send("Browser.getVersion", timeout=60)
    except Exception:
        b.close()
        refused.close()
        raise
    yield b
    b.close()
    refused.close()


# The rendered widgets of the page, as the html-manager puts them: each widget-view script
# gets a .widget-subarea holding the view's DOM just before it.
WIDGETS = """(() => {
  const views = [...document.querySelectorAll('script[type="%s"]')];
  return views.map(s => {
    const area = s.previousElementSibling;
    const ok = area && area.classList.contains('widget-subarea') && area.querySelector('.jupyter-widgets');
    return ok ? 1 : 0;
  });
})()""" % VIEW_MIME

# The figure switchers with a dropdown, as static_figure_switcher builds them: a VBox of a
# Dropdown and a Stack of HTML images, the Stack showing only its selected child.
SWITCHER_AREAS = """[...document.querySelectorAll('.widget-subarea')].filter(area => {
  const box = area.firstElementChild, kids = box ? [...box.children] : [];
  return kids.length === 2 && kids[0].matches('.widget-dropdown') && kids[1].matches('.widget-box')
         && kids[1].querySelector('.widget-html img');
})"""

SWITCHERS = """(() => %s.map(area => {
  const [dropdown, stack] = area.firstElementChild.children;
  const select = dropdown.querySelector('select');
  const shown = [...stack.querySelectorAll('img')].filter(i => i.getClientRects().length > 0
                                                              && i.naturalWidth > 0);
  // the Dropdown shows spaces as no-break spaces
  return {options: [...select.options].map(o => o.textContent.replace(/\u00a0/g, ' ')), index: select.selectedIndex,
          shown: shown.map(i => ({alt: i.alt, src: i.src.slice(0, 22), key: i.src.slice(-64)}))};
}))()""" % SWITCHER_AREAS

CHOOSE = """(() => {
  const select = %s[%%d].querySelector('select');
  select.selectedIndex = %%d;
  select.dispatchEvent(new Event('change', {bubbles: true}));
  return select.value;
})()""" % SWITCHER_AREAS


def page_url(site: str, built_book: Path, scheme: str, name: str) -> str:
    if scheme == "http":
        return f"{site}chapters/{name}.html"
    return (built_book / "chapters" / f"{name}.html").resolve().as_uri()


def check_offline(page: Page, origin: str):
    """Nothing was asked of any other host, and every local file was there."""
    bundle = [u for u in page.requests() if u.split("?")[0].endswith("/_static/widgets/embed.js")]
    assert len(bundle) == 1 and bundle[0].startswith(origin), f"{page.url}: widget bundle from {bundle}"
    outside = [u for u in page.requests() if not u.startswith(origin) and not u.startswith(LOCAL_SCHEMES)]
    assert not outside, f"{page.url} asked the network for {outside}"
    assert not page.failures(), f"{page.url}: failed loads {page.failures()}"
    errors = page.errors(source="/widgets/embed.js")
    assert not errors, f"{page.url}: errors from the widget bundle: {errors}"


def check_switcher(page: Page, which: int = 0):
    """The switcher shows its first figure, and another one once another entry is chosen."""
    switchers = page.wait_for(
        f"(() => {{ const s = {SWITCHERS}; return s.length > {which} && s[{which}].shown.length ? s : null }})()",
        what="a figure switcher showing a figure")
    first = switchers[which]
    assert len(first["options"]) >= 2, f"{page.url}: the switcher has one entry only: {first['options']}"
    assert first["index"] == 0 and len(first["shown"]) == 1, first
    assert first["shown"][0]["alt"] == first["options"][0], first
    assert first["shown"][0]["src"].startswith("data:image/png;base64"), first
    chosen = len(first["options"]) - 1
    page.js(CHOOSE % (which, chosen))
    after = page.wait_for(
        f"(() => {{ const s = {SWITCHERS}[{which}]; "
        f"return s.shown.length === 1 && s.shown[0].alt === {json.dumps(first['options'][chosen])} ? s : null }})()",
        what=f"the figure {first['options'][chosen]!r} after choosing it")
    assert after["shown"][0]["key"] != first["shown"][0]["key"], "the same image is shown after switching"


def load(browser, site, built_book, scheme, name) -> Page:
    page = Page(browser, page_url(site, built_book, scheme, name))
    rendered = page.wait_for(f"(() => {{ const w = {WIDGETS}; return w.length && w.every(x => x) ? w : null }})()",
                             what="every widget view rendered")
    assert len(rendered) >= 1
    return page


@needs_chromium
@pytest.mark.parametrize("scheme", ["http", "file"])
def test_explore_page_works_offline(browser, site, built_book, scheme):
    page = load(browser, site, built_book, scheme, "explore")
    check_switcher(page)
    # The explorer's first state: its filters, run list, metric selector and first figure.
    explorer = page.js("""(() => {
      const area = [...document.querySelectorAll('.widget-subarea')].find(a => a.querySelector('.widget-select-multiple'));
      if (!area) return null;
      const img = area.querySelector('.widget-output img');
      return {selects: area.querySelectorAll('select').length,
              runs: area.querySelector('.widget-select-multiple select').options.length,
              figure: img ? img.src.slice(0, 22) : null,
              shown: img ? img.getClientRects().length > 0 && img.naturalWidth > 0 : false};
    })()""")
    assert explorer, f"no explorer on the page\n{page.report()}"
    assert explorer["selects"] >= 2 and explorer["runs"] >= 1, explorer
    assert explorer["figure"] == "data:image/png;base64," and explorer["shown"], explorer
    check_offline(page, site if scheme == "http" else "file:")


@needs_chromium
@pytest.mark.parametrize("scheme", ["http", "file"])
def test_chapter_figure_switcher_works_offline(browser, site, built_book, scheme):
    page = load(browser, site, built_book, scheme, SWITCHER_CHAPTER)
    check_switcher(page)
    check_offline(page, site if scheme == "http" else "file:")


# Each audit table's width against the box it scrolls in (the cell's output area), or the
# page's article where nothing around it scrolls.
AUDIT_TABLE_FIT = """(() => [...document.querySelectorAll('table.audit-table')].map(t => {
  let box = t.parentElement;
  while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
  box = box || t.closest('article') || document.body;
  return {table: Math.ceil(t.getBoundingClientRect().width), box: box.clientWidth,
          row: t.rows.length > 1 ? t.rows[1].innerText.slice(0, 60) : ''};
}))()"""


@needs_chromium
def test_audit_tables_fit_the_text_column(browser, built_book):
    """At the browser's 1,280 px window every audit table, a chapter's and the audit page's
    (one column more), fits the text column: the reason, its last column, reads without a
    sideways scroll."""
    pages = [p for p in sorted((built_book / "chapters").glob("*.html")) if 'class="audit-table' in p.read_text()]
    assert "audit" in {p.stem for p in pages} and len(pages) >= 5, pages
    for p in pages:
        name, page = p.stem, Page(browser, p.resolve().as_uri())
        assert page.js("window.innerWidth") == WINDOW[0]
        for t in page.js(AUDIT_TABLE_FIT):
            assert t["table"] <= t["box"] + 1, f"{name}: an audit table {t['table']} px wide in {t['box']} px ({t['row']!r})"


@needs_chromium
def test_the_browser_has_no_network(browser, site):
    """The block holds: the widget bundle's CDN and any other host are out of reach,
    while the book's own server answers.  (It runs on a page of the book, not the site's
    root, whose index.html redirects to the first page and would navigate away mid-probe.)"""
    page = Page(browser, site + "chapters/pending.html")
    probe = """fetch(%s, {mode: 'no-cors', cache: 'no-store'}).then(() => 'reached', () => 'blocked')"""
    for url in ("https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist/embed.js",
                "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.4/require.min.js",
                "http://example.com/", "http://93.184.215.14/"):
        assert page.js(probe % json.dumps(url)) == "blocked", url
    assert page.js(probe % json.dumps(site + "chapters/explore.html")) == "reached"


def test_widget_pages_load_only_local_scripts(built_book):
    """Every page with saved widgets loads the widget JavaScript once, from the book itself,
    with no require.js and nothing from a CDN; pages without widgets do not load it. MathJax,
    on pages with mathematics, is the one script still taken from its CDN."""
    pages = sorted((built_book / "chapters").glob("*.html"))
    with_widgets = [p for p in pages if STATE_MIME in p.read_text()]
    assert {"explore", SWITCHER_CHAPTER} <= {p.stem for p in with_widgets}
    for p in pages:
        text = p.read_text()
        srcs = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", text)
        embed = [u for u in srcs if u.split("?")[0].endswith("/widgets/embed.js")]
        if p not in with_widgets:
            assert not embed, f"{p.name} has no widgets but loads {embed}"
            continue
        assert len(embed) == 1, f"{p.name}: widget bundle scripts {embed}"
        assert (p.parent / embed[0].split("?")[0]).resolve().is_file(), embed[0]
        hrefs = re.findall(r"<link[^>]*\shref=\"([^\"]+)\"", text)
        remote = [u for u in srcs + hrefs if re.match(r"(https?:)?//", u) and not MATHJAX.fullmatch(u)]
        assert not remote, f"{p.name} loads {remote}"
        rest = MATHJAX.sub("", text)
        for bad in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "require.js", "require.min.js", "embed-amd"):
            assert bad not in rest, f"{p.name} mentions {bad}"
