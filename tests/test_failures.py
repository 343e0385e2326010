"""One failure vocabulary: stored strings, one partition into families, judgement sets within it."""

from __future__ import annotations

from collections import Counter

from monitor.correlate import classes
from monitor.failures import FAMILIES, Failure, Family


def test_every_class_is_stored_as_its_snake_case_name() -> None:
    # The stored string is a contract with every database already written.
    assert all(member == member.name.lower() for member in Failure)
    assert all(member.replace("_", "").isalpha() for member in Failure)


def test_a_class_equals_the_string_a_database_hands_back() -> None:
    assert Failure("timeout") is Failure.TIMEOUT
    assert "timeout" in {Failure.TIMEOUT}
    by_class: dict[str, int] = {Failure.TIMEOUT: 1}
    assert by_class["timeout"] == 1


def test_the_families_sort_every_class_exactly_once() -> None:
    counted = Counter(member for members in FAMILIES.values() for member in members)

    assert set(counted) == set(Failure)
    assert set(counted.values()) == {1}
    assert set(FAMILIES) == set(Family)


def test_the_correlator_reads_no_connection_as_the_network_family() -> None:
    assert set(FAMILIES[Family.NETWORK]) == classes.NETWORK


def test_a_credential_rejection_is_a_credentials_class_the_vendor_sent() -> None:
    assert set(FAMILIES[Family.CREDENTIALS]) >= classes.CREDENTIAL_REJECTIONS
    assert classes.CREDENTIAL_REJECTIONS <= classes.AUTH


def test_what_only_this_machine_causes_is_never_server_side_or_an_answer() -> None:
    assert not classes.THIS_MACHINE & classes.SERVER_SIDE
    assert not classes.THIS_MACHINE & classes.ANSWERED
    assert classes.NOT_EVIDENCE <= classes.THIS_MACHINE
