"""Sentence annotations through the build cache, keyed by (sentence text, pipeline).

The cache space is a digest of the spaCy pipeline's name and version, spaCy's version and
the code that turns its parse into records (``index.text.annotate``, ``index.documents.textfold``).
Within it, one entry per document (named by a digest of its id) maps the SHA-256 of each
sentence text to its annotation, whose offsets are relative to the sentence, so they do
not depend on where it stands. A rebuild annotates only the sentences not found.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from index.cache import BuildCache, changed_packs, digest_of, read_packs
from index.text.annotate import Annotation, Token, annotate

_CODE = ("text/annotate.py", "documents/textfold.py")  # under index/


@lru_cache(maxsize=1)
def _code_digest() -> str:
    folder = Path(__file__).parents[1]
    return digest_of(*((folder / name).read_bytes() for name in _CODE))


def pipeline_space(nlp: Any) -> str:
    """The cache space of one pipeline's annotations."""
    meta = getattr(nlp, "meta", {}) or {}
    name = f"{meta.get('lang', '')}_{meta.get('name', '')}"
    return digest_of("annotate", name, str(meta.get("version", "")), metadata.version("spacy"),
                     ",".join(getattr(nlp, "pipe_names", [])), _code_digest())


def annotate_cached(
    cache: BuildCache, nlp: Any, sentences: Sequence[tuple[str, int, int]],
    texts: Sequence[str],
) -> tuple[list[Annotation], int]:
    """Annotate sentences, reusing what the cache holds.

    Args:
        cache: the build cache (when off, every sentence is annotated).
        nlp: the spaCy pipeline.
        sentences: the sentence keys ``(doc_id, start, end)``.
        texts: the original text of each sentence.

    Returns:
        (one annotation per sentence, in order; how many were annotated now).
    """
    space = pipeline_space(nlp) if cache.enabled else ""
    keys = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]
    owners = [doc_id for doc_id, _, _ in sentences]
    known, stored = read_packs(owners, lambda o: _read_pack(cache, space, o))
    first = {k: n for n, k in reversed(list(enumerate(keys)))}
    missing = [k for k in dict.fromkeys(keys) if k not in known]
    fresh = annotate(nlp, [sentences[first[k]] for k in missing], [texts[first[k]] for k in missing])
    known.update((k, (a.tokens, a.ents, a.chunks)) for k, a in zip(missing, fresh, strict=True))
    cache.computed["annotate"] += len(missing)
    if cache.enabled:
        _write_packs(cache, space, keys, owners, stored, known)
    annotations = [Annotation(d, a, b, *known[k]) for (d, a, b), k in zip(sentences, keys, strict=True)]
    return annotations, len(missing)


# An annotation without its position: tokens, entities, noun chunks
Parsed = tuple[tuple[Token, ...], tuple[tuple[int, int, str], ...], tuple[tuple[int, int], ...]]


def _row(parsed: Parsed) -> list[Any]:
    """An annotation without its position, as plain JSON."""
    tokens, ents, chunks = parsed
    return [[[t.start, t.end, t.lemma, t.pos, t.tag, t.dep, t.head] for t in tokens],
            [list(e) for e in ents], [list(c) for c in chunks]]


def _parsed(row: list[Any]) -> Parsed:
    tokens, ents, chunks = row
    return (
        tuple(Token(int(s), int(e), str(lm), str(p), str(tg), str(d), int(h))
              for s, e, lm, p, tg, d, h in tokens),
        tuple((int(i), int(j), str(label)) for i, j, label in ents),
        tuple((int(i), int(j)) for i, j in chunks),
    )


def _read_pack(cache: BuildCache, space: str, owner: str) -> dict[str, Parsed]:
    payload = cache.get("annotate", space, digest_of(owner)) if cache.enabled else None
    if payload is None:
        return {}
    try:
        return {str(k): _parsed(row) for k, row in json.loads(payload.decode("utf-8")).items()}
    except (ValueError, TypeError, AttributeError):
        return {}  # checksummed but not this layout: ignored, and rewritten


def _write_packs(
    cache: BuildCache, space: str, keys: list[str], owners: list[str],
    stored: dict[str, set[str]], known: dict[str, Parsed],
) -> None:
    for owner, own in changed_packs(keys, owners, stored).items():
        payload = json.dumps({k: _row(known[k]) for k in own}, ensure_ascii=False)
        cache.put("annotate", space, digest_of(owner), payload.encode("utf-8"))
