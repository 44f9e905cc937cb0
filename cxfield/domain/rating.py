"""How one rating is written everywhere: the runner's key (1–5), its word, and the valence
on the −2..+2 scale that curves and means use — the step list, the session view,
`sessions show` and the PDFs say the same thing."""

from __future__ import annotations

from cxfield.domain.journey import signed
from cxfield.domain.vocabulary import VALENCE_LABELS, VALENCE_MIN


def rating_key(valence: int) -> int:
    """The runner's key (and the face's number) for a valence: −2 → 1 … +2 → 5."""
    return valence - VALENCE_MIN + 1


def scale_point(valence: int) -> str:
    """A point of the scale on both of its scales: ``2 (−1)``."""
    return f"{rating_key(valence)} ({_minus(signed(valence))})"


def rating_text(valence: int | None, empty: str = "") -> str:
    """One rating: ``2 · Negative (−1)``; ``empty`` when there is none."""
    if valence is None:
        return empty
    return f"{rating_key(valence)} · {VALENCE_LABELS[valence]} ({_minus(signed(valence))})"


def _minus(text: str) -> str:
    return text.replace("-", "\u2212")  # a real minus sign, as in the PDFs
