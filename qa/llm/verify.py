"""Check a model's answer against the passages it was given; never fuzzy.

A quote is found in the passage it names when it appears there exactly once white space is
collapsed and curly quote marks are made straight; it then becomes a citation whose offsets
are the document's, and whose ``quote`` is the document's own text there. The answer is
verified when it has at least one quote, every quote is found, and every number and every
name in it is in a found quote. Numbers are runs of digits; names are capitalised words that
do not open a sentence, words in capitals and words with a capital inside -- found by their
shape, never by a list of names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa.llm.records import ModelAnswer, ModelQuote, Source, Verdict
from qa.records import Citation

MIN_QUOTE_WORDS = 3  # a shorter quote ("in 2010") checks too little of an answer

PageSpan = Callable[[str, int, int], tuple[int | None, int | None]]

_QUOTE_MARKS = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"',
                              "‘": "'", "’": "'", "‚": "'", "‛": "'", "`": "'"})
_NUMBER = re.compile(r"\d+(?:[.,/:]\d+)*")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_OPENERS = "\"'“‘«([{ \t"
_SENTENCE_ENDS = ".!?\n"
_LIST_MARK = re.compile(r"(?:^|\n)\s*(?:[-*•]|\d+[.)])$")


def normalise(text: str) -> tuple[str, list[int]]:
    """``text`` with white-space runs as one space and straight quote marks, and for each
    character of the result the offset in ``text`` it comes from."""
    out: list[str] = []
    origin: list[int] = []
    for at, char in enumerate(text.translate(_QUOTE_MARKS)):
        if char.isspace():
            if out and out[-1] == " ":
                continue
            char = " "
        out.append(char)
        origin.append(at)
    return "".join(out), origin


def locate(quote: str, source: Source) -> tuple[int, int] | None:
    """The document offsets of ``quote`` in the text ``source`` showed, or None."""
    wanted = normalise(quote)[0].strip(" ")
    if not wanted:
        return None
    shown, origin = normalise(source.text)
    at = shown.find(wanted)
    if at < 0:
        return None
    base = source.passage.start
    return base + origin[at], base + origin[at + len(wanted) - 1] + 1


def numbers(text: str) -> set[str]:
    """The numbers in ``text``, thousands separators dropped ("1,500" -> "1500")."""
    return {m.group().replace(",", "") for m in _NUMBER.finditer(text)}


def names(text: str) -> set[str]:
    """The words of ``text`` shaped like names (see the module docstring)."""
    found = set()
    for m in _WORD.finditer(text):
        word = _base_word(m.group())
        if len(word) < 2 or not any(c.isupper() for c in word):
            continue
        inner_capital = any(c.isupper() for c in word[1:])
        if inner_capital or not _opens_sentence(text, m.start()):
            found.add(word)
    return found


def _base_word(word: str) -> str:
    """The word without a possessive ending ("Minister's" -> "Minister")."""
    return re.sub(r"['’]s$", "", word)


def _opens_sentence(text: str, at: int) -> bool:
    before = text[:at].rstrip(_OPENERS)
    return not before or before[-1] in _SENTENCE_ENDS or bool(_LIST_MARK.search(before))


def check(answer: ModelAnswer, sources: Sequence[Source], pages: PageSpan) -> Verdict:
    """Find every quote of ``answer`` in its passage and every fact of it in the quotes.

    Args:
        answer: the model's answer (not None) and quotes.
        sources: the passages the prompt showed, numbered from 1.
        pages: the PDF pages of a document span (``LoadedIndex.page_span``).

    Returns:
        The citations of the found quotes, and the reason the answer fails (None: verified).
    """
    if not answer.quotes:
        return Verdict((), "the model gave no quote")
    citations: list[Citation] = []
    for n, quote in enumerate(answer.quotes, 1):
        found = _citation(quote, sources, pages)
        if isinstance(found, str):
            return Verdict(tuple(citations), f"quote {n} {found}")
        if found not in citations:
            citations.append(found)
    return Verdict(tuple(citations), _missing_fact(answer.answer or "", citations))


def _citation(quote: ModelQuote, sources: Sequence[Source],
              pages: PageSpan) -> Citation | str:
    """The citation of a quote, or why there is none (a phrase after "quote n")."""
    if not 1 <= quote.passage <= len(sources):
        return (f"names passage {quote.passage}, but passages 1-{len(sources)} were given")
    if len(quote.text.split()) < MIN_QUOTE_WORDS:
        return f"is shorter than {MIN_QUOTE_WORDS} words: {quote.text!r}"
    source = sources[quote.passage - 1]
    span = locate(quote.text, source)
    if span is None:
        shown = " ".join(quote.text.split())
        return f"is not in passage {quote.passage}: {shown[:160]!r}"
    start, end = span
    p = source.passage
    return Citation(p.doc_id, p.chunk_id, p.section, start, end,
                    p.text[start - p.start:end - p.start], p.score,
                    *pages(p.doc_id, start, end), source="model")


def _missing_fact(answer: str, citations: Sequence[Citation]) -> str | None:
    """Why a number or name of the answer is unsupported, or None when all are quoted."""
    quoted = " ".join(normalise(c.quote)[0] for c in citations)
    quoted_numbers = numbers(quoted)
    for number in sorted(numbers(answer)):
        if number not in quoted_numbers:
            return f"the number {number!r} in the answer is in no quote"
    quoted_words = {_base_word(w).casefold() for w in _WORD.findall(quoted)}
    for name in sorted(names(normalise(answer)[0])):
        if name.casefold() not in quoted_words:
            return f"the name {name!r} in the answer is in no quote"
    return None
