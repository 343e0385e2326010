"""The scenario suite's score table: gathered from every worker, printed once at the end.

Hooks, registered by ``tests/conftest.py`` (the conftest every run loads,
the controller of a parallel run included: it never collects this folder,
so a conftest here would not print). Each scenario test hands its outcome to
the ``scoreboard`` fixture before it asserts, so the table counts failing
scenarios too. Under pytest-xdist each worker scores its share and hands its
outcomes to the controller (``workeroutput``) when it finishes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

import pytest

from tests.scenarios.score import OUTCOMES, Outcome

WORKER_KEY = "scenario_outcomes"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a worker: hand this worker's outcomes to the controller."""
    workeroutput: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        outcomes = session.config.stash.get(OUTCOMES, [])
        workeroutput[WORKER_KEY] = [asdict(o) for o in outcomes]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the controller: gather a finished worker's outcomes for the table."""
    given = getattr(node, "workeroutput", {}).get(WORKER_KEY, [])
    outcomes = node.config.stash.setdefault(OUTCOMES, [])
    outcomes.extend(Outcome(**{**o, "expected": tuple(o["expected"])}) for o in given)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    outcomes = config.stash.get(OUTCOMES, [])
    if not outcomes:
        return
    write = terminalreporter.write_line
    terminalreporter.section("scenario score")
    totals, right = Counter[str](), Counter[str]()
    for outcome in outcomes:
        totals[outcome.family] += 1
        right[outcome.family] += outcome.right
    width = max(len(name) for name in totals)
    write(f"{'family'.ljust(width)}  right/total")
    for family in sorted(totals):
        write(f"{family.ljust(width)}  {right[family]:>5}/{totals[family]:<5}")
    score = sum(right.values())
    write(
        f"{'overall'.ljust(width)}  {score:>5}/{len(outcomes):<5} "
        f"{100 * score / len(outcomes):.1f} % right"
    )
    wrong_high = [o for o in outcomes if o.wrong_high]
    write(f"wrong high-confidence verdicts: {len(wrong_high)}")
    wrong = [o for o in outcomes if not o.right]
    if wrong:
        write("")
        write("wrong (id | expected | got | confidence | summary):")
        for o in sorted(wrong, key=lambda o: o.id):
            got = o.verdict + (f" ({o.problem})" if o.problem else "")
            write(f"  {o.id} | {'/'.join(o.expected)} | {got} | {o.confidence} | {o.summary}")
