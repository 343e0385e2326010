"""``monitor run``: keep every source polled and every check run, until told to stop.

APScheduler (3.x) owns the timing: one job per source and per check at its
interval, with jitter, never two instances of a job at once, missed runs
coalesced, each run once at start. This module wires the jobs (``jobs/``,
one module each) to it and adds what a long-running service needs around
them: heartbeats, signals (TERM/INT stop with a grace period, HUP reloads
the config), and waiting for running jobs on the way out. One instance per
database and probe: ``lock``'s flock on this machine, and the heartbeat's
lease in the database across machines (claimed before anything runs, by
``--once`` too, since its runs would interleave with a running service's
under the same probe name).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.checks.runner import run_checks
from monitor.config import Config, find_config, load_config
from monitor.digest import config_digest
from monitor.errors import ConfigError
from monitor.polling.backoff import jitter_for
from monitor.polling.poll import client_for, poll_sources
from monitor.service.jobs.answer import ANSWER_EVERY, answer_job
from monitor.service.jobs.check import check_job
from monitor.service.jobs.dashboards import (
    DASHBOARDS_FIRST_AFTER,
    DASHBOARDS_JOB,
    draw_dashboards,
)
from monitor.service.jobs.heartbeat import HEARTBEAT_EVERY, ServiceHeartbeat
from monitor.service.jobs.poll import poll_job
from monitor.service.jobs.retention import (
    RETENTION_EVERY,
    RETENTION_FIRST_AFTER,
    prune_old_runs,
)
from monitor.service.runtime import Clock, Loaded, Runtime, utcnow
from monitor.store import open_store
from monitor.times import format_duration

if TYPE_CHECKING:
    from monitor.service.api.server import ApiServer
    from monitor.service.lock import InstanceLock

log = logging.getLogger("monitor.service")

Job = Callable[..., None]


class Service:
    """The scheduler, its jobs, and the process's lifecycle."""

    def __init__(
        self,
        config_path: str | None,
        *,
        grace: timedelta,
        clock: Clock = utcnow,
        lock: InstanceLock | None = None,
    ) -> None:
        self.config_path = config_path
        digest = _digest(config_path)
        config = load_config(config_path)
        self.runtime = Runtime(
            store=open_store(config.database_url),
            loaded=Loaded.of(config, digest),
            clock=clock,
            http=client_for(config),
        )
        # The instance lock held for this run, told the API's address once it serves.
        self.lock = lock
        self.api: ApiServer | None = None
        self.api_url: str | None = None  # where the API serves, once bound
        self.grace = grace
        self.heartbeat = ServiceHeartbeat(self.runtime)
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.in_flight = 0
        self.in_flight_lock = threading.Condition()
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=16)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=UTC,
        )

    @property
    def config(self) -> Config:
        return self.runtime.config

    def run_job(self, job: Job, *args: Any) -> None:
        """Run one job, counted so that shutdown can wait for it (up to the grace period)."""
        with self.in_flight_lock:
            self.in_flight += 1
        try:
            job(self.runtime, *args)
        finally:
            # A job's own exception is logged by APScheduler; only the count is ours.
            with self.in_flight_lock:
                self.in_flight -= 1
                self.in_flight_lock.notify_all()

    def _add_job(
        self, job_id: str, job: Job, trigger: IntervalTrigger, *args: Any, **kw: Any
    ) -> None:
        self.scheduler.add_job(
            self.run_job, trigger, args=[job, *args], id=job_id, name=job_id, **kw
        )

    # -- lifecycle ----------------------------------------------------------

    def run_once(self) -> int:
        """Each source and check one time (for cron); exit status as ``monitor check``."""
        runtime = self.runtime
        self.heartbeat.start()
        try:
            polls = poll_sources(
                runtime.store, self.config, client=runtime.http, clock=runtime.clock
            )
            runs = run_checks(runtime.store, self.config, runtime.check_context())
        finally:
            self.heartbeat.stop()
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
        check_notify_channels(self.config)  # a channel that cannot work is a config error
        api = self._api()  # a missing token is a config error before anything is claimed
        self.heartbeat.start()  # first: a refused claim must leave nothing behind
        if api is not None:
            self._serve(api)
        self.start_notifications()
        self._install_signals()
        self._schedule_all(self.config)
        self._schedule_dashboards(self.config)
        self.scheduler.add_job(
            self.beat,
            IntervalTrigger(seconds=HEARTBEAT_EVERY.total_seconds()),
            id="heartbeat",
        )
        self._add_job("answer", answer_job, IntervalTrigger(seconds=ANSWER_EVERY.total_seconds()))
        self._add_job(
            "retention",
            prune_old_runs,
            IntervalTrigger(seconds=RETENTION_EVERY.total_seconds()),
            next_run_time=self.runtime.clock() + RETENTION_FIRST_AFTER,
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

    def beat(self) -> None:
        """Renew the lease; stop when another machine took the probe over meanwhile."""
        if not self.heartbeat.beat():
            self.stopping.set()

    def _shutdown(self) -> int:
        self.scheduler.pause()
        deadline = time.monotonic() + self.grace.total_seconds()
        with self.in_flight_lock:
            while self.in_flight and time.monotonic() < deadline:
                self.in_flight_lock.wait(deadline - time.monotonic())
            unfinished = self.in_flight
        self.scheduler.shutdown(wait=False)
        self.stop_notifications(max(deadline - time.monotonic(), 1.0))
        if self.api is not None:
            self.api.stop()
        self.heartbeat.stop()
        self.runtime.http.close()
        if unfinished:
            log.warning(
                "[service.stop] %d jobs still running after %ss; their work is rolled back",
                unfinished,
                self.grace.total_seconds(),
            )
        log.warning("[service.stop] stopped")
        return 0

    def _api(self) -> ApiServer | None:
        """The API server ``[http] listen`` asks for, not yet bound; None without it."""
        if self.config.http.listen is None:
            return None
        from monitor.listen import parse_listen
        from monitor.service.api.access import api_token
        from monitor.service.api.server import ApiServer
        from monitor.service.api.state import ApiState

        state = ApiState(
            runtime=self.runtime,
            heartbeat=self.heartbeat,
            stopping=self.stopping,
            listen=parse_listen(self.config.http.listen),
            token=api_token(self.config),
        )
        return ApiServer(state)

    def _serve(self, api: ApiServer) -> None:
        """Bind and serve, and say where in the lock file; a taken port undoes the claim."""
        try:
            url = api.start()
        except BaseException:
            self.heartbeat.stop()
            self.runtime.http.close()
            raise
        self.api, self.api_url = api, url
        if self.lock is not None:
            self.lock.advertise(url)
        log.warning("[service.api] serving %s", url)

    def _reload(self) -> None:
        digest = _digest(self.config_path)
        try:
            new = load_config(self.config_path)
            check_notify_channels(new)
        except ConfigError as exc:
            log.error("[service.reload] config not reloaded, keeping the running one: %s", exc)
            return
        if new.database_url != self.config.database_url or new.probe != self.config.probe:
            log.error(
                "[service.reload] database.url and monitor.probe need a restart; "
                "keeping the running config"
            )
            return
        if (new.http.listen, new.http.token) != (self.config.http.listen, self.config.http.token):
            log.warning("[service.reload] [http] listen and token take effect at the next start")
        old = self.config
        self.runtime.loaded = Loaded.of(new, digest)  # one assignment: config and digests
        self._forget_removed(old, new)
        self.start_notifications()
        self._schedule_all(new, previous=old)
        self._schedule_dashboards(new, previous=old)
        log.warning(
            "[service.reload] config reloaded: %d sources, %d checks",
            len(new.sources),
            len(new.checks),
        )

    def _forget_removed(self, old: Config, new: Config) -> None:
        """The metrics and failing states of the checks and sources a reload took away.

        Removed, renamed or disabled alike: no job runs them any more, so
        nothing would ever say they recovered.
        """
        gone = _settings_by_job(old).keys() - _settings_by_job(new).keys()
        checks = {job.removeprefix("check:") for job in gone if job.startswith("check:")}
        sources = {job.removeprefix("source:") for job in gone if job.startswith("source:")}
        self.runtime.tally.forget(checks=checks, sources=sources)
        self.runtime.states.forget(
            {f"check {name}" for name in checks} | {f"source {name}" for name in sources}
        )

    def start_notifications(self) -> None:
        """The delivery worker and the trackers, once ``[[notify]]`` names a channel."""
        if self.runtime.notifier is not None or not self.config.notify:
            return
        from monitor.notify.deliver import DeliveryWorker
        from monitor.notify.notifier import Notifier

        worker = DeliveryWorker(self.runtime.store, clock=self.runtime.clock)
        worker.start()
        self.runtime.notifier = Notifier(self.runtime.store, self.config.probe, worker)

    def stop_notifications(self, grace_seconds: float) -> None:
        """Send what is queued within the grace period; what is left is recorded as not sent."""
        notifier = self.runtime.notifier
        if notifier is None:
            return
        left = notifier.worker.stop(timedelta(seconds=grace_seconds))
        if left:
            log.warning("[service.stop] %d notifications not sent: the service stopped first", left)

    def _schedule_all(self, config: Config, *, previous: Config | None = None) -> None:
        """Add new and changed jobs, remove dropped ones; unchanged jobs keep their timing."""
        wanted: dict[str, tuple[Job, str, timedelta, Any]] = {}
        for source in config.sources:
            if source.enabled:
                wanted[f"source:{source.name}"] = (
                    poll_job,
                    source.name,
                    source.interval,
                    source,
                )
        for check in config.checks:
            if check.enabled:
                wanted[f"check:{check.name}"] = (check_job, check.name, check.interval, check)
        before = _settings_by_job(previous) if previous else {}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(("source:", "check:")) and job.id not in wanted:
                self.scheduler.remove_job(job.id)
                log.warning("[service.schedule] removed %s", job.id)
        for job_id, (job, name, interval, settings) in wanted.items():
            if previous is not None and before.get(job_id) == settings:
                continue  # unchanged: keep its schedule
            self._add_job(
                job_id,
                job,
                IntervalTrigger(seconds=interval.total_seconds(), jitter=jitter_for(interval)),
                name,
                replace_existing=True,
                # every job runs once at start (or when added or changed)
                next_run_time=self.runtime.clock(),
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
        first = self.runtime.clock() + (
            DASHBOARDS_FIRST_AFTER if previous is None else timedelta(0)
        )
        self._add_job(
            DASHBOARDS_JOB,
            draw_dashboards,
            IntervalTrigger(seconds=every.total_seconds()),
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


def check_notify_channels(config: Config) -> None:
    """ConfigError when a ``[[notify]]`` URL cannot be used (Apprise is imported only then)."""
    if config.notify:
        from monitor.notify.channels import check_channels

        check_channels(config.notify, config.path)


def _digest(config_path: str | None) -> str:
    """The config file's digest, taken BEFORE it is loaded.

    Should the file change in between, the digest is of the older bytes, so
    a command given the newer file sees a mismatch and reads the database
    itself: never the other way round. Unreadable: load_config says why.
    """
    try:
        return config_digest(find_config(config_path).expanduser())
    except OSError:
        return ""


def _settings_by_job(config: Config) -> dict[str, Any]:
    jobs: dict[str, Any] = {f"source:{s.name}": s for s in config.sources if s.enabled}
    jobs.update({f"check:{c.name}": c for c in config.checks if c.enabled})
    return jobs
