"""Question analysis: acronym expansion, concepts and the expected answer type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from index.text.lexical import content_words, stem
from qa.reader.rules.phrases import defined_acronym, defined_term, identity_question, open_heads

ANSWER_TYPES = ("date", "quantity", "money", "person", "place", "organization", "name", "reason")

# Wh-words that fix the answer type on their own, checked in order.
_WH_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("money", re.compile(r"\bhow much\b.*\b(?:cost|costs|budget|money|yen|dollars?|spend|spent|pay|paid|worth|expenditures?|funds?|funding)\b", re.I)),
    ("quantity", re.compile(r"\bhow (?:many|much|large|big|far|long|old)\b", re.I)),
    ("date", re.compile(r"^\s*(?:since |until |by )?when\b|\bsince when\b|\b(?:and|or) when\b", re.I)),
    ("person", re.compile(r"^\s*(?:who|whom|whose)\b|\b(?:by|to|with|from) whom\b", re.I)),
    ("place", re.compile(r"^\s*(?:from |to )?where\b", re.I)),
    ("reason", re.compile(r"^\s*why\b|\bwhat (?:is|was|are|were) the (?:\w+ )?(?:purpose|reason|aim|goal|objective)s?\b|\bfor what (?:purpose|reason)\b", re.I)),
)

# Head nouns after "which"/"what" and the answer type they ask for (plain English).
_HEAD_TYPES: dict[str, tuple[str, ...]] = {
    "date": ("year", "month", "day", "date", "decade", "season", "period"),
    "person": ("minister", "secretary", "president", "official", "commander", "general",
               "admiral", "student", "leader", "ambassador", "person", "people", "participant",
               "chairman", "governor", "officer", "representative", "delegate", "head"),
    "place": ("city", "base", "state", "country", "prefecture", "location", "place", "camp",
              "site", "facility", "island", "school", "university", "town", "region", "area",
              "port", "station", "venue", "capital", "municipality", "airport"),
    "organization": ("organization", "organisation", "agency", "ministry", "department",
                     "committee", "command", "body", "institution", "government", "office"),
    "name": ("program", "programme", "project", "exercise", "agreement", "treaty", "title",
             "name", "dialogue", "forum", "framework", "mechanism"),
    "quantity": ("number", "percentage", "share", "proportion", "amount", "size", "total"),
}
@dataclass(frozen=True)
class Concept:
    """One thing the question mentions, matched by its own words or an equivalent form.

    A plain word has one stem and no alternative; an acronym (``HDB``) has its long form's
    stems as the alternative, and a long form has the acronym.
    """

    words: frozenset[str]
    alternative: frozenset[str] = frozenset()

    def matched_by(self, terms: set[str] | frozenset[str]) -> bool:
        """Whether a text with these stemmed terms mentions the concept."""
        return _covers(self.words, terms) or bool(self.alternative and _covers(self.alternative, terms))


def _covers(words: frozenset[str], terms: set[str] | frozenset[str]) -> bool:
    if len(words) <= 2:
        return words <= terms
    return len(words & terms) * 3 >= len(words) * 2


@dataclass(frozen=True)
class Query:
    """An analysed question."""

    text: str
    expanded: str
    answer_type: str | None
    terms: tuple[str, ...]  # stemmed content words of the question and its expansions
    question_terms: tuple[str, ...]  # stemmed content words of the question alone
    concepts: tuple[Concept, ...] = ()
    granularity: str | None = None  # for dates: "year", "month" or "day"
    head: str | None = None  # stem of the noun the question asks for ("which prefecture")
    counted: frozenset[str] = frozenset()  # stems of what "how many ..." counts
    defines: str | None = None  # the acronym a "what does X stand for" question asks about
    term: str | None = None  # the term a "what does X mean" question asks about
    wh: str | None = None  # the question word (who, when, which, how, ...)
    lemmas: frozenset[str] = frozenset()  # lower-case lemmas of the question's content words
    verb: str | None = None  # lemma of the question's main verb ("begin", "relocate")
    focus: str | None = None  # lemma of the noun the wh-word asks about ("year", "prefecture")
    role: str | None = None  # the asked-for phrase's role: "subject", "object" or "oblique"


def answer_type(question: str) -> str | None:
    """The kind of span the question asks for, or None for open questions.

    The wh-word decides where it can (*when*, *who*, *where*, *how many*...); after
    *which*/*what* the head noun does (*which prefecture* -> place, *what year* -> date).
    """
    if identity_question(question):
        return None  # "Who is X?" asks what X is (a role), not for a person's name
    if re.match(r"\s*what\b.*\bto\s+do\b", question, re.I):
        return None  # "What were the participants encouraged to do?" asks for an action
    for name, pattern in _WH_RULES:
        if pattern.search(question):
            return name
    head = head_word(question)
    if head:
        for name, heads in _HEAD_TYPES.items():
            if head in heads:
                return name
    return None


def head_type(lemma: str) -> str | None:
    """The answer type a head noun asks for (``country`` -> place), or None."""
    word = _singular(lemma)
    return next((name for name, heads in _HEAD_TYPES.items() if word in heads), None)


_AUX = frozenset("is was are were does did do has have had can could will would should".split())
_KNOWN_HEADS = frozenset(w for heads in _HEAD_TYPES.values() for w in heads)
_HEAD_AFTER_BE = re.compile(
    r"\bwhat\s+(?:is|was|are|were)\s+(?:the|a|an)\s+(?:[a-z-]+\s+)?([a-z]+)\s+(?:of|for|that|which|called|given)\b",
    re.I,
)


def _singular(word: str) -> str:
    word = word.lower()
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def head_word(question: str) -> str | None:
    """The noun a *which*/*what* question asks for, singular, or None.

    ``which (U.K.) county`` -> county; ``what is the full title of`` -> title; ``what did the
    minister say`` -> None (a noun after an auxiliary verb is the subject, not the head).
    """
    match = _HEAD_AFTER_BE.search(question)
    if match and _singular(match.group(1)) in _KNOWN_HEADS:
        return _singular(match.group(1))
    for wh in re.finditer(r"\b(?:which|what)\b", question, re.I):
        words = re.findall(r"[A-Za-z][A-Za-z.'’-]*", question[wh.end() : wh.end() + 60])[:3]
        if not words or words[0].lower() in _AUX:
            continue
        for word in words:
            if _singular(word) in _KNOWN_HEADS:
                return _singular(word)
    heads = open_heads(question)
    if heads and _singular(heads[0]) in _KNOWN_HEADS:
        return _singular(heads[0])  # "which Lyon Harbor Board deputy general"
    return None


@lru_cache(maxsize=65536)
def _acronym_parts(acronym: str, long_form: str) -> tuple[frozenset[str], frozenset[str], re.Pattern[str]]:
    """Stems of a long form and of its acronym, and the pattern that finds the acronym
    as a word (plural allowed); computed once per table entry, not once per question."""
    return (frozenset(stem(content_words(long_form))), frozenset(stem(content_words(acronym))),
            re.compile(rf"(?<![\w-]){re.escape(acronym)}s?(?![\w-])"))


def expand_acronyms(question: str, acronyms: dict[str, str]) -> str:
    """Add long forms after acronyms and acronyms after long forms.

    Args:
        question: the user's question.
        acronyms: acronym -> long form, as extracted from the corpus.

    Returns:
        The question with expansions appended (the original text is kept first).
    """
    extra: list[str] = []
    question_stems = set(stem(content_words(question)))
    for acronym, long_form in acronyms.items():
        long_stems, _, pattern = _acronym_parts(acronym, long_form)
        if acronym in question and pattern.search(question):
            extra.append(long_form)
        elif len(long_stems) >= 2 and long_stems <= question_stems:
            extra.append(acronym)
    return question if not extra else f"{question} ({'; '.join(extra)})"


def concepts(question: str, acronyms: dict[str, str]) -> tuple[Concept, ...]:
    """The question's concepts: acronyms and long forms grouped, other words one by one."""
    found: list[Concept] = []
    grouped: set[str] = set()
    question_stems = set(stem(content_words(question)))
    for acronym, long_form in acronyms.items():
        long_stems, acronym_stems, pattern = _acronym_parts(acronym, long_form)
        if not long_stems or not acronym_stems:
            continue
        if acronym in question and pattern.search(question):
            found.append(Concept(acronym_stems, long_stems))
            grouped |= acronym_stems
        elif len(long_stems) >= 2 and long_stems <= question_stems:
            found.append(Concept(long_stems, acronym_stems))
            grouped |= long_stems
    for term in dict.fromkeys(stem(content_words(question))):
        if term not in grouped:
            found.append(Concept(frozenset({term})))
    return tuple(found)


