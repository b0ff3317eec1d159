"""The benchmark: answer latency, HTTP, cache, build and cold start against the floor.

    .venv/bin/python -m bench.run [--quick] [--json out.json] [--old CHECKOUT] [--scale]

Everything is measured in one run on this machine, over a copy of the corpus in a temp
folder. The floor is what no answer can avoid: encoding the question with the model and
one FAISS search. It is measured twice, interleaved: with the model on torch
(sentence-transformers, the old query path) and on ONNX Runtime (the tool's encoder);
the answer figures are ratios to the ONNX floor. Every other figure is reported as a ratio to a floor measured in the
same run, interleaved question by question, so that a busy machine slows both alike.
Absolute times on a shared 2-core machine are noise; the ratios are the result.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from bench.measure import CORPUS, gold_questions, latency, machine, ratio, seconds, time_each


def _floor_call(embedder: Any, vectors: Any, depth: int) -> Callable[[str], None]:
    from index.search.vectors import search_vectors

    def floor(question: str) -> None:
        search_vectors(vectors, embedder.embed([question])[0], depth)

    return floor


def paired(
    questions: Sequence[str],
    first: Callable[[str], Any],
    second: Callable[[str], Any],
    pause_s: float = 0.15,
) -> tuple[list[float], list[float]]:
    """Milliseconds of ``first`` and ``second`` on each question, alternated.

    Which one goes first flips every question, and each call starts after a pause: BLAS
    and OpenMP worker threads keep spinning for a while after a call, and would otherwise
    slow whichever measurement always came next (users also ask at human pace).
    """
    a: list[float] = []
    b: list[float] = []
    for number, question in enumerate(questions):
        order = ((first, a), (second, b)) if number % 2 == 0 else ((second, b), (first, a))
        for call, out in order:
            time.sleep(pause_s)
            out += time_each([question], call)
    return a, b


def measure_build(root: Path, embedder: Any, repeats: int) -> dict[str, Any]:
    """A full build of the chapter vs encoding its chunks, and chunks + sentences, alone."""
    from index.builder import build_index, unique_sentences
    from index.config import BuildConfig
    from index.documents.corpus import read_corpus
    from index.documents.structure import parse_blocks
    from index.text.chunker import chunk_document, embedding_text
    from index.text.tokens import count_tokens

    config = BuildConfig()
    snapshot = read_corpus(root / "corpus")
    texts = {d.doc_id: d.text for d in snapshot.documents}
    chunks = [
        c
        for d in snapshot.documents
        for c in chunk_document(
            d,
            parse_blocks(d.doc_id, d.text),
            config.chunking,
            count_tokens,
            embedder.count_tokens,
            embedder.max_tokens,
        )
    ]
    chunk_texts = [embedding_text(c) for c in chunks]
    sentence_texts = [texts[d][a:b] for d, a, b in unique_sentences(chunks)]
    builds, alone, with_sentences = [], [], []
    for number in range(repeats):
        target = root / f"build-{number}"
        builds.append(seconds(partial(build_index, root / "corpus", target, config, embedder))[1])
        alone.append(seconds(lambda: embedder.embed(chunk_texts))[1])
        with_sentences.append(seconds(lambda: embedder.embed(chunk_texts + sentence_texts))[1])
        shutil.rmtree(target, ignore_errors=True)
    build_s = statistics.median(builds)
    alone_s = statistics.median(alone)
    both_s = statistics.median(with_sentences)
    return {
        "chunks": len(chunks),
        "sentences": len(sentence_texts),
        "repeats": repeats,
        "build_s": round(build_s, 3),
        "encode_chunks_s": round(alone_s, 3),
        "encode_chunks_and_sentences_s": round(both_s, 3),
        "ratio_vs_chunks": ratio(build_s, alone_s),
        "ratio_vs_chunks_and_sentences": ratio(build_s, both_s),
    }


def measure_floors(torch_embedder: Any, plain: Any, questions: Sequence[str]) -> dict[str, Any]:
    """The torch floor and the ONNX floor on the same questions, alternated."""
    vectors, depth = plain.loaded.index.vectors, plain.settings.candidates
    torch_floor = _floor_call(torch_embedder, vectors, depth)
    onnx_floor = _floor_call(plain.embedder, vectors, depth)
    for question in questions[:3]:  # warm both
        torch_floor(question)
        onnx_floor(question)
    torch_ms, onnx_ms = paired(questions, torch_floor, onnx_floor)
    return {
        "torch_floor_ms": latency(torch_ms),
        "onnx_floor_ms": latency(onnx_ms),
        "ratio_onnx_vs_torch_p50": ratio(latency(onnx_ms)["p50"], latency(torch_ms)["p50"]),
        "embed_threads": plain.settings.embed_threads,
    }


def measure_in_process(service: Any, plain: Any, questions: Sequence[str]) -> dict[str, Any]:
    """Uncached ``ask`` interleaved with the floor; then repeated questions from the cache."""
    loaded = plain.loaded
    floor = _floor_call(plain.embedder, loaded.index.vectors, plain.settings.candidates)
    for question in questions[:3]:  # warm both paths
        floor(question)
        plain.ask(question)
    floor_ms, ask_ms = paired(questions, floor, plain.ask)
    cache_ms: list[float] = []
    for question in questions:
        service.ask(question)
        cache_ms += time_each([question] * 10, service.ask)
    return {
        "floor_ms": latency(floor_ms),
        "ask_uncached_ms": latency(ask_ms),
        "ask_cached_ms": latency(cache_ms),
        "ratio_p50": ratio(latency(ask_ms)["p50"], latency(floor_ms)["p50"]),
        "ratio_median_of_pairs": round(
            statistics.median(a / f for a, f in zip(ask_ms, floor_ms, strict=True)), 3
        ),
    }


def measure_http(
    root: Path, plain: Any, questions: Sequence[str], load_questions: Sequence[str], clients: int
) -> dict[str, Any]:
    """The real server: 1 client interleaved with the floor, repeats from cache, N clients.

    Every question is new to the server except in the cache pass, so only that pass hits
    the server's answer cache.
    """
    from bench.http_load import AskClient, concurrent_load, running_server

    floor = _floor_call(plain.embedder, plain.loaded.index.vectors, plain.settings.candidates)
    started = time.perf_counter()
    with running_server(root / "corpus", root / "index", root / "server.log") as port:
        ready_s = time.perf_counter() - started
        client = AskClient(port)
        statuses: list[int] = []

        def ask(question: str) -> None:
            statuses.append(client.ask(question)[0])

        for question in load_questions[-3:]:  # warm-up on questions no pass uses
            floor(question)
            ask(question)
        statuses.clear()
        floor_ms, one_ms = paired(questions, floor, ask)
        one_errors = sum(1 for s in statuses if s != 200)
        cached_ms = time_each([q for q in questions[:10] for _ in range(10)], ask)
        client.close()
        load = concurrent_load(port, load_questions[:-3], clients)
    one = latency(one_ms)
    return {
        "server_ready_s": round(ready_s, 1),
        "floor_ms": latency(floor_ms),
        "one_client_ms": one,
        "one_client_errors": one_errors,
        "one_client_rps": round(1000 / one["mean"], 3) if one["mean"] else 0.0,
        "ratio_p50": ratio(one["p50"], latency(floor_ms)["p50"]),
        "cached_ms": latency(cached_ms),
        "cached_ratio_p50": ratio(latency(cached_ms)["p50"], latency(floor_ms)["p50"]),
        "concurrent": load,
    }


def verdicts(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its measured value and PASS/FAIL."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float, limit: float, ok: bool, unit: str = "x floor") -> None:
        rows.append({"target": name, "value": value, "limit": limit, "unit": unit, "pass": ok})

    if "floors" in r:
        f = r["floors"]["ratio_onnx_vs_torch_p50"]
        add("ONNX floor / torch floor p50", f, 0.6, f <= 0.6, "x torch floor")
    if "in_process" in r:
        p = r["in_process"]
        add("in-process answer p50", p["ratio_p50"], 1.15, p["ratio_p50"] <= 1.15)
        cached = p["ask_cached_ms"]["p50"]
        add("cache in-process p50", cached, 1.0, cached < 1.0, "ms")
    if "http" in r:
        h = r["http"]
        add("HTTP 1 client p50", h["ratio_p50"], 1.3, h["ratio_p50"] <= 1.3)
        add("cache over HTTP p50", h["cached_ratio_p50"], 0.3, h["cached_ratio_p50"] < 0.3)
        c = h["concurrent"]
        add(f"HTTP {c['clients']} clients errors", c["errors"], 0, c["errors"] == 0, "errors")
        gain = ratio(c["rps"], h["one_client_rps"])
        add(f"HTTP {c['clients']} clients rps vs 1 client", gain, 1.5, gain >= 1.5, "x 1 client")
    if "build" in r:
        b = r["build"]
        add(
            "build / encode chunks alone",
            b["ratio_vs_chunks"],
            1.3,
            b["ratio_vs_chunks"] <= 1.3,
            "x encode",
        )
        both = b["ratio_vs_chunks_and_sentences"]
        add("build / encode chunks + sentences", both, 1.3, both <= 1.3, "x encode")
    if "cold_start" in r:
        cs = r["cold_start"]["ratio"]
        add("cold start qa ask / floor process", cs, 1.5, cs <= 1.5, "x floor")
        if "ratio_vs_old" in r["cold_start"]:
            old = r["cold_start"]["ratio_vs_old"]
            add("cold start qa ask / old qa ask", old, 0.3, old <= 0.3, "x old")
    return rows


def print_report(r: dict[str, Any], out: Any = sys.stdout) -> None:
    """The results as a plain-text table."""
    m = r["machine"]
    print(
        f"\nbench.run {m['date']} on {m.get('cpu', '?')}, {m['cpus']} CPUs, "
        f"{m.get('memory_gb', '?')} GB, load {m.get('load_avg')}",
        file=out,
    )
    _print_latencies(r, out)
    _print_build_and_start(r, out)
    print("\ntargets", file=out)
    for v in r["targets"]:
        print(
            f"  {'PASS' if v['pass'] else 'FAIL'}  {v['target']:<38} {v['value']} {v['unit']} "
            f"(limit {v['limit']})",
            file=out,
        )


def _print_latencies(r: dict[str, Any], out: Any) -> None:
    """The latency table: floors, in-process and HTTP figures, each against its floor."""
    line = "{:<44} {:>9} {:>9} {:>9}"
    print(line.format("measure", "p50 ms", "p95 ms", "x floor"), file=out)

    def row(name: str, stats: dict[str, float], floor: float | None) -> None:
        x = f"{stats['p50'] / floor:.2f}" if floor else ""
        print(line.format(name, f"{stats['p50']:.2f}", f"{stats['p95']:.2f}", x), file=out)

    if "floors" in r:
        f = r["floors"]
        row(f"torch floor: encode + FAISS ({f['torch_floor_ms']['n']} q.)", f["torch_floor_ms"], None)
        row(f"ONNX floor, {f['embed_threads']} thread(s), interleaved", f["onnx_floor_ms"],
            f["torch_floor_ms"]["p50"])
        print("  (the x column of the ONNX floor is against the torch floor)", file=out)
    if "in_process" in r:
        p = r["in_process"]
        floor = p["floor_ms"]["p50"]
        row(f"floor: encode + FAISS ({p['floor_ms']['n']} questions)", p["floor_ms"], None)
        row("in-process ask, uncached", p["ask_uncached_ms"], floor)
        row("in-process ask, cached (repeat)", p["ask_cached_ms"], floor)
    if "http" in r:
        h = r["http"]
        floor = h["floor_ms"]["p50"]
        row("floor, interleaved with HTTP", h["floor_ms"], None)
        row("HTTP /ask, 1 client", h["one_client_ms"], floor)
        row("HTTP /ask, cached (repeat)", h["cached_ms"], floor)
        c = h["concurrent"]
        row(f"HTTP /ask, {c['clients']} clients", c["latency_ms"], floor)
        print(
            f"  throughput: 1 client {h['one_client_rps']:.2f} req/s, {c['clients']} clients "
            f"{c['rps']:.2f} req/s over {c['requests']} requests in {c['wall_s']} s; "
            f"errors {h['one_client_errors']} / {c['errors']} {c['error_statuses']}",
            file=out,
        )


def _print_build_and_start(r: dict[str, Any], out: Any) -> None:
    """The build time of the chapter and the cold start of ``qa ask``."""
    if "build" in r:
        b = r["build"]
        print(
            f"build of the chapter ({b['chunks']} chunks, {b['sentences']} sentences, median of "
            f"{b['repeats']}): {b['build_s']:.2f} s; encode chunks alone {b['encode_chunks_s']:.2f} s "
            f"(x{b['ratio_vs_chunks']}), chunks + sentences {b['encode_chunks_and_sentences_s']:.2f} s "
            f"(x{b['ratio_vs_chunks_and_sentences']})",
            file=out,
        )
    if "cold_start" in r:
        cs = r["cold_start"]
        print(
            f"cold start: qa ask {cs['qa_ask_s']:.2f} s vs floor process {cs['floor_s']:.2f} s "
            f"(x{cs['ratio']}, median of {cs['runs']})",
            file=out,
        )
        if "old_qa_ask_s" in cs:
            print(f"  old release's qa ask {cs['old_qa_ask_s']:.2f} s (new x{cs['ratio_vs_old']})",
                  file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.run``."""
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer questions and repeats")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP part")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold start")
    parser.add_argument("--no-build", action="store_true", help="skip build vs encode")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--old", type=Path, default=None,
                        help="checkout of the old release (with .venv) for the cold start")
    parser.add_argument("--variants", action="store_true", help="also try faster encoders")
    parser.add_argument("--scale", action="store_true", help="also run bench.scale")
    from bench import scale

    scale.add_arguments(parser)
    args = parser.parse_args(argv)
    for name, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("TRANSFORMERS_VERBOSITY", "error"),
        ("TOKENIZERS_PARALLELISM", "false"),
    ):
        os.environ.setdefault(name, value)
    results = run(args)
    if args.variants:
        from bench.variants import run_variants

        results["variants"] = run_variants(quick=args.quick)
    if args.scale:
        results["scale"] = scale.run_scale(
            args.sizes,
            args.kinds.split(","),
            args.text,
            not args.no_bm25,
            scale.params_from(args),
            None,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print_report(results)
    if args.variants:
        from bench.variants import print_variants

        print_variants(results["variants"])
    if args.scale:
        scale.print_tables(results["scale"])
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure everything but the scale part and the encoder variants."""
    from index.encode import make_embedder
    from index.encode.torch_embedder import SentenceTransformerEmbedder
    from qa.service import QAService
    from qa.settings import Settings

    count = 20 if args.quick else 50
    questions = gold_questions(10_000)
    asked, loaded = questions[:count], questions[count : count + (40 if args.quick else 160) + 3]
    results: dict[str, Any] = {"machine": machine(), "questions": count}
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(CORPUS, root / "corpus")
        paths: dict[str, Any] = {"corpus_dir": root / "corpus", "index_dir": root / "index"}
        settings = Settings(**paths)
        torch_embedder = SentenceTransformerEmbedder(settings.model)
        torch_embedder.embed(["load and warm the model"])
        embedder = make_embedder(settings.model, threads=settings.embed_threads)
        service = QAService(settings, embedder=embedder)
        service.open()
        plain = QAService(settings.model_copy(update={"cache_size": 0}), embedder=embedder)
        plain.open(rebuild=False)
        print("bench: floors", file=sys.stderr, flush=True)
        results["floors"] = measure_floors(torch_embedder, plain, asked)
        print("bench: in-process", file=sys.stderr, flush=True)
        results["in_process"] = measure_in_process(service, plain, asked)
        if not args.no_http:
            print("bench: HTTP", file=sys.stderr, flush=True)
            results["http"] = measure_http(root, plain, asked, loaded, args.clients)
        # Builds last: many batch encodes leave this process slower at single queries
        # (seen in early runs: its floor came out above the fresh server's whole answer).
        if not args.no_build:
            print("bench: build", file=sys.stderr, flush=True)
            results["build"] = measure_build(root, embedder, 1 if args.quick else 3)
        if not args.no_cold:
            from bench.coldstart import cold_start, old_ask_command

            print("bench: cold start", file=sys.stderr, flush=True)
            old = None
            if args.old:
                shutil.copytree(CORPUS, root / "old-corpus")
                old = old_ask_command(args.old, root / "old-corpus", root / "old-index", asked[0])
                subprocess.run(old, capture_output=True, check=True)  # it builds its own index
            results["cold_start"] = cold_start(
                root / "corpus", root / "index", asked[0], 2 if args.quick else 5, old
            )
    results["targets"] = verdicts(results)
    return results


if __name__ == "__main__":
    sys.exit(main())
