"""Scale benchmark: the search step and BM25 from 10k to 1M chunks, and real text to 10k.

    .venv/bin/python -m bench.scale [--sizes 10000,100000,1000000] [--text 10000]
                                    [--kinds flat,hnsw,ivf,ivfpq] [--json out.json]

For each size of synthetic clustered vectors (bench/synthetic.py) and each index kind:
build time, memory (RSS growth while building, index file size), one-query search
p50/p95 and recall@10 against exact brute force (NumPy), plus a sweep of the query-time
knob (HNSW efSearch, IVF nprobe). The kind ``auto`` would pick is shown. BM25 is timed on
Zipfian token documents of the same sizes. The real-text part builds a real index of a
corpus generated from the chapter's sentences and extrapolates the build to 1M chunks.
Results are written after every step, so a long run keeps what it measured.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import CORPUS, gold_questions, latency, machine, rss_bytes, seconds, time_each
from bench.synthetic import ClusteredVectors, neighbour_profile, zipf_queries, zipf_token_docs
from index.search.vectors import (
    DEFAULT_HNSW_THRESHOLD,
    INDEX_KINDS,
    AnnParams,
    build_vector_index,
    choose_kind,
    save_vector_index,
    search_vectors,
)

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
EF_SWEEP = (16, 32, 64, 128, 256)
NPROBE_SWEEP = (8, 16, 32, 64, 128)
# (nprobe, k_factor): cells scanned, and how many candidates per result are re-scored
IVFPQ_SWEEP = ((256, 16), (512, 64), (1024, 64), (1024, 128), (2564, 64), (2564, 128))
K = 10
TARGET_P50_MS = 20.0
TARGET_RECALL = 0.95
CHAPTER = next(iter(sorted(CORPUS.glob("*.txt"))), CORPUS / "chapter.txt")


def exact_top_k(
    data: np.ndarray, queries: np.ndarray, k: int = K, block: int = 200_000
) -> np.ndarray:
    """Ids of the k largest inner products per query, by NumPy brute force in row blocks."""
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    best_scores = np.zeros((len(queries), 0), dtype=np.float32)
    for start in range(0, len(data), block):
        scores = queries @ data[start : start + block].T
        take = min(k, scores.shape[1])
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        best_ids = np.hstack([best_ids, part + start])
        best_scores = np.hstack([best_scores, np.take_along_axis(scores, part, axis=1)])
        keep = np.argsort(-best_scores, axis=1, kind="stable")[:, :k]
        best_ids = np.take_along_axis(best_ids, keep, axis=1)
        best_scores = np.take_along_axis(best_scores, keep, axis=1)
    return best_ids


def recall_at_k(index: Any, queries: np.ndarray, truth: np.ndarray, k: int = K) -> float:
    """Mean share of the exact top-k that the index returns in its top-k."""
    _, ids = index.search(queries, k)
    hits = sum(
        len(set(got) & set(want)) for got, want in zip(ids.tolist(), truth.tolist(), strict=True)
    )
    return round(hits / truth.size, 4)


def _knob(index: Any, kind: str) -> tuple[str, Callable[[int], None]]:
    if kind == "hnsw":
        return "ef_search", lambda v: setattr(index.hnsw, "efSearch", v)
    return "nprobe", lambda v: setattr(index, "nprobe", min(v, index.nlist))


def _ivfpq_knobs(index: Any) -> Callable[[tuple[int, int]], dict[str, int]]:
    """Set an ivfpq index's (nprobe, k_factor); return them as they took effect."""
    import faiss

    ivf = faiss.extract_index_ivf(index)

    def set_knobs(value: tuple[int, int]) -> dict[str, int]:
        ivf.nprobe = min(value[0], ivf.nlist)
        index.k_factor = value[1]
        return {"nprobe": int(ivf.nprobe), "k_factor": int(index.k_factor)}

    return set_knobs


_SWEEPS = {"hnsw": EF_SWEEP, "ivf": NPROBE_SWEEP}


def measure_kind(
    kind: str,
    data: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    params: AnnParams,
    timed_queries: int,
    folder: Path,
) -> dict[str, Any]:
    """Build one index kind over ``data`` and measure it (see module docstring)."""
    gc.collect()
    before = rss_bytes()
    index, build_s = seconds(lambda: build_vector_index(data, kind, params))
    grown = rss_bytes() - before
    path = folder / f"{kind}.faiss"
    save_vector_index(index, path)
    size = path.stat().st_size
    path.unlink()
    timed = queries[:timed_queries]
    search = latency(time_each(timed, lambda q: search_vectors(index, q, K)))
    row: dict[str, Any] = {
        "kind": kind,
        "build_s": round(build_s, 2),
        "rss_delta_mb": round(grown / 2**20, 1),
        "index_mb": round(size / 2**20, 1),
        "search_ms": search,
        "recall_at_10": recall_at_k(index, queries, truth),
    }
    if kind != "flat":
        row["sweep"] = _sweep(index, kind, timed, queries, truth)
        if kind == "ivf":
            row["nlist"] = int(index.nlist)
        if kind == "ivfpq":
            import faiss

            row["nlist"] = int(faiss.extract_index_ivf(index).nlist)
            row["nprobe"] = params.ivfpq_nprobe
            row["k_factor"] = params.ivfpq_k_factor
    return row


