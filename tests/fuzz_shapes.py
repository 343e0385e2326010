"""JSON documents shaped like the real payloads, then broken where the parsers look.

Byte mutations (tests/fuzzing.py) mostly die in the JSON decoder. These keep
the document well-formed and break what the parsers read next: a value of the
wrong JSON type, a missing or repeated key, a number past every limit,
nesting past the recursion limit, a time at the edge of the calendar.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


class Raw(str):
    """JSON text written as is: what json.dumps cannot produce (5000 digits, a lone surrogate)."""


class Pairs(list[tuple[str, Any]]):
    """An object written with its keys in this order, repeats allowed."""


def dump(value: Any) -> bytes:
    return _dump(value).encode("utf-8")


def _dump(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        value = Pairs(value.items())
    if isinstance(value, Pairs):
        return "{" + ",".join(f"{json.dumps(k)}:{_dump(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    return json.dumps(value)


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, member in value.items():
            yield key
            yield from _keys(member)
    elif isinstance(value, list):
        for member in value:
            yield from _keys(member)


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, member in value.items():
            yield from _paths(member, (*prefix, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from _paths(member, (*prefix, index))


def _incident_as_maintenance(incident: dict[str, Any]) -> dict[str, Any]:
    """A scheduled maintenance in Statuspage's shape, made from a real incident."""
    entry = dict(incident, impact="maintenance", status="scheduled")
    return entry | {
        "scheduled_for": incident["created_at"],
        "scheduled_until": incident.get("resolved_at") or incident["created_at"],
    }


def _json_seeds() -> dict[str, list[Any]]:
    """Trimmed real documents per parser: small enough that a mutation is likely to matter."""
    summary = json.loads(fixture("github/summary-2026-07-31.json"))
    incidents = json.loads(fixture("github/incidents-2026-07-31.json"))
    claude = json.loads(fixture("claude/incidents-trimmed-2026-06.json"))
    bare = json.loads(fixture("github/incident-8vfyvq16hzh9-actions-critical.json"))
    quiet = json.loads(fixture("statusio-docker/status-operational-2022-04-23.json"))
    noisy = json.loads(fixture("statusio-docker/status-partial-disruption-2021-04-03.json"))
    some = [dict(i, incident_updates=i["incident_updates"][:3]) for i in incidents["incidents"][:3]]
    maintenance = _incident_as_maintenance(some[0])
    open_summary = summary | {"incidents": some[:1], "scheduled_maintenances": [maintenance]}
    windows = copy.deepcopy(noisy)
    incident = windows["result"]["incidents"][0]
    windows["result"]["maintenance"] = {
        "active": [incident | {"datetime_planned_start": incident["datetime_open"]}],
        "upcoming": [
            {k: v for k, v in incident.items() if k != "_id"}
            | {"id": "up-1", "datetime_planned_end": incident["datetime_open"]}
        ],
    }
    return {
        "summary": [summary, open_summary],
        "incidents": [claude, incidents | {"incidents": [*some, maintenance]}],
        "maintenances": [{"page": incidents["page"], "scheduled_maintenances": [maintenance]}],
        "incident": [bare, {"incident": some[1]}],
        "statusio": [quiet, noisy, windows],
    }


JSON_SEEDS = _json_seeds()
KNOWN_KEYS = sorted({k for docs in JSON_SEEDS.values() for doc in docs for k in _keys(doc)})
PATHS = {id(doc): list(_paths(doc)) for docs in JSON_SEEDS.values() for doc in docs}

# Times at the edges: the calendar's ends shifted out of range by an offset, days
# that do not exist, forms fromisoformat half-accepts, and plain nonsense.
EDGE_TIMES = (
    "", " ", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59.999999Z", "2026-02-30T00:00:00Z", "2026-07-30T24:00:00Z",
    "2026-07-30T10:12:15.489z", "2026-07-30", "20260730T101215Z", "2026-W31-4",
    "2026-07-30T10:12:15+23:59", "2026-07-30T10:12:15-23:59:59.999999", "2026-07-30 10:12",
    "1970-01-01T00:00:00Z", "now", "null", "1785400000", "T", "+00:00",
    "2026-07-30T10:12:15.4891234567Z", "２０２６-07-30T10:12:15Z",
)  # fmt: skip
EDGE_RAW = (
    Raw("1" * 5000), Raw("1e999"), Raw("-1e999"), Raw("NaN"), Raw("-Infinity"), Raw("-0"),
    Raw("1" + "0" * 400), Raw("0." + "0" * 400 + "1"), Raw('"\\ud800"'), Raw('"a\\udfffb"'),
    Raw('"\\u0000"'), Raw('"' + "\\n" * 50 + '"'), Raw('"' + " " * 5000 + '"'),
    Raw('"' + "x" * 100_000 + '"'),
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(100, 600),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(EDGE_TIMES),
    st.sampled_from(EDGE_RAW),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)


@st.composite
def reshaped(draw: st.DrawFn, seeds: Sequence[Any], most: int = 6) -> bytes:
    """A real document with 1..``most`` nodes replaced, dropped, repeated, wrapped or nested."""
    original = draw(st.sampled_from(seeds))
    paths = PATHS[id(original)]
    doc = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, most))):
        path = draw(st.sampled_from(paths))
        doc = _apply(draw, doc, path)
    return dump(doc)


def _apply(draw: st.DrawFn, doc: Any, path: tuple[str | int, ...]) -> Any:
    """Edit the node at ``path``; a path an earlier edit broke is left alone."""
    parent: Any = None
    node = doc
    for step in path:
        if not isinstance(node, dict | list) or isinstance(node, Pairs):
            return doc
        try:
            parent, node = node, node[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return doc
    kind = draw(st.sampled_from(("replace", "replace", "drop", "repeat", "wrap", "nest")))
    if kind == "replace" and _is_time(path):
        new = draw(st.sampled_from(EDGE_TIMES) | JSON_VALUES)
    elif kind == "replace":
        new = draw(JSON_VALUES)
    elif kind == "wrap":
        new = draw(st.sampled_from(([node], {"value": node}, {"data": node})))
    elif kind == "nest":
        depth = draw(st.sampled_from((2, 50, 900, 5000, 100_000)))
        new = Raw("[" * depth + _dump(node) + "]" * depth)
    else:
        new = node
    if parent is None:
        return new
    key = path[-1]
    if kind == "drop":
        del parent[key]
    elif kind == "repeat" and isinstance(parent, dict):
        # The key written twice, once with another value: JSON parsers keep the last.
        pairs = Pairs(parent.items())
        pairs.insert(draw(st.integers(0, len(pairs))), (str(key), draw(JSON_VALUES)))
        return _put(doc, path[:-1], pairs)
    else:
        parent[key] = new
    return doc


def _is_time(path: tuple[str | int, ...]) -> bool:
    key = path[-1] if path else ""
    return isinstance(key, str) and key.endswith(_TIME_KEYS)


_TIME_KEYS = ("_at", "datetime", "_for", "_until", "_start", "_end", "updated")


def _put(doc: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """``doc`` with the node at ``path`` replaced by ``value`` (the root: ``value`` itself)."""
    if not path:
        return value
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc
