"""#tags in notes: the documented tags and their obvious short forms (#pain -> pain point);
a #word that names no tag stays in the text."""

from __future__ import annotations

import pytest

from cxfield.domain.tags import TAG_HINT, split_tags, tag_for, unknown_tags


@pytest.mark.parametrize(
    ("typed", "tag"),
    [
        ("pain", "pain_point"),
        ("pain_point", "pain_point"),
        ("pain-point", "pain_point"),
        ("PainPoint", "pain_point"),
        ("pains", "pain_point"),
        ("ideas", "idea"),
        ("Quote", "quote"),
        ("work", "workaround"),
        ("workarounds", "workaround"),
        ("bar", "barrier"),
        ("harms", "harm"),
        ("equity", "equity"),
    ],
)
def test_tags_and_their_short_forms(typed: str, tag: str) -> None:
    assert tag_for(typed) is not None and tag_for(typed) == tag


@pytest.mark.parametrize("typed", ["ha", "q", "gossip", "hardship", "equal", "painful"])
def test_other_words_are_not_tags(typed: str) -> None:
    assert tag_for(typed) is None


def test_split_tags_keeps_the_text_and_unknown_words() -> None:
    text, tags = split_tags("Waited 2 hours #pain #Ideas at desk #7 #pain #gossip")
    assert text == "Waited 2 hours at desk #7 #gossip"
    assert tags == ["pain_point", "idea"]
    assert split_tags("#quote Nadie me explicó nada.") == ("Nadie me explicó nada.", ["quote"])
    assert unknown_tags("late #gossip #pain") == ["#gossip"]
    assert TAG_HINT.split() == [
        "#quote", "#pain", "#idea", "#workaround", "#barrier", "#harm", "#equity",
    ]  # fmt: skip
    for short in TAG_HINT.split():  # every form the hint offers is understood
        assert split_tags(short)[1], short
