"""What every job of the service runs with, and how it tells a change of state."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from monitor.checks.context import CheckContext
from monitor.checks.tokenstore import default_state_dir
from monitor.config import Config
from monitor.service.tally import Tally
from monitor.store import Store

if TYPE_CHECKING:
    from monitor.correlate.verdict import Verdict

log = logging.getLogger("monitor.service")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class StateLog:
    """A line per failure and one on recovery; silence while all is well.

    ``ok`` to ``not_modified`` is not news: only leaving a failure is.
    """

    failing: dict[str, bool] = field(default_factory=dict)

    def report(self, what: str, ok: bool, state: str, detail: str) -> None:
        was_failing = self.failing.get(what, False)
        self.failing[what] = not ok
        if not ok:
            log.warning("[service.job] %s %s: %s", what, state, detail)
        elif was_failing:
            log.warning("[service.job] %s recovered: %s", what, state)


@dataclass
class Runtime:
    """The store, the config in force (a reload replaces it), the clock and one HTTP client."""

    store: Store
    config: Config
    clock: Clock
    http: httpx.Client
    # SHA-256 of the config file's bytes as loaded (``monitor.digest``), renewed by a reload.
    config_digest: str = ""
    states: StateLog = field(default_factory=StateLog)
    # The answer for "now", renewed by ``jobs/answer.py``; None until first worked out.
    answer: Verdict | None = None
    # When ``answer`` was worked out (the clock's time), for the metrics.
    answered_at: datetime | None = None
    # What the jobs did since start (``tally.py``), read by the metrics.
    tally: Tally = field(default_factory=Tally)

    def check_context(self) -> CheckContext:
        return CheckContext(
            config_dir=self.config.path.parent, state_dir=default_state_dir(self.config.path)
        )
