"""Short answers to open questions: the phrase of a sentence that answers it.

Typed questions (*when*, *who*, *how many*) are answered by ``qa.spans``. The rest
(*what does X stand for*, *which boat*, *why*, *how*, *what did they welcome*) used
to get the whole sentence. These rules cut the answering phrase out of the cited
sentence, or give up (None) so the caller keeps the sentence:

* a definition question about an acronym the corpus defines gets the long form as
  written before ``(ACR)`` (or after ``ACR:``); one about a term gets what the text says
  it ``refers to``, a glossary line, or the footnote whose marker follows the term;
* *what/which <noun>* gets the noun phrase of that noun in the sentence, with its
  modifiers, a following name (``resolution 2375``) and its prepositional tail
  (for *what kind of <noun>*, the examples that follow it);
* *who <verb>* without a person's name gets the subject of that verb (``... crews train``);
* *why* and *how* get the clause opened by a purpose, cause or manner marker
  (``in order to``, ``so that``, ``since``, ``through``, ``by``);
* *what did X <verb>* gets the complement of that verb in the sentence.

Only English function words and these markers are listed; nothing is specific to one
document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index.lexical import STOPWORDS, content_words, fold_possessive, stem
from qa.spans import TITLES, Span

_TOKEN = re.compile(r"[^\W_]+(?:[-'’.]+[^\W_]+)*\.?|[^\w\s]")
DETERMINERS = frozenset(
    "the a an its their his her our this these those that both all each any".split())
CLAUSE_WORDS = frozenset(
    "which who whom whose where while whereas although though but whereby when if".split())
PREPOSITIONS = frozenset(
    "of for against between to on in with from at across into toward towards within under "
    "among over about regarding through via by upon near".split())
_AUXILIARIES = frozenset(
    "is was are were does did do has have had can could will would should must may might shall".split())
_CLASS_WORDS = frozenset("kind kinds type types sort sorts form forms".split())
_ORDINALS = frozenset(
    "first second third fourth fifth sixth seventh eighth ninth tenth last final".split())
_RELATIVES = frozenset("which who whom whose".split())
_SUBJECT_PRONOUNS = frozenset("the it they he she we also".split())

_DEFINITION_QUESTION = re.compile(
    r"\b(?:what|which)\b.*?\b(?:does|do|did|is|was)\s+(?:the\s+)?"
    r"(?:abbreviation\s+|acronym\s+|initialism\s+|term\s+)?[“\"']?([A-Z][A-Za-z0-9&-]{1,11})[”\"']?\s+"
    r"(?:stand|mean|refer|short)\b"
    r"|\b(?:full|long|expanded|spelled-out)\s+(?:form|name|title)\s+(?:of|for)\s+(?:the\s+)?"
    r"(?:abbreviation\s+|acronym\s+)?[“\"']?([A-Z][A-Za-z0-9&-]{1,11})",
    re.I,
)
# "since" gives a cause, but not before a time ("since 2006", "since FY1999", "since April")
_SINCE = r"since(?!\s+(?:\d|FY|fiscal|the\s+(?:start|end|beginning)|(?:January|February|March|April|May|June|July|August|September|October|November|December)\b|then\b|last\b))"
_REASON_MARKERS = (
    r"in order to", r"so as to", r"so that", r"with the aim of", r"with a view to", r"aimed at",
    r"for the purpose of", r"in an effort to", r"with the hope that", r"in the hope that",
    r"with the hope of", r"in the hope of", r"because", _SINCE, r"to ensure",
    r"as (?=\w+ \w+ (?:concurred|agreed|believed|considered|recognized|noted)\b)",
)
_CAUSE_MARKERS = (r"because", _SINCE)
_MANNER_MARKERS = (
    r"through", r"by (?=\w+ing\b|the\b|a\b|an\b|its\b|their\b)", r"via", r"how to",
)
_HOW_CLAUSE = re.compile(
    r"\s*how (?:did|does|do|is|was|are|were|has|have|can|could|will|would)\b", re.I)
_DO_SUPPORT = re.compile(
    r"\b(?:what|which)\b[^,?]*?\b(?:did|does|do|could|can|will|would|should|must|might|has|have|had)\b([^,?]*)\?",
    re.I,
)


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()


def _tokens(text: str) -> list[_Token]:
    return list(_token_tuple(text))


# Sentences and words recur across questions: tokenising and stemming them is cached
# (bounded, so memory stays flat on a large corpus).
@lru_cache(maxsize=8192)
def _token_tuple(text: str) -> tuple[_Token, ...]:
    return tuple(_Token(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text))


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return stem([fold_possessive(word.lower().rstrip("."))])[0]


def _token_at(tokens: list[_Token], offset: int) -> int | None:
    """Index of the first token starting at or after ``offset``, or None."""
    return next((k for k, t in enumerate(tokens) if t.start >= offset), None)


def _novel(text: str, known: frozenset[str]) -> tuple[int, int]:
    """Content words of ``text`` the question does not contain, and all of them."""
    words = stem(content_words(text))
    return sum(w not in known for w in words), len(words)


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


def wh_phrase(question: str) -> list[str]:
    """The words after *which/what* up to a function word, auxiliary, preposition or
    verb (``which flat-bottomed boat did`` -> flat-bottomed, boat); ``kind of`` and
    ``type of`` pass the question on to the next noun."""
    for wh in re.finditer(r"\b(?:which|what)\b", question, re.I):
        tokens = _tokens(question[wh.end() :])
        words: list[str] = []
        k = 0
        while k < len(tokens) and tokens[k].is_word:
            word, lower = tokens[k].text, tokens[k].lower
            if lower in _CLASS_WORDS and k + 1 < len(tokens) and tokens[k + 1].lower == "of":
                words, k = [], k + 2
                continue
            if lower in STOPWORDS or lower in _AUXILIARIES or lower in PREPOSITIONS:
                break
            if words and re.fullmatch(r"[a-z]+ed", word):
                break  # "which land return completed ...": a verb
            if (words and _is_plural(word) and not words[-1].endswith("s")
                    and k + 1 < len(tokens) and tokens[k + 1].is_word
                    and tokens[k + 1].lower not in _AUXILIARIES | STOPWORDS):
                break  # "which resolution forbids night fishing ...": a verb
            words.append(word)
            k += 1
        if words:
            return words
    return []


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
    tokens = _tokens(text)

    def clause_from(offset: int) -> Span | None:
        i = _token_at(tokens, offset)
        return None if i is None else _span(text, tokens, i, _clause_end(text, tokens, i, lists=True, bare_and=True))

    match = re.search(rf"{name}\s+{_DEFINING_VERB}\s+", text, re.I) or re.match(
        rf"[\W_]*(?:\(\d+\)\s*)?{name}\s*:\s+", text, re.I)
    if match:
        return clause_from(match.end())
    marker = re.match(r"[\W_]*\((\d+)\)\s*", text)
    if marker and context and re.search(rf"{words}(?:e?s)?[”\"']?[.,]?\({marker.group(1)}\)", context, re.I):
        end = len(text.rstrip(" ."))
        return Span(marker.end(), end, "definition") if end > marker.end() else None
    return None


def open_heads(question: str) -> list[str]:
    """The noun a *what/which* question asks for (the last word of its wh-phrase),
    then the earlier words of the phrase."""
    return [w for w in reversed(wh_phrase(question)) if w.lower() not in STOPWORDS and not w[0].isdigit()]


def _clause_end(text: str, tokens: list[_Token], i: int, *, lists: bool, bare_and: bool,
                relatives: bool = False, limit: int = 40) -> int:
    """Token index (exclusive) where the phrase starting at token ``i`` ends: at a
    semicolon, colon, dash, closing bracket, footnote marker, relative or subordinate
    clause (with ``relatives``, a relative clause without a comma continues it),
    ``as well as``, or a comma that does not separate list items. With
    ``bare_and`` an ``and`` without a comma may continue the phrase."""
    j = i
    while j < len(tokens) and j - i < limit:
        token, lower = tokens[j], tokens[j].lower
        if j > i:
            if token.text in (";", ":", "—", "–", ")", "["):
                break
            if token.text == "(":
                if (j + 2 < len(tokens) and tokens[j + 2].text == ")"
                        and re.fullmatch(r"[A-Z][A-Za-z0-9&-]{1,11}s?", tokens[j + 1].text)):
                    j += 3  # an acronym in brackets belongs to the phrase
                    continue
                break
            if token.text == ",":
                following = tokens[j + 1].lower if j + 1 < len(tokens) else ""
                if following in CLAUSE_WORDS or following in ("as", "thereby"):
                    break
                if following in ("and", "or") and _opens_clause(tokens, j + 2):
                    break  # ", and stated that ...", ", and have been ...": a new clause
                if lists and (
                    re.match(r"[^;:()]*?,\s+(?:and|or)\s", text[token.end :])
                    or (following in ("and", "or") and j + 2 < len(tokens)
                        and tokens[j + 2].lower not in _SUBJECT_PRONOUNS)
                ):
                    j += 1
                    continue
                if re.match(r"\s*(?:[^\W_][\w.'’-]*\s+){1,2}(?:and|or)\s", text[token.end :]):
                    j += 1  # a short list of names: "among Ruritania, the U.K. and the Netherlands"
                    continue
                break
            after_preposition = lower in ("which", "whom") and tokens[j - 1].lower in PREPOSITIONS
            restrictive = relatives and lower in _RELATIVES and tokens[j - 1].is_word
            if lower in CLAUSE_WORDS and not after_preposition and not restrictive:
                break  # ("upon which ...", and with ``relatives`` "talents who will ...", continue)
            if (lower == "as" and j + 2 < len(tokens) and tokens[j + 1].lower == "well"
                    and tokens[j + 2].lower == "as"):
                break
            if (lower in ("and", "or") and not bare_and and not _joins_nouns(tokens, j)
                    and not (lists and re.match(r"[^;:()]*?,\s+(?:and|or)\s", text[token.end :]))):
                break  # (inside a list that goes on, "harbor and canal safety rules, and ...")
        j += 1
    return j


def _opens_clause(tokens: list[_Token], k: int) -> bool:
    """Whether ``tokens[k]`` starts a verb phrase: an auxiliary, or a past-tense verb
    followed by ``that``, an article or ``to`` (``stated that``, ``expressed the``)."""
    if k >= len(tokens):
        return False
    word = tokens[k].lower
    if word in _AUXILIARIES:
        return True
    after = tokens[k + 1].lower if k + 1 < len(tokens) else ""
    return bool(re.fullmatch(r"[a-z]+ed", word)) and after in ("that", "the", "a", "an", "to", "its", "their")


def _joins_nouns(tokens: list[_Token], j: int) -> bool:
    """Whether the ``and`` at ``tokens[j]`` joins two nouns rather than two clauses: after
    a list comma, between names (``Ruritania, the U.K. and the Netherlands``), or before a last
    lower-case noun (``incidents and behavior.``)."""
    before = tokens[j - 1].text
    k = j + 1 + (j + 1 < len(tokens) and tokens[j + 1].lower in ("the", "a", "an"))
    after = tokens[k] if k < len(tokens) else None
    if before == "," or after is None:
        return before == ","
    if before[:1].isupper() and after.text[:1].isupper():
        return True
    ends = k + 1 >= len(tokens) or not tokens[k + 1].is_word or tokens[k + 1].lower in PREPOSITIONS
    return after.is_word and after.text[:1].islower() and after.lower not in STOPWORDS and ends


def _span(text: str, tokens: list[_Token], i: int, j: int) -> Span | None:
    if j <= i:
        return None
    start, end = tokens[i].start, tokens[j - 1].end
    while end > start and text[end - 1] in " ,;:.":
        if text[end - 1] == "." and re.search(r"\b(?:[A-Z]\.)+$", text[start:end]):
            break  # keep the period of "U.K."
        end -= 1
    return Span(start, end, "phrase") if text[start:end].strip() else None


def _noun_phrase(text: str, tokens: list[_Token], head: int, outside: frozenset[str],
                 plural: bool = False) -> Span | None:
    """The noun phrase around ``tokens[head]``: modifiers to the left (one coordinated
    modifier allowed: ``nuclear and non-nuclear military matters``, ``per- and
    polyfluoroalkyl substances``; not an adverb, a verb after ``to``, nor a word of the
    question outside its wh-phrase, which would be the verb), a name or number right
    after it, a prepositional tail, a list of the same noun (``fuel costs ..., repair
    costs, and mooring costs``) and, when the question asks for a plural,
    a coordinated noun phrase (``compounds (VOCs) and heavy metals``)."""
    i = head
    while i > 0:
        token = tokens[i - 1]
        if token.text == ")" and i >= 3 and tokens[i - 3].text == "(":
            i -= 3
            continue
        if not token.is_word or token.lower.endswith("ly") or _stem(token.text) in outside:
            break
        if i >= 2 and tokens[i - 2].lower == "to" and i < head and token.text[0].islower():
            break  # "to implement new harbor rules": a verb
        if token.lower in STOPWORDS:
            if (token.lower in ("and", "or") and i >= 4 and tokens[i - 2].text == "-"
                    and tokens[i - 3].is_word):
                i -= 3  # a suspended hyphen: "per- and polyfluoroalkyl"
                continue
            if (token.lower in ("and", "or") and i >= 3 and tokens[i - 2].is_word
                    and tokens[i - 2].lower not in STOPWORDS
                    and (tokens[i - 3].lower in STOPWORDS or not tokens[i - 3].is_word)):
                i -= 2
                continue
            if token.lower in DETERMINERS:
                i -= 1
            break
        i -= 1
    j = head + 1
    while (j < len(tokens) and tokens[j].is_word and tokens[j].lower not in STOPWORDS
           and (tokens[j].text[0].isupper() or tokens[j].text[0].isdigit())):
        j += 1
    if j < len(tokens) and tokens[j].text in ("“", '"'):
        close = next((k for k in range(j + 1, min(j + 12, len(tokens))) if tokens[k].text in ("”", '"')), None)
        if close is not None:
            j = close + 1  # a quoted name: exercise “Blue Heron 12”
    if j + 2 < len(tokens) and tokens[j].text == "(" and tokens[j + 2].text == ")":
        j += 3  # its acronym
    if plural and j + 1 < len(tokens) and tokens[j].lower in ("and", "or") and tokens[j + 1].is_word:
        j = _clause_end(text, tokens, j + 1, lists=False, bare_and=False, limit=12)
    if j < len(tokens) and tokens[j].lower in PREPOSITIONS - {"by"}:
        j = _clause_end(text, tokens, j, lists=False, bare_and=False, limit=20)
    if j < len(tokens) and tokens[j].text == ",":
        end = _clause_end(text, tokens, head, lists=True, bare_and=True, limit=30)
        last = re.findall(r"[^\W_]+", text[tokens[head].start : tokens[end - 1].end])[-1:]
        if last and _stem(last[0]) == _stem(tokens[head].text) and end > j:
            j = end
    return _span(text, tokens, i, j)


_EXAMPLES = re.compile(r"\s*,?\s*(?:including|such as|like|e\.g\.,?)\s+", re.I)


def _examples(text: str, tokens: list[_Token], span: Span) -> Span | None:
    """The examples that follow a noun phrase (``threats, including [hypersonic weapons]``)."""
    match = _EXAMPLES.match(text, span.end)
    if not match:
        return None
    i = _token_at(tokens, match.end())
    if i is None:
        return None
    return _span(text, tokens, i, _clause_end(text, tokens, i, lists=False, bare_and=True))


def _is_plural(word: str) -> bool:
    """A lower-case word in -s (not -ss, -us): a plural noun, or a verb's third person."""
    return bool(re.fullmatch(r"[a-z]+[^su]s", word))


