"""Cold start: ``qa ask`` as a new process against the floor of a bare Python process.

The floor imports the libraries ``qa ask`` imports (spaCy, bm25s, FAISS, NumPy, ONNX
Runtime, tokenizers), loads the ONNX export and the FAISS index, encodes the question and
searches once -- what any process that answers must do. ``qa ask`` adds settings, index
checks, BM25, the question's parse, answering and printing on top. With ``--old`` the old
release's ``qa ask`` (another checkout with its own .venv) runs alternately with both.

    .venv/bin/python -m bench.coldstart --profile   # also show where the import time goes
    .venv/bin/python -m bench.coldstart --old ../wt13-old --runs 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
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
import sys
sys.modules["torch"] = None  # as index.text.nlp.import_spacy: spaCy's thinc would import torch
import spacy
del sys.modules["torch"]
import bm25s, faiss, numpy, onnxruntime, tokenizers
question, dense, folder = sys.argv[1:4]
tokenizer = tokenizers.Tokenizer.from_file(folder + "/tokenizer.json")
tokenizer.enable_truncation(max_length=256)
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = 1
session = onnxruntime.InferenceSession(folder + "/model.onnx", options,
                                       providers=["CPUExecutionProvider"])
index = faiss.read_index(dense)
e = tokenizer.encode(question)
feed = {"input_ids": [e.ids], "attention_mask": [e.attention_mask], "token_type_ids": [e.type_ids]}
(states,) = session.run(None, {k: numpy.array(v, dtype=numpy.int64) for k, v in feed.items()})
vector = states.mean(axis=1)
vector /= numpy.linalg.norm(vector)
index.search(vector.astype(numpy.float32), 10)
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


def export_folder(index_dir: Path) -> Path:
    """The ONNX export the active index version was built with."""
    from index.encode.onnx_embedder import cache_root
    from index.store import current_version, read_manifest

    manifest = read_manifest(current_version(index_dir), None)
    return cache_root() / str(manifest["model"]["encoder"]["folder"])


def cold_start(
    corpus: Path,
    index_dir: Path,
    question: str,
    runs: int = 3,
    old: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Median wall time of ``qa ask``, of the floor process and, given ``old`` (the old
    release's ``qa ask`` command line on a current index of its own), of the old one;
    the commands alternate ``runs`` times."""
    commands = {
        "qa_ask": qa_ask_command(corpus, index_dir, question),
        "floor": [sys.executable, "-c", FLOOR_SNIPPET, question, str(dense_file(index_dir)),
                  str(export_folder(index_dir))],
        **({"old_qa_ask": list(old)} if old else {}),
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_wall(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    out: dict[str, Any] = {
        "runs": runs,
        **{f"{name}_s": round(value, 3) for name, value in medians.items()},
        "ratio": ratio(medians["qa_ask"], medians["floor"]),
        **{f"{name}_all_s": [round(x, 3) for x in values] for name, values in times.items()},
    }
    if old:
        out["ratio_vs_old"] = ratio(medians["qa_ask"], medians["old_qa_ask"])
    return out


def old_ask_command(checkout: Path, corpus: Path, index_dir: Path, question: str) -> list[str]:
    """``qa ask`` of another checkout (its own .venv), on a corpus copy and index of its own."""
    script = checkout / ".venv" / "bin" / "qa"
    return [str(script), "ask", question, "--corpus", str(corpus), "--index-dir", str(index_dir)]


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
    parser.add_argument("--old", type=Path, default=None,
                        help="checkout of the old release (with its .venv), run alternately")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument(
        "--question", default="When was the Extended Deterrence Dialogue established?"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qa-cold-") as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        subprocess.run(["cp", "-r", str(CORPUS), str(corpus)], check=True)
        _wall([*qa_ask_command(corpus, index_dir, args.question)])  # builds the index
        old = None
        if args.old:
            old_corpus, old_index = Path(tmp) / "old-corpus", Path(tmp) / "old-index"
            subprocess.run(["cp", "-r", str(CORPUS), str(old_corpus)], check=True)
            old = old_ask_command(args.old, old_corpus, old_index, args.question)
            _wall(old)  # the old release builds its own index
        result = cold_start(corpus, index_dir, args.question, args.runs, old)
        print(json.dumps(result, indent=1))
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        if args.profile:
            command = ["-m", "qa.cli", *qa_ask_command(corpus, index_dir, args.question)[-6:]]
            for name, total, own in import_profile(command):
                print(f"{total:8.3f} s cumulative {own:8.3f} s self  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
