"""Sentence splitting: abbreviations, initials, dotted acronyms, markers, quotes, offsets."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.documents.structure import parse_blocks
from index.records import Block
from index.text.sentences import split_sentences

CHAPTER = Path(__file__).resolve().parents[1] / "corpus" / (
    "diplomatic-bluebook-2025-ch3-japan-us-security.txt"
)


def sentences(text: str) -> list[str]:
    """The sentences of a text as strings."""
    return [text[a:b] for a, b in split_sentences(text)]


def assert_well_formed(text: str, spans: list[tuple[int, int]], start: int, end: int) -> None:
    """Spans are ordered, disjoint, stripped, inside [start, end) and cover every
    non-space character of that range."""
    covered: set[int] = set()
    previous_end = start
    for a, b in spans:
        assert start <= previous_end <= a < b <= end
        assert not text[a].isspace() and not text[b - 1].isspace()
        covered.update(range(a, b))
        previous_end = b
    visible = {i for i in range(start, end) if not text[i].isspace()}
    assert visible <= covered


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Gen. Smith arrived in Tokyo. He met the minister.",
            ["Gen. Smith arrived in Tokyo.", "He met the minister."],
        ),
        (
            "Dr. Tanaka and Mr. Brown met Prof. Lee at St. Luke's. They talked.",
            ["Dr. Tanaka and Mr. Brown met Prof. Lee at St. Luke's.", "They talked."],
        ),
        (
            "The vote was held in Jan. 2024 by the committee. It passed.",
            ["The vote was held in Jan. 2024 by the committee.", "It passed."],
        ),
        (
            "Costs rose, e.g. Fuel and food. Wages did not.",
            ["Costs rose, e.g. Fuel and food.", "Wages did not."],
        ),
    ],
)
def test_abbreviations_do_not_end_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Visits were made by General Charles A. Flynn, Commanding General. He left.",
            ["Visits were made by General Charles A. Flynn, Commanding General.", "He left."],
        ),
        (
            "Prime Minister Ishiba held a meeting with President Donald J. Trump. "
            "The two leaders concurred.",
            [
                "Prime Minister Ishiba held a meeting with President Donald J. Trump.",
                "The two leaders concurred.",
            ],
        ),
        (
            "Lt Gen. James F. Glynn and Admiral John C. Aquilino attended. Talks followed.",
            ["Lt Gen. James F. Glynn and Admiral John C. Aquilino attended.", "Talks followed."],
        ),
    ],
)
def test_initials_do_not_end_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Thereafter, they visited Washington, D.C. and New York. After returning, they met.",
            ["Thereafter, they visited Washington, D.C. and New York.", "After returning, they met."],
        ),
        (
            "At the EDD meeting held at F.E. Warren Air Force Base, the U.S. reaffirmed it. "
            "Both sides agreed.",
            [
                "At the EDD meeting held at F.E. Warren Air Force Base, the U.S. reaffirmed it.",
                "Both sides agreed.",
            ],
        ),
        (
            "The U.S. Forces in Japan and the U.S. Army Pacific train together. They also talk.",
            ["The U.S. Forces in Japan and the U.S. Army Pacific train together.", "They also talk."],
        ),
        (
            "It was attended by Secretary Austin from the U.S. Recognizing that the visit "
            "succeeded, the ministers agreed.",
            [
                "It was attended by Secretary Austin from the U.S.",
                "Recognizing that the visit succeeded, the ministers agreed.",
            ],
        ),
        (
            "Japan cooperates with the U.S. The Alliance is strong.",
            ["Japan cooperates with the U.S.", "The Alliance is strong."],
        ),
        (
            "She met the U.S. Under Secretary of State in Tokyo. They talked.",
            ["She met the U.S. Under Secretary of State in Tokyo.", "They talked."],
        ),
    ],
)
def test_dotted_acronyms(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_acronym_and_full_stop_end_the_sentence() -> None:
    text = "Japan receives extended deterrence from its ally, the U.S.. Japan also deters."
    assert sentences(text) == [
        "Japan receives extended deterrence from its ally, the U.S..",
        "Japan also deters.",
    ]


def test_footnote_marker_stays_with_its_sentence() -> None:
    text = (
        "They agreed on holding a ministerial meeting on extended deterrence.(1) "
        "Furthermore, they issued instructions."
    )
    assert sentences(text) == [
        "They agreed on holding a ministerial meeting on extended deterrence.(1)",
        "Furthermore, they issued instructions.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "TAKAHASHI Ryo is one such valued “SEED.” He studied hard.",
            ["TAKAHASHI Ryo is one such valued “SEED.”", "He studied hard."],
        ),
        (
            'He said "We agree." Then he left.',
            ['He said "We agree."', "Then he left."],
        ),
        (
            "The plan is called “Okinawa Consolidation Plan.” (See the Column.) It works.",
            ["The plan is called “Okinawa Consolidation Plan.”", "(See the Column.)", "It works."],
        ),
        (
            "Did it work? Yes! It did.",
            ["Did it work?", "Yes!", "It did."],
        ),
    ],
)
def test_quotes_brackets_and_other_terminators(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer was no. Then they left.", ["The answer was no.", "Then they left."]),
        ("See No. 5 for details. Then read on.", ["See No. 5 for details.", "Then read on."]),
        (
            "Under Art. 9 of the Constitution, it is banned. Art. V applies too.",
            ["Under Art. 9 of the Constitution, it is banned.", "Art. V applies too."],
        ),
        ("They admired modern art. Then they went home.", ["They admired modern art.", "Then they went home."]),
    ],
)
def test_numbering_abbreviations_need_a_number(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_no_sentence_punctuation_gives_one_sentence() -> None:
    text = "  alpha beta gamma\ndelta epsilon  "
    assert split_sentences(text) == [(2, len(text) - 2)]


def test_lower_case_after_period_does_not_split() -> None:
    assert sentences("Version 2.5 is out. it was released at 3 p.m. today.") == [
        "Version 2.5 is out. it was released at 3 p.m. today."
    ]


def test_span_arguments_keep_offsets_absolute() -> None:
    text = "Ignore this. Keep one. Keep two. Ignore that."
    start = text.index("Keep one")
    end = text.index(" Ignore that")
    spans = split_sentences(text, start, end)
    assert [text[a:b] for a, b in spans] == ["Keep one.", "Keep two."]
    assert_well_formed(text, spans, start, end)


def test_empty_and_blank_text() -> None:
    assert split_sentences("") == []
    assert split_sentences("   \n\t ") == []


@pytest.fixture(scope="module")
def chapter_blocks(chapter_text: str) -> list[Block]:
    return parse_blocks(CHAPTER.name, chapter_text)


@pytest.fixture(scope="module")
def chapter_sentences(chapter_text: str, chapter_blocks: list[Block]) -> set[str]:
    return {
        chapter_text[a:b]
        for block in chapter_blocks
        for a, b in split_sentences(chapter_text, block.start, block.end)
    }


def test_chapter_sentences_are_well_formed(chapter_text: str, chapter_blocks: list[Block]) -> None:
    for block in chapter_blocks:
        spans = split_sentences(chapter_text, block.start, block.end)
        assert spans, chapter_text[block.start : block.end]
        assert_well_formed(chapter_text, spans, block.start, block.end)


@pytest.mark.parametrize(
    "sentence",
    [
        "The EDD was established in 2010, and as a part of Japan-U.S. security and defense "
        "cooperation, it provides an opportunity",
        "At the EDD meeting held at F.E. Warren Air Force Base in Cheyenne, Wyoming in June, "
        "the U.S. reaffirmed its commitment to enhance the regional deterrent effect of U.S. "
        "nuclear assets.",
        "Thereafter, they visited Washington, D.C. and New York.",
        "Japan possesses its own deterrence while also receiving extended deterrence from its "
        "ally, the U.S..",
        "On February 7, 2025, Prime Minister Ishiba, during his visit to Washington D.C., held a "
        "Japan-U.S. Summit Meeting with President Donald J. Trump.",
        "Recognizing that Prime Minister Kishida's official visit",
        "(See the Column on page 199.)",
    ],
)
def test_chapter_sentence_starts(chapter_sentences: set[str], sentence: str) -> None:
    """Known sentences of the chapter are split exactly where a reader would split them."""
    assert any(s.startswith(sentence) for s in chapter_sentences)
    if sentence.endswith("."):
        assert sentence in chapter_sentences


def test_long_list_of_officials_is_one_sentence(chapter_text: str) -> None:
    """The paragraph naming officials with initials (A., C., Q., F.) is a single sentence."""
    start = chapter_text.index("In 2024, Japan continued to engage in personnel exchanges")
    end = chapter_text.index("\n", start)
    assert split_sentences(chapter_text, start, end) == [(start, end)]


def test_marker_sentence_of_the_chapter(chapter_text: str, chapter_sentences: set[str]) -> None:
    start = chapter_text.index("The two leaders also declared new strategic initiatives")
    end = chapter_text.index("extended deterrence.(1)") + len("extended deterrence.(1)")
    assert chapter_text[start:end] in chapter_sentences


_PIECES = st.sampled_from(
    ["Word", "word", " ", "  ", "\n", "\n\n", ".", ". ", "U.S.", "U.S.. ", "A. ", "(1) ", "“", "”",
     "?", "! ", "Gen. ", "D.C. ", "e.g. ", "2010", ",", "\t", "The ", "no. "]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_spans_cover_any_text(text: str) -> None:
    spans = split_sentences(text)
    assert_well_formed(text, spans, 0, len(text))
