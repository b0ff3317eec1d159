"""Offsets round-trip: every chunk, citation and passage is the document's text[start:end]."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from index.records import Chunk

GOLD = Path(__file__).resolve().parents[1] / "eval" / "gold.jsonl"


def read_document(corpus: Path, doc_id: str) -> str:
    """A document exactly as the index reads it (bytes decoded, no newline translation)."""
    return (corpus / doc_id).read_bytes().decode("utf-8")


@pytest.fixture(scope="module")
def documents(real_settings: Any) -> dict[str, str]:
    corpus = Path(real_settings.corpus_dir)
    return {
        p.relative_to(corpus).as_posix(): read_document(corpus, p.relative_to(corpus).as_posix())
        for p in corpus.rglob("*")
        if p.suffix in (".txt", ".md")
    }


@pytest.fixture(scope="module")
def gold_questions() -> list[str]:
    lines = [json.loads(line) for line in GOLD.read_text("utf-8").splitlines() if line.strip()]
    return [item["question"] for item in lines]


@pytest.fixture(scope="module")
def gold_answers(real_service: Any, gold_questions: list[str]) -> list[Any]:
    """Every gold question asked once through the real service."""
    return [real_service.ask(q) for q in gold_questions]


@pytest.mark.slow
def test_every_chunk_round_trips(real_service: Any, documents: dict[str, str]) -> None:
    chunks: list[Chunk] = real_service.loaded.index.chunks
    assert {c.doc_id for c in chunks} == set(documents)
    for c in chunks:
        text = documents[c.doc_id]
        assert 0 <= c.start < c.end <= len(text)
        assert c.text == text[c.start : c.end]
        previous = c.start
        for a, b in c.sentences:
            assert previous <= a < b <= c.end
            assert text[a:b].strip() == text[a:b]
            previous = b


@pytest.mark.slow
def test_gold_set_is_large(gold_questions: list[str]) -> None:
    assert len(gold_questions) >= 100


@pytest.mark.slow
def test_citations_and_passages_round_trip(
    gold_answers: list[Any], documents: dict[str, str], real_service: Any
) -> None:
    index = real_service.loaded.index
    checked = 0
    for answer in gold_answers:
        assert answer.passages, answer.question
        for item, text in [(c, c.quote) for c in answer.citations] + [
            (p, p.text) for p in answer.passages
        ]:
            document = documents[item.doc_id]
            assert text == document[item.start : item.end], answer.question
            chunk = index.chunks[index.by_id[item.chunk_id]]
            assert chunk.doc_id == item.doc_id
            assert chunk.start <= item.start < item.end <= chunk.end
            assert item.section == chunk.section_path
            checked += 1
    assert checked > len(gold_answers) * 3


@pytest.mark.slow
def test_answer_lies_inside_its_citation(gold_answers: list[Any], documents: dict[str, str]) -> None:
    answered = [a for a in gold_answers if not a.abstained]
    assert len(answered) > len(gold_answers) // 2
    for answer in answered:
        assert answer.answer and answer.citations
        assert answer.answer_start is not None and answer.answer_end is not None
        holding = [
            c
            for c in answer.citations
            if c.start <= answer.answer_start and answer.answer_end <= c.end
        ]
        assert holding, answer.question
        document = documents[holding[0].doc_id]
        assert document[answer.answer_start : answer.answer_end] == answer.answer
        assert answer.answer in holding[0].quote


@pytest.mark.slow
def test_abstentions_have_no_answer_and_no_citation(gold_answers: list[Any]) -> None:
    for answer in gold_answers:
        if answer.abstained:
            assert answer.answer is None
            assert answer.citations == []
            assert answer.answer_start is None


@pytest.mark.slow
def test_search_passages_round_trip(real_service: Any, documents: dict[str, str]) -> None:
    for query in ("missile defense", "Host Nation Support costs", "ship-to-ship transfers", "SEED"):
        passages = real_service.search(query, k=10)
        assert len(passages) == 10
        for p in passages:
            assert p.text == documents[p.doc_id][p.start : p.end]


@pytest.mark.slow
def test_off_topic_question_abstains(real_service: Any) -> None:
    answer = real_service.ask("Who won the 2022 football World Cup?")
    assert answer.abstained is True
    assert answer.answer is None
    assert answer.citations == []
    assert answer.passages  # the nearest passages are still listed


@pytest.mark.slow
def test_extended_deterrence_dialogue_question(real_service: Any, documents: dict[str, str]) -> None:
    answer = real_service.ask("When was the Extended Deterrence Dialogue established?")
    assert not answer.abstained
    assert "2010" in answer.answer
    citation = answer.citations[0]
    assert citation.quote == documents[citation.doc_id][citation.start : citation.end]
    assert citation.quote.startswith("The EDD was established in 2010")


# -- documents that are easy to get wrong: CRLF, BOM, non-ASCII -----------------------------


def test_offsets_in_crlf_bom_and_non_ascii_documents(make_service: Any) -> None:
    files: dict[str, str | bytes] = {
        "crlf.txt": (
            "1 Ceremony\r\n\r\nThe ceremony took place in Kyōto on 3 May 2021.\r\n"
            "Everyone attended the café reception.\r\n\r\n2 Notes\r\n\r\nEmoji 🎌 mark the end.\r\n"
        ).encode(),
        "bom.md": "\ufeff# Résumé\n\nThe naïve approach costs ¥500 in 東京.\n".encode(),
    }
    service = make_service(files)
    service.open()
    corpus = service.settings.corpus_dir
    for doc_id in ("crlf.txt", "bom.md"):
        text = read_document(corpus, doc_id)
        chunks = [c for c in service.loaded.index.chunks if c.doc_id == doc_id]
        assert chunks
        for c in chunks:
            assert c.text == text[c.start : c.end]
    questions = (
        "Where did the ceremony take place?",
        "How much does the naive approach cost?",
        "What marks the end?",
    )
    for question in questions:
        answer = service.ask(question)
        for c in answer.citations:
            assert c.quote == read_document(corpus, c.doc_id)[c.start : c.end]
        for p in answer.passages:
            assert p.text == read_document(corpus, p.doc_id)[p.start : p.end]
    # The lexical leg indexes words of any script, so BM25 alone finds them.
    for word, doc_id in (("東京", "bom.md"), ("Kyōto", "crlf.txt"), ("naïve", "bom.md")):
        hits = service.search(word, k=1, mode="bm25")
        assert [p.doc_id for p in hits] == [doc_id], word
    crlf = read_document(corpus, "crlf.txt")
    assert "\r\n" in crlf  # the offsets point into the text with its CR characters
    reception = next(c for c in service.loaded.index.chunks if "café" in c.text)
    assert "\r\n" in reception.text
