"""What one scenario answered, judged against what the principles expect."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

OUTCOMES = pytest.StashKey[list["Outcome"]]()


@dataclass(frozen=True, slots=True)
class Outcome:
    """One scenario's answer against what the principles expect."""

    id: str
    family: str
    expected: tuple[str, ...]
    verdict: str
    confidence: str
    summary: str
    right: bool
    problem: str = ""  # why a right verdict still failed (a confidence cap, a phrase), or an error

    @property
    def wrong_high(self) -> bool:
        """A high-confidence verdict outside the expected set: the worst failure."""
        return self.confidence == "high" and self.verdict not in self.expected
