"""Structure parsing: the real chapter's sections, front matter, column, figure, footnotes
and captions; synthetic plain-text and Markdown documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from index.documents.corpus import decode_document
from index.documents.structure import is_doubled, looks_like_title, numbering_style, parse_blocks
from index.records import SECTION_SEPARATOR, Block, Chunk, Document
from index.text.chunker import ChunkSettings, chunk_document
from index.text.tokens import count_tokens

CHAPTER = Path(__file__).resolve().parents[1] / "corpus" / (
    "diplomatic-bluebook-2025-ch3-japan-us-security.txt"
)
TOP = "2 Japan-U.S. Security Arrangements"
S1 = "(1) Overview of Japan-U.S. Security Relationship"
S2 = "(2) Japan-U.S. Security and Defense Cooperation in Various Fields"
S3 = "(3) Realignment of U.S. Forces in Japan"
S4 = "(4) Host Nation Support (HNS)"
S5 = "(5) Various Issues Related to the Presence of the U.S. Forces in Japan"
S6 = "(6) The United Nations Forces and U.S. Forces in Japan"
COLUMN = (
    "Sowing the “SEED” for the Future of Japan and the U.S. ─ "
    "Japan-U.S. Exchange Programs through English (SEED/TOFU)"
)
SA = "A An Overview of Japan-U.S. Security and Defense Cooperation"
FIGURE = "Realignment of USFJ – An Overview"


def path(*parts: str) -> str:
    return SECTION_SEPARATOR.join(parts)


EXPECTED_HEADINGS = [
    (TOP, path(TOP)),
    (S1, path(TOP, S1)),
    (S2, path(TOP, S2)),
    (SA, path(TOP, S2, SA)),
    ("B Missile Defense", path(TOP, S2, "B Missile Defense")),
    ("C Cyberspace", path(TOP, S2, "C Cyberspace")),
    ("D Space", path(TOP, S2, "D Space")),
    ("E Information Security", path(TOP, S2, "E Information Security")),
    (S3, path(TOP, S3)),
    (S4, path(TOP, S4)),
    (S5, path(TOP, S5)),
    (COLUMN, path(TOP, S5, COLUMN)),
    (S6, path(TOP, S6)),
]


def text_of(text: str, block: Block) -> str:
    return text[block.start : block.end]


@pytest.fixture(scope="module")
def blocks(chapter_text: str) -> list[Block]:
    return parse_blocks(CHAPTER.name, chapter_text)


def block_starting(text: str, blocks: list[Block], prefix: str) -> Block:
    found = [b for b in blocks if text_of(text, b).startswith(prefix)]
    assert len(found) == 1, prefix
    return found[0]


# -- the real chapter: sections ---------------------------------------------------------


def test_heading_paths_of_the_chapter(chapter_text: str, blocks: list[Block]) -> None:
    headings = [
        (text_of(chapter_text, b), SECTION_SEPARATOR.join(b.section))
        for b in blocks
        if b.kind == "heading"
    ]
    assert headings == EXPECTED_HEADINGS


@pytest.mark.parametrize(
    ("prefix", "section"),
    [
        ("Under the security environment surrounding Japan", (TOP, S1)),
        ("The EDD was established in 2010", (TOP, S2, SA)),
        ("Discussions on extended deterrence", (TOP, S2, SA)),
        ("Japan has been making steady efforts", (TOP, S2, "B Missile Defense")),
        ("In light of the necessity for cross-governmental", (TOP, S2, "C Cyberspace")),
        ("Japan and the U.S. are continuing to advance space", (TOP, S2, "D Space")),
        ("Information security plays a crucial role", (TOP, S2, "E Information Security")),
        ("In particular, the return of lands in Okinawa", (TOP, S3)),
        ("With a view to ensuring the effective operations", (TOP, S4)),
        ("MOFA is implementing various initiatives", (TOP, S5)),
        ("The Ministry of Foreign Affairs (MOFA) conducts", (TOP, S5, COLUMN)),
        ("Such investments in future generations", (TOP, S5, COLUMN)),
        ("Coincident with the start of the Korean War", (TOP, S6)),
    ],
)
def test_paragraph_sections(
    chapter_text: str, blocks: list[Block], prefix: str, section: tuple[str, ...]
) -> None:
    position = chapter_text.index(prefix)
    block = next(b for b in blocks if b.start <= position < b.end)
    assert block.section == section
    assert block.kind == "paragraph"


def test_front_matter(chapter_text: str, blocks: list[Block]) -> None:
    titles = [b for b in blocks if b.kind == "title"]
    assert [text_of(chapter_text, b) for b in titles] == [
        "Diplomatic Bluebook 2025",
        "Chapter 3",
        "Japan's Foreign Policy to Promote National and Global Interests",
    ]
    assert all(b.section == () for b in titles)
    assert blocks[: len(titles)] == titles  # the document opens with them


def test_column_is_a_subsection_of_5_that_ends_at_6(
    chapter_text: str, blocks: list[Block]
) -> None:
    column = block_starting(chapter_text, blocks, "Sowing the “SEED”")
    six = block_starting(chapter_text, blocks, S6)
    assert column.kind == "heading"
    inside = [b for b in blocks if column.start < b.start < six.start]
    assert {b.kind for b in inside} == {"paragraph", "byline", "caption"}
    assert all(b.section[:3] == (TOP, S5, COLUMN) for b in inside)
    # The byline scopes the first-person account after it, up to the first photo caption.
    account = "TAKAHASHI Ryo, second year student at the Yokosuka School for the Deaf"
    scoped = [b for b in inside if len(b.section) == 4]
    assert scoped and all(b.section[3] == account for b in scoped)
    assert [b.kind for b in scoped] == ["byline", "paragraph", "paragraph", "paragraph", "paragraph"]
    assert chapter_text[scoped[1].start :].startswith("I participated in the SEED project")
    assert all(len(b.section) == 3 for b in inside if b.kind == "caption")
    assert all(len(b.section) == 3 for b in inside if b.start > scoped[-1].end)
    after = [b for b in blocks if b.start > six.start]
    assert after and all(COLUMN not in b.section for b in after)
    before = [b for b in blocks if b.start < column.start and S5 in b.section]
    assert before and all(b.section == (TOP, S5) for b in before if b.kind != "heading")
    byline = block_starting(chapter_text, blocks, "■TAKAHASHI Ryo")
    assert byline.kind == "byline"
    assert byline.section == (TOP, S5, COLUMN, account)


def test_figure_title(chapter_text: str, blocks: list[Block]) -> None:
    figures = [b for b in blocks if b.kind == "figure"]
    assert [text_of(chapter_text, b) for b in figures] == [FIGURE]
    assert figures[0].section == (TOP, S3)
    assert all(FIGURE not in b.section for b in blocks)  # a figure opens no section


def test_footnote_blocks(chapter_text: str, blocks: list[Block]) -> None:
    notes = [b for b in blocks if b.kind == "footnote"]
    assert [(b.marker, text_of(chapter_text, b)[:30]) for b in notes] == [
        ("(1)", "• (1) Providing deterrence tha"),
        ("(2)", "• (2) In this context, “ship-t"),
    ]
    assert notes[0].section == (TOP, S2, SA)
    assert notes[1].section == (TOP, S6)
    assert text_of(chapter_text, notes[0]).endswith("from its ally, the U.S..")


def doubled_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line the source repeats twice, glued together."""
    out, position = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if is_doubled(body.strip()):
            offset = position + len(body) - len(body.lstrip())
            out.append((offset, offset + len(body.strip())))
        position += len(line)
    return out


