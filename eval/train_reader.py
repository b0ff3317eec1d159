"""Fit the reader's span ranker and confidence model on the dev splits of every gold set.

    python -m eval.train_reader            # all corpora: the chapter and eval/corpora/*
    python -m eval.train_reader --dry-run  # cross-validated figures only

Each corpus is indexed on its own (under ``.qa_index/eval/<name>``) and its dev questions
are run through the service as a user would; every candidate span becomes a row labelled
by strict match with the gold answers. A logistic ranker is fitted with grouped
cross-validation (no question in two folds); its held-out scores give each question's top
candidate, on which a second logistic model learns the probability that the top answer is
right (the confidence). The abstention threshold makes the most held-out dev questions come
out right (answered right, or abstained on when unanswerable) while abstaining on at most
MAX_FALSE_ABSTENTION of the answerable ones.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.corpora import corpora
from eval.gold import GoldItem, load_gold
from eval.metrics.answers import strict_match, token_f1
from qa.query import Query
from qa.reader.extractive import CONFIDENCE_FEATURES, ExtractiveReader, Scored
from qa.reader.features import FEATURES
from qa.reader.model import Logistic, ReaderModel, save_model
from qa.service import QAService
from qa.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
REPORT_FILE = Path(__file__).with_name("reader_training.json")
MAX_FALSE_ABSTENTION = 0.05
FOLDS = 5


@dataclass
class Question:
    """One dev question's candidates: features, labels and what the reader needs to
    recompute its confidence from other logits."""

    corpus: str
    item: GoldItem
    features: np.ndarray
    labels: np.ndarray  # the positives the ranker learns (best strict matches)
    strict: np.ndarray  # every candidate that strictly matches a gold answer
    scored: Scored
    query: Query
    reader: ExtractiveReader  # recomputes the confidence inputs from held-out logits


def collect(split: str = "dev", k: int = 5) -> list[Question]:
    """Run every question of ``split`` through an untrained reader and keep its candidates."""
    out: list[Question] = []
    untrained = ReaderModel.untrained(FEATURES, CONFIDENCE_FEATURES)
    for name, corpus, gold in corpora():
        overrides: dict[str, Any] = {
            "corpus_dir": corpus, "index_dir": ROOT / ".qa_index" / "eval" / name, "cache_size": 0}
        settings = Settings(**overrides, reader="features")
        service = QAService(settings, model=untrained)
        service.open()
        reader = service.loaded.reader
        assert isinstance(reader, ExtractiveReader)
        for item in load_gold(gold, split):
            query, hits, vector = service.prepare(item.question, k)
            scored = reader.score(query, hits, vector)
            texts = [c.text for c in scored.candidates]
            strict = np.asarray([item.answerable and strict_match(t, item.answers) for t in texts],
                                dtype=bool)
            out.append(Question(name, item, scored.features, best_spans(texts, item.answers),
                                strict, scored, query, reader))
        print(f"{name}: {sum(q.corpus == name for q in out)} {split} questions", flush=True)
    return out


def best_spans(texts: list[str], golds: tuple[str, ...]) -> np.ndarray:
    """Which candidates count as right: those that strictly match a gold answer and, among
    them, have the highest token F1 (an overlong span that merely contains the gold is not
    what the ranker should learn to prefer)."""
    strict = np.asarray([bool(golds) and strict_match(t, golds) for t in texts], dtype=bool)
    if not strict.any():
        return strict
    f1 = np.asarray([max(token_f1(t, g) for g in golds) if s else 0.0
                     for t, s in zip(texts, strict, strict=True)])
    best: np.ndarray = strict & (f1 >= f1.max() - 1e-9)
    return best


def fit_logistic(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], c: float) -> Logistic:
    """A standardised L2 logistic regression (scikit-learn), as a plain Logistic."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, y)
    return Logistic(names, mean, scale, model.coef_[0], float(model.intercept_[0]))


def fit_listwise(questions: list[Question], names: tuple[str, ...], l2: float) -> Logistic:
    """A ranker fitted so that, in each answerable question's list, the right candidates
    take the largest share of a softmax over all candidates (a conditional logit with L2)."""
    from scipy.optimize import minimize

    lists = [q for q in questions if q.labels.any()]
    x = np.vstack([q.features for q in lists])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    xs = (x - mean) / scale
    positive = np.concatenate([q.labels for q in lists])
    starts = np.cumsum([0] + [len(q.labels) for q in lists[:-1]])
    group = np.repeat(np.arange(len(lists)), [len(q.labels) for q in lists])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = xs @ w
        z = z - np.maximum.reduceat(z, starts)[group]  # stable softmax per list
        e = np.exp(z)
        all_sum = np.add.reduceat(e, starts)
        pos_sum = np.add.reduceat(e * positive, starts)
        value = float(np.sum(np.log(all_sum) - np.log(pos_sum))) + 0.5 * l2 * float(w @ w)
        weights = e / all_sum[group] - e * positive / pos_sum[group]
        return value, xs.T @ weights + l2 * w

    result = minimize(loss, np.zeros(xs.shape[1]), jac=True, method="L-BFGS-B")
    return Logistic(names, mean, scale, result.x, 0.0)


def folds(questions: list[Question], n: int = FOLDS) -> list[int]:
    """A fold number per question, stratified by corpus, deterministic."""
    out = []
    seen: dict[str, int] = {}
    for q in questions:
        seen[q.corpus] = seen.get(q.corpus, -1) + 1
        out.append(seen[q.corpus] % n)
    return out


