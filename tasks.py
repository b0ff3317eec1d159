#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+.

    python3 tasks.py run    # create .venv, install, build the index, answer a sample, serve
    python3 tasks.py test   # create .venv, install, run ruff, mypy and the whole test suite

Both leave a virtual environment in .venv/ with the ``qa`` command installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
LOCK = ROOT / "requirements.lock"
NLP_LOCK = ROOT / "requirements-nlp.txt"  # the spaCy pipeline, pinned by version and hash
STAMP = VENV / ".installed"
DEV_STAMP = VENV / ".installed-dev"
SAMPLE = "When was the Extended Deterrence Dialogue established?"


def sh(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    """Run a command, echoing it; stop with its exit status if it fails."""
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def setup(dev: bool = False) -> None:
    """Create .venv and install the project with pinned versions (skipped when current).

    ``dev`` adds the test tools (``.[dev]``), among them the test-only llama.cpp server that
    compiles at install; ``run`` does not need them and does not wait for that build."""
    if sys.version_info < (3, 11):
        sys.exit("Python 3.11 or newer is needed")
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    inputs = [ROOT / "pyproject.toml", LOCK, NLP_LOCK]
    stamps = [DEV_STAMP] if dev else [STAMP, DEV_STAMP]  # a dev install serves run too
    if any(s.exists() and all(s.stat().st_mtime >= p.stat().st_mtime for p in inputs)
           for s in stamps):
        return
    sh(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    # torch is pinned to the CPU build in the lock; an unpinned install would pull CUDA.
    target = ".[dev]" if dev else "."
    sh(PYTHON, "-m", "pip", "install", "--quiet", "-c", LOCK, "-e", target, env=build_env())
    sh(PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "--require-hashes", "-r", NLP_LOCK)
    (DEV_STAMP if dev else STAMP).write_text("ok\n")


# How the test-only llama.cpp server (llama-cpp-python, compiled at install: ~5 min on 2 cores,
# then reused from pip's wheel cache) is built: portable AVX2 code instead of -march=native,
# whose AMX matrix kernels crash on Q4_K models on some Xeons (llama.cpp issue 20824).
LLAMA_CMAKE_ARGS = ("-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON "
                    "-DGGML_F16C=ON -DGGML_BMI2=ON")


def build_env() -> dict[str, str]:
    """Environment for pip: CMAKE_ARGS for llama-cpp-python unless the caller set its own."""
    e = dict(os.environ)
    e.setdefault("CMAKE_ARGS", LLAMA_CMAKE_ARGS)
    return e


def env() -> dict[str, str]:
    """Environment for the tools: offline model hub, quiet transformers."""
    e = dict(os.environ)
    e.setdefault("HF_HUB_OFFLINE", "1")
    e.setdefault("TRANSFORMERS_OFFLINE", "1")
    e.setdefault("TRANSFORMERS_VERBOSITY", "error")
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    return e


def run() -> None:
    """Build the index if needed, answer a sample question, then start the service."""
    setup()
    qa = BIN / "qa"
    sh(qa, "index", env=env())
    sh(qa, "ask", SAMPLE, env=env())
    sh(qa, "serve", env=env())


# Debian packages the tests use, by the binary each provides: chromium for the browser test
# and for printing test PDFs, pdftotext/pdftoppm to check pages, tesseract for OCR.
DEBIAN_TOOLS = {
    "chromium": "chromium",
    "chromedriver": "chromium-driver",
    "pdftotext": "poppler-utils",
    "tesseract": "tesseract-ocr",
}


def ensure_chromium() -> None:
    """Install the Debian packages of ``DEBIAN_TOOLS`` that are missing, if possible."""
    missing = sorted({pkg for binary, pkg in DEBIAN_TOOLS.items() if not shutil.which(binary)})
    if not missing:
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        sh("apt-get", "update", "-q")
        sh("apt-get", "install", "-y", "-q", *missing)
    else:
        print(f"note: {', '.join(missing)} missing and cannot be installed here; "
              "the tests that need them will say so", flush=True)


def test() -> None:
    """Lint, type-check and run every test."""
    setup(dev=True)
    ensure_chromium()
    e = env()
    sh(BIN / "ruff", "check", ".", env=e)
    sh(BIN / "mypy", env=e)
    sh(PYTHON, "-m", "pytest", *sys.argv[2:], env=e)


if __name__ == "__main__":
    commands = {"run": run, "test": test, "setup": setup}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 {Path(__file__).name} {{{'|'.join(commands)}}}")
    commands[sys.argv[1]]()
