"""No name from a corpus document in the code: rules are English, names come from the documents.

A name is what the project's spaCy pipeline finds in the documents it answers from: a word of
an entity (person, place, organisation, nationality, event, law, work, product) or a token
tagged as a proper noun. Every such word of three or more characters with a letter in it must
not appear in the source under ``index/`` or ``qa/`` (code, comments, docstrings and JSON),
compared case-insensitively on word boundaries. An acronym (a word in capitals) is compared
in capitals only, so ``seed`` or ``stem`` in code is not the document's SEED or STEM.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.text.nlp import load_nlp

pytestmark = pytest.mark.slow  # runs the real spaCy pipeline over every document

REPO = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("index", "qa")
NAME_LABELS = frozenset(
    {"PERSON", "GPE", "LOC", "FAC", "ORG", "NORP", "EVENT", "LAW", "WORK_OF_ART", "PRODUCT"}
)

# General English words the tagger marks as names in the documents and that code may use.
# English vocabulary only: never a place, person, organisation, nationality, acronym or
# programme name. ``english`` is here as the language the rules are written for.
ENGLISH = frozenset(
    """
    january february march april june july august september october november december
    president vice prime chief foreign minister secretary general admiral commander chairman
    student people
    ministry department government committee office organization command law
    agreement treaty dialogue forum framework mechanism project article chapter column
    city prefecture state base camp facility island school university area station airport
    english
    return self lower open group block future new status space white host action fields force
    special training code point support work plus system way access control supply compound
    standard
    declaration security global delta low
    """.split()
)


def corpus_documents() -> list[Path]:
    """Every document the project answers from: the main corpus and each evaluation corpus."""
    found = [*REPO.glob("corpus/**/*"), *REPO.glob("eval/corpora/*/corpus/**/*")]
    return sorted(p for p in found if p.is_file() and p.suffix in {".txt", ".md"})


def source_files() -> list[Path]:
    """Non-test source under ``index/`` and ``qa/``: Python and JSON files."""
    found = [p for d in SOURCE_DIRS for ext in ("py", "json") for p in (REPO / d).rglob(f"*.{ext}")]
    return sorted(p for p in found if not p.name.startswith("test_"))


def is_name_word(text: str) -> bool:
    """A word worth checking: three or more characters, a letter, written with a capital."""
    return len(text) >= 3 and any(c.isalpha() for c in text) and any(c.isupper() for c in text)


def name_words(texts: list[str]) -> dict[str, str]:
    """The name words of ``texts``, keyed by their comparison form (see ``comparison_key``)."""
    words: dict[str, str] = {}
    for doc in load_nlp().pipe(texts, batch_size=8):
        tokens = [t for ent in doc.ents if ent.label_ in NAME_LABELS for t in ent]
        tokens += [t for t in doc if t.pos_ == "PROPN"]
        for token in tokens:
            # spaCy's tokens are the words of a multi-word name; its stop words ("The" of an
            # entity that opens a sentence) are English, not names.
            if not token.is_stop and is_name_word(token.text):
                words.setdefault(comparison_key(token.text), token.text)
    return words


def is_acronym(word: str) -> bool:
    """A word whose letters (two or more) are all capitals: ``ABC``, ``A.B.``, ``FY2000``."""
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def comparison_key(word: str) -> str:
    """An acronym compares as written, any other word case-insensitively."""
    return word if is_acronym(word) else word.casefold()


@pytest.fixture(scope="module")
def corpus_names() -> dict[str, str]:
    """Name words of every corpus document, from one spaCy run per test module."""
    documents = corpus_documents()
    assert documents, "no corpus documents found"
    return name_words([p.read_text(encoding="utf-8") for p in documents])


def unescaped(line: str) -> str:
    """A line as a regex reads it: ``U\\.S\\.`` is "U.S.", ``\\bWord\\s`` is " Word "."""
    return re.sub(r"\\([^\w\s])", r"\1", re.sub(r"\\[A-Za-z]", " ", line))


def occurrences(pattern: re.Pattern[str], files: list[Path]) -> Iterator[tuple[str, str, int]]:
    """``(word, path, line number)`` for every match of ``pattern`` in ``files``."""
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            for match in pattern.finditer(unescaped(line)):
                yield match.group(0), str(path.relative_to(REPO)), number


def word_pattern(words: list[str], *, ignore_case: bool) -> re.Pattern[str]:
    """Any of ``words`` between non-alphanumerics (an underscore separates words too)."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(
        rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE if ignore_case else 0
    )


def test_no_corpus_name_in_source(corpus_names: dict[str, str]) -> None:
    checked = [k for k in corpus_names if k.casefold() not in ENGLISH]
    files = source_files()
    hits: dict[tuple[str, int], list[str]] = {}
    for ignore_case in (True, False):
        words = [k for k in checked if is_acronym(k) != ignore_case]
        if not words:
            continue
        for found, path, line in occurrences(word_pattern(words, ignore_case=ignore_case), files):
            hits.setdefault((path, line), []).append(found)
    report = [f"{path}:{line}: {', '.join(words)}" for (path, line), words in sorted(hits.items())]
    assert not report, "corpus names in source:\n" + "\n".join(report)


def test_english_words_are_corpus_names(corpus_names: dict[str, str]) -> None:
    """Every allowlisted word is one the tagger marks as a name; others do not belong there."""
    tagged = {key.casefold() for key in corpus_names}
    assert sorted(ENGLISH - tagged) == []
