"""What the span reader costs, against its own floor, in one run.

    .venv/bin/python -m bench.span_reader [--repeats 3] [--k 5] [--json]

For every chapter gold question, interleaved, on one ONNX Runtime thread:

* ``bare_run``: one ``session.run`` over all the question's windows, prepared beforehand
  (the floor: the model itself reading every passage);
* ``reader_step``: what the service's reader does for the same passages (cutting windows,
  the run -- two when the first passage is not sure enough alone (the record's early exit),
  one over its windows only when it is --, decoding the best span, the citation);
* ``reader_runs``: the time of the ``session.run`` calls inside that step;
* ``retrieval``: the question's encoding and the hybrid search (the rest of ``/ask``).

Reported: p50/p95 of each, ``reader_step / reader_runs`` (the step's own code, target ≤ 1.2),
``reader_step / bare_run``, the reader step's p50 (target ≤ 40 ms at k = 5), the share of
questions that needed the second run, and ``ask / (retrieval + bare_run)`` measured
in-process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from bench.measure import CORPUS, gold_questions
from qa.reader.neural import SpanReader
from qa.reader.windows import batch_arrays, cut_windows
from qa.service import QAService
from qa.settings import Settings


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2)}


def measure(service: QAService, questions: list[str], repeats: int, k: int) -> dict[str, Any]:
    loaded = service.loaded
    reader = loaded.reader
    assert isinstance(reader, SpanReader), "QA_READER must be span"
    model = reader.model
    bare, step, runs, retrieval, ask = [], [], [], [], []
    second = 0
    service.ask(questions[0])  # loads the session and the question parser
    run_times: list[float] = []
    real_logits = model.logits

    def timed(arrays: dict[str, Any]) -> Any:
        t = time.perf_counter()
        out = real_logits(arrays)
        run_times.append(time.perf_counter() - t)
        return out

    for _ in range(repeats):
        for question in questions:
            t0 = time.perf_counter()
            query, hits, vector = service.prepare(question, k)
            t1 = time.perf_counter()
            passages = [reader.passage(h) for h in hits[:k]]
            arrays = batch_arrays(cut_windows(model.tokenizer, query.text,
                                              [p.text for p in passages], model.shape))
            t2 = time.perf_counter()
            model.logits(arrays)
            run_times.clear()
            model.logits = timed  # type: ignore[method-assign]
            t3 = time.perf_counter()
            reader.read(query, hits[:k], vector)
            t4 = time.perf_counter()
            del model.logits
            runs.append(sum(run_times))
            second += len(run_times) == 2
            service.ask(question, k=k)
            t5 = time.perf_counter()
            retrieval.append(t1 - t0)
            bare.append(t3 - t2)
            step.append(t4 - t3)
            ask.append(t5 - t4)
    floor = [r + b for r, b in zip(retrieval, bare, strict=True)]
    return {
        "questions": len(questions), "repeats": repeats, "k": k,
        "threads": model.threads,
        "early_exit_margin": model.early_exit,
        "second_run_share": round(second / len(step), 3),
        "bare_run": _quantiles(bare), "reader_step": _quantiles(step),
        "reader_runs": _quantiles(runs),
        "retrieval": _quantiles(retrieval), "ask": _quantiles(ask),
        "reader_step_over_its_runs_p50": round(statistics.median(step)
                                               / statistics.median(runs), 3),
        "reader_step_over_bare_p50": round(statistics.median(step) / statistics.median(bare), 3),
        "ask_over_floor_p50": round(statistics.median(ask) / statistics.median(floor), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings(corpus_dir=CORPUS, reader="span", reader_threads=1, cache_size=0)
    service = QAService(settings)
    service.open()
    result = measure(service, gold_questions(255), args.repeats, args.k)
    print(json.dumps(result, indent=1) if args.json else "\n".join(
        f"{key}: {value}" for key, value in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
