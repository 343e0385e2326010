"""``/metrics``: the service's state in the Prometheus text format, worked out at each scrape.

A registry of the service's own, not prometheus-client's global one: its
collector reads the runtime (the answer for now, the heartbeat), the jobs'
tally (``service/tally.py``) and the store (each source's last polls, open
incidents, components), so nothing is kept twice and nothing goes stale
between scrapes. The standard ``process_*`` metrics (memory, CPU, open
files) come along: they are what a service's RSS is watched by.

Labels stay few-valued: check, probe and source names come from the config,
outcomes are failure classes, impacts are folded into the five a status
page states. Check metrics are this probe's own runs since start; an
absent ``monitor_check_up`` means the check has not run yet or its last
run was skipped (``monitor_check_skipped``).
"""

from __future__ import annotations

import platform
from collections.abc import Iterator
from datetime import datetime

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry

from monitor import __version__
from monitor.service.api.state import ApiState
from monitor.service.runtime import Loaded
from monitor.service.tally import SKIPPED, LastRun
from monitor.times import as_utc

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
IMPACTS = ("none", "minor", "major", "critical", "maintenance")
# Timings a check records beside its total (monitor/checks: http, network).
PHASES = ("dns", "connect", "tls", "ttfb")


def registry_for(state: ApiState, loaded: Loaded) -> CollectorRegistry:
    """The service's registry for one scrape, under ``loaded``: its collector and the process's."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(state, loaded))
    ProcessCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


def _seconds(value: datetime) -> float:
    return as_utc(value).timestamp()


def _impact(impact: str | None) -> str:
    if impact is None:
        return "unknown"
    return impact if impact in IMPACTS else "other"


class ServiceCollector(Collector):
    """Reads the running service at each scrape."""

    def __init__(self, state: ApiState, loaded: Loaded) -> None:
        self.state = state
        self.loaded = loaded

    def collect(self) -> Iterator[Metric]:
        yield from self._service()
        yield from self._verdict()
        yield from self._checks()
        yield from self._sources()

    def _service(self) -> Iterator[Metric]:
        beat = self.state.heartbeat
        info = InfoMetricFamily("monitor_build", "The running monitor's version and Python.")
        info.add_metric([], {"version": __version__, "python": platform.python_version()})
        yield info
        if beat.started_at is not None:
            yield GaugeMetricFamily(
                "monitor_start_time_seconds",
                "When this service claimed its probe, in seconds since the epoch.",
                value=_seconds(beat.started_at),
            )
        if beat.last_beat is not None:
            yield GaugeMetricFamily(
                "monitor_heartbeat_timestamp_seconds",
                "When this service last renewed its heartbeat lease, in seconds since the epoch.",
                value=_seconds(beat.last_beat),
            )

    def _verdict(self) -> Iterator[Metric]:
        runtime = self.state.runtime
        answer, at = runtime.answer, runtime.answered_at
        if answer is None or at is None:
            return
        verdict = GaugeMetricFamily(
            "monitor_verdict",
            "The answer for now, as `monitor why` gives it: 1 for the current verdict and "
            "confidence.",
            labels=["verdict", "confidence"],
        )
        verdict.add_metric([answer.verdict, answer.confidence], 1)
        yield verdict
        yield GaugeMetricFamily(
            "monitor_verdict_timestamp_seconds",
            "When the answer for now was last worked out, in seconds since the epoch.",
            value=_seconds(at),
        )

    def _checks(self) -> Iterator[Metric]:
        probe = self.loaded.config.probe
        tally = self.state.runtime.tally.copy()
        labels = ["check", "probe"]
        up = GaugeMetricFamily(
            "monitor_check_up", "1 if the check's last run passed, 0 if it failed.", labels=labels
        )
        skipped = GaugeMetricFamily(
            "monitor_check_skipped",
            "1 if the check's last run was skipped (its condition unmet), else 0.",
            labels=labels,
        )
        started = GaugeMetricFamily(
            "monitor_check_last_run_timestamp_seconds",
            "When the check's last run started, in seconds since the epoch.",
            labels=labels,
        )
        duration = GaugeMetricFamily(
            "monitor_check_last_run_duration_seconds",
            "How long the check's last run took.",
            labels=labels,
        )
        phases = GaugeMetricFamily(
            "monitor_check_last_run_phase_seconds",
            "The phases of the check's last run: DNS lookup, TCP connect, TLS handshake, "
            "time to first byte (those it measured).",
            labels=[*labels, "phase"],
        )
        for check, run in sorted(tally.last_runs.items()):
            self._last_run(check, probe, run, up, skipped, started, duration, phases)
        runs = CounterMetricFamily(
            "monitor_check_runs",
            "Check runs by this service since it started, by outcome: ok, skipped or the "
            "failure class.",
            labels=[*labels, "outcome"],
        )
        for (check, outcome), count in sorted(tally.check_runs.items()):
            runs.add_metric([check, probe, outcome], count)
        yield from (up, skipped, started, duration, phases, runs)

    @staticmethod
    def _last_run(
        check: str,
        probe: str,
        run: LastRun,
        up: GaugeMetricFamily,
        skipped: GaugeMetricFamily,
        started: GaugeMetricFamily,
        duration: GaugeMetricFamily,
        phases: GaugeMetricFamily,
    ) -> None:
        labels = [check, probe]
        if run.outcome != SKIPPED:
            up.add_metric(labels, 1 if run.outcome == "ok" else 0)
        skipped.add_metric(labels, 1 if run.outcome == SKIPPED else 0)
        started.add_metric(labels, _seconds(run.started_at))
        duration.add_metric(labels, run.duration_s)
        for phase in PHASES:
            if phase in run.phases_s:
                phases.add_metric([*labels, phase], run.phases_s[phase])

    def _sources(self) -> Iterator[Metric]:
        from monitor.store.gauges import open_incidents_by_impact
        from monitor.store.queries import source_overview

        runtime = self.state.runtime
        names = [s.name for s in self.loaded.config.sources]
        tally = runtime.tally.copy()
        with runtime.store.read() as session:
            overviews = source_overview(session, names)
            open_incidents = open_incidents_by_impact(session, names)
        success = GaugeMetricFamily(
            "monitor_source_poll_success",
            "1 if the source's last poll read its status page (changed or not), 0 if it failed.",
            labels=["source"],
        )
        polled = GaugeMetricFamily(
            "monitor_source_last_poll_timestamp_seconds",
            "When the source was last polled, in seconds since the epoch.",
            labels=["source"],
        )
        read = GaugeMetricFamily(
            "monitor_source_last_success_timestamp_seconds",
            "When the source's status page was last read, in seconds since the epoch.",
            labels=["source"],
        )
        incidents = GaugeMetricFamily(
            "monitor_source_open_incidents",
            "Incidents the status page has open, by the impact it stated.",
            labels=["source", "impact"],
        )
        degraded = GaugeMetricFamily(
            "monitor_source_components_not_operational",
            "Components whose latest recorded status is anything but operational.",
            labels=["source"],
        )
        for overview in overviews:
            name, poll = overview.name, overview.last_poll
            if poll is not None:
                success.add_metric([name], 0 if poll.outcome == "error" else 1)
                polled.add_metric([name], _seconds(poll.started_at))
            if overview.last_success_at is not None:
                read.add_metric([name], _seconds(overview.last_success_at))
            counts: dict[str, int] = dict.fromkeys(IMPACTS, 0)
            for impact, count in open_incidents.get(name, {}).items():
                counts[_impact(impact)] = counts.get(_impact(impact), 0) + count
            for impact, count in counts.items():
                incidents.add_metric([name, impact], count)
            statuses = overview.components.values()
            degraded.add_metric([name], sum(1 for s in statuses if s != "operational"))
        polls = CounterMetricFamily(
            "monitor_source_polls",
            "Polls by this service since it started, by outcome: ok, not_modified, error, "
            "or backing_off (skipped while backing off after failures).",
            labels=["source", "outcome"],
        )
        for (source, outcome), count in sorted(tally.polls.items()):
            polls.add_metric([source, outcome], count)
        yield from (success, polled, read, incidents, degraded, polls)
