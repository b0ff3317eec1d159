"""A small rule-based recogniser of answer spans: dates, quantities, money, people,
places, organisations and names. It works on any English text; nothing in it is
specific to one document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MONTH = rf"(?:{MONTHS})"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d{2}|20\d{2})"
DATE = re.compile(
    rf"""(?:
        {_MONTH}\s+{_DAY}(?:\s*(?:and|-|–|to)\s*{_DAY})?,?\s+{_YEAR}     # February 7, 2025
      | {_DAY}\s+{_MONTH},?\s+{_YEAR}                                  # 7 February 2025
      | {_MONTH}\s+{_DAY}(?:\s*(?:and|-|–|to)\s*{_DAY})?(?!\d)(?!,?\s*\d{4})   # December 14
      | {_MONTH},?\s+{_YEAR}                                           # April 2013
      | (?:FY|fiscal\s+year\s+){_YEAR}(?:\s*(?:-|–|to)\s*(?:FY)?{_YEAR})?   # FY1998 to FY1999
      | (?<![\w,.]){_YEAR}(?![\w])                                     # 2010
      | {_MONTH}                                                       # July
    )""",
    re.VERBOSE,
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    "fourteen|fifteen|twenty|thirty|forty|fifty|hundred|dozens?|several"
)
_SCALE = r"(?:\s+(?:hundred|thousand|million|billion|trillion))?"
_APPROX = r"(?:(?:approximately|about|around|roughly|nearly|almost|over|more than|less than|up to|some)\s+)?"
_CURRENCY = r"(?:yen|dollars?|euros?|pounds?|won|yuan)"
MONEY = re.compile(
    rf"{_APPROX}(?:[$¥€£]\s?\d[\d,]*(?:\.\d+)?{_SCALE}|\d[\d,]*(?:\.\d+)?{_SCALE}\s+{_CURRENCY})",
    re.I,
)
_UNIT = (
    r"(?:hectares?|acres?|square\s+kilometers?|km2?|kilometers?|kilometres?|miles?|meters?|"
    r"metres?|tons?|tonnes?|percent|per\s+cent|%|years?|months?|days?|hours?|people|persons|"
    r"personnel|troops|members|countries|locations|facilities|sites|students)"
)
QUANTITY = re.compile(
    rf"{_APPROX}(?:\d[\d,]*(?:\.\d+)?|\b(?:{_NUMBER_WORDS})\b){_SCALE}(?:\s*{_UNIT}\b)?",
    re.I,
)
_ORDINAL = re.compile(
    r"\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
    r"\d+(?:st|nd|rd|th))\b",
    re.I,
)
QUOTED = re.compile(r"“([^”]{2,120})”|\"([^\"]{2,120})\"")

_NAME_WORD = r"(?:[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*|[A-Z]\.|[A-Z]{2,}(?:-[A-Z]+)?|Mc[A-Z][a-z]+|La[A-Z][a-z]+|[A-Z][a-z]*[A-Z][a-z]+)"
_CONNECT = r"(?:(?:\s+(?:of|for|and|the|de))+\s+(?=[A-Z]))?"
CAPITALISED = re.compile(
    rf"{_NAME_WORD}(?:(?:\s+|{_CONNECT}\s*|,\s+(?=[A-Z][a-z]+\s+(?:Prefecture|City)))\s*{_NAME_WORD}|\s+\d+(?!\d)|-{_NAME_WORD})*"
)

TITLES = (
    "Prime Minister|President|Vice President|Foreign Minister|Defense Minister|Defence Minister|"
    "Minister|Secretary of State|Secretary of Defense|Secretary of the Army|Secretary|"
    "Chief Cabinet Secretary|Parliamentary Vice-Minister for Foreign Affairs|Ambassador|"
    "General|Admiral|Lt Gen\\.|Lieutenant General|Colonel|Commander|Chairman|Governor|"
    "Mayor|Senator|Mr\\.|Ms\\.|Mrs\\.|Dr\\.|Professor|King|Queen|Emperor|Chancellor"
)
# "TAKAHASHI Ryo", "Kishida FUMIO", "Charles A. Flynn"; a Roman numeral is not a surname
# ("Minuteman III").
PERSON = re.compile(
    r"\b(?:(?![IVXLC]+\b)[A-Z]{2,}\s+[A-Z][a-z]+|[A-Z][a-z]+\s+(?![IVXLC]+\b)[A-Z]{2,}\b"
    r"|[A-Z][a-z]+(?:\s+[A-Z]\.)+\s+[A-Z][a-zA-Z]+)"
)
_TITLE_ONLY = re.compile(
    rf"\b(?:{TITLES})\s+((?:[A-Z][a-zA-Z]+|[A-Z]\.)(?:\s+(?:[A-Z][a-zA-Z]+|[A-Z]\.|[A-Z]{{2,}}))*)"
)
# A place after a locative preposition; after a comma only a capitalised word continues it
# ("Cheyenne, Wyoming", "Washington, D.C."), not an acronym ("Yokota Air Base, UNC-R").
PLACE_HEAD = re.compile(
    r"\b(?:in|at|to|from|near|across|visited|visit to)\s+((?:the\s+)?[A-Z][\w.'’-]*"
    r"(?:(?:\s+(?:of\s+|the\s+)?|,\s+(?=D\.C\.|[A-Z][a-z]))(?:D\.C\.|[A-Z][\w.'’-]*))*)"
)
_PLACE_NOUNS = re.compile(
    r"\b(?:Base|Station|Camp|Prefecture|City|Island|Islands|Area|Port|Harbor|"
    r"Airport|Fleet Activities|Headquarters|School|University|Washington|Tokyo|"
    r"Seoul|Guam|Okinawa|Henoko|Cheyenne|Wyoming|D\.C\.)\b"
)
_NOT_NAMES = frozenset(
    {
        "The",
        "This",
        "These",
        "That",
        "In",
        "At",
        "On",
        "Furthermore",
        "However",
        "Also",
        "Based",
        "Under",
        "During",
        "Since",
        "While",
        "Regarding",
        "As",
        "Through",
        "With",
        "After",
        "Following",
        "Such",
        "Both",
        "I",
        "It",
        "Thereafter",
        "Despite",
        "Going",
        "To",
    }
)


_COMPOUND_MODIFIER = re.compile(r"[A-Z][\w.]*(?:-[A-Z][\w.]*)+")  # Japan-U.S., Japan-U.S.-Australia
_LOWER_NEXT = re.compile(r"\s+[a-z]")


@dataclass(frozen=True)
class Span:
    """A candidate answer span inside a text."""

    start: int
    end: int
    kind: str
    outer_start: int = -1  # where the span began before known words were trimmed off

    def __post_init__(self) -> None:
        if self.outer_start < 0:
            object.__setattr__(self, "outer_start", self.start)

    def text(self, source: str) -> str:
        """The span's characters."""
        return source[self.start : self.end]


