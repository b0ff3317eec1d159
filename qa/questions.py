"""What may be asked, and how ids are echoed back: rules shared by the CLI, the API and eval."""

from __future__ import annotations

from index.documents.textfold import has_content
from qa.errors import InvalidQuestion


def short_id(given: str, keep: int = 40) -> str:
    """An id as error messages echo it: quoted, cut to its first ``keep`` characters."""
    return repr(given[:keep]) + ("..." if len(given) > keep else "")


def check_k(k: int | None, default: int) -> int:
    """The number of passages to return: ``k``, or ``default`` when None.

    Raises:
        InvalidQuestion: the number is not between 1 and 50.
    """
    value = default if k is None else k
    if not 1 <= value <= 50:
        raise InvalidQuestion(f"k must be between 1 and 50 (got {value})")
    return value


def check_question(question: str, max_chars: int) -> str:
    """The question stripped, once it is known to be askable.

    Raises:
        InvalidQuestion: empty, longer than ``max_chars``, not valid Unicode text (a lone
            surrogate: undecodable bytes on a command line, or ``\\ud800`` in JSON), or
            without any letter or digit once NFKC-normalised and stripped of format
            characters (punctuation, zero-width characters: nothing to look for).
    """
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestion("the question is empty")
    if len(question) > max_chars:
        raise InvalidQuestion(
            f"the question is too long ({len(question)} characters; the limit is {max_chars})"
        )
    try:
        question.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidQuestion(
            f"the question is not valid text (character {exc.start} is not Unicode; "
            "undecodable bytes?)"
        ) from None
    if not has_content(question):
        raise InvalidQuestion("the question has no letter or digit (nothing to look for)")
    return question.strip()