def date_granularity(question: str) -> str | None:
    """Which part of a date the question wants: ``year``, ``month``, ``day`` or None."""
    q = question.lower()
    if re.search(r"\b(?:what|which) (?:year|fiscal year)\b|\bin what year\b", q):
        return "year"
    if re.search(r"\b(?:what|which) month\b|\bin what month\b", q):
        return "month"
    if re.search(r"\b(?:what|which) (?:date|day|days)\b|\bon what (?:date|day)\b", q):
        return "day"
    return None


_WH_WORDS = frozenset("who whom whose when where which what why how".split())
_LIGHT_VERBS = frozenset("be do have".split())
_CLASS_NOUNS = frozenset("kind type sort form".split())


def parse_question(doc: Any) -> dict[str, Any]:
    """The wh-word, content lemmas, main verb and focus noun of a parsed question.

    Args:
        doc: the question parsed by the spaCy pipeline (tagger, parser, lemmatizer).
    """
    words = [t for t in doc if not t.is_punct and not t.is_space]
    wh = next((t for t in words if t.lower_ in _WH_WORDS), None)
    lemmas = frozenset(t.lemma_.lower() for t in words
                       if not t.is_stop and t.lower_ not in _WH_WORDS and t.is_alpha)
    verbs = [t for t in words if t.pos_ == "VERB" and t.lemma_.lower() not in _LIGHT_VERBS]
    root = next((t for t in words if t.dep_ == "ROOT"), None)
    verb = root if root is not None and root in verbs else (verbs[0] if verbs else None)
    focus = None
    if wh is not None and wh.dep_ == "det" and wh.head.pos_ in ("NOUN", "PROPN"):
        focus = wh.head  # "which prefecture", "what year"
        if focus.lemma_.lower() in _CLASS_NOUNS:  # "what kind of fishing" asks about fishing
            focus = next((c for p in focus.children if p.lower_ == "of"
                          for c in p.children if c.dep_ == "pobj"), focus)
    elif wh is not None and wh.lower_ in ("what", "which") and root is not None \
            and root.lemma_ == "be":  # "what is the purpose of ...": the noun after "be"
        focus = next((t for t in words if t.dep_ in ("nsubj", "attr") and t.pos_ == "NOUN"
                      and t.i > wh.i), None)
    asked = wh.head if wh is not None and wh.dep_ == "det" else wh
    many = next((t for t in words if t.lower_ == "many" and t.head.pos_ == "NOUN"), None)
    counted = frozenset(stem([c.lower_ for c in many.head.children if c.dep_ == "compound"]
                             + [many.head.lower_])) if many is not None else frozenset()
    return {
        "counted": counted,
        "role": dependency_role(asked.dep_) if asked is not None else None,
        "wh": wh.lower_ if wh is not None else None,
        "lemmas": lemmas,
        "verb": verb.lemma_.lower() if verb is not None else None,
        "focus": focus.lemma_.lower() if focus is not None else None,
    }