def _trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " ,;:(“\"'":
        start += 1
    while end > start and text[end - 1] in " ,;:)”\"'.":
        if text[end - 1] == "." and re.search(r"\b(?:[A-Z]\.)+$", text[start:end]):
            break  # keep the period of "U.K." or "N.Z."
        end -= 1
    return start, end


def find_spans(text: str, kind: str) -> list[Span]:
    """Candidate spans of one answer type in a text.

    Args:
        text: the sentence (or any text).
        kind: one of ``qa.query.ANSWER_TYPES``.

    Returns:
        Spans in text order (possibly overlapping between patterns).
    """
    spans: list[Span] = []

    def add(a: int, b: int) -> None:
        a, b = _trim_span(text, a, b)
        if b > a:
            spans.append(Span(a, b, kind))

    if kind == "date":
        for m in DATE.finditer(text):
            add(m.start(), m.end())
    elif kind == "money":
        for m in MONEY.finditer(text):
            add(m.start(), m.end())
    elif kind == "quantity":
        for m in QUANTITY.finditer(text):
            if DATE.fullmatch(m.group(0).strip()) and re.fullmatch(
                r"\s*" + _YEAR + r"\s*", m.group(0)
            ):
                continue  # a bare year is a date, not a count
            add(m.start(), m.end())
        for m in MONEY.finditer(text):
            add(m.start(), m.end())
    elif kind == "person":
        for m in _TITLE_ONLY.finditer(text):
            add(m.start(), m.end())
        for m in PERSON.finditer(text):
            add(m.start(), m.end())
    elif kind == "place":
        for m in PLACE_HEAD.finditer(text):
            if not DATE.fullmatch(m.group(1).rstrip(".,")):  # "in August" is a time
                add(m.start(1), m.end(1))
        for m in CAPITALISED.finditer(text):
            if _PLACE_NOUNS.search(m.group(0)):
                add(m.start(), m.end())
    elif kind in ("name", "organization"):
        for m in QUOTED.finditer(text):
            add(m.start(), m.end())
        for m in CAPITALISED.finditer(text):
            words = m.group(0).split()
            if DATE.fullmatch(m.group(0)) or len(m.group(0)) < 3:
                continue  # "April 2013" is a date, not a name
            if _COMPOUND_MODIFIER.fullmatch(m.group(0)) and _LOWER_NEXT.match(text, m.end()):
                continue  # "Japan-U.S.-Australia command post exercise": a modifier
            if words[0] not in _NOT_NAMES or len(words) > 1:
                add(m.start(), m.end())
    return [t for t in (_drop_openers(text, s) for s in spans) if t is not None]


def _drop_openers(text: str, span: Span) -> Span | None:
    """Trim words that only open a sentence ("Since FY", "The ..."); drop what is left empty
    or a lone capitalised word that merely starts the sentence."""
    start, end = span.start, span.end
    while True:
        match = re.match(r"(\w+)\s+", text[start:end])
        if not match or match.group(1) not in _NOT_NAMES:
            break
        start += match.end()
    word = text[start:end]
    if not word.strip() or word in _NOT_NAMES:
        return None
    if span.kind in ("name", "organization") and start == 0 and " " not in word and not word.isupper():
        return None
    return Span(start, end, span.kind)


def ordinal_spans(text: str) -> list[Span]:
    """Ordinals such as ``9th`` or ``first``."""
    return [Span(m.start(), m.end(), "quantity") for m in _ORDINAL.finditer(text)]
