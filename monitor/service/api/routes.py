"""The endpoints: a parsed request in, a response out; the handler does the socket.

``/api/why``, ``/api/timeline`` and ``/api/status`` answer with the bytes the
command line prints (``monitor.views``), JSON by default or ``format=text``.
Their parameters are the command's options without the dashes, with the
same defaults, read by ``monitor.views.params``: a bad one is a 400 whose
``error`` is the sentence the command prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from monitor import __version__
from monitor.escape import for_terminal
from monitor.service.api.state import ApiState
from monitor.service.runtime import Loaded
from monitor.store.heartbeats import LEASE
from monitor.times import isoformat_z
from monitor.views.params import (
    WHY_AT_FUTURE,
    ParamError,
    bounds_param,
    moment_param,
    window_param,
    zone_param,
)
from monitor.views.text import json_text

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
FORMATS = ("json", "text")
# The command line's defaults (monitor/cli/why.py; a test holds them together).
WHY_DEFAULTS = {"at": "now", "window": "30m"}
TIMELINE_DEFAULTS = {"since": "24h ago", "until": "now"}
MAX_FIELDS = 20


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    """A 400: ``message`` says what is wrong in the words the command line would use."""


def json_response(status: int, value: Any, **headers: str) -> Response:
    return Response(status, (json_text(value) + "\n").encode(), JSON, dict(headers))


def error_response(status: int, message: str, **headers: str) -> Response:
    return json_response(status, {"error": message}, **headers)


def rendered(text: str, fmt: str, **headers: str) -> Response:
    """A view's output as the CLI prints it: the text, then a newline."""
    return Response(200, (text + "\n").encode(), JSON if fmt == "json" else TEXT, dict(headers))


def parameters(query: str, path: str, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query's parameters by name; BadRequest for an unknown, repeated or undecodable one."""
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise BadRequest("the query string is not valid UTF-8") from None
    except ValueError:
        raise BadRequest(f"too many parameters (at most {MAX_FIELDS})") from None
    names = [name for name, _ in pairs]
    unknown = sorted({name for name in names if name not in allowed})
    if unknown:
        listed = ", ".join(repr(for_terminal(name, limit=40)) for name in unknown)
        noun = "parameter" if len(unknown) == 1 else "parameters"
        raise BadRequest(f"unknown {noun} {listed} for {path} (expected: {', '.join(allowed)})")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise BadRequest(f"parameter {repeated[0]!r} given more than once")
    return dict(pairs)


def output_format(params: dict[str, str]) -> str:
    fmt = params.get("format", "json")
    if fmt not in FORMATS:
        raise ParamError("format", f"expected 'json' or 'text', got {fmt!r}")
    return fmt


def why(state: ApiState, loaded: Loaded, params: dict[str, str]) -> Response:
    """``monitor why``: ``at``, ``window``, ``tz``, ``probe``, ``format``."""
    from monitor.views.why import WhyQuestion, why_output

    runtime = state.runtime
    fmt = output_format(params)
    tz = zone_param(params.get("tz"))
    question = WhyQuestion(
        at=moment_param(
            params.get("at", WHY_DEFAULTS["at"]),
            "--at",
            now=runtime.clock(),
            tz=tz,
            because=WHY_AT_FUTURE,
        ),
        window=window_param(params.get("window", WHY_DEFAULTS["window"])),
        probe=params.get("probe"),
    )
    with runtime.store.reading() as reader:
        text = why_output(reader, loaded.config, question, tz=tz, as_json=fmt == "json")
    return rendered(text, fmt)


def timeline(state: ApiState, loaded: Loaded, params: dict[str, str]) -> Response:
    """``monitor timeline``: ``since``, ``until``, ``tz``, ``probe``, ``format``."""
    from monitor.views.why import timeline_output

    runtime = state.runtime
    fmt = output_format(params)
    tz = zone_param(params.get("tz"))
    lo, hi = bounds_param(
        params.get("since", TIMELINE_DEFAULTS["since"]),
        params.get("until", TIMELINE_DEFAULTS["until"]),
        tz,
        now=runtime.clock(),
    )
    with runtime.store.reading() as reader:
        text = timeline_output(
            reader,
            loaded.config,
            lo,
            hi,
            probe=params.get("probe"),
            tz=tz,
            as_json=fmt == "json",
        )
    return rendered(text, fmt)


def status(state: ApiState, loaded: Loaded, params: dict[str, str]) -> Response:
    """``monitor status``: ``format``; the header ``Monitor-Failing`` says if anything fails."""
    from monitor.views.status import status_output

    runtime = state.runtime
    fmt = output_format(params)
    text, failing = status_output(
        runtime.store, loaded.config, runtime.clock(), as_json=fmt == "json"
    )
    return rendered(text, fmt, **{"Monitor-Failing": "true" if failing else "false"})


def healthz(state: ApiState, loaded: Loaded, params: dict[str, str]) -> Response:
    """Is the service alive: 200, or 503 while stopping or when its lease has lapsed."""
    runtime, beat = state.runtime, state.heartbeat
    now = runtime.clock()
    age = (now - beat.last_beat).total_seconds() if beat.last_beat else None
    problem = None
    if state.stopping.is_set():
        problem = "the service is stopping"
    elif age is None or age >= LEASE.total_seconds():
        problem = (
            f"the heartbeat is stale: last renewed {age:.0f}s ago, the lease lapses after "
            f"{LEASE.total_seconds():.0f}s (a busy or unreachable database?)"
            if age is not None
            else "no heartbeat yet"
        )
    document = {
        "ok": problem is None,
        "problem": problem,
        "probe": loaded.config.probe,
        "pid": os.getpid(),
        "started": isoformat_z(beat.started_at),
        "last_heartbeat": isoformat_z(beat.last_beat),
        "heartbeat_age_seconds": None if age is None else round(age, 3),
        "config_digest": loaded.digest,
        "database_digest": loaded.database,
        "version": __version__,
    }
    return json_response(200 if problem is None else 503, document)


# A route reads the config from ``loaded`` alone: the one the answer's headers name.
Route = Callable[[ApiState, Loaded, dict[str, str]], Response]
# path -> (handler, the parameters it takes)
ROUTES: dict[str, tuple[Route, tuple[str, ...]]] = {
    "/api/why": (why, ("at", "window", "tz", "probe", "format")),
    "/api/timeline": (timeline, ("since", "until", "tz", "probe", "format")),
    "/api/status": (status, ("format",)),
    "/healthz": (healthz, ()),
}
UNGUARDED = ("/healthz",)  # answered without the token: a liveness probe holds none


def answer(
    state: ApiState,
    loaded: Loaded,
    routes: dict[str, tuple[Route, tuple[str, ...]]],
    path: str,
    query: str,
) -> Response | None:
    """The response of an API route; None when ``path`` is not one (a file, or nothing)."""
    route = routes.get(path)
    if route is None:
        return None
    handler, allowed = route
    try:
        return handler(state, loaded, parameters(query, path, allowed))
    except BadRequest as exc:
        return error_response(400, str(exc))
    except ParamError as exc:
        # ``option`` and ``message`` apart too, for a client to raise the CLI's own usage error.
        return json_response(
            400, {"error": exc.usage(), "option": exc.option, "message": exc.message}
        )