_ROLES = {"nsubj": "subject", "nsubjpass": "subject", "csubj": "subject", "dobj": "object",
          "attr": "object", "oprd": "object", "pobj": "oblique", "npadvmod": "oblique",
          "advmod": "oblique"}


def dependency_role(dep: str) -> str | None:
    """The grammatical role a dependency label stands for (subject, object, oblique)."""
    return _ROLES.get(dep)


def analyse(question: str, acronyms: dict[str, str], nlp: Any = None) -> Query:
    """Expand and type a question; with ``nlp`` (a spaCy pipeline) also parse it."""
    parsed = parse_question(nlp(question, disable=["ner"])) if nlp is not None else {}
    expanded = expand_acronyms(question, acronyms)
    defined = defined_acronym(question, acronyms)
    kind = answer_type(question)
    head = head_word(question)
    focus = parsed.get("focus")
    counted = parsed.pop("counted", frozenset())
    if kind is None and focus and not identity_question(question):
        kind = head_type(focus)  # "which country's behavior": the parser's focus noun
    return Query(
        text=question,
        expanded=expanded,
        answer_type=kind,
        terms=tuple(dict.fromkeys(stem(content_words(expanded)))),
        question_terms=tuple(dict.fromkeys(stem(content_words(question)))),
        concepts=concepts(question, acronyms),
        granularity=date_granularity(question) if kind == "date" else None,
        head=stem([head])[0] if head else None,
        counted=counted if kind == "quantity" else frozenset(),
        defines=defined,
        term=None if defined else defined_term(question),
        **parsed,
    )