def _head_positions(tokens: list[_Token], heads: list[str]) -> list[int]:
    """Where the asked-for noun occurs; failing that, where another word of the
    wh-phrase occurs inside a name (``cargo crane parts`` ->
    ``Harbor Cargo Crane Works``)."""
    head_stem = _stem(heads[0])
    found = [k for k, t in enumerate(tokens) if t.is_word and _stem(t.text) == head_stem]
    for word in heads[1:]:
        if found:
            break
        word_stem = _stem(word)
        found = [k for k, t in enumerate(tokens)
                 if t.is_word and t.text[0].isupper() and _stem(t.text) == word_stem]
    return found


def head_phrase(question: str, text: str, known: frozenset[str]) -> Span | None:
    """For *what/which <noun>*: the noun phrase of that noun in ``text`` that says most
    the question does not (for *what kind of <noun>*, the examples that follow it).
    None when the noun is absent or only repeats the question."""
    phrase_words = wh_phrase(question)
    heads = open_heads(question)
    if not heads:
        return None
    tokens = _tokens(text)
    asked = {t.lower for t in _tokens(question)}
    outside = known - frozenset(_stem(w) for w in phrase_words)
    kind_of = bool(re.search(r"\b(?:kinds?|types?|sorts?) of\b", question, re.I))
    best: tuple[float, Span] | None = None
    for k in _head_positions(tokens, heads):
        span = _noun_phrase(text, tokens, k, outside, plural=_is_plural(heads[0]))
        if span is None:
            continue
        examples = _examples(text, tokens, span) if kind_of else None
        if examples is not None:
            span = examples
        phrase = span.text(text)
        if asked & _ORDINALS and not asked & _ORDINALS & {w.lower() for w in phrase.split()}:
            continue  # "the third bridge" is not any bridge
        novel, total = _novel(phrase, known)
        score = novel - 0.5 * (total - novel)
        if novel and (best is None or score > best[0]):
            best = (score, span)
    return best[1] if best else None


