"""Write the dashboard: charts as PNG and/or SVG, and ``index.html``, into one folder.

Every file is first written beside its final name under a temporary name,
and only when all of them are written are they moved into place (``os.replace``,
atomic on one file system), the page last. A browser never sees half an
image, and a crash or an error leaves the previous set as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

from monitor.charts.answer import Answer, read_answer
from monitor.charts.declared import declared_chart
from monitor.charts.model import DEFAULT_SPAN, Dashboard, build, default_since, range_start
from monitor.charts.page import ChartLink, page
from monitor.charts.render import chart_style, latency_figure, pixels, save, uptime_figure
from monitor.charts.timeline import timeline_figure
from monitor.correlate.matching import Tolerance
from monitor.correlate.report import Report, build_report
from monitor.errors import MonitorError
from monitor.store import Store
from monitor.store.evidence import read_report
from monitor.store.history import first_recorded, read_history

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from monitor.config import Config

FORMATS = ("png", "svg")
# The longest range drawn: ten years of days (a chart draws a day per cell beyond two days,
# so a range of centuries would run for minutes); ranges must also lie within these years.
MAX_RANGE = timedelta(days=3660)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
INDEX = "index.html"
CHARTS: tuple[tuple[str, str, str, Callable[[Dashboard], Figure]], ...] = (
    (
        "uptime",
        "Uptime per check",
        "A cell per hour or day: all runs passed, some failed, most failed, or no data "
        "(the monitor was not running). The coloured part of a cell is as tall as the share "
        "of it the runs spoke for (each run until the next, at most one interval when the "
        "monitor fell silent); the grey rest was not monitored.",
        uptime_figure,
    ),
    (
        "timeline",
        "Upstream vs your checks",
        "Status-page incidents (by impact) and maintenances (hatched) above, each check's "
        "failure windows (by failure class) below. Failures inside a shaded column happened "
        "while upstream had declared a problem; those during a window of the status page the "
        "check depends on are underlined in black.",
        timeline_figure,
    ),
    (
        "declared",
        "Declared versus seen",
        "Per status page, its incidents (by impact, declared start to resolution) above what "
        "the checks saw below: the failures each incident explains, first seen to recovery, "
        "and the outages it never declared (red, crossed). The arrow runs from first seen to "
        "declared, labelled with the lag; striped grey time was not watched.",
        declared_chart,
    ),
    (
        "latency",
        "Latency p50 and p95",
        "Each run's total duration: median (p50, solid) and 95th percentile (p95, dashed). "
        "Per-phase timings (connect, TLS, first byte) are not drawn: hourly rollups keep only "
        "the total.",
        latency_figure,
    ),
)


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """What "declared versus seen" compares, as ``monitor report`` does: the config's
    status pages, and its ``[correlate]`` tolerances."""

    sources: tuple[str, ...]
    tolerance: Tolerance
    observed_gap: timedelta

    @classmethod
    def of(cls, config: Config) -> ReportSettings:
        return cls(
            sources=tuple(source.name for source in config.sources),
            tolerance=Tolerance(lead=config.correlate.lead, lag=config.correlate.lag),
            observed_gap=config.correlate.observed_gap,
        )


@dataclass(frozen=True, slots=True)
class ChartFile:
    chart: str
    format: str
    path: Path
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ChartReport:
    """What one ``generate`` wrote, and how long reading and drawing took."""

    out_dir: Path
    index: Path
    files: tuple[ChartFile, ...]
    lo: datetime
    hi: datetime
    empty: bool
    read_s: float
    render_s: float

    @property
    def summary(self) -> str:
        """One line: the range drawn and what it took."""
        return (
            f"range {self.lo:%Y-%m-%d %H:%M}Z to {self.hi:%Y-%m-%d %H:%M}Z; "
            f"read in {self.read_s:.2f} s, drawn in {self.render_s:.2f} s"
        )


def intervals_of(config: Config) -> dict[str, timedelta]:
    """Each configured check's interval, which sets how long a silence means "not watching"."""
    return {check.name: check.interval for check in config.checks}


def generate_for(
    config: Config,
    store: Store,
    *,
    since: datetime | None,
    until: datetime,
    now: datetime,
    out_dir: Path | None = None,
    formats: Sequence[str] = (),
    most: timedelta = DEFAULT_SPAN,
) -> ChartReport:
    """``generate`` as ``config`` sets it up: its folder and formats unless given, its checks'
    intervals, the answer at ``now`` on top; a folder that cannot be written is a
    MonitorError that names it.

    ``since`` None: from the first thing recorded, at most ``most`` before
    ``until`` (``default_since``). A ``since`` given is drawn as given.
    """
    target = out_dir or config.dashboards_dir
    since = _since(store, since, until, most)
    try:
        return generate(
            store,
            since=since,
            until=until,
            out_dir=target,
            now=now,
            formats=formats or config.dashboards.formats,
            intervals=intervals_of(config),
            report=ReportSettings.of(config),
            answer=read_answer(store, config, now),
        )
    except OSError as exc:
        raise MonitorError(f"cannot write the dashboards into {target}: {exc}") from None


