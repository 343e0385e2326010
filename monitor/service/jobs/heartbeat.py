"""The service's heartbeat: its lease on the probe, from start to stop.

Starting claims the probe in the database (refused while another machine,
or a live process on this one, holds it); every ``HEARTBEAT_EVERY`` a beat
renews the lease; stopping releases it at once.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime

from monitor.service.lock import pid_alive, refused
from monitor.service.runtime import Runtime
from monitor.store.heartbeats import HEARTBEAT_EVERY, Lease, beat, claim_probe, stop_heartbeat

__all__ = ["HEARTBEAT_EVERY", "ServiceHeartbeat"]

log = logging.getLogger("monitor.service")


class ServiceHeartbeat:
    """One service run's heartbeat row: claimed, beaten every ``HEARTBEAT_EVERY``, stopped."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.heartbeat_id: int | None = None
        # When this run claimed the probe and last renewed it (the clock's time).
        self.started_at: datetime | None = None
        self.last_beat: datetime | None = None

    def start(self) -> None:
        """Claim the probe; raises AlreadyRunning naming the holder when another has it."""
        now = self.runtime.clock()
        claimed = claim_probe(
            self.runtime.store,
            probe=self.runtime.config.probe,
            now=now,
            pid=os.getpid(),
            host=socket.gethostname(),
            pid_alive=pid_alive,
        )
        if isinstance(claimed, Lease):
            raise refused(claimed, now)
        self.heartbeat_id = claimed
        self.started_at = self.last_beat = now

    def beat(self) -> bool:
        """Renew the lease; False when another run has taken the probe over (logged)."""
        if self.heartbeat_id is None:
            return True
        now = self.runtime.clock()
        taken = beat(self.runtime.store, self.heartbeat_id, now)
        if taken is None:
            self.last_beat = now
        else:
            log.error(
                "[service.heartbeat] probe %s was claimed by host %s (pid %s) while this "
                "service was not beating; stopping, so that one service runs it",
                taken.probe,
                taken.host,
                taken.pid,
            )
        return taken is None

    def stop(self) -> None:
        if self.heartbeat_id is not None:
            stop_heartbeat(self.runtime.store, self.heartbeat_id, self.runtime.clock())
            self.heartbeat_id = None
