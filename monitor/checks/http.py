"""``http``: one request, judged by its status: is the API up, and does its auth layer answer?

The unauthenticated case (``expect_status = [401]``) is the sharpest probe
there is: a 401 proves DNS, TCP, TLS, the vendor's edge and its auth layer
all work, without holding any secret.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from monitor.checks.context import CheckContext
from monitor.checks.result import CheckResult
from monitor.checks.settings import HttpCheck
from monitor.checks.web import failed_transport, response_evidence, send, text_of
from monitor.envvars import VARIABLE, MissingVariable, expand, expand_query
from monitor.failures import Failure
from monitor.redact import redact_text


class PhaseTrace:
    """Collects httpcore's trace events into phase durations (ms).

    connect: TCP connect; tls: the handshake; ttfb: from sending the request
    to the first byte of the response; total is measured by the caller.
    """

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        self.marks.setdefault(event.split(".", 1)[-1], time.perf_counter())

    def stalled_in_tls_handshake(self, exc: Exception) -> bool:
        """A connect timeout after TCP connected is the TLS handshake hanging (a middlebox?)."""
        return (
            isinstance(exc, httpx.ConnectTimeout)
            and "start_tls.started" in self.marks
            and "start_tls.complete" not in self.marks
        )

    def phases(self) -> dict[str, float]:
        spans = {
            "connect": ("connect_tcp.started", "connect_tcp.complete"),
            "tls": ("start_tls.started", "start_tls.complete"),
            "ttfb": ("send_request_headers.started", "receive_response_headers.complete"),
        }
        return {
            name: round((self.marks[end] - self.marks[start]) * 1000, 2)
            for name, (start, end) in spans.items()
            if start in self.marks and end in self.marks
        }


def status_class(status: int) -> Failure:
    """The failure class of an HTTP status that was not expected."""
    if status == 401:
        return Failure.AUTH_REJECTED
    if status == 403:
        return Failure.FORBIDDEN
    if status == 429:
        return Failure.RATE_LIMITED
    if status >= 500:
        return Failure.SERVER_ERROR
    return Failure.UNEXPECTED_STATUS


def _unsendable_header(headers: Mapping[str, str]) -> str | None:
    """Why a header cannot go on the wire, naming it but never showing its value.

    A key pasted with a trailing newline (a CRLF .env file) or a smart quote
    would otherwise fail inside httpx with the value quoted in the error.
    """
    for name, value in headers.items():
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            return (
                f"header {name} contains a control character (a trailing newline?); fix the value"
            )
        if not value.isascii():
            return f"header {name} contains non-ASCII characters; fix the value"
    return None


def secret_values(settings: Any, env: Mapping[str, str]) -> set[str]:
    """The values a check takes from the environment (``${NAME}``): all treated as secret.

    Patterns catch ``sk-…`` keys and bearer tokens; a key with no known shape
    that a server echoes back is caught only by knowing its value.
    """
    names = {name for text in _strings(settings.__dict__) for name in VARIABLE.findall(text)}
    return {env[name] for name in names if len(env.get(name, "")) >= 4}


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a settings value (walked, not serialised: this runs per check)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def run_http(settings: HttpCheck, context: CheckContext) -> CheckResult:
    """Send the configured request and compare its status with ``expect_status``."""
    try:
        url = expand_query(settings.url, context.env)  # sent only: settings.url is what is shown
        headers = {name: expand(value, context.env) for name, value in settings.headers.items()}
        body = expand(settings.body, context.env) if settings.body is not None else None
    except MissingVariable as missing:
        return CheckResult.failed(
            Failure.MISCONFIGURED,
            f"environment variable {missing.args[0]} is not set; the check cannot run",
        )
    unsendable = _unsendable_header(headers)
    if unsendable:
        return CheckResult.failed(Failure.MISCONFIGURED, unsendable)
    facts = context.run_facts(verify_tls=settings.verify_tls)
    timeout = settings.timeout.total_seconds()
    trace = PhaseTrace()
    began = time.perf_counter()
    with context.http_client(
        timeout=timeout, verify_tls=settings.verify_tls, ca_file=settings.ca_file
    ) as client:
        try:
            response, content = send(
                client,
                settings.method,
                url,
                deadline_s=timeout,
                headers=headers,
                content=body,
                extensions={"trace": trace},
            )
        except httpx.HTTPError as exc:
            if trace.stalled_in_tls_handshake(exc):
                return CheckResult.failed(
                    Failure.TLS_ERROR,
                    f"TLS handshake timed out after {timeout:g}s (TCP connected)",
                    phases_ms=trace.phases(),
                    facts=facts,
                )
            return failed_transport(
                exc, settings.url, timeout, phases_ms=trace.phases(), facts=facts
            )
    phases = {**trace.phases(), "total": round((time.perf_counter() - began) * 1000, 2)}
    evidence = {**response_evidence(response), "phases_ms": phases, "facts": facts}
    status = response.status_code
    if status in settings.expect_status:
        meaning = " (the API is up and its auth layer answers)" if status == 401 else ""
        return CheckResult.passed(f"HTTP {status} as expected{meaning}", **evidence)
    expected = ", ".join(str(s) for s in settings.expect_status)
    said = redact_text(
        text_of(response, content), limit=200, known=secret_values(settings, context.env)
    )
    return CheckResult.failed(
        status_class(status),
        f"HTTP {status}, expected {expected}" + (f": {said}" if said else ""),
        **evidence,
    )
