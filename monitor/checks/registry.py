"""Which function runs each check kind, and what it probes (for display).

Kinds are imported on first use: ``monitor results`` never loads the OAuth
or DNS code, and a kind's import error cannot break the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from monitor.checks.context import CheckContext
from monitor.checks.result import CheckResult
from monitor.redact import redact_url

Runner = Callable[[Any, CheckContext], CheckResult]

RUNNERS: dict[str, str] = {
    "http": "monitor.checks.http:run_http",
    "oauth_token_endpoint": "monitor.checks.oauth_probe:run_oauth_token_endpoint",
    "oauth_refresh": "monitor.checks.oauth_refresh:run_oauth_refresh",
    "credentials_file": "monitor.checks.credentials:run_credentials_file",
    "dns": "monitor.checks.network:run_dns",
    "tcp": "monitor.checks.network:run_tcp",
    "local_port": "monitor.checks.ports:run_local_port",
    "clock": "monitor.checks.clock:run_clock",
}


def runner_for(kind: str) -> Runner:
    module, _, function = RUNNERS[kind].partition(":")
    runner: Runner = getattr(importlib.import_module(module), function)
    return runner


def target_of(settings: Any) -> str:
    """What a check probes, in one short redacted string."""
    kind = settings.kind
    if kind in ("http", "clock"):
        return f"{getattr(settings, 'method', 'GET')} {redact_url(settings.url)}"
    if kind in ("oauth_token_endpoint", "oauth_refresh"):
        return f"POST {redact_url(settings.token_url)}"
    if kind == "credentials_file":
        return str(settings.path)
    if kind == "dns":
        return str(settings.host)
    if kind == "tcp":
        return f"{settings.host}:{settings.port}"
    if kind == "local_port":
        return f"127.0.0.1:{settings.ports}"
    return str(kind)
