"""The span reader's run-time choices, made on dev questions only, through the real service.

    python -m eval.span_choices MODEL_DIR            # choose and write them into its record

Every dev question -- the dev documents of ``data/split.json`` (indexed together), and the
dev splits of the chapter, camp-david and us-vietnam -- is retrieved by the service (hybrid
search, as ``qa ask`` does) and the model reads the best ``MAX_PASSAGES`` passages once; each
window's best span is kept, decoded with each length bonus of ``LENGTH_BONUSES`` (a prior per
token towards whole phrases). Then, for each number of passages read (3, 5, 8) and each
bonus, the abstention margin is the highest that keeps false abstention at most 5 %, and the
simplest option (fewest passages, then smallest bonus) within one question of the best
F1 + abstention recall wins (options differ by a question or two: the noise of the int8
activations); the margin's calibration (logistic, into the probability that the answer is
right) is fitted on the same questions and its ECE reported. Last, the early exit: each dev
question is read again as the service reads it -- the first passage's windows in one run,
the other passages' in another -- and the lowest margin at which the first passage's span
may answer alone whose strict accuracy and F1 are both within one answerable question of
those of reading every passage in one run wins (each at its own abstention margin); none if every candidate loses.
With an early exit, the abstention margin and calibration written are those of that read.

    python -m eval.span_choices MODEL_DIR --rows MODEL_DIR-dev-spans.json   # reuse a read
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.corpora import ROOT, corpora, document_set, open_service
from eval.gold import GoldItem, load_gold
from eval.metrics.answers import max_over_golds, strict_match, token_f1
from eval.metrics.calibration import expected_calibration_error
from qa.reader.span_model import RECORD, SpanModel
from qa.reader.windows import Window, batch_arrays, best_spans, cut_windows

MAX_PASSAGES = 8
OPTIONS = (3, 5, 8)
LENGTH_BONUSES = (0.0, 0.1, 0.2, 0.4)
EARLY_EXITS = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
MAX_FALSE_ABSTENTION = 0.05


def dev_sets(root: Path = ROOT) -> list[tuple[str, Path, list[GoldItem], Path]]:
    """(name, corpus, dev items, index folder) of every dev question set."""
    index_root = root / ".qa_index" / "eval"
    sets = [(name, corpus, load_gold(gold, "dev"), index_root / name)
            for name, corpus, gold in corpora(root)]
    found = document_set("dev", index_root / "documents-dev", root)
    if found is not None:
        corpus, gold = found
        sets.append(("dev documents", corpus, load_gold(gold, "dev"),
                     index_root / "documents-dev" / "index"))
    return sets


def question_windows(service: Any, model: SpanModel, question: str, passages: int,
                     ) -> tuple[list[Any], list[list[int]], list[Window]]:
    """A dev question as the service reads it: its best ``passages`` passages, each one's
    sentence starts (spans may not cross them) and the windows cut from them."""
    query, hits, _ = service.prepare(question, passages)
    index = service.loaded.index
    found = [service.loaded.reader.passage(h) for h in hits[:passages]]
    chunks = [index.chunks[index.by_id[p.chunk_id]] for p in found]
    breaks = [[s - p.start for s, _ in c.sentences] for p, c in zip(found, chunks, strict=True)]
    windows = cut_windows(model.tokenizer, query.text, [p.text for p in found], model.shape)
    return found, breaks, windows


def span_rows(model: SpanModel, windows: Sequence[Window], found: Sequence[Any],
              start: Any, end: Any, breaks: list[list[int]], bonus: float,
              ) -> list[dict[str, Any]]:
    """Each window's best span (passage, margin, text) from one run's logits."""
    return [{"passage": windows[s.window].passage, "margin": s.margin,
             "text": found[windows[s.window].passage].text[s.start:s.end]}
            for s in best_spans(windows, start, end, model.shape, breaks, bonus)]


def read_all(model: SpanModel, sets: Sequence[tuple[str, Path, list[GoldItem], Path]],
             ) -> list[dict[str, Any]]:
    """Per dev question and length bonus: each of the best passages' best span (text,
    margin) in rank order."""
    rows = []
    for name, corpus, items, index_dir in sets:
        service = open_service(corpus, index_dir, reader="features")
        for item in items:
            found, breaks, windows = question_windows(service, model, item.question,
                                                      MAX_PASSAGES)
            start, end = model.logits(batch_arrays(windows))
            spans = {str(bonus): span_rows(model, windows, found, start, end, breaks, bonus)
                     for bonus in LENGTH_BONUSES}
            rows.append({"set": name, "id": item.id, "answers": list(item.answers),
                         "spans": spans})
    return rows


def read_early_exit(model: SpanModel, sets: Sequence[tuple[str, Path, list[GoldItem], Path]],
                    rows: Sequence[dict[str, Any]], passages: int, bonus: float) -> None:
    """Add to each row the spans of the two runs an early-exit read makes, as the service
    makes them: the first passage's windows alone (``head``), then the other passages'
    (``rest``). Separate runs, not the one-run spans: the int8 model quantizes each run's
    activations over its whole batch, so a window's margin moves a little with its batch."""
    by_key = {(r["set"], r["id"]): r for r in rows}
    for name, corpus, items, index_dir in sets:
        service = open_service(corpus, index_dir, reader="features")
        for item in items:
            found, breaks, windows = question_windows(service, model, item.question, passages)
            row = by_key[name, item.id]
            head = [w for w in windows if w.passage == 0]
            rest = [w for w in windows if w.passage != 0]
            for part, run in (("head", head), ("rest", rest)):
                row[part] = (span_rows(model, run, found, *model.logits(batch_arrays(run)),
                                       breaks, bonus) if run else [])


