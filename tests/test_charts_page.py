"""``index.html`` read as a user reads it: its text, line by line, on real SQLite files.

Three databases a newcomer meets: one half an hour old (the service ran,
the vendor's API and status page never answered), one holding only
failures imported from a tool's log, and two known days of a running
monitor. The page is built as ``monitor chart`` builds it (``dashboard_for``:
default range, the answer on top) and rendered without drawing the charts,
so each test takes a fraction of a second; the browser test draws them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from monitor.charts.generate import dashboard_for
from monitor.charts.model import Dashboard
from monitor.charts.page import page
from monitor.cli.report import report_lines
from monitor.config import Config, load_config
from monitor.store import Store, open_store
from monitor.store.checkruns import CheckSpec, sync_checks
from monitor.store.models import Heartbeat
from monitor.views.why import WhyQuestion, verdict_at
from tests.dashboard_seed import (
    FRESH_CONFIG,
    FRESH_NOW,
    NOW,
    T0,
    T1,
    Seeded,
    SeededRun,
    seed,
    seed_fresh,
    seed_imported,
    write_runs,
)

BLOCKS = {"h1", "h2", "h3", "h4", "p", "li", "tr", "figcaption", "ul", "table", "section"}


class Text(HTMLParser):
    """The page's text as lines: one per heading, paragraph, list item or table row."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.line: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "title"):
            self.skip += 1
        elif tag in BLOCKS:
            self.flush()
        elif tag in ("th", "td") and "".join(self.line).strip():
            self.line.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self.skip -= 1
        elif tag in BLOCKS:
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.line.append(data)

    def flush(self) -> None:
        text = " ".join("".join(self.line).split())
        if text:
            self.lines.append(text)
        self.line = []


def text_of(html: str) -> list[str]:
    parser = Text()
    parser.feed(html)
    parser.flush()
    return parser.lines


def config_in(tmp_path: Path, body: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(f'[monitor]\nprobe = "test-probe"\n{body}', encoding="utf-8")
    return load_config(path)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[Config, Store]]:
    config = config_in(tmp_path, FRESH_CONFIG)
    store = open_store(config.database_url)
    yield config, store
    store.close()


def html_of(dashboard: Dashboard) -> str:
    return page(dashboard, [], "v1")


def test_an_empty_database_says_so_under_the_answer(fresh):
    config, store = fresh

    lines = text_of(
        html_of(dashboard_for(config, store, since=None, until=FRESH_NOW, now=FRESH_NOW))
    )

    assert lines[1] == (  # the last hour (from 09:30), by whole hours
        "Generated 2026-05-04 10:30 UTC. Range 2026-05-04 09:00 to 2026-05-04 10:30 UTC "
        "(90 minutes)."
    )
    assert lines[2] == "Right now: no_data (high confidence)"
    assert lines[6:] == [
        "Status pages",
        "claude: never polled (monitor run polls it, monitor poll once)",
        "1 of 1 status page not read (never polled, or the last poll failed): what it declared "
        "is unknown, so the charts below cannot show it.",
        "No data yet: nothing was recorded in this range, neither check runs nor upstream "
        "incidents nor imported failures. Start the service with monitor run (or run monitor "
        "check and monitor poll), then regenerate with monitor chart.",
    ]


def test_a_first_dashboard_answers_first_and_says_the_status_page_cannot_be_read(fresh):
    config, store = fresh
    seed_fresh(store)

    dashboard = dashboard_for(config, store, since=None, until=FRESH_NOW, now=FRESH_NOW)
    html = html_of(dashboard)

    with store.reading() as reader:
        why = verdict_at(reader, config, WhyQuestion(at=FRESH_NOW))  # what `monitor why` says
    assert why.verdict == "network"
    assert text_of(html)[:13] == [
        "Is it me, or is it them?",
        # The range is what was recorded (from 10:01), not thirty days of "no data".
        "Generated 2026-05-04 10:30 UTC. "
        "Range 2026-05-04 10:00 to 2026-05-04 10:30 UTC (30 minutes).",
        "Right now: network (low confidence)",
        why.summary,
        f"Next step: {why.next_step}",
        "As monitor why answers it for 2026-05-04 10:30 UTC.",
        "Status pages",
        "claude: last poll 2026-05-04 10:16 UTC (14m ago), could not be read: ConnectError: "
        "[Errno 111] Connection refused <status.claude.com>; unknown (last poll failed)",
        "1 of 1 status page not read (never polled, or the last poll failed): what it declared "
        "is unknown, so the charts below cannot show it.",
        "Uptime per check",
        "Check | Role | Uptime | Runs | Failed runs | Longest outage | Monitored",
        # Six runs 10:02 to 10:27, every five minutes: each speaks until the next, the last
        # until the end of the range.
        "api-reachable | vendor | 0.00 % | 6 | 6 | 28m from 2026-05-04 10:02 | 28m",
        "control | control | 100.00 % | 6 | 0 | none | 28m",
    ]
    assert "Connection refused &lt;status.claude.com&gt;" in html  # outside text, escaped
    api = dashboard.panels[0]
    (cell,) = api.cells  # today's failures are the whole strip, not a sliver of 30 days
    assert (cell.start, cell.end, cell.state) == (
        datetime(2026, 5, 4, 10, 0, tzinfo=UTC),
        FRESH_NOW,
        "down",
    )
    assert cell.coverage == pytest.approx(28 / 30)
    # A range asked for is drawn as asked, whatever was recorded.
    week = dashboard_for(
        config, store, since=FRESH_NOW - timedelta(days=7), until=FRESH_NOW, now=FRESH_NOW
    )
    assert (week.lo, week.hi) == (datetime(2026, 4, 27, tzinfo=UTC), FRESH_NOW)


