"""Agreement between probes: the same call failing everywhere, or on one machine only.

The principle. A probe is a vantage point: a machine making the same calls
as the others. Trouble at the vendor reaches every vantage point that makes
the same call in the same minutes; trouble on one machine (its credentials,
its network path, its proxy, its clock) reaches only that machine. So, for a
check failing on one probe, the other probes that ran the same check in
those minutes are evidence:

* the same call **worked** for another machine meanwhile, and the machines
  failing it are the fewer (one, or a minority): the vendor answers that
  call, so the failure is private to the probes that saw it (their machine,
  their network, what they send);
* every one of them **failed** it too, the same way: the cause is shared, so
  it is not any one machine. It is the vendor, or something all of them
  share (the network they sit on, the key they all send): the control
  targets and the failure class tell which;
* most failing while one gets through is neither: a vendor in partial
  trouble looks like that, and so do two broken machines.

"The same way" matters: a peer counts as failing only with failures of the
kind this window had (reaching the host, the vendor's answer, the
credentials), and only if they are at least half of its runs then; a run
that could not start at all says nothing. One stray timeout on a healthy
machine does not make a broken resolver shared.

Probes on one host are one vantage point when they agree: two names on one
machine share its network, so failing together proves nothing more than one
failing. When they disagree they still tell something: the vendor answered
the same call from this very machine, so the failing probe's own settings
(its proxy, its key) are the difference. Only the minutes asked about count:
a probe failing alone since morning and joined by every other at noon was
failing alone at ten. Imported failures carry no probe and take no part.
Nothing here reads the clock or the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.correlate.classes import AUTH, NOT_EVIDENCE, PATH
from monitor.correlate.windows import LocalWindow, Run, Series

# Runs this close to a failure spell are "in the same minutes": a probe
# checking every minute and one checking every two still meet.
SAME_MINUTES = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Peers:
    """What the other probes saw of one check while it failed on one probe.

    ``failing`` are the probes that failed the check the same way in those
    minutes, this window's own probe first; ``passing`` the probes whose
    runs then mostly passed. ``vantage`` counts the distinct machines among
    ``failing``; ``passed_runs`` the passing runs seen; ``same_host`` says
    every passing probe runs on the failing one's host.
    """

    window: LocalWindow
    failing: tuple[str, ...]
    passing: tuple[str, ...]
    vantage: int
    passed_runs: int
    same_host: bool = False

    @property
    def private(self) -> bool:
        """The call worked elsewhere meanwhile, and the probes failing it are the fewer."""
        return bool(self.passing) and (
            len(self.failing) == 1 or len(self.failing) < len(self.passing)
        )

    @property
    def shared(self) -> bool:
        """Every machine that made the call meanwhile failed it, two at least."""
        return not self.passing and self.vantage >= 2


def peers_of(
    window: LocalWindow,
    series: Iterable[Series],
    hosts: Mapping[str, str],
    span: tuple[datetime, datetime],
) -> Peers | None:
    """The other probes' runs of ``window``'s check in its failing minutes, or None.

    Those minutes are the window's failures widened by ``SAME_MINUTES``,
    within ``span`` (the span asked about: a narrow question stays narrow).
    None when the window is not a check's (imported), or no other probe ran
    the check then: one vantage point has nothing to agree with.
    """
    if window.kind != "check" or window.probe is None:
        return None
    lo = max(window.start - SAME_MINUTES, span[0])
    hi = min((window.failing_until or span[1]) + SAME_MINUTES, span[1])
    home = hosts.get(window.probe, window.probe)
    failing: dict[str, str] = {window.probe: home}
    passing: dict[str, str] = {}
    passed_runs = 0
    kinds = {_kind(c) for c in window.failure_classes}
    for item in series:
        if item.check.name != window.name or item.probe == window.probe:
            continue
        runs = [r for r in item.runs if lo <= r.started_at <= hi and _counts(r)]
        alike = sum(1 for r in runs if r.failed and _kind(r.failure_class) in kinds)
        passed = sum(1 for r in runs if not r.failed)
        if alike and alike * 2 >= alike + passed:
            failing[item.probe] = hosts.get(item.probe, item.probe)
        elif passed:
            passing[item.probe] = hosts.get(item.probe, item.probe)
            passed_runs += passed
    if len(failing) == 1 and not passing:
        return None
    return Peers(
        window=window,
        failing=tuple(failing),
        passing=tuple(sorted(passing)),
        vantage=len(set(failing.values())),
        passed_runs=passed_runs,
        same_host=bool(passing) and set(passing.values()) == {home},
    )


def _counts(run: Run) -> bool:
    """A run that says something of the call: not skipped, and not one that could not start."""
    return not run.skipped and run.failure_class not in NOT_EVIDENCE


def _kind(failure_class: str | None) -> str:
    """The way a call failed, for "the same way": reaching the host, the credentials, or
    the vendor's answer."""
    if failure_class in PATH:
        return "path"
    if failure_class in AUTH:
        return "credentials"
    return "answer"


@dataclass(frozen=True, slots=True)
class ProbeView:
    """What one probe saw in the span asked about: "which saw what", for people and JSON."""

    probe: str
    host: str | None
    runs: int
    failed: tuple[str, ...]  # checks with failing runs, by name
    passed: tuple[str, ...]  # checks whose runs all passed


def probe_views(
    series: Iterable[Series], hosts: Mapping[str, str], lo: datetime, hi: datetime
) -> tuple[ProbeView, ...]:
    """Each probe's runs in ``[lo, hi]``: the checks it saw fail and the ones it saw pass."""
    seen: dict[str, tuple[int, dict[str, bool]]] = {}
    for item in series:
        runs, checks = seen.get(item.probe, (0, {}))
        mine = [r for r in item.runs if lo <= r.started_at <= hi and not r.skipped]
        if mine:
            failed = any(r.failed for r in mine)
            checks[item.check.name] = checks.get(item.check.name, False) or failed
            runs += len(mine)
        seen[item.probe] = (runs, checks)
    return tuple(
        ProbeView(
            probe=probe,
            host=hosts.get(probe),
            runs=runs,
            failed=tuple(sorted(n for n, bad in checks.items() if bad)),
            passed=tuple(sorted(n for n, bad in checks.items() if not bad)),
        )
        for probe, (runs, checks) in sorted(seen.items())
    )


def probe_list(probes: Iterable[str]) -> str:
    """``probe a`` or ``probes a, b``: how texts name the machines."""
    names = list(dict.fromkeys(probes))
    return f"probe{'s' if len(names) > 1 else ''} {', '.join(names)}"


def private_reason(peers: Peers) -> str:
    """Why one probe's failure is its own: the same call worked elsewhere meanwhile."""
    return (
        f"{peers.window.name} failed only on {probe_list(sorted(peers.failing))}: on "
        f"{probe_list(peers.passing)} the same check passed in the same minutes "
        f"({peers.passed_runs} run{'s' if peers.passed_runs != 1 else ''}), so the vendor "
        "answers that call"
    )


def shared_reason(peers: Peers) -> str:
    """Why a failure is no one machine's: every probe that made the call failed it."""
    return (
        f"{peers.window.name} failed alike on every probe that ran it then "
        f"({', '.join(sorted(peers.failing))}): not one machine's doing"
    )
