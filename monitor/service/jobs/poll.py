"""Poll one source, as the scheduler asks: back-off respected, a change of state logged."""

from __future__ import annotations

from monitor.polling.poll import BACKING_OFF, poll_sources
from monitor.service.runtime import Runtime


def poll_job(runtime: Runtime, name: str) -> None:
    (report,) = poll_sources(
        runtime.store,
        runtime.config,
        [name],
        client=runtime.http,
        clock=runtime.clock,
        respect_backoff=True,
    )
    runtime.tally.polled(name, report.outcome)
    if report.outcome == BACKING_OFF:
        return  # still the failure already logged: not news, not a recovery
    detail = report.error or report.outcome
    runtime.states.report(f"source {name}", report.outcome != "error", report.outcome, detail)
    runtime.states.noted(f"source {name}", report.notes)
