"""Small pieces of user-facing English shared by every front end."""

from __future__ import annotations


def count_of(count: int, singular: str, plural: str | None = None) -> str:
    """``1 session``, ``2 sessions``, ``0 sessions`` (``plural`` for irregular nouns)."""
    noun = singular if count == 1 else (plural or f"{singular}s")
    return f"{count:,} {noun}"
