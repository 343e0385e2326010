"""Once a day: fold old check runs into hourly rollups, as ``[retention]`` says."""

from __future__ import annotations

import logging
from datetime import timedelta

from monitor.service.runtime import Runtime
from monitor.store.retention import prune

log = logging.getLogger("monitor.service")

RETENTION_EVERY = timedelta(days=1)
RETENTION_FIRST_AFTER = timedelta(minutes=5)


def prune_old_runs(runtime: Runtime) -> None:
    settings = runtime.config.retention
    stats = prune(
        runtime.store, runtime.clock(), raw_keep=settings.raw, rollup_keep=settings.rollups
    )
    log.info("[service.retention] pruned %s", stats)