def test_imported_failures_alone_say_why_there_is_no_uptime_and_no_latency(fresh):
    config, store = fresh
    seed_imported(store)

    default = dashboard_for(config, store, since=None, until=FRESH_NOW, now=FRESH_NOW)
    chosen = dashboard_for(
        config, store, since=datetime(2026, 4, 1, tzinfo=UTC), until=FRESH_NOW, now=FRESH_NOW
    )

    assert text_of(html_of(default))[1] == (
        "Generated 2026-05-04 10:30 UTC. Range 2026-05-01 00:00 to 2026-05-04 10:30 UTC (3 days)."
    )  # from the first import (09:12 on May 1st), by whole days beyond two days
    lines = text_of(html_of(chosen))
    assert lines[1].endswith("Range 2026-04-01 00:00 to 2026-05-04 10:30 UTC (33 days).")
    sections = lines[lines.index("Uptime per check") :]
    assert [line for line in sections if not line.startswith(("Status-page", "From "))][:7] == [
        "Uptime per check",
        "No uptime: the only failures in this range were imported from your tools' logs "
        "(monitor import). A log says when a call failed, not how many worked, so it gives no "
        "uptime. Checks measure it: monitor run runs them on schedule.",
        "Upstream vs your checks",
        "Latency",
        "No latency: no check ran in this range.",
        "Upstream incidents and maintenances",
        "No incidents: no status page has been polled, so none could be recorded. Configure a "
        "[[source]]; monitor run polls it.",
    ]
    assert 'id="uptime"' not in html_of(chosen)  # no table with a header and no rows


NORMAL_CONFIG = (
    '[[source]]\nname = "claude"\nkind = "statuspage"\nurl = "https://status.claude.com"\n'
    '[[source]]\nname = "github"\nkind = "statuspage"\nurl = "https://www.githubstatus.com"\n'
    + "".join(
        f'[[check]]\nname = "{name}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\ninterval = "5m"\n'
        for name in ("api-reachable", "control", "api-authenticated")
    )
)


def test_two_known_days_read_as_sections_tables_and_escaped_titles(tmp_path):
    config = config_in(tmp_path, NORMAL_CONFIG)
    store = open_store(config.database_url)
    try:
        seed(store)
        html = html_of(dashboard_for(config, store, since=T0, until=T1, now=NOW))
    finally:
        store.close()

    lines = text_of(html)
    headings = [line for line in lines if line in HEADINGS]
    assert headings == list(HEADINGS)
    start = lines.index("Check | Role | Uptime | Runs | Failed runs | Longest outage | Monitored")
    assert lines[start + 1 : start + 4] == [
        # 09:30-10:15 failing; 19:50 and 19:55 failed, then six hours of silence: 10 min.
        "api-authenticated | vendor | no data | 0 | 0 | none | 0s",  # skipped only
        "api-reachable | vendor | 97.81 % | 504 | 11 | 45m from 2026-04-14 09:30 | 1d18h",
        "control | control | 99.80 % | 504 | 1 | 5m from 2026-04-14 15:00 | 1d18h",
    ]
    start = lines.index("Started | Ended | Source | Impact | Title")
    assert lines[start + 1 : start + 4] == [
        "2026-04-14 22:00 | 2026-04-14 23:00 | claude | maintenance | "
        "Scheduled database maintenance",
        "2026-04-14 09:20 | 2026-04-14 10:30 | claude | major | Elevated errors on the API",
        "2026-04-13 10:00 | 2026-04-13 11:00 | github | minor | <b>API & Console</b>",
    ]
    assert "&lt;b&gt;API &amp; Console&lt;/b&gt;" in html
    assert not [line for line in lines if line.startswith(("No uptime", "No latency", "No data"))]


