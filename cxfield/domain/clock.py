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
