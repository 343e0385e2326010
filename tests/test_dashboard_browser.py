"""index.html in a real headless browser (Debian's chromium), driven over the DevTools protocol.

Loaded from ``file://``: every image must decode, the console must stay
free of errors, the page must fit a phone's width without sideways scrolling
(tables scroll inside their own box), and screenshots are kept in
``tests/.artifacts/`` for a person to look at. One browser serves the whole
module (starting one costs seconds). Skipped only where chromium is missing
and CI is not set; in CI (``.ci/run`` exports CI=1) a missing browser fails
the test.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.charts.generate import generate, generate_for
from monitor.config import load_config
from monitor.store import Store, open_store
from tests.dashboard_seed import (
    CHECKS,
    FRESH_CONFIG,
    FRESH_NOW,
    NOW,
    POLL_ERROR,
    T0,
    T1,
    seed,
    seed_fresh,
)

TIMEOUT = 30.0  # seconds, for every wait on the browser
ARTIFACTS = Path(__file__).parent / ".artifacts"  # screenshots kept after the run (git-ignored)
PHONE = (390, 844)
DESKTOP = (1280, 900)


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
    pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")


class Page:
    """One browser tab over a DevTools websocket: commands, and the events seen so far."""

    def __init__(self, url: str) -> None:
        websocket = pytest.importorskip("websocket")
        self.ws = websocket.create_connection(url, timeout=TIMEOUT, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        call = next(self.ids)
        self.ws.send(json.dumps({"id": call, "method": method, "params": params}))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            message: dict[str, Any] = json.loads(self.ws.recv())  # DevTools sends objects
            if message.get("id") == call:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)
        raise TimeoutError(f"no answer to {method} within {TIMEOUT}s")

    def wait_for(self, method: str, after: int = 0) -> dict[str, Any]:
        """The first ``method`` event from the ``after``-th event seen on."""
        deadline = time.monotonic() + TIMEOUT
        for event in self.events[after:]:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            received: dict[str, Any] = json.loads(self.ws.recv())
            self.events.append(received)
            if received.get("method") == method:
                return received
        raise TimeoutError(f"no {method} within {TIMEOUT}s")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"]["value"]

    def screenshot(self, path: Path) -> None:
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def problems(self) -> list[str]:
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        return found


@contextlib.contextmanager
def browser(tmp_path: Path) -> Iterator[Page]:
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [
            find_chromium(),
            "--headless=new",
            "--disable-gpu",
            "--no-sandbox",
            # Nothing but the page: no update checks, sync, crash reports or first-run
            # fetches, so the test never reaches out to the internet.
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-breakpad",
            "--disable-crash-reporter",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--metrics-recording-only",
            "--no-pings",
            "--safebrowsing-disable-auto-update",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--window-size=1280,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    page: Page | None = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"chromium did not start (exit status {process.poll()})")
            time.sleep(0.05)
        port = int(port_file.read_text().splitlines()[0])
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
                targets = json.load(answer)
            if any(t.get("type") == "page" for t in targets):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("chromium opened no page")
            time.sleep(0.05)  # waiting on the browser process, not on the clock
        target = next(t for t in targets if t.get("type") == "page")
        page = Page(target["webSocketDebuggerUrl"])
        yield page
    finally:
        if page is not None:
            page.ws.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def tab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """One headless chromium for every test of the module."""
    with browser(tmp_path_factory.mktemp("chromium")) as page:
        yield page


def load(page: Page, url: str, size: tuple[int, int] = DESKTOP, scale: int = 1) -> None:
    """Open ``url`` at ``size`` CSS pixels; the events seen are this page's alone."""
    page.events.clear()
    for domain in ("Page", "Runtime", "Log"):
        page.send(f"{domain}.enable")
    resize(page, size, scale)
    mark = len(page.events)
    page.send("Page.navigate", url=url)
    page.wait_for("Page.loadEventFired", after=mark)


def resize(page: Page, size: tuple[int, int], scale: int) -> None:
    width, height = size
    page.send(
        "Emulation.setDeviceMetricsOverride",
        width=width,
        height=height,
        deviceScaleFactor=scale,
        mobile=width < 600,
    )
    # A desktop scrollbar would take its 15 pixels off the page (and the screenshot's width).
    page.send("Emulation.setScrollbarsHidden", hidden=True)


