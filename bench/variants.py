"""Lower the floor: faster ways to run the same model, and whether answers change.

Each variant embeds with all-MiniLM-L6-v2 from the bundled weights:

- ``torch``: sentence-transformers as the project runs it (PyTorch, default threads);
- ``torch-1t``: the same with one PyTorch thread;
- ``torch-int8``: PyTorch dynamic int8 quantization of the Linear layers;
- ``onnx``: exported to ONNX here, run by ONNX Runtime (one thread);
- ``onnx-int8``: that export with dynamic int8 weights.

For each: the floor (encode + FAISS search) interleaved question by question with the
others, the cosine to the ``torch`` embeddings, and a full index build plus the dev split
of the evaluation with that embedder: accuracy, hit@1, MRR@10, and how many answers
differ from the ``torch`` answers.

    .venv/bin/python -m bench.variants [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import CORPUS, GOLD, gold_questions, latency, ratio, seconds, time_each


class TorchThreads:
    """An embedder run with a fixed number of PyTorch threads (restored after each call)."""

    def __init__(self, inner: Any, threads: int) -> None:
        self.inner = inner
        self.threads = threads
        self.name = inner.name

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    @property
    def max_tokens(self) -> int:
        return int(self.inner.max_tokens)

    def count_tokens(self, text: str) -> int:
        return int(self.inner.count_tokens(text))

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            vectors: np.ndarray = self.inner.embed(texts, progress=progress)
            return vectors
        finally:
            torch.set_num_threads(before)


def torch_int8() -> Any:
    """sentence-transformers with its Linear layers dynamically quantized to int8."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    from index.encode.torch_embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder._model = quantize_dynamic(  # type: ignore[no-untyped-call]
        embedder.model, {torch.nn.Linear}, dtype=torch.qint8
    )
    return embedder


def onnx_files() -> tuple[Path, Path, float]:
    """(fp32 export folder, int8 export folder, export seconds), made once per machine."""
    from bench.onnx_model import int8_export
    from index.encode.base import DEFAULT_MODEL
    from index.encode.onnx_embedder import OnnxEmbedder, cache_root

    embedder = OnnxEmbedder(DEFAULT_MODEL)
    (fp32, spent) = seconds(lambda: cache_root() / embedder.encoder()["folder"])
    int8, quantize_s = seconds(lambda: int8_export(fp32))
    return fp32, int8, spent + quantize_s


def make_variants(quick: bool) -> dict[str, Any]:
    """The embedders to compare, ``torch`` first."""
    from index.encode.base import DEFAULT_MODEL
    from index.encode.onnx_embedder import OnnxEmbedder
    from index.encode.torch_embedder import SentenceTransformerEmbedder

    base = SentenceTransformerEmbedder()
    fp32, int8, _ = onnx_files()
    variants: dict[str, Any] = {
        "torch": base,
        "torch-1t": TorchThreads(base, 1),
        "onnx": OnnxEmbedder(DEFAULT_MODEL, threads=1, export=fp32),
        "onnx-int8": OnnxEmbedder(DEFAULT_MODEL, threads=1, export=int8),
    }
    if not quick:
        variants["torch-int8"] = torch_int8()
        variants["onnx-2t"] = OnnxEmbedder(DEFAULT_MODEL, threads=2, export=fp32)
    return variants


def floors(variants: dict[str, Any], questions: Sequence[str]) -> dict[str, dict[str, float]]:
    """Floor latency of each variant, round-robin over the variants for every question."""
    import faiss

    from index.search.vectors import search_vectors

    base = variants["torch"].embed(list(questions))
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    for embedder in variants.values():
        embedder.embed(["warm up"])
    samples: dict[str, list[float]] = {name: [] for name in variants}

    def floor_of(embedder: Any) -> Any:
        return lambda q: search_vectors(index, embedder.embed([q])[0], 30)

    calls = {name: floor_of(embedder) for name, embedder in variants.items()}
    for question in questions:
        for name, call in calls.items():
            samples[name] += time_each([question], call)
    return {name: latency(values) for name, values in samples.items()}


