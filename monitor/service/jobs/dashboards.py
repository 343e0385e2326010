"""Redraw ``[dashboards]`` every ``every``, in a child process; a failure is logged, never fatal.

A child, not a thread: matplotlib would stay resident in the service (tens
of MB for a job that runs every quarter of an hour), and a crash while
drawing cannot take the monitoring down with it. The child is started with
``spawn``: forking a process that runs scheduler threads could copy a lock
held by one of them. It is handed the config in force and sends back one
short line; what it prints is kept from the service's log, as a ``monitor
chart`` child's was.
"""

from __future__ import annotations

import contextlib
import io
import logging
import multiprocessing
from datetime import datetime, timedelta
from multiprocessing.connection import Connection

from monitor.config import Config
from monitor.errors import MonitorError
from monitor.service.runtime import Runtime
from monitor.times import format_duration

log = logging.getLogger("monitor.service")

DASHBOARDS_JOB = "dashboards"
# A year of charts takes seconds; a child still drawing after this is stuck.
DASHBOARDS_TIMEOUT = timedelta(minutes=10)
# The first dashboards a minute after start, once the first round of checks is recorded.
DASHBOARDS_FIRST_AFTER = timedelta(minutes=1)
# What the child sends back is one line; a longer reason is cut here, well under a pipe's buffer.
_REASON_LIMIT = 500

Said = tuple[bool, str, str]  # (drawn, index.html or why not, summary)


def draw_dashboards(runtime: Runtime) -> None:
    """Draw what was recorded, at most the last ``[dashboards] days``, in a child process.

    From the first thing recorded when that is more recent: a service started
    an hour ago draws that hour, not days of "no data" around it.
    """
    config, now = runtime.config, runtime.clock()
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=draw_in_child, args=(config, None, now, sender), name="monitor-dashboards"
    )
    try:
        child.start()
    except Exception as exc:  # no process (EMFILE, ENOMEM) or a config it cannot be handed
        runtime.states.report("dashboards", False, "failed", f"{type(exc).__name__}: {exc}")
        return
    finally:
        sender.close()
    said = _receive(receiver, child)
    receiver.close()
    if said is None:
        stuck = f"still drawing after {format_duration(DASHBOARDS_TIMEOUT)}; stopped"
        runtime.states.report("dashboards", False, "failed", stuck)
        return
    drawn, what, summary = said
    if not drawn:
        runtime.states.report("dashboards", False, "failed", what)
        return
    runtime.states.report("dashboards", True, "ok", what)
    log.info("[service.dashboards] %s", summary)


def _receive(receiver: Connection, child: multiprocessing.process.BaseProcess) -> Said | None:
    """The child's line, read before it is reaped so a send never waits on a full pipe.

    None when it is still drawing at the deadline (it is killed); a child that
    ended without a word (killed, crashed) is reported by its exit status.
    """
    said: Said | None = None
    if receiver.poll(DASHBOARDS_TIMEOUT.total_seconds()):
        with contextlib.suppress(EOFError):
            said = receiver.recv()
        child.join()
        return said or (False, f"exit status {child.exitcode}", "")
    child.kill()
    child.join()
    return None


def draw_in_child(
    config: Config, since: datetime | None, until: datetime, sender: Connection
) -> None:
    """All the child does: draw, then send (True, index, summary) or (False, why, "")."""
    said: Said
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            from monitor.charts.generate import generate_for
            from monitor.store import open_store

            store = open_store(config.database_url, upgrade=False)
            try:
                report = generate_for(
                    config,
                    store,
                    since=since,
                    until=until,
                    now=until,
                    most=timedelta(days=config.dashboards.days),
                )
            finally:
                store.close()
        said = (True, str(report.index), report.summary)
    except MonitorError as exc:
        said = (False, str(exc)[:_REASON_LIMIT], "")
    except Exception as exc:
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        said = (False, f"{type(exc).__name__}: {first}"[:_REASON_LIMIT], "")
    sender.send(said)
    sender.close()
