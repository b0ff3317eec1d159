"""Fold text to its plain form for the NLP pipeline and word matching, keeping offsets.

Published documents carry no-break spaces, soft hyphens, zero-width characters and curly
quotes. A reader sees ``Pre\u00adsident`` as *President*; tokenisers and taggers do not. ``fold``
gives the plain form and, for every character of it, the offset of the character it came
from, so anything found in the folded text maps back onto the original exactly.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Same-length replacements: one character for one.
_REPLACE = {
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ", "\u3000": " ",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-",
}


def _dropped(char: str) -> bool:
    """Format characters (soft hyphen, zero-width space/joiners, BOM) carry no text."""
    return unicodedata.category(char) == "Cf"


def fold(text: str) -> tuple[str, list[int]]:
    """The plain form of a text and the original offset of each of its characters.

    Args:
        text: the original text.

    Returns:
        ``(folded, origin)`` where ``origin[i]`` is the offset in ``text`` of
        ``folded[i]``, and ``origin[len(folded)] == len(text)``.
    """
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        if _dropped(char):
            continue
        out.append(_REPLACE.get(char, char))
        origin.append(i)
    origin.append(len(text))
    return "".join(out), origin


@lru_cache(maxsize=16384)
def fold_plain(text: str) -> str:
    """Only the plain form (for matching words, where offsets are not needed)."""
    if text.isascii():
        return text
    return "".join(_REPLACE.get(c, c) for c in text if not _dropped(c))


def clean_question(text: str) -> str:
    """A question as typed, NFKC-normalised, without format characters, trimmed."""
    plain = fold_plain(unicodedata.normalize("NFKC", text))
    return unicodedata.normalize("NFKC", " ".join(plain.split()))


def has_content(question: str) -> bool:
    """Whether a question keeps a letter or a digit once cleaned (``clean_question``).

    Questions of punctuation, spaces or zero-width characters alone have nothing to look for.
    """
    return any(c.isalnum() for c in clean_question(question))
