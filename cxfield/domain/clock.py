"""How times are written, the same on every screen and in every PDF."""

from __future__ import annotations

import math


def moment_text(seconds: float) -> str:
    """A moment in a session or a recording (when a note was taken, a position in the audio)
    as HH:MM:SS, rounded *down* to the second like any clock: a note taken at 1:05.9 was
    taken during second 1:05, and the runner, the session view and the PDFs all say so."""
    whole = max(0, math.floor(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def duration_text(seconds: float) -> str:
    """A length of time (time spent in a step, a median) as m:ss or h:mm:ss, rounded to the
    nearest second, the same on the journey map and in the reports."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def typed_moment_text(seconds: float) -> str:
    """A moment as :func:`parse_moment` reads it back: m:ss (or h:mm:ss) with the
    hundredths a person typed (83.5 → ``1:23.5``), never rounded to another second."""
    whole, hundredths = divmod(int(round(seconds * 100)), 100)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return text + (f".{hundredths:02d}".rstrip("0") if hundredths else "")


def parse_moment(text: str) -> float:
    """A moment as a person types it: seconds (``83.5``), ``m:ss`` (``1:23.5``) or
    ``h:mm:ss``; ValidationError (one line) for anything else."""
    from cxfield.domain.errors import ValidationError

    parts = text.strip().split(":")
    try:
        if not 1 <= len(parts) <= 3 or any(not p.strip() for p in parts):
            raise ValueError(text)
        numbers = [float(p) for p in parts]
    except ValueError:
        raise ValidationError(
            f"{text.strip()!r} is not a time (use 83.5, 1:23.5 or 0:01:23)."
        ) from None
    if any(n < 0 or not math.isfinite(n) for n in numbers) or any(n >= 60 for n in numbers[1:]):
        raise ValidationError(f"{text.strip()!r} is not a time (use 83.5, 1:23.5 or 0:01:23).")
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return seconds
