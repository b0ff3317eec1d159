"""Folding text for the NLP pipeline and word matching: what the plain form is, and that
every character of it maps back to the character of the original it came from."""

from __future__ import annotations

import itertools
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from index.documents.textfold import _REPLACE as TABLE
from index.documents.textfold import clean_question, fold, fold_plain
from index.text.lexical import lexical_tokens, words

# Characters published documents carry, and what a reader takes them for.
FORMAT_CHARS = ("\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")  # soft hyphen, ZW*
SAME_LENGTH = {
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space
    "\u2018": "'",  # curly single quotes
    "\u2019": "'",
    "\u201c": '"',  # curly double quotes
    "\u201d": '"',
    "\u2011": "-",  # non-breaking hyphen
}
ODD = "".join(FORMAT_CHARS) + "".join(SAME_LENGTH)

# Mostly the odd characters and plain text around them, sometimes any character at all.
odd_text = st.text(
    alphabet=st.one_of(st.sampled_from(list(ODD + "abcXYZ 019.,'\"-\n")), st.characters()),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(odd_text)
def test_every_folded_character_maps_back_to_its_origin(text: str) -> None:
    folded, origin = fold(text)
    assert len(origin) == len(folded) + 1
    assert origin[-1] == len(text)
    assert all(a < b for a, b in itertools.pairwise(origin))  # in order, no repeats
    for i, char in enumerate(folded):
        source = text[origin[i]]
        assert char == TABLE.get(source, source), (text, i)
    kept = set(origin[:-1])
    for i, char in enumerate(text):  # what is left out is exactly the format characters
        assert (i not in kept) == (unicodedata.category(char) == "Cf"), (text, i)


@settings(max_examples=300, deadline=None)
@given(odd_text)
def test_a_span_of_the_folded_text_maps_to_the_original_span(text: str) -> None:
    """What the pipeline finds in the folded text, mapped back, reads the same."""
    folded, origin = fold(text)
    for start in range(len(folded)):
        for end in range(start + 1, min(len(folded), start + 6) + 1):
            original = text[origin[start] : origin[end - 1] + 1]
            assert fold_plain(original) == folded[start:end]


@settings(max_examples=300, deadline=None)
@given(odd_text)
def test_fold_plain_is_the_folded_text(text: str) -> None:
    assert fold_plain(text) == fold(text)[0]


def test_the_table_replaces_one_odd_character_by_one_plain_one() -> None:
    assert SAME_LENGTH.items() <= TABLE.items()
    for odd, plain in TABLE.items():
        assert len(odd) == len(plain) == 1 and plain.isascii() and not odd.isascii()
        assert unicodedata.category(odd) != "Cf"  # format characters are dropped, not replaced


def test_fold_of_a_published_phrase() -> None:
    text = "\ufeffPre\u00adsident\u00a0Biden\u2019s \u201czero\u200bwidth\u201d plan"
    folded, origin = fold(text)
    assert folded == 'President Biden\'s "zerowidth" plan'
    start = folded.index("Biden")
    assert text[origin[start] : origin[start + len("Biden") - 1] + 1] == "Biden"
    assert text[origin[0] : origin[len("President") - 1] + 1] == "Pre\u00adsident"
    assert fold("") == ("", [0])
    assert fold("plain") == ("plain", [0, 1, 2, 3, 4, 5])


def test_clean_question_normalises_and_drops_format_characters() -> None:
    typed = "\ufeff  \uff37hen\u00a0was the \ufb01rst \u201cmeet\u00ading\u201d\u200b held? \u200d"
    assert clean_question(typed) == 'When was the first "meeting" held?'
    assert clean_question("Which\u3000port\u2009did they visit?") == "Which port did they visit?"
    assert clean_question("What is the ship\u2019s name?") == "What is the ship's name?"


@settings(max_examples=300, deadline=None)
@given(odd_text)
def test_clean_question_leaves_no_format_character_and_no_odd_space(text: str) -> None:
    cleaned = clean_question(text)
    assert not any(unicodedata.category(c) == "Cf" for c in cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert not set(cleaned) & set(SAME_LENGTH)


def test_clean_question_output_is_nfkc_even_when_a_format_character_sat_in_between() -> None:
    """A zero-width joiner between a letter and its accent: once it is dropped, the two
    compose, so the result must be normalised after the format characters go."""
    cleaned = clean_question("Which cafe\u200d\u0301 opened first?")
    assert unicodedata.is_normalized("NFKC", cleaned), ascii(cleaned)
    assert cleaned == "Which caf\u00e9 opened first?"


def test_words_ignore_soft_hyphens_zero_width_characters_and_odd_spaces() -> None:
    assert words("Pre\u00adsident Biden") == words("President Biden") == ["president", "biden"]
    assert words("Pre\u00adsi\u200bdent\u00a0Bi\u200dden") == ["president", "biden"]
    assert words("the harbor\u2019s pilots") == words("the harbor's pilots")
    assert lexical_tokens("Pre\u00adsident\u00a0Biden") == lexical_tokens("President Biden")


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("abcde XYZ'.-019")), max_size=40),
    st.lists(st.tuples(st.integers(0, 40), st.sampled_from(FORMAT_CHARS)), max_size=5),
)
def test_invisible_characters_never_change_the_words(
    text: str, inserts: list[tuple[int, str]]
) -> None:
    odd = text
    for position, char in sorted(inserts, reverse=True):
        position = min(position, len(odd))
        odd = odd[:position] + char + odd[position:]
    assert words(odd) == words(text)
    assert words(odd.replace(" ", "\u00a0")) == words(text)
