"""One service per probe across machines: the heartbeat is a lease, claimed atomically.

"Another machine" is a heartbeat row written through the store with another
host and pid, as that machine's service would have written it; the clock
is explicit, so a lease expires without waiting for it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.service.lock import AlreadyRunning
from monitor.service.scheduler import Service
from monitor.store import Store, open_store
from monitor.store.heartbeats import (
    HEARTBEAT_EVERY,
    LEASE,
    Lease,
    beat,
    claim_probe,
    latest_leases,
    start_heartbeat,
    stop_heartbeat,
)
from monitor.store.locks import lock_key

T0 = datetime(2026, 4, 14, 10, 0, 20, tzinfo=UTC)
HERE = socket.gethostname()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[monitor]\nprobe = "svc"\n', encoding="utf-8")
    return path


@pytest.fixture
def store(config: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{config.parent / 'monitor.db'}")
    yield opened
    opened.close()


def run_once_at(config: Path, at: datetime) -> int:
    """``monitor run --once`` of a config with nothing to run, at ``at``: the claim and the stop."""
    service = Service(str(config), grace=timedelta(seconds=1), clock=lambda: at)
    try:
        return service.run_once()
    finally:
        service.runtime.http.close()
        service.runtime.store.close()


def other_machine(store: Store, at: datetime = T0, *, probe: str = "svc") -> int:
    return start_heartbeat(store, probe=probe, now=at, pid=4242, host="ci-runner-7")


def dead_pid() -> int:
    """The pid of a child that has exited: no process has it now (barring reuse)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_it_refuses_a_probe_another_machine_holds_naming_it_and_when_it_frees(
    config: Path, store: Store
) -> None:
    other_machine(store)

    with pytest.raises(AlreadyRunning) as refused:
        run_once_at(config, T0 + timedelta(seconds=40))

    assert str(refused.value) == (
        "probe 'svc' is already running on host ci-runner-7 (pid 4242), last heartbeat "
        "40s ago (10:00:20 UTC); if that machine is gone, this probe can start after "
        "10:01:50 UTC (the lease lasts 1m30s past the last heartbeat). Or give this machine "
        "its own [monitor] probe name."
    )
    with store.read() as session:
        assert [lease.host for lease in latest_leases(session).values()] == ["ci-runner-7"]


def test_it_starts_once_the_holders_lease_has_expired(config: Path, store: Store) -> None:
    other_machine(store)

    assert run_once_at(config, T0 + LEASE) == 0

    with store.read() as session:
        newest = latest_leases(session)["svc"]
    assert (newest.host, newest.pid) == (HERE, os.getpid())
    assert newest.started_at == T0 + LEASE
    assert newest.stopped_at == T0 + LEASE  # --once releases the probe when done


def test_each_beat_moves_the_lease_on(config: Path, store: Store) -> None:
    held = other_machine(store)
    beat(store, held, T0 + HEARTBEAT_EVERY)

    with pytest.raises(AlreadyRunning, match=r"can start after 10:02:20 UTC"):
        run_once_at(config, T0 + LEASE + timedelta(seconds=10))
    assert run_once_at(config, T0 + HEARTBEAT_EVERY + LEASE) == 0


def test_a_cleanly_stopped_holder_never_blocks(config: Path, store: Store) -> None:
    held = other_machine(store)
    stop_heartbeat(store, held, T0 + timedelta(seconds=5))

    assert run_once_at(config, T0 + timedelta(seconds=6)) == 0


def test_a_holder_whose_clock_runs_ahead_still_holds(config: Path, store: Store) -> None:
    other_machine(store, T0 + timedelta(seconds=20))

    with pytest.raises(AlreadyRunning, match=r"last heartbeat ahead of this clock"):
        run_once_at(config, T0)


def test_another_probe_name_is_never_blocked(config: Path, store: Store) -> None:
    other_machine(store, probe="laptop")

    assert run_once_at(config, T0 + timedelta(seconds=1)) == 0


def test_a_crashed_service_on_this_machine_never_blocks_its_restart(
    config: Path, store: Store
) -> None:
    start_heartbeat(store, probe="svc", now=T0, pid=dead_pid(), host=HERE)

    assert run_once_at(config, T0 + timedelta(seconds=10)) == 0


def test_a_live_process_on_this_machine_holds_the_probe(config: Path, store: Store) -> None:
    start_heartbeat(store, probe="svc", now=T0, pid=os.getppid(), host=HERE)

    with pytest.raises(AlreadyRunning, match=rf"on host {HERE} \(pid {os.getppid()}\)"):
        run_once_at(config, T0 + timedelta(seconds=10))


