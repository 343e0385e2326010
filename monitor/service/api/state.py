"""What the API answers from: the running service's runtime and liveness, and its access rules."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from monitor.listen import Listen
from monitor.service.jobs.heartbeat import ServiceHeartbeat
from monitor.service.runtime import Runtime


@dataclass(frozen=True)
class ApiState:
    """Shared by every request thread; a reload replaces the runtime's ``loaded`` whole."""

    runtime: Runtime
    heartbeat: ServiceHeartbeat
    stopping: threading.Event
    listen: Listen
    token: str | None  # the bearer token, expanded from the environment; None: no token asked
