"""Note tags typed as ``#words`` in a note's text.

A researcher typing fast writes ``#pain`` rather than ``#pain_point``: each tag is also
recognised by its obvious short forms — a plural (``#ideas``), hyphens or no separator
(``#pain-point``, ``#PainPoint``) and the first three or more letters of exactly one tag
(``#pain``, ``#work``, ``#bar``).  A ``#word`` that names no tag stays in the text."""

from __future__ import annotations

import re

from cxfield.domain.vocabulary import NoteTag

#: a ``#`` followed by a word that starts with a letter (``#1`` is not a tag)
_HASHTAG = re.compile(r"#([^\W\d_][\w-]*)")
_MIN_PREFIX = 3

#: how each tag is written most briefly, in the order the hint lists them
SHORT_FORMS: dict[NoteTag, str] = {
    NoteTag.QUOTE: "quote",
    NoteTag.PAIN_POINT: "pain",
    NoteTag.IDEA: "idea",
    NoteTag.WORKAROUND: "workaround",
    NoteTag.BARRIER: "barrier",
    NoteTag.HARM: "harm",
    NoteTag.EQUITY: "equity",
}
#: the tags as a researcher types them, e.g. for a field's hint
TAG_HINT = " ".join(f"#{short}" for short in SHORT_FORMS.values())


def tag_for(word: str) -> NoteTag | None:
    """The tag a typed ``#word`` (without the ``#``) stands for, or None."""
    typed = word.lower().replace("-", "_").strip("_")
    if not typed:
        return None
    for candidate in (typed, typed[:-1] if typed.endswith("s") else None):
        if not candidate:
            continue
        squeezed = candidate.replace("_", "")
        for tag in NoteTag:
            if candidate == tag.value or squeezed == tag.value.replace("_", ""):
                return tag
        if len(squeezed) >= _MIN_PREFIX:
            starting = [t for t in NoteTag if t.value.replace("_", "").startswith(squeezed)]
            if len(starting) == 1:
                return starting[0]
    return None


def split_tags(text: str) -> tuple[str, list[str]]:
    """A note's text without its recognised ``#tags``, and the tags (values, in order,
    each once).  Unrecognised ``#words`` stay in the text as typed."""
    tags: list[str] = []

    def take(match: re.Match[str]) -> str:
        tag = tag_for(match.group(1))
        if tag is None:
            return match.group(0)
        if tag.value not in tags:
            tags.append(tag.value)
        return ""

    clean = _HASHTAG.sub(take, text)
    return " ".join(clean.split()), tags


def unknown_tags(text: str) -> list[str]:
    """The ``#words`` in a text that name no tag (to say which tags exist)."""
    return [f"#{w}" for w in _HASHTAG.findall(text) if tag_for(w) is None]
