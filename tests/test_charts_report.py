"""The dashboards' "Declared versus seen": its chart, its page section, and ``monitor chart``.

Reports are built from literals (the dataclasses themselves), so every
figure on the page is known before the code under test runs; one test goes
through ``monitor chart`` on a seeded SQLite file.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.charts.declared import declared_figure, unwatched
from monitor.charts.declared_page import (
    NO_CONTROL,
    NO_SOURCES,
    NONE_UNDECLARED,
    NOTHING_WATCHED,
    declared_section,
    lag_text,
    minutes_text,
)
from monitor.charts.render import chart_style, save
from monitor.cli import main
from monitor.correlate.report import IncidentSeen, Report, SourceReport, UndeclaredOutage
from monitor.store import open_store
from tests.conftest import WriteConfig, load
from tests.dashboard_seed import seed

T0 = datetime(2026, 4, 13, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 4, 15, 0, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 4, day, hour, minute, tzinfo=UTC)


def incident(title: str, impact: str | None, declared: datetime, **kwargs: object) -> IncidentSeen:
    """A declared incident, by default resolved an hour later, watched and not seen."""
    fields: dict[str, object] = {
        "url": None,
        "resolved": declared + timedelta(hours=1),
        "watched": True,
        "first_seen": None,
        "recovered": None,
        "seen_by": (),
    }
    fields.update(kwargs)
    return IncidentSeen(title=title, impact=impact, declared=declared, **fields)  # type: ignore[arg-type]


# Watched: all but 20:00 to 02:00, that is 42 hours (2520 minutes) of 48.
WATCHED = ((T0, at(13, 20)), (at(14, 2), T1))
CLAUDE = SourceReport(
    source="claude",
    incidents=(
        incident(HOSTILE, "minor", at(13, 12), url="javascript:alert(1)"),
        incident("Night outage", "critical", at(13, 22), watched=False),
        incident(
            "Elevated errors on the API",
            "major",
            at(14, 9, 30),
            url="https://status.claude.com/incidents/inc-1",
            resolved=at(14, 10, 30),
            first_seen=at(14, 9, 5),
            recovered=at(14, 10, 15),
            seen_by=("api-reachable",),
        ),
        incident(
            "Slow responses",
            "minor",
            at(14, 16),
            resolved=at(14, 16, 20),
            first_seen=at(14, 16, 3),
            recovered=at(14, 16, 30),
            seen_by=("api-reachable", "api.anthropic.com"),
        ),
    ),
    undeclared=(
        UndeclaredOutage(
            checks=("api-reachable", "api-authenticated"),
            start=at(14, 18),
            end=at(14, 18, 45),
            failure_classes=("server_error",),
            minutes=45.0,
        ),
        UndeclaredOutage(
            checks=("api-reachable",),
            start=at(14, 23, 30),
            end=None,
            failure_classes=("timeout",),
            minutes=30.0,
        ),
    ),
    watched_minutes=2520.0,
    declared_down_minutes=630.0,  # 75 % declared up
    measured_down_minutes=1260.0,  # 50 % measured up
    declared_outages=2,  # the two seen incidents' failures, apart in time
    known=((T0, T1),),  # the page read through the range
    known_watched_minutes=2520.0,
)
GITHUB = SourceReport(
    source="github",
    incidents=(),
    undeclared=(),
    watched_minutes=2520.0,
    declared_down_minutes=0.0,
    measured_down_minutes=0.0,
    known=((T0, T1),),
    known_watched_minutes=2520.0,
)
REPORT = Report(since=T0, until=T1, watched=WATCHED, sources=(CLAUDE, GITHUB), control_ran=True)


def figures(html: str, source: str) -> dict[str, str]:
    """The figures table of one source's part: heading -> value, as written."""
    part = html.split(f'data-source="{source}"', 1)[1].split("</section>", 1)[0]
    table = part.split('class="declared-figures"', 1)[1].split("</table>", 1)[0]
    rows = table.split('<th scope="row">')[1:]
    return {row.split("</th>", 1)[0]: row.split("<td>", 1)[1].split("</td>", 1)[0] for row in rows}


