"""Sentence boundaries with character offsets, tuned for formal English prose.

A rule-based splitter: a sentence ends at ``.``, ``!`` or ``?`` (plus closing quotes or
brackets and an optional footnote marker such as ``(1)``) followed by white space and an
upper-case letter, digit, quote or bracket -- unless the word before the period is an
abbreviation (``Dr.``, ``No.``), an initial (``Marie C. Dupont``) or a dotted acronym
(``U.K.``, ``N.Z.``). A dotted acronym still ends a sentence when the next word can only
open one (``...from the U.K. Recognizing that...``), and a numbering abbreviation
(``No.``, ``Art.``) only holds when a number follows it.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    ["mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "cmdr", "adm", "sgt", "cpl", "pvt", "rev", "hon", "sen", "rep", "gov", "pres", "st", "mt", "ft", "jr", "sr", "co", "corp", "inc", "ltd", "no", "nos", "vol", "vols", "fig", "figs", "pp", "para", "art", "arts", "sec", "dept", "univ", "approx", "est", "etc", "vs", "cf", "al", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "a.m", "p.m"]
)

_BOUNDARY = re.compile(
    r"""[.!?]+            # terminal punctuation
        [”"’'»)\]]*       # closing quotes or brackets
        (?:\(\d{1,3}\))?  # an optional footnote marker glued to the sentence
        (?=\s+[“"‘'«(\[A-Z0-9■•])  # white space, then something that can open a sentence
    """,
    re.VERBOSE,
)
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
# Abbreviations that are also ordinary words ("said no.", "modern art."): only an
# abbreviation when a number follows ("No. 5", "Art. 9", "Art. V").
NUMBERING_ABBREVIATIONS = frozenset(
    ["no", "nos", "art", "arts", "vol", "vols", "fig", "figs", "sec", "para", "pp"]
)
_NUMBER_AFTER = re.compile(r"\s+(?:\d|[IVXLC]+\b)")
# Words that open a sentence but never continue a name such as "U.K. Harbor Agency".
SENTENCE_OPENERS = frozenset(
    ["the", "this", "these", "that", "those", "it", "its", "they", "we", "he", "she", "there", "in", "on", "at", "as", "for", "from", "with", "by", "to", "after", "before", "during", "since", "while", "when", "if", "although", "however", "furthermore", "moreover", "meanwhile", "also", "additionally", "therefore", "thus", "such", "both", "each", "based", "regarding", "through", "following", "recognizing", "thereafter", "accordingly", "nevertheless"]
)
_NEXT_WORD = re.compile(r"\s+[“\"‘']?([A-Za-z]+)")


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the period at ``dot`` ends an abbreviation rather than a sentence."""
    if dot + 1 < len(text) and text[dot + 1] == ".":
        return False  # "the U.K.." -- an acronym and a full stop
    match = _WORD_BEFORE.search(text, max(0, dot - 64), dot)
    if not match:
        return False
    word = match.group(1)
    if len(word) == 1 and word.isupper():
        return True  # an initial: "Marie C. Dupont"
    if "." in word:  # a dotted acronym: "U.K.", "N.Z.", "J.R."
        after = _NEXT_WORD.match(text, dot + 1)
        return not (after and after.group(1).lower() in SENTENCE_OPENERS)
    if word.lower() in NUMBERING_ABBREVIATIONS:
        return _NUMBER_AFTER.match(text, dot + 1) is not None
    return word.lower() in ABBREVIATIONS


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into sentences.

    Args:
        text: the whole document text (offsets stay absolute).
        start: where the span begins.
        end: where the span ends (defaults to the end of the text).

    Returns:
        (start, end) offsets of each sentence, stripped of surrounding white space, in order;
        together they cover every non-space character of the span.
    """
    stop = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, stop):
        first_dot = match.start()
        if text[first_dot] == "." and _is_abbreviation(text, first_dot) and match.group(0) == ".":
            continue
        spans.append((cursor, match.end()))
        cursor = match.end()
    spans.append((cursor, stop))
    return [s for s in (_strip(text, a, b) for a, b in spans) if s[1] > s[0]]


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