def _sweep(index: Any, kind: str, timed: np.ndarray, queries: np.ndarray,
           truth: np.ndarray) -> list[dict[str, Any]]:
    """p50 and recall@10 at each setting of the kind's query-time knobs."""
    points: list[dict[str, Any]] = []
    if kind == "ivfpq":
        set_knobs = _ivfpq_knobs(index)
        settings = [set_knobs for _ in IVFPQ_SWEEP]
        values: Sequence[Any] = IVFPQ_SWEEP
    else:
        name, set_knob = _knob(index, kind)
        settings = [lambda v, n=name, f=set_knob: f(v) or {n: v}] * len(_SWEEPS[kind])
        values = _SWEEPS[kind]
    for apply, value in zip(settings, values, strict=True):
        knobs = apply(value)
        ms = latency(time_each(timed, lambda q: search_vectors(index, q, K)))
        points.append({**knobs, "p50_ms": ms["p50"],
                       "recall_at_10": recall_at_k(index, queries, truth)})
    return points


def vector_scale(
    size: int,
    kinds: Sequence[str],
    params: AnnParams,
    queries: int = 200,
    threshold: int = DEFAULT_HNSW_THRESHOLD,
) -> dict[str, Any]:
    """Every kind at one size of synthetic clustered vectors."""
    generator = ClusteredVectors(size)
    data, gen_s = seconds(generator.corpus)
    qs = generator.queries(queries)
    truth, exact_s = seconds(lambda: exact_top_k(data, qs))
    # A flat scan of 1M rows takes ~100 ms a query here: time fewer queries at that size.
    timed = queries if size < 500_000 else min(queries, 50)
    result: dict[str, Any] = {
        "size": size,
        "auto_kind": choose_kind(size, "auto", threshold),
        "profile": neighbour_profile(data),
        "generate_s": round(gen_s, 1),
        "numpy_exact_batch_s": round(exact_s, 2),
        "timed_queries": timed,
        "kinds": [],
    }
    with tempfile.TemporaryDirectory(prefix="qa-scale-") as tmp:
        for kind in kinds:
            print(f"  vectors {size:>9,}: building {kind}", file=sys.stderr, flush=True)
            row = measure_kind(kind, data, qs, truth, params, timed, Path(tmp))
            result["kinds"].append(row)
            print(f"  {json.dumps(row)}", file=sys.stderr, flush=True)
    return result


def bm25_scale(size: int, queries: int = 100, depth: int = 30) -> dict[str, Any]:
    """BM25 over ``size`` Zipfian documents: index time, scoring and top-k selection."""
    import bm25s
    from bm25s.tokenization import Tokenized

    from index.search.bm25 import bm25_scores

    docs, vocab = zipf_token_docs(size)
    gc.collect()
    before = rss_bytes()
    retriever = bm25s.BM25()
    _, build_s = seconds(lambda: retriever.index(Tokenized(docs, vocab), show_progress=False))
    grown = rss_bytes() - before
    qs = zipf_queries(queries)
    scores = [bm25_scores(retriever, q, size) for q in qs[:3]]
    scoring = latency(time_each(qs, lambda q: bm25_scores(retriever, q, size)))
    # qa/retriever.py ranks BM25 scores with a full argsort; argpartition needs only the top.
    full_sort = latency(time_each(scores * 10, lambda s: np.argsort(-s, kind="stable")[:depth]))
    top_k = latency(time_each(scores * 10, lambda s: _top(s, depth)))
    return {
        "size": size,
        "build_s": round(build_s, 2),
        "rss_delta_mb": round(grown / 2**20, 1),
        "score_ms": scoring,
        "argsort_all_ms": full_sort,
        "argpartition_top_ms": top_k,
    }


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    depth = min(depth, len(scores))
    part = np.argpartition(-scores, depth - 1)[:depth]
    ordered: np.ndarray = part[np.argsort(-scores[part], kind="stable")]
    return ordered


