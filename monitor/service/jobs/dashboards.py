"""Redraw ``[dashboards]`` every ``every``, in a child process; a failure is logged, never fatal.

A child, not a thread: matplotlib would stay resident in the service (tens
of MB for a job that runs every quarter of an hour), and a crash while
drawing cannot take the monitoring down with it. The child is started with
``spawn``: forking a process that runs scheduler threads could copy a lock
held by one of them.
"""

from __future__ import annotations

import logging
import multiprocessing
from datetime import datetime, timedelta
from multiprocessing.connection import Connection

from monitor.config import Config
from monitor.errors import MonitorError
from monitor.service.runtime import Runtime

log = logging.getLogger("monitor.service")

DASHBOARDS_JOB = "dashboards"
# A year of charts takes seconds; a child still drawing after this is stuck.
DASHBOARDS_TIMEOUT = timedelta(minutes=10)
# The first dashboards a minute after start, once the first round of checks is recorded.
DASHBOARDS_FIRST_AFTER = timedelta(minutes=1)


def draw_dashboards(runtime: Runtime) -> None:
    """Draw the last ``[dashboards] days`` into the configured folder, in a child process."""
    config, now = runtime.config, runtime.clock()
    since = now - timedelta(days=config.dashboards.days)
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=draw_in_child, args=(config, since, now, sender), name="monitor-dashboards"
    )
    child.start()
    sender.close()
    child.join(DASHBOARDS_TIMEOUT.total_seconds())
    if child.is_alive():
        child.kill()
        child.join()
        stuck = f"still drawing after {DASHBOARDS_TIMEOUT}; stopped"
        runtime.states.report("dashboards", False, "failed", stuck)
        return
    said = receiver.recv() if receiver.poll() else None
    receiver.close()
    if not isinstance(said, tuple) or not said[0]:
        why = said[1] if isinstance(said, tuple) else f"exit status {child.exitcode}"
        runtime.states.report("dashboards", False, "failed", why)
        return
    _, index, summary = said
    runtime.states.report("dashboards", True, "ok", index)
    log.info("[service.dashboards] %s", summary)


def draw_in_child(config: Config, since: datetime, until: datetime, sender: Connection) -> None:
    """The child's whole work: draw, then send ``(True, index, summary)`` or ``(False, why)``."""
    from monitor.charts.generate import generate, intervals_of
    from monitor.store import open_store

    out = config.dashboards_dir
    try:
        store = open_store(config.database_url, upgrade=False)
        try:
            report = generate(
                store,
                since=since,
                until=until,
                out_dir=out,
                now=until,
                formats=config.dashboards.formats,
                intervals=intervals_of(config),
            )
        finally:
            store.close()
    except OSError as exc:
        sender.send((False, f"cannot write the dashboards into {out}: {exc.strerror or exc}"))
    except MonitorError as exc:
        sender.send((False, str(exc)))
    except Exception as exc:
        sender.send((False, f"{type(exc).__name__}: {exc}"))
    else:
        sender.send((True, str(report.index), report.summary))
    finally:
        sender.close()
