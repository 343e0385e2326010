"""A check run as ``check``, ``results`` and ``status`` show it: its JSON object and its state."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypedDict

from monitor.times import isoformat_z

if TYPE_CHECKING:
    from monitor.checks.runner import RunReport
    from monitor.store.runcodes import StoredRun

RunState = Literal["ok", "skipped", "failed"]


class RunDict(TypedDict):
    check: str
    probe: str
    started_at: str | None
    ok: bool
    skipped: bool
    failure_class: str | None
    http_status: int | None
    duration_ms: float
    detail: str
    request_id: str | None
    phases_ms: dict[str, float]


def run_dict(
    *,
    check: str,
    probe: str,
    started_at: datetime,
    duration_ms: float,
    ok: bool,
    skipped: bool,
    failure_class: str | None,
    http_status: int | None,
    detail: str,
    request_id: str | None,
    phases_ms: dict[str, float],
) -> RunDict:
    """The JSON object for one run: the same from ``check``, ``results`` and ``status``.

    Fields, not a run: ``check`` has a run just made (``report_run_dict``),
    the others a stored row (``stored_run_dict``).
    """
    return {
        "check": check,
        "probe": probe,
        "started_at": isoformat_z(started_at),
        "ok": ok,
        "skipped": skipped,
        "failure_class": failure_class,
        "http_status": http_status,
        "duration_ms": duration_ms,
        "detail": detail,
        "request_id": request_id,
        "phases_ms": phases_ms,
    }


def report_run_dict(report: RunReport) -> RunDict:
    """``run_dict`` of a run ``monitor check`` just made."""
    result = report.result
    return run_dict(
        check=report.check,
        probe=report.probe,
        started_at=report.started_at,
        duration_ms=report.duration_ms,
        ok=result.ok,
        skipped=result.skipped,
        failure_class=result.failure_class,
        http_status=result.http_status,
        detail=result.detail,
        request_id=result.request_id,
        phases_ms=result.phases_ms,
    )


def stored_run_dict(run: StoredRun) -> RunDict:
    """``run_dict`` of a recorded run (a passing run's request id is not kept: null)."""
    return run_dict(
        check=run.check,
        probe=run.probe,
        started_at=run.started_at,
        duration_ms=run.duration_ms,
        ok=run.ok,
        skipped=run.skipped,
        failure_class=run.failure_class,
        http_status=run.http_status,
        detail=run.detail,
        request_id=run.request_id,
        phases_ms=run.phases_ms,
    )


def run_state(ok: bool, skipped: bool) -> RunState:
    """``skipped`` before ``ok``: a skipped run is stored as ok, yet it measured nothing."""
    if skipped:
        return "skipped"
    return "ok" if ok else "failed"


def state_cell(run: StoredRun) -> str:
    """One cell: ``ok``, ``skipped: <why>`` or ``<class>: <detail>``.

    A skipped run's detail is its reason alone (``CheckResult.skip``), so
    "skipped" is said here once.
    """
    state = run_state(run.ok, run.skipped)
    if state == "ok":
        return "ok"
    return f"{'skipped' if state == 'skipped' else run.failure_class}: {run.detail}"
