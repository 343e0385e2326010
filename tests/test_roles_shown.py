"""What a check is, as ``why`` and the dashboard show it: vendor, local or control.

The stored role is what the user configured (vendor or control); a check that
inspects this machine (credentials file, callback port, clock) is shown
``local``. The correlator's decisions do not read the shown role.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.charts.model import build
from monitor.charts.page import page
from monitor.cli import main
from monitor.correlate.classes import LOCAL_KINDS, shown_role
from monitor.store import open_store
from monitor.store.checkruns import CheckSpec, record_check_run, sync_checks
from monitor.store.history import read_history

START = datetime(2026, 4, 14, 11, 30, tzinfo=UTC)
AT = "2026-04-14T12:00:00Z"
# name, kind, role, the failure class its runs record (None: it passes)
CHECKS = (
    ("api", "http", "vendor", "server_error"),
    ("api-dns", "dns", "vendor", None),
    ("claude-credentials", "credentials_file", "vendor", "credentials_expired"),
    ("callback-port", "local_port", "vendor", "port_unavailable"),
    ("clock", "clock", "vendor", "clock_skew"),
    ("control", "http", "control", "connect_timeout"),
)
SHOWN = {
    "api": "vendor",
    "api-dns": "vendor",
    "claude-credentials": "local",
    "callback-port": "local",
    "clock": "local",
    "control": "control",
}


@pytest.mark.parametrize(
    ("role", "kind", "shown"),
    [
        ("vendor", "http", "vendor"),
        ("vendor", "oauth_refresh", "vendor"),
        ("vendor", "dns", "vendor"),
        ("vendor", "tcp", "vendor"),
        ("vendor", "credentials_file", "local"),
        ("vendor", "local_port", "local"),
        ("vendor", "clock", "local"),
        ("control", "http", "control"),
        ("control", "clock", "control"),  # configured control wins over the kind
        ("vendor", None, "vendor"),  # an imported failure: a call to the vendor
    ],
)
def test_it_shows_a_role_from_what_the_check_is(role: str, kind: str | None, shown: str) -> None:
    assert shown_role(role, kind) == shown


def test_every_local_kind_is_shown_local() -> None:
    assert {kind for kind in LOCAL_KINDS if shown_role("vendor", kind) == "local"} == LOCAL_KINDS


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """One SQLite database: each check of ``CHECKS`` run every two minutes for an hour."""
    config = tmp_path / "config.toml"
    config.write_text('[monitor]\nprobe = "laptop"\n', encoding="utf-8")
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        with store.write() as session, session.begin():
            specs = [CheckSpec(name, kind, role, name) for name, kind, role, _ in CHECKS]
            ids = sync_checks(session, specs, START)
            for step in range(31):
                for name, _, _, failure in CHECKS:
                    record_check_run(
                        session,
                        check_id=ids[name],
                        probe="laptop",
                        started_at=START + timedelta(minutes=2 * step),
                        duration_ms=10.0,
                        ok=failure is None,
                        skipped=False,
                        failure_class=failure,
                        http_status=None,
                        request_id=None,
                        server_date=None,
                        detail="seeded",
                        facts={},
                    )
    finally:
        store.close()
    return config


def why(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "why", "--at", AT, "--tz", "UTC", *args])
    out, err = capsys.readouterr()
    assert exited.value.code in (0, None), err
    return out


def test_why_labels_each_failing_check_by_what_it_is(seeded: Path, capsys) -> None:
    text = why(capsys, seeded)
    answer: dict[str, Any] = json.loads(why(capsys, seeded, "--json"))

    labels = dict(re.findall(r"^  (\S+) \[(\w+)\] ", text, re.MULTILINE))
    failing = {name: SHOWN[name] for name, _, _, failure in CHECKS if failure}
    assert labels == failing
    assert {w["check"]: w["role"] for w in answer["local"]} == failing


def test_the_dashboard_table_shows_the_same_roles(seeded: Path) -> None:
    store = open_store(f"sqlite:///{seeded.parent / 'monitor.db'}")
    try:
        dashboard = build(read_history(store, START, START + timedelta(hours=1)), START)
    finally:
        store.close()

    html = page(dashboard, [], "v1")

    rows = re.findall(r'<tr data-check="([^"]+)"><th scope="row">[^<]*</th><td>(\w+)</td>', html)
    assert dict(rows) == SHOWN
    assert {p.check: p.summary.role for p in dashboard.panels} == SHOWN
