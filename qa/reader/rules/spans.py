"""English patterns for dates, quantities and money (with general units and currencies),
and the titles that precede a person's name. Names of people, places and organisations
come from the NLP pipeline's entities, not from patterns here.
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
    r"metres?|tons?|tonnes?|percent|per\s+cent|%|years?|months?|weeks?|days?|hours?|"
    r"minutes?|people|persons)"
)
QUANTITY = re.compile(
    rf"{_APPROX}(?:\d[\d,]*(?:\.\d+)?|\b(?:{_NUMBER_WORDS})\b){_SCALE}(?:\s*{_UNIT}\b)?",
    re.I,
)
# Titles that stand before a name ("Minister X", "Secretary of State Y"); English words only.
TITLES = (
    r"(?:(?:Vice |Deputy |Prime |Chief |Foreign |Defen[cs]e )?(?:President|Minister|"
    r"Secretary(?: of (?:the )?[A-Z][a-z]+)?)|Ambassador|(?:Lieutenant )?General|Admiral|"
    r"Colonel|Commander|Chairman|Governor|Mayor|Senator|Mr\.|Ms\.|Mrs\.|Dr\.|Professor|King|"
    r"Queen|Emperor|Chancellor)"
)


@dataclass(frozen=True)
class Span:
    """A candidate answer span inside a text."""

    start: int
    end: int
    kind: str

    def text(self, source: str) -> str:
        """The span's characters."""
        return source[self.start : self.end]


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A span without the spaces, quotes and punctuation at its edges."""
    while start < end and (text[start] in " \n\t,;:“\"'" or (
            text[start] == "(" and ")" not in text[start:end])):
        start += 1
    while end > start and text[end - 1] in " \n\t,;:)”\"'.":
        if text[end - 1] == "." and re.search(r"\b(?:[A-Z]\.)+$", text[start:end]):
            break  # keep the period of "U.K." or "N.Z."
        if text[end - 1] == ")" and text[start:end].count("(") >= text[start:end].count(")"):
            break  # keep a closing bracket whose opening one is inside: "Long Form (ACR)"
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
        a, b = trim_span(text, a, b)
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
    return spans