def outcome(row: dict[str, Any], passages: int, bonus: float = 0.0) -> dict[str, Any]:
    """The answer read from the first ``passages`` passages and how right it is."""
    spans = [s for s in row["spans"][str(bonus)] if s["passage"] < passages]
    return scored(row, max(spans, key=lambda s: s["margin"]))


def exit_outcome(row: dict[str, Any], early_exit: float) -> dict[str, Any]:
    """The answer of the early-exit read (``row["head"]``: the spans of the first passage's
    windows run alone; ``row["rest"]``: the other passages' windows in one more run) and
    how right it is."""
    first = max(row["head"], key=lambda s: s["margin"])
    if first["margin"] >= early_exit or not row["rest"]:
        return scored(row, first)
    later = max(row["rest"], key=lambda s: s["margin"])
    return scored(row, later if later["margin"] > first["margin"] else first)


def scored(row: dict[str, Any], best: dict[str, Any]) -> dict[str, Any]:
    """A span's margin and how right its text is against the row's gold answers."""
    answers = row["answers"]
    return {"margin": best["margin"], "answerable": bool(answers),
            "strict": bool(answers) and strict_match(best["text"], answers),
            "f1": max_over_golds(token_f1, best["text"], answers) if answers else 0.0}


def choose(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The best option, its margin, calibration and figures (see the module docstring)."""
    results = {}
    for k in OPTIONS:
        for bonus in LENGTH_BONUSES:
            outs = [outcome(r, k, bonus) for r in rows]
            margin = abstain_margin(outs)
            results[k, bonus] = (margin, outs, figures(outs, margin))
    # F1 and abstention recall both count (each has its target); the simplest option (fewer
    # passages, then a smaller bonus) within one question of the best wins: options differ
    # by a question or two, less than the int8 activations move from one CPU to another
    score = {o: criterion(results[o][2]) for o in results}
    tolerance = one_question(results[OPTIONS[0], LENGTH_BONUSES[0]][2])
    best = min(o for o in results if score[o] >= max(score.values()) - tolerance)
    margin, outs, _ = results[best]
    return {"passages": best[0], "length_bonus": best[1], **settle(outs, margin),
            "dev_options": {f"{k} passages, bonus {b}": v[2] for (k, b), v in results.items()}}


def choose_early_exit(rows: Sequence[dict[str, Any]], passages: int, bonus: float,
                      ) -> tuple[float | None, dict[str, Any]]:
    """The lowest early-exit margin whose dev strict accuracy and F1 are both within one
    answerable question of reading every passage in one run (None if each loses more), each at its own abstention
    margin (false abstention at most 5 %); with every candidate's figures and the share of
    questions the first passage answers alone. ``rows`` carry the early-exit runs
    (:func:`read_early_exit`)."""
    full_outs = [outcome(r, passages, bonus) for r in rows]
    full = figures(full_outs, abstain_margin(full_outs))
    options: dict[str, Any] = {}
    chosen = None
    for exit_margin in EARLY_EXITS:
        outs = [exit_outcome(r, exit_margin) for r in rows]
        found = figures(outs, abstain_margin(outs))
        alone = sum(max(s["margin"] for s in r["head"]) >= exit_margin for r in rows) / len(rows)
        options[str(exit_margin)] = {**found, "first_passage_only": round(alone, 4)}
        if chosen is None and all(found[f] >= full[f] - 1 / full["answerable"]
                                  for f in ("strict_accuracy", "f1")):
            chosen = exit_margin
    return chosen, options


def criterion(figures: dict[str, Any]) -> float:
    """What every choice on dev maximises: F1 + abstention recall (each has its target)."""
    return float(figures["f1"]) + float(figures["abstention_recall"])


def one_question(figures: dict[str, Any]) -> float:
    """How much one question moves F1 + abstention recall at most: one unanswerable question
    declined or not (one answerable question moves F1 by less)."""
    unanswerable = int(figures["questions"]) - int(figures["answerable"])
    return 1 / max(unanswerable or int(figures["answerable"]), 1)


def abstain_margin(outs: Sequence[dict[str, Any]]) -> float:
    """The highest margin that withholds at most 5 % of the answerable questions' answers."""
    answerable = sorted(o["margin"] for o in outs if o["answerable"])
    return float(answerable[math.floor(MAX_FALSE_ABSTENTION * len(answerable))]) - 1e-6


def settle(outs: Sequence[dict[str, Any]], margin: float) -> dict[str, Any]:
    """The margin with its calibration, and the figures and ECE it gives on ``outs``."""
    slope, intercept = calibrate(outs)
    probs = [1 / (1 + math.exp(-(slope * o["margin"] + intercept))) for o in outs]
    answered = [(p, o["strict"]) for p, o in zip(probs, outs, strict=True) if o["margin"] >= margin]
    ece = expected_calibration_error([p for p, _ in answered], [bool(c) for _, c in answered])
    return {"abstain_margin": margin, "calibration": {"slope": slope, "intercept": intercept},
            "dev": {**figures(outs, margin), "ece": round(ece, 4)}}


def calibrate(outs: Sequence[dict[str, Any]]) -> tuple[float, float]:
    """Logistic fit of 'the answer is right' on the margin."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray([[o["margin"]] for o in outs])
    y = np.asarray([1 if o["strict"] else 0 for o in outs])
    if not 0 < y.sum() < len(y):
        return 0.0, 0.0  # one class only: nothing to fit
    fit = LogisticRegression(C=1.0).fit(x, y)
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


def figures(outs: Sequence[dict[str, Any]], margin: float) -> dict[str, Any]:
    """Strict accuracy and F1 over answerable questions (an abstention scores 0), abstention
    recall and false abstention at one margin."""
    ans = [o for o in outs if o["answerable"]]
    una = [o for o in outs if not o["answerable"]]
    kept = [o for o in ans if o["margin"] >= margin]
    return {"questions": len(outs), "answerable": len(ans),
            "strict_accuracy": round(sum(o["strict"] for o in kept) / len(ans), 4),
            "f1": round(sum(o["f1"] for o in kept) / len(ans), 4),
            "abstention_recall": round(sum(o["margin"] < margin for o in una)
                                       / max(len(una), 1), 4),
            "false_abstention": round(1 - len(kept) / len(ans), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="the model folder (its record is updated)")
    parser.add_argument("--rows", type=Path, default=None,
                        help="the dev spans a previous run of this model wrote (skips reading)")
    args = parser.parse_args(argv)
    record_path = args.model / RECORD
    record = json.loads(record_path.read_text("utf-8"))
    sets = dev_sets()
    model = SpanModel(args.model)
    rows = (read_all(model, sets) if args.rows is None
            else json.loads(args.rows.read_text("utf-8")))
    choice = choose(rows)
    k, bonus = choice["passages"], choice["length_bonus"]
    if k > 1 and not all("head" in r for r in rows):
        read_early_exit(model, sets, rows, k, bonus)
    if args.rows is None or k > 1:
        (args.model.parent / f"{args.model.name}-dev-spans.json").write_text(
            json.dumps(rows) + "\n")
    exit_margin, exits = choose_early_exit(rows, k, bonus) if k > 1 else (None, {})
    if exit_margin is not None:  # what ships is the early-exit read: settle on its margins
        choice.update(settle(outs := [exit_outcome(r, exit_margin) for r in rows],
                             abstain_margin(outs)))
    choice.update(early_exit_margin=exit_margin, early_exit_options=exits)
    record.update(passages=k, length_bonus=bonus,
                  abstain_margin=choice["abstain_margin"],
                  calibration=choice["calibration"], dev=choice["dev"],
                  early_exit_margin=exit_margin, early_exit_options=exits,
                  dev_options=choice["dev_options"],
                  dev_questions={name: len(items) for name, _, items, _ in sets})
    record_path.write_text(json.dumps(record, indent=1) + "\n", "utf-8")
    print(json.dumps({k: choice[k] for k in ("passages", "length_bonus", "abstain_margin", "dev",
                                             "early_exit_margin", "early_exit_options",
                                             "dev_options")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