def evaluate(embedder: Any, root: Path, split: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build an index with ``embedder`` and run the evaluation's ``split`` on it, uncached.

    Returns:
        (summary figures, answer per gold id).
    """
    from eval.gold import load_gold
    from eval.runner import run_system
    from qa.service import QAService
    from qa.settings import Settings

    paths: dict[str, Any] = {"corpus_dir": root / "corpus", "index_dir": root / "index"}
    settings = Settings(**paths, cache_size=0)
    service = QAService(settings, embedder=embedder)
    _, build_s = seconds(lambda: service.open(rebuild=True))
    run = run_system(service, load_gold(GOLD, split), "hybrid", k=10)
    m = run.metrics
    summary = {
        "build_s": round(build_s, 2),
        "questions": m.questions,
        "accuracy": m.accuracy,
        "hit_at_1": m.hit_at_1,
        "mrr_at_10": m.mrr_at_10,
        "abstention_recall": m.abstention_recall,
        "false_abstention_rate": m.false_abstention_rate,
    }
    return summary, {r.id: r.answer for r in run.results}


def run_variants(quick: bool = False, split: str = "dev") -> dict[str, Any]:
    """Floors, embedding agreement and evaluation of every variant."""
    _, _, export_s = onnx_files()
    variants = make_variants(quick)
    questions = gold_questions(20 if quick else 50)
    floor = floors(variants, questions)
    base_vectors = variants["torch"].embed(questions)
    export = round(export_s, 1) if export_s else None  # None: exported by an earlier run
    out: dict[str, Any] = {"onnx_export_s": export, "split": split, "variants": {}}
    answers: dict[str, dict[str, Any]] = {}
    for name, embedder in variants.items():
        cosine = (embedder.embed(questions) * base_vectors).sum(axis=1)
        with tempfile.TemporaryDirectory(prefix="qa-variant-") as tmp:
            shutil.copytree(CORPUS, Path(tmp) / "corpus")
            summary, answers[name] = evaluate(embedder, Path(tmp), split)
        same = sum(answers[name][i] == a for i, a in answers["torch"].items())
        out["variants"][name] = {
            "floor_ms": floor[name],
            "floor_vs_torch": ratio(floor[name]["p50"], floor["torch"]["p50"]),
            "cosine_to_torch_min": round(float(cosine.min()), 4),
            "cosine_to_torch_mean": round(float(cosine.mean()), 4),
            "same_answers_as_torch": f"{same}/{len(answers['torch'])}",
            **summary,
        }
        print(f"  variant {name}: {json.dumps(out['variants'][name])}", file=sys.stderr, flush=True)
    return out


def print_variants(result: dict[str, Any], out: Any = sys.stdout) -> None:
    """The variants as a table."""
    export = result["onnx_export_s"]
    export_note = f"ONNX export {export} s, once" if export else "ONNX export cached earlier"
    print(
        f"\nEncoder variants (floor = encode + FAISS; eval = {result['split']} split, hybrid, "
        f"uncached; {export_note})",
        file=out,
    )
    line = "{:<11} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>6} {:>7} {:>10}"
    print(
        line.format(
            "variant",
            "p50 ms",
            "p95 ms",
            "x torch",
            "cos min",
            "accuracy",
            "hit@1",
            "MRR",
            "build s",
            "same ans",
        ),
        file=out,
    )
    for name, v in result["variants"].items():
        print(
            line.format(
                name,
                f"{v['floor_ms']['p50']:.1f}",
                f"{v['floor_ms']['p95']:.1f}",
                f"{v['floor_vs_torch']:.2f}",
                f"{v['cosine_to_torch_min']:.4f}",
                f"{v['accuracy']:.3f}",
                f"{v['hit_at_1']:.3f}",
                f"{v['mrr_at_10']:.3f}",
                f"{v['build_s']:.1f}",
                v["same_answers_as_torch"],
            ),
            file=out,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.variants``."""
    parser = argparse.ArgumentParser(prog="bench.variants", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run_variants(args.quick)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print_variants(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
