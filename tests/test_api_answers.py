"""``/api/why``, ``/api/timeline`` and ``/api/status`` say the command line's bytes, on each engine.

A real service (its probe claimed, its API bound to a free 127.0.0.1 port)
over a real seeded database; each answer is compared with what ``monitor``
prints for the same question, byte for byte, and each bad parameter with
the command's error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from monitor.cli import main
from monitor.service.scheduler import Service
from tests.api_client import request, serving
from tests.api_seed import HOSTILE_TITLE, LATER, api_config, seed_database

MOMENTS = [
    # the outage inside a declared incident; the monitoring gap; a quiet afternoon
    {"at": "2026-04-14T10:00:00Z"},
    {"at": "2026-04-13T23:00:00Z", "window": "1h"},
    {"at": "2026-04-14 16:00", "tz": "Europe/Berlin"},
    {"at": "2026-04-14T09:45:00Z", "window": "10m", "probe": "test-probe"},
]


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    seed_database(database_url)
    return api_config(tmp_path, database_url)


@pytest.fixture
def service(config: Path) -> Iterator[Service]:
    with serving(config, clock=lambda: LATER) as running:
        yield running


def url_of(service: Service) -> str:
    assert service.api_url is not None
    return service.api_url


def cli(
    capsys: pytest.CaptureFixture[str], config: Path, *args: str, codes: tuple[int, ...] = (0,)
) -> tuple[str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    assert (exited.value.code or 0) in codes, err
    return out, err


def query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def options(params: dict[str, str]) -> list[str]:
    return [part for name, value in params.items() for part in (f"--{name}", value)]


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m["at"])
def test_why_answers_with_the_bytes_of_why_json(service, config, capsys, moment):
    answer = request(url_of(service), f"/api/why?{query(moment)}")
    out, _ = cli(capsys, config, "why", *options(moment), "--json")

    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.text == out
    assert json.loads(out)["at"]  # a real answer, not an empty one


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m["at"])
def test_why_in_text_answers_with_the_bytes_of_why(service, config, capsys, moment):
    answer = request(url_of(service), f"/api/why?{query(moment)}&format=text")
    out, _ = cli(capsys, config, "why", *options(moment))

    assert answer.status == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.text == out


def test_the_outage_is_theirs_through_the_api_too(service):
    answer = request(url_of(service), "/api/why?at=2026-04-14T10:00:00Z").json()

    assert answer["verdict"] == "upstream"
    assert answer["at"] == "2026-04-14T10:00:00Z"


def test_why_without_at_answers_for_the_services_now(service):
    answer = request(url_of(service), "/api/why").json()

    assert answer["at"] == LATER.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_timeline_answers_with_the_bytes_of_timeline(service, config, capsys, fmt):
    span = {"since": "2026-04-14 08:00", "until": "2026-04-14 12:00", "tz": "UTC"}
    answer = request(url_of(service), f"/api/timeline?{query(span)}&format={fmt}")
    out, _ = cli(capsys, config, "timeline", *options(span), *(["--json"] if fmt == "json" else []))

    assert answer.status == 200
    assert answer.text == out
    assert "Elevated errors on the API" in out


def fail_now(service: Service) -> None:
    """api-reachable fails a minute before the service's now: something is failing."""
    from sqlalchemy import select

    from monitor.store.checkruns import record_check_run
    from monitor.store.models import Check

    with service.runtime.store.write() as session, session.begin():
        check_id = session.scalars(select(Check.id).where(Check.name == "api-reachable")).one()
        record_check_run(
            session,
            check_id=check_id,
            probe="test-probe",
            started_at=LATER - timedelta(minutes=1),
            duration_ms=30.0,
            ok=False,
            skipped=False,
            failure_class="server_error",
            http_status=503,
            request_id=None,
            server_date=None,
            detail="HTTP 503, expected 401",
            facts={},
        )


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.parametrize("failing", [False, True], ids=["all-well", "failing"])
def test_status_answers_with_the_bytes_of_status_and_says_what_fails(
    service, config, capsys, fmt, failing
):
    if failing:
        fail_now(service)
    answer = request(url_of(service), f"/api/status?format={fmt}")
    with freeze_time(LATER):
        out, _ = cli(
            capsys,
            config,
            "status",
            *(["--json"] if fmt == "json" else []),
            codes=(1,) if failing and fmt == "text" else (0,),
        )

    assert answer.status == 200  # failing or not: the answer was given
    assert answer.text == out
    assert answer.headers["monitor-failing"] == ("true" if failing else "false")
    listed = request(url_of(service), "/api/status").json()["failing"]
    assert listed == (["check api-reachable"] if failing else [])


BAD = [
    ("/api/why?at=yesterday-ish", ["why", "--at", "yesterday-ish"]),
    ("/api/why?at=now&window=0m", ["why", "--window", "0m"]),
    ("/api/why?at=2099-01-01T00:00:00Z", ["why", "--at", "2099-01-01T00:00:00Z"]),
    ("/api/why?window=2d", ["why", "--window", "2d"]),
    ("/api/why?tz=Mars/Olympus_Mons", ["why", "--tz", "Mars/Olympus_Mons"]),
    ("/api/why?probe=nobody", ["why", "--probe", "nobody"]),
    (
        "/api/timeline?since=2026-04-14&until=2026-04-13",
        ["timeline", "--since", "2026-04-14", "--until", "2026-04-13"],
    ),
    ("/api/timeline?probe=nobody", ["timeline", "--probe", "nobody"]),
]


@pytest.mark.parametrize(("path", "args"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_parameter_is_a_400_in_the_words_of_the_command_line(
    service, config, capsys, path, args
):
    answer = request(url_of(service), path)
    _, err = cli(capsys, config, *args, codes=(2,))

    assert answer.status == 400
    message = answer.json()["error"]
    assert message.startswith("Invalid value for '--")
    assert f"Error: {message}\n" in err
    assert message == f"Invalid value for '{answer.json()['option']}': {answer.json()['message']}"


def test_outside_text_arrives_escaped_as_text_and_exact_in_json(service):
    at = "at=2026-04-14T10:00:00Z"
    text = request(url_of(service), f"/api/why?{at}&format=text").body
    document = request(url_of(service), f"/api/why?{at}")

    assert b"\x1b" not in text
    line = next(line for line in text.split(b"\n") if b"Login" in line)
    assert b"Login \\x1b[2J broken\\nhealthy (high confidence): forged line" in line
    assert not any(line.startswith(b"healthy (high") for line in text.split(b"\n"))
    assert b"\x1b" not in document.body
    titles = [w["title"] for w in document.json()["upstream"]]
    assert HOSTILE_TITLE in titles
