"""The service's heartbeat: alive from start to stop, so "no data" is told from "all quiet"."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from monitor.service.runtime import Runtime
from monitor.store.heartbeats import beat, start_heartbeat, stop_heartbeat

HEARTBEAT_EVERY = timedelta(seconds=30)


class ServiceHeartbeat:
    """One service run's heartbeat row: started, beaten every ``HEARTBEAT_EVERY``, stopped."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.heartbeat_id: int | None = None

    def start(self) -> None:
        self.heartbeat_id = start_heartbeat(
            self.runtime.store,
            probe=self.runtime.config.probe,
            now=self.runtime.clock(),
            pid=os.getpid(),
            host=socket.gethostname(),
        )

    def beat(self) -> None:
        if self.heartbeat_id is not None:
            beat(self.runtime.store, self.heartbeat_id, self.runtime.clock())

    def stop(self) -> None:
        if self.heartbeat_id is not None:
            stop_heartbeat(self.runtime.store, self.heartbeat_id, self.runtime.clock())
            self.heartbeat_id = None
