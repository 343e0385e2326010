"""``monitor run``: keep every source polled and every check run, until told to stop.

APScheduler (3.x) owns the timing: one job per source and per check at its
interval, with jitter, never two instances of a job at once, missed runs
coalesced, each run once at start. This module adds what a long-running
service needs around it: one instance per database and probe, heartbeats,
signals (TERM/INT stop with a grace period, HUP reloads the config),
a daily retention pass, and a log line per failure or change of state.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import insert, update
from sqlalchemy.engine import make_url

from monitor.checks.context import CheckContext
from monitor.checks.runner import run_checks
from monitor.checks.tokenstore import default_state_dir
from monitor.config import Config, load_config
from monitor.durations import format_duration
from monitor.errors import ConfigError, MonitorError
from monitor.polling.backoff import jitter_for
from monitor.polling.poll import BACKING_OFF, client_for, poll_sources
from monitor.store import Store, open_store
from monitor.store.models import Heartbeat
from monitor.timeutil import isoformat_z

log = logging.getLogger("monitor.service")

HEARTBEAT_EVERY = timedelta(seconds=30)
RETENTION_EVERY = timedelta(days=1)
RETENTION_FIRST_AFTER = timedelta(minutes=5)
DASHBOARDS_JOB = "dashboards"
# A year of charts takes seconds; a child still drawing after this is stuck.
DASHBOARDS_TIMEOUT = timedelta(minutes=10)
# The first dashboards a minute after start, once the first round of checks is recorded.
DASHBOARDS_FIRST_AFTER = timedelta(minutes=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


class AlreadyRunning(MonitorError):
    """Another ``monitor run`` holds this database and probe."""


@dataclass
class InstanceLock:
    """An exclusive flock on a file beside the database, naming the holder inside.

    The kernel releases it when the process dies, even by SIGKILL, so a
    crash never leaves a stale lock behind.
    """

    path: Path
    fd: int

    @staticmethod
    def acquire(config: Config) -> InstanceLock:
        path = lock_path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown process"
            os.close(fd)
            raise AlreadyRunning(
                f"another monitor run already serves this database for probe "
                f"{config.probe!r}: {holder} (lock file {path})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            f"pid {os.getpid()} on {socket.gethostname()}, "
            f"started {utcnow():%Y-%m-%d %H:%M:%SZ}\n".encode(),
            0,
        )
        return InstanceLock(path, fd)

    def release(self) -> None:
        os.close(self.fd)  # closing drops the flock


def lock_path(config: Config) -> Path:
    """Beside a SQLite file; in the state folder for a server database."""
    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(f"{database.name}.{config.probe}.lock")
    return default_state_dir(config.path) / f"run.{config.probe}.lock"


class Service:
    """The scheduler, its jobs, and the process's lifecycle."""

    def __init__(
        self, config_path: str | None, *, grace: timedelta, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.config_path = config_path
        self.config = load_config(config_path)
        self.grace = grace
        self.clock = clock
        self.store: Store = open_store(self.config.database_url)
        self.http = client_for(self.config)
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.failing: dict[str, bool] = {}
        self.in_flight = 0
        self.in_flight_lock = threading.Condition()
        self.heartbeat_id: int | None = None
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=16)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=UTC,
        )

    # -- jobs -------------------------------------------------------------

    def poll_job(self, name: str) -> None:
        with self._tracked():
            (report,) = poll_sources(
                self.store,
                self.config,
                [name],
                client=self.http,
                clock=self.clock,
                respect_backoff=True,
            )
            if report.outcome == BACKING_OFF:
                return  # still the failure already logged: not news, not a recovery
            detail = report.error or report.outcome
            self._log_state(f"source {name}", report.outcome != "error", report.outcome, detail)

    def check_job(self, name: str) -> None:
        with self._tracked():
            (report,) = run_checks(self.store, self.config, self._context(), [name])
            result = report.result
            state = (
                "skipped"
                if result.skipped
                else ("ok" if result.ok else result.failure_class or "failed")
            )
            self._log_state(f"check {name}", result.ok, state, result.detail)

    def heartbeat_job(self) -> None:
        if self.heartbeat_id is None:
            return
        with self.store.write() as session, session.begin():
            session.execute(
                update(Heartbeat)
                .where(Heartbeat.id == self.heartbeat_id)
                .values(last_seen=self.clock())
            )

    def retention_job(self) -> None:
        from monitor.store.retention import prune

        with self._tracked():
            settings = self.config.retention
            stats = prune(
                self.store, self.clock(), raw_keep=settings.raw, rollup_keep=settings.rollups
            )
            log.info("[service.retention] pruned %s", stats)

    def dashboards_job(self) -> None:
        """Regenerate ``[dashboards]`` in a child process; a failure is logged, never fatal.

        A child, not a thread: matplotlib would stay resident in the service
        (tens of MB for a job that runs every quarter of an hour), and a
        crash while drawing cannot take the monitoring down with it.
        """
        with self._tracked():
            config, now = self.config, self.clock()
            command = [
                sys.executable,
                "-m",
                "monitor",
                "--config",
                str(config.path),
                "chart",
                "--since",
                isoformat_z(now - timedelta(days=config.dashboards.days)) or "",
                "--until",
                isoformat_z(now) or "",
                "--out",
                str(config.dashboards_dir),
                "--format",
                ",".join(config.dashboards.formats),
            ]
            try:
                done = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    timeout=DASHBOARDS_TIMEOUT.total_seconds(),
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                self._log_state("dashboards", False, "failed", f"{type(exc).__name__}: {exc}")
                return
            if done.returncode != 0:
                lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
                self._log_state("dashboards", False, "failed", lines[-1])
                return
            self._log_state("dashboards", True, "ok", str(config.dashboards_dir / "index.html"))
            summary = done.stdout.strip().splitlines()
            log.info("[service.dashboards] %s", summary[-1] if summary else "done")

    # -- lifecycle ----------------------------------------------------------

    def run_once(self) -> int:
        """Each source and check one time (for cron); exit status as ``monitor check``."""
        self._start_heartbeat()
        try:
            polls = poll_sources(self.store, self.config, client=self.http, clock=self.clock)
            runs = run_checks(self.store, self.config, self._context())
        finally:
            self._stop_heartbeat()
        for report in polls:
            if report.error:
                log.warning("[service.once] source %s failed: %s", report.source, report.error)
        for run in runs:
            if not run.result.ok:
                log.warning(
                    "[service.once] check %s failed: %s %s",
                    run.check,
                    run.result.failure_class,
                    run.result.detail,
                )
        failed = any(r.error for r in polls) or any(not r.result.ok for r in runs)
        return 1 if failed else 0

    def run_forever(self) -> int:
        """Until SIGTERM/SIGINT; SIGHUP reloads. Returns the exit status."""
        self._install_signals()
        self._start_heartbeat()
        self._schedule_all(self.config, run_now=True)
        self._schedule_dashboards(self.config)
        self.scheduler.add_job(
            self.heartbeat_job,
            IntervalTrigger(seconds=HEARTBEAT_EVERY.total_seconds()),
            id="heartbeat",
        )
        self.scheduler.add_job(
            self.retention_job,
            IntervalTrigger(seconds=RETENTION_EVERY.total_seconds()),
            id="retention",
            next_run_time=self.clock() + RETENTION_FIRST_AFTER,
        )
        self.scheduler.start()
        log.warning(
            "[service.start] monitoring %d sources and %d checks as probe %s (pid %d)",
            len(self.config.sources),
            len(self.config.checks),
            self.config.probe,
            os.getpid(),
        )
        while not self.stopping.wait(0.5):
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self._reload()
        return self._shutdown()

    def _shutdown(self) -> int:
        self.scheduler.pause()
        deadline = time.monotonic() + self.grace.total_seconds()
        with self.in_flight_lock:
            while self.in_flight and time.monotonic() < deadline:
                self.in_flight_lock.wait(deadline - time.monotonic())
            unfinished = self.in_flight
        self.scheduler.shutdown(wait=False)
        self._stop_heartbeat()
        self.http.close()
        if unfinished:
            log.warning(
                "[service.stop] %d jobs still running after %ss; their work is rolled back",
                unfinished,
                self.grace.total_seconds(),
            )
        log.warning("[service.stop] stopped")
        return 0

    def _reload(self) -> None:
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("[service.reload] config not reloaded, keeping the running one: %s", exc)
            return
        if new.database_url != self.config.database_url or new.probe != self.config.probe:
            log.error(
                "[service.reload] database.url and monitor.probe need a restart; "
                "keeping the running config"
            )
            return
        old = self.config
        self.config = new
        self._schedule_all(new, previous=old)
        self._schedule_dashboards(new, previous=old)
        log.warning(
            "[service.reload] config reloaded: %d sources, %d checks",
            len(new.sources),
            len(new.checks),
        )

    def _schedule_all(
        self, config: Config, *, previous: Config | None = None, run_now: bool = False
    ) -> None:
        """Add new and changed jobs, remove dropped ones; unchanged jobs keep their timing."""
        wanted: dict[str, tuple[Callable[..., None], str, timedelta, Any]] = {}
        for source in config.sources:
            if source.enabled:
                wanted[f"source:{source.name}"] = (
                    self.poll_job,
                    source.name,
                    source.interval,
                    source,
                )
        for check in config.checks:
            if check.enabled:
                wanted[f"check:{check.name}"] = (self.check_job, check.name, check.interval, check)
        before = _settings_by_job(previous) if previous else {}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(("source:", "check:")) and job.id not in wanted:
                self.scheduler.remove_job(job.id)
                log.warning("[service.schedule] removed %s", job.id)
        for job_id, (function, name, interval, settings) in wanted.items():
            if previous is not None and before.get(job_id) == settings:
                continue  # unchanged: keep its schedule
            self.scheduler.add_job(
                function,
                IntervalTrigger(seconds=interval.total_seconds(), jitter=jitter_for(interval)),
                args=[name],
                id=job_id,
                replace_existing=True,
                next_run_time=self.clock(),  # every job runs once at start (or when added/changed)
            )
            if previous is not None:
                log.warning(
                    "[service.schedule] %s %s", "changed" if job_id in before else "added", job_id
                )

    def _schedule_dashboards(self, config: Config, *, previous: Config | None = None) -> None:
        """The dashboards job while ``[dashboards] every`` is set; a change applies at once."""
        settings = (config.dashboards, config.dashboards_dir)
        if previous is not None and settings == (previous.dashboards, previous.dashboards_dir):
            return  # unchanged: keep its timing
        every = config.dashboards.every
        scheduled = self.scheduler.get_job(DASHBOARDS_JOB) is not None
        if scheduled:
            self.scheduler.remove_job(DASHBOARDS_JOB)
        if every is None or every <= timedelta(0):
            if scheduled:
                log.warning("[service.schedule] removed %s", DASHBOARDS_JOB)
            return
        first = self.clock() + (DASHBOARDS_FIRST_AFTER if previous is None else timedelta(0))
        self.scheduler.add_job(
            self.dashboards_job,
            IntervalTrigger(seconds=every.total_seconds()),
            id=DASHBOARDS_JOB,
            next_run_time=first,
        )
        if previous is not None:
            log.warning("[service.schedule] %s every %s", DASHBOARDS_JOB, format_duration(every))

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: object) -> None:
            log.warning("[service.signal] %s: stopping", signal.Signals(signum).name)
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, lambda *_: self.reload_requested.set())

    def _start_heartbeat(self) -> None:
        now = self.clock()
        with self.store.write() as session, session.begin():
            self.heartbeat_id = session.execute(
                insert(Heartbeat).returning(Heartbeat.id),
                [
                    {
                        "probe": self.config.probe,
                        "started_at": now,
                        "last_seen": now,
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                    }
                ],
            ).scalar_one()

    def _stop_heartbeat(self) -> None:
        if self.heartbeat_id is None:
            return
        now = self.clock()
        with self.store.write() as session, session.begin():
            session.execute(
                update(Heartbeat)
                .where(Heartbeat.id == self.heartbeat_id)
                .values(last_seen=now, stopped_at=now)
            )
        self.heartbeat_id = None

    def _context(self) -> CheckContext:
        return CheckContext(
            config_dir=self.config.path.parent, state_dir=default_state_dir(self.config.path)
        )

    def _tracked(self) -> _InFlight:
        return _InFlight(self)

    def _log_state(self, what: str, ok: bool, state: str, detail: str) -> None:
        """A line per failure and one on recovery; silence while all is well.

        ``ok`` to ``not_modified`` is not news: only leaving a failure is.
        """
        was_failing = self.failing.get(what, False)
        self.failing[what] = not ok
        if not ok:
            log.warning("[service.job] %s %s: %s", what, state, detail)
        elif was_failing:
            log.warning("[service.job] %s recovered: %s", what, state)


class _InFlight:
    """Counts running jobs so shutdown can wait for them (up to the grace period)."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def __enter__(self) -> None:
        with self.service.in_flight_lock:
            self.service.in_flight += 1

    def __exit__(self, *exc: object) -> None:
        # A job's own exception is logged by APScheduler; only the count is ours.
        with self.service.in_flight_lock:
            self.service.in_flight -= 1
            self.service.in_flight_lock.notify_all()


def _settings_by_job(config: Config) -> dict[str, Any]:
    jobs: dict[str, Any] = {f"source:{s.name}": s for s in config.sources if s.enabled}
    jobs.update({f"check:{c.name}": c for c in config.checks if c.enabled})
    return jobs
