"""Structure-aware chunking: whole sentences, never across a section boundary.

Paragraph-like blocks of one section are packed sentence by sentence up to a token
budget (cl100k_base tokens), preferring to break between paragraphs, with an overlap of
whole sentences between neighbouring chunks. Footnotes, captions, figure titles and the
front matter become chunks of their own. Every chunk is checked against the embedding
model's own token limit and split further if needed, so nothing is silently truncated.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from index.records import Block, Chunk, Document
from index.sentences import split_sentences

PACKABLE = frozenset({"paragraph", "byline", "item"})
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

    titles = [b for b in blocks if b.kind == "title"]
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
    chunks = _link_footnotes(doc, blocks, chunks)
    if model_tokens is not None and model_limit is not None:
        chunks = [piece for c in chunks for piece in _fit_model(doc, c, model_tokens, model_limit)]
    return chunks


def _single(doc: Document, start: int, end: int, section: tuple[str, ...], kind: str) -> Chunk:
    text = doc.text[start:end]
    spans = tuple(split_sentences(doc.text, start, end))
    return Chunk(
        make_chunk_id(doc.doc_id, start, end, text),
        doc.doc_id,
        section,
        start,
        end,
        text,
        kind,
        spans,
    )


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
        text = doc.text[start:end]
        spans = tuple((s, e) for s, e, _ in sentences[a:b])
        result.append(
            Chunk(
                make_chunk_id(doc.doc_id, start, end, text),
                doc.doc_id,
                section,
                start,
                end,
                text,
                kind,
                spans,
            )
        )
    return result


def _link_footnotes(doc: Document, blocks: list[Block], chunks: list[Chunk]) -> list[Chunk]:
    """Tie each footnote to the nearest earlier chunk whose text carries its marker."""
    by_id = {c.chunk_id: c for c in chunks}
    order = [c.chunk_id for c in chunks]
    for note in (c for c in chunks if c.kind == "footnote"):
        block = next((b for b in blocks if b.kind == "footnote" and b.start == note.start), None)
        if block is None or not block.marker:
            continue
        number = re.sub(r"\D", "", block.marker)
        marker = re.compile(_MARKER.format(n=number))
        host = None
        for cid in reversed(order[: order.index(note.chunk_id)]):
            candidate = by_id[cid]
            if candidate.kind != "footnote" and marker.search(candidate.text):
                host = candidate
                break
        if host is None:
            continue
        hit = marker.search(doc.text, host.start, host.end)
        assert hit is not None
        sentence = next(
            (doc.text[s:e] for s, e in host.sentences if s <= hit.start() < e), host.text
        )
        by_id[note.chunk_id] = _replace(
            by_id[note.chunk_id],
            context=f"Footnote {block.marker} to: {sentence}",
            section=host.section,
            links=(host.chunk_id,),
        )
        by_id[host.chunk_id] = _replace(
            by_id[host.chunk_id], links=(*by_id[host.chunk_id].links, note.chunk_id)
        )
    return [by_id[cid] for cid in order]


def _replace(chunk: Chunk, **changes: object) -> Chunk:
    from dataclasses import replace

    return replace(chunk, **changes)  # type: ignore[arg-type]


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
        sub = _replace(
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
    """Halve an over-long sentence at the clause break (; or ,) nearest its middle."""
    start, end = span
    middle = (start + end) // 2
    breaks = [m.end() for m in re.finditer(r"[;,]\s|\s", text[start:end])]
    if not breaks:
        return [span]
    cut = start + min(breaks, key=lambda b: abs(start + b - middle))
    left_end = cut
    while left_end > start and text[left_end - 1].isspace():
        left_end -= 1
    return [(start, left_end), (cut, end)]
