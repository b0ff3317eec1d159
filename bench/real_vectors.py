"""Real MiniLM vectors of generated text, as many as a time budget embeds; ANN kinds on them.

    .venv/bin/python -m bench.real_vectors [--budget 600] [--kinds flat,hnsw,ivfpq]
                                           [--json out.json]

Passages are 3-6 of the chapter's sentences drawn at random (bench/textgen.py's parts),
about a chunk each; they are embedded with all-MiniLM-L6-v2 in batches until ``budget``
seconds of this process's CPU time have been spent -- CPU time, not wall time, because the
machine is shared and a wall-clock budget would measure the other jobs. Run it with
``OMP_NUM_THREADS=1`` so CPU seconds are core-seconds. The measured passages per
core-second is the figure docs/scaling.md extrapolates from (labelled as such). The 100 first gold questions are the queries; each
kind is measured as in bench/scale.py against exact NumPy search.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import gold_questions, machine
from bench.scale import CHAPTER, exact_top_k, measure_kind
from bench.textgen import chapter_parts
from index.search.vectors import AnnParams, choose_kind


def passages(seed: int = 0) -> Iterator[str]:
    """Endless chunk-sized passages of the chapter's sentences, recombined at random."""
    sentences, _ = chapter_parts(CHAPTER.read_bytes().decode("utf-8"))
    rng = random.Random(seed)
    while True:
        yield " ".join(rng.sample(sentences, rng.randint(3, 6)))


def embed_for(budget_s: float, embedder: Any,
              batch: int = 256) -> tuple[np.ndarray, float, float]:
    """Embed passages until ``budget_s`` CPU seconds are spent.

    Returns:
        (vectors, CPU seconds, wall seconds).
    """
    source = passages()
    parts: list[np.ndarray] = []
    cpu, wall = time.process_time(), time.perf_counter()
    while time.process_time() - cpu < budget_s:
        parts.append(embedder.embed([next(source) for _ in range(batch)]))
    spent = time.process_time() - cpu
    return np.vstack(parts).astype(np.float32), spent, time.perf_counter() - wall


def run(budget_s: float, kinds: Sequence[str], params: AnnParams) -> dict[str, Any]:
    """Embed within the budget, then measure each kind on the real vectors."""
    from index.encode.torch_embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up the model"])
    vectors, spent, wall = embed_for(budget_s, embedder)
    per_s = len(vectors) / spent
    questions = embedder.embed(gold_questions(100)).astype(np.float32)
    truth = exact_top_k(vectors, questions)
    result: dict[str, Any] = {
        "machine": machine(),
        "params": asdict(params),
        "budget_s": budget_s,
        "passages": len(vectors),
        "embed_cpu_s": round(spent, 1),
        "embed_wall_s": round(wall, 1),
        "passages_per_core_s": round(per_s, 1),
        "extrapolated_not_measured": {
            "1m_core_hours": round(1e6 / per_s / 3600, 1),
            "10m_core_hours": round(1e7 / per_s / 3600, 1),
        },
        "auto_kind": choose_kind(len(vectors)),
        "kinds": [],
    }
    with tempfile.TemporaryDirectory(prefix="qa-realvec-") as tmp:
        for kind in kinds:
            print(f"  real vectors {len(vectors):,}: {kind}", file=sys.stderr, flush=True)
            row = measure_kind(kind, vectors, questions, truth, params, len(questions),
                               Path(tmp))
            result["kinds"].append(row)
            print(f"  {json.dumps(row)}", file=sys.stderr, flush=True)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.real_vectors``."""
    parser = argparse.ArgumentParser(prog="bench.real_vectors",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=600.0, help="embedding CPU seconds")
    parser.add_argument("--kinds", default="flat,hnsw,ivfpq", help="index kinds to measure")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    result = run(args.budget, [k for k in args.kinds.split(",") if k], AnnParams())
    text = json.dumps(result, indent=1)
    if args.json is not None:
        args.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
