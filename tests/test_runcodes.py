"""The compact check-run encoding: every class has a code forever, and a run reads back as written."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from monitor.failures import Failure
from monitor.store import runcodes
from monitor.store.runcodes import Usual, decode, encode, from_ms, to_ms


def test_every_failure_class_has_its_own_code() -> None:
    assert set(runcodes.FAILURE_CODES) == {f.value for f in Failure}
    assert len(set(runcodes.FAILURE_CODES.values())) == len(runcodes.FAILURE_CODES)


def test_a_code_this_version_does_not_know_reads_as_unclassified() -> None:
    assert runcodes.failure_name(999) == "unclassified"
    assert (
        runcodes.failure_code("a_class_from_the_future") == runcodes.FAILURE_CODES["unclassified"]
    )


def test_an_unknown_outcome_reads_as_a_failure_never_a_pass() -> None:
    assert runcodes.outcome_flags(7) == (False, False)


def test_times_keep_the_millisecond_rounded_down() -> None:
    moment = datetime(2026, 4, 13, 9, 30, 15, 123_999, tzinfo=UTC)
    assert from_ms(to_ms(moment)) == datetime(2026, 4, 13, 9, 30, 15, 123_000, tzinfo=UTC)
    before_epoch = datetime(1969, 12, 31, 23, 59, 59, 999_500, tzinfo=UTC)
    assert from_ms(to_ms(before_epoch)) == datetime(1969, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)


def _row(values: dict[str, object], usual: Usual) -> tuple[object, ...]:
    """The row a reader selects (runcodes.STORED_COLUMNS) for an encoded run."""
    columns = [c.split(".")[1] for c in runcodes.STORED_COLUMNS[2:15]]
    return ("api", "laptop", *(values[c] for c in columns), usual.detail, usual.facts)


durations = st.floats(min_value=0, max_value=600_000, allow_nan=False).map(lambda v: round(v, 3))
phase_maps = st.dictionaries(st.sampled_from(["dns", "connect", "tls", "ttfb", "wait"]), durations)
fact_maps = st.dictionaries(
    st.text(min_size=1, max_size=8).filter(lambda k: k != "phases_ms"),
    st.one_of(st.integers(), st.text(max_size=20), st.lists(st.text(max_size=5), max_size=3)),
    max_size=4,
)


@given(
    started=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    duration=durations,
    outcome=st.sampled_from(["pass", "fail", "skip"]),
    failure=st.sampled_from([None, *Failure]),
    phases=phase_maps,
    facts=fact_maps,
    detail=st.text(max_size=40),
    usual_detail=st.sampled_from([None, "HTTP 401 as expected"]),
)
def test_a_run_reads_back_as_written(
    started: datetime,
    duration: float,
    outcome: str,
    failure: Failure | None,
    phases: dict[str, float],
    facts: dict[str, object],
    detail: str,
    usual_detail: str | None,
) -> None:
    ok, skipped = outcome != "fail", outcome == "skip"
    usual = Usual(usual_detail, runcodes.facts_text({}))
    values = encode(
        check_id=1,
        probe_id=1,
        started_at=started,
        duration_ms=duration,
        ok=ok,
        skipped=skipped,
        failure_class=None if ok else failure,
        http_status=401,
        phases_ms=phases,
        request_id="req_1",
        server_date=started,
        detail=detail,
        facts=facts,
        usual=usual,
    )
    run = decode(_row(values, usual))
    assert (run.ok, run.skipped) == (ok, skipped)
    assert run.started_at == runcodes.truncate_ms(started)
    assert run.duration_ms == duration
    assert run.phases_ms == phases
    assert run.facts == facts
    assert run.detail == detail
    assert run.failure_class == (None if ok or failure is None else failure.value)
    # A failure keeps what identifies its request; a pass or a skip does not.
    assert run.request_id == (None if ok else "req_1")
    assert run.server_date == (None if ok else runcodes.truncate_ms(started))


def test_a_run_saying_the_usual_stores_nothing_of_it() -> None:
    usual = runcodes.usual_of("HTTP 401 as expected", {"connect": 3.2}, {"address": "10.0.0.1"})
    values = encode(
        check_id=1,
        probe_id=1,
        started_at=datetime(2026, 4, 13, tzinfo=UTC),
        duration_ms=120.5,
        ok=True,
        phases_ms={"connect": 4.1},
        detail="HTTP 401 as expected",
        facts={"address": "10.0.0.1"},
        usual=usual,
    )
    assert values["detail"] is None
    assert values["facts"] is None
    assert values["connect_us"] == 4100


usual_facts = st.sampled_from(
    [
        {},
        {"path": "/home/dev/.claude/.credentials.json", "mode": "0600", "age_s": 120},
        {"host": "api.anthropic.com", "addresses": ["160.79.104.10"], "-": 1},
    ]
)


@given(usual=usual_facts, facts=fact_maps, keep=st.booleans())
def test_facts_stored_against_the_usual_read_back_whole(
    usual: dict[str, object], facts: dict[str, object], keep: bool
) -> None:
    """Whatever a run's facts, stored against any usual they read back exactly."""
    whole = {**usual, **facts} if keep else facts
    usual_text = runcodes.facts_text(usual)
    stored = runcodes.facts_against(runcodes.facts_text(whole), usual_text)
    assert runcodes.facts_of(stored, usual_text) == whole


def test_a_run_whose_facts_moved_a_little_stores_only_what_moved() -> None:
    usual = {"path": "/home/dev/.claude/.credentials.json", "mode": "0600", "age_s": 120}
    moved = {**usual, "age_s": 150}
    stored = runcodes.facts_against(runcodes.facts_text(moved), runcodes.facts_text(usual))
    assert stored == '+{"age_s":150}'


def test_a_value_of_another_json_type_counts_as_moved() -> None:
    usual = runcodes.facts_text({"valid": True, "skew_s": 0.0, "n": 1})
    written = {"valid": 1, "skew_s": 0, "n": True}
    stored = runcodes.facts_against(runcodes.facts_text(written), usual)
    assert runcodes.facts_text(runcodes.facts_of(stored, usual)) == runcodes.facts_text(written)
