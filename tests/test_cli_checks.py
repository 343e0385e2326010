"""monitor check and monitor results through the CLI, against real servers on 127.0.0.1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from monitor.cli import main
from tests.loopback import LoopbackServer


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def checks_config(tmp_path: Path, server: LoopbackServer, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[monitor]
probe = "laptop"

[[check]]
name = "api-reachable"
kind = "http"
url = "{server.url}/v1/messages"
expect_status = [401]
timeout = "1s"

[[check]]
name = "api-authenticated"
kind = "http"
url = "{server.url}/v1/messages"
headers = {{ x-api-key = "${{MONITOR_TEST_KEY}}" }}
when_env = "MONITOR_TEST_KEY"
timeout = "1s"

[[check]]
name = "control"
kind = "http"
role = "control"
url = "{server.url}/generate_204"
expect_status = [204]
timeout = "1s"
{extra}""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def api(server: LoopbackServer) -> LoopbackServer:
    server.route("/v1/messages", b'{"error": {"message": "invalid x-api-key"}}', status=401)
    server.route("/generate_204", b"", status=204)
    return server


def test_it_runs_every_check_and_prints_a_row_each(
    api: LoopbackServer, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("MONITOR_TEST_KEY", raising=False)

    status, out, _ = run(capsys, "--config", str(checks_config(tmp_path, api)), "check")

    rows = {line.split()[0]: re.split(r"\s{2,}", line) for line in out.splitlines()[1:]}
    assert status == 0
    assert out.splitlines()[0].split() == [
        "CHECK",
        "RESULT",
        "CLASS",
        "STATUS",
        "LATENCY",
        "DETAIL",
    ]
    assert rows["api-reachable"][1:4] == ["ok", "-", "401"]
    assert rows["api-authenticated"][1] == "skipped"
    assert rows["api-authenticated"][-1] == "MONITOR_TEST_KEY is not set"
    assert rows["control"][1:4] == ["ok", "-", "204"]


def test_it_exits_1_and_names_the_class_when_a_check_fails(
    api: LoopbackServer, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("MONITOR_TEST_KEY", "sk-ant-api03-stale-key-0123456789")

    status, out, _ = run(capsys, "--config", str(checks_config(tmp_path, api)), "check", "--json")
    runs = {r["check"]: r for r in json.loads(out)}

    assert status == 1
    failed = runs["api-authenticated"]
    assert failed == {
        **failed,
        "probe": "laptop",
        "ok": False,
        "skipped": False,
        "failure_class": "auth_rejected",
        "http_status": 401,
    }
    assert failed["detail"].startswith("HTTP 401, expected 200")
    assert failed["started_at"].endswith("Z")
    assert "sk-ant-api03-stale-key" not in out


def test_it_lists_recorded_runs_newest_first_and_filters_them(
    api: LoopbackServer, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("MONITOR_TEST_KEY", "sk-ant-api03-stale-key-0123456789")
    config = str(checks_config(tmp_path, api))
    run(capsys, "--config", config, "check")
    run(capsys, "--config", config, "check", "control")

    _, out, _ = run(capsys, "--config", config, "results", "--json")
    _, failed, _ = run(capsys, "--config", config, "results", "--failed", "--json")
    _, one, _ = run(capsys, "--config", config, "results", "--check", "control", "--json")
    _, table, _ = run(capsys, "--config", config, "results", "--limit", "2")

    everything = json.loads(out)
    assert len(everything) == 4
    assert [r["started_at"] for r in everything] == sorted(
        (r["started_at"] for r in everything), reverse=True
    )
    assert [r["check"] for r in json.loads(failed)] == ["api-authenticated"]
    assert [r["check"] for r in json.loads(one)] == ["control", "control"]
    assert len(table.splitlines()) == 3


def test_it_refuses_an_unknown_check_name(api: LoopbackServer, tmp_path: Path, capsys) -> None:
    status, _, err = run(capsys, "--config", str(checks_config(tmp_path, api)), "check", "nosuch")

    assert status == 2
    assert "no check named 'nosuch'" in err


def test_it_exits_2_on_a_check_config_mistake(api: LoopbackServer, tmp_path: Path, capsys) -> None:
    config = checks_config(
        tmp_path, api, extra='\n[[check]]\nname = "bad"\nkind = "http"\nurl = "not a url"\n'
    )

    status, out, err = run(capsys, "--config", str(config), "check")

    assert (status, out) == (2, "")
    assert 'check[3] ("bad").url: expected an http:// or https:// URL' in err


def test_it_reports_an_unloadable_ca_file_on_its_check_only(
    api: LoopbackServer, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("MONITOR_TEST_KEY", raising=False)
    extra = f'\n[[check]]\nname = "pinned"\nkind = "http"\nurl = "{api.url}/generate_204"\nca_file = "missing.pem"\n'

    status, out, _ = run(
        capsys, "--config", str(checks_config(tmp_path, api, extra)), "check", "--json"
    )
    runs = {r["check"]: r for r in json.loads(out)}

    assert status == 1
    assert runs["control"]["ok"] is True
    assert runs["pinned"]["ok"] is False
    assert "missing.pem" in runs["pinned"]["detail"]


def test_it_says_when_tls_verification_is_off(tls_server, tmp_path: Path, capsys) -> None:
    server, _ = tls_server
    server.route("/x", b"{}")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[check]]\nname = "unverified"\nkind = "http"\nurl = "{server.url}/x"\nverify_tls = false\n',
        encoding="utf-8",
    )

    status, out, _ = run(capsys, "--config", str(config), "check")

    assert status == 0
    assert out.splitlines()[1].endswith("HTTP 200 as expected [TLS verification off]")


def test_it_keeps_the_other_runs_when_one_cannot_be_recorded(
    api: LoopbackServer, tmp_path: Path, capsys, monkeypatch
) -> None:
    from monitor.checks import runner

    monkeypatch.delenv("MONITOR_TEST_KEY", raising=False)
    real = runner._record

    def refuse_control(store, check_id, report):
        if report.check == "control" and report.result.ok:
            raise ValueError("naive datetime refused")
        real(store, check_id, report)

    monkeypatch.setattr(runner, "_record", refuse_control)
    config = str(checks_config(tmp_path, api))

    status, out, _ = run(capsys, "--config", config, "check", "--json")
    monkeypatch.setattr(runner, "_record", real)
    _, recorded, _ = run(capsys, "--config", config, "results", "--json")

    runs = {r["check"]: r for r in json.loads(out)}
    assert status == 1
    assert runs["api-reachable"]["ok"] is True
    assert runs["control"]["failure_class"] == "internal_error"
    assert "could not" not in runs["control"]["detail"]
    assert runs["control"]["detail"].startswith("internal error recording the run: ValueError")
    assert {r["check"]: r["failure_class"] for r in json.loads(recorded)} == {
        "api-reachable": None,
        "api-authenticated": None,
        "control": "internal_error",
    }
