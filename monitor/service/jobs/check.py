"""Run one check, as the scheduler asks, and log a change of state."""

from __future__ import annotations

from monitor.checks.runner import run_checks
from monitor.service.runtime import Runtime


def check_job(runtime: Runtime, name: str) -> None:
    (report,) = run_checks(runtime.store, runtime.config, runtime.check_context(), [name])
    result = report.result
    passed = "ok" if result.ok else result.failure_class or "failed"
    state = "skipped" if result.skipped else passed
    runtime.states.report(f"check {name}", result.ok, state, result.detail)
    runtime.tally.check_ran(
        name,
        started_at=report.started_at,
        duration_ms=report.duration_ms,
        outcome=str(state),  # "ok", "skipped" or the failure class
        phases_ms=result.phases_ms,
    )
