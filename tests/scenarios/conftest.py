"""The scenario suite's score: right answers per family, and every wrong high-confidence one.

Each scenario test hands its outcome to ``scoreboard`` before it asserts, so
the table counts failing scenarios too; ``pytest_terminal_summary`` prints it
at the end of any run that collected this folder.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.scenarios.score import OUTCOMES, Outcome


@pytest.fixture
def scoreboard(request: pytest.FixtureRequest) -> list[Outcome]:
    return request.config.stash.setdefault(OUTCOMES, [])


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