def svg_of(report: Report) -> tuple[str, str]:
    """The chart as SVG: its raw file, and all its text joined."""
    with chart_style():
        figure = declared_figure(report)
        target = io.BytesIO()
        save(figure, target, "svg")
    raw = target.getvalue().decode("utf-8")
    root = ET.fromstring(raw)  # noqa: S314 (our own file)
    return raw, " ".join("".join(node.itertext()) for node in root.iter())


def test_the_chart_names_each_sources_lanes_and_labels_the_lags():
    raw, text = svg_of(REPORT)

    for lane in ("claude: declared", "claude: seen", "github: declared", "github: seen"):
        assert lane in text
    assert "25 min late" in text  # the page declared 09:30 what the checks saw at 09:05
    assert "3 min early" in text  # declared 16:00, first seen 16:03
    assert "seen, never declared" in text
    assert "not watched (no heartbeat, no run)" in text
    assert "Declared versus seen, 2026-04-13 00:00 to 2026-04-15 00:00 UTC" in text
    assert HOSTILE not in text  # no incident title is drawn (the page lists them, escaped)
    assert "<script" not in raw


def test_unwatched_time_is_the_range_outside_the_watched_spans():
    assert unwatched(REPORT) == [(at(13, 20), at(14, 2))]
    assert unwatched(replace(REPORT, watched=())) == [(T0, T1)]
    assert unwatched(replace(REPORT, watched=((T0, T1),))) == []


def test_the_section_writes_each_figure():
    html = declared_section(REPORT)

    assert figures(html, "claude") == {
        "Incidents declared": "4: critical 1, major 1, minor 2",
        "Seen / not seen / not watched": "2 / 1 / 1",
        "Median declaration lag": "11 min late",  # the median of 25 and -3
        "Seen outages the page declared": "50 % (2 of 4)",
        "Uptime declared vs measured": "75.00 % declared, 50.00 % measured, over 1d18h watched",
    }
    assert "the monitor watched 1d18h of 2d." in html


def test_the_section_lists_the_incidents_and_the_undeclared_outages():
    html = declared_section(REPORT)

    assert (
        '<tr><td><a href="https://status.claude.com/incidents/inc-1" rel="noopener noreferrer">'
        "Elevated errors on the API</a></td><td>major</td><td>2026-04-14 09:30</td>"
        '<td>2026-04-14 09:05</td><td class="num">25</td><td class="num">15</td>'
        "<td>api-reachable</td></tr>"
    ) in html
    assert (
        "<tr><td>Slow responses</td><td>minor</td><td>2026-04-14 16:00</td>"
        '<td>2026-04-14 16:03</td><td class="num">-3</td><td class="num">-10</td>'
        "<td>api-reachable, api.anthropic.com</td></tr>"
    ) in html
    assert (
        "<td>Night outage</td><td>critical</td><td>2026-04-13 22:00</td><td>not watched</td>"
        in (html)
    )
    assert (
        "<tr><td>api-reachable, api-authenticated</td><td>2026-04-14 18:00</td>"
        '<td class="num">45</td><td>server_error</td></tr>'
    ) in html
    assert '<td class="num">30 (still failing)</td><td>timeout</td>' in html


def test_hostile_titles_are_escaped_and_a_script_url_is_no_link():
    html = declared_section(REPORT)

    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>minor</td>" in html
    assert "<script" not in html
    assert "javascript:" not in html


def test_a_source_with_nothing_says_why_each_part_is_empty():
    html = declared_section(REPORT)

    assert figures(html, "github") == {
        "Incidents declared": "0 (no incidents declared in this range)",
        "Seen / not seen / not watched": "0 / 0 / 0",
        "Median declaration lag": "— (no declared incident was seen by the checks)",
        "Seen outages the page declared": "— (the checks saw no outage)",
        "Uptime declared vs measured": "100.00 % declared, 100.00 % measured, over 1d18h watched",
    }
    github = html.split('data-source="github"', 1)[1]
    assert '<p class="meta">No incidents declared in this range.</p>' in github
    assert NONE_UNDECLARED in github


