"""Did you mean ...? The names close to one that is not there.

One helper for every place a name is looked up and missed: a mistyped
command (``monitor wyh``) and an allow-listed component a status page does
not have (``"Git Operation"`` for ``"Git Operations"``). Standard library
only, so the CLI's start-up pays nothing for it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# difflib's own default: "API Requests" for "API Request", not "Actions" for "API".
CUTOFF = 0.6


def close_matches(word: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """The ``choices`` closest to ``word``, best first; empty when none is close.

    Case is ignored when comparing ("api requests" finds "API Requests"),
    and the choices come back as written. An exact match is not a
    suggestion: the caller looks a name up before asking what it meant.
    """
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.casefold(), choice)
    folded = word.casefold()
    if folded in by_folded and by_folded[folded] != word:
        return [by_folded[folded]]  # only the case differs: that is the one
    found = difflib.get_close_matches(folded, list(by_folded), n=limit, cutoff=CUTOFF)
    return [by_folded[f] for f in found if by_folded[f] != word]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``did you mean 'why'?`` (or ``'a' or 'b'?``) for the close choices; ``""`` when none.

    Lower case, to go inside a sentence; a caller starting a sentence with it
    capitalises the first letter.
    """
    matches = close_matches(word, choices)
    if not matches:
        return ""
    quoted = [repr(m) for m in matches]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"did you mean {listed}?"
