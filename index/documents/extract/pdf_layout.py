"""The layout rules of PDF text (see ``index.documents.extract.pdf``): running lines, paragraphs,
line-end hyphens, headings by outline or by type."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from index.documents.extract.records import LINE_BREAK

MARGIN = 0.12  # the top and bottom bands where running headers and footers are looked for
_PAGE_NUMBER = re.compile(r"^(page\s*)?\d{1,5}(\s*(/|of)\s*\d{1,5})?$", re.IGNORECASE)


@dataclass(frozen=True)
class Line:
    """One text line of a page, with what the layout says about it."""

    text: str
    top: float  # distance of the line's top from the page top, as a share of the height
    bottom: float
    size: float
    bold: bool
    box: int
    left: float = 0.0  # x of the line's left and right edges, in points
    right: float = 0.0
    first_word: float = 0.0  # width of its first word plus a space, in points
    column: int = 0  # its column, left to right; -1 for a line across a gutter
    edge: float = 0.0  # the right edge of its column's text, in points (see ``arrange``)


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def outline_levels(outline: list[tuple[int, str]], paragraphs: list[str]) -> dict[int, int]:
    """Paragraph position -> heading level, for paragraphs that are outline titles."""
    pending: dict[str, list[int]] = {}
    for level, title in outline:
        pending.setdefault(_key(title), []).append(min(max(level, 1), 6))
    found: dict[int, int] = {}
    for position, text in enumerate(paragraphs):
        levels = pending.get(_key(text))
        if levels:
            found[position] = levels.pop(0)
    return found


def running_lines(pages: list[list[Line]]) -> set[tuple[int, int]]:
    """(page, line) positions of running headers, footers and page numbers."""
    def key(line: Line) -> tuple[str, int]:  # same words (digits aside), same height
        return re.sub(r"\d+", "#", line.text).strip().lower(), round(line.top * 100)

    def in_margin(line: Line) -> bool:
        return line.top < MARGIN or line.bottom > 1 - MARGIN

    seen = Counter(k for lines in pages for k in {key(x) for x in lines if in_margin(x)})
    needed = max(2, (len(pages) + 1) // 2)
    return {
        (p, i)
        for p, lines in enumerate(pages)
        for i, line in enumerate(lines)
        if in_margin(line) and (seen[key(line)] >= needed or _PAGE_NUMBER.match(line.text))
    }


def gutters(lines: list[Line]) -> list[tuple[float, float]]:
    """The gutters between columns of text: x ranges no line crosses but a few (a title
    across the columns), with at least two lines of prose (20 characters or more) on
    either side — so a table of short cells or a page number beside a line makes none."""
    prose = [x for x in lines if len(x.text) >= 20]
    if len(prose) < 6:
        return []
    found: list[tuple[float, float]] = []
    start = None
    for x in range(int(min(x.left for x in lines)), int(max(x.right for x in lines)) + 1):
        left = sum(1 for line in prose if line.right <= x)
        right = sum(1 for line in prose if line.left >= x)
        across = sum(1 for line in lines if line.left < x < line.right)
        is_gutter = min(left, right) >= 2 and across * 3 <= left + right
        if is_gutter and start is None:
            start = x
        elif not is_gutter and start is not None:
            found.append((start, x - 1))
            start = None
    return found


def arrange(lines: list[Line]) -> list[Line]:
    """A page's lines in reading order, each with its column and its column's right edge.

    On a page in columns (``gutters``), the text boxes are read column by column, left to
    right, within each band between the boxes that cross a gutter (a title over the
    columns), top to bottom. Without gutters pdfminer's order stays.
    """
    middles = [(a + b) / 2 for a, b in gutters(lines)]

    def column_of(line: Line) -> int:
        if any(line.left < x < line.right for x in middles):
            return -1
        return sum(1 for x in middles if line.left >= x)

    box_column: dict[int, int] = {}  # a box is in a column when all its lines are
    for line in lines:
        box_column[line.box] = min(box_column.get(line.box, 1 << 30), column_of(line))
    placed = [replace(x, column=box_column[x.box]) for x in lines]
    edges: dict[int, float] = {}
    for line in placed:
        edges[line.column] = max(edges.get(line.column, 0.0), line.right)
    page_edge = max(edges.values(), default=0.0)
    placed = [replace(x, edge=edges[x.column] if x.column >= 0 else page_edge) for x in placed]
    if not middles:
        return placed
    ordered: list[Line] = []
    band: list[list[Line]] = []
    by_box: dict[int, list[Line]] = {}
    for line in placed:
        by_box.setdefault(line.box, []).append(line)
    for box in sorted(by_box.values(), key=lambda b: b[0].top):
        if box[0].column < 0:
            ordered += [x for b in sorted(band, key=lambda b: b[0].column) for x in b]
            band = []
            ordered += box
        else:
            band.append(box)
    return ordered + [x for b in sorted(band, key=lambda b: b[0].column) for x in b]


def paragraphs(lines: list[Line]) -> list[list[Line]]:
    """Lines grouped into paragraphs: same box, same size and weight."""
    groups: list[list[Line]] = []
    for line in lines:
        last = groups[-1][-1] if groups else None
        if last and last.box == line.box and last.size == line.size and last.bold == line.bold:
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def join_lines(texts: list[str], vocabulary: Counter[str]) -> str:
    """One paragraph from its lines: spaces between, line-end hyphenation undone."""
    out = ""
    for text in texts:
        if not out:
            out = text
            continue
        if out.endswith("\u00ad"):
            out = out[:-1] + text
            continue
        tail = re.match(r"(\w+)", text)
        if out.endswith(("-", "\u2010")) and len(out) > 1 and not out[-2].isspace() and tail:
            head = re.search(r"(\w+)\W$", out)
            keep = not text[0].islower() or head is None or (
                vocabulary[f"{head.group(1)}-{tail.group(1)}".lower()]
                > vocabulary[(head.group(1) + tail.group(1)).lower()])
            out = out + text if keep else out[:-1] + text
            continue
        out = f"{out} {text}"
    return out


def forced_break(line: Line, following: Line, right_edge: float) -> bool:
    """Whether ``line`` ends before the column's right edge by more than the first word of
    ``following`` needs: the line was broken on purpose, not wrapped."""
    return following.first_word > 0 and right_edge - line.right > following.first_word + 1.0


def join_paragraph(lines: list[Line], vocabulary: Counter[str], right_edge: float) -> str:
    """The paragraph's text: wrapped lines joined (``join_lines``), lines broken on purpose
    kept apart by ``LINE_BREAK``. ``right_edge``: the right edge of the page's text."""
    runs: list[list[str]] = [[]]
    for position, line in enumerate(lines):
        runs[-1].append(line.text)
        if position + 1 < len(lines) and forced_break(line, lines[position + 1], right_edge):
            runs.append([])
    return LINE_BREAK.join(join_lines(run, vocabulary) for run in runs)


def body_size(pages: list[list[Line]]) -> float:
    """The font size most characters of the document have."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def heading_levels(paragraphs: list[list[Line]], body: float) -> dict[float | str, int]:
    """Heading level by font size (``"bold"`` for bold body-size headings)."""
    sizes = sorted({p[0].size for p in paragraphs if p[0].size >= body * 1.12}, reverse=True)
    levels: dict[float | str, int] = {s: min(i + 1, 6) for i, s in enumerate(sizes)}
    levels["bold"] = min(len(sizes) + 1, 6)
    return levels


def heading_level(group: list[Line], text: str, body: float,
                   levels: dict[float | str, int]) -> int | None:
    size = group[0].size
    if size >= body * 1.12:
        return levels.get(size)
    short = len(group) == 1 and len(text) <= 160 and not text.endswith((".", ",", ";", ":"))
    if group[0].bold and short and abs(size - body) < body * 0.12:
        return levels["bold"]
    return None