def test_without_a_control_check_undeclared_outages_are_not_told():
    html = declared_section(
        replace(REPORT, sources=(replace(CLAUDE, undeclared=()),), control_ran=False)
    )

    assert NO_CONTROL in html
    assert figures(html, "claude")["Seen outages the page declared"] == (
        "100 % (2 of 2) (undeclared outages not told: no control check ran)"
    )


def test_nothing_watched_says_so_and_measures_nothing():
    quiet = SourceReport(
        "claude",
        (incident("Night outage", "major", at(13, 22), watched=False),),
        (),
        0.0,
        0.0,
        0.0,
        known=((T0, T1),),
    )
    html = declared_section(Report(T0, T1, (), (quiet,), control_ran=True))

    assert NOTHING_WATCHED in html
    assert "the monitor watched 0s of 2d." in html
    shown = figures(html, "claude")
    assert shown["Seen / not seen / not watched"] == "0 / 0 / 1"
    assert shown["Uptime declared vs measured"] == "— (nothing watched in this range)"
    assert "Nothing watched in this range: no outage seen." in html


def test_no_sources_configured_says_there_is_nothing_to_compare():
    html = declared_section(Report(T0, T1, WATCHED, ()))

    assert NO_SOURCES in html
    assert "<section" not in html


@pytest.mark.parametrize(
    ("minutes", "number", "words"),
    [
        (25.0, "25", "25 min late"),
        (-3.0, "-3", "3 min early"),
        (0.0, "0", "on time"),
        (12.5, "12.5", "12.5 min late"),
        (-0.5, "-0.5", "0.5 min early"),
    ],
)
def test_a_lag_in_numbers_and_in_words(minutes, number, words):
    assert minutes_text(minutes) == number
    assert lag_text(minutes) == words


def test_monitor_chart_writes_the_chart_and_the_section_over_its_range(
    write_config: WriteConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Through ``monitor chart`` on the seeded history: claude declared at 09:20 what
    api-reachable began failing at 09:30, and resolved 10:30 what passed again at 10:15."""
    path = write_config(
        sources=[
            {"name": "claude", "kind": "statuspage", "url": "https://status.claude.com"},
            {"name": "github", "kind": "statuspage", "url": "https://www.githubstatus.com"},
        ]
    )
    store = open_store(load(path).database_url)
    try:
        seed(store)
    finally:
        store.close()
    out = tmp_path / "site"

    with pytest.raises(SystemExit) as exited:
        main(
            [
                "--config",
                str(path),
                "chart",
                "--since",
                "2026-04-13T00:00:00Z",
                "--until",
                "2026-04-15T00:00:00Z",
                "--out",
                str(out),
                "--format",
                "svg",
            ]
        )

    assert exited.value.code == 0
    assert f"wrote {out / 'declared.svg'} (1200x368)" in capsys.readouterr().out
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Range 2026-04-13 00:00 to 2026-04-15 00:00 UTC" in html
    assert "<h2>Declared versus seen</h2>" in html
    assert 'src="declared.svg?v=' in html
    assert "From 2026-04-13 00:00 to 2026-04-15 00:00 UTC the monitor watched" in html
    claude = figures(html, "claude")
    assert claude["Incidents declared"] == "1: major 1"
    assert claude["Seen / not seen / not watched"] == "1 / 0 / 0"
    assert claude["Median declaration lag"] == "10 min early"
    assert (
        '<td>2026-04-14 09:20</td><td>2026-04-14 09:30</td><td class="num">-10</td>'
        '<td class="num">15</td>'
    ) in html
    assert figures(html, "github")["Seen / not seen / not watched"] == "0 / 1 / 0"
    assert "&lt;b&gt;API &amp; Console&lt;/b&gt;" in html
    svg = ET.parse(out / "declared.svg").getroot()  # noqa: S314 (our own file)
    assert "10 min early" in " ".join("".join(node.itertext()) for node in svg.iter())