def text_scale(chunks: int, kinds: Sequence[str], params: AnnParams) -> dict[str, Any]:
    """Build a real index of a generated corpus of about ``chunks`` chunks; time and search it."""
    from bench.textgen import write_corpus
    from index.builder import build_index
    from index.config import BuildConfig
    from index.encode.torch_embedder import SentenceTransformerEmbedder
    from index.loader import load_index
    from index.text.chunker import embedding_text

    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up the model"])
    root = Path(tempfile.mkdtemp(prefix="qa-text-"))
    try:
        documents, _ = write_corpus(CHAPTER, root / "corpus", chunks)
        report, build_s = seconds(
            lambda: build_index(root / "corpus", root / "index", BuildConfig(), embedder)
        )
        index = load_index(root / "index", verify=False)
        sentences = 0 if index.sentence_vectors is None else len(index.sentence_vectors)
        sample = [embedding_text(c) for c in index.chunks[:500]]
        _, encode_s = seconds(lambda: embedder.embed(sample))
        vectors = index.vectors.reconstruct_n(0, int(index.vectors.ntotal))
        questions = embedder.embed(gold_questions(100))
        truth = exact_top_k(vectors, questions)
        per_chunk = build_s / report.chunks
        result: dict[str, Any] = {
            "documents": documents,
            "chunks": report.chunks,
            "sentences": sentences,
            "build_s": round(build_s, 1),
            "build_chunks_per_s": round(report.chunks / build_s, 1),
            "encode_chunks_only_per_s": round(len(sample) / encode_s, 1),
            "extrapolated_1m_build_h": round(per_chunk * 1_000_000 / 3600, 1),
            "extrapolated_1m_chunks_only_h": round(1_000_000 / (len(sample) / encode_s) / 3600, 1),
            "kinds": [],
        }
        with tempfile.TemporaryDirectory(prefix="qa-scale-") as tmp:
            for kind in kinds:
                row = measure_kind(
                    kind, vectors, questions, truth, params, len(questions), Path(tmp)
                )
                result["kinds"].append(row)
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def print_tables(results: dict[str, Any], out: Any = sys.stdout) -> None:
    """The scale results as plain-text tables."""
    _print_vectors(results.get("vectors", []), out)
    _print_bm25(results.get("bm25"), out)
    _print_text(results.get("text"), out)
    for line in targets(results):
        print(line, file=out)


def _print_vectors(vec: list[dict[str, Any]], out: Any) -> None:
    """The search step on synthetic vectors: one row per size and kind, then the sweeps."""
    if vec:
        print(
            "\nSearch step, synthetic clustered vectors (dim 384, k=10, one query at a time)",
            file=out,
        )
        print(
            f"{'size':>10} {'kind':5} {'auto':5} {'build s':>8} {'RSS+ MB':>8} {'file MB':>8} "
            f"{'p50 ms':>7} {'p95 ms':>7} {'recall@10':>9}",
            file=out,
        )
        for entry in vec:
            for row in entry["kinds"]:
                mark = "*" if row["kind"] == entry["auto_kind"] else ""
                print(
                    f"{entry['size']:>10,} {row['kind']:5} {mark:5} {row['build_s']:>8.1f} "
                    f"{row['rss_delta_mb']:>8.0f} {row['index_mb']:>8.0f} {row['search_ms']['p50']:>7.2f} "
                    f"{row['search_ms']['p95']:>7.2f} {row['recall_at_10']:>9.3f}",
                    file=out,
                )
        print("  * = the kind 'auto' picks at this size", file=out)
        for entry in vec:
            for row in entry["kinds"]:
                if "sweep" in row:
                    knobs = [k for k in row["sweep"][0] if k not in ("p50_ms", "recall_at_10")]
                    points = ", ".join(
                        "/".join(str(p[k]) for k in knobs)
                        + f": {p['p50_ms']:.2f} ms/{p['recall_at_10']:.3f}"
                        for p in row["sweep"]
                    )
                    print(
                        f"  {entry['size']:>9,} {row['kind']} {'/'.join(knobs)} -> p50/recall: "
                        f"{points}",
                        file=out,
                    )


def _print_bm25(bm25: list[dict[str, Any]] | None, out: Any) -> None:
    """BM25 on Zipfian token documents, one row per size."""
    if bm25:
        print("\nBM25 (bm25s), Zipfian token documents, 6-term queries", file=out)
        print(
            f"{'size':>10} {'build s':>8} {'RSS+ MB':>8} {'score p50':>10} {'argsort p50':>12} {'top-30 p50':>11}",
            file=out,
        )
        for row in bm25:
            print(
                f"{row['size']:>10,} {row['build_s']:>8.1f} {row['rss_delta_mb']:>8.0f} "
                f"{row['score_ms']['p50']:>10.2f} {row['argsort_all_ms']['p50']:>12.2f} "
                f"{row['argpartition_top_ms']['p50']:>11.2f}",
                file=out,
            )


