"""Incremental builds (issue 22): a growing corpus rebuilt against a full build in one run.

    .venv/bin/python -m bench.incremental [--docs N | --full] [--json FILE] [--questions N]
    .venv/bin/python -m bench.incremental --only-extraction   # 2 workers vs 1 on kept PDFs

The corpus: the chapter (``corpus/``), N documents of ``../shared/corpus-train`` as text
and N others printed to PDF by chromium (as the ingest tests print them; the PDFs are kept
in ``--pdf-dir`` between runs). ``--full`` is the issue's size, 60 + 60. Every build is the
real ``qa index`` in a subprocess, as a user runs it, with the real model:

* T: a full build from an empty index folder (``qa index --force``, the cache empty);
* nothing changed (``qa index``): target <= 0.01 x T;
* one PDF added, one PDF changed, one text deleted, one ``qa index`` each: <= 0.05 x T;
* a forced rebuild with a warm cache and nothing changed (for the record);
* extraction of the N PDFs with 2 workers against 1 (no cache, alternated): >= 1.6x;
* the search structures (flat, HNSW, BM25) rebuilt from the index's vectors and chunks;
* the same corpus built from nothing again: the incremental index must hold the same
  files (manifest content without timestamps), and every gold question of the chapter
  must get the same answer, citations and passages from both.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import CORPUS, REPO, machine, ratio

TRAIN = REPO.parent / "shared" / "corpus-train"
TIMES = ("created_at", "build_seconds")


def make_corpus(folder: Path, docs: int, pdf_dir: Path) -> list[Path]:
    """Fill ``folder``; return the spare PDFs (to add, and a changed one) kept aside."""
    from tests.helpers.render import html_of_text, print_pdf

    train = sorted(TRAIN.glob("*.txt"))
    if len(train) < 2 * docs + 2:
        raise SystemExit(f"{TRAIN} has {len(train)} documents; {2 * docs + 2} are needed")
    folder.mkdir(parents=True)
    for path in CORPUS.glob("*.txt"):
        shutil.copy(path, folder / path.name)
    for path in train[:docs]:
        shutil.copy(path, folder / path.name)
    pdf_dir.mkdir(parents=True, exist_ok=True)

    def printed(path: Path, suffix: str = "", extra: str = "") -> Path:
        target = pdf_dir / f"{path.stem}{suffix}.pdf"
        if not target.is_file():
            page = pdf_dir / f"{path.stem}{suffix}.html"
            text = path.read_text("utf-8") + extra
            page.write_text(html_of_text(path.stem, text, path.name), "utf-8")
            print_pdf(page, target)
        return target

    for path in train[docs : 2 * docs]:
        shutil.copy(printed(path), folder / f"{path.stem}.pdf")
    added = printed(train[2 * docs])
    changed = printed(train[docs], "-changed",
                      "\n\nA closing paragraph added later. It names the year 2031.\n")
    return [added, changed]


def qa_index(corpus: Path, index_dir: Path, *flags: str, **env: str) -> tuple[float, str]:
    """Seconds of one ``qa index`` run and the last line it printed."""
    from tests.helpers.procs import offline_env, qa_command

    started = time.perf_counter()
    result = subprocess.run(
        qa_command("index", "--corpus", corpus, "--index-dir", index_dir, *flags),
        cwd=REPO, env=offline_env(**env), capture_output=True, text=True, timeout=7200,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"qa index failed: {result.stderr.strip()[-500:]}")
    return seconds, (result.stdout.strip().splitlines() or [""])[-1]


def extraction_speedup(corpus: Path, repeats: int = 2) -> dict[str, Any]:
    """Reading the corpus's PDFs with 1 and 2 workers (no cache), alternated; with the
    cores the extraction children kept busy (CPU seconds per second: below 2 with two
    workers, the machine had no second core to give)."""
    from index.documents.corpus import read_corpus

    pdfs = Path(tempfile.mkdtemp(prefix="bench-pdfs-"))
    for path in corpus.glob("*.pdf"):
        shutil.copy(path, pdfs / path.name)
    times: dict[int, list[float]] = {1: [], 2: []}
    cores: dict[int, list[float]] = {1: [], 2: []}  # children's CPU seconds per second
    for repeat in range(repeats):
        for workers in (1, 2) if repeat % 2 == 0 else (2, 1):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            read_corpus(pdfs, workers=workers)
            times[workers].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            cores[workers].append(round(cpu / times[workers][-1], 2))
    shutil.rmtree(pdfs)
    one, two = min(times[1]), min(times[2])
    return {"files": len(list(corpus.glob("*.pdf"))), "seconds_1_worker": round(one, 2),
            "seconds_2_workers": round(two, 2), "speedup": round(one / two, 3),
            "cores_busy": cores, "target": 1.6, "pass": one / two >= 1.6}


def legs_rebuild(index_dir: Path) -> dict[str, Any]:
    """Seconds to rebuild each search structure from the index's vectors and chunks (what
    every build does instead of adding and removing ids), against the full build."""
    from index.builder import lexical_text
    from index.loader import load_index
    from index.search.bm25 import build_bm25
    from index.search.vectors import build_vector_index

    index = load_index(index_dir)
    vectors = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    lexical = [lexical_text(c) for c in index.chunks]
    out: dict[str, Any] = {"chunks": len(index.chunks)}
    for name, call in (("flat", lambda: build_vector_index(vectors, "flat")),
                       ("hnsw", lambda: build_vector_index(vectors, "hnsw")),
                       ("bm25", lambda: build_bm25(lexical))):
        started = time.perf_counter()
        call()
        out[f"{name}_seconds"] = round(time.perf_counter() - started, 3)
    return out


def content(index_dir: Path) -> dict[str, Any]:
    """The published manifest without its timestamps."""
    from index.store import MANIFEST, read_pointer

    manifest = json.loads((read_pointer(index_dir)[0] / MANIFEST).read_text("utf-8"))
    return {k: v for k, v in manifest.items() if k not in TIMES}


def same_answers(corpus: Path, first: Path, second: Path, limit: int) -> dict[str, Any]:
    """Every gold question asked of two indexes of the same corpus."""
    from bench.answers import record
    from bench.measure import gold_questions
    from qa.service import QAService
    from qa.settings import Settings

    questions = gold_questions(limit)
    records = []
    for index_dir in (first, second):
        service = QAService(Settings(corpus_dir=corpus, index_dir=index_dir, cache_size=0))
        service.open(rebuild=False)
        records.append([record(service.ask(q)) for q in questions])
    differ = [q for q, a, b in zip(questions, *records, strict=True) if a != b]
    return {"questions": len(questions), "different": len(differ), "examples": differ[:5]}


def run(docs: int, pdf_dir: Path, questions: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    corpus, index_dir, fresh = root / "corpus", root / "index", root / "fresh"
    added, changed = make_corpus(corpus, docs, pdf_dir)
    out: dict[str, Any] = {"machine": machine(), "docs_text": docs, "docs_pdf": docs}
    full, line = qa_index(corpus, index_dir, "--force")
    print(f"full build T (empty index folder): {full:.1f} s  ({line})", flush=True)
    out["full_build_seconds"] = round(full, 2)
    steps: list[tuple[str, Any, float]] = [
        ("nothing changed", None, 0.01),
        ("one PDF added", lambda: shutil.copy(added, corpus / added.name), 0.05),
        ("one PDF changed", lambda: shutil.copy(changed, corpus / changed.name.replace(
            "-changed", "")), 0.05),
        ("one text deleted", lambda: (corpus / sorted(TRAIN.glob("*.txt"))[0].name).unlink(),
         0.05),
    ]
    out["steps"] = []
    for name, change, target in steps:
        if change is not None:
            change()
        seconds, line = qa_index(corpus, index_dir)
        share = ratio(seconds, full)
        out["steps"].append({"step": name, "seconds": round(seconds, 2), "of_T": share,
                             "target": target, "pass": share <= target, "said": line})
        print(f"{name}: {seconds:.2f} s = {share:.3f} x T (target {target})  ({line})",
              flush=True)
    seconds, line = qa_index(corpus, index_dir, "--force")
    out["forced_warm_seconds"] = round(seconds, 2)
    print(f"forced rebuild, warm cache, nothing changed: {seconds:.1f} s  ({line})", flush=True)
    full_again, _ = qa_index(corpus, fresh, "--force", QA_BUILD_CACHE_MB="0")
    out["same_content"] = content(index_dir) == content(fresh)
    print(f"full build of the final corpus: {full_again:.1f} s; same files as the "
          f"incremental index: {out['same_content']}", flush=True)
    out["legs"] = legs_rebuild(index_dir)
    out["legs"]["of_T"] = {k: ratio(v, full) for k, v in out["legs"].items() if "seconds" in k}
    print(f"search structures rebuilt from the cached vectors: {out['legs']}", flush=True)
    out["answers"] = same_answers(corpus, index_dir, fresh, questions)
    print(f"gold answers: {out['answers']}", flush=True)
    out["extraction"] = extraction_speedup(corpus)
    print(f"extraction: {out['extraction']}", flush=True)
    shutil.rmtree(root, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20, help="text and PDF documents each")
    parser.add_argument("--full", action="store_true", help="the issue's size: 60 + 60")
    parser.add_argument("--questions", type=int, default=1000, help="gold questions asked")
    parser.add_argument("--pdf-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "citeqa-bench-pdfs",
                        help="where printed PDFs are kept between runs")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--only-extraction", action="store_true",
                        help="only PDF extraction, 2 workers vs 1, on the PDFs in --pdf-dir")
    args = parser.parse_args()
    if args.only_extraction:
        result = extraction_speedup(args.pdf_dir, repeats=4)
        print(f"extraction: {result}")
        sys.exit(0 if result["pass"] else 1)
    result = run(60 if args.full else args.docs, args.pdf_dir, args.questions)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    passed = all(s["pass"] for s in result["steps"]) and result["extraction"]["pass"]
    passed = passed and result["same_content"] and result["answers"]["different"] == 0
    print("PASS" if passed else "FAIL (see above)")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
