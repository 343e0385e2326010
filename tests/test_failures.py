"""One failure vocabulary: stored strings, one partition into families, judgement sets within it."""

from __future__ import annotations

from collections import Counter

import pytest

from monitor.correlate import classes
from monitor.failures import FAMILIES, Failure, Family, family_of


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


@pytest.mark.parametrize(
    ("stored", "family"),
    [
        ("auth_rejected", Family.CREDENTIALS),
        ("dns_failure", Family.NETWORK),
        ("timeout", Family.SERVER),
        ("connect_timeout", Family.NETWORK),
        ("callback_failed", Family.LOCAL),
        ("unclassified", Family.UNCLASSIFIED),
        ("written_by_a_newer_version", Family.UNCLASSIFIED),
    ],
)
def test_it_names_the_family_of_a_stored_class(stored: str, family: Family) -> None:
    assert family_of(stored) is family


def test_the_correlator_reads_no_connection_as_the_network_family() -> None:
    assert set(FAMILIES[Family.NETWORK]) == classes.NETWORK


def test_a_credential_rejection_is_a_credentials_class_the_vendor_sent() -> None:
    assert set(FAMILIES[Family.CREDENTIALS]) >= classes.CREDENTIAL_REJECTIONS
    assert classes.CREDENTIAL_REJECTIONS <= classes.AUTH


def test_what_only_this_machine_causes_is_never_server_side_or_an_answer() -> None:
    assert not classes.THIS_MACHINE & classes.SERVER_SIDE
    assert not classes.THIS_MACHINE & classes.ANSWERED
    assert classes.NOT_EVIDENCE <= classes.THIS_MACHINE