_WHO_VERB = re.compile(r"\s*who\s+([a-z]+)\b", re.I)


def subject_phrase(question: str, text: str, known: frozenset[str]) -> Span | None:
    """For *who <verb> ...*: the noun phrase right before that verb in ``text``
    (``Who trains on ...`` -> ``Harbor Agency rescue divers [train on ...]``)."""
    match = _WHO_VERB.match(question)
    if not match or match.group(1).lower() in _AUXILIARIES:
        return None
    verb_stem = _stem(match.group(1))
    tokens = _tokens(text)
    for k, token in enumerate(tokens):
        if not (k and token.is_word and token.text[0].islower() and _stem(token.text) == verb_stem):
            continue
        i = k
        while i > 0 and tokens[i - 1].is_word and tokens[i - 1].lower not in STOPWORDS:
            i -= 1
        if i > 0 and tokens[i - 1].lower in DETERMINERS:
            i -= 1
        span = _span(text, tokens, i, k)
        if span is not None and _novel(span.text(text), known)[0]:
            return span
    return None


def marker_clause(question: str, text: str, known: frozenset[str], reason: bool) -> Span | None:
    """For *why* (``reason``) and *how*: the first clause opened by a purpose or cause
    marker (and, for *how*, a manner marker) that adds two words to the question."""
    is_how = bool(_HOW_CLAUSE.match(question))
    if not reason and not is_how:
        return None
    # *how* asks for a means or a cause ("how was he able to ..." -> "since ..."), not a purpose
    markers = _REASON_MARKERS if reason else _CAUSE_MARKERS + _MANNER_MARKERS
    tokens = _tokens(text)
    best: Span | None = None
    for marker in markers:
        for match in re.finditer(rf"(?:(?<=^)|(?<=[\s,(]))(?:{marker})\b", text, re.I):
            i = _token_at(tokens, match.start())
            if i is None:
                continue
            span = _span(text, tokens, i, _clause_end(text, tokens, i, lists=True, bare_and=True, relatives=True))
            if span is None or _novel(span.text(text), known)[0] < 2:
                continue
            if best is None or span.start < best.start:
                best = span
    return best


