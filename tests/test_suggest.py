"""Did you mean: one helper for mistyped commands and allow-listed component names."""

from __future__ import annotations

import pytest

from monitor.suggest import close_matches, did_you_mean

COMPONENTS = ("Git Operations", "API Requests", "Actions", "Webhooks", "Pages")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        pytest.param("Git Operation", "did you mean 'Git Operations'?", id="one-letter-short"),
        pytest.param("api requests", "did you mean 'API Requests'?", id="case-only"),
        pytest.param("Webhook", "did you mean 'Webhooks'?", id="plural"),
        pytest.param("Copilot", "", id="nothing-close"),
    ],
)
def test_it_names_the_close_component(word: str, expected: str) -> None:
    assert did_you_mean(word, COMPONENTS) == expected


def test_it_lists_several_close_matches_best_first() -> None:
    assert did_you_mean("Action", ["Reactions", "Actions", "Pages"]) == (
        "did you mean 'Actions' or 'Reactions'?"
    )


def test_it_never_suggests_the_word_itself() -> None:
    assert close_matches("Pages", COMPONENTS) == []


def test_a_mistyped_command_gets_the_same_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["wyh"])

    assert exited.value.code == 2
    assert "Error: No such command 'wyh'. Did you mean 'why'?" in capsys.readouterr().err
