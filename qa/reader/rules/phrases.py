"""Short answers to open questions: the phrase of a sentence that answers it.

Typed questions (*when*, *who*, *how many*) are answered by ``qa.reader.rules.spans``. The rest
(*what does X stand for*, *which boat*, *why*, *how*, *what did they welcome*) used
to get the whole sentence. These rules cut the answering phrase out of the cited
sentence, or give up (None) so the caller keeps the sentence:

* a definition question about an acronym the corpus defines gets the long form as
  written before ``(ACR)`` (or after ``ACR:``); one about a term gets what the text says
  it ``refers to``, a glossary line, or the footnote whose marker follows the term
  (``qa.reader.rules.definitions``);
* *what/which <noun>* gets the noun phrase of that noun in the sentence, with its
  modifiers, a following name (``resolution 2375``) and its prepositional tail
  (for *what kind of <noun>*, the examples that follow it) (``qa.reader.rules.noun_phrases``);
* *who <verb>* without a person's name gets the subject of that verb (``... crews train``);
* *why* and *how* get the clause opened by a purpose, cause or manner marker
  (``in order to``, ``so that``, ``since``, ``through``, ``by``);
* *what did X <verb>* gets the complement of that verb in the sentence (these three
  and *who is <Name>* in ``qa.reader.rules.clauses``).

This module holds ``open_answer``, which picks the rule for a question, and re-exports
the public rules so callers import them from one place; the tokenizer and word lists
they share are in ``qa.reader.rules.phrase_tokens``. Only English function words and these markers
are listed; nothing is specific to one document.
"""

from __future__ import annotations

from qa.reader.rules.clauses import (
    identity_phrase,
    identity_question,
    marker_clause,
    question_verb,
    subject_phrase,
    to_do_clause,
    verb_complement,
)
from qa.reader.rules.definitions import (
    defined_acronym,
    defined_term,
    definition_span,
    term_definition,
)
from qa.reader.rules.noun_phrases import head_phrase, open_heads, wh_phrase
from qa.reader.rules.phrase_tokens import CLAUSE_WORDS, DETERMINERS, PREPOSITIONS
from qa.reader.rules.spans import Span

__all__ = [
    "CLAUSE_WORDS",
    "DETERMINERS",
    "PREPOSITIONS",
    "defined_acronym",
    "defined_term",
    "definition_span",
    "head_phrase",
    "identity_phrase",
    "identity_question",
    "marker_clause",
    "open_answer",
    "open_heads",
    "question_verb",
    "subject_phrase",
    "term_definition",
    "to_do_clause",
    "verb_complement",
    "wh_phrase",
]


def open_answer(question: str, answer_type: str | None, text: str, known: frozenset[str]) -> Span | None:
    """The phrase of ``text`` that answers an open question, or None.

    Args:
        question: the question as asked.
        answer_type: its expected type (``qa.query.answer_type``); typed questions other
            than names and reasons are left to ``qa.reader.rules.spans``.
        text: the cited sentence.
        known: stemmed content words of the question (and its acronym expansions).
    """
    if answer_type not in (None, "reason", "name", "organization"):
        return None
    if identity_question(question):
        return identity_phrase(question, text)
    reason = answer_type == "reason"
    if not reason:
        span = head_phrase(question, text, known)
        if span:
            return span
    span = marker_clause(question, text, known, reason)
    if span or reason:
        return span
    return verb_complement(question, text, known)
