"""The nearest known name to a misspelt one, for "did you mean" hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def _distance(a: str, b: str) -> int:
    """Levenshtein distance: the edits that turn ``a`` into ``b``."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(
                    previous[j] + 1,
                    current[j - 1] + 1,
                    previous[j - 1] + (char_a != char_b),
                )
            )
        previous = current
    return previous[-1]


def nearest(word: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``word``, or None when none is close.

    difflib finds the candidates; the fewest edits decide between them, since
    difflib's ratio favours long names ('adress' is nearer 'addr' than
    'headers').
    """
    candidates = difflib.get_close_matches(word, list(known), n=3, cutoff=0.6)
    if not candidates:
        return None
    return min(candidates, key=lambda name: (_distance(word, name), name))
