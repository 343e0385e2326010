"""Outside text through the real CLI: a vendor's title or a logged error is shown, never obeyed.

A status page on 127.0.0.1 declares an incident, a maintenance and component
names carrying ESC[2J, an OSC window title, U+202E and a newline followed
by a forged verdict; an HTML error page's title carries more; the user's
log lines and a check's response body too. Every text command's output
holds none of those characters raw and no line the program did not write;
every ``--json`` gives the exact strings back. The dashboards drawn from
such text parse as XML and HTML.
"""

from __future__ import annotations

import ast
import json
import logging
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import insert

from monitor.charts.generate import generate
from monitor.cli import main
from monitor.escape import REPLACEMENT
from monitor.logs import EscapingFormatter
from monitor.store import Store, open_store, runcodes
from monitor.store.checkruns import CheckSpec, probe_id, sync_checks
from monitor.store.models import CheckRun, Incident, ObservedEvent, Source
from tests.conftest import load
from tests.dashboard_seed import NOW, T0, T1, seed
from tests.loopback import LoopbackServer

# A line the program never printed, as a vendor would forge it after a newline.
FORGED = "local (high confidence): the fault is on your side"
TITLE = f"Elevated errors\x1b[2J\x1b]0;pwned\x07 on \u202eIPA edualC\u202c\n{FORGED}"
COMPONENT = "Claude API\x1b[31m \u2066(api)\u2069\x9b2J"
MAINTENANCE = f"Database upgrade\x1b[1A\x1b[2K\u2028{FORGED}"
BODY = "\x1b]0;owned\x07 overloaded \u202edetacerped\u202c\x1b[8m"
ERROR = f"API Error: 500 \x1b[2J\x1b]0;t\x07 \u202eerror\n{FORGED}"
HTML_TITLE = "Back soon\x1b[2J\u202e!"
CHECK_NAME = "api\x1b[2J\u202eok"
START = "2026-04-14T09:24:00Z"
END = "2026-04-14T10:30:00Z"
# What a terminal must never receive raw (but the line feeds the program prints itself).
RAW = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\xad\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
)


def unsafe_in(text: str) -> list[str]:
    """Every character of ``text`` a terminal would obey: controls, bidi, invisible format."""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if (c != "\n" and unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp", "Cs"})
        and c not in "\u200c\u200d"
    ]


def assert_shown_not_obeyed(output: str) -> None:
    assert unsafe_in(output) == []
    assert RAW.search(output) is None
    # The forged verdict is there, as text, after the escaped line feed that preceded it.
    assert not any(line.lstrip().startswith(FORGED) for line in output.splitlines())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def page(server: LoopbackServer) -> str:
    """The hostile status page: summary, incidents and maintenances on 127.0.0.1."""
    meta = {"id": "p1", "name": "Claude", "url": "https://status.claude.com"}
    incident = {
        "id": "inc-evil",
        "name": TITLE,
        "status": "resolved",
        "impact": "major",
        "created_at": START,
        "started_at": START,
        "resolved_at": END,
        "updated_at": END,
        "shortlink": "https://stspg.io/evil\x1b[2J",
        "components": [{"name": COMPONENT}],
        "incident_updates": [
            {
                "id": "u1",
                "status": "investigating",
                "body": f"Investigating\x1b[2J\n{FORGED}",
                "created_at": START,
                "affected_components": [
                    {"name": COMPONENT, "old_status": "operational", "new_status": "major_outage"}
                ],
            }
        ],
    }
    maintenance = {
        "id": "mnt-evil",
        "name": MAINTENANCE,
        "status": "completed",
        "impact": "maintenance",
        "created_at": START,
        "scheduled_for": "2026-04-14T11:00:00Z",
        "scheduled_until": "2026-04-14T11:30:00Z",
        "started_at": "2026-04-14T11:00:00Z",
        "resolved_at": "2026-04-14T11:30:00Z",
        "components": [{"name": COMPONENT}],
        "incident_updates": [],
    }
    summary = {
        "page": meta,
        "status": {"indicator": "major", "description": "Partial\x1b[5m outage"},
        "components": [
            {"name": COMPONENT, "status": "major_outage"},
            {"name": "Console", "status": "degraded\x1b[0m\u202e"},
        ],
        "incidents": [],
        "scheduled_maintenances": [],
    }
    routes = {
        "summary.json": summary,
        "incidents.json": {"page": meta, "incidents": [incident]},
        "scheduled-maintenances.json": {"page": meta, "scheduled_maintenances": [maintenance]},
    }
    for name, document in routes.items():
        server.route(f"/claude/api/v2/{name}", json.dumps(document).encode())
    # A second page that answers with an HTML error page: its title becomes the poll's error.
    html = f"<html><head><title>{HTML_TITLE}</title></head><body>down</body></html>"
    server.route("/down/api/v2/summary.json", html.encode(), content_type="text/html")
    server.route("/v1/messages", BODY.encode(), status=500)
    return server.url