def test_captions_cover_the_first_copy_only(chapter_text: str, blocks: list[Block]) -> None:
    lines = doubled_lines(chapter_text)
    assert len(lines) == 4
    captions = [b for b in blocks if b.kind == "caption"]
    assert [(b.start, b.end) for b in captions] == [(a, (a + b) // 2) for a, b in lines]
    assert text_of(chapter_text, captions[0]) == (
        "Takahashi receiving a completion certificate as the representative of the "
        "participating students (November 3, Yokosuka City, Kanagawa Prefecture)"
    )


def test_blocks_cover_every_character_once(chapter_text: str, blocks: list[Block]) -> None:
    """Every visible character belongs to exactly one block, except the second copies of
    the doubled captions, which belong to none."""
    owner: dict[int, int] = {}
    for number, block in enumerate(blocks):
        assert chapter_text[block.start : block.end] == chapter_text[block.start : block.end].strip()
        for i in range(block.start, block.end):
            assert i not in owner
            owner[i] = number
    second_copies = {i for a, b in doubled_lines(chapter_text) for i in range((a + b) // 2, b)}
    for i, char in enumerate(chapter_text):
        if not char.isspace():
            assert (i in owner) != (i in second_copies), (i, chapter_text[i - 20 : i + 20])


# -- the real index: footnote links and captions -----------------------------------------


@pytest.fixture(scope="module")
def index_chunks(real_service: Any) -> list[Chunk]:
    chunks: list[Chunk] = real_service.loaded.index.chunks
    return chunks


@pytest.mark.slow
@pytest.mark.parametrize(
    ("note_prefix", "anchor"),
    [("• (1) Providing deterrence", "extended deterrence.(1)"), ("• (2) In this", "transfers(2)")],
)
def test_footnote_links_both_ways(
    index_chunks: list[Chunk], note_prefix: str, anchor: str
) -> None:
    by_id = {c.chunk_id: c for c in index_chunks}
    notes = [c for c in index_chunks if c.kind == "footnote" and c.text.startswith(note_prefix)]
    assert len(notes) == 1
    note = notes[0]
    hosts = {c.chunk_id for c in index_chunks if c.kind != "footnote" and anchor in c.text}
    assert hosts, anchor
    assert set(note.links) == hosts
    for chunk in index_chunks:
        assert (note.chunk_id in chunk.links) == (chunk.chunk_id in hosts), chunk.text[:60]
    for host_id in note.links:
        assert by_id[host_id].section == note.section
    marker = anchor[-3:]
    assert note.context.startswith(f"Footnote {marker} to: ")
    assert anchor in note.context
    assert note.text.startswith(note_prefix)


@pytest.mark.slow
def test_every_link_names_an_existing_chunk(index_chunks: list[Chunk]) -> None:
    by_id = {c.chunk_id: c for c in index_chunks}
    links = [(c.chunk_id, target) for c in index_chunks for target in c.links]
    assert links
    for source, target in links:
        assert target in by_id
        assert source in by_id[target].links  # links go both ways


@pytest.mark.slow
def test_captions_indexed_once(chapter_text: str, index_chunks: list[Chunk]) -> None:
    for start, end in doubled_lines(chapter_text):
        caption = chapter_text[start : (start + end) // 2]
        holding = [c for c in index_chunks if caption in c.text]
        assert len(holding) == 1, caption
        assert holding[0].kind == "caption"
        assert (holding[0].start, holding[0].end) == (start, (start + end) // 2)
    for chunk in index_chunks:
        assert not any(
            chunk.text.count(chapter_text[a : (a + b) // 2]) > 1 or chapter_text[a:b] in chunk.text
            for a, b in doubled_lines(chapter_text)
        )


@pytest.mark.slow
def test_index_front_matter_and_figure_chunks(
    chapter_text: str, index_chunks: list[Chunk]
) -> None:
    titles = [c for c in index_chunks if c.kind == "title"]
    assert len(titles) == 1
    assert (titles[0].start, titles[0].end) == (0, chapter_text.index("\n\n2 Japan-U.S."))
    assert titles[0].section == ()
    figures = [c for c in index_chunks if c.kind == "figure"]
    assert [(c.text, c.section_path) for c in figures] == [(FIGURE, path(TOP, S3))]
    column = [c for c in index_chunks if c.section[2:3] == (COLUMN,)]
    assert {c.kind for c in column} == {"paragraph", "caption"}
    account = [c for c in column if len(c.section) == 4]
    assert account and account[0].text.startswith("■TAKAHASHI Ryo")
    assert all(c.section[3].startswith("TAKAHASHI Ryo") for c in account)


# -- line classification -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "style"),
    [
        ("2 Japan-U.S. Security Arrangements", "number"),
        ("(4) Host Nation Support (HNS)", "paren_number"),
        ("B Missile Defense", "letter"),
        ("IV. Final Remarks", "roman"),
        ("3.2 Results and Discussion", "dotted_number"),
        ("(b) Scope of Work", "paren_letter"),
        ("2 Japan and the U.S. agreed to this.", None),
        ("In 2024, Japan continued", None),
        ("A number of issues were raised by the committee members today", None),
    ],
)
def test_numbering_style(line: str, style: str | None) -> None:
    assert numbering_style(line) == style


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (FIGURE, True),
        ("Diplomatic Bluebook 2025", True),
        ("Japan's Foreign Policy to Promote National and Global Interests", True),
        ("The two leaders concurred to strengthen deterrence.", False),
        ("while the committee met in the afternoon", False),
        ("", False),
    ],
)
def test_looks_like_title(line: str, expected: bool) -> None:
    assert looks_like_title(line) is expected


# -- synthetic documents ----------------------------------------------------------------


def chunks_of(doc_id: str, text: str, **settings: int) -> tuple[Document, list[Chunk]]:
    doc = decode_document(doc_id, text.encode("utf-8"))
    assert isinstance(doc, Document)
    chunks = chunk_document(
        doc, parse_blocks(doc_id, text), ChunkSettings(**settings), count_tokens
    )
    return doc, chunks


def sections_by_text(text: str, blocks: list[Block]) -> dict[str, tuple[str, ...]]:
    return {text_of(text, b): b.section for b in blocks if b.kind != "heading"}


MARKDOWN = """# User Guide

Read this first.

## Installing ##

Run the installer. It takes a minute.

### On Linux

Use the package manager.

```bash
# not a heading, a shell comment

make install
```

## Usage

- first item
- second item
  continues here
1. numbered one
2) numbered two

Wrapped paragraph line one
and line two.
"""


def test_markdown_nested_headings() -> None:
    blocks = parse_blocks("guide.md", MARKDOWN)
    headings = [(text_of(MARKDOWN, b), b.section) for b in blocks if b.kind == "heading"]
    assert headings == [
        ("# User Guide", ("User Guide",)),
        ("## Installing ##", ("User Guide", "Installing")),
        ("### On Linux", ("User Guide", "Installing", "On Linux")),
        ("## Usage", ("User Guide", "Usage")),
    ]
    sections = sections_by_text(MARKDOWN, blocks)
    assert sections["Read this first."] == ("User Guide",)
    assert sections["Run the installer. It takes a minute."] == ("User Guide", "Installing")
    assert sections["Use the package manager."] == ("User Guide", "Installing", "On Linux")
    assert sections["- first item"] == ("User Guide", "Usage")


def test_markdown_code_fence_is_one_block_without_headings() -> None:
    blocks = parse_blocks("guide.md", MARKDOWN)
    fence = [b for b in blocks if text_of(MARKDOWN, b).startswith("```bash")]
    assert len(fence) == 1
    body = text_of(MARKDOWN, fence[0])
    assert body.endswith("```")
    assert "# not a heading" in body and "make install" in body
    assert fence[0].section == ("User Guide", "Installing", "On Linux")
    assert not any("not a heading" in "".join(b.section) for b in blocks)


def test_markdown_lists_and_wrapped_paragraphs() -> None:
    blocks = parse_blocks("guide.md", MARKDOWN)
    texts = [text_of(MARKDOWN, b) for b in blocks if b.kind != "heading"]
    assert "- first item" in texts
    assert "- second item\n  continues here" in texts
    assert "1. numbered one" in texts
    assert "2) numbered two" in texts
    assert "Wrapped paragraph line one\nand line two." in texts


def test_markdown_chunks_keep_sections_and_offsets() -> None:
    doc, chunks = chunks_of("guide.md", MARKDOWN)
    assert chunks
    for chunk in chunks:
        assert chunk.text == doc.text[chunk.start : chunk.end]
        assert chunk.section[0] == "User Guide"
    linux = [c for c in chunks if "package manager" in c.text]
    assert linux[0].section_path == path("User Guide", "Installing", "On Linux")


def test_hard_wrapped_plain_text_is_one_paragraph() -> None:
    text = (
        "1 Introduction\n\n"
        "In 2020 the two governments signed\n"
        "A Memorandum of Cooperation on Defense Equipment\n"
        "and technology transfer. It took effect in 2021.\n\n"
        "2 Results\n"
        "The results were good.\n"
    )
    blocks = parse_blocks("memo.txt", text)
    assert [(b.kind, text_of(text, b)) for b in blocks] == [
        ("heading", "1 Introduction"),
        (
            "paragraph",
            "In 2020 the two governments signed\nA Memorandum of Cooperation on Defense "
            "Equipment\nand technology transfer. It took effect in 2021.",
        ),
        ("heading", "2 Results"),
        ("paragraph", "The results were good."),
    ]
    assert blocks[1].section == ("1 Introduction",)
    assert blocks[3].section == ("2 Results",)
    _, chunks = chunks_of("memo.txt", text)
    assert any(c.text.startswith("In 2020 the two governments signed\nA Memorandum") for c in chunks)


def test_plain_text_without_headings() -> None:
    text = "The first paragraph has two sentences. Here is the second.\n\nA second paragraph.\n"
    blocks = parse_blocks("notes.txt", text)
    assert [b.kind for b in blocks] == ["paragraph", "paragraph"]
    assert all(b.section == () for b in blocks)
    _, chunks = chunks_of("notes.txt", text)
    assert [c.text for c in chunks] == [
        "The first paragraph has two sentences. Here is the second.\n\nA second paragraph."
    ]
    assert chunks[0].section == ()


def test_unnumbered_headings_without_any_numbered_one() -> None:
    """Title-case lines after the body has begun open sections; only the opening run of
    titles is front matter (and the front-matter chunk holds nothing else)."""
    text = (
        "Annual Report On Things\n\n"
        "The intro says hello. It is short.\n\n"
        "Second Part\n\n"
        "More text here. And more.\n\n"
        "Closing Remarks\n\n"
        "Bye now.\n"
    )
    blocks = parse_blocks("report.txt", text)
    assert [(b.kind, text_of(text, b), b.section) for b in blocks] == [
        ("title", "Annual Report On Things", ()),
        ("paragraph", "The intro says hello. It is short.", ()),
        ("heading", "Second Part", ("Second Part",)),
        ("paragraph", "More text here. And more.", ("Second Part",)),
        ("heading", "Closing Remarks", ("Closing Remarks",)),
        ("paragraph", "Bye now.", ("Closing Remarks",)),
    ]
    _, chunks = chunks_of("report.txt", text)
    assert [(c.kind, c.text, c.section) for c in chunks] == [
        ("title", "Annual Report On Things", ()),
        ("paragraph", "The intro says hello. It is short.", ()),
        ("paragraph", "More text here. And more.", ("Second Part",)),
        ("paragraph", "Bye now.", ("Closing Remarks",)),
    ]


def test_heading_after_a_finished_sentence_without_blank_line() -> None:
    text = "1 Introduction\nThis is text.\n2 Methods\nMore text.\n"
    blocks = parse_blocks("a.txt", text)
    assert [(b.kind, text_of(text, b)) for b in blocks] == [
        ("heading", "1 Introduction"),
        ("paragraph", "This is text."),
        ("heading", "2 Methods"),
        ("paragraph", "More text."),
    ]


def test_file_without_sentence_punctuation() -> None:
    text = "alpha beta gamma\ndelta epsilon zeta\n\neta theta iota kappa\n"
    blocks = parse_blocks("words.txt", text)
    assert [(b.kind, text_of(text, b)) for b in blocks] == [
        ("paragraph", "alpha beta gamma\ndelta epsilon zeta"),
        ("paragraph", "eta theta iota kappa"),
    ]
    doc, chunks = chunks_of("words.txt", text)
    covered = {i for c in chunks for a, b in c.sentences for i in range(a, b)}
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered
    assert all(c.text == doc.text[c.start : c.end] for c in chunks)


def test_markdown_with_headings_only_still_has_a_chunk() -> None:
    text = "# Only A Heading\n\n## And A Subheading\n"
    _, chunks = chunks_of("only.md", text)
    assert [(c.kind, c.text, c.section) for c in chunks] == [
        ("heading", "# Only A Heading", ("Only A Heading",)),
        ("heading", "## And A Subheading", ("Only A Heading", "And A Subheading")),
    ]


def test_plain_text_footnote_and_caption() -> None:
    caption = "Ministers at the signing ceremony (May 1, Tokyo)"
    text = (
        "1 Treaty\n\n"
        "The treaty was signed in May.(1) It entered into force later.\n\n"
        f"{caption}{caption}\n\n"
        "  • (1) The treaty on friendship and trade.\n"
    )
    blocks = parse_blocks("t.txt", text)
    kinds = [(b.kind, text_of(text, b)) for b in blocks]
    assert ("caption", caption) in kinds
    assert ("footnote", "• (1) The treaty on friendship and trade.") in kinds
    _, chunks = chunks_of("t.txt", text)
    note = next(c for c in chunks if c.kind == "footnote")
    host = next(c for c in chunks if "May.(1)" in c.text)
    assert note.links == (host.chunk_id,)
    assert host.links == (note.chunk_id,)
    assert sum(c.text.count(caption) for c in chunks) == 1


def test_crlf_line_endings_keep_offsets() -> None:
    text = "1 Intro\r\n\r\nFirst line of text.\r\nSecond line.\r\n\r\n2 Next\r\n\r\nMore.\r\n"
    blocks = parse_blocks("crlf.txt", text)
    assert [(b.kind, text_of(text, b)) for b in blocks] == [
        ("heading", "1 Intro"),
        ("paragraph", "First line of text.\r\nSecond line."),
        ("heading", "2 Next"),
        ("paragraph", "More."),
    ]


@pytest.mark.parametrize(
    ("doc_id", "text", "heading"),
    [("bom.md", "\ufeff# Résumé\n\nThe naïve approach.\n", "# Résumé"),
     ("bom.txt", "\ufeff1 Intro\n\nText here.\n", "1 Intro")],
)
def test_byte_order_mark_does_not_hide_the_first_heading(
    doc_id: str, text: str, heading: str
) -> None:
    blocks = parse_blocks(doc_id, text)
    assert (blocks[0].kind, text_of(text, blocks[0]), blocks[0].start) == ("heading", heading, 1)
    assert blocks[1].section == blocks[0].section != ()


def test_bullet_list_items_do_not_open_a_scope() -> None:
    text = "1 Title Here\n\nIntro paragraph.\n\n• first item\n• second item\n\nClosing paragraph.\n"
    from index.documents.structure import parse_blocks

    blocks = parse_blocks("list.txt", text)
    assert all(b.section == ("1 Title Here",) for b in blocks if b.kind != "heading")
