"""A larger real-text corpus made from the chapter's own sentences, shuffled and recombined.

Each generated document is Markdown: a title, sections whose headings are borrowed
from the chapter, and paragraphs of 3-6 sentences drawn at random. Documents are
added until the real chunker says the corpus holds the wanted number of chunks.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

from index.documents.structure import parse_blocks
from index.records import Document
from index.text.chunker import ChunkSettings, chunk_document
from index.text.sentences import split_sentences
from index.text.tokens import count_tokens

_HEADING = re.compile(r"^\(\d{1,2}\)\s+(\S.*)$|^[A-Z]\s+([A-Z].*)$", re.MULTILINE)


def chapter_parts(text: str) -> tuple[list[str], list[str]]:
    """The chapter's sentences (longer than 40 characters) and its section headings."""
    sentences = [
        text[a:b].replace("\n", " ")
        for a, b in split_sentences(text)
        if b - a > 40 and "\n\n" not in text[a:b]
    ]
    headings = [m.group(1) or m.group(2) for m in _HEADING.finditer(text)]
    return sentences, headings or ["Section"]


def make_document(
    number: int, sentences: list[str], headings: list[str], rng: random.Random
) -> str:
    """One Markdown document of 3-5 sections, 2-4 paragraphs each."""
    lines = [f"# Generated report {number}", ""]
    for _ in range(rng.randint(3, 5)):
        lines += [f"## {rng.choice(headings)}", ""]
        for _ in range(rng.randint(2, 4)):
            lines += [" ".join(rng.sample(sentences, rng.randint(3, 6))), ""]
    return "\n".join(lines)


def count_chunks(doc_id: str, text: str) -> int:
    """Chunks the index would make of a document (default chunk settings)."""
    doc = Document(doc_id, text, "")
    return len(chunk_document(doc, parse_blocks(doc_id, text), ChunkSettings(), count_tokens))


def write_corpus(
    chapter: Path, dest: Path, chunks: int, seed: int = 0, sample: int = 20
) -> tuple[int, int]:
    """Write generated documents into ``dest``: about ``chunks`` chunks in all.

    The chunks per document are counted with the real chunker on the first ``sample``
    documents; the rest are written to the estimated total (the build reports the count).

    Returns:
        (documents written, estimated chunks).
    """
    sentences, headings = chapter_parts(chapter.read_bytes().decode("utf-8"))
    rng = random.Random(seed)
    dest.mkdir(parents=True, exist_ok=True)
    counted = documents = 0
    wanted = sample
    while documents < wanted:
        name = f"report-{documents:05d}.md"
        text = make_document(documents, sentences, headings, rng)
        (dest / name).write_text(text, encoding="utf-8")
        documents += 1
        if documents <= sample:
            counted += count_chunks(name, text)
            if counted >= chunks:
                break
            if documents == sample:
                wanted = math.ceil(chunks / (counted / sample))
    per_document = counted / min(documents, sample)
    return documents, round(per_document * documents)