def question_verb(question: str) -> str | None:
    """The main verb of *what ... did/does/could <subject> <verb> ...?*: the first
    lower-case base-form word after the auxiliary that ends the question or precedes a
    preposition (``did the Harbor Agency approve at ...`` -> approve)."""
    match = _DO_SUPPORT.search(question)
    if not match:
        return None
    words = re.findall(r"[A-Za-z][A-Za-z'’.-]*", match.group(1))
    for k, word in enumerate(words):
        lower = word.lower()
        if lower in STOPWORDS or lower in PREPOSITIONS or not word[0].islower():
            continue
        if re.search(r"[^su]s$", lower) or (k and words[k - 1].lower() in DETERMINERS):
            continue  # a noun: the verb after do-support has its base form
        if k == len(words) - 1 or words[k + 1].lower() in PREPOSITIONS:
            if (k + 2 < len(words) and words[k + 1].lower() == "to" and words[k + 2][0].islower()
                    and words[k + 2].lower() not in STOPWORDS):
                return str(words[k + 2])  # "decide to bear": the embedded verb
            return str(word)
    return None


_TO_DO = re.compile(r"\b([a-z]+)\s+(?:(?:the|a|an|them|him|her|us|[A-Z][\w.-]*|[a-z]+s)\s+){0,4}to\s+do\b")