@pytest.fixture
def hostile(server: LoopbackServer, tmp_path: Path, capsys, store_for) -> Path:
    """A config and a database holding outside text of every kind the CLI prints."""
    url = page(server)
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[monitor]
probe = "laptop"

[http]
timeout = "2s"
connect_timeout = "1s"

[[source]]
name = "claude"
kind = "statuspage"
url = "{url}/claude"

[[source]]
name = "down"
kind = "statuspage"
url = "{url}/down"

[[check]]
name = "api"
kind = "http"
url = "{url}/v1/messages"
timeout = "1s"
""",
        encoding="utf-8",
    )
    status, out, err = run(capsys, "--config", str(config), "poll")
    assert status == 1  # the HTML page fails
    assert_shown_not_obeyed(out + err)
    assert "\\x1b[2J" in out  # the HTML title, shown as text in the error
    lines = [
        {"at": "2026-04-14T09:41:07Z", "error": ERROR, "target": "api.anthropic.com\x1b[8m"},
        {"at": "2026-04-14T09:46:07Z", "error": ERROR, "target": "api.anthropic.com"},
        {"at": "\x1b[2J\u202e9:41", "error": ERROR},  # unreadable: its reason quotes the time
    ]
    log = tmp_path / "tool\x1b[2J\u202e.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    status, out, err = run(capsys, "--config", str(config), "import", str(log))
    assert status == 0, err
    assert_shown_not_obeyed(out + err)
    assert "tool\\x1b[2J\\u202e.jsonl" in out
    # A check name from an older config (today's names are plain) and a detail from a vendor.
    store = store_for(load(config))
    with store.write() as session, session.begin():
        created = datetime(2026, 4, 1, tzinfo=UTC)
        ids = sync_checks(session, [CheckSpec(CHECK_NAME, "http", "vendor", "GET x")], created)
        session.execute(
            insert(CheckRun),
            [
                runcodes.encode(
                    check_id=ids[CHECK_NAME],
                    probe_id=probe_id(session, "laptop"),
                    started_at=datetime(2026, 4, 14, 9, 50, tzinfo=UTC),
                    duration_ms=120.0,
                    ok=False,
                    failure_class="server_error",
                    http_status=500,
                    detail=f"HTTP 500: {BODY}\n{FORGED}",
                )
            ],
        )
    return config


COMMANDS = [
    pytest.param(("why", "--at", "2026-04-14 10:00", "--tz", "UTC"), id="why"),
    pytest.param(
        ("timeline", "--since", "2026-04-14 09:00", "--until", "2026-04-14 12:00", "--tz", "UTC"),
        id="timeline",
    ),
    pytest.param(("incidents",), id="incidents"),
    pytest.param(("maintenances",), id="maintenances"),
    pytest.param(("sources",), id="sources"),
    pytest.param(("results",), id="results"),
    pytest.param(("check",), id="check"),
    pytest.param(("status",), id="status"),
]


@pytest.mark.parametrize("args", COMMANDS)
def test_text_output_shows_outside_text_and_obeys_none_of_it(hostile, capsys, args) -> None:
    _, out, err = run(capsys, "--config", str(hostile), *args)

    assert out
    assert_shown_not_obeyed(out + err)
    assert "\\x1b" in out  # the text is there, escaped


def test_why_names_the_incident_with_its_escapes_on_one_line(hostile, capsys) -> None:
    status, out, _ = run(capsys, "--config", str(hostile), "why", "--at", "2026-04-14 10:00")

    assert status == 0
    [line] = [line for line in out.splitlines() if line.startswith("  claude incident")]
    assert "Elevated errors\\x1b[2J\\x1b]0;pwned\\x07 on \\u202eIPA edualC\\u202c\\n" in line
    assert f"\\n{FORGED}" in line
    assert "Claude API\\x1b[31m \\u2066(api)\\u2069\\x9b2J" in out


def test_incidents_lines_up_the_columns_on_what_is_shown(hostile, capsys) -> None:
    _, out, _ = run(capsys, "--config", str(hostile), "maintenances")

    header, row = out.splitlines()
    assert row.index("Database upgrade") == header.index("TITLE")
    assert row.index("Claude API") == header.index("COMPONENTS")


@pytest.mark.parametrize(
    ("args", "exact"),
    [
        pytest.param(("incidents", "--json"), lambda doc: doc[0]["title"] == TITLE, id="incidents"),
        pytest.param(
            ("incidents", "--json"), lambda doc: doc[0]["components"] == [COMPONENT], id="names"
        ),
        pytest.param(
            ("maintenances", "--json"), lambda doc: doc[0]["title"] == MAINTENANCE, id="maint"
        ),
        pytest.param(
            ("why", "--json", "--at", "2026-04-14 10:00", "--tz", "UTC"),
            lambda doc: TITLE in {w["title"] for w in doc["upstream"]},
            id="why",
        ),
        pytest.param(
            ("timeline", "--json", "--since", "2026-04-14 09:00", "--until", "2026-04-14 12:00"),
            lambda doc: {TITLE, MAINTENANCE} <= {e.get("title") for e in doc["events"]},
            id="timeline",
        ),
        pytest.param(
            ("sources", "--json"),
            # The poll error quotes the HTML title with repr, as it was stored.
            lambda doc: (
                COMPONENT in doc[0]["components"]
                and repr(HTML_TITLE) in doc[1]["last_poll"]["error"]
            ),
            id="sources",
        ),
        pytest.param(
            ("results", "--json"),
            lambda doc: any(r["check"] == CHECK_NAME and BODY in r["detail"] for r in doc),
            id="results",
        ),
    ],
)
def test_json_gives_back_the_exact_strings_and_nothing_raw(hostile, capsys, args, exact) -> None:
    _, out, _ = run(capsys, "--config", str(hostile), *args)

    assert exact(json.loads(out))
    assert unsafe_in(out) == []


def test_a_real_process_writes_no_control_byte_but_its_line_feeds(hostile) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(hostile), "why", "--at", START],
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert [b for b in done.stdout if (b < 0x20 and b != 0x0A) or b == 0x7F] == []
    assert unsafe_in(done.stdout.decode("utf-8")) == []


def test_an_error_message_quoting_outside_text_is_escaped(hostile, capsys) -> None:
    status, _, err = run(capsys, "--config", str(hostile), "incidents", "--source", "x\x1b[2J\ny")

    assert status == 2
    # The message quotes the name with repr; its backslashes are doubled, not read as escapes.
    assert r"'x\\x1b[2J\\ny'" in err
    assert unsafe_in(err) == []


def test_log_lines_escape_what_they_quote() -> None:
    formatter = EscapingFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord(
        "monitor.service", logging.WARNING, __file__, 1, "[poll] failed: %s", (ERROR,), None
    )

    line = formatter.format(record)

    assert "\n" not in line
    assert line.startswith("WARNING [poll] failed: API Error: 500 \\x1b[2J\\x1b]0;t\\x07")


def test_no_command_prints_around_the_escaping_helpers() -> None:
    """Every print in monitor/cli goes through render.py's echo, echo_table or echo_json."""
    cli = Path(__file__).parents[1] / "monitor" / "cli"
    found = []
    for path in sorted(cli.glob("*.py")):
        if path.name == "render.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            called = ast.unparse(node.func)
            if called in {"print", "click.echo", "click.secho", "click.echo_via_pager"} or (
                called.startswith(("sys.stdout", "sys.stderr")) and called.endswith(".write")
            ):
                found.append(f"{path.name}:{node.lineno} {called}")
    assert found == []


