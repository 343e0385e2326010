"""What every job of the service runs with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from monitor.checks.context import CheckContext
from monitor.checks.tokenstore import default_state_dir
from monitor.config import Config
from monitor.digest import database_digest
from monitor.service.states import Clock as Clock
from monitor.service.states import StateLog
from monitor.service.states import utcnow as utcnow
from monitor.service.tally import Tally
from monitor.store import Store

if TYPE_CHECKING:
    from monitor.correlate.verdict import Verdict
    from monitor.notify.notifier import Notifier


@dataclass(frozen=True, slots=True)
class Loaded:
    """The config in force and the digests that name it, replaced whole by a reload.

    One value, so that a reader who takes it once (an API request) answers
    from the config its headers name: never a body from the new config under
    the old digest, or the other way round.
    """

    config: Config
    # SHA-256 of the config file's bytes as loaded (``monitor.digest.config_digest``).
    digest: str
    # ``monitor.digest.database_digest`` of the config's database URL and probe.
    database: str

    @classmethod
    def of(cls, config: Config, digest: str) -> Loaded:
        return cls(config, digest, database_digest(config.database_url, config.probe))


@dataclass
class Runtime:
    """The store, the config in force (a reload replaces it), the clock and one HTTP client."""

    store: Store
    loaded: Loaded
    clock: Clock
    http: httpx.Client
    states: StateLog = field(default_factory=StateLog)
    # The answer for "now", renewed by ``jobs/answer.py``; None until first worked out.
    answer: Verdict | None = None
    # Tells the [[notify]] channels when the answer changes; None while none is set up.
    notifier: Notifier | None = None
    # When ``answer`` was worked out (the clock's time), for the metrics.
    answered_at: datetime | None = None
    # What the jobs did since start (``tally.py``), read by the metrics.
    tally: Tally = field(default_factory=Tally)

    @property
    def config(self) -> Config:
        """The config in force now; a reader needing it twice alike takes ``loaded`` once."""
        return self.loaded.config

    def __post_init__(self) -> None:
        # How long something failed is told on the service's own clock.
        self.states.clock = self.clock

    def check_context(self) -> CheckContext:
        return CheckContext(
            config_dir=self.config.path.parent,
            state_dir=default_state_dir(self.config.path),
            now=self.clock,
        )
