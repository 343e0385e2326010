"""A process killed with SIGKILL while writing leaves a sound database with every committed row."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select, text

from monitor.store import open_store
from monitor.store.models import Incident, IncidentUpdate

# Writes one new incident (with two updates) per transaction through the
# same path a poll uses, and says so only after the commit returned.
WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from monitor.sources.records import IncidentRecord, Snapshot, UpdateRecord
    from monitor.store import open_store
    from monitor.store.ingest import apply_snapshot
    from monitor.store.queries import SourceSpec, sync_sources

    store = open_store(sys.argv[1])
    t0 = datetime(2026, 4, 13, 15, 31, tzinfo=UTC)
    with store.write() as session, session.begin():
        source_id = sync_sources(session, [SourceSpec("s", "statuspage", "https://x.test")], t0)["s"]
    for n in range(100_000):
        at = t0 + timedelta(seconds=n)
        record = IncidentRecord(
            external_id=f"i{n}", title="x" * 500, status="investigating", impact="major",
            created_at=at, started_at=at, resolved_at=None, url=None, components=("API",),
            updates=(UpdateRecord(f"u{n}a", "investigating", "y" * 2000, at),
                     UpdateRecord(f"u{n}b", "identified", "z" * 2000, at)),
        )
        with store.write() as session, session.begin():
            apply_snapshot(session, source_id, Snapshot(incidents=(record,)), at)
        print(n, flush=True)
    """
)


def test_it_keeps_every_committed_row_when_killed_mid_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert child.stdout is not None
    last_committed = -1
    try:
        for line in child.stdout:  # bounded: the writer stops at 100,000 rows
            last_committed = int(line)
            if last_committed >= 300:
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        with store.read() as session:
            incidents = session.scalar(select(func.count()).select_from(Incident)) or 0
            updates = session.scalar(select(func.count()).select_from(IncidentUpdate)) or 0
            present = set(session.scalars(select(Incident.external_id)))
    finally:
        store.close()
    # Everything acknowledged is there. The writer goes on committing while the
    # kill is on its way (how far depends on the machine's load), so more may be:
    # but only whole incidents, in order, with no gap.
    assert {f"i{n}" for n in range(last_committed + 1)} <= present
    assert incidents >= last_committed + 1
    assert present == {f"i{n}" for n in range(incidents)}
    assert updates == 2 * incidents
