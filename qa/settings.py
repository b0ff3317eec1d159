"""One settings object, read at the edges (CLI, HTTP); env overrides with ``QA_`` prefix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.config import DEFAULT_CACHE_BYTES, BuildConfig
from index.documents.extract.pool import default_workers
from index.documents.extract.records import (
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_SOURCE_BYTES,
    DEFAULT_MEMORY_MB,
    DEFAULT_SECONDS,
    ExtractSettings,
)
from index.encode.base import DEFAULT_MODEL
from index.search.milvus_target import MilvusTarget
from index.text.chunker import ChunkSettings
from index.text.nlp import DEFAULT_NLP_MODEL
from qa.errors import LLMNotConfigured
from qa.llm.records import Endpoint

# A list-valued setting read from the environment as it is written: ``a,b`` or JSON.
Names = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Every knob of the tool. Environment variables ``QA_<NAME>`` override defaults."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path(".qa_index")
    model: str = DEFAULT_MODEL
    embed_threads: int = Field(1, ge=1, le=64)  # ONNX Runtime threads per encode (bench.run)
    chunk_tokens: int = Field(200, ge=16, le=4096)
    chunk_overlap: int = Field(1, ge=0, le=20)
    vector_kind: Literal["auto", "flat", "hnsw", "ivf", "ivfpq"] = "auto"
    hnsw_threshold: int = Field(50_000, ge=1)
    max_file_mb: float = Field(10.0, gt=0)
    nlp_model: str = DEFAULT_NLP_MODEL  # spaCy pipeline (package name or path)

    # Where the search legs live: FAISS + bm25s files (default) or a Milvus collection
    backend: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: str | None = None  # None: Milvus Lite in <index_dir>/milvus.db
    milvus_token: str = ""
    milvus_timeout: float = Field(10.0, gt=0, le=600)  # seconds, connecting and per call
    milvus_collection: str = "citeqa"  # collection prefix; also the current one's alias
    # PDF and HTML files: bounds of one file's extraction, and OCR of scanned pages
    max_source_mb: float = Field(DEFAULT_MAX_SOURCE_BYTES / 1024 / 1024, gt=0)
    max_pdf_pages: int = Field(DEFAULT_MAX_PAGES, ge=1)
    extract_seconds: float = Field(DEFAULT_SECONDS, gt=0)
    extract_memory_mb: int = Field(DEFAULT_MEMORY_MB, ge=256)
    ocr: Literal["on", "off"] = "off"  # tesseract over pages without a text layer
    # Building: files read at once (None: one per core); the build cache's size bound
    build_workers: int | None = Field(None, ge=1, le=64)
    build_cache_mb: float = Field(DEFAULT_CACHE_BYTES / 1024 / 1024, ge=0)  # 0: no cache

    # Retrieval and answering
    k: int = Field(5, ge=1, le=50)
    reader: Literal["span", "features"] = "span"  # span: the trained model (models/)
    reader_threads: int = Field(1, ge=1, le=64)  # ONNX Runtime threads of the span reader
    span_model_dir: Path | None = None  # None: the committed model, models/span-reader
    fusion: Literal["rrf", "weighted"] = "rrf"
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(0.5, ge=0.0, le=1.0)
    candidates: int = Field(30, ge=1, le=1000)
    abstain_threshold: float | None = None  # None: use the value calibrated in eval/
    cache_size: int = Field(256, ge=0)

    # A model that writes answers: any OpenAI-compatible server (off while llm_url is unset)
    llm_url: str | None = None  # base URL, e.g. http://127.0.0.1:11434/v1
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None  # sent as a Bearer token; never logged or echoed
    llm_timeout: float = Field(60.0, gt=0, le=3600)  # seconds for the whole reply
    llm_context_tokens: int = Field(8192, ge=512)  # the model's window, prompt + answer
    llm_max_tokens: int = Field(512, ge=16)  # the answer budget

    # HTTP service
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_key: str | None = None
    cors_origins: Names = Field(default_factory=list)
    allowed_hosts: Names = Field(default_factory=list)  # empty: localhost names and `host`
    trusted_proxies: Names = Field(default_factory=list)  # empty: X-Forwarded-* ignored
    header_timeout_seconds: float = Field(10.0, gt=0)  # a request head must arrive in time
    idle_timeout_seconds: int = Field(5, ge=1)  # keep-alive connections idle this long close
    max_question_chars: int = Field(1000, ge=1)
    max_body_bytes: int = Field(16_384, ge=256)
    rate_limit_per_minute: int = Field(0, ge=0)  # 0 disables the limit

    @field_validator("cors_origins", "allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        """``a,b`` (spaces allowed) or a JSON list; anything else is left to the type check."""
        if not isinstance(value, str):
            return value
        if value.lstrip().startswith("["):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ValueError("not a valid JSON list; write a,b or [\"a\", \"b\"]") from None
        return [name.strip() for name in value.split(",") if name.strip()]

    @field_validator("llm_max_tokens")
    @classmethod
    def _answer_fits(cls, value: int, info: ValidationInfo) -> int:
        window = info.data.get("llm_context_tokens")
        if window is not None and value >= window // 2:
            raise ValueError(f"must be under half of QA_LLM_CONTEXT_TOKENS ({window}), to "
                             "leave room for the passages")
        return value

    def llm_endpoint(self, required: bool = False) -> Endpoint | None:
        """The model endpoint, or None when ``QA_LLM_URL`` is not set.

        Args:
            required: raise instead of returning None.

        Raises:
            LLMNotConfigured: a URL without a model name, or no URL when one is required.
        """
        if not self.llm_url:
            if required:
                raise LLMNotConfigured("no model endpoint is configured: set QA_LLM_URL and "
                                       "QA_LLM_MODEL to have a model write answers")
            return None
        if not self.llm_model:
            raise LLMNotConfigured("QA_LLM_URL is set but QA_LLM_MODEL is not: name the model "
                                   "to ask (as the server lists it)")
        key = self.llm_api_key.get_secret_value() if self.llm_api_key is not None else ""
        return Endpoint(self.llm_url.rstrip("/"), self.llm_model, key, self.llm_timeout,
                        self.llm_context_tokens, self.llm_max_tokens)

    def build_config(self) -> BuildConfig:
        """The part of the settings that shapes the index."""
        return BuildConfig(
            model=self.model,
            chunking=ChunkSettings(self.chunk_tokens, self.chunk_overlap),
            vector_kind=self.vector_kind,
            hnsw_threshold=self.hnsw_threshold,
            max_file_bytes=int(self.max_file_mb * 1024 * 1024),
            nlp_model=self.nlp_model,
            backend=self.backend,
            extract=ExtractSettings(
                max_pages=self.max_pdf_pages,
                seconds=self.extract_seconds,
                memory_mb=self.extract_memory_mb,
                max_source_bytes=int(self.max_source_mb * 1024 * 1024),
                ocr=self.ocr == "on",
            ),
            workers=self.build_workers or default_workers(),
            cache_bytes=int(self.build_cache_mb * 1024 * 1024),
        )

    def milvus_target(self) -> MilvusTarget | None:
        """Where Milvus is, when the backend is Milvus (None for FAISS)."""
        if self.backend != "milvus":
            return None
        uri = self.milvus_uri or str(Path(self.index_dir).resolve() / "milvus.db")
        return MilvusTarget(uri, self.milvus_token, self.milvus_timeout, self.milvus_collection)
