"""The year's story, planned before any row is written: when monitoring was down, and
which local troubles (stale token, VPN, busy port...) happened when.

Everything is in integer epoch seconds and drawn from one ``random.Random``,
so a seed gives the same story. Episodes that a benchmark will point at are
placed where nothing else happens (no overlap, an hour's margin), so "why
did this fail" has one right answer; upstream incidents are placed freely
(see incidents.py), as they are in life.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from benchmarks.generate.catalog import CheckDef
from benchmarks.generate.timefmt import HOUR

MINUTE = 60
YEAR_DAYS = 365


@dataclass(frozen=True, slots=True)
class Span:
    """``[start, end)`` in epoch seconds, with what it is."""

    start: int
    end: int
    kind: str  # gap | restart | stale_token | vpn | credentials | port | key_unset
    checks: tuple[str, ...] = ()  # the checks it affects (episodes)
    clean: bool = True  # gaps and restarts: the service stopped cleanly (stopped_at set)

    def __contains__(self, t: int) -> bool:
        return self.start <= t < self.end


# kind: (per year, shortest s, longest s, which checks; "net" = every network check)
EPISODES: dict[str, tuple[float, int, int, str]] = {
    "stale_token": (6, 20 * MINUTE, 36 * HOUR, "api-authenticated"),
    "vpn": (24, 5 * MINUTE, 90 * MINUTE, "net"),
    "credentials": (4, HOUR, 8 * HOUR, "claude-credentials"),
    "port": (6, 10 * MINUTE, 3 * HOUR, "callback-port"),
    "key_unset": (2, 6 * HOUR, 72 * HOUR, "api-authenticated"),
}
# What each episode is, for the moments' notes.
NOTES = {
    "stale_token": "api-authenticated answered 401 throughout while every other check passed: "
    "the configured API key was revoked or rotated (nothing upstream)",
    "vpn": "the network was down (VPN or Wi-Fi): every network check failed, the control "
    "included, while the local checks passed",
    "credentials": "Claude Code's access token expired with no refresh token left",
    "port": "the OAuth callback port was taken by another process",
    "key_unset": "ANTHROPIC_API_KEY was not set: api-authenticated skipped",
}
# Always at least one of these, whatever the range: the benchmarks point at them.
REQUIRED = ("gap", "stale_token", "vpn")
GAPS_PER_YEAR = 5
RESTARTS_PER_YEAR = 20


@dataclass
class Calendar:
    """Occupied stretches, so that placed episodes do not overlap (with a margin)."""

    start: int
    end: int
    rng: random.Random
    margin: int = HOUR
    taken: list[tuple[int, int]] = field(default_factory=list)

    def place(self, length: int, *, exclusive: bool = True) -> int:
        """A start for ``length`` seconds inside the range, free of everything placed before."""
        low, high = (
            self.start + self.margin,
            max(self.start + self.margin, self.end - length - self.margin),
        )
        for _ in range(400):
            at = self.rng.randrange(low, high + 1)
            if not exclusive or self.free(at, at + length):
                break
        if exclusive:
            self.taken.append((at - self.margin, at + length + self.margin))
        return at

    def free(self, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in self.taken)


def count(per_year: float, days: int, required: bool) -> int:
    n = round(per_year * days / YEAR_DAYS)
    return max(n, 1) if required else n


def downtimes(calendar: Calendar, days: int) -> list[Span]:
    """Gaps of 2-12 h (the laptop was off; some crashed, some stopped) and short restarts."""
    rng, span = calendar.rng, calendar.end - calendar.start
    spans = []
    longest = max(2 * HOUR, min(12 * HOUR, span // 8))
    for i in range(count(GAPS_PER_YEAR, days, True)):
        length = rng.randrange(2 * HOUR, longest + 1)
        at = calendar.place(length)
        spans.append(Span(at, at + length, "gap", clean=i % 2 == 0))
    for _ in range(count(RESTARTS_PER_YEAR, days, False)):
        length = rng.randrange(30, 121)
        at = calendar.place(length, exclusive=False)
        spans.append(Span(at, at + length, "restart"))
    return sorted(spans, key=lambda s: s.start)


def episodes(calendar: Calendar, days: int, chosen: list[CheckDef]) -> list[Span]:
    """The local troubles, each on the checks it really hits (if they are configured)."""
    rng, span = calendar.rng, calendar.end - calendar.start
    names = {c.name for c in chosen}
    network = tuple(c.name for c in chosen if c.shape.kind not in ("port", "credentials"))
    found = []
    for kind, (per_year, shortest, longest, which) in EPISODES.items():
        hit = network if which == "net" else tuple(n for n in (which,) if n in names)
        if not hit:
            continue
        longest = max(shortest, min(longest, span // 12))
        for _ in range(count(per_year, days, kind in REQUIRED)):
            length = rng.randrange(shortest, longest + 1)
            at = calendar.place(length)
            found.append(Span(at, at + length, kind, hit))
    return sorted(found, key=lambda s: s.start)


def slots(start: int, interval: int, span: Span) -> range:
    """Tick indices whose slot starts inside ``span`` (slot k starts at start + k * interval)."""
    first = -(-(span.start - start) // interval)
    last = -(-(span.end - start) // interval)
    return range(max(first, 0), max(last, 0))
