"""Chunk limits (cl100k budget, the real model's own maximum length), section and sentence
boundaries, overlap, footnote links after splitting, and stable chunk ids."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index.documents.corpus import decode_document
from index.documents.structure import parse_blocks
from index.encode.hashing import HashingEmbedder
from index.records import Block, Chunk, Document
from index.text.chunker import (
    ChunkSettings,
    chunk_document,
    embedding_text,
    make_chunk_id,
    section_label,
)
from index.text.sentences import split_sentences
from index.text.tokens import count_tokens

CHAPTER = Path(__file__).resolve().parents[1] / "corpus" / (
    "diplomatic-bluebook-2025-ch3-japan-us-security.txt"
)


def make_doc(doc_id: str, text: str) -> Document:
    doc = decode_document(doc_id, text.encode("utf-8"))
    assert isinstance(doc, Document)
    return doc


def chunk(
    doc: Document,
    settings: ChunkSettings | None = None,
    model_tokens: Callable[[str], int] | None = None,
    model_limit: int | None = None,
) -> list[Chunk]:
    return chunk_document(
        doc,
        parse_blocks(doc.doc_id, doc.text),
        settings or ChunkSettings(),
        count_tokens,
        model_tokens,
        model_limit,
    )


def block_sentences(doc: Document, blocks: list[Block]) -> set[tuple[int, int]]:
    return {s for b in blocks for s in split_sentences(doc.text, b.start, b.end)}


def words_covered(text: str, chunks: list[Chunk], start: int, end: int) -> None:
    """Every non-space character of text[start:end] lies in some chunk sentence."""
    covered = {i for c in chunks for a, b in c.sentences for i in range(a, b)}
    missing = [i for i in range(start, end) if not text[i].isspace() and i not in covered]
    assert not missing, text[missing[0] : missing[0] + 40]


# -- the real chapter, chunked with the real model's tokenizer ---------------------------


@pytest.fixture(scope="module")
def chapter() -> Document:
    return make_doc(CHAPTER.name, CHAPTER.read_bytes().decode("utf-8"))


@pytest.fixture(scope="module")
def chapter_blocks(chapter: Document) -> list[Block]:
    return parse_blocks(chapter.doc_id, chapter.text)


@pytest.fixture(scope="module")
def index_chunks(real_service: Any) -> list[Chunk]:
    """The chunks of the real index (real model, default settings)."""
    chunks: list[Chunk] = real_service.loaded.index.chunks
    return chunks


@pytest.mark.slow
def test_real_model_limit_is_read_from_the_model(real_embedder: Any, torch_embedder: Any) -> None:
    assert real_embedder.max_tokens == int(torch_embedder.model.max_seq_length) == 256
    # The counter includes the special tokens the model adds ([CLS] ... [SEP]).
    assert real_embedder.count_tokens("deterrence") >= 3
    for text in ("deterrence", "  Extended Deterrence Dialogue (EDD)  ", "a " * 400):
        assert real_embedder.count_tokens(text) == torch_embedder.count_tokens(text)


@pytest.mark.slow
def test_no_chunk_exceeds_the_models_length(real_embedder: Any, index_chunks: list[Chunk]) -> None:
    assert len(index_chunks) > 30
    for c in index_chunks:
        assert real_embedder.count_tokens(embedding_text(c)) <= real_embedder.max_tokens, c.text[:60]


@pytest.mark.slow
def test_chunk_text_within_the_budget(real_settings: Any, index_chunks: list[Chunk]) -> None:
    budget = real_settings.chunk_tokens
    for c in index_chunks:
        size = count_tokens(c.text)
        if size > budget:  # allowed only for one sentence longer than the budget itself
            assert len(c.sentences) == 1, c.text[:60]


@pytest.mark.slow
def test_the_real_chapter_uses_the_budget(index_chunks: list[Chunk]) -> None:
    """The budget is not trivially met: the long paragraphs fill chunks close to it."""
    sizes = [count_tokens(c.text) for c in index_chunks if c.kind == "paragraph"]
    assert max(sizes) > 150
    assert any(len(c.sentences) == 1 and count_tokens(c.text) > 150 for c in index_chunks)


@pytest.mark.slow
def test_chunks_never_cross_a_section(
    chapter: Document, chapter_blocks: list[Block], index_chunks: list[Chunk]
) -> None:
    for c in index_chunks:
        overlapping = [b for b in chapter_blocks if b.start < c.end and c.start < b.end]
        assert overlapping
        if c.kind == "title":
            assert {b.kind for b in overlapping} == {"title"}
            continue
        assert {b.section for b in overlapping} == {c.section}, c.text[:60]


@pytest.mark.slow
def test_chunks_never_cut_a_sentence(
    chapter: Document, chapter_blocks: list[Block], index_chunks: list[Chunk]
) -> None:
    whole = block_sentences(chapter, chapter_blocks)
    for c in index_chunks:
        assert c.sentences
        assert (c.start, c.end) == (c.sentences[0][0], c.sentences[-1][1])
        if c.kind == "title":
            continue
        assert set(c.sentences) <= whole, c.text[:60]
        inner = [s for s in sorted(whole) if c.start <= s[0] and s[1] <= c.end]
        assert list(c.sentences) == inner  # no sentence inside the range is left out


@pytest.mark.slow
def test_every_sentence_of_the_chapter_is_in_a_chunk(
    chapter: Document, chapter_blocks: list[Block], index_chunks: list[Chunk]
) -> None:
    in_chunks = {s for c in index_chunks for s in c.sentences}
    for block in chapter_blocks:
        if block.kind in ("heading", "title"):
            continue
        for sentence in split_sentences(chapter.text, block.start, block.end):
            assert sentence in in_chunks, chapter.text[sentence[0] : sentence[1]][:60]


@pytest.mark.slow
def test_chunking_the_chapter_twice_gives_the_same_ids(
    chapter: Document, real_embedder: Any, index_chunks: list[Chunk]
) -> None:
    again = chunk(chapter, ChunkSettings(), real_embedder.count_tokens, real_embedder.max_tokens)
    assert [c.chunk_id for c in again] == [c.chunk_id for c in index_chunks]
    assert again == index_chunks


# -- a sentence longer than the model's limit ---------------------------------------------


def long_sentence_doc(words: int = 600) -> tuple[Document, int, int]:
    vocabulary = ["alliance", "deterrence", "cooperation", "Okinawa", "capabilities", "2024"]
    body = " ".join(
        vocabulary[i % len(vocabulary)] + ("," if i % 37 == 36 else "") for i in range(words)
    )
    paragraph = f"Short opening sentence. The list reads {body} and ends here. Short closing one."
    text = f"1 Long Sentences\n\n{paragraph}\n\n2 After\n\nA normal sentence follows.\n"
    start = text.index(paragraph)
    return make_doc("long.txt", text), start, start + len(paragraph)


@pytest.mark.slow
def test_600_word_sentence_is_split_not_truncated(real_embedder: Any) -> None:
    doc, start, end = long_sentence_doc()
    limit = real_embedder.max_tokens
    chunks = chunk(doc, ChunkSettings(), real_embedder.count_tokens, limit)
    inside = [c for c in chunks if start <= c.start and c.end <= end]
    assert len(inside) >= 3  # 600 words are well over 256 model tokens
    for c in chunks:
        assert real_embedder.count_tokens(embedding_text(c)) <= limit
        assert c.text == doc.text[c.start : c.end]
        assert c.section in (("1 Long Sentences",), ("2 After",))
    words_covered(doc.text, inside, start, end)
    spans = sorted(s for c in inside for s in c.sentences)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert "Short opening sentence." in [doc.text[a:b] for a, b in spans]
    assert "Short closing one." in [doc.text[a:b] for a, b in spans]
    # Pieces of the long sentence break at white space, never inside a word.
    for a, b in spans:
        assert a == start or doc.text[a - 1].isspace()
        assert b == end or doc.text[b].isspace() or doc.text[b - 1] in ".,"


def test_long_sentence_with_a_small_fake_limit() -> None:
    doc, start, end = long_sentence_doc(words=300)
    fake = HashingEmbedder(max_tokens=40)
    chunks = chunk(doc, ChunkSettings(), fake.count_tokens, fake.max_tokens)
    for c in chunks:
        assert fake.count_tokens(embedding_text(c)) <= 40
    words_covered(doc.text, chunks, start, end)
    assert len([c for c in chunks if start <= c.start and c.end <= end]) >= 300 // 40


def test_long_sentence_prefers_clause_breaks() -> None:
    """Five clauses: the middle of the sentence falls inside the third one, but the cut
    goes to the nearest comma instead."""
    clause = "the ministers discussed regional security and cooperation"
    text = "1 T\n\n" + ", ".join([clause] * 5).capitalize() + ".\n"
    fake = HashingEmbedder(max_tokens=30)
    chunks = chunk(make_doc("c.txt", text), ChunkSettings(), fake.count_tokens, fake.max_tokens)
    assert len(chunks) == 2
    assert text[chunks[0].end - 1] == ","  # the left piece ends with its clause
    assert chunks[1].text.startswith("the ministers")


def test_budget_without_a_model_limit() -> None:
    sentence = "Japan and the U.S. held talks on deterrence and cooperation in Tokyo."
    text = "1 Talks\n\n" + " ".join([sentence] * 60) + "\n"
    doc = make_doc("talks.txt", text)
    size = count_tokens(sentence)
    assert 16 <= size < 50
    for budget in (16, 50, 120, 400):
        chunks = chunk(doc, ChunkSettings(max_tokens=budget, overlap_sentences=0))
        for c in chunks:
            assert count_tokens(c.text) <= max(budget, size)
        for c in chunks[:-1]:  # packed greedily: the next sentence would not have fitted
            assert len(c.sentences) == 1 or len(c.sentences) * size + size > budget
            assert len(c.sentences) * size <= budget or len(c.sentences) == 1
        assert sum(len(c.sentences) for c in chunks) == 60


# -- overlap -------------------------------------------------------------------------------


def many_sentences(count: int = 40) -> Document:
    sentences = " ".join(f"Sentence number {n} talks about topic {n}." for n in range(count))
    return make_doc("many.txt", f"1 Section\n\n{sentences}\n")


@pytest.mark.parametrize("overlap", [0, 1, 2, 3])
def test_overlap_setting_is_respected(overlap: int) -> None:
    doc = many_sentences()
    chunks = chunk(doc, ChunkSettings(max_tokens=60, overlap_sentences=overlap))
    assert len(chunks) > 4
    for first, second in itertools.pairwise(chunks):
        shared = [s for s in first.sentences if s in second.sentences]
        assert len(shared) == overlap
        assert shared == list(first.sentences[len(first.sentences) - overlap :])
        assert shared == list(second.sentences[:overlap])
    all_sentences = split_sentences(doc.text, doc.text.index("Sentence number 0"))
    assert sorted({s for c in chunks for s in c.sentences}) == all_sentences


def test_overlap_is_dropped_when_it_leaves_no_room() -> None:
    sentence = "This sentence is written so that it is long enough to need a chunk of its own."
    doc = make_doc("big.txt", "1 S\n\n" + " ".join([sentence] * 6) + "\n")
    budget = count_tokens(sentence) + 5
    chunks = chunk(doc, ChunkSettings(max_tokens=budget, overlap_sentences=1))
    assert len(chunks) == 6
    assert all(len(c.sentences) == 1 for c in chunks)
    assert len({c.sentences for c in chunks}) == 6


def test_overlap_never_crosses_sections() -> None:
    text = "1 First\n\n" + "Alpha beta gamma. " * 20 + "\n\n2 Second\n\n" + "Delta epsilon. " * 20
    doc = make_doc("two.txt", text)
    chunks = chunk(doc, ChunkSettings(max_tokens=30, overlap_sentences=2))
    boundary = text.index("2 Second")
    for c in chunks:
        assert c.end <= boundary or c.start > boundary
        assert c.section == (("1 First",) if c.end <= boundary else ("2 Second",))


def test_chunks_prefer_paragraph_boundaries() -> None:
    first = " ".join(f"The first paragraph says thing {n}." for n in range(12))
    second = " ".join(f"The second paragraph says thing {n}." for n in range(12))
    text = f"1 Section\n\n{first}\n\n{second}\n"
    doc = make_doc("paras.txt", text)
    budget = count_tokens(first) + 30  # room for the first paragraph and part of the next
    chunks = chunk(doc, ChunkSettings(max_tokens=budget, overlap_sentences=0))
    assert chunks[0].text == first


@pytest.mark.parametrize(("tokens", "overlap"), [(15, 0), (200, -1)])
def test_invalid_chunk_settings(tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError, match=r"max_tokens|overlap"):
        ChunkSettings(max_tokens=tokens, overlap_sentences=overlap)


# -- footnotes when the host is split to fit the model ---------------------------------------


def footnote_doc(sentence_words: int = 20) -> Document:
    long_tail = " ".join(["further details of the agreement"] * (sentence_words // 5))
    text = (
        "1 Agreement\n\n"
        + "The parties met in Tokyo and talked at length. " * 6
        + f"They signed the accord on trade in goods {long_tail}.(1) "
        + "The accord entered into force in May. " * 6
        + "\n\n  • (1) The accord covers goods and services of both parties.\n"
    )
    return make_doc("accord.txt", text)


@pytest.mark.parametrize("sentence_words", [20, 400])
def test_footnote_links_survive_model_splitting(sentence_words: int) -> None:
    doc = footnote_doc(sentence_words)
    fake = HashingEmbedder(max_tokens=60)
    chunks = chunk(doc, ChunkSettings(max_tokens=400), fake.count_tokens, fake.max_tokens)
    assert len(chunks) > 3  # the paragraph had to be split for the small model
    by_id = {c.chunk_id: c for c in chunks}
    note = next(c for c in chunks if c.kind == "footnote")
    assert note.links
    marker = doc.text.index(".(1)") + 1
    hosts = {c.chunk_id for c in chunks if c.kind != "footnote" and c.start <= marker < c.end}
    assert set(note.links) == hosts
    for c in chunks:
        for target in c.links:
            assert target in by_id
            assert c.chunk_id in by_id[target].links
        assert fake.count_tokens(embedding_text(c)) <= fake.max_tokens
    assert "(1)" in note.context
    assert note.context.startswith("Footnote (1) to: ")


def test_footnote_without_its_marker_is_not_linked() -> None:
    text = "1 A\n\nNo marker in this text at all.\n\n  • (3) An orphan footnote.\n"
    chunks = chunk(make_doc("orphan.txt", text))
    note = next(c for c in chunks if c.kind == "footnote")
    assert note.links == ()
    assert note.context == ""
    assert all(c.links == () for c in chunks)


def test_enumeration_is_not_a_footnote_marker() -> None:
    text = "1 A\n\nThe plan has parts (1) and (2) only.\n\n  • (1) A real footnote.\n"
    chunks = chunk(make_doc("enum.txt", text))
    note = next(c for c in chunks if c.kind == "footnote")
    assert note.links == ()  # "(1)" after a space is an enumeration, not a marker


# -- ids and embedding text --------------------------------------------------------------------


def test_chunk_id_depends_on_document_offsets_and_text() -> None:
    base = make_chunk_id("a.txt", 0, 5, "hello")
    assert base == make_chunk_id("a.txt", 0, 5, "hello")
    assert re.fullmatch(r"[0-9a-f]{16}", base)
    assert len({
        base,
        make_chunk_id("b.txt", 0, 5, "hello"),
        make_chunk_id("a.txt", 1, 6, "hello"),
        make_chunk_id("a.txt", 0, 5, "hellp"),
    }) == 4


def test_chunk_ids_change_only_where_the_text_changes(chapter: Document) -> None:
    original = chunk(chapter)
    edited_text = chapter.text.replace("The EDD was established in 2010", "The EDD was established in 2011")
    assert edited_text != chapter.text
    edited = chunk(make_doc(chapter.doc_id, edited_text))
    position = chapter.text.index("established in 2010")
    assert len(original) == len(edited)
    for before, after in zip(original, edited, strict=True):
        if before.start <= position < before.end:
            assert before.chunk_id != after.chunk_id
        else:
            assert before.chunk_id == after.chunk_id
    assert len({c.chunk_id for c in original}) == len(original)


def test_embedding_text_carries_section_words_without_numbering() -> None:
    section = ("2 Japan-U.S. Security Arrangements", "(4) Host Nation Support (HNS)", "B Missile Defense")
    assert section_label(section) == (
        "Japan-U.S. Security Arrangements › Host Nation Support (HNS) › B Missile Defense"
    )
    assert section_label(("IV. Results", "3.2 Tables", "(b) Scope")) == "Results › Tables › Scope"
    c = Chunk("id", "d.txt", section, 0, 4, "Text", context="Footnote (1) to: X.")
    assert embedding_text(c) == f"{section_label(section)}\nFootnote (1) to: X.\nText"


def test_chunk_ids_stable_across_rebuilds(make_service: Any) -> None:
    files = {
        "a.txt": "1 Alpha\n\nThe alpha treaty was signed in 1990. It is short.\n",
        "b.md": "# Beta\n\nThe beta harbour opens at dawn.\n\n## Gamma\n\nGamma text here.\n",
    }
    service = make_service(files)

    def rebuilt() -> list[Chunk]:
        service.build()
        service.open(rebuild=False)
        chunks: list[Chunk] = service.loaded.index.chunks
        return chunks

    first = rebuilt()
    assert [c.chunk_id for c in rebuilt()] == [c.chunk_id for c in first]
    path = service.settings.corpus_dir / "b.md"
    path.write_text(files["b.md"].replace("dawn", "dusk"), encoding="utf-8")  # same length
    edited = rebuilt()
    assert len(edited) == len(first) == 3
    for old, new in zip(first, edited, strict=True):
        assert (old.chunk_id == new.chunk_id) == (old.text == new.text), new.text
    assert sum(old.text != new.text for old, new in zip(first, edited, strict=True)) == 1


def test_a_word_longer_than_the_model_limit_is_cut_not_the_document_skipped() -> None:
    """A web address of 600 tokens in one sentence: cut inside it (after a separator near
    the middle), so the document is indexed; every piece fits and nothing is lost."""
    from index.documents.structure import parse_blocks
    from index.records import Document
    from index.text.chunker import ChunkSettings, chunk_document

    url = "https://example.org/?q=" + "%7C".join(f"part{i}" for i in range(300))
    text = f"Title\n\nThe tool is at [the site]({url}) and it is free.\n"
    doc = Document(doc_id="long.txt", text=text, sha256="0")

    def tokens(s: str) -> int:
        return len(s) // 4

    chunks = chunk_document(doc, parse_blocks("long.txt", text), ChunkSettings(), tokens,
                            tokens, 256)
    assert chunks and all(tokens(c.text) <= 256 for c in chunks)
    assert "".join(text[s:e] for c in chunks if c.kind != "title" for s, e in c.sentences) \
        .replace(" ", "") == text.split("\n")[2].replace(" ", "")