def png_width(path: Path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big")


IMAGES = "[...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"


def test_the_dashboard_loads_from_file_with_every_image_and_no_console_error(
    sqlite_store, tmp_path, tab
):
    seed(sqlite_store)
    out = tmp_path / "dashboards"
    report = generate(
        sqlite_store,
        since=T0,
        until=T1,
        out_dir=out,
        now=NOW,
        intervals=dict.fromkeys(CHECKS, timedelta(minutes=5)),
    )

    page = tab
    load(page, report.index.as_uri())
    images = page.evaluate(IMAGES)
    decoded = page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    rows = page.evaluate("document.querySelectorAll('#uptime tbody tr').length")
    incidents = page.evaluate("document.querySelectorAll('#incidents tbody tr').length")
    page.screenshot(tmp_path / "dashboard.png")

    resize(page, PHONE, 2)
    mark = len(page.events)
    page.send("Page.reload")
    page.wait_for("Page.loadEventFired", after=mark)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    phone_images = page.evaluate("[...document.images].map(i => i.clientWidth)")
    page.screenshot(tmp_path / "dashboard-phone.png")
    problems = page.problems()

    assert len(images) == 3
    assert all(src.split("?")[0].endswith(".png") for src, _, _ in images)
    assert decoded, images
    assert all(width == 1200 for _, _, width in images)
    assert rows == 3
    assert incidents == 3  # two incidents and a maintenance
    assert problems == []
    assert overflow <= 0  # nothing wider than a phone: charts shrink, tables scroll in place
    assert all(0 < width <= 390 for width in phone_images)
    for shot in ("dashboard.png", "dashboard-phone.png"):
        assert (tmp_path / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_no_data_yet_page_loads_without_errors(sqlite_store, tmp_path, tab):
    report = generate(sqlite_store, since=T0, until=T1, out_dir=tmp_path / "d", now=NOW)

    load(tab, report.index.as_uri())
    text = tab.evaluate("document.body.innerText")

    assert "No data yet" in text
    assert tab.problems() == []


ANSWER = "document.querySelector('#answer').innerText"
PAGES = "[...document.querySelectorAll('#pages li')].map(li => [li.dataset.state, li.innerText])"
# Where the answer's box sits: it must be the first thing read, on a phone too.
TOP = "document.querySelector('#answer').getBoundingClientRect().top"
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def first_hour(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    path = tmp_path / "config.toml"
    path.write_text(f'[monitor]\nprobe = "test-probe"\n{FRESH_CONFIG}', encoding="utf-8")
    store = open_store(load_config(path).database_url)
    seed_fresh(store)
    yield path, store
    store.close()


def test_a_first_dashboard_reads_on_a_phone_and_a_desktop_answer_first(first_hour, tmp_path, tab):
    path, store = first_hour
    report = generate_for(
        load_config(path),
        store,
        since=None,
        until=FRESH_NOW,
        now=FRESH_NOW,
        out_dir=tmp_path / "first",
        formats=("png",),
    )
    ARTIFACTS.mkdir(exist_ok=True)
    seen = {}
    for name, size, scale in (("desktop", DESKTOP, 1), ("phone", PHONE, 2)):
        load(tab, report.index.as_uri(), size, scale)
        shot = ARTIFACTS / f"first-dashboard-{name}.png"
        tab.screenshot(shot)
        seen[name] = {
            "answer": tab.evaluate(ANSWER),
            "pages": tab.evaluate(PAGES),
            "top": tab.evaluate(TOP),
            "overflow": tab.evaluate(OVERFLOW),
            "decoded": tab.evaluate("[...document.images].every(i => i.naturalWidth > 0)"),
            "problems": tab.problems(),
            "shot": png_width(shot),
        }

    for name, size, scale in (("desktop", DESKTOP, 1), ("phone", PHONE, 2)):
        page = seen[name]
        assert page["answer"].startswith("Right now: network (low confidence)\n"), name
        assert "Next step: " in page["answer"]
        assert page["pages"] == [
            [
                "unread",
                f"claude: last poll 2026-05-04 10:16 UTC (14m ago), could not be read: "
                f"{POLL_ERROR}; unknown (last poll failed)",
            ]
        ]
        assert page["top"] < size[1] / 2  # in the first half of the first screen
        assert page["overflow"] <= 0  # no sideways scrolling, a long error included
        assert page["decoded"] is True
        assert page["problems"] == []
        assert page["shot"] == size[0] * scale  # the screenshot is as wide as the viewport
