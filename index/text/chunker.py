"""Structure-aware chunking: whole sentences, never across a section boundary.

Paragraph-like blocks of one section are packed sentence by sentence up to a token
budget (cl100k_base tokens), preferring to break between paragraphs, with an overlap of
whole sentences between neighbouring chunks. Footnotes, captions, figure titles and the
front matter become chunks of their own. Every chunk is checked against the embedding
model's own token limit and split further if needed, so nothing is silently truncated;
footnotes are linked only after that split, so every link names a chunk that exists.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from index.records import Block, Chunk, Document
from index.text.sentences import split_sentences

PACKABLE = frozenset({"paragraph", "byline", "item"})
# "(4) ", "(b) ", "IV. ", "3.2 ". A bare letter ("B Harbor Dredging") stays: it cannot be told
# from a word ("A Tale of ..."), and dropping it measured no better on the gold set.
_NUMBER_PREFIX = re.compile(
    r"^(?:\(\d{1,2}\)|\(?[A-Za-z]\)|[IVX]{1,5}\.|\d{1,2}(?:\.\d{1,2})*\.?)\s+"
)
_MARKER = r"(?<=[^\s(])\({n}\)"


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into chunks.

    Attributes:
        max_tokens: token budget of a chunk's text (cl100k_base).
        overlap_sentences: sentences repeated at the start of the next chunk of a section.
    """

    max_tokens: int = 200
    overlap_sentences: int = 1

    def __post_init__(self) -> None:
        if self.max_tokens < 16:
            raise ValueError("max_tokens must be at least 16")
        if self.overlap_sentences < 0:
            raise ValueError("overlap_sentences must be 0 or more")


def make_chunk_id(doc_id: str, start: int, end: int, text: str) -> str:
    """A stable id from the document, the offsets and the content."""
    digest = hashlib.sha256(f"{doc_id}\x00{start}\x00{end}\x00{text}".encode()).hexdigest()
    return digest[:16]


def section_label(section: tuple[str, ...]) -> str:
    """Section path as words for embedding: numbering dropped, levels joined."""
    return " › ".join(_NUMBER_PREFIX.sub("", part) for part in section)


def embedding_text(chunk: Chunk) -> str:
    """The text the embedding model sees for a chunk: section, context, passage."""
    parts = [section_label(chunk.section), chunk.context, chunk.text]
    return "\n".join(p for p in parts if p)


def chunk_document(
    doc: Document,
    blocks: list[Block],
    settings: ChunkSettings,
    count_tokens: Callable[[str], int],
    model_tokens: Callable[[str], int] | None = None,
    model_limit: int | None = None,
) -> list[Chunk]:
    """Cut one document into chunks.

    Args:
        doc: the document.
        blocks: its blocks from ``parse_blocks``.
        settings: budget and overlap.
        count_tokens: the budget's token counter (cl100k_base).
        model_tokens: the embedding model's token counter, for the hard limit.
        model_limit: the model's maximum sequence length.

    Returns:
        Chunks in document order; footnotes are linked to the chunk carrying their marker.
    """
    chunks: list[Chunk] = []
    run: list[Block] = []

    def flush_run() -> None:
        if run:
            chunks.extend(_pack(doc, run, settings, count_tokens))
            run.clear()

    titles = _front_matter(blocks)
    if titles:
        chunks.append(_single(doc, titles[0].start, titles[-1].end, (), "title"))
    for block in blocks:
        if block.kind in ("title", "heading"):
            flush_run()
            continue
        if block.kind in PACKABLE:
            if run and run[-1].section != block.section:
                flush_run()
            run.append(block)
            continue
        flush_run()
        chunks.extend(_pack(doc, [block], settings, count_tokens, kind=block.kind))
    flush_run()
    if not chunks:  # a document of headings only: its headings are its content
        chunks = [_single(doc, b.start, b.end, b.section, "heading") for b in blocks]
    fits: Callable[[Chunk], bool] | None = None
    if model_tokens is not None and model_limit is not None:
        tokens, limit = model_tokens, model_limit

        def fits(chunk: Chunk) -> bool:
            return tokens(embedding_text(chunk)) <= limit

        chunks = [piece for c in chunks for piece in _fit_model(doc, c, tokens, limit)]
    return _link_footnotes(doc, blocks, chunks, fits)


