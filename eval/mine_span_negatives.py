"""Hard negatives for the span reader: passages of the train documents on which a trained
reader answers with confidence although they hold no answer.

    python -m eval.mine_span_negatives MODEL_DIR --out data/hard-negatives.jsonl

Every train question of ``data/split.json`` is read over its best ``--depth`` passages
(retrieved as ``eval.span_data`` retrieves them). A passage is a hard negative when it holds
no written form of any gold answer (any passage, for an unanswerable question), the reader's
best span in it beats its no-answer score by at least ``--margin`` (default: the model's own
abstention margin, so the span would be answered if it were the best one), and the span
shares no content word with a gold answer (a paraphrased answer would be a false negative).
Each line names the question (``qid``, ``question``) and the passage by its position among
its document's chunks (``chunk``, cut as ``eval.span_data`` cuts them), with the span read.
``eval.train_span_reader --hard-negatives FILE`` trains no-answer on them. Train documents
only: dev and test documents are never read here.
"""

from __future__ import annotations

import argparse
import json
import re
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

from eval.span_data import answer_free, document_chunks, gold_files, load_split, questions_of

WORD = re.compile(r"\w+")
FUNCTION_WORDS = frozenset(
    "the and for with from that this these those into onto over under about its their his her "
    "our your are was were has have had not but all any one per via than then".split())


def words(text: str) -> set[str]:
    """Lower-cased content words of a text (numbers kept, function words dropped), for the
    overlap test."""
    return {w for w in WORD.findall(text.lower())
            if (len(w) > 2 or w.isdigit()) and w not in FUNCTION_WORDS}


@lru_cache(maxsize=1)
def _model(folder: str) -> Any:
    """The reading model, loaded once per worker process (not once per document)."""
    from qa.reader.span_model import SpanModel

    return SpanModel(Path(folder), threads=1)


def mine_document(job: tuple[str, str, int, float | None]) -> list[dict[str, Any]]:
    """The hard negatives of one train document."""
    from qa.reader.windows import batch_arrays, best_spans, cut_windows

    name, folder, depth, margin = job
    model = _model(folder)
    floor = model.margin if margin is None else margin
    _, chunks = document_chunks(name)
    out: list[dict[str, Any]] = []
    for q in questions_of(name, depth):
        gold_words = set().union(*(words(a) for a in q.answers)) if q.answers else set()
        picked = answer_free(q, chunks)
        if not picked:
            continue
        texts = [chunks[i].text for i in picked]
        breaks = [[s - chunks[i].start for s, _ in chunks[i].sentences] for i in picked]
        windows = cut_windows(model.tokenizer, q.question, texts, model.shape)
        start, end = model.logits(batch_arrays(windows))
        best: dict[int, Any] = {}
        for s in best_spans(windows, start, end, model.shape, breaks, model.length_bonus):
            p = windows[s.window].passage
            if p not in best or s.margin > best[p].margin:
                best[p] = s
        for p, s in best.items():
            text = texts[p][s.start:s.end]
            if s.margin < floor or words(text) & gold_words:
                continue
            out.append({"qid": q.qid, "question": q.question, "answerable": bool(q.answers),
                        "chunk": picked[p], "rank": q.retrieved.index(picked[p]),
                        "prediction": text, "margin": round(s.margin, 3)})
    return out


def main(argv: list[str] | None = None) -> None:
    from tqdm import tqdm

    parser = argparse.ArgumentParser(prog="python -m eval.mine_span_negatives",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("model", help="the model folder that reads (e.g. models/span-reader)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--margin", type=float, default=None)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    names = [p.stem for p in gold_files(load_split()["train"])]
    jobs = [(n, args.model, args.depth, args.margin) for n in names]
    found: list[dict[str, Any]] = []
    with ProcessPoolExecutor(args.workers) as pool:
        for part in tqdm(pool.map(mine_document, jobs), total=len(jobs), desc="mining",
                         unit="doc"):
            found.extend(part)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in found), "utf-8")
    tmp.replace(out)
    unanswerable = sum(1 for r in found if not r["answerable"])
    print(f"{len(found)} hard negatives over {len({r['qid'] for r in found})} questions "
          f"({unanswerable} from unanswerable questions) from {len(names)} documents")


if __name__ == "__main__":
    main()
