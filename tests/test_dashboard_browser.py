"""index.html in a real headless browser (Debian's chromium), driven over the DevTools protocol.

Loaded from ``file://``: every image must decode, the console must stay
free of errors, the page must fit a phone's width without sideways scrolling
(tables scroll inside their own box), and screenshots are written to the
test's temp folder. Skipped only where chromium is missing and CI is not
set; in CI (``.ci/run`` exports CI=1) a missing browser fails the test.
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

from monitor.charts.generate import generate
from tests.dashboard_seed import CHECKS, NOW, T0, T1, seed

TIMEOUT = 30.0  # seconds, for every wait on the browser


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


def load(page: Page, url: str) -> None:
    for domain in ("Page", "Runtime", "Log"):
        page.send(f"{domain}.enable")
    mark = len(page.events)
    page.send("Page.navigate", url=url)
    page.wait_for("Page.loadEventFired", after=mark)


IMAGES = "[...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"


def test_the_dashboard_loads_from_file_with_every_image_and_no_console_error(
    sqlite_store, tmp_path
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

    with browser(tmp_path) as page:
        load(page, report.index.as_uri())
        images = page.evaluate(IMAGES)
        decoded = page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        rows = page.evaluate("document.querySelectorAll('#uptime tbody tr').length")
        incidents = page.evaluate("document.querySelectorAll('#incidents tbody tr').length")
        page.screenshot(tmp_path / "dashboard.png")

        page.send(
            "Emulation.setDeviceMetricsOverride",
            width=390,
            height=844,
            deviceScaleFactor=2,
            mobile=True,
        )
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


def test_the_no_data_yet_page_loads_without_errors(sqlite_store, tmp_path):
    report = generate(sqlite_store, since=T0, until=T1, out_dir=tmp_path / "d", now=NOW)

    with browser(tmp_path) as page:
        load(page, report.index.as_uri())
        text = page.evaluate("document.body.innerText")
        problems = page.problems()

    assert "No data yet" in text
    assert problems == []