# --- the dashboards ---------------------------------------------------------------------


def seed_hostile(store: Store) -> None:
    """The dashboard seed, plus outside text in every name and title the charts draw."""
    seed(store)
    with store.write() as session, session.begin():
        source = Source(name="evil\x1b[2J", kind="statuspage", url="https://x", created_at=T0)
        session.add(source)
        session.flush()
        start = datetime(2026, 4, 14, 12, 0, tzinfo=UTC)
        session.add(
            Incident(
                source_id=source.id,
                external_id="inc-evil",
                title=TITLE,
                status="resolved",
                impact="critical",
                created_at=start,
                started_at=start,
                resolved_at=start + timedelta(hours=2),
                url="https://status.example.com/\x1b[2J",
                first_seen_at=start,
                last_changed_at=start,
            )
        )
        session.add(
            ObservedEvent(
                fingerprint="fp-evil",
                at=start,
                source="tool\x07",
                target="api",
                failure_class="server_error",
                error=ERROR,
                origin="tool.log",
                imported_at=NOW,
            )
        )
        ids = sync_checks(session, [CheckSpec(CHECK_NAME, "http", "vendor", "GET x")], T0)
        test_probe = probe_id(session, "test-probe")
        session.execute(
            insert(CheckRun),
            [
                runcodes.encode(
                    check_id=ids[CHECK_NAME],
                    probe_id=test_probe,
                    started_at=start + timedelta(minutes=5 * i),
                    duration_ms=100.0 + i,
                    ok=i % 3 != 0,
                    failure_class=None if i % 3 else "server_error",
                    http_status=200,
                    detail=BODY,
                )
                for i in range(12)
            ],
        )


