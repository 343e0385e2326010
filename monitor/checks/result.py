"""What one check run says: a failure class the correlator can reason over, and evidence.

The classes are ``monitor.failures.Failure``: checks, imported lines and
charts share that one vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.failures import Failure


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one run, before the runner dates it and names the check.

    ``detail`` is one readable line, already redacted. ``facts`` holds what is
    specific to a kind (resolved addresses, token fingerprints, the occupied
    port, the measured skew, the proxy in effect) and must hold no secret.
    ``skipped`` marks a run that did not apply (its condition is unmet): it
    is recorded, and counts neither as up nor as down.
    """

    ok: bool
    failure_class: Failure | None
    detail: str
    http_status: int | None = None
    phases_ms: dict[str, float] = field(default_factory=dict)
    request_id: str | None = None
    server_date: datetime | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False

    @staticmethod
    def passed(detail: str, **evidence: Any) -> CheckResult:
        return CheckResult(ok=True, failure_class=None, detail=detail, **evidence)

    @staticmethod
    def failed(failure_class: Failure, detail: str, **evidence: Any) -> CheckResult:
        return CheckResult(ok=False, failure_class=failure_class, detail=detail, **evidence)

    @staticmethod
    def skip(detail: str, **evidence: Any) -> CheckResult:
        """A run that did not apply; ``detail`` is the reason alone (``GH_TOKEN is not set``).

        Every output already says "skipped" beside it (``monitor status``
        writes ``skipped: <detail>``, ``check`` and ``results`` a RESULT
        column), so a detail that said it too would read twice.
        """
        return CheckResult(ok=True, failure_class=None, detail=detail, skipped=True, **evidence)
