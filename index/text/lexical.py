"""Word tokens for the BM25 leg, shared by indexing and querying so both agree."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from index.documents.textfold import fold_plain

# A compact English stop list: function words only, so content words like "first",
# "two" or "state" keep their weight.
STOPWORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "also", "did", "does", "done", "many", "much"]
)
# Letters and digits of any script ("attachés", "Kōno", "東京"), not only ASCII.
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer  # PyStemmer: Snowball's English stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased words of letters and digits (any script), possessives folded
    (``Lyon's`` -> ``lyon``); soft hyphens and zero-width characters do not split
    a word."""
    return [fold_possessive(w) for w in _TOKEN.findall(fold_plain(text).lower())]


def fold_possessive(word: str) -> str:
    """A word without its possessive ending (``lyon's`` -> ``lyon``)."""
    return word[:-2] if word.endswith(("'s", "’s")) else word


def content_words(text: str) -> list[str]:
    """Words without stop words."""
    return [w for w in words(text) if w not in STOPWORDS]


def stem(tokens: list[str]) -> list[str]:
    """Snowball stems of the tokens."""
    return list(_stemmer().stemWords(tokens))


def lexical_tokens(text: str) -> list[str]:
    """The BM25 tokens of a text: stemmed content words."""
    return stem(content_words(text))