def _front_matter(blocks: list[Block]) -> list[Block]:
    """The run of title blocks the document opens with."""
    titles: list[Block] = []
    for block in blocks:
        if block.kind != "title":
            break
        titles.append(block)
    return titles


def _single(doc: Document, start: int, end: int, section: tuple[str, ...], kind: str) -> Chunk:
    return _make_chunk(doc, start, end, section, kind, tuple(split_sentences(doc.text, start, end)))


def _make_chunk(
    doc: Document,
    start: int,
    end: int,
    section: tuple[str, ...],
    kind: str,
    spans: tuple[tuple[int, int], ...],
) -> Chunk:
    """A chunk over ``doc.text[start:end]`` with its stable id."""
    text = doc.text[start:end]
    return Chunk(make_chunk_id(doc.doc_id, start, end, text), doc.doc_id, section, start, end,
                 text, kind, spans)


def _pack(
    doc: Document,
    blocks: list[Block],
    settings: ChunkSettings,
    count_tokens: Callable[[str], int],
    kind: str = "paragraph",
) -> list[Chunk]:
    """Pack the sentences of consecutive blocks of one section into chunks."""
    sentences: list[tuple[int, int, int]] = []  # (start, end, block number)
    for number, block in enumerate(blocks):
        sentences.extend(
            (a, b, number) for a, b in split_sentences(doc.text, block.start, block.end)
        )
    if not sentences:
        return []
    sizes = [count_tokens(doc.text[a:b]) for a, b, _ in sentences]
    section = blocks[0].section
    groups: list[tuple[int, int]] = []  # sentence index ranges [i, j)
    i = 0
    while i < len(sentences):
        j, total = i, 0
        while j < len(sentences) and (j == i or total + sizes[j] <= settings.max_tokens):
            total += sizes[j]
            j += 1
        # Prefer ending at a paragraph boundary when the chunk is at least half full.
        if j < len(sentences) and sentences[j][2] == sentences[j - 1][2]:
            for cut in range(j - 1, i, -1):
                if sentences[cut][2] != sentences[cut - 1][2]:
                    if sum(sizes[i:cut]) >= settings.max_tokens // 2:
                        j = cut
                    break
        groups.append((i, j))
        if j >= len(sentences):
            break
        nxt = max(j - settings.overlap_sentences, i + 1)
        if sum(sizes[nxt : j + 1]) > settings.max_tokens:
            nxt = j  # the overlap would leave no room for new text: start fresh
        i = nxt
    result = []
    for a, b in groups:
        start, end = sentences[a][0], sentences[b - 1][1]
        spans = tuple((s, e) for s, e, _ in sentences[a:b])
        result.append(_make_chunk(doc, start, end, section, kind, spans))
    return result


def _link_footnotes(
    doc: Document,
    blocks: list[Block],
    chunks: list[Chunk],
    fits: Callable[[Chunk], bool] | None = None,
) -> list[Chunk]:
    """Tie each footnote to every chunk carrying its marker, nearest before it, both ways.

    The footnote chunk also gets the sentence with the marker as embedding context,
    shortened when needed so the chunk still fits the model (``fits``).
    """
    notes = [b for b in blocks if b.kind == "footnote" and b.marker]
    linked = list(chunks)
    for position, chunk in enumerate(chunks):
        if chunk.kind != "footnote":
            continue
        block = next((b for b in notes if b.start <= chunk.start and chunk.end <= b.end), None)
        if block is None or block.marker is None:
            continue
        found = _marker_hosts(doc, chunks, block)
        if found is None:
            continue
        hit, hosts = found
        host = chunks[hosts[0]]
        sentence = next(
            (doc.text[a:b] for a, b in host.sentences if a <= hit < b), host.text
        )
        note = replace(
            linked[position],
            section=host.section,
            links=tuple(chunks[i].chunk_id for i in hosts),
        )
        linked[position] = _with_context(note, block.marker, sentence, fits) or replace(
            linked[position], links=note.links
        )
        for i in hosts:
            linked[i] = replace(linked[i], links=(*linked[i].links, chunk.chunk_id))
    return linked