def generate(
    store: Store,
    *,
    since: datetime,
    until: datetime,
    out_dir: Path,
    now: datetime,
    formats: Sequence[str] = FORMATS,
    intervals: Mapping[str, timedelta] | None = None,
    report: ReportSettings | None = None,
    answer: Answer | None = None,
) -> ChartReport:
    """Read ``[since, until)`` (widened to whole hours or days) and write the dashboard.

    With ``report``, the dashboard also holds "declared versus seen" over the
    very range the charts draw, so the section's figures and the timeline
    above it tell of the same hours.
    """
    if since >= until:
        raise ValueError(
            f"the range must start before it ends ({since:%Y-%m-%d %H:%M} >= "
            f"{until:%Y-%m-%d %H:%M})"
        )
    if until - since > MAX_RANGE or since < EARLIEST or until > LATEST:
        raise ValueError(
            f"the range must lie within {EARLIEST:%Y} to {LATEST:%Y} and be at most "
            f"{MAX_RANGE.days} days long"
        )
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats must be among {', '.join(FORMATS)}, got {list(formats)}")
    began = time.perf_counter()
    dashboard = read_dashboard(
        store, since=since, until=until, now=now, intervals=intervals, report=report
    )
    dashboard = replace(dashboard, answer=answer)
    read_s = time.perf_counter() - began
    out_dir.mkdir(parents=True, exist_ok=True)
    pending: list[tuple[Path, Path]] = []
    files: list[ChartFile] = []
    links: list[ChartLink] = []
    try:
        if not dashboard.empty:
            with chart_style():
                for key, title, caption, draw in CHARTS:
                    if not _drawn(key, dashboard):
                        continue
                    figure = draw(dashboard)
                    width, height = pixels(figure)
                    names = {}
                    for fmt in dict.fromkeys(formats):
                        path = out_dir / f"{key}.{fmt}"
                        pending.append((_staged(path, _saver(figure, fmt)), path))
                        files.append(ChartFile(key, fmt, path, width, height))
                        names[fmt] = path.name
                    links.append(ChartLink(key, title, caption, names, width, height))
                    figure.clear()
        html = page(dashboard, links, f"{now:%Y%m%dT%H%M%S}").encode("utf-8")
        index = out_dir / INDEX
        pending.append((_staged(index, lambda f: f.write(html)), index))
    except BaseException:
        for staged, _ in pending:
            with contextlib.suppress(OSError):
                staged.unlink()
        raise
    for staged, path in pending:
        os.replace(staged, path)
    _remove_stale(out_dir, {f.path for f in files})
    return ChartReport(
        out_dir=out_dir,
        index=index,
        files=tuple(files),
        lo=dashboard.lo,
        hi=dashboard.hi,
        empty=dashboard.empty,
        read_s=read_s,
        render_s=time.perf_counter() - began - read_s,
    )


def read_dashboard(
    store: Store,
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    intervals: Mapping[str, timedelta] | None = None,
    report: ReportSettings | None = None,
) -> Dashboard:
    """Everything the page and the charts show for ``[since, until)``, read and built, undrawn."""
    history = read_history(store, range_start(since, until), until)
    dashboard = build(history, now, intervals)
    if report is not None and not dashboard.empty:
        dashboard = replace(dashboard, report=_declared(store, dashboard, report))
    return dashboard


def dashboard_for(
    config: Config,
    store: Store,
    *,
    since: datetime | None,
    until: datetime,
    now: datetime,
    most: timedelta = DEFAULT_SPAN,
) -> Dashboard:
    """What ``generate_for`` draws, as data: the page's text can be read without drawing."""
    since = _since(store, since, until, most)
    dashboard = read_dashboard(
        store,
        since=since,
        until=until,
        now=now,
        intervals=intervals_of(config),
        report=ReportSettings.of(config),
    )
    return replace(dashboard, answer=read_answer(store, config, now))


def _since(store: Store, since: datetime | None, until: datetime, most: timedelta) -> datetime:
    """``since`` as given, else from the first thing recorded (``default_since``)."""
    if since is not None:
        return since
    return max(default_since(first_recorded(store, until), until, most), EARLIEST)


def _declared(store: Store, dashboard: Dashboard, settings: ReportSettings) -> Report:
    with store.reading() as reader:
        readings = read_report(reader, dashboard.lo, dashboard.hi)
    return build_report(
        readings,
        dashboard.lo,
        dashboard.hi,
        sources=settings.sources,
        tolerance=settings.tolerance,
        observed_gap=settings.observed_gap,
    )


def _drawn(key: str, dashboard: Dashboard) -> bool:
    """Whether a chart has anything to draw: the timeline always (upstream alone is news),
    "declared" when there is a report of at least one status page, the others with checks."""
    if key == "timeline":
        return True
    if key == "declared":
        return dashboard.report is not None and bool(dashboard.report.sources)
    return bool(dashboard.panels)


def _saver(figure: Figure, fmt: str) -> Callable[[IO[bytes]], None]:
    return lambda handle: save(figure, handle, fmt)


def _staged(path: Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Write to a temporary file beside ``path`` (same file system) and return its name."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    staged = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        staged.chmod(0o644)  # mkstemp makes 0600; a static server must be able to read it
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return staged


def _remove_stale(out_dir: Path, written: set[Path]) -> None:
    """Drop chart files of ours that this run did not write (a format or chart no longer made)."""
    for key, *_ in CHARTS:
        for fmt in FORMATS:
            path = out_dir / f"{key}.{fmt}"
            if path not in written:
                path.unlink(missing_ok=True)
