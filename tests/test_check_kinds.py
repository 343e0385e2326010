"""Each check kind says in one place how it runs, what it probes and whether it looks at this machine."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from monitor.checks.registry import runner_for
from monitor.checks.settings import CHECK_MODELS, CheckSettings
from monitor.correlate.classes import LOCAL_KINDS, OAUTH_KINDS

EXAMPLES: dict[str, dict[str, Any]] = {
    "http": {"url": "https://api.example.com/v1/models?key=sk-secret", "method": "HEAD"},
    "oauth_token_endpoint": {"token_url": "https://auth.example.com/token", "client_id": "c"},
    "oauth_refresh": {"token_url": "https://auth.example.com/token", "client_id": "c"},
    "credentials_file": {"path": "~/.tool/credentials.json"},
    "dns": {"host": "api.example.com"},
    "tcp": {"host": "api.example.com", "port": 443},
    "local_port": {"ports": "54545"},
    "clock": {"url": "https://api.example.com/"},
}
TARGETS = {
    "http": "HEAD https://api.example.com/v1/models?key=REDACTED",
    "oauth_token_endpoint": "POST https://auth.example.com/token",
    "oauth_refresh": "POST https://auth.example.com/token",
    "credentials_file": "~/.tool/credentials.json",
    "dns": "api.example.com",
    "tcp": "api.example.com:443",
    "local_port": "127.0.0.1:54545",
    "clock": "GET https://api.example.com/",
}


@pytest.mark.parametrize("kind", sorted(CHECK_MODELS))
def test_each_kind_names_a_runner_that_exists(kind: str) -> None:
    runner = runner_for(kind)

    assert callable(runner)
    assert runner.__module__.startswith("monitor.checks.")


@pytest.mark.parametrize("kind", sorted(CHECK_MODELS))
def test_each_kind_says_what_it_probes_with_secrets_redacted(kind: str) -> None:
    settings = TypeAdapter(CheckSettings).validate_python(
        {"kind": kind, "name": f"a-{kind}".replace("_", "-"), **EXAMPLES[kind]}
    )

    assert settings.target == TARGETS[kind]


def test_the_correlator_treats_the_kinds_that_look_at_this_machine_as_local() -> None:
    assert {kind for kind, model in CHECK_MODELS.items() if model.on_this_machine} == LOCAL_KINDS


def test_the_kinds_the_correlator_reads_as_oauth_are_kinds_that_exist() -> None:
    assert set(CHECK_MODELS) >= OAUTH_KINDS