HEADINGS = (
    "Is it me, or is it them?",
    "Status pages",
    "Uptime per check",
    "Upstream vs your checks",
    "Latency",
    "Upstream incidents and maintenances",
    "Declared versus seen",
)


SHORT_CONFIG = "".join(
    f'[[check]]\nname = "{name}"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n'
    f'interval = "{every}"\n'
    for name, every in (("clock", "15m"), ("callback-port", "5m"), ("daily", "1d"))
)


def test_a_service_that_ran_43_seconds_shows_43_seconds_monitored_and_no_longer_outage(tmp_path):
    config = config_in(tmp_path, SHORT_CONFIG)
    store = open_store(config.database_url)
    day = datetime(2026, 5, 4, tzinfo=UTC)
    started, stopped = (
        day.replace(hour=14, minute=43, second=33),
        day.replace(hour=14, minute=44, second=16),
    )
    try:
        seeded = Seeded(
            runs=[
                SeededRun("clock", started, ok=False, failure_class="clock_skew"),
                SeededRun("callback-port", started + timedelta(seconds=1), ok=True),
                # A daily check run once by hand, long after the service stopped.
                SeededRun("daily", day.replace(hour=15), ok=False, failure_class="timeout"),
            ]
        )
        with store.write() as session, session.begin():
            seeded.check_ids = sync_checks(
                session,
                [
                    CheckSpec(n, "tcp", "local", "127.0.0.1:9")
                    for n in ("clock", "callback-port", "daily")
                ],
                day,
            )
            write_runs(session, seeded, seeded.runs)
            session.add(
                Heartbeat(
                    probe="test-probe",
                    started_at=started,
                    last_seen=stopped,
                    stopped_at=stopped,
                    pid=1,
                    host="h",
                )
            )
        dashboard = dashboard_for(
            config,
            store,
            since=day.replace(hour=14),
            until=day.replace(hour=15, minute=30),
            now=day.replace(hour=15, minute=30),
        )
    finally:
        store.close()

    lines = text_of(html_of(dashboard))
    start = lines.index("Check | Role | Uptime | Runs | Failed runs | Longest outage | Monitored")
    assert lines[start + 1 : start + 4] == [
        "callback-port | vendor | 100.00 % | 1 | 0 | none | 42s",
        "clock | vendor | 0.00 % | 1 | 1 | 43s from 2026-05-04 14:43 | 43s",
        "daily | vendor | 0.00 % | 1 | 1 | 1m from 2026-05-04 15:00 | 1m",
    ]


def test_a_status_page_never_read_has_no_declared_figure_on_the_page_nor_in_the_report(fresh):
    config, store = fresh
    seed_fresh(store)  # api-reachable timing out with the control passing; every poll failed

    dashboard = dashboard_for(config, store, since=None, until=FRESH_NOW, now=FRESH_NOW)
    lines = text_of(html_of(dashboard))
    section = lines[lines.index("Declared versus seen") :]
    assert dashboard.report is not None
    printed = report_lines(dashboard.report, None)

    assert section[section.index("claude") :] == [
        "claude",
        "Figure | Value",
        "Incidents declared | — (not read in this range: what it declared is unknown)",
        "Seen / not seen / not watched | 0 / 0 / 0",
        "Median declaration lag | — (no declared incident was seen by the checks)",
        "Seen outages the page declared | — (not read in this range: what it declared is unknown)",
        "Uptime declared vs measured | — declared (not read in this range: what it declared is "
        "unknown), 3.44 % measured, over 29m watched",
        "No incidents known: the page was not read in this range: what it declared is unknown.",
        "Outages the page did not declare",
        "Not told: the page was not read in this range: what it declared is unknown, so no "
        "outage is called undeclared.",
    ]
    assert not [line for line in section if "100" in line or "every vendor outage" in line]
    # monitor report says the same of the same figures.
    assert printed[-5:] == [
        "claude: not read in this range: what it declared is unknown",
        "  declared: 0 incidents; seen by your checks 0, not seen 0, not watched 0",
        "  median declaration lag: none (nothing declared was seen)",
        "  outages seen 0, declared n/a (not read in this range: what it declared is unknown)",
        "  uptime over watched time: declared n/a, measured 3.448 %",
    ]
