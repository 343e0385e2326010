"""Run checks concurrently and record every run.

Each run is dated and timed here, so a check function only says what it
saw. Runs are written one per transaction as they finish; a check that
crashes is recorded as an internal error, never lost and never fatal.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from monitor.checks.context import CheckContext, CheckMisconfigured
from monitor.checks.http import secret_values
from monitor.checks.registry import runner_for
from monitor.checks.result import CheckResult
from monitor.checks.settings import CheckSettings
from monitor.failures import Failure
from monitor.redact import REDACTED, all_sent_forms, redact_text
from monitor.store import Store
from monitor.store.checkruns import CheckSpec, check_ids, record_check_run, sync_checks
from monitor.store.runcodes import truncate_ms

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunReport:
    """One run of one check, as recorded."""

    check: str
    kind: str
    role: str
    probe: str
    started_at: datetime
    duration_ms: float
    result: CheckResult


def run_check(
    settings: Any, context: CheckContext, clock: Callable[[], datetime]
) -> tuple[datetime, float, CheckResult]:
    """Run one check; never raises. Returns when it started, how long it took, what it saw.

    The start is kept to the millisecond, as the store keeps it, so what
    the service holds in memory about a run equals what it reads back.
    """
    started_at = truncate_ms(clock())
    began = time.perf_counter()
    if settings.when_env and not context.env.get(settings.when_env):
        result = CheckResult.skip(f"{settings.when_env} is not set")
    else:
        try:
            result = runner_for(settings.kind)(settings, context)
        except CheckMisconfigured as exc:
            result = CheckResult.failed(Failure.MISCONFIGURED, str(exc))
        except Exception as exc:  # a bug in one kind must not take the batch down
            log.exception("[checks.run] check crashed check=%s", settings.name)
            reason = redact_text(f"internal error: {type(exc).__name__}: {exc}")
            result = CheckResult.failed(Failure.INTERNAL_ERROR, reason)
    result = scrub(result, secret_values(settings, context.env))
    if getattr(settings, "verify_tls", True) is False:
        # Said in every result, so nobody mistakes an unverified pass for a verified one.
        result = replace(result, detail=f"{result.detail} [TLS verification off]")
    return started_at, round((time.perf_counter() - began) * 1000, 2), result


def scrub(result: CheckResult, secrets: set[str]) -> CheckResult:
    """Replace each known secret value, in every sent form, in detail, request id and facts."""
    if not secrets:
        return result
    detail, request_id = result.detail, result.request_id
    facts = json.dumps(result.facts)
    for secret in all_sent_forms(secrets):
        detail = detail.replace(secret, REDACTED)
        request_id = request_id and request_id.replace(secret, REDACTED)
        facts = facts.replace(json.dumps(secret)[1:-1], REDACTED)
    return replace(result, detail=detail, request_id=request_id, facts=json.loads(facts))


def spec_of(settings: Any) -> CheckSpec:
    depends = settings.depends_on
    return CheckSpec(
        name=settings.name,
        kind=settings.kind,
        role=settings.role,
        target=settings.target,
        depends_on_source=depends.source if depends else None,
        depends_on_components=list(depends.components) if depends else [],
    )


class ChecksConfig(Protocol):
    """What running checks needs of the config: its checks and the probe it runs as.

    Declared here rather than importing ``monitor.config``, which builds its
    ``[[checks]]`` from this package's settings: the config stands above the
    checks it describes.
    """

    @property
    def probe(self) -> str: ...

    @property
    def checks(self) -> Sequence[CheckSettings]: ...

    def check(self, name: str) -> CheckSettings: ...


def run_checks(
    store: Store,
    config: ChecksConfig,
    context: CheckContext,
    names: Sequence[str] = (),
    *,
    workers: int = 32,
) -> list[RunReport]:
    """Run the named checks (all enabled ones by default) once, concurrently; config order out."""
    selected = (
        [config.check(n) for n in names] if names else [c for c in config.checks if c.enabled]
    )
    if not selected:
        return []
    specs = [spec_of(c) for c in selected]
    # Steady state: the rows already match the config, so no write lock is taken.
    with store.read() as session:
        ids = check_ids(session, specs)
    if len(ids) < len(specs):
        with store.write() as session, session.begin():
            ids = sync_checks(session, specs, context.now())
    _warm_up(selected, context)
    reports: dict[str, RunReport] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(selected)))) as pool:
        futures = {pool.submit(run_check, c, context, context.now): c for c in selected}
        for future in as_completed(futures):
            settings = futures[future]
            started_at, duration_ms, result = future.result()
            report = RunReport(
                settings.name,
                settings.kind,
                settings.role,
                config.probe,
                started_at,
                duration_ms,
                result,
            )
            report = _record_safely(store, ids[settings.name], report)
            reports[settings.name] = report
    return [reports[c.name] for c in selected]


def _warm_up(selected: Sequence[Any], context: CheckContext) -> None:
    """Pay one-time costs (imports, CA store) before the clock runs for any check.

    Otherwise the first run of each kind would report the process's start-up
    as its own latency, and concurrent first runs would each pay it.
    """
    for kind in {c.kind for c in selected}:
        runner_for(kind)
    context.warm_up({c.ca_file for c in selected if getattr(c, "verify_tls", False)})


def _record_safely(store: Store, check_id: int, report: RunReport) -> RunReport:
    """Record a run; a run the database refuses becomes an internal error, recorded instead.

    One odd value (say a date the database rejects) costs that run its
    evidence, never the other checks' results or the command.
    """
    try:
        _record(store, check_id, report)
        return report
    except Exception as exc:
        log.exception("[checks.record] write failed check=%s", report.check)
        reason = redact_text(f"internal error recording the run: {type(exc).__name__}: {exc}")
        failed = replace(report, result=CheckResult.failed(Failure.INTERNAL_ERROR, reason))
        with contextlib.suppress(Exception):
            _record(store, check_id, failed)
        return failed


def _record(store: Store, check_id: int, report: RunReport) -> None:
    result = report.result
    with store.write() as session, session.begin():
        record_check_run(
            session,
            check_id=check_id,
            probe=report.probe,
            started_at=report.started_at,
            duration_ms=report.duration_ms,
            ok=result.ok,
            skipped=result.skipped,
            failure_class=result.failure_class,
            http_status=result.http_status,
            phases_ms=result.phases_ms,
            request_id=result.request_id,
            server_date=result.server_date,
            detail=result.detail,
            facts=result.facts,
        )
