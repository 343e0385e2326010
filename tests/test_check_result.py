"""The failure-class vocabulary stays one list: every named class is in it, once."""

from __future__ import annotations

from monitor.checks import result


def test_it_lists_every_failure_class_it_defines_exactly_once() -> None:
    defined = {
        value
        for name, value in vars(result).items()
        if name.isupper() and isinstance(value, str) and name != "OK"
    }

    assert set(result.FAILURE_CLASSES) == defined
    assert len(result.FAILURE_CLASSES) == len(defined)


def test_it_keeps_every_class_a_snake_case_word_the_cli_can_print() -> None:
    assert all(c.replace("_", "").isalpha() and c.islower() for c in result.FAILURE_CLASSES)
