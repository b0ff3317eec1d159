"""Short answers to open questions: the phrase rules on made-up sentences (so they are
not fitted to the chapter), and end to end on the real chapter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.text.lexical import content_words, stem
from qa.reader.rules.phrases import (
    defined_acronym,
    definition_span,
    head_phrase,
    marker_clause,
    open_answer,
    open_heads,
    question_verb,
    verb_complement,
)


def known(question: str) -> frozenset[str]:
    return frozenset(stem(content_words(question)))


ACRONYMS = {"WHO": "World Health Organization", "SMA": "Special Measures Agreements"}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What does WHO stand for?", "WHO"),
        ("What does the abbreviation WHO mean?", "WHO"),
        ("What is the full name of the WHO?", "WHO"),
        ("What do SMAs stand for?", "SMA"),
        ("What does the WHO do?", None),
        ("What does UNESCO stand for?", None),  # not defined in the corpus
    ],
)
def test_defined_acronym(question: str, expected: str | None) -> None:
    assert defined_acronym(question, ACRONYMS) == expected


def test_definition_span_is_the_long_form_as_written() -> None:
    text = "Delegates of the World  Health Organization (WHO) met in Geneva."
    span = definition_span(text, "WHO", "World Health Organization")
    assert span is not None and span.text(text) == "World  Health Organization"
    assert definition_span("The WHO met in Geneva.", "WHO", "World Health Organization") is None
    text = "They run the “SAFE: Students Abroad For Exchange” scheme."
    span = definition_span(text, "SAFE", "Students Abroad For Exchange")
    assert span is not None and span.text(text) == "Students Abroad For Exchange"


@pytest.mark.parametrize(
    ("question", "heads"),
    [
        ("Which anti-ship missile did they see?", ["missile", "anti-ship"]),
        ("What kind of threats does the plan counter?", ["threats"]),
        ("Which resolution forbids member states from trading?", ["resolution"]),
        ("Which land return completed the plan?", ["return", "land"]),
        ("What did the minister say?", []),
    ],
)
def test_open_heads(question: str, heads: list[str]) -> None:
    assert open_heads(question) == heads


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        (
            "Which treaty did the two countries sign in 1960?",
            "In 1960 the two countries signed the Treaty of Mutual Cooperation and Security, which remains in force.",
            "the Treaty of Mutual Cooperation and Security",
        ),
        (
            "Which resolution banned the transfers?",
            "The transfers were banned by Security Council resolution 2375 (adopted in 2017).",
            "Security Council resolution 2375",
        ),
        (
            "What costs does the city cover?",
            "The city covers the labor costs of the staff, energy costs, and travel costs, under the agreement.",
            "the labor costs of the staff, energy costs, and travel costs",
        ),
        (
            "What kind of threats does the plan counter?",
            "The plan aims to counter new threats, including drones and cruise missiles.",
            "drones and cruise missiles",
        ),
        (
            "Between which two kinds of weapons did the talks distinguish?",
            "The talks distinguished between conventional and nuclear weapons.",
            "conventional and nuclear weapons",
        ),
        (
            "Which trilateral coordination did the minister praise?",
            "The minister praised the trilateral coordination among Canada, Mexico and the U.S. for stability.",
            "the trilateral coordination among Canada, Mexico and the U.S. for stability",
        ),
        (
            "What audio equipment did the visitors test?",
            "The visitors tested a new microphone and the Digital Audio Mixing Console.",
            "the Digital Audio Mixing Console",
        ),
    ],
)
def test_head_phrase(question: str, text: str, expected: str) -> None:
    span = head_phrase(question, text, known(question))
    assert span is not None and span.text(text) == expected


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("What third goal did they set?", "They set new goals for trade."),  # the ordinal is missing
        ("Which harbour did they visit?", "They visited the city in May."),  # the noun is absent
        ("Which goals did they set for trade?", "They set goals for trade."),  # nothing new
    ],
)
def test_head_phrase_gives_up(question: str, text: str) -> None:
    assert head_phrase(question, text, known(question)) is None


def test_marker_clauses() -> None:
    text = "The council met in March in order to review the budget, as required by law."
    question = "Why did the council meet in March?"
    span = marker_clause(question, text, known(question), reason=True)
    assert span is not None and span.text(text) == "in order to review the budget"

    text = ("The students learned about the city through visits to museums, talks with officials, "
            "and tours of the harbor.")
    question = "How did the students learn about the city?"
    span = marker_clause(question, text, known(question), reason=False)
    assert span is not None
    assert span.text(text) == "through visits to museums, talks with officials, and tours of the harbor"
    # not a why/how question, or a marker that only repeats the question
    assert marker_clause("What did the students see?", text, known(question), reason=False) is None
    repeat = "The students came to the city so that students visit the city."
    assert marker_clause(question, repeat, known(question), reason=False) is None


@pytest.mark.parametrize(
    ("question", "verb"),
    [
        ("What did the ministers welcome at the meeting?", "welcome"),
        ("What could an attack lead to?", "lead"),
        ("What did the U.S. reaffirm at the meeting in Paris?", "reaffirm"),
        ("What did the minister urge the participants to do?", None),
        ("What is the capital of France?", None),
    ],
)
def test_question_verb(question: str, verb: str | None) -> None:
    assert question_verb(question) == verb


def test_verb_complement() -> None:
    text = "At the meeting, the ministers welcomed the plan to expand the port, which was drafted in May."
    question = "What did the ministers welcome at the meeting?"
    span = verb_complement(question, text, known(question))
    assert span is not None and span.text(text) == "the plan to expand the port"
    # the complement must hold the wh-phrase's words when the sentence has them
    text = "They observed a parade and audio equipment such as the Digital Mixer."
    question = "What audio equipment did they observe?"
    assert verb_complement(question, text, known(question)) is None


@pytest.mark.parametrize("answer_type", ["date", "person", "quantity", "place", "money"])
def test_typed_questions_are_left_to_the_span_recognizer(answer_type: str) -> None:
    text = "In 1960 the two countries signed the Treaty of Mutual Cooperation and Security."
    question = "Which treaty did the two countries sign?"
    assert open_answer(question, answer_type, text, known(question)) is None
    assert open_answer(question, None, text, known(question)) is not None


@pytest.mark.parametrize(
    "question",
    [
        "What does GPI stand for?",
        "What does the abbreviation PFAS stand for?",
        "Which anti-ship missile did the delegations see at Camp Kengun?",
        "Why did Japan decide to refer to the host nation support budget by a particular Japanese phrase?",
        "What commitment did the U.S. reaffirm at the EDD meeting in Cheyenne?",
    ],
)
def test_real_chapter_short_answers_lie_inside_their_citation(features_service: Any, question: str) -> None:
    real_service = features_service  # the phrase rules belong to the feature reader
    answer = real_service.ask(question)
    assert not answer.abstained and answer.citations
    quote = answer.citations[0].quote
    assert answer.answer in quote and len(answer.answer) < len(quote)
    start = answer.citations[0].start + quote.index(answer.answer)
    document = real_service.document(answer.citations[0].doc_id)
    assert document[start : start + len(answer.answer)] == answer.answer


def test_real_chapter_definitions(features_service: Any) -> None:
    real_service = features_service  # the phrase rules belong to the feature reader
    assert real_service.ask("What does GPI stand for?").answer == "Glide Phase Interceptor"
    assert real_service.ask("What does PFAS stand for?").answer == "per- and polyfluoroalkyl substances"


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("What does the term “soft power” mean?", "soft power"),
        ("What is meant by hosted payloads in this context?", "hosted payloads"),
        ("How does the report define burden sharing?", "burden sharing"),
        ("What counts as a 'ship-to-ship transfer' under the resolution?", "ship-to-ship transfer"),
        ("To whom is deterrence provided, as the footnote defines it?", None),
        ("What does the minister want?", None),
    ],
)
def test_defined_term(question: str, term: str | None) -> None:
    from qa.reader.rules.phrases import defined_term

    assert defined_term(question) == term


def test_term_definitions() -> None:
    from qa.reader.rules.phrases import term_definition

    text = "In this report, “soft power” refers to the ability to attract others, which is rare."
    span = term_definition(text, "soft power")
    assert span is not None and span.text(text) == "the ability to attract others"
    text = "Burden sharing: the division of costs among allies."
    span = term_definition(text, "burden sharing")
    assert span is not None and span.text(text) == "the division of costs among allies"
    footnote = "• (3) The division of costs among allies."
    span = term_definition(footnote, "burden sharing", "Footnote (3) to: They discussed burden sharing.(3)")
    assert span is not None and span.text(footnote) == "The division of costs among allies"
    assert term_definition(footnote, "soft power", "Footnote (3) to: They discussed burden sharing.(3)") is None
    assert term_definition("Soft power was discussed.", "soft power") is None


def test_real_chapter_footnote_defines_a_term(features_service: Any) -> None:
    real_service = features_service  # the phrase rules belong to the feature reader
    answer = real_service.ask("What is meant by extended deterrence?")
    assert answer.answer is not None and answer.answer.startswith("Providing deterrence")


def test_who_questions_about_groups_get_the_subject() -> None:
    from qa.reader.rules.phrases import subject_phrase

    text = "At the range, Canadian Army artillery crews train on Howitzer Model II drills."
    question = "Who trains on the Howitzer drills?"
    span = subject_phrase(question, text, known(question))
    assert span is not None and span.text(text) == "Canadian Army artillery crews"
    assert subject_phrase("Who is the programme for?", text, known(question)) is None


_WORDS = st.sampled_from(
    ["the", "plan", "Plan", "U.S.", "and", ",", "(", ")", "ACR", ":", "which", "to", "of", "“", "”",
     "refers", "means", "costs", "in", "order", "so", "that", "through", "by", "-", "(1)", ".",
     "Defense", "Minister", "KIHARA", "III", "train", "crews", "welcomed", "what", "?", "é", "東京"]
)


@settings(max_examples=300, deadline=None)
@given(
    question=st.lists(_WORDS, max_size=14).map(" ".join),
    text=st.lists(_WORDS, max_size=40).map(" ".join),
    answer_type=st.sampled_from([None, "reason", "name", "organization", "person"]),
)
def test_phrase_rules_never_fail_and_stay_inside_the_text(question: str, text: str, answer_type: str | None) -> None:
    from qa.reader.rules.phrases import defined_term, subject_phrase, term_definition

    spans = [
        open_answer(question, answer_type, text, known(question)),
        subject_phrase(question, text, known(question)),
        definition_span(text, "ACR", "the plan"),
    ]
    term = defined_term(question)
    if term:
        spans.append(term_definition(text, term, text))
    for span in spans:
        if span is not None:
            assert 0 <= span.start < span.end <= len(text)
            assert span.text(text).strip() == span.text(text)


def test_complements_stop_at_a_coordinated_clause_and_follow_embedded_verbs() -> None:
    text = "The mayor expressed gratitude for the volunteers' work in the flood, and stated that more help was needed."
    question = "What did the mayor express gratitude for?"
    span = verb_complement(question, text, known(question))
    assert span is not None and span.text(text) == "the volunteers' work in the flood"
    assert question_verb("What did the city decide to build near the river?") == "build"
    text = "In May the city decided to build a new bridge near the river."
    question = "What did the city decide to build near the river?"
    span = verb_complement(question, text, known(question))
    assert span is not None and span.text(text) == "a new bridge"


def test_how_questions_take_a_means_or_cause_not_a_purpose() -> None:
    text = "The projects, aimed at deepening ties, are run through exchanges between schools."
    question = "How are the projects run?"
    span = marker_clause(question, text, known(question), reason=False)
    assert span is not None and span.text(text) == "through exchanges between schools"


def test_quoted_names_join_their_noun() -> None:
    text = "They observed the Canada-U.S.-Mexico command post exercise “Blue Harbor 5” in May."
    question = "Which command post exercise did they observe?"
    span = head_phrase(question, text, known(question))
    assert span is not None and "command post exercise “Blue Harbor 5”" in span.text(text)


def test_lists_keep_their_inner_and_and_perfect_tense_verbs_have_complements() -> None:
    text = "The forum lets them discuss trade, energy and water policy, and cyber issues, which matter."
    question = "What does the forum let them discuss?"
    span = verb_complement(question, text, known(question))
    assert span is not None and span.text(text) == "trade, energy and water policy, and cyber issues"
    assert question_verb("What has the city borne by signing the deal?") == "borne"


def test_reason_markers() -> None:
    text = "The club is named “Roots” with the hope that it will grow members who lead the town."
    question = "Why is the club named Roots?"
    span = marker_clause(question, text, known(question), reason=True)
    assert span is not None and span.text(text) == "with the hope that it will grow members who lead the town"
    text = "They have worked together since 2006, because the threat grew."
    question = "Why have they worked together?"
    span = marker_clause(question, text, known(question), reason=True)
    assert span is not None and span.text(text) == "because the threat grew"  # not "since 2006"


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("Who is Moreau?", "■MOREAU Lea, third year student at the Lyon Music School", "third year student at the Lyon Music School"),
        ("Who was Anne Dupont?", "General Anne B. Dupont (Commander, Allied Air Command) visited Paris.", "Commander, Allied Air Command"),
        ("Who is Martin?", "In May, Foreign Minister Martin visited Rome.", "Foreign Minister"),
        ("Who is Martin?", "The report was written in May.", None),
    ],
)
def test_identity_questions_get_the_role(question: str, text: str, expected: str | None) -> None:
    from qa.query import answer_type
    from qa.reader.rules.phrases import identity_phrase

    assert answer_type(question) is None  # not a request for a person's name
    span = identity_phrase(question, text)
    assert (span.text(text) if span else None) == expected


def test_to_do_questions_get_the_infinitive_clause() -> None:
    from qa.query import answer_type
    from qa.reader.rules.phrases import to_do_clause

    question = "What were the volunteers encouraged to do?"
    assert answer_type(question) is None  # an action, not the person who encouraged them
    text = "In May, Mayor Rossi met the volunteers and encouraged them to keep the river clean, which they did."
    span = to_do_clause(question, text, known(question))
    assert span is not None and span.text(text) == "to keep the river clean"
    assert open_answer(question, None, text, known(question)) == span
