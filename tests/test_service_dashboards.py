"""The service's dashboards job: scheduled while ``[dashboards] every`` is set, under a fixed clock."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.service.jobs.dashboards import DASHBOARDS_JOB, draw_dashboards
from monitor.service.runtime import Loaded
from monitor.service.scheduler import Service
from tests.dashboard_seed import NOW, seed

CHECK = '[[check]]\nname = "api-reachable"\nkind = "tcp"\nhost = "127.0.0.1"\nport = 9\n'


def write(path: Path, dashboards: str) -> Path:
    path.write_text(f'[monitor]\nprobe = "svc"\n{dashboards}\n{CHECK}', encoding="utf-8")
    return path


@pytest.fixture
def service(tmp_path):
    created: list[Service] = []

    def make(dashboards: str, clock=lambda: NOW) -> Service:
        svc = Service(
            str(write(tmp_path / "config.toml", dashboards)), grace=timedelta(1), clock=clock
        )
        created.append(svc)
        return svc

    yield make
    for svc in created:
        svc.runtime.http.close()
        svc.runtime.store.close()


def test_no_dashboards_job_unless_every_is_set(service):
    svc = service("")

    svc._schedule_dashboards(svc.config)

    assert svc.scheduler.get_job(DASHBOARDS_JOB) is None


def test_the_job_runs_every_interval_and_reloads_follow_the_config(service, tmp_path):
    svc = service('[dashboards]\nevery = "15m"\ndays = 2\n')
    svc._schedule_dashboards(svc.config)
    job = svc.scheduler.get_job(DASHBOARDS_JOB)

    assert job.trigger.interval == timedelta(minutes=15)
    assert job.next_run_time == NOW + timedelta(minutes=1)

    previous, svc.runtime.loaded = svc.config, Loaded.of(load_config(tmp_path / "config.toml"), "")
    svc._schedule_dashboards(svc.config, previous=previous)  # unchanged: same timing
    assert svc.scheduler.get_job(DASHBOARDS_JOB).next_run_time == NOW + timedelta(minutes=1)

    write(tmp_path / "config.toml", '[dashboards]\nevery = "1h"\n')
    previous, svc.runtime.loaded = svc.config, Loaded.of(load_config(tmp_path / "config.toml"), "")
    svc._schedule_dashboards(svc.config, previous=previous)
    changed = svc.scheduler.get_job(DASHBOARDS_JOB)
    assert changed.trigger.interval == timedelta(hours=1)
    assert changed.next_run_time == NOW  # a change applies at once

    write(tmp_path / "config.toml", "")
    previous, svc.runtime.loaded = svc.config, Loaded.of(load_config(tmp_path / "config.toml"), "")
    svc._schedule_dashboards(svc.config, previous=previous)
    assert svc.scheduler.get_job(DASHBOARDS_JOB) is None


def test_the_job_draws_the_last_days_into_the_configured_folder(service, tmp_path):
    svc = service('[dashboards]\nevery = "15m"\ndays = 2\nout = "site"\n')
    seed(svc.runtime.store)

    svc.run_job(draw_dashboards)

    site = tmp_path / "site"
    assert sorted(p.name for p in site.iterdir()) == [
        "index.html",
        *(
            f"{chart}.{fmt}"
            for chart in ("latency", "timeline", "uptime")
            for fmt in ("png", "svg")
        ),
    ]
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "Range 2026-04-13 01:00 to 2026-04-15 01:00 UTC (48 hours)" in html


def test_a_failing_job_is_logged_and_the_service_carries_on(service, tmp_path, caplog):
    svc = service('[dashboards]\nevery = "15m"\nout = "blocked"\n')
    (tmp_path / "blocked").write_text("a file where the folder should be", encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="monitor.service")

    svc.run_job(draw_dashboards)  # does not raise
    svc.run_job(draw_dashboards)  # still failing the same way: not news, not logged again

    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1
    assert messages[0].startswith("[service.state] dashboards failing: failed: ")
    assert f"cannot write the dashboards into {tmp_path / 'blocked'}: [Errno 17]" in messages[0]
    assert svc.in_flight == 0


def test_the_service_does_not_import_matplotlib_until_it_draws():
    import subprocess
    import sys

    code = "import sys, monitor.service.scheduler; print('matplotlib' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
