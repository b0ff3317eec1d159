"""The query service: keeps the index and model loaded, answers and searches, caches.

The CLI, the HTTP API and the evaluation all go through ``QAService`` -- there is one
answering path.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from index.documents.textfold import clean_question
from index.encode import make_embedder
from index.encode.base import Embedder
from index.errors import CorruptIndex, IndexNotFound
from index.history import KEPT_VERSIONS, kept_document, kept_versions
from index.loader import IndexStatus, LoadedIndex, check_index, load_index
from index.records import Document, SkippedFile
from index.text.nlp import load_query_nlp
from qa.errors import InvalidQuestion, LLMNotConfigured, NotFound, TooLarge
from qa.query import Query, analyse
from qa.questions import check_k, check_question, short_id
from qa.reader.extractive import ExtractiveReader
from qa.reader.features import FEATURES
from qa.reader.model import ReaderModel, load_model
from qa.reader.neural import SpanReader
from qa.reader.span_model import SpanModel
from qa.records import Answer, Passage
from qa.retriever import Hit, Retriever
from qa.settings import Settings

if TYPE_CHECKING:
    from index.builder import BuildReport
    from qa.llm.answerer import LLMAnswerer
    from qa.llm.client import Probe

ANSWERERS = ("extractive", "llm")  # who writes the answer: the reader, or a model (checked)


@dataclass
class _Loaded:
    """Everything that must be swapped together when the index changes."""

    index: LoadedIndex
    retriever: Retriever
    reader: ExtractiveReader | SpanReader
    documents: frozenset[str]


class QAService:
    """Answer questions over the corpus with verified citations.

    Args:
        settings: the tool's settings.
        embedder: the embedding model (built from the settings when omitted).
        model: the feature reader's fitted models (from ``qa/reader/model.json`` when
            omitted).
        span_model: the trained span reader (from ``models/span-reader`` when omitted and
            ``settings.reader`` is ``span``).
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        model: ReaderModel | None = None,
        span_model: SpanModel | None = None,
    ) -> None:
        self.settings = settings
        self.embedder: Embedder = embedder or make_embedder(
            settings.model, threads=settings.embed_threads
        )
        self.model = model or load_model(threshold=settings.abstain_threshold, expected=FEATURES)
        self.span_model = span_model
        if self.span_model is None and settings.reader == "span":
            self.span_model = SpanModel(settings.span_model_dir, threads=settings.reader_threads)
        self._loaded: _Loaded | None = None
        self._cache: OrderedDict[tuple[str, int, str], Answer] = OrderedDict()
        self._lock = threading.Lock()
        self._build_lock = threading.RLock()  # one build or open at a time
        self.last_build: BuildReport | None = None
        self._llm: LLMAnswerer | None = None

    # -- index lifecycle -------------------------------------------------------------

    def status(self, verify: bool = True, cache: bool = False) -> IndexStatus:
        """Whether the built index matches the corpus and settings.

        Args:
            verify: also check every index file against its checksum.
            cache: also check every entry of the build cache against its checksum.
        """
        return check_index(
            self.settings.corpus_dir, self.settings.index_dir, self.settings.build_config(),
            verify=verify, engine=self.settings.milvus_target(), cache=cache,
        )

    def build(self, progress: bool = False) -> BuildReport:
        """Build a new index version from the corpus (atomically published)."""
        from index.builder import build_index  # spaCy's whole pipeline, the export, ...

        with self._build_lock:
            report = build_index(
                self.settings.corpus_dir,
                self.settings.index_dir,
                self.settings.build_config(),
                self.embedder,
                progress=progress,
                engine=self.settings.milvus_target(),
            )
            self.last_build = report
            return report

    def open(self, rebuild: bool = True, progress: bool = False) -> bool:
        """Load the index, rebuilding it first when it is missing, stale or damaged.

        Args:
            rebuild: rebuild automatically; when False, load whatever is there.
            progress: show a progress bar if a build happens.

        Returns:
            True when a build happened.
        """
        with self._build_lock:
            built = False
            if rebuild and not self.status(verify=False).current:
                self.build(progress=progress)
                built = True
            try:
                index = load_index(self.settings.index_dir, engine=self.settings.milvus_target())
            except (CorruptIndex, IndexNotFound):
                if not rebuild:
                    raise
                self.build(progress=progress)
                built = True
                index = load_index(self.settings.index_dir, engine=self.settings.milvus_target())
            self._swap(index)
            return built

    def reload(self) -> bool:
        """Rebuild if the corpus or settings changed, then switch atomically.

        Readers keep the old index until the new one is loaded; concurrent reloads run
        one after the other.

        Returns:
            True when a new index version was loaded.
        """
        from index.store import current_version

        with self._build_lock:
            before = self._loaded.index.version if self._loaded is not None else None
            if before is not None and self.status().current:
                try:
                    if current_version(self.settings.index_dir) == before:
                        return False
                except (IndexNotFound, CorruptIndex):
                    pass
            self.open(rebuild=True)
            return self._loaded is not None and self._loaded.index.version != before

    def _swap(self, index: LoadedIndex) -> None:
        s = self.settings
        # queries are encoded by the very export the index was built with (checksummed)
        self.embedder.bind(index.manifest.get("model", {}).get("encoder"))
        retriever = Retriever(
            index,
            self.embedder,
            fusion=s.fusion,
            rrf_k=s.rrf_k,
            dense_weight=s.dense_weight,
            candidates=s.candidates,
        )
        reader: ExtractiveReader | SpanReader
        if self.span_model is not None:
            reader = SpanReader(index, self.span_model,
                                threshold=self.settings.abstain_threshold)
        else:
            reader = ExtractiveReader(index, self.model)
        loaded = _Loaded(index, retriever, reader, frozenset(c.doc_id for c in index.chunks))
        with self._lock:
            self._loaded = loaded
            self._cache.clear()

    def warm_up(self) -> None:
        """Open the index and load what the first question needs (encoder, question parser)."""
        _ = self.loaded  # opens the index (building it if needed) unless it is open
        self.embedder.embed(["warm-up"])
        if self.span_model is None:
            load_query_nlp(self.settings.nlp_model)
        else:
            self.span_model.read("warm-up?", ["warm-up."])

    @property
    def loaded(self) -> _Loaded:
        """The loaded index; opens it on first use."""
        if self._loaded is None:
            with self._build_lock:
                if self._loaded is None:
                    self.open()
        assert self._loaded is not None
        return self._loaded

    @property
    def ready(self) -> bool:
        """Whether an index is loaded."""
        return self._loaded is not None

    # -- queries ---------------------------------------------------------------------

    def validate_question(self, question: str) -> str:
        """The question stripped, or InvalidQuestion when it cannot be asked."""
        return check_question(question, self.settings.max_question_chars)

    def ask(self, question: str, k: int | None = None, mode: str = "hybrid",
            answerer: str = "extractive") -> Answer:
        """Answer a question with citations, or abstain.

        Args:
            question: the question in plain language.
            k: how many passages to return (default from settings).
            mode: retrieval mode (``hybrid``, or ``dense``/``bm25`` for baselines).
            answerer: ``extractive`` (the reader) or ``llm`` (the configured model, whose
                answer is shown only when its quotes and facts check out).

        Raises:
            LLMNotConfigured: ``llm`` without a model endpoint.
            LLMError: the model endpoint failed (``LLMTimeout``: it did not reply in time).
        """
        question = self.validate_question(question)
        k = check_k(k, self.settings.k)
        if answerer not in ANSWERERS:
            raise InvalidQuestion(f"unknown answerer {answerer!r}; choose one of "
                                  + ", ".join(ANSWERERS))
        writer = self.llm_answerer() if answerer == "llm" else None
        loaded = self.loaded
        key = (question, k, mode)
        with self._lock:
            cached = self._cache.get(key)
            if writer is None and cached is not None and self._loaded is loaded:
                self._cache.move_to_end(key)
                return cached
        # hits and reader from one loaded index: a reload may swap self.loaded meanwhile
        query, hits, vector = self._prepare(loaded, question, k, mode)
        # The baselines (mode dense or bm25) change only how passages are retrieved; the
        # answer step is the same, except that only our system adds sentence-level search.
        answer = loaded.reader.read(query, hits, vector, sentence_search=mode == "hybrid")
        answer = replace(answer, question=question, index_version=loaded.index.version.name)
        if writer is not None:
            passages = [loaded.reader.passage(h) for h in hits]
            ends = [_sentence_ends(loaded.index, p) for p in passages]
            answer = writer.answer(query.text, passages, ends, answer, loaded.index.page_span)
        if len(answer.passages) > k:
            answer = replace(answer, passages=answer.passages[:k])
        if writer is None and self.settings.cache_size > 0:
            with self._lock:
                if self._loaded is loaded:
                    self._cache[key] = answer
                    while len(self._cache) > self.settings.cache_size:
                        self._cache.popitem(last=False)
        return answer

    def llm_answerer(self) -> LLMAnswerer:
        """The model answerer of ``QA_LLM_URL`` (made on first use).

        Raises:
            LLMNotConfigured: no endpoint is configured, or it names no model.
        """
        if self._llm is None:
            endpoint = self.settings.llm_endpoint(required=True)
            assert endpoint is not None
            from qa.llm.answerer import LLMAnswerer

            self._llm = LLMAnswerer(endpoint)
        return self._llm

    def llm_probe(self) -> Probe | None:
        """Whether the model endpoint answers; None when none is configured."""
        if not self.settings.llm_url:
            return None
        try:
            return self.llm_answerer().probe()
        except LLMNotConfigured as exc:
            from qa.llm.client import Probe

            return Probe(False, str(exc))

    def prepare(self, question: str, k: int, mode: str = "hybrid") -> tuple[Query, list[Hit], Any]:
        """The parsed question, its hits (at least as deep as the reader reads) and its
        embedding: everything the reader takes."""
        return self._prepare(self.loaded, question, k, mode)

    def _prepare(self, loaded: _Loaded, question: str, k: int,
                 mode: str) -> tuple[Query, list[Hit], Any]:
        # The question is read in its plain form (NFKC, no zero-width characters or soft
        # hyphens, one space between words); the answer echoes it as it was asked.
        # only the feature reader reads the parse; the span model reads the question itself
        nlp = (load_query_nlp(self.settings.nlp_model)
               if isinstance(loaded.reader, ExtractiveReader) else None)
        query = analyse(clean_question(question), loaded.index.acronyms, nlp)
        vector = loaded.retriever.embed_query(query.expanded)
        depth = max(k, loaded.reader.params.passages)
        hits = loaded.retriever.search(query.expanded, depth, mode=mode, vector=vector)
        return query, hits, vector

    def search(self, query: str, k: int | None = None, mode: str = "hybrid") -> list[Passage]:
        """Ranked passages for a query (no answer extraction)."""
        query = self.validate_question(query)
        k = check_k(k, self.settings.k)
        loaded = self.loaded
        analysed = analyse(clean_question(query), loaded.index.acronyms)
        hits = loaded.retriever.search(analysed.expanded, k, mode=mode)
        return [loaded.reader.passage(h) for h in hits]

    def passage(self, chunk_id: str) -> Passage:
        """One passage by its chunk id.

        Raises:
            NotFound: no chunk has that id.
        """
        index = self.loaded.index
        position = index.by_id.get(chunk_id)
        fetched = index.backend.fetch([position]) if position is not None else []
        if not fetched:
            raise NotFound(f"no passage with id {short_id(chunk_id)}")
        p = fetched[0]
        return Passage(p.doc_id, p.chunk_id, p.section, p.start, p.end, p.text, 0.0,
                       *index.page_span(p.doc_id, p.start, p.end))

    def skipped(self) -> list[SkippedFile]:
        """The corpus files the loaded index left out or indexed with a warning, with why."""
        listed = self.loaded.index.manifest.get("skipped", [])
        return [SkippedFile(str(s["path"]), str(s["reason"])) for s in listed]

    def documents(self) -> list[str]:
        """The ids of the indexed documents."""
        return sorted(self.loaded.documents)

    def document(self, doc_id: str) -> str:
        """An indexed document's text, which the offsets point into (``stored_document``)."""
        return self.stored_document(doc_id).text

    def stored_document(self, doc_id: str) -> Document:
        """An indexed document: the text the index was built from, which every offset
        points into (kept in the index, never read again from the corpus folder).

        Raises:
            NotFound: the id is not an indexed document.
            TooLarge: its text is over the size limit (``QA_MAX_FILE_MB``).
        """
        return self.versioned_document(doc_id)[1]

    def versioned_document(self, doc_id: str, version: str | None = None) -> tuple[str, Document]:
        """A document as an index version stored it, so an answer's offsets can be checked
        after a reload.

        Args:
            doc_id: the document id.
            version: an answer's ``index_version``; None for the loaded index. The texts of
                the last ``KEPT_VERSIONS`` versions are kept.

        Returns:
            The version served and the document.

        Raises:
            NotFound: the version is not kept (the message lists those that are), or the
                id is not a document of it.
            TooLarge: its text is over the size limit (``QA_MAX_FILE_MB``).
        """
        index = self.loaded.index
        version = version or index.version.name
        if version == index.version.name:
            doc = index.documents.get(doc_id)
        else:
            doc = kept_document(self.settings.index_dir, version, doc_id)
            kept = kept_versions(self.settings.index_dir)
            if doc is None and version not in kept:
                raise NotFound(f"index version {short_id(version)} is not kept (the last "
                               f"{KEPT_VERSIONS} are; kept now: {', '.join(kept) or 'none'})")
        if doc is None:
            older = "" if version == index.version.name else f" in index version {version}"
            raise NotFound(f"no document with id {short_id(doc_id)}{older}")
        limit = int(self.settings.max_file_mb * 1024 * 1024)
        size = len(doc.text.encode("utf-8"))
        if size > limit:
            raise TooLarge(f"the document's text is {size / 1e6:.1f} MB, over the "
                           f"{limit / 1e6:.1f} MB limit (QA_MAX_FILE_MB)")
        return version, doc


def _sentence_ends(index: LoadedIndex, passage: Passage) -> list[int]:
    """Offsets in the passage's text just after each of its stored sentences ([] if unknown)."""
    position = index.by_id.get(passage.chunk_id)
    if position is None:
        return []
    chunk = index.chunks[position]
    return [end - passage.start for _, end in chunk.sentences
            if passage.start < end <= passage.end]