def test_a_service_claims_before_it_schedules_anything(config: Path, store: Store) -> None:
    other_machine(store)
    service = Service(str(config), grace=timedelta(seconds=1), clock=lambda: T0)
    try:
        with pytest.raises(AlreadyRunning):
            service.run_forever()
        assert not service.scheduler.running
        assert service.heartbeat.heartbeat_id is None
    finally:
        service.runtime.http.close()
        service.runtime.store.close()


def test_of_machines_claiming_at_once_exactly_one_wins(database_url: str) -> None:
    """On each engine: SQLite's write lock, PostgreSQL's advisory lock on the probe's name."""
    open_store(database_url).close()  # the schema first: the race is the claim's, not migrating's
    barrier = threading.Barrier(6)
    results: list[int | Lease] = []

    def claim(host: str) -> None:
        own = open_store(database_url)
        try:
            barrier.wait()
            results.append(
                claim_probe(own, probe="svc", now=T0, pid=100, host=host, pid_alive=lambda _: True)
            )
        finally:
            own.close()

    threads = [threading.Thread(target=claim, args=(f"host-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if isinstance(r, Lease)]
    assert len(won) == 1
    assert len(lost) == 5
    reader = open_store(database_url)
    try:
        with reader.read() as session:
            holder = latest_leases(session)["svc"]
    finally:
        reader.close()
    assert {lease.host for lease in lost} == {holder.host}


def test_a_restarted_container_is_not_held_off_by_its_own_dead_run(store: Store) -> None:
    """Killed, then restarted on the same host as the same pid (1 in a container)."""
    first = claim_probe(store, probe="svc", now=T0, pid=1, host="box", pid_alive=lambda _: True)
    assert isinstance(first, int)
    again = claim_probe(
        store,
        probe="svc",
        now=T0 + timedelta(seconds=5),
        pid=1,
        host="box",
        pid_alive=lambda _: True,
    )
    assert isinstance(again, int)


@pytest.mark.parametrize(
    ("stopped", "at", "state"),
    [
        (None, T0 + LEASE - timedelta(microseconds=1), "running"),
        (None, T0 + LEASE, "gone"),
        (T0, T0 + timedelta(seconds=1), "stopped"),
        (None, T0 - timedelta(seconds=5), "running"),  # a clock behind the holder's
    ],
)
def test_a_lease_is_running_stopped_or_gone(
    stopped: datetime | None, at: datetime, state: str
) -> None:
    lease = Lease("svc", "box", 1, T0 - timedelta(hours=1), T0, stopped)

    assert lease.state(at) == state


def test_the_lease_is_three_beats() -> None:
    assert LEASE == 3 * HEARTBEAT_EVERY == timedelta(seconds=90)


def test_lock_keys_are_stable_signed_64_bit_integers() -> None:
    keys = {lock_key(f"probe:{name}") for name in ("svc", "laptop", "ci", "")}

    assert len(keys) == 4
    assert all(-(2**63) <= key < 2**63 for key in keys)
    # The same on every machine and in every process (Python's own hash() is not).
    assert lock_key("probe:svc") == -5834006003826040123


def test_a_service_whose_probe_was_taken_over_while_it_slept_stops(
    config: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    now = [T0]
    service = Service(str(config), grace=timedelta(seconds=1), clock=lambda: now[0])
    try:
        service.heartbeat.start()
        service.beat()
        assert not service.stopping.is_set()

        now[0] = T0 + LEASE + timedelta(minutes=10)  # the laptop slept; ci claimed the probe
        claimed = claim_probe(
            store,
            probe="svc",
            now=now[0] - timedelta(seconds=30),
            pid=4242,
            host="ci-runner-7",
            pid_alive=lambda _: True,
        )
        assert isinstance(claimed, int)
        service.beat()
    finally:
        service.runtime.http.close()
        service.runtime.store.close()

    assert service.stopping.is_set()
    assert "probe svc was claimed by host ci-runner-7 (pid 4242)" in caplog.text


def test_a_takeover_that_has_since_lapsed_takes_nothing(config: Path, store: Store) -> None:
    now = [T0]
    service = Service(str(config), grace=timedelta(seconds=1), clock=lambda: now[0])
    try:
        service.heartbeat.start()
        other_machine(store, T0 + LEASE + timedelta(seconds=1))  # claimed, then killed
        now[0] = T0 + 3 * LEASE
        service.beat()
    finally:
        service.runtime.http.close()
        service.runtime.store.close()

    assert not service.stopping.is_set()
