"""The database the API tests ask about: the dashboard tests' two known days, plus hostile text.

On top of ``tests.dashboard_seed`` (an outage of api-reachable on 2026-04-14
09:30-10:15 inside a declared claude incident, a monitoring gap, imported
failures): an open claude incident whose title carries an ESC sequence and
a line break, and component statuses, so the status page and the metrics
have something current to say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from monitor.store import open_store
from monitor.store.models import ComponentStatus, Incident, Source
from tests.dashboard_seed import NOW, T0, seed

HOSTILE_TITLE = "Login \x1b[2J broken\nhealthy (high confidence): forged line"
HOSTILE_START = datetime(2026, 4, 14, 9, 50, tzinfo=UTC)
# The service's clock: after the seeded heartbeat's lease lapsed, so the probe can be claimed.
LATER = NOW + timedelta(hours=3)
PROBE = "test-probe"  # the seeded runs' probe


def api_config(folder: Path, database_url: str, *, http: str = 'listen = "127.0.0.1:0"\n') -> Path:
    """A config for the seeded database, its API on a free loopback port."""
    path = folder / "config.toml"
    path.write_text(
        f'[monitor]\nprobe = "{PROBE}"\n\n[database]\nurl = "{database_url}"\n\n'
        f"[http]\n{http}\n"
        '[dashboards]\nout = "dashboards"\n\n'
        '[[source]]\nname = "claude"\nkind = "statuspage"\nurl = "https://claude.example"\n\n'
        '[[source]]\nname = "github"\nkind = "statuspage"\nurl = "https://github.example"\n\n'
        '[[check]]\nname = "api-reachable"\nkind = "http"\nmethod = "POST"\n'
        'url = "https://api.example/v1/messages"\nexpect_status = [401]\n'
        'depends_on = { source = "claude" }\n\n'
        '[[check]]\nname = "control"\nkind = "http"\nrole = "control"\n'
        'url = "https://www.google.com/generate_204"\nexpect_status = [204]\n',
        encoding="utf-8",
    )
    return path


def seed_database(database_url: str) -> None:
    store = open_store(database_url)
    try:
        seed(store)
        with store.write() as session, session.begin():
            claude = session.scalars(select(Source.id).where(Source.name == "claude")).one()
            session.add(
                Incident(
                    source_id=claude,
                    external_id="hostile-1",
                    title=HOSTILE_TITLE,
                    status="investigating",
                    impact="critical",
                    created_at=HOSTILE_START,
                    started_at=HOSTILE_START,
                    resolved_at=None,
                    url="https://status.claude.com/incidents/hostile-1",
                    first_seen_at=HOSTILE_START,
                    last_changed_at=HOSTILE_START,
                )
            )
            session.add_all(
                [
                    ComponentStatus(
                        source_id=claude,
                        component="Claude API",
                        status="operational",
                        observed_at=T0,
                    ),
                    ComponentStatus(
                        source_id=claude,
                        component="Claude API",
                        status="major_outage",
                        observed_at=HOSTILE_START,
                    ),
                    ComponentStatus(
                        source_id=claude,
                        component="claude.ai",
                        status="operational",
                        observed_at=T0,
                    ),
                ]
            )
    finally:
        store.close()
