"""Fuzz every status-source parser: whatever bytes arrive, records or a readable ParseError.

Kinds of input per parser: arbitrary bytes; the real fixtures with
byte-level damage; documents in the fixtures' own shape with parts of the
wrong type (tests/fuzz_shapes.py), or feeds with odd encodings, DTDs and
dates (tests/fuzz_feeds.py); and large repetitive inputs that expose work
growing faster than the input. Counts: tests/fuzzing.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.sources import feed, statusio, statuspage
from monitor.sources.records import IncidentRecord
from monitor.sources.registry import ENDPOINTS, endpoints_for
from tests.fuzz_feeds import FEEDS, SMALL_FEEDS, odd_feed
from tests.fuzz_shapes import FIXTURES, JSON_SEEDS, dump, fixture, reshaped
from tests.fuzzing import (
    ANY_BYTES,
    amplified,
    assert_incident,
    assert_snapshot,
    fuzz,
    mutated,
    parse_or_refuse,
)

JSON_PARSERS: dict[str, Callable[[bytes], Any]] = {
    "summary": statuspage.parse_summary,
    "incidents": statuspage.parse_incidents,
    "maintenances": statuspage.parse_maintenances,
    "incident": statuspage.parse_incident,
    "statusio": statusio.parse,
}
# The real bytes each parser reads; no fixture holds scheduled-maintenances.json,
# so that parser starts from one built in its shape.
RAW: dict[str, list[bytes]] = {
    "summary": [fixture("github/summary-2026-07-31.json")],
    "incidents": [
        fixture("github/incidents-2026-07-31.json"),
        fixture("claude/incidents-trimmed-2026-06.json"),
    ],
    "maintenances": [dump(doc) for doc in JSON_SEEDS["maintenances"]],
    "incident": [fixture("github/incident-8vfyvq16hzh9-actions-critical.json")],
    "statusio": [
        fixture("statusio-docker/status-operational-2022-04-23.json"),
        fixture("statusio-docker/status-partial-disruption-2021-04-03.json"),
    ],
}
KINDS = sorted(JSON_PARSERS)


def check(kind: str, payload: bytes) -> None:
    """The property: records with aware UTC times and storable text, or a readable refusal."""
    result = parse_or_refuse(JSON_PARSERS[kind], payload)
    if isinstance(result, IncidentRecord):
        assert_incident(result)
    elif result is not None:
        assert_snapshot(result)


def check_feed(payload: bytes) -> None:
    result = parse_or_refuse(feed.parse, payload)
    if result is not None:
        assert_snapshot(result)


def test_every_registered_parser_is_fuzzed() -> None:
    # A new provider in registry.py needs its parser in JSON_PARSERS (or its own property).
    registered = {e.parse for kind in ENDPOINTS for e in endpoints_for(kind, "https://s.example")}
    assert registered <= {*JSON_PARSERS.values(), feed.parse}


def test_the_seeds_parse_cleanly_so_mutations_start_from_valid_documents() -> None:
    for kind in KINDS:
        for payload in RAW[kind] + [dump(doc) for doc in JSON_SEEDS[kind]]:
            result = JSON_PARSERS[kind](payload)
            assert result is not None
    for payload in FEEDS + SMALL_FEEDS:
        assert feed.parse(payload).incidents


@pytest.mark.parametrize("kind", KINDS)
@fuzz()
@given(payload=ANY_BYTES)
def test_json_parsers_survive_arbitrary_bytes(kind: str, payload: bytes) -> None:
    check(kind, payload)


@pytest.mark.parametrize("kind", KINDS)
@fuzz()
@given(data=st.data())
def test_json_parsers_survive_damaged_real_payloads(kind: str, data: st.DataObject) -> None:
    check(kind, data.draw(mutated(RAW[kind]), label="payload"))


@pytest.mark.parametrize("kind", KINDS)
@fuzz()
@given(data=st.data())
def test_json_parsers_survive_documents_of_their_shape_with_wrong_types(
    kind: str, data: st.DataObject
) -> None:
    check(kind, data.draw(reshaped(JSON_SEEDS[kind]), label="payload"))


@pytest.mark.parametrize("kind", KINDS)
@fuzz(share=0.25)
@given(data=st.data())
def test_json_parsers_stay_linear_on_large_repetitive_payloads(
    kind: str, data: st.DataObject
) -> None:
    seeds = [dump(doc) for doc in JSON_SEEDS[kind]]
    check(kind, data.draw(amplified(seeds), label="payload"))


@fuzz()
@given(payload=ANY_BYTES)
def test_the_feed_parser_survives_arbitrary_bytes(payload: bytes) -> None:
    check_feed(payload)


@fuzz()
@given(payload=mutated(SMALL_FEEDS))
def test_the_feed_parser_survives_damaged_real_feeds(payload: bytes) -> None:
    check_feed(payload)


@fuzz(share=0.25)
@given(payload=mutated(FEEDS, most=2))
def test_the_feed_parser_survives_damage_to_whole_real_feeds(payload: bytes) -> None:
    check_feed(payload)


@fuzz()
@given(payload=odd_feed(SMALL_FEEDS))
def test_the_feed_parser_survives_odd_encodings_dtds_entities_and_dates(payload: bytes) -> None:
    check_feed(payload)


@fuzz(share=0.25)
@given(payload=amplified(SMALL_FEEDS))
def test_the_feed_parser_stays_linear_on_large_repetitive_feeds(payload: bytes) -> None:
    check_feed(payload)


PAYLOADS = sorted(p for p in FIXTURES.glob("*/*") if p.suffix in (".json", ".atom", ".rss"))


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_parser_reads_or_refuses_every_other_sources_payload(path: Path) -> None:
    payload = path.read_bytes()
    for kind in KINDS:
        check(kind, payload)
    check_feed(payload)
