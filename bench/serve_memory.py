"""Peak memory of ``qa serve`` after 1,000 questions, this checkout vs another one.

    .venv/bin/python -m bench.serve_memory [--old /path/to/old/checkout] [--questions 1000]

Each server runs on its own copy of the corpus and index folder; the questions are every
distinct gold question of every corpus, asked in turn until ``--questions`` were asked (more
distinct questions than the answer cache holds, so every one is answered). The peak is the
server process's ``VmHWM`` (peak resident set) from /proc once the questions are answered.
With ``--old``, the old checkout (its own ``.venv``) runs the same load, alternately.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.http_load import AskClient, server_process
from bench.measure import CORPUS, REPO, gold_questions, ratio


def all_questions(root: Path = REPO) -> list[str]:
    """Distinct gold questions of the chapter and every eval corpus."""
    files = [root / "eval" / "gold.jsonl", *sorted((root / "eval" / "corpora").glob("*/gold.jsonl"))]
    return list(dict.fromkeys(q for path in files for q in gold_questions(100_000, path)))


def peak_kib(pid: int) -> int:
    """VmHWM (peak resident memory) of a live process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc status")


def serve_peak(checkout: Path, work: Path, questions: Sequence[str]) -> dict[str, Any]:
    """Start ``qa serve`` of ``checkout`` over a copy of the corpus, ask, read the peak."""
    python = checkout / ".venv" / "bin" / "python"
    shutil.copytree(CORPUS, work / "corpus")
    # built first, by that checkout, so the peak is the server's own and not a build's
    subprocess.run([str(python), "-m", "qa.cli", "index", "--corpus", str(work / "corpus"),
                    "--index-dir", str(work / "index")], cwd=checkout, capture_output=True,
                   check=True, timeout=1800)
    statuses: list[int] = []
    with server_process(work / "corpus", work / "index", work / "server.log",
                        python=str(python), cwd=checkout, ready_s=900) as (port, process):
        ready_kib = peak_kib(process.pid)
        client = AskClient(port)
        for question in questions:
            statuses.append(client.ask(question)[0])
        client.close()
        after_kib = peak_kib(process.pid)
    return {
        "checkout": str(checkout),
        "questions": len(questions),
        "errors": sum(1 for s in statuses if s != 200),
        "peak_ready_mib": round(ready_kib / 1024, 1),
        "peak_after_mib": round(after_kib / 1024, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.serve_memory``."""
    parser = argparse.ArgumentParser(prog="bench.serve_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, default=None, help="checkout of the old release")
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    pool = all_questions()
    questions = [pool[i % len(pool)] for i in range(args.questions)]
    results: dict[str, Any] = {"distinct_questions": len(pool)}
    with tempfile.TemporaryDirectory(prefix="qa-mem-") as tmp:
        checkouts = {"new": REPO, **({"old": args.old.resolve()} if args.old else {})}
        for name, checkout in checkouts.items():
            work = Path(tmp) / name
            work.mkdir()
            results[name] = serve_peak(checkout, work, questions)
            print(f"{name}: {results[name]}", file=sys.stderr, flush=True)
    if "old" in results:
        results["ratio_new_vs_old"] = ratio(results["new"]["peak_after_mib"],
                                            results["old"]["peak_after_mib"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
