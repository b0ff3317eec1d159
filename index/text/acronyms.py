"""Acronyms defined in the documents, e.g. ``Harbor Dredging Board (HDB)``.

The table is built from the corpus at index time, so query expansion works for any
document, not only the default chapter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DEFINITION = re.compile(r"\(([A-Z][A-Za-z0-9&\-]{1,11})\)")
_SKIP = frozenset({"a", "an", "the", "of", "and", "for", "on", "in", "to", "at", "by", "with", "&"})


def _letters(acronym: str) -> str:
    """Upper-case letters of an acronym, a plural 's' dropped (``HDBs`` -> ``HDB``)."""
    base = acronym[:-1] if acronym.endswith("s") and acronym[:-1].isupper() else acronym
    return "".join(ch for ch in base if ch.isalpha()).upper()


def _initials(word: str) -> str:
    """Initials a word contributes: ``Lake-Side`` -> ``LS``, ``Lyon-U.K.`` -> ``LU``."""
    parts = [p for p in re.split(r"[-/]", word) if p]
    return "".join(p[0].upper() for p in parts if p[0].isalpha())


def match_long_form(words: list[str], acronym: str) -> str | None:
    """Find the shortest run of words before the acronym whose initials spell it.

    Args:
        words: the words preceding the parenthesis, nearest last.
        acronym: the acronym as written.

    Returns:
        The long form, or None when no run of preceding words spells the acronym.
    """
    target = _letters(acronym)
    if len(target) < 2:
        return None
    for take in range(1, min(len(words), len(target) + 4) + 1):
        run = words[-take:]
        if run[0].lower() in _SKIP:
            continue
        spelled = "".join(_initials(w) for w in run if w.lower() not in _SKIP)
        full = "".join(_initials(w) for w in run)
        if target in (spelled, full) or (
            len(target) >= 3
            and (spelled.endswith(target) or full.endswith(target))
            and take >= len(target) - 1
            and (spelled.startswith(target[0]) or full.startswith(target[0]))
        ):
            return " ".join(w.strip("“”\"'(),") for w in run)
    return None


def schwartz_hearst(short: str, candidate: str) -> str | None:
    """Schwartz & Hearst (2003): the shortest tail of ``candidate`` that spells ``short``.

    Each character of the acronym must appear in order, right to left, and its first
    character must start a word (``polyvinyl chloride`` -> ``PVC``).
    """
    s_index = len(short) - 1
    l_index = len(candidate) - 1
    while s_index >= 0:
        char = short[s_index].lower()
        if not char.isalnum():
            s_index -= 1
            continue
        while l_index >= 0 and (
            candidate[l_index].lower() != char
            or (s_index == 0 and l_index > 0 and candidate[l_index - 1].isalnum())
        ):
            l_index -= 1
        if l_index < 0:
            return None
        l_index -= 1
        s_index -= 1
    start = candidate.rfind(" ", 0, l_index + 1) + 1
    long_form = candidate[start:].strip(" ,;:")
    if len(long_form.split()) < 1 or len(long_form) <= len(short):
        return None
    return long_form


def extract_acronyms(texts: Iterable[str]) -> dict[str, str]:
    """Acronym -> long form for every ``Long Form (ACR)`` definition in the texts.

    Args:
        texts: document texts.

    Returns:
        A table keyed by the acronym without a plural ``s``; the first definition wins.
    """
    table: dict[str, str] = {}
    for text in texts:
        for match in _DEFINITION.finditer(text):
            acronym = match.group(1)
            if not any(ch.isupper() for ch in acronym[1:]) and len(acronym) > 3:
                continue  # a capitalised word in brackets, not an acronym
            before = text[max(0, match.start() - 200) : match.start()]
            found = list(_WORD.finditer(before))
            words = [m.group(0) for m in found]
            long_form = match_long_form(words, acronym)
            if long_form is None:
                key_letters = _letters(acronym)
                window = words[-min(len(key_letters) + 5, len(key_letters) * 2) :]
                long_form = schwartz_hearst(key_letters, " ".join(window))
            key = acronym[:-1] if acronym.endswith("s") and acronym[:-1].isupper() else acronym
            if long_form and key not in table:
                table[key] = _with_suspended_prefix(before, _as_written(before, found, long_form))
        for match in _LABEL.finditer(text):
            acronym, long_form = match.group(1), match.group(2).strip()
            key = acronym[:-1] if acronym.endswith("s") and acronym[:-1].isupper() else acronym
            if key not in table and _spells(long_form, acronym):
                table[key] = long_form
    return table


# A programme labelled with its acronym: “GROW: Gardens Rising On the Waterfront”.
_LABEL = re.compile(r"[“\"]([A-Z][A-Z0-9&-]{1,11}):\s+([A-Z][^”\"\n:;]{3,120})[”\"]")


def _spells(long_form: str, acronym: str) -> bool:
    """Whether the initials of the long form's words spell the acronym in order, the
    first word giving its first letter (words may be skipped: ``Gardens Rising On
    the Waterfront`` spells GROW)."""
    letters = _letters(acronym)
    initials = [w[0].upper() for w in long_form.split() if w[0].isalpha()]
    if not letters or not initials or initials[0] != letters[0] or len(initials) > 2 * len(letters) + 3:
        return False
    position = 0
    for letter in letters:
        while position < len(initials) and initials[position] != letter:
            position += 1
        if position == len(initials):
            return False
        position += 1
    return True


def _with_suspended_prefix(before: str, long_form: str) -> str:
    """Add a suspended hyphen's first half: ``per- and polyfluoroalkyl substances``."""
    at = before.rfind(long_form.split()[0])
    match = re.search(r"\b[A-Za-z]+-\s+(?:and|or)\s+$", before[:at]) if at > 0 else None
    return f"{' '.join(before[match.start() : at].split())} {long_form}" if match else long_form


_WORD = re.compile(r"[\w][\w.\-/’']*")


def _as_written(before: str, found: list[re.Match[str]], long_form: str) -> str:
    """The long form as the text writes it, punctuation between its words kept
    (``Parks, Gardens and Trails``), white space collapsed."""
    first = found[-len(long_form.split())]
    written = " ".join(before[first.start() : found[-1].end()].split())
    return written.strip("“”\"'(),;:")
