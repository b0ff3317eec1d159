"""The answer step: question parsing on real spaCy parses, candidate spans of an annotated
sentence, the reader's stored models, answers cut from their citations on the real chapter,
questions typed with invisible characters, and the index of a corpus given with --corpus."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.documents.textfold import clean_question
from index.encode.hashing import HashingEmbedder
from index.errors import ConfigError
from index.loader import load_index
from index.records import Chunk
from index.store import CURRENT
from index.text.annotate import annotate
from index.text.nlp import load_nlp
from qa.cli import corpus_index_dir
from qa.query import analyse, parse_question
from qa.reader.candidates import SentenceView, generate
from qa.reader.extractive import CONFIDENCE_FEATURES
from qa.reader.features import FEATURES
from qa.reader.model import MODEL_FILE, Logistic, ReaderModel, load_model, save_model
from qa.reader.sentences import ScoredSentence
from qa.service import QAService
from qa.settings import Settings
from tests.helpers.procs import run_qa


@pytest.fixture(scope="module")
def nlp() -> Any:
    return load_nlp()


# -- the question, parsed by the real pipeline -----------------------------------------------


@pytest.mark.parametrize(
    ("question", "wh", "focus", "verb", "counted"),
    [
        ("Which port did the ships visit?", "which", "port", "visit", frozenset()),
        ("How many harbor pilots work there?", "how", None, "work", frozenset({"harbor", "pilot"})),
        (
            "How many fishing boats were inspected?",
            "how",
            None,
            "inspect",
            frozenset({"fish", "boat"}),
        ),
        ("Which city hosted the regatta?", "which", "city", "host", frozenset()),
        ("When did the ferry service begin?", "when", None, "begin", frozenset()),
        ("What kind of fishing is allowed in the bay?", "what", "fishing", "allow", frozenset()),
        ("What is the purpose of the lighthouse board?", "what", "purpose", None, frozenset()),
        ("Where do the ferries dock?", "where", None, "dock", frozenset()),
    ],
)
def test_parse_question(
    nlp: Any, question: str, wh: str, focus: str | None, verb: str | None, counted: frozenset[str]
) -> None:
    parsed = parse_question(nlp(question))
    assert (parsed["wh"], parsed["focus"], parsed["verb"]) == (wh, focus, verb), parsed
    assert parsed["counted"] == counted


@pytest.mark.parametrize(
    ("question", "answer_type", "counted"),
    [
        ("Which port did the ships visit?", "place", frozenset()),
        ("How many harbor pilots work there?", "quantity", frozenset({"harbor", "pilot"})),
        ("Which city hosted the regatta?", "place", frozenset()),
        ("When did the ferry service begin?", "date", frozenset()),
    ],
)
def test_analyse_with_the_parser(
    nlp: Any, question: str, answer_type: str, counted: frozenset[str]
) -> None:
    query = analyse(question, {}, nlp)
    assert query.answer_type == answer_type
    assert query.counted == counted


@pytest.mark.parametrize(
    "question",
    ["What did the minister say?", "What did the president announce at the summit?"],
)
def test_the_subject_of_a_what_did_question_is_not_its_focus(nlp: Any, question: str) -> None:
    """'What did the minister say?' asks for what was said, not for a person: the noun after
    the auxiliary is the subject (as ``qa.query.head_word`` already knows)."""
    parsed = parse_question(nlp(question))
    assert parsed["wh"] == "what"
    assert parsed["focus"] is None, parsed
    assert analyse(question, {}, nlp).answer_type is None


# -- candidate spans of an invented, annotated sentence --------------------------------------

SENTENCE = "On 5\u00a0May 2023, Pre\u00adsident Joe Bi\u00adden opened the new harbor in Ja\u00adpan\u2019s north."


def scored_sentence(text: str) -> ScoredSentence:
    """The sentence as the reader holds it: inside a chunk, at a non-zero document offset."""
    start = len("1 Harbor\n\n")
    end = start + len(text)
    chunk = Chunk("c1", "harbor.txt", ("1 Harbor",), start, end, text, sentences=((start, end),))
    return ScoredSentence(chunk, 0, 0, start, end, text, 1.0, 0.5, 1.0)


@pytest.mark.parametrize(
    ("question", "expected", "expected_type"),
    [
        ("Who opened the new harbor?", "Joe Bi\u00adden", "person"),
        ("When did the harbor open?", "5\u00a0May 2023", "date"),
    ],
)
def test_candidates_are_spans_of_the_sentence_and_include_the_entity(
    nlp: Any, question: str, expected: str, expected_type: str
) -> None:
    sentence = scored_sentence(SENTENCE)
    (annotation,) = annotate(nlp, [sentence.key], [SENTENCE])
    view = SentenceView(annotation)
    candidates = generate(analyse(question, {}, nlp), sentence, view, {})
    assert candidates
    for c in candidates:
        assert 0 <= c.start < c.end <= len(SENTENCE)
        assert c.text == SENTENCE[c.start : c.end]
        assert c.text == c.text.strip() and c.text[-1] != "."
        assert 0 <= c.first <= c.root < c.last <= len(annotation.tokens)
        assert annotation.tokens[c.first].end > c.start  # the tokens cover the span
        assert annotation.tokens[c.last - 1].start < c.end
    assert len({(c.start, c.end) for c in candidates}) == len(candidates)  # merged by offsets
    entity = next(c for c in candidates if c.text == expected)
    assert "entity" in entity.kinds and entity.type == expected_type
    assert any(c.kinds == {"sentence"} for c in candidates)


def test_candidates_without_annotation_still_come_from_the_rules(nlp: Any) -> None:
    sentence = scored_sentence(SENTENCE)
    candidates = generate(analyse("When did the harbor open?", {}, nlp), sentence, None, {})
    assert all(c.text == SENTENCE[c.start : c.end] and c.first == -1 for c in candidates)
    assert any("rule" in c.kinds and "2023" in c.text for c in candidates)


# -- the reader's models ----------------------------------------------------------------------


def test_logistic_round_trips_through_plain_json() -> None:
    rng = np.random.default_rng(7)
    n = 5
    model = Logistic(
        tuple(f"f{i}" for i in range(n)),
        rng.normal(size=n).round(6),
        rng.uniform(0.5, 2.0, size=n).round(6),
        rng.normal(size=n).round(6),
        -0.25,
    )
    back = Logistic.from_dict(json.loads(json.dumps(model.to_dict())))
    assert back.features == model.features and back.intercept == model.intercept
    for name in ("mean", "scale", "coef"):
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name))
    rows = rng.normal(size=(4, n))
    np.testing.assert_allclose(back.proba(rows), model.proba(rows))
    assert ((model.proba(rows) > 0) & (model.proba(rows) < 1)).all()


def test_logistic_refuses_lengths_that_differ() -> None:
    raw = Logistic.zero(("a", "b")).to_dict()
    raw["coef"] = [0.0]
    with pytest.raises(ValueError, match="lengths differ"):
        Logistic.from_dict(raw)


def test_untrained_model_scores_every_row_alike_and_never_abstains() -> None:
    model = ReaderModel.untrained(FEATURES, CONFIDENCE_FEATURES)
    rows = np.random.default_rng(0).normal(size=(3, len(FEATURES)))
    np.testing.assert_array_equal(model.ranker.logits(rows), np.zeros(3))
    conf_rows = np.random.default_rng(1).normal(size=(3, len(CONFIDENCE_FEATURES))) * 100
    assert (model.confidence.proba(conf_rows) >= model.threshold).all()


def test_load_model_refuses_a_file_fitted_on_other_features(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    other = (*FEATURES[:-1], "a_feature_the_code_no_longer_computes")
    save_model(ReaderModel.untrained(other, CONFIDENCE_FEATURES), "test", path)
    with pytest.raises(ConfigError) as caught:
        load_model(path, expected=FEATURES)
    message = str(caught.value)
    assert "other features" in message and str(path) in message
    assert "python -m eval.train_reader" in message


def test_load_model_reads_its_own_file_and_applies_a_threshold(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    save_model(
        ReaderModel(Logistic.zero(FEATURES), Logistic.zero(CONFIDENCE_FEATURES), 0.3), "test", path
    )
    assert json.loads(path.read_text("utf-8"))["fitted"] == "test"
    assert load_model(path, expected=FEATURES).threshold == 0.3
    assert load_model(path, threshold=0.7, expected=FEATURES).threshold == 0.7


@pytest.mark.parametrize(
    ("content", "case"),
    [
        (None, "missing"),
        ("{not json", "not JSON"),
        ('{"ranker": {}}', "keys missing"),
        ('{"ranker": 1, "confidence": 2, "threshold": 0}', "wrong types"),
    ],
)
def test_load_model_says_how_to_refit_a_bad_file(
    tmp_path: Path, content: str | None, case: str
) -> None:
    path = tmp_path / "model.json"
    if content is not None:
        path.write_text(content, "utf-8")
    with pytest.raises(ConfigError, match=r"refit with: python -m eval\.train_reader"):
        load_model(path, expected=FEATURES)


def test_the_shipped_model_is_fitted_on_the_features_the_code_computes() -> None:
    model = load_model(expected=FEATURES)
    assert model.ranker.features == FEATURES
    assert model.confidence.features == CONFIDENCE_FEATURES
    assert MODEL_FILE.is_file()


CORPUS = {
    "harbor.txt": (
        "1 Harbor\n\n"
        "The harbor opened in 1901. About 40 pilots guide ships into the port. "
        "The ferry service to the island began on 3 June 1955.\n"
    ),
    "bridge.md": "# Bridge\n\nThe river bridge is 300 m long and was built by the city.\n",
}


def test_an_untrained_reader_never_abstains(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in CORPUS.items():
        (corpus / name).write_text(text, "utf-8")
    service = QAService(
        Settings(corpus_dir=corpus, index_dir=tmp_path / "index", reader="features"),
        embedder=HashingEmbedder(),
        model=ReaderModel.untrained(FEATURES, CONFIDENCE_FEATURES),
    )
    for question in (
        "When did the harbor open?",
        "How long is the bridge?",
        "Who won the 2022 football World Cup?",
        "zzz qqq",
    ):
        answer = service.ask(question)
        assert not answer.abstained and answer.answer, (question, answer)
        assert answer.confidence == 0.5
        (citation,) = answer.citations
        text = (corpus / citation.doc_id).read_text("utf-8")
        assert text[citation.start : citation.end] == citation.quote
        assert answer.answer in citation.quote


# -- the real chapter -------------------------------------------------------------------------

ANSWERED = [
    ("When was the Extended Deterrence Dialogue established?", "2010"),
    ("What does the abbreviation MCAS stand for?", "Marine Corps Air Station"),
    ("On what date did Ishiba and Trump hold their summit in Washington?", "February 7, 2025"),
    (
        "Since what year have Japan and the U.S. been jointly developing and producing the "
        "SM-3 Block IIA?",
        "2006",
    ),
]


def document(service: Any, doc_id: str) -> str:
    return (Path(service.settings.corpus_dir) / doc_id).read_bytes().decode("utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(("question", "expected"), ANSWERED)
def test_the_answer_is_cut_from_its_citation(
    features_service: Any, question: str, expected: str
) -> None:
    real_service = features_service  # the feature reader's own spans
    answer = real_service.ask(question)
    assert not answer.abstained and answer.answer is not None, answer
    assert expected in answer.answer
    citation = answer.citations[0]
    text = document(real_service, citation.doc_id)
    assert text[citation.start : citation.end] == citation.quote
    assert answer.answer in citation.quote
    assert answer.answer_start is not None and answer.answer_end is not None
    assert text[answer.answer_start : answer.answer_end] == answer.answer
    assert citation.start <= answer.answer_start < answer.answer_end <= citation.end
    for passage in answer.passages:
        assert document(real_service, passage.doc_id)[passage.start : passage.end] == passage.text


# Questions as pasted from a web page or a PDF, and the plain form a reader sees.
TYPED = [
    (
        "When was the Extended\u00a0Deterrence Dialogue estab\u00adlished?",
        "When was the Extended Deterrence Dialogue established?",
    ),
    (
        "\ufeffWhen was the Extended Deterrence Dialogue established?",
        "When was the Extended Deterrence Dialogue established?",
    ),
    (
        "When was the \u201cExtended Deterrence Dialogue\u201d established?",
        'When was the "Extended Deterrence Dialogue" established?',
    ),
    (
        "Roughly how\u00a0many U.S.\u00a0Marines based in Oki\u00adnawa are slated to be moved to "
        "Guam and other locations?",
        "Roughly how many U.S. Marines based in Okinawa are slated to be moved to Guam and other "
        "locations?",
    ),
    (
        "What does the abbre\u00adviation MCAS stand\u00a0for?",
        "What does the abbreviation MCAS stand for?",
    ),
    ("What does \u2018GPI\u2019 stand for?", "What does 'GPI' stand for?"),
    (
        "On what date did Ishiba and Trump hold their sum\u200bmit in\u00a0Washington?",
        "On what date did Ishiba and Trump hold their summit in Washington?",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("typed", "plain"),
    TYPED,
    ids=[
        "no-break space, soft hyphen",
        "byte order mark",
        "curly double quotes",
        "no-break space in 'how many'",
        "no-break space in 'stand for'",
        "curly single quotes",
        "zero-width space",
    ],
)
def test_invisible_characters_in_a_question_do_not_change_the_answer(
    real_service: Any, typed: str, plain: str
) -> None:
    assert clean_question(typed) == plain  # what a reader of the question sees
    expected = real_service.ask(plain)
    got = real_service.ask(typed)
    assert (got.answer, got.abstained) == (expected.answer, expected.abstained), (got, expected)
    assert (got.answer_start, got.answer_end) == (expected.answer_start, expected.answer_end)
    assert [(c.doc_id, c.start, c.end) for c in got.citations] == [
        (c.doc_id, c.start, c.end) for c in expected.citations
    ]
    assert got.confidence == pytest.approx(expected.confidence, abs=0.05)


# -- an index of its own for a corpus given with --corpus -------------------------------------


def test_corpus_index_dir_is_one_folder_per_corpus_under_the_index_dir(tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    first = corpus_index_dir(Settings(corpus_dir=tmp_path / "a" / "corpus", index_dir=index_dir))
    second = corpus_index_dir(Settings(corpus_dir=tmp_path / "b" / "corpus", index_dir=index_dir))
    odd = corpus_index_dir(Settings(corpus_dir=tmp_path / "my docs!", index_dir=index_dir))
    assert first != second
    for folder in (first, second, odd):
        assert folder.parent == index_dir / "corpora"
    assert first.name.startswith("corpus-") and odd.name.startswith("my-docs--")
    again = corpus_index_dir(Settings(corpus_dir=tmp_path / "a" / "corpus", index_dir=index_dir))
    assert again == first


def snapshot(folder: Path, skip: str = "corpora") -> dict[str, str]:
    """Every file of an index folder (but the ``corpora`` subtree) with its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != skip
    }


