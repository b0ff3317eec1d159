"""Definition questions and where the text answers them.

``defined_acronym`` and ``defined_term`` find what a question asks to spell out or
explain; ``definition_span`` finds the long form written before ``(ACR)`` (or after
``ACR:``), and ``term_definition`` what the text says a term ``refers to``, a glossary
line, or the footnote whose marker follows the term.
"""

from __future__ import annotations

import re

from qa.reader.rules.phrase_tokens import clause_end, phrase_span, token_at, tokenize
from qa.reader.rules.spans import Span

_DEFINITION_QUESTION = re.compile(
    r"\b(?:what|which)\b.*?\b(?:does|do|did|is|was)\s+(?:the\s+)?"
    r"(?:abbreviation\s+|acronym\s+|initialism\s+|term\s+)?[“\"']?([A-Z][A-Za-z0-9&-]{1,11})[”\"']?\s+"
    r"(?:stand|mean|refer|short)\b"
    r"|\b(?:full|long|expanded|spelled-out)\s+(?:form|name|title)\s+(?:of|for)\s+(?:the\s+)?"
    r"(?:abbreviation\s+|acronym\s+)?[“\"']?([A-Z][A-Za-z0-9&-]{1,11})",
    re.I,
)


def defined_acronym(question: str, acronyms: dict[str, str]) -> str | None:
    """The acronym a question asks to spell out (``What does HDB stand for?``), if the
    corpus defines it."""
    match = _DEFINITION_QUESTION.search(question)
    if not match:
        return None
    asked = match.group(1) or match.group(2)
    for key in (asked, asked[:-1]):
        if key in acronyms:
            return key
    return None


def definition_span(text: str, acronym: str, long_form: str) -> Span | None:
    """Where ``text`` writes ``Long Form (ACR`` or ``ACR: Long Form``: the long form's span."""
    pattern = r"\s+".join(re.escape(w) for w in long_form.split())
    match = re.search(rf"{pattern}\s*\(\s*{re.escape(acronym)}", text, re.I)
    if not match:
        label = re.search(rf"\b{re.escape(acronym)}:\s+({pattern})", text)
        return Span(label.start(1), label.end(1), "definition") if label else None
    words = re.match(pattern, text[match.start() :], re.I)
    assert words is not None
    return Span(match.start(), match.start() + words.end(), "definition")


_TERM_QUESTION = re.compile(
    r"\bwhat\s+(?:does|do|did|is)\s+(?:the\s+)?(?:term\s+|phrase\s+|word\s+|expression\s+)?"
    r"[“\"']?(?P<a>[^?“”\"']{2,60}?)[”\"']?\s+(?:mean|refer\s+to|denote)\b"
    r"|\bwhat\s+is\s+meant\s+by\s+(?:the\s+)?(?:term\s+)?[“\"']?(?P<b>[^?“”\"']{2,60}?)[”\"']?"
    r"(?=\s+(?:in|under|according)\b|\s*\?)"
    r"|\bdefin(?:e|es|ed|ition\s+of)\s+(?:the\s+)?(?:term\s+)?[“\"']?(?P<c>[^?“”\"']{2,60}?)[”\"']?"
    r"(?=\s+(?:in|under|according|as)\b|\s*\?)"
    r"|\bwhat\s+counts\s+as\s+(?:an?\s+|the\s+)?[“\"']?(?P<d>[^?“”\"']{2,60}?)[”\"']?"
    r"(?=\s+(?:in|under|for|according)\b|\s*\?)",
    re.I,
)
_PRONOUNS = frozenset("it this that these those them they he she".split())
_DEFINING_VERB = r"(?:refers?\s+to|means|is\s+defined\s+as|denotes|is\s+understood\s+as)"


def defined_term(question: str) -> str | None:
    """The term a question asks the meaning of (``What does "harbor dredging"
    mean?``, ``What counts as a ship-to-ship transfer?``), or None."""
    match = _TERM_QUESTION.search(question)
    if not match:
        return None
    term = next(g for g in match.groups() if g)
    term = re.sub(r"^(?:the|a|an)\s+", "", term.strip(), flags=re.I)
    return term if term and term.lower() not in _PRONOUNS else None


def term_definition(text: str, term: str, context: str = "") -> Span | None:
    """Where ``text`` defines ``term``: ``“term” refers to [...]``, a glossary line
    ``term: [...]``, or a footnote (``(1) [...]``) whose marker follows the term in the
    sentence it annotates (``context``, as the chunker records it)."""
    words = r"\s+".join(re.escape(w) for w in term.split())
    name = rf"[“\"']?{words}(?:e?s)?[”\"']?"
    tokens = tokenize(text)

    def clause_from(offset: int) -> Span | None:
        i = token_at(tokens, offset)
        return None if i is None else phrase_span(text, tokens, i, clause_end(text, tokens, i, lists=True, bare_and=True))

    match = re.search(rf"{name}\s+{_DEFINING_VERB}\s+", text, re.I) or re.match(
        rf"[\W_]*(?:\(\d+\)\s*)?{name}\s*:\s+", text, re.I)
    if match:
        return clause_from(match.end())
    marker = re.match(r"[\W_]*\((\d+)\)\s*", text)
    if marker and context and re.search(rf"{words}(?:e?s)?[”\"']?[.,]?\({marker.group(1)}\)", context, re.I):
        end = len(text.rstrip(" ."))
        return Span(marker.end(), end, "definition") if end > marker.end() else None
    return None
