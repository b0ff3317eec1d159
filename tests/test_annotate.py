"""Index-time annotations: the real spaCy pipeline runs on the folded sentence, and every
stored offset points into the original text (soft hyphens, no-break spaces, zero-width
characters and curly quotes included); the file round-trips and is guarded by the manifest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.documents.textfold import fold, fold_plain
from index.loader import check_index, load_index
from index.store import ANNOTATIONS, MANIFEST, REBUILD_HINT, current_version
from index.text.annotate import Annotation, Token, annotate, read_annotations, write_annotations
from index.text.nlp import load_nlp
from tests.helpers.procs import run_qa

SENTENCES = (
    "Pre\u00adsident Joe Bi\u00adden visited Ja\u00adpan in Oc\u00adtober 2023.",
    "On 5\u00a0May\u00a02023, the harbor\u00a0board met Pre\u00adsident Biden.",
    "The \u201cHarbor\u200bPilot\u201d programme began in the port\u2019s north basin.",
    "\ufeffAbout 1,200\u00a0people joined the Zero\u200dWidth rowing club.",
    "Pre\u00ad\u00adsident  Biden\u00a0\u00a0spoke to 40 pilots.",
)


@pytest.fixture(scope="module")
def nlp() -> Any:
    return load_nlp()


def keys_for(texts: tuple[str, ...] | list[str], offset: int = 100) -> list[tuple[str, int, int]]:
    """Sentence keys as the index makes them: document offsets, not starting at 0."""
    keys, start = [], offset
    for text in texts:
        keys.append(("doc.txt", start, start + len(text)))
        start += len(text) + 1
    return keys


def assert_offsets_point_into_the_original(nlp: Any, text: str, record: Annotation) -> None:
    """Each stored token, cut from the original sentence and folded, is what spaCy read."""
    doc = nlp(fold(text)[0])
    assert len(record.tokens) == len(doc)
    for token, seen in zip(record.tokens, doc, strict=True):
        assert 0 <= token.start < token.end <= len(text)
        original = text[token.start : token.end]
        assert fold_plain(original) == seen.text, (text, token, seen.text)
        # the span starts and ends on a visible character, never on a soft hyphen
        assert fold_plain(original[0]) and fold_plain(original[-1]), (text, token)
        assert (token.lemma, token.pos, token.dep, token.head) == (
            seen.lemma_,
            seen.pos_,
            seen.dep_,
            seen.head.i,
        )
    for first, last, _ in record.ents:
        assert 0 <= first < last <= len(record.tokens)
    for first, last in record.chunks:
        assert 0 <= first < last <= len(record.tokens)


def test_token_offsets_point_into_the_original_sentence(nlp: Any) -> None:
    records = annotate(nlp, keys_for(SENTENCES), list(SENTENCES))
    assert [r.key for r in records] == keys_for(SENTENCES)
    for text, record in zip(SENTENCES, records, strict=True):
        assert_offsets_point_into_the_original(nlp, text, record)


def span_text(text: str, record: Annotation, first: int, last: int) -> str:
    return text[record.tokens[first].start : record.tokens[last - 1].end]


def test_entities_and_noun_chunks_cover_the_soft_hyphenated_words(nlp: Any) -> None:
    text = SENTENCES[0]
    (record,) = annotate(nlp, keys_for([text]), [text])
    ents = {span_text(text, record, i, j): label for i, j, label in record.ents}
    assert ents["Joe Bi\u00adden"] == "PERSON"
    assert ents["Ja\u00adpan"] == "GPE"
    assert "Oc\u00adtober 2023" in ents
    chunks = [span_text(text, record, i, j) for i, j in record.chunks]
    assert "Pre\u00adsident Joe Bi\u00adden" in chunks


def test_pre_soft_hyphen_sident_biden_reads_as_president_biden(nlp: Any) -> None:
    """The soft hyphen changes nothing spaCy finds: same tokens, entities and chunks as the
    plain spelling, and the chunk maps onto the soft-hyphenated word."""
    odd = "The talks with Pre\u00adsident Biden ended in Washington."
    plain = odd.replace("\u00ad", "")
    odd_record, plain_record = annotate(nlp, keys_for([odd, plain]), [odd, plain])
    assert [t[2:] for t in map(astuple, odd_record.tokens)] == [
        t[2:] for t in map(astuple, plain_record.tokens)
    ]
    assert odd_record.ents == plain_record.ents
    assert odd_record.chunks == plain_record.chunks
    chunks = [span_text(odd, odd_record, i, j) for i, j in odd_record.chunks]
    assert "Pre\u00adsident Biden" in chunks
    ents = {span_text(odd, odd_record, i, j): label for i, j, label in odd_record.ents}
    assert ents.get("Biden") == "PERSON"


def astuple(token: Token) -> tuple[Any, ...]:
    return (token.start, token.end, token.lemma, token.pos, token.tag, token.dep, token.head)


WORDS = [
    "Harbor",
    "pilots",
    "met",
    "the",
    "Mayor",
    "of",
    "Lyon",
    "in",
    "May",
    "2021",
    "and",
    "signed",
    "agreement",
    "with",
    "Kenji",
    "Sato",
    "for",
    "1,500",
    "boats",
    ".",
]
ODD_CHARS = ["\u00ad", "\u200b", "\u200d", "\ufeff", "\u2060"]


@st.composite
def odd_sentences(draw: st.DrawFn) -> str:
    """A sentence of plain words with format characters inside words and odd spaces and
    quotes between them."""
    parts: list[str] = []
    for word in draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=12)):
        cut = draw(st.integers(0, len(word)))
        mark = draw(st.sampled_from(["", "", *ODD_CHARS]))
        word = word[:cut] + mark + word[cut:]
        if draw(st.booleans()):
            word = draw(st.sampled_from(["\u201c{}\u201d", "\u2018{}\u2019", "{}\u2019s"])).format(
                word
            )
        parts.append(word)
        parts.append(draw(st.sampled_from([" ", " ", "\u00a0", "\u202f", " \u200b"])))
    return "".join(parts).strip()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(odd_sentences())
def test_offsets_point_into_any_odd_sentence(text: str) -> None:
    nlp = load_nlp()
    (record,) = annotate(nlp, keys_for([text]), [text])
    assert_offsets_point_into_the_original(nlp, text, record)


def test_write_and_read_annotations_round_trip(nlp: Any, tmp_path: Path) -> None:
    texts = [*SENTENCES, "Caf\u00e9 owners in K\u014dno agreed.", ""]
    records = annotate(nlp, keys_for(texts), texts)
    path = tmp_path / ANNOTATIONS
    write_annotations(records, path)
    assert len(path.read_text("utf-8").splitlines()) == len(records)
    loaded = read_annotations(path)
    assert loaded == {r.key: r for r in records}
    assert any(
        t.lemma == "Caf\u00e9" or t.lemma == "caf\u00e9" for r in loaded.values() for t in r.tokens
    )


def test_reading_an_empty_annotations_file(tmp_path: Path) -> None:
    path = tmp_path / ANNOTATIONS
    write_annotations([], path)
    assert read_annotations(path) == {}


DOCUMENT = (
    "1 Harbor Pilots\n\n"
    "Pre\u00adsident Joe Bi\u00adden met the harbor\u00a0pilots in Oc\u00adtober 2023. "
    "About 1,200\u00a0pilots work in the \u201cNorth\u200bBasin\u201d today.\n\n"
    "2 Ferries\n\n"
    "The ferry service began in 1901. It carries 40 cars.\n"
)


@pytest.fixture()
def tiny_index(make_service: Callable[..., Any]) -> Any:
    """A service over a two-document corpus, index built with the fake embedder."""
    service = make_service(
        {"harbor.txt": DOCUMENT, "notes.md": "# Notes\n\nThe pier is 300 m long.\n"}
    )
    service.open()
    return service


def test_the_index_annotates_every_sentence_with_offsets_into_its_document(tiny_index: Any) -> None:
    settings = tiny_index.settings
    index = load_index(settings.index_dir)
    sentence_keys = {(c.doc_id, s, e) for c in index.chunks for s, e in c.sentences}
    assert set(index.annotations) == sentence_keys
    nlp = load_nlp(settings.nlp_model)
    for (doc_id, start, end), record in index.annotations.items():
        text = (settings.corpus_dir / doc_id).read_text("utf-8")[start:end]
        assert_offsets_point_into_the_original(nlp, text, record)
    harbor = (settings.corpus_dir / "harbor.txt").read_text("utf-8")
    found = {
        harbor[k[1] + r.tokens[i].start : k[1] + r.tokens[j - 1].end]: label
        for k, r in index.annotations.items()
        if k[0] == "harbor.txt"
        for i, j, label in r.ents
    }
    assert found.get("Joe Bi\u00adden") == "PERSON"


def test_annotations_are_listed_in_the_manifest_with_their_checksum(tiny_index: Any) -> None:
    version = current_version(tiny_index.settings.index_dir)
    manifest = json.loads((version / MANIFEST).read_text("utf-8"))
    digest = hashlib.sha256((version / ANNOTATIONS).read_bytes()).hexdigest()
    assert manifest["files"][ANNOTATIONS] == digest


def tamper(path: Path) -> None:
    """A change that still parses: one lemma rewritten, so only the checksum can tell."""
    lines = path.read_text("utf-8").splitlines()
    row = json.loads(lines[0])
    row["t"][0][2] = "tampered"
    lines[0] = json.dumps(row, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", "utf-8")


def test_tampered_annotations_are_reported_as_damage(tiny_index: Any) -> None:
    settings = tiny_index.settings
    config = settings.build_config()
    assert check_index(settings.corpus_dir, settings.index_dir, config).current
    tamper(current_version(settings.index_dir) / ANNOTATIONS)
    status = check_index(settings.corpus_dir, settings.index_dir, config)
    assert not status.current
    assert ANNOTATIONS in status.reasons[0] and REBUILD_HINT in status.reasons[0]


@pytest.mark.slow
def test_qa_index_check_names_tampered_annotations(tiny_index: Any) -> None:
    settings = tiny_index.settings
    args = ("index", "--check", "--corpus", settings.corpus_dir, "--index-dir", settings.index_dir)
    before = run_qa(*args)
    assert before.returncode == 0, before
    tamper(current_version(settings.index_dir) / ANNOTATIONS)
    after = run_qa(*args)
    assert after.returncode == 1, after
    assert ANNOTATIONS in after.stdout and REBUILD_HINT in after.stdout, after.stdout
    assert "Traceback" not in after.stderr
