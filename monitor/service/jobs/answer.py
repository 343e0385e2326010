"""Work out the service's own answer for "now", as ``monitor why`` would give it.

The notifications, the metrics and the HTTP API read it from the runtime;
it is weighed from what the database holds, like any ``why``, so the
service says nothing a user asking could not reproduce.
"""

from __future__ import annotations

from datetime import timedelta

from monitor.service.runtime import Runtime
from monitor.views.why import WhyQuestion, verdict_at

ANSWER_EVERY = timedelta(seconds=15)


def answer_job(runtime: Runtime) -> None:
    """Renew ``runtime.answer``; the notifier, if any, hears each one (and decides what is news)."""
    now = runtime.clock()
    with runtime.store.reading() as reader:
        answer = verdict_at(reader, runtime.config, WhyQuestion(at=now))
    runtime.answer, runtime.answered_at = answer, now
    if runtime.notifier is not None:
        runtime.notifier.observe(answer, runtime.config.notify)