def to_do_clause(question: str, text: str, known: frozenset[str]) -> Span | None:
    """For *what did X urge/ask/encourage Y to do?*: the ``to ...`` clause after that verb
    in ``text`` (``encouraged them [to play an active role ...]``)."""
    match = _TO_DO.search(question)
    if not match or match.group(1) in STOPWORDS or match.group(1) in _AUXILIARIES:
        return None
    verb_stem = _stem(match.group(1))
    tokens = _tokens(text)
    for k, token in enumerate(tokens):
        if not (token.is_word and token.text[0].islower() and _stem(token.text) == verb_stem):
            continue
        to = next((m for m in range(k + 1, min(k + 7, len(tokens))) if tokens[m].lower == "to"), None)
        if to is None:
            continue
        span = _span(text, tokens, to, _clause_end(text, tokens, to, lists=True, bare_and=False))
        if span and _novel(span.text(text), known)[0]:
            return span
    return None


def verb_complement(question: str, text: str, known: frozenset[str]) -> Span | None:
    """What follows the question's verb in ``text`` (``welcomed [the Harbor Agency's proposal to ...]``)."""
    if _TO_DO.search(question):
        return to_do_clause(question, text, known)
    verb = question_verb(question)
    if verb is None:
        return None
    verb_stem = _stem(verb)
    tokens = _tokens(text)
    for k, token in enumerate(tokens):
        if not (token.is_word and token.text[0].islower() and token.lower not in STOPWORDS
                and _stem(token.text) == verb_stem):
            continue
        i = k + 1 + (k + 1 < len(tokens) and tokens[k + 1].lower in PREPOSITIONS)
        span = _span(text, tokens, i, _known_tail(tokens, i, _clause_end(text, tokens, i, lists=True, bare_and=False), known))
        if span and _novel(span.text(text), known)[0] and _keeps_wh_words(question, text, span):
            return span
    return None