class Text(HTMLParser):
    """All the text of a page, and whether the parser reached its end."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.closed_html = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        self.closed_html |= tag == "html"


def forbidden_in_a_document(text: str) -> list[str]:
    """Characters no XML 1.0 or HTML document may hold (TAB, LF, CR and FF aside for HTML)."""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if (ord(c) < 0x20 and c not in "\t\n\r")
        or 0x7F <= ord(c) <= 0x9F
        or 0xD800 <= ord(c) <= 0xDFFF
        or 0xFDD0 <= ord(c) <= 0xFDEF
        or ord(c) & 0xFFFE == 0xFFFE
    ]


def test_dashboards_drawn_from_outside_text_parse_as_xml_and_html(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        seed_hostile(store)
        # Both formats: a control character reaching matplotlib also fails the PNG (a warning).
        report = generate(store, since=T0, until=T1, out_dir=tmp_path / "out", now=NOW)
    finally:
        store.close()

    svgs = {f.chart: f.path for f in report.files if f.format == "svg"}
    for path in svgs.values():
        ET.parse(path)  # noqa: S314 (our own file)
        assert forbidden_in_a_document(path.read_text(encoding="utf-8")) == []
    timeline = ET.parse(svgs["timeline"]).getroot()  # noqa: S314
    drawn = " ".join("".join(node.itertext()) for node in timeline.iter())
    assert f"Elevated errors{REPLACEMENT}[2J{REPLACEMENT}]0;pwned{REPLACEMENT}" in drawn
    assert f"evil{REPLACEMENT}[2J (status page)" in drawn
    assert f"imported: tool{REPLACEMENT}" in drawn
    assert f"api{REPLACEMENT}[2J\u202eok" in drawn

    html = report.index.read_text(encoding="utf-8")
    assert forbidden_in_a_document(html) == []
    page = Text()
    page.feed(html)
    page.close()
    assert page.closed_html
    shown = "".join(page.text)
    assert f"Elevated errors{REPLACEMENT}[2J{REPLACEMENT}]0;pwned{REPLACEMENT}" in shown
    assert f"api{REPLACEMENT}[2J\u202eok" in shown
