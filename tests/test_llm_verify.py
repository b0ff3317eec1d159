"""Checking a model's answer: quotes found exactly in the passage they name, facts in quotes."""

from __future__ import annotations

import pytest

from qa.llm.records import ModelAnswer, ModelQuote, Source
from qa.llm.verify import check, locate, names, normalise, numbers
from qa.records import Passage

DOC = ("Preamble line.\n"
       "The committee met in   Oslo on 4 May 2021 and agreed a “joint plan”.\n"
       "Its budget was 1,500 units. The plan's author, Dr. Ferreira, left in 2022.")
START = DOC.index("The committee")
SECOND = DOC.index("Its budget")


def source(number: int, start: int, end: int) -> Source:
    text = DOC[start:end]
    return Source(number, Passage("doc.txt", f"c{number}", "1 Intro", start, end, text, 0.5),
                  text)


SOURCES = [source(1, START, SECOND - 1), source(2, SECOND, len(DOC))]


def no_pages(doc_id: str, start: int, end: int) -> tuple[None, None]:
    return None, None


def verdict(answer: str, *quotes: tuple[int, str]) -> object:
    return check(ModelAnswer(answer, tuple(ModelQuote(n, q) for n, q in quotes)), SOURCES,
                 no_pages)


def test_normalise_collapses_space_and_straightens_quotes_with_an_offset_map() -> None:
    text, origin = normalise("a  \n b “c”")
    assert text == 'a b "c"'
    assert [origin[i] for i in range(len(text))] == [0, 1, 5, 6, 7, 8, 9]


def test_a_quote_with_other_spacing_and_quote_marks_gets_the_documents_offsets() -> None:
    span = locate('met in Oslo on 4 May 2021 and agreed a "joint plan"', SOURCES[0])
    assert span is not None
    start, end = span
    assert DOC[start:end] == "met in   Oslo on 4 May 2021 and agreed a “joint plan”"


@pytest.mark.parametrize("quote", [
    "met in Oslo on 4 May 2020",  # one character changed
    "met in Olso on 4 May 2021",  # a typo is not forgiven
    "The committee met in Oslo on 4 May 2021 ... joint plan",  # an ellipsis is not a gap
    "met in oslo on 4 may 2021",  # case counts
])
def test_nothing_fuzzy(quote: str) -> None:
    assert locate(quote, SOURCES[0]) is None


def test_a_verified_answer_cites_the_document_text_at_exact_offsets() -> None:
    result = verdict("They met in Oslo in May 2021.", (1, "met in Oslo on 4 May 2021"))
    assert result.verified, result.reason
    (citation,) = result.citations
    assert citation.source == "model"
    assert citation.doc_id == "doc.txt" and citation.chunk_id == "c1"
    assert citation.section == "1 Intro"
    assert DOC[citation.start:citation.end] == citation.quote == "met in   Oslo on 4 May 2021"


def test_a_quote_from_another_passage_fails() -> None:
    result = verdict("The budget was 1,500 units.", (1, "Its budget was 1,500 units"))
    assert not result.verified
    assert result.reason is not None and "quote 1 is not in passage 1" in result.reason


def test_a_passage_number_that_was_not_given_fails() -> None:
    result = verdict("The budget was 1,500 units.", (7, "Its budget was 1,500 units"))
    assert not result.verified
    assert "passage 7" in str(result.reason) and "1-2" in str(result.reason)


def test_every_quote_must_check_out_not_just_one() -> None:
    result = verdict("They met in Oslo.", (1, "met in Oslo on 4 May 2021"),
                     (2, "Its budget was doubled"))
    assert not result.verified and "quote 2" in str(result.reason)


def test_no_quote_or_a_too_short_quote_fails() -> None:
    assert verdict("They met in 2021.").reason == "the model gave no quote"
    assert "shorter than" in str(verdict("In 2021.", (1, "2021")).reason)


def test_a_number_no_quote_holds_fails() -> None:
    result = verdict("They met in Oslo in 2020.", (1, "met in Oslo on 4 May 2021"))
    assert result.reason is not None and "'2020'" in result.reason


def test_a_number_must_be_a_whole_number_of_the_quote() -> None:
    result = verdict("They met on the 21st.", (1, "met in Oslo on 4 May 2021"))
    assert "'21'" in str(result.reason)


def test_thousands_separators_do_not_matter() -> None:
    assert verdict("The budget was 1500 units.", (2, "Its budget was 1,500 units")).verified


def test_a_name_no_quote_holds_fails() -> None:
    result = verdict("They met in Bergen in May 2021.", (1, "met in Oslo on 4 May 2021"))
    assert result.reason is not None and "'Bergen'" in result.reason


def test_names_are_found_by_their_shape() -> None:
    found = names("The plan was drafted by Ferreira. Afterwards the UN and McKinsey's staff left.")
    # "The" and "Afterwards" open sentences; a possessive is the name itself
    assert found == {"Ferreira", "UN", "McKinsey"}


def test_numbers_are_found_by_their_digits() -> None:
    assert numbers("On 4 May 2021, 1,500 units (2.5%) and 10/12") == {
        "4", "2021", "1500", "2.5", "10/12"}


def test_names_match_whatever_their_case_in_the_quote() -> None:
    assert verdict("The Joint Plan was agreed in Oslo.",
                   (1, 'met in Oslo on 4 May 2021 and agreed a "joint plan"')).verified