def _known_tail(tokens: list[_Token], i: int, j: int, known: frozenset[str]) -> int:
    """Drop a closing prepositional phrase the question already says (``a new bridge
    [near the lake]`` for *what did they build near the lake*)."""
    for k in range(j - 1, i, -1):
        if tokens[k].lower in PREPOSITIONS:
            tail = [t for t in tokens[k + 1 : j] if t.is_word and t.lower not in STOPWORDS]
            if tail and all(_stem(t.text) in known for t in tail):
                return k
            break
    return j


def _keeps_wh_words(question: str, text: str, span: Span) -> bool:
    """A complement must contain the words of the wh-phrase that the sentence has
    (``what cargo crane parts did they observe`` is not answered by the
    other thing they observed)."""
    wanted = {_stem(w) for w in wh_phrase(question) if w.lower() not in STOPWORDS}
    present = wanted & {_stem(t.text) for t in _tokens(text) if t.is_word}
    inside = {_stem(t.text) for t in _tokens(span.text(text)) if t.is_word}
    return not present or bool(present & inside)


_IDENTITY = re.compile(r"^\s*(?i:who)\s+(?i:is|was|are|were)\s+((?:[A-Z][\w.'’-]*\s*){1,5})\??\s*$")


def identity_question(question: str) -> str | None:
    """The name in *Who is/was <Name>?*, a question about a person's role, or None."""
    match = _IDENTITY.match(question)
    return match.group(1).strip() if match else None


def identity_phrase(question: str, text: str) -> Span | None:
    """What ``text`` says the named person is: the apposition after the name
    (``DUPONT Marie, second year pupil at ...``, ``Moreau (Director, HDB ...)``)
    or the title before it (``Harbor Minister Dupont``)."""
    name = identity_question(question)
    if not name:
        return None
    words = [re.escape(w) for w in name.split()]
    match = re.search(r"\b" + r"(?:\s+[A-Z][\w.'’-]*)*?\s+".join(words) + r"(?:\s+[A-Z][\w.'’-]*)*", text, re.I)
    if not match:
        return None
    tokens = _tokens(text)
    after = _token_at(tokens, match.end())
    if after is not None and tokens[after].text in (",", "(") and after + 1 < len(tokens):
        i = after + 1
        end = i
        while end < len(tokens) and tokens[end].text not in (")", ";") and not (
                tokens[end].text == "," and end > i and tokens[end + 1 : end + 2]
                and tokens[end + 1].lower in CLAUSE_WORDS | _AUXILIARIES):
            end += 1
        if tokens[after].text == ",":
            end = min(end, _clause_end(text, tokens, i, lists=False, bare_and=True))
        span = _span(text, tokens, i, end)
        if span is not None:
            return span
    title = re.search(rf"(?:{TITLES})\s*$", text[: match.start()])
    return Span(title.start(), title.start() + len(title.group(0).rstrip()), "phrase") if title else None


def open_answer(question: str, answer_type: str | None, text: str, known: frozenset[str]) -> Span | None:
    """The phrase of ``text`` that answers an open question, or None.

    Args:
        question: the question as asked.
        answer_type: its expected type (``qa.query.answer_type``); typed questions other
            than names and reasons are left to ``qa.spans``.
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