def held_out_logits(questions: list[Question], fold_of: list[int], l2: float) -> list[np.ndarray]:
    """Each question's candidate logits from a ranker fitted without its fold."""
    out: list[np.ndarray] = [np.zeros(0)] * len(questions)
    for f in sorted(set(fold_of)):
        train = [q for q, g in zip(questions, fold_of, strict=True) if g != f]
        ranker = fit_listwise(train, FEATURES, l2)
        for i, (q, g) in enumerate(zip(questions, fold_of, strict=True)):
            if g == f:
                out[i] = ranker.logits(q.features)
    return out


def top_rows(questions: list[Question], logits: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Confidence inputs and labels (top candidate right) per question."""
    rows, labels = [], []
    for q, z in zip(questions, logits, strict=True):
        reader, query = q.reader, q.query
        scored = Scored(q.scored.sentences, q.scored.candidates, q.features, z)
        best = int(np.argmax(z))
        rows.append(reader.confidence_features(query, scored, best))
        labels.append(bool(q.strict[best]))
    return np.asarray(rows, dtype=np.float64), np.asarray(labels, dtype=bool)


def choose_threshold(confidence: np.ndarray, answerable: np.ndarray, right: np.ndarray) -> float:
    """The threshold that makes the most questions come out right (a right answer to an
    answerable question, an abstention on an unanswerable one), among those whose
    false-abstention rate stays within MAX_FALSE_ABSTENTION; ties to the lower threshold."""
    best, best_score = 0.0, -1
    for t in sorted({0.0, *np.round(confidence, 4).tolist()}):
        abstain = confidence < t
        if (abstain & answerable).sum() > MAX_FALSE_ABSTENTION * answerable.sum():
            continue
        score = int((~abstain & answerable & right).sum() + (abstain & ~answerable).sum())
        if score > best_score:
            best, best_score = float(t), score
    return best


def report(questions: list[Question], logits: list[np.ndarray], confidence: np.ndarray,
           threshold: float) -> dict[str, Any]:
    """Held-out figures per corpus: strict accuracy of the top span, abstention."""
    out: dict[str, Any] = {}
    for name in dict.fromkeys(q.corpus for q in questions):
        idx = [i for i, q in enumerate(questions) if q.corpus == name]
        answerable = [i for i in idx if questions[i].item.answerable]
        right = [i for i in answerable
                 if bool(questions[i].strict[int(np.argmax(logits[i]))]) and confidence[i] >= threshold]
        unanswerable = [i for i in idx if not questions[i].item.answerable]
        out[name] = {
            "questions": len(idx),
            "top_span_strict": round(sum(bool(questions[i].strict[int(np.argmax(logits[i]))])
                                         for i in answerable) / max(len(answerable), 1), 3),
            "strict_accuracy": round(len(right) / max(len(answerable), 1), 3),
            "any_candidate_right": round(sum(bool(questions[i].strict.any()) for i in answerable)
                                         / max(len(answerable), 1), 3),
            "abstention_recall": round(sum(confidence[i] < threshold for i in unanswerable)
                                       / max(len(unanswerable), 1), 3),
            "false_abstention": round(sum(confidence[i] < threshold for i in answerable)
                                      / max(len(answerable), 1), 3),
        }
    return out


def train(split: str = "dev", l2: float = 10.0) -> tuple[ReaderModel, dict[str, Any]]:
    """Fit the models on ``split`` and return them with held-out figures."""
    questions = collect(split)
    fold_of = folds(questions)
    logits = held_out_logits(questions, fold_of, l2)
    conf_x, conf_y = top_rows(questions, logits)
    answerable = np.asarray([q.item.answerable for q in questions], dtype=bool)
    held_conf = np.zeros(len(questions))
    for f in sorted(set(fold_of)):
        mask = np.asarray([g != f for g in fold_of])
        model = fit_logistic(conf_x[mask], conf_y[mask], CONFIDENCE_FEATURES, 1.0)
        held_conf[~mask] = model.proba(conf_x[~mask])
    threshold = choose_threshold(held_conf, answerable, conf_y)
    figures = report(questions, logits, held_conf, threshold)
    ranker = fit_listwise(questions, FEATURES, l2)
    final_logits = [ranker.logits(q.features) for q in questions]
    conf_x, conf_y = top_rows(questions, final_logits)
    confidence = fit_logistic(conf_x, conf_y, CONFIDENCE_FEATURES, 1.0)
    record = {"split": split, "questions": len(questions), "ranker_l2": l2, "folds": FOLDS,
              "rule": ("most held-out questions right (answered right or rightly abstained) "
                       f"with false abstention <= {MAX_FALSE_ABSTENTION}"),
              "held_out": figures}
    return ReaderModel(ranker, confidence, threshold), record


def main(argv: list[str] | None = None) -> int:
    """Command line: fit and save (or only report with --dry-run)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l2", type=float, default=10.0, help="L2 strength of the ranker")
    parser.add_argument("--dry-run", action="store_true", help="report, do not save")
    args = parser.parse_args(argv)
    model, record = train("dev", args.l2)
    print(json.dumps(record, indent=1))
    if not args.dry_run:
        note = f"python -m eval.train_reader --l2 {args.l2}; held-out figures in {REPORT_FILE.name}"
        print(f"saved {save_model(model, note)}")
        REPORT_FILE.write_text(json.dumps(record, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
