"""``/metrics``: what the service's jobs did and what the database holds, as Prometheus reads it.

A real service over the seeded database (each engine): its check and poll
jobs run against a loopback server, its answer job works out "now", then
``/metrics`` is scraped, parsed with prometheus-client's own parser, held
against the rows the jobs recorded and the seed, and checked by ``promtool
check metrics`` (Debian's ``prometheus`` package).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from monitor import __version__
from monitor.service.jobs.answer import answer_job
from monitor.service.jobs.check import check_job
from monitor.service.jobs.poll import poll_job
from monitor.service.scheduler import Service
from monitor.store.models import Incident, Source
from monitor.store.probes import latest_runs_by_probe
from monitor.store.runcodes import StoredRun
from tests.api_client import request, serving
from tests.api_seed import LATER, api_config, seed_database
from tests.loopback import LoopbackServer
from tests.test_service import serve

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def service(tmp_path: Path, database_url: str, server: LoopbackServer) -> Iterator[Service]:
    """api-reachable answers 401 as it expects; control gets a 500; github is polled."""
    serve(server)
    server.route("/generate_204", b"down", status=500)
    seed_database(database_url)
    config = api_config(tmp_path, database_url)
    config.write_text(
        config.read_text(encoding="utf-8")
        .replace("https://api.example", server.url)
        .replace("https://www.google.com", server.url)
        .replace("https://github.example", server.url),
        encoding="utf-8",
    )
    ticks = itertools.count()
    # Each run a second after the last: a check's runs are keyed by their start.
    with serving(config, clock=lambda: LATER + timedelta(seconds=next(ticks))) as running:
        running.run_job(check_job, "api-reachable")
        running.run_job(check_job, "control")
        running.run_job(check_job, "control")
        running.run_job(poll_job, "github")
        running.run_job(answer_job)
        yield running


def scrape(service: Service) -> tuple[bytes, Samples]:
    assert service.api_url is not None
    answer = request(service.api_url, "/metrics")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }
    return answer.body, samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def last_run(service: Service, check: str) -> StoredRun:
    with service.runtime.store.read() as session:
        run = latest_runs_by_probe(session, [(check, "test-probe")])[(check, "test-probe")]
    assert run is not None
    return run


def test_the_checks_are_up_or_down_with_their_last_run_and_runs_by_outcome(service):
    _, samples = scrape(service)
    reachable, control = last_run(service, "api-reachable"), last_run(service, "control")
    labels = {"probe": "test-probe"}

    assert value(samples, "monitor_check_up", check="api-reachable", **labels) == 1
    assert value(samples, "monitor_check_up", check="control", **labels) == 0
    assert value(samples, "monitor_check_skipped", check="control", **labels) == 0
    assert control.failure_class is not None
    assert (
        value(
            samples,
            "monitor_check_runs_total",
            check="control",
            outcome=control.failure_class,
            **labels,
        )
        == 2
    )
    assert (
        value(samples, "monitor_check_runs_total", check="api-reachable", outcome="ok", **labels)
        == 1
    )
    assert value(
        samples, "monitor_check_last_run_duration_seconds", check="api-reachable", **labels
    ) == pytest.approx(reachable.duration_ms / 1000)
    assert value(
        samples, "monitor_check_last_run_timestamp_seconds", check="control", **labels
    ) == pytest.approx(control.started_at.timestamp())
    connect_ms = reachable.phases_ms.get("connect")
    assert connect_ms is not None
    assert value(
        samples,
        "monitor_check_last_run_phase_seconds",
        check="api-reachable",
        phase="connect",
        **labels,
    ) == pytest.approx(connect_ms / 1000)


def test_the_sources_say_their_polls_incidents_and_components(service):
    _, samples = scrape(service)
    with service.runtime.store.read() as session:
        github_open = dict(
            session.execute(
                select(Incident.impact, func.count())
                .join(Source, Source.id == Incident.source_id)
                .where(Source.name == "github", Incident.resolved_at.is_(None))
                .group_by(Incident.impact)
            ).all()
        )

    assert value(samples, "monitor_source_polls_total", source="github", outcome="ok") == 1
    assert value(samples, "monitor_source_poll_success", source="github") == 1
    assert value(samples, "monitor_source_poll_success", source="claude") is None  # never polled
    assert value(samples, "monitor_source_last_success_timestamp_seconds", source="github")
    # claude, as seeded: the hostile incident is open (critical), the others resolved
    for impact, count in {"critical": 1, "major": 0, "minor": 0, "none": 0}.items():
        assert (
            value(samples, "monitor_source_open_incidents", source="claude", impact=impact) == count
        )
    assert value(samples, "monitor_source_components_not_operational", source="claude") == 1
    for impact in ("none", "minor", "major", "critical"):
        assert value(
            samples, "monitor_source_open_incidents", source="github", impact=impact
        ) == github_open.get(impact, 0)


def test_the_verdict_for_now_and_the_service_itself(service):
    _, samples = scrape(service)
    answer = service.runtime.answer
    assert answer is not None
    assert service.api_url is not None
    why = request(service.api_url, "/api/why").json()

    assert (answer.verdict, answer.confidence) == (why["verdict"], why["confidence"])
    assert (
        value(samples, "monitor_verdict", verdict=answer.verdict, confidence=answer.confidence) == 1
    )
    assert [k for k in samples if k[0] == "monitor_verdict"] == [
        (
            "monitor_verdict",
            frozenset({("verdict", answer.verdict), ("confidence", answer.confidence)}),
        )
    ]
    assert service.runtime.answered_at is not None
    assert service.heartbeat.started_at is not None
    assert service.heartbeat.last_beat is not None
    assert value(samples, "monitor_verdict_timestamp_seconds") == answer.at.timestamp()
    assert answer.at == service.runtime.answered_at
    assert value(samples, "monitor_heartbeat_timestamp_seconds") == (
        service.heartbeat.last_beat.timestamp()
    )
    assert value(samples, "monitor_start_time_seconds") == service.heartbeat.started_at.timestamp()
    assert service.heartbeat.started_at >= LATER
    assert value(samples, "process_resident_memory_bytes")
    build = [k for k in samples if k[0] == "monitor_build_info"]
    assert len(build) == 1
    assert ("version", __version__) in build[0][1]


def test_the_metrics_pass_promtool(service):
    promtool = shutil.which("promtool")
    if promtool is None:
        message = "promtool not found (Debian: apt-get install prometheus)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must check the metrics")
        pytest.skip(message)
    body, _ = scrape(service)

    checked = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, timeout=60, check=False
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == b""
    assert checked.stderr == b""