def _print_text(text: dict[str, Any] | None, out: Any) -> None:
    """The build and search figures on real (generated) text."""
    if text:
        print(
            f"\nReal text: {text['chunks']:,} chunks + {text['sentences']:,} sentences "
            f"({text['documents']} generated documents)",
            file=out,
        )
        print(
            f"  build {text['build_s']:.0f} s = {text['build_chunks_per_s']} chunks/s (chunks + sentences); "
            f"encoding chunks alone {text['encode_chunks_only_per_s']} chunks/s",
            file=out,
        )
        print(
            f"  extrapolated, not measured: 1M chunks would take {text['extrapolated_1m_build_h']} h to build "
            f"({text['extrapolated_1m_chunks_only_h']} h to encode the chunks alone) on this machine",
            file=out,
        )
        for row in text["kinds"]:
            print(
                f"  {row['kind']:5} build {row['build_s']:.2f} s, p50 {row['search_ms']['p50']:.2f} ms, "
                f"recall@10 {row['recall_at_10']:.3f} (100 gold questions)",
                file=out,
            )


def targets(results: dict[str, Any]) -> list[str]:
    """PASS/FAIL of the 1M target for each approximate kind measured at 1M or more."""
    lines = []
    for entry in results.get("vectors", []):
        if entry["size"] < 1_000_000:
            continue
        for row in entry["kinds"]:
            ok = row["search_ms"]["p50"] <= TARGET_P50_MS and row["recall_at_10"] >= TARGET_RECALL
            lines.append(
                f"  target at {entry['size']:,} ({row['kind']}): p50 {row['search_ms']['p50']:.2f} ms <= "
                f"{TARGET_P50_MS:.0f} and recall {row['recall_at_10']:.3f} >= {TARGET_RECALL}: "
                f"{'PASS' if ok else 'FAIL'}"
            )
            passing = [p for p in row.get("sweep", [])
                       if p["p50_ms"] <= TARGET_P50_MS and p["recall_at_10"] >= TARGET_RECALL]
            if passing:
                best = min(passing, key=lambda p: p["p50_ms"])
                lines.append(f"    fastest sweep point that meets it: {best}")
    return lines


def run_scale(
    sizes: Sequence[int],
    kinds: Sequence[str],
    text_chunks: int,
    bm25: bool,
    params: AnnParams,
    json_path: Path | None,
) -> dict[str, Any]:
    """Run every part of the scale benchmark; save JSON after each step."""
    results: dict[str, Any] = {
        "machine": machine(),
        "params": asdict(params),
        "vectors": [],
        "bm25": [],
    }

    def save() -> None:
        if json_path is not None:
            json_path.write_text(json.dumps(results, indent=1))

    for size in sizes:
        results["vectors"].append(vector_scale(size, kinds, params))
        save()
    if bm25:
        for size in sizes:
            print(f"  bm25 {size:>9,}", file=sys.stderr, flush=True)
            results["bm25"].append(bm25_scale(size))
            save()
    if text_chunks > 0:
        print(f"  real text, {text_chunks:,} chunks", file=sys.stderr, flush=True)
        results["text"] = text_scale(text_chunks, kinds, params)
        save()
    return results


def _sizes(text: str) -> list[int]:
    return [int(float(part)) for part in text.split(",") if part.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The scale options (shared with bench.run --scale)."""
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(DEFAULT_SIZES),
        help="vector counts, e.g. 10000,100000,1e6",
    )
    parser.add_argument("--kinds", default=",".join(INDEX_KINDS), help="index kinds to measure")
    parser.add_argument("--text", type=int, default=10_000, help="real-text chunks (0: skip)")
    parser.add_argument("--no-bm25", action="store_true", help="skip BM25")
    parser.add_argument("--ef-search", type=int, default=AnnParams.ef_search)
    parser.add_argument("--nprobe", type=int, default=AnnParams.ivf_nprobe)
    parser.add_argument("--ef-construction", type=int, default=AnnParams.ef_construction)
    parser.add_argument("--hnsw-m", type=int, default=AnnParams.hnsw_m)
    parser.add_argument("--ivfpq-nprobe", type=int, default=AnnParams.ivfpq_nprobe)
    parser.add_argument("--k-factor", type=int, default=AnnParams.ivfpq_k_factor)


def params_from(args: argparse.Namespace) -> AnnParams:
    """AnnParams from the command-line options."""
    return AnnParams(
        hnsw_m=args.hnsw_m,
        ef_construction=args.ef_construction,
        ef_search=args.ef_search,
        ivf_nprobe=args.nprobe,
        ivfpq_nprobe=args.ivfpq_nprobe,
        ivfpq_k_factor=args.k_factor,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.scale``."""
    parser = argparse.ArgumentParser(prog="bench.scale", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    kinds = [k for k in args.kinds.split(",") if k]
    results = run_scale(
        args.sizes, kinds, args.text, not args.no_bm25, params_from(args), args.json
    )
    print_tables(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