def write_corpus(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
    return folder


def test_rebuilding_the_default_index_keeps_the_corpus_indexes(
    tmp_path: Path, make_service: Callable[..., Any]
) -> None:
    default = make_service(CORPUS)
    default.open()
    other = write_corpus(
        tmp_path / "other-docs", {"pier.txt": "1 Pier\n\nThe pier is 300 m long.\n"}
    )
    settings = Settings(corpus_dir=other, index_dir=default.settings.index_dir)
    own = corpus_index_dir(settings)
    QAService(settings.model_copy(update={"index_dir": own}), embedder=HashingEmbedder()).open()
    default.build()  # a forced rebuild of the default index
    assert load_index(own).manifest["corpus"]["dir"] == str(other)


@pytest.mark.slow
def test_qa_ask_with_corpus_builds_its_own_index_and_leaves_the_default_alone(
    tmp_path: Path,
) -> None:
    index_dir = tmp_path / "idx"
    default_corpus = write_corpus(tmp_path / "corpus", CORPUS)
    QAService(
        Settings(corpus_dir=default_corpus, index_dir=index_dir), embedder=HashingEmbedder()
    ).open()
    before = snapshot(index_dir)
    assert CURRENT in before
    other = write_corpus(
        tmp_path / "pier-docs", {"pier.txt": "1 Pier\n\nThe old pier was rebuilt in 1987.\n"}
    )
    env = {"QA_INDEX_DIR": str(index_dir), "QA_CORPUS_DIR": str(default_corpus)}
    question = "When was the old pier rebuilt?"

    result = run_qa("ask", question, "--json", "--corpus", other, **env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert not answer["abstained"] and "1987" in answer["answer"], answer
    assert {c["doc_id"] for c in answer["citations"]} == {"pier.txt"}
    own = corpus_index_dir(Settings(corpus_dir=other, index_dir=index_dir))
    assert own.parent == index_dir / "corpora" and (own / CURRENT).is_file()
    assert load_index(own).manifest["corpus"]["dir"] == str(other)
    assert snapshot(index_dir) == before  # the default index is not touched

    again = run_qa("ask", question, "--json", "--corpus", other, **env)
    assert again.returncode == 0, again.stderr
    assert "building the index" not in again.stderr  # its own index is reused
    assert json.loads(again.stdout)["answer"] == answer["answer"]
    assert snapshot(index_dir) == before
