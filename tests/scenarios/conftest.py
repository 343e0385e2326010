"""The scenario suite's ``scoreboard`` fixture; the table it fills is printed by ``scoreboard.py``."""

from __future__ import annotations

import pytest

from tests.scenarios.score import OUTCOMES, Outcome


@pytest.fixture
def scoreboard(request: pytest.FixtureRequest) -> list[Outcome]:
    return request.config.stash.setdefault(OUTCOMES, [])
