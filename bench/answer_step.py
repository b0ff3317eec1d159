"""What the answer step costs on top of retrieval, per question, in one run.

    .venv/bin/python -m bench.answer_step [--corpus DIR --index-dir DIR] [--repeats 3]

For every gold question of the chapter, interleaved: retrieval alone (embedding the question,
the dense and BM25 search), the question parse (spaCy), and the reader (candidate spans,
features, ranking, confidence). Reported: p50/p95 of each and the answer step's added
milliseconds (parse + read) against retrieval measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from bench.measure import CORPUS, gold_questions
from index.text.nlp import load_nlp
from qa.query import analyse
from qa.service import QAService
from qa.settings import Settings


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 3)}


def measure(service: QAService, questions: list[str], repeats: int) -> dict[str, Any]:
    """Time retrieval, parse and read for each question (``repeats`` rounds)."""
    loaded = service.loaded
    nlp = load_nlp(service.settings.nlp_model)
    retrieval, parse, read = [], [], []
    for _ in range(repeats):
        for question in questions:
            t0 = time.perf_counter()
            query = analyse(question, loaded.index.acronyms, nlp)
            t1 = time.perf_counter()
            vector = loaded.retriever.embed_query(query.expanded)
            hits = loaded.retriever.search(query.expanded, 6, vector=vector)
            t2 = time.perf_counter()
            loaded.reader.read(query, hits, vector)
            t3 = time.perf_counter()
            parse.append(t1 - t0)
            retrieval.append(t2 - t1)
            read.append(t3 - t2)
    added = [p + r for p, r in zip(parse, read, strict=True)]
    return {"questions": len(questions), "repeats": repeats,
            "retrieval": _quantiles(retrieval), "question_parse": _quantiles(parse),
            "reader": _quantiles(read), "answer_step_added": _quantiles(added),
            "added_over_retrieval_p50": round(statistics.median(added)
                                              / statistics.median(retrieval), 3)}


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--index-dir", type=Path, default=Path(".qa_index"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {"corpus_dir": args.corpus, "index_dir": args.index_dir,
                                 "cache_size": 0}
    service = QAService(Settings(**overrides))
    service.open()
    print(json.dumps(measure(service, gold_questions(10_000), args.repeats), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