def _marker_hosts(
    doc: Document, chunks: list[Chunk], block: Block
) -> tuple[int, list[int]] | None:
    """The nearest marker of a footnote before it, and the chunks whose text holds it."""
    number = re.sub(r"\D", "", block.marker or "")
    marker = re.compile(_MARKER.format(n=number))
    for hit in reversed(list(marker.finditer(doc.text, 0, block.start))):
        hosts = [
            i
            for i, c in enumerate(chunks)
            if c.kind != "footnote" and c.start <= hit.start() and hit.end() <= c.end
        ]
        if hosts:
            return hit.start(), hosts
    return None


def _with_context(
    note: Chunk, marker: str, sentence: str, fits: Callable[[Chunk], bool] | None
) -> Chunk | None:
    """The footnote with the marked sentence as context, cut down to fit the model.

    Returns:
        The chunk with as much of the sentence as fits (words around the marker kept),
        or None when not even the bare chunk fits with the host's section.
    """
    words = sentence.split()
    anchor = next((n for n, w in enumerate(words) if marker in w), len(words) - 1)
    width = len(words)
    while True:
        first = max(0, min(anchor - (3 * width) // 4, len(words) - width))
        kept = " ".join(words[first : first + width])
        candidate = replace(note, context=f"Footnote {marker} to: {kept}" if kept else "")
        if fits is None or fits(candidate):
            return candidate
        if width == 0:
            return None
        width = (3 * width) // 4


def _fit_model(
    doc: Document, chunk: Chunk, model_tokens: Callable[[str], int], limit: int
) -> list[Chunk]:
    """Split a chunk until its embedding text fits the model; cut a sentence only as a last
    resort (a single sentence longer than the model's limit), at a clause boundary."""
    if model_tokens(embedding_text(chunk)) <= limit:
        return [chunk]
    spans = list(chunk.sentences)
    if len(spans) > 1:
        half = len(spans) // 2
        pieces = [spans[:half], spans[half:]]
    else:
        pieces = [
            [span]
            for span in _split_long_sentence(
                doc.text, spans[0] if spans else (chunk.start, chunk.end)
            )
        ]
        if len(pieces) < 2:
            raise ValueError(f"cannot fit a passage of {chunk.doc_id} into the model's limit")
    out: list[Chunk] = []
    for piece in pieces:
        start, end = piece[0][0], piece[-1][1]
        text = doc.text[start:end]
        sub = replace(
            chunk,
            chunk_id=make_chunk_id(doc.doc_id, start, end, text),
            start=start,
            end=end,
            text=text,
            sentences=tuple(piece),
        )
        out.extend(_fit_model(doc, sub, model_tokens, limit))
    return out


def _split_long_sentence(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """Halve an over-long sentence: at the clause break (``;`` or ``,``) nearest its middle
    when one lies in the middle half, else at the space nearest the middle."""
    start, end = span
    middle = (start + end) // 2
    body = text[start:end]
    clauses = [start + m.end() for m in re.finditer(r"[;,]\s+", body)]
    clauses = [b for b in clauses if abs(b - middle) <= (end - start) // 4]
    spaces = [start + m.end() for m in re.finditer(r"\s+", body) if m.end() < len(body)]
    breaks = clauses or spaces
    if not breaks:
        # one "word" longer than the model's limit (a long web address): cut inside it,
        # after a separator near the middle when there is one
        if end - start < 2:
            return [span]
        marks = [start + m.end() for m in re.finditer(r"[/&?=%#.,;:_-]", body)
                 if start + m.end() < end and abs(start + m.end() - middle) <= (end - start) // 4]
        cut = min(marks, key=lambda b: abs(b - middle)) if marks else middle
        return [(start, cut), (cut, end)]
    cut = min(breaks, key=lambda b: abs(b - middle))
    left_end = cut
    while left_end > start and text[left_end - 1].isspace():
        left_end -= 1
    return [(start, left_end), (cut, end)]
